package transform

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Operator names what happens to a finding's span.
type Operator string

// The operators.
const (
	// Redact removes the span.
	Redact Operator = "redact"
	// Placeholder writes the type in angle brackets: <EMAIL_ADDRESS>.
	Placeholder Operator = "placeholder"
	// Mask replaces all but the last Mask.Keep characters with Mask.Char.
	Mask Operator = "mask"
	// Hash writes a keyed, truncated HMAC-SHA256 of the value:
	// <EMAIL_ADDRESS:hmac:9f86d081884c7d65>.
	Hash Operator = "hash"
	// Tokenize writes a reversible token [[EMAIL_ADDRESS:…]] issued by the
	// configured Tokenizer (a vault) or by StatelessTokens under Key.
	Tokenize Operator = "tokenize"
	// Synthetic writes a format-valid fake value derived from the key and
	// the value (see synthetic.go); types without a generator get a
	// placeholder.
	Synthetic Operator = "synthetic"
)

func (o Operator) valid() bool {
	switch o {
	case Redact, Placeholder, Mask, Hash, Tokenize, Synthetic:
		return true
	}
	return false
}

var errBadType = errors.New("transform: finding type is not a token type (A-Z, 0-9, _)")

// validType reports whether typ can appear in a token.
func validType(typ string) bool {
	if typ == "" || len(typ) > maxTypeLen {
		return false
	}
	for i := 0; i < len(typ); i++ {
		if !isTypeChar(typ[i]) {
			return false
		}
	}
	return true
}

// writePlaceholder writes <TYPE>.
func writePlaceholder(b *strings.Builder, typ string) {
	b.WriteByte('<')
	b.WriteString(typ)
	b.WriteByte('>')
}

// masker implements the mask operator.
type masker struct {
	char     string // one rune
	keep     int    // characters kept at the end; 0 keeps none
	sepTypes map[string]bool
}

// write masks value. Every character is masked except the last keep
// ones; but never more than half of them are kept, so a short value is
// not shown whole. For types in sepTypes only letters and digits count and
// are masked: separators (spaces, '-', '.', '(', '+') stay, so a card reads
// **** **** **** 1111.
func (m *masker) write(b *strings.Builder, typ, value string) {
	seps := m.sepTypes[typ]
	n := 0
	for _, r := range value {
		if !seps || maskable(r) {
			n++
		}
	}
	keep := m.keep
	if keep > n/2 {
		keep = n / 2
	}
	cut := n - keep // characters before this index are masked
	i := 0
	for p := 0; p < len(value); {
		r, w := utf8.DecodeRuneInString(value[p:])
		if !seps || maskable(r) {
			if i < cut {
				b.WriteString(m.char)
			} else {
				b.WriteString(value[p : p+w])
			}
			i++
		} else {
			b.WriteString(value[p : p+w])
		}
		p += w
	}
}

func maskable(r rune) bool {
	if r < utf8.RuneSelf {
		return (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
	}
	return r == utf8.RuneError || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// hasher implements the hash operator:
//
//	<TYPE:hmac:HEX>   HEX = hex(HMAC-SHA256(k_hash, TYPE || 0x00 || value)[:n])
//
// k_hash is derived from Key with HKDF (info "warden transform v1 hash"),
// so it is never the key tokens use. The type is part of the input, like
// for tokens: the same value under two types hashes differently. n is
// Hash.Bytes (default 8, so 16 hex digits, 64 bits): collisions become
// likely around 2^32 distinct values, which is plenty to tell entities
// apart inside a conversation or a data set, while giving an attacker who
// steals outputs (but not the key) nothing to test guesses against.
type hasher struct {
	n    int
	macs *macPool
}

func newHasher(key Key, n int) (*hasher, error) {
	k, err := key.derive(infoHash)
	if err != nil {
		return nil, err
	}
	return &hasher{n: n, macs: newMACPool(k)}, nil
}

func (h *hasher) write(b *strings.Builder, typ, value string) {
	var sum [sha256.Size]byte
	macSum(h.macs, sum[:], typ, value)
	var hx [2 * sha256.Size]byte
	hex.Encode(hx[:], sum[:h.n])
	b.WriteByte('<')
	b.WriteString(typ)
	b.WriteString(":hmac:")
	b.Write(hx[:2*h.n])
	b.WriteByte('>')
}

// macPool hands out HMAC-SHA256 states under one key, each with scratch
// space, so a MAC over a value costs no allocation once warm.
type macPool struct{ p sync.Pool }

type macState struct {
	h   hash.Hash
	in  []byte
	sum []byte
}

func newMACPool(key []byte) *macPool {
	mp := &macPool{}
	mp.p.New = func() any {
		return &macState{h: hmac.New(sha256.New, key), sum: make([]byte, 0, sha256.Size)}
	}
	return mp
}

// maxScratch bounds the scratch buffer a pooled state keeps.
const maxScratch = 64 << 10

// macSum writes HMAC(k, typ || 0x00 || value) to dst (up to len(dst)
// bytes; dst is at most sha256.Size long).
func macSum[T string | []byte](mp *macPool, dst []byte, typ string, value T) {
	st := mp.p.Get().(*macState)
	st.in = append(st.in[:0], typ...)
	st.in = append(st.in, 0)
	st.in = append(st.in, value...)
	st.h.Reset()
	st.h.Write(st.in)
	st.sum = st.h.Sum(st.sum[:0])
	copy(dst, st.sum)
	if cap(st.in) > maxScratch {
		st.in = nil
	}
	mp.p.Put(st)
}

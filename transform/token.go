package transform

import (
	"errors"
	"strings"
)

// Token wire format
//
//	[[TYPE:ID]]
//
// TYPE is the finding type (upper-case letters, digits and '_', e.g.
// EMAIL_ADDRESS). ID is Crockford base32 (0-9 A-Z without I L O U) of the
// token's identifier bytes followed by one check character: the sum of
// every character of "TYPE:ID" weighted by position, mod 32. The double
// brackets are rare in real text and models copy them through unchanged;
// the type tells the model what the value was; the check character lets
// Restore refuse an identifier a model has mangled. Restore accepts the ID
// in any letter case.
//
// Examples: [[EMAIL_ADDRESS:8Q3JZ0WTKDH2A]], [[US_SSN:1XW9B7Y4MPQ0C]].

const (
	tokenOpen  = "[["
	tokenClose = "]]"
	// MaxTokenLen bounds a token's length; longer bracketed text is not a
	// token. Stateless tokens embed a ciphertext, so allow room.
	MaxTokenLen = 1024
)

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

var crockfordVal = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(crockford); i++ {
		t[crockford[i]] = int8(i)
		t[crockford[i]|0x20] = int8(i) // lower case
	}
	// Crockford's aliases for characters a reader (or a model) confuses.
	for _, a := range [][2]byte{{'O', '0'}, {'o', '0'}, {'I', '1'}, {'i', '1'}, {'L', '1'}, {'l', '1'}} {
		t[a[0]] = t[a[1]]
	}
	return t
}()

// ErrBadToken reports text that looks like a token but is not a valid one.
var ErrBadToken = errors.New("transform: malformed token")

// FormatToken renders a token for a finding type and identifier bytes.
func FormatToken(typ string, id []byte) string {
	var b strings.Builder
	b.Grow(len(tokenOpen) + len(typ) + 1 + (len(id)*8+4)/5 + 1 + len(tokenClose))
	b.WriteString(tokenOpen)
	b.WriteString(typ)
	b.WriteByte(':')
	body := encodeBase32(id)
	b.WriteString(body)
	b.WriteByte(crockford[checkChar(typ, body)])
	b.WriteString(tokenClose)
	return b.String()
}

// TokenRef is a token found in text.
type TokenRef struct {
	Start, End int // byte offsets of the whole token including brackets
	Type       string
	ID         []byte
}

// FindTokens returns every well-formed token in text, in order. Bracketed
// text that fails the format or the check character is skipped.
func FindTokens(text string) []TokenRef {
	var out []TokenRef
	off := 0
	for {
		i := strings.Index(text[off:], tokenOpen)
		if i < 0 {
			return out
		}
		start := off + i
		ref, ok := ParseTokenAt(text, start)
		if ok {
			out = append(out, ref)
			off = ref.End
			continue
		}
		off = start + 1
	}
}

// ParseTokenAt parses a token that starts at text[start:].
func ParseTokenAt(text string, start int) (TokenRef, bool) {
	if !strings.HasPrefix(text[start:], tokenOpen) {
		return TokenRef{}, false
	}
	p := start + len(tokenOpen)
	limit := start + MaxTokenLen
	if limit > len(text) {
		limit = len(text)
	}
	typeStart := p
	for p < limit && isTypeChar(text[p]) {
		p++
	}
	if p == typeStart || p >= limit || text[p] != ':' {
		return TokenRef{}, false
	}
	typ := text[typeStart:p]
	p++
	idStart := p
	for p < limit && crockfordVal[text[p]] >= 0 {
		p++
	}
	if p-idStart < 2 || p+len(tokenClose) > len(text) || text[p:p+len(tokenClose)] != tokenClose {
		return TokenRef{}, false
	}
	body, check := text[idStart:p-1], text[p-1]
	norm := normalizeBase32(body)
	if crockford[checkChar(typ, norm)] != crockford[crockfordVal[check]] {
		return TokenRef{}, false
	}
	id, ok := decodeBase32(norm)
	if !ok {
		return TokenRef{}, false
	}
	return TokenRef{Start: start, End: p + len(tokenClose), Type: typ, ID: id}, true
}

func isTypeChar(c byte) bool {
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
}

func checkChar(typ, body string) int {
	sum := 0
	pos := 1
	for i := 0; i < len(typ); i++ {
		sum += int(typ[i]) * pos
		pos++
	}
	sum += int(':') * pos
	pos++
	for i := 0; i < len(body); i++ {
		sum += int(crockfordVal[body[i]]+1) * pos
		pos++
	}
	return sum % 32
}

func normalizeBase32(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = crockford[crockfordVal[c]]
	}
	return string(b)
}

func encodeBase32(id []byte) string {
	out := make([]byte, 0, (len(id)*8+4)/5)
	var acc uint32
	bits := 0
	for _, c := range id {
		acc = acc<<8 | uint32(c)
		bits += 8
		for bits >= 5 {
			bits -= 5
			out = append(out, crockford[(acc>>uint(bits))&31])
		}
	}
	if bits > 0 {
		out = append(out, crockford[(acc<<uint(5-bits))&31])
	}
	return string(out)
}

func decodeBase32(s string) ([]byte, bool) {
	out := make([]byte, 0, len(s)*5/8)
	var acc uint32
	bits := 0
	for i := 0; i < len(s); i++ {
		v := crockfordVal[s[i]]
		if v < 0 {
			return nil, false
		}
		acc = acc<<5 | uint32(v)
		bits += 5
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>uint(bits)))
		}
	}
	// Leftover bits must be zero padding, fewer than 5.
	if bits >= 5 || acc&((1<<uint(bits))-1) != 0 {
		return nil, false
	}
	return out, true
}

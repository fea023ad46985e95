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
//
// What the parser tolerates
//
// FormatToken always writes the canonical form above. Models sometimes copy
// a token back slightly changed, so FindTokens and ParseTokenAt also accept:
//
//   - spaces (U+0020) after the opening brackets, around the ':' and before
//     the closing brackets: [[ EMAIL_ADDRESS: 8Q3JZ0WTKDH2A ]];
//   - one missing bracket on one side, [EMAIL_ADDRESS:8Q3JZ0WTKDH2A]] or
//     [[EMAIL_ADDRESS:8Q3JZ0WTKDH2A], when the ID (with its check character)
//     is at least minLenientID characters long; a single bracket on both
//     sides ([NOTE:ABC]) is never a token;
//   - a Markdown-escaped underscore in the type: [[EMAIL\_ADDRESS:…]];
//   - Crockford's aliases in the ID (O for 0, I and L for 1) and lower case.
//
// Everything else (a changed character, a dropped character, a changed
// type) fails the check character in 31 of 32 cases; the rest decode to an
// identifier the Revealer does not know (a stateless token also fails its
// authentication tag), so a mangled token is left in the text as it is and
// never turns into a wrong value.

const (
	tokenOpen  = "[["
	tokenClose = "]]"
	// MaxTokenLen bounds a token's length; longer bracketed text is not a
	// token. Stateless tokens embed a ciphertext, so allow room.
	MaxTokenLen = 1024
	// minLenientID is the shortest ID (check character included) accepted
	// when a bracket is missing: a 13-character ID is 60 bits, so ordinary
	// bracketed text rarely qualifies.
	minLenientID = 10
	// maxTypeLen bounds the TYPE part of a token.
	maxTypeLen = 64
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
	b.Grow(formattedLen(typ, len(id)))
	b.WriteString(tokenOpen)
	b.WriteString(typ)
	b.WriteByte(':')
	body := encodeBase32(id)
	b.WriteString(body)
	b.WriteByte(crockford[checkChar(typ, body)])
	b.WriteString(tokenClose)
	return b.String()
}

// formattedLen is the length of FormatToken(typ, id) for an id of n bytes.
func formattedLen(typ string, n int) int {
	return len(tokenOpen) + len(typ) + 1 + (n*8+4)/5 + 1 + len(tokenClose)
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
		i := strings.IndexByte(text[off:], '[')
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
	t, ok := scanToken(text, start)
	if !ok {
		return TokenRef{}, false
	}
	id, ok := appendBase32(make([]byte, 0, len(t.body)*5/8), t.body)
	if !ok {
		return TokenRef{}, false
	}
	return TokenRef{Start: start, End: t.end, Type: t.typ, ID: id}, true
}

// scanned is a token located by scanToken, ID not yet decoded.
type scanned struct {
	end  int
	typ  string // canonical type (escapes removed)
	body string // base32 ID without the check character
}

// scanToken checks the token syntax and check character at text[start:].
// It allocates only when the type carries a Markdown escape.
func scanToken(text string, start int) (scanned, bool) {
	if start < 0 || start >= len(text) || text[start] != '[' {
		return scanned{}, false
	}
	limit := start + MaxTokenLen
	if limit > len(text) {
		limit = len(text)
	}
	p := start + 1
	brackets := 1
	if p < limit && text[p] == '[' {
		p++
		brackets++
	} else if start > 0 && text[start-1] == '[' {
		// "[[" that did not parse from the first bracket is not a token
		// with a dropped bracket either.
		return scanned{}, false
	}
	p = skipSpaces(text, p, limit)
	typeStart := p
	escaped := false
	for p < limit && p-typeStart <= maxTypeLen {
		c := text[p]
		if isTypeChar(c) {
			p++
			continue
		}
		if c == '\\' && p+1 < limit && text[p+1] == '_' {
			escaped = true
			p += 2
			continue
		}
		break
	}
	if p == typeStart || p-typeStart > maxTypeLen {
		return scanned{}, false
	}
	typ := text[typeStart:p]
	p = skipSpaces(text, p, limit)
	if p >= limit || text[p] != ':' {
		return scanned{}, false
	}
	p = skipSpaces(text, p+1, limit)
	idStart := p
	for p < limit && crockfordVal[text[p]] >= 0 {
		p++
	}
	idEnd := p
	if idEnd-idStart < 2 {
		return scanned{}, false
	}
	p = skipSpaces(text, p, limit)
	switch {
	case p+1 < len(text) && text[p] == ']' && text[p+1] == ']':
		p += 2
		brackets += 2
	case p < len(text) && text[p] == ']':
		p++
		brackets++
	default:
		return scanned{}, false
	}
	if p-start > MaxTokenLen || brackets < 3 || (brackets == 3 && idEnd-idStart < minLenientID) {
		return scanned{}, false
	}
	if escaped {
		typ = strings.ReplaceAll(typ, `\_`, "_")
	}
	body, check := text[idStart:idEnd-1], text[idEnd-1]
	if checkChar(typ, body) != int(crockfordVal[check]) {
		return scanned{}, false
	}
	return scanned{end: p, typ: typ, body: body}, true
}

func skipSpaces(text string, p, limit int) int {
	for p < limit && text[p] == ' ' {
		p++
	}
	return p
}

func isTypeChar(c byte) bool {
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
}

// checkChar is the weighted sum described in the format comment. Aliases
// and lower case weigh as the canonical character, so body need not be
// normalised first.
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

// appendBase32 decodes s (canonical, alias or lower-case characters) and
// appends the bytes to dst.
func appendBase32(dst []byte, s string) ([]byte, bool) {
	var acc uint32
	bits := 0
	for i := 0; i < len(s); i++ {
		v := crockfordVal[s[i]]
		if v < 0 {
			return dst, false
		}
		acc = acc<<5 | uint32(v)
		bits += 5
		if bits >= 8 {
			bits -= 8
			dst = append(dst, byte(acc>>uint(bits)))
		}
	}
	// Leftover bits must be zero padding, fewer than 5.
	if bits >= 5 || acc&((1<<uint(bits))-1) != 0 {
		return dst, false
	}
	return dst, true
}

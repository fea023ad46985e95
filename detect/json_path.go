package detect

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// JSON paths.
//
// Findings and errors name values with a JSONPath-like normalized path
// (after RFC 9535 §2.7): the root is "$", an object member whose key is an
// ASCII identifier ([A-Za-z_][A-Za-z0-9_]*) is ".key", any other key is
// "['key']" with ' and \ escaped by a backslash and control characters as
// \b \f \n \r \t or \u00XX, and an array element is "[index]":
//
//	$.messages[2].content
//	$.headers['x-api-key']
//	$['it\'s'][0]
//
// Path patterns (field rules and the field allowlist) use the same syntax
// plus two wildcards: ".*" matches any one object member and "[*]" any one
// array element (so "$.messages[*].role" matches the role of every
// message, and "$.*.id" the id of every top-level member). A key may also
// be written with double quotes (["odd key"]); unquoted keys after "." may
// contain any character other than . [ ] ' " * and white space.

// segKind says what one path-pattern step matches.
type segKind uint8

const (
	segKey      segKind = iota + 1 // one object member with this key
	segIndex                       // one array element with this index
	segAnyKey                      // .*: any object member
	segAnyIndex                    // [*]: any array element
)

// pathSeg is one step of a path pattern.
type pathSeg struct {
	kind  segKind
	key   string
	index int
}

// matchKey reports whether the step matches the object member key.
func (p *pathSeg) matchKey(key []byte) bool {
	return p.kind == segAnyKey || (p.kind == segKey && p.key == string(key))
}

// matchIndex reports whether the step matches the array element i.
func (p *pathSeg) matchIndex(i int) bool {
	return p.kind == segAnyIndex || (p.kind == segIndex && p.index == i)
}

// parsePathPattern parses a path pattern. Errors name the byte offset in
// the pattern (patterns come from configuration, so they may be quoted).
func parsePathPattern(p string) ([]pathSeg, error) {
	if p == "" || p[0] != '$' {
		return nil, errors.New(`must start with "$"`)
	}
	var segs []pathSeg
	i := 1
	for i < len(p) {
		switch p[i] {
		case '.':
			i++
			if i < len(p) && p[i] == '*' {
				segs = append(segs, pathSeg{kind: segAnyKey})
				i++
				continue
			}
			j := i
			for j < len(p) && !pathNameStop(p[j]) {
				j++
			}
			if j == i {
				return nil, errors.New("empty member name at byte " + strconv.Itoa(i))
			}
			segs = append(segs, pathSeg{kind: segKey, key: p[i:j]})
			i = j
		case '[':
			i++
			if i >= len(p) {
				return nil, errors.New("unterminated [ at end")
			}
			switch c := p[i]; {
			case c == '*':
				if i+1 >= len(p) || p[i+1] != ']' {
					return nil, errors.New("want ] after [* at byte " + strconv.Itoa(i+1))
				}
				segs = append(segs, pathSeg{kind: segAnyIndex})
				i += 2
			case c >= '0' && c <= '9':
				j := i
				for j < len(p) && p[j] >= '0' && p[j] <= '9' {
					j++
				}
				n, err := strconv.Atoi(p[i:j])
				if err != nil || (j-i > 1 && p[i] == '0') {
					return nil, errors.New("bad array index at byte " + strconv.Itoa(i))
				}
				if j >= len(p) || p[j] != ']' {
					return nil, errors.New("want ] after index at byte " + strconv.Itoa(j))
				}
				segs = append(segs, pathSeg{kind: segIndex, index: n})
				i = j + 1
			case c == '\'' || c == '"':
				key, end, err := parseQuotedKey(p, i)
				if err != nil {
					return nil, err
				}
				if end >= len(p) || p[end] != ']' {
					return nil, errors.New("want ] after quoted key at byte " + strconv.Itoa(end))
				}
				segs = append(segs, pathSeg{kind: segKey, key: key})
				i = end + 1
			default:
				return nil, errors.New("want index, * or quoted key after [ at byte " + strconv.Itoa(i))
			}
		default:
			return nil, errors.New("want . or [ at byte " + strconv.Itoa(i))
		}
	}
	return segs, nil
}

func pathNameStop(c byte) bool {
	switch c {
	case '.', '[', ']', '\'', '"', '*', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// parseQuotedKey parses a quoted key starting at p[i] (the quote) and
// returns it with the offset just past the closing quote.
func parseQuotedKey(p string, i int) (string, int, error) {
	q := p[i]
	var b []byte
	j := i + 1
	for j < len(p) {
		c := p[j]
		switch {
		case c == q:
			return string(b), j + 1, nil
		case c == '\\':
			if j+1 >= len(p) {
				return "", 0, errors.New("unterminated escape at byte " + strconv.Itoa(j))
			}
			switch e := p[j+1]; e {
			case '\\', '\'', '"', '/':
				b = append(b, e)
				j += 2
			case 'b':
				b = append(b, '\b')
				j += 2
			case 'f':
				b = append(b, '\f')
				j += 2
			case 'n':
				b = append(b, '\n')
				j += 2
			case 'r':
				b = append(b, '\r')
				j += 2
			case 't':
				b = append(b, '\t')
				j += 2
			case 'u':
				if j+6 > len(p) {
					return "", 0, errors.New("short \\u escape at byte " + strconv.Itoa(j))
				}
				r, ok := hex4(p[j+2 : j+6])
				if !ok || (r >= 0xD800 && r <= 0xDFFF) {
					return "", 0, errors.New("bad \\u escape at byte " + strconv.Itoa(j))
				}
				b = utf8.AppendRune(b, r)
				j += 6
			default:
				return "", 0, errors.New("bad escape at byte " + strconv.Itoa(j))
			}
		default:
			b = append(b, c)
			j++
		}
	}
	return "", 0, errors.New("unterminated quoted key at byte " + strconv.Itoa(i))
}

// hex4 decodes four hex digits.
func hex4[T string | []byte](s T) (rune, bool) {
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}

// isPathIdent reports whether key can be written as ".key".
func isPathIdent(key []byte) bool {
	if len(key) == 0 {
		return false
	}
	for i, c := range key {
		switch {
		case c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// appendPathKey appends the path step for an object member key.
func appendPathKey(dst, key []byte) []byte {
	if isPathIdent(key) {
		dst = append(dst, '.')
		return append(dst, key...)
	}
	dst = append(dst, '[', '\'')
	for _, c := range key {
		switch c {
		case '\'', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			if c < 0x20 {
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			} else {
				dst = append(dst, c)
			}
		}
	}
	return append(dst, '\'', ']')
}

// appendPathIndex appends the path step for an array element.
func appendPathIndex(dst []byte, i int) []byte {
	dst = append(dst, '[')
	dst = strconv.AppendInt(dst, int64(i), 10)
	return append(dst, ']')
}

const hexDigits = "0123456789abcdef"

// maxErrorPath bounds the length of a path quoted in an error message:
// keys come from the document and may be long.
const maxErrorPath = 256

// errorPath shortens a path for an error message.
func errorPath(p string) string {
	if len(p) <= maxErrorPath {
		return p
	}
	cut := maxErrorPath
	for cut > 0 && !utf8.RuneStart(p[cut]) {
		cut--
	}
	return p[:cut] + "…"
}

// SafePath re-renders a path made by this package (JSONValue.Path,
// JSONFieldError.Path) for an error message or a log line: object keys
// are client data and may themselves be sensitive, so every key that is
// not a short plain identifier without a run of digits is shown as
// ['…']. Indexes are kept. A string that is not such a path is returned
// as "$…".
func SafePath(path string) string {
	if !strings.HasPrefix(path, "$") {
		return "$…"
	}
	b := []byte{'$'}
	i := 1
	for i < len(path) {
		switch {
		case path[i] == '.':
			j := i + 1
			for j < len(path) && path[j] != '.' && path[j] != '[' {
				j++
			}
			b = appendSafeKey(b, path[i+1:j])
			i = j
		case strings.HasPrefix(path[i:], "['"):
			// A quoted key: skip to its closing quote, minding escapes.
			j := i + 2
			for j < len(path) && path[j] != '\'' {
				if path[j] == '\\' {
					j++
				}
				j++
			}
			b = append(b, "['…']"...)
			i = min(j+2, len(path))
		case path[i] == '[':
			j := strings.IndexByte(path[i:], ']')
			if j < 0 {
				return string(append(b, "…"...))
			}
			b = append(b, path[i:i+j+1]...)
			i += j + 1
		default:
			return string(append(b, "…"...))
		}
	}
	return errorPath(string(b))
}

func appendSafeKey(b []byte, key string) []byte {
	digits := 0
	for i := 0; i < len(key); i++ {
		if key[i] >= '0' && key[i] <= '9' {
			if digits++; digits >= 4 {
				return append(b, "['…']"...)
			}
		} else {
			digits = 0
		}
	}
	if len(key) > 32 || !isPathIdent([]byte(key)) {
		return append(b, "['…']"...)
	}
	return append(append(b, '.'), key...)
}

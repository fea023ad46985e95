package detect

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
)

// Decoding and encoding of JSON string literals (RFC 8259 §7).

// decodeJSONString appends the decoded content of a string literal (raw
// excludes the quotes; scanString has checked it) to dst. Unpaired
// surrogate escapes and, when flags has strBadUTF8, invalid UTF-8 bytes
// become U+FFFD, as in encoding/json.
func decodeJSONString(dst, raw []byte, flags uint8) []byte {
	for len(raw) > 0 {
		k := bytes.IndexByte(raw, '\\')
		if k < 0 {
			k = len(raw)
		}
		if flags&strBadUTF8 != 0 {
			dst = appendValidUTF8(dst, raw[:k])
		} else {
			dst = append(dst, raw[:k]...)
		}
		raw = raw[k:]
		if len(raw) == 0 {
			break
		}
		switch c := raw[1]; c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, _ := hex4(raw[2:6])
			raw = raw[6:]
			if utf16.IsSurrogate(r) {
				if len(raw) >= 6 && raw[0] == '\\' && raw[1] == 'u' {
					if r2, ok := hex4(raw[2:6]); ok {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							dst = utf8.AppendRune(dst, dec)
							raw = raw[6:]
							continue
						}
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // " \ /
			dst = append(dst, c)
		}
		raw = raw[2:]
	}
	return dst
}

// appendValidUTF8 appends s with each invalid byte replaced by U+FFFD.
func appendValidUTF8(dst, s []byte) []byte {
	for len(s) > 0 {
		r, size := utf8.DecodeRune(s)
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, "\uFFFD"...)
		} else {
			dst = append(dst, s[:size]...)
		}
		s = s[size:]
	}
	return dst
}

// appendJSONString appends s as a JSON string literal. Quotes, backslashes
// and control characters are escaped (\n, \r, \t, \b, \f or \u00XX), as
// are U+2028 and U+2029 (JavaScript line terminators); invalid UTF-8
// becomes \ufffd.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\u202`...)
			dst = append(dst, hexDigits[r&15])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendJSONString appends s to dst as a JSON string literal, escaped as
// the walker writes replacements: quotes, backslashes, control
// characters, U+2028 and U+2029; invalid UTF-8 becomes \ufffd. HTML
// characters are not escaped.
func AppendJSONString(dst []byte, s string) []byte { return appendJSONString(dst, s) }

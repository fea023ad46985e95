package detect

import (
	"unicode/utf8"
	"unsafe"
)

// Byte classes used by the scanner and the recognizers.
const (
	clsDigit    = 1 << iota // 0-9
	clsUpper                // A-Z
	clsLower                // a-z
	clsHigh                 // >= 0x80 (part of a UTF-8 sequence)
	clsSpace                // ASCII white space
	clsHex                  // 0-9 a-f A-F
	clsEncBreak             // ASCII and not in any encoding's alphabet (see encClass)

	clsWord  = clsDigit | clsUpper | clsLower | clsHigh
	clsAlnum = clsDigit | clsUpper | clsLower
)

var class = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= '0' && c <= '9':
			t[c] = clsDigit | clsHex
		case c >= 'A' && c <= 'Z':
			t[c] = clsUpper
			if c <= 'F' {
				t[c] |= clsHex
			}
		case c >= 'a' && c <= 'z':
			t[c] = clsLower
			if c <= 'f' {
				t[c] |= clsHex
			}
		case c >= 0x80:
			t[c] = clsHigh
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			t[c] = clsSpace
		}
		if c < 0x80 && !isEncChar(byte(c)) {
			t[c] |= clsEncBreak
		}
	}
	return t
}()

var lower = func() (t [256]byte) {
	for c := 0; c < 256; c++ {
		t[c] = byte(c)
		if c >= 'A' && c <= 'Z' {
			t[c] = byte(c + 32)
		}
	}
	return t
}()

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool { return class[c]&clsAlnum != 0 }
func isWordByte(c byte) bool {
	return class[c]&clsWord != 0
}
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isHex(c byte) bool   { return class[c]&clsHex != 0 }
func isSpace(c byte) bool { return class[c]&clsSpace != 0 }

// bytesToString views b as a string without copying. The caller must not
// change b while the string is in use.
func bytesToString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// wordBefore reports whether the byte before i continues a word (so i is
// not a word start).
func wordBefore(text string, i int) bool { return i > 0 && isAlnum(text[i-1]) }

// wordAfter reports whether the byte at i continues a word (so i is not a
// word end).
func wordAfter(text string, i int) bool { return i < len(text) && isAlnum(text[i]) }

// onRuneBoundary reports whether offset i of s does not fall inside a
// valid multi-byte UTF-8 sequence. Invalid bytes count as one-byte runes,
// as utf8.DecodeRuneInString reads them.
func onRuneBoundary(s string, i int) bool {
	if i <= 0 || i >= len(s) {
		return true
	}
	for j := i - 1; j >= 0 && j >= i-3; j-- {
		if s[j] < 0x80 {
			return true
		}
		if s[j] >= 0xC0 { // lead byte: is i inside its sequence?
			_, size := utf8.DecodeRuneInString(s[j:])
			return j+size <= i
		}
	}
	return true
}

package gateway

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/wardenhq/warden/detect"
)

// Input sanitisation.
//
// Invisible characters let a caller hide text from people while a model
// still reads it: Unicode tag characters spell whole instructions
// nobody sees, bidi controls show text in another order than it is
// stored, zero-width characters break a value apart for a naive scanner.
// Detection already reads through them (package detect's normalised
// view); this is the policy for what is sent: per class, refuse the
// request (naming the class and where), strip the characters, or allow
// them (policy.sanitize). By default tag characters and bidi controls
// are refused and the rest stripped — except the zero width joiners and
// variation selectors that belong to an emoji, which carry no text.

// sanitizer is the compiled policy.sanitize.
type sanitizer struct {
	refuse, strip detect.InvisibleSet
}

// sanitizePolicy is a Policy that says what to do with invisible
// characters (package policy's Engine).
type sanitizePolicy interface {
	Sanitize() map[string]string
}

func newSanitizer(p Policy) (sanitizer, error) {
	var sz sanitizer
	acts := map[string]string{"tag": "refuse", "bidi": "refuse", "zero_width": "strip",
		"variation_selector": "strip", "other_ignorable": "strip"}
	if sp, ok := p.(sanitizePolicy); ok {
		acts = sp.Sanitize()
	}
	for name, act := range acts {
		c, ok := detect.ParseInvisibleClass(name)
		if !ok {
			return sz, fmt.Errorf("gateway: policy.sanitize.%s: unknown class", name)
		}
		switch act {
		case "refuse":
			sz.refuse |= detect.InvisibleClasses(c)
		case "strip":
			sz.strip |= detect.InvisibleClasses(c)
		case "allow":
		default:
			return sz, fmt.Errorf("gateway: policy.sanitize.%s: %q is not refuse, strip or allow", name, act)
		}
	}
	return sz, nil
}

// check looks at one string of the request (path names it). It refuses
// the classes it must refuse, and reports whether the string holds
// characters to strip.
func (sz sanitizer) check(path, text string) (strip bool, err *apiError) {
	if !hasNonASCII(text) {
		return false, nil
	}
	for _, inv := range detect.Invisibles(text) {
		switch {
		case sz.refuse.Has(inv.Class):
			return false, errBadRequest("invisible_characters", fmt.Sprintf(
				"the string at %s holds %s characters (invisible text) at byte %d; refused by policy.sanitize.%s",
				detect.SafePath(path), describeClass(inv.Class), inv.Start, inv.Class))
		case sz.strip.Has(inv.Class) && !emojiPart(text, inv):
			strip = true
		}
	}
	return strip, nil
}

// clean strips the characters the policy strips, keeping emoji parts.
func (sz sanitizer) clean(text string) string {
	if sz.strip == 0 || !hasNonASCII(text) {
		return text
	}
	var b strings.Builder
	last := 0
	for _, inv := range detect.Invisibles(text) {
		if !sz.strip.Has(inv.Class) || emojiPart(text, inv) {
			continue
		}
		b.WriteString(text[last:inv.Start])
		last = inv.End
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

func describeClass(c detect.InvisibleClass) string {
	switch c {
	case detect.InvisibleTag:
		return "Unicode tag"
	case detect.InvisibleBidi:
		return "bidirectional control"
	}
	return c.String()
}

// emojiPart reports whether an invisible run is a zero width joiner or
// a variation selector right after an emoji (👨‍👩‍👧, ❤️): part of the
// emoji, not hidden text.
func emojiPart(text string, inv detect.Invisible) bool {
	if inv.Class != detect.InvisibleZeroWidth && inv.Class != detect.InvisibleVariationSelector {
		return false
	}
	for _, r := range text[inv.Start:inv.End] {
		if r != 0x200D && r != 0xFE0E && r != 0xFE0F {
			return false
		}
	}
	prev, _ := utf8.DecodeLastRuneInString(text[:inv.Start])
	return isPictograph(prev)
}

// isPictograph approximates Extended_Pictographic: the emoji blocks and
// the symbols that take an emoji presentation.
func isPictograph(r rune) bool {
	switch {
	case r >= 0x1F000 && r <= 0x1FAFF, r >= 0x2190 && r <= 0x21FF, r >= 0x2300 && r <= 0x23FF,
		r >= 0x2460 && r <= 0x27BF, r >= 0x2900 && r <= 0x297F, r >= 0x2B00 && r <= 0x2BFF,
		r == 0x00A9, r == 0x00AE, r == 0x203C, r == 0x2049, r == 0x2122, r == 0x2139, r == 0x3030, r == 0x303D,
		r == 0x3297, r == 0x3299, r >= 0x1F3FB && r <= 0x1F3FF:
		return true
	}
	return false
}

// hasNonASCII reports whether s holds a byte ≥ 0x80, eight bytes at a
// time.
func hasNonASCII(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if binary.LittleEndian.Uint64([]byte(s[i:i+8]))&0x8080808080808080 != 0 {
			return true
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

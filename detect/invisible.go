package detect

import (
	"strings"
	"unicode/utf8"
	"unsafe"
)

// InvisibleClass names a family of characters that render as nothing (or
// only steer how neighbours render) but that a model still reads. The
// gateway's sanitisation policy refuses or strips them by class.
type InvisibleClass uint8

// Invisible classes. Together they are Unicode's Default_Ignorable_Code_Point
// set (DerivedCoreProperties.txt): every such code point is in exactly one
// class.
const (
	// InvisibleTag is the Unicode tag block U+E0000–U+E007F. Tag
	// characters spell ASCII invisibly ("ASCII smuggling") and are the
	// usual carrier of hidden prompt instructions.
	InvisibleTag InvisibleClass = iota + 1
	// InvisibleBidi is the bidirectional formatting characters: marks
	// (LRM U+200E, RLM U+200F, ALM U+061C), embeddings and overrides
	// (LRE, RLE, PDF, LRO, RLO: U+202A–U+202E) and isolates (LRI, RLI,
	// FSI, PDI: U+2066–U+2069). They reorder what a reader sees
	// ("Trojan Source").
	InvisibleBidi
	// InvisibleZeroWidth is the zero-width space U+200B, non-joiner
	// U+200C, joiner U+200D, word joiner U+2060, BOM / zero-width
	// no-break space U+FEFF, soft hyphen U+00AD and Mongolian vowel
	// separator U+180E: the characters used to split a value so that a
	// pattern misses it.
	InvisibleZeroWidth
	// InvisibleVariationSelector is the variation selectors U+FE00–U+FE0F,
	// the supplement U+E0100–U+E01EF and the Mongolian free variation
	// selectors U+180B–U+180D, U+180F.
	InvisibleVariationSelector
	// InvisibleOtherIgnorable is every other default-ignorable code
	// point: the combining grapheme joiner U+034F, Hangul fillers,
	// invisible operators U+2061–U+2064, deprecated format characters
	// U+206A–U+206F, shorthand and musical format controls, and the
	// unassigned ignorable ranges.
	InvisibleOtherIgnorable

	numInvisibleClasses = iota
)

var invisibleClassNames = [...]string{"", "tag", "bidi", "zero_width", "variation_selector", "other_ignorable"}

// String returns the class's configuration name: "tag", "bidi",
// "zero_width", "variation_selector" or "other_ignorable".
func (c InvisibleClass) String() string {
	if int(c) < len(invisibleClassNames) && c != 0 {
		return invisibleClassNames[c]
	}
	return "unknown"
}

// ParseInvisibleClass returns the class named name (as String spells it).
func ParseInvisibleClass(name string) (InvisibleClass, bool) {
	for i := 1; i < len(invisibleClassNames); i++ {
		if invisibleClassNames[i] == name {
			return InvisibleClass(i), true
		}
	}
	return 0, false
}

// InvisibleSet is a set of invisible classes.
type InvisibleSet uint8

// AllInvisibles holds every class.
const AllInvisibles InvisibleSet = 1<<(numInvisibleClasses+1) - 2

// InvisibleClasses returns the set of the given classes.
func InvisibleClasses(cs ...InvisibleClass) InvisibleSet {
	var s InvisibleSet
	for _, c := range cs {
		s |= 1 << c
	}
	return s
}

// Has reports whether c is in the set.
func (s InvisibleSet) Has(c InvisibleClass) bool { return s&(1<<c) != 0 }

// Invisible is a run of invisible characters of one class: text[Start:End]
// holds only characters of Class. Offsets are bytes on rune boundaries.
type Invisible struct {
	Class      InvisibleClass
	Start, End int
}

// Invisibles returns the runs of invisible characters in text, in order.
// Adjacent characters of one class form one run, so a smuggled tag
// sequence is one entry however long it is. It allocates nothing when
// there is nothing to report, and pure ASCII text costs one pass of
// eight-byte loads.
func Invisibles(text string) []Invisible {
	var out []Invisible
	for i := firstNonASCII(text); i < len(text); {
		if text[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		c := invisibleClass(r)
		if c == 0 {
			i += size
			continue
		}
		if n := len(out); n > 0 && out[n-1].Class == c && out[n-1].End == i {
			out[n-1].End = i + size
		} else {
			out = append(out, Invisible{Class: c, Start: i, End: i + size})
		}
		i += size
	}
	return out
}

// StripInvisibles returns text without the invisible characters of the
// classes in set. It returns text itself, without copying, when there is
// nothing to strip.
func StripInvisibles(text string, set InvisibleSet) string {
	var b strings.Builder
	last := 0
	for i := firstNonASCII(text); i < len(text); {
		if text[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if c := invisibleClass(r); c != 0 && set.Has(c) {
			if b.Cap() == 0 {
				b.Grow(len(text))
			}
			b.WriteString(text[last:i])
			last = i + size
		}
		i += size
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

// invisibleClass returns r's class, or 0 when r is not default-ignorable.
// The ranges are Default_Ignorable_Code_Point of Unicode 15
// (DerivedCoreProperties.txt); TestInvisibleClassIsDefaultIgnorable
// checks them against the properties it derives from.
func invisibleClass(r rune) InvisibleClass {
	switch {
	case r < 0x00AD:
		return 0
	case r == 0x00AD:
		return InvisibleZeroWidth
	case r == 0x034F:
		return InvisibleOtherIgnorable
	case r == 0x061C:
		return InvisibleBidi
	case r < 0x115F:
		return 0
	case r <= 0x1160:
		return InvisibleOtherIgnorable // Hangul choseong and jungseong fillers
	case r == 0x17B4 || r == 0x17B5:
		return InvisibleOtherIgnorable // Khmer inherent vowels
	case r >= 0x180B && r <= 0x180D || r == 0x180F:
		return InvisibleVariationSelector
	case r == 0x180E:
		return InvisibleZeroWidth
	case r < 0x200B:
		return 0
	case r <= 0x200D:
		return InvisibleZeroWidth
	case r <= 0x200F:
		return InvisibleBidi
	case r < 0x202A:
		return 0
	case r <= 0x202E:
		return InvisibleBidi
	case r < 0x2060:
		return 0
	case r == 0x2060:
		return InvisibleZeroWidth
	case r <= 0x2065:
		return InvisibleOtherIgnorable
	case r <= 0x2069:
		return InvisibleBidi
	case r <= 0x206F:
		return InvisibleOtherIgnorable
	case r == 0x3164:
		return InvisibleOtherIgnorable // Hangul filler
	case r < 0xFE00:
		return 0
	case r <= 0xFE0F:
		return InvisibleVariationSelector
	case r == 0xFEFF:
		return InvisibleZeroWidth
	case r == 0xFFA0:
		return InvisibleOtherIgnorable // halfwidth Hangul filler
	case r >= 0xFFF0 && r <= 0xFFF8:
		return InvisibleOtherIgnorable // unassigned
	case r >= 0x1BCA0 && r <= 0x1BCA3:
		return InvisibleOtherIgnorable // shorthand format controls
	case r >= 0x1D173 && r <= 0x1D17A:
		return InvisibleOtherIgnorable // musical symbol format controls
	case r < 0xE0000:
		return 0
	case r <= 0xE007F:
		return InvisibleTag
	case r >= 0xE0100 && r <= 0xE01EF:
		return InvisibleVariationSelector
	case r <= 0xE0FFF:
		return InvisibleOtherIgnorable
	}
	return 0
}

// firstNonASCII returns the offset of the first byte >= 0x80 in s, or
// len(s), testing 32 bytes per step with unaligned eight-byte loads
// (little- or big-endian alike: only the high bits matter).
func firstNonASCII(s string) int {
	i := 0
	if len(s) >= 32 {
		p := unsafe.Pointer(unsafe.StringData(s))
		for ; i+32 <= len(s); i += 32 {
			w := *(*uint64)(unsafe.Add(p, i)) | *(*uint64)(unsafe.Add(p, i+8)) |
				*(*uint64)(unsafe.Add(p, i+16)) | *(*uint64)(unsafe.Add(p, i+24))
			if w&0x8080808080808080 != 0 {
				break
			}
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return i
		}
	}
	return i
}

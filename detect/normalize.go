package detect

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The normalised view is the text as a model reads it: recognizers scan it
// instead of the raw bytes, and findings map back to the raw bytes. It is
// built in two passes over the input.
//
// Pass 1, per normalisation segment (a starter and the marks that may
// combine with it, split where norm.NFKC reports a boundary):
//   - NFKC (fullwidth and mathematical letters and digits, ligatures,
//     compatibility spaces);
//   - default-ignorable code points dropped (see invisibleClass);
//   - Unicode dashes (the Dash property) to '-', white space to ' ' (line
//     and paragraph separators and NEL to '\n');
//   - decimal digits of every script (General_Category Nd) to ASCII.
//
// Pass 2 folds confusable look-alikes (UTS #39, foldTable) to ASCII, one
// word at a time: a word (a run of letters, marks and digits) is folded
// only when every non-ASCII character in it has a fold, so "АКІА…" with
// Cyrillic letters becomes "AKIA…" while Russian prose, whose words hold
// letters without an ASCII twin, stays as it is.
//
// Each pass records the spans it changed (normSeg); everything between
// two changed spans is copied unchanged. A finding's offsets map back
// through both passes to the whole original span, invisible characters
// inside it included. Pure ASCII text is detected with eight-byte loads
// and scanned as it is, without a copy.

// normSeg says that bytes [n0,n1) of a pass's output came from bytes
// [o0,o1) of its input. A deletion has n0 == n1.
type normSeg struct{ n0, n1, o0, o1 int }

// offsetMap is the changed spans of one pass, in order; bytes between
// them were copied.
type offsetMap []normSeg

// start maps the offset of an output byte that begins a span to the
// offset in the input where that span begins. Deletions just before p
// are not included.
func (m offsetMap) start(p int) int {
	i := sort.Search(len(m), func(i int) bool { return m[i].n1 > p })
	if i < len(m) && m[i].n0 <= p {
		return m[i].o0
	}
	if i == 0 {
		return p
	}
	return p - m[i-1].n1 + m[i-1].o1
}

// end maps the exclusive end p of an output span to the end of the input
// that produced byte p-1 (the whole of it, when it came from a segment
// that produced several bytes). Deletions at p are not included.
func (m offsetMap) end(p int) int {
	if p <= 0 {
		return m.start(0)
	}
	i := sort.Search(len(m), func(i int) bool { return m[i].n1 >= p })
	if i < len(m) && m[i].n0 <= p-1 {
		return m[i].o1
	}
	if i == 0 {
		return p
	}
	return p - m[i-1].n1 + m[i-1].o1
}

// normalizer builds normalised views; a Scan keeps one so that its
// buffers are reused.
type normalizer struct {
	buf1, buf2 []byte
	map1, map2 offsetMap
	tmp        []byte
	twoPass    bool
	it         norm.Iter // NFKC of one segment; Form.AppendString would allocate
}

// view returns the normalised view of text, or text itself and false
// when normalising changes nothing.
func (z *normalizer) view(text string) (string, bool) {
	i := firstNonASCII(text)
	if i == len(text) {
		return text, false
	}
	m, sawFold, changed := z.pass1(text, i)
	z.twoPass = false
	if sawFold {
		if f, ok := z.pass2(m); ok {
			z.twoPass = true
			return f, true
		}
	}
	if !changed {
		return text, false
	}
	return m, true
}

// span maps a span of the view back to the input.
func (z *normalizer) span(start, end int) (int, int) {
	if z.twoPass {
		start, end = z.map2.start(start), z.map2.end(end)
	}
	return z.map1.start(start), z.map1.end(end)
}

// pass1 applies NFKC, drops ignorables and maps dashes, spaces and digits.
// i is the offset of text's first non-ASCII byte. It reports whether a
// character with a confusable fold is left and whether anything changed.
func (z *normalizer) pass1(text string, i int) (string, bool, bool) {
	out := z.buf1[:0]
	m := z.map1[:0]
	sawFold, changed := false, false
	// The ASCII byte before the first non-ASCII one may combine with it.
	p := i
	if p > 0 {
		p--
	}
	out = append(out, text[:p]...)
	n := len(text)
	for p < n {
		if text[p] < utf8.RuneSelf && (p+1 == n || text[p+1] < utf8.RuneSelf) {
			q := p + 1
			for q < n && text[q] < utf8.RuneSelf && (q+1 == n || text[q+1] < utf8.RuneSelf) {
				q++
			}
			out = append(out, text[p:q]...)
			p = q
			continue
		}
		// One segment: the rune at p and those after it that are no
		// boundary (they may combine with it).
		r, size := utf8.DecodeRuneInString(text[p:])
		q := p + size
		for q < n && text[q] >= utf8.RuneSelf {
			pr := norm.NFKC.PropertiesString(text[q:])
			if pr.BoundaryBefore() || pr.Size() == 0 {
				break
			}
			q += pr.Size()
		}
		if q == p+size && (r < utf8.RuneSelf || r == utf8.RuneError && size == 1) {
			out = append(out, text[p:q]...)
			p = q
			continue
		}
		seg := text[p:q]
		if q == p+size && !specialRune(r) && norm.NFKC.IsNormalString(seg) {
			// A lone character that normalises to itself.
			sawFold = sawFold || hasFold(r)
			out = append(out, seg...)
			p = q
			continue
		}
		n0 := len(out)
		var fold bool
		if d := norm.NFKC.PropertiesString(seg).Decomposition(); q == p+size && len(d) > len(seg) && firstNonASCII(bytesToString(d)) < len(d) {
			// See below: no need to normalise what will be kept.
			out, fold = appendMapped(out, seg)
		} else {
			z.tmp = z.tmp[:0]
			for z.it.InitString(norm.NFKC, seg); !z.it.Done(); {
				z.tmp = append(z.tmp, z.it.Next()...)
			}
			out, fold = appendMapped(out, bytesToString(z.tmp))
		}
		if len(out)-n0 > len(seg) && firstNonASCII(bytesToString(out[n0:])) < len(out)-n0 {
			// An expansion that does not reach ASCII (U+FDFA is 18
			// Arabic letters) only makes the view longer: keep the
			// segment as it was, so the view is never much longer
			// than the input.
			out, fold = appendMapped(out[:n0], seg)
		}
		sawFold = sawFold || fold
		if string(out[n0:]) != seg {
			m = append(m, normSeg{n0: n0, n1: len(out), o0: p, o1: q})
			changed = true
		}
		p = q
	}
	z.buf1, z.map1 = out, m
	return bytesToString(out), sawFold, changed
}

// appendMapped appends b to out with mapRune applied to its non-ASCII
// characters, and reports whether one left has a confusable fold.
func appendMapped(out []byte, b string) ([]byte, bool) {
	fold := false
	for k := 0; k < len(b); {
		c := b[k]
		if c < utf8.RuneSelf {
			out = append(out, c)
			k++
			continue
		}
		r, sz := utf8.DecodeRuneInString(b[k:])
		if r == utf8.RuneError && sz == 1 {
			out = append(out, c)
			k++
			continue
		}
		k += sz
		switch mr := mapRune(r); {
		case mr == dropRune:
		case mr >= 0:
			out = append(out, byte(mr))
		default:
			fold = fold || hasFold(r)
			out = utf8.AppendRune(out, r)
		}
	}
	return out, fold
}

// dropRune is mapRune's answer for a character the view leaves out.
const dropRune = -2

// mapRune returns the ASCII byte pass 1 writes for the non-ASCII
// character r, dropRune, or -1 to keep r.
func mapRune(r rune) int {
	if !specialRune(r) {
		return -1
	}
	switch {
	case invisibleClass(r) != 0:
		return dropRune
	case r == 0x85 || r == 0x2028 || r == 0x2029:
		return '\n'
	case unicode.Is(unicode.White_Space, r):
		return ' '
	case unicode.Is(unicode.Dash, r):
		return '-'
	}
	if d := digitValue(r); d >= 0 {
		return '0' + d
	}
	return -1
}

// specialRune is a quick test that r may be an ignorable, a space, a dash
// or a decimal digit: false for most letters of most scripts.
func specialRune(r rune) bool {
	if r < 0x10000 {
		return specialBlocks[r>>8]
	}
	return true
}

// specialBlocks marks the 256-character blocks of the BMP that hold a
// character mapRune changes.
var specialBlocks = func() (t [256]bool) {
	for _, tab := range []*unicode.RangeTable{unicode.White_Space, unicode.Dash, unicode.Nd} {
		for _, rg := range tab.R16 {
			for b := rg.Lo >> 8; b <= rg.Hi>>8; b++ {
				t[b] = true
			}
		}
	}
	// Blocks with default-ignorables (see invisibleClass).
	for _, b := range []int{0x00, 0x03, 0x06, 0x11, 0x17, 0x18, 0x20, 0x31, 0xFE, 0xFF} {
		t[b] = true
	}
	return t
}()

// digitValue returns the value of the decimal digit r of any script, or
// -1. Unicode encodes every Nd digit in a run of ten from zero (a
// stability guarantee), so the value is the offset in its range mod 10.
func digitValue(r rune) int {
	if !unicode.IsDigit(r) {
		return -1
	}
	for _, rg := range unicode.Nd.R16 {
		if r >= rune(rg.Lo) && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if r >= rune(rg.Lo) && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10
		}
	}
	return -1
}

// foldEntry is one confusable fold: the character and its ASCII look-alike.
type foldEntry struct {
	r rune
	c byte
}

// foldRune returns the ASCII look-alike of r from foldTable.
func foldRune(r rune) (byte, bool) {
	if r < foldTable[0].r || r > foldTable[len(foldTable)-1].r {
		return 0, false
	}
	if r < 0x10000 && !foldBlocks[r>>8] {
		return 0, false
	}
	i := sort.Search(len(foldTable), func(i int) bool { return foldTable[i].r >= r })
	if i < len(foldTable) && foldTable[i].r == r {
		return foldTable[i].c, true
	}
	return 0, false
}

func hasFold(r rune) bool {
	_, ok := foldRune(r)
	return ok
}

// foldBlocks marks the 256-character blocks of the BMP that have an entry
// in foldTable.
var foldBlocks = func() (t [256]bool) {
	for _, e := range foldTable {
		if e.r < 0x10000 {
			t[e.r>>8] = true
		}
	}
	return t
}()

// pass2 folds confusables in the words whose non-ASCII characters all
// have a fold and that have an ASCII letter or digit or touch a symbol
// that joins the parts of an address or a key (see glued): a lone
// Cyrillic "у" in Russian prose stays. It reports false when no word
// qualifies.
func (z *normalizer) pass2(m string) (string, bool) {
	out := z.buf2[:0]
	mp := z.map2[:0]
	for i := 0; i < len(m); {
		c := m[i]
		if c < utf8.RuneSelf && !isAlnum(c) {
			out = append(out, c)
			i++
			continue
		}
		// A word: ASCII letters and digits, non-ASCII letters, marks
		// and digits, and characters with a fold.
		j, fold, any, ascii := i, true, false, false
		for j < len(m) {
			c := m[j]
			if c < utf8.RuneSelf {
				if !isAlnum(c) {
					break
				}
				ascii = true
				j++
				continue
			}
			r, size := utf8.DecodeRuneInString(m[j:])
			if hasFold(r) {
				any = true
			} else if r == utf8.RuneError || !unicode.In(r, unicode.L, unicode.M, unicode.N) {
				break
			} else {
				fold = false
			}
			j += size
		}
		if j == i { // a non-ASCII character that ends words
			_, size := utf8.DecodeRuneInString(m[i:])
			out = append(out, m[i:i+size]...)
			i += size
			continue
		}
		if !fold || !any || !ascii && !glued(m, i, j) {
			out = append(out, m[i:j]...)
			i = j
			continue
		}
		for i < j {
			if m[i] < utf8.RuneSelf {
				out = append(out, m[i])
				i++
				continue
			}
			r, size := utf8.DecodeRuneInString(m[i:])
			f, _ := foldRune(r)
			mp = append(mp, normSeg{n0: len(out), n1: len(out) + 1, o0: i, o1: i + size})
			out = append(out, f)
			i += size
		}
	}
	z.buf2, z.map2 = out, mp
	return bytesToString(out), len(mp) > 0
}

// glued reports whether the word m[i:j] touches one of the ASCII symbols
// that join the parts of e-mail addresses, URLs and credentials.
func glued(m string, i, j int) bool {
	const joins = "@._-:/=+%"
	return i > 0 && strings.IndexByte(joins, m[i-1]) >= 0 || j < len(m) && strings.IndexByte(joins, m[j]) >= 0
}

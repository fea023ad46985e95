package detect

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// Invisible characters of every class, from the Unicode data: each is
// inserted into values below.
var (
	zeroWidths = []rune{0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD, 0x180E}
	bidis      = []rune{0x200E, 0x200F, 0x061C, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069}
	selectors  = []rune{0xFE00, 0xFE0F, 0xE0100, 0xE01EF, 0x180B, 0x180F}
	tags       = []rune{0xE0001, 0xE0041, 0xE007F}
	others     = []rune{0x034F, 0x2061, 0x2064, 0x206A, 0x3164, 0xFFA0, 0x1D173}
)

func allInvisibles() []rune {
	var rs []rune
	for _, set := range [][]rune{zeroWidths, bidis, selectors, tags, others} {
		rs = append(rs, set...)
	}
	return rs
}

// plant inserts a random invisible character at n random rune boundaries
// inside v.
func plant(r *rand.Rand, v string, invis []rune, n int) string {
	rs := []rune(v)
	for ; n > 0; n-- {
		at := 1 + r.Intn(len(rs)-1)
		rs = append(rs[:at], append([]rune{invis[r.Intn(len(invis))]}, rs[at:]...)...)
	}
	return string(rs)
}

// mustFind scans prefix+v+suffix and fails unless a finding of type typ
// covers exactly v, and the view of that span (invisibles and all) is
// want.
func mustFind(t *testing.T, e *Engine, typ, prefix, v, suffix, want string) {
	t.Helper()
	text := prefix + v + suffix
	for _, f := range e.Scan(text) {
		if f.Type != typ {
			continue
		}
		if f.Start != len(prefix) || f.End != len(prefix)+len(v) {
			t.Errorf("%q: %s at [%d,%d) %q, want [%d,%d)", text, typ, f.Start, f.End, text[f.Start:f.End], len(prefix), len(prefix)+len(v))
			return
		}
		var z normalizer
		got, _ := z.view(text[f.Start:f.End])
		if want != "" && got != want {
			t.Errorf("%q: view of the span is %q, want %q", text, got, want)
		}
		return
	}
	t.Errorf("%q: no %s in %+v", text, typ, e.Scan(text))
}

func newTestEngine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestZeroWidthSplitEmailIsFound(t *testing.T) {
	e := newTestEngine(t, Config{})
	r := rand.New(rand.NewSource(1))
	emails := []string{"jane.doe@example.com", "a.b-c_d+tag@mail.example.co.uk", "x9z@corp.io"}
	for _, class := range []struct {
		name  string
		runes []rune
	}{{"zero_width", zeroWidths}, {"bidi", bidis}, {"variation_selector", selectors}, {"tag", tags}, {"other_ignorable", others}} {
		for _, em := range emails {
			for n := 1; n <= 4; n++ {
				v := plant(r, em, class.runes, n)
				t.Run(fmt.Sprintf("%s/%d/%s", class.name, n, em), func(t *testing.T) {
					mustFind(t, e, "EMAIL_ADDRESS", "please write to ", v, " today", em)
				})
			}
		}
	}
}

// fullwidth returns s with ASCII digits, letters and punctuation in
// their fullwidth forms (U+FF01–U+FF5E) and spaces as ideographic spaces.
func fullwidth(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c == ' ':
			b.WriteRune(0x3000)
		case c > ' ' && c < 0x7F:
			b.WriteRune(c - 0x21 + 0xFF01)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// digitsIn returns s with ASCII digits replaced by the digits of the
// script whose zero is zero.
func digitsIn(s string, zero rune) string {
	var b strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			b.WriteRune(zero + c - '0')
		} else {
			b.WriteRune(c)
		}
	}
	return b.String()
}

func TestFullwidthDigitsCardIsFound(t *testing.T) {
	e := newTestEngine(t, Config{})
	cards := []string{"4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005", "6011 0009 9013 9424"}
	zeros := map[string]rune{
		"mathematical bold": 0x1D7CE, "double-struck": 0x1D7D8, "sans-serif": 0x1D7E2, "monospace": 0x1D7F6,
		"arabic-indic": 0x0660, "extended arabic-indic": 0x06F0, "devanagari": 0x0966, "bengali": 0x09E6, "thai": 0x0E50,
	}
	for _, c := range cards {
		t.Run("fullwidth/"+c, func(t *testing.T) {
			mustFind(t, e, "CREDIT_CARD", "card: ", fullwidth(c), ".", "")
		})
		for name, z := range zeros {
			t.Run(name+"/"+c, func(t *testing.T) {
				mustFind(t, e, "CREDIT_CARD", "card: ", digitsIn(c, z), ".", "")
			})
		}
		// Unicode spaces between the groups.
		for _, sp := range []rune{0x00A0, 0x2002, 0x2007, 0x2009, 0x202F, 0x205F, 0x3000} {
			v := strings.ReplaceAll(c, " ", string(sp))
			t.Run(fmt.Sprintf("space %U/%s", sp, c), func(t *testing.T) {
				mustFind(t, e, "CREDIT_CARD", "card: ", v, ".", "")
			})
		}
	}
}

// lookalikes returns, for each ASCII character, the non-ASCII characters
// that fold to it.
func lookalikes() map[byte][]rune {
	m := map[byte][]rune{}
	for _, f := range foldTable {
		m[f.c] = append(m[f.c], f.r)
	}
	return m
}

// spoof replaces up to n characters of v with random look-alikes.
func spoof(r *rand.Rand, v string, n int) string {
	la := lookalikes()
	b := []byte(v)
	var out strings.Builder
	swaps := map[int]bool{}
	for len(swaps) < n {
		i := r.Intn(len(b))
		if len(la[b[i]]) == 0 {
			if len(swaps) == 0 && i == 0 {
				break
			}
			n--
			continue
		}
		swaps[i] = true
	}
	for i, c := range b {
		if swaps[i] {
			out.WriteRune(la[c][r.Intn(len(la[c]))])
		} else {
			out.WriteByte(c)
		}
	}
	return out.String()
}

func TestCyrillicLookalikeAWSKeyIsFound(t *testing.T) {
	e := newTestEngine(t, Config{})
	// Cyrillic (and Greek, Cherokee …) capitals for A, K, I, and the
	// rest of the key.
	cyr := map[byte]rune{'A': 'А', 'K': 'К', 'I': 'І', 'B': 'В', 'E': 'Е', 'H': 'Н', 'M': 'М', 'O': 'О', 'P': 'Р', 'C': 'С', 'T': 'Т', 'X': 'Х', 'Y': 'У'}
	keys := []string{"AKIA2OGYBAH6T4MXQ3PZ", "AKIAQYLPMN5HHHFPZAM2", "ASIAY34FZKBOKMUTVV7A"}
	r := rand.New(rand.NewSource(2))
	for _, k := range keys {
		if !hasFinding(e.Scan("aws "+k), "AWS_ACCESS_KEY") {
			t.Fatalf("the ASCII key %s is not found; the test needs another", k)
		}
		var all strings.Builder
		for i := 0; i < len(k); i++ {
			if c, ok := cyr[k[i]]; ok {
				all.WriteRune(c)
			} else {
				all.WriteByte(k[i])
			}
		}
		t.Run("every cyrillic twin/"+k, func(t *testing.T) {
			mustFind(t, e, "AWS_ACCESS_KEY", "aws_access_key_id = ", all.String(), "\n", k)
		})
		for n := 1; n <= 6; n++ {
			v := spoof(r, k, n)
			t.Run(fmt.Sprintf("%d lookalikes/%s", n, k), func(t *testing.T) {
				mustFind(t, e, "AWS_ACCESS_KEY", "key ", v, " ok", k)
			})
		}
	}
}

func TestLookalikeEmailIsFound(t *testing.T) {
	e := newTestEngine(t, Config{})
	r := rand.New(rand.NewSource(3))
	for _, em := range []string{"paypal.support@example.com", "jane.doe@acme-corp.org"} {
		for n := 1; n <= 5; n++ {
			v := spoof(r, em, n)
			t.Run(fmt.Sprintf("%d/%s", n, em), func(t *testing.T) {
				mustFind(t, e, "EMAIL_ADDRESS", "mail ", v, " now", "")
			})
		}
	}
}

func TestUnicodeDashSSNIsFound(t *testing.T) {
	e := newTestEngine(t, Config{})
	var dashes []rune
	for _, rg := range unicode.Dash.R16 {
		for c := int(rg.Lo); c <= int(rg.Hi); c += int(rg.Stride) {
			if c >= 0x80 {
				dashes = append(dashes, rune(c))
			}
		}
	}
	if len(dashes) < 20 {
		t.Fatalf("only %d dashes", len(dashes))
	}
	for _, d := range dashes {
		v := "234" + string(d) + "56" + string(d) + "7890"
		t.Run(fmt.Sprintf("%U", d), func(t *testing.T) {
			mustFind(t, e, "US_SSN", "SSN: ", v, ".", "234-56-7890")
		})
	}
	// Dashes mixed with invisibles and fullwidth digits.
	mustFind(t, e, "US_SSN", "ssn ", "２３４\u2011\u200B５６\u2212７８９０", " ok", "234-56-7890")
}

func hasFinding(fs []Finding, typ string) bool {
	for _, f := range fs {
		if f.Type == typ {
			return true
		}
	}
	return false
}

// TestNormalizedOffsetsMapToRuneBoundaries checks the offset map on random
// mixes of ASCII, invisibles, fullwidth forms, look-alikes, combining
// marks, expansions and invalid bytes: every span of the view maps to a
// span of the input that is in bounds, on rune boundaries and monotone,
// and the view of the mapped span holds the span's text.
func TestNormalizedOffsetsMapToRuneBoundaries(t *testing.T) {
	pieces := []string{"a", "Z", "7", "@", ".", " ", "-", "\u200B", "\u202E", "\U000E0041", "\uFE0F", "\u0301", "e\u0301",
		"４", "Ａ", "а", "К", "І", "\u2013", "\u00A0", "\u3000", "ﬁ", "\uFDFA", "\u2474", "\xff", "\xe2\x80", "中", "٣", "𝟗", "\u2028"}
	r := rand.New(rand.NewSource(4))
	var z normalizer
	for iter := 0; iter < 3000; iter++ {
		var b strings.Builder
		for n := r.Intn(12); n >= 0; n-- {
			b.WriteString(pieces[r.Intn(len(pieces))])
		}
		text := b.String()
		checkView(t, &z, text)
	}
}

// checkView checks the offset-map properties of text's view.
func checkView(t *testing.T, z *normalizer, text string) {
	t.Helper()
	view, changed := z.view(text)
	if !changed {
		if view != text {
			t.Fatalf("%q: unchanged view %q differs", text, view)
		}
		return
	}
	prevS, prevE := 0, 0
	for p := 0; p <= len(view); p++ {
		if !utf8.RuneStart(safeByte(view, p)) {
			continue
		}
		for q := p + 1; q <= len(view); q++ {
			if !utf8.RuneStart(safeByte(view, q)) {
				continue
			}
			s, e := z.span(p, q)
			if s < 0 || e > len(text) || s > e {
				t.Fatalf("%q: view [%d,%d) maps to [%d,%d), out of bounds", text, p, q, s, e)
			}
			if !onRuneBoundary(text, s) || !onRuneBoundary(text, e) {
				t.Fatalf("%q: view [%d,%d) maps to [%d,%d), not on rune boundaries", text, p, q, s, e)
			}
		}
		s, e := z.span(p, min(p+1, len(view)))
		if p < len(view) && (s < prevS || e < prevE) {
			t.Fatalf("%q: not monotone at %d: [%d,%d) after [%d,%d)", text, p, s, e, prevS, prevE)
		}
		prevS, prevE = s, e
	}
	// The whole view maps to the input less its leading and trailing
	// dropped characters.
	s, e := z.span(0, len(view))
	var z2 normalizer
	got, _ := z2.view(text[s:e])
	if len(view) > 0 && got != view {
		t.Fatalf("%q: view %q, view of mapped span [%d,%d) %q", text, view, s, e, got)
	}
}

func safeByte(s string, i int) byte {
	if i >= len(s) {
		return 0
	}
	return s[i]
}

func TestASCIIViewIsTheInput(t *testing.T) {
	var z normalizer
	text := strings.Repeat(prose, 4)
	v, changed := z.view(text)
	if changed || v != text {
		t.Fatal("an ASCII text was changed")
	}
	if n := testing.AllocsPerRun(50, func() { z.view(text) }); n != 0 {
		t.Fatalf("%v allocations for ASCII text", n)
	}
}

func TestScanWithoutCandidatesDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	e := newTestEngine(t, Config{})
	for name, text := range map[string]string{
		"ascii prose":   strings.Repeat(prose, 8),
		"unicode prose": strings.Repeat("Привет, как дела? 你好，世界。 Grüße aus Köln — schön\u00A0hier. ", 20),
	} {
		e.Scan(text) // warm the pool's buffers
		if n := testing.AllocsPerRun(50, func() { e.Scan(text) }); n != 0 {
			t.Errorf("%s: %v allocations", name, n)
		}
	}
}

// TestRussianProseIsNotFolded keeps words with letters that have no ASCII
// twin as they are.
func TestRussianProseIsNotFolded(t *testing.T) {
	var z normalizer
	for _, text := range []string{"Привет, как дела у Ивана?", "Грузовик везёт брёвна", "Ελληνικά γράμματα"} {
		if v, _ := z.view(text); v != text {
			t.Errorf("%q became %q", text, v)
		}
	}
}

func TestNoNormalizeScansRawText(t *testing.T) {
	e := newTestEngine(t, Config{NoNormalize: true})
	if fs := e.Scan("mail j\u200Bane@example.com"); len(fs) != 1 || fs[0].Start != len("mail j\u200B") {
		t.Fatalf("raw scan: %+v", fs)
	}
}

func TestDigitValuesComeInRunsOfTen(t *testing.T) {
	for _, rg := range unicode.Nd.R16 {
		if rg.Stride != 1 || (rg.Hi-rg.Lo+1)%10 != 0 {
			t.Errorf("Nd range %U-%U", rg.Lo, rg.Hi)
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if rg.Stride != 1 || (rg.Hi-rg.Lo+1)%10 != 0 {
			t.Errorf("Nd range %U-%U", rg.Lo, rg.Hi)
		}
	}
	for r, want := range map[rune]int{'٣': 3, '७': 7, '𝟗': 9, '๐': 0, '9': 9} {
		if got := digitValue(r); got != want {
			t.Errorf("digitValue(%U) = %d, want %d", r, got, want)
		}
	}
}

func TestFoldTableIsSortedAndASCII(t *testing.T) {
	for i, f := range foldTable {
		if i > 0 && foldTable[i-1].r >= f.r {
			t.Fatalf("foldTable not sorted at %U", f.r)
		}
		if f.c >= utf8.RuneSelf || f.r < utf8.RuneSelf {
			t.Fatalf("foldTable entry %U -> %q", f.r, f.c)
		}
		if c, ok := foldRune(f.r); !ok || c != f.c {
			t.Fatalf("foldRune(%U) = %q, %v", f.r, c, ok)
		}
	}
	for _, r := range []rune{'a', 'é', '中', 'ß', 0x10FFFF} {
		if _, ok := foldRune(r); ok {
			t.Errorf("%U folds", r)
		}
	}
}

package detect

import (
	"encoding/base64"
	"encoding/hex"
	"testing"
	"unicode/utf8"
)

// checkFindings fails unless fs are in bounds, on rune boundaries of s,
// sorted and non-overlapping.
func checkFindings(t *testing.T, s string, fs []Finding) {
	t.Helper()
	prev := 0
	for _, fd := range fs {
		if fd.Start < prev || fd.Start >= fd.End || fd.End > len(s) {
			t.Fatalf("%s: bad span %d..%d (prev end %d, len %d)", fd.Type, fd.Start, fd.End, prev, len(s))
		}
		if !onRuneBoundary(s, fd.Start) || !onRuneBoundary(s, fd.End) {
			t.Fatalf("%s span %d..%d splits a rune", fd.Type, fd.Start, fd.End)
		}
		prev = fd.End
	}
}

// FuzzNormalize checks the normalised view's offset map (in bounds, on
// rune boundaries of the input, monotone) and that scanning never
// panics and reports spans of the input.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"j\u200Bane@exa\u200Dmple.com", "４１１１ １１１１ １１１１ １１１１", "\u0410KIA2OGYBAH6T4MXQ3PZ", "234\u201356\u20137890",
		"e\u0301\u0301\u0301x", "\uFDFA\u2474ﬁ", "\xe2\x80\u200B\x8b", "\U000E0041\U000E0042", "а\xffо", string(allInvisibles()),
		"--\u2060---begin ec private key-----", "\u0660\u0661\u0662",
	} {
		f.Add(s)
	}
	e := newTestEngine(f, Config{})
	f.Fuzz(func(t *testing.T, s string) {
		var z normalizer
		view, changed := z.view(s)
		if !changed && view != s {
			t.Fatal("unchanged view differs")
		}
		if changed {
			prevS, prevE := 0, 0
			for p := 0; p < len(view); p++ {
				if !utf8.RuneStart(view[p]) {
					continue
				}
				q := p + 1
				for q < len(view) && !utf8.RuneStart(view[q]) {
					q++
				}
				a, b := z.span(p, q)
				if a < 0 || b > len(s) || a > b {
					t.Fatalf("view [%d,%d) maps to [%d,%d) of %d bytes", p, q, a, b, len(s))
				}
				if !onRuneBoundary(s, a) || !onRuneBoundary(s, b) {
					t.Fatalf("view [%d,%d) maps to [%d,%d), inside a rune", p, q, a, b)
				}
				if a < prevS || b < prevE {
					t.Fatalf("not monotone: [%d,%d) after [%d,%d)", a, b, prevS, prevE)
				}
				prevS, prevE = a, b
			}
		}
		checkFindings(t, s, e.Scan(s))
	})
}

// FuzzDecode feeds the decoders: arbitrary bytes as DER, and as the
// payload of base64, hex and percent-encoded runs in text.
func FuzzDecode(f *testing.F) {
	for _, b := range [][]byte{
		[]byte("jane.doe@example.com"), []byte(opensshMagic + "xx"), {0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x00},
		{0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07}, {0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20},
		[]byte(base64.StdEncoding.EncodeToString([]byte("a%40b.co mail x@y.org"))),
	} {
		f.Add(b)
	}
	e := newTestEngine(f, Config{})
	f.Fuzz(func(t *testing.T, b []byte) {
		derPrivateKey(b)
		for _, run := range []string{base64.StdEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b), hex.EncodeToString(b), percentAll(b), string(b)} {
			s := "x " + run + "\\n" + run + " y"
			checkFindings(t, s, e.Scan(s))
		}
	})
}

package gateway

import (
	"context"
	"strings"
	"testing"
)

func TestSafeCut(t *testing.T) {
	for _, c := range []struct{ in, flows string }{
		{"hello there my friend", "hello there my "},
		{"the card is 4111 1111 1111", "the card is "},
		{"write to Mr. Darrel", "write to "},
		{"see [[EMAIL_ADDRESS:8Q3J", "see "},
		{"see [[EMAIL_ADDRESS:8Q3JZ0WTKDH2A]] and more words", "see [[EMAIL_ADDRESS:8Q3JZ0WTKDH2A]] and more "},
		{"oneword", ""},
	} {
		if got := c.in[:safeCut(c.in, maxHold)]; got != c.flows {
			t.Errorf("%q: flows %q, want %q", c.in, got, c.flows)
		}
	}
}

func TestSafeCutBounded(t *testing.T) {
	long := strings.Repeat("Ab1", 400) // 1200 bytes, no space, all "may continue"
	if cut := safeCut(long, maxHold); len(long)-cut > maxHold {
		t.Fatalf("holds %d bytes, bound is %d", len(long)-cut, maxHold)
	}
	multi := strings.Repeat("é", 400)
	cut := safeCut(multi, maxHold)
	if cut == 0 || !strings.HasPrefix(multi, multi[:cut]) || (cut < len(multi) && multi[cut]&0xC0 == 0x80) {
		t.Fatalf("forced cut %d splits a rune", cut)
	}
}

func TestStreamGuardReassemblesAnySplit(t *testing.T) {
	text := "Dear Mr. Darrel Waters, card 4111 1111 1111 1111 and [[US_SSN:1XW9B7Y4MPQ0C]] ok ☃ end"
	for size := 1; size <= 7; size++ {
		var segs []string
		g := newStreamGuard(func(_ context.Context, before, seg string) (string, error) {
			segs = append(segs, seg)
			return seg, nil
		})
		var out strings.Builder
		for i := 0; i < len(text); i += size {
			j := min(i+size, len(text))
			s, err := g.Write(context.Background(), text[i:j])
			if err != nil {
				t.Fatal(err)
			}
			out.WriteString(s)
		}
		s, _ := g.Flush(context.Background())
		out.WriteString(s)
		if out.String() != text {
			t.Fatalf("size %d: %q", size, out.String())
		}
		for _, seg := range segs {
			if strings.Contains(seg, "4111") && !strings.Contains(seg, "4111 1111 1111 1111") {
				t.Errorf("size %d: card split across segments: %q", size, seg)
			}
			if strings.Contains(seg, "[[") && !strings.Contains(seg, "]]") {
				t.Errorf("size %d: token split: %q", size, seg)
			}
		}
	}
}

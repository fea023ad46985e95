package detect

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"
)

// TestNamesProse scores PERSON, LOCATION and PHONE_NUMBER on
// testdata/names-prose.jsonl: sentences written for Warden (not taken from
// any corpus) with the classes of issue #14: lone names after an
// introduction, speaker labels, non-US street addresses and postcodes,
// multi-line addresses, streets and landmarks named after people,
// capitalised common words, phones with a bracketed area code. A gold span
// is found when a finding of its type overlaps it, as in
// shared/eval/score.py.
func TestNamesProse(t *testing.T) {
	f, err := os.Open("testdata/names-prose.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	type counts struct{ tp, fp, fn int }
	by := map[string]*counts{"PERSON": {}, "LOCATION": {}, "PHONE_NUMBER": {}}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var d nameEvalDoc
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		found := e.Scan(d.Text)
		used := make([]bool, len(found))
		for _, g := range d.Spans {
			hit := false
			for i, p := range found {
				if p.Type == g.Type && p.Start < g.End && g.Start < p.End {
					hit, used[i] = true, true
				}
			}
			if hit {
				by[g.Type].tp++
			} else {
				by[g.Type].fn++
				t.Logf("missed %s %q in %q", g.Type, d.Text[g.Start:g.End], d.Text)
			}
		}
		for i, p := range found {
			if c := by[p.Type]; c != nil && !used[i] {
				c.fp++
				t.Logf("false %s %q in %q", p.Type, d.Text[p.Start:p.End], d.Text)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for typ, c := range by {
		p := float64(c.tp) / float64(max(1, c.tp+c.fp))
		r := float64(c.tp) / float64(max(1, c.tp+c.fn))
		t.Logf("%s tp=%d fp=%d fn=%d P=%.3f R=%.3f", typ, c.tp, c.fp, c.fn, p, r)
		if p < 0.97 || r < 0.9 {
			t.Errorf("%s: P=%.3f R=%.3f; want P >= 0.97, R >= 0.90", typ, p, r)
		}
	}
}

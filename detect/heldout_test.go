package detect

import (
	"bufio"
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"
)

// heldoutCorpus is a hand-built corpus of shapes the shared dev corpus
// lacks: national and international phone formats of many countries, card
// brands and separators, lower-case and spaced IBANs, IPv6 forms, IDN
// e-mail addresses, Bitcoin, Litecoin and Ethereum address kinds, names
// from many cultures, vendor credentials, and hard negatives. Its values
// carry valid checksums (Luhn, ISO 7064, Base58Check, Bech32, EIP-55,
// GitHub CRC32); testdata/heldout/gen.py builds it.
const heldoutCorpus = "testdata/heldout-shapes.jsonl"

// heldoutFloors are the per-family precision and recall the engine
// reaches on heldoutCorpus. A change that drops below one is a
// regression; raise a floor when a change lifts it.
var heldoutFloors = map[string]struct{ precision, recall float64 }{
	"CREDIT_CARD":   {1, 1},
	"CRYPTO":        {1, 1},
	"EMAIL_ADDRESS": {1, 1},
	"IBAN_CODE":     {1, 1},
	"IP_ADDRESS":    {1, 1},
	"PERSON":        {1, 0.950},
	"PHONE_NUMBER":  {0.988, 0.977},
	"SECRET":        {1, 1},
	"US_SSN":        {1, 1},
}

// scoreFamily is the family a finding is scored under, as
// shared/eval/score.py does: every credential counts as SECRET.
func scoreFamily(f Finding) string {
	if f.Category == Secret {
		return "SECRET"
	}
	return strings.ToUpper(f.Type)
}

type familyCounts struct{ tp, fp, fn int }

// scoreCorpus scans every document of a labelled JSONL corpus and counts
// hits the way shared/eval/score.py does: a gold span is found when a
// finding of its family overlaps it; a finding that overlaps no gold span
// of its family is a false positive. Findings of families the corpus does
// not label are ignored.
func scoreCorpus(t *testing.T, e *Engine, path string) map[string]*familyCounts {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var docs []nameEvalDoc
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var d nameEvalDoc
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		docs = append(docs, d)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	counts := map[string]*familyCounts{}
	for _, d := range docs {
		for _, g := range d.Spans {
			if counts[g.Type] == nil {
				counts[g.Type] = &familyCounts{}
			}
		}
	}
	for _, d := range docs {
		var pred []Finding
		for _, fd := range e.Scan(d.Text) {
			if counts[scoreFamily(fd)] != nil {
				pred = append(pred, fd)
			}
		}
		used := make([]bool, len(pred))
		for _, g := range d.Spans {
			hit := false
			for i, p := range pred {
				if scoreFamily(p) == g.Type && p.Start < g.End && g.Start < p.End {
					hit = true
					used[i] = true
				}
			}
			if hit {
				counts[g.Type].tp++
			} else {
				counts[g.Type].fn++
				t.Logf("miss %s %q in %q", g.Type, d.Text[g.Start:g.End], d.Text)
			}
		}
		for i, p := range pred {
			if !used[i] {
				counts[scoreFamily(p)].fp++
				t.Logf("false %s (%s %.2f) %q in %q", scoreFamily(p), p.Type, p.Score, d.Text[p.Start:p.End], d.Text)
			}
		}
	}
	return counts
}

func TestHeldoutShapes(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	counts := scoreCorpus(t, e, heldoutCorpus)
	fams := make([]string, 0, len(counts))
	for fam := range counts {
		fams = append(fams, fam)
	}
	sort.Strings(fams)
	var tp, fp, fn int
	for _, fam := range fams {
		c := counts[fam]
		p := float64(c.tp) / float64(max(1, c.tp+c.fp))
		r := float64(c.tp) / float64(max(1, c.tp+c.fn))
		t.Logf("%-14s tp=%3d fp=%2d fn=%2d P=%.3f R=%.3f", fam, c.tp, c.fp, c.fn, p, r)
		tp, fp, fn = tp+c.tp, fp+c.fp, fn+c.fn
		floor, ok := heldoutFloors[fam]
		if !ok {
			t.Errorf("%s: no floor in heldoutFloors", fam)
			continue
		}
		// Compare in thousandths, as the floors are written.
		if int(p*1000) < int(floor.precision*1000+0.5) {
			t.Errorf("%s precision %.3f, want >= %.3f", fam, p, floor.precision)
		}
		if int(r*1000) < int(floor.recall*1000+0.5) {
			t.Errorf("%s recall %.3f, want >= %.3f", fam, r, floor.recall)
		}
	}
	p := float64(tp) / float64(max(1, tp+fp))
	r := float64(tp) / float64(max(1, tp+fn))
	t.Logf("micro P=%.3f R=%.3f F1=%.3f", p, r, 2*p*r/max(1e-9, p+r))
}

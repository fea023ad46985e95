package detect

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"
)

// nameDevCorpus is the labelled development corpus shared by the project.
const nameDevCorpus = "../../shared/eval/pii-dev.jsonl"

type nameEvalDoc struct {
	Text  string `json:"text"`
	Spans []struct {
		Type       string `json:"type"`
		Start, End int
	} `json:"spans"`
}

// scorePerson runs the name recognizers over the corpus and scores PERSON
// findings the way shared/eval/score.py does: a finding hits when it
// overlaps a gold span of the same type.
func scorePerson(t testing.TB, path string, verbose bool) (tp, fp, fn int) {
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("no corpus: %v", err)
	}
	defer f.Close()
	e, err := NewWith(Config{}, nameRecognizers())
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var d nameEvalDoc
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		var pred []Finding
		for _, fd := range e.Scan(d.Text) {
			if fd.Type == "PERSON" {
				pred = append(pred, fd)
			}
		}
		used := map[int]bool{}
		for _, g := range d.Spans {
			if g.Type != "PERSON" {
				continue
			}
			hit := false
			for i, p := range pred {
				if p.Start < g.End && g.Start < p.End {
					hit = true
					used[i] = true
				}
			}
			if hit {
				tp++
			} else {
				fn++
				if verbose {
					t.Logf("FN %q in %q", d.Text[g.Start:g.End], d.Text)
				}
			}
		}
		for i, p := range pred {
			if !used[i] {
				fp++
				if verbose {
					t.Logf("FP %q (%.2f) in %q", d.Text[p.Start:p.End], p.Score, d.Text)
				}
			}
		}
	}
	return tp, fp, fn
}

func TestPersonDevCorpus(t *testing.T) {
	tp, fp, fn := scorePerson(t, nameDevCorpus, testing.Verbose())
	p := float64(tp) / float64(max(1, tp+fp))
	r := float64(tp) / float64(max(1, tp+fn))
	f1 := 2 * p * r / max(1e-9, p+r)
	t.Logf("PERSON tp=%d fp=%d fn=%d P=%.3f R=%.3f F1=%.3f", tp, fp, fn, p, r, f1)
	if f1 < 0.90 {
		t.Errorf("PERSON F1 %.3f on the dev corpus; want >= 0.90", f1)
	}
}

package detect

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"
)

// secretDevCorpus is the labelled evaluation corpus shared by the project; the
// test is skipped where it is not present.
const secretDevCorpus = "/work/shared/eval/pii-dev.jsonl"

// TestSecretsDevCorpus scores the secret recognizers alone on the SECRET
// family of the development corpus the way score.py does (any overlap with
// a gold span of the family is a hit).
func TestSecretsDevCorpus(t *testing.T) {
	f, err := os.Open(secretDevCorpus)
	if err != nil {
		t.Skip("dev corpus not available")
	}
	defer f.Close()
	e, err := NewWith(Config{}, secretRecognizers())
	if err != nil {
		t.Fatal(err)
	}
	var tp, fp, fn int
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var d struct {
			Text  string `json:"text"`
			Spans []struct {
				Type       string `json:"type"`
				Start, End int
			} `json:"spans"`
		}
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		got := e.Scan(d.Text)
		used := make([]bool, len(got))
		for _, g := range d.Spans {
			if g.Type != "SECRET" {
				continue
			}
			hit := false
			for i, f := range got {
				if f.Start < g.End && g.Start < f.End {
					hit, used[i] = true, true
				}
			}
			if hit {
				tp++
			} else {
				fn++
				t.Logf("missed %q", d.Text[g.Start:g.End])
			}
		}
		for i, f := range got {
			if !used[i] {
				fp++
				t.Logf("false positive %s %q in %q", f.Type, d.Text[f.Start:f.End], d.Text)
			}
		}
	}
	p := float64(tp) / float64(max(1, tp+fp))
	r := float64(tp) / float64(max(1, tp+fn))
	t.Logf("SECRET tp=%d fp=%d fn=%d P=%.3f R=%.3f", tp, fp, fn, p, r)
	if p < 0.97 || r < 0.97 {
		t.Errorf("SECRET precision %.3f recall %.3f, want both >= 0.97", p, r)
	}
}

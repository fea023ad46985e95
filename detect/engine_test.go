package detect

import (
	"math/rand"
	"strings"
	"testing"
)

// TestPrefixMatchAt checks the word-at-a-time prefix compare against
// hasPrefixAt, folded and not, at every offset of texts built to match
// often: the prefixes themselves in both cases, with neighbours of the
// letters' cases (@ [ ` {) mixed in.
func TestPrefixMatchAt(t *testing.T) {
	prefixes := []string{"ab", "Ab", "eyJ", "ghp_", "sk-ant-", "xoxb-", "a@[`{", "AKIA", "hf_", "glpat-", "dop_v1_", "0x", "bc1q", "DE", "-----BEGIN", "postgres://", "ABCDEFGHIJ"}
	alphabet := []byte("abAB@[`{_-0x1qeyJghpskantDEIKBEGINpostgres:/")
	r := rand.New(rand.NewSource(1))
	for _, p := range prefixes {
		for _, fold := range []bool{false, true} {
			pe := newPrefixEntry(p, fold, 0)
			for range 2000 {
				b := make([]byte, r.Intn(24))
				for k := range b {
					b[k] = alphabet[r.Intn(len(alphabet))]
				}
				if len(b) > 0 && r.Intn(2) == 0 {
					// Plant the prefix, randomly re-cased.
					at := r.Intn(len(b))
					for k := 0; k < len(p) && at+k < len(b); k++ {
						c := p[k]
						if r.Intn(2) == 0 && isLower(c) {
							c -= 'a' - 'A'
						} else if r.Intn(2) == 0 && isUpper(c) {
							c += 'a' - 'A'
						}
						b[at+k] = c
					}
				}
				text := string(b)
				for i := 0; i < len(text); i++ {
					if got, want := pe.matchAt(text, i), hasPrefixAt(text, i, p, fold); got != want {
						t.Fatalf("prefix %q fold %v text %q at %d: matchAt %v, hasPrefixAt %v", p, fold, text, i, got, want)
					}
				}
			}
		}
	}
}

// A URL is a container: a value inside one, plain or percent-encoded,
// is found as itself, not hidden in an allowed URL finding.
func TestValueInsideURLIsFound(t *testing.T) {
	eng, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ text, typ, value string }{
		{"see https://x.io/u/457-55-5462 ok", "US_SSN", "457-55-5462"},
		{"see https://example.net/?to=jane.canary%40example.com now", "EMAIL_ADDRESS", "jane.canary%40example.com"},
		{"open https://shop.example/pay/4111111111111111/confirm", "CREDIT_CARD", "4111111111111111"},
		{"https://x.io/u/jane.canary@example.com", "EMAIL_ADDRESS", "jane.canary@example.com"},
	} {
		found := false
		for _, f := range eng.Scan(c.text) {
			if f.Type == "URL" {
				t.Errorf("%q: the URL finding hides the value", c.text)
			}
			if f.Type == c.typ && strings.Contains(c.text[f.Start:f.End], c.value) {
				found = true
			}
		}
		if !found {
			t.Errorf("%q: no %s covering the value", c.text, c.typ)
		}
	}
}

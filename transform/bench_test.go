package transform

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/wardenhq/warden/detect"
)

// benchText returns a prompt-like text with n findings of mixed types.
func benchText(n int) (string, []detect.Finding) {
	var b strings.Builder
	var fs []detect.Finding
	kinds := []struct {
		typ string
		cat detect.Category
		val string
	}{
		{"EMAIL_ADDRESS", detect.PII, "jane.doe%d@acme.test"},
		{"PHONE_NUMBER", detect.PII, "+1 (415) 555-%04d"},
		{"CREDIT_CARD", detect.Financial, "4111 1111 1111 %04d"},
		{"PERSON", detect.PII, "Jane Doe%d"},
		{"API_KEY", detect.Secret, "sk_live_%08d"},
	}
	for i := 0; i < n; i++ {
		k := kinds[i%len(kinds)]
		b.WriteString("Please update the customer record and reply to the ticket; the contact is ")
		v := fmt.Sprintf(k.val, i)
		fs = append(fs, detect.Finding{Type: k.typ, Category: k.cat, Start: b.Len(), End: b.Len() + len(v)})
		b.WriteString(v)
		b.WriteString(" as of today.\n")
	}
	return b.String(), fs
}

func BenchmarkApply(b *testing.B) {
	text, fs := benchText(50)
	key := testKey(b, 1)
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"placeholder", Config{}},
		{"mixed", Config{
			Operators:  map[string]Operator{"EMAIL_ADDRESS": Tokenize, "PERSON": Synthetic},
			Categories: map[detect.Category]Operator{detect.Financial: Mask, detect.Secret: Redact},
			Default:    Hash,
			Key:        key,
		}},
		{"tokenize", Config{Default: Tokenize, Key: key}},
	} {
		b.Run(c.name, func(b *testing.B) {
			d, err := NewDeidentifier(c.cfg)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := d.Apply(ctx, text, fs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(fs))/b.Elapsed().Seconds(), "findings/s")
		})
	}
}

// cacheRevealer stands in for the vault's in-memory cache: a map from ID
// to value, answered in batches.
type cacheRevealer map[string]string

func (c cacheRevealer) Reveal(_ context.Context, t TokenRef) (string, bool, error) {
	v, ok := c[string(t.ID)]
	return v, ok, nil
}

func (c cacheRevealer) RevealBatch(_ context.Context, toks []TokenRef, values []string, found []bool) error {
	for i := range toks {
		values[i], found[i] = c[string(toks[i].ID)]
	}
	return nil
}

// tokenText returns a model-reply-like text with n tokens and the cache
// that knows them.
func tokenText(n int) (string, cacheRevealer) {
	c := cacheRevealer{}
	var b strings.Builder
	for i := 0; i < n; i++ {
		id := []byte(fmt.Sprintf("id-%05d", i))
		c[string(id)] = fmt.Sprintf("value number %d", i)
		b.WriteString("I have updated the record for ")
		b.WriteString(FormatToken("PERSON", id))
		b.WriteString(" [see note].\n")
	}
	return b.String(), c
}

func BenchmarkRestore(b *testing.B) {
	const n = 100
	text, cache := tokenText(n)
	s := newStateless(b, 1)
	var sb strings.Builder
	for i := 0; i < n; i++ {
		sb.WriteString("I have updated the record for ")
		sb.WriteString(mustToken(b, s, "PERSON", fmt.Sprintf("value number %d", i)))
		sb.WriteString(" [see note].\n")
	}
	stateless := sb.String()
	for _, c := range []struct {
		name string
		text string
		r    Revealer
	}{
		{"cache", text, cache},
		{"stateless", stateless, s},
		{"no-tokens", strings.Repeat("plain reply text with [brackets] and no tokens at all.\n", n), cache},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			b.SetBytes(int64(len(c.text)))
			b.ReportAllocs()
			var st RestoreStats
			for b.Loop() {
				var err error
				if _, st, err = Restore(ctx, c.text, c.r); err != nil {
					b.Fatal(err)
				}
			}
			if c.name != "no-tokens" && st.Restored != n {
				b.Fatalf("restored %d of %d", st.Restored, n)
			}
			b.ReportMetric(float64(b.N*st.Tokens)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

func BenchmarkFindTokens(b *testing.B) {
	text, _ := tokenText(100)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		FindTokens(text)
	}
}

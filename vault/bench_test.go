package vault

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/store/storetest"
)

// BenchmarkTokenizeNew stores batches of 1000 never-seen values.
func BenchmarkTokenizeNew(b *testing.B) {
	for _, eng := range storetest.Engines {
		b.Run(string(eng), func(b *testing.B) {
			e := newEnv(b, storetest.DSN(b, eng))
			tn := e.open().Tenant("acme")
			const batch = 1000
			types := make([]string, batch)
			values := make([]string, batch)
			for i := range types {
				types[i] = "EMAIL_ADDRESS"
			}
			n := 0
			b.ResetTimer()
			for b.Loop() {
				for i := range values {
					values[i] = fmt.Sprintf("user%09d@example.com", n)
					n++
				}
				if _, err := tn.TokenBatch(context.Background(), types, values); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "values/s")
		})
	}
}

// BenchmarkTokenizeNewSingle stores new values one call at a time.
func BenchmarkTokenizeNewSingle(b *testing.B) {
	e := newEnv(b, storetest.DSN(b, store.SQLite))
	tn := e.open().Tenant("acme")
	n := 0
	for b.Loop() {
		if _, err := tn.Token(context.Background(), "EMAIL_ADDRESS", fmt.Sprintf("user%09d@example.com", n)); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "values/s")
}

// BenchmarkRestoreKnown restores a text of 100 known tokens (warm cache).
func BenchmarkRestoreKnown(b *testing.B) {
	e := newEnv(b, storetest.DSN(b, store.SQLite))
	tn := e.open().Tenant("acme")
	var parts []string
	for i := range 100 {
		parts = append(parts, "contact", mustToken(b, tn, "EMAIL_ADDRESS", fmt.Sprintf("user%d@example.com", i)))
	}
	text := strings.Join(parts, " ")
	mustRestore(b, tn, text)
	n := 0
	for b.Loop() {
		if _, _, err := tn.Restore(context.Background(), text); err != nil {
			b.Fatal(err)
		}
		n += 100
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkRestoreCold restores 1000 known tokens with an empty cache.
func BenchmarkRestoreCold(b *testing.B) {
	e := newEnv(b, storetest.DSN(b, store.SQLite))
	v := e.open()
	tn := v.Tenant("acme")
	types := make([]string, 1000)
	values := make([]string, 1000)
	for i := range values {
		types[i], values[i] = "PERSON", fmt.Sprintf("person %d", i)
	}
	toks, err := tn.TokenBatch(context.Background(), types, values)
	if err != nil {
		b.Fatal(err)
	}
	text := strings.Join(toks, " ")
	n := 0
	for b.Loop() {
		v.reveals.Purge()
		if _, _, err := tn.Restore(context.Background(), text); err != nil {
			b.Fatal(err)
		}
		n += len(toks)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "tokens/s")
}

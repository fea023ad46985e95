package vault

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/store/storetest"
)

// BenchmarkTokenizeNew stores batches of 1000 never-seen values, on each
// engine, with the default invalidation interval and with the erasure
// check on every call.
func BenchmarkTokenizeNew(b *testing.B) {
	for _, eng := range storetest.Engines {
		for _, mode := range checkModes {
			b.Run(string(eng)+"/"+mode.name, func(b *testing.B) {
				e := newEnv(b, storetest.DSN(b, eng))
				tn := e.open(func(c *Config) { c.InvalidationInterval = mode.interval }).Tenant("acme")
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
}

// BenchmarkTokenizeNewSingle stores new values one call at a time
// (SQLite), where a check on every call weighs most.
func BenchmarkTokenizeNewSingle(b *testing.B) {
	for _, mode := range checkModes {
		b.Run(mode.name, func(b *testing.B) {
			e := newEnv(b, storetest.DSN(b, store.SQLite))
			tn := e.open(func(c *Config) { c.InvalidationInterval = mode.interval }).Tenant("acme")
			n := 0
			for b.Loop() {
				if _, err := tn.Token(context.Background(), "EMAIL_ADDRESS", fmt.Sprintf("user%09d@example.com", n)); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "values/s")
		})
	}
}

// BenchmarkRestoreKnown restores a text of 100 known tokens (warm cache),
// on each engine, with the default invalidation interval and with the
// erasure check on every call.
func BenchmarkRestoreKnown(b *testing.B) {
	for _, eng := range storetest.Engines {
		for _, mode := range checkModes {
			b.Run(string(eng)+"/"+mode.name, func(b *testing.B) {
				e := newEnv(b, storetest.DSN(b, eng))
				tn := e.open(func(c *Config) { c.InvalidationInterval = mode.interval }).Tenant("acme")
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
			})
		}
	}
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

// checkModes are the invalidation intervals the benchmarks compare: the
// default (the store is asked at most once a second per tenant) and a
// check of the tenant row on every call.
var checkModes = []struct {
	name     string
	interval time.Duration
}{{"interval=1s", 0}, {"every_call", -1}}

// BenchmarkTenantCheck is the erasure check alone: the one query a
// Vault makes per tenant per invalidation interval (or per call, with a
// negative interval).
func BenchmarkTenantCheck(b *testing.B) {
	for _, eng := range storetest.Engines {
		b.Run(string(eng), func(b *testing.B) {
			e := newEnv(b, storetest.DSN(b, eng))
			v := e.open()
			mustToken(b, v.Tenant("acme"), "PERSON", "Alice")
			for b.Loop() {
				if _, _, err := v.checkTenant(context.Background(), "acme"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

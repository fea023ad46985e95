package audit

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardenhq/warden/audit/event"
	"github.com/wardenhq/warden/keys"
	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/store/storetest"
)

func benchEvent(i int) *event.Record {
	return &event.Record{
		RequestID: fmt.Sprintf("req-%d", i), Principal: "svc-bench", Tenant: "acme",
		Endpoint: "/v1/chat/completions", Model: "gpt-4o", Upstream: "openai", Zone: "public",
		Decision: "deidentify", Rules: []string{"pii"}, Policy: "sha256:0123456789abcdef",
		Findings: map[string]int{"EMAIL_ADDRESS": 2, "PERSON": 1}, Operators: map[string]int{"tokenize": 3},
		Status: 200, Overhead: 120 * time.Microsecond, UpstreamTime: 800 * time.Millisecond,
		RequestBody: make([]byte, 2048), ResponseBody: make([]byte, 1024),
	}
}

func benchLog(b *testing.B, engine store.Engine) *Log {
	dir := b.TempDir()
	kr, err := keys.Open(context.Background(), keys.Options{
		Path: filepath.Join(dir, "keyring.json"), Root: keys.KeyFile(filepath.Join(dir, "master.key"), true), Create: true,
	})
	if err != nil {
		b.Fatal(err)
	}
	db := storetest.Open(b, storetest.DSN(b, engine))
	l, err := Open(context.Background(), Config{Store: db, Keyring: kr})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	return l
}

// BenchmarkRecord measures Record with many concurrent callers (as a
// busy gateway): appends/s and the p50/p99 latency of one Record, which
// includes waiting for the durable group commit.
func BenchmarkRecord(b *testing.B) {
	for _, engine := range storetest.Engines {
		for _, callers := range []int{1, 64, 256, 1024} {
			b.Run(fmt.Sprintf("%s/callers=%d", engine, callers), func(b *testing.B) {
				l := benchLog(b, engine)
				ctx := context.Background()
				lat := make([]time.Duration, b.N)
				var next sync.Mutex
				i := 0
				var before, after syscall.Rusage
				syscall.Getrusage(syscall.RUSAGE_SELF, &before)
				b.ResetTimer()
				start := time.Now()
				var wg sync.WaitGroup
				for range callers {
					wg.Go(func() {
						for {
							next.Lock()
							n := i
							i++
							next.Unlock()
							if n >= b.N {
								return
							}
							t := time.Now()
							if _, err := l.Record(ctx, benchEvent(n)); err != nil {
								b.Error(err)
								return
							}
							lat[n] = time.Since(t)
						}
					})
				}
				wg.Wait()
				el := time.Since(start)
				b.StopTimer()
				syscall.Getrusage(syscall.RUSAGE_SELF, &after)
				cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/append")
				slices.Sort(lat)
				b.ReportMetric(float64(b.N)/el.Seconds(), "appends/s")
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			})
		}
	}
}

// BenchmarkEntry measures building one request entry (canonical JSON and
// the two commitments): the CPU Record spends on the caller's goroutine.
func BenchmarkEntry(b *testing.B) {
	key := tenantKey(make([]byte, 32), "acme")
	ev := benchEvent(1)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := requestEntryOf(ev, now, key); err != nil {
			b.Fatal(err)
		}
	}
}

// buildLog appends n entries straight through appendEntries (the
// committer's bulk path) and signs one checkpoint; it returns the
// verifier key.
func buildLog(tb testing.TB, db *store.DB, n int) string {
	ctx := context.Background()
	key := tenantKey(make([]byte, 32), "acme")
	cache := newHashCache(1 << 16)
	st, err := prepareAppend(ctx, db)
	if err != nil {
		tb.Fatal(err)
	}
	defer st.close()
	const batch = 8192
	entries := make([][]byte, 0, batch)
	now := time.Now()
	for i := 0; i < n; {
		entries = entries[:0]
		for ; len(entries) < batch && i < n; i++ {
			e, err := requestEntryOf(benchEvent(i), now, key)
			if err != nil {
				tb.Fatal(err)
			}
			entries = append(entries, e)
		}
		base, hashes, err := appendEntries(ctx, db, st, cache, entries, now.Unix())
		if err != nil {
			tb.Fatal(err)
		}
		for j, h := range hashes {
			cache.put(base+int64(j), h)
		}
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, "example.com/bench")
	if err != nil {
		tb.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		tb.Fatal(err)
	}
	l := &Log{cfg: Config{Now: time.Now}, db: db, cache: cache, sec: &secrets{origin: "example.com/bench", signer: signer, vkey: vkey}}
	l.published.Store(-1)
	if _, err := l.Publish(ctx); err != nil {
		tb.Fatal(err)
	}
	return vkey
}

// TestVerifyMillion builds a log of 1,000,000 entries in SQLite and
// verifies it; run it with -v to see the time (the goal is ≤ 10 s).
// Skipped with -short; set WARDEN_AUDIT_MILLION=0 to skip it too.
func TestVerifyMillion(t *testing.T) {
	if testing.Short() || os.Getenv("WARDEN_AUDIT_MILLION") == "0" {
		t.Skip("builds a million entries")
	}
	const n = 1_000_000
	db := storetest.Open(t, storetest.DSN(t, store.SQLite))
	start := time.Now()
	vkey := buildLog(t, db, n)
	t.Logf("built %d entries in %s", n, time.Since(start).Round(time.Millisecond))
	start = time.Now()
	rep, err := Verify(context.Background(), db, vkey, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("verified %d entries in %s", rep.Size, time.Since(start).Round(time.Millisecond))
	if rep.Size != n || rep.Latest != n {
		t.Fatalf("report %+v", rep)
	}
}

// BenchmarkAppendBatch measures one commit transaction of a batch.
func BenchmarkAppendBatch(b *testing.B) {
	for _, size := range []int{1, 64, 1024} {
		b.Run(fmt.Sprintf("sqlite/batch=%d", size), func(b *testing.B) {
			db := storetest.Open(b, storetest.DSN(b, store.SQLite))
			key := tenantKey(make([]byte, 32), "acme")
			entries := make([][]byte, size)
			for i := range entries {
				entries[i], _ = requestEntryOf(benchEvent(i), time.Now(), key)
			}
			cache := newHashCache(1 << 16)
			st, err := prepareAppend(context.Background(), db)
			if err != nil {
				b.Fatal(err)
			}
			defer st.close()
			b.ResetTimer()
			for b.Loop() {
				base, hs, err := appendEntries(context.Background(), db, st, cache, entries, 0)
				if err != nil {
					b.Fatal(err)
				}
				for j, h := range hs {
					cache.put(base+int64(j), h)
				}
			}
			b.ReportMetric(float64(size*b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// BenchmarkVerify verifies a SQLite log of 100,000 entries.
func BenchmarkVerify(b *testing.B) {
	const n = 100_000
	db := storetest.Open(b, storetest.DSN(b, store.SQLite))
	vkey := buildLog(b, db, n)
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Verify(context.Background(), db, vkey, VerifyOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) / time.Duration(b.N)
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "entries/s")
	b.ReportMetric(cpu.Seconds()*1000, "cpu-ms/op")
}

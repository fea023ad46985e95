package audit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wardenhq/warden/audit/event"
	"github.com/wardenhq/warden/keys"
	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/store/storetest"
)

// benchEvent is a request entry (a request refused before the
// upstream), the one-entry shape.
func benchEvent(i int) *event.Record {
	return &event.Record{
		Kind: event.Request, Intent: -1,
		RequestID: fmt.Sprintf("req-%d", i), Principal: "svc-bench", Credential: "apikey", Tenant: "acme",
		Endpoint: "/v1/chat/completions", Model: "gpt-4o", Upstream: "openai", Zone: "public",
		Decision: "deny", Rules: []string{"pii"}, Policy: "sha256:0123456789abcdef",
		Findings: map[string]int{"EMAIL_ADDRESS": 2, "PERSON": 1}, Operators: map[string]int{"tokenize": 3},
		Status: 403, Error: "policy_denied", Overhead: 120 * time.Microsecond,
		RequestBody: make([]byte, 2048), ResponseBody: make([]byte, 1024),
	}
}

// benchIntent is the intent of request i, and benchCompletion its
// completion once the intent has index idx.
func benchIntent(i int) *event.Record {
	ev := benchEvent(i)
	ev.Kind, ev.Decision, ev.Status, ev.Error, ev.ResponseBody = event.Intent, "deidentify", 0, "", nil
	return ev
}

func benchCompletion(i int, idx int64) *event.Record {
	return &event.Record{
		Kind: event.Completion, Intent: idx, RequestID: fmt.Sprintf("req-%d", i), Principal: "svc-bench", Tenant: "acme",
		Status: 200, InputTokens: 512, OutputTokens: 128, Restored: 2,
		Overhead: 120 * time.Microsecond, UpstreamTime: 800 * time.Millisecond, ResponseBody: make([]byte, 1024),
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
// includes waiting for the durable group commit. "request" appends
// one-entry requests; "pair" has each caller record an intent and then
// its completion, the shape of a request that reaches an upstream (each
// pair is two appends, and opens and closes a row of audit_open).
func BenchmarkRecord(b *testing.B) {
	for _, engine := range storetest.Engines {
		for _, shape := range []string{"request", "pair"} {
			for _, callers := range []int{1, 64, 256, 1024} {
				b.Run(fmt.Sprintf("%s/%s/callers=%d", engine, shape, callers), func(b *testing.B) {
					benchRecord(b, engine, shape == "pair", callers)
				})
			}
		}
	}
}

func benchRecord(b *testing.B, engine store.Engine, pair bool, callers int) {
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
				if pair {
					i += 2
				} else {
					i++
				}
				next.Unlock()
				if n >= b.N {
					return
				}
				if !pair {
					t := time.Now()
					if _, err := l.Record(ctx, benchEvent(n)); err != nil {
						b.Error(err)
						return
					}
					lat[n] = time.Since(t)
					continue
				}
				t := time.Now()
				idx, err := l.Record(ctx, benchIntent(n))
				if err != nil {
					b.Error(err)
					return
				}
				lat[n] = time.Since(t)
				if n+1 >= b.N {
					continue // the intent stays open; Close aborts it
				}
				t = time.Now()
				if _, err := l.Record(ctx, benchCompletion(n, idx)); err != nil {
					b.Error(err)
					return
				}
				lat[n+1] = time.Since(t)
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
}

// BenchmarkEntry measures building one request entry (canonical JSON and
// the two commitments): the CPU Record spends on the caller's goroutine.
func BenchmarkEntry(b *testing.B) {
	key := tenantKey(make([]byte, 32), "acme")
	ev := benchEvent(1)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := recordEntryOf(ev, now, key); err != nil {
			b.Fatal(err)
		}
	}
}

// buildLog appends n entries straight through appendEntries (the
// committer's bulk path), as a gateway writes them: intents each
// followed by its completion (a request entry last when n is odd), and
// signs one checkpoint; it returns the verifier key.
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
			ev := benchEvent(i)
			switch {
			case i%2 == 0 && i+1 < n:
				ev = benchIntent(i)
			case i%2 == 1:
				ev = benchCompletion(i-1, int64(i-1))
			}
			e, err := recordEntryOf(ev, now, key)
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
	return signTree(tb, db, cache)
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
	if rep.Size != n || rep.Latest != n || rep.Intents != n/2 || rep.Completions != n/2 {
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
				entries[i], _ = recordEntryOf(benchEvent(i), time.Now(), key)
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

// BenchmarkPairing measures the pairing check Verify runs on each entry
// (head parse, open-intent bookkeeping), over intent+completion pairs.
func BenchmarkPairing(b *testing.B) {
	key := tenantKey(make([]byte, 32), "acme")
	const n = 100_000
	entries := make([][]byte, n)
	for i := range entries {
		ev := benchIntent(i)
		if i%2 == 1 {
			ev = benchCompletion(i-1, int64(i-1))
		}
		entries[i], _ = recordEntryOf(ev, time.Now(), key)
	}
	b.ResetTimer()
	for b.Loop() {
		p := newPairing()
		for i, e := range entries {
			h, err := parseHead(e)
			p.add(int64(i), h, err)
		}
		if p.bad != nil || len(p.open) != 0 {
			b.Fatal(p.bad)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
}

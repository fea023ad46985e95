package report_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/audit/event"
	"github.com/wardenhq/warden/keys"
	"github.com/wardenhq/warden/report"
	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/store/storetest"
)

// TestReportScale builds a log of $WARDEN_REPORT_ENTRIES entries
// (intent and completion pairs of 50 principals, 4 models, 6 finding
// types) through audit.Log, then times Collect and the rendering of
// every report, and the peak heap. Skipped unless the variable is set:
//
//	WARDEN_REPORT_ENTRIES=1000000 go test ./report -run TestReportScale -v
func TestReportScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("WARDEN_REPORT_ENTRIES"))
	if n <= 0 {
		t.Skip("set WARDEN_REPORT_ENTRIES to build a log of that many entries")
	}
	ctx := context.Background()
	dir := t.TempDir()
	db := storetest.Open(t, storetest.DSN(t, store.SQLite))
	kr, err := keys.Open(ctx, keys.Options{Path: filepath.Join(dir, "keyring.json"), Root: keys.KeyFile(filepath.Join(dir, "master.key"), true), Create: true})
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(ctx, audit.Config{Store: db, Keyring: kr, Origin: "example.com/scale"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	models := []string{"gpt-4o", "gpt-4o-mini", "mistral-large", "llama-med-8b"}
	types := []string{"EMAIL_ADDRESS", "PERSON", "PHONE_NUMBER", "UK_NHS", "CREDIT_CARD", "IP_ADDRESS"}
	var wg sync.WaitGroup
	const workers = 64
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n/2; i += workers {
				ev := &event.Record{Kind: event.Intent, Intent: -1, RequestID: fmt.Sprint("r", i), Principal: fmt.Sprint("svc-", i%50), Tenant: "acme",
					Endpoint: "chat", Model: models[i%4], Upstream: "up" + strconv.Itoa(i%4), Zone: "cloud", Decision: "deidentify", Policy: "sha256:p",
					Findings: map[string]int{types[i%6]: 1 + i%3, types[(i+1)%6]: 1}, Operators: map[string]int{"tokenize": 2}, RequestBody: make([]byte, 512)}
				idx, err := l.Record(ctx, ev)
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := l.Record(ctx, &event.Record{Kind: event.Completion, Intent: idx, RequestID: ev.RequestID, Principal: ev.Principal, Tenant: "acme",
					Status: 200, Restored: 2, Leaks: i % 97 / 96}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("built %d entries in %s", n, time.Since(start).Round(time.Millisecond))
	vkey, err := audit.VerifierKey(ctx, db, kr, "", false)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := audit.LatestCheckpointOf(ctx, db, vkey)
	if err != nil {
		t.Fatal(err)
	}
	opt := fixtureOptions(vkey)
	opt.Since = time.Time{}
	runtime.GC()
	var peak uint64
	stopMem := make(chan struct{})
	memDone := make(chan struct{})
	go func() {
		defer close(memDone)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stopMem:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	if p := os.Getenv("WARDEN_REPORT_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer f.Close()
	}
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	start = time.Now()
	ev, err := report.Collect(ctx, db, cp, opt)
	pprof.StopCPUProfile()
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	if err != nil {
		t.Fatal(err)
	}
	collect := time.Since(start)
	start = time.Now()
	for _, k := range report.Kinds() {
		r, err := ev.Report(k)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range report.Formats() {
			if err := r.Render(io.Discard, f); err != nil {
				t.Fatal(err)
			}
		}
	}
	render := time.Since(start)
	close(stopMem)
	<-memDone
	t.Logf("collected %d entries (%d checkpoints verified) in %s (%.0f entries/s; CPU %s, %.1f µs an entry); 3 reports × 4 formats rendered in %s; peak heap in use %.1f MiB",
		cp.Size, ev.Checkpoint.Checkpoints, collect.Round(time.Millisecond), float64(cp.Size)/collect.Seconds(), cpu.Round(time.Millisecond),
		float64(cpu.Microseconds())/float64(cp.Size), render.Round(time.Millisecond), float64(peak)/(1<<20))
}

package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/audit/event"
	"github.com/wardenhq/warden/auditindex"
	"github.com/wardenhq/warden/auth"
	"github.com/wardenhq/warden/console"
	"github.com/wardenhq/warden/detect"
	"github.com/wardenhq/warden/keys"
	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/store/storetest"
)

// TestConsoleMillion builds an audit log of WARDEN_CONSOLE_MILLION
// entries (1 = one million) of scripted traffic over 14 days through the
// real audit log and indexer, then measures every GET endpoint of the
// console API through its real HTTP handler: p50 and p99 of 40 calls
// each, signed in, page views recorded. The goal is < 200 ms each.
// WARDEN_CONSOLE_ENGINES=sqlite,postgres picks the engines (PostgreSQL
// needs WARDEN_TEST_POSTGRES). Run by bench/console.sh; skipped
// otherwise.
func TestConsoleMillion(t *testing.T) {
	n := 0
	switch v := os.Getenv("WARDEN_CONSOLE_MILLION"); v {
	case "", "0":
		t.Skip("set WARDEN_CONSOLE_MILLION=1 (bench/console.sh) to build a million-entry log")
	case "1":
		n = 1_000_000
	default:
		fmt.Sscan(v, &n)
	}
	engines := []store.Engine{store.SQLite}
	if e := os.Getenv("WARDEN_CONSOLE_ENGINES"); e != "" {
		engines = nil
		for _, s := range strings.Split(e, ",") {
			engines = append(engines, store.Engine(s))
		}
	}
	for _, engine := range engines {
		t.Run(string(engine), func(t *testing.T) { benchConsole(t, engine, n) })
	}
}

// Scripted traffic: 40 principals in 4 tenants, 8 models in 3 zones; a
// quarter of the requests refused before the upstream, the rest an
// intent and a completion; one principal (rare-svc) sends one request
// in 5000.
var (
	benchModels = []struct{ name, zone string }{
		{"gpt-4o", "cloud"}, {"gpt-4o-mini", "cloud"}, {"claude-sonnet", "cloud"}, {"claude-haiku", "cloud"},
		{"llama-70b", "onprem"}, {"mistral-large", "eu"}, {"mixtral", "onprem"}, {"embed-large", "eu"},
	}
	benchTypes = []string{"EMAIL_ADDRESS", "PHONE_NUMBER", "PERSON", "LOCATION", "CREDIT_CARD", "IBAN_CODE",
		"US_SSN", "UK_NHS", "IP_ADDRESS", "URL", "AWS_ACCESS_KEY", "DATE_TIME"}
	benchErrors = []string{"policy_denied", "rate_limited", "model_not_allowed", "invalid_api_key"}
)

func benchRecord(i int, at time.Time, r *rand.Rand) *event.Record {
	p := i % 40
	principal := fmt.Sprintf("svc-%02d", p)
	if i%5000 == 17 {
		principal = "rare-svc"
	}
	m := benchModels[(i/3)%len(benchModels)]
	ev := &event.Record{Kind: event.Intent, Intent: -1, Time: at, RequestID: fmt.Sprintf("req-%d", i), Principal: principal,
		Tenant: fmt.Sprintf("tenant-%d", p%4), Credential: "apikey", Endpoint: "chat", Model: m.name, Upstream: "up-" + m.zone,
		Zone: m.zone, Decision: "deidentify", Policy: "sha256:bench", Findings: map[string]int{},
		RequestBody: []byte("bench body"), Operators: map[string]int{"tokenize": 1}}
	for k := r.IntN(4); k > 0; k-- {
		ev.Findings[benchTypes[r.IntN(len(benchTypes)-1)]]++
	}
	if i%4 == 0 {
		ev.Kind, ev.Decision, ev.Status = event.Request, "deny", 403
		ev.Error = benchErrors[(i/4)%len(benchErrors)]
		if ev.Error == "policy_denied" {
			ev.Findings["AWS_ACCESS_KEY"] = 1
		}
	}
	return ev
}

func benchConsole(t *testing.T, engine store.Engine, n int) {
	ctx := context.Background()
	dir := t.TempDir()
	kr, err := keys.Open(ctx, keys.Options{Path: filepath.Join(dir, "keyring.json"), Root: keys.KeyFile(filepath.Join(dir, "master.key"), true), Create: true})
	if err != nil {
		t.Fatal(err)
	}
	dsn := storetest.DSN(t, engine)
	if engine == store.SQLite {
		dsn = "sqlite:" + filepath.Join(dir, "warden.db")
	}

	// Build the log: entries spread over 14 days ending now, written by
	// 256 concurrent callers (a busy gateway) with SQLite syncing at
	// checkpoints only, which is as fast as the log appends.
	span := 14 * 24 * time.Hour
	end := time.Now().Truncate(time.Second)
	start := end.Add(-span)
	genDB := storetest.OpenWith(t, dsn, store.Options{Sync: store.SyncNormal})
	genLog, err := audit.Open(ctx, audit.Config{Store: genDB, Keyring: kr, Origin: "bench.example/console"})
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	var written atomic.Int64
	var next atomic.Int64
	requests := n * 4 / 7 // 1/4 one entry, 3/4 two: 7/4 entries a request
	var wg sync.WaitGroup
	for w := range 256 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for {
				i := int(next.Add(1)) - 1
				if i >= requests {
					return
				}
				at := start.Add(time.Duration(int64(span) / int64(requests) * int64(i)))
				ev := benchRecord(i, at, r)
				idx, err := genLog.Record(ctx, ev)
				if err != nil {
					t.Error(err)
					return
				}
				written.Add(1)
				if ev.Kind == event.Intent {
					c := &event.Record{Kind: event.Completion, Intent: idx, Time: at.Add(800 * time.Millisecond), RequestID: ev.RequestID,
						Principal: ev.Principal, Tenant: ev.Tenant, Status: 200, Restored: r.IntN(3), Leaks: boolInt(i%997 == 0),
						InputTokens: 500, OutputTokens: 100}
					if _, err := genLog.Record(ctx, c); err != nil {
						t.Error(err)
						return
					}
					written.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if err := genLog.Close(); err != nil {
		t.Fatal(err)
	}
	size, _ := audit.Size(ctx, genDB)
	t.Logf("%s: wrote %d entries (%d requests) in %s", engine, size, requests, time.Since(began).Round(time.Millisecond))

	// Index them with the real indexer, as `warden audit index` does.
	cat := func(typ string) string { c, _ := detect.TypeCategory(typ); return string(c) }
	genIdx, _ := auditindex.New(auditindex.Config{Store: genDB, Category: cat})
	began = time.Now()
	if err := genIdx.CatchUp(ctx, nil); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: indexed %d entries in %s", engine, size, time.Since(began).Round(time.Millisecond))
	genDB.Close()

	// The console, on a store opened as `warden serve` opens it.
	db := storetest.Open(t, dsn)
	l, err := audit.Open(ctx, audit.Config{Store: db, Keyring: kr, Origin: "bench.example/console"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	idx, _ := auditindex.New(auditindex.Config{Store: db, Category: cat})
	apiKeys := auth.NewAPIKeys(db, 0, nil)
	key, _, err := apiKeys.Create(ctx, auth.KeySpec{Name: "bench-admin", Models: []string{"*"}, Roles: []string{"admin"}})
	if err != nil {
		t.Fatal(err)
	}
	con, err := console.New(console.Config{}, console.Deps{Store: db, Log: l, Index: idx, APIKeys: apiKeys, KEKs: kr,
		Policy: func() console.Policy {
			return console.Policy{Hash: "sha256:bench", Config: map[string]any{"rules": []any{}}}
		}})
	if err != nil {
		t.Fatal(err)
	}
	ictx, stop := context.WithCancel(ctx)
	defer stop()
	go idx.Run(ictx, time.Second, nil) // page views keep being indexed, as in serve
	srv := httptest.NewServer(con.Handler())
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	req, _ := http.NewRequest("POST", srv.URL+"/console/api/session", strings.NewReader(`{"api_key":"`+key+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Warden-Console", "1")
	if resp, err := client.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("sign-in: %v %v", resp, err)
	}

	day := func(d int) string { return end.Add(-time.Duration(d) * 24 * time.Hour).UTC().Format(time.RFC3339) }
	r := rand.New(rand.NewPCG(1, 2))
	paths := []struct{ name, path string }{
		{"session", "session"},
		{"overview 24h", "overview"},
		{"overview 14d step 1h", "overview?since=" + day(14) + "&until=" + day(0)},
		{"overview 14d step 24h", "overview?since=" + day(14) + "&until=" + day(0) + "&step=24h"},
		{"flows 24h", "flows"},
		{"flows 14d", "flows?since=" + day(14) + "&until=" + day(0)},
		{"entries newest", "entries"},
		{"entries principal", "entries?principal=svc-07"},
		{"entries principal+model+decision", "entries?principal=svc-08&model=gpt-4o&decision=deny"},
		{"entries combination matching none", "entries?principal=svc-07&decision=deny"},
		{"entries rare principal", "entries?principal=rare-svc"},
		{"entries absent principal", "entries?principal=nobody"},
		{"entries status 403", "entries?status=403"},
		{"entries error", "entries?error=rate_limited&tenant=tenant-0"},
		{"entries day 10 window", "entries?since=" + day(10) + "&until=" + day(9)},
		{"entries day 10 + principal", "entries?since=" + day(10) + "&until=" + day(9) + "&principal=svc-03&kind=completion"},
		{"entries deep page", "entries?before=" + fmt.Sprint(size/3)},
		{"entry + proof", "entries/{random}"},
		{"consistency", "consistency"},
		{"checkpoints", "checkpoints"},
		{"keys", "keys"},
		{"policy", "policy"},
		{"models", "models"},
		{"alerts", "alerts"},
	}
	t.Logf("%s: %d entries; latency of each GET (40 calls, signed in, page views recorded):", engine, size)
	for _, p := range paths {
		var lat []time.Duration
		for range 40 {
			path := p.path
			path = strings.Replace(path, "{random}", fmt.Sprint(r.Int64N(size)), 1)
			began := time.Now()
			resp, err := client.Get(srv.URL + "/console/api/" + path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			lat = append(lat, time.Since(began))
			if resp.StatusCode != 200 {
				t.Fatalf("%s: %d %s", p.name, resp.StatusCode, body)
			}
			if strings.HasPrefix(p.name, "entries ") && p.name != "entries absent principal" && p.name != "entries combination matching none" {
				var page struct{ Entries []json.RawMessage }
				json.Unmarshal(body, &page)
				if len(page.Entries) == 0 && p.name != "entries rare principal" {
					t.Fatalf("%s: no entries", p.name)
				}
			}
		}
		slices.Sort(lat)
		p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
		mark := ""
		if p99 > 200*time.Millisecond {
			mark = "  OVER 200ms"
		}
		t.Logf("  %-34s p50 %7.1f ms  p99 %7.1f ms%s", p.name, ms(p50), ms(p99), mark)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

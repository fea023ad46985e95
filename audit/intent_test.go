package audit_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/audit/event"
	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/store/storetest"
)

// fastWriter makes a log heartbeat (and look for dead writers) every
// 20ms and declare itself dead a second after its last heartbeat.
func fastWriter(c *audit.Config) {
	c.HeartbeatInterval = 20 * time.Millisecond
	c.WriterTimeout = time.Second
}

func openIntents(t *testing.T, db *store.DB) []int64 {
	t.Helper()
	rows, err := db.Read().Query("SELECT idx FROM audit_open ORDER BY idx")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var idx int64
		if err := rows.Scan(&idx); err != nil {
			t.Fatal(err)
		}
		out = append(out, idx)
	}
	return out
}

func entryAt(t *testing.T, db *store.DB, idx int64) string {
	t.Helper()
	var e []byte
	if err := db.Read().QueryRow("SELECT entry FROM audit_entries WHERE idx = $1", idx).Scan(&e); err != nil {
		t.Fatal(err)
	}
	return string(e)
}

// TestRecordKindsRoundTrip writes every kind through Record and checks
// the stored entries, audit_open and Verify's counts.
func TestRecordKindsRoundTrip(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		l := openLog(t, db, openKeyring(t, t.TempDir()), nil)
		i1, err := l.Record(ctx, testIntent(1))
		if err != nil {
			t.Fatal(err)
		}
		i2, err := l.Record(ctx, testIntent(2))
		if err != nil {
			t.Fatal(err)
		}
		if got := openIntents(t, db); len(got) != 2 || got[0] != i1 || got[1] != i2 {
			t.Fatalf("audit_open = %v, want [%d %d]", got, i1, i2)
		}
		r, err := l.Record(ctx, testEvent(3))
		if err != nil {
			t.Fatal(err)
		}
		c1, err := l.Record(ctx, testCompletion(1, i1))
		if err != nil {
			t.Fatal(err)
		}
		ab := testCompletion(2, i2)
		ab.Kind, ab.Error = event.Aborted, "client_gone"
		a2, err := l.Record(ctx, ab)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.RecordAdmin(ctx, audit.AdminEvent{Action: "policy.change", Actor: "cli"}); err != nil {
			t.Fatal(err)
		}
		if got := openIntents(t, db); len(got) != 0 {
			t.Fatalf("audit_open = %v after the closes, want empty", got)
		}
		for _, c := range []struct {
			idx    int64
			prefix string
		}{
			{i1, `{"v":2,"kind":"intent","time":"2026-11-25T12:00:00.000001Z","request_id":"req-1","principal":"alice","tenant":"acme","credential":"apikey",`},
			{r, `{"v":2,"kind":"request","time":"2026-11-25T12:00:00.000003Z","request_id":"req-3",`},
			{c1, `{"v":2,"kind":"completion","time":"2026-11-25T12:00:01.000001Z","intent":0,"request_id":"req-1","principal":"alice","tenant":"acme","status":200,"error":"","input_tokens":20,"output_tokens":7,"restored":2,"leaks":0,"overhead_us":150,"upstream_us":300000,"response_hmac":"hmac-sha256:`},
			{a2, `{"v":2,"kind":"aborted","time":"2026-11-25T12:00:01.000002Z","intent":1,"request_id":"req-2","principal":"alice","tenant":"acme","reason":"client_gone"}`},
		} {
			if e := entryAt(t, db, c.idx); !strings.HasPrefix(e, c.prefix) {
				t.Errorf("entry %d:\n got %s\nwant %s…", c.idx, e, c.prefix)
			}
		}
		if e := entryAt(t, db, c1); !strings.Contains(e, audit.Commitment(l.TenantKey("acme"), testCompletion(1, i1).ResponseBody)) {
			t.Errorf("completion lacks the response commitment: %s", e)
		}
		if _, err := l.Publish(ctx); err != nil {
			t.Fatal(err)
		}
		rep, err := audit.Verify(ctx, db, l.VerifierKey(), audit.VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := audit.PairCounts{Requests: 1, Intents: 2, Completions: 1, Aborted: 1, Admin: 1}
		if rep.PairCounts != want {
			t.Fatalf("counts %+v, want %+v", rep.PairCounts, want)
		}
	})
}

// TestRecordRefuses checks the records Record will not write; none of
// them leaves an entry behind.
func TestRecordRefuses(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, storetest.DSN(t, store.SQLite))
	l := openLog(t, db, openKeyring(t, t.TempDir()), nil)
	intent, err := l.Record(ctx, testIntent(1))
	if err != nil {
		t.Fatal(err)
	}
	request, err := l.Record(ctx, testEvent(2))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Record(ctx, testCompletion(1, intent)); err != nil {
		t.Fatal(err)
	}
	size, _ := audit.Size(ctx, db)
	mod := func(f func(*event.Record)) *event.Record {
		ev := testCompletion(9, intent)
		f(ev)
		return ev
	}
	tests := []struct {
		name string
		ev   *event.Record
		is   error  // errors.Is target, or nil
		text string // substring of the error
	}{
		{"no kind", mod(func(e *event.Record) { e.Kind = "" }), nil, "no known kind"},
		{"unknown kind", mod(func(e *event.Record) { e.Kind = "admin" }), nil, "no known kind"},
		{"completion naming no intent", mod(func(e *event.Record) { e.Intent = -1 }), nil, "names no intent"},
		{"aborted without reason", mod(func(e *event.Record) { e.Kind = event.Aborted; e.Error = "" }), nil, "without a reason"},
		{"request with upstream results", mod(func(e *event.Record) { e.Kind = event.Request }), nil, "record an intent and a completion"},
		{"second completion of an intent", testCompletion(1, intent), audit.ErrIntentNotOpen, ""},
		{"completion of a request entry", testCompletion(2, request), audit.ErrIntentNotOpen, ""},
		{"completion of an index beyond the log", testCompletion(3, size+10), audit.ErrIntentNotOpen, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idx, err := l.Record(ctx, tt.ev)
			if err == nil {
				t.Fatalf("Record accepted it at %d", idx)
			}
			if tt.is != nil && !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v; want %v / …%s…", err, tt.is, tt.text)
			}
		})
	}
	if n, _ := audit.Size(ctx, db); n != size {
		t.Fatalf("log grew from %d to %d entries", size, n)
	}
}

// TestConcurrentDoubleCompletion races two completions of each intent in
// one batch: exactly one of each pair is committed.
func TestConcurrentDoubleCompletion(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		l := openLog(t, db, openKeyring(t, t.TempDir()), nil)
		const n = 50
		intents := make([]int64, n)
		for i := range n {
			var err error
			if intents[i], err = l.Record(ctx, testIntent(i)); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		won, lost := 0, 0
		for i := range 2 * n {
			wg.Go(func() {
				_, err := l.Record(ctx, testCompletion(i/2, intents[i/2]))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case errors.Is(err, audit.ErrIntentNotOpen):
					lost++
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if won != n || lost != n {
			t.Fatalf("%d completions committed, %d refused; want %d each", won, lost, n)
		}
		l.Publish(ctx)
		if _, err := audit.Verify(ctx, db, l.VerifierKey(), audit.VerifyOptions{}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestOtherLogsLeaveLiveIntentsAlone keeps a gateway's intents open
// while a second gateway and a CLI command open the log on the same
// store (each with its own connections, as separate processes): neither
// aborts them, Verify counts them in flight, and the gateway completes
// them afterwards.
func TestOtherLogsLeaveLiveIntentsAlone(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dir := t.TempDir()
		gwDB := storetest.Open(t, dsn)
		gw := openLog(t, gwDB, openKeyring(t, dir), fastWriter)
		var intents []int64
		for i := range 3 {
			idx, err := gw.Record(ctx, testIntent(i))
			if err != nil {
				t.Fatal(err)
			}
			intents = append(intents, idx)
		}
		// A second gateway, recovering on every heartbeat.
		other := openLog(t, storetest.Open(t, dsn), openKeyring(t, dir), fastWriter)
		if _, err := other.Record(ctx, testEvent(9)); err != nil {
			t.Fatal(err)
		}
		// A CLI command: opens the log, records an admin act, closes.
		cliDB := storetest.Open(t, dsn)
		cli, err := audit.Open(ctx, audit.Config{Store: cliDB, Keyring: openKeyring(t, dir), CheckpointInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cli.RecordAdmin(ctx, audit.AdminEvent{Action: "apikey.create", Actor: "cli"}); err != nil {
			t.Fatal(err)
		}
		if err := cli.Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2200 * time.Millisecond) // more than two WriterTimeouts of heartbeats and recoveries
		if got := openIntents(t, gwDB); len(got) != len(intents) {
			t.Fatalf("audit_open = %v, want the gateway's %v", got, intents)
		}
		gw.Publish(ctx)
		rep, err := audit.Verify(ctx, gwDB, gw.VerifierKey(), audit.VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.InFlight != 3 || rep.Aborted != 0 {
			t.Fatalf("report %+v, want 3 in flight, none aborted", rep.PairCounts)
		}
		for i, idx := range intents {
			if _, err := gw.Record(ctx, testCompletion(i, idx)); err != nil {
				t.Fatalf("completion of live intent %d: %v", idx, err)
			}
		}
		gw.Publish(ctx)
		rep, err = audit.Verify(ctx, gwDB, gw.VerifierKey(), audit.VerifyOptions{})
		if err != nil || rep.InFlight != 0 || rep.Completions != 3 || rep.Aborted != 0 {
			t.Fatalf("Verify = %+v, %v", rep, err)
		}
	})
}

// TestRecoveryAbortsEachIntentOnce leaves intents of a writer that
// stopped heartbeating and opens several logs at once on their own
// connections: between them they abort every intent exactly once.
func TestRecoveryAbortsEachIntentOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dir := t.TempDir()
		db := storetest.Open(t, dsn)
		// The stuck writer never heartbeats on its own during the test.
		stuck := openLog(t, db, openKeyring(t, dir), func(c *audit.Config) {
			c.HeartbeatInterval, c.WriterTimeout = time.Hour, 3*time.Hour
		})
		const n = 2500 // more than one recovery transaction's worth
		var mu sync.Mutex
		var intents []int64
		var wg sync.WaitGroup
		for w := range 10 {
			wg.Go(func() {
				for i := w; i < n; i += 10 {
					idx, err := stuck.Record(ctx, testIntent(i))
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					intents = append(intents, idx)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		// Its heartbeat is now an hour old: dead.
		if _, err := db.Read().Exec("UPDATE audit_writers SET beat = beat - 4 * 3600 * 1000"); err != nil {
			t.Fatal(err)
		}
		const recoverers = 4
		logs := make([]*audit.Log, recoverers)
		for i := range recoverers {
			rdb := storetest.Open(t, dsn)
			kr := openKeyring(t, dir)
			wg.Go(func() {
				l, err := audit.Open(ctx, audit.Config{Store: rdb, Keyring: kr, CheckpointInterval: -1})
				if err != nil {
					t.Error(err)
					return
				}
				logs[i] = l
			})
		}
		wg.Wait()
		for _, l := range logs {
			if l != nil {
				l.Close()
			}
		}
		if got := openIntents(t, db); len(got) != 0 {
			t.Fatalf("%d intents still open after recovery", len(got))
		}
		if _, err := stuck.Record(ctx, testCompletion(0, intents[0])); !errors.Is(err, audit.ErrIntentNotOpen) {
			t.Fatalf("completion of an aborted intent: %v, want ErrIntentNotOpen", err)
		}
		stuck.Publish(ctx)
		rep, err := audit.Verify(ctx, db, stuck.VerifierKey(), audit.VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Intents != n || rep.Aborted != n || rep.InFlight != 0 {
			t.Fatalf("report %+v, want %d intents each aborted once", rep.PairCounts, n)
		}
		// Each aborted entry says why and repeats its intent's request.
		var e []byte
		if err := db.Read().QueryRow("SELECT entry FROM audit_entries WHERE idx = $1", int64(n)).Scan(&e); err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(e, []byte(`"kind":"aborted"`)) || !bytes.Contains(e, []byte(`"principal":"alice","tenant":"acme","reason":"writer_gone"}`)) {
			t.Fatalf("aborted entry %s", e)
		}
		// The dead writer's row is gone (the stuck log would put it back
		// at its next heartbeat), and so are the closed recoverers'.
		var writers int
		db.Read().QueryRow("SELECT COUNT(*) FROM audit_writers").Scan(&writers)
		if writers != 0 {
			t.Fatalf("%d writer rows left, want none", writers)
		}
	})
}

// TestCloseAbortsOwnOpenIntents closes a log with an intent still open:
// Close writes its aborted entry and says so.
func TestCloseAbortsOwnOpenIntents(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		kr := openKeyring(t, t.TempDir())
		var told []string
		l, err := audit.Open(ctx, audit.Config{Store: db, Keyring: kr, CheckpointInterval: -1, OnError: func(err error) { told = append(told, err.Error()) }})
		if err != nil {
			t.Fatal(err)
		}
		idx, err := l.Record(ctx, testIntent(1))
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if len(told) != 1 || !strings.Contains(told[0], "closed with 1 intents open") {
			t.Fatalf("OnError told %q", told)
		}
		if got := openIntents(t, db); len(got) != 0 {
			t.Fatalf("audit_open = %v after Close", got)
		}
		if e := entryAt(t, db, idx+1); !strings.Contains(e, `"kind":"aborted"`) || !strings.Contains(e, `"reason":"log_closed"`) {
			t.Fatalf("entry after the intent: %s", e)
		}
		rep, err := audit.Verify(ctx, db, l.VerifierKey(), audit.VerifyOptions{})
		if err != nil || rep.Aborted != 1 || rep.Unsigned != 0 {
			t.Fatalf("Verify = %+v, %v", rep, err)
		}
	})
}

// TestReady follows Ready through the states a readiness probe sees.
func TestReady(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t, store.SQLite)
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l := openLog(t, db, openKeyring(t, t.TempDir()), nil)
	if err := l.Ready(ctx); err != nil {
		t.Fatalf("fresh log: %v", err)
	}
	// The store goes away: the next commit fails and Ready says so,
	// naming the component, not the database.
	db.Close()
	if _, err := l.Record(ctx, testEvent(1)); err == nil {
		t.Fatal("Record succeeded on a closed store")
	}
	err = l.Ready(ctx)
	if !errors.Is(err, audit.ErrNotReady) || !strings.Contains(err.Error(), "store write failed") || strings.Contains(err.Error(), strings.TrimPrefix(dsn, "sqlite:")) {
		t.Fatalf("Ready after a failed commit = %v", err)
	}
	l.Close()
	if err := l.Ready(ctx); !errors.Is(err, audit.ErrNotReady) || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("Ready after Close = %v", err)
	}
}

// TestReadyQueueFull holds the write lock from another connection until
// the queue fills.
func TestReadyQueueFull(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t, store.SQLite)
	db := storetest.Open(t, dsn)
	l := openLog(t, db, openKeyring(t, t.TempDir()), func(c *audit.Config) { c.QueueSize = 2; c.MaxBatch = 1 })
	locker, err := sql.Open("sqlite", strings.TrimPrefix(dsn, "sqlite:")+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close()
	tx, err := locker.Begin()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 3 { // one committing (blocked), two queued
		wg.Go(func() { l.Record(ctx, testEvent(i)) })
	}
	deadline := time.Now().Add(5 * time.Second)
	for l.Ready(ctx) == nil && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := l.Ready(ctx); !errors.Is(err, audit.ErrNotReady) || !strings.Contains(err.Error(), "queue full") {
		t.Fatalf("Ready with a full queue = %v", err)
	}
	tx.Rollback()
	wg.Wait()
	if err := l.Ready(ctx); err != nil {
		t.Fatalf("Ready after the queue drained = %v", err)
	}
}

// TestPostgresWithoutDurableCommitsRefused opens the log on a session
// with synchronous_commit off.
func TestPostgresWithoutDurableCommitsRefused(t *testing.T) {
	dsn := storetest.DSN(t, store.Postgres)
	db := storetest.Open(t, dsn+"&synchronous_commit=off")
	_, err := audit.Open(context.Background(), audit.Config{Store: db, Keyring: openKeyring(t, t.TempDir()), CheckpointInterval: -1})
	if err == nil || !strings.Contains(err.Error(), "synchronous_commit is off") {
		t.Fatalf("Open = %v, want a refusal naming synchronous_commit", err)
	}
}

// TestExportKinds writes one entry of every kind as CEF.
func TestExportKinds(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, storetest.DSN(t, store.SQLite))
	l := openLog(t, db, openKeyring(t, t.TempDir()), nil)
	idx, _ := l.Record(ctx, testIntent(1))
	l.Record(ctx, testEvent(2))
	done := testCompletion(1, idx)
	done.Leaks = 1
	l.Record(ctx, done)
	if idx, err := l.Record(ctx, testIntent(3)); err != nil || idx != 3 {
		t.Fatalf("intent 3: %d, %v", idx, err)
	}
	l.Close() // aborts intent 3
	var out bytes.Buffer
	if _, err := audit.Export(ctx, db, &out, audit.ExportOptions{Format: audit.FormatCEF, Version: "test"}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{
		"CEF:0|Warden|Warden|test|intent|gateway intent deidentify|3|",
		"CEF:0|Warden|Warden|test|request|gateway request policy_denied|5|",
		"CEF:0|Warden|Warden|test|completion|gateway completion ok|7|",
		"CEF:0|Warden|Warden|test|intent|gateway intent deidentify|3|",
		"CEF:0|Warden|Warden|test|aborted|gateway request aborted|5|",
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines:\n%s", len(lines), out.String())
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d:\n got %s\nwant %s…", i, lines[i], w)
		}
	}
	for _, w := range []string{"cn3Label=intent cn3=0", "reason=log_closed cn3Label=intent cn3=3", "cs4=req-1 outcome=ok cn1Label=status cn1=200 cn2Label=leaks cn2=1"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("export lacks %q:\n%s", w, out.String())
		}
	}
	if strings.Contains(out.String(), "078-05-1120") {
		t.Fatal("raw prompt text in the export")
	}
}

package audit_test

import (
	"bufio"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/audit/event"
	"github.com/wardenhq/warden/keys"
	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/store/storetest"
)

// openKeyring opens (creating) a keyring protected by a key file in dir.
func openKeyring(t testing.TB, dir string) *keys.Keyring {
	t.Helper()
	kr, err := keys.Open(context.Background(), keys.Options{
		Path: filepath.Join(dir, "keyring.json"), Root: keys.KeyFile(filepath.Join(dir, "master.key"), true), Create: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func openLog(t testing.TB, db *store.DB, kr audit.Keyring, mod func(*audit.Config)) *audit.Log {
	t.Helper()
	cfg := audit.Config{Store: db, Keyring: kr, Origin: "example.com/warden-test", CheckpointInterval: -1}
	if mod != nil {
		mod(&cfg)
	}
	l, err := audit.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

const canaryPrompt = "My SSN is 078-05-1120 and my card is 4111 1111 1111 1111"

// testEvent is request i refused before any upstream call: one
// request entry.
func testEvent(i int) *event.Record {
	return &event.Record{
		Kind: event.Request, Intent: -1,
		Time:      time.Date(2026, 11, 25, 12, 0, 0, i*1000, time.UTC),
		RequestID: fmt.Sprintf("req-%d", i),
		Principal: "alice", Credential: "apikey", Tenant: "acme", Endpoint: "/v1/chat/completions", Model: "gpt-4o",
		Upstream: "openai", Zone: "public", Decision: "deny", Rules: []string{"pii"},
		Policy: "sha256:abc", Findings: map[string]int{"US_SSN": 1, "CREDIT_CARD": 1},
		Operators: map[string]int{"tokenize": 2}, Status: 403, Error: "policy_denied",
		Overhead:     150 * time.Microsecond,
		RequestBody:  []byte(`{"messages":[{"role":"user","content":"` + canaryPrompt + `"}]}`),
		ResponseBody: []byte(`{"error":{}}`),
	}
}

// testIntent is the intent of request i, which goes upstream.
func testIntent(i int) *event.Record {
	ev := testEvent(i)
	ev.Kind, ev.Decision, ev.Status, ev.Error, ev.ResponseBody = event.Intent, "deidentify", 0, "", nil
	return ev
}

// testCompletion closes request i's intent at index intent.
func testCompletion(i int, intent int64) *event.Record {
	return &event.Record{
		Kind: event.Completion, Intent: intent,
		Time:      time.Date(2026, 11, 25, 12, 0, 1, i*1000, time.UTC),
		RequestID: fmt.Sprintf("req-%d", i), Principal: "alice", Tenant: "acme",
		Status: 200, InputTokens: 20, OutputTokens: 7, Restored: 2,
		Overhead: 150 * time.Microsecond, UpstreamTime: 300 * time.Millisecond,
		ResponseBody: []byte(`{"choices":[]}`),
	}
}

func TestRecordAndVerify(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		kr := openKeyring(t, t.TempDir())
		l := openLog(t, db, kr, nil)
		for i := range 300 {
			idx, err := l.Record(ctx, testEvent(i))
			if err != nil {
				t.Fatal(err)
			}
			if idx != int64(i) {
				t.Fatalf("entry %d got index %d", i, idx)
			}
		}
		if _, err := l.RecordAdmin(ctx, audit.AdminEvent{Action: "apikey.create", Actor: "cli", Target: "key_123", Tenant: "acme"}); err != nil {
			t.Fatal(err)
		}
		if _, err := l.RecordAdmin(ctx, audit.AdminEvent{}); err == nil {
			t.Fatal("admin event without action accepted")
		}
		size, err := l.Publish(ctx)
		if err != nil || size != 301 {
			t.Fatalf("Publish = %d, %v; want 301", size, err)
		}
		rep, err := audit.Verify(ctx, db, l.VerifierKey(), audit.VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Size != 301 || rep.Latest != 301 || rep.Unsigned != 0 || rep.Origin != "example.com/warden-test" {
			t.Fatalf("report %+v", rep)
		}
		// Reopening keeps the keys: the same verifier key.
		l2 := openLog(t, db, kr, func(c *audit.Config) { c.Origin = "ignored" })
		if l2.VerifierKey() != l.VerifierKey() {
			t.Fatal("reopened log has another key")
		}
		// A verifier key of another log rejects the checkpoints.
		other := openLog(t, storetest.Open(t, storetest.DSN(t, store.SQLite)), kr, nil)
		if _, err := audit.Verify(ctx, db, other.VerifierKey(), audit.VerifyOptions{}); err == nil {
			t.Fatal("verify passed with a foreign key")
		}
	})
}

func TestEntryHoldsCommitmentsNotBodies(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, storetest.DSN(t, store.SQLite))
	l := openLog(t, db, openKeyring(t, t.TempDir()), nil)
	ev := testEvent(7)
	idx, err := l.Record(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	var entry []byte
	if err := db.Read().QueryRow("SELECT entry FROM audit_entries WHERE idx = $1", idx).Scan(&entry); err != nil {
		t.Fatal(err)
	}
	for _, canary := range []string{"078-05-1120", "4111", canaryPrompt} {
		if strings.Contains(string(entry), canary) {
			t.Fatalf("entry holds raw content %q", canary)
		}
	}
	var e map[string]any
	if err := json.Unmarshal(entry, &e); err != nil {
		t.Fatal(err)
	}
	key := l.TenantKey("acme")
	if got, want := e["request_hmac"], audit.Commitment(key, ev.RequestBody); got != want {
		t.Fatalf("request_hmac = %v, want %v", got, want)
	}
	if got, want := e["response_hmac"], audit.Commitment(key, ev.ResponseBody); got != want {
		t.Fatalf("response_hmac = %v, want %v", got, want)
	}
	if e["request_hmac"] == audit.Commitment(l.TenantKey("other"), ev.RequestBody) {
		t.Fatal("tenant keys are not separate")
	}
	want := `{"v":2,"kind":"request","time":"2026-11-25T12:00:00.000007Z","request_id":"req-7","principal":"alice","tenant":"acme",` +
		`"credential":"apikey","endpoint":"/v1/chat/completions","model":"gpt-4o","upstream":"openai","zone":"public","stream":false,` +
		`"decision":"deny","reasons":[],"rules":["pii"],"policy":"sha256:abc","findings":{"CREDIT_CARD":1,"US_SSN":1},"operators":{"tokenize":2},` +
		`"status":403,"error":"policy_denied","overhead_us":150,"request_hmac":`
	if !strings.HasPrefix(string(entry), want) {
		t.Fatalf("entry not canonical:\n got %s\nwant %s…", entry, want)
	}
}

func TestRecordTooLarge(t *testing.T) {
	db := storetest.Open(t, storetest.DSN(t, store.SQLite))
	l := openLog(t, db, openKeyring(t, t.TempDir()), nil)
	ev := testEvent(1)
	for i := range 5000 {
		ev.Reasons = append(ev.Reasons, fmt.Sprintf("rule-%05d-matched", i))
	}
	if _, err := l.Record(context.Background(), ev); !errors.Is(err, audit.ErrEntryTooLarge) {
		t.Fatalf("err = %v, want ErrEntryTooLarge", err)
	}
}

// TestQueueFullFailsClosed blocks the committer behind another
// connection's write lock and fills the queue.
func TestQueueFullFailsClosed(t *testing.T) {
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
	type res struct {
		idx int64
		err error
	}
	results := make(chan res, 10)
	var full int
	for range 10 {
		// Each Record either queues (and waits) or fails at once.
		done := make(chan struct{})
		go func() {
			idx, err := l.Record(ctx, testEvent(1))
			results <- res{idx, err}
			close(done)
		}()
		select {
		case <-done:
			r := <-results
			if !errors.Is(r.err, audit.ErrQueueFull) {
				t.Fatalf("early result %v, %v; want ErrQueueFull", r.idx, r.err)
			}
			full++
		case <-time.After(50 * time.Millisecond):
		}
	}
	if full == 0 {
		t.Fatal("queue never reported full")
	}
	tx.Rollback()
	seen := map[int64]bool{}
	for range 10 - full {
		r := <-results
		if r.err != nil {
			t.Fatalf("queued record failed: %v", r.err)
		}
		seen[r.idx] = true
	}
	if len(seen) != 10-full {
		t.Fatalf("indexes not distinct: %v", seen)
	}
}

// TestConcurrentLogsOneStore runs two Logs, each on its own *store.DB,
// appending to one database at once: the database sequences them into
// one log that verifies.
func TestConcurrentLogsOneStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dir := t.TempDir()
		kr := openKeyring(t, dir)
		dbs := []*store.DB{storetest.Open(t, dsn), storetest.Open(t, dsn)}
		logs := []*audit.Log{
			openLog(t, dbs[0], kr, func(c *audit.Config) { c.CheckpointInterval = 20 * time.Millisecond }),
			openLog(t, dbs[1], openKeyring(t, dir), func(c *audit.Config) { c.CheckpointInterval = 20 * time.Millisecond }),
		}
		if logs[0].VerifierKey() != logs[1].VerifierKey() {
			t.Fatal("the two processes' logs have different keys")
		}
		const perWorker, workers = 150, 8
		var mu sync.Mutex
		seen := map[int64]bool{}
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				l := logs[w%2]
				for i := range perWorker {
					idx, err := l.Record(ctx, testEvent(w*perWorker+i))
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if seen[idx] {
						t.Errorf("index %d acknowledged twice", idx)
					}
					seen[idx] = true
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		for _, l := range logs {
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
		}
		rep, err := audit.Verify(ctx, dbs[0], logs[0].VerifierKey(), audit.VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Size != perWorker*workers || len(seen) != perWorker*workers || rep.Unsigned != 0 {
			t.Fatalf("report %+v, %d acknowledged", rep, len(seen))
		}
	})
}

// Helper process: appends as fast as it can with 16 goroutines and
// prints each acknowledged index, until killed or done. Each goroutine
// records request i's intent, waits a millisecond (the upstream) and
// records its completion. With Long set, goroutine 0 is a long stream:
// it holds its first intent open for a minute, so an open intent is
// certain whenever the helper is killed (the others move in step with
// the group commit and may all be waiting for their intents). The
// helper heartbeats every 50ms and declares a WriterTimeout of
// helperWriterTimeout, or of the Timeout it is given.
const helperEnv = "WARDEN_AUDIT_HELPER"

const helperWriterTimeout = 3 * time.Second

func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("helper process only")
	}
	var arg struct {
		DSN, Dir string
		N        int
		Long     bool
		Timeout  time.Duration
	}
	if err := json.Unmarshal([]byte(os.Getenv(helperEnv)), &arg); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, arg.DSN, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(ctx, audit.Config{
		Store: db, Keyring: openKeyring(t, arg.Dir), CheckpointInterval: 50 * time.Millisecond,
		HeartbeatInterval: 50 * time.Millisecond, WriterTimeout: cmp.Or(arg.Timeout, helperWriterTimeout),
	})
	if err != nil {
		t.Fatal(err)
	}
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	ack := func(idx int64) {
		mu.Lock()
		fmt.Fprintf(out, "ack %d\n", idx)
		out.Flush()
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < arg.N; i += 16 {
				idx, err := l.Record(ctx, testIntent(i))
				if err != nil {
					fmt.Fprintln(os.Stderr, "record intent:", err)
					os.Exit(3)
				}
				ack(idx)
				if arg.Long && i == 0 {
					time.Sleep(time.Minute)
				}
				time.Sleep(time.Millisecond)
				done, err := l.Record(ctx, testCompletion(i, idx))
				if err != nil {
					fmt.Fprintln(os.Stderr, "record completion:", err)
					os.Exit(3)
				}
				ack(done)
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	db.Close()
	fmt.Fprintln(out, "done")
	out.Flush()
}

// startHelper runs this test binary as an appender process.
func startHelper(t *testing.T, dsn, dir string, n int, long bool, timeout ...time.Duration) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	a := map[string]any{"DSN": dsn, "Dir": dir, "N": n, "Long": long}
	if len(timeout) > 0 {
		a["Timeout"] = timeout[0]
	}
	arg, _ := json.Marshal(a)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.v=false")
	cmd.Env = append(os.Environ(), helperEnv+"="+string(arg))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewScanner(out)
}

// readAcks collects "ack N" lines until the stream ends.
func readAcks(sc *bufio.Scanner, acks chan<- int64) {
	defer close(acks)
	for sc.Scan() {
		if s, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				acks <- n
			}
		}
	}
}

// TestKill9KeepsAcknowledgedEntries kills an appender with SIGKILL in
// the middle of heavy appends of intents and completions, then checks
// that the log holds every index the appender printed as acknowledged
// and, once the next log has opened after the dead writer's timeout,
// that every intent the appender left open has its aborted entry and
// the log verifies with nothing in flight.
func TestKill9KeepsAcknowledgedEntries(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	storetest.Run(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dir := t.TempDir()
		db := storetest.Open(t, dsn)
		l := openLog(t, db, openKeyring(t, dir), nil) // generates the keys
		vkey := l.VerifierKey()
		l.Close()

		cmd, sc := startHelper(t, dsn, dir, 1_000_000, true)
		acks := make(chan int64, 1024)
		go readAcks(sc, acks)
		var acked []int64
		for idx := range acks {
			acked = append(acked, idx)
			if len(acked) == 20000 {
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
			}
		}
		cmd.Wait()
		if len(acked) < 20000 {
			t.Fatalf("helper acknowledged only %d entries before it ended", len(acked))
		}
		size, err := audit.Size(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		for _, idx := range acked {
			if idx >= size {
				t.Fatalf("acknowledged index %d lost: log has %d entries", idx, size)
			}
		}
		dangling := len(openIntents(t, db))
		if dangling == 0 {
			t.Fatal("the killed helper left no open intent (its long stream's intent should be)")
		}
		// Reopen as the next gateway would once the dead writer's
		// heartbeat is older than its timeout: it aborts the dangling
		// intents and signs what was unsigned.
		time.Sleep(helperWriterTimeout + 100*time.Millisecond)
		l2 := openLog(t, db, openKeyring(t, dir), nil)
		if got := openIntents(t, db); len(got) != 0 {
			t.Fatalf("%d intents still open after reopening", len(got))
		}
		if _, err := l2.Publish(ctx); err != nil {
			t.Fatal(err)
		}
		rep, err := audit.Verify(ctx, db, vkey, audit.VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Aborted != int64(dangling) || rep.InFlight != 0 || rep.Intents != rep.Completions+rep.Aborted {
			t.Fatalf("report %+v, want %d aborted", rep.PairCounts, dangling)
		}
		t.Logf("killed after %d acknowledged; log holds %d entries (%d intents, %d completions, %d aborted), %d checkpoints",
			len(acked), rep.Size, rep.Intents, rep.Completions, rep.Aborted, rep.Checkpoints)
	})
}

// TestTwoProcessesOneLog runs two real appender processes on one
// database; the result is one log that verifies.
func TestTwoProcessesOneLog(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	storetest.Run(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dir := t.TempDir()
		db := storetest.Open(t, dsn)
		l := openLog(t, db, openKeyring(t, dir), nil)
		vkey := l.VerifierKey()
		l.Close()
		const n = 3000
		seen := map[int64]bool{}
		var cmds []*exec.Cmd
		var chans []chan int64
		for range 2 {
			// The production WriterTimeout: two appenders fight for
			// SQLite's one write lock, and under a loaded CI machine a
			// heartbeat may wait more than the kill tests' 3s, which
			// had the other process declare this one dead (1 run in many).
			cmd, sc := startHelper(t, dsn, dir, n, false, 30*time.Second)
			acks := make(chan int64, 1024)
			go readAcks(sc, acks)
			cmds, chans = append(cmds, cmd), append(chans, acks)
		}
		for _, ch := range chans {
			for idx := range ch {
				if seen[idx] {
					t.Fatalf("index %d acknowledged twice", idx)
				}
				seen[idx] = true
			}
		}
		for _, cmd := range cmds {
			if err := cmd.Wait(); err != nil {
				t.Fatalf("helper: %v", err)
			}
		}
		rep, err := audit.Verify(ctx, db, vkey, audit.VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Size != 4*n || len(seen) != 4*n || rep.Unsigned != 0 || rep.Intents != 2*n || rep.Completions != 2*n || rep.Aborted != 0 {
			t.Fatalf("report %+v with %d acknowledged", rep, len(seen))
		}
	})
}

// TestOpenRaceAgreesOnKeys opens several logs on one fresh database at
// once (separate connections, as separate gateways would): all must end
// up with the same keys.
func TestOpenRaceAgreesOnKeys(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		dir := t.TempDir()
		openKeyring(t, dir).Path() // create the shared keyring first
		const n = 4
		vkeys := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			db := storetest.Open(t, dsn)
			kr := openKeyring(t, dir)
			wg.Go(func() {
				l, err := audit.Open(context.Background(), audit.Config{Store: db, Keyring: kr, CheckpointInterval: -1})
				if err != nil {
					t.Error(err)
					return
				}
				vkeys[i] = l.VerifierKey()
				l.Close()
			})
		}
		wg.Wait()
		for i := range vkeys {
			if vkeys[i] != vkeys[0] || vkeys[i] == "" {
				t.Fatalf("logs disagree on keys: %q", vkeys)
			}
		}
	})
}

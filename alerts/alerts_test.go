package alerts

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/audit/event"
	"github.com/wardenhq/warden/drift"
	"github.com/wardenhq/warden/keys"
	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/store/storetest"
)

// testLog opens an audit log on a fresh store of engine.
func testLog(t *testing.T, engine store.Engine) (*store.DB, *audit.Log) {
	t.Helper()
	db := storetest.Open(t, storetest.DSN(t, engine))
	dir := t.TempDir()
	kr, err := keys.Open(context.Background(), keys.Options{
		Path: filepath.Join(dir, "keyring.json"), Root: keys.KeyFile(filepath.Join(dir, "master.key"), true), Create: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(context.Background(), audit.Config{Store: db, Keyring: kr, CheckpointInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return db, l
}

// leak records a request of principal whose answer leaked n values.
func leak(t *testing.T, l *audit.Log, at time.Time, principal string, n int) {
	t.Helper()
	ctx := context.Background()
	idx, err := l.Record(ctx, &event.Record{Kind: event.Intent, Intent: -1, Time: at, RequestID: "r", Principal: principal,
		Tenant: "t", Endpoint: "chat", Model: "gpt-4o-mini", Decision: "allow"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Record(ctx, &event.Record{Kind: event.Completion, Intent: idx, Time: at, RequestID: "r", Principal: principal,
		Tenant: "t", Status: 200, Leaks: n}); err != nil {
		t.Fatal(err)
	}
}

type receiver struct {
	mu     sync.Mutex
	bodies []string
	status []int // answers, in order; 200 once exhausted
	header http.Header
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.header = req.Header.Clone()
	st := 200
	if len(r.status) > 0 {
		st, r.status = r.status[0], r.status[1:]
	}
	if st == 429 {
		w.Header().Set("Retry-After", "0")
	}
	w.WriteHeader(st)
	if st < 300 {
		r.bodies = append(r.bodies, string(b))
	}
}

func (r *receiver) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bodies...)
}

// Two replicas on one store: one holds the lease and raises each alert
// once; when it stops, the other takes over from where it left, raising
// nothing twice.
func TestOneReplicaEvaluatesAndTheOtherTakesOver(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			db, l := testLog(t, engine)
			recv := &receiver{}
			srv := httptest.NewServer(recv)
			defer srv.Close()
			now := time.Now()
			newEval := func() *Evaluator {
				e, err := New(Config{Store: db, Interval: 20 * time.Millisecond, Now: func() time.Time { return now }, Log: slog.New(slog.NewTextHandler(tWriter{t}, nil)),
					Webhooks: []*Webhook{{Name: "hook", URL: srv.URL, Format: FormatGeneric}}})
				if err != nil {
					t.Fatal(err)
				}
				return e
			}
			a, b := newEval(), newEval()
			ctxA, stopA := context.WithCancel(context.Background())
			ctxB, stopB := context.WithCancel(context.Background())
			defer stopB()
			doneA := make(chan struct{})
			go func() { a.Run(ctxA); close(doneA) }()
			waitFor(t, func() bool { return a.Leader() }, "a leads")
			go b.Run(ctxB)
			leak(t, l, now, "alice", 2)
			waitFor(t, func() bool { return len(recv.got()) == 1 }, "the first leak delivered")
			if b.Leader() {
				t.Fatal("both replicas lead")
			}
			stopA()
			<-doneA
			waitFor(t, func() bool { return b.Leader() }, "b takes over")
			leak(t, l, now, "bob", 1)
			waitFor(t, func() bool { return len(recv.got()) == 2 }, "the second leak delivered")
			time.Sleep(100 * time.Millisecond)
			got := recv.got()
			if len(got) != 2 || !strings.Contains(got[0], `"principal":"alice"`) || !strings.Contains(got[1], `"principal":"bob"`) {
				t.Fatalf("deliveries %q", got)
			}
			list, err := b.Alerts(context.Background(), now.Add(-time.Hour), 10)
			if err != nil || len(list) != 2 || list[0].Subject.Principal != "bob" || list[0].Kind != "leak" || list[0].Value != 1 {
				t.Fatalf("Alerts: %+v %v", list, err)
			}
		})
	}
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func waitFor(t *testing.T, ok func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
	}
}

// A receiver that fails is tried again with backoff (Retry-After
// honoured) until it answers; one that refuses (4xx) is not, and neither
// is one past MaxAttempts. Errors never name the webhook URL.
func TestDeliveryRetriesWithBackoffAndGivesUp(t *testing.T) {
	db, l := testLog(t, store.SQLite)
	flaky := &receiver{status: []int{503, 429, 200}}
	refusing := &receiver{status: []int{400}}
	dead := &receiver{status: []int{500, 500, 500, 500}}
	var srvs []*httptest.Server
	for _, r := range []*receiver{flaky, refusing, dead} {
		s := httptest.NewServer(r)
		defer s.Close()
		srvs = append(srvs, s)
	}
	clock := time.Now()
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	tick := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	var logs strings.Builder
	var logMu sync.Mutex
	e, err := New(Config{Store: db, Interval: time.Second, MaxAttempts: 3, Now: now,
		Log: newTestLogger(&logs, &logMu),
		Webhooks: []*Webhook{
			{Name: "flaky", URL: srvs[0].URL + "/hook?token=s3cret", Format: FormatSlack},
			{Name: "refusing", URL: srvs[1].URL, Format: FormatTeams},
			{Name: "dead", URL: srvs[2].URL, Format: FormatGeneric},
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	leak(t, l, clock, "carol", 1)
	if n, err := e.Evaluate(ctx); err != nil || n != 1 {
		t.Fatalf("Evaluate: %d %v", n, err)
	}
	// First pass: flaky 503, refusing 400 (failed for good), dead 500.
	if n, err := e.Deliver(ctx); err != nil || n != 0 {
		t.Fatalf("Deliver 1: %d %v", n, err)
	}
	// Not yet due (backoff 1s): nothing is tried.
	if n, _ := e.Deliver(ctx); n != 0 || len(flaky.status) != 2 {
		t.Fatalf("a delivery was retried before its backoff: %d, %v", n, flaky.status)
	}
	tick(time.Second)
	e.Deliver(ctx) // flaky 429 (Retry-After 0: the backoff, 2s, holds), dead 500
	tick(2 * time.Second)
	if n, err := e.Deliver(ctx); err != nil || n != 1 { // flaky 200; dead 500: third attempt, failed
		t.Fatalf("Deliver 3: %d %v", n, err)
	}
	tick(time.Hour)
	if n, _ := e.Deliver(ctx); n != 0 {
		t.Fatalf("a failed delivery was tried again")
	}
	if len(flaky.got()) != 1 || len(refusing.got()) != 0 || len(dead.status) != 1 {
		t.Fatalf("flaky %d, refusing %d, dead left %v", len(flaky.got()), len(refusing.got()), dead.status)
	}
	var states []string
	rows, err := db.Read().Query("SELECT target, state, attempts, last_status FROM alert_deliveries ORDER BY target")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var target, state string
		var attempts, status int
		rows.Scan(&target, &state, &attempts, &status)
		states = append(states, target+" "+state+" "+itoa(attempts)+" "+itoa(status))
	}
	rows.Close()
	if want := "dead failed 3 500,flaky delivered 3 200,refusing failed 1 400"; strings.Join(states, ",") != want {
		t.Fatalf("outbox %q, want %q", strings.Join(states, ","), want)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if strings.Contains(logs.String(), "s3cret") || strings.Contains(logs.String(), srvs[0].URL) {
		t.Fatalf("the log names a webhook URL:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "webhook refused the alert") {
		t.Fatalf("no refusal logged:\n%s", logs.String())
	}
}

// lockedWriter serialises a logger's writes for the test to read.
type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func newTestLogger(b *strings.Builder, mu *sync.Mutex) *slog.Logger {
	return slog.New(slog.NewJSONHandler(lockedWriter{mu, b}, nil))
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// Names an attacker controls cannot turn a Slack or Teams message into
// a mention or a link.
func TestPayloadsEscapeNames(t *testing.T) {
	a := Alert{ID: 1, Time: time.Unix(0, 0), Kind: "leak", Severity: "critical", AuditIndex: 3,
		Subject: Subject{Principal: "<!channel> [x](https://evil.example) & co", Model: "m"}, Message: "see <!here>", Value: 1}
	raw, err := payload(FormatSlack, a)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type   string `json:"type"`
			Text   *struct{ Type, Text string }
			Fields []struct{ Type, Text string }
		} `json:"blocks"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	mrkdwn := []string{s.Text, s.Blocks[1].Text.Text}
	for _, f := range s.Blocks[2].Fields {
		mrkdwn = append(mrkdwn, f.Text)
	}
	for _, m := range mrkdwn {
		if strings.ContainsAny(m, "<>") || strings.Contains(m, "& ") {
			t.Errorf("slack mrkdwn not escaped: %q", m)
		}
	}
	if !strings.Contains(strings.Join(mrkdwn, " "), "&lt;!channel&gt; [x](https://evil.example) &amp; co") {
		t.Errorf("slack payload lost the name: %q", mrkdwn)
	}
	tm, _ := payload(FormatTeams, a)
	var card struct {
		Attachments []struct {
			Content struct {
				Body []struct {
					Text  string
					Facts []struct{ Title, Value string }
				}
			}
		}
	}
	if err := json.Unmarshal(tm, &card); err != nil {
		t.Fatal(err)
	}
	body := card.Attachments[0].Content.Body
	for _, txt := range []string{body[0].Text, body[1].Text, body[2].Facts[2].Value} {
		if strings.Contains(strings.ReplaceAll(txt, `\[x\]\(`, ""), "[x](") || strings.Contains(strings.ReplaceAll(txt, `\<`, ""), "<") {
			t.Errorf("teams text not escaped: %q", txt)
		}
	}
	g, _ := payload(FormatGeneric, a)
	var back struct {
		Schema string `json:"schema"`
		Alert  Alert  `json:"alert"`
	}
	if err := json.Unmarshal(g, &back); err != nil || back.Schema != GenericSchema || back.Alert.Subject.Principal != a.Subject.Principal {
		t.Errorf("generic payload %s: %v", g, err)
	}
}

// A restarted evaluator resumes at its cursor: the alerts it raised are
// not raised again and what it learnt is kept.
func TestRestartResumesAtTheCursor(t *testing.T) {
	db, l := testLog(t, store.SQLite)
	now := time.Now()
	var raisedTotal atomic.Int64
	eval := func() int {
		e, err := New(Config{Store: db, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		n, err := e.Evaluate(context.Background())
		if err != nil || !e.Leader() {
			t.Fatalf("Evaluate: %v (leader %v)", err, e.Leader())
		}
		e.Release(context.Background())
		raisedTotal.Add(int64(n))
		return n
	}
	leak(t, l, now, "alice", 1)
	if n := eval(); n != 1 {
		t.Fatalf("first evaluator raised %d", n)
	}
	if n := eval(); n != 0 {
		t.Fatalf("a restarted evaluator raised %d again", n)
	}
	leak(t, l, now, "alice", 4)
	if n := eval(); n != 1 {
		t.Fatalf("new leak after the restart: %d alerts", n)
	}
	list, _ := List(context.Background(), db, time.Time{}, 0)
	if len(list) != 2 || list[0].Value != 4 {
		t.Fatalf("alerts %+v", list)
	}
	var series int
	db.Read().QueryRow("SELECT COUNT(*) FROM drift_series").Scan(&series)
	if series != 1 { // alice's refusal series
		t.Fatalf("%d drift series stored", series)
	}
}

func TestNewRefusesBadWebhooks(t *testing.T) {
	db := storetest.Open(t, storetest.DSN(t, store.SQLite))
	for _, hs := range [][]*Webhook{
		{{URL: "https://x", Format: FormatSlack}},
		{{Name: "a", URL: "https://x", Format: "email"}},
		{{Name: "a", URL: "https://x", Format: FormatSlack}, {Name: "a", URL: "https://y", Format: FormatTeams}},
		{{Name: "a", URL: "https://x", Format: FormatSlack, MinSeverity: drift.Severity("loud")}},
	} {
		if _, err := New(Config{Store: db, Webhooks: hs}); err == nil {
			t.Errorf("New accepted %+v", hs[0])
		}
	}
}

package audit

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardenhq/warden/audit/event"
	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/store/storetest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// goldenRecords are one record of every kind, with fixed times.
func goldenRecords() []*event.Record {
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 8000, time.UTC)
	intent := &event.Record{
		Kind: event.Intent, Intent: -1, Time: t0, RequestID: "req-1", Principal: "svc-a", Credential: "apikey", Tenant: "acme",
		Endpoint: "chat", Model: "gpt-4o", Upstream: "openai", Zone: "public", Stream: true,
		Decision: "deidentify", Reasons: []string{"pii found"}, Rules: []string{"pii"}, Policy: "sha256:abc",
		Findings: map[string]int{"US_SSN": 1, "EMAIL_ADDRESS": 2}, Operators: map[string]int{"tokenize": 3},
		RequestBody: []byte(`{"messages":[]}`),
	}
	completion := &event.Record{
		Kind: event.Completion, Intent: 0, Time: t0.Add(time.Second), RequestID: "req-1", Principal: "svc-a", Tenant: "acme",
		Status: 200, InputTokens: 31, OutputTokens: 12, Restored: 3, Leaks: 0,
		Overhead: 420 * time.Microsecond, UpstreamTime: 800 * time.Millisecond, ResponseBody: []byte(`{"choices":[]}`),
	}
	aborted := &event.Record{
		Kind: event.Aborted, Intent: 2, Time: t0.Add(2 * time.Second), RequestID: "req-2", Principal: "svc-a", Tenant: "acme",
		Error: "client_gone",
	}
	request := &event.Record{
		Kind: event.Request, Intent: -1, Time: t0.Add(3 * time.Second), RequestID: "req-3", Principal: event.Unauthenticated,
		Credential: "none", Tenant: "", Endpoint: "chat", Model: event.UnknownModel, Status: 401, Error: "invalid_api_key",
		Overhead: 35 * time.Microsecond, RequestBody: []byte(`{}`), ResponseBody: []byte(`{"error":{}}`),
	}
	intent2 := *intent
	intent2.RequestID, intent2.Stream = "req-2", false
	return []*event.Record{intent, completion, &intent2, aborted, request}
}

// TestEntryFormatGolden pins the canonical entry of every kind to
// testdata/v2-entries.jsonl (go test -run Golden -update rewrites it).
func TestEntryFormatGolden(t *testing.T) {
	key := tenantKey(make([]byte, 32), "acme")
	var got []byte
	for _, ev := range goldenRecords() {
		if err := checkRecord(ev); err != nil {
			t.Fatal(err)
		}
		e, err := recordEntryOf(ev, time.Time{}, key)
		if err != nil {
			t.Fatal(err)
		}
		got = append(append(got, e...), '\n')
	}
	adm, err := adminEntryOf(AdminEvent{Time: time.Date(2026, 3, 4, 5, 6, 11, 0, time.UTC), Action: "apikey.create", Actor: "cli:root", Target: "key_1", Tenant: "acme", Details: map[string]string{"scopes": "chat"}}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	got = append(append(got, adm...), '\n')
	const path = "testdata/v2-entries.jsonl"
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("entries differ from %s:\n got %s\nwant %s", path, got, want)
	}
	// Each parses as the kind it is, and the closers repeat the who of
	// their intent.
	lines := bytes.Split(bytes.TrimSpace(got), []byte("\n"))
	kinds := []string{KindIntent, KindCompletion, KindIntent, KindAborted, KindRequest, KindAdmin}
	var heads []entryHead
	for i, line := range lines {
		h, err := parseHead(line)
		if err != nil || h.kind != kinds[i] {
			t.Fatalf("line %d: parseHead = %+v, %v; want kind %s", i, h, err, kinds[i])
		}
		heads = append(heads, h)
	}
	if heads[1].intent != 0 || !bytes.Equal(heads[1].who, heads[0].who) || heads[3].intent != 2 || !bytes.Equal(heads[3].who, heads[2].who) {
		t.Fatalf("closer heads do not match their intents: %+v", heads)
	}
}

func TestParseHead(t *testing.T) {
	tests := []struct {
		name   string
		entry  string
		kind   string
		intent int64
		ok     bool
	}{
		{"v1 request", `{"v":1,"kind":"request","time":"t","request_id":"r"}`, KindRequest, -1, true},
		{"v1 admin", `{"v":1,"kind":"admin","time":"t"}`, KindAdmin, -1, true},
		{"v2 intent", `{"v":2,"kind":"intent","time":"t","request_id":"r","principal":"p","tenant":"t","x":1}`, KindIntent, -1, true},
		{"v2 completion", `{"v":2,"kind":"completion","time":"t","intent":42,"request_id":"r","principal":"p","tenant":"t"}`, KindCompletion, 42, true},
		{"escaped quote in request id", `{"v":2,"kind":"aborted","time":"t","intent":0,"request_id":"a\"b\\","principal":"p","tenant":"t"}`, KindAborted, 0, true},
		{"v1 intent does not exist", `{"v":1,"kind":"intent","time":"t","request_id":"r","principal":"p","tenant":"t"}`, "", 0, false},
		{"v2 admin does not exist", `{"v":2,"kind":"admin","time":"t"}`, "", 0, false},
		{"future version", `{"v":3,"kind":"request"}`, "", 0, false},
		{"unknown kind", `{"v":2,"kind":"intents","time":"t"}`, "", 0, false},
		{"fields out of order", `{"kind":"intent","v":2}`, "", 0, false},
		{"whitespace", `{"v": 2,"kind":"intent"}`, "", 0, false},
		{"leading zero index", `{"v":2,"kind":"completion","time":"t","intent":07,"request_id":"r","principal":"p","tenant":"t"}`, "", 0, false},
		{"negative index", `{"v":2,"kind":"completion","time":"t","intent":-1,"request_id":"r","principal":"p","tenant":"t"}`, "", 0, false},
		{"closer without intent", `{"v":2,"kind":"completion","time":"t","request_id":"r","principal":"p","tenant":"t"}`, "", 0, false},
		{"missing tenant", `{"v":2,"kind":"intent","time":"t","request_id":"r","principal":"p"}`, "", 0, false},
		{"unterminated string", `{"v":2,"kind":"intent","time":"t","request_id":"r`, "", 0, false},
		{"control byte in string", "{\"v\":2,\"kind\":\"intent\",\"time\":\"t\",\"request_id\":\"a\nb\",\"principal\":\"p\",\"tenant\":\"t\"}", "", 0, false},
		{"huge index", `{"v":2,"kind":"completion","time":"t","intent":9999999999999999999,"request_id":"r","principal":"p","tenant":"t"}`, "", 0, false},
		{"empty", ``, "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := parseHead([]byte(tt.entry))
			if (err == nil) != tt.ok {
				t.Fatalf("parseHead = %+v, %v; want ok=%v", h, err, tt.ok)
			}
			if tt.ok && (h.kind != tt.kind || h.intent != tt.intent) {
				t.Fatalf("parseHead = %+v; want kind %s intent %d", h, tt.kind, tt.intent)
			}
		})
	}
}

// FuzzParseHead checks that parseHead never panics and that what it
// accepts is consistent: closers name a non-negative index, and who is
// a slice of the entry.
func FuzzParseHead(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"kind":"request","time":"t"}`,
		`{"v":2,"kind":"completion","time":"t","intent":42,"request_id":"r","principal":"p","tenant":"t"}`,
		`{"v":2,"kind":"intent","time":"t","request_id":"a\"","principal":"\\","tenant":"\u00e9"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, e []byte) {
		h, err := parseHead(e)
		if err != nil {
			return
		}
		switch h.kind {
		case KindCompletion, KindAborted:
			if h.intent < 0 || h.v != 2 {
				t.Fatalf("closer %+v", h)
			}
		case KindIntent:
			if h.intent != -1 || h.v != 2 {
				t.Fatalf("intent %+v", h)
			}
		case KindRequest, KindAdmin:
			if h.who != nil {
				t.Fatalf("%s with who", h.kind)
			}
		default:
			t.Fatalf("kind %q", h.kind)
		}
		if h.who != nil && !bytes.Contains(e, h.who) {
			t.Fatal("who is not part of the entry")
		}
	})
}

// signedLog appends entries to db as they are (bypassing Record's
// checks) and signs a checkpoint over them; it returns the verifier key.
func signedLog(tb testing.TB, db *store.DB, entries [][]byte) string {
	tb.Helper()
	ctx := context.Background()
	cache := newHashCache(1 << 16)
	st, err := prepareAppend(ctx, db)
	if err != nil {
		tb.Fatal(err)
	}
	defer st.close()
	if len(entries) > 0 {
		base, hashes, err := appendEntries(ctx, db, st, cache, entries, time.Now().Unix())
		if err != nil {
			tb.Fatal(err)
		}
		for j, h := range hashes {
			cache.put(base+int64(j), h)
		}
	}
	return signTree(tb, db, cache)
}

// signTree signs a checkpoint of db's tree with a fresh key and returns
// the verifier key.
func signTree(tb testing.TB, db *store.DB, cache *hashCache) string {
	tb.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "example.com/test")
	if err != nil {
		tb.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		tb.Fatal(err)
	}
	l := &Log{cfg: Config{Now: time.Now}, db: db, cache: cache, sec: &secrets{origin: "example.com/test", signer: signer, vkey: vkey}}
	l.published.Store(-1)
	if _, err := l.Publish(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return vkey
}

// TestVerifyPairing builds logs whose entries pair wrongly (which
// Record refuses to write, so they are appended directly, as someone
// editing the store would) and expects Verify to name the bad index.
func TestVerifyPairing(t *testing.T) {
	key := tenantKey(make([]byte, 32), "acme")
	entry := func(ev *event.Record) []byte {
		e, err := recordEntryOf(ev, time.Now(), key)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	intent := func(req string) []byte {
		return entry(&event.Record{Kind: event.Intent, RequestID: req, Principal: "p", Tenant: "acme"})
	}
	completion := func(req string, idx int64) []byte {
		return entry(&event.Record{Kind: event.Completion, Intent: idx, RequestID: req, Principal: "p", Tenant: "acme", Status: 200})
	}
	aborted := func(req string, idx int64) []byte {
		return entry(&event.Record{Kind: event.Aborted, Intent: idx, RequestID: req, Principal: "p", Tenant: "acme", Error: "x"})
	}
	request := entry(&event.Record{Kind: event.Request, RequestID: "r", Principal: "p", Tenant: "acme", Status: 403})

	// open writes an audit_open row for idx by writer, which is live
	// (heartbeat now) or dead (heartbeat an hour ago).
	type open struct {
		idx  int64
		live bool
	}
	tests := []struct {
		name    string
		entries [][]byte
		open    []open
		wantIdx int64 // -1: verifies
		reason  string
		counts  PairCounts
	}{
		{"paired", [][]byte{intent("a"), request, completion("a", 0), intent("b"), aborted("b", 3)}, nil, -1, "",
			PairCounts{Requests: 1, Intents: 2, Completions: 1, Aborted: 1}},
		{"in flight", [][]byte{intent("a"), intent("b"), completion("b", 1)}, []open{{0, true}}, -1, "",
			PairCounts{Intents: 2, Completions: 1, InFlight: 1}},
		{"completion of a non-intent", [][]byte{request, completion("r", 0)}, nil, 1, "not an intent", PairCounts{}},
		{"completion of a later entry", [][]byte{completion("a", 1), intent("a")}, nil, 0, "not an earlier entry", PairCounts{}},
		{"completion of itself", [][]byte{completion("a", 0)}, nil, 0, "not an earlier entry", PairCounts{}},
		{"double close", [][]byte{intent("a"), completion("a", 0), aborted("a", 0)}, nil, 2, "already closed", PairCounts{}},
		{"double completion", [][]byte{intent("a"), completion("a", 0), request, completion("a", 0)}, nil, 3, "already closed", PairCounts{}},
		{"missing close", [][]byte{intent("a"), request, intent("b"), completion("b", 2)}, nil, 0, "never closed", PairCounts{}},
		{"completion of another request", [][]byte{intent("a"), completion("b", 0)}, nil, 1, "does not repeat", PairCounts{}},
		{"open intent of a dead writer", [][]byte{request, intent("a")}, []open{{1, false}}, 1, "writer is gone", PairCounts{}},
		{"audit_open lists a closed intent", [][]byte{intent("a"), completion("a", 0)}, []open{{0, true}}, 0, "not an open intent", PairCounts{}},
		{"audit_open lists a request", [][]byte{request}, []open{{0, true}}, 0, "not an open intent", PairCounts{}},
		{"not an entry", [][]byte{request, []byte(`{"hello":"world"}`)}, nil, 1, "not a canonical audit entry", PairCounts{}},
		{"first failure wins", [][]byte{intent("a"), request, completion("r", 1)}, nil, 0, "never closed", PairCounts{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db := storetest.Open(t, storetest.DSN(t, store.SQLite))
			vkey := signedLog(t, db, tt.entries)
			for _, o := range tt.open {
				age := int64(0)
				if !o.live {
					age = 3600_000
				}
				w := fmt.Sprintf("writer-%d", o.idx)
				if _, err := db.Read().ExecContext(ctx, "INSERT INTO audit_writers (id, started_at, beat, ttl_ms) VALUES ($1, 0, "+nowMS(db)+" - $2, 30000)", w, age); err != nil {
					t.Fatal(err)
				}
				if _, err := db.Read().ExecContext(ctx, "INSERT INTO audit_open (idx, writer, created_at) VALUES ($1, $2, 0)", o.idx, w); err != nil {
					t.Fatal(err)
				}
			}
			rep, err := Verify(ctx, db, vkey, VerifyOptions{})
			if tt.wantIdx < 0 {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if rep.PairCounts != tt.counts {
					t.Fatalf("counts %+v, want %+v", rep.PairCounts, tt.counts)
				}
				return
			}
			var ve *VerifyError
			if !errors.As(err, &ve) || ve.Index != tt.wantIdx || !strings.Contains(ve.Reason, tt.reason) {
				t.Fatalf("Verify = %v; want entry %d: …%s…", err, tt.wantIdx, tt.reason)
			}
		})
	}
}

// TestVersion1EntriesStillVerify appends the entries of a log written
// before the intent format (testdata/v1-entries.jsonl, made by the
// version 1 code) and checks that Verify and Export accept them beside
// version 2 entries.
func TestVersion1EntriesStillVerify(t *testing.T) {
	ctx := context.Background()
	raw, err := os.ReadFile("testdata/v1-entries.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	entries := bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
	key := tenantKey(make([]byte, 32), "acme")
	base := int64(len(entries))
	for _, ev := range goldenRecords() {
		if ev.Intent >= 0 {
			ev.Intent += base // the golden indexes, shifted past the v1 entries
		}
		e, err := recordEntryOf(ev, time.Now(), key)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
	}
	db := storetest.Open(t, storetest.DSN(t, store.SQLite))
	vkey := signedLog(t, db, entries)
	rep, err := Verify(ctx, db, vkey, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (PairCounts{Requests: 4, Admin: 1, Intents: 2, Completions: 1, Aborted: 1}); rep.PairCounts != want {
		t.Fatalf("counts %+v, want %+v", rep.PairCounts, want)
	}
	for _, format := range []string{FormatJSONL, FormatCEF} {
		var out bytes.Buffer
		n, err := Export(ctx, db, &out, ExportOptions{Format: format})
		if err != nil || n != int64(len(entries)) {
			t.Fatalf("%s: Export = %d, %v", format, n, err)
		}
		if format == FormatCEF && strings.Contains(out.String(), "|unknown|") {
			t.Fatalf("%s: an entry was not recognised:\n%s", format, out.String())
		}
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/auditindex"
	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/store/storetest"
)

// consoleStack is a `warden serve` (runServe, the real path) with the
// console on, and API keys made by `warden apikey create`: admin (role
// admin), auditor (role auditor), norole (no role) and app1, app2 (model
// callers).
type consoleStack struct {
	base    string // http://127.0.0.1:PORT
	cfgPath string
	keys    map[string]string
	logs    *syncBuffer
}

func startConsoleStack(t *testing.T, extra string) *consoleStack {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "warden.yaml")
	cfg := "data_dir: " + filepath.Join(dir, "data") + "\nserver:\n  listen: 127.0.0.1:0\n" + extra
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	st := &consoleStack{cfgPath: cfgPath, keys: map[string]string{}, logs: &syncBuffer{}}
	for _, k := range []struct{ name, roles string }{
		{"admin", "admin"}, {"auditor", "auditor"}, {"norole", ""}, {"app1", ""}, {"app2", ""},
	} {
		args := []string{"create", "--config", cfgPath, "--name", k.name, "--models", "*", "--tenant", "acme"}
		if k.roles != "" {
			args = append(args, "--roles", k.roles)
		}
		code, out, errOut := apikeyRun(t, args...)
		if code != exitOK {
			t.Fatalf("apikey create: %s", errOut)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		st.keys[k.name] = lines[len(lines)-1]
	}
	c := &cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: st.logs, getenv: func(string) string { return "" }}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- runServe(ctx, c, []string{"--config", cfgPath}) }()
	t.Cleanup(func() {
		stop()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop")
		}
	})
	urlRE := regexp.MustCompile(`"url":"(http://[^"]+)/v1"`)
	for deadline := time.Now().Add(15 * time.Second); st.base == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := urlRE.FindStringSubmatch(st.logs.String()); m != nil {
			st.base = m[1]
		}
	}
	if st.base == "" {
		t.Fatalf("serve did not start: %s", st.logs.String())
	}
	return st
}

const consoleOn = "console:\n  enabled: true\n  index_interval: 100ms\n"

// browser is a console user: a cookie jar and the CSRF header on
// changes, as the console app sends them.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (st *consoleStack) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: st.base, c: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

// do sends method path with body (JSON when not nil) and, for changes
// when csrf is set, the CSRF header; it returns the status, the headers
// and the body.
func (b *browser) do(method, path string, body any, csrf bool) (int, http.Header, []byte) {
	b.t.Helper()
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			b.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, b.base+path, rd)
	if err != nil {
		b.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if csrf {
		req.Header.Set("X-Warden-Console", "1")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, out
}

// get GETs an API path and decodes a 200 answer into v.
func (b *browser) get(path string, v any) {
	b.t.Helper()
	code, _, body := b.do("GET", "/console/api/"+path, nil, false)
	if code != 200 {
		b.t.Fatalf("GET %s: %d %s", path, code, body)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			b.t.Fatalf("GET %s: %v in %s", path, err, body)
		}
	}
}

func (b *browser) signIn(key string) (int, []byte) {
	b.t.Helper()
	code, _, body := b.do("POST", "/console/api/session", map[string]string{"api_key": key}, true)
	return code, body
}

// chat sends one chat request to the gateway with key.
func (st *consoleStack) chat(t *testing.T, key, content string) int {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"model": "gpt-4o-mini", "messages": []map[string]string{{"role": "user", "content": content}}})
	req, _ := http.NewRequest("POST", st.base+"/v1/chat/completions", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

type entryRow struct {
	Index     int64          `json:"index"`
	Kind      string         `json:"kind"`
	Principal string         `json:"principal"`
	Model     string         `json:"model"`
	Decision  string         `json:"decision"`
	Status    int            `json:"status"`
	Error     string         `json:"error"`
	Action    string         `json:"action"`
	Findings  map[string]int `json:"findings"`
}

type entryPage struct {
	Entries []entryRow `json:"entries"`
	Next    *int64     `json:"next"`
}

// waitEntries polls entries?query until it lists at least n entries.
func (b *browser) waitEntries(query string, n int) entryPage {
	b.t.Helper()
	var p entryPage
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		b.get("entries?"+query, &p)
		if len(p.Entries) >= n {
			return p
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("entries?%s: %d entries, want %d", query, len(p.Entries), n)
		}
	}
}

func TestConsoleIsOffByDefault(t *testing.T) {
	st := startConsoleStack(t, "")
	b := st.browser(t)
	for _, p := range []string{"/console/", "/console/api/session", "/console/api/entries"} {
		if code, _, _ := b.do("GET", p, nil, false); code != http.StatusNotFound {
			t.Errorf("GET %s: %d with the console off, want 404", p, code)
		}
	}
	if code, _ := b.signIn(st.keys["admin"]); code != http.StatusNotFound {
		t.Errorf("sign-in: %d with the console off, want 404", code)
	}
}

func TestConsoleSignIn(t *testing.T) {
	st := startConsoleStack(t, consoleOn)
	b := st.browser(t)
	if code, _, _ := b.do("GET", "/console/api/session", nil, false); code != http.StatusUnauthorized {
		t.Fatalf("whoami before sign-in: %d", code)
	}
	// A wrong key, a malformed one, and a key without a console role.
	wrong := st.keys["admin"][:len(st.keys["admin"])-4] + "AAAA"
	for _, c := range []struct {
		key  string
		want int
	}{{wrong, 401}, {"not-a-key", 401}, {st.keys["norole"], 403}, {st.keys["app1"], 403}} {
		code, body := b.signIn(c.key)
		if code != c.want || strings.Contains(string(body), c.key) {
			t.Errorf("sign-in: %d %s, want %d", code, body, c.want)
		}
	}
	if code, _, _ := b.do("GET", "/console/api/entries", nil, false); code != http.StatusUnauthorized {
		t.Fatalf("entries after refused sign-ins: %d", code)
	}

	req, _ := http.NewRequest("POST", st.base+"/console/api/session", strings.NewReader(`{"api_key":"`+st.keys["admin"]+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Warden-Console", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ck := resp.Header.Get("Set-Cookie")
	if resp.StatusCode != 200 || !strings.HasPrefix(ck, "warden_console=") || !strings.Contains(ck, "HttpOnly") ||
		!strings.Contains(ck, "SameSite=Strict") || !strings.Contains(ck, "Path=/console") || strings.Contains(ck, st.keys["admin"]) {
		t.Fatalf("sign-in: %d, cookie %q", resp.StatusCode, ck)
	}

	code, body := b.signIn(st.keys["admin"])
	var who struct {
		Principal, Tenant string
		Roles             []string
	}
	if code != 200 || json.Unmarshal(body, &who) != nil || who.Principal != "admin" || who.Tenant != "acme" || len(who.Roles) != 1 || who.Roles[0] != "admin" {
		t.Fatalf("sign-in: %d %s", code, body)
	}
	b.get("session", &who)
	if who.Principal != "admin" {
		t.Fatalf("whoami %+v", who)
	}
	// Signing out ends the session for good.
	if code, _, body := b.do("DELETE", "/console/api/session", nil, true); code != 200 {
		t.Fatalf("sign-out: %d %s", code, body)
	}
	if code, _, _ := b.do("GET", "/console/api/session", nil, false); code != http.StatusUnauthorized {
		t.Fatalf("whoami after sign-out: %d", code)
	}
}

// A session ends when its key is revoked, by the CLI or the console.
func TestConsoleSessionEndsWhenItsKeyIsRevoked(t *testing.T) {
	st := startConsoleStack(t, consoleOn)
	admin, auditor := st.browser(t), st.browser(t)
	admin.signIn(st.keys["admin"])
	if code, body := auditor.signIn(st.keys["auditor"]); code != 200 {
		t.Fatalf("auditor sign-in: %d %s", code, body)
	}
	var keys struct {
		APIKeys []struct{ ID, Name, State string } `json:"api_keys"`
	}
	admin.get("keys", &keys)
	id := ""
	for _, k := range keys.APIKeys {
		if k.Name == "auditor" {
			id = k.ID
		}
	}
	if code, _, body := admin.do("POST", "/console/api/keys/"+id+"/revoke", nil, true); code != 200 || !strings.Contains(string(body), `"revoked"`) {
		t.Fatalf("revoke: %d %s", code, body)
	}
	if code, _, _ := auditor.do("GET", "/console/api/entries", nil, false); code != http.StatusUnauthorized {
		t.Fatalf("a revoked key's session still reads: %d", code)
	}
}

func TestConsoleAuditorCannotChangeAnything(t *testing.T) {
	st := startConsoleStack(t, consoleOn)
	b := st.browser(t)
	if code, body := b.signIn(st.keys["auditor"]); code != 200 {
		t.Fatalf("sign-in: %d %s", code, body)
	}
	b.get("entries", nil)
	b.get("keys", nil)
	var keys struct {
		APIKeys []struct{ ID string } `json:"api_keys"`
	}
	b.get("keys", &keys)
	for _, c := range []struct {
		path string
		body any
	}{
		{"/console/api/keys", map[string]any{"name": "sneaky", "models": []string{"*"}, "roles": []string{"admin"}}},
		{"/console/api/keys/" + keys.APIKeys[0].ID + "/revoke", nil},
		{"/console/api/kek/rotate", nil},
		{"/console/api/tenants/acme/shred", map[string]string{"confirm": "acme"}},
	} {
		if code, _, body := b.do("POST", c.path, c.body, true); code != http.StatusForbidden {
			t.Errorf("auditor POST %s: %d %s, want 403", c.path, code, body)
		}
	}
	var after struct {
		APIKeys []struct{ Name, State string } `json:"api_keys"`
		KEK     struct{ Current int }
	}
	b.get("keys", &after)
	for _, k := range after.APIKeys {
		if k.Name == "sneaky" || k.State != "active" {
			t.Fatalf("an auditor's request changed the keys: %+v", after.APIKeys)
		}
	}
	if after.KEK.Current != 1 {
		t.Fatalf("an auditor rotated the KEK: %d", after.KEK.Current)
	}
}

// A cross-site request riding the admin's cookie (a form post, a fetch
// without the console's header, another origin) changes nothing.
func TestConsoleCrossSiteRequestForgeryIsRefused(t *testing.T) {
	st := startConsoleStack(t, consoleOn)
	b := st.browser(t)
	b.signIn(st.keys["admin"])
	spec := map[string]any{"name": "forged", "models": []string{"*"}}
	if code, _, body := b.do("POST", "/console/api/keys", spec, false); code != http.StatusForbidden {
		t.Fatalf("POST keys without the CSRF header: %d %s", code, body)
	}
	if code, _, _ := b.do("POST", "/console/api/kek/rotate", nil, false); code != http.StatusForbidden {
		t.Fatalf("rotate without the CSRF header: %d", code)
	}
	// A form post (text/plain body) with the header still is refused.
	req, _ := http.NewRequest("POST", st.base+"/console/api/keys", strings.NewReader(`{"name":"forged","models":["*"]}`))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("X-Warden-Console", "1")
	if resp, err := b.c.Do(req); err != nil || resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("text/plain body: %v %v", resp.StatusCode, err)
	}
	// Another origin.
	j, _ := json.Marshal(spec)
	req, _ = http.NewRequest("POST", st.base+"/console/api/keys", bytes.NewReader(j))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Warden-Console", "1")
	req.Header.Set("Origin", "https://evil.example")
	if resp, err := b.c.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin POST: %v %v", resp.StatusCode, err)
	}
	var keys struct {
		APIKeys []struct{ Name string } `json:"api_keys"`
		KEK     struct{ Current int }
	}
	b.get("keys", &keys)
	for _, k := range keys.APIKeys {
		if k.Name == "forged" {
			t.Fatal("a forged request created a key")
		}
	}
	if keys.KEK.Current != 1 {
		t.Fatal("a forged request rotated the KEK")
	}
}

func TestConsoleEntriesFilterAndPaginate(t *testing.T) {
	st := startConsoleStack(t, consoleOn)
	for i := range 12 {
		st.chat(t, st.keys["app1"], "hello "+strconv.Itoa(i)+" from mail jane.doe@example.com")
		if i%3 == 0 {
			st.chat(t, st.keys["app2"], "hi")
		}
	}
	// A credential in the prompt: refused before any upstream call.
	if code := st.chat(t, st.keys["app2"], "my key is AKIAIOSFODNN7EXAMPL3"); code != 400 && code != 403 {
		t.Fatalf("a credential was let through: %d", code)
	}
	b := st.browser(t)
	b.signIn(st.keys["auditor"])
	b.waitEntries("principal=app1&kind=completion", 12)

	var got []int64
	before := ""
	for pages := 0; ; pages++ {
		var p entryPage
		b.get("entries?principal=app1&kind=intent&limit=5"+before, &p)
		if pages < 2 && len(p.Entries) != 5 {
			t.Fatalf("page %d has %d entries", pages, len(p.Entries))
		}
		for _, e := range p.Entries {
			if e.Principal != "app1" || e.Kind != "intent" || e.Model != "gpt-4o-mini" || e.Findings["EMAIL_ADDRESS"] != 1 {
				t.Fatalf("filter let through %+v", e)
			}
			if len(got) > 0 && e.Index >= got[len(got)-1] {
				t.Fatalf("not newest first: %v then %d", got, e.Index)
			}
			got = append(got, e.Index)
		}
		if p.Next == nil {
			break
		}
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		before = "&before=" + strconv.FormatInt(*p.Next, 10)
	}
	if len(got) != 12 {
		t.Fatalf("%d intents of app1 over the pages, want 12", len(got))
	}
	var denied entryPage
	b.get("entries?decision=deny", &denied)
	if len(denied.Entries) != 1 || denied.Entries[0].Principal != "app2" || denied.Entries[0].Kind != "request" ||
		denied.Entries[0].Error == "" || denied.Entries[0].Findings["AWS_ACCESS_KEY"] != 1 {
		t.Fatalf("denied entries %+v", denied.Entries)
	}
	var byStatus entryPage
	b.get("entries?status="+strconv.Itoa(denied.Entries[0].Status)+"&principal=app2", &byStatus)
	if len(byStatus.Entries) != 1 {
		t.Fatalf("status filter: %+v", byStatus.Entries)
	}
	var none entryPage
	b.get("entries?since="+url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339)), &none)
	if len(none.Entries) != 0 {
		t.Fatalf("entries from the future: %+v", none.Entries)
	}
	for _, q := range []string{"limit=0", "limit=100000", "before=-1", "status=abc", "since=yesterday", "principal=" + strings.Repeat("x", 300)} {
		if code, _, body := b.do("GET", "/console/api/entries?"+q, nil, false); code != http.StatusBadRequest || strings.Contains(string(body), "yesterday") {
			t.Errorf("entries?%s: %d %s, want 400", q[:min(len(q), 20)], code, body)
		}
	}

	var o struct {
		Totals             struct{ Requests, Refusals, Findings int64 }
		FindingsByCategory map[string]int64 `json:"findings_by_category"`
		RefusalsByReason   map[string]int64 `json:"refusals_by_reason"`
		Log                struct{ Size, CheckpointSize, Indexed int64 }
	}
	b.get("overview", &o)
	if o.Totals.Requests != 17 || o.Totals.Refusals != 1 || o.FindingsByCategory["PII"] != 12 || o.FindingsByCategory["SECRET"] != 1 || len(o.RefusalsByReason) != 1 {
		t.Fatalf("overview %+v", o)
	}
	var flows struct {
		Links []struct {
			Principal, Category, Model, Zone string
			Count                            int64
		}
	}
	b.get("flows", &flows)
	// app1 sent an e-mail address to the model twelve times, app2 sent
	// nothing sensitive four times (its credential never left).
	if len(flows.Links) != 2 || flows.Links[0].Principal != "app1" || flows.Links[0].Category != "PII" || flows.Links[0].Count != 12 || flows.Links[0].Zone != "cloud" ||
		flows.Links[1].Principal != "app2" || flows.Links[1].Category != "" || flows.Links[1].Count != 4 {
		t.Fatalf("flows %+v", flows.Links)
	}
}

// The inclusion proof an entry page answers verifies with
// golang.org/x/mod/sumdb/tlog and note alone against the signed
// checkpoint, under the key `warden audit key` prints; a tampered entry
// or proof does not.
func TestConsoleEntryProofVerifiesAgainstTheCheckpoint(t *testing.T) {
	st := startConsoleStack(t, consoleOn)
	st.chat(t, st.keys["app1"], "hello")
	b := st.browser(t)
	b.signIn(st.keys["admin"])
	p := b.waitEntries("kind=intent", 1)
	idx := p.Entries[0].Index

	var ent struct {
		Entry    json.RawMessage `json:"entry"`
		EntryB64 string          `json:"entry_b64"`
		Proof    struct {
			Index    int64    `json:"index"`
			TreeSize int64    `json:"tree_size"`
			Hashes   []string `json:"hashes"`
		} `json:"proof"`
		Checkpoint  string `json:"checkpoint"`
		VerifierKey string `json:"verifier_key"`
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		code, _, body := b.do("GET", "/console/api/entries/"+strconv.FormatInt(idx, 10), nil, false)
		if code == 200 {
			if err := json.Unmarshal(body, &ent); err != nil {
				t.Fatal(err)
			}
			break
		}
		if code != 404 || !strings.Contains(string(body), "not_signed_yet") || time.Now().After(deadline) {
			t.Fatalf("entry: %d %s", code, body)
		}
	}
	var out, errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	if code := runAudit(context.Background(), c, []string{"key", "--config", st.cfgPath}); code != exitOK {
		t.Fatalf("audit key: %s", errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if vk := lines[len(lines)-1]; vk != ent.VerifierKey {
		t.Fatalf("verifier key %q, `warden audit key` says %q", ent.VerifierKey, vk)
	}

	verifier, err := note.NewVerifier(ent.VerifierKey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open([]byte(ent.Checkpoint), note.VerifierList(verifier))
	if err != nil {
		t.Fatalf("checkpoint signature: %v", err)
	}
	lines = strings.Split(n.Text, "\n")
	size, _ := strconv.ParseInt(lines[1], 10, 64)
	rootB, _ := base64.StdEncoding.DecodeString(lines[2])
	var root tlog.Hash
	copy(root[:], rootB)
	entry, _ := base64.StdEncoding.DecodeString(ent.EntryB64)
	var compact bytes.Buffer
	json.Compact(&compact, ent.Entry)
	if !bytes.Equal(compact.Bytes(), entry) || !bytes.Contains(entry, []byte(`"kind":"intent"`)) {
		t.Fatalf("entry and entry_b64 differ: %s / %s", ent.Entry, entry)
	}
	proof := make(tlog.RecordProof, len(ent.Proof.Hashes))
	for i, h := range ent.Proof.Hashes {
		b, _ := base64.StdEncoding.DecodeString(h)
		copy(proof[i][:], b)
	}
	if ent.Proof.Index != idx || ent.Proof.TreeSize != size {
		t.Fatalf("proof for %d in %d, checkpoint of %d", ent.Proof.Index, ent.Proof.TreeSize, size)
	}
	if err := tlog.CheckRecord(proof, size, root, idx, tlog.RecordHash(entry)); err != nil {
		t.Fatalf("inclusion proof does not verify: %v", err)
	}
	tampered := bytes.Replace(entry, []byte(`"app1"`), []byte(`"app2"`), 1)
	if tlog.CheckRecord(proof, size, root, idx, tlog.RecordHash(tampered)) == nil {
		t.Fatal("a tampered entry verifies")
	}
	for i := range proof {
		bad := append(tlog.RecordProof(nil), proof...)
		bad[i][0] ^= 1
		if tlog.CheckRecord(bad, size, root, idx, tlog.RecordHash(entry)) == nil {
			t.Fatalf("a proof with hash %d flipped verifies", i)
		}
	}

	// Consistency between the oldest checkpoint and the newest.
	st.chat(t, st.keys["app2"], "more")
	time.Sleep(1100 * time.Millisecond) // a checkpoint of the larger tree
	var cons struct {
		From, To struct {
			Size       int64
			Checkpoint string
		}
		Hashes []string
	}
	b.get("consistency", &cons)
	rootOf := func(cp string) (int64, tlog.Hash) {
		n, err := note.Open([]byte(cp), note.VerifierList(verifier))
		if err != nil {
			t.Fatalf("checkpoint signature: %v", err)
		}
		l := strings.Split(n.Text, "\n")
		s, _ := strconv.ParseInt(l[1], 10, 64)
		r, _ := base64.StdEncoding.DecodeString(l[2])
		var h tlog.Hash
		copy(h[:], r)
		return s, h
	}
	fs, fr := rootOf(cons.From.Checkpoint)
	ts, tr := rootOf(cons.To.Checkpoint)
	if fs != cons.From.Size || ts != cons.To.Size || fs >= ts {
		t.Fatalf("consistency from %d to %d", fs, ts)
	}
	tp := make(tlog.TreeProof, len(cons.Hashes))
	for i, h := range cons.Hashes {
		b, _ := base64.StdEncoding.DecodeString(h)
		copy(tp[i][:], b)
	}
	if err := tlog.CheckTree(tp, ts, tr, fs, fr); err != nil {
		t.Fatalf("consistency proof does not verify: %v", err)
	}
}

// Every read of audit data is an entry of its own, naming the page and
// the filters used, never their values.
func TestConsolePageViewIsAudited(t *testing.T) {
	st := startConsoleStack(t, consoleOn)
	b := st.browser(t)
	b.signIn(st.keys["auditor"])
	const secretFilter = "looked-for-principal-7731"
	b.get("entries?principal="+secretFilter+"&model=gpt-4o-mini", nil)
	p := b.waitEntries("action=console.view&principal=auditor", 1)
	view := p.Entries[len(p.Entries)-1]
	var ent struct {
		EntryB64 string `json:"entry_b64"`
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		code, _, body := b.do("GET", "/console/api/entries/"+strconv.FormatInt(view.Index, 10), nil, false)
		if code == 200 {
			json.Unmarshal(body, &ent)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("entry: %d %s", code, body)
		}
	}
	raw, _ := base64.StdEncoding.DecodeString(ent.EntryB64)
	if !strings.Contains(string(raw), `"action":"console.view"`) || !strings.Contains(string(raw), `"actor":"auditor"`) ||
		!strings.Contains(string(raw), `"filters":"model,principal"`) || !strings.Contains(string(raw), `"page":"entries"`) {
		t.Fatalf("view entry %s", raw)
	}
	if strings.Contains(string(raw), secretFilter) || strings.Contains(string(raw), "gpt-4o-mini") {
		t.Fatalf("a filter's value is in the log: %s", raw)
	}
	// Overview, flows and consistency views are recorded too.
	b.get("overview", nil)
	b.get("flows", nil)
	b.waitEntries("action=console.view&principal=auditor", 4)
}

// A key made in the console works on the model API at once; revoking
// it in the console stops it at once; both acts are in the log as the
// CLI writes them.
func TestConsoleKeyCreatedWorksAndRevokeStopsIt(t *testing.T) {
	st := startConsoleStack(t, consoleOn)
	b := st.browser(t)
	b.signIn(st.keys["admin"])
	code, _, body := b.do("POST", "/console/api/keys", map[string]any{"name": "fresh", "tenant": "acme", "models": []string{"gpt-4o-mini"}, "expires_in": "24h"}, true)
	var made struct{ ID, Key string }
	if code != 200 || json.Unmarshal(body, &made) != nil || !strings.HasPrefix(made.Key, "wdn_") {
		t.Fatalf("create: %d %s", code, body)
	}
	if code := st.chat(t, made.Key, "hello jane@example.com"); code != 200 { // tokenized: tenant acme has vault keys
		t.Fatalf("the new key on /v1: %d", code)
	}
	var keys struct {
		APIKeys []struct {
			ID, Name, State string
			ExpiresAt       *string `json:"expires_at"`
		} `json:"api_keys"`
	}
	b.get("keys", &keys)
	found := false
	for _, k := range keys.APIKeys {
		if k.ID == made.ID {
			found = k.Name == "fresh" && k.State == "active" && k.ExpiresAt != nil
		}
	}
	_, _, listed := b.do("GET", "/console/api/keys", nil, false)
	if !found || strings.Contains(string(listed), made.Key) || strings.Contains(string(listed), made.Key[len(made.Key)-43:]) {
		t.Fatalf("keys list: %s", listed)
	}
	if code, _, body := b.do("POST", "/console/api/keys", map[string]any{"name": "bad name!", "models": []string{"*"}}, true); code != 400 {
		t.Fatalf("a bad name: %d %s", code, body)
	}
	if code, _, body := b.do("POST", "/console/api/keys/"+made.ID+"/revoke", nil, true); code != 200 {
		t.Fatalf("revoke: %d %s", code, body)
	}
	if code := st.chat(t, made.Key, "hello"); code != http.StatusUnauthorized {
		t.Fatalf("the revoked key on /v1: %d", code)
	}
	if code, _, _ := b.do("POST", "/console/api/keys/"+made.ID+"/revoke", nil, true); code != http.StatusNotFound {
		t.Fatalf("revoking twice: %d", code)
	}
	var rot struct{ Current int }
	if code, _, body := b.do("POST", "/console/api/kek/rotate", nil, true); code != 200 || json.Unmarshal(body, &rot) != nil || rot.Current != 2 {
		t.Fatalf("rotate: %d %s", code, body)
	}
	if code, _, _ := b.do("POST", "/console/api/tenants/acme/shred", map[string]string{"confirm": "acm"}, true); code != http.StatusBadRequest {
		t.Fatalf("shred with a wrong confirmation: %d", code)
	}
	if code, _, body := b.do("POST", "/console/api/tenants/acme/shred", map[string]string{"confirm": "acme"}, true); code != 200 {
		t.Fatalf("shred: %d %s", code, body)
	}
	for _, action := range []string{"apikey.create", "apikey.revoke", "keys.rotate", "vault.shred"} {
		p := b.waitEntries("action="+action+"&principal=console:admin", 1)
		if p.Entries[0].Action != action {
			t.Fatalf("%s entry %+v", action, p.Entries[0])
		}
	}
}

func TestConsoleSecurityHeaders(t *testing.T) {
	st := startConsoleStack(t, consoleOn)
	b := st.browser(t)
	check := func(path string, api bool) {
		t.Helper()
		code, h, _ := b.do("GET", path, nil, false)
		if code == http.StatusMovedPermanently {
			t.Fatalf("%s redirected", path)
		}
		if got := h.Get("Content-Security-Policy"); got != "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'" {
			t.Errorf("%s: CSP %q", path, got)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: headers %v", path, h)
		}
		if api && h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", path, h.Get("Cache-Control"))
		}
	}
	check("/console/", false)
	check("/console/audit/entry/5", false) // the app's own route: index.html
	check("/console/api/session", true)    // 401
	check("/console/api/nothing", true)    // 404
	b.signIn(st.keys["admin"])
	for _, p := range []string{"entries", "overview", "flows", "keys", "policy", "models", "alerts", "checkpoints"} {
		check("/console/api/"+p, true)
	}
	code, h, body := b.do("GET", "/console/some/page", nil, false)
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !bytes.Contains(body, []byte("<html")) {
		t.Fatalf("SPA fallback: %d %s", code, h.Get("Content-Type"))
	}
	if code, _, _ := b.do("GET", "/console/../../etc/passwd", nil, false); code != 200 && code != 404 && code != 301 {
		t.Fatalf("path escape: %d", code)
	}
}

// Values callers send (an e-mail, a card, an SSN, a name) never appear
// in any answer of the console API, whatever page reads them.
func TestConsoleNeverShowsPromptValues(t *testing.T) {
	st := startConsoleStack(t, consoleOn)
	canaries := []string{"jane.canary@example.com", "4111 1111 1111 1111", "4111111111111111", "457-55-5462", "Zebulon Quartermaine", "sk-canary"}
	prompt := "Email jane.canary@example.com, card 4111 1111 1111 1111, SSN 457-55-5462, I am Zebulon Quartermaine."
	if code := st.chat(t, st.keys["app1"], prompt); code != 200 {
		t.Fatalf("chat: %d", code)
	}
	st.chat(t, st.keys["app2"], "my key is AKIAIOSFODNN7EXAMPL3 and "+prompt)
	b := st.browser(t)
	b.signIn(st.keys["admin"])
	all := b.waitEntries("limit=500", 5)
	time.Sleep(1100 * time.Millisecond) // the entries are signed
	var bodies [][]byte
	read := func(path string) {
		code, _, body := b.do("GET", "/console/api/"+path, nil, false)
		if code != 200 {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		bodies = append(bodies, body)
	}
	for _, p := range []string{"session", "overview", "flows", "entries?limit=500", "consistency", "checkpoints", "keys", "policy", "models", "alerts"} {
		read(p)
	}
	for _, e := range all.Entries {
		read("entries/" + strconv.FormatInt(e.Index, 10))
	}
	code, _, body := b.do("POST", "/console/api/policy/test", map[string]any{
		"request": map[string]any{"model": "gpt-4o-mini", "messages": []map[string]string{{"role": "user", "content": prompt}}},
	}, true)
	if code != 200 || !bytes.Contains(body, []byte("EMAIL_ADDRESS")) {
		t.Fatalf("policy test: %d %s", code, body)
	}
	bodies = append(bodies, body)
	for _, body := range bodies {
		dec := string(body)
		// entry_b64 is decoded too: the canonical entries must hold no value either.
		for _, m := range regexp.MustCompile(`"entry_b64":"([^"]+)"`).FindAllStringSubmatch(dec, -1) {
			raw, _ := base64.StdEncoding.DecodeString(m[1])
			dec += string(raw)
		}
		for _, c := range canaries {
			if strings.Contains(dec, c) {
				t.Fatalf("canary %q in a console answer: %s", c, body[:min(len(body), 300)])
			}
		}
	}
	if logs := st.logs.String(); strings.Contains(logs, "jane.canary") || strings.Contains(logs, "457-55-5462") {
		t.Fatal("a canary reached the server log")
	}
}

// The console on a PostgreSQL store: sessions, the index and proofs
// work as on SQLite (WARDEN_TEST_POSTGRES; skipped without it).
func TestConsoleOnPostgres(t *testing.T) {
	dsn := storetest.DSN(t, store.Postgres)
	st := startConsoleStack(t, "store: "+yamlQuote(dsn)+"\n"+consoleOn)
	st.chat(t, st.keys["app1"], "mail jane.doe@example.com")
	b := st.browser(t)
	if code, body := b.signIn(st.keys["admin"]); code != 200 {
		t.Fatalf("sign-in: %d %s", code, body)
	}
	p := b.waitEntries("principal=app1&kind=intent", 1)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		code, _, body := b.do("GET", "/console/api/entries/"+strconv.FormatInt(p.Entries[0].Index, 10), nil, false)
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("entry: %d %s", code, body)
		}
	}
	var o struct{ Totals struct{ Requests int64 } }
	b.get("overview", &o)
	if o.Totals.Requests != 1 {
		t.Fatalf("overview %+v", o)
	}
	if code, _, _ := b.do("DELETE", "/console/api/session", nil, true); code != 200 {
		t.Fatal("sign-out")
	}
	if code, _, _ := b.do("GET", "/console/api/entries", nil, false); code != http.StatusUnauthorized {
		t.Fatalf("after sign-out: %d", code)
	}
}

// `warden audit index` catches up a log a gateway wrote with the
// console off, and --rebuild indexes it all again, with progress.
func TestAuditIndexCommand(t *testing.T) {
	st := startConsoleStack(t, "")
	for range 3 {
		st.chat(t, st.keys["app1"], "mail jane.doe@example.com")
	}
	run := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
		if code := runAudit(context.Background(), c, append([]string{"index", "--config", st.cfgPath}, args...)); code != exitOK {
			t.Fatalf("audit index %v: %d %s", args, code, errb.String())
		}
		return errb.String()
	}
	// 5 apikey.create entries, then 3 intents and 3 completions.
	for _, args := range [][]string{nil, {"--rebuild"}} {
		out := run(args...)
		if !regexp.MustCompile(`indexed 11 of 11 entries`).MatchString(out) || !strings.Contains(out, "up to date") {
			t.Fatalf("audit index %v: %s", args, out)
		}
	}
	cfg, err := loadConfig(st.cfgPath, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	db, err := openStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	idx, _ := newAuditIndex(cfg, db)
	w, _ := auditindex.NewWindow(time.Now().Add(-time.Hour), time.Now().Add(time.Hour), time.Hour)
	o, err := idx.Overview(context.Background(), w)
	if err != nil || o.Totals.Requests != 3 || o.FindingsByCategory["PII"] != 3 {
		t.Fatalf("overview after rebuild: %+v %v", o, err)
	}
	var errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &errb, getenv: func(string) string { return "" }}
	if code := runAudit(context.Background(), c, []string{"index", "--config", st.cfgPath, "extra"}); code != exitUsage {
		t.Fatalf("an extra argument: %d", code)
	}
}

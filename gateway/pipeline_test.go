package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardenhq/warden/audit/event"
	"github.com/wardenhq/warden/gateway"
	"github.com/wardenhq/warden/internal/standin"
	"github.com/wardenhq/warden/ratelimit"
	"github.com/wardenhq/warden/transform"
)

// memAuditor keeps the records it is given; fail, when set, decides
// which kinds fail to be written.
type memAuditor struct {
	mu   sync.Mutex
	recs []event.Record
	fail func(event.Kind) bool
}

func (a *memAuditor) Record(_ context.Context, r *event.Record) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil && a.fail(r.Kind) {
		return -1, errors.New("audit store down")
	}
	c := *r
	c.Findings = clone(r.Findings)
	a.recs = append(a.recs, c)
	return int64(len(a.recs) - 1), nil
}

func clone(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (a *memAuditor) all() []event.Record {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]event.Record(nil), a.recs...)
}

// countingUpstream counts the requests it gets and answers with h.
type countingUpstream struct {
	n atomic.Int32
	h http.Handler
}

func (c *countingUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.n.Add(1)
	c.h.ServeHTTP(w, r)
}

func do(t *testing.T, srv string, path, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", srv+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

const hello = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello there"}]}`

// Every refusal is an audit entry — the ones a security team wants most
// — with the error code and no credential, prompt or unknown model name.
func TestEveryRefusalIsAudited(t *testing.T) {
	aud := &memAuditor{}
	up := &countingUpstream{h: standin.New(standin.Options{})}
	failing := &countingUpstream{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, `{"error":{"message":"bad gateway","type":"api_error"}}`)
	})}
	srv := newTestGateway(t, gateway.Config{
		Upstreams: []*gateway.Upstream{
			{Name: "standin", URL: upstreamURL(t, up), Models: []string{"gpt-4o-mini", "gpt-4o"}},
			{Name: "broken", URL: upstreamURL(t, failing), Models: []string{"broken-model"}},
		},
		PrincipalLimits: map[string]ratelimit.Limit{"limited": {Requests: 1, Per: time.Minute}},
	}, gateway.Deps{Auditor: aud, Limiter: ratelimit.NewMemory(nil), Auth: gateway.AuthenticatorFunc(func(r *http.Request) (*gateway.Principal, error) {
		switch r.Header.Get("Authorization") {
		case "Bearer good":
			return &gateway.Principal{Name: "alice", Tenant: "acme", Models: []string{"gpt-4o-mini", "broken-model"}}, nil
		case "Bearer limited":
			return &gateway.Principal{Name: "limited", Tenant: "acme", Models: []string{"*"}}, nil
		}
		return nil, gateway.ErrUnauthenticated
	})})
	good := map[string]string{"Authorization": "Bearer good"}
	do(t, srv.URL, "/v1/chat/completions", hello, map[string]string{"Authorization": "Bearer limited"})
	cases := []struct {
		name, body string
		hdr        map[string]string
		status     int
		code       string
	}{
		{"bad key", hello, map[string]string{"Authorization": "Bearer wdn_bad_secret_value"}, 401, "invalid_api_key"},
		{"unknown model", `{"model":"jane.canary@example.com","messages":[]}`, good, 404, "model_not_found"},
		{"model not allowed", `{"model":"gpt-4o","messages":[]}`, good, 403, "model_not_allowed"},
		{"rate limited", hello, map[string]string{"Authorization": "Bearer limited"}, 429, "rate_limited"},
		{"policy denial", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"key AKIAZ7QW3ERTY5UIOP2A"}]}`, good, 400, "policy_denied"},
		{"bad JSON", `{"model":"gpt-4o-mini",`, good, 400, "invalid_json"},
		{"upstream failure", `{"model":"broken-model","messages":[{"role":"user","content":"hi"}]}`, good, 502, "upstream_502"},
	}
	for _, c := range cases {
		before := len(aud.all())
		resp, body := do(t, srv.URL, "/v1/chat/completions", c.body, c.hdr)
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, resp.StatusCode, c.status, body)
			continue
		}
		recs := aud.all()[before:]
		if len(recs) == 0 {
			t.Errorf("%s: no audit entry", c.name)
			continue
		}
		last := recs[len(recs)-1]
		if last.Status != c.status || last.Error != c.code {
			t.Errorf("%s: entry status %d error %q, want %d %q", c.name, last.Status, last.Error, c.status, c.code)
		}
		if idx := resp.Header.Get("Warden-Audit-Index"); idx == "" {
			t.Errorf("%s: no Warden-Audit-Index on the refusal", c.name)
		}
		if c.status == 401 && (last.Principal != event.Unauthenticated || last.Credential != "apikey") {
			t.Errorf("%s: principal %q credential %q", c.name, last.Principal, last.Credential)
		}
		if c.code == "model_not_found" && last.Model != event.UnknownModel {
			t.Errorf("%s: the unknown model was recorded as %q", c.name, last.Model)
		}
	}
	for _, r := range aud.all() {
		all := r.Principal + r.Credential + r.Model + strings.Join(r.Reasons, " ") + string(r.RequestBody)
		for _, c := range []string{"wdn_bad_secret_value", "jane.canary", "AKIAZ7QW3ERTY5UIOP2A"} {
			if strings.Contains(all, c) {
				t.Errorf("an audit record holds %q", c)
			}
		}
	}
}

// Write-ahead: with the audit log down, nothing is sent upstream.
func TestNothingReachesTheUpstreamWhenTheIntentCannotBeWritten(t *testing.T) {
	up := &countingUpstream{h: standin.New(standin.Options{})}
	aud := &memAuditor{fail: func(k event.Kind) bool { return true }}
	srv := newTestGateway(t, gateway.Config{Upstreams: []*gateway.Upstream{{Name: "u", URL: upstreamURL(t, up), Models: []string{"*"}}}},
		gateway.Deps{Auditor: aud})
	for _, stream := range []string{"false", "true"} {
		body := `{"model":"m","stream":` + stream + `,"messages":[{"role":"user","content":"hi"}]}`
		resp, out := do(t, srv.URL, "/v1/chat/completions", body, nil)
		if resp.StatusCode != 503 || !strings.Contains(out, "audit_unavailable") || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("stream=%s: %d %s", stream, resp.StatusCode, out)
		}
	}
	if n := up.n.Load(); n != 0 {
		t.Fatalf("the upstream got %d requests with the audit log down", n)
	}
}

// Write-ahead: a request that reaches an upstream has an intent, written
// before the call, and a completion that names it.
func TestIntentAndCompletionPairUp(t *testing.T) {
	aud := &memAuditor{}
	var sawIntent atomic.Bool
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, rec := range aud.all() {
			if rec.Kind == event.Intent {
				sawIntent.Store(true)
			}
		}
		standin.New(standin.Options{}).ServeHTTP(w, r)
	})
	srv := newTestGateway(t, gateway.Config{Upstreams: []*gateway.Upstream{{Name: "u", URL: upstreamURL(t, up), Models: []string{"*"}}}},
		gateway.Deps{Auditor: aud})
	resp, out := do(t, srv.URL, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"mail jane.canary@example.com"}]}`, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
	if !sawIntent.Load() {
		t.Fatal("the upstream was called before the intent was written")
	}
	recs := aud.all()
	if len(recs) != 2 || recs[0].Kind != event.Intent || recs[1].Kind != event.Completion || recs[1].Intent != 0 {
		t.Fatalf("records: %+v", recs)
	}
	if recs[0].Findings["EMAIL_ADDRESS"] != 1 || len(recs[0].RequestBody) == 0 || recs[1].Status != 200 || len(recs[1].ResponseBody) == 0 {
		t.Fatalf("intent %+v completion %+v", recs[0], recs[1])
	}
	if got := resp.Header.Get("Warden-Audit-Index"); got != "1" {
		t.Fatalf("Warden-Audit-Index = %q, want the completion's 1", got)
	}
}

// A stream's terminal event waits for the completion entry; when that
// cannot be written the stream ends with the API's error event instead.
func TestStreamEndsWithAnErrorEventWhenTheCompletionCannotBeWritten(t *testing.T) {
	aud := &memAuditor{fail: func(k event.Kind) bool { return k == event.Completion }}
	srv := newTestGateway(t, gateway.Config{Upstreams: []*gateway.Upstream{{Name: "u", URL: upstreamURL(t, standin.New(standin.Options{})),
		Models: []string{"*"}}}}, gateway.Deps{Auditor: aud})
	for _, c := range []struct{ path, body, terminal string }{
		{"/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"hello there friend"}]}`, "[DONE]"},
		{"/v1/messages", `{"model":"m","stream":true,"max_tokens":9,"messages":[{"role":"user","content":"hello there friend"}]}`, "message_stop"},
		{"/v1/responses", `{"model":"m","stream":true,"input":"hello there friend"}`, "response.completed"},
	} {
		resp, out := do(t, srv.URL, c.path, c.body, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", c.path, resp.StatusCode, out)
		}
		if strings.Contains(out, c.terminal) {
			t.Errorf("%s: the terminal event was sent although its completion was not written:\n%s", c.path, out)
		}
		if !strings.Contains(out, "event: error") || !strings.Contains(out, "audit") {
			t.Errorf("%s: no error event at the end:\n%s", c.path, out)
		}
	}
}

// Credentials that cannot be checked (the key store is down) are a 503
// the SDKs retry, never a 401 they give up on.
func TestCredentialStoreOutageIsA503NotA401(t *testing.T) {
	srv := newTestGateway(t, gateway.Config{Upstreams: []*gateway.Upstream{{Name: "u", URL: upstreamURL(t, standin.New(standin.Options{})), Models: []string{"*"}}}},
		gateway.Deps{Auth: gateway.AuthenticatorFunc(func(*http.Request) (*gateway.Principal, error) {
			return nil, errors.New("store: query failed: dial tcp 10.0.0.7:5432 (postgres://warden:s3cret@db/warden): timeout")
		})})
	resp, out := do(t, srv.URL, "/v1/chat/completions", hello, map[string]string{"Authorization": "Bearer x"})
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(out, "auth_unavailable") {
		t.Fatalf("%d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), out)
	}
	if strings.Contains(out, "s3cret") || strings.Contains(out, "10.0.0.7") {
		t.Fatalf("the error shows store details: %s", out)
	}
}

// An upstream that does not answer in time is a 504.
func TestUpstreamTimeoutIs504(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release })
	srv := newTestGateway(t, gateway.Config{UpstreamTimeout: 100 * time.Millisecond,
		Upstreams: []*gateway.Upstream{{Name: "u", URL: upstreamURL(t, up), Models: []string{"*"}}}}, gateway.Deps{})
	resp, out := do(t, srv.URL, "/v1/chat/completions", hello, nil)
	if resp.StatusCode != 504 || !strings.Contains(out, "upstream_timeout") {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
}

// A JSON body that breaks off before anything reached the caller is
// retried on the next upstream, and the first is taken out of rotation.
func TestResponseBreakingOffMidBodyRetriesTheNextUpstream(t *testing.T) {
	broken := &countingUpstream{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "500")
		io.WriteString(w, `{"id":"x","choices":[{"message":{"content":"half`)
		w.(http.Flusher).Flush()
		conn, _, _ := http.NewResponseController(w).Hijack()
		conn.Close()
	})}
	good := &countingUpstream{h: standin.New(standin.Options{})}
	srv := newTestGateway(t, gateway.Config{Upstreams: []*gateway.Upstream{
		{Name: "broken", URL: upstreamURL(t, broken), Models: []string{"*"}},
		{Name: "good", URL: upstreamURL(t, good), Models: []string{"*"}},
	}}, gateway.Deps{})
	resp, out := do(t, srv.URL, "/v1/chat/completions", hello, nil)
	if resp.StatusCode != 200 || strings.Contains(out, "half") {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
	if broken.n.Load() != 1 || good.n.Load() != 1 {
		t.Fatalf("broken %d, good %d calls", broken.n.Load(), good.n.Load())
	}
	do(t, srv.URL, "/v1/chat/completions", hello, nil)
	if broken.n.Load() != 1 {
		t.Fatal("the upstream that broke off was not taken out of rotation")
	}
}

// An upstream's 429 reaches the caller with the headers SDKs pace their
// retries by; an upstream's redirect is not followed.
func TestUpstreamRateLimitHeadersReachTheCaller(t *testing.T) {
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "messages") {
			http.Redirect(w, r, "http://example.invalid/elsewhere", http.StatusTemporaryRedirect)
			return
		}
		h := w.Header()
		h.Set("Retry-After", "7")
		h.Set("Retry-After-Ms", "6500")
		h.Set("X-Ratelimit-Remaining-Requests", "0")
		h.Set("X-Request-Id", "req_123")
		h.Set("Openai-Organization", "org-upstream-account")
		h.Set("Set-Cookie", "upstream=1")
		h.Set("Content-Type", "application/json")
		w.WriteHeader(429)
		io.WriteString(w, `{"error":{"message":"slow down","type":"rate_limit_error","code":"rate_limit_exceeded"}}`)
	})
	srv := newTestGateway(t, gateway.Config{Upstreams: []*gateway.Upstream{{Name: "u", URL: upstreamURL(t, up), Models: []string{"*"}}}}, gateway.Deps{})
	resp, out := do(t, srv.URL, "/v1/chat/completions", hello, nil)
	if resp.StatusCode != 429 || !strings.Contains(out, "slow down") {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
	for k, v := range map[string]string{"Retry-After": "7", "Retry-After-Ms": "6500", "X-Ratelimit-Remaining-Requests": "0", "X-Request-Id": "req_123"} {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	for _, k := range []string{"Openai-Organization", "Set-Cookie"} {
		if resp.Header.Get(k) != "" {
			t.Errorf("%s crossed the gateway", k)
		}
	}
	resp, out = do(t, srv.URL, "/v1/messages", `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, nil)
	if resp.StatusCode != 502 || !strings.Contains(out, "redirect") {
		t.Fatalf("redirect: %d %s", resp.StatusCode, out)
	}
}

// Only listed caller headers reach the upstream, their values scanned;
// the upstream's key goes in the header its auth setting names.
func TestHeadersCrossOnAnAllowlist(t *testing.T) {
	var got http.Header
	var mu sync.Mutex
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Header.Clone()
		mu.Unlock()
		standin.New(standin.Options{}).ServeHTTP(w, r)
	})
	srv := newTestGateway(t, gateway.Config{Upstreams: []*gateway.Upstream{
		{Name: "azure", URL: upstreamURL(t, up), Models: []string{"gpt-4o-mini"}, Key: "upstream-key", Auth: "api-key"},
		{Name: "anthropic", URL: upstreamURL(t, up), Models: []string{"claude-x"}, Key: "upstream-key"},
	}}, gateway.Deps{})
	hdr := map[string]string{"Authorization": "Bearer caller-key", "Openai-Beta": "assistants=v2", "X-Custom": "secret-ish",
		"Cookie": "session=1", "Idempotency-Key": "k1"}
	if resp, out := do(t, srv.URL, "/v1/chat/completions", hello, hdr); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
	mu.Lock()
	if got.Get("Api-Key") != "upstream-key" || got.Get("Authorization") != "" || got.Get("Openai-Beta") != "assistants=v2" ||
		got.Get("Idempotency-Key") != "k1" || got.Get("X-Custom") != "" || got.Get("Cookie") != "" {
		t.Errorf("upstream headers: %v", got)
	}
	mu.Unlock()
	if resp, out := do(t, srv.URL, "/v1/messages", `{"model":"claude-x","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`,
		map[string]string{"X-Api-Key": "caller-key", "Anthropic-Beta": "tools-2024"}); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
	mu.Lock()
	if got.Get("X-Api-Key") != "upstream-key" || got.Get("Anthropic-Version") != "2023-06-01" || got.Get("Anthropic-Beta") != "tools-2024" {
		t.Errorf("anthropic upstream headers: %v", got)
	}
	mu.Unlock()
	resp, out := do(t, srv.URL, "/v1/chat/completions", hello, map[string]string{"Openai-Organization": "jane.canary@example.com"})
	if resp.StatusCode != 400 || strings.Contains(out, "jane.canary") {
		t.Fatalf("a forwarded header holding an email: %d %s", resp.StatusCode, out)
	}
}

// A request with both Content-Length and Transfer-Encoding (a smuggling
// attempt) is refused.
func TestRequestWithContentLengthAndTransferEncodingIsRefused(t *testing.T) {
	up := &countingUpstream{h: standin.New(standin.Options{})}
	srv := newTestGateway(t, gateway.Config{Upstreams: []*gateway.Upstream{{Name: "u", URL: upstreamURL(t, up), Models: []string{"*"}}}}, gateway.Deps{})
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := hello
	chunked := strconv.FormatInt(int64(len(body)), 16) + "\r\n" + body + "\r\n0\r\n\r\n"
	io.WriteString(conn, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"+chunked)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || up.n.Load() != 0 {
		t.Fatalf("status %d, upstream calls %d", resp.StatusCode, up.n.Load())
	}
}

// GET /v1/models/{id} answers the model object, or the API's 404.
func TestModelByID(t *testing.T) {
	e := newEnv(t, standin.Options{})
	get := func(id string, hdr map[string]string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", e.gw.URL+"/v1/models/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+testKey)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	if resp, out := get("gpt-4o-mini", nil); resp.StatusCode != 200 || !strings.Contains(out, `"id":"gpt-4o-mini"`) || !strings.Contains(out, `"object":"model"`) {
		t.Errorf("allowed model: %d %s", resp.StatusCode, out)
	}
	for _, id := range []string{"gpt-4o", "no-such-model"} {
		if resp, out := get(id, nil); resp.StatusCode != 404 || !strings.Contains(out, "model_not_found") || strings.Contains(out, id) {
			t.Errorf("%s: %d %s", id, resp.StatusCode, out)
		}
	}
	if resp, out := get("claude-test", map[string]string{"Anthropic-Version": "2023-06-01"}); resp.StatusCode != 200 || !strings.Contains(out, `"type":"model"`) {
		t.Errorf("anthropic shape: %d %s", resp.StatusCode, out)
	}
}

// Invisible characters: zero-width ones are stripped before the request
// is sent (emoji joiners kept), tag characters refused.
func TestInvisibleCharactersAreStrippedOrRefused(t *testing.T) {
	up := &fixedUpstream{reply: plainReply}
	srv := newFixedGateway(t, up, gateway.Config{}, gateway.Deps{})
	body := `{"model":"m","messages":[{"role":"user","content":"sum\u200bmarise the re\u2060port 👨\u200d👩\u200d👧 ❤\ufe0f"}]}`
	if status, out := post(t, srv, body); status != 200 {
		t.Fatalf("%d %s", status, out)
	}
	var sent struct {
		Messages []struct{ Content string }
	}
	if err := json.Unmarshal(up.last(), &sent); err != nil || len(sent.Messages) != 1 {
		t.Fatalf("upstream received %s", up.last())
	}
	if want := "summarise the report 👨\u200d👩\u200d👧 ❤\ufe0f"; sent.Messages[0].Content != want {
		t.Fatalf("upstream received %q, want %q", sent.Messages[0].Content, want)
	}
	status, out := post(t, srv, `{"model":"m","messages":[{"role":"user","content":"hi`+"\U000e0069\U000e0067"+`"}]}`)
	if status != 400 || !strings.Contains(string(out), "tag") || !strings.Contains(string(out), "$.messages[0].content") {
		t.Fatalf("tag characters: %d %s", status, out)
	}
}

// Opaque values that prove what they claim reach the upstream, and the
// caller, byte for byte: images, reasoning blobs, base64 embeddings.
func TestOpaqueValuesPassByteForByte(t *testing.T) {
	random := func(n int) string {
		b := make([]byte, n)
		rand.Read(b)
		return base64.StdEncoding.EncodeToString(b)
	}
	png := base64.StdEncoding.EncodeToString(append([]byte("\x89PNG\r\n\x1a\n"), []byte(random(200))...))
	up := &fixedUpstream{}
	srv := newFixedGateway(t, up, gateway.Config{}, gateway.Deps{})
	for _, body := range []string{
		`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,` + png + `"}}]}]}`,
		`{"model":"m","input":[{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"` + random(600) + `"}]}`,
	} {
		path := "/v1/chat/completions"
		if strings.Contains(body, "reasoning") {
			path = "/v1/responses"
		}
		up.reply = `{"id":"x","object":"response","output":[]}`
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || string(up.last()) != body {
			t.Fatalf("%s: status %d; upstream got a changed body", path, resp.StatusCode)
		}
	}
	// Thousands of random embeddings: none may be rewritten.
	var emb bytes.Buffer
	emb.WriteString(`{"object":"list","model":"m","data":[`)
	for i := 0; i < 3000; i++ {
		if i > 0 {
			emb.WriteByte(',')
		}
		emb.WriteString(`{"object":"embedding","index":` + strconv.Itoa(i) + `,"embedding":"` + random(64) + `"}`)
	}
	emb.WriteString(`],"usage":{"prompt_tokens":1,"total_tokens":1}}`)
	up.reply = emb.String()
	resp, err := http.Post(srv.URL+"/v1/embeddings", "application/json", strings.NewReader(`{"model":"m","input":"hi","encoding_format":"base64"}`))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != emb.String() {
		t.Fatal("base64 embeddings were rewritten")
	}
}

// /readyz names the failing component and nothing of its error.
func TestReadyzNamesTheComponentNotTheError(t *testing.T) {
	srv := newTestGateway(t, gateway.Config{Upstreams: []*gateway.Upstream{{Name: "u", URL: upstreamURL(t, standin.New(standin.Options{})), Models: []string{"*"}}}},
		gateway.Deps{Checks: []gateway.Check{
			{Name: "store", Check: func(context.Context) error {
				return errors.New("dial tcp db.internal:5432: user=warden dbname=prod: connection refused")
			}},
			{Name: "audit", Check: func(context.Context) error { return nil }},
		}})
	resp, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(string(b), `"store":"failing"`) || !strings.Contains(string(b), `"audit":"ok"`) {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	for _, c := range []string{"db.internal", "5432", "warden", "prod"} {
		if strings.Contains(string(b), c) {
			t.Fatalf("readyz shows %q: %s", c, b)
		}
	}
}

// De-identification failing (the vault down) refuses the request and
// sends nothing.
func TestVaultOutageRefusesTheRequest(t *testing.T) {
	up := &countingUpstream{h: standin.New(standin.Options{})}
	srv := newTestGateway(t, gateway.Config{Upstreams: []*gateway.Upstream{{Name: "u", URL: upstreamURL(t, up), Models: []string{"*"}}}},
		gateway.Deps{Tokens: failingTokens{}})
	resp, out := do(t, srv.URL, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"mail jane.canary@example.com"}]}`, nil)
	if resp.StatusCode != 503 || !strings.Contains(out, "deidentify_failed") || up.n.Load() != 0 {
		t.Fatalf("%d %s (upstream calls %d)", resp.StatusCode, out, up.n.Load())
	}
}

type failingTokens struct{}

func (failingTokens) Tokenizer(string) transform.Tokenizer {
	return transform.TokenizerFunc(func(context.Context, string, string) (string, error) {
		return "", errors.New("vault unavailable")
	})
}
func (failingTokens) Revealer(string) transform.Revealer { return nil }

var _ = httptest.NewServer

// More encoded text than the decode budget lets the gateway inspect is
// refused (an undecoded run may hide a value); a large image is opaque
// and costs no budget.
func TestEncodedTextBeyondTheDecodeBudgetIsRefused(t *testing.T) {
	up := &fixedUpstream{reply: plainReply}
	srv := newFixedGateway(t, up, gateway.Config{}, gateway.Deps{})
	text := strings.Repeat("Quarterly figures follow in the attachment below. ", 3000) // ~150 KB
	b64 := base64.StdEncoding.EncodeToString([]byte(text))
	status, out := post(t, srv, `{"model":"m","messages":[{"role":"user","content":"decode: `+b64+`"}]}`)
	if status != 400 || !strings.Contains(string(out), "detect.decode.budget") {
		t.Fatalf("%d %s", status, out)
	}
	img := make([]byte, 300<<10)
	copy(img, "\x89PNG\r\n\x1a\n")
	rand.Read(img[8:])
	png := base64.StdEncoding.EncodeToString(img)
	status, out = post(t, srv, `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,`+png+`"}}]}]}`)
	if status != 200 {
		t.Fatalf("a 300 KiB image: %d %s", status, out)
	}
}

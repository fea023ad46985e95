package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/detect"
	"github.com/wardenhq/warden/gateway"
	"github.com/wardenhq/warden/internal/standin"
	"github.com/wardenhq/warden/keys"
	"github.com/wardenhq/warden/policy"
	"github.com/wardenhq/warden/store"
)

// canaryAWSKey is an API key the default policy refuses to send anywhere.
const canaryAWSKey = "AKIAZ7QW3ERTY5UIOP2A"

// traceEnv is a gateway with a real audit log whose spans go to an
// in-memory recorder of the OpenTelemetry SDK.
type traceEnv struct {
	gw       *httptest.Server
	upstream *standin.Server
	spans    *tracetest.SpanRecorder
}

func newTraceEnv(t *testing.T, traced bool) *traceEnv {
	t.Helper()
	ctx := context.Background()
	up := standin.New(standin.Options{Record: true, DeltaBytes: 4})
	dir := t.TempDir()
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "warden.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	kr, err := keys.Open(ctx, keys.Options{Path: filepath.Join(dir, "keyring.json"), Root: keys.KeyFile(filepath.Join(dir, "master.key"), true), Create: true})
	if err != nil {
		t.Fatal(err)
	}
	alog, err := audit.Open(ctx, audit.Config{Store: db, Keyring: kr, Origin: "test/audit"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { alog.Close() })
	rec := tracetest.NewSpanRecorder()
	deps := gateway.Deps{Auth: testAuth, Auditor: alog}
	if traced {
		deps.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	}
	srv := newTestGateway(t, gateway.Config{
		Upstreams: []*gateway.Upstream{{Name: "standin", URL: upstreamURL(t, up), Key: upstreamKey, Zone: "cloud", Models: []string{"gpt-4o-mini", "claude-test"}}},
	}, deps)
	return &traceEnv{gw: srv, upstream: up, spans: rec}
}

// post sends one API request and returns the status and the whole body
// (a stream read to its end).
func (e *traceEnv) post(t *testing.T, path string, body any, header http.Header) (int, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", e.gw.URL+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(raw)
}

// serverSpans returns the recorded server spans, one per API request, in
// the order they ended.
func (e *traceEnv) serverSpans() []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range e.spans.Ended() {
		if s.SpanKind() == trace.SpanKindServer {
			out = append(out, s)
		}
	}
	return out
}

func attrsOf(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

// spanText renders everything a span exports that could carry text: its
// name, attributes, events, links and status.
func spanText(s sdktrace.ReadOnlySpan) string {
	var b strings.Builder
	kvs := func(kvs []attribute.KeyValue) {
		for _, kv := range kvs {
			fmt.Fprintf(&b, "%s=%s\n", kv.Key, kv.Value.String())
		}
	}
	b.WriteString(s.Name() + "\n")
	kvs(s.Attributes())
	for _, ev := range s.Events() {
		b.WriteString(ev.Name + "\n")
		kvs(ev.Attributes)
	}
	for _, l := range s.Links() {
		kvs(l.Attributes)
	}
	b.WriteString(s.Status().Description + "\n")
	b.WriteString(s.SpanContext().TraceState().String() + "\n")
	return b.String()
}

// Spans carry counts, names and decisions: no request or response text,
// detected value, vault token, caller key or upstream credential, whether
// the response is JSON or streamed, protected or refused.
func TestTracesCarryNoContent(t *testing.T) {
	e := newTraceEnv(t, true)
	chat := func(stream bool, content string) map[string]any {
		return map[string]any{"model": "gpt-4o-mini", "stream": stream,
			"messages": []any{map[string]any{"role": "user", "content": content}}}
	}
	messages := map[string]any{"model": "claude-test", "max_tokens": 100, "stream": true,
		"messages": []any{map[string]any{"role": "user", "content": prompt}}}
	anthropic := http.Header{"Anthropic-Version": {"2023-06-01"}}

	type want struct {
		status   int
		name     string
		op       string
		provider string
		decision string
		findings int64
		audited  bool
		usage    bool
	}
	cases := []struct {
		name   string
		path   string
		body   any
		header http.Header
		want   want
	}{
		{"chat json", "/v1/chat/completions", chat(false, prompt), nil,
			want{200, "chat gpt-4o-mini", "chat", "openai", "deidentify", 3, true, true}},
		{"chat stream", "/v1/chat/completions", chat(true, prompt), nil,
			want{200, "chat gpt-4o-mini", "chat", "openai", "deidentify", 3, true, false}},
		{"messages stream", "/v1/messages", messages, anthropic,
			want{200, "chat claude-test", "chat", "anthropic", "deidentify", 3, true, true}},
		{"embeddings", "/v1/embeddings", map[string]any{"model": "gpt-4o-mini", "input": []string{prompt}}, nil,
			want{200, "embeddings gpt-4o-mini", "embeddings", "openai", "deidentify", 3, true, true}},
		{"api key refused", "/v1/chat/completions", chat(false, "deploy with "+canaryAWSKey+" and mail "+canaryEmail), nil,
			want{400, "chat gpt-4o-mini", "chat", "openai", "deny", 2, true, false}},
	}
	for i, c := range cases {
		status, body := e.post(t, c.path, c.body, c.header)
		if status != c.want.status {
			t.Fatalf("%s: status %d: %s", c.name, status, body)
		}
		if status == 200 && c.path != "/v1/embeddings" && !strings.Contains(body, canaryEmail) {
			t.Fatalf("%s: originals not restored for the caller, so the test proves little: %s", c.name, body)
		}
		srv := e.serverSpans()
		if len(srv) != i+1 {
			t.Fatalf("%s: %d server spans after %d requests", c.name, len(srv), i+1)
		}
		s := srv[i]
		a := attrsOf(s)
		if s.Name() != c.want.name {
			t.Errorf("%s: span name %q, want %q", c.name, s.Name(), c.want.name)
		}
		for k, v := range map[attribute.Key]string{
			"gen_ai.operation.name": c.want.op, "gen_ai.provider.name": c.want.provider,
			"gen_ai.request.model": strings.Fields(c.want.name)[1], "warden.decision": c.want.decision,
			"warden.principal": "alice", "warden.tenant": "acme",
		} {
			if got := a[k].AsString(); got != v {
				t.Errorf("%s: %s = %q, want %q", c.name, k, got, v)
			}
		}
		if got := a["http.response.status_code"].AsInt64(); got != int64(c.want.status) {
			t.Errorf("%s: http.response.status_code = %d", c.name, got)
		}
		if got := a["warden.findings"].AsInt64(); got != c.want.findings {
			t.Errorf("%s: warden.findings = %d, want %d", c.name, got, c.want.findings)
		}
		if got := a["warden.findings.EMAIL_ADDRESS"].AsInt64(); got != 1 {
			t.Errorf("%s: warden.findings.EMAIL_ADDRESS = %d, want 1", c.name, got)
		}
		if _, ok := a["warden.request_id"]; !ok {
			t.Errorf("%s: no warden.request_id", c.name)
		}
		if idx, ok := a["warden.audit.index"]; ok != c.want.audited || (ok && idx.AsInt64() < 0) {
			t.Errorf("%s: warden.audit.index = %v (present %v), want present %v", c.name, idx.String(), ok, c.want.audited)
		}
		if c.want.status == 200 {
			if a["warden.upstream"].AsString() != "standin" || a["server.address"].AsString() != "127.0.0.1" || a["server.port"].AsInt64() == 0 {
				t.Errorf("%s: upstream attributes: %v", c.name, a)
			}
			if got := a["gen_ai.response.model"].AsString(); got != strings.Fields(c.want.name)[1] {
				t.Errorf("%s: gen_ai.response.model = %q", c.name, got)
			}
			if _, ok := a["error.type"]; ok {
				t.Errorf("%s: error.type on a success", c.name)
			}
		} else {
			if got := a["error.type"].AsString(); got != "policy_denied" {
				t.Errorf("%s: error.type = %q, want policy_denied", c.name, got)
			}
			if r := a["warden.reasons"].AsStringSlice(); len(r) == 0 || !strings.Contains(strings.Join(r, ";"), "AWS") {
				t.Errorf("%s: warden.reasons = %q, want the refused type named", c.name, r)
			}
		}
		if _, ok := a["gen_ai.usage.input_tokens"]; ok != c.want.usage {
			t.Errorf("%s: gen_ai.usage.input_tokens present %v, want %v", c.name, ok, c.want.usage)
		}
	}

	// Every span, the stages' and the upstream calls' included.
	kinds := map[trace.SpanKind]int{}
	names := map[string]bool{}
	for _, s := range e.spans.Ended() {
		kinds[s.SpanKind()]++
		names[s.Name()] = true
		text := spanText(s)
		for _, c := range []string{canaryEmail, "jane.canary", canarySSN, "457-55", canaryCard, "4111111111111111", "1111 1111",
			canaryAWSKey, "AKIA", testKey, upstreamKey, "Bearer", "[[", "please"} {
			if strings.Contains(text, c) {
				t.Errorf("span %q carries %q:\n%s", s.Name(), c, text)
			}
		}
	}
	if kinds[trace.SpanKindClient] != 4 {
		t.Errorf("%d upstream client spans, want 4", kinds[trace.SpanKindClient])
	}
	for _, n := range []string{"warden.decode", "warden.detect", "warden.policy", "warden.deidentify", "warden.guard", "warden.audit"} {
		if !names[n] {
			t.Errorf("no %s span", n)
		}
	}
}

// The caller's traceparent parents the server span; the upstream gets a
// traceparent of the same trace whose parent is the upstream client span;
// the caller's tracestate goes nowhere.
func TestTraceparentPropagatesToUpstream(t *testing.T) {
	const (
		traceID  = "4bf92f3577b34da6a3ce929d0e0e4736"
		parentID = "00f067aa0ba902b7"
	)
	in := http.Header{
		"Traceparent": {"00-" + traceID + "-" + parentID + "-01"},
		"Tracestate":  {"vendor=" + canarySSN},
	}
	for _, stream := range []bool{false, true} {
		e := newTraceEnv(t, true)
		status, body := e.post(t, "/v1/chat/completions", map[string]any{"model": "gpt-4o-mini", "stream": stream,
			"messages": []any{map[string]any{"role": "user", "content": "hello"}}}, in)
		if status != 200 {
			t.Fatalf("stream=%v: status %d: %s", stream, status, body)
		}
		srv := e.serverSpans()
		if len(srv) != 1 {
			t.Fatalf("stream=%v: %d server spans", stream, len(srv))
		}
		s := srv[0]
		if got := s.Parent(); got.TraceID().String() != traceID || got.SpanID().String() != parentID || !got.IsRemote() {
			t.Errorf("stream=%v: server span parent = %s/%s remote=%v", stream, got.TraceID(), got.SpanID(), got.IsRemote())
		}
		if ts := s.SpanContext().TraceState().String(); ts != "" {
			t.Errorf("stream=%v: caller tracestate kept: %q", stream, ts)
		}
		var client sdktrace.ReadOnlySpan
		for _, sp := range e.spans.Ended() {
			if sp.SpanKind() == trace.SpanKindClient {
				client = sp
			}
		}
		if client == nil {
			t.Fatalf("stream=%v: no client span", stream)
		}
		if client.Parent().SpanID() != s.SpanContext().SpanID() {
			t.Errorf("stream=%v: client span is not a child of the server span", stream)
		}
		reqs := e.upstream.Requests()
		if len(reqs) != 1 {
			t.Fatalf("stream=%v: upstream got %d requests", stream, len(reqs))
		}
		want := "00-" + traceID + "-" + client.SpanContext().SpanID().String() + "-01"
		if got := reqs[0].Header.Get("Traceparent"); got != want {
			t.Errorf("stream=%v: upstream traceparent = %q, want %q", stream, got, want)
		}
		if got := reqs[0].Header.Get("Tracestate"); got != "" {
			t.Errorf("stream=%v: upstream received the caller's tracestate %q", stream, got)
		}
	}
}

// With no TracerProvider the gateway neither records nor forwards trace
// context: a caller's traceparent does not reach the upstream.
func TestNoTracerForwardsNoTraceHeaders(t *testing.T) {
	e := newTraceEnv(t, false)
	in := http.Header{"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, "Tracestate": {"a=b"}}
	status, body := e.post(t, "/v1/chat/completions", map[string]any{"model": "gpt-4o-mini",
		"messages": []any{map[string]any{"role": "user", "content": "hello"}}}, in)
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	h := e.upstream.Requests()[0].Header
	if h.Get("Traceparent") != "" || h.Get("Tracestate") != "" {
		t.Fatalf("trace headers forwarded with tracing off: %v", h)
	}
	if n := len(e.spans.Ended()); n != 0 {
		t.Fatalf("%d spans recorded with tracing off", n)
	}
}

// A retried upstream failure is its own client span, marked failed with
// the status the upstream answered.
func TestTraceRecordsEachUpstreamAttempt(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	up := httptest.NewServer(standin.New(standin.Options{}))
	defer up.Close()
	eng, _ := detect.New(detect.Config{})
	pol, _ := policy.New(policy.Config{})
	auth := gateway.AuthenticatorFunc(func(r *http.Request) (*gateway.Principal, error) {
		return &gateway.Principal{Name: "alice", Tenant: "acme", Models: []string{"*"}}, nil
	})
	rec := tracetest.NewSpanRecorder()
	gw, err := gateway.New(gateway.Config{Upstreams: []*gateway.Upstream{
		{Name: "down", URL: down.URL + "/v1", Models: []string{"*"}},
		{Name: "up", URL: up.URL + "/v1", Models: []string{"*"}},
	}}, gateway.Deps{Auth: auth, Detector: eng, Policy: pol, TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var got []string
	for _, s := range rec.Ended() {
		if s.SpanKind() != trace.SpanKindClient {
			continue
		}
		a := attrsOf(s)
		got = append(got, fmt.Sprintf("%s %d %s %s", a["warden.upstream"].AsString(), a["http.response.status_code"].AsInt64(),
			a["error.type"].AsString(), s.Status().Code))
	}
	want := []string{"down 503 503 Error", "up 200  Unset"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("client spans = %q, want %q", got, want)
	}
}

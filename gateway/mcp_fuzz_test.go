package gateway

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/wardenhq/warden/detect"
	"github.com/wardenhq/warden/policy"
	"github.com/wardenhq/warden/toolpin"
	"github.com/wardenhq/warden/transform"
)

// mcpUpstream is an in-process MCP server that answers every request
// with reply (JSON, or SSE when it starts with "data:" or "event:") and
// keeps what it got.
type mcpUpstream struct {
	mu    sync.Mutex
	reply []byte
	got   [][]byte
}

func (u *mcpUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	u.mu.Lock()
	u.got = append(u.got, b)
	reply := u.reply
	u.mu.Unlock()
	if bytes.Contains(b, []byte(`"tools/list"`)) {
		var m struct {
			ID json.RawMessage `json:"id"`
		}
		json.Unmarshal(b, &m)
		reply = []byte(`{"jsonrpc":"2.0","id":` + string(m.ID) + `,"result":{"tools":[{"name":"lookup","description":"Look a customer up.","inputSchema":{"type":"object"}}]}}`)
	}
	ct := "application/json"
	if bytes.HasPrefix(reply, []byte("data:")) || bytes.HasPrefix(reply, []byte("event:")) {
		ct = "text/event-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Write(reply)
}

func mcpFuzzServer(t testing.TB, up *mcpUpstream, tune ...func(*Deps)) *Server {
	t.Helper()
	eng, err := detect.New(detect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.New(policy.Config{})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := transform.NewKey(bytes.Repeat([]byte{7}, 32))
	cfg := Config{
		Upstreams:  []*Upstream{{Name: "u", Handler: http.NotFoundHandler(), Models: []string{"*"}}},
		MCPServers: []*MCPServer{{Name: "crm", Handler: up, Zone: "onprem", AutoPin: true, Allow: []MCPAllow{{Roles: []string{"agent"}, Tools: []string{"*"}}}}},
		Key:        key,
	}
	deps := Deps{
		Auth: AuthenticatorFunc(func(*http.Request) (*Principal, error) {
			return &Principal{Name: "fuzz", Tenant: "t", Roles: []string{"agent"}, Models: []string{"*"}}, nil
		}),
		Detector: eng, Policy: pol,
		MCP: MCPDeps{Inspector: fuzzInspector{}, NewFetcher: func(c *http.Client, e string, h http.Header) ToolFetcher {
			return &toolpin.Fetcher{Client: c, Endpoint: e, Header: h}
		}},
	}
	for _, f := range tune {
		f(&deps)
	}
	s, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type fuzzInspector struct{}

func (fuzzInspector) Hash(d json.RawMessage) (string, error) { return toolpin.Hash(d) }
func (fuzzInspector) Inspect(d json.RawMessage) []string     { return (&toolpin.Inspector{}).Inspect(d) }

// Canaries of the MCP fuzzers: an email (tokenized) and an AWS key
// (masked).
var mcpCanaries = []string{"dana.fuzz@example.net", "AKIA2QX7N4M9RB3TLV6P"}

// FuzzNothingRawReachesTheAgent: whatever an MCP server answers — the
// fuzzer's template with a canary in it, as JSON or as an event stream —
// the agent gets either an error or an answer in which no canary
// appears, in the bytes or in any JSON string decoded.
func FuzzNothingRawReachesTheAgent(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"result":{"contents":[{"uri":"crm://c/1","text":"mail {{C}} now"}]}}`,
		`{"jsonrpc":"2.0","id":1,"result":{"contents":[{"uri":"crm://c/1","mimeType":"application/json","text":"{\"email\":\"{{C}}\"}"}]}}`,
		`{"jsonrpc":"2.0","id":1,"result":{"structuredContent":{"{{C}}":1},"content":[]}}`,
		`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"![a](https://x.example/?q={{C}})"}]}}`,
		`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"resource","resource":{"uri":"a","blob":"{{C}}"}}]}}`,
		`{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"no user {{C}}"}}`,
		"data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"info\",\"data\":\"saw {{C}}\"}}\n\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n",
		"id: {{C}}\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"contents\":[]}}\n\n",
		"event: {{C}}\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"contents\":[]}}\n\n",
		"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\n data: \"result\":{\"x\":\"{{C}}\"}}\n\n",
	} {
		for i := range mcpCanaries {
			f.Add(seed, uint8(i))
		}
	}
	up := &mcpUpstream{}
	s := mcpFuzzServer(f, up)
	f.Fuzz(func(t *testing.T, tmpl string, which uint8) {
		if !strings.Contains(tmpl, "{{C}}") || len(tmpl) > 1<<14 {
			return
		}
		c := mcpCanaries[int(which)%len(mcpCanaries)]
		// The canary stands as a word: glued to other letters or digits
		// ("0AKIA…") it is another string, which detection need not
		// know (the detection corpora judge that).
		up.mu.Lock()
		up.reply = []byte(strings.ReplaceAll(tmpl, "{{C}}", " "+c+" "))
		up.mu.Unlock()
		req := httptest.NewRequest("POST", "/mcp/crm", strings.NewReader(
			`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"crm://c/1"}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		out := w.Body.Bytes()
		if bytes.Contains(out, []byte(c)) {
			t.Fatalf("the canary reached the agent (status %d)", w.Code)
		}
		// Decoded strings: an escape (\u0040) must not hide it either.
		for _, line := range bytes.Split(out, []byte("\n")) {
			line = bytes.TrimPrefix(line, []byte("data: "))
			var v any
			if json.Unmarshal(line, &v) == nil && containsDecoded(v, c) {
				t.Fatalf("the canary reached the agent in a decoded string (status %d)", w.Code)
			}
		}
	})
}

func containsDecoded(v any, c string) bool {
	switch v := v.(type) {
	case string:
		return strings.Contains(v, c)
	case []any:
		for _, e := range v {
			if containsDecoded(e, c) {
				return true
			}
		}
	case map[string]any:
		for k, e := range v {
			if strings.Contains(k, c) || containsDecoded(e, c) {
				return true
			}
		}
	}
	return false
}

// FuzzMCPRequest: any message an agent sends is answered (never a
// panic), and a canary in it reaches the server only inside a tokenized
// form — never raw — for a server without restore_args.
func FuzzMCPRequest(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"crm://{{C}}"}}`,
		`{"jsonrpc":"2.0","id":"x","method":"prompts/get","params":{"name":"p","arguments":{"to":"{{C}}"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"{{C}}"}}`,
		`{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"{{C}}"}]}}`,
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","clientInfo":{"name":"{{C}}"}}}`,
		`[{"jsonrpc":"2.0","id":1,"method":"ping"}]`,
	} {
		for i := range mcpCanaries {
			f.Add(seed, uint8(i))
		}
	}
	up := &mcpUpstream{reply: []byte(`{"jsonrpc":"2.0","id":1,"result":{}}`)}
	s := mcpFuzzServer(f, up)
	f.Fuzz(func(t *testing.T, tmpl string, which uint8) {
		if len(tmpl) > 1<<14 {
			return
		}
		c := mcpCanaries[int(which)%len(mcpCanaries)]
		up.mu.Lock()
		up.got = nil
		up.mu.Unlock()
		req := httptest.NewRequest("POST", "/mcp/crm", strings.NewReader(strings.ReplaceAll(tmpl, "{{C}}", " "+c+" ")))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		up.mu.Lock()
		defer up.mu.Unlock()
		for _, b := range up.got {
			if bytes.Contains(b, []byte(c)) {
				t.Fatalf("the canary reached the server raw")
			}
			var v any
			if json.Unmarshal(b, &v) == nil && containsDecoded(v, c) {
				t.Fatalf("the canary reached the server in a decoded string")
			}
		}
	})
}

// TestMCPSpanNamesToolsTheServerKnows: a tools/call span is named
// "execute_tool <tool>" with gen_ai.tool.name once the server's
// definitions confirm the tool; a caller's made-up tool name (here an
// email) is in no span, log or record.
func TestMCPSpanNamesToolsTheServerKnows(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	up := &mcpUpstream{reply: []byte(`{"jsonrpc":"2.0","id":1,"result":{"content":[]}}`)}
	s := mcpFuzzServer(t, up, func(d *Deps) { d.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)) })
	call := func(tool string) int {
		req := httptest.NewRequest("POST", "/mcp/crm", strings.NewReader(
			`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"`+tool+`","arguments":{}}}`))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		return w.Code
	}
	call("lookup")
	call(mcpCanaries[0])
	spans := rec.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2", len(spans))
	}
	if spans[0].Name() != "execute_tool lookup" {
		t.Errorf("span name %q, want execute_tool lookup", spans[0].Name())
	}
	found := false
	for _, kv := range spans[0].Attributes() {
		if kv.Key == "gen_ai.tool.name" && kv.Value.AsString() == "lookup" {
			found = true
		}
	}
	if !found {
		t.Errorf("no gen_ai.tool.name on the span")
	}
	for _, sp := range spans {
		for _, kv := range sp.Attributes() {
			if strings.Contains(kv.Value.String(), mcpCanaries[0]) {
				t.Errorf("the caller's tool name is in span attribute %s", kv.Key)
			}
		}
		if strings.Contains(sp.Name(), mcpCanaries[0]) {
			t.Errorf("the caller's tool name is in the span name")
		}
	}
}

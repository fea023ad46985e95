package toolpin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wardenhq/warden/toolpin"
)

// seen is one HTTP request as the server received it.
type seen struct {
	httpMethod, rpcMethod           string
	version, mcpMethod, session, au string
	meta                            bool // params._meta carries the 2026-07-28 protocolVersion
	status                          int
}

func (s seen) String() string {
	return fmt.Sprintf("%s %s v=%q m=%q session=%t auth=%q meta=%t -> %d",
		s.httpMethod, s.rpcMethod, s.version, s.mcpMethod, s.session != "", s.au, s.meta, s.status)
}

// recorder wraps a handler and keeps what it was asked.
type recorder struct {
	mu  sync.Mutex
	log []seen
}

func (rec *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var msg struct {
			Method string `json:"method"`
			Params struct {
				Meta map[string]any `json:"_meta"`
			} `json:"params"`
		}
		json.Unmarshal(body, &msg)
		s := seen{httpMethod: r.Method, rpcMethod: msg.Method, version: r.Header.Get("Mcp-Protocol-Version"),
			mcpMethod: r.Header.Get("Mcp-Method"), session: r.Header.Get("Mcp-Session-Id"), au: r.Header.Get("Authorization"),
			meta: msg.Params.Meta["io.modelcontextprotocol/protocolVersion"] == "2026-07-28"}
		// Logged in order of arrival: an SSE handler may still be closing
		// its stream when Fetch, holding its response, sends the next
		// request.
		// The status is noted when written, before the client can see it.
		s.status = 200
		rec.mu.Lock()
		i := len(rec.log)
		rec.log = append(rec.log, s)
		rec.mu.Unlock()
		h.ServeHTTP(&statusWriter{ResponseWriter: w, set: func(code int) {
			rec.mu.Lock()
			rec.log[i].status = code
			rec.mu.Unlock()
		}}, r)
	})
}

func (rec *recorder) requests() []seen {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]seen(nil), rec.log...)
}

type statusWriter struct {
	http.ResponseWriter
	set func(code int)
}

func (w *statusWriter) WriteHeader(code int) { w.set(code); w.ResponseWriter.WriteHeader(code) }
func (w *statusWriter) Flush()               { w.ResponseWriter.(http.Flusher).Flush() }
func (w *statusWriter) Unwrap() http.ResponseWriter {
	return w.ResponseWriter
}

// sdkServer serves n tools from the official Go SDK with pages of
// pageSize tools.
func sdkServer(t *testing.T, n, pageSize int, sopts mcp.ServerOptions, hopts mcp.StreamableHTTPOptions) (*httptest.Server, *recorder) {
	t.Helper()
	sopts.PageSize = pageSize
	server := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "1"}, &sopts)
	for i := range n {
		server.AddTool(&mcp.Tool{
			Name:        fmt.Sprintf("tool_%02d", i),
			Description: fmt.Sprintf("Looks up record %d.", i),
			InputSchema: map[string]any{"type": "object", "properties": map[string]any{
				"q": map[string]any{"type": "string", "description": "What to look up."}}},
			Annotations: &mcp.ToolAnnotations{Title: "Lookup", ReadOnlyHint: true},
		}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{}, nil
		})
	}
	rec := &recorder{}
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, &hopts)
	srv := httptest.NewServer(rec.wrap(h))
	t.Cleanup(srv.Close)
	return srv, rec
}

var auth = http.Header{"Authorization": {"Bearer server-credential"}}

// TestFetchGoSDK reads the tool list of the official Go SDK's server in
// each of its shapes: stateless (revision 2026-07-28) and stateful
// (sessions, so the 2025-11-25 fallback), answering in JSON and in SSE,
// over three pages.
func TestFetchGoSDK(t *testing.T) {
	const n, pageSize = 5, 2
	stateless := []string{
		`POST tools/list v="2026-07-28" m="tools/list" session=false auth="Bearer server-credential" meta=true -> 200`,
		`POST tools/list v="2026-07-28" m="tools/list" session=false auth="Bearer server-credential" meta=true -> 200`,
		`POST tools/list v="2026-07-28" m="tools/list" session=false auth="Bearer server-credential" meta=true -> 200`,
	}
	fallback := func(first string) []string {
		return []string{
			first,
			`POST initialize v="" m="" session=false auth="Bearer server-credential" meta=false -> 200`,
			`POST notifications/initialized v="2025-11-25" m="" session=true auth="Bearer server-credential" meta=false -> 202`,
			`POST tools/list v="2025-11-25" m="" session=true auth="Bearer server-credential" meta=false -> 200`,
			`POST tools/list v="2025-11-25" m="" session=true auth="Bearer server-credential" meta=false -> 200`,
			`POST tools/list v="2025-11-25" m="" session=true auth="Bearer server-credential" meta=false -> 200`,
			`DELETE  v="2025-11-25" m="" session=true auth="Bearer server-credential" meta=false -> 204`,
		}
	}
	refusedStateful := `POST tools/list v="2026-07-28" m="tools/list" session=false auth="Bearer server-credential" meta=true -> 400`
	// A stateless server narrowed to 2025-11-25 refuses like a stateful
	// one (HTTP 400, JSON-RPC error -32022); its initialize hands out no
	// session, so there is none to delete.
	narrowed := []string{
		`POST tools/list v="2026-07-28" m="tools/list" session=false auth="Bearer server-credential" meta=true -> 400`,
		`POST initialize v="" m="" session=false auth="Bearer server-credential" meta=false -> 200`,
		`POST notifications/initialized v="2025-11-25" m="" session=false auth="Bearer server-credential" meta=false -> 202`,
		`POST tools/list v="2025-11-25" m="" session=false auth="Bearer server-credential" meta=false -> 200`,
		`POST tools/list v="2025-11-25" m="" session=false auth="Bearer server-credential" meta=false -> 200`,
		`POST tools/list v="2025-11-25" m="" session=false auth="Bearer server-credential" meta=false -> 200`,
	}
	cases := []struct {
		name  string
		sopts mcp.ServerOptions
		hopts mcp.StreamableHTTPOptions
		want  []string
	}{
		{"stateless json", mcp.ServerOptions{}, mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true}, stateless},
		{"stateless sse", mcp.ServerOptions{}, mcp.StreamableHTTPOptions{Stateless: true}, stateless},
		{"stateful json", mcp.ServerOptions{}, mcp.StreamableHTTPOptions{JSONResponse: true}, fallback(refusedStateful)},
		{"stateful sse", mcp.ServerOptions{}, mcp.StreamableHTTPOptions{}, fallback(refusedStateful)},
		{"stateless 2025-11-25 only", mcp.ServerOptions{SupportedProtocolVersions: []string{"2025-11-25"}},
			mcp.StreamableHTTPOptions{Stateless: true}, narrowed},
	}
	var hashes []string
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, rec := sdkServer(t, n, pageSize, c.sopts, c.hopts)
			tools, err := toolpin.Fetch(context.Background(), srv.Client(), srv.URL, auth)
			if err != nil {
				t.Fatal(err)
			}
			if len(tools) != n {
				t.Fatalf("%d tools, want %d", len(tools), n)
			}
			var got []string
			for i, raw := range tools {
				var tool struct {
					Name string `json:"name"`
				}
				if err := json.Unmarshal(raw, &tool); err != nil || tool.Name != fmt.Sprintf("tool_%02d", i) {
					t.Fatalf("tools[%d] = %s, %v", i, raw, err)
				}
				h, err := toolpin.Hash(raw)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, h)
			}
			// Every shape of the same server gives the same definitions.
			if hashes == nil {
				hashes = got
			} else if strings.Join(got, " ") != strings.Join(hashes, " ") {
				t.Errorf("hashes differ from the first case's:\n%v\n%v", got, hashes)
			}
			var log []string
			for _, s := range rec.requests() {
				log = append(log, s.String())
			}
			if strings.Join(log, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

// TestFetchGoSDKNoTools: a server without tools has an empty list, in
// both shapes.
func TestFetchGoSDKNoTools(t *testing.T) {
	for _, stateless := range []bool{true, false} {
		srv, _ := sdkServer(t, 0, 0, mcp.ServerOptions{}, mcp.StreamableHTTPOptions{Stateless: stateless})
		tools, err := toolpin.Fetch(context.Background(), srv.Client(), srv.URL, nil)
		if err != nil || len(tools) != 0 {
			t.Fatalf("stateless=%t: %d tools, %v", stateless, len(tools), err)
		}
	}
}

const secret = "SERVER-SECRET-TEXT"

// fake serves handler and counts its requests.
func fake(t *testing.T, handler func(w http.ResponseWriter, r *http.Request, msg map[string]any)) (*httptest.Server, *int) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		var msg map[string]any
		json.NewDecoder(r.Body).Decode(&msg)
		handler(w, r, msg)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func rpcResult(w http.ResponseWriter, msg map[string]any, result string) {
	w.Header().Set("Content-Type", "application/json")
	id, _ := json.Marshal(msg["id"])
	fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":%s}`, id, result)
}

// TestFetchErrors pins the failures: each must be named, none may echo
// the server's body or the endpoint.
func TestFetchErrors(t *testing.T) {
	bigTools := `{"tools":[{"name":"x","description":"` + strings.Repeat("a", 9<<20) + `"}]}`
	cases := []struct {
		name     string
		handler  func(w http.ResponseWriter, r *http.Request, msg map[string]any)
		want     string
		requests int // 0: any
	}{
		{"unauthorized does not fall back", func(w http.ResponseWriter, r *http.Request, msg map[string]any) {
			http.Error(w, secret, http.StatusUnauthorized)
		}, "2026-07-28 tools/list: HTTP 401", 1},
		{"server error does not fall back", func(w http.ResponseWriter, r *http.Request, msg map[string]any) {
			http.Error(w, secret, http.StatusBadGateway)
		}, "2026-07-28 tools/list: HTTP 502", 1},
		{"both revisions refused", func(w http.ResponseWriter, r *http.Request, msg map[string]any) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":1,"error":{"code":-32022,"message":%q}}`, secret)
		}, "2026-07-28 refused (tools/list: HTTP 400, JSON-RPC error -32022); 2025-11-25 initialize: HTTP 400", 2},
		{"json-rpc error code named, message not", func(w http.ResponseWriter, r *http.Request, msg map[string]any) {
			w.Header().Set("Content-Type", "application/json")
			id, _ := json.Marshal(msg["id"])
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"error":{"code":-32603,"message":%q}}`, id, secret)
		}, "2026-07-28 refused (tools/list: JSON-RPC error -32603); 2025-11-25 initialize: JSON-RPC error -32603", 2},
		{"response too large", func(w http.ResponseWriter, r *http.Request, msg map[string]any) {
			rpcResult(w, msg, bigTools)
		}, "larger than 8 MiB", 1},
		{"sse too large", func(w http.ResponseWriter, r *http.Request, msg map[string]any) {
			w.Header().Set("Content-Type", "text/event-stream")
			for range 9 << 10 {
				fmt.Fprintf(w, "data: %s\n", strings.Repeat("b", 1023))
			}
		}, "larger than 8 MiB", 1},
		{"endless pages", func(w http.ResponseWriter, r *http.Request, msg map[string]any) {
			id, _ := json.Marshal(msg["id"])
			rpcResult(w, msg, `{"tools":[{"name":"t`+string(id)+`"}],"nextCursor":"c`+string(id)+`"}`)
		}, "more than 100 pages", 100},
		{"repeated cursor", func(w http.ResponseWriter, r *http.Request, msg map[string]any) {
			rpcResult(w, msg, `{"tools":[{"name":"t"}],"nextCursor":"same"}`)
		}, "page 2: the server repeated a cursor", 2},
		{"error on a later page does not fall back", func(w http.ResponseWriter, r *http.Request, msg map[string]any) {
			if params, _ := msg["params"].(map[string]any); params["cursor"] == nil {
				rpcResult(w, msg, `{"tools":[{"name":"a"}],"nextCursor":"2"}`)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			id, _ := json.Marshal(msg["id"])
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"error":{"code":-32603,"message":%q}}`, id, secret)
		}, "2026-07-28 page 2: tools/list: JSON-RPC error -32603", 2},
		{"too many tools", func(w http.ResponseWriter, r *http.Request, msg map[string]any) {
			rpcResult(w, msg, `{"tools":[`+strings.Repeat(`{"name":"t"},`, 10000)+`{"name":"t"}]}`)
		}, "more than 10000 tools", 1},
		{"tool not an object", func(w http.ResponseWriter, r *http.Request, msg map[string]any) {
			rpcResult(w, msg, `{"tools":[{"name":"a"},"`+secret+`"]}`)
		}, "tools[1] is not a JSON object", 1},
		{"no tools array", func(w http.ResponseWriter, r *http.Request, msg map[string]any) {
			rpcResult(w, msg, `{"nextCursor":"x"}`)
		}, "result has no tools array", 1},
		{"input required", func(w http.ResponseWriter, r *http.Request, msg map[string]any) {
			rpcResult(w, msg, `{"tools":[],"resultType":"input_required"}`)
		}, "result is not complete", 1},
		{"wrong content type", func(w http.ResponseWriter, r *http.Request, msg map[string]any) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, secret)
		}, "neither application/json nor text/event-stream", 1},
		{"response to another id", func(w http.ResponseWriter, r *http.Request, msg map[string]any) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"jsonrpc":"2.0","id":99,"result":{"tools":[]}}`)
		}, "not the answer to the request", 1},
		{"sse ends early", func(w http.ResponseWriter, r *http.Request, msg map[string]any) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\"}\n\n")
		}, "event stream ended before the response", 1},
		{"malformed json", func(w http.ResponseWriter, r *http.Request, msg map[string]any) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"`+secret)
		}, "malformed JSON-RPC message", 1},
		{"unknown legacy revision", func(w http.ResponseWriter, r *http.Request, msg map[string]any) {
			if msg["method"] == "initialize" {
				rpcResult(w, msg, `{"protocolVersion":"`+secret+`","capabilities":{"tools":{}}}`)
				return
			}
			http.Error(w, secret, http.StatusBadRequest)
		}, "initialize: the server chose a protocol revision toolpin does not speak", 2},
		{"bad session id", func(w http.ResponseWriter, r *http.Request, msg map[string]any) {
			if msg["method"] == "initialize" {
				w.Header().Set("Mcp-Session-Id", "has space "+secret)
				rpcResult(w, msg, `{"protocolVersion":"2025-11-25","capabilities":{"tools":{}}}`)
				return
			}
			http.Error(w, secret, http.StatusBadRequest)
		}, "Mcp-Session-Id is not 1 to 1024 visible ASCII characters", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, n := fake(t, c.handler)
			endpoint := srv.URL + "/mcp?token=" + secret
			_, err := toolpin.Fetch(context.Background(), srv.Client(), endpoint, nil)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "127.0.0.1") {
				t.Errorf("error echoes the server's text or the endpoint: %q", err)
			}
			if c.requests != 0 && *n != c.requests {
				t.Errorf("%d requests, want %d", *n, c.requests)
			}
		})
	}
}

// TestFetchSSE reads a response that arrives after a notification, a
// server request, a priming event and a comment, with CRLF and CR line
// ends and the JSON split over two data lines.
func TestFetchSSE(t *testing.T) {
	srv, _ := fake(t, func(w http.ResponseWriter, r *http.Request, msg map[string]any) {
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		id, _ := json.Marshal(msg["id"])
		io.WriteString(w, "id: 0\r\ndata:\r\n\r\n")
		io.WriteString(w, ": keep-alive\n\n")
		io.WriteString(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n")
		io.WriteString(w, "data: {\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}\r\r")
		io.WriteString(w, "event: other\ndata: {\"jsonrpc\":\"2.0\",\"id\":"+string(id)+",\"result\":{\"tools\":[]}}\n\n")
		fmt.Fprintf(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":%s,\n", id)
		io.WriteString(w, "data: \"result\":{\"tools\":[{\"name\":\"a\"}, {\"name\":\"b\"}]}}\n\n")
		io.WriteString(w, "data: {\"never\":\"read\"\n\n")
	})
	tools, err := toolpin.Fetch(context.Background(), srv.Client(), srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tools) != 2 || string(tools[0]) != `{"name":"a"}` || string(tools[1]) != `{"name":"b"}` {
		t.Fatalf("tools = %s", tools)
	}
}

// TestFetchNoRedirect: a redirect would carry the server's credential to
// wherever it points; Fetch does not follow it.
func TestFetchNoRedirect(t *testing.T) {
	elsewhere, hits := fake(t, func(w http.ResponseWriter, r *http.Request, msg map[string]any) {
		rpcResult(w, msg, `{"tools":[]}`)
	})
	srv, _ := fake(t, func(w http.ResponseWriter, r *http.Request, msg map[string]any) {
		http.Redirect(w, r, elsewhere.URL, http.StatusTemporaryRedirect)
	})
	_, err := toolpin.Fetch(context.Background(), srv.Client(), srv.URL, http.Header{"X-Api-Key": {"k"}})
	if err == nil || !strings.Contains(err.Error(), "HTTP 307 (redirects are not followed)") {
		t.Fatalf("err = %v", err)
	}
	if *hits != 0 {
		t.Fatalf("the redirect target got %d requests", *hits)
	}
}

// TestFetchHeaders: the caller's header reaches the server but cannot
// replace the protocol's headers.
func TestFetchHeaders(t *testing.T) {
	var got http.Header
	srv, _ := fake(t, func(w http.ResponseWriter, r *http.Request, msg map[string]any) {
		got = r.Header.Clone()
		rpcResult(w, msg, `{"tools":[]}`)
	})
	h := http.Header{"X-Api-Key": {"k1"}, "Mcp-Protocol-Version": {"1999-01-01"}, "Mcp-Method": {"tools/call"}, "Accept": {"text/html"}}
	if _, err := toolpin.Fetch(context.Background(), srv.Client(), srv.URL, h); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"X-Api-Key": "k1", "Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list",
		"Accept": "application/json, text/event-stream", "Content-Type": "application/json"} {
		if v := got.Values(k); len(v) != 1 || v[0] != want {
			t.Errorf("%s = %q, want %q", k, v, want)
		}
	}
}

func TestFetchBadEndpoint(t *testing.T) {
	for _, e := range []string{"", "ftp://x/" + secret, "http://", "::" + secret, "/relative"} {
		_, err := toolpin.Fetch(context.Background(), nil, e, nil)
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("%q: %v", e, err)
		}
	}
	// Unreachable: the transport's error without the URL (which may hold
	// a credential in its query).
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/?token=" + secret
	srv.Close()
	_, err := toolpin.Fetch(context.Background(), nil, url, nil)
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("unreachable: %v", err)
	}
}

func TestFetchContextCanceled(t *testing.T) {
	srv, _ := fake(t, func(w http.ResponseWriter, r *http.Request, msg map[string]any) {
		rpcResult(w, msg, `{"tools":[]}`)
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := toolpin.Fetch(ctx, srv.Client(), srv.URL, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

// TestFetcherKeepsTheSession: against a 2025-11-25 server a Fetcher
// learns once that 2026-07-28 is refused and keeps its session, so each
// later list is one request; a session the server forgot (404) is opened
// again once. Against a 2026-07-28 server every list is one request.
func TestFetcherKeepsTheSession(t *testing.T) {
	t.Run("2025-11-25", func(t *testing.T) {
		srv, rec := sdkServer(t, 3, 100, mcp.ServerOptions{}, mcp.StreamableHTTPOptions{JSONResponse: true})
		var forget atomic.Bool
		target, _ := url.Parse(srv.URL)
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Mcp-Session-Id") != "" && forget.CompareAndSwap(true, false) {
				http.Error(w, "session not found", http.StatusNotFound)
				return
			}
			httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
		}))
		defer proxy.Close()
		f := &toolpin.Fetcher{Endpoint: proxy.URL, Header: auth}
		ctx := context.Background()
		for i := range 3 {
			tools, err := f.Fetch(ctx)
			if err != nil || len(tools) != 3 {
				t.Fatalf("fetch %d: %d tools, %v", i, len(tools), err)
			}
		}
		reqs := rec.requests()
		// 2026 attempt, initialize, initialized, list; then a list each.
		if len(reqs) != 6 {
			t.Fatalf("%d requests, want 6: %v", len(reqs), reqs)
		}
		for _, r := range reqs[4:] {
			if r.rpcMethod != "tools/list" || r.session == "" || r.version != "2025-11-25" {
				t.Fatalf("a later fetch sent %v", r)
			}
		}
		forget.Store(true)
		if tools, err := f.Fetch(ctx); err != nil || len(tools) != 3 {
			t.Fatalf("after the server forgot the session: %d tools, %v", len(tools), err)
		}
		f.Close(ctx)
		last := rec.requests()
		if got := last[len(last)-1]; got.httpMethod != http.MethodDelete {
			t.Fatalf("Close sent %v, want a DELETE", got)
		}
	})
	t.Run("2026-07-28", func(t *testing.T) {
		srv, rec := sdkServer(t, 3, 100, mcp.ServerOptions{}, mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
		f := &toolpin.Fetcher{Endpoint: srv.URL, Header: auth}
		for range 3 {
			if _, err := f.Fetch(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(rec.requests()); n != 3 {
			t.Fatalf("%d requests, want 3", n)
		}
	})
}

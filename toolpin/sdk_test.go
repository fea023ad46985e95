package toolpin_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestGoSDKRefusals pins how the official Go SDK's server answers a
// stateless (2026-07-28) request it will not serve: what Fetch's
// fallback and the gateway rely on. When an SDK upgrade changes one of
// these, revisit refusal in fetch.go.
func TestGoSDKRefusals(t *testing.T) {
	const (
		meta     = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}`
		toolList = `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{` + meta + `}}`
	)
	stateless := mcp.StreamableHTTPOptions{Stateless: true}
	cases := []struct {
		name   string
		sopts  mcp.ServerOptions
		hopts  mcp.StreamableHTTPOptions
		header map[string]string // "" deletes
		body   string
		status int
		code   int // JSON-RPC error code; 0: a plain-text body
	}{
		{"served", mcp.ServerOptions{}, stateless, nil, toolList, 200, 0},
		{"stateful server", mcp.ServerOptions{}, mcp.StreamableHTTPOptions{}, nil, toolList, 400, -32022},
		{"stateless server without 2026-07-28", mcp.ServerOptions{SupportedProtocolVersions: []string{"2025-11-25"}}, stateless, nil, toolList, 400, -32022},
		{"unknown newer revision", mcp.ServerOptions{}, stateless, map[string]string{"Mcp-Protocol-Version": "2027-01-01"},
			strings.ReplaceAll(toolList, "2026-07-28", "2027-01-01"), 400, -32022},
		{"unknown older revision header", mcp.ServerOptions{}, stateless, map[string]string{"Mcp-Protocol-Version": "2024-01-01"}, toolList, 400, 0},
		{"no clientCapabilities", mcp.ServerOptions{}, stateless, nil,
			`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`, 400, -32602},
		{"no _meta", mcp.ServerOptions{}, stateless, nil, `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`, 400, -32602},
		{"no Mcp-Method", mcp.ServerOptions{}, stateless, map[string]string{"Mcp-Method": ""}, toolList, 400, -32020},
		{"Mcp-Method mismatch", mcp.ServerOptions{}, stateless, map[string]string{"Mcp-Method": "tools/call"}, toolList, 400, -32020},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			server := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, &c.sopts)
			srv := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, &c.hopts))
			defer srv.Close()
			req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(c.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("Mcp-Protocol-Version", "2026-07-28")
			req.Header.Set("Mcp-Method", "tools/list")
			for k, v := range c.header {
				if v == "" {
					req.Header.Del(k)
				} else {
					req.Header.Set(k, v)
				}
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			if c.status == 200 {
				return
			}
			var msg struct {
				Error struct {
					Code int `json:"code"`
				} `json:"error"`
			}
			if err := json.Unmarshal(body, &msg); (err == nil) != (c.code != 0) || msg.Error.Code != c.code {
				t.Fatalf("body %s, want JSON-RPC error %d", body, c.code)
			}
		})
	}
}

package gateway_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardenhq/warden/gateway"
	"github.com/wardenhq/warden/ratelimit"
)

// fixedUpstream answers every request with reply and keeps the bodies
// it received.
type fixedUpstream struct {
	mu     sync.Mutex
	bodies [][]byte
	reply  string
}

func (f *fixedUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.bodies = append(f.bodies, b)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, f.reply)
}

func (f *fixedUpstream) last() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bodies[len(f.bodies)-1]
}

func newFixedGateway(t *testing.T, up *fixedUpstream, cfg gateway.Config, deps gateway.Deps) *httptest.Server {
	t.Helper()
	cfg.Upstreams = []*gateway.Upstream{{Name: "u", URL: upstreamURL(t, up), Models: []string{"*"}}}
	return newTestGateway(t, cfg, deps)
}

func post(t *testing.T, srv *httptest.Server, body string) (int, []byte) {
	t.Helper()
	resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

const plainReply = `{"id":"c1","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"All clear."},"finish_reason":"stop"}]}`

// A body with nothing to protect reaches the upstream byte for byte, and
// the upstream's answer reaches the caller byte for byte.
func TestCleanBodiesPassUnchanged(t *testing.T) {
	up := &fixedUpstream{reply: plainReply + "\n"}
	srv := newFixedGateway(t, up, gateway.Config{}, gateway.Deps{})
	body := "{ \"model\" : \"m\",\n  \"messages\": [ {\"role\":\"user\", \"content\":\"Summarise the \\u00e9t\\u00e9 plan, please.\"} ],\n \"temperature\": 0.50 }"
	status, out := post(t, srv, body)
	if status != 200 {
		t.Fatalf("status %d: %s", status, out)
	}
	if got := up.last(); string(got) != body {
		t.Fatalf("upstream received\n%s\nwant\n%s", got, body)
	}
	if string(out) != plainReply+"\n" {
		t.Fatalf("caller received\n%s", out)
	}
}

// Every string is scanned wherever it sits: key names do not tell
// identifiers from text.
func TestValuesAreScannedWhateverTheirKey(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		// sent must (or mustNot) appear in what the upstream received
		sent, mustNot string
	}{
		{"tool name",
			`{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"mail_jane.canary@example.com","description":"x"}}]}`,
			`[[EMAIL_ADDRESS:`, "jane.canary@example.com"},
		{"participant name is text",
			`{"model":"m","messages":[{"role":"user","name":"jane.canary@example.com","content":"hi"}]}`,
			`[[EMAIL_ADDRESS:`, "jane.canary@example.com"},
		{"finding in content",
			`{"model":"m","messages":[{"role":"user","content":"SSN 457-55-5462"}]}`,
			`[[US_SSN:`, "457-55-5462"},
		{"finding in a nested tool argument",
			`{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"t1","type":"function","function":{"name":"f","arguments":"{\"ssn\":\"457-55-5462\"}"}}]}]}`,
			`[[US_SSN:`, "457-55-5462"},
		{"escaped value",
			`{"model":"m","messages":[{"role":"user","content":"mail jane.canary\u0040example.com"}]}`,
			`[[EMAIL_ADDRESS:`, "canary"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := &fixedUpstream{reply: plainReply}
			srv := newFixedGateway(t, up, gateway.Config{}, gateway.Deps{})
			if status, out := post(t, srv, tc.body); status != 200 {
				t.Fatalf("status %d: %s", status, out)
			}
			got := string(up.last())
			if !strings.Contains(got, tc.sent) {
				t.Errorf("upstream received %s; want it to contain %s", got, tc.sent)
			}
			if tc.mustNot != "" && strings.Contains(got, tc.mustNot) {
				t.Errorf("upstream received %s", got)
			}
		})
	}
}

// Aliases are renamed in place; bodies a provider could read otherwise
// than the gateway (invalid UTF-8, which encoding/json would repair,
// trailing data, a non-object) are refused.
func TestAliasesAndMalformedBodies(t *testing.T) {
	up := &fixedUpstream{reply: plainReply}
	srv := newFixedGateway(t, up, gateway.Config{Aliases: map[string]string{"fast": "m-large"}}, gateway.Deps{})
	if status, out := post(t, srv, `{"model":"fast","messages":[{"role":"user","content":"hi"}]}`); status != 200 {
		t.Fatalf("alias: status %d: %s", status, out)
	}
	if got := string(up.last()); !strings.Contains(got, `"model":"m-large"`) {
		t.Fatalf("alias not applied: %s", got)
	}
	for _, bad := range []string{`{"model":"m"`, `["model"]`, `{"model":7}`, `{"model":"m"} {}`,
		"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"caf\xe9\"}]}"} {
		if status, _ := post(t, srv, bad); status != 400 {
			t.Errorf("%s: status %d, want 400", bad, status)
		}
	}
}

// A clean response that leaks nothing is answered as is; one holding a
// value the request never carried is masked; both report usage to the
// rate limiter.
func TestResponseGuardBothPaths(t *testing.T) {
	for _, tc := range []struct {
		name, reply string
		masked      bool
	}{
		{"clean", `{"choices":[{"message":{"role":"assistant","content":"All clear."}}],"usage":{"prompt_tokens":10,"completion_tokens":90000,"total_tokens":90010}}`, false},
		{"leak", `{"choices":[{"message":{"role":"assistant","content":"Her SSN is 457-55-5462."}}],"usage":{"prompt_tokens":10,"completion_tokens":90000,"total_tokens":90010}}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := &fixedUpstream{reply: tc.reply}
			srv := newFixedGateway(t, up, gateway.Config{
				DefaultPrincipalLimit: ratelimit.Limit{Tokens: 100000, Per: time.Minute},
			}, gateway.Deps{Limiter: ratelimit.NewMemory(nil)})
			status, out := post(t, srv, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
			if status != 200 {
				t.Fatalf("status %d: %s", status, out)
			}
			if bytes.Contains(out, []byte("457-55-5462")) {
				t.Fatalf("leak not masked: %s", out)
			}
			if !tc.masked && string(out) != tc.reply {
				t.Fatalf("clean reply changed: %s", out)
			}
			var doc map[string]any
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Fatalf("reply is not JSON: %v", err)
			}
			// The upstream reported 90010 tokens of a 100000 budget: the
			// next request's estimate no longer fits.
			big := `{"model":"m","messages":[{"role":"user","content":"` + strings.Repeat("word ", 8000) + `"}]}`
			if status, out := post(t, srv, big); status != 429 {
				t.Fatalf("after usage: status %d, want 429: %.200s", status, out)
			}
		})
	}
}

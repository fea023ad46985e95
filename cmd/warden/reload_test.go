package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// reloadGateway is `warden serve` (runServe, in process) on a config
// file the test rewrites, in front of an upstream whose streams wait for
// release before they finish.
type reloadGateway struct {
	t       *testing.T
	cfgPath string
	base    string // http://HOST:PORT/v1
	key     string
	logs    *syncBuffer
	started chan struct{}
	release chan struct{}
	unblock func() // closes release once
	stop    func()
	done    chan int
}

// reloadConfig is the test's config file: the slow upstream, a watch
// interval, and extra (policy, limits …) appended.
func (g *reloadGateway) config(upURL, extra string) string {
	dir := filepath.Dir(g.cfgPath)
	return "data_dir: " + yamlQuote(filepath.Join(dir, "data")) + "\nserver:\n  listen: 127.0.0.1:0\n  config_watch_interval: 100ms\n" +
		"upstreams:\n  - name: up\n    url: " + upURL + "/v1\n    models: [gpt-4o-mini]\n" + extra
}

func startReloadGateway(t *testing.T, extra string) (*reloadGateway, string) {
	g := &reloadGateway{t: t, started: make(chan struct{}, 8), release: make(chan struct{}), logs: &syncBuffer{}, done: make(chan int, 1)}
	var once sync.Once
	g.unblock = func() { once.Do(func() { close(g.release) }) }
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !bytes.Contains(body, []byte(`"stream":true`)) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"c1","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"before the reload. \"}}]}\n\n")
		w.(http.Flusher).Flush()
		g.started <- struct{}{}
		<-g.release
		io.WriteString(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"after the reload.\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
	}))
	t.Cleanup(up.Close)
	g.cfgPath = filepath.Join(t.TempDir(), "warden.yaml")
	g.write(g.config(up.URL, extra))
	code, out, errOut := apikeyRun(t, "create", "--config", g.cfgPath, "--name", "alice", "--models", "gpt-4o-mini")
	if code != exitOK {
		t.Fatalf("apikey create: %s", errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	g.key = lines[len(lines)-1]

	c := &cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: g.logs, getenv: func(string) string { return "" }}
	ctx, stop := context.WithCancel(context.Background())
	g.stop = stop
	go func() { g.done <- runServe(ctx, c, []string{"--config", g.cfgPath}) }()
	t.Cleanup(func() {
		g.unblock() // a stream waiting upstream would hold the shutdown
		stop()
		select {
		case <-g.done:
		case <-time.After(10 * time.Second):
			t.Error("serve did not stop")
		}
	})
	urlRE := regexp.MustCompile(`"url":"(http://[^"]+/v1)"`)
	for deadline := time.Now().Add(10 * time.Second); g.base == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := urlRE.FindStringSubmatch(g.logs.String()); m != nil {
			g.base = m[1]
		}
	}
	if g.base == "" {
		t.Fatalf("serve did not start: %s", g.logs.String())
	}
	return g, up.URL
}

func (g *reloadGateway) write(cfg string) {
	g.t.Helper()
	// Write a new file and rename it over the old one, as a ConfigMap
	// update does: the watcher never reads half a file.
	tmp := g.cfgPath + ".new"
	if err := os.WriteFile(tmp, []byte(cfg), 0o600); err != nil {
		g.t.Fatal(err)
	}
	if err := os.Rename(tmp, g.cfgPath); err != nil {
		g.t.Fatal(err)
	}
}

// waitLog waits for the n-th log line containing want.
func (g *reloadGateway) waitLog(want string, n int) {
	g.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); strings.Count(g.logs.String(), want) < n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			g.t.Fatalf("no %q in the log:\n%s", want, g.logs.String())
		}
	}
}

func (g *reloadGateway) chat(stream bool) *http.Response {
	g.t.Helper()
	body := `{"model":"gpt-4o-mini","stream":` + map[bool]string{true: "true", false: "false"}[stream] + `,"messages":[{"role":"user","content":"hello"}]}`
	req, _ := http.NewRequest("POST", g.base+"/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+g.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	return resp
}

// status sends a request and returns its status, or 403 for a policy
// denial (the API answers those 400 policy_denied).
func (g *reloadGateway) status() int {
	g.t.Helper()
	resp := g.chat(false)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusBadRequest && bytes.Contains(body, []byte("policy_denied")) {
		return http.StatusForbidden
	}
	return resp.StatusCode
}

// auditReloads are the config.reload entries of the gateway's log.
func (g *reloadGateway) auditReloads() []map[string]any {
	g.t.Helper()
	var exp, eb bytes.Buffer
	ec := &cli{stdin: strings.NewReader(""), stdout: &exp, stderr: &eb, getenv: func(string) string { return "" }}
	if code := runAudit(context.Background(), ec, []string{"export", "--config", g.cfgPath}); code != exitOK {
		g.t.Fatalf("audit export: %d %s", code, eb.String())
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(exp.String()), "\n") {
		if !strings.Contains(line, `"config.reload"`) {
			continue
		}
		var row struct {
			Entry map[string]any `json:"entry"`
		}
		if err := json.Unmarshal([]byte(line), &row); err != nil || row.Entry == nil {
			// the export line may be the entry itself
			var e map[string]any
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				g.t.Fatalf("export line: %v", err)
			}
			row.Entry = e
		}
		out = append(out, row.Entry)
	}
	return out
}

const denyAllPolicy = "policy:\n  rules:\n    - name: freeze\n      when: \"true\"\n      action: deny\n      reason: frozen by the operator\n"

// A config change reaches new requests without a restart, while a
// stream that started before it finishes intact under the old config.
// The reload is an audit entry naming the new policy's hash.
func TestConfigReloadAppliesToNewRequestsWhileStreamsInFlightFinish(t *testing.T) {
	g, upURL := startReloadGateway(t, "")
	if s := g.status(); s != http.StatusOK {
		t.Fatalf("before the reload: status %d", s)
	}
	resp := g.chat(true)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: status %d", resp.StatusCode)
	}
	<-g.started
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || !strings.Contains(line, "before") {
		t.Fatalf("first event: %q %v", line, err)
	}

	g.write(g.config(upURL, denyAllPolicy))
	g.waitLog(`"msg":"config reloaded"`, 1)
	if s := g.status(); s != http.StatusForbidden {
		t.Fatalf("after the reload a new request got %d, want 403 from the new policy", s)
	}

	g.unblock()
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatalf("the stream in flight was cut by the reload: %v", err)
	}
	if !strings.Contains(string(rest), "after the") || !strings.Contains(string(rest), "[DONE]") {
		t.Fatalf("the stream in flight did not finish:\n%s", rest)
	}

	reloads := g.auditReloads()
	if len(reloads) != 1 {
		t.Fatalf("%d config.reload entries, want 1", len(reloads))
	}
	d, _ := reloads[0]["details"].(map[string]any)
	if d["result"] != "applied" || d["trigger"] != "watch" {
		t.Fatalf("reload entry details: %v", d)
	}
	cfg, err := loadConfig(g.cfgPath, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if want := policyVersion(cfg); d["policy_hash"] != want || want == "" {
		t.Fatalf("policy_hash %v, want the new policy's %s", d["policy_hash"], want)
	}
}

// A config file with an error is refused, naming the key; the config in
// force stays and the refusal is audited. A change to a key that needs
// a restart applies the rest and says which key waits.
func TestConfigReloadRefusesAnInvalidFileAndKeepsTheOld(t *testing.T) {
	g, upURL := startReloadGateway(t, "")
	g.write(g.config(upURL, "server_typo: 1\n"))
	g.waitLog(`"msg":"config reload refused; the current config stays in force"`, 1)
	if !strings.Contains(g.logs.String(), "server_typo") {
		t.Fatalf("the refusal does not name the key:\n%s", g.logs.String())
	}
	if s := g.status(); s != http.StatusOK {
		t.Fatalf("after a refused reload: status %d, want the old config's 200", s)
	}
	// Plain http:// to a host that is not loopback is refused.
	g.write(g.config("http://models.example.com", ""))
	g.waitLog(`"msg":"config reload refused; the current config stays in force"`, 2)

	// A bad policy rule is refused by the build, not only by the parser.
	g.write(g.config(upURL, "policy:\n  rules:\n    - name: broken\n      when: \"has_category(\"\n      action: deny\n"))
	g.waitLog(`"msg":"config reload refused; the current config stays in force"`, 3)
	if s := g.status(); s != http.StatusOK {
		t.Fatalf("after a refused policy: status %d", s)
	}

	// server.listen needs a restart: the policy applies, the listener
	// stays, and the log says so.
	next := strings.Replace(g.config(upURL, denyAllPolicy), "listen: 127.0.0.1:0", "listen: 127.0.0.1:1", 1)
	g.write(next)
	g.waitLog(`"restart_required":"server.listen"`, 1)
	if s := g.status(); s != http.StatusForbidden {
		t.Fatalf("after the reload: status %d, want 403", s)
	}

	reloads := g.auditReloads()
	var results []string
	for _, r := range reloads {
		d, _ := r["details"].(map[string]any)
		results = append(results, d["result"].(string)+":"+strOr(d["error"])+":"+strOr(d["restart_required"]))
	}
	want := []string{"refused:line 9: unknown key server_typo:", "refused:upstreams[0].url:", "refused:policy.rules[0].when:", "applied::server.listen"}
	if strings.Join(results, " ") != strings.Join(want, " ") {
		t.Fatalf("reload entries %q, want %q", results, want)
	}
}

func strOr(v any) string {
	s, _ := v.(string)
	return s
}

// Limits change on reload without resetting anyone's window.
func TestConfigReloadChangesLimits(t *testing.T) {
	g, upURL := startReloadGateway(t, "")
	for i := 0; i < 3; i++ {
		if s := g.status(); s != http.StatusOK {
			t.Fatalf("request %d: %d", i, s)
		}
	}
	g.write(strings.Replace(g.config(upURL, ""), "  config_watch_interval: 100ms\n",
		"  config_watch_interval: 100ms\n  limits:\n    default: {requests_per_minute: 2}\n", 1))
	g.waitLog(`"msg":"config reloaded"`, 1)
	codes := []int{g.status(), g.status(), g.status()}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != http.StatusTooManyRequests {
		t.Fatalf("after a limit of 2/min: %v, want [200 200 429]", codes)
	}
	// Raising it applies as well: the next request passes.
	g.write(strings.Replace(g.config(upURL, ""), "  config_watch_interval: 100ms\n",
		"  config_watch_interval: 100ms\n  limits:\n    default: {requests_per_minute: 6000}\n", 1))
	g.waitLog(`"msg":"config reloaded"`, 2)
	if s := g.status(); s != http.StatusOK {
		t.Fatalf("after raising the limit to 6000/min: %d", s)
	}
}

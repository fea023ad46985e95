package main

import (
	"bufio"
	"bytes"
	"context"
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

// syncBuffer is a bytes.Buffer safe for a server's log and a test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Stopping `warden serve` lets a stream in flight finish, refuses new
// connections, and exits 0.
func TestServeDrainsStreamsOnShutdown(t *testing.T) {
	started, release := make(chan struct{}, 1), make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"before shutdown. \"}}]}\n\n")
		w.(http.Flusher).Flush()
		started <- struct{}{}
		<-release
		io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"after shutdown.\"}}]}\n\ndata: [DONE]\n\n")
	}))
	defer up.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "warden.yaml")
	cfg := "data_dir: " + filepath.Join(dir, "data") + "\nserver:\n  listen: 127.0.0.1:0\n  shutdown_timeout: 20s\n" +
		"upstreams:\n  - name: up\n    url: " + up.URL + "/v1\n    models: [gpt-4o-mini]\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := apikeyRun(t, "create", "--config", cfgPath, "--name", "alice", "--models", "gpt-4o-mini")
	if code != exitOK {
		t.Fatalf("apikey create: %s", errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	key := lines[len(lines)-1]

	var logs syncBuffer
	c := &cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &logs, getenv: func(string) string { return "" }}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan int, 1)
	go func() { done <- runServe(ctx, c, []string{"--config", cfgPath}) }()
	urlRE := regexp.MustCompile(`"url":"(http://[^"]+/v1)"`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := urlRE.FindStringSubmatch(logs.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("serve did not start: %s", logs.String())
	}

	req, _ := http.NewRequest("POST", base+"/chat/completions", strings.NewReader(`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	<-started
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "data:") {
		t.Fatalf("first event: %q %v", line, err)
	}

	stop() // as SIGTERM does
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(logs.String(), "shutting down"); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no shutdown log line")
		}
	}
	// Shutdown closes the listener: a new request cannot connect.
	time.Sleep(50 * time.Millisecond)
	if r2, err := http.Get(base + "/models"); err == nil {
		r2.Body.Close()
		t.Fatalf("new request during shutdown answered %d", r2.StatusCode)
	}
	select {
	case code := <-done:
		t.Fatalf("serve returned %d with a stream in flight", code)
	default:
	}

	close(release)
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatalf("stream cut: %v", err)
	}
	if !strings.Contains(string(rest), "after") || !strings.Contains(string(rest), "[DONE]") {
		t.Fatalf("stream did not finish:\n%s", rest)
	}
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("serve exit %d: %s", code, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return after the stream ended")
	}
}

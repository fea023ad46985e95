package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardenhq/warden/store/storetest"
)

// outageStack is `warden serve`'s stack on a store the test can stall,
// in front of an upstream whose streams wait for the test.
type outageStack struct {
	url, key string
	calls    atomic.Int32
	release  chan struct{}
}

func newOutageStack(t *testing.T, dsn string) *outageStack {
	t.Helper()
	o := &outageStack{release: make(chan struct{})}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		if !bytes.Contains(body, []byte(`"stream":true`)) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"c","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"the first words of the answer \"},\"finish_reason\":null}]}\n\n")
		w.(http.Flusher).Flush()
		<-o.release
		io.WriteString(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
	}))
	t.Cleanup(up.Close)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "warden.yaml")
	cfg := "data_dir: " + filepath.Join(dir, "data") + "\nstore:\n  dsn: " + dsn + "\n  timeout: 1s\n" +
		"server:\n  audit_timeout: 300ms\nupstreams:\n  - name: up\n    url: " + up.URL + "/v1\n    models: [gpt-4o-mini]\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	if code := runAPIKey(context.Background(), c, []string{"create", "--config", cfgPath, "--name", "alice", "--models", "gpt-4o-mini"}); code != exitOK {
		t.Fatalf("apikey create: %s", errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	o.key = lines[len(lines)-1]
	conf, err := loadConfig(cfgPath, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	gw, closeAll, err := buildGateway(context.Background(), conf, c, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(func() {
		select {
		case <-o.release:
		default:
			close(o.release)
		}
		srv.Close()
		closeAll()
	})
	o.url = srv.URL
	return o
}

func (o *outageStack) post(t *testing.T, stream bool) (*http.Response, error) {
	body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello there"}]}`
	if stream {
		body = `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hello there"}]}`
	}
	req, _ := http.NewRequest("POST", o.url+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+o.key)
	return http.DefaultClient.Do(req)
}

// With the audit store stalled before the call, no request reaches the
// upstream: the intent cannot be made durable, so the caller gets 503.
func TestStoreStalledBeforeTheCallSendsNothingUpstream(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		o := newOutageStack(t, dsn)
		release := storetest.Lock(t, dsn, "audit_entries", "audit_state", "audit_open")
		defer release()
		for _, stream := range []bool{false, true} {
			resp, err := o.post(t, stream)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 503 || !bytes.Contains(b, []byte("audit_unavailable")) {
				t.Fatalf("stream=%v: %d %s", stream, resp.StatusCode, b)
			}
		}
		if n := o.calls.Load(); n != 0 {
			t.Fatalf("the upstream got %d calls with the audit store stalled", n)
		}
	})
}

// With the audit store stalled in the middle of a stream, the caller
// gets the API's error event and never the terminal event: the
// completion could not be made durable.
func TestStoreStalledMidStreamEndsWithAnErrorEvent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		o := newOutageStack(t, dsn)
		resp, err := o.post(t, true)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		br := bufio.NewReader(resp.Body)
		line, err := br.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "data:") {
			t.Fatalf("first event: %q %v", line, err)
		}
		release := storetest.Lock(t, dsn, "audit_entries", "audit_state", "audit_open")
		defer release()
		close(o.release)
		done := make(chan []byte, 1)
		go func() {
			rest, _ := io.ReadAll(br)
			done <- rest
		}()
		var rest []byte
		select {
		case rest = <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the stream did not end")
		}
		if bytes.Contains(rest, []byte("[DONE]")) {
			t.Fatalf("the terminal event went out without its completion entry:\n%s", rest)
		}
		if !bytes.Contains(rest, []byte("event: error")) || !bytes.Contains(rest, []byte("audit")) {
			t.Fatalf("no error event:\n%s", rest)
		}
	})
}

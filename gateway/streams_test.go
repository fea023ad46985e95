package gateway_test

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/wardenhq/warden/gateway"
)

// heldStream is an upstream whose streams send one event, then wait
// for release before finishing.
type heldStream struct {
	started chan struct{}
	release chan struct{}
}

func (h *heldStream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"the first part of the answer \"}}]}\n\n")
	w.(http.Flusher).Flush()
	h.started <- struct{}{}
	<-h.release
	io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"last\"}}]}\n\ndata: [DONE]\n\n")
}

// The concurrent-stream cap refuses a stream over it with 503 before
// anything is sent upstream, and frees its slot when a stream ends.
func TestStreamCap(t *testing.T) {
	up := &heldStream{started: make(chan struct{}, 4), release: make(chan struct{})}
	released := false
	defer func() {
		if !released {
			close(up.release)
		}
	}()
	srv := newTestGateway(t, gateway.Config{
		Upstreams:  []*gateway.Upstream{{Name: "u", URL: upstreamURL(t, up), Models: []string{"*"}}},
		MaxStreams: 1,
	}, gateway.Deps{})
	body := `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`
	first, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Body.Close()
	<-up.started
	line, err := bufio.NewReader(first.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "data:") {
		t.Fatalf("first stream: %q %v", line, err)
	}

	second, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(second.Body)
	second.Body.Close()
	if second.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(out), "too_many_streams") {
		t.Fatalf("second stream: %d %s", second.StatusCode, out)
	}
	select {
	case <-up.started:
		t.Fatal("the refused stream was sent upstream")
	default:
	}

	close(up.release)
	released = true
	rest, _ := io.ReadAll(first.Body)
	if !strings.Contains(string(rest), "[DONE]") {
		t.Fatalf("first stream did not finish: %s", rest)
	}
	third, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	out, _ = io.ReadAll(third.Body)
	third.Body.Close()
	if third.StatusCode != 200 || !strings.Contains(string(out), "[DONE]") {
		t.Fatalf("stream after the first ended: %d %s", third.StatusCode, out)
	}
}

// Command standin runs the stand-in model upstream (internal/standin) as a
// process, for the npm end-to-end test, the SDK client matrix and the
// gateway benchmark: it echoes the last user message over the OpenAI and
// Anthropic APIs in their wire formats (tool calls, reasoning, thinking,
// errors: see the package doc for the flags' options and the in-message
// directives) and can append every request it receives to a file, so a
// script can check what the upstream saw.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wardenhq/warden/internal/standin"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("standin", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen `address`; port 0 picks a free one (see -addr-file)")
	addrFile := fs.String("addr-file", "", "write the bound host:port to this `file` once listening")
	delta := fs.Int("delta", 8, "reply text `bytes` per stream event")
	write := fs.Int("write", 0, "split every response body into flushed writes of this many `bytes` (0: whole)")
	record := fs.String("record", "", "append each request as a JSON line {method,path,header,body} to this `file`")
	models := fs.String("models", "echo", "comma-separated model `ids` that /v1/models reports")
	toolCalls := fs.Int("tool-calls", 0, "tool calls per answer when a request offers tools: 0 one per tool, `n` > 0 that many, < 0 none")
	interleave := fs.Bool("interleave", false, "interleave the stream events of parallel tool calls")
	ping := fs.String("ping", "start", "Anthropic ping events: start (after the first content_block_start, as the API), none, or every (between every two events)")
	reasoning := fs.Bool("reasoning", false, "add a reasoning item to every Responses answer")
	thinking := fs.Bool("thinking", false, "add a thinking block to every Anthropic answer")
	failFirst := fs.Int("fail-first", 0, "answer the first `n` requests with -fail-status, then normally")
	failStatus := fs.Int("fail-status", 429, "HTTP `status` of the -fail-first answers")
	retryAfter := fs.Duration("retry-after", 20*time.Millisecond, "what failed answers ask clients to wait (retry-after, retry-after-ms)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if p := standin.PingMode(*ping); p != standin.PingStart && p != standin.PingNone && p != standin.PingEvery {
		fmt.Fprintln(os.Stderr, "standin: -ping: want start, none or every")
		return 2
	}
	if *failStatus < 400 || *failStatus > 599 {
		fmt.Fprintln(os.Stderr, "standin: -fail-status: want an error status from 400 to 599")
		return 2
	}
	var h http.Handler = standin.New(standin.Options{DeltaBytes: *delta, WriteBytes: *write, Models: strings.Split(*models, ","),
		ToolCalls: *toolCalls, InterleaveTools: *interleave, Ping: standin.PingMode(*ping), Reasoning: *reasoning, Thinking: *thinking,
		FailFirst: *failFirst, FailStatus: *failStatus, RetryAfter: *retryAfter})
	if *record != "" {
		f, err := os.OpenFile(*record, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			fmt.Fprintln(os.Stderr, "standin: -record:", err)
			return 2
		}
		defer f.Close()
		h = &recorder{next: h, out: f}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "standin: -addr:", err)
		return 2
	}
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(ln.Addr().String()+"\n"), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, "standin: -addr-file:", err)
			return 2
		}
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "standin:", err)
			return 1
		}
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}
	return 0
}

// recorder appends each request to out before passing it on.
type recorder struct {
	next http.Handler
	mu   sync.Mutex
	out  io.Writer
}

type recorded struct {
	Method string      `json:"method"`
	Path   string      `json:"path"`
	Header http.Header `json:"header"`
	Body   string      `json:"body"`
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		http.Error(w, "read error", http.StatusBadRequest)
		return
	}
	line, _ := json.Marshal(recorded{Method: r.Method, Path: r.URL.Path, Header: r.Header, Body: string(body)})
	rc.mu.Lock()
	rc.out.Write(append(line, '\n'))
	rc.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	rc.next.ServeHTTP(w, r)
}

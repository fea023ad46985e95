package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/wardenhq/warden/toolpin"
)

// `warden mcp run`: a local stdio MCP server behind the gateway, for
// desktop agents (Claude Desktop and the like) that start an MCP server
// as a subprocess and speak newline-delimited JSON-RPC on its stdin and
// stdout. The agent starts warden mcp run instead; it starts the
// configured command as its own child and puts the gateway between the
// two (see mcpstdio.go for the bridge to the child):
//
//	agent ─stdin/stdout─▶ warden mcp run ─▶ gateway /mcp/NAME ─▶ bridge ─stdin/stdout─▶ command
//
// Each line the agent writes is one POST through the gateway's
// ServeHTTP, in process, authenticated with the Warden API key in
// $WARDEN_MCP_KEY; what comes back (a JSON answer or the events of an
// SSE one) is written to stdout, one message a line. A GET stream
// through the gateway carries what the server sends on its own
// (progress, logs, its requests). Stdout is the protocol: logs go to
// stderr.

const mcpRunHelp = `usage: warden mcp run --config FILE --server NAME [--key-env VAR]
       warden mcp run --config FILE --server NAME --approve [--tool T] [--yes]

Runs the stdio MCP server named NAME in the config (mcp.servers[].command,
exactly that argv: nothing else can be run) behind the gateway, speaking
MCP on standard input and output: point a desktop agent's MCP server
entry at this command. Every message goes through the same checks as
warden serve's /mcp/NAME: the allow rules, approved definitions, tokens
in results, restore_args, the audit log in the config's data directory.

The agent is authenticated by a Warden API key in the variable named by
--key-env (default WARDEN_MCP_KEY); make one with
  warden apikey create --name desktop --tenant T --roles support
and put it in the agent's MCP server environment. The server gets only
PATH, HOME and the variables listed in its env: key.

--approve starts the server, lists its tools and pins their definitions
after a typed confirmation (or --yes), as warden mcp approve does for
an HTTP server; then exits.

Logs are JSON lines on standard error. Exit codes: 0 the agent closed its
input, 1 the server failed or exited, 2 usage or configuration error.

Flags:
`

// Bounds of warden mcp run.
const (
	runInFlight   = 256             // agent messages handled at once
	childStopWait = 5 * time.Second // after closing its stdin, before killing it
	streamRetry   = 2 * time.Second
)

func runMCPRun(ctx context.Context, c *cli, args []string) int {
	fs := flag.NewFlagSet("warden mcp run", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	configPath := fs.String("config", "", "config `file`")
	server := fs.String("server", "", "the stdio MCP server's name in the config (required)")
	keyEnv := fs.String("key-env", "WARDEN_MCP_KEY", "the `variable` holding the agent's Warden API key")
	approve := fs.Bool("approve", false, "list the server's tools, pin their definitions and exit")
	tool := fs.String("tool", "", "with --approve: only this tool")
	yes := fs.Bool("yes", false, "with --approve: do not ask for confirmation")
	fs.Usage = func() { fmt.Fprint(c.stderr, mcpRunHelp); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	const prog = "warden mcp run"
	if fs.NArg() > 0 {
		fmt.Fprintln(c.stderr, prog+": unexpected arguments: the command run is the config's mcp.servers[].command, and only that")
		return exitUsage
	}
	cfg, ok := configOrExit(c, "mcp run", *configPath)
	if !ok {
		return exitUsage
	}
	sc, ok := findMCPServer(cfg, *server)
	if !ok {
		fmt.Fprintf(c.stderr, "%s: --server: no MCP server named %q in the config\n", prog, *server)
		return exitUsage
	}
	if len(sc.Command) == 0 {
		fmt.Fprintf(c.stderr, "%s: mcp.servers: %s has no command (a url server is served by warden serve)\n", prog, sc.Name)
		return exitUsage
	}
	env, err := childEnv(cfg, sc, c, *keyEnv)
	if err != nil {
		fmt.Fprintf(c.stderr, "%s: %v\n", prog, err)
		return exitUsage
	}
	key := ""
	if !*approve {
		if key = c.getenv(*keyEnv); key == "" {
			fmt.Fprintf(c.stderr, "%s: %s is not set: the agent needs a Warden API key; make one with\n"+
				"  warden apikey create --name desktop --tenant T --roles ROLE\n"+
				"and set %s in the agent's MCP server environment\n", prog, *keyEnv, *keyEnv)
			return exitUsage
		}
	}
	log := newLogger(c, cfg.Server.LogLevel).With("server", sc.Name)
	child, err := startChild(sc.Command, env, c.stderr, log)
	if err != nil {
		fmt.Fprintf(c.stderr, "%s: mcp.servers: %s: the command could not be started: %v\n", prog, sc.Name, err)
		return exitFailure
	}
	defer child.stop()
	if *approve {
		fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defs, err := toolpin.Fetch(fctx, &http.Client{Transport: localTransport{child.bridge}}, "http://in-process/mcp", nil)
		cancel()
		if err != nil {
			fmt.Fprintln(c.stderr, prog+": could not list the server's tools:", err)
			return exitFailure
		}
		return approveTools(ctx, c, cfg, sc, defs, *tool, *yes, prog+" --approve")
	}
	gw, closeAll, err := buildGatewayWith(ctx, cfg, c, log, map[string]http.Handler{sc.Name: child.bridge})
	if err != nil {
		fmt.Fprintf(c.stderr, "%s: %v\n", prog, err)
		return exitUsage
	}
	defer closeAll()
	log.Info("warden mcp run: serving the stdio MCP server to the agent on stdin/stdout", "command", sc.Command[0])
	a := &agentLink{gw: gw, path: "/mcp/" + sc.Name, key: key, keyEnv: *keyEnv, out: c.stdout, log: log}
	return a.serve(ctx, c.stdin, child.bridge.done)
}

// childEnv is the stdio server's environment: PATH, HOME and the
// variables its env key names, never one that holds a secret of
// Warden's (the agent's key, keys.passphrase_env, the *_env keys).
func childEnv(cfg *Config, sc MCPServerConfig, c *cli, keyEnv string) ([]string, error) {
	secret := map[string]bool{keyEnv: true}
	for _, n := range []string{cfg.Keys.PassphraseEnv, cfg.Transform.KeyEnv} {
		secret[n] = n != ""
	}
	for _, u := range cfg.Upstreams {
		secret[u.KeyEnv] = u.KeyEnv != ""
	}
	for _, s := range cfg.MCP.Servers {
		secret[s.Auth.KeyEnv] = s.Auth.KeyEnv != ""
	}
	var env []string
	for _, n := range []string{"PATH", "HOME"} {
		if v := c.getenv(n); v != "" {
			env = append(env, n+"="+v)
		}
	}
	for _, n := range sc.Env {
		if secret[n] || strings.HasPrefix(strings.ToUpper(n), "WARDEN_") {
			return nil, fmt.Errorf("mcp.servers: %s: env: %s holds a secret of Warden's; it never reaches an MCP server", sc.Name, n)
		}
		if n == "PATH" || n == "HOME" {
			continue
		}
		if v := c.getenv(n); v != "" {
			env = append(env, n+"="+v)
		}
	}
	return env, nil
}

// stdioChild is the running stdio server and the bridge to it.
type stdioChild struct {
	cmd    *exec.Cmd
	stdin  io.Closer
	bridge *stdioBridge
	log    *slog.Logger
}

// startChild starts argv with env, its stderr on ours.
func startChild(argv, env []string, stderr io.Writer, log *slog.Logger) (*stdioChild, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Stderr = stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &stdioChild{cmd: cmd, stdin: in, bridge: newStdioBridge(in, out, log), log: log}, nil
}

// stop closes the server's stdin (the stdio transport's way to say
// goodbye), waits a little for it to exit, then kills it.
func (c *stdioChild) stop() {
	c.stdin.Close()
	select {
	case <-c.bridge.done:
	case <-time.After(childStopWait):
		c.log.Warn("the stdio MCP server did not exit after its input closed; killing it")
		c.cmd.Process.Kill()
		select {
		case <-c.bridge.done:
		case <-time.After(childStopWait):
		}
	}
	if err := c.cmd.Wait(); err != nil {
		c.log.Warn("the stdio MCP server exited", "error", err.Error())
	}
}

// agentLink carries the agent's messages through the gateway and the
// answers back.
type agentLink struct {
	gw     http.Handler
	path   string
	key    string
	keyEnv string
	log    *slog.Logger

	omu sync.Mutex
	out io.Writer
	bad bool // stdout failed: the agent is gone

	warnedAuth sync.Once
}

// serve reads the agent's messages until its input ends (exitOK) or the
// server's process is gone (exitFailure).
func (a *agentLink) serve(ctx context.Context, in io.Reader, childDone <-chan struct{}) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	streamDone := make(chan struct{})
	go func() {
		defer close(streamDone)
		a.stream(ctx)
	}()
	lines := make(chan []byte)
	go func() {
		defer close(lines)
		br := bufio.NewReaderSize(in, 64<<10)
		for {
			line, err := readLine(br, maxStdioLine)
			if errors.Is(err, errStdioLine) {
				a.log.Warn("the agent sent a message larger than the limit; dropped", "limit_bytes", maxStdioLine)
				continue
			}
			if err != nil {
				return
			}
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			select {
			case lines <- line:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	sem := make(chan struct{}, runInFlight)
	code := exitOK
loop:
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				break loop
			}
			if isInitialize(line) {
				// The agent waits for this answer before anything else;
				// handling it first keeps its initialize the child's.
				a.post(ctx, line)
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				break loop
			}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				a.post(ctx, line)
			}()
		case <-childDone:
			a.log.Error("the stdio MCP server exited; stopping")
			code = exitFailure
			break loop
		case <-ctx.Done():
			break loop
		}
	}
	wg.Wait()
	cancel()
	<-streamDone
	return code
}

func isInitialize(line []byte) bool {
	var m bridgeMessage
	return json.Unmarshal(line, &m) == nil && m.Method == "initialize"
}

// request builds an in-process request to the gateway.
func (a *agentLink) request(ctx context.Context, method string, body []byte) *http.Request {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, _ := http.NewRequestWithContext(ctx, method, "http://localhost"+a.path, r)
	req.RemoteAddr = "127.0.0.1:0"
	req.Header.Set("Authorization", "Bearer "+a.key)
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("User-Agent", "warden-mcp-run")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		req.ContentLength = int64(len(body))
	}
	return req
}

// post sends one message of the agent's through the gateway and writes
// the answer's messages to stdout.
func (a *agentLink) post(ctx context.Context, line []byte) {
	var msg bridgeMessage
	// The gateway judges the message; this only reads its routing. An
	// unreadable one gets the gateway's parse error (id null).
	expects := json.Unmarshal(line, &msg) != nil || msg.isRequest()
	req := a.request(ctx, http.MethodPost, line)
	// Revision 2026-07-28 repeats the method and name in headers; here
	// they come from the agent's own message, so they always match it.
	if msg.Method != "" && headerSafe(msg.Method) {
		req.Header.Set("Mcp-Method", msg.Method)
		var p struct {
			Name string `json:"name"`
			URI  string `json:"uri"`
		}
		json.Unmarshal(msg.Params, &p)
		if n := p.Name + p.URI; n != "" && headerSafe(n) {
			req.Header.Set("Mcp-Name", n)
		}
	}
	resp := serveLocal(a.gw, req)
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		a.warnedAuth.Do(func() {
			a.log.Error("the gateway refused the agent's key (401): set " + a.keyEnv + " to a key from warden apikey create")
		})
	}
	answered := false
	deliver := func(data []byte) {
		if isAnswerTo(data, msg.ID) {
			answered = true
		}
		if expects {
			a.write(data)
		}
	}
	switch mediaType(resp.Header.Get("Content-Type")) {
	case "text/event-stream":
		readSSE(resp.Body, deliver)
	case "application/json":
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxStdioLine+1))
		if err == nil && len(body) <= maxStdioLine && len(bytes.TrimSpace(body)) > 0 {
			deliver(body)
		}
	}
	if !expects {
		if resp.StatusCode >= 300 {
			a.log.Warn("the gateway refused a notification or response of the agent's", "status", resp.StatusCode)
		}
		return
	}
	if !answered && msg.isRequest() {
		a.write(rpcErrorBody(msg.ID, -32603, fmt.Sprintf("the gateway gave no answer (HTTP %d)", resp.StatusCode)))
	}
}

// stream keeps a GET stream open through the gateway and writes the
// server's own messages (notifications, its requests) to stdout.
func (a *agentLink) stream(ctx context.Context) {
	failed := 0
	for ctx.Err() == nil {
		resp := serveLocal(a.gw, a.request(ctx, http.MethodGet, nil))
		if resp.StatusCode == http.StatusOK && mediaType(resp.Header.Get("Content-Type")) == "text/event-stream" {
			failed = 0
			readSSE(resp.Body, a.write)
		} else {
			if failed == 0 {
				a.log.Warn("the gateway refused the stream of the server's messages; retrying", "status", resp.StatusCode)
			}
			failed++
		}
		resp.Body.Close()
		select {
		case <-ctx.Done():
		case <-time.After(100*time.Millisecond + streamRetry*time.Duration(min(failed, 15))):
		}
	}
}

// write puts one message on stdout, compacted onto one line.
func (a *agentLink) write(msg []byte) {
	var line bytes.Buffer
	if json.Compact(&line, msg) != nil {
		a.log.Warn("the gateway answered with something that is not JSON; dropped")
		return
	}
	line.WriteByte('\n')
	a.omu.Lock()
	defer a.omu.Unlock()
	if a.bad {
		return
	}
	if _, err := a.out.Write(line.Bytes()); err != nil {
		a.bad = true
		a.log.Warn("writing to the agent failed", "error", err.Error())
	}
}

// isAnswerTo says msg is a response (no method) whose id is id.
func isAnswerTo(msg []byte, id json.RawMessage) bool {
	if len(id) == 0 {
		return false
	}
	var m bridgeMessage
	if json.Unmarshal(msg, &m) != nil || m.Method != "" {
		return false
	}
	return bytes.Equal(bytes.TrimSpace(m.ID), bytes.TrimSpace(id))
}

// headerSafe says s can be a header value as it is.
func headerSafe(s string) bool {
	if len(s) > 1024 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7E {
			return false
		}
	}
	return true
}

func mediaType(ct string) string {
	ct, _, _ = strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(ct))
}

// readSSE calls fn with the data of each event of a text/event-stream
// with data (WHATWG "Server-sent events": data lines join with LF, a
// blank line ends the event; the gateway writes LF line ends), until
// the stream ends.
func readSSE(r io.Reader, fn func(data []byte)) {
	br := bufio.NewReaderSize(r, 64<<10)
	var data []byte
	has := false
	for {
		line, err := readLine(br, maxStdioLine)
		if errors.Is(err, errStdioLine) {
			data, has = nil, false
			continue
		}
		if err != nil {
			if has && len(bytes.TrimSpace(data)) > 0 {
				fn(data)
			}
			return
		}
		if len(line) == 0 {
			if has && len(bytes.TrimSpace(data)) > 0 {
				fn(data)
			}
			data, has = nil, false
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		if string(field) != "data" {
			continue // event, id, retry, comments
		}
		value = bytes.TrimPrefix(value, []byte(" "))
		if has {
			data = append(data, '\n')
		}
		data = append(data, value...)
		has = true
	}
}

// serveLocal serves req with h in process. The body streams what h
// writes, so an SSE answer arrives event by event; closing it stops h's
// writes.
func serveLocal(h http.Handler, req *http.Request) *http.Response {
	pr, pw := io.Pipe()
	rw := &localResponse{header: http.Header{}, pw: pw, ready: make(chan struct{})}
	go func() {
		defer func() {
			rw.WriteHeader(http.StatusOK)
			pw.Close()
		}()
		h.ServeHTTP(rw, req)
	}()
	<-rw.ready
	return &http.Response{StatusCode: rw.status, Header: rw.sent, Body: pr, Request: req}
}

// localResponse is the http.ResponseWriter of serveLocal.
type localResponse struct {
	header http.Header
	sent   http.Header // header as of WriteHeader
	pw     *io.PipeWriter
	status int
	ready  chan struct{}
	wrote  bool
}

func (l *localResponse) Header() http.Header { return l.header }

func (l *localResponse) WriteHeader(code int) {
	if l.wrote {
		return
	}
	l.wrote, l.status, l.sent = true, code, l.header.Clone()
	close(l.ready)
}

func (l *localResponse) Write(b []byte) (int, error) {
	l.WriteHeader(http.StatusOK)
	return l.pw.Write(b)
}

// Flush is a no-op (every write reaches the reader at once); the
// gateway's SSE relay needs it.
func (l *localResponse) Flush() {}

// localTransport is an http.RoundTripper that serves requests in
// process (toolpin.Fetch for --approve).
type localTransport struct{ h http.Handler }

func (t localTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return serveLocal(t.h, r), nil
}

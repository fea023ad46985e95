package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The stdio bridge: a local MCP server that speaks newline-delimited
// JSON-RPC on its stdin and stdout (the stdio transport), served as a
// Streamable HTTP endpoint in process, so that `warden mcp run` puts the
// gateway — the same handler as `warden serve`'s /mcp/{name}, with its
// allowlists, pins, tokenization and audit log — between a desktop agent
// and the server (gateway.MCPServer.Handler).
//
//	agent ─stdin/stdout─▶ warden mcp run ─ServeHTTP─▶ gateway ─ServeHTTP─▶ bridge ─stdin/stdout─▶ child
//
// A stdio server has one session, and two parties speak to it through
// the bridge: the agent, and the gateway itself, which lists the tools
// (toolpin.Fetch) before every call to check their definitions. The
// bridge keeps them apart:
//
//   - The first initialize — the agent's, in practice: it is the first
//     message an agent sends — goes to the child as it is (the agent's
//     revision, capabilities and name), and the bridge sends
//     notifications/initialized itself once the child answers. The result
//     is kept; any later initialize is answered from it and never reaches
//     the child, so a second initializer cannot reset the agent's session.
//     The agent's own notifications/initialized is then swallowed.
//   - toolpin.Fetch speaks revision 2026-07-28 first: a stateless
//     tools/list carrying the revision in params._meta. The bridge answers
//     it by forwarding a plain tools/list (those _meta keys removed) into
//     the child's session: one round trip, no initialize, whatever revision
//     the agent chose. Any other request of that revision (server/discover,
//     an agent trying it first) is refused with -32022 naming 2025-11-25,
//     so clients fall back to initialize, as they would with any
//     session-based server.
//   - Should the gateway need the child before anyone initialized it
//     (`warden mcp run --approve` has no agent), the bridge initializes it
//     itself: revision 2025-11-25, no client capabilities.
//
// Requests get ids of the bridge's own on the way to the child (the agent
// and Fetch both count from 1) and their own back on the answer. A
// message from the child that answers no pending request — a
// notification, or a request of the server (ping, roots/list, sampling)
// — is queued for the GET stream, which `warden mcp run` keeps open
// through the gateway (so it is guarded like any answer); the agent's
// answers to the server's requests come back as POSTs and go to the
// child as they are. The bridge hands out no Mcp-Session-Id: the session
// is the child's and ends when warden mcp run stops it.

// Bounds of the bridge.
const (
	maxStdioLine    = 32 << 20 // bytes of one message from the child or the agent
	maxStdioQueued  = 1024     // messages waiting for the GET stream
	stdioKeepalive  = 15 * time.Second
	stdioRevision   = "2025-11-25"
	rpcUnsupportedV = -32022
	metaKeyPrefix   = "io.modelcontextprotocol/"
	bridgeName      = "warden-mcp-run"
)

// errStdioLine is a line longer than maxStdioLine; it was skipped.
var errStdioLine = errors.New("line longer than the limit")

// errChildGone: the child's stdout ended (it exited or closed it).
var errChildGone = errors.New("the MCP server's process is gone")

// stdioBridge is the http.Handler in front of one stdio MCP server.
type stdioBridge struct {
	log *slog.Logger

	wmu sync.Mutex // serialises writes to in
	in  io.Writer  // the child's stdin

	mu        sync.Mutex
	nextID    int64
	pending   map[int64]*pendingCall
	queue     [][]byte // unsolicited messages for the GET stream
	streaming bool     // a GET stream is attached
	wake      chan struct{}
	done      chan struct{} // closed when the child's stdout ends

	initMu  sync.Mutex      // held during the handshake
	initRes json.RawMessage // the child's initialize result, once initialized
}

// pendingCall is a request sent to the child, waiting for its answer.
type pendingCall struct {
	orig json.RawMessage // the requester's id
	ch   chan []byte     // the child's answer (buffered, 1)
}

// newStdioBridge serves the child whose stdin is in and whose stdout is
// out; it reads out until it ends.
func newStdioBridge(in io.Writer, out io.Reader, log *slog.Logger) *stdioBridge {
	b := &stdioBridge{log: log, in: in, pending: map[int64]*pendingCall{},
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	go b.readChild(out)
	return b
}

var _ http.Handler = (*stdioBridge)(nil)

// ServeHTTP serves POST (one JSON-RPC message) and GET (the stream of
// the child's unsolicited messages).
func (b *stdioBridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		b.post(w, r)
	case http.MethodGet:
		b.stream(w, r)
	default:
		// DELETE included: the session is the child's and ends with it.
		w.Header().Set("Allow", "GET, POST")
		writeRPC(w, http.StatusMethodNotAllowed, rpcErrorBody(nil, -32600, "use POST or GET"))
	}
}

// bridgeMessage is the part of a JSON-RPC message the bridge routes on.
type bridgeMessage struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
}

func (m *bridgeMessage) isRequest() bool {
	return m.Method != "" && len(m.ID) > 0 && string(m.ID) != "null"
}

func (b *stdioBridge) post(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxStdioLine+1))
	if err != nil || len(body) > maxStdioLine {
		writeRPC(w, http.StatusRequestEntityTooLarge, rpcErrorBody(nil, -32600, "message too large or unreadable"))
		return
	}
	var msg bridgeMessage
	if json.Unmarshal(body, &msg) != nil || msg.JSONRPC != "2.0" {
		writeRPC(w, http.StatusBadRequest, rpcErrorBody(nil, -32700, "not a JSON-RPC 2.0 message"))
		return
	}
	ctx := r.Context()
	switch {
	case !msg.isRequest():
		b.forwardNotice(w, body, &msg)
	case stateless(msg.Params) && msg.Method != "tools/list":
		writeRPC(w, http.StatusBadRequest, rpcErrorBodyData(msg.ID, rpcUnsupportedV,
			"this stdio server is served in revision "+stdioRevision+": initialize first",
			map[string]any{"supported": []string{stdioRevision}}))
	case msg.Method == "initialize":
		res, errResp, err := b.initialize(ctx, msg.Params)
		b.answer(w, msg.ID, res, errResp, err)
	case msg.Method == "ping" && !b.initialized():
		b.answer(w, msg.ID, json.RawMessage(`{}`), nil, nil)
	default:
		if _, errResp, err := b.ensureInit(ctx); err != nil || errResp != nil {
			b.answer(w, msg.ID, nil, errResp, err)
			return
		}
		out, err := withoutStatelessMeta(body)
		if err != nil {
			writeRPC(w, http.StatusBadRequest, rpcErrorBody(msg.ID, -32700, "not a JSON-RPC 2.0 message"))
			return
		}
		resp, err := b.call(ctx, out, msg.ID)
		if err != nil {
			b.answer(w, msg.ID, nil, nil, err)
			return
		}
		writeRPC(w, http.StatusOK, resp)
	}
}

// forwardNotice passes a notification or a response (to a request of
// the child) on to the child; the child's session was initialized by the
// bridge, so the requester's notifications/initialized is not.
func (b *stdioBridge) forwardNotice(w http.ResponseWriter, body []byte, msg *bridgeMessage) {
	switch msg.Method {
	case "notifications/initialized":
		w.WriteHeader(http.StatusAccepted)
		return
	case "notifications/cancelled":
		// The requester names its own id; the child knows the bridge's.
		var p map[string]json.RawMessage
		if json.Unmarshal(msg.Params, &p) != nil {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		id, ok := b.bridgeID(p["requestId"])
		if !ok {
			// Not pending, or ambiguous: a cancel must never hit
			// another caller's request.
			w.WriteHeader(http.StatusAccepted)
			return
		}
		p["requestId"] = json.RawMessage(strconv.FormatInt(id, 10))
		params, _ := json.Marshal(p)
		body, _ = json.Marshal(map[string]any{"jsonrpc": "2.0", "method": msg.Method, "params": json.RawMessage(params)})
	}
	if err := b.send(body); err != nil {
		writeRPC(w, http.StatusBadGateway, rpcErrorBody(nil, -32002, "the MCP server's process is gone"))
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// answer writes the response to the request id: result, the child's
// error response errResp (its id replaced), or err.
func (b *stdioBridge) answer(w http.ResponseWriter, id, result, errResp json.RawMessage, err error) {
	switch {
	case err != nil:
		status := http.StatusBadGateway
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			status = http.StatusGatewayTimeout
		}
		writeRPC(w, status, rpcErrorBody(id, -32002, err.Error()))
	case errResp != nil:
		out, _ := withID(errResp, id)
		writeRPC(w, http.StatusOK, out)
	default:
		out, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "result": result})
		writeRPC(w, http.StatusOK, out)
	}
}

func (b *stdioBridge) initialized() bool {
	b.initMu.Lock()
	defer b.initMu.Unlock()
	return b.initRes != nil
}

// initialize answers an initialize request: the first is the child's
// handshake, with params as they came; later ones get its result.
func (b *stdioBridge) initialize(ctx context.Context, params json.RawMessage) (res, errResp json.RawMessage, err error) {
	b.initMu.Lock()
	defer b.initMu.Unlock()
	if b.initRes != nil {
		return b.initRes, nil, nil
	}
	return b.handshake(ctx, params)
}

// ensureInit initializes the child with the bridge's own parameters
// when nobody did yet.
func (b *stdioBridge) ensureInit(ctx context.Context) (res, errResp json.RawMessage, err error) {
	b.initMu.Lock()
	defer b.initMu.Unlock()
	if b.initRes != nil {
		return b.initRes, nil, nil
	}
	b.log.Info("initializing the stdio MCP server before any agent did", "revision", stdioRevision)
	params, _ := json.Marshal(map[string]any{"protocolVersion": stdioRevision, "capabilities": map[string]any{},
		"clientInfo": map[string]string{"name": bridgeName, "version": "1"}})
	return b.handshake(ctx, params)
}

// handshake runs initialize and notifications/initialized; b.initMu is
// held. A JSON-RPC error from the child comes back as errResp (nothing
// is kept: the next initialize tries again).
func (b *stdioBridge) handshake(ctx context.Context, params json.RawMessage) (res, errResp json.RawMessage, err error) {
	req, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params})
	resp, err := b.call(ctx, req, json.RawMessage("0"))
	if err != nil {
		return nil, nil, err
	}
	var m struct {
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	if json.Unmarshal(resp, &m) != nil || (m.Result == nil && m.Error == nil) {
		return nil, nil, errors.New("the MCP server answered initialize with a malformed message")
	}
	if m.Error != nil {
		return nil, resp, nil
	}
	if err := b.send([]byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)); err != nil {
		return nil, nil, err
	}
	b.initRes = m.Result
	return m.Result, nil, nil
}

// call sends the request msg (a JSON object) to the child under an id
// of the bridge's and waits for the answer, which it returns with orig
// as its id.
func (b *stdioBridge) call(ctx context.Context, msg []byte, orig json.RawMessage) ([]byte, error) {
	b.mu.Lock()
	select {
	case <-b.done:
		b.mu.Unlock()
		return nil, errChildGone
	default:
	}
	b.nextID++
	id := b.nextID
	p := &pendingCall{orig: bytes.TrimSpace(orig), ch: make(chan []byte, 1)}
	b.pending[id] = p
	b.mu.Unlock()
	out, err := withID(msg, json.RawMessage(strconv.FormatInt(id, 10)))
	if err == nil {
		err = b.send(out)
	}
	if err != nil {
		b.drop(id)
		return nil, err
	}
	select {
	case resp := <-p.ch:
		return withID(resp, orig)
	case <-b.done:
		select {
		case resp := <-p.ch:
			return withID(resp, orig)
		default:
		}
		b.drop(id)
		return nil, errChildGone
	case <-ctx.Done():
		b.drop(id)
		cancel, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "notifications/cancelled",
			"params": map[string]any{"requestId": id, "reason": "the gateway stopped waiting"}})
		b.send(cancel)
		return nil, ctx.Err()
	}
}

func (b *stdioBridge) drop(id int64) {
	b.mu.Lock()
	delete(b.pending, id)
	b.mu.Unlock()
}

// bridgeID finds the one pending request whose requester's id is orig.
func (b *stdioBridge) bridgeID(orig json.RawMessage) (int64, bool) {
	orig = bytes.TrimSpace(orig)
	if len(orig) == 0 {
		return 0, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var found int64
	n := 0
	for id, p := range b.pending {
		if bytes.Equal(p.orig, orig) {
			found, n = id, n+1
		}
	}
	return found, n == 1
}

// send writes one message, compacted onto one line, to the child.
func (b *stdioBridge) send(msg []byte) error {
	var line bytes.Buffer
	if err := json.Compact(&line, msg); err != nil {
		return errors.New("not a JSON message")
	}
	line.WriteByte('\n')
	b.wmu.Lock()
	defer b.wmu.Unlock()
	if _, err := b.in.Write(line.Bytes()); err != nil {
		return errChildGone
	}
	return nil
}

// readChild routes each line the child writes until its stdout ends.
func (b *stdioBridge) readChild(out io.Reader) {
	defer close(b.done)
	br := bufio.NewReaderSize(out, 64<<10)
	for {
		line, err := readLine(br, maxStdioLine)
		if errors.Is(err, errStdioLine) {
			b.log.Warn("the stdio MCP server wrote a message larger than the limit; dropped", "limit_bytes", maxStdioLine)
			continue
		}
		if err != nil {
			if err != io.EOF {
				b.log.Warn("reading the stdio MCP server's output failed", "error", err.Error())
			}
			return
		}
		b.route(line)
	}
}

// route delivers one line of the child's: an answer to its pending
// request, anything else to the GET stream.
func (b *stdioBridge) route(line []byte) {
	kind, id, msg := classifyChildLine(line)
	switch kind {
	case childBlank:
	case childInvalid:
		// Never logged: the line is the server's output, which may hold
		// anything.
		b.log.Warn("the stdio MCP server wrote a line that is not one JSON-RPC message; dropped", "bytes", len(line))
	case childResponse:
		b.mu.Lock()
		p := b.pending[id]
		delete(b.pending, id)
		b.mu.Unlock()
		if p == nil {
			b.log.Warn("the stdio MCP server answered a request nobody is waiting for; dropped")
			return
		}
		p.ch <- msg
	case childMessage:
		b.mu.Lock()
		if len(b.queue) >= maxStdioQueued {
			b.queue = b.queue[1:]
			b.log.Warn("too many messages from the stdio MCP server wait for the agent; the oldest was dropped", "limit", maxStdioQueued)
		}
		b.queue = append(b.queue, msg)
		b.mu.Unlock()
		select {
		case b.wake <- struct{}{}:
		default:
		}
	}
}

// Kinds of lines the child writes.
const (
	childBlank    = iota
	childInvalid  // not one JSON-RPC 2.0 message, or an answer to an id the bridge never used
	childResponse // the answer to the bridge's request id
	childMessage  // a notification or a request of the server
)

// classifyChildLine reads one line of the child's output: its kind, the
// id of a response, and the message compacted (no newline, ready for an
// SSE data line).
func classifyChildLine(line []byte) (kind int, id int64, msg []byte) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return childBlank, 0, nil
	}
	var m struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Method  *string         `json:"method"`
	}
	if line[0] != '{' || json.Unmarshal(line, &m) != nil || m.JSONRPC != "2.0" {
		return childInvalid, 0, nil
	}
	var c bytes.Buffer
	if json.Compact(&c, line) != nil {
		return childInvalid, 0, nil
	}
	if m.Method != nil {
		if *m.Method == "" {
			return childInvalid, 0, nil
		}
		return childMessage, 0, c.Bytes()
	}
	n, err := strconv.ParseInt(string(m.ID), 10, 64)
	if err != nil || n < 0 {
		return childInvalid, 0, nil
	}
	return childResponse, n, c.Bytes()
}

// stream serves the child's unsolicited messages as an SSE stream, one
// at a time (a second GET is refused), with an empty event every
// stdioKeepalive so the gateway's idle timeout does not end it.
func (b *stdioBridge) stream(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	if b.streaming {
		b.mu.Unlock()
		writeRPC(w, http.StatusConflict, rpcErrorBody(nil, -32600, "a stream is open already"))
		return
	}
	b.streaming = true
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.streaming = false
		b.mu.Unlock()
	}()
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc.Flush()
	tick := time.NewTicker(stdioKeepalive)
	defer tick.Stop()
	for {
		b.mu.Lock()
		msgs := b.queue
		b.queue = nil
		b.mu.Unlock()
		for i, m := range msgs {
			if _, err := w.Write([]byte("event: message\ndata: " + string(m) + "\n\n")); err != nil {
				b.requeue(msgs[i:])
				return
			}
			rc.Flush()
		}
		select {
		case <-b.wake:
		case <-tick.C:
			if _, err := io.WriteString(w, "data:\n\n"); err != nil {
				return
			}
			rc.Flush()
		case <-r.Context().Done():
			return
		case <-b.done:
			return
		}
	}
}

// requeue puts messages a broken stream did not deliver back in front.
func (b *stdioBridge) requeue(msgs [][]byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q := append(append([][]byte{}, msgs...), b.queue...)
	if len(q) > maxStdioQueued {
		q = q[len(q)-maxStdioQueued:]
	}
	b.queue = q
}

// stateless says params carry revision 2026-07-28's _meta.
func stateless(params json.RawMessage) bool {
	var p struct {
		Meta map[string]json.RawMessage `json:"_meta"`
	}
	if json.Unmarshal(params, &p) != nil {
		return false
	}
	_, ok := p.Meta[metaKeyPrefix+"protocolVersion"]
	return ok
}

// withoutStatelessMeta removes revision 2026-07-28's keys from
// params._meta (the child speaks a session revision).
func withoutStatelessMeta(msg []byte) ([]byte, error) {
	if !bytes.Contains(msg, []byte(metaKeyPrefix)) {
		return msg, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(msg, &m); err != nil {
		return nil, err
	}
	var p map[string]json.RawMessage
	if json.Unmarshal(m["params"], &p) != nil {
		return msg, nil
	}
	var meta map[string]json.RawMessage
	if json.Unmarshal(p["_meta"], &meta) != nil {
		return msg, nil
	}
	for k := range meta {
		if strings.HasPrefix(k, metaKeyPrefix) {
			delete(meta, k)
		}
	}
	if len(meta) == 0 {
		delete(p, "_meta")
	} else {
		p["_meta"], _ = json.Marshal(meta)
	}
	m["params"], _ = json.Marshal(p)
	return json.Marshal(m)
}

// withID is msg (a JSON object) with its id replaced.
func withID(msg []byte, id json.RawMessage) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(msg, &m); err != nil {
		return nil, errors.New("not a JSON-RPC message")
	}
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	m["id"] = id
	return json.Marshal(m)
}

func writeRPC(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

func rpcErrorBody(id json.RawMessage, code int, msg string) []byte {
	return rpcErrorBodyData(id, code, msg, nil)
}

func rpcErrorBodyData(id json.RawMessage, code int, msg string, data any) []byte {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	e := map[string]any{"code": code, "message": msg}
	if data != nil {
		e["data"] = data
	}
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "error": e})
	return b
}

// readLine reads one line (without its LF or CRLF) of at most max bytes;
// a longer one is skipped whole and reported as errStdioLine.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	tooLong := false
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > max+2 {
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && (len(line) > 0 || tooLong) {
			err = nil
		}
		if err != nil {
			return nil, err
		}
		if tooLong {
			return nil, errStdioLine
		}
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if len(line) > max {
			return nil, errStdioLine
		}
		return line, nil
	}
}

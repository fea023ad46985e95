package toolpin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Reading a tool list.
//
// MCP over Streamable HTTP (one endpoint, JSON-RPC in POST bodies, each
// answer either application/json or a text/event-stream carrying the
// response among notifications) has two shapes today:
//
//   - Revision 2026-07-28 is stateless (SEP-2575, SEP-2567): no
//     initialize, no session. Every request says its revision twice, in
//     the header MCP-Protocol-Version and in params._meta under
//     "io.modelcontextprotocol/protocolVersion", with the client's
//     capabilities under "io.modelcontextprotocol/clientCapabilities"
//     (required: the Go SDK refuses a request without them, -32602) and
//     its name under "io.modelcontextprotocol/clientInfo" (optional);
//     the header Mcp-Method repeats the method (SEP-2243). A server that
//     does not serve the revision refuses with HTTP 400, usually carrying
//     JSON-RPC error -32022 (UnsupportedProtocolVersion) whose data lists
//     the revisions it does serve.
//   - Revision 2025-11-25 (and 2025-06-18, 2025-03-26) is session based:
//     initialize, the notifications/initialized notification, then
//     requests carrying the Mcp-Session-Id the server handed out and
//     MCP-Protocol-Version, and a DELETE that ends the session.
//
// Fetch tries the first and falls back to the second when the server
// refuses it.

// The revisions Fetch speaks.
const (
	revisionStateless = "2026-07-28"
	revisionSession   = "2025-11-25"
)

// legacyRevisions are the session-based revisions a server may answer
// initialize with; tools/list is the same in all of them.
var legacyRevisions = []string{"2025-11-25", "2025-06-18", "2025-03-26"}

// Bounds of one Fetch.
const (
	maxPages    = 100
	maxTools    = 10000
	maxResponse = 8 << 20 // bytes of one HTTP response body
	deleteWait  = 5 * time.Second
)

// clientInfo names Warden to the server.
var clientInfo = map[string]string{"name": "warden-toolpin", "version": "1"}

// Fetch lists an MCP server's tools over Streamable HTTP and returns
// each tool definition's raw JSON object (tools/list result.tools[i], as
// [Hash] and [Inspector.Inspect] take it), across every page: it follows
// nextCursor for at most 100 pages and 10 000 tools, reads at most 8 MiB
// of each response, and fails rather than return part of a list.
//
// header is added to every request (the server's own credential); it
// cannot replace the protocol's headers. c nil means
// http.DefaultClient. Redirects are not followed (they would carry the
// credential elsewhere): a 3xx answer is an error.
//
// Fetch speaks revision 2026-07-28 first: stateless POSTs of tools/list
// with MCP-Protocol-Version and Mcp-Method headers and the
// "io.modelcontextprotocol/…" _meta. When the server refuses that (HTTP
// 4xx other than 401, 403, 407 and 429, or any JSON-RPC error on the
// first page) it falls back to revision 2025-11-25: initialize,
// notifications/initialized, tools/list in the session (Mcp-Session-Id)
// and a DELETE of the session at the end. A server whose initialize
// result announces no tools capability has no tools: Fetch returns an
// empty list.
//
// Errors name the revision, the step and what failed (HTTP status,
// JSON-RPC error code, a bound) and never echo the server's body or the
// endpoint.
func Fetch(ctx context.Context, c *http.Client, endpoint string, header http.Header) ([]json.RawMessage, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("toolpin: fetch: endpoint is not an http or https URL")
	}
	hc := noRedirects(c)
	s := &session{hc: hc, endpoint: endpoint, header: header, revision: revisionStateless, stateless: true}
	tools, err := s.list(ctx)
	if err == nil {
		return tools, nil
	}
	if !refusal(err) {
		return nil, fmt.Errorf("toolpin: fetch: %s %w", revisionStateless, err)
	}
	first := err
	s = &session{hc: hc, endpoint: endpoint, header: header}
	tools, err = s.listInSession(ctx)
	if err != nil {
		return nil, fmt.Errorf("toolpin: fetch: %s refused (%v); %s %w", revisionStateless, first, revisionSession, err)
	}
	return tools, nil
}

// Fetcher lists one server's tools again and again — before every tool
// call, in the gateway — remembering what it learnt: that the server
// speaks only 2025-11-25 (so the 2026-07-28 request is not tried again)
// and, for such a server, an open session, so each list is one request
// instead of a handshake, a list and an end. A session the server ends
// (404) or refuses is opened again once. Lists in the kept session run
// one at a time; stateless lists and FetchIn run side by side. Close
// ends the open session.
type Fetcher struct {
	// Client, Endpoint and Header are as for Fetch.
	Client   *http.Client
	Endpoint string
	Header   http.Header

	mu     sync.Mutex
	legacy bool     // the server refused 2026-07-28
	open   *session // the open 2025-11-25 session, if any
}

// Fetch lists the server's tools, as the package's Fetch does.
func (f *Fetcher) Fetch(ctx context.Context) ([]json.RawMessage, error) {
	u, err := url.Parse(f.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("toolpin: fetch: endpoint is not an http or https URL")
	}
	hc := noRedirects(f.Client)
	f.mu.Lock()
	legacy := f.legacy
	f.mu.Unlock()
	if !legacy {
		// Stateless lists run side by side.
		s := &session{hc: hc, endpoint: f.Endpoint, header: f.Header, revision: revisionStateless, stateless: true}
		tools, err := s.list(ctx)
		if err == nil {
			return tools, nil
		}
		if !refusal(err) {
			return nil, fmt.Errorf("toolpin: fetch: %s %w", revisionStateless, err)
		}
	}
	// The kept session is used by one list at a time.
	f.mu.Lock()
	defer f.mu.Unlock()
	f.legacy = true
	for attempt := 0; ; attempt++ {
		if f.open == nil {
			s := &session{hc: hc, endpoint: f.Endpoint, header: f.Header}
			hasTools, err := s.handshake(ctx)
			if err != nil {
				return nil, fmt.Errorf("toolpin: fetch: %s %w", revisionSession, err)
			}
			if !hasTools {
				s.end(ctx)
				return []json.RawMessage{}, nil
			}
			f.open = s
		}
		tools, err := f.open.list(ctx)
		if err == nil {
			return tools, nil
		}
		f.open.end(ctx)
		f.open = nil
		if attempt == 1 {
			return nil, fmt.Errorf("toolpin: fetch: %s %w", revisionSession, err)
		}
	}
}

// FetchIn lists the tools within a session the caller holds with the
// server (a 2025-11-25 Mcp-Session-Id, speaking revision), as that
// session sees them: a server may give each session its own
// definitions, so the caller's is the one that counts. One request.
// Without a session it is Fetch.
func (f *Fetcher) FetchIn(ctx context.Context, sessionID, revision string) ([]json.RawMessage, error) {
	if sessionID == "" {
		return f.Fetch(ctx)
	}
	if !validSessionID(sessionID) {
		return nil, errors.New("toolpin: fetch: the session id is not 1 to 1024 visible ASCII characters")
	}
	if !slices.Contains(legacyRevisions, revision) {
		revision = revisionSession
	}
	s := &session{hc: noRedirects(f.Client), endpoint: f.Endpoint, header: f.Header, revision: revision, id: sessionID}
	tools, err := s.list(ctx)
	if err != nil {
		return nil, fmt.Errorf("toolpin: fetch: %s in the caller's session %w", revision, err)
	}
	return tools, nil
}

// Close ends the Fetcher's open session, if any.
func (f *Fetcher) Close(ctx context.Context) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.open != nil {
		f.open.end(ctx)
		f.open = nil
	}
}

func noRedirects(c *http.Client) *http.Client {
	if c == nil {
		c = http.DefaultClient
	}
	hc := *c
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc
}

// session is one conversation with the server.
type session struct {
	hc        *http.Client
	endpoint  string
	header    http.Header
	revision  string // MCP-Protocol-Version; "" before initialize
	stateless bool   // revision 2026-07-28: _meta and Mcp-Method on every request
	id        string // Mcp-Session-Id
	nextID    int
}

// listInSession runs the 2025-11-25 handshake, lists the tools and ends
// the session.
func (s *session) listInSession(ctx context.Context) ([]json.RawMessage, error) {
	hasTools, err := s.handshake(ctx)
	if s.id != "" {
		defer s.end(ctx)
	}
	if err != nil {
		return nil, err
	}
	if !hasTools {
		return []json.RawMessage{}, nil
	}
	return s.list(ctx)
}

// handshake runs initialize and notifications/initialized, and says
// whether the server announces tools.
func (s *session) handshake(ctx context.Context) (hasTools bool, err error) {
	res, h, err := s.call(ctx, "initialize", map[string]any{
		"protocolVersion": revisionSession,
		"capabilities":    map[string]any{},
		"clientInfo":      clientInfo,
	})
	if err != nil {
		return false, err
	}
	var init struct {
		ProtocolVersion string                     `json:"protocolVersion"`
		Capabilities    map[string]json.RawMessage `json:"capabilities"`
	}
	if json.Unmarshal(res, &init) != nil {
		return false, errors.New("initialize: malformed result")
	}
	if !slices.Contains(legacyRevisions, init.ProtocolVersion) {
		return false, errors.New("initialize: the server chose a protocol revision toolpin does not speak")
	}
	s.revision = init.ProtocolVersion
	if id := h.Get("Mcp-Session-Id"); id != "" {
		if !validSessionID(id) {
			return false, errors.New("initialize: Mcp-Session-Id is not 1 to 1024 visible ASCII characters")
		}
		s.id = id
	}
	if err := s.notify(ctx, "notifications/initialized"); err != nil {
		return false, err
	}
	_, ok := init.Capabilities["tools"]
	return ok, nil
}

// end deletes the session, best effort: a server may answer 405 (it
// does not let clients end sessions), and the list is read already.
func (s *session) end(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deleteWait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, s.endpoint, nil)
	if err != nil {
		return
	}
	s.setHeaders(req, "")
	resp, err := s.hc.Do(req)
	if err != nil {
		return
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
}

func validSessionID(id string) bool {
	if len(id) > 1024 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7E {
			return false
		}
	}
	return true
}

// list reads every page of tools/list.
func (s *session) list(ctx context.Context) ([]json.RawMessage, error) {
	tools := []json.RawMessage{}
	seen := map[string]bool{}
	cursor := ""
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("tools/list: more than %d pages", maxPages)
		}
		params := map[string]any{}
		if page > 0 {
			params["cursor"] = cursor
		}
		res, _, err := s.call(ctx, "tools/list", params)
		if err != nil {
			if page > 0 {
				return nil, &laterPage{page: page + 1, err: err}
			}
			return nil, err
		}
		var r struct {
			Tools      []json.RawMessage `json:"tools"`
			NextCursor *string           `json:"nextCursor"`
			ResultType string            `json:"resultType"`
		}
		if json.Unmarshal(res, &r) != nil {
			return nil, fmt.Errorf("tools/list page %d: malformed result", page+1)
		}
		if r.Tools == nil {
			return nil, fmt.Errorf("tools/list page %d: result has no tools array", page+1)
		}
		if r.ResultType != "" && r.ResultType != "complete" {
			return nil, fmt.Errorf("tools/list page %d: result is not complete", page+1)
		}
		if len(tools)+len(r.Tools) > maxTools {
			return nil, fmt.Errorf("tools/list: more than %d tools", maxTools)
		}
		for i, t := range r.Tools {
			if t = bytes.TrimSpace(t); len(t) == 0 || t[0] != '{' {
				return nil, fmt.Errorf("tools/list page %d: tools[%d] is not a JSON object", page+1, i)
			}
			tools = append(tools, t)
		}
		if r.NextCursor == nil || *r.NextCursor == "" {
			return tools, nil
		}
		if seen[*r.NextCursor] {
			return nil, fmt.Errorf("tools/list page %d: the server repeated a cursor", page+1)
		}
		cursor = *r.NextCursor
		seen[cursor] = true
	}
}

// statusError is an HTTP answer other than the one expected, with the
// code of the JSON-RPC error its body carried, if any.
type statusError struct {
	status int
	rpc    *rpcError
}

func (e *statusError) Error() string {
	switch {
	case e.status >= 300 && e.status < 400:
		return fmt.Sprintf("HTTP %d (redirects are not followed)", e.status)
	case e.rpc != nil:
		return fmt.Sprintf("HTTP %d, %s", e.status, e.rpc)
	}
	return fmt.Sprintf("HTTP %d", e.status)
}

// newStatusError reads the JSON-RPC error code from an error answer's
// body (the Go SDK answers a refused request with HTTP 400 and a
// JSON-RPC error), reading at most 64 KiB of it.
func newStatusError(resp *http.Response, id int) *statusError {
	e := &statusError{status: resp.StatusCode}
	if mediaType(resp.Header.Get("Content-Type")) == "application/json" {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if _, _, err := matchResponse(data, strconv.Itoa(id)); err != nil {
			errors.As(err, &e.rpc)
		}
	}
	drain(resp.Body)
	return e
}

// rpcError is a JSON-RPC error response; only its code is kept (the
// message is the server's text).
type rpcError struct{ code string }

func (e *rpcError) Error() string { return "JSON-RPC error " + e.code }

// laterPage is the failure of a page after the first: the server did
// serve the revision, so it is no refusal of it.
type laterPage struct {
	page int
	err  error
}

func (e *laterPage) Error() string { return fmt.Sprintf("page %d: %v", e.page, e.err) }
func (e *laterPage) Unwrap() error { return e.err }

// refusal reports whether err from the first stateless request means
// the server does not serve revision 2026-07-28 (so the session-based
// revision is worth a try), rather than refusing the caller.
func refusal(err error) bool {
	var lp *laterPage
	if errors.As(err, &lp) {
		return false
	}
	var se *statusError
	if errors.As(err, &se) {
		switch se.status {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusProxyAuthRequired, http.StatusTooManyRequests:
			return false
		}
		return se.status >= 400 && se.status < 500
	}
	var re *rpcError
	return errors.As(err, &re)
}

// call sends one JSON-RPC request and returns its result and the
// response's header.
func (s *session) call(ctx context.Context, method string, params map[string]any) (json.RawMessage, http.Header, error) {
	s.nextID++
	id := s.nextID
	if s.stateless {
		params["_meta"] = map[string]any{
			"io.modelcontextprotocol/protocolVersion":    s.revision,
			"io.modelcontextprotocol/clientInfo":         clientInfo,
			"io.modelcontextprotocol/clientCapabilities": map[string]any{},
		}
	}
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", method, err)
	}
	resp, err := s.post(ctx, method, body)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("%s: %w", method, newStatusError(resp, id))
	}
	res, err := readResponse(resp, id)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", method, err)
	}
	return res, resp.Header, nil
}

// notify sends a JSON-RPC notification; the server answers 202.
func (s *session) notify(ctx context.Context, method string) error {
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": method})
	resp, err := s.post(ctx, method, body)
	if err != nil {
		return err
	}
	drain(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %w", method, &statusError{status: resp.StatusCode})
	}
	return nil
}

func (s *session) post(ctx context.Context, method string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s: cannot make the request", method)
	}
	s.setHeaders(req, method)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := s.hc.Do(req)
	if err != nil {
		// A *url.Error quotes the endpoint, which may hold a credential.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	return resp, nil
}

// setHeaders sets the caller's header, then the protocol's.
func (s *session) setHeaders(req *http.Request, method string) {
	for k, vs := range s.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	for _, k := range []string{"Mcp-Protocol-Version", "Mcp-Method", "Mcp-Session-Id", "Content-Type", "Accept"} {
		req.Header.Del(k)
	}
	if s.revision != "" {
		req.Header.Set("MCP-Protocol-Version", s.revision)
	}
	if s.stateless && method != "" {
		req.Header.Set("Mcp-Method", method)
	}
	if s.id != "" {
		req.Header.Set("Mcp-Session-Id", s.id)
	}
}

func drain(r io.Reader) { io.Copy(io.Discard, io.LimitReader(r, 64<<10)) }

// readResponse returns the result of the JSON-RPC response with the
// given id, from an application/json body or a text/event-stream.
func readResponse(resp *http.Response, id int) (json.RawMessage, error) {
	body := &limitReader{r: resp.Body, n: maxResponse}
	want := strconv.Itoa(id)
	switch mediaType(resp.Header.Get("Content-Type")) {
	case "application/json":
		data, err := io.ReadAll(body)
		if err != nil {
			return nil, err
		}
		res, ok, err := matchResponse(data, want)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errors.New("the response is not the answer to the request")
		}
		return res, nil
	case "text/event-stream":
		var res json.RawMessage
		found := false
		err := readEvents(body, func(data []byte) (bool, error) {
			var err error
			res, found, err = matchResponse(data, want)
			return found, err
		})
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, errors.New("the event stream ended before the response")
		}
		return res, nil
	}
	drain(resp.Body)
	return nil, errors.New("the response is neither application/json nor text/event-stream")
}

// mediaType is the lower-cased media type of a Content-Type value,
// without parameters.
func mediaType(ct string) string {
	ct, _, _ = strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(ct))
}

// matchResponse reads one JSON-RPC message. ok reports a response to
// the request with id want (an error response with id null, the answer
// to a request the server could not read, counts too); other messages (notifications, requests of
// the server, answers to other ids) are skipped with ok false.
func matchResponse(data []byte, want string) (json.RawMessage, bool, error) {
	var m struct {
		ID     json.RawMessage `json:"id"`
		Method *string         `json:"method"`
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code json.Number `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(data, &m) != nil {
		return nil, false, errors.New("malformed JSON-RPC message")
	}
	id := string(bytes.TrimSpace(m.ID))
	if m.Method != nil || id != want && !(id == "null" && m.Error != nil) {
		return nil, false, nil
	}
	if m.Error != nil {
		code := "with a non-integer code"
		if n, err := m.Error.Code.Int64(); err == nil {
			code = strconv.FormatInt(n, 10)
		}
		return nil, false, &rpcError{code: code}
	}
	if m.Result == nil {
		return nil, false, errors.New("JSON-RPC response without result or error")
	}
	return m.Result, true, nil
}

// readEvents calls fn with the data of each "message" event of a
// text/event-stream (WHATWG HTML, "Server-sent events": lines end in
// LF, CRLF or CR; "data:" lines of one event join with LF; a blank line
// ends the event) until fn reports done or the stream ends.
func readEvents(r io.Reader, fn func(data []byte) (done bool, err error)) error {
	br := newLineReader(r)
	var data []byte
	event, hasData := "", false
	dispatch := func() (bool, error) {
		defer func() { data, event, hasData = data[:0], "", false }()
		// An event without data (the priming event of SEP-1699) carries
		// nothing to read.
		if !hasData || len(bytes.TrimSpace(data)) == 0 || (event != "" && event != "message") {
			return false, nil
		}
		return fn(data)
	}
	for {
		line, err := br.next()
		if err == io.EOF {
			_, err := dispatch()
			return err
		}
		if err != nil {
			return err
		}
		if len(line) == 0 {
			if done, err := dispatch(); done || err != nil {
				return err
			}
			continue
		}
		if line[0] == ':' {
			continue // comment
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "data":
			if hasData {
				data = append(data, '\n')
			}
			data = append(data, value...)
			hasData = true
		case "event":
			event = string(value)
		}
	}
}

// lineReader splits a stream into lines ending in LF, CRLF or CR.
type lineReader struct {
	r       io.Reader
	buf     []byte
	pending [][]byte // lines split off the last read at lone CRs
}

func newLineReader(r io.Reader) *lineReader { return &lineReader{r: r} }

func (l *lineReader) next() ([]byte, error) {
	for len(l.pending) == 0 {
		line, err := l.readLF()
		if err != nil {
			return nil, err
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		l.pending = bytes.Split(line, []byte("\r"))
	}
	line := l.pending[0]
	l.pending = l.pending[1:]
	return line, nil
}

// readLF returns the bytes up to the next LF (without it), or the rest
// at the end of the stream.
func (l *lineReader) readLF() ([]byte, error) {
	for {
		if i := bytes.IndexByte(l.buf, '\n'); i >= 0 {
			line := l.buf[:i:i]
			l.buf = l.buf[i+1:]
			return line, nil
		}
		if len(l.buf) == cap(l.buf) {
			nb := make([]byte, len(l.buf), max(2*cap(l.buf), 16<<10))
			copy(nb, l.buf)
			l.buf = nb
		}
		n, err := l.r.Read(l.buf[len(l.buf):cap(l.buf)])
		l.buf = l.buf[:len(l.buf)+n]
		if err == io.EOF && n == 0 {
			if len(l.buf) == 0 {
				return nil, io.EOF
			}
			line := l.buf
			l.buf = nil
			return line, nil
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
	}
}

var errTooLarge = fmt.Errorf("the response is larger than %d MiB", maxResponse>>20)

// limitReader fails with errTooLarge once more than n bytes were read.
type limitReader struct {
	r io.Reader
	n int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n < 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	if l.n < 0 {
		return 0, errTooLarge
	}
	return n, err
}

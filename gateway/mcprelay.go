package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/wardenhq/warden/detect"
	"github.com/wardenhq/warden/policy"
	"github.com/wardenhq/warden/transform"
)

// The MCP relay: what an MCP server answers, guarded on its way to the
// agent. Every message (a JSON answer, or each event of an SSE stream:
// progress and log notifications, server requests, the response) is
// walked and every string, key and long number scanned. Findings are
// rewritten for the caller's tenant with the operators the policy
// decided for the request — the model path's operators, so an email a
// CRM tool returns becomes the same token the user's chat would have
// produced — except secrets, which are masked (a token would let a
// trusted tool restore them later). Markdown links and images whose URL
// carries a finding or a token are neutralised. A tools/list answer
// loses the tools the caller may not call or whose definition is not
// approved. The response to the request is held until the completion
// entry is durable.

// mcpResponseHeaders cross from the MCP server to the agent.
var mcpResponseHeaders = []string{"Mcp-Session-Id", "Mcp-Protocol-Version"}

// neutralisedURL replaces the URL of a link or image that would carry a
// sensitive value out.
const neutralisedURL = "#warden-removed-link"

func (s *Server) relayMCP(x *exchange, resp *http.Response) *apiError {
	h := x.w.Header()
	for _, k := range mcpResponseHeaders {
		if v := resp.Header.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	if id := resp.Header.Get("Mcp-Session-Id"); id != "" {
		x.mcp.srv.sessions.bind(id, x.p)
	}
	ct := resp.Header.Get("Content-Type")
	x.rec.Status = resp.StatusCode
	switch {
	case strings.HasPrefix(ct, "text/event-stream"):
		return s.relayMCPStream(x, resp)
	case resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusNoContent ||
		(resp.StatusCode < 300 && x.r.Method == http.MethodDelete):
		// A notification or response the server accepted; a session
		// ended. No body to guard.
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return s.answerMCP(x, resp.StatusCode, "", nil)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.cfg.MaxResponseBytes+1))
	if err != nil {
		return mcpError(http.StatusBadGateway, rpcUnavailable, sendErrorType(x.ctx, x.ctx), "the MCP server's answer could not be read")
	}
	if int64(len(body)) > s.cfg.MaxResponseBytes {
		return mcpError(http.StatusBadGateway, rpcUnavailable, "upstream_too_large", "the MCP server's answer is larger than server.max_response_bytes")
	}
	if resp.StatusCode >= 300 && len(bytes.TrimSpace(body)) == 0 {
		return s.answerMCP(x, resp.StatusCode, "upstream_"+strconv.Itoa(resp.StatusCode), nil)
	}
	if !strings.HasPrefix(ct, "application/json") && resp.StatusCode < 300 {
		return mcpError(http.StatusBadGateway, rpcUnavailable, "upstream_malformed", "the MCP server answered with neither JSON nor an event stream")
	}
	out, e := s.guardMCPMessage(x.ctx, x, body)
	if e != nil {
		return e
	}
	code := x.mcp.withheld
	if resp.StatusCode >= 400 {
		code = "upstream_" + strconv.Itoa(resp.StatusCode)
	}
	return s.answerMCP(x, resp.StatusCode, code, out)
}

// answerMCP writes the completion entry, then the answer.
func (s *Server) answerMCP(x *exchange, status int, code string, body []byte) *apiError {
	x.rec.ResponseBody = body
	if err := s.complete(x, status, code); err != nil {
		return mcpError(http.StatusServiceUnavailable, rpcUnavailable, "audit_unavailable", "audit log unavailable; the answer was withheld")
	}
	h := x.w.Header()
	if x.final >= 0 {
		h.Set("Warden-Audit-Index", strconv.FormatInt(x.final, 10))
	}
	if body != nil {
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	x.w.WriteHeader(status)
	x.written = true
	x.w.Write(body)
	return nil
}

// relayMCPStream relays an SSE answer event by event. The event that
// carries the response to the request is terminal: it waits for the
// completion entry.
func (s *Server) relayMCPStream(x *exchange, resp *http.Response) *apiError {
	if !x.slot {
		select {
		case s.streams <- struct{}{}:
			x.slot = true
		default:
			return mcpError(http.StatusServiceUnavailable, rpcUnavailable, "too_many_streams", "too many concurrent streams; retry shortly")
		}
	}
	w := x.w
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(resp.StatusCode)
	x.written = true
	rc.Flush()
	var sent bytes.Buffer
	var out bytes.Buffer
	gone := false
	emit := func() {
		if out.Len() == 0 || gone {
			out.Reset()
			return
		}
		sent.Write(out.Bytes())
		if s.cfg.WriteTimeout > 0 {
			rc.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
		}
		if _, err := w.Write(out.Bytes()); err != nil {
			gone = true
		} else if rc.Flush() != nil {
			gone = true
		}
		out.Reset()
	}
	x.deadline.Stop()
	idle := time.AfterFunc(s.cfg.StreamIdleTimeout, x.cancel)
	defer idle.Stop()
	fail := func(code, msg string) *apiError {
		out.Reset()
		writeEvent(&out, "message", "", mcpErrorBody(x.mcp.id, rpcUnavailable, msg, code))
		x.rec.ResponseBody = sent.Bytes()
		s.complete(x, http.StatusBadGateway, code)
		emit()
		return &apiError{Status: http.StatusBadGateway, Code: code, Msg: msg, rpc: rpcUnavailable}
	}
	br := bufio.NewReaderSize(resp.Body, 64<<10)
	for {
		ev, err := readEvent(br)
		idle.Reset(s.cfg.StreamIdleTimeout)
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, errMalformedStream) {
				return fail("upstream_malformed", "the MCP server's event stream is malformed")
			}
			return fail(sendErrorType(x.ctx, x.ctx), "the MCP server's event stream broke off")
		}
		data := ev.data
		if len(bytes.TrimSpace(data)) > 0 {
			// (An event with empty data primes a resumable stream: it
			// carries only its id.)
			var e *apiError
			if data, e = s.guardMCPMessage(x.ctx, x, ev.data); e != nil {
				return fail(e.Code, e.Msg)
			}
		}
		id := ev.id
		if id != "" {
			if out, err := s.guardText(x.ctx, x, id); err != nil || out != id {
				id = "" // an event id is an opaque cursor; one that holds a value is dropped
			}
		}
		name := ev.name
		if name != "" {
			if out, err := s.guardText(x.ctx, x, name); err != nil || out != name {
				name = "message" // the only event type MCP defines; one that holds a value is renamed
			}
		}
		writeEvent(&out, name, id, data)
		if x.mcp.isResponse(ev.data) {
			x.rec.ResponseBody = append(sent.Bytes(), out.Bytes()...)
			if err := s.complete(x, resp.StatusCode, x.mcp.withheld); err != nil {
				out.Reset()
				writeEvent(&out, "message", "", mcpErrorBody(x.mcp.id, rpcUnavailable, "audit log unavailable; the answer was withheld", "audit_unavailable"))
				emit()
				return &apiError{Status: http.StatusServiceUnavailable, Code: "audit_unavailable", rpc: rpcUnavailable}
			}
			emit()
			continue
		}
		emit()
	}
	if !x.recorded {
		x.rec.ResponseBody = sent.Bytes()
		code := ""
		if x.r.Method == http.MethodPost && x.mcp.expectsAnswer() {
			code = "upstream_incomplete" // the stream ended without the response
		}
		s.complete(x, resp.StatusCode, code)
	}
	return nil
}

// isResponse says data is the JSON-RPC response to the request.
func (m *mcpState) isResponse(data []byte) bool {
	if !m.expectsAnswer() {
		return false
	}
	var msg rpcMessage
	if json.Unmarshal(data, &msg) != nil || msg.Method != "" {
		return false
	}
	return bytes.Equal(bytes.TrimSpace(msg.ID), bytes.TrimSpace(m.id))
}

func (m *mcpState) expectsAnswer() bool {
	return len(m.id) > 0 && string(m.id) != "null" && m.method != ""
}

// mcpErrorBody is a JSON-RPC error message.
func mcpErrorBody(id json.RawMessage, code int, msg, warden string) []byte {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id,
		"error": map[string]any{"code": code, "message": msg, "data": map[string]any{"warden": warden}}})
	return b
}

// guardMCPMessage rewrites one JSON-RPC message from the server.
func (s *Server) guardMCPMessage(ctx context.Context, x *exchange, raw []byte) ([]byte, *apiError) {
	var msg rpcMessage
	if err := json.Unmarshal(raw, &msg); err != nil {
		return nil, mcpError(http.StatusBadGateway, rpcUnavailable, "upstream_malformed", "the MCP server answered with something that is not one JSON-RPC message")
	}
	if x.mcp.method == "tools/list" && msg.Method == "" && len(msg.Result) > 0 && x.mcp.isResponse(raw) {
		filtered, err := s.filterTools(ctx, x, raw)
		if err != nil {
			return nil, err
		}
		raw = filtered
	}
	before := sumCounts(x.mcp.resultIn)
	var edits []splice
	_, err := detect.WalkJSON(raw, s.respWalk, func(v detect.JSONValue) (string, bool, error) {
		if v.Literal || (v.Number && digitCount(v.Value) < 9) {
			return "", false, nil
		}
		out, err := s.guardText(ctx, x, v.Value)
		if err != nil {
			return "", false, err
		}
		if out != v.Value {
			edits = append(edits, splice{v.Start, v.End, jsonString(out)})
		}
		return "", false, nil
	})
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			return nil, ae
		}
		if errors.Is(err, errGuard) {
			return nil, mcpError(http.StatusServiceUnavailable, rpcUnavailable, "deidentify_failed", "the answer could not be de-identified; it was withheld")
		}
		return nil, mcpError(http.StatusBadGateway, rpcUnavailable, "upstream_malformed", "the MCP server answered with something that is not one JSON-RPC message")
	}
	out := applySplices(raw, dropInner(edits))
	if sumCounts(x.mcp.resultIn) > before && x.mcp.isResponse(raw) {
		if e := s.redecide(x); e != nil {
			x.mcp.withheld = e.Code
			return mcpErrorBody(x.mcp.id, rpcRefused, e.Msg, e.Code), nil
		}
	}
	return out, nil
}

var errGuard = errors.New("guard failed")

// redecide asks the policy again with the result's findings, when a
// rule reads result_findings: a deny replaces the result.
func (s *Server) redecide(x *exchange) *apiError {
	rd, ok := s.deps.Policy.(interface{ ResultDependent() bool })
	if !ok || !rd.ResultDependent() {
		return nil
	}
	in := x.in
	in.ResultFindings = x.mcp.resultIn
	dec, err := s.deps.Policy.Decide(in)
	if err != nil {
		x.rec.Decision = string(policy.Deny)
		return &apiError{Code: "policy_error", Msg: "policy could not be evaluated; the result was withheld"}
	}
	if dec.Action == policy.Deny {
		x.rec.Decision = string(policy.Deny)
		x.rec.Rules = dec.Rules
		x.rec.Reasons = append(x.rec.Reasons, dec.Reason)
		return &apiError{Code: "policy_denied_result", Msg: "the tool's result is refused: " + dec.Reason}
	}
	return nil
}

// guardText rewrites one value of a server's answer: findings per the
// request's operators (secrets masked), then links and images that
// still carry a finding or a token neutralised.
func (s *Server) guardText(ctx context.Context, x *exchange, text string) (string, error) {
	if text == "" {
		return text, nil
	}
	fs := s.deps.Detector.Scan(text)
	out := text
	if len(fs) > 0 {
		var secrets, rest []detect.Finding
		for _, f := range fs {
			x.noteResultFinding(s, f)
			if f.Category == detect.Secret {
				secrets = append(secrets, f)
				continue
			}
			if op := x.dec.Operator(f.Type, string(f.Category)); op != "" && op != "allow" {
				rest = append(rest, f)
			}
		}
		if len(secrets) > 0 {
			// Mask first, on the original offsets; the rest are
			// found again in the masked text.
			o, _, err := s.mcpMask.Apply(ctx, out, secrets)
			if err != nil {
				return "", errGuard
			}
			x.rec.Operators[string(transform.Mask)] += len(secrets)
			out = o
			if len(rest) > 0 {
				rest = keepFindings(s.deps.Detector.Scan(out), func(f detect.Finding) bool {
					if f.Category == detect.Secret {
						return false
					}
					op := x.dec.Operator(f.Type, string(f.Category))
					return op != "" && op != "allow"
				})
			}
		}
		if len(rest) > 0 {
			// The decision's operator map holds the request's types;
			// a result's are looked up the same way.
			ops := make(map[string]string, len(rest))
			for _, f := range rest {
				ops[f.Type] = x.dec.Operator(f.Type, string(f.Category))
			}
			d, err := s.deidentifier(x.p.Tenant, ops)
			if err != nil {
				return "", errGuard
			}
			o, st, err := d.Apply(ctx, out, rest)
			if err != nil {
				s.log.Error("de-identification of an MCP answer failed", "request_id", x.rec.RequestID, "error", scrubError(err))
				return "", errGuard
			}
			for _, c := range st.Counts {
				x.rec.Operators[string(c.Operator)] += c.N
			}
			out = o
		}
	}
	if strings.Contains(out, "](") {
		out = s.neutraliseLinkTargets(x, out)
	}
	return out, nil
}

// linkTarget matches the target of a markdown link or image — the
// "](url" after its text — so that it is found in a piece of a stream
// whose "[text" went out earlier: the stream guard releases a run of
// text without spaces whole, and a URL has none.
var linkTarget = regexp.MustCompile(`\]\(\s*<?([^)\s>]+)`)

// neutraliseLinkTargets replaces the URL of each markdown link or image
// in text that carries a token or a finding — an agent that renders it,
// or a model told to, would send the value to whoever owns the URL —
// counting each in the record and the metrics.
func (s *Server) neutraliseLinkTargets(x *exchange, text string) string {
	locs := linkTarget.FindAllStringSubmatchIndex(text, -1)
	if locs == nil {
		return text
	}
	var b strings.Builder
	last := 0
	for _, l := range locs {
		u := text[l[2]:l[3]]
		if !carriesValue(s, u) {
			continue
		}
		b.WriteString(text[last:l[2]])
		b.WriteString(neutralisedURL)
		last = l[3]
		x.rec.Neutralised++
		s.deps.Metrics.neutralised.Inc()
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

// carriesValue says a URL holds a token (raw or percent-encoded) or a
// finding other than the URL itself.
func carriesValue(s *Server, u string) bool {
	if strings.Contains(u, "[[") || strings.Contains(strings.ToUpper(u), "%5B%5B") {
		return true
	}
	for _, f := range s.deps.Detector.Scan(u) {
		if f.Type != "URL" && f.Category != detect.Network {
			return true
		}
	}
	return false
}

// filterTools drops from a tools/list result the tools the caller may
// not call, the server's pre-filter leaves out, or whose definition is
// not approved; it learns each definition's hash on the way.
func (s *Server) filterTools(ctx context.Context, x *exchange, raw []byte) ([]byte, *apiError) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, mcpError(http.StatusBadGateway, rpcUnavailable, "upstream_malformed", "the MCP server's tools/list answer is malformed")
	}
	var result map[string]json.RawMessage
	if err := json.Unmarshal(doc["result"], &result); err != nil {
		return nil, mcpError(http.StatusBadGateway, rpcUnavailable, "upstream_malformed", "the MCP server's tools/list answer is malformed")
	}
	var tools []json.RawMessage
	if err := json.Unmarshal(result["tools"], &tools); err != nil {
		return nil, mcpError(http.StatusBadGateway, rpcUnavailable, "upstream_malformed", "the MCP server's tools/list answer is malformed")
	}
	srv := x.mcp.srv
	states, err := s.learnTools(ctx, srv, tools, false)
	if err != nil {
		return nil, mcpError(http.StatusServiceUnavailable, rpcUnavailable, "tool_pins_unavailable", "the approved tool definitions could not be read")
	}
	kept := make([]json.RawMessage, 0, len(tools))
	for i, t := range tools {
		st := states[i]
		if st == nil || !srv.listed(st.name) || !srv.mayCall(x.p, st.name) {
			continue
		}
		if st.verdict != toolApproved {
			x.rec.Reasons = append(x.rec.Reasons, "tool "+safeToolName(st.name)+" hidden: "+st.verdict.reason())
			continue
		}
		kept = append(kept, t)
	}
	b, _ := json.Marshal(kept)
	result["tools"] = b
	doc["result"], _ = json.Marshal(result)
	out, _ := json.Marshal(doc)
	return out, nil
}

// safeToolName is a tool name fit for the audit log: names are the
// server's identifiers, but one that looks like anything else is cut.
func safeToolName(n string) string {
	if len(n) > 128 {
		return "(long name)"
	}
	for _, c := range n {
		if !(c == '_' || c == '-' || c == '.' || c == '/' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return "(unusual name)"
		}
	}
	return n
}

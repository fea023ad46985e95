package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/wardenhq/warden/audit/event"
	"github.com/wardenhq/warden/detect"
	"github.com/wardenhq/warden/policy"
	"github.com/wardenhq/warden/transform"
)

// The MCP request path: the pipeline's stages for a JSON-RPC message to
// an MCP server (see mcp.go).

// Protocol revisions the gateway tells apart.
const (
	mcpStateless = "2026-07-28" // and later: routing headers, no sessions
	mcpLegacy    = "2025-11-25"
)

// rpcMessage is one JSON-RPC 2.0 message.
type rpcMessage struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   json.RawMessage `json:"error,omitempty"`
}

// MCP headers that cross between caller and server (both ways where
// they apply); everything else stays, credentials above all.
var mcpHeaders = []string{"Mcp-Protocol-Version", "Mcp-Session-Id", "Mcp-Method", "Mcp-Name", "Last-Event-Id"}

func (s *Server) handleMCP(w http.ResponseWriter, r *http.Request) {
	t0 := time.Now()
	rec := &event.Record{Kind: event.Request, Intent: -1, Time: t0.UTC(), RequestID: newRequestID(),
		Endpoint: shapeMCP.endpoint, Findings: map[string]int{}, Operators: map[string]int{}}
	x := &exchange{sh: shapeMCP, rec: rec, start: t0, r: r, w: w, intent: -1, final: -1, modelLabel: "mcp"}
	s.startRequest(r, x)
	w.Header().Set("Warden-Request-Id", rec.RequestID)
	srv := s.mcpServer(r.PathValue("name"))
	if srv == nil {
		x.mcp = &mcpState{srv: &MCPServer{}}
		s.finish(x, mcpError(http.StatusNotFound, rpcMethodNotFound, "mcp_server_not_found", "no MCP server is served under this name"))
		return
	}
	x.mcp = &mcpState{srv: srv}
	rec.Server, rec.Zone = srv.Name, srv.Zone
	err := s.runMCP(x)
	s.finish(x, err)
}

// runMCP is the pipeline for one MCP HTTP request.
func (s *Server) runMCP(x *exchange) *apiError {
	if err := s.authenticateMCP(x); err != nil {
		return err
	}
	if id := x.r.Header.Get("Mcp-Session-Id"); id != "" && !x.mcp.srv.sessions.owned(id, x.p) {
		// Another caller's session: as unknown to this caller as one
		// that never existed (404 makes a client start a new one).
		x.rec.Reasons = append(x.rec.Reasons, "the session belongs to another caller")
		return mcpError(http.StatusNotFound, rpcInvalidRequest, "session_not_found", "no such session")
	}
	switch x.r.Method {
	case http.MethodPost:
	case http.MethodGet, http.MethodDelete:
		// The 2025-11-25 session stream and session end: nothing to
		// inspect on the way in; what comes back is guarded.
		x.mcp.method = strings.ToLower(x.r.Method)
		x.recordMCP()
		if err := s.mcpDecide(x); err != nil {
			return err
		}
		return s.mcpExchange(x, nil)
	default:
		x.w.Header().Set("Allow", "GET, POST, DELETE")
		return mcpError(http.StatusMethodNotAllowed, rpcInvalidRequest, "method_not_allowed", "use POST (GET and DELETE for a session)")
	}
	msg, err := s.decodeMCP(x)
	if err != nil {
		return err
	}
	if err := s.limit(x); err != nil {
		return err
	}
	t := time.Now()
	bad := s.inspectMCP(x, msg)
	s.guardInput(x, t, bad)
	if bad != nil {
		return bad
	}
	if err := s.deidentifyMCP(x); err != nil {
		return err
	}
	return s.mcpExchange(x, msg)
}

// mcpExchange writes the intent, calls the server and relays its answer.
func (s *Server) mcpExchange(x *exchange, msg *rpcMessage) *apiError {
	if err := s.writeIntent(x); err != nil {
		return err
	}
	resp, err := s.callMCP(x)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	defer x.cancel()
	defer x.deadline.Stop()
	return s.relayMCP(x, resp)
}

// authenticateMCP identifies the caller; a token must be meant for this
// server's endpoint (RFC 8707). A 401 names the RFC 9728 metadata, so an
// MCP client can find where to get a token.
func (s *Server) authenticateMCP(x *exchange) *apiError {
	resource := s.mcpResource(x.r, x.mcp.srv.Name)
	x.rec.Credential = credentialKind(x.r)
	var p *Principal
	var err error
	if ra, ok := s.deps.Auth.(ResourceAuthenticator); ok {
		p, err = ra.AuthenticateResource(x.r, resource)
	} else {
		p, err = s.deps.Auth.Authenticate(x.r)
	}
	if err != nil {
		x.rec.Principal = event.Unauthenticated
		if errors.Is(err, ErrUnauthenticated) {
			challenge := `Bearer resource_metadata="` + s.mcpMetadataURL(x.r, x.mcp.srv.Name) + `"`
			if x.rec.Credential != "none" {
				challenge += `, error="invalid_token"`
			}
			x.w.Header().Set("WWW-Authenticate", challenge)
			return mcpError(http.StatusUnauthorized, rpcRefused, "invalid_token", "missing or invalid credentials")
		}
		s.log.Error("credentials could not be checked", "request_id", x.rec.RequestID, "error", scrubError(err))
		e := mcpError(http.StatusServiceUnavailable, rpcUnavailable, "auth_unavailable", "credentials could not be checked right now; retry shortly")
		e.RetryAfter = 1
		return e
	}
	x.p = p
	x.rec.Principal, x.rec.Tenant = p.Name, p.Tenant
	if p.Method != "" {
		x.rec.Credential = p.Method
	}
	return nil
}

// decodeMCP reads one strict JSON-RPC message (no batch), learns the
// protocol revision, and checks the routing headers against the body.
func (s *Server) decodeMCP(x *exchange) (*rpcMessage, *apiError) {
	r := x.r
	if ambiguousFraming(r.Context()) {
		x.w.Header().Set("Connection", "close")
		return nil, mcpError(http.StatusBadRequest, rpcInvalidRequest, "ambiguous_framing", "the request has both Content-Length and Transfer-Encoding")
	}
	body, err := io.ReadAll(http.MaxBytesReader(x.w, r.Body, s.cfg.MaxBodyBytes))
	rearmFraming(r.Context())
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, mcpError(http.StatusRequestEntityTooLarge, rpcInvalidRequest, "body_too_large", "request body larger than server.max_body_bytes")
		}
		return nil, mcpError(http.StatusBadRequest, rpcInvalidRequest, "bad_body", "could not read the request body")
	}
	x.body = body
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		return nil, mcpError(http.StatusBadRequest, rpcInvalidRequest, "batch", "JSON-RPC batches are not supported (neither MCP revision has them)")
	}
	if err := detect.ValidateJSON(body, s.mcpWalk); err != nil {
		e := jsonError(err, "message")
		return nil, mcpError(e.Status, rpcParseError, e.Code, e.Msg)
	}
	var msg rpcMessage
	if err := json.Unmarshal(body, &msg); err != nil || msg.JSONRPC != "2.0" {
		return nil, mcpError(http.StatusBadRequest, rpcInvalidRequest, "invalid_message", "the body is not a JSON-RPC 2.0 message")
	}
	x.mcp.id, x.mcp.method = msg.ID, msg.Method
	x.mcp.version = mcpVersion(r, &msg)
	if msg.Method == "tools/call" {
		x.mcp.isCall = true
		var p struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(msg.Params, &p) != nil || p.Name == "" {
			return nil, mcpError(http.StatusBadRequest, rpcInvalidParams, "invalid_params", "tools/call names no tool")
		}
		x.mcp.tool = p.Name
	}
	x.recordMCP()
	if msg.Method != "" {
		if err := checkRoutingHeaders(r, &msg, x.mcp.version >= mcpStateless); err != nil {
			return nil, err
		}
	}
	return &msg, nil
}

// mcpVersion is the protocol revision a message asks for: the
// MCP-Protocol-Version header, else the version in params._meta
// (2026-07-28), else initialize's protocolVersion, else the legacy one.
func mcpVersion(r *http.Request, msg *rpcMessage) string {
	if v := r.Header.Get("Mcp-Protocol-Version"); v != "" {
		return v
	}
	var p struct {
		Meta            map[string]json.RawMessage `json:"_meta"`
		ProtocolVersion string                     `json:"protocolVersion"`
	}
	if json.Unmarshal(msg.Params, &p) == nil {
		var v string
		if json.Unmarshal(p.Meta["io.modelcontextprotocol/protocolVersion"], &v) == nil && v != "" {
			return v
		}
		if msg.Method == "initialize" && p.ProtocolVersion != "" {
			return p.ProtocolVersion
		}
	}
	return mcpLegacy
}

// checkRoutingHeaders compares Mcp-Method and Mcp-Name with the body
// (2026-07-28): a proxy or a server that routes on the headers must not
// be told one thing while the body does another.
func checkRoutingHeaders(r *http.Request, msg *rpcMessage, required bool) *apiError {
	mismatch := func(what string) *apiError {
		return mcpError(http.StatusBadRequest, rpcHeaderMismatch, "header_mismatch", "the "+what+" header does not match the message")
	}
	// Before 2026-07-28 the headers are not part of the protocol, but
	// one that is sent must still tell the truth: something on the way
	// may route on it.
	hm, hasM := r.Header["Mcp-Method"]
	hn, hasN := r.Header["Mcp-Name"]
	if !required && !hasM && !hasN {
		return nil
	}
	if (required || hasM) && (len(hm) != 1 || hm[0] != msg.Method) {
		return mismatch("Mcp-Method")
	}
	switch msg.Method {
	case "tools/call", "prompts/get", "resources/read":
	default:
		return nil
	}
	name := routingName(msg)
	if (required || hasN) && (len(hn) != 1 || hn[0] != name) {
		return mismatch("Mcp-Name")
	}
	return nil
}

// inspectMCP decides whether the call may go: the tool must pass the
// server's pre-filter, be on the caller's allowlist and have an approved
// definition; the message's values are scanned and the policy asked.
func (s *Server) inspectMCP(x *exchange, msg *rpcMessage) *apiError {
	m := x.mcp
	if m.isCall {
		srv := m.srv
		if !srv.listed(m.tool) {
			return mcpError(http.StatusNotFound, rpcInvalidParams, "unknown_tool", "no such tool")
		}
		st, err := s.toolState(x.ctx, x, srv, m.tool)
		if err != nil {
			return mcpError(http.StatusBadGateway, rpcUnavailable, "tool_definitions_unavailable", "the server's tool definitions could not be read")
		}
		if st == nil {
			return mcpError(http.StatusNotFound, rpcInvalidParams, "unknown_tool", "no such tool")
		}
		// The name is the server's own now: fit for the record.
		x.rec.Tool, m.hash, x.rec.ToolHash = safeToolName(m.tool), st.hash, st.hash
		if !srv.mayCall(x.p, m.tool) {
			return mcpError(http.StatusForbidden, rpcRefused, "tool_not_allowed", "the caller may not call this tool")
		}
		if st.verdict != toolApproved {
			x.rec.Reasons = append(x.rec.Reasons, "tool "+x.rec.Tool+": "+st.verdict.reason())
			return mcpError(http.StatusForbidden, rpcRefused, "tool_not_approved", "the tool is refused: "+st.verdict.reason())
		}
		m.restore = srv.restores(m.tool)
	}
	req, bad := s.scanRequest(x)
	if bad != nil {
		return mcpError(bad.Status, rpcInvalidParams, bad.Code, bad.Msg)
	}
	x.req = req
	x.in.Endpoint, x.in.Server, x.in.Tool = shapeMCP.endpoint, m.srv.Name, m.tool
	for _, v := range req.vals {
		for _, f := range v.findings {
			if f.Category == detect.Secret {
				// A credential never leaves for a tool, trusted or not.
				x.rec.Reasons = append(x.rec.Reasons, "a credential ("+f.Type+") in the message")
				return mcpError(http.StatusForbidden, rpcRefused, "secret_in_arguments",
					"the message carries a credential ("+f.Type+"); it was not sent")
			}
			if strings.HasPrefix(v.path, "$.params.arguments") {
				if x.in.ArgsFindings == nil {
					x.in.ArgsFindings = map[string]int{}
				}
				x.in.ArgsFindings[f.Type]++
			}
		}
	}
	return s.mcpDecide(x)
}

// mcpDecide asks the policy once for the request.
func (s *Server) mcpDecide(x *exchange) *apiError {
	if x.in.Principal == "" {
		x.in = policy.Input{Principal: x.p.Name, Roles: x.p.Roles, Tenant: x.p.Tenant, Endpoint: shapeMCP.endpoint, Server: x.mcp.srv.Name}
	}
	dec, err := s.deps.Policy.Decide(x.in)
	x.rec.Policy = s.deps.Policy.Version()
	x.rec.Rules = dec.Rules
	if err != nil {
		x.rec.Decision = string(policy.Deny)
		return mcpError(http.StatusServiceUnavailable, rpcUnavailable, "policy_error", "policy could not be evaluated; request refused")
	}
	x.rec.Decision = string(dec.Action)
	if dec.Action == policy.Deny {
		x.rec.Reasons = append(x.rec.Reasons, dec.Reason)
		return mcpError(http.StatusForbidden, rpcRefused, "policy_denied", dec.Reason)
	}
	x.dec, x.mcp.decision = dec, dec
	x.restore = dec.Restore
	return nil
}

// deidentifyMCP builds the body the server gets. For a tool trusted
// with raw values (restore_args) the caller's tokens in its arguments
// are restored and raw values pass; otherwise values are rewritten per
// policy as on the model path, tokens staying tokens.
func (s *Server) deidentifyMCP(x *exchange) *apiError {
	if !x.mcp.restore {
		if err := s.deidentify(x); err != nil {
			return mcpError(err.Status, rpcInvalidParams, err.Code, err.Msg)
		}
		return nil
	}
	x.sent = map[string]bool{}
	rev := s.revealer(x.p.Tenant)
	var edits []splice
	_, err := detect.WalkJSON(x.body, s.mcpWalk, func(v detect.JSONValue) (string, bool, error) {
		if v.IsKey || v.Number || v.Literal || v.Container || !strings.HasPrefix(v.Path, "$.params.arguments") {
			return "", false, nil
		}
		if rev == nil || !hasToken(v.Value) {
			return "", false, nil
		}
		out, st, err := transform.Restore(x.ctx, v.Value, rev)
		if err != nil {
			return "", false, err
		}
		if st.Restored > 0 {
			x.restored += st.Restored
			edits = append(edits, splice{v.Start, v.End, jsonString(out)})
		}
		return "", false, nil
	})
	if err != nil {
		return mcpError(http.StatusServiceUnavailable, rpcUnavailable, "restore_failed", "tokens in the arguments could not be restored; nothing was sent")
	}
	x.upBody = applySplices(x.body, edits)
	return nil
}

// hasToken reports whether s holds something Restore would take for a
// token.
func hasToken(s string) bool {
	return strings.IndexByte(s, '[') >= 0 && len(transform.FindTokens(s)) > 0
}

// callMCP sends the request to the server: the body as rewritten, the
// MCP headers, and the server's own credential.
func (s *Server) callMCP(x *exchange) (*http.Response, *apiError) {
	srv := x.mcp.srv
	target := "http://in-process/mcp"
	if srv.base != nil {
		target = srv.base.String()
	}
	uctx, cancel := context.WithCancel(x.ctx)
	deadline := time.AfterFunc(s.cfg.UpstreamTimeout, cancel)
	var body io.Reader
	if x.r.Method == http.MethodPost {
		body = bytes.NewReader(x.upBody)
	}
	req, err := http.NewRequestWithContext(uctx, x.r.Method, target, body)
	if err != nil {
		deadline.Stop()
		cancel()
		return nil, mcpError(http.StatusBadGateway, rpcUnavailable, "upstream_unavailable", "the MCP server could not be called")
	}
	for _, h := range mcpHeaders {
		if v := x.r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	if v := req.Header.Get("Mcp-Protocol-Version"); v != "" && !protocolVersionForm(v) {
		req.Header.Del("Mcp-Protocol-Version") // a revision is a date; anything else is the caller's text
	}
	if req.Header.Get("Mcp-Name") != "" {
		// The caller's header matched the body it sent (decodeMCP); the
		// server gets the name as the rewritten body has it, so a value
		// tokenized in a resource URI does not cross raw in the header.
		var msg rpcMessage
		if json.Unmarshal(x.upBody, &msg) == nil {
			req.Header.Set("Mcp-Name", routingName(&msg))
		}
	}
	if x.r.Method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	accept := x.r.Header.Get("Accept")
	if accept == "" {
		accept = "application/json, text/event-stream"
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", "warden-gateway")
	if srv.AuthHeader != "" {
		req.Header.Set(srv.AuthHeader, srv.AuthValue)
	}
	s.injectTrace(uctx, req.Header)
	t := time.Now()
	var resp *http.Response
	if srv.Handler != nil {
		resp = serveInProcess(srv.Handler, req)
	} else {
		resp, err = srv.client.Do(req)
	}
	x.upstream += time.Since(t)
	if err != nil {
		deadline.Stop()
		cancel()
		code := sendErrorType(x.ctx, uctx)
		if why := tlsFailure(err); why != "" && code == "upstream_unreachable" {
			code = "upstream_tls"
			x.rec.Reasons = append(x.rec.Reasons, "MCP server "+srv.Name+": TLS: "+why)
			s.log.Warn("MCP server TLS failed", "request_id", x.rec.RequestID, "server", srv.Name, "reason", why)
		}
		return nil, upstreamError(code)
	}
	x.deadline, x.cancel = deadline, cancel
	x.up = &Upstream{Name: srv.Name, Zone: srv.Zone}
	return resp, nil
}

// routingName is what Mcp-Name carries for msg: the tool's or prompt's
// name, the resource's URI ("" for other methods).
func routingName(msg *rpcMessage) string {
	var p struct {
		Name string `json:"name"`
		URI  string `json:"uri"`
	}
	json.Unmarshal(msg.Params, &p)
	switch msg.Method {
	case "tools/call", "prompts/get":
		return p.Name
	case "resources/read":
		return p.URI
	}
	return ""
}

// protocolVersionForm says v looks like an MCP revision (YYYY-MM-DD).
func protocolVersionForm(v string) bool {
	if len(v) != 10 || v[4] != '-' || v[7] != '-' {
		return false
	}
	for i, c := range v {
		if i != 4 && i != 7 && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

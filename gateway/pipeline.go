package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/wardenhq/warden/audit/event"
	"github.com/wardenhq/warden/detect"
	"github.com/wardenhq/warden/policy"
	"github.com/wardenhq/warden/transform"
)

// The request pipeline.
//
// Every API request runs the same stages, whatever its shape:
//
//	authenticate → decode → limit → inspect → deidentify → intent → call → relay → finish
//
// Each stage is a method that returns nil or an *apiError, the one error
// type of the path, which finish renders in the caller's API format. A
// stage learns about the API only through the request's shape
// (shape.go). finish is the single place that feeds the observers — the
// audit log, the log line, the metrics and the trace span — and it does
// so from one record (event.Record), so they cannot disagree.
//
// Audit is write-ahead: a request that reaches an upstream gets an
// intent entry, durable before the upstream is called (intent), and a
// completion entry before the response — or, for a stream, its terminal
// event — reaches the caller (relay). A request refused earlier gets
// one entry telling the whole story (finish). If the log cannot record
// an intent, nothing is sent; if it cannot record a completion, the
// response is withheld (JSON) or the stream ends with an error event.

// apiError is how any stage refuses or fails a request: the HTTP
// status, OpenAI's error type and the gateway's error code (Anthropic
// callers get the matching Anthropic type), and a message that never
// quotes request content, a detected value, a key or a model name the
// gateway does not serve.
type apiError struct {
	Status int
	Type   string // invalid_request_error, authentication_error, permission_error, not_found_error, rate_limit_error, api_error
	Code   string
	Msg    string
	// RetryAfter, when > 0, is sent as Retry-After (seconds).
	RetryAfter int
	// header holds upstream headers to forward with the error (an
	// upstream's own Retry-After and rate-limit headers).
	header http.Header
	// rpc is the JSON-RPC error code, for the MCP endpoint.
	rpc int
}

func (e *apiError) Error() string { return e.Code + ": " + e.Msg }

func errBadRequest(code, msg string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Type: "invalid_request_error", Code: code, Msg: msg}
}

func errUnavailable(code, msg string) *apiError {
	return &apiError{Status: http.StatusServiceUnavailable, Type: "api_error", Code: code, Msg: msg, RetryAfter: 1}
}

// exchange is the state of one request through the pipeline.
type exchange struct {
	sh    *shape
	rec   *event.Record
	start time.Time
	r     *http.Request
	w     http.ResponseWriter
	p     *Principal

	// decode
	body      []byte
	fwdHeader http.Header // caller headers forwarded upstream
	model     string      // the model as the caller named it (a configured name)
	route     string      // the model name the upstream gets (an alias resolved)
	// modelLabel is the model's metric label: configured names only.
	modelLabel string
	stream     bool

	// inspect, deidentify
	scan     func(string) []detect.Finding // the request's scanner (one decode budget)
	req      *request
	in       policy.Input
	dec      policy.Decision
	cands    []*Upstream
	upBody   []byte
	restore  bool
	revealer transform.Revealer
	sent     map[string]bool // values sent upstream raw (allowed by policy)
	estimate int             // tokens charged to the rate limits before the call

	// call, relay
	up       *Upstream // the upstream that answered
	upstream time.Duration
	deadline *time.Timer // cancels the upstream call when it takes too long
	cancel   func()
	leaks    int
	restored int
	usage    usage
	// respHeader are the upstream response headers forwarded to the
	// caller (headers.go); respBody is a JSON response read whole.
	respHeader http.Header
	respBody   []byte

	// audit
	intent   int64 // the intent entry's index, -1 until written
	final    int64 // the entry that closes the request, -1 until written
	recorded bool  // the closing entry (request or completion) was attempted
	written  bool  // the response status line went out
	slot     bool  // holds one of the stream slots

	// Tracing (trace.go). ctx is the request's context under its server
	// span; the rest is recorded only when recording.
	ctx       context.Context
	span      trace.Span
	recording bool
	upSpan    trace.Span // the upstream attempt's client span, until it ends
	respModel string     // the model the upstream says answered

	mcp *mcpState // the MCP endpoints' part (mcp.go)
}

func (s *Server) api(sh *shape) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.handle(w, r, sh) }
}

// handle runs one request through the pipeline.
func (s *Server) handle(w http.ResponseWriter, r *http.Request, sh *shape) {
	t0 := time.Now()
	rec := &event.Record{Kind: event.Request, Intent: -1, Time: t0.UTC(), RequestID: newRequestID(),
		Endpoint: sh.endpoint, Findings: map[string]int{}, Operators: map[string]int{}}
	x := &exchange{sh: sh, rec: rec, start: t0, r: r, w: w, intent: -1, final: -1, modelLabel: "other"}
	s.startRequest(r, x)
	w.Header().Set("Warden-Request-Id", rec.RequestID)
	err := s.run(x)
	s.finish(x, err)
	if x.slot {
		<-s.streams
	}
}

// run is the pipeline up to finish.
func (s *Server) run(x *exchange) *apiError {
	if err := s.authenticate(x); err != nil {
		return err
	}
	if err := s.decode(x); err != nil {
		return err
	}
	if err := s.limit(x); err != nil {
		return err
	}
	t := time.Now()
	err := s.inspect(x)
	s.guardInput(x, t, err)
	if err != nil {
		return err
	}
	if err := s.deidentify(x); err != nil {
		return err
	}
	if err := s.reserveStream(x); err != nil {
		return err
	}
	if err := s.writeIntent(x); err != nil {
		return err
	}
	resp, err := s.call(x)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	defer x.cancel()
	defer x.deadline.Stop()
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") && x.sh.stream != nil {
		return s.relayStream(x, resp)
	}
	return s.relayJSON(x, resp)
}

// authenticate identifies the caller. Bad credentials are a 401; a
// credential that could not be checked (the key store is down) is a 503
// the caller may retry, never a 401, which SDKs do not retry.
func (s *Server) authenticate(x *exchange) *apiError {
	x.rec.Credential = credentialKind(x.r)
	p, err := s.deps.Auth.Authenticate(x.r)
	if err != nil {
		x.rec.Principal = event.Unauthenticated
		if errors.Is(err, ErrUnauthenticated) {
			return &apiError{Status: http.StatusUnauthorized, Type: "authentication_error", Code: "invalid_api_key",
				Msg: "missing or invalid credentials"}
		}
		s.log.Error("credentials could not be checked", "request_id", x.rec.RequestID, "error", scrubError(err))
		return errUnavailable("auth_unavailable", "credentials could not be checked right now; retry shortly")
	}
	x.p = p
	x.rec.Principal, x.rec.Tenant = p.Name, p.Tenant
	if p.Method != "" {
		x.rec.Credential = p.Method
	}
	return nil
}

// credentialKind names the kind of credential a request presents,
// never the credential.
func credentialKind(r *http.Request) string {
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		return "mtls"
	}
	v := r.Header.Get("X-Api-Key")
	if a := r.Header.Get("Authorization"); a != "" {
		scheme, rest, _ := strings.Cut(a, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return "other"
		}
		v = strings.TrimSpace(rest)
	}
	switch {
	case v == "":
		return "none"
	case strings.Count(v, ".") == 2:
		return "jwt"
	}
	return "apikey"
}

// decode reads the body within the size limit, checks that it is one
// strict JSON object (no repeated or case-variant keys, nothing after
// it), and resolves the model it names.
func (s *Server) decode(x *exchange) *apiError {
	r := x.r
	if ambiguousFraming(r.Context()) || (len(r.TransferEncoding) > 0 && r.Header.Get("Content-Length") != "") {
		// Both framings: a request-smuggling attempt (RFC 9112 §6.3).
		x.w.Header().Set("Connection", "close")
		return errBadRequest("ambiguous_framing", "the request has both Content-Length and Transfer-Encoding")
	}
	body, err := io.ReadAll(http.MaxBytesReader(x.w, r.Body, s.cfg.MaxBodyBytes))
	rearmFraming(r.Context())
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &apiError{Status: http.StatusRequestEntityTooLarge, Type: "invalid_request_error", Code: "body_too_large",
				Msg: fmt.Sprintf("request body larger than server.max_body_bytes (%d)", s.cfg.MaxBodyBytes)}
		}
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			return &apiError{Status: http.StatusRequestTimeout, Type: "invalid_request_error", Code: "body_timeout",
				Msg: "the request body did not arrive in time (server.read_timeout, server.min_body_rate)"}
		}
		return errBadRequest("bad_body", "could not read the request body")
	}
	x.body = body
	_, sp := s.stage(x.ctx, x, "warden.decode")
	defer sp.End()
	top, bad := s.topLevel(x.sh, body)
	if bad != nil {
		failStage(sp, bad.Code)
		return bad
	}
	x.stream = top.stream
	x.rec.Stream = top.stream
	if top.model == "" {
		return errBadRequest("missing_model", "the request names no model")
	}
	return s.resolveModel(x, top.model)
}

// resolveModel admits the model a request names: one an upstream or an
// alias serves, that the principal may use. A name the gateway does not
// serve is refused without being recorded anywhere as given: it may be
// anything, a value the caller pasted included.
func (s *Server) resolveModel(x *exchange, name string) *apiError {
	x.rec.Model = event.UnknownModel
	route, explicit, ok := s.routeOf(name)
	if !ok {
		return &apiError{Status: http.StatusNotFound, Type: "not_found_error", Code: "model_not_found",
			Msg: "the model does not exist or is not served by this gateway"}
	}
	if !x.p.MayUse(name) {
		return &apiError{Status: http.StatusForbidden, Type: "permission_error", Code: "model_not_allowed",
			Msg: "the caller may not use this model"}
	}
	x.model, x.route = name, route
	x.rec.Model = name
	if explicit {
		x.modelLabel = name
	}
	x.nameRequest(name)
	return nil
}

// routeOf resolves a model name: an alias's target, or the name itself
// when an upstream serves it. explicit says the name is configured
// (listed by an upstream or an alias), not only admitted by a wildcard
// upstream; wildcard-served names must look like model names and hold
// nothing the detector finds, since they are recorded.
func (s *Server) routeOf(name string) (route string, explicit, ok bool) {
	if a, isAlias := s.cfg.Aliases[name]; isAlias {
		return a, true, true
	}
	wild := false
	for _, u := range s.cfg.Upstreams {
		for _, m := range u.Models {
			if m == name {
				return name, true, true
			}
			wild = wild || m == "*"
		}
	}
	if !wild || !plausibleModelName(name) || len(s.deps.Detector.Scan(name)) > 0 {
		return "", false, false
	}
	return name, false, true
}

// plausibleModelName reports whether a name looks like a model name:
// 1–128 characters of letters, digits and . _ : / @ + -.
func plausibleModelName(n string) bool {
	if n == "" || len(n) > 128 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.' || c == '_' || c == ':' || c == '/' || c == '@' || c == '+' || c == '-':
		default:
			return false
		}
	}
	return true
}

// limit charges the request to its principal's and its model's budgets.
func (s *Server) limit(x *exchange) *apiError {
	x.estimate = len(x.body)/4 + 1
	return s.takeLimits(x.ctx, x)
}

// reserveStream takes one of the gateway's stream slots for a streamed
// request before anything is sent upstream.
func (s *Server) reserveStream(x *exchange) *apiError {
	if !x.stream {
		return nil
	}
	select {
	case s.streams <- struct{}{}:
		x.slot = true
		return nil
	default:
		return errUnavailable("too_many_streams", "too many concurrent streams; retry shortly")
	}
}

// writeIntent makes the intent entry durable before the upstream is
// called. No intent, no call.
func (s *Server) writeIntent(x *exchange) *apiError {
	if s.deps.Auditor == nil {
		return nil
	}
	x.rec.Kind = event.Intent
	if len(x.cands) > 0 {
		x.rec.Upstream, x.rec.Zone = x.cands[0].Name, x.cands[0].Zone
	}
	x.rec.RequestBody = x.upBody
	x.rec.Overhead = time.Since(x.start)
	idx, err := s.audit(x)
	if err != nil {
		if s.cfg.AuditFailOpen {
			x.rec.Kind = event.Request
			return nil
		}
		x.rec.Kind = event.Request
		x.recorded = true // the log is failing: do not try again in finish
		return errUnavailable("audit_unavailable", "audit log unavailable; nothing was sent upstream")
	}
	x.intent = idx
	return nil
}

// complete writes the completion entry of a request that reached an
// upstream (or, for one that did not, its single entry) with the
// status the caller gets. It reports failure unless the gateway runs
// with audit_fail_open.
func (s *Server) complete(x *exchange, status int, code string) error {
	if x.recorded || s.deps.Auditor == nil {
		return nil
	}
	x.recorded = true
	rec := x.rec
	if x.intent >= 0 {
		rec.Kind, rec.Intent = event.Completion, x.intent
	} else {
		rec.Kind = event.Request
	}
	rec.Status, rec.Error = status, code
	rec.Restored, rec.Leaks = x.restored, x.leaks
	rec.InputTokens, rec.OutputTokens = x.usage.inputTokens(), x.usage.outputTokens()
	if x.up != nil {
		rec.Upstream, rec.Zone = x.up.Name, x.up.Zone
	}
	rec.UpstreamTime = x.upstream
	rec.Overhead = time.Since(x.start) - x.upstream
	if rec.Kind == event.Request {
		// Without an intent (audit_fail_open after the intent failed) the
		// request's single entry has no place for upstream results.
		rec.UpstreamTime, rec.Restored, rec.Leaks, rec.InputTokens, rec.OutputTokens = 0, 0, 0, 0, 0
	}
	idx, err := s.audit(x)
	if err != nil {
		if s.cfg.AuditFailOpen {
			return nil
		}
		return err
	}
	x.final = idx
	return nil
}

// audit appends x.rec to the audit log under the store deadline.
func (s *Server) audit(x *exchange) (int64, error) {
	ctx, sp := s.stage(context.WithoutCancel(x.ctx), x, "warden.audit")
	defer sp.End()
	ctx, cancel := context.WithTimeout(ctx, s.cfg.AuditTimeout)
	defer cancel()
	idx, err := s.deps.Auditor.Record(ctx, x.rec)
	if err != nil {
		failStage(sp, "audit_unavailable")
		s.deps.Metrics.auditFailures.Inc()
		s.log.Error("audit record failed", "request_id", x.rec.RequestID, "kind", string(x.rec.Kind), "error", scrubError(err))
		return -1, err
	}
	if sp.IsRecording() {
		sp.SetAttributes(keyAuditIndex.Int64(idx))
	}
	return idx, nil
}

// finish ends every request: it answers an error if nothing was
// written yet, writes the request's closing audit entry if the relay did
// not, and feeds the log line, the metrics and the span from the one
// record.
func (s *Server) finish(x *exchange, e *apiError) {
	status := x.rec.Status
	if e != nil {
		status = e.Status
		x.rec.Error = e.Code
		if e.Code == "policy_denied" {
			s.deps.Metrics.blocked.WithLabelValues(x.modelLabel).Inc()
		}
	}
	if !x.recorded {
		code := ""
		if e != nil {
			code = e.Code
		}
		if err := s.complete(x, status, code); err == nil && x.final >= 0 && !x.written {
			x.w.Header().Set("Warden-Audit-Index", strconv.FormatInt(x.final, 10))
		}
	}
	if e != nil && !x.written {
		for k, vs := range e.header {
			x.w.Header()[k] = vs
		}
		if x.sh.mcp {
			writeMCPError(x.w, e, x.mcp.id)
		} else {
			x.sh.writeError(x.w, e)
		}
		x.written = true
	}
	x.rec.Status = status
	total := time.Since(x.start)
	x.rec.Overhead = total - x.upstream
	x.rec.UpstreamTime = x.upstream
	s.deps.Metrics.observe(x.sh.endpoint, x.modelLabel, status, x.rec.Overhead, x.upstream)
	s.endRequest(x, status)
	rec := x.rec
	s.log.Info("request", "request_id", rec.RequestID, "endpoint", rec.Endpoint, "principal", rec.Principal,
		"credential", rec.Credential, "tenant", rec.Tenant, "model", rec.Model, "upstream", rec.Upstream, "zone", rec.Zone,
		"status", status, "error", rec.Error, "decision", rec.Decision, "findings", sumCounts(rec.Findings),
		"restored", x.restored, "leaks", x.leaks, "audit_index", x.final,
		"overhead_ms", float64(rec.Overhead.Microseconds())/1000, "upstream_ms", float64(x.upstream.Microseconds())/1000)
}

// scrubError renders an error from a store, a limiter or an upstream
// client for the log: the error's own text minus anything that looks
// like a connection string's credentials, host or database.
func scrubError(err error) string {
	msg := err.Error()
	for _, marker := range []string{"://", "host=", "user=", "password=", "dbname="} {
		if i := strings.Index(msg, marker); i >= 0 {
			j := strings.LastIndexAny(msg[:i], " (\"'") + 1
			return msg[:j] + "[connection details removed]"
		}
	}
	return msg
}

// isTimeout reports whether err is a network timeout.
func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

func itoa(n int) string { return strconv.Itoa(n) }

// noteFinding adds one of the request's findings to the policy input,
// the record and the metrics.
func (x *exchange) noteFinding(s *Server, f detect.Finding) {
	x.in.Add(f.Type, string(f.Category), 1)
	x.rec.Findings[f.Type]++
	s.deps.Metrics.findings.WithLabelValues(f.Type).Inc()
}

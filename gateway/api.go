package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/wardenhq/warden/audit/event"
	"github.com/wardenhq/warden/detect"
	"github.com/wardenhq/warden/policy"
	"github.com/wardenhq/warden/transform"
)

// apiKind is one of the API shapes the gateway speaks.
type apiKind int

const (
	apiChat apiKind = iota
	apiCompletions
	apiResponses
	apiEmbeddings
	apiMessages
)

func (k apiKind) endpoint() string {
	return [...]string{"chat", "completions", "responses", "embeddings", "messages"}[k]
}

func (k apiKind) path() string {
	return [...]string{"/chat/completions", "/completions", "/responses", "/embeddings", "/messages"}[k]
}

func (s *Server) api(kind apiKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.handle(w, r, kind) }
}

// exchange is the state of one request through the gateway.
type exchange struct {
	kind     apiKind
	ev       *event.Record
	p        *Principal
	restore  bool
	revealer transform.Revealer
	sent     map[string]bool // values sent upstream raw (allowed by policy)
	leaks    int
	restored int
	upstream time.Duration
	start    time.Time
	estimate int         // tokens charged to the rate limits before the call
	deadline *time.Timer // cancels the upstream call when it takes too long
	cancel   func()

	// Tracing (trace.go). ctx is the request's context under its server
	// span; the rest is recorded only when recording.
	ctx        context.Context
	span       trace.Span
	recording  bool
	upSpan     trace.Span // the upstream attempt's client span, until it ends
	up         *Upstream  // the upstream that answered
	errType    string     // the error code the gateway answered with
	auditIndex int64      // -1 until recorded
	usage      usage      // what the upstream reported
	respModel  string     // the model the upstream says answered
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request, kind apiKind) {
	t0 := time.Now()
	ev := &event.Record{Kind: event.Request, Intent: -1, Time: t0.UTC(), RequestID: newRequestID(), Endpoint: kind.endpoint(), Findings: map[string]int{}, Operators: map[string]int{}}
	x := &exchange{kind: kind, ev: ev, start: t0, auditIndex: -1}
	s.startRequest(r, x)
	w.Header().Set("Warden-Request-Id", ev.RequestID)
	m := s.deps.Metrics
	status := s.serve(w, r, x)
	ev.Status = status
	total := time.Since(t0)
	ev.Overhead = total - x.upstream
	ev.UpstreamTime = x.upstream
	label := "other" // only models that reached an upstream label metrics
	if ev.Upstream != "" {
		label = ev.Model
	}
	m.observe(kind.endpoint(), label, status, ev.Overhead, x.upstream)
	s.endRequest(x, status)
	s.log.Info("request", "request_id", ev.RequestID, "endpoint", kind.endpoint(), "principal", ev.Principal,
		"tenant", ev.Tenant, "model", ev.Model, "upstream", ev.Upstream, "zone", ev.Zone, "status", status,
		"decision", ev.Decision, "findings", sumCounts(ev.Findings), "restored", x.restored, "leaks", x.leaks,
		"overhead_ms", float64(ev.Overhead.Microseconds())/1000, "upstream_ms", float64(x.upstream.Microseconds())/1000)
}

// serve runs the request path and returns the HTTP status sent.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, x *exchange) int {
	ctx := x.ctx
	kind, ev := x.kind, x.ev
	p, err := s.deps.Auth.Authenticate(r)
	if err != nil {
		return s.refuse(w, x, http.StatusUnauthorized, "authentication_error", "invalid_api_key", "missing or invalid credentials")
	}
	x.p = p
	ev.Principal, ev.Tenant = p.Name, p.Tenant

	body, err := readBody(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return s.refuse(w, x, http.StatusRequestEntityTooLarge, "invalid_request_error", "body_too_large",
				fmt.Sprintf("request body larger than max_body_bytes (%d)", s.cfg.MaxBodyBytes))
		}
		return s.refuse(w, x, http.StatusBadRequest, "invalid_request_error", "bad_body", "could not read the request body")
	}
	// The fast path (fastpath.go) leaves obj nil: nothing to rewrite.
	var obj map[string]any
	_, sp := s.stage(ctx, x, "warden.scan")
	model, stream, fast := s.scanRequest(body)
	if !fast {
		if obj, err = decodeObject(body, s.cfg.MaxJSONDepth); err != nil {
			failStage(sp, "invalid_json")
			sp.End()
			return s.refuse(w, x, http.StatusBadRequest, "invalid_request_error", "invalid_json", err.Error())
		}
		model, _ = obj["model"].(string)
		stream, _ = obj["stream"].(bool)
	}
	sp.End()
	if model == "" {
		return s.refuse(w, x, http.StatusBadRequest, "invalid_request_error", "missing_model", "the request names no model")
	}
	ev.Model = model
	if !p.MayUse(model) {
		return s.refuse(w, x, http.StatusForbidden, "permission_error", "model_not_allowed",
			fmt.Sprintf("principal %q may not use model %q", p.Name, model))
	}
	x.nameRequest(model)
	upstreamModel := model
	changed := false // whether the body sent upstream differs from the caller's
	if a, ok := s.cfg.Aliases[model]; ok {
		upstreamModel = a
		obj["model"] = a
		changed = true
	}
	ev.Stream = stream

	estimate := len(body)/4 + 1
	x.estimate = estimate
	if status, limited := s.limit(ctx, w, x, p.Name, model, estimate); limited {
		return status
	}

	// Detect in every string a prompt can hide in.
	slots := collectSlots(obj)
	in := policy.Input{Principal: p.Name, Roles: p.Roles, Tenant: p.Tenant, Model: model, Endpoint: kind.endpoint()}
	sp = noSpan()
	if len(slots) > 0 {
		_, sp = s.stage(ctx, x, "warden.detect")
	}
	for i := range slots {
		sl := &slots[i]
		sl.findings = s.deps.Detector.Scan(sl.value)
		for _, f := range sl.findings {
			in.Add(f.Type, string(f.Category), 1)
			s.deps.Metrics.findings.WithLabelValues(f.Type).Inc()
		}
	}
	for t, n := range in.Findings {
		ev.Findings[t] = n
	}
	if sp.IsRecording() {
		sp.SetAttributes(keyFindings.Int(sumCounts(ev.Findings)))
	}
	sp.End()
	_, sp = s.stage(ctx, x, "warden.policy")
	dec, err := s.deps.Policy.Decide(in)
	sp.End()
	ev.Policy = s.deps.Policy.Version()
	ev.Rules = dec.Rules
	if err != nil {
		ev.Decision = string(policy.Deny)
		return s.refuse(w, x, http.StatusServiceUnavailable, "api_error", "policy_error", "policy could not be evaluated; request refused")
	}
	ev.Decision = string(dec.Action)
	if dec.Action == policy.Deny {
		ev.Reasons = []string{dec.Reason}
		s.deps.Metrics.blocked.WithLabelValues("other").Inc()
		return s.refuse(w, x, http.StatusBadRequest, "invalid_request_error", "policy_denied", dec.Reason)
	}
	cands, reason := s.candidates(upstreamModel, dec.Zones)
	if cands == nil {
		ev.Reasons = []string{reason}
		return s.refuse(w, x, http.StatusServiceUnavailable, "api_error", "no_eligible_upstream", reason)
	}
	if zp, ok := s.deps.Policy.(zonePolicy); ok && zp.ZoneDependent() {
		var refused []string
		_, sp = s.stage(ctx, x, "warden.policy.zones")
		cands, dec, refused, err = s.decideZones(in, cands)
		sp.End()
		ev.Reasons = refused
		if err != nil {
			ev.Decision = string(policy.Deny)
			return s.refuse(w, x, http.StatusServiceUnavailable, "api_error", "policy_error", "policy could not be evaluated; request refused")
		}
		if cands == nil {
			ev.Decision = string(policy.Deny)
			s.deps.Metrics.blocked.WithLabelValues("other").Inc()
			return s.refuse(w, x, http.StatusBadRequest, "invalid_request_error", "policy_denied", strings.Join(refused, "; "))
		}
		ev.Decision, ev.Rules = string(dec.Action), dec.Rules
	}

	// De-identify.
	var d *transform.Deidentifier
	if len(in.Findings) > 0 {
		if d, err = s.deidentifier(p.Tenant, dec.Operators); err != nil {
			return s.refuse(w, x, http.StatusInternalServerError, "api_error", "policy_operator", "policy names an unusable operator: "+err.Error())
		}
	}
	x.sent = map[string]bool{}
	apply := make([][]detect.Finding, len(slots))
	for i := range slots {
		sl := &slots[i]
		for _, f := range sl.findings {
			op := dec.Operator(f.Type, string(f.Category))
			if op == "" || op == "allow" {
				x.sent[sl.value[f.Start:f.End]] = true
				continue
			}
			apply[i] = append(apply[i], f)
		}
	}
	dctx, sp := ctx, noSpan()
	if d != nil {
		dctx, sp = s.stage(ctx, x, "warden.deidentify")
		// Issue every token of the request in one vault transaction.
		if tok, err := s.preissue(dctx, p.Tenant, d, slots, apply); err != nil {
			failStage(sp, "deidentify_failed")
			sp.End()
			return s.refuse(w, x, http.StatusServiceUnavailable, "api_error", "deidentify_failed",
				"de-identification failed; request refused (no data was sent upstream)")
		} else if tok != nil {
			d = d.WithTokenizer(tok)
		}
	}
	for i := range slots {
		if len(apply[i]) == 0 {
			continue
		}
		sl := &slots[i]
		out, st, err := d.Apply(dctx, sl.value, apply[i])
		if err != nil {
			// Fail closed: never forward what could not be protected.
			failStage(sp, "deidentify_failed")
			sp.End()
			return s.refuse(w, x, http.StatusServiceUnavailable, "api_error", "deidentify_failed",
				"de-identification failed; request refused (no data was sent upstream)")
		}
		for _, c := range st.Counts {
			ev.Operators[string(c.Operator)] += c.N
		}
		sl.set(out)
		changed = true
	}
	sp.End()
	x.restore = dec.Restore
	if x.restore {
		x.revealer = s.revealer(p.Tenant)
	}
	upBody := body
	if changed {
		if upBody, err = json.Marshal(obj); err != nil {
			return s.refuse(w, x, http.StatusInternalServerError, "api_error", "encode", "could not encode the upstream request")
		}
	}
	ev.RequestBody = upBody

	// Call an upstream; retry others on connection errors and 5xx/429
	// before any byte reached the caller.
	var resp *http.Response
	var u *Upstream
	refused := 0 // candidates whose Check refused the model
	tries := 1 + s.cfg.Retries
	for i := 0; i < len(cands) && i < tries; i++ {
		u = cands[i]
		if u.Check != nil {
			if err := u.Check(ctx, upstreamModel); err != nil {
				ev.Reasons = append(ev.Reasons, "upstream "+u.Name+" refused the model: "+err.Error())
				resp = nil
				refused++
				continue
			}
		}
		t := time.Now()
		uctx, cancel := context.WithCancel(ctx)
		x.deadline = time.AfterFunc(s.cfg.UpstreamTimeout, cancel)
		x.cancel = cancel
		resp, err = s.send(s.startUpstream(uctx, x, u, upstreamModel, i+1), u, r, x.kind.path(), upBody, kind)
		x.upstream += time.Since(t)
		if err != nil {
			x.endUpstream(0, sendErrorType(ctx, uctx))
			x.deadline.Stop()
			cancel()
			u.markFailure()
			resp = nil
			continue
		}
		if (resp.StatusCode >= 500 || resp.StatusCode == 429) && i+1 < len(cands) && i+1 < tries {
			x.endUpstream(resp.StatusCode, "")
			resp.Body.Close()
			x.deadline.Stop()
			cancel()
			u.markFailure()
			resp = nil
			continue
		}
		u.markSuccess()
		defer x.deadline.Stop()
		defer cancel()
		break
	}
	if resp == nil {
		reason := "no upstream answered"
		if len(ev.Reasons) > 0 {
			reason = ev.Reasons[len(ev.Reasons)-1]
		}
		if refused > 0 && refused == min(len(cands), tries) {
			return s.refuse(w, x, http.StatusForbidden, "permission_error", "model_not_approved", reason)
		}
		return s.refuse(w, x, http.StatusBadGateway, "api_error", "upstream_unavailable", reason)
	}
	defer resp.Body.Close()
	ev.Upstream, ev.Zone = u.Name, u.Zone
	x.up = u

	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return s.relayStream(w, r, x, resp)
	}
	return s.relayJSON(w, r, x, resp)
}

// relayJSON reads a whole upstream JSON response, guards and restores its
// strings, records the audit event and answers.
func (s *Server) relayJSON(w http.ResponseWriter, r *http.Request, x *exchange, resp *http.Response) int {
	ctx := x.ctx
	t := time.Now()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, s.cfg.MaxResponseBytes+1))
	x.upstream += time.Since(t)
	if err != nil {
		x.endUpstream(resp.StatusCode, "upstream_read")
		return s.refuse(w, x, http.StatusBadGateway, "api_error", "upstream_read", "reading the upstream response failed")
	}
	x.endUpstream(resp.StatusCode, "")
	if int64(len(raw)) > s.cfg.MaxResponseBytes {
		return s.refuse(w, x, http.StatusBadGateway, "api_error", "upstream_too_large", "upstream response larger than max_response_bytes")
	}
	out := raw // nothing restored or masked: answer with the upstream's bytes
	gctx, sp := s.stage(ctx, x, "warden.guard")
	var model *string // the response model, read for the trace only
	if x.recording {
		model = &x.respModel
	}
	u, clean := s.cleanResponse(raw, model)
	if !clean {
		var doc any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			// Never pass through what cannot be inspected.
			failStage(sp, "upstream_malformed")
			sp.End()
			return s.refuse(w, x, http.StatusBadGateway, "api_error", "upstream_malformed", "upstream answered with something that is not JSON")
		}
		n, err := s.guardDoc(gctx, x, doc)
		if err != nil {
			failStage(sp, "restore_failed")
			sp.End()
			return s.refuse(w, x, http.StatusServiceUnavailable, "api_error", "restore_failed", "response guard failed; response withheld")
		}
		if n > 0 {
			if out, err = json.Marshal(doc); err != nil {
				sp.End()
				return s.refuse(w, x, http.StatusInternalServerError, "api_error", "encode", "could not encode the response")
			}
		}
		u = usageOf(doc)
		if x.recording {
			m, _ := doc.(map[string]any)
			x.respModel = responseModel(m)
		}
	}
	sp.End()
	s.adjustUsage(ctx, x, u)
	x.ev.ResponseBody = out
	x.ev.Restored, x.ev.Leaks = x.restored, x.leaks
	if idx, err := s.record(ctx, x, resp.StatusCode); err != nil {
		return s.refuse(w, x, http.StatusServiceUnavailable, "api_error", "audit_unavailable", "audit log unavailable; response withheld")
	} else if idx >= 0 {
		w.Header().Set("Warden-Audit-Index", strconv.FormatInt(idx, 10))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(resp.StatusCode)
	w.Write(out)
	return resp.StatusCode
}

// record hands the event to the auditor, with the status sent and the
// timings so far. It returns -1 without an auditor.
func (s *Server) record(ctx context.Context, x *exchange, status int) (int64, error) {
	if s.deps.Auditor == nil {
		return -1, nil
	}
	x.ev.Status = status
	x.ev.UpstreamTime = x.upstream
	x.ev.Overhead = time.Since(x.start) - x.upstream
	ctx, sp := s.stage(ctx, x, "warden.audit")
	defer sp.End()
	idx, err := s.deps.Auditor.Record(ctx, x.ev)
	if err != nil {
		failStage(sp, "audit_unavailable")
		s.deps.Metrics.auditFailures.Inc()
		s.log.Error("audit record failed", "request_id", x.ev.RequestID, "error", err.Error())
		if s.cfg.AuditFailOpen {
			return -1, nil
		}
		return -1, err
	}
	x.auditIndex = idx
	if sp.IsRecording() {
		sp.SetAttributes(keyAuditIndex.Int64(idx))
	}
	return idx, nil
}

// guardDoc rewrites every content string of a response document: leaks
// masked, tokens restored. It returns how many strings changed.
func (s *Server) guardDoc(ctx context.Context, x *exchange, doc any) (int, error) {
	var firstErr error
	changed := 0
	walkStrings(doc, func(key string, parent map[string]any, v string, set func(string)) {
		if firstErr != nil || structuralKey(key, parent) || v == "" {
			return
		}
		out, err := s.segment(ctx, x, "", v)
		if err != nil {
			firstErr = err
			return
		}
		if out != v {
			set(out)
			changed++
		}
	})
	return changed, firstErr
}

// segment masks leaks in seg (values the model produced that were not
// sent to it) and restores the caller's tokens. before is text already
// emitted just ahead of seg (context for the detector).
func (s *Server) segment(ctx context.Context, x *exchange, before, seg string) (string, error) {
	full := seg
	if before != "" {
		full = before + seg
	}
	fs := s.deps.Detector.Scan(full)
	var leaks []detect.Finding
	if len(fs) > 0 {
		toks := transform.FindTokens(seg)
		for _, f := range fs {
			if f.Start < len(before) {
				continue
			}
			f.Start -= len(before)
			f.End -= len(before)
			if overlapsToken(f, toks) || x.sent[seg[f.Start:f.End]] {
				continue
			}
			leaks = append(leaks, f)
		}
	}
	out := seg
	if len(leaks) > 0 {
		var err error
		out, _, err = s.leak.Apply(ctx, seg, leaks)
		if err != nil {
			return "", err
		}
		x.leaks += len(leaks)
		s.deps.Metrics.leaks.Add(float64(len(leaks)))
	}
	if x.restore && x.revealer != nil {
		restored, st, err := transform.Restore(ctx, out, x.revealer)
		if err != nil {
			return "", err
		}
		out = restored
		x.restored += st.Restored
		s.deps.Metrics.restores.Add(float64(st.Restored))
	}
	return out, nil
}

func overlapsToken(f detect.Finding, toks []transform.TokenRef) bool {
	for _, t := range toks {
		if f.Start < t.End && t.Start < f.End {
			return true
		}
	}
	return false
}

// adjustUsage corrects the rate limiter's token estimate with the usage
// the upstream reported.
func (s *Server) adjustUsage(ctx context.Context, x *exchange, u usage) {
	x.usage.merge(u)
	if s.deps.Limiter == nil {
		return
	}
	if total := u.tokens(); total != 0 {
		s.adjustLimits(ctx, x.p.Name, x.ev.Model, total-x.estimate)
	}
}

// usageOf reads the usage object of a response document ($.usage or
// $.response.usage).
func usageOf(doc any) usage {
	var out usage
	m, _ := doc.(map[string]any)
	u, _ := m["usage"].(map[string]any)
	if u == nil {
		if resp, ok := m["response"].(map[string]any); ok {
			u, _ = resp["usage"].(map[string]any)
		}
	}
	for k, v := range u {
		out.set(k, intOf(v))
	}
	return out
}

func intOf(v any) int {
	switch n := v.(type) {
	case json.Number:
		i, _ := n.Int64()
		return int(i)
	case float64:
		return int(n)
	}
	return 0
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// readBody reads at most max bytes of the request body.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(w, r.Body, max))
}

// decodeObject parses a JSON object, refusing nesting deeper than
// maxDepth before decoding. Errors give the byte offset, never content.
func decodeObject(body []byte, maxDepth int) (map[string]any, error) {
	if off, ok := depthWithin(body, maxDepth); !ok {
		return nil, fmt.Errorf("JSON nested deeper than max_json_depth (%d) at byte %d", maxDepth, off)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("malformed JSON at byte %d", se.Offset)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("malformed JSON at byte %d", te.Offset)
		}
		return nil, errors.New("malformed JSON: unexpected end of input")
	}
	if dec.More() {
		return nil, fmt.Errorf("malformed JSON at byte %d: data after the top-level value", dec.InputOffset())
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("the request body must be a JSON object")
	}
	return obj, nil
}

// depthWithin reports whether JSON nesting stays within max, or the
// offset where it first exceeds it.
func depthWithin(b []byte, max int) (int, bool) {
	depth := 0
	inStr := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inStr {
			switch c {
			case '\\':
				i++
			case '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			depth++
			if depth > max {
				return i, false
			}
		case '}', ']':
			depth--
		}
	}
	return 0, true
}

// slot is one string value of the request that may carry a prompt.
type slot struct {
	value    string
	set      func(string)
	findings []detect.Finding
}

// structuralKeys hold identifiers, enums and routing fields, never
// free text: they are neither scanned nor rewritten.
var structuralKeys = map[string]bool{
	"model": true, "role": true, "type": true, "id": true, "object": true, "tool_call_id": true,
	"call_id": true, "item_id": true, "finish_reason": true, "stop_reason": true, "system_fingerprint": true,
	"encoding_format": true, "service_tier": true, "status": true, "media_type": true, "detail": true,
	"tool_use_id": true, "previous_response_id": true, "event": true, "logprobs": true,
}

// structuralKey reports whether a string under key (in parent) is an
// identifier rather than text: function and tool names, enum fields,
// embedded base64 media.
func structuralKey(key string, parent map[string]any) bool {
	if structuralKeys[key] {
		return true
	}
	if parent == nil {
		return false
	}
	switch key {
	case "name":
		// Tool and function names are identifiers; a chat participant's
		// "name" sits next to "role" and is scanned.
		_, isMsg := parent["role"]
		return !isMsg
	case "data":
		_, isMedia := parent["media_type"]
		return isMedia
	}
	return false
}

// collectSlots returns every scannable string of a request document.
func collectSlots(doc map[string]any) []slot {
	var out []slot
	walkStrings(doc, func(key string, parent map[string]any, v string, set func(string)) {
		if v == "" || structuralKey(key, parent) || isDataURL(v) {
			return
		}
		out = append(out, slot{value: v, set: set})
	})
	return out
}

func isDataURL(v string) bool {
	if !strings.HasPrefix(v, "data:") {
		return false
	}
	i := strings.IndexByte(v, ',')
	return i > 0 && strings.HasSuffix(v[:i], ";base64")
}

// walkStrings calls fn for every string value in v (maps in sorted key
// order), with the key it sits under ("" in arrays), its parent object
// and a setter.
func walkStrings(v any, fn func(key string, parent map[string]any, v string, set func(string))) {
	var walk func(v any, key string, parent map[string]any)
	walk = func(v any, key string, parent map[string]any) {
		switch t := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if s, ok := t[k].(string); ok {
					m, k := t, k
					fn(k, m, s, func(n string) { m[k] = n })
					continue
				}
				walk(t[k], k, t)
			}
		case []any:
			for i := range t {
				if s, ok := t[i].(string); ok {
					a, i := t, i
					fn(key, parent, s, func(n string) { a[i] = n })
					continue
				}
				walk(t[i], key, parent)
			}
		}
	}
	walk(v, "", nil)
}

// refuse answers a request with an error (fail) and keeps its code for
// the trace.
func (s *Server) refuse(w http.ResponseWriter, x *exchange, status int, typ, code, msg string) int {
	x.errType = code
	return s.fail(w, x.kind, status, typ, code, msg)
}

// fail writes an error in the API's own format and returns status.
func (s *Server) fail(w http.ResponseWriter, kind apiKind, status int, typ, code, msg string) int {
	var body any
	if kind == apiMessages {
		atype := map[string]string{"authentication_error": "authentication_error", "permission_error": "permission_error",
			"rate_limit_error": "rate_limit_error", "invalid_request_error": "invalid_request_error"}[typ]
		if atype == "" {
			atype = "api_error"
		}
		if status == http.StatusRequestEntityTooLarge {
			atype = "request_too_large"
		}
		body = map[string]any{"type": "error", "error": map[string]any{"type": atype, "message": msg}}
	} else {
		body = map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": code}}
	}
	writeJSONStatus(w, status, body)
	return status
}

func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// preissue issues the tokens a request needs in one vault batch when the
// tenant's tokenizer supports it; nil otherwise.
func (s *Server) preissue(ctx context.Context, tenant string, d *transform.Deidentifier, slots []slot, apply [][]detect.Finding) (transform.Tokenizer, error) {
	if s.deps.Tokens == nil {
		return nil, nil
	}
	bt, ok := s.deps.Tokens.Tokenizer(tenant).(transform.BatchTokenizer)
	if !ok {
		return nil, nil
	}
	texts := make([]string, len(slots))
	for i := range slots {
		texts[i] = slots[i].value
	}
	return d.Preissue(ctx, bt, texts, apply)
}

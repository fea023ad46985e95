package gateway

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wardenhq/warden/detect"
	"github.com/wardenhq/warden/transform"
)

// The response side: the upstream call, the JSON relay and the guard
// every response string goes through.

// call sends the request to the first candidate upstream that answers.
// Another candidate is tried (up to Config.Retries more) when one cannot
// be reached, answers 429 or 5xx, redirects, or fails in the middle of a
// JSON body — as long as nothing has reached the caller. A JSON body is
// read whole here, so relayJSON never sees a half response; a stream's
// body is left open.
func (s *Server) call(x *exchange) (*http.Response, *apiError) {
	var last *apiError
	refused := 0 // candidates whose Check refused the model
	tries := 1 + s.cfg.Retries
	n := min(len(x.cands), tries)
	for i := 0; i < n; i++ {
		u := x.cands[i]
		if u.Check != nil {
			if err := u.Check(x.ctx, x.route); err != nil {
				x.rec.Reasons = append(x.rec.Reasons, "upstream "+u.Name+" refused the model: "+err.Error())
				refused++
				last = &apiError{Status: http.StatusForbidden, Type: "permission_error", Code: "model_not_approved", Msg: err.Error()}
				continue
			}
		}
		t := time.Now()
		uctx, cancel := context.WithCancel(x.ctx)
		deadline := time.AfterFunc(s.cfg.UpstreamTimeout, cancel)
		resp, err := s.send(s.startUpstream(uctx, x, u, x.route, i+1), u, x)
		stop := func() { deadline.Stop(); cancel() }
		if err != nil {
			x.upstream += time.Since(t)
			code := sendErrorType(x.ctx, uctx)
			if why := tlsFailure(err); why != "" && code == "upstream_unreachable" {
				// Fail closed, and say which upstream and which setting.
				code = "upstream_tls"
				x.rec.Reasons = append(x.rec.Reasons, "upstream "+u.Name+": TLS: "+why)
				s.log.Warn("upstream TLS failed", "request_id", x.rec.RequestID, "upstream", u.Name, "reason", why)
			}
			x.endUpstream(0, code)
			stop()
			u.markFailure()
			last = upstreamError(code)
			if code == "canceled" {
				return nil, last
			}
			continue
		}
		retryable := resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			// Redirects are never followed: an upstream's 3xx is its error.
			x.upstream += time.Since(t)
			x.endUpstream(resp.StatusCode, "upstream_redirect")
			resp.Body.Close()
			stop()
			u.markFailure()
			last = &apiError{Status: http.StatusBadGateway, Type: "api_error", Code: "upstream_redirect", Msg: "the upstream answered with a redirect"}
			continue
		}
		if retryable && i+1 < n {
			x.upstream += time.Since(t)
			x.endUpstream(resp.StatusCode, "")
			resp.Body.Close()
			stop()
			u.markFailure()
			continue
		}
		stream := strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream")
		if !stream || x.sh.stream == nil {
			body, err := io.ReadAll(io.LimitReader(resp.Body, s.cfg.MaxResponseBytes+1))
			resp.Body.Close()
			x.upstream += time.Since(t)
			if err != nil {
				code := sendErrorType(x.ctx, uctx)
				if code == "upstream_unreachable" {
					code = "upstream_read"
				}
				x.endUpstream(resp.StatusCode, code)
				stop()
				u.markDown()
				last = upstreamError(code)
				if code == "canceled" {
					return nil, last
				}
				continue
			}
			if int64(len(body)) > s.cfg.MaxResponseBytes {
				x.endUpstream(resp.StatusCode, "upstream_too_large")
				stop()
				return nil, &apiError{Status: http.StatusBadGateway, Type: "api_error", Code: "upstream_too_large",
					Msg: "upstream response larger than server.max_response_bytes"}
			}
			x.respBody = body
		}
		if retryable {
			u.markFailure()
		} else {
			u.markSuccess()
		}
		x.deadline, x.cancel = deadline, cancel
		x.up = u
		x.rec.Upstream, x.rec.Zone = u.Name, u.Zone
		x.respHeader = s.responseHeaders(resp.Header)
		return resp, nil
	}
	if refused > 0 && refused == n {
		return nil, last
	}
	if last == nil {
		last = upstreamError("upstream_unreachable")
	}
	return nil, last
}

// upstreamError is the caller's error for an upstream that gave no
// usable answer.
func upstreamError(code string) *apiError {
	switch code {
	case "timeout":
		return &apiError{Status: http.StatusGatewayTimeout, Type: "api_error", Code: "upstream_timeout",
			Msg: "the upstream did not answer within server.upstream_timeout"}
	case "canceled":
		return &apiError{Status: 499, Type: "api_error", Code: "canceled", Msg: "the caller went away"}
	case "upstream_tls":
		return &apiError{Status: http.StatusBadGateway, Type: "api_error", Code: "upstream_tls",
			Msg: "no upstream could be reached over TLS (the gateway's log names the upstream and the cause)"}
	case "upstream_read":
		return &apiError{Status: http.StatusBadGateway, Type: "api_error", Code: "upstream_read",
			Msg: "the upstream's response broke off; no upstream answered in full"}
	}
	return &apiError{Status: http.StatusBadGateway, Type: "api_error", Code: "upstream_unavailable", Msg: "no upstream answered"}
}

// relayJSON guards a JSON response read whole by call, records the
// completion and answers. Nothing reaches the caller before the
// completion entry is durable.
func (s *Server) relayJSON(x *exchange, resp *http.Response) *apiError {
	raw := x.respBody // read whole by call
	x.endUpstream(resp.StatusCode, "")
	gctx, sp := s.stage(x.ctx, x, "warden.guard")
	out, err := s.guardJSON(gctx, x, raw)
	if err != nil {
		failStage(sp, err.Code)
		sp.End()
		return err
	}
	sp.End()
	s.adjustUsage(x.ctx, x)
	x.rec.ResponseBody = out
	x.rec.Status = resp.StatusCode
	code := ""
	if resp.StatusCode >= 400 {
		code = "upstream_" + strconv.Itoa(resp.StatusCode)
	}
	if err := s.complete(x, resp.StatusCode, code); err != nil {
		return errUnavailable("audit_unavailable", "audit log unavailable; response withheld")
	}
	h := x.w.Header()
	for k, vs := range x.respHeader {
		h[k] = vs
	}
	if x.final >= 0 {
		h.Set("Warden-Audit-Index", strconv.FormatInt(x.final, 10))
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(out)))
	x.w.WriteHeader(resp.StatusCode)
	x.written = true
	x.w.Write(out)
	return nil
}

// guardJSON rewrites a JSON response: every string, key and long number
// outside the opaque positions goes through the guard (leaks masked,
// tokens restored). A choice whose text changed loses its logprobs,
// which would spell the original. Usage and the response model are read
// on the way.
func (s *Server) guardJSON(ctx context.Context, x *exchange, raw []byte) ([]byte, *apiError) {
	var edits []splice
	logprobs := map[string][2]int{} // choice path → span of its logprobs
	changedChoices := map[string]bool{}
	var u usage
	var failed error
	walk := s.respWalk
	if bytes.Contains(raw, []byte(`"logprobs"`)) {
		walk = s.respWalkLP // containers reported: logprobs spans are needed
	}
	_, err := detect.WalkJSON(raw, walk, func(v detect.JSONValue) (string, bool, error) {
		if v.Container {
			if lastKey(v.Path) == "logprobs" {
				logprobs[parentPath(v.Path)] = [2]int{v.Start, v.End}
			}
			return "", false, nil
		}
		if v.Literal {
			return "", false, nil
		}
		if !v.IsKey && v.Number && isUsagePath(v.Path) {
			n := 0
			if v.Number {
				n, _ = strconv.Atoi(v.Value)
			}
			u.set(v.Key, n)
		}
		if !v.IsKey && !v.Number && (v.Path == "$.model" || v.Path == "$.response.model") && x.recording {
			x.respModel = strings.Clone(v.Value)
		}
		if v.Number && digitCount(v.Value) < 9 {
			return "", false, nil
		}
		if !v.IsKey && !v.Number {
			if r := opaqueAt(x.sh.respOpaque, v.Path); r != nil && r.proves(v.Value, "") {
				return "", false, nil
			}
		}
		out, err := s.segment(ctx, x, "", v.Value)
		if err != nil {
			failed = err
			return "", false, err
		}
		if out != v.Value {
			edits = append(edits, splice{v.Start, v.End, jsonString(out)})
			if c := choicePath(v.Path); c != "" {
				changedChoices[c] = true
			}
		}
		return "", false, nil
	})
	if failed != nil {
		return nil, errUnavailable("restore_failed", "response guard failed; response withheld")
	}
	if err != nil {
		// Never pass on what cannot be inspected.
		return nil, &apiError{Status: http.StatusBadGateway, Type: "api_error", Code: "upstream_malformed",
			Msg: "the upstream answered with something that is not one JSON document"}
	}
	for c := range changedChoices {
		if sp, ok := logprobs[c]; ok {
			edits = append(edits, splice{sp[0], sp[1], []byte("null")})
		}
	}
	x.usage.merge(u)
	return applySplices(raw, dropInner(edits)), nil
}

// choicePath returns the path of the choice a value sits in
// ($.choices[2]), or "".
func choicePath(p string) string {
	if !strings.HasPrefix(p, "$.choices[") {
		return ""
	}
	end := strings.IndexByte(p[len("$.choices["):], ']')
	if end < 0 {
		return ""
	}
	return p[:len("$.choices[")+end+1]
}

// dropInner removes edits that lie inside another edit (a value inside a
// logprobs object that is replaced whole).
func dropInner(edits []splice) []splice {
	out := edits[:0]
	for i, e := range edits {
		inner := false
		for j, o := range edits {
			if i != j && o.start <= e.start && e.end <= o.end && (o.end-o.start) > (e.end-e.start) {
				inner = true
				break
			}
		}
		if !inner {
			out = append(out, e)
		}
	}
	return out
}

// segment guards one piece of model output: findings of the leak types
// that the caller did not send (values the model produced on its own, or
// that policy let through raw) are rewritten with the leak operator, and
// the caller's tokens are restored. before is text already emitted just
// ahead of seg (context for the detector); only seg is rewritten.
func (s *Server) segment(ctx context.Context, x *exchange, before, seg string) (string, error) {
	if seg == "" {
		return seg, nil
	}
	full := seg
	if before != "" {
		full = before + seg
	}
	fs := s.deps.Detector.Scan(full)
	var leaks []detect.Finding
	if len(fs) > 0 {
		toks := transform.FindTokens(seg)
		for _, f := range fs {
			if f.Start < len(before) || !s.leakTypes.has(f) {
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
	if strings.Contains(out, "](") {
		// Before restoring: a link or image whose URL holds a token
		// would carry the real value to the URL's owner once restored.
		out = s.neutraliseLinkTargets(x, out)
	}
	if x.restore && x.revealer != nil && strings.IndexByte(out, '[') >= 0 {
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
func (s *Server) adjustUsage(ctx context.Context, x *exchange) {
	if s.deps.Limiter == nil {
		return
	}
	if total := x.usage.tokens(); total != 0 {
		s.adjustLimits(ctx, x.p.Name, x.model, total-x.estimate)
		x.estimate = total
	}
}

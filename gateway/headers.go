package gateway

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
)

// Headers.
//
// Only headers on an explicit list cross the gateway, in either
// direction; everything else is dropped, hop-by-hop headers (RFC 9110
// §7.6.1) always. Credentials never cross: the caller's Authorization or
// x-api-key stays at the gateway, and the upstream gets the upstream's
// own key in the header its Auth setting names. Values of forwarded
// headers are scanned like content: a request header holding a finding
// is refused; a response header holding one is dropped.

// ForwardRequestHeaders are the caller headers an upstream receives.
var ForwardRequestHeaders = []string{
	"Anthropic-Version", "Anthropic-Beta", "Openai-Beta", "Openai-Organization", "Openai-Project", "Idempotency-Key",
}

// ForwardResponseHeaders are the upstream response headers a caller
// receives: what SDKs read to pace and retry, and request ids for
// support. Entries ending in "-" are prefixes.
var ForwardResponseHeaders = []string{
	"Retry-After", "Retry-After-Ms", "X-Ratelimit-", "Anthropic-Ratelimit-", "X-Request-Id", "Request-Id",
	"Openai-Processing-Ms", "Openai-Version", "X-Should-Retry",
}

// hopHeaders are connection-level headers, never forwarded.
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// requestHeaders returns the caller headers to forward, refusing any
// whose value holds a finding.
func (s *Server) requestHeaders(r *http.Request) (http.Header, *apiError) {
	out := http.Header{}
	for _, name := range ForwardRequestHeaders {
		v := r.Header.Values(name)
		if len(v) == 0 {
			continue
		}
		for _, one := range v {
			if fs := s.deps.Detector.Scan(one); len(fs) > 0 {
				return nil, errBadRequest("sensitive_header", fmt.Sprintf("the %s header holds sensitive data (%s)", name, fs[0].Type))
			}
		}
		out[textproto.CanonicalMIMEHeaderKey(name)] = append([]string(nil), v...)
	}
	return out, nil
}

// responseHeaders returns the upstream headers to forward.
func (s *Server) responseHeaders(h http.Header) http.Header {
	out := http.Header{}
	for k, vs := range h {
		if !forwardedResponseHeader(k) {
			continue
		}
		clean := true
		for _, v := range vs {
			if len(s.deps.Detector.Scan(v)) > 0 {
				clean = false
			}
		}
		if clean {
			out[k] = vs
		}
	}
	return out
}

func forwardedResponseHeader(k string) bool {
	for _, f := range ForwardResponseHeaders {
		if strings.HasSuffix(f, "-") {
			if len(k) > len(f) && strings.EqualFold(k[:len(f)], f) {
				return true
			}
			continue
		}
		if strings.EqualFold(k, f) {
			return true
		}
	}
	return false
}

// send calls one upstream with the request's upstream body. The returned
// response's body is open; the caller closes it.
func (s *Server) send(ctx context.Context, u *Upstream, x *exchange) (*http.Response, error) {
	var target string
	if u.Handler != nil {
		target = "http://in-process/v1" + x.sh.path
	} else {
		target = u.base.String() + x.sh.path
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(x.upBody))
	if err != nil {
		return nil, err
	}
	for k, vs := range x.fwdHeader {
		req.Header[k] = vs
	}
	s.injectTrace(ctx, req.Header)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "warden-gateway")
	if x.stream {
		req.Header.Set("Accept", "text/event-stream")
	} else {
		req.Header.Set("Accept", "application/json")
	}
	if x.sh.anthropic && req.Header.Get("Anthropic-Version") == "" {
		req.Header.Set("Anthropic-Version", "2023-06-01")
	}
	if u.Key != "" {
		auth := u.Auth
		if auth == "" {
			auth = x.sh.auth
		}
		switch auth {
		case authXAPIKey:
			req.Header.Set("X-Api-Key", u.Key)
		case authAPIKey:
			req.Header.Set("Api-Key", u.Key)
		default:
			req.Header.Set("Authorization", "Bearer "+u.Key)
		}
	}
	if u.Handler != nil {
		return serveInProcess(u.Handler, req), nil
	}
	resp, err := u.client.Do(req)
	if err != nil {
		return nil, err
	}
	for _, h := range hopHeaders {
		resp.Header.Del(h)
	}
	return resp, nil
}

package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/wardenhq/warden/policy"
)

// Upstream is one model endpoint.
type Upstream struct {
	// Name identifies the upstream in logs, metrics and audit records.
	Name string
	// URL is the API base, e.g. https://api.openai.com/v1 or
	// http://10.0.0.5:8000/v1. Requests go to URL + "/chat/completions".
	URL string
	// Key is the credential the gateway injects. Never taken from callers.
	Key string
	// Auth names the header Key goes in: "bearer" (Authorization:
	// Bearer), "x-api-key" (Anthropic) or "api-key" (Azure OpenAI).
	// Default: x-api-key for the Anthropic messages API, bearer for the
	// others.
	Auth string
	// Zone says where the upstream runs (onprem, cloud, …). Policy can
	// require zones for sensitive data.
	Zone string
	// Models this upstream serves; "*" serves any model.
	Models []string
	// Handler, when set, serves requests in-process instead of URL (the
	// built-in echo upstream).
	Handler http.Handler
	// Check, when set, is asked before each request whether the upstream
	// may serve the model (e.g. the model registry's approval).
	Check func(ctx context.Context, model string) error
	// Transport, when set, carries the requests to URL instead of the
	// gateway's shared transport: one with the upstream's own TLS
	// settings (a private CA, a client certificate). Redirects are never
	// followed either way.
	Transport http.RoundTripper

	client    *http.Client // Transport's, or the gateway's shared one
	base      *url.URL
	addr      []attribute.KeyValue // server.address and server.port, for spans
	failures  atomic.Int32
	downUntil atomic.Int64 // unix nanos; passive health: skip after failures
}

func (u *Upstream) init() error {
	if u.Name == "" {
		return errors.New("name is empty")
	}
	switch u.Auth {
	case "", authBearer, authXAPIKey, authAPIKey:
	default:
		return fmt.Errorf("auth: %q is not bearer, x-api-key or api-key", u.Auth)
	}
	if u.Handler != nil {
		return nil
	}
	b, err := url.Parse(u.URL)
	if err != nil || (b.Scheme != "http" && b.Scheme != "https") || b.Host == "" {
		return errors.New("url must be an http:// or https:// URL")
	}
	b.Path = strings.TrimRight(b.Path, "/")
	u.base = b
	u.addr = serverAttrs(u)
	return nil
}

func (u *Upstream) serves(model string) bool {
	for _, m := range u.Models {
		if m == "*" || m == model {
			return true
		}
	}
	return false
}

func (u *Upstream) healthy() bool { return time.Now().UnixNano() >= u.downUntil.Load() }

func (u *Upstream) markFailure() {
	if u.failures.Add(1) >= 3 {
		u.downUntil.Store(time.Now().Add(10 * time.Second).UnixNano())
		u.failures.Store(0)
	}
}

func (u *Upstream) markSuccess() { u.failures.Store(0) }

// markDown takes the upstream out of rotation at once (it broke off a
// response mid-body).
func (u *Upstream) markDown() {
	u.downUntil.Store(time.Now().Add(10 * time.Second).UnixNano())
	u.failures.Store(0)
}

// candidates returns the upstreams that serve model in an allowed zone,
// healthy ones first. Zones empty means any zone.
func (s *Server) candidates(model string, zones []string) (list []*Upstream, reason string) {
	var down []*Upstream
	servesAny := false
	for _, u := range s.cfg.Upstreams {
		if !u.serves(model) {
			continue
		}
		servesAny = true
		if len(zones) > 0 && !contains(zones, u.Zone) {
			continue
		}
		if u.healthy() {
			list = append(list, u)
		} else {
			down = append(down, u)
		}
	}
	list = append(list, down...)
	switch {
	case !servesAny:
		return nil, fmt.Sprintf("no upstream serves model %q", model)
	case len(list) == 0:
		return nil, fmt.Sprintf("no upstream for model %q in an allowed zone (%s); refusing to fall back to another zone", model, strings.Join(zones, ", "))
	}
	return list, ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// serveInProcess runs an http.Handler and exposes its output as a
// streaming response, so the built-in echo upstream behaves like a remote
// one (including SSE arriving in pieces).
func serveInProcess(h http.Handler, req *http.Request) *http.Response {
	pr, pw := io.Pipe()
	rw := &pipeResponse{header: http.Header{}, pw: pw, ready: make(chan struct{})}
	go func() {
		defer func() {
			rw.writeHeaderOnce(http.StatusOK)
			pw.Close()
		}()
		h.ServeHTTP(rw, req)
	}()
	<-rw.ready
	return &http.Response{StatusCode: rw.status, Header: rw.header, Body: pr, Request: req}
}

type pipeResponse struct {
	header http.Header
	pw     *io.PipeWriter
	status int
	ready  chan struct{}
	once   bool
}

func (p *pipeResponse) Header() http.Header  { return p.header }
func (p *pipeResponse) WriteHeader(code int) { p.writeHeaderOnce(code) }
func (p *pipeResponse) writeHeaderOnce(code int) {
	if p.once {
		return
	}
	p.once = true
	p.status = code
	p.header = p.header.Clone()
	close(p.ready)
}
func (p *pipeResponse) Write(b []byte) (int, error) {
	p.writeHeaderOnce(http.StatusOK)
	return p.pw.Write(b)
}
func (p *pipeResponse) Flush() {}

// zonePolicy is a Policy whose decisions may depend on the upstream zone
// (package policy's Engine).
type zonePolicy interface {
	ZoneDependent() bool
}

// decideZones decides again for the zone of each candidate upstream, for
// policies with rules that read zone (the first decision saw zone "").
// Candidates whose zone is refused are dropped, each refusal named in
// refused. The first remaining candidate's decision is the request's;
// later candidates stay (for retries and fallback) only where their
// zone's decision is the same, because the body is de-identified once
// for all of them. With no candidate left it returns nil.
func (s *Server) decideZones(in policy.Input, cands []*Upstream) (kept []*Upstream, dec policy.Decision, refused []string, err error) {
	byZone := map[string]policy.Decision{}
	chosen := false
	for _, u := range cands {
		d, seen := byZone[u.Zone]
		if !seen {
			in.Zone = u.Zone
			if d, err = s.deps.Policy.Decide(in); err != nil {
				return nil, d, refused, err
			}
			byZone[u.Zone] = d
			if d.Action == policy.Deny {
				refused = append(refused, fmt.Sprintf("zone %q: %s", u.Zone, d.Reason))
			}
		}
		if d.Action == policy.Deny {
			continue
		}
		if !chosen {
			dec, chosen = d, true
		} else if !sameTreatment(dec, d) {
			continue
		}
		kept = append(kept, u)
	}
	return kept, dec, refused, nil
}

// sameTreatment reports whether two decisions treat a request alike:
// same action, operators and restore.
func sameTreatment(a, b policy.Decision) bool {
	return a.Action == b.Action && a.Restore == b.Restore && maps.Equal(a.Operators, b.Operators)
}

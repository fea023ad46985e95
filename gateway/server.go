// Package gateway is Warden's HTTP front door: an OpenAI- and
// Anthropic-compatible proxy that authenticates the caller, finds the
// sensitive data in the request, asks policy what to do, de-identifies,
// routes to an upstream allowed for the data's sensitivity, guards and
// restores the response (also when streamed), and hands one event per
// request to the audit log.
//
// Each stage is a dependency declared here (Authenticator, Detector,
// Policy, Tokens, Limiter, Auditor) and built by cmd/warden.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/wardenhq/warden/audit/event"
	"github.com/wardenhq/warden/detect"
	"github.com/wardenhq/warden/ratelimit"
	"github.com/wardenhq/warden/transform"
)

// Config tunes a Server. Zero values are the documented defaults.
type Config struct {
	// Upstreams are the model endpoints. At least one is required.
	Upstreams []*Upstream
	// Aliases maps a model name callers use to the upstream model name.
	Aliases map[string]string
	// MaxBodyBytes bounds a request body. Default 8 MiB.
	MaxBodyBytes int64
	// MaxResponseBytes bounds a non-streamed upstream response. Default 32 MiB.
	MaxResponseBytes int64
	// MaxJSONDepth bounds request JSON nesting. Default 64.
	MaxJSONDepth int
	// UpstreamTimeout bounds one upstream call (headers and body of a
	// non-streamed response; the time to first byte of a stream).
	// Default 120s.
	UpstreamTimeout time.Duration
	// StreamIdleTimeout ends a stream whose upstream sends nothing for
	// this long. Default 120s.
	StreamIdleTimeout time.Duration
	// MaxStreams bounds concurrent streamed responses. Default 1024.
	MaxStreams int
	// Retries is how many other upstreams to try after a connection
	// failure or a 5xx/429 before the first byte. Default 1.
	Retries int
	// LeakOperator rewrites sensitive values found in model output that
	// were not in the request. Default mask.
	LeakOperator transform.Operator
	// Key keys the hash and synthetic operators (and stateless tokens when
	// Tokens is nil).
	Key transform.Key
	// DefaultPrincipalLimit applies to every principal not listed in
	// PrincipalLimits. Zero: unlimited.
	DefaultPrincipalLimit ratelimit.Limit
	// PrincipalLimits are requests/min and tokens/min per principal.
	PrincipalLimits map[string]ratelimit.Limit
	// ModelLimits are requests/min and tokens/min per model, shared by
	// every caller.
	ModelLimits map[string]ratelimit.Limit
	// AuditFailOpen serves requests even when the audit log cannot record
	// them. Default false: fail closed with 503.
	AuditFailOpen bool
	// AuditTimeout bounds the wait for one audit entry to be durable.
	// Default 2s.
	AuditTimeout time.Duration
	// WriteTimeout bounds each write of a stream to the caller, so a
	// caller that stops reading frees its stream slot. Default 60s.
	WriteTimeout time.Duration
	// LeakTypes are the finding types and categories that the response
	// guard treats as a leak when the model writes one the caller did not
	// send: a type name (EMAIL_ADDRESS), a category (SECRET, FINANCIAL,
	// HEALTH, PII, NETWORK) or GOVERNMENT_ID (national identifiers:
	// US_SSN, US_ITIN, US_PASSPORT, US_DRIVER_LICENSE, UK_NINO …).
	// Default: SECRET, FINANCIAL, HEALTH, GOVERNMENT_ID — values whose
	// appearance out of nowhere is an incident, not URLs, IP addresses,
	// names, places or dates a model writes in ordinary answers.
	LeakTypes []string
	// MCPServers are the MCP servers the gateway fronts, each served at
	// /mcp/{name} (mcp.go).
	MCPServers []*MCPServer
	// MCPResource is the gateway's public base URL
	// (https://warden.example.com): an MCP endpoint's RFC 8707 resource,
	// which tokens for it must name, is MCPResource + "/mcp/" + name.
	// Default: built from each request's Host (and TLS).
	MCPResource string
	// MCPAuthorizationServers are the issuers an MCP client may get
	// tokens from, as the RFC 9728 metadata names them.
	MCPAuthorizationServers []string
	// MCPDefinitionsTTL is how long the tool definitions read from a
	// server (fetched, or seen in a tools/list answer) hold before a call
	// fetches them again. Default 0: every tools/call checks the
	// server's current definition first (one more round trip to the
	// server, within the caller's session for a 2025-11-25 server).
	MCPDefinitionsTTL time.Duration
	// Logger receives structured logs (never content). Default discards.
	Logger *slog.Logger
	// GenAIGuardrails adds the OpenTelemetry GenAI guardrail conventions
	// to traced requests (guardrail.go). Default false.
	GenAIGuardrails bool
}

// Deps are the stages the gateway calls.
type Deps struct {
	Auth     Authenticator
	Detector Detector
	Policy   Policy
	Tokens   Tokens // nil: stateless tokens under Config.Key
	Limiter  Limiter
	Auditor  Auditor
	Metrics  *Metrics
	// TracerProvider receives a span per API request (trace.go). Nil:
	// no tracing (the noop provider, which the request path skips
	// altogether), and no trace header is read from callers or sent
	// upstream.
	TracerProvider trace.TracerProvider
	// MCP serves the MCP endpoints (mcptools.go).
	MCP MCPDeps
	// Checks are what /readyz asks, in order: a failing check makes the
	// gateway not ready. Its error is logged; the response names only the
	// check.
	Checks []Check
}

// Check is one readiness check.
type Check struct {
	// Name names the component (store, audit, rate_limiter, disk).
	Name string
	// Check returns nil when the component works.
	Check func(ctx context.Context) error
}

// Server is the gateway. Create it with New; it is an http.Handler.
type Server struct {
	cfg       Config
	deps      Deps
	log       *slog.Logger
	mux       *http.ServeMux
	client    *http.Client
	streams   chan struct{}
	leak      *transform.Deidentifier
	mu        sync.Mutex
	deidents  map[string]*transform.Deidentifier
	stateless *transform.StatelessTokens
	tracer    trace.Tracer
	tracing   bool // a TracerProvider was given: propagate trace context

	// Walker options: a request's top level (decode), a whole request
	// (inspect), a JSON response and a stream event.
	topWalk, reqWalk, respWalk, respWalkLP, eventWalk *detect.JSONOptions
	leakTypes                                         leakSet
	sanitize                                          sanitizer
	limiterDown                                       atomic.Bool

	// The MCP endpoints: a message's walk, the pins, the mask for
	// secrets in answers.
	mcpWalk *detect.JSONOptions
	pins    ToolPins
	mcpMask *transform.Deidentifier
}

// New validates cfg and builds a gateway.
func New(cfg Config, deps Deps) (*Server, error) {
	if len(cfg.Upstreams) == 0 {
		return nil, errors.New("gateway: upstreams: at least one upstream is required")
	}
	for i, u := range cfg.Upstreams {
		if err := u.init(); err != nil {
			return nil, fmt.Errorf("gateway: upstreams[%d] (%s): %w", i, u.Name, err)
		}
	}
	if deps.Auth == nil || deps.Detector == nil || deps.Policy == nil {
		return nil, errors.New("gateway: Auth, Detector and Policy are required")
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 8 << 20
	}
	if cfg.MaxResponseBytes == 0 {
		cfg.MaxResponseBytes = 32 << 20
	}
	if cfg.MaxJSONDepth == 0 {
		cfg.MaxJSONDepth = 64
	}
	if cfg.UpstreamTimeout == 0 {
		cfg.UpstreamTimeout = 120 * time.Second
	}
	if cfg.StreamIdleTimeout == 0 {
		cfg.StreamIdleTimeout = 120 * time.Second
	}
	if cfg.MaxStreams == 0 {
		cfg.MaxStreams = 1024
	}
	if cfg.Retries == 0 {
		cfg.Retries = 1
	}
	if cfg.LeakOperator == "" {
		cfg.LeakOperator = transform.Mask
	}
	if cfg.AuditTimeout == 0 {
		cfg.AuditTimeout = 2 * time.Second
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = 60 * time.Second
	}
	if cfg.LeakTypes == nil {
		cfg.LeakTypes = DefaultLeakTypes
	}
	leakTypes, err := newLeakSet(cfg.LeakTypes)
	if err != nil {
		return nil, err
	}
	sanitize, err := newSanitizer(deps.Policy)
	if err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Metrics == nil {
		deps.Metrics = NewMetrics(nil)
	}
	tp := deps.TracerProvider
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	leak, err := transform.NewDeidentifier(transform.Config{Default: cfg.LeakOperator, Key: cfg.Key})
	if err != nil {
		return nil, fmt.Errorf("gateway: leak_operator: %w", err)
	}
	s := &Server{
		cfg:       cfg,
		deps:      deps,
		log:       cfg.Logger,
		streams:   make(chan struct{}, cfg.MaxStreams),
		leak:      leak,
		deidents:  map[string]*transform.Deidentifier{},
		tracer:    tp.Tracer(tracerName),
		tracing:   deps.TracerProvider != nil,
		leakTypes: leakTypes,
		sanitize:  sanitize,
		client: upstreamClient(&http.Transport{
			Proxy:               nil,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
			ForceAttemptHTTP2:   true,
		}),
	}
	for _, u := range cfg.Upstreams {
		u.client = s.client
		if u.Transport != nil {
			u.client = upstreamClient(u.Transport)
		}
	}
	maxBody := int(min(cfg.MaxBodyBytes, 1<<40))
	maxResp := int(min(cfg.MaxResponseBytes, 1<<40))
	for _, w := range []struct {
		dst **detect.JSONOptions
		cfg detect.JSONConfig
	}{
		{&s.topWalk, detect.JSONConfig{MaxDepth: cfg.MaxJSONDepth, MaxBytes: maxBody, VisitDepth: 1, Keys: true,
			Literals: true, Containers: true, UniqueKeys: true}},
		{&s.reqWalk, detect.JSONConfig{MaxDepth: cfg.MaxJSONDepth, MaxBytes: maxBody, Keys: true, NoKeyContext: true}},
		{&s.respWalk, detect.JSONConfig{MaxDepth: 128, MaxBytes: maxResp, Keys: true, NoKeyContext: true}},
		{&s.respWalkLP, detect.JSONConfig{MaxDepth: 128, MaxBytes: maxResp, Keys: true, Containers: true, NoKeyContext: true}},
		{&s.eventWalk, detect.JSONConfig{MaxDepth: 128, MaxBytes: maxEventBytes, Keys: true, Literals: true,
			Containers: true, NoKeyContext: true}},
	} {
		if *w.dst, err = detect.CompileJSON(w.cfg); err != nil {
			return nil, fmt.Errorf("gateway: %w", err)
		}
	}
	if err := s.initMCP(); err != nil {
		return nil, err
	}
	if deps.Tokens == nil && !cfg.Key.IsZero() {
		st, err := transform.NewStatelessTokens(cfg.Key)
		if err != nil {
			return nil, fmt.Errorf("gateway: key: %w", err)
		}
		s.stateless = st
	}
	s.routes()
	return s, nil
}

// upstreamClient is the client that calls upstreams and MCP servers
// through t. An upstream's redirect is its error; it is never followed.
func upstreamClient(t http.RoundTripper) *http.Client {
	return &http.Client{Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (s *Server) routes() {
	m := http.NewServeMux()
	for _, sh := range []*shape{shapeChat, shapeCompletions, shapeResponses, shapeEmbeddings, shapeMessages} {
		m.HandleFunc("POST /v1"+sh.path, s.api(sh))
	}
	if len(s.cfg.MCPServers) > 0 {
		m.HandleFunc("/mcp/{name}", s.handleMCP)
		m.HandleFunc("GET /.well-known/oauth-protected-resource/mcp/{name}", s.handleMCPMetadata)
	}
	m.HandleFunc("GET /v1/models", s.handleModels)
	m.HandleFunc("GET /v1/models/{id...}", s.handleModel)
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}`))
	})
	m.HandleFunc("GET /readyz", s.handleReady)
	m.Handle("GET /metrics", s.deps.Metrics.Handler())
	s.mux = m
}

// Handle mounts an extra handler (the audit log's /audit/, the token
// issuer's /v1/auth/token and JWKS) on the gateway's mux.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{}
	ok := true
	for _, c := range s.deps.Checks {
		if err := c.Check(ctx); err != nil {
			// The body is served unauthenticated: it names the component,
			// never the error (which may hold hosts, users, paths).
			checks[c.Name] = "failing"
			ok = false
			s.log.Warn("readiness check failing", "check", c.Name, "error", scrubError(err))
			continue
		}
		checks[c.Name] = "ok"
	}
	healthy := 0
	for _, u := range s.cfg.Upstreams {
		if u.healthy() {
			healthy++
		}
	}
	if healthy == 0 {
		checks["upstreams"] = "failing"
		ok = false
	} else {
		checks["upstreams"] = "ok"
	}
	status, code := "ok", http.StatusOK
	if !ok {
		status, code = "unavailable", http.StatusServiceUnavailable
	}
	writeJSONStatus(w, code, map[string]any{"status": status, "checks": checks})
}

// handleModels lists the models the caller may use, in OpenAI's list
// format, or Anthropic's when the caller sends anthropic-version.
func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	s.modelsRequest(w, r, func(x *exchange) {
		names := s.modelsFor(x.p)
		data := make([]any, 0, len(names))
		for _, m := range names {
			data = append(data, s.modelObject(x.sh, m))
		}
		body := map[string]any{"object": "list", "data": data}
		if x.sh.anthropic {
			body = map[string]any{"data": data, "has_more": false, "first_id": nil, "last_id": nil}
			if len(names) > 0 {
				body["first_id"], body["last_id"] = names[0], names[len(names)-1]
			}
		}
		writeJSONStatus(w, http.StatusOK, body)
		x.rec.Status = http.StatusOK
	})
}

// handleModel answers GET /v1/models/{id}: the model object, or the
// API's 404 for a model the caller may not use or the gateway does not
// serve (the two are not told apart).
func (s *Server) handleModel(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.modelsRequest(w, r, func(x *exchange) {
		for _, m := range s.modelsFor(x.p) {
			if m == id {
				x.rec.Model = m
				writeJSONStatus(w, http.StatusOK, s.modelObject(x.sh, m))
				x.rec.Status = http.StatusOK
				return
			}
		}
		x.sh.writeError(w, &apiError{Status: http.StatusNotFound, Type: "invalid_request_error", Code: "model_not_found",
			Msg: "the model does not exist or you do not have access to it"})
		x.rec.Status, x.rec.Error = http.StatusNotFound, "model_not_found"
	})
}

// modelsRequest runs a models request through authentication and
// finish, like every API request.
func (s *Server) modelsRequest(w http.ResponseWriter, r *http.Request, answer func(x *exchange)) {
	sh := shapeModels
	if r.Header.Get("Anthropic-Version") != "" {
		sh = shapeModelsAnthropic
	}
	t0 := time.Now()
	rec := &event.Record{Kind: event.Request, Intent: -1, Time: t0.UTC(), RequestID: newRequestID(),
		Endpoint: sh.endpoint, Findings: map[string]int{}, Operators: map[string]int{}}
	x := &exchange{sh: sh, rec: rec, start: t0, r: r, w: w, intent: -1, final: -1, modelLabel: "other"}
	s.startRequest(r, x)
	w.Header().Set("Warden-Request-Id", rec.RequestID)
	if err := s.authenticate(x); err != nil {
		s.finish(x, err)
		return
	}
	answer(x)
	x.written = true
	s.finish(x, nil)
}

// modelObject is one model in the API's model format.
func (s *Server) modelObject(sh *shape, m string) map[string]any {
	if sh.anthropic {
		return map[string]any{"type": "model", "id": m, "display_name": m, "created_at": "1970-01-01T00:00:00Z"}
	}
	return map[string]any{"id": m, "object": "model", "created": 0, "owned_by": "warden"}
}

// modelsFor lists, sorted, the configured models a principal may use:
// aliases, models upstreams name, and models the principal names that a
// wildcard upstream serves.
func (s *Server) modelsFor(p *Principal) []string {
	seen := map[string]bool{}
	var out []string
	add := func(m string) {
		if !seen[m] && p.MayUse(m) {
			seen[m] = true
			out = append(out, m)
		}
	}
	for alias := range s.cfg.Aliases {
		add(alias)
	}
	for _, u := range s.cfg.Upstreams {
		for _, m := range u.Models {
			if m != "*" {
				add(m)
			}
		}
	}
	for _, m := range p.Models {
		if m == "*" {
			continue
		}
		if _, _, ok := s.routeOf(m); ok {
			add(m)
		}
	}
	sort.Strings(out)
	return out
}

// deidentifier returns the Deidentifier for a tenant and an operator map,
// cached: policies produce few distinct maps.
func (s *Server) deidentifier(tenant string, ops map[string]string) (*transform.Deidentifier, error) {
	key := tenant + "\x00" + canonicalOps(ops)
	s.mu.Lock()
	d, ok := s.deidents[key]
	s.mu.Unlock()
	if ok {
		return d, nil
	}
	// Default never applies: findings without an operator in the decision
	// are filtered out before Apply.
	cfg := transform.Config{Operators: map[string]transform.Operator{}, Categories: map[detect.Category]transform.Operator{},
		Default: transform.Placeholder, Key: s.cfg.Key}
	for k, op := range ops {
		if op == "allow" {
			continue
		}
		switch detect.Category(k) {
		case detect.PII, detect.Financial, detect.Health, detect.Secret, detect.Network:
			cfg.Categories[detect.Category(k)] = transform.Operator(op)
		default:
			cfg.Operators[k] = transform.Operator(op)
		}
	}
	if s.deps.Tokens != nil {
		cfg.Tokenizer = s.deps.Tokens.Tokenizer(tenant)
	} else if s.stateless != nil {
		cfg.Tokenizer = s.stateless
	}
	d, err := transform.NewDeidentifier(cfg)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.deidents) > 4096 {
		s.deidents = map[string]*transform.Deidentifier{}
	}
	s.deidents[key] = d
	s.mu.Unlock()
	return d, nil
}

func (s *Server) revealer(tenant string) transform.Revealer {
	if s.deps.Tokens != nil {
		return s.deps.Tokens.Revealer(tenant)
	}
	if s.stateless != nil {
		return s.stateless
	}
	return nil
}

func newRequestID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// canonicalOps renders an operator map in a stable order, as a cache key.
func canonicalOps(ops map[string]string) string {
	keys := make([]string, 0, len(ops))
	for k := range ops {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(ops[k])
		b.WriteByte(';')
	}
	return b.String()
}

func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

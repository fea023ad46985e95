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
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

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
	// Logger receives structured logs (never content). Default discards.
	Logger *slog.Logger
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
	// Ready reports whether the store and keys are usable (for /readyz).
	Ready func(ctx context.Context) error
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

	// reqWalk and respWalk are the walker options of the fast path
	// (fastpath.go).
	reqWalk, respWalk *detect.JSONOptions
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
		cfg:      cfg,
		deps:     deps,
		log:      cfg.Logger,
		streams:  make(chan struct{}, cfg.MaxStreams),
		leak:     leak,
		deidents: map[string]*transform.Deidentifier{},
		tracer:   tp.Tracer(tracerName),
		tracing:  deps.TracerProvider != nil,
		client: &http.Client{Transport: &http.Transport{
			Proxy:               nil,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
			ForceAttemptHTTP2:   true,
		}},
	}
	if s.reqWalk, err = fastWalk(cfg.MaxJSONDepth, cfg.MaxBodyBytes); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	if s.respWalk, err = fastWalk(detect.DefaultJSONMaxDepth, cfg.MaxResponseBytes); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
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

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /v1/chat/completions", s.api(apiChat))
	m.HandleFunc("POST /v1/completions", s.api(apiCompletions))
	m.HandleFunc("POST /v1/responses", s.api(apiResponses))
	m.HandleFunc("POST /v1/embeddings", s.api(apiEmbeddings))
	m.HandleFunc("POST /v1/messages", s.api(apiMessages))
	m.HandleFunc("GET /v1/models", s.handleModels)
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
	status := map[string]string{}
	ok := true
	if s.deps.Ready != nil {
		if err := s.deps.Ready(ctx); err != nil {
			status["store"] = err.Error()
			ok = false
		} else {
			status["store"] = "ok"
		}
	}
	healthy := 0
	for _, u := range s.cfg.Upstreams {
		if u.healthy() {
			healthy++
		}
	}
	if healthy == 0 {
		status["upstreams"] = "no upstream is usable"
		ok = false
	} else {
		status["upstreams"] = strconv.Itoa(healthy) + " usable"
	}
	code := http.StatusOK
	if !ok {
		code = http.StatusServiceUnavailable
	}
	writeJSONStatus(w, code, status)
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	p, err := s.deps.Auth.Authenticate(r)
	if err != nil {
		s.fail(w, apiChat, http.StatusUnauthorized, "authentication_error", "invalid_api_key", "missing or invalid credentials")
		return
	}
	seen := map[string]bool{}
	var data []any
	add := func(m string) {
		if !seen[m] && p.MayUse(m) {
			seen[m] = true
			data = append(data, map[string]any{"id": m, "object": "model", "created": 0, "owned_by": "warden"})
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
	// Models the principal names explicitly that a wildcard upstream serves.
	for _, m := range p.Models {
		if m == "*" {
			continue
		}
		for _, u := range s.cfg.Upstreams {
			if u.serves(m) {
				add(m)
				break
			}
		}
	}
	if data == nil {
		data = []any{}
	}
	writeJSONStatus(w, http.StatusOK, map[string]any{"object": "list", "data": data})
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

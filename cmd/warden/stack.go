package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/auth"
	"github.com/wardenhq/warden/console"
	"github.com/wardenhq/warden/detect"
	"github.com/wardenhq/warden/gateway"
	"github.com/wardenhq/warden/keys"
	"github.com/wardenhq/warden/modelguard"
	"github.com/wardenhq/warden/policy"
	"github.com/wardenhq/warden/ratelimit"
	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/toolpin"
	"github.com/wardenhq/warden/transform"
	"github.com/wardenhq/warden/vault"
)

// A running gateway is two layers. The stack's base is what a process
// opens once and keeps: the store, the keyring, the vault, the
// authenticator, the audit log, the model registry, the metrics, the
// certificates, the tracer and the rate limiter (whose counters must
// survive a reload). A generation is what a config reload rebuilds from
// the new file: the detection engine, the policy, the upstreams and their
// transports, the limits and the MCP servers, as one *gateway.Server.
// New requests go to the newest generation; a request in flight keeps
// the generation it started on until it ends (a stream across a reload
// finishes with the old policy).

// gatewayStack is a built gateway with what runs beside it.
type gatewayStack struct {
	gw    *gateway.Server // the generation built at start
	live  *liveGateway    // serves the current generation
	certs *certSet        // the certificate pairs in use, reloaded when they change
	// alerts is the alerts evaluator, started by serve (nil:
	// alerts.enabled false, or `warden mcp run`).
	alerts *alertsRunner
	base   *stackBase
	close  func() // stops it all, in reverse order of start
}

// liveGateway serves each request with the current generation.
type liveGateway struct {
	cur atomic.Pointer[gateway.Server]
}

func (l *liveGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.cur.Load().ServeHTTP(w, r)
}

// stackBase is what a generation is built on.
type stackBase struct {
	c        *cli
	log      *slog.Logger
	stdio    map[string]http.Handler
	db       *store.DB
	kr       *keys.Keyring
	vault    *vault.Vault
	authn    *auth.Authenticator
	alog     *audit.Log
	registry *modelguard.Registry
	metrics  *gateway.Metrics
	certs    *certSet
	tp       trace.TracerProvider // nil: no tracing
	checks   []gateway.Check      // readiness checks of the base

	limiterMu  sync.Mutex
	limiter    gateway.Limiter // nil until limits are configured
	redisURL   string          // server.limits.redis the limiter was built with
	redisCheck *gateway.Check  // the limiter's readiness check, on Redis
	addCloser  func(func())

	reloadMu sync.Mutex // one reload at a time
	cfg      *Config    // the config the current generation was built from

	cur     atomic.Pointer[generation] // the policy and detection in force
	console http.Handler               // the admin console, when enabled
}

// generation is what the newest generation was built from, for those
// outside the request path that act as it does (the console's policy
// page and "try it" panel).
type generation struct {
	cfg *Config
	pol *policy.Engine
	eng *detect.Engine
}

func (b *stackBase) current() *generation { return b.cur.Load() }

// buildStack builds the gateway's base and its first generation.
func buildStack(ctx context.Context, cfg *Config, c *cli, log *slog.Logger, stdio map[string]http.Handler) (*gatewayStack, error) {
	var closers []func()
	var closeMu sync.Mutex
	closeAll := func() {
		closeMu.Lock()
		defer closeMu.Unlock()
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
		closers = nil
	}
	addCloser := func(f func()) {
		closeMu.Lock()
		closers = append(closers, f)
		closeMu.Unlock()
	}
	fail := func(err error) (*gatewayStack, error) {
		closeAll()
		return nil, err
	}
	// Policy and detection are checked before anything is opened, so a
	// bad rule never leaves a half-initialised data directory.
	eng, err := detect.New(cfg.Detect)
	if err != nil {
		return fail(err)
	}
	pol, err := policy.New(cfg.Policy)
	if err != nil {
		return fail(err)
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return fail(fmt.Errorf("store: %w", err))
	}
	addCloser(func() { db.Close() })
	kr, closeKeys, err := openKeyring(ctx, cfg, c)
	if err != nil {
		return fail(err)
	}
	addCloser(func() { closeKeys() })
	v, err := newVault(cfg, db, kr)
	if err != nil {
		return fail(err)
	}
	authn, err := auth.New(ctx, cfg.Auth, auth.Deps{Store: db, Keyring: kr})
	if err != nil {
		return fail(err)
	}
	alog, err := audit.Open(ctx, audit.Config{Store: db, Keyring: kr, Origin: cfg.Audit.Origin, QueueSize: cfg.Audit.QueueSize,
		OnError: func(err error) { log.Warn("audit log", "error", err.Error()) }})
	if err != nil {
		return fail(fmt.Errorf("audit: %w", err))
	}
	addCloser(func() { alog.Close() })
	// One Prometheus registry: the gateway's metrics and the alerts'.
	reg := prometheus.NewRegistry()
	metrics := gateway.NewMetrics(reg)
	cs := newCertSet(log, metrics, time.Duration(cfg.Server.CertReloadInterval))
	cs.audit = alog
	addCloser(cs.close)
	if t := cfg.Server.TLS; t.CertFile != "" {
		if cs.server, err = cs.add("server", "server.tls", t.CertFile, t.KeyFile); err != nil {
			return fail(err)
		}
		if t.ClientCA != "" {
			if cs.clientCA, err = cs.addPool("server", "server.tls.client_ca", t.ClientCA, false); err != nil {
				return fail(err)
			}
		}
	}
	// Its closer flushes the queued spans; runServe closes after the
	// HTTP server has drained, so the last requests' spans are queued.
	tp, closeTraces, err := newTracerProvider(ctx, cfg.Telemetry.Traces, log)
	if err != nil {
		return fail(err)
	}
	addCloser(closeTraces)
	b := &stackBase{c: c, log: log, stdio: stdio, db: db, kr: kr, vault: v, authn: authn, alog: alog,
		registry: modelguard.NewRegistry(db), metrics: metrics, certs: cs, tp: tp, addCloser: addCloser,
		// Readiness: the store's write path, free disk under the data
		// directory (SQLite), the audit log; the rate limiter when
		// shared and the certificates are added by each generation.
		checks: []gateway.Check{
			{Name: "store", Check: db.CheckWrite},
			{Name: "disk", Check: func(ctx context.Context) error { return db.CheckDisk(0) }},
			{Name: "audit", Check: alog.Ready},
		}}
	// The alerts evaluator (serve only: `warden mcp run` is one caller's
	// bridge); runServe starts it.
	var ar *alertsRunner
	if stdio == nil {
		ev, err := newAlerts(ctx, cfg, c, log, db, reg, cs)
		if err != nil {
			return fail(err)
		}
		if ev != nil {
			ar = &alertsRunner{e: ev}
			addCloser(ar.stop)
		}
	}
	// The admin console (console.enabled) at /console/, and the audit
	// index it reads, kept up to date in the background.
	if cfg.Console.Enabled {
		h, stop, err := startConsole(ctx, cfg, consoleParts{db: db, log: alog, authn: authn, keyring: kr, vault: v,
			current: b.current, registry: b.registry, pins: toolpin.NewStore(db), alerts: consoleAlerts{db: db}}, log)
		if err != nil {
			return fail(err)
		}
		b.console = h
		addCloser(stop)
	}
	gw, err := b.build(ctx, cfg, eng, pol)
	if err != nil {
		return fail(err)
	}
	b.cfg = cfg
	live := &liveGateway{}
	live.cur.Store(gw)
	cs.start()
	return &gatewayStack{gw: gw, live: live, certs: cs, alerts: ar, base: b, close: closeAll}, nil
}

// build builds one generation from cfg's reloadable parts, with eng and
// pol when already built from it (nil: built here). Its upstream and MCP
// certificates join the certificate set under a new generation number,
// and the older generations' leave it.
func (b *stackBase) build(ctx context.Context, cfg *Config, eng *detect.Engine, pol *policy.Engine) (*gateway.Server, error) {
	gen := b.certs.nextGeneration()
	gw, err := b.buildGeneration(ctx, cfg, eng, pol)
	if err != nil {
		b.certs.retire(func(g int) bool { return g == gen })
		return nil, err
	}
	b.certs.retire(func(g int) bool { return g != 0 && g < gen })
	return gw, nil
}

func (b *stackBase) buildGeneration(ctx context.Context, cfg *Config, eng *detect.Engine, pol *policy.Engine) (*gateway.Server, error) {
	var err error
	if eng == nil {
		if eng, err = detect.New(cfg.Detect); err != nil {
			return nil, err
		}
	}
	if pol == nil {
		if pol, err = policy.New(cfg.Policy); err != nil {
			return nil, err
		}
	}
	ups, err := upstreams(ctx, cfg, b.c, b.log, b.registry, b.certs)
	if err != nil {
		return nil, err
	}
	gcfg := gateway.Config{
		Upstreams:         ups,
		Aliases:           cfg.Server.Aliases,
		MaxBodyBytes:      cfg.Server.MaxBodyBytes,
		MaxJSONDepth:      cfg.Server.MaxJSONDepth,
		UpstreamTimeout:   time.Duration(cfg.Server.UpstreamTimeout),
		StreamIdleTimeout: time.Duration(cfg.Server.StreamIdleTimeout),
		MaxStreams:        cfg.Server.MaxStreams,
		LeakOperator:      transform.Operator(cfg.Server.LeakOperator),
		AuditFailOpen:     cfg.Server.AuditFailOpen,
		AuditTimeout:      time.Duration(cfg.Server.AuditTimeout),
		WriteTimeout:      time.Duration(cfg.Server.WriteTimeout),
		LeakTypes:         cfg.Server.LeakTypes,
		Logger:            b.log,
		GenAIGuardrails:   cfg.Telemetry.GenAIGuardrails,
	}
	checks := append([]gateway.Check(nil), b.checks...)
	var limiter gateway.Limiter
	l := cfg.Server.Limits
	if l.Default != (Limit{}) || len(l.Principals) > 0 || len(l.Models) > 0 {
		gcfg.DefaultPrincipalLimit = l.Default.limit()
		gcfg.PrincipalLimits = map[string]ratelimit.Limit{}
		for k, v := range l.Principals {
			gcfg.PrincipalLimits[k] = v.limit()
		}
		gcfg.ModelLimits = map[string]ratelimit.Limit{}
		for k, v := range l.Models {
			gcfg.ModelLimits[k] = v.limit()
		}
		var check *gateway.Check
		if limiter, check, err = b.rateLimiter(l.Redis); err != nil {
			return nil, err
		}
		if check != nil {
			checks = append(checks, *check)
		}
	}
	mcps, err := mcpServers(ctx, cfg, b.c, b.log, b.stdio, b.certs)
	if err != nil {
		return nil, err
	}
	gcfg.MCPServers = mcps
	gcfg.MCPResource = cfg.MCP.Resource
	gcfg.MCPDefinitionsTTL = time.Duration(cfg.MCP.DefinitionsTTL)
	gcfg.MCPAuthorizationServers = b.authn.AuthorizationServers()
	if b.certs.has() {
		checks = append(checks, gateway.Check{Name: "certificates", Check: b.certs.check})
	}
	gw, err := gateway.New(gcfg, gateway.Deps{
		Auth:           gatewayAuth{b.authn},
		Detector:       eng,
		Policy:         pol,
		Tokens:         vaultTokens{v: b.vault},
		Limiter:        limiter,
		Auditor:        b.alog,
		Metrics:        b.metrics,
		TracerProvider: b.tp,
		Checks:         checks,
		MCP: gateway.MCPDeps{Pins: toolpin.NewStore(b.db), Inspector: toolInspector{&toolpin.Inspector{Phrases: cfg.MCP.InstructionPhrases}},
			NewFetcher: func(c *http.Client, endpoint string, h http.Header) gateway.ToolFetcher {
				return &toolpin.Fetcher{Client: c, Endpoint: endpoint, Header: h}
			}},
	})
	if err != nil {
		return nil, err
	}
	b.mount(gw, cfg)
	b.cur.Store(&generation{cfg: cfg, pol: pol, eng: eng})
	return gw, nil
}

// mount adds the handlers served beside the API to a generation.
func (b *stackBase) mount(gw *gateway.Server, cfg *Config) {
	gw.Handle("/audit/", auditAccess(cfg.Audit.Roles, b.authn, b.alog.Handler()))
	if iss := b.authn.Issuer(); iss != nil {
		gw.Handle("POST /v1/auth/token", iss.TokenHandler(b.authn.APIKeys()))
		gw.Handle("GET /.well-known/jwks.json", iss.JWKSHandler())
	}
	if b.console != nil {
		gw.Handle(console.Prefix, b.console)
	}
}

// rateLimiter is the process's one limiter, built the first time a
// generation has limits: in memory, or on Redis at redisURL. Every
// generation shares it, so a reload neither resets a caller's window nor
// lets it start a second one. A generation asking for another Redis URL
// than the limiter was built with is refused (the URL needs a restart).
func (b *stackBase) rateLimiter(redisURL string) (gateway.Limiter, *gateway.Check, error) {
	b.limiterMu.Lock()
	defer b.limiterMu.Unlock()
	if b.limiter == nil {
		if redisURL != "" {
			opt, err := redis.ParseURL(redisURL)
			if err != nil {
				return nil, nil, errors.New("server.limits.redis: not a redis:// URL")
			}
			rc := redis.NewClient(opt)
			b.addCloser(func() { rc.Close() })
			b.limiter = ratelimit.NewRedis(rc, "warden:rl:", nil)
			b.redisCheck = &gateway.Check{Name: "rate_limiter", Check: func(ctx context.Context) error { return rc.Ping(ctx).Err() }}
		} else {
			b.limiter = ratelimit.NewMemory(nil)
		}
		b.redisURL = redisURL
	}
	if redisURL != b.redisURL {
		return nil, nil, errors.New("server.limits.redis: changed since start; restart to use another Redis")
	}
	return b.limiter, b.redisCheck, nil
}

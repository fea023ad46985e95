package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/auth"
	"github.com/wardenhq/warden/gateway"
	"github.com/wardenhq/warden/internal/standin"
	"github.com/wardenhq/warden/modelguard"
	"github.com/wardenhq/warden/ratelimit"
	"github.com/wardenhq/warden/transform"
	"github.com/wardenhq/warden/vault"
)

const serveHelp = `usage: warden serve [--config FILE]

Runs the gateway: an OpenAI- and Anthropic-compatible HTTP API that
authenticates callers, de-identifies sensitive data before it reaches a
model, restores it in responses (streamed too) and records every request
in the audit log. Point an official SDK at http://LISTEN/v1 with a key
from 'warden apikey create'.

With no upstream URL configured, the built-in echo upstream answers every
request with the text it received, so you can see what a model would get.

Endpoints: POST /v1/chat/completions, /v1/responses, /v1/completions,
/v1/embeddings, /v1/messages; GET /v1/models, /healthz, /readyz, /metrics.

With telemetry.traces.endpoint (or OTEL_EXPORTER_OTLP_ENDPOINT) set, each
request is a span sent over OTLP/HTTP: names, counts and decisions in the
gen_ai.* conventions, never content. Queued spans are flushed on stop.

Certificate and key files (server.tls, each tls.cert_file) are reloaded
when they change (checked every server.cert_reload_interval) and on
SIGHUP: new connections get the new pair, open ones keep theirs, and a
broken pair is refused with the old one kept.

SIGHUP also reloads the config file (and so does a change of its content
with server.config_watch_interval set): policy, upstreams, detection,
limits and MCP servers apply to new requests; requests and streams in
flight finish under the config they started with. An invalid file is
refused, the error naming the key, and the config in force stays. The
store, keys, vault, auth, audit, telemetry, listener, TLS and Redis
settings need a restart (a reload that changes them says which). Each
reload is an audit entry (config.reload) with the policy hash.

Stops gracefully on SIGINT/SIGTERM, letting streams in flight finish
(server.shutdown_timeout). Logs are JSON lines on standard error and never
contain prompt text, values, keys or tokens.

Exit codes: 0 stopped cleanly, 1 the server failed, 2 usage or configuration error.

Flags:
`

func runServe(ctx context.Context, c *cli, args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	configPath := fs.String("config", "", "config `file` (default: built-in defaults, data in $WARDEN_DATA_DIR or ./warden-data)")
	fs.Usage = func() { fmt.Fprint(c.stderr, serveHelp); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	cfg, err := loadConfig(*configPath, c.getenv)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden serve:", err)
		return exitUsage
	}
	log := newLogger(c, cfg.Server.LogLevel)
	st, err := buildStack(ctx, cfg, c, log, nil)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden serve:", err)
		return exitUsage
	}
	defer st.close()
	st.alerts.start()
	// SIGHUP reads every certificate and key file, and the config file,
	// again at once; with server.config_watch_interval the config file
	// is also reloaded when its content changes.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	bg, stopBG := context.WithCancel(ctx)
	defer func() { signal.Stop(hup); stopBG() }()
	go func() {
		for {
			select {
			case <-hup:
				log.Info("SIGHUP: reloading certificates and the config file")
				st.certs.reload()
				if cfg.path != "" {
					st.reload(bg, "sighup")
				}
			case <-bg.Done():
				return
			}
		}
	}()
	if d := time.Duration(cfg.Server.ConfigWatchInterval); d > 0 && cfg.path != "" {
		go st.watchConfig(bg, d)
	}

	srv := newHTTPServer(cfg, st.live, log)
	scheme := "http"
	if cfg.Server.TLS.CertFile != "" {
		srv.TLSConfig = serverTLS(st.certs.server, st.certs.clientCA)
		scheme = "https"
	}
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden serve: server.listen:", err)
		return exitUsage
	}
	ln = gateway.GuardFraming(ln)
	log.Info("warden gateway listening", "url", scheme+"://"+ln.Addr().String()+"/v1", "upstreams", upstreamSummary(cfg),
		"traces", cfg.Telemetry.Traces.url != "")
	errc := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			errc <- srv.ServeTLS(ln, "", "") // the pair comes from GetCertificate
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		log.Error("server failed", "error", err.Error())
		return exitFailure
	case <-ctx.Done():
	}
	timeout := time.Duration(cfg.Server.ShutdownTimeout)
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	log.Info("shutting down: draining requests and streams", "timeout", timeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown timed out; closing remaining connections", "error", err.Error())
		srv.Close()
	}
	return exitOK
}

// newHTTPServer is the HTTP server of `warden serve` (and of `warden
// probe`, which must test the same thing): header and body timeouts, a
// bound on headers, and idle keep-alive connections closed. The write
// timeout is applied per write by the gateway (streams may run long, but
// no write may stall).
func newHTTPServer(cfg *Config, h http.Handler, log *slog.Logger) *http.Server {
	rht := time.Duration(cfg.Server.ReadHeaderTimeout)
	if rht == 0 {
		rht = 10 * time.Second
	}
	idle := time.Duration(cfg.Server.IdleTimeout)
	if idle == 0 {
		idle = 120 * time.Second
	}
	rate := cfg.Server.MinBodyRate
	if rate == 0 {
		rate = 16 << 10
	}
	return &http.Server{
		Addr:              cfg.Server.Listen,
		Handler:           gateway.MinBodyRate(h, rate, 5*time.Second),
		ReadHeaderTimeout: rht,
		IdleTimeout:       idle,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ConnContext:       gateway.FramingContext,
	}
}

func newLogger(c *cli, level string) *slog.Logger {
	var l slog.Level
	switch level {
	case "debug":
		l = slog.LevelDebug
	case "warn":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	}
	return slog.New(slog.NewJSONHandler(c.stderr, &slog.HandlerOptions{Level: l}))
}

func upstreamSummary(cfg *Config) string {
	if len(cfg.Upstreams) == 0 {
		return "echo (built-in)"
	}
	var parts []string
	for _, u := range cfg.Upstreams {
		where := "echo (built-in)"
		if u.URL != "" {
			where = u.URL
		}
		parts = append(parts, u.Name+"="+where)
	}
	return strings.Join(parts, ", ")
}

// buildGateway wires every stage of the request path from the config.
func buildGateway(ctx context.Context, cfg *Config, c *cli, log *slog.Logger) (*gateway.Server, func(), error) {
	return buildGatewayWith(ctx, cfg, c, log, nil)
}

// buildGatewayWith is buildGateway whose MCP servers are only those of
// stdio, each served in process by its handler (`warden mcp run`); nil
// stdio: the config's servers with a url.
func buildGatewayWith(ctx context.Context, cfg *Config, c *cli, log *slog.Logger, stdio map[string]http.Handler) (*gateway.Server, func(), error) {
	st, err := buildStack(ctx, cfg, c, log, stdio)
	if err != nil {
		return nil, nil, err
	}
	return st.gw, st.close, nil
}

func (l Limit) limit() ratelimit.Limit {
	return ratelimit.Limit{Requests: l.RequestsPerMinute, Tokens: l.TokensPerMinute, Per: time.Minute}
}

// upstreams builds the gateway's upstreams; with none configured (or an
// empty URL) the built-in echo upstream serves.
func upstreams(ctx context.Context, cfg *Config, c *cli, log *slog.Logger, registry *modelguard.Registry, cs *certSet) ([]*gateway.Upstream, error) {
	if len(cfg.Upstreams) == 0 {
		return []*gateway.Upstream{echoUpstream("echo", "cloud", nil)}, nil
	}
	var out []*gateway.Upstream
	for i, u := range cfg.Upstreams {
		zone := u.Zone
		if zone == "" {
			zone = "cloud"
		}
		models := u.Models
		if len(models) == 0 {
			models = []string{"*"}
		}
		if u.URL == "" {
			up := echoUpstream(u.Name, zone, models)
			if u.RequireApproved {
				up.Check = registry.Approved
			}
			out = append(out, up)
			continue
		}
		key := ""
		if u.KeyEnv != "" {
			key = c.getenv(u.KeyEnv)
			if key == "" {
				fmt.Fprintf(c.stderr, "warden serve: upstreams[%d].key_env: %s is empty; calling %s without a credential\n", i, u.KeyEnv, u.Name)
			}
		}
		up := &gateway.Upstream{Name: u.Name, URL: u.URL, Key: key, Zone: zone, Models: models, Auth: u.Auth}
		k := fmt.Sprintf("upstreams[%d]", i)
		tr, err := cs.clientTransport(ctx, k, "upstream:"+u.Name, u.URL, u.TLS)
		if err != nil {
			return nil, err
		}
		if tr != nil {
			up.Transport = tr
		}
		if u.Insecure {
			insecureWarning(log, k, "upstream "+u.Name, u.URL)
		}
		if u.RequireApproved {
			up.Check = registry.Approved
		}
		out = append(out, up)
	}
	return out, nil
}

func echoUpstream(name, zone string, models []string) *gateway.Upstream {
	if len(models) == 0 {
		models = []string{"*"}
	}
	return &gateway.Upstream{Name: name, Zone: zone, Models: models,
		Handler: standin.New(standin.Options{Models: models, ShowTokens: true, Prefix: "[echo upstream] the model received: "})}
}

// The audit log is the gateway's auditor; neither package imports the
// other (both speak audit/event).
var _ gateway.Auditor = (*audit.Log)(nil)

// vaultTokens gives the gateway each tenant's view of the vault.
type vaultTokens struct{ v *vault.Vault }

func (t vaultTokens) Tokenizer(tenant string) transform.Tokenizer { return t.v.Tenant(tenant) }
func (t vaultTokens) Revealer(tenant string) transform.Revealer   { return t.v.Tenant(tenant) }

// gatewayAuth adapts package auth to the gateway: Authenticate for the
// model API, AuthenticateResource for the MCP endpoints (tokens bound to
// the endpoint).
type gatewayAuth struct{ a *auth.Authenticator }

func (g gatewayAuth) Authenticate(r *http.Request) (*gateway.Principal, error) {
	return gatewayPrincipal(g.a.Authenticate(r))
}

func (g gatewayAuth) AuthenticateResource(r *http.Request, resource string) (*gateway.Principal, error) {
	return gatewayPrincipal(g.a.AuthenticateResource(r, resource))
}

func gatewayPrincipal(p *auth.Principal, err error) (*gateway.Principal, error) {
	if errors.Is(err, auth.ErrUnauthenticated) {
		return nil, gateway.ErrUnauthenticated
	}
	if err != nil {
		// The credential could not be checked (store outage): refuse,
		// but not as a 401.
		return nil, err
	}
	return &gateway.Principal{Name: p.Name, Tenant: p.Tenant, Roles: p.Roles, Models: p.Models, Method: p.Method}, nil
}

// auditAccess serves the audit log to everyone when roles is empty (the
// log holds no content, only commitments and counts), else only to
// authenticated callers holding one of roles.
func auditAccess(roles []string, authn *auth.Authenticator, h http.Handler) http.Handler {
	if len(roles) == 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := authn.Authenticate(r)
		if err != nil {
			http.Error(w, "audit log: authentication required", http.StatusUnauthorized)
			return
		}
		for _, want := range roles {
			for _, have := range p.Roles {
				if want == have {
					h.ServeHTTP(w, r)
					return
				}
			}
		}
		http.Error(w, "audit log: a role in audit.roles is required", http.StatusForbidden)
	})
}

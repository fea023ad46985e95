// Package console serves Warden's admin console at /console/: the
// static single-page app embedded from dist (built from console/web)
// and the JSON API under /console/api/ it reads (docs/CONSOLE.md has the
// endpoints and their shapes).
//
// The console sits beside the gateway, not on the request path. Its
// users sign in with a gateway API key whose roles include one of
// Config.Roles; the key is checked once, by the gateway's API-key store,
// and exchanged for an opaque session cookie (256 random bits, kept
// hashed in the store, so every replica knows every session). Auditors
// read; only the admin role may change anything, and every change needs
// the cookie, the CSRF header X-Warden-Console: 1 and a JSON body.
// Every read of audit data is itself an audit entry (console.view, which
// names the page and the filters used, never their values), and every
// change writes the entry its CLI command writes.
//
// Audit searches and charts read the audit index (package auditindex),
// the log's derived copy with hourly rollups, so each page answers in
// bounded time at millions of entries; an entry's inclusion proof and
// consistency proofs come from the log itself (package audit), for the
// browser to check against the signed checkpoint. Nothing the console
// answers holds a prompt, a detected value, a token's original or a key
// other than the one it creates, once.
package console

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/auditindex"
	"github.com/wardenhq/warden/auth"
	"github.com/wardenhq/warden/keys"
	"github.com/wardenhq/warden/modelguard"
	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/toolpin"
)

//go:embed dist
var dist embed.FS

// Config is the console: block of Warden's configuration. The zero
// value of each field is its documented default.
type Config struct {
	// Roles are the API-key roles that may sign in. Of them, only admin
	// may change anything (create and revoke keys, rotate the KEK, shred
	// a tenant); the others read. Default [admin, auditor].
	Roles []string
	// SessionTTL is how long a session lasts after sign-in (never past
	// the key's own expiry). Default 8h.
	SessionTTL time.Duration
}

// RoleAdmin is the role that may change things through the console.
const RoleAdmin = "admin"

// DefaultRoles are the roles that may sign in by default.
var DefaultRoles = []string{RoleAdmin, "auditor"}

// DefaultSessionTTL is the session lifetime by default.
const DefaultSessionTTL = 8 * time.Hour

// Admin does the administrative acts the console offers, each recording
// the audit entry its CLI command records, with actor as the actor.
type Admin interface {
	CreateAPIKey(ctx context.Context, actor string, spec auth.KeySpec) (key string, info auth.KeyInfo, err error)
	// RevokeAPIKey revokes the key with id; auth.ErrNotFound when no
	// active key has it.
	RevokeAPIKey(ctx context.Context, actor, id string) error
	RotateKEK(ctx context.Context, actor string) (uint32, error)
	// ShredTenant destroys tenant's keys; false when the vault has no
	// such tenant.
	ShredTenant(ctx context.Context, actor, tenant string) (bool, error)
}

// KEKs lists the key-encryption-key versions (a *keys.Keyring).
type KEKs interface {
	Versions(ctx context.Context) ([]keys.Version, error)
}

// Policy is the policy in force, for the policy page.
type Policy struct {
	// Hash identifies it, as audit entries name it (policy.Engine.Version).
	Hash string
	// Config is the policy: section as configured (policy.Config).
	Config any
}

// PolicyTest runs what `warden policy test` runs on a pasted request.
type PolicyTest func(ctx context.Context, in PolicyTestInput) (*PolicyTestResult, error)

// Deps are what the console reads and acts on. Store, Log, Index and
// APIKeys are required.
type Deps struct {
	Store   *store.DB
	Log     *audit.Log
	Index   *auditindex.Index
	APIKeys *auth.APIKeys
	// Admin does the mutations; nil: they answer 501.
	Admin Admin
	KEKs  KEKs
	// Policy returns the policy in force (it may change on a reload);
	// PolicyTest tests a request against it.
	Policy     func() Policy
	PolicyTest PolicyTest
	Models     *modelguard.Registry
	Pins       *toolpin.Store
	// Alerts lists alerts; nil: none.
	Alerts AlertSource
	// Logger gets failures (never a value). Default: discarded.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Console serves the console. It is safe for concurrent use.
type Console struct {
	cfg    Config
	d      Deps
	static fs.FS
	mux    *http.ServeMux
}

// New validates cfg and builds the console.
func New(cfg Config, d Deps) (*Console, error) {
	if d.Store == nil || d.Log == nil || d.Index == nil || d.APIKeys == nil {
		return nil, errors.New("console: Store, Log, Index and APIKeys are required")
	}
	if len(cfg.Roles) == 0 {
		cfg.Roles = DefaultRoles
	}
	for _, r := range cfg.Roles {
		if r == "" || strings.ContainsAny(r, ", \t\r\n") {
			return nil, errors.New("console.roles: each role is a non-empty name without commas or spaces")
		}
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.SessionTTL < time.Minute || cfg.SessionTTL > 30*24*time.Hour {
		return nil, errors.New("console.session_ttl: must be between 1m and 720h")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	static, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, err
	}
	c := &Console{cfg: cfg, d: d, static: static}
	c.routes()
	return c, nil
}

// Prefix is where the console is mounted.
const Prefix = "/console/"

func (c *Console) routes() {
	m := http.NewServeMux()
	api := func(pattern string, methods map[string]http.HandlerFunc) {
		m.HandleFunc(Prefix+"api/"+pattern, func(w http.ResponseWriter, r *http.Request) {
			h, ok := methods[r.Method]
			if !ok && r.Method == http.MethodHead {
				h, ok = methods[http.MethodGet]
			}
			if !ok {
				allow := make([]string, 0, len(methods))
				for k := range methods {
					allow = append(allow, k)
				}
				slices.Sort(allow)
				w.Header().Set("Allow", strings.Join(allow, ", "))
				writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed here")
				return
			}
			h(w, r)
		})
	}
	api("session", map[string]http.HandlerFunc{
		http.MethodGet: c.whoami, http.MethodPost: c.signIn, http.MethodDelete: c.signOut,
	})
	api("entries", map[string]http.HandlerFunc{http.MethodGet: c.reader(c.entries)})
	api("entries/{idx}", map[string]http.HandlerFunc{http.MethodGet: c.reader(c.entry)})
	api("overview", map[string]http.HandlerFunc{http.MethodGet: c.reader(c.overview)})
	api("flows", map[string]http.HandlerFunc{http.MethodGet: c.reader(c.flows)})
	api("consistency", map[string]http.HandlerFunc{http.MethodGet: c.reader(c.consistency)})
	api("checkpoints", map[string]http.HandlerFunc{http.MethodGet: c.reader(c.checkpoints)})
	api("keys", map[string]http.HandlerFunc{http.MethodGet: c.reader(c.keys), http.MethodPost: c.admin(c.createKey)})
	api("keys/{id}/revoke", map[string]http.HandlerFunc{http.MethodPost: c.admin(c.revokeKey)})
	api("kek/rotate", map[string]http.HandlerFunc{http.MethodPost: c.admin(c.rotateKEK)})
	api("tenants/{tenant}/shred", map[string]http.HandlerFunc{http.MethodPost: c.admin(c.shred)})
	api("policy", map[string]http.HandlerFunc{http.MethodGet: c.reader(c.policy)})
	api("policy/test", map[string]http.HandlerFunc{http.MethodPost: c.poster(c.policyTest)})
	api("models", map[string]http.HandlerFunc{http.MethodGet: c.reader(c.models)})
	api("alerts", map[string]http.HandlerFunc{http.MethodGet: c.reader(c.alerts)})
	m.HandleFunc(Prefix+"api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint")
	})
	m.HandleFunc(Prefix, c.serveStatic)
	c.mux = m
}

// ContentSecurityPolicy is the policy of every console response: the
// app's own scripts, styles and API only, no inline script, no framing.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// Handler serves the console under Prefix (and redirects /console to it).
func (c *Console) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if r.URL.Path == strings.TrimSuffix(Prefix, "/") {
			http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
			return
		}
		if strings.HasPrefix(r.URL.Path, Prefix+"api/") {
			h.Set("Cache-Control", "no-store")
		}
		c.mux.ServeHTTP(w, r)
	})
}

// serveStatic serves the embedded app: a file of dist when the path
// names one, else index.html (the app routes in the browser).
func (c *Console) serveStatic(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+strings.TrimPrefix(r.URL.Path, Prefix)), "/")
	if name != "" && name != "index.html" {
		if st, err := fs.Stat(c.static, name); err == nil && !st.IsDir() {
			if strings.HasPrefix(name, "assets/") {
				// Built assets carry their content hash in the name.
				w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			} else {
				w.Header().Set("Cache-Control", "no-cache")
			}
			http.ServeFileFS(w, r, c.static, name)
			return
		}
	}
	b, err := fs.ReadFile(c.static, "index.html")
	if err != nil {
		http.Error(w, "console app not built", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// writeError answers {"error":{"code","message"}}. Messages name what
// was wrong, never a value.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}

// fail answers a failure of a store or the log: 503 (retry later); the
// error goes to the log, scrubbed of the database's host and user.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	c.d.Logger.Warn("console: "+what+" failed", "path", r.URL.Path, "error", store.Scrub(err).Error())
	writeError(w, http.StatusServiceUnavailable, "unavailable", what+" failed; retry later")
}

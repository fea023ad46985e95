package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/policy"
)

// Config reload. SIGHUP, and a change of the config file's content when
// server.config_watch_interval is set, read the file again. A valid new
// config becomes a new generation (stack.go) that serves new requests;
// requests in flight finish on the one they started on. An invalid one
// is refused: the error names the key, the old config stays in force.
// Parts a process opens once (the store, keys, vault, auth, the audit
// log, the listener and its TLS, telemetry, the Redis URL) keep their
// old values until a restart; a reload that changes them says which.
// Every reload, applied or refused, is an audit entry (config.reload)
// with the hash of the policy in force after it.

// reloadResult is what one reload did.
type reloadResult struct {
	Applied bool
	// Policy is the version of the policy in force after the reload.
	Policy string
	// Restart lists the changed keys that take effect only on restart.
	Restart []string
	// Err is why the new config was refused.
	Err error
}

// reload reads the config file again and, when it is valid, serves new
// requests with a generation built from it. trigger says what asked
// (sighup, watch) in the log and the audit entry.
func (st *gatewayStack) reload(ctx context.Context, trigger string) reloadResult {
	b := st.base
	b.reloadMu.Lock()
	defer b.reloadMu.Unlock()
	old := b.cfg
	res := reloadResult{Policy: policyVersion(old)}
	next, err := b.readConfig(old)
	if err == nil {
		res.Restart = restartKeys(old, next)
		eff := effectiveConfig(old, next)
		gw, berr := b.build(ctx, eff, nil, nil)
		if berr == nil {
			st.live.cur.Store(gw)
			b.cfg = eff
			b.certs.start()
			res.Applied, res.Policy = true, policyVersion(eff)
		}
		err = berr
	}
	res.Err = err
	b.recordReload(ctx, old.path, trigger, res)
	return res
}

// readConfig reads and validates the file old came from.
func (b *stackBase) readConfig(old *Config) (*Config, error) {
	if old.path == "" {
		return nil, errors.New("config: serve was started without --config; there is no file to reload")
	}
	return loadConfig(old.path, b.c.getenv)
}

// restartKeys are the keys of restartOnly whose values differ between
// old and next.
func restartKeys(old, next *Config) []string {
	var out []string
	for _, k := range restartOnly {
		if !reflect.DeepEqual(k.get(old), k.get(next)) {
			out = append(out, k.key)
		}
	}
	return out
}

// restartKey is one restart-only part of the config: its key, how to
// read it and how to copy it from one config to another.
type restartKey struct {
	key string
	get func(*Config) any
	set func(dst, src *Config)
}

// restartOnly are the parts of the config a process opens once.
var restartOnly = []restartKey{
	{"data_dir", func(c *Config) any { return c.DataDir }, func(d, s *Config) { d.DataDir = s.DataDir }},
	{"store", func(c *Config) any { return c.Store }, func(d, s *Config) { d.Store = s.Store }},
	{"keys", func(c *Config) any { return c.Keys }, func(d, s *Config) { d.Keys = s.Keys }},
	{"vault", func(c *Config) any { return c.Vault }, func(d, s *Config) { d.Vault = s.Vault }},
	{"auth", func(c *Config) any { return c.Auth }, func(d, s *Config) { d.Auth = s.Auth }},
	{"audit", func(c *Config) any { return c.Audit }, func(d, s *Config) { d.Audit = s.Audit }},
	{"console", func(c *Config) any { return c.Console }, func(d, s *Config) { d.Console = s.Console }},
	{"alerts", func(c *Config) any { return c.Alerts }, func(d, s *Config) { d.Alerts = s.Alerts }},
	{"telemetry", func(c *Config) any { return c.Telemetry }, func(d, s *Config) { d.Telemetry = s.Telemetry }},
	{"server.listen", func(c *Config) any { return c.Server.Listen }, func(d, s *Config) { d.Server.Listen = s.Server.Listen }},
	{"server.tls", func(c *Config) any { return c.Server.TLS }, func(d, s *Config) { d.Server.TLS = s.Server.TLS }},
	{"server.read_header_timeout", func(c *Config) any { return c.Server.ReadHeaderTimeout }, func(d, s *Config) { d.Server.ReadHeaderTimeout = s.Server.ReadHeaderTimeout }},
	{"server.min_body_rate", func(c *Config) any { return c.Server.MinBodyRate }, func(d, s *Config) { d.Server.MinBodyRate = s.Server.MinBodyRate }},
	{"server.idle_timeout", func(c *Config) any { return c.Server.IdleTimeout }, func(d, s *Config) { d.Server.IdleTimeout = s.Server.IdleTimeout }},
	{"server.shutdown_timeout", func(c *Config) any { return c.Server.ShutdownTimeout }, func(d, s *Config) { d.Server.ShutdownTimeout = s.Server.ShutdownTimeout }},
	{"server.log_level", func(c *Config) any { return c.Server.LogLevel }, func(d, s *Config) { d.Server.LogLevel = s.Server.LogLevel }},
	{"server.cert_reload_interval", func(c *Config) any { return c.Server.CertReloadInterval }, func(d, s *Config) { d.Server.CertReloadInterval = s.Server.CertReloadInterval }},
	{"server.config_watch_interval", func(c *Config) any { return c.Server.ConfigWatchInterval }, func(d, s *Config) { d.Server.ConfigWatchInterval = s.Server.ConfigWatchInterval }},
	{"server.limits.redis", func(c *Config) any { return c.Server.Limits.Redis }, func(d, s *Config) { d.Server.Limits.Redis = s.Server.Limits.Redis }},
}

// effectiveConfig is next with the restart-only parts of old: what the
// new generation is built from.
func effectiveConfig(old, next *Config) *Config {
	eff := *next
	for _, k := range restartOnly {
		k.set(&eff, old)
	}
	return &eff
}

// policyVersion is the version (hash) of cfg's policy; "" when it does
// not compile (never for a config a generation was built from).
func policyVersion(cfg *Config) string {
	p, err := policy.New(cfg.Policy)
	if err != nil {
		return ""
	}
	return p.Version()
}

// recordReload logs the reload and writes its audit entry. The entry
// holds the result, the policy hash and key names, never a config
// value: a refusal records only the key the error names.
func (b *stackBase) recordReload(ctx context.Context, path, trigger string, res reloadResult) {
	ev := audit.AdminEvent{Action: "config.reload", Actor: "warden", Target: path,
		Details: map[string]string{"trigger": trigger, "policy_hash": res.Policy}}
	if len(res.Restart) > 0 {
		ev.Details["restart_required"] = strings.Join(res.Restart, ",")
	}
	switch {
	case res.Applied:
		ev.Details["result"] = "applied"
		attrs := []any{"trigger", trigger, "policy", res.Policy}
		if len(res.Restart) > 0 {
			attrs = append(attrs, "restart_required", strings.Join(res.Restart, ","))
			b.log.Warn("config reloaded; some changed keys take effect only after a restart", attrs...)
		} else {
			b.log.Info("config reloaded", attrs...)
		}
	default:
		ev.Details["result"] = "refused"
		ev.Details["error"] = errorKey(res.Err)
		b.log.Error("config reload refused; the current config stays in force", "trigger", trigger, "error", res.Err.Error())
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := b.alog.RecordAdmin(actx, ev); err != nil {
		b.log.Error("config reload: audit entry not written", "error", err.Error())
	}
}

// errorKey is the key a config error names — its first part after the
// "config FILE: " prefix ("server.limits.redis", or "line 3" for a
// parse error) — for the audit entry, which must not hold config values.
func errorKey(err error) string {
	// A YAML error quotes the text it could not read; keep only where.
	if m := yamlUnknownKey.FindStringSubmatch(err.Error()); m != nil {
		return "line " + m[1] + ": unknown key " + m[2]
	}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		return "line " + m[1]
	}
	parts := strings.SplitN(err.Error(), ": ", 3)
	if len(parts) > 1 && strings.HasPrefix(parts[0], "config") {
		parts = parts[1:]
	}
	msg := parts[0]
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return msg
}

var (
	yamlUnknownKey = regexp.MustCompile(`line (\d+): field ([A-Za-z0-9_]+) not found`)
	yamlLine       = regexp.MustCompile(`^config [^:]*: (?:unmarshal errors:\s*)?line (\d+):`)
)

// watchConfig reloads whenever the content of the config file changes,
// checking every interval until ctx ends. A file that cannot be read is
// logged once per change of state, and the config in force stays.
func (st *gatewayStack) watchConfig(ctx context.Context, interval time.Duration) {
	path := st.base.cfg.path
	last, _ := fileHash(path)
	t := time.NewTicker(interval)
	defer t.Stop()
	unreadable := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h, err := fileHash(path)
		if err != nil {
			if !unreadable {
				st.base.log.Warn("config watch: the config file cannot be read; the current config stays in force", "error", err.Error())
			}
			unreadable = true
			continue
		}
		unreadable = false
		if h == last {
			continue
		}
		last = h
		st.reload(ctx, "watch")
	}
}

func fileHash(path string) ([32]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(b), nil
}

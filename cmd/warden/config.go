package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"gopkg.in/yaml.v3"

	"github.com/wardenhq/warden/auth"
	"github.com/wardenhq/warden/detect"
	"github.com/wardenhq/warden/policy"
	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/vault"
)

// Config is Warden's one configuration file. Every field's zero value is
// the documented default. Strings may use ${VAR} and ${VAR:-default}
// environment expansion.
type Config struct {
	// DataDir holds the embedded database and the local keyring.
	// Default $WARDEN_DATA_DIR, else ./warden-data.
	DataDir string `yaml:"data_dir"`
	// Store names the database (store.dsn, or store itself as a plain
	// string) and bounds each call to it (store.timeout).
	Store StoreConfig `yaml:"store"`
	// Keys chooses where key-encryption keys come from.
	Keys KeysConfig `yaml:"keys"`
	// Vault tunes the token vault.
	Vault VaultConfig `yaml:"vault"`
	// Detect tunes the detection engine.
	Detect detect.Config `yaml:"detect"`
	// Transform chooses the de-identification operator per type.
	Transform TransformConfig `yaml:"transform"`
	// Policy decides what happens to each request (CEL rules).
	Policy policy.Config `yaml:"policy"`
	// Auth chooses how gateway callers authenticate: API keys, the
	// gateway's short-lived tokens, an OIDC issuer, mTLS.
	Auth auth.Config `yaml:"auth"`
	// Audit tunes the tamper-evident audit log.
	Audit AuditConfig `yaml:"audit"`
	// Server configures `warden serve`.
	Server ServerConfig `yaml:"server"`
	// Upstreams are the models the gateway may call.
	Upstreams []UpstreamConfig `yaml:"upstreams"`
	// MCP fronts MCP servers at /mcp/{name} (mcp.go). Default none.
	MCP MCPConfig `yaml:"mcp"`
	// Telemetry exports OpenTelemetry traces. Default off. (Metrics are
	// always served at /metrics, in the Prometheus format.)
	Telemetry TelemetryConfig `yaml:"telemetry"`
	// Console serves the admin console at /console/ (console.go,
	// docs/CONSOLE.md). Default off.
	Console ConsoleConfig `yaml:"console"`
	// Alerts raises drift and incident alerts from the audit log and
	// sends them to webhooks (alerts.go, docs/ALERTS.md). Default on,
	// no webhooks.
	Alerts AlertsConfig `yaml:"alerts"`

	path string // file the config was read from, for messages
}

// StoreConfig is the store key: either a plain string, the DSN, or a
// mapping with dsn and timeout.
type StoreConfig struct {
	// DSN is empty for SQLite at <data_dir>/warden.db, "sqlite:PATH"
	// for another SQLite file, or a postgres:// URL (search_path=SCHEMA
	// allowed) for several gateway replicas sharing one vault. Migrations
	// are applied at start unless store.migrate is off.
	DSN string `yaml:"dsn"`
	// Timeout bounds every call the vault, API-key and token checks and
	// the model registry make to the store: a stalled database fails
	// the request (503) after this long instead of holding it for the
	// outage. Between 10ms and 1m. Default 2s.
	Timeout Duration `yaml:"timeout"`
	// Sync is SQLite's durability: full (default) fsyncs every commit, so
	// no acknowledged audit entry, token or key change is lost even on a
	// power cut — at about one fsync per group commit (see README's
	// measured numbers); normal syncs only at checkpoints: commits
	// survive a crash of warden, not always one of the machine.
	// PostgreSQL ignores it (its synchronous_commit decides; Warden
	// refuses a session where it is off).
	Sync string `yaml:"sync"`
	// Migrate is what serve and every other command (but `warden
	// migrate` and `warden doctor`) do with the schema when they open the
	// store: auto (default) applies pending migrations (on PostgreSQL
	// under an advisory lock, so replicas starting together never race);
	// off never changes the schema and refuses to start on one that is
	// not current ("store: schema at version X, this binary needs Y: run
	// 'warden migrate'"), for replicas whose schema a migration Job
	// applies before the rollout. A schema newer than the binary knows is
	// refused in both modes.
	Migrate string `yaml:"migrate"`
}

// UnmarshalYAML accepts "store: DSN" as well as the mapping.
func (s *StoreConfig) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Decode(&s.DSN)
	case yaml.MappingNode:
		// Node.Decode does not inherit KnownFields: refuse unknown keys here.
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Value != "dsn" && k.Value != "timeout" && k.Value != "sync" && k.Value != "migrate" {
				return fmt.Errorf("line %d: store.%s: unknown key (want dsn, timeout, sync, migrate)", k.Line, k.Value)
			}
		}
		type plain StoreConfig // without this method
		return n.Decode((*plain)(s))
	}
	return fmt.Errorf("line %d: store: want a DSN string or a mapping with dsn, timeout, sync and migrate", n.Line)
}

// KeysConfig chooses the key-encryption-key provider.
type KeysConfig struct {
	// Keyring is the keyring file: the versioned key-encryption keys
	// (KEKs), each sealed by the root below. Default
	// <data_dir>/keyring.json. Replicas sharing a PostgreSQL store share
	// this file too (it holds no key in the clear).
	Keyring string `yaml:"keyring"`
	// PassphraseEnv names an environment variable holding the passphrase
	// that protects the keyring (through Argon2id, t=3, 64 MiB, p=4).
	PassphraseEnv string `yaml:"passphrase_env"`
	// KeyFile is a file (mode 0600 or 0400, checked) holding the 32-byte
	// key that protects the keyring, raw, hex or base64. When KMS,
	// PassphraseEnv and KeyFile are all empty, <data_dir>/master.key is
	// used, and generated (once, said on stderr) with a new keyring.
	KeyFile string `yaml:"key_file"`
	// KMS is a gocloud.dev/secrets URL whose key protects the keyring
	// instead: awskms://, gcpkms://, azurekeyvault://, hashivault://
	// (credentials from each provider's usual environment) or
	// base64key:// (a local key, for tests). Takes precedence over
	// PassphraseEnv and KeyFile. The KMS only ever sees KEKs.
	KMS string `yaml:"kms"`
	// CacheTTL bounds how long unwrapped data keys and restored values
	// stay in memory (erasures done elsewhere take effect here within
	// vault.invalidation_interval). Default 5m.
	CacheTTL Duration `yaml:"cache_ttl"`
}

// VaultConfig tunes the token vault.
type VaultConfig struct {
	// TTL is an optional retention per finding type (EMAIL_ADDRESS:
	// 720h): a value is no longer restorable that long after it was last
	// tokenized; `warden vault purge` deletes such rows. Default: kept
	// until forgotten or shredded.
	TTL map[string]Duration `yaml:"ttl"`
	// CacheSize bounds the in-memory restore cache and the value→token
	// cache (entries each). Default 100000.
	CacheSize int `yaml:"cache_size"`
	// InvalidationInterval bounds how long a process trusts what it
	// cached of a tenant before checking the store for erasures made
	// elsewhere (`warden vault forget|shred`, another replica): once an
	// erasure has returned, no process restores the erased values after
	// this long. PostgreSQL replicas are also told at once
	// (LISTEN/NOTIFY). 0 checks the store on every call. At most
	// keys.cache_ttl. Default 1s.
	InvalidationInterval *Duration `yaml:"invalidation_interval"`
}

// TransformConfig chooses de-identification operators.
type TransformConfig struct {
	// Default operator for types not listed: redact, placeholder, mask,
	// hash, tokenize, synthetic. Default tokenize.
	Default string `yaml:"default"`
	// Operators maps a finding type or category to an operator.
	Operators map[string]string `yaml:"operators"`
	// MaskKeep is how many trailing characters mask keeps. Default 4.
	MaskKeep int `yaml:"mask_keep"`
	// KeyEnv names an environment variable holding the key (hex or
	// base64, >= 32 bytes) for hash, synthetic and stateless tokenize.
	KeyEnv string `yaml:"key_env"`
}

// ServerConfig configures the gateway.
type ServerConfig struct {
	// Listen address. Default $WARDEN_LISTEN, else 127.0.0.1:8080.
	Listen string `yaml:"listen"`
	// TLS serves HTTPS; with client_ca it also verifies client
	// certificates (mTLS).
	TLS TLSConfig `yaml:"tls"`
	// MaxBodyBytes bounds a request body. Default 8 MiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxJSONDepth bounds request JSON nesting. Default 64.
	MaxJSONDepth int `yaml:"max_json_depth"`
	// UpstreamTimeout bounds an upstream call up to its first byte of a
	// stream (or its whole JSON answer). Default 120s.
	UpstreamTimeout Duration `yaml:"upstream_timeout"`
	// StreamIdleTimeout ends a stream that sends nothing for this long.
	// Default 120s.
	StreamIdleTimeout Duration `yaml:"stream_idle_timeout"`
	// MaxStreams bounds concurrent streamed responses. Default 1024.
	MaxStreams int `yaml:"max_streams"`
	// ShutdownTimeout is how long a stopping gateway waits for requests
	// and streams in flight. Default 30s.
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// Aliases maps model names callers use to upstream model names.
	Aliases map[string]string `yaml:"aliases"`
	// LeakOperator rewrites sensitive values in model output that were
	// not in the request. Default mask.
	LeakOperator string `yaml:"leak_operator"`
	// AuditFailOpen answers even when the audit log cannot record a
	// request. Default false: such requests fail with 503.
	AuditFailOpen bool `yaml:"audit_fail_open"`
	// AuditTimeout bounds the wait for one audit entry to be durable
	// (the intent before the upstream call, the completion before the
	// answer). Default 2s.
	AuditTimeout Duration `yaml:"audit_timeout"`
	// LeakTypes are the finding types and categories the response guard
	// rewrites when the model writes one the caller did not send: type
	// names, categories (SECRET, FINANCIAL, HEALTH, PII, NETWORK) or
	// GOVERNMENT_ID. Default [SECRET, FINANCIAL, HEALTH, GOVERNMENT_ID];
	// add EMAIL_ADDRESS or PHONE_NUMBER to guard those too. URLs, IP
	// addresses, names, places and dates are not guarded unless listed:
	// models write them in ordinary answers.
	LeakTypes []string `yaml:"leak_types"`
	// ReadHeaderTimeout bounds reading a request's headers. Default 10s.
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"`
	// MinBodyRate is the slowest a request body may arrive, in bytes per
	// second, after the first 5 seconds; slower bodies are refused (408),
	// so slow senders cannot hold connections. Default 16384.
	MinBodyRate int `yaml:"min_body_rate"`
	// IdleTimeout closes keep-alive connections idle this long. Default
	// 120s.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// WriteTimeout bounds each write to a caller: a JSON answer, or one
	// event of a stream, so a caller that stops reading frees its stream
	// slot. Default 60s.
	WriteTimeout Duration `yaml:"write_timeout"`
	// Limits are requests/min and tokens/min budgets.
	Limits LimitsConfig `yaml:"limits"`
	// LogLevel is debug, info, warn or error. Default info.
	LogLevel string `yaml:"log_level"`
	// RequireTLSZones are zones (onprem, …) whose upstreams and MCP
	// servers must be called over https://: a plain http:// one in such
	// a zone is refused at start, even on loopback and even with
	// insecure: true. Default none.
	RequireTLSZones []string `yaml:"require_tls_zones"`
	// CertReloadInterval is how often the certificate and key files
	// (server.tls and every tls.cert_file) and the CA bundles
	// (server.tls.client_ca and every tls.ca_file) are checked for a
	// change; a changed pair or bundle is loaded for new connections
	// without a restart (SIGHUP checks at once). Between 1s and 1h.
	// Default 5s.
	CertReloadInterval Duration `yaml:"cert_reload_interval"`
	// ConfigWatchInterval, when set, makes serve check the config file
	// this often and reload it when its content changed, as SIGHUP does
	// (policy, upstreams, detection, limits, MCP servers; see reload.go
	// for what needs a restart). Between 100ms and 1h. Default 0: reload
	// on SIGHUP only.
	ConfigWatchInterval Duration `yaml:"config_watch_interval"`
}

// AuditConfig tunes the audit log.
type AuditConfig struct {
	// Origin names the log in its checkpoints when its keys are first
	// generated. Default warden.audit/<random hex>.
	Origin string `yaml:"origin"`
	// QueueSize bounds entries waiting to be committed; when full,
	// requests fail closed (unless server.audit_fail_open). Default 65536.
	QueueSize int `yaml:"queue_size"`
	// Roles, when set, restricts /audit/ to callers holding one of them.
	// Default: readable by anyone who can reach the gateway (the log holds
	// no content, only keyed commitments and counts).
	Roles []string `yaml:"roles"`
}

// TLSConfig enables HTTPS and mTLS.
type TLSConfig struct {
	// CertFile and KeyFile are the gateway's certificate chain (leaf
	// first) and its key, PEM. Reloaded when they change (see
	// server.cert_reload_interval): connections made after a reload get
	// the new certificate, those open keep theirs.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ClientCA is a PEM bundle; when set, client certificates signed by
	// it are verified and map to principals (auth.mtls). Reloaded when it
	// changes, like cert_file. Default none.
	ClientCA string `yaml:"client_ca"`
}

// LimitsConfig holds rate limits. Without redis they are per process.
type LimitsConfig struct {
	// Redis is a redis:// URL; replicas sharing it share the limits.
	Redis string `yaml:"redis"`
	// Default applies to every principal without its own entry.
	Default Limit `yaml:"default"`
	// Principals maps a principal name to its limit.
	Principals map[string]Limit `yaml:"principals"`
	// Models maps a model to a limit shared by all its callers.
	Models map[string]Limit `yaml:"models"`
}

// Limit is a budget per minute; 0 means unlimited.
type Limit struct {
	RequestsPerMinute int `yaml:"requests_per_minute"`
	TokensPerMinute   int `yaml:"tokens_per_minute"`
}

// UpstreamConfig is one model provider endpoint.
type UpstreamConfig struct {
	// Name identifies the upstream in logs and audit records.
	Name string `yaml:"name"`
	// URL is the API base (https://api.openai.com/v1). Empty: the
	// built-in echo upstream, which answers with what it received.
	URL string `yaml:"url"`
	// KeyEnv names the environment variable holding the upstream's API
	// key; the gateway injects it, callers never see it.
	KeyEnv string `yaml:"key_env"`
	// Zone says where the upstream runs (onprem, cloud, …). Default cloud.
	Zone string `yaml:"zone"`
	// Models it serves; default ["*"] (any).
	Models []string `yaml:"models"`
	// RequireApproved refuses requests unless the model is registered and
	// approved in the model registry (`warden model register`).
	RequireApproved bool `yaml:"require_approved"`
	// Auth is the header the upstream's key goes in: bearer
	// (Authorization: Bearer, OpenAI and compatibles), x-api-key
	// (Anthropic) or api-key (Azure OpenAI). Default: x-api-key for
	// /v1/messages, bearer for the other APIs.
	Auth string `yaml:"auth"`
	// TLS is how the upstream is reached over https://: a private CA, a
	// client certificate (mTLS), the name to verify, the lowest version.
	// Default: the system roots, no client certificate, TLS 1.2.
	TLS ClientTLSConfig `yaml:"tls"`
	// Insecure allows a plain http:// URL to a host that is not
	// loopback (named in a warning at start). Default false: plain HTTP
	// only to localhost, 127.0.0.0/8 and ::1. It never turns off
	// certificate checks, and a zone of server.require_tls_zones refuses
	// plain HTTP regardless.
	Insecure bool `yaml:"insecure"`
}

// TelemetryConfig configures OpenTelemetry export.
type TelemetryConfig struct {
	// Traces sends a span per API request (gen_ai.* semantic
	// conventions; names, counts and decisions, never content) to an
	// OTLP/HTTP collector.
	Traces TracesConfig `yaml:"traces"`
	// GenAIGuardrails adds the OpenTelemetry GenAI guardrail conventions
	// to each traced request: an apply_guardrail span for the input
	// check and gen_ai.guardrail.result events (names and counts, never
	// values). The conventions are in development and their names may
	// change (gateway/guardrail.go). Default false.
	GenAIGuardrails bool `yaml:"genai_guardrails"`
}

// TracesConfig configures trace export. Traces are on when an endpoint
// is known.
type TracesConfig struct {
	// Endpoint is the collector's OTLP/HTTP base URL
	// (http://collector:4318); spans are POSTed, protobuf-encoded, to
	// <endpoint>/v1/traces (an endpoint already ending in /v1/traces is
	// used as is). Default: $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (the full
	// URL), else $OTEL_EXPORTER_OTLP_ENDPOINT (a base URL), else empty:
	// no traces. The exporter reads the other OTEL_EXPORTER_OTLP_*
	// variables (headers, certificate, compression, timeout) itself.
	Endpoint string `yaml:"endpoint"`
	// SampleRatio is the share of requests traced, between 0 and 1, for
	// callers that send no traceparent; a caller's traceparent decides
	// for its own requests (parent-based sampling). Default (0 or unset)
	// 1: every request.
	SampleRatio float64 `yaml:"sample_ratio"`
	// ServiceName is the service.name of the spans. Default
	// $OTEL_SERVICE_NAME, else warden.
	ServiceName string `yaml:"service_name"`

	url    string // where spans are POSTed, from Endpoint or the environment
	source string // the key or variable url came from, for messages
	// exporter, set by tests, receives the spans instead of a collector.
	exporter sdktrace.SpanExporter
}

// Duration is a time.Duration written as "5m" in YAML.
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 90s or 5m", n.Line, s)
	}
	*d = Duration(v)
	return nil
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// expandEnv replaces ${VAR} and ${VAR:-default}. An unset variable with
// no default expands to "".
func expandEnv(b []byte, getenv func(string) string) []byte {
	return envRef.ReplaceAllFunc(b, func(m []byte) []byte {
		sub := envRef.FindSubmatch(m)
		if v := getenv(string(sub[1])); v != "" {
			return []byte(v)
		}
		return sub[3]
	})
}

// loadConfig reads and validates a config file. An empty path gives the
// defaults. Errors name the file, the line and the key.
func loadConfig(path string, getenv func(string) string) (*Config, error) {
	cfg := &Config{path: path}
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(expandEnv(raw, getenv)))
		dec.KnownFields(true)
		if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("config %s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
		}
	}
	cfg.applyDefaults(getenv)
	return cfg, cfg.validate()
}

func (c *Config) applyDefaults(getenv func(string) string) {
	if c.DataDir == "" {
		c.DataDir = getenv("WARDEN_DATA_DIR")
	}
	if c.DataDir == "" {
		c.DataDir = "warden-data"
	}
	if c.Keys.Keyring == "" {
		c.Keys.Keyring = filepath.Join(c.DataDir, "keyring.json")
	}
	if c.Keys.CacheTTL == 0 {
		c.Keys.CacheTTL = Duration(5 * time.Minute)
	}
	if c.Vault.CacheSize == 0 {
		c.Vault.CacheSize = 100000
	}
	if c.Vault.InvalidationInterval == nil {
		d := Duration(vault.DefaultInvalidationInterval)
		c.Vault.InvalidationInterval = &d
	}
	if c.Store.Timeout == 0 {
		c.Store.Timeout = Duration(store.DefaultTimeout)
	}
	if c.Transform.Default == "" {
		c.Transform.Default = "tokenize"
	}
	if c.Transform.MaskKeep == 0 {
		c.Transform.MaskKeep = 4
	}
	if c.Server.Listen == "" {
		c.Server.Listen = getenv("WARDEN_LISTEN")
	}
	if c.Server.Listen == "" {
		c.Server.Listen = "127.0.0.1:8080"
	}
	c.Telemetry.Traces.applyDefaults(getenv)
}

// applyDefaults finds where spans go, following the OTLP exporter
// conventions: a signal-specific variable is the full URL, the general
// one a base URL.
func (t *TracesConfig) applyDefaults(getenv func(string) string) {
	switch {
	case t.Endpoint != "":
		t.url, t.source = tracesURL(t.Endpoint), "telemetry.traces.endpoint"
	case getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "":
		t.url, t.source = getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	case getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "":
		t.url, t.source = tracesURL(getenv("OTEL_EXPORTER_OTLP_ENDPOINT")), "OTEL_EXPORTER_OTLP_ENDPOINT"
	}
	if t.SampleRatio == 0 {
		t.SampleRatio = 1
	}
	if t.ServiceName == "" {
		t.ServiceName = getenv("OTEL_SERVICE_NAME")
	}
	if t.ServiceName == "" {
		t.ServiceName = "warden"
	}
}

// tracesURL is the OTLP/HTTP traces URL of a collector base URL.
func tracesURL(base string) string {
	base = strings.TrimRight(base, "/")
	if strings.HasSuffix(base, "/v1/traces") {
		return base
	}
	return base + "/v1/traces"
}

func (c *Config) validate() error {
	where := "config"
	if c.path != "" {
		where = "config " + c.path
	}
	if d := c.Store.DSN; d != "" && !strings.HasPrefix(d, "sqlite:") && !strings.HasPrefix(d, "postgres://") && !strings.HasPrefix(d, "postgresql://") {
		return fmt.Errorf("%s: store: want empty, sqlite:PATH or postgres://…, got a value of another form", where)
	}
	if t := time.Duration(c.Store.Timeout); t < 10*time.Millisecond || t > time.Minute {
		return fmt.Errorf("%s: store.timeout: %s is not between 10ms and 1m", where, t)
	}
	switch c.Store.Sync {
	case "", "full", "normal":
	default:
		return fmt.Errorf("%s: store.sync: %q is not full or normal", where, c.Store.Sync)
	}
	switch c.Store.Migrate {
	case "", store.MigrateAuto, store.MigrateOff:
	default:
		return fmt.Errorf("%s: store.migrate: %q is not auto or off", where, c.Store.Migrate)
	}
	if c.Vault.CacheSize < 0 {
		return fmt.Errorf("%s: vault.cache_size: must not be negative", where)
	}
	if i := time.Duration(*c.Vault.InvalidationInterval); i < 0 || i > time.Duration(c.Keys.CacheTTL) {
		return fmt.Errorf("%s: vault.invalidation_interval: %s is not between 0 and keys.cache_ttl (%s)", where, i, time.Duration(c.Keys.CacheTTL))
	}
	if c.Transform.MaskKeep < 0 {
		return fmt.Errorf("%s: transform.mask_keep: must not be negative", where)
	}
	for i, u := range c.Upstreams {
		if u.Name == "" {
			return fmt.Errorf("%s: upstreams[%d].name: empty", where, i)
		}
		if u.URL != "" && !strings.HasPrefix(u.URL, "http://") && !strings.HasPrefix(u.URL, "https://") {
			return fmt.Errorf("%s: upstreams[%d].url: want an http:// or https:// URL (upstream %s)", where, i, u.Name)
		}
		switch u.Auth {
		case "", "bearer", "x-api-key", "api-key":
		default:
			return fmt.Errorf("%s: upstreams[%d].auth: %q is not bearer, x-api-key or api-key", where, i, u.Auth)
		}
	}
	if c.Server.MinBodyRate < 0 {
		return fmt.Errorf("%s: server.min_body_rate: must not be negative", where)
	}
	if c.Server.MaxBodyBytes > 1<<30 {
		return fmt.Errorf("%s: server.max_body_bytes: at most 1 GiB", where)
	}
	for i, t := range c.Server.LeakTypes {
		if t == "" || strings.ToUpper(t) != t {
			return fmt.Errorf("%s: server.leak_types[%d]: want a finding type or category in upper case (EMAIL_ADDRESS, SECRET, GOVERNMENT_ID)", where, i)
		}
	}
	switch c.Server.LogLevel {
	case "", "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("%s: server.log_level: %q is not one of debug, info, warn, error", where, c.Server.LogLevel)
	}
	if (c.Server.TLS.CertFile == "") != (c.Server.TLS.KeyFile == "") {
		return fmt.Errorf("%s: server.tls: cert_file and key_file go together", where)
	}
	if c.Server.TLS.ClientCA != "" && c.Server.TLS.CertFile == "" {
		return fmt.Errorf("%s: server.tls.client_ca: needs cert_file and key_file (mTLS is served over HTTPS)", where)
	}
	for i, z := range c.Server.RequireTLSZones {
		if z == "" {
			return fmt.Errorf("%s: server.require_tls_zones[%d]: empty", where, i)
		}
	}
	if d := time.Duration(c.Server.CertReloadInterval); d != 0 && (d < time.Second || d > time.Hour) {
		return fmt.Errorf("%s: server.cert_reload_interval: %s is not between 1s and 1h", where, d)
	}
	if d := time.Duration(c.Server.ConfigWatchInterval); d != 0 && (d < 100*time.Millisecond || d > time.Hour) {
		return fmt.Errorf("%s: server.config_watch_interval: %s is not between 100ms and 1h", where, d)
	}
	for i, u := range c.Upstreams {
		if u.URL == "" {
			if !u.TLS.isZero() || u.Insecure {
				return fmt.Errorf("%s: upstreams[%d]: tls and insecure need a url (upstream %s is the built-in echo)", where, i, u.Name)
			}
			continue
		}
		zone := u.Zone
		if zone == "" {
			zone = "cloud"
		}
		if err := checkTransport(fmt.Sprintf("upstreams[%d]", i), "upstream "+u.Name, u.URL, zone, u.Insecure, u.TLS, c.Server.RequireTLSZones); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
	}
	if t := c.Telemetry.Traces; t.url != "" {
		// The URL is not echoed: collector URLs may carry credentials.
		if u, err := url.Parse(t.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s: %s: want the http:// or https:// URL of an OTLP/HTTP collector", where, t.source)
		}
	}
	if r := c.Telemetry.Traces.SampleRatio; !(r >= 0 && r <= 1) {
		return fmt.Errorf("%s: telemetry.traces.sample_ratio: want a number between 0 and 1", where)
	}
	if err := c.Console.validate(where); err != nil {
		return err
	}
	if err := c.Alerts.validate(where, c.Server.RequireTLSZones); err != nil {
		return err
	}
	return c.MCP.validate(where, c.Server.RequireTLSZones)
}

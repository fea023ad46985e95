package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/wardenhq/warden/detect"
)

// Config is Warden's one configuration file. Every field's zero value is
// the documented default. Strings may use ${VAR} and ${VAR:-default}
// environment expansion.
type Config struct {
	// DataDir holds the embedded database and the local keyring.
	// Default ./warden-data.
	DataDir string `yaml:"data_dir"`
	// Store is empty for SQLite under DataDir, "sqlite:PATH" for another
	// SQLite file, or a postgres:// URL for several gateway replicas.
	Store string `yaml:"store"`
	// Keys chooses where key-encryption keys come from.
	Keys KeysConfig `yaml:"keys"`
	// Vault tunes the token vault.
	Vault VaultConfig `yaml:"vault"`
	// Detect tunes the detection engine.
	Detect detect.Config `yaml:"detect"`
	// Transform chooses the de-identification operator per type.
	Transform TransformConfig `yaml:"transform"`
	// Server configures `warden serve`.
	Server ServerConfig `yaml:"server"`
	// Upstreams are the models the gateway may call.
	Upstreams []UpstreamConfig `yaml:"upstreams"`

	path string // file the config was read from, for messages
}

// KeysConfig chooses the key-encryption-key provider.
type KeysConfig struct {
	// Keyring is the local keyring file. Default <data_dir>/keyring.json.
	Keyring string `yaml:"keyring"`
	// PassphraseEnv names an environment variable holding the keyring
	// passphrase. When empty and KeyFile is empty, a random key file is
	// generated in the data directory.
	PassphraseEnv string `yaml:"passphrase_env"`
	// KeyFile is a file (mode 0600) holding a 32-byte key-encryption key.
	// Default <data_dir>/master.key when no passphrase is configured.
	KeyFile string `yaml:"key_file"`
	// KMS is a gocloud.dev/secrets URL (awskms://, gcpkms://,
	// azurekeyvault://, hashivault://, base64key://). When set it wraps
	// data keys instead of the local keyring.
	KMS string `yaml:"kms"`
	// CacheTTL bounds how long unwrapped data keys stay in memory.
	// Default 5m.
	CacheTTL Duration `yaml:"cache_ttl"`
}

// VaultConfig tunes the token vault.
type VaultConfig struct {
	// TTL is an optional retention per finding type ("720h"); tokens
	// older than that are no longer restorable.
	TTL map[string]Duration `yaml:"ttl"`
	// CacheSize bounds the in-memory restore cache (entries). Default 100000.
	CacheSize int `yaml:"cache_size"`
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
	// Listen address. Default 127.0.0.1:8080.
	Listen string `yaml:"listen"`
}

// UpstreamConfig is one model provider endpoint.
type UpstreamConfig struct {
	Name   string   `yaml:"name"`
	URL    string   `yaml:"url"`
	KeyEnv string   `yaml:"key_env"`
	Zone   string   `yaml:"zone"`
	Models []string `yaml:"models"`
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
	cfg.applyDefaults()
	return cfg, cfg.validate()
}

func (c *Config) applyDefaults() {
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
	if c.Transform.Default == "" {
		c.Transform.Default = "tokenize"
	}
	if c.Transform.MaskKeep == 0 {
		c.Transform.MaskKeep = 4
	}
	if c.Server.Listen == "" {
		c.Server.Listen = "127.0.0.1:8080"
	}
}

func (c *Config) validate() error {
	where := "config"
	if c.path != "" {
		where = "config " + c.path
	}
	if c.Store != "" && !strings.HasPrefix(c.Store, "sqlite:") && !strings.HasPrefix(c.Store, "postgres://") && !strings.HasPrefix(c.Store, "postgresql://") {
		return fmt.Errorf("%s: store: want empty, sqlite:PATH or postgres://…, got a value of another form", where)
	}
	if c.Vault.CacheSize < 0 {
		return fmt.Errorf("%s: vault.cache_size: must not be negative", where)
	}
	if c.Transform.MaskKeep < 0 {
		return fmt.Errorf("%s: transform.mask_keep: must not be negative", where)
	}
	for i, u := range c.Upstreams {
		if u.Name == "" {
			return fmt.Errorf("%s: upstreams[%d].name: empty", where, i)
		}
		if u.URL == "" {
			return fmt.Errorf("%s: upstreams[%d].url: empty (upstream %s)", where, i, u.Name)
		}
	}
	return nil
}

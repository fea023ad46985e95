package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestVaultCLIErasureIsFinalForARunningGateway erases through `warden
// vault forget` and `warden vault shred` (each its own store handle and
// caches, as a separate process) while a long-lived vault (the running
// gateway's) has the values cached: after vault.invalidation_interval
// the gateway's vault refuses them, and tokenizing again stores the
// value again (forget) or issues a new token (shred).
func TestVaultCLIErasureIsFinalForARunningGateway(t *testing.T) {
	const interval = 100 * time.Millisecond
	dir := t.TempDir()
	conf := filepath.Join(dir, "warden.yaml")
	if err := os.WriteFile(conf, []byte("data_dir: "+filepath.Join(dir, "data")+"\nvault:\n  invalidation_interval: 100ms\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(conf, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := &cli{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, getenv: func(string) string { return "" }}
	gw, closeGW, err := openVault(ctx, cfg, c)
	if err != nil {
		t.Fatal(err)
	}
	defer closeGW()
	tn := gw.Tenant("acme")
	token := func(value string) string {
		t.Helper()
		tok, err := tn.Token(ctx, "US_SSN", value)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	restore := func(text string) string {
		t.Helper()
		out, _, err := tn.Restore(ctx, text)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	forgotten, shredded := token("078-05-1120"), token("219-09-9999")
	if got := restore(forgotten + " " + shredded); got != "078-05-1120 219-09-9999" {
		t.Fatalf("before erasure: %q", got)
	}

	if code, _, stderr := cliRun(t, nil, "", "vault", "forget", "--config", conf, "--tenant", "acme", "--token", forgotten); code != 0 {
		t.Fatalf("vault forget: %d %s", code, stderr)
	}
	time.Sleep(interval)
	if got := restore(forgotten); got != forgotten {
		t.Fatalf("the gateway restores a forgotten value %v after `vault forget`", interval)
	}
	if again := token("078-05-1120"); again != forgotten {
		t.Fatalf("re-tokenized as %s, want %s", again, forgotten)
	}
	// Stored again, not just re-issued from the gateway's cache: another
	// process restores it.
	if code, out, stderr := cliRun(t, nil, forgotten, "restore", "--config", conf, "--tenant", "acme"); code != 0 || out != "078-05-1120" {
		t.Fatalf("restore by another process after re-tokenizing: %d %q %s", code, out, stderr)
	}

	if code, _, stderr := cliRun(t, nil, "", "vault", "shred", "--config", conf, "--tenant", "acme", "--yes"); code != 0 {
		t.Fatalf("vault shred: %d %s", code, stderr)
	}
	time.Sleep(interval)
	if got := restore(shredded + " " + forgotten); got != shredded+" "+forgotten {
		t.Fatalf("the gateway restores %q %v after `vault shred`", got, interval)
	}
	if again := token("219-09-9999"); again == shredded {
		t.Fatal("the gateway re-issued a token of the shredded tenant")
	}
}

func TestStoreAndInvalidationConfig(t *testing.T) {
	cases := []struct {
		name    string
		yaml    string
		wantErr string // "" = valid
		check   func(t *testing.T, c *Config)
	}{
		{"defaults", "", "", func(t *testing.T, c *Config) {
			if time.Duration(c.Store.Timeout) != 2*time.Second || time.Duration(*c.Vault.InvalidationInterval) != time.Second {
				t.Fatalf("store.timeout %v, vault.invalidation_interval %v", c.Store.Timeout, *c.Vault.InvalidationInterval)
			}
		}},
		{"store as a string", "store: sqlite:/tmp/w.db\n", "", func(t *testing.T, c *Config) {
			if c.Store.DSN != "sqlite:/tmp/w.db" {
				t.Fatalf("dsn %q", c.Store.DSN)
			}
		}},
		{"store as a mapping", "store:\n  dsn: postgres://db/warden\n  timeout: 750ms\n", "", func(t *testing.T, c *Config) {
			if c.Store.DSN != "postgres://db/warden" || time.Duration(c.Store.Timeout) != 750*time.Millisecond {
				t.Fatalf("store %+v", c.Store)
			}
		}},
		{"invalidation interval 0 checks every call", "vault:\n  invalidation_interval: 0s\n", "", func(t *testing.T, c *Config) {
			if *c.Vault.InvalidationInterval != 0 {
				t.Fatalf("interval %v", *c.Vault.InvalidationInterval)
			}
		}},
		{"unknown store key", "store:\n  dsn: sqlite:/tmp/w.db\n  timeuot: 1s\n", "line 3: store.timeuot: unknown key", nil},
		{"store timeout too short", "store:\n  timeout: 1ms\n", "store.timeout: 1ms is not between 10ms and 1m", nil},
		{"store timeout not a duration", "store:\n  timeout: soon\n", "line 2", nil},
		{"store DSN of another form", "store:\n  dsn: mysql://x\n", "store: want empty, sqlite:PATH or postgres://", nil},
		{"negative invalidation interval", "vault:\n  invalidation_interval: -1s\n", "vault.invalidation_interval: -1s is not between 0 and keys.cache_ttl", nil},
		{"invalidation interval above the key cache", "keys:\n  cache_ttl: 1m\nvault:\n  invalidation_interval: 2m\n", "vault.invalidation_interval: 2m0s is not between 0 and keys.cache_ttl (1m0s)", nil},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "w.yaml")
			if err := os.WriteFile(path, []byte(c.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := loadConfig(path, func(string) string { return "" })
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, cfg)
		})
	}
}

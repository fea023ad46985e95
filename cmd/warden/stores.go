package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"gocloud.dev/secrets"
	// KMS providers for keys.kms, by URL scheme. Each reads credentials
	// the provider's usual way (AWS_* / shared config, Application
	// Default Credentials, Azure environment or managed identity,
	// VAULT_ADDR and VAULT_TOKEN); see gocloud.dev/howto/secrets.
	_ "gocloud.dev/secrets/awskms"        // awskms://KEY-ID-OR-ALIAS?region=R
	_ "gocloud.dev/secrets/azurekeyvault" // azurekeyvault://VAULT.vault.azure.net/keys/NAME
	_ "gocloud.dev/secrets/gcpkms"        // gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K
	_ "gocloud.dev/secrets/hashivault"    // hashivault://TRANSIT-KEY-NAME
	_ "gocloud.dev/secrets/localsecrets"  // base64key://BASE64-32-BYTES (tests, local demos)

	"github.com/wardenhq/warden/keys"
	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/vault"
)

// storeDSN is the store the config names: SQLite under data_dir unless
// store says otherwise.
func storeDSN(cfg *Config) string {
	if cfg.Store.DSN == "" {
		return "sqlite:" + filepath.Join(cfg.DataDir, "warden.db")
	}
	return cfg.Store.DSN
}

// openStore opens the configured database and migrates it (or, with
// store.migrate off, checks that it is current).
func openStore(ctx context.Context, cfg *Config) (*store.DB, error) {
	return openStoreMode(ctx, cfg, cfg.Store.Migrate)
}

// openStoreMode opens the configured database with the schema handled
// as mode says (store.MigrateAuto, MigrateOff or MigrateManual).
func openStoreMode(ctx context.Context, cfg *Config, mode string) (*store.DB, error) {
	return store.Open(ctx, storeDSN(cfg), store.Options{Timeout: time.Duration(cfg.Store.Timeout), Sync: cfg.Store.Sync, Migrate: mode})
}

// openKeyring opens (creating on first use) the keyring the config
// names, and says once on stderr when it generated a key file or a new
// keyring. The returned closer releases a KMS keeper.
//
// Root, in order: keys.kms (a gocloud.dev/secrets URL), else the
// passphrase in the variable keys.passphrase_env, else keys.key_file,
// else <data_dir>/master.key, generated (mode 0600) with a new keyring.
func openKeyring(ctx context.Context, cfg *Config, c *cli) (*keys.Keyring, func() error, error) {
	root, keeper, err := keyRoot(ctx, cfg, c)
	if err != nil {
		return nil, nil, err
	}
	closer := func() error { return nil }
	if keeper != nil {
		closer = keeper.Close
	}
	kr, err := keys.Open(ctx, keys.Options{Path: cfg.Keys.Keyring, Root: root, Create: true})
	if err != nil {
		closer()
		return nil, nil, err
	}
	if f := kr.GeneratedKeyFile(); f != "" {
		fmt.Fprintf(c.stderr, "warden: generated key file %s (mode 0600) for the new keyring %s; back it up: without it nothing in the vault can be restored\n", f, kr.Path())
	} else if kr.Created() {
		fmt.Fprintf(c.stderr, "warden: created keyring %s\n", kr.Path())
	}
	return kr, closer, nil
}

// keyRoot is the root protecting the keyring the config names (the
// order openKeyring says), and the KMS keeper behind it: nil unless
// keys.kms is set; the caller closes it.
func keyRoot(ctx context.Context, cfg *Config, c *cli) (keys.Root, *secrets.Keeper, error) {
	switch {
	case cfg.Keys.KMS != "":
		k, err := secrets.OpenKeeper(ctx, cfg.Keys.KMS)
		if err != nil {
			// The URL may embed a key (base64key://): do not echo it.
			scheme, _, _ := strings.Cut(cfg.Keys.KMS, "://")
			return keys.Root{}, nil, fmt.Errorf("keys.kms: cannot open the %s:// keeper (is the scheme one of base64key, awskms, gcpkms, azurekeyvault, hashivault?)", scheme)
		}
		return keys.KMS(k), k, nil
	case cfg.Keys.PassphraseEnv != "":
		p := c.getenv(cfg.Keys.PassphraseEnv)
		if p == "" {
			return keys.Root{}, nil, fmt.Errorf("keys.passphrase_env: the variable %s is empty or unset", cfg.Keys.PassphraseEnv)
		}
		return keys.Passphrase([]byte(p), keys.Argon2Params{}), nil, nil
	case cfg.Keys.KeyFile != "":
		return keys.KeyFile(cfg.Keys.KeyFile, false), nil, nil
	}
	return keys.KeyFile(filepath.Join(cfg.DataDir, "master.key"), true), nil, nil
}

// openVault opens the store, the keyring and the token vault the config
// names; call the returned function to close them. It prints the
// one-time notice when it generates a key file. Tokenize and restore
// through v.Tenant(name), which implements transform.Tokenizer,
// transform.Revealer and transform.BatchRevealer (and TokenBatch for
// many values in one transaction).
func openVault(ctx context.Context, cfg *Config, c *cli) (*vault.Vault, func() error, error) {
	db, err := openStore(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	kr, closeKeys, err := openKeyring(ctx, cfg, c)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	v, err := newVault(cfg, db, kr)
	if err != nil {
		closeKeys()
		db.Close()
		return nil, nil, err
	}
	return v, func() error { return errors.Join(closeKeys(), db.Close()) }, nil
}

// newVault builds the token vault on an open store and keyring.
func newVault(cfg *Config, db *store.DB, kr *keys.Keyring) (*vault.Vault, error) {
	ttl := make(map[string]time.Duration, len(cfg.Vault.TTL))
	for typ, d := range cfg.Vault.TTL {
		ttl[typ] = time.Duration(d)
	}
	every := time.Duration(*cfg.Vault.InvalidationInterval)
	if every == 0 {
		every = -1 // vault.Config: negative checks on every call
	}
	v, err := vault.New(vault.Config{
		Store:                db,
		Keyring:              kr,
		KeyCacheTTL:          time.Duration(cfg.Keys.CacheTTL),
		CacheSize:            cfg.Vault.CacheSize,
		TTL:                  ttl,
		InvalidationInterval: every,
	})
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	return v, nil
}

// vaultFlags is the flag set of the keys, vault and restore commands:
// help goes to stderr and --config is always there.
func vaultFlags(c *cli, name, help string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	cfg := fs.String("config", "", "config `file` (default: built-in defaults, data in ./warden-data)")
	fs.Usage = func() { fmt.Fprint(c.stderr, help); fs.PrintDefaults() }
	return fs, cfg
}

// parseVaultFlags parses args; done reports that the command should
// return code at once (help or a flag error).
func parseVaultFlags(fs *flag.FlagSet, args []string) (code int, done bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, true
		}
		return exitUsage, true
	}
	return 0, false
}

// configOrExit loads the config; on error it prints and returns false.
func configOrExit(c *cli, cmd, path string) (*Config, bool) {
	cfg, err := loadConfig(path, c.getenv)
	if err != nil {
		fmt.Fprintf(c.stderr, "warden %s: %v\n", cmd, err)
		return nil, false
	}
	return cfg, true
}

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/go-redis/v9"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/keys"
	"github.com/wardenhq/warden/store"
)

const doctorHelp = `usage: warden doctor [--config FILE] [--json] [--timeout 5s]

Checks what a gateway with this config depends on and prints one line per
check, OK, WARN or FAIL, with what to fix:

  config        parses and validates
  store         opens; schema current; a write commits; free disk (SQLite)
  keys          the keyring opens with its root (key file, passphrase or
                KMS) and wraps and unwraps a throwaway value; a KMS
                completes an encrypt/decrypt round trip
  audit         the log's signer key unwraps; its latest checkpoint
                verifies and the stored tree matches it
  upstreams     TCP and TLS connect, then GET <url>/models with the
                configured key; plain http:// off this machine is flagged
  redis, mcp    reachable (server.limits.redis; mcp.servers)
  clock         skew against PostgreSQL's now() and upstreams' Date
                headers: WARN over 2s, FAIL over 30s (token lifetimes,
                OIDC and audit times depend on it)
  certificates  what 'warden tls check' reads: readable, unexpired
                (WARN within 30 days of expiry)

It changes nothing but the store's health row (the write check); it
never creates a database, keyring or key. No key, password, token or DSN
password is printed.

Exit codes: 0 no check failed (WARNs allowed), 1 a check failed (the
config included), 2 usage error.

Flags:
`

// Doctor check outcomes.
const (
	statusOK   = "OK"
	statusWarn = "WARN"
	statusFail = "FAIL"
)

// Clock skew bounds of `warden doctor`.
const (
	skewWarn = 2 * time.Second
	skewFail = 30 * time.Second
)

// doctorCheck is one line of `warden doctor`.
type doctorCheck struct {
	Name    string `json:"name"`
	Status  string `json:"status"`
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

// clockSample is another machine's clock as seen from here.
type clockSample struct {
	source string
	skew   time.Duration // theirs minus ours
	within time.Duration // how precise the sample is
}

type doctor struct {
	c       *cli
	cfg     *Config
	cfgFlag string // " --config FILE" for hints, or ""
	timeout time.Duration
	checks  []doctorCheck
	clocks  []clockSample
	// dial connects to upstreams and MCP servers (tests point it at
	// loopback servers standing in for other hosts).
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

func newDoctor(c *cli, configPath string, timeout time.Duration) *doctor {
	d := &doctor{c: c, timeout: timeout, dial: (&net.Dialer{}).DialContext}
	if configPath != "" {
		d.cfgFlag = " --config " + configPath
	}
	return d
}

func (d *doctor) add(name, status, msg, fix string) {
	d.checks = append(d.checks, doctorCheck{Name: name, Status: status, Message: msg, Fix: fix})
}

// runDoctor is `warden doctor`.
func runDoctor(ctx context.Context, c *cli, args []string) int {
	flags, configPath := vaultFlags(c, "doctor", doctorHelp)
	asJSON := flags.Bool("json", false, "print JSON")
	timeout := flags.Duration("timeout", 5*time.Second, "bound of each network check")
	if code, done := parseVaultFlags(flags, args); done {
		return code
	}
	if flags.NArg() > 0 || *timeout <= 0 {
		fmt.Fprintln(c.stderr, "warden doctor: unexpected argument (or a --timeout that is not positive)")
		return exitUsage
	}
	d := newDoctor(c, *configPath, *timeout)
	d.run(ctx, *configPath)
	return d.report(*asJSON)
}

func (d *doctor) run(ctx context.Context, configPath string) {
	cfg, err := loadConfig(configPath, d.c.getenv)
	if err != nil {
		d.add("config", statusFail, err.Error(), "fix the key the message names; every other check needs a valid config")
		return
	}
	d.cfg = cfg
	what := "built-in defaults (no --config)"
	if configPath != "" {
		what = configPath
	}
	d.add("config", statusOK, what+" parses and validates", "")

	db, schema := d.checkStore(ctx)
	if db != nil {
		defer db.Close()
	}
	kr, closeKeys := d.checkKeys(ctx, db, schema)
	defer closeKeys()
	d.checkAudit(ctx, db, schema, kr)
	d.checkNetwork(ctx)
	d.checkClock()
	d.checkCertificates(ctx)
}

func (d *doctor) report(asJSON bool) int {
	n := map[string]int{}
	for _, ch := range d.checks {
		n[ch.Status]++
	}
	if asJSON {
		writeJSON(d.c, struct {
			OK     bool           `json:"ok"`
			Counts map[string]int `json:"counts"`
			Checks []doctorCheck  `json:"checks"`
		}{n[statusFail] == 0, map[string]int{"ok": n[statusOK], "warn": n[statusWarn], "fail": n[statusFail]}, d.checks})
	} else {
		for _, ch := range d.checks {
			line := fmt.Sprintf("%-4s  %s: %s", ch.Status, ch.Name, ch.Message)
			if ch.Fix != "" {
				line += " — fix: " + ch.Fix
			}
			fmt.Fprintln(d.c.stdout, line)
		}
		fmt.Fprintf(d.c.stdout, "%d checks: %d OK, %d WARN, %d FAIL\n", len(d.checks), n[statusOK], n[statusWarn], n[statusFail])
	}
	if n[statusFail] > 0 {
		return exitFailure
	}
	return exitOK
}

// migrateMode is store.migrate with its default.
func (d *doctor) migrateMode() string {
	if d.cfg.Store.Migrate == "" {
		return store.MigrateAuto
	}
	return d.cfg.Store.Migrate
}

// checkStore opens the store without touching its schema and checks
// it; db is nil when it cannot be opened (or does not exist yet).
func (d *doctor) checkStore(ctx context.Context) (*store.DB, store.Schema) {
	dsn := storeDSN(d.cfg)
	shown := redactDSN(dsn)
	mode := d.migrateMode()
	migrateFix := "run 'warden migrate" + d.cfgFlag + "'"
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			if mode == store.MigrateOff {
				d.add("store", statusFail, shown+" does not exist, and store.migrate is off: serve would refuse to start", migrateFix+" to create and migrate it")
			} else {
				d.add("store", statusWarn, shown+" does not exist yet: serve creates and migrates it at start", migrateFix+" to create it now")
			}
			d.checkDisk(path)
			return nil, store.Schema{}
		}
	}
	octx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	db, err := openStoreMode(octx, d.cfg, store.MigrateManual)
	if err != nil {
		d.add("store", statusFail, "cannot open "+shown+": "+dsnSafe(err, dsn), storeFix(err, dsn))
		if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
			d.checkDisk(path)
		}
		return nil, store.Schema{}
	}
	what := "opens"
	if db.Engine() == store.Postgres {
		var v string
		if db.Read().QueryRowContext(octx, "SHOW server_version").Scan(&v) == nil {
			what = "opens (PostgreSQL " + strings.Fields(v + " ?")[0] + ")"
		}
	}
	d.add("store", statusOK, shown+" "+what, "")

	s, err := db.Schema(octx)
	switch {
	case err != nil:
		d.add("store schema", statusFail, "cannot read schema_migrations: "+dsnSafe(store.Scrub(err), dsn), "check the store's permissions (the user needs to read and write Warden's tables)")
	case s.Newer():
		d.add("store schema", statusFail, s.Err().Error(), "upgrade warden: an older binary must not run on a schema a newer one migrated")
	case !s.Current():
		msg := fmt.Sprintf("at version %d, this binary needs %d: %d migration(s) pending, first %s", s.Version, s.Want, len(s.Pending), s.Pending[0])
		if mode == store.MigrateOff {
			d.add("store schema", statusFail, msg+"; store.migrate is off, so serve refuses to start", migrateFix)
		} else {
			d.add("store schema", statusWarn, msg+"; serve applies them at start (store.migrate: auto)", migrateFix+" to apply them now, before a rollout")
		}
	default:
		d.add("store schema", statusOK, fmt.Sprintf("at version %d (current; store.migrate: %s)", s.Version, mode), "")
	}
	d.checkWrite(octx, db, s, dsn)
	if db.Engine() == store.SQLite {
		d.checkDisk(db.Path())
	} else {
		d.sampleStoreClock(octx, db)
	}
	return db, s
}

// checkWrite proves the write path: the health row's update (as
// /readyz does) on a current schema, else that the store accepts
// writes at all; and on PostgreSQL that commits are durable.
func (d *doctor) checkWrite(ctx context.Context, db *store.DB, s store.Schema, dsn string) {
	if db.Engine() == store.Postgres {
		var ro, sc string
		if err := db.Read().QueryRowContext(ctx, "SELECT current_setting('transaction_read_only'), current_setting('synchronous_commit')").Scan(&ro, &sc); err != nil {
			d.add("store write", statusFail, "cannot read the session's settings: "+dsnSafe(store.Scrub(err), dsn), "check store.dsn and the user's rights")
			return
		}
		if ro == "on" {
			d.add("store write", statusFail, "the PostgreSQL session is read-only (a standby, or default_transaction_read_only)", "point store.dsn at the primary")
			return
		}
		if sc == "off" {
			d.add("store write", statusFail, "synchronous_commit is off: audit commits would not be durable, and serve refuses it", "set synchronous_commit to on (or local, remote_write) for Warden's role or database")
			return
		}
	}
	if !s.Current() {
		if db.Engine() == store.SQLite {
			if f, err := os.OpenFile(db.Path(), os.O_WRONLY, 0); err != nil {
				d.add("store write", statusFail, "the database file is not writable by this user", "fix the owner or mode of "+db.Path())
				return
			} else {
				f.Close()
			}
		}
		d.add("store write", statusOK, "the store accepts writes (the full write check runs once the schema is current)", "")
		return
	}
	start := time.Now()
	if err := db.CheckWrite(ctx); err != nil {
		d.add("store write", statusFail, dsnSafe(err, dsn), "check the disk, the database's permissions and that it is not locked by a stuck process")
		return
	}
	d.add("store write", statusOK, fmt.Sprintf("a write transaction committed in %s", shortDuration(time.Since(start))), "")
}

// checkDisk reports the free space for a SQLite database at path (or
// the nearest directory above it that exists).
func (d *doctor) checkDisk(path string) {
	dir := path
	for {
		if _, err := os.Stat(dir); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	free, err := store.FreeDisk(dir)
	switch {
	case err != nil:
		d.add("store disk", statusWarn, err.Error(), "check that data_dir exists and is readable")
	case free < store.DefaultMinFreeDisk:
		d.add("store disk", statusFail, fmt.Sprintf("%d MiB free for the database, below the %d MiB under which /readyz fails", free>>20, store.DefaultMinFreeDisk>>20), "free space on that file system or move data_dir")
	case free < 16*store.DefaultMinFreeDisk:
		d.add("store disk", statusWarn, fmt.Sprintf("%d MiB free for the database (/readyz fails below %d MiB)", free>>20, store.DefaultMinFreeDisk>>20), "free space on that file system or move data_dir")
	default:
		d.add("store disk", statusOK, fmt.Sprintf("%d MiB free for the database", free>>20), "")
	}
}

// storeFix says what to do about an error opening the store.
func storeFix(err error, dsn string) string {
	if strings.HasPrefix(dsn, "sqlite:") {
		return "check that data_dir (or the sqlite: path) is writable by this user and not on a full disk"
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "28P01", "28000":
			return "check the user and password of store.dsn (not shown) and pg_hba.conf"
		case "3D000":
			return "the database in store.dsn does not exist: create it, or fix the name"
		case "53300":
			return "PostgreSQL has no connection slots left: raise max_connections or lower the replicas' pools"
		}
		return "PostgreSQL refused the connection (SQLSTATE " + pe.Code + "): check store.dsn"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return "PostgreSQL did not answer in time: check the host in store.dsn, the network path and any firewall or NetworkPolicy"
	}
	return "is PostgreSQL running and reachable at the host and port of store.dsn from here?"
}

// sampleStoreClock compares this machine's clock with PostgreSQL's.
func (d *doctor) sampleStoreClock(ctx context.Context, db *store.DB) {
	var theirs time.Time
	t0 := time.Now()
	if err := db.Read().QueryRowContext(ctx, "SELECT now()").Scan(&theirs); err != nil {
		return
	}
	rtt := time.Since(t0)
	d.clocks = append(d.clocks, clockSample{source: "PostgreSQL now()", skew: theirs.Sub(t0.Add(rtt / 2)), within: rtt/2 + time.Millisecond})
}

// keyringRootName says which root protects the keyring, for messages.
func keyringRootName(cfg *Config) string {
	switch {
	case cfg.Keys.KMS != "":
		scheme, _, _ := strings.Cut(cfg.Keys.KMS, "://")
		return "the " + scheme + ":// KMS key (keys.kms)"
	case cfg.Keys.PassphraseEnv != "":
		return "the passphrase in $" + cfg.Keys.PassphraseEnv + " (keys.passphrase_env)"
	case cfg.Keys.KeyFile != "":
		return "the key file " + cfg.Keys.KeyFile + " (keys.key_file)"
	}
	return "the key file " + filepath.Join(cfg.DataDir, "master.key")
}

// checkKeys opens the keyring (never creating it) and proves its root
// and, with keys.kms, the KMS work. The closer releases the KMS keeper.
func (d *doctor) checkKeys(ctx context.Context, db *store.DB, s store.Schema) (*keys.Keyring, func()) {
	noop := func() {}
	kctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	root, keeper, err := keyRoot(kctx, d.cfg, d.c)
	if err != nil {
		d.add("keys", statusFail, err.Error(), "set the variable or URL the message names")
		return nil, noop
	}
	closer := noop
	if keeper != nil {
		closer = func() { keeper.Close() }
		scheme, _, _ := strings.Cut(d.cfg.Keys.KMS, "://")
		secret := make([]byte, 32)
		rand.Read(secret)
		start := time.Now()
		ct, err := keeper.Encrypt(kctx, secret)
		var pt []byte
		if err == nil {
			pt, err = keeper.Decrypt(kctx, ct)
		}
		switch {
		case err != nil:
			d.add("keys kms", statusFail, "the "+scheme+":// KMS did not complete an encrypt/decrypt round trip: "+kmsSafe(err, d.cfg.Keys.KMS),
				"check the KMS credentials (the provider's usual environment), the key's permissions (encrypt and decrypt) and the network path to it")
		case !bytes.Equal(pt, secret):
			d.add("keys kms", statusFail, "the "+scheme+":// KMS decrypted a throwaway value to something else", "check keys.kms names one key")
		default:
			d.add("keys kms", statusOK, fmt.Sprintf("the %s:// KMS encrypted and decrypted a throwaway value in %s", scheme, shortDuration(time.Since(start))), "")
		}
		clear(secret)
		clear(pt)
	}
	path := d.cfg.Keys.Keyring
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if n := sealedKeys(ctx, db, s); n > 0 {
			d.add("keys", statusFail, fmt.Sprintf("keyring %s does not exist, but the store holds %d key(s) sealed by a keyring", path, n),
				"copy the keyring the other replicas use to keys.keyring (and its root: key file, passphrase or KMS key); a new keyring could not open them")
		} else {
			d.add("keys", statusWarn, "keyring "+path+" does not exist yet: serve creates it at first start, protected by "+keyringRootName(d.cfg),
				"start the gateway once (and back up what protects the keyring), or point keys.keyring at the shared keyring")
		}
		return nil, closer
	}
	kr, err := keys.Open(kctx, keys.Options{Path: path, Root: root})
	if err != nil {
		d.add("keys", statusFail, err.Error(), "use the root ("+keyringRootName(d.cfg)+") this keyring was created with")
		return nil, closer
	}
	tmp := keys.NewDataKey()
	wrapped, v, err := kr.Wrap(kctx, tmp, keys.AAD{Purpose: "doctor.round_trip"})
	var back []byte
	if err == nil {
		back, err = kr.Unwrap(kctx, wrapped, keys.AAD{Purpose: "doctor.round_trip"})
	}
	switch {
	case err != nil:
		d.add("keys", statusFail, "keyring "+path+" opens but a wrap/unwrap round trip failed: "+err.Error(), "run 'warden keys status"+d.cfgFlag+"'")
	case !bytes.Equal(back, tmp):
		d.add("keys", statusFail, "keyring "+path+" unwrapped a throwaway value to something else", "the keyring file is damaged: restore it from a backup")
	default:
		d.add("keys", statusOK, fmt.Sprintf("keyring %s opens with %s; KEK version %d wrapped and unwrapped a throwaway value", path, keyringRootName(d.cfg), v), "")
	}
	clear(tmp)
	clear(back)
	return kr, closer
}

// sealedKeys counts the keys in the store that a keyring sealed (the
// vault's data keys and the audit log's keys), 0 when unknown.
func sealedKeys(ctx context.Context, db *store.DB, s store.Schema) int {
	if db == nil || !s.Current() {
		return 0
	}
	var n int
	if err := db.Read().QueryRowContext(ctx, "SELECT (SELECT COUNT(*) FROM data_keys) + (SELECT COUNT(*) FROM audit_keys)").Scan(&n); err != nil {
		return 0
	}
	return n
}

// kmsSafe is a KMS error's message without the keys.kms URL (a
// base64key:// URL is the key itself).
func kmsSafe(err error, kmsURL string) string {
	msg := err.Error()
	scheme, rest, _ := strings.Cut(kmsURL, "://")
	if rest != "" {
		msg = strings.ReplaceAll(msg, kmsURL, scheme+"://…")
		msg = strings.ReplaceAll(msg, rest, "…")
	}
	return msg
}

// checkAudit checks that the log's keys unwrap and its latest
// checkpoint verifies against the stored tree.
func (d *doctor) checkAudit(ctx context.Context, db *store.DB, s store.Schema, kr *keys.Keyring) {
	switch {
	case db == nil:
		d.add("audit", statusWarn, "not checked: the store is not open (see above)", "fix the store check first")
		return
	case !s.Current():
		d.add("audit", statusWarn, "not checked: the store schema is not current (see above)", "fix the store schema check first")
		return
	case kr == nil:
		d.add("audit", statusWarn, "not checked: no keyring to unwrap the log's keys with (see above)", "fix the keys check first")
		return
	}
	actx, cancel := context.WithTimeout(ctx, 4*d.timeout)
	defer cancel()
	vkey, err := audit.VerifierKey(actx, db, kr, "", false)
	if errors.Is(err, audit.ErrNoKeys) {
		d.add("audit", statusWarn, "the log has no keys yet: the gateway generates them (and its origin) at first start", "start the gateway once; then 'warden audit key"+d.cfgFlag+"' prints the verifier key to keep elsewhere")
		return
	}
	if err != nil {
		d.add("audit", statusFail, "the log's signer key does not unwrap with this keyring: "+err.Error(),
			"use the keyring (and its root) the log was created with: every replica shares one keyring")
		return
	}
	origin, _, _ := strings.Cut(vkey, "+")
	size, err := audit.Size(actx, db)
	if err != nil {
		d.add("audit", statusFail, err.Error(), "check the store")
		return
	}
	cp, err := audit.LatestCheckpointOf(actx, db, vkey)
	switch {
	case errors.Is(err, audit.ErrNoCheckpoint) && size == 0:
		d.add("audit", statusOK, "signer key unwraps (origin "+origin+"); the log is empty", "")
		return
	case errors.Is(err, audit.ErrNoCheckpoint):
		d.add("audit", statusWarn, fmt.Sprintf("signer key unwraps (origin %s); %d entries but no checkpoint signed yet", origin, size), "a running gateway signs one within seconds; if none is running, start one")
		return
	case err != nil:
		d.add("audit", statusFail, "the latest checkpoint does not verify with the log's key: "+err.Error(), "run 'warden audit verify"+d.cfgFlag+"': the log or its keys were altered, or the keyring is another log's")
		return
	}
	if cp.Size == 0 {
		d.add("audit", statusOK, fmt.Sprintf("signer key unwraps (origin %s); the latest checkpoint (of the empty tree) verifies; %d entries since", origin, size), "")
		return
	}
	if _, err := audit.Prove(actx, db, cp.Size-1, cp); err != nil {
		d.add("audit", statusFail, fmt.Sprintf("the stored tree does not match the checkpoint of %d entries: %v", cp.Size, err), "run 'warden audit verify"+d.cfgFlag+"' to find the first bad entry")
		return
	}
	d.add("audit", statusOK, fmt.Sprintf("signer key unwraps (origin %s); the latest checkpoint (%d of %d entries) verifies and the stored tree matches it", origin, cp.Size, size), "")
}

// endpoint is one upstream or MCP server for checkNetwork.
type endpoint struct {
	name     string // check name
	key      string // config key: upstreams[0]
	use      string // certSet use: upstream:NAME
	rawURL   string
	tls      ClientTLSConfig
	insecure bool
	method   string
	path     string
	header   http.Header
	keyEnv   string // the variable holding the credential, for hints
	keySet   bool
}

// checkNetwork checks upstreams, MCP servers and Redis, at once.
func (d *doctor) checkNetwork(ctx context.Context) {
	var eps []endpoint
	if len(d.cfg.Upstreams) == 0 {
		d.add("upstream echo", statusOK, "the built-in echo upstream (no network)", "")
	}
	for i, u := range d.cfg.Upstreams {
		if u.URL == "" {
			d.add("upstream "+u.Name, statusOK, "the built-in echo upstream (no network)", "")
			continue
		}
		h := http.Header{}
		key := ""
		if u.KeyEnv != "" {
			key = d.c.getenv(u.KeyEnv)
		}
		if key != "" {
			switch u.Auth {
			case "x-api-key":
				h.Set("x-api-key", key)
				h.Set("anthropic-version", "2023-06-01")
			case "api-key":
				h.Set("api-key", key)
			default:
				h.Set("Authorization", "Bearer "+key)
			}
		}
		eps = append(eps, endpoint{name: "upstream " + u.Name, key: fmt.Sprintf("upstreams[%d]", i), use: "upstream:" + u.Name, rawURL: u.URL,
			tls: u.TLS, insecure: u.Insecure, method: http.MethodGet, path: "/models", header: h, keyEnv: u.KeyEnv, keySet: key != ""})
	}
	for i, s := range d.cfg.MCP.Servers {
		k := fmt.Sprintf("mcp.servers[%d]", i)
		if s.URL == "" {
			if path, err := exec.LookPath(s.Command[0]); err != nil {
				d.add("mcp "+s.Name, statusFail, "the stdio command "+s.Command[0]+" is not found", "install it, or fix "+k+".command")
			} else {
				d.add("mcp "+s.Name, statusOK, "stdio command found at "+path+" ('warden mcp run --server "+s.Name+"' starts it)", "")
			}
			continue
		}
		h := http.Header{}
		keySet := false
		if s.Auth.KeyEnv != "" {
			if v := d.c.getenv(s.Auth.KeyEnv); v != "" {
				keySet = true
				name := s.Auth.Header
				if name == "" {
					name = "Authorization"
				}
				if strings.EqualFold(name, "Authorization") && !strings.Contains(v, " ") {
					v = "Bearer " + v
				}
				h.Set(name, v)
			}
		}
		eps = append(eps, endpoint{name: "mcp " + s.Name, key: k, use: "mcp:" + s.Name, rawURL: s.URL, tls: s.TLS, insecure: s.Insecure,
			method: http.MethodHead, header: h, keyEnv: s.Auth.KeyEnv, keySet: keySet})
	}
	cs := newCertSet(slog.New(slog.DiscardHandler), nil, 0)
	defer cs.close()
	type result struct {
		check doctorCheck
		clock *clockSample
	}
	results := make([]result, len(eps)+1)
	var wg sync.WaitGroup
	for i, ep := range eps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch, clk := d.probe(ctx, cs, ep)
			results[i] = result{ch, clk}
		}()
	}
	if d.cfg.Server.Limits.Redis != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[len(eps)] = result{check: d.checkRedis(ctx)}
		}()
	}
	wg.Wait()
	for _, r := range results {
		if r.check.Name != "" {
			d.checks = append(d.checks, r.check)
		}
		if r.clock != nil {
			d.clocks = append(d.clocks, *r.clock)
		}
	}
}

// probe connects to one endpoint (TCP, then TLS) and sends it one
// request; the credential goes in its header and is never printed, nor
// is the URL's user info or query.
func (d *doctor) probe(ctx context.Context, cs *certSet, ep endpoint) (doctorCheck, *clockSample) {
	fail := func(msg, fix string) (doctorCheck, *clockSample) {
		return doctorCheck{Name: ep.name, Status: statusFail, Message: msg, Fix: fix}, nil
	}
	u, err := url.Parse(ep.rawURL)
	if err != nil || u.Host == "" {
		return fail("not a URL", "fix "+ep.key+".url")
	}
	shown := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	pctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	start := time.Now()
	conn, err := d.dial(pctx, "tcp", addr)
	if err != nil {
		return fail(fmt.Sprintf("%s: cannot connect to %s: %s", shown, addr, netReason(err)),
			"is it running, and reachable from here (DNS, firewall, NetworkPolicy egress)? check "+ep.key+".url")
	}
	connected := time.Since(start)
	var tc *tls.Config
	tlsNote := ""
	if u.Scheme == "https" {
		if ep.tls.isZero() {
			tc = &tls.Config{MinVersion: tls.VersionTLS12}
		} else if tc, err = cs.clientTLS(pctx, ep.key, ep.use, ep.rawURL, ep.tls); err != nil {
			conn.Close()
			return fail(err.Error(), "fix "+ep.key+".tls (run 'warden tls check"+d.cfgFlag+"')")
		}
		tc = tc.Clone()
		if tc.ServerName == "" {
			tc.ServerName = u.Hostname()
		}
		tconn := tls.Client(conn, tc)
		if err := tconn.HandshakeContext(pctx); err != nil {
			tconn.Close()
			return fail(fmt.Sprintf("%s: TCP connects, but the TLS handshake failed: %v", shown, err),
				"check "+ep.key+".tls: ca_file (a private CA), server_name, min_version, the client certificate")
		}
		st := tconn.ConnectionState()
		tlsNote = ", " + tls.VersionName(st.Version)
		if len(st.PeerCertificates) > 0 {
			tlsNote += fmt.Sprintf(" (certificate valid %d more days)", int(time.Until(st.PeerCertificates[0].NotAfter).Hours()/24))
		}
		conn = tconn
	}
	conn.Close()
	tr := &http.Transport{Proxy: nil, DialContext: d.dial, TLSClientConfig: tc, ForceAttemptHTTP2: tc != nil, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	target := *u
	target.Path = strings.TrimRight(u.Path, "/") + ep.path
	target.RawPath = ""
	req, err := http.NewRequestWithContext(pctx, ep.method, target.String(), nil)
	if err != nil {
		return fail("cannot build a request", "fix "+ep.key+".url")
	}
	req.Header = ep.header.Clone()
	req.Header.Set("User-Agent", "warden-doctor/"+version)
	what := strings.TrimSpace(ep.method + " " + ep.path)
	t0 := time.Now()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return fail(fmt.Sprintf("%s: connects%s, but %s failed: %s", shown, tlsNote, what, netReason(err)), "check that "+ep.key+".url is the API's base URL")
	}
	rtt := time.Since(t0)
	resp.Body.Close()
	var clk *clockSample
	if t, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		// Date has whole seconds: the server's clock was in [t, t+1s).
		clk = &clockSample{source: ep.name + " Date header", skew: t.Add(500 * time.Millisecond).Sub(t0.Add(rtt / 2)), within: 500*time.Millisecond + rtt/2}
	}
	msg := fmt.Sprintf("%s: connects in %s%s; %s answered %d", shown, shortDuration(connected), tlsNote, what, resp.StatusCode)
	status, fix := statusOK, ""
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		status = statusWarn
		if ep.keySet {
			msg += ": the credential was refused"
			fix = "check the key in $" + ep.keyEnv + " (not shown)"
		} else {
			msg += ": it wants a credential"
			fix = "set the variable the config's key_env names"
			if ep.keyEnv != "" {
				fix = "set $" + ep.keyEnv + " (it is empty)"
			}
		}
	case code == http.StatusTooManyRequests:
		status, fix = statusWarn, "the upstream is rate limiting this key"
	case code >= 500:
		status, fix = statusWarn, "the server reports an error of its own: check its status"
	}
	if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		status = statusWarn
		msg += "; plain http:// to a host that is not loopback (" + ep.key + ".insecure): requests and answers travel unencrypted"
		if fix == "" {
			fix = "use https://"
		}
	}
	return doctorCheck{Name: ep.name, Status: status, Message: msg, Fix: fix}, clk
}

// netReason is a network error's cause without the request URL (which
// may carry a key in its query).
func netReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Op + ": " + oe.Err.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return err.Error()
}

// checkRedis pings server.limits.redis.
func (d *doctor) checkRedis(ctx context.Context) doctorCheck {
	opt, err := redis.ParseURL(d.cfg.Server.Limits.Redis)
	if err != nil {
		return doctorCheck{Name: "redis", Status: statusFail, Message: "server.limits.redis is not a redis:// URL", Fix: "write it as redis://[user:password@]host:port/db"}
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.MaxRetries, opt.DialerRetries = d.timeout, d.timeout, d.timeout, -1, 1
	rctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	downFix := "is Redis running and reachable from here? check server.limits.redis (its password is not shown)"
	// Connect first: a refused dial is said here, not logged by the
	// client's pool on stderr.
	conn, err := d.dial(rctx, "tcp", opt.Addr)
	if err != nil {
		return doctorCheck{Name: "redis", Status: statusFail, Message: "cannot reach Redis at " + opt.Addr + ": " + netReason(err), Fix: downFix}
	}
	conn.Close()
	rc := redis.NewClient(opt)
	defer rc.Close()
	start := time.Now()
	if err := rc.Ping(rctx).Err(); err != nil {
		reason := netReason(err)
		if p := opt.Password; p != "" {
			reason = strings.ReplaceAll(reason, p, "xxxxx")
		}
		return doctorCheck{Name: "redis", Status: statusFail, Message: "Redis at " + opt.Addr + " does not answer PING: " + reason, Fix: downFix}
	}
	l := d.cfg.Server.Limits
	if l.Default == (Limit{}) && len(l.Principals) == 0 && len(l.Models) == 0 {
		return doctorCheck{Name: "redis", Status: statusWarn, Message: "Redis at " + opt.Addr + " answers PING, but no limit is configured, so it is not used",
			Fix: "set server.limits.default, principals or models, or drop server.limits.redis"}
	}
	return doctorCheck{Name: "redis", Status: statusOK, Message: fmt.Sprintf("Redis at %s answers PING in %s", opt.Addr, shortDuration(time.Since(start)))}
}

// checkClock reports this machine's clock against every sample taken.
func (d *doctor) checkClock() {
	if len(d.clocks) == 0 {
		d.add("clock", statusOK, "not compared: no PostgreSQL store and no upstream Date header to compare with", "")
		return
	}
	for _, s := range d.clocks {
		abs := s.skew.Abs()
		sign := "ahead of"
		if s.skew < 0 {
			sign = "behind"
		}
		msg := fmt.Sprintf("%s is %s %s this machine's clock (±%s)", s.source, shortDuration(abs), sign, shortDuration(s.within))
		fix := "run NTP (chrony, systemd-timesyncd) on this machine and the other; token lifetimes, OIDC and audit times depend on the clocks agreeing"
		// A sample is only held against the clock beyond its precision.
		switch off := abs - s.within; {
		case off > skewFail:
			d.add("clock", statusFail, msg+fmt.Sprintf(", over %s", skewFail), fix)
		case off > skewWarn:
			d.add("clock", statusWarn, msg+fmt.Sprintf(", over %s", skewWarn), fix)
		default:
			d.add("clock", statusOK, msg, "")
		}
	}
}

// checkCertificates reads what `warden tls check` reads.
func (d *doctor) checkCertificates(ctx context.Context) {
	items := tlsItems(ctx, d.cfg)
	if len(items) == 0 {
		d.add("certificates", statusOK, "none configured", "")
		return
	}
	now := time.Now()
	for _, it := range items {
		name := "certificate " + it.key
		chain, err := it.read()
		if err != nil {
			d.add(name, statusFail, it.file+": "+err.Error(), "fix the file, or the key that names it")
			continue
		}
		status, fix := statusOK, ""
		soonest := chain[0]
		for _, c := range chain {
			if c.NotAfter.Before(soonest.NotAfter) {
				soonest = c
			}
		}
		switch left := soonest.NotAfter.Sub(now); {
		case left < 0:
			status, fix = statusFail, "renew it: serve reloads the files when they change"
		case left < 30*24*time.Hour:
			status, fix = statusWarn, "renew it within the month: serve reloads the files when they change"
		}
		d.add(name, status, fmt.Sprintf("%s (%s): %s", it.file, it.use, describeCert(soonest, now)), fix)
	}
}

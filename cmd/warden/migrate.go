package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/wardenhq/warden/store"
)

const migrateHelp = `usage: warden migrate [--config FILE] [--dry-run] [--json]

Applies the store's pending schema migrations (store.dsn: SQLite or
PostgreSQL), printing each as it runs, or says the schema is current.
Run it before a rollout when replicas start with store.migrate: off
(the Helm chart's migration Job does). Replicas and Jobs migrating one
PostgreSQL schema at once are serialised by an advisory lock: each
migration is applied once. A schema newer than this binary knows is
refused, and nothing is applied.

  --dry-run  list the migrations that would run, change nothing
  --json     print one JSON object instead of lines

Exit codes: 0 the schema is current (or, with --dry-run, was read), 1 a
migration failed or the schema is newer than this binary, 2 usage,
configuration or store connection error.

Flags:
`

// migrateResult is what `warden migrate --json` prints.
type migrateResult struct {
	Engine  string          `json:"engine"`
	Store   string          `json:"store"` // the DSN without its password
	From    int             `json:"from"`
	To      int             `json:"to"`
	Binary  int             `json:"binary"` // the newest migration this binary knows
	DryRun  bool            `json:"dry_run"`
	Applied []migrationJSON `json:"applied"`
	Pending []migrationJSON `json:"pending"`
	Error   string          `json:"error,omitempty"`
}

type migrationJSON struct {
	Version int     `json:"version"`
	Name    string  `json:"name"`
	MS      float64 `json:"ms,omitempty"`
}

// runMigrate is `warden migrate`.
func runMigrate(ctx context.Context, c *cli, args []string) int {
	fs, configPath := vaultFlags(c, "migrate", migrateHelp)
	dryRun := fs.Bool("dry-run", false, "list the pending migrations without applying them")
	asJSON := fs.Bool("json", false, "print JSON")
	if code, done := parseVaultFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(c.stderr, "warden migrate: unexpected argument")
		return exitUsage
	}
	cfg, ok := configOrExit(c, "migrate", *configPath)
	if !ok {
		return exitUsage
	}
	dsn := storeDSN(cfg)
	db, err := openStoreMode(ctx, cfg, store.MigrateManual)
	if err != nil {
		fmt.Fprintf(c.stderr, "warden migrate: %s: %s\n", redactDSN(dsn), dsnSafe(err, dsn))
		return exitUsage
	}
	defer db.Close()
	res := migrateResult{Engine: string(db.Engine()), Store: redactDSN(dsn), DryRun: *dryRun, Applied: []migrationJSON{}, Pending: []migrationJSON{}}
	fail := func(err error) int {
		if *asJSON {
			res.Error = err.Error()
			writeJSON(c, res)
		} else {
			fmt.Fprintln(c.stderr, "warden migrate:", err)
		}
		return exitFailure
	}
	s, err := db.Schema(ctx)
	if err != nil {
		return fail(errors.New(dsnSafe(err, dsn)))
	}
	res.From, res.To, res.Binary = s.Version, s.Version, s.Want
	for _, m := range s.Pending {
		res.Pending = append(res.Pending, migrationJSON{Version: m.Version, Name: m.Name})
	}
	if s.Newer() {
		return fail(s.Err())
	}
	if *dryRun {
		if *asJSON {
			writeJSON(c, res)
			return exitOK
		}
		if len(s.Pending) == 0 {
			fmt.Fprintf(c.stdout, "schema is current (version %d)\n", s.Version)
			return exitOK
		}
		fmt.Fprintf(c.stdout, "schema at version %d; %d migration(s) would run:\n", s.Version, len(s.Pending))
		for _, m := range s.Pending {
			fmt.Fprintf(c.stdout, "  %s\n", m)
		}
		return exitOK
	}
	if !*asJSON && len(s.Pending) > 0 {
		fmt.Fprintf(c.stdout, "%s: schema at version %d, %d migration(s) pending\n", res.Store, s.Version, len(s.Pending))
	}
	start, inFlight := time.Now(), false
	done, err := db.Migrate(ctx, store.MigrateOptions{
		Waiting: func() {
			if !*asJSON {
				fmt.Fprintln(c.stdout, "another process holds the migration lock; waiting for it")
			}
		},
		Before: func(m store.Migration) {
			inFlight = true
			if !*asJSON {
				fmt.Fprintf(c.stdout, "applying %s … ", m)
			}
		},
		After: func(m store.Migration, took time.Duration) {
			inFlight = false
			res.Applied = append(res.Applied, migrationJSON{Version: m.Version, Name: m.Name, MS: float64(took.Microseconds()) / 1000})
			if !*asJSON {
				fmt.Fprintf(c.stdout, "done in %s\n", shortDuration(took))
			}
		},
	})
	if err != nil {
		if !*asJSON && inFlight {
			fmt.Fprintln(c.stdout, "failed")
		}
		if db.Engine() == store.SQLite && len(res.Applied) > 0 {
			// One transaction: what ran before the failure was rolled back.
			res.Applied = []migrationJSON{}
		}
		return fail(errors.New(dsnSafe(err, dsn)))
	}
	after, err := db.Schema(ctx)
	if err != nil {
		return fail(errors.New(dsnSafe(err, dsn)))
	}
	res.To, res.Pending = after.Version, []migrationJSON{}
	if *asJSON {
		writeJSON(c, res)
		return exitOK
	}
	if len(done) > 0 {
		fmt.Fprintf(c.stdout, "applied %d migration(s) in %s\n", len(done), time.Since(start).Round(time.Millisecond))
	}
	fmt.Fprintf(c.stdout, "schema is current (version %d)\n", after.Version)
	return exitOK
}

// shortDuration prints d as 12ms, or 0.4ms under 10ms.
func shortDuration(d time.Duration) string {
	if d >= 10*time.Millisecond {
		return d.Round(time.Millisecond).String()
	}
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

func writeJSON(c *cli, v any) {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// redactDSN is dsn fit to print: a PostgreSQL URL without its password
// (user info and any query value but a few known harmless ones), a
// SQLite DSN as is.
func redactDSN(dsn string) string {
	if strings.HasPrefix(dsn, "sqlite:") {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://… (unparseable URL)"
	}
	return redactURLString(u, map[string]bool{"sslmode": true, "search_path": true, "application_name": true,
		"connect_timeout": true, "target_session_attrs": true, "plan_cache_mode": true})
}

// redactURLString prints u without a password and with the values of
// query parameters other than keep replaced.
func redactURLString(u *url.URL, keep map[string]bool) string {
	r := *u
	if r.User != nil {
		if _, has := r.User.Password(); has {
			r.User = url.UserPassword(r.User.Username(), "xxxxx")
		}
	}
	r.Fragment, r.RawFragment = "", ""
	if r.RawQuery != "" {
		q := r.Query()
		for k, vs := range q {
			if !keep[k] {
				for i := range vs {
					vs[i] = "xxxxx"
				}
			}
		}
		r.RawQuery = q.Encode()
	}
	return r.String()
}

// dsnSafe is err's message with every secret of dsn (the password in its
// user info or query) taken out. The store already leaves the DSN out of
// its errors; this holds even if a driver quotes a part of it.
func dsnSafe(err error, dsn string) string {
	msg := err.Error()
	u, perr := url.Parse(dsn)
	if perr != nil || strings.HasPrefix(dsn, "sqlite:") {
		return msg
	}
	var secrets []string
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			secrets = append(secrets, p, url.QueryEscape(p), url.PathEscape(p))
		}
	}
	for k, vs := range u.Query() {
		if strings.Contains(strings.ToLower(k), "pass") || strings.Contains(strings.ToLower(k), "key") {
			secrets = append(secrets, vs...)
		}
	}
	for _, s := range secrets {
		if len(s) >= 3 {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
		}
	}
	return msg
}

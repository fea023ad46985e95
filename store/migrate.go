package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations
var migrationFiles embed.FS

// What [Open] does with the schema (Options.Migrate, config key
// store.migrate).
const (
	// MigrateAuto applies pending migrations at Open (the default).
	MigrateAuto = "auto"
	// MigrateOff never changes the schema at Open: a schema this binary
	// is not current with fails Open with a [*SchemaError] telling the
	// operator to run `warden migrate`.
	MigrateOff = "off"
	// MigrateManual neither changes nor checks the schema at Open: the
	// caller inspects it ([DB.Schema]) and applies it ([DB.Migrate])
	// itself, as `warden migrate` and `warden doctor` do.
	MigrateManual = "manual"
)

// Migration is one schema change: the embedded SQL file
// migrations/<engine>/NNNN_name.sql.
type Migration struct {
	Version int
	Name    string
	sql     string
}

// String is the migration's file name without .sql: "0050_mcp_tool_pins".
func (m Migration) String() string { return fmt.Sprintf("%04d_%s", m.Version, m.Name) }

// migrations lists engine's migrations in version order.
func migrations(engine Engine) ([]Migration, error) {
	return parseMigrations(migrationFiles, "migrations/"+string(engine))
}

func parseMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		base := strings.TrimSuffix(e.Name(), ".sql")
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || len(num) != 4 || name == "" {
			return nil, fmt.Errorf("store: migration %s: want NNNN_name.sql", e.Name())
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("store: migrations %s and %s share version %d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("store: migration %s: %w", e.Name(), err)
		}
		out = append(out, Migration{Version: v, Name: name, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at BIGINT  NOT NULL
)`

// Schema is where a database's schema stands against this binary.
type Schema struct {
	// Version is the newest migration applied; 0 for an empty database.
	Version int
	// Want is the newest migration this binary knows.
	Want int
	// Pending are the migrations this binary knows that the database
	// lacks, in the order they would run.
	Pending []Migration
}

// Current reports a schema with nothing to apply and nothing newer than
// this binary.
func (s Schema) Current() bool { return len(s.Pending) == 0 && s.Version <= s.Want }

// Newer reports a schema migrated by a newer binary than this one.
func (s Schema) Newer() bool { return s.Version > s.Want }

// Err is nil for a current schema, else the [*SchemaError] refusing it.
func (s Schema) Err() error {
	if s.Current() {
		return nil
	}
	return &SchemaError{Have: s.Version, Want: s.Want, Pending: s.Pending}
}

// SchemaError refuses a schema this binary cannot run on: behind it (a
// migration is pending and store.migrate is off) or ahead of it
// (migrated by a newer binary, refused in every mode).
type SchemaError struct {
	Have, Want int
	Pending    []Migration
}

func (e *SchemaError) Error() string {
	switch {
	case e.Have > e.Want:
		return fmt.Sprintf("store: schema at version %d is newer than this binary knows (version %d): upgrade warden to the version that migrated it", e.Have, e.Want)
	case e.Have >= e.Want && len(e.Pending) > 0:
		// A migration numbered below the newest applied one was added
		// later (parallel branches): name it.
		return fmt.Sprintf("store: schema at version %d lacks migration %s, which this binary needs: run 'warden migrate'", e.Have, e.Pending[0])
	}
	return fmt.Sprintf("store: schema at version %d, this binary needs %d: run 'warden migrate'", e.Have, e.Want)
}

// Newer reports a schema ahead of the binary.
func (e *SchemaError) Newer() bool { return e.Have > e.Want }

// Schema reads which migrations the database has applied and compares
// them with the ones this binary knows. It changes nothing: a database
// without a schema_migrations table is at version 0.
func (db *DB) Schema(ctx context.Context) (Schema, error) {
	ms, err := migrations(db.engine)
	if err != nil {
		return Schema{}, err
	}
	s := Schema{}
	if n := len(ms); n > 0 {
		s.Want = ms[n-1].Version
	}
	exists := "SELECT to_regclass('schema_migrations') IS NOT NULL"
	if db.engine == SQLite {
		exists = "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
	}
	var ok bool
	if err := db.read.QueryRowContext(ctx, exists).Scan(&ok); err != nil {
		return Schema{}, fmt.Errorf("store: schema version: %w", err)
	}
	applied := map[int]bool{}
	if ok {
		if applied, s.Version, err = appliedVersions(ctx, db.read, "schema version"); err != nil {
			return Schema{}, err
		}
	}
	s.Pending = pending(ms, applied)
	return s, nil
}

// queryer is what reading schema_migrations needs: a pool, a
// connection or a transaction.
type queryer interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}

// execer runs a statement: a connection or a transaction.
type execer interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}

// appliedVersions reads schema_migrations: the versions applied and the
// newest of them.
func appliedVersions(ctx context.Context, q queryer, what string) (map[int]bool, int, error) {
	rows, err := q.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, 0, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	applied, newest := map[int]bool{}, 0
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, 0, fmt.Errorf("store: %s: %w", what, err)
		}
		applied[v] = true
		newest = max(newest, v)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: %s: %w", what, err)
	}
	return applied, newest, nil
}

func pending(ms []Migration, applied map[int]bool) []Migration {
	var out []Migration
	for _, m := range ms {
		if !applied[m.Version] {
			out = append(out, m)
		}
	}
	return out
}

// MigrateOptions lets a caller follow [DB.Migrate]. Every field may be
// nil.
type MigrateOptions struct {
	// Waiting is called when another process holds the PostgreSQL
	// migration lock and Migrate waits for it.
	Waiting func()
	// Before is called as each pending migration starts.
	Before func(Migration)
	// After is called when a migration's statements have run, with the
	// time they took. On PostgreSQL it is committed then; on SQLite the
	// whole run commits as one transaction after the last.
	After func(Migration, time.Duration)
}

// Migrate applies every pending migration and returns those it applied
// (none when the schema was current). A schema newer than this binary
// is refused with a [*SchemaError], and nothing is applied.
//
// Processes migrating one database at once apply each migration once.
// SQLite serialises them with BEGIN IMMEDIATE: the whole run is one
// transaction, so a failed migration leaves the schema as it was.
// PostgreSQL serialises them with a session advisory lock keyed by the
// current schema (pg_advisory_lock(hashtext(schema ||
// '.warden.schema_migrations'))), held for the run on one connection,
// each migration committed in its own transaction with its
// schema_migrations row; the lock ends with the session, so a migrator
// that dies does not hold others up. Whoever gets the lock second reads
// the versions again and finds nothing to do.
func (db *DB) Migrate(ctx context.Context, opt MigrateOptions) ([]Migration, error) {
	ms, err := migrations(db.engine)
	if err != nil {
		return nil, err
	}
	if db.engine == SQLite {
		var done []Migration
		err := db.Write(ctx, func(tx *sql.Tx) error {
			done = nil
			if _, err := tx.ExecContext(ctx, createMigrationsTable); err != nil {
				return fmt.Errorf("store: migrate: %w", err)
			}
			done, err = applyMigrations(ctx, tx, func() (*sql.Tx, error) { return nil, nil }, ms, opt)
			return err
		})
		if err != nil {
			return nil, err
		}
		return done, nil
	}
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", &redactedError{redactURL(err.Error(), db.dsn), err})
	}
	defer conn.Close()
	// current_schema() is NULL when search_path names no existing
	// schema; coalesce keeps the lock taken (the migrations then fail
	// with the server's own "no schema selected").
	const lockKey = `hashtext(coalesce(current_schema(), '') || '.warden.schema_migrations')`
	var got bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock("+lockKey+")").Scan(&got); err != nil {
		return nil, fmt.Errorf("store: migrate: lock: %w", err)
	}
	if !got {
		if opt.Waiting != nil {
			opt.Waiting()
		}
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock("+lockKey+")"); err != nil {
			return nil, fmt.Errorf("store: migrate: lock: %w", err)
		}
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock("+lockKey+")")
	if _, err := conn.ExecContext(ctx, createMigrationsTable); err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	return applyMigrations(ctx, conn, func() (*sql.Tx, error) { return conn.BeginTx(ctx, nil) }, ms, opt)
}

// migrate is what Open does with the schema in mode (Options.Migrate).
func (db *DB) migrate(ctx context.Context, mode string) error {
	switch mode {
	case MigrateManual:
		return nil
	case MigrateOff:
		s, err := db.Schema(ctx)
		if err != nil {
			return err
		}
		return s.Err()
	}
	_, err := db.Migrate(ctx, MigrateOptions{})
	return err
}

// applyMigrations runs the migrations q has not applied. begin starts
// the transaction of one migration (PostgreSQL), or returns nil when q
// is itself the transaction of the whole run (SQLite).
func applyMigrations(ctx context.Context, q interface {
	queryer
	execer
}, begin func() (*sql.Tx, error), ms []Migration, opt MigrateOptions) ([]Migration, error) {
	applied, newest, err := appliedVersions(ctx, q, "migrate")
	if err != nil {
		return nil, err
	}
	s := Schema{Version: newest, Pending: pending(ms, applied)}
	if n := len(ms); n > 0 {
		s.Want = ms[n-1].Version
	}
	if s.Newer() {
		return nil, s.Err()
	}
	var done []Migration
	for _, m := range s.Pending {
		if opt.Before != nil {
			opt.Before(m)
		}
		start := time.Now()
		tx, err := begin()
		if err != nil {
			return done, fmt.Errorf("store: migration %s: %w", m, err)
		}
		var x execer = q
		if tx != nil {
			x = tx
		}
		err = runMigration(ctx, x, m)
		if tx != nil {
			if err == nil {
				err = tx.Commit()
			} else {
				tx.Rollback()
			}
		}
		if err != nil {
			return done, fmt.Errorf("store: migration %s: %w", m, err)
		}
		if opt.After != nil {
			opt.After(m, time.Since(start))
		}
		done = append(done, m)
	}
	return done, nil
}

func runMigration(ctx context.Context, x execer, m Migration) error {
	if _, err := x.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	_, err := x.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
		m.Version, m.Name, time.Now().Unix())
	return err
}

// SchemaVersion reports the newest applied migration.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	s, err := db.Schema(ctx)
	return s.Version, err
}

// Package store opens Warden's SQL database and keeps its schema current.
//
// One schema, two engines: SQLite (modernc.org/sqlite, no cgo) in a file
// under the data directory for one node, and PostgreSQL (pgx) for several
// gateway replicas sharing one vault and audit log. Packages that keep
// state (vault, audit, auth) write plain SQL with $1, $2 … placeholders,
// which both engines accept, and run writes through [DB.Write].
//
// Migrations are embedded SQL files, migrations/<engine>/NNNN_name.sql,
// applied in order at [Open] and recorded in schema_migrations. Adding a
// feature's tables is adding one file per engine.
//
// Calls on the request path run under [DB.Bound], the store's deadline
// (Options.Timeout, config key store.timeout, default 2s), so a stalled
// database fails them with [ErrTimeout] instead of holding them for the
// outage. [DB.CheckWrite], [DB.CheckDisk] and [FreeDisk] are the
// readiness checks; their errors, like every [Scrub]bed error, never
// name the DSN's host, port, user or database. [DB.Listen] and
// [DB.Notify] carry PostgreSQL notifications between processes.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

// Engine names a database engine.
type Engine string

// The engines Warden runs on.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// DB is an open, migrated database. It is safe for concurrent use.
type DB struct {
	engine  Engine
	read    *sql.DB
	write   *sql.DB // SQLite: one connection, BEGIN IMMEDIATE; PostgreSQL: same pool as read
	path    string  // SQLite file
	dsn     string  // PostgreSQL URL, for listener connections; never printed
	timeout time.Duration

	// Background work (listeners) runs until Close.
	bg     context.Context
	stopBg context.CancelFunc
	bgWG   sync.WaitGroup
}

// Options tunes [Open]. The zero value is the default.
type Options struct {
	// BusyTimeoutMS is how long a SQLite writer waits for another
	// process's write lock before failing. Default 10000.
	BusyTimeoutMS int
	// MaxReaders bounds the read connections. Default 8.
	MaxReaders int
	// Timeout is the deadline of one store call made through [DB.Bound]
	// (config key store.timeout). Open itself (connecting, migrating) is
	// bounded by its ctx only. Default [DefaultTimeout], 2s.
	Timeout time.Duration
	// Sync is SQLite's durability: SyncFull (the default) fsyncs every
	// commit, so nothing acknowledged is lost even on a power cut;
	// SyncNormal fsyncs only at checkpoints, so commits survive a crash
	// of the process but the last ones may be lost with the machine.
	// PostgreSQL ignores it (its synchronous_commit decides).
	Sync string
	// Migrate is what Open does with the schema (config key
	// store.migrate): [MigrateAuto] (the default) applies pending
	// migrations, [MigrateOff] refuses a schema that is not current,
	// [MigrateManual] leaves it to the caller. A schema newer than this
	// binary is refused in auto and off.
	Migrate string
}

// SQLite durability modes (Options.Sync, config key store.sync).
const (
	SyncFull   = "full"
	SyncNormal = "normal"
)

// Open opens the database named by dsn and applies pending migrations
// (or, with Options.Migrate, only checks them).
// dsn is "sqlite:PATH" or a postgres:// (postgresql://) URL; a PostgreSQL
// URL may set search_path=SCHEMA to keep Warden's tables in a schema.
func Open(ctx context.Context, dsn string, opt Options) (*DB, error) {
	if opt.BusyTimeoutMS <= 0 {
		opt.BusyTimeoutMS = 10000
	}
	if opt.MaxReaders <= 0 {
		opt.MaxReaders = 8
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	switch opt.Sync {
	case "":
		opt.Sync = SyncFull
	case SyncFull, SyncNormal:
	default:
		return nil, fmt.Errorf("store: sync: %q is not full or normal", opt.Sync)
	}
	switch opt.Migrate {
	case "", MigrateAuto, MigrateOff, MigrateManual:
	default:
		return nil, fmt.Errorf("store: migrate: %q is not auto or off", opt.Migrate)
	}
	var (
		db  *DB
		err error
	)
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		db, err = openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"), opt)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db, err = openPostgres(ctx, dsn, opt)
	default:
		return nil, errors.New("store: want sqlite:PATH or a postgres:// URL")
	}
	if err != nil {
		return nil, err
	}
	db.timeout = opt.Timeout
	db.bg, db.stopBg = context.WithCancel(context.WithoutCancel(ctx))
	if err := db.migrate(ctx, opt.Migrate); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func openSQLite(ctx context.Context, path string, opt Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("store: sqlite: empty path")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, errors.New("store: sqlite: path must not contain '?' or '#'")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: sqlite: %w", err)
	}
	// Create the file ourselves so it (and the -wal and -shm files SQLite
	// derives from it) are readable by the owner only.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: sqlite: %w", err)
	}
	f.Close()
	// secure_delete overwrites deleted rows, so forgotten values and
	// shredded keys do not linger in free pages.
	params := fmt.Sprintf("?_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)"+
		"&_pragma=secure_delete(1)&_pragma=cache_size(-32768)&_pragma=temp_store(MEMORY)", opt.BusyTimeoutMS)
	// Readers never commit, so their sync mode does not matter.
	read, err := sql.Open("sqlite", path+params+"&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, fmt.Errorf("store: sqlite: %w", err)
	}
	read.SetMaxOpenConns(opt.MaxReaders)
	// One writer connection per process; BEGIN IMMEDIATE takes the write
	// lock up front, so two processes queue on busy_timeout instead of
	// failing to upgrade a read lock. synchronous=FULL makes a commit
	// durable before it returns: in WAL mode SQLite fsyncs the WAL once
	// per transaction (NORMAL would sync only at checkpoints, and a power
	// loss could take back acknowledged commits: an audit intent after
	// the upstream was called, a token already handed out). One fsync per
	// transaction is why callers batch (the audit log's group commit,
	// vault.TokenBatch).
	write, err := sql.Open("sqlite", path+params+"&_pragma=synchronous("+strings.ToUpper(opt.Sync)+")&_txlock=immediate")
	if err != nil {
		read.Close()
		return nil, fmt.Errorf("store: sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	db := &DB{engine: SQLite, read: read, write: write, path: path}
	if err := write.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: sqlite %s: %w", path, err)
	}
	return db, nil
}

func openPostgres(ctx context.Context, url string, opt Options) (*DB, error) {
	// pgx caches prepared statements per connection, and PostgreSQL
	// switches a cached statement to a generic plan after five runs, made
	// with the statistics of that moment: a table that was empty then
	// keeps being read by sequential scan as it grows. Custom plans cost
	// a little planning and keep the indexes in use.
	dsn := url
	if !strings.Contains(dsn, "plan_cache_mode=") {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		dsn += sep + "plan_cache_mode=force_custom_plan"
	}
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: %w", err)
	}
	pool.SetMaxOpenConns(opt.MaxReaders + 2)
	pool.SetMaxIdleConns(opt.MaxReaders + 2)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		// pgx errors may echo the URL; it may hold a password.
		return nil, fmt.Errorf("store: postgres: cannot connect: %w", &redactedError{redactURL(redactURL(err.Error(), dsn), url), err})
	}
	return &DB{engine: Postgres, read: pool, write: pool, dsn: dsn}, nil
}

// redactedError is err with msg, its text without the DSN, for
// messages; errors.As still sees err (and [Scrub] its class).
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redactURL removes url from msg.
func redactURL(msg, url string) string {
	return strings.ReplaceAll(msg, url, "postgres://…")
}

// Engine reports which engine db runs on.
func (db *DB) Engine() Engine { return db.engine }

// Path is the SQLite database file, or "" for PostgreSQL.
func (db *DB) Path() string { return db.path }

// Read is the pool for queries outside a write transaction.
func (db *DB) Read() *sql.DB { return db.read }

// Write runs fn in one write transaction and commits it if fn returns
// nil; otherwise it rolls back, so a failed write leaves nothing behind.
// A commit is durable when Write returns: on SQLite the write-ahead log
// is fsynced (synchronous=FULL), on PostgreSQL the server's
// synchronous_commit decides (on by default; Warden never lowers it).
// On SQLite, write transactions of every process are serialised. On
// PostgreSQL a transaction the server aborts for a deadlock or a
// serialization failure is retried (up to 3 runs), so fn must have no
// effect outside tx.
func (db *DB) Write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := db.writeOnce(ctx, fn)
		if err == nil || attempt == 3 || !retryable(err) {
			return err
		}
	}
}

// retryable reports a PostgreSQL deadlock (40P01) or serialization
// failure (40001).
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

func (db *DB) writeOnce(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// PrepareWrite prepares query on the write pool, once, for statements
// run in many Write transactions: bind it with tx.StmtContext. On
// SQLite this saves parsing the statement on every run (the driver has
// no statement cache); PostgreSQL's driver caches statements anyway.
// Call it outside Write (SQLite has one writer connection). The caller
// closes the statement.
func (db *DB) PrepareWrite(ctx context.Context, query string) (*sql.Stmt, error) {
	st, err := db.write.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("store: prepare: %w", err)
	}
	return st, nil
}

// Compact asks the engine to drop copies of deleted rows it still holds:
// on SQLite it checkpoints and truncates the write-ahead log (deleted
// rows are already overwritten by secure_delete); on PostgreSQL it is a
// no-op (VACUUM runs on the server's schedule).
func (db *DB) Compact(ctx context.Context) error {
	if db.engine != SQLite {
		return nil
	}
	_, err := db.write.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	if err != nil {
		return fmt.Errorf("store: checkpoint: %w", err)
	}
	return nil
}

// Close stops background work (listeners) and closes every connection.
func (db *DB) Close() error {
	if db.stopBg != nil {
		db.stopBg()
		db.bgWG.Wait()
	}
	err := db.read.Close()
	if db.write != db.read {
		if werr := db.write.Close(); err == nil {
			err = werr
		}
	}
	return err
}

// Params returns n comma-separated placeholders for the parameters
// first … first+n-1, for IN lists and multi-row VALUES: "$3, $4, $5" on
// PostgreSQL, "?, ?, ?" on SQLite (whose named-parameter lookup is
// quadratic in the count). On SQLite a "?" takes the number after the
// highest one used before it in the statement, so the placeholders must
// follow parameters 1 … first-1 in the text.
func (db *DB) Params(first, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		if db.engine == SQLite {
			b.WriteByte('?')
		} else {
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(first + i))
		}
	}
	return b.String()
}

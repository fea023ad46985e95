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

// migration is one embedded SQL file, migrations/<engine>/NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations lists engine's migrations in version order.
func migrations(engine Engine) ([]migration, error) {
	return parseMigrations(migrationFiles, "migrations/"+string(engine))
}

func parseMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	var out []migration
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
		out = append(out, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at BIGINT  NOT NULL
)`

// migrate applies every pending migration. Two processes starting at
// once are safe: SQLite serialises them with BEGIN IMMEDIATE (the whole
// run is one transaction); PostgreSQL with an advisory lock keyed by the
// current schema, each migration in its own transaction.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations(db.engine)
	if err != nil {
		return err
	}
	if db.engine == SQLite {
		return db.Write(ctx, func(tx *sql.Tx) error { return applyMigrations(ctx, tx, nil, ms) })
	}
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer conn.Close()
	const lockKey = `hashtext(current_schema() || '.warden.schema_migrations')`
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock("+lockKey+")"); err != nil {
		return fmt.Errorf("store: migrate: lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock("+lockKey+")")
	if _, err := conn.ExecContext(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return applyMigrations(ctx, nil, conn, ms)
}

// applyMigrations runs the missing migrations, inside tx (SQLite) or one
// transaction each on conn (PostgreSQL).
func applyMigrations(ctx context.Context, tx *sql.Tx, conn *sql.Conn, ms []migration) error {
	var q interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	} = conn
	if tx != nil {
		q = tx
		if _, err := tx.ExecContext(ctx, createMigrationsTable); err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
	}
	applied := map[int]bool{}
	rows, err := q.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	maxApplied := 0
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("store: migrate: %w", err)
		}
		applied[v] = true
		maxApplied = max(maxApplied, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if n := len(ms); n > 0 && maxApplied > ms[n-1].version {
		return fmt.Errorf("store: database schema version %d is newer than this binary knows (%d); upgrade warden", maxApplied, ms[n-1].version)
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		run := func(x interface {
			ExecContext(context.Context, string, ...any) (sql.Result, error)
		}) error {
			if _, err := x.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("store: migration %04d_%s: %w", m.version, m.name, err)
			}
			if _, err := x.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
				m.version, m.name, time.Now().Unix()); err != nil {
				return fmt.Errorf("store: migration %04d_%s: %w", m.version, m.name, err)
			}
			return nil
		}
		if tx != nil {
			if err := run(tx); err != nil {
				return err
			}
			continue
		}
		mtx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
		if err := run(mtx); err != nil {
			mtx.Rollback()
			return err
		}
		if err := mtx.Commit(); err != nil {
			return fmt.Errorf("store: migration %04d_%s: %w", m.version, m.name, err)
		}
	}
	return nil
}

// SchemaVersion reports the newest applied migration.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	if err := db.read.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&v); err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return int(v.Int64), nil
}

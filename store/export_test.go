package store

import (
	"database/sql"
	"io/fs"
	"time"
)

// ParseMigrations exposes parseMigrations' versions to tests.
func ParseMigrations(fsys fs.FS, dir string) ([]int, error) {
	ms, err := parseMigrations(fsys, dir)
	var vs []int
	for _, m := range ms {
		vs = append(vs, m.Version)
	}
	return vs, err
}

// MigrationCount is how many migrations engine has.
func MigrationCount(engine Engine) int {
	ms, _ := migrations(engine)
	return len(ms)
}

// OpenUnconnected makes a PostgreSQL DB on url without connecting or
// migrating, for tests of the errors a server that cannot be reached
// gives.
func OpenUnconnected(url string, timeout time.Duration) (*DB, error) {
	pool, err := sql.Open("pgx", url)
	if err != nil {
		return nil, err
	}
	return &DB{engine: Postgres, read: pool, write: pool, dsn: url, timeout: timeout}, nil
}

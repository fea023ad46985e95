// Package storetest gives tests throwaway databases on every engine, so
// one conformance suite runs against SQLite and PostgreSQL alike.
//
// PostgreSQL tests need WARDEN_TEST_POSTGRES (a postgres:// URL); each
// test gets its own schema, dropped at cleanup, so parallel runs do not
// collide. Without the variable the PostgreSQL subtests are skipped.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wardenhq/warden/store"
)

// EnvPostgres names the variable holding the test PostgreSQL URL.
const EnvPostgres = "WARDEN_TEST_POSTGRES"

// Engines lists the engines a conformance suite runs on.
var Engines = []store.Engine{store.SQLite, store.Postgres}

// DSN returns a data source name for a fresh, empty database on engine,
// removed when t ends. It skips t for PostgreSQL when EnvPostgres is
// unset.
func DSN(t testing.TB, engine store.Engine) string {
	t.Helper()
	switch engine {
	case store.SQLite:
		return "sqlite:" + filepath.Join(t.TempDir(), "warden.db")
	case store.Postgres:
		base := os.Getenv(EnvPostgres)
		if base == "" {
			t.Skip(EnvPostgres + " is not set")
		}
		var b [6]byte
		rand.Read(b[:])
		schema := "warden_test_" + hex.EncodeToString(b[:])
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close()
		if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
			t.Fatalf("storetest: create schema: %v", err)
		}
		t.Cleanup(func() {
			db, err := sql.Open("pgx", base)
			if err != nil {
				return
			}
			defer db.Close()
			db.Exec("DROP SCHEMA " + schema + " CASCADE")
		})
		sep := "?"
		if strings.Contains(base, "?") {
			sep = "&"
		}
		return base + sep + "search_path=" + schema
	}
	t.Fatalf("storetest: unknown engine %q", engine)
	return ""
}

// Open opens dsn and closes it when t ends.
func Open(t testing.TB, dsn string) *store.DB {
	t.Helper()
	return OpenWith(t, dsn, store.Options{})
}

// OpenWith opens dsn with opt and closes it when t ends.
func OpenWith(t testing.TB, dsn string, opt store.Options) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsn, opt)
	if err != nil {
		t.Fatalf("storetest: open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Lock stalls the store at dsn the way a stuck transaction of another
// process would, until release is called (or t ends). On SQLite it holds
// the database's write lock (BEGIN IMMEDIATE on a connection of its
// own): writers wait, readers do not (WAL). On PostgreSQL it holds an
// ACCESS EXCLUSIVE lock on each table: every query touching them waits.
func Lock(t testing.TB, dsn string, tables ...string) (release func()) {
	t.Helper()
	var (
		db  *sql.DB
		err error
	)
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		db, err = sql.Open("sqlite", path+"?_txlock=immediate")
	} else {
		db, err = sql.Open("pgx", dsn)
	}
	if err != nil {
		t.Fatalf("storetest: lock: %v", err)
	}
	db.SetMaxOpenConns(1)
	tx, err := db.Begin()
	if err != nil {
		db.Close()
		t.Fatalf("storetest: lock: %v", err)
	}
	if !strings.HasPrefix(dsn, "sqlite:") {
		for _, table := range tables {
			if _, err := tx.Exec("LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE"); err != nil {
				tx.Rollback()
				db.Close()
				t.Fatalf("storetest: lock %s: %v", table, err)
			}
		}
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			tx.Rollback()
			db.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// Run runs fn as one subtest per engine, each with a fresh database.
func Run(t *testing.T, fn func(t *testing.T, dsn string)) {
	for _, e := range Engines {
		t.Run(string(e), func(t *testing.T) {
			fn(t, DSN(t, e))
		})
	}
}

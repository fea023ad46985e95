package store_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/store/storetest"
)

func TestOpenMigrates(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		v, err := db.SchemaVersion(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if v < 1 {
			t.Fatalf("schema version %d, want >= 1", v)
		}
		// Reopening applies nothing twice.
		db2 := storetest.Open(t, dsn)
		var n int
		if err := db2.Read().QueryRow("SELECT COUNT(*) FROM schema_migrations WHERE version = 1").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("migration 1 recorded %d times", n)
		}
	})
}

func TestConcurrentMigration(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		const n = 4
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				db, err := store.Open(context.Background(), dsn, store.Options{})
				if err == nil {
					db.Close()
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("opener %d: %v", i, err)
			}
		}
		db := storetest.Open(t, dsn)
		var count int
		if err := db.Read().QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&count); err != nil {
			t.Fatal(err)
		}
		if want := store.MigrationCount(db.Engine()); count != want {
			t.Fatalf("%d migration rows, want %d", count, want)
		}
	})
}

func TestWriteRollsBack(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		ctx := context.Background()
		err := db.Write(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, "INSERT INTO tenants (name, created_at) VALUES ($1, $2)", "acme", 1); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO tenants (name, created_at) VALUES ($1, $2)", "acme", 2)
			return err // unique violation
		})
		if err == nil {
			t.Fatal("duplicate insert succeeded")
		}
		var n int
		db.Read().QueryRow("SELECT COUNT(*) FROM tenants").Scan(&n)
		if n != 0 {
			t.Fatalf("%d tenants after a failed transaction, want 0", n)
		}
	})
}

func TestParseMigrations(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		want  []int
		bad   bool
	}{
		{"ordered", []string{"0002_b.sql", "0001_a.sql", "0010_c.sql", "README.md"}, []int{1, 2, 10}, false},
		{"duplicate", []string{"0001_a.sql", "0001_b.sql"}, nil, true},
		{"no name", []string{"0001.sql"}, nil, true},
		{"short number", []string{"1_a.sql"}, nil, true},
		{"zero", []string{"0000_a.sql"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range tt.files {
				fsys["m/"+f] = &fstest.MapFile{Data: []byte("SELECT 1")}
			}
			ms, err := store.ParseMigrations(fsys, "m")
			if tt.bad {
				if err == nil {
					t.Fatal("want error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := ms
			if len(got) != len(tt.want) {
				t.Fatalf("got %v want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v want %v", got, tt.want)
				}
			}
		})
	}
}

func TestOpenRejects(t *testing.T) {
	for _, dsn := range []string{"", "mysql://x", "sqlite:", "sqlite:/tmp/a?b"} {
		if db, err := store.Open(context.Background(), dsn, store.Options{}); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", dsn)
		}
	}
}

// TestSQLiteCommitsAreSynced pins the durability settings of the SQLite
// write connection: WAL and synchronous=FULL, so a commit is on disk
// (the WAL fsynced) before Write returns.
func TestSQLiteCommitsAreSynced(t *testing.T) {
	db := storetest.Open(t, storetest.DSN(t, store.SQLite))
	ctx := context.Background()
	var mode string
	var sync int
	err := db.Write(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync)
	})
	if err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || sync != 2 { // 2 is FULL
		t.Fatalf("write connection: journal_mode %s, synchronous %d; want wal, 2 (FULL)", mode, sync)
	}
}

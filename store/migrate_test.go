package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/store/storetest"
)

// newest is the newest migration this binary knows on engine.
func newest(t *testing.T, dsn string) int {
	t.Helper()
	db := storetest.OpenWith(t, dsn, store.Options{Migrate: store.MigrateManual})
	s, err := db.Schema(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s.Want
}

// With store.migrate off, a fresh database is refused with the words
// the operator needs, nothing is created, and after an explicit migrate
// the same open succeeds.
func TestMigrateOffRefusesAnUnmigratedSchema(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		want := newest(t, dsn)
		_, err := store.Open(ctx, dsn, store.Options{Migrate: store.MigrateOff})
		msg := fmt.Sprintf("store: schema at version 0, this binary needs %d: run 'warden migrate'", want)
		var se *store.SchemaError
		if !errors.As(err, &se) || err.Error() != msg {
			t.Fatalf("open off on a fresh database: %v, want %q", err, msg)
		}
		db := storetest.OpenWith(t, dsn, store.Options{Migrate: store.MigrateManual})
		s, err := db.Schema(ctx)
		if err != nil || s.Version != 0 || s.Current() || len(s.Pending) != store.MigrationCount(db.Engine()) {
			t.Fatalf("refused open changed the schema: %+v %v", s, err)
		}
		done, err := db.Migrate(ctx, store.MigrateOptions{})
		if err != nil || len(done) != store.MigrationCount(db.Engine()) {
			t.Fatalf("migrate: %d applied, %v", len(done), err)
		}
		if again, err := db.Migrate(ctx, store.MigrateOptions{}); err != nil || len(again) != 0 {
			t.Fatalf("second migrate applied %d: %v", len(again), err)
		}
		off := storetest.OpenWith(t, dsn, store.Options{Migrate: store.MigrateOff})
		if s, err := off.Schema(ctx); err != nil || !s.Current() || s.Version != want {
			t.Fatalf("after migrate: %+v %v", s, err)
		}
	})
}

// A schema migrated by a newer binary is refused in every mode, naming
// both versions: an old replica must not run on it.
func TestNewerSchemaIsRefusedInEveryMode(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		want := newest(t, dsn)
		if _, err := db.Read().ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'from_the_future', 0)"); err != nil {
			t.Fatal(err)
		}
		for _, mode := range []string{"", store.MigrateAuto, store.MigrateOff} {
			_, err := store.Open(ctx, dsn, store.Options{Migrate: mode})
			var se *store.SchemaError
			if !errors.As(err, &se) || !se.Newer() {
				t.Fatalf("mode %q: %v, want a newer-schema refusal", mode, err)
			}
			if msg := err.Error(); !strings.Contains(msg, "version 9999") || !strings.Contains(msg, fmt.Sprintf("version %d", want)) {
				t.Fatalf("mode %q: %q does not name both versions", mode, msg)
			}
		}
		manual := storetest.OpenWith(t, dsn, store.Options{Migrate: store.MigrateManual})
		if _, err := manual.Migrate(ctx, store.MigrateOptions{}); err == nil || !strings.Contains(err.Error(), "newer") {
			t.Fatalf("explicit migrate on a newer schema: %v", err)
		}
	})
}

// A migration added below the newest applied one (two branches merged)
// is pending, and named.
func TestMigrateOffNamesAMissingMigration(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		if _, err := db.Read().ExecContext(ctx, "DELETE FROM schema_migrations WHERE version = 30"); err != nil {
			t.Fatal(err)
		}
		_, err := store.Open(ctx, dsn, store.Options{Migrate: store.MigrateOff})
		if err == nil || !strings.Contains(err.Error(), "lacks migration 0030_models") || !strings.Contains(err.Error(), "warden migrate") {
			t.Fatalf("open off: %v", err)
		}
	})
}

func TestOpenRefusesAnUnknownMigrateMode(t *testing.T) {
	_, err := store.Open(context.Background(), "sqlite:"+t.TempDir()+"/w.db", store.Options{Migrate: "sometimes"})
	if err == nil || !strings.Contains(err.Error(), "migrate") {
		t.Fatalf("open: %v", err)
	}
}

// Many processes migrating one fresh database at once (replicas and a
// migration Job starting together) apply each migration exactly once,
// and none fails.
func TestConcurrentMigrateAppliesEachMigrationOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		const n = 8
		var (
			mu      sync.Mutex
			applied = map[int]int{}
			waited  int
			wg      sync.WaitGroup
			errs    = make([]error, n)
		)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Each its own pool: its own PostgreSQL session, as a
				// separate process would have.
				db, err := store.Open(context.Background(), dsn, store.Options{Migrate: store.MigrateManual})
				if err != nil {
					errs[i] = err
					return
				}
				defer db.Close()
				<-start
				_, errs[i] = db.Migrate(context.Background(), store.MigrateOptions{
					Waiting: func() { mu.Lock(); waited++; mu.Unlock() },
					Before:  func(m store.Migration) { mu.Lock(); applied[m.Version]++; mu.Unlock() },
				})
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("migrator %d: %v", i, err)
			}
		}
		db := storetest.Open(t, dsn)
		if len(applied) != store.MigrationCount(db.Engine()) {
			t.Fatalf("%d distinct migrations run, want %d", len(applied), store.MigrationCount(db.Engine()))
		}
		for v, k := range applied {
			if k != 1 {
				t.Errorf("migration %d run %d times", v, k)
			}
		}
		var rows int
		if err := db.Read().QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&rows); err != nil || rows != len(applied) {
			t.Fatalf("%d schema_migrations rows (%v), want %d", rows, err, len(applied))
		}
		t.Logf("%s: %d migrators, %d migrations applied once each, %d waited for the lock", db.Engine(), n, len(applied), waited)
	})
}

// On PostgreSQL, Migrate waits for the advisory lock another session
// holds, says so, and applies nothing until it is released.
func TestPostgresMigrateWaitsForTheAdvisoryLock(t *testing.T) {
	dsn := storetest.DSN(t, store.Postgres)
	other, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx := context.Background()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const key = "hashtext(coalesce(current_schema(), '') || '.warden.schema_migrations')"
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock("+key+")"); err != nil {
		t.Fatal(err)
	}
	db := storetest.OpenWith(t, dsn, store.Options{Migrate: store.MigrateManual})
	waiting := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := db.Migrate(ctx, store.MigrateOptions{Waiting: func() { close(waiting) }})
		done <- err
	}()
	select {
	case <-waiting:
	case <-time.After(10 * time.Second):
		t.Fatal("Migrate did not report waiting for the lock")
	}
	time.Sleep(100 * time.Millisecond)
	if s, err := db.Schema(ctx); err != nil || s.Version != 0 {
		t.Fatalf("migrated while the lock was held: %+v %v", s, err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock("+key+")"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Migrate did not finish after the lock was released")
	}
	if s, err := db.Schema(ctx); err != nil || !s.Current() {
		t.Fatalf("after the lock: %+v %v", s, err)
	}
}

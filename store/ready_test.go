package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/store/storetest"
)

func TestCheckWrite(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := storetest.OpenWith(t, dsn, store.Options{Timeout: 500 * time.Millisecond})
		for range 3 {
			if err := db.CheckWrite(ctx); err != nil {
				t.Fatal(err)
			}
		}
		var rows int
		if err := db.Read().QueryRow("SELECT COUNT(*) FROM store_health").Scan(&rows); err != nil || rows != 1 {
			t.Fatalf("store_health holds %d rows (%v), want 1: the check must not grow anything", rows, err)
		}
		// A stalled write path fails the check within store.timeout, with
		// an error that names the check and the key.
		release := storetest.Lock(t, dsn, "store_health")
		start := time.Now()
		err := db.CheckWrite(ctx)
		took := time.Since(start)
		release()
		if !errors.Is(err, store.ErrTimeout) || !strings.HasPrefix(err.Error(), "store: write check failed: ") || !strings.Contains(err.Error(), "store.timeout") {
			t.Fatalf("stalled check: %v", err)
		}
		if took > 5*time.Second {
			t.Fatalf("stalled check took %v", took)
		}
		if err := db.CheckWrite(ctx); err != nil {
			t.Fatalf("after the stall: %v", err)
		}
	})
}

// TestReadinessErrorsHideTheDSN points a store at servers that cannot be
// reached, through DSNs full of canaries, and checks that the readiness
// errors say what failed without naming the user, password, host, port
// or database.
func TestReadinessErrorsHideTheDSN(t *testing.T) {
	canaries := []string{"canaryuser7731", "canarypass7731", "canaryhost7731", "59731", "canarydb7731"}
	dsns := map[string]string{
		"unknown host":       "postgres://canaryuser7731:canarypass7731@canaryhost7731.invalid:59731/canarydb7731?sslmode=disable",
		"connection refused": "postgres://canaryuser7731:canarypass7731@127.0.0.1:59731/canarydb7731?sslmode=disable&application_name=canaryhost7731",
	}
	if pg := os.Getenv(storetest.EnvPostgres); pg != "" {
		// A server that answers, refusing an unknown role and database.
		dsns["unknown role"] = strings.Replace(strings.Replace(pg, "postgres@", "canaryuser7731:canarypass7731@", 1), "/test", "/canarydb7731", 1)
	}
	for name, dsn := range dsns {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			db, err := store.OpenUnconnected(dsn, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			err = db.CheckWrite(context.Background())
			if err == nil {
				t.Fatal("write check passed against an unreachable server")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "store: write check failed: ") {
				t.Fatalf("error %q does not name the check", msg)
			}
			for _, c := range canaries {
				if strings.Contains(msg, c) {
					t.Fatalf("error %q holds %s from the DSN", msg, c)
				}
			}
			t.Log(msg)
		})
	}
}

func TestFreeDisk(t *testing.T) {
	dir := t.TempDir()
	free, err := store.FreeDisk(dir)
	if err != nil || free == 0 {
		t.Fatalf("FreeDisk = %d, %v", free, err)
	}
	missing := filepath.Join(dir, "canary-dir-7731", "x")
	if _, err := store.FreeDisk(missing); err == nil || strings.Contains(err.Error(), "canary-dir-7731") {
		t.Fatalf("FreeDisk of a missing path: %v (must fail without naming it)", err)
	}
	db := storetest.Open(t, "sqlite:"+filepath.Join(dir, "canary-db-7731", "warden.db"))
	if err := db.CheckDisk(0); err != nil && free >= store.DefaultMinFreeDisk {
		t.Fatalf("CheckDisk with the default threshold: %v", err)
	}
	err = db.CheckDisk(free * 1024)
	if err == nil || !strings.HasPrefix(err.Error(), "store: disk check failed: ") || strings.Contains(err.Error(), "canary") {
		t.Fatalf("CheckDisk above the free space: %v", err)
	}
}

// BenchmarkCheckWrite measures the readiness write check.
func BenchmarkCheckWrite(b *testing.B) {
	for _, eng := range storetest.Engines {
		b.Run(string(eng), func(b *testing.B) {
			db := storetest.Open(b, storetest.DSN(b, eng))
			for b.Loop() {
				if err := db.CheckWrite(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

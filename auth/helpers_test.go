package auth

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/wardenhq/warden/keys"
	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/store/storetest"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func sqliteDB(t testing.TB) *store.DB {
	t.Helper()
	return storetest.Open(t, storetest.DSN(t, store.SQLite))
}

// testKeyring opens a fresh keyring protected by a generated key file.
func testKeyring(t testing.TB) *keys.Keyring {
	t.Helper()
	dir := t.TempDir()
	kr, err := keys.Open(context.Background(), keys.Options{Path: filepath.Join(dir, "keyring.json"),
		Root: keys.KeyFile(filepath.Join(dir, "master.key"), true), Create: true})
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

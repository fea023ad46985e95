package vault

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/store/storetest"
	"github.com/wardenhq/warden/transform"
)

// testClock is a clock the test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Unix(1_800_000_000, 0)} }

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestErasureIsFinalOnEveryReplica is the reliability issue's check:
// two Vaults with separate caches over one store, as two gateway
// replicas (or a gateway and `warden vault`). The replica tokenizes and
// restores a value, warming its key, restore and value→token caches; the
// other erases it. Once the invalidation interval has passed on the
// replica's clock it must refuse the erased token and, tokenizing the
// value again, store the original again (forget: the same token, now
// restorable by a third process) or issue a new token (shred), never its
// cached one.
func TestErasureIsFinalOnEveryReplica(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		engine := store.SQLite
		if !strings.HasPrefix(dsn, "sqlite:") {
			engine = store.Postgres
		}
		e := newEnv(t, dsn)
		ctx := context.Background()
		const value, other = "alice@example.com", "bob@example.com"
		for _, erase := range []string{"forget", "shred"} {
			for _, mode := range []struct {
				name     string
				interval time.Duration
			}{{"after the interval", time.Minute}, {"checking every call", -1}} {
				t.Run(erase+"/"+strings.ReplaceAll(mode.name, " ", "_"), func(t *testing.T) {
					tenant := "acme-" + erase + "-" + strings.ReplaceAll(mode.name, " ", "-")
					clk := newTestClock()
					eraser := e.open()
					replica := e.open(func(c *Config) { c.Now = clk.now; c.InvalidationInterval = mode.interval })
					rt := replica.Tenant(tenant)
					tok := mustToken(t, rt, "EMAIL_ADDRESS", value)
					keep := mustToken(t, rt, "EMAIL_ADDRESS", other)
					if got := mustRestore(t, rt, tok+" "+keep); got != value+" "+other {
						t.Fatalf("before erasure: %q", got)
					}
					switch erase {
					case "forget":
						if ok, err := eraser.Tenant(tenant).Forget(ctx, transform.FindTokens(tok)[0]); !ok || err != nil {
							t.Fatalf("forget: %v %v", ok, err)
						}
					case "shred":
						if ok, err := eraser.Shred(ctx, tenant); !ok || err != nil {
							t.Fatalf("shred: %v %v", ok, err)
						}
					}
					if mode.interval > 0 {
						if engine == store.SQLite {
							// No notification on SQLite: inside the interval
							// the replica still answers from its warm caches.
							// (If it did not, this test would prove nothing.)
							if got := mustRestore(t, rt, tok); got != value {
								t.Fatalf("the replica's caches were cold: %q", got)
							}
						}
						clk.add(mode.interval)
					}
					wantKeep := other
					if erase == "shred" {
						wantKeep = keep
					}
					if got := mustRestore(t, rt, tok+" "+keep); got != tok+" "+wantKeep {
						t.Fatalf("replica after the bound restores %q, want %q", got, tok+" "+wantKeep)
					}
					again := mustToken(t, rt, "EMAIL_ADDRESS", value)
					third := e.open().Tenant(tenant)
					switch {
					case erase == "forget" && again != tok:
						t.Fatalf("forgotten value re-tokenized as %s, want %s", again, tok)
					case erase == "shred" && again == tok:
						t.Fatal("replica re-issued the shredded tenant's cached token")
					}
					if got := mustRestore(t, third, again); got != value {
						t.Fatalf("the replica's token for the re-tokenized value does not restore elsewhere (%q): it was issued from cache without storing the original", got)
					}
				})
			}
		}
	})
}

// TestErasureNotifiesPostgresReplicas checks that on PostgreSQL a
// replica with a long invalidation interval still stops restoring an
// erased value at once, through LISTEN/NOTIFY.
func TestErasureNotifiesPostgresReplicas(t *testing.T) {
	e := newEnv(t, storetest.DSN(t, store.Postgres))
	ctx := context.Background()
	eraser := e.open()
	replica := e.open(func(c *Config) { c.InvalidationInterval = time.Hour; c.KeyCacheTTL = time.Hour })
	rt := replica.Tenant("acme")
	tok := mustToken(t, rt, "EMAIL_ADDRESS", "alice@example.com")
	mustRestore(t, rt, tok)
	// Wait for the replica's listener to be connected.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		replica.mu.Lock()
		listening := replica.epoch > 0
		replica.mu.Unlock()
		if listening {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the replica's listener did not connect")
		}
	}
	if ok, err := eraser.Tenant("acme").Forget(ctx, transform.FindTokens(tok)[0]); !ok || err != nil {
		t.Fatal(ok, err)
	}
	start := time.Now()
	for mustRestore(t, rt, tok) != tok {
		if time.Since(start) > 10*time.Second {
			t.Fatal("the replica still restores a forgotten value 10s after the erasure (interval 1h): no notification")
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("notified after %v", time.Since(start))
}

// TestStalledStoreFailsFast stalls the store (a lock held by another
// connection, as a stuck transaction or a frozen database would) and
// checks that vault calls fail within store.timeout with an error that
// names it, instead of waiting out SQLite's busy timeout (10s) or a
// PostgreSQL lock (for ever).
func TestStalledStoreFailsFast(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		const timeout = 500 * time.Millisecond
		sqlite := strings.HasPrefix(dsn, "sqlite:")
		e := newEnv(t, dsn)
		e.opts = store.Options{Timeout: timeout, MaxReaders: 1}
		ctx := context.Background()
		v := e.open(func(c *Config) { c.InvalidationInterval = -1 })
		tn := v.Tenant("acme")
		known := mustToken(t, tn, "PERSON", "Alice")
		mustRestore(t, tn, known) // warm caches
		cases := []struct {
			name   string
			reader bool // stalls readers (SQLite: all read connections taken)
			call   func() error
		}{
			{"tokenize a new value", false, func() error { _, err := tn.Token(ctx, "PERSON", "Bob"); return err }},
			{"forget", false, func() error { _, err := tn.Forget(ctx, transform.FindTokens(known)[0]); return err }},
			{"restore from a warm cache", true, func() error { _, _, err := tn.Restore(ctx, known); return err }},
			{"restore with a cold cache", true, func() error {
				_, _, err := e.open(func(c *Config) { c.InvalidationInterval = -1 }).Tenant("acme").Restore(ctx, known)
				return err
			}},
		}
		for _, c := range cases {
			t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
				var release func()
				if sqlite && c.reader {
					if strings.Contains(c.name, "cold") {
						t.Skip("a new store handle has read connections of its own, and SQLite readers cannot be stalled by a lock")
					}
					// WAL readers never wait for locks: stall them by
					// taking every read connection of the vault's store.
					conn, err := v.db.Read().Conn(ctx)
					if err != nil {
						t.Fatal(err)
					}
					release = func() { conn.Close() }
				} else {
					release = storetest.Lock(t, dsn, "tenants", "tokens")
				}
				defer release()
				start := time.Now()
				err := c.call()
				took := time.Since(start)
				if !errors.Is(err, store.ErrTimeout) {
					t.Fatalf("err = %v, want store.ErrTimeout", err)
				}
				if !strings.Contains(err.Error(), "store.timeout") {
					t.Fatalf("error %q does not name store.timeout", err)
				}
				if took > 10*timeout {
					t.Fatalf("failed after %v, want about store.timeout (%v)", took, timeout)
				}
			})
		}
		// Released, the vault works again and lost nothing.
		if got := mustRestore(t, e.open().Tenant("acme"), known); got != "Alice" {
			t.Fatalf("after the stall: %q", got)
		}
	})
}

// TestReplicaUnderConcurrentErasure runs tokenize and restore on a
// replica while another process keeps forgetting and shredding, for the
// race detector and for errors the interleaving could cause.
func TestReplicaUnderConcurrentErasure(t *testing.T) {
	e := newEnv(t, storetest.DSN(t, store.SQLite))
	ctx := context.Background()
	eraser := e.open()
	replica := e.open(func(c *Config) { c.InvalidationInterval = time.Millisecond })
	stop := make(chan struct{})
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tn := replica.Tenant("acme")
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				value := []string{"alice", "bob", "carol"}[(i+w)%3] + "@example.com"
				tok, err := tn.Token(ctx, "EMAIL_ADDRESS", value)
				if err == nil {
					var got string
					got, _, err = tn.Restore(ctx, tok)
					if err == nil && got != tok && got != value {
						err = errors.New("restored to another value: " + got)
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	// Forget continuously; shred every 250ms. A shred makes the
	// replica's inserts under the old tenant row fail and retry on the
	// new one; shreds faster than the replica's write queue drains could
	// exhaust its three attempts, which no real erasure does.
	deadline := time.Now().Add(800 * time.Millisecond)
	for lastShred := time.Now(); time.Now().Before(deadline); {
		tok, err := eraser.Tenant("acme").Token(ctx, "EMAIL_ADDRESS", "alice@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if time.Since(lastShred) > 250*time.Millisecond {
			_, err = eraser.Shred(ctx, "acme")
			lastShred = time.Now()
		} else {
			_, err = eraser.Tenant("acme").Forget(ctx, transform.FindTokens(tok)[0])
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

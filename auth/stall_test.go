package auth

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/store/storetest"
)

// TestStalledStoreIsNotAnInvalidKey stalls the store while keys are
// checked: the answer must come within store.timeout and be
// ErrUnavailable (the gateway's 503 + Retry-After), never ErrInvalidKey
// or ErrUnauthenticated (a 401 that makes clients drop a good key) — for
// a key never seen, and for one whose cache entry has expired.
func TestStalledStoreIsNotAnInvalidKey(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		const timeout = 500 * time.Millisecond
		ctx := context.Background()
		db := storetest.OpenWith(t, dsn, store.Options{Timeout: timeout, MaxReaders: 1})
		clk := newClock()
		keys := NewAPIKeys(db, 5*time.Second, clk.Now)
		key, _, err := keys.Create(ctx, KeySpec{Name: "alice", Models: []string{"*"}})
		if err != nil {
			t.Fatal(err)
		}
		other, _, err := keys.Create(ctx, KeySpec{Name: "bob", Models: []string{"*"}})
		if err != nil {
			t.Fatal(err)
		}
		is, err := NewIssuer(ctx, TokenConfig{}, IssuerDeps{APIKeys: keys, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		p, err := keys.Verify(ctx, key) // cached from now on, for 5s
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := is.Mint(ctx, p, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		a := &Authenticator{apiKeys: keys, issuer: is}

		if strings.HasPrefix(dsn, "sqlite:") {
			// WAL readers never wait for locks: take every read
			// connection, as queries stuck on a frozen disk would.
			conn, err := db.Read().Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
		} else {
			defer storetest.Lock(t, dsn, "api_keys")()
		}
		// Inside the cache TTL a verified key still works.
		if _, err := keys.Verify(ctx, key); err != nil {
			t.Fatalf("cached key during the stall: %v", err)
		}
		clk.Add(6 * time.Second)
		cases := []struct {
			name string
			call func() error
		}{
			{"cache entry expired", func() error { _, err := keys.Verify(ctx, key); return err }},
			{"key never seen", func() error { _, err := keys.Verify(ctx, other); return err }},
			{"Authenticate with an API key", func() error {
				r := httptest.NewRequest("POST", "/v1/chat/completions", nil)
				r.Header.Set("Authorization", "Bearer "+key)
				_, err := a.Authenticate(r)
				return err
			}},
			{"token minted from a key", func() error { _, err := is.Verify(ctx, tok); return err }},
		}
		for _, c := range cases {
			t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
				start := time.Now()
				err := c.call()
				took := time.Since(start)
				if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrInvalidKey) || errors.Is(err, ErrUnauthenticated) {
					t.Fatalf("err = %v, want ErrUnavailable (and neither ErrInvalidKey nor ErrUnauthenticated)", err)
				}
				if !errors.Is(err, store.ErrTimeout) || !strings.Contains(err.Error(), "store.timeout") {
					t.Fatalf("err = %v: does not say the store timed out", err)
				}
				if strings.Contains(err.Error(), key[4:16]) || strings.Contains(err.Error(), key[17:]) {
					t.Fatal("error contains the key")
				}
				if took > 10*timeout {
					t.Fatalf("answered after %v, want about store.timeout (%v)", took, timeout)
				}
			})
		}
	})
}

// TestSigningKeysDuringAStall stalls the store while the issuer's keys
// are due for a refresh: known keys keep signing and verifying, a token
// of an unknown key id is ErrUnavailable (not a 401 "unknown key id"),
// and the stalled store is asked once per reloadEvery, not once per
// caller (each would wait store.timeout under the issuer's lock).
func TestSigningKeysDuringAStall(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		const timeout = 500 * time.Millisecond
		ctx := context.Background()
		db := storetest.OpenWith(t, dsn, store.Options{Timeout: timeout, MaxReaders: 1})
		clk := newClock()
		is, err := NewIssuer(ctx, TokenConfig{}, IssuerDeps{Store: db, Keyring: testKeyring(t), Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		elsewhere, err := NewIssuer(ctx, TokenConfig{}, IssuerDeps{Now: clk.Now}) // a key is does not know
		if err != nil {
			t.Fatal(err)
		}
		p := &Principal{Name: "svc", Tenant: "acme", Models: []string{"*"}}
		foreign, _, err := elsewhere.Mint(ctx, p, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(dsn, "sqlite:") {
			conn, err := db.Read().Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
		} else {
			defer storetest.Lock(t, dsn, "auth_signing_keys")()
		}
		clk.Add(refreshEvery)
		start := time.Now()
		tok, _, err := is.Mint(ctx, p, 0, nil)
		if err != nil {
			t.Fatalf("mint with a known key during the stall: %v", err)
		}
		if _, err := is.Verify(ctx, tok); err != nil {
			t.Fatalf("verify a known key's token during the stall: %v", err)
		}
		_, err = is.Verify(ctx, foreign)
		if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrUnauthenticated) || !errors.Is(err, store.ErrTimeout) {
			t.Fatalf("unknown kid during the stall: %v, want ErrUnavailable", err)
		}
		if took := time.Since(start); took > 5*timeout {
			t.Fatalf("three calls took %v: the stalled store was asked more than once (store.timeout %v)", took, timeout)
		}
	})
}

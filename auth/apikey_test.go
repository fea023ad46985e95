package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/store/storetest"
)

func TestAPIKeys(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		clk := newClock()
		k := NewAPIKeys(db, 5*time.Second, clk.Now)

		key, info, err := k.Create(ctx, KeySpec{Name: "alice", Tenant: "acme", Models: []string{"gpt-4o-mini", "gpt-4o"}, Roles: []string{"dev"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(key) != apiKeyLen || !strings.HasPrefix(key, "wdn_"+info.ID+"_") {
			t.Fatalf("key has the wrong shape (len %d)", len(key))
		}
		p, err := k.Verify(ctx, key)
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		want := Principal{Name: "alice", Tenant: "acme", Roles: []string{"dev"}, Models: []string{"gpt-4o-mini", "gpt-4o"}, Method: MethodAPIKey, KeyID: info.ID}
		if !samePrincipal(*p, want) {
			t.Fatalf("principal %+v, want %+v", *p, want)
		}
		// The store holds only the hash.
		var stored []byte
		if err := db.Read().QueryRow(`SELECT secret_sha FROM api_keys WHERE id = $1`, info.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if len(stored) != 32 || strings.Contains(string(stored), key[len(key)-43:]) {
			t.Fatalf("stored secret is not a 32-byte hash")
		}

		// Wrong secret (same id), before and after the cache holds the key.
		wrong := key[:len(key)-1] + flipChar(key[len(key)-1])
		k2 := NewAPIKeys(db, 5*time.Second, clk.Now) // empty cache: database path
		for name, kk := range map[string]*APIKeys{"cached": k, "uncached": k2} {
			if _, err := kk.Verify(ctx, wrong); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("%s: wrong secret: %v, want ErrInvalidKey", name, err)
			}
		}
		malformed := map[string]string{
			"empty":           "",
			"no prefix":       key[4:],
			"other prefix":    "sk-" + key[4:],
			"short":           key[:len(key)-1],
			"long":            key + "A",
			"bad separator":   key[:16] + "-" + key[17:],
			"bad char id":     key[:5] + "*" + key[6:],
			"bad char secret": key[:len(key)-2] + "=" + key[len(key)-1:],
			"unknown id":      "wdn_AAAAAAAAAAAA_" + key[17:],
		}
		for name, m := range malformed {
			_, err := k.Verify(ctx, m)
			if !errors.Is(err, ErrInvalidKey) {
				t.Errorf("%s: %v, want ErrInvalidKey", name, err)
			}
			if err != nil && m != "" && strings.Contains(err.Error(), m) {
				t.Errorf("%s: error contains the key", name)
			}
		}

		// List shows no secret.
		list, err := k.List(ctx)
		if err != nil || len(list) != 1 || list[0].ID != info.ID || list[0].Name != "alice" || !list[0].RevokedAt.IsZero() {
			t.Fatalf("list = %+v, %v", list, err)
		}

		// Revoke by id: refused at once here.
		if n, err := k.Revoke(ctx, info.ID); n != 1 || err != nil {
			t.Fatalf("revoke by id: %d, %v", n, err)
		}
		if _, err := k.Verify(ctx, key); !errors.Is(err, ErrInvalidKey) {
			t.Fatalf("revoked key: %v", err)
		}
		if _, err := k.Revoke(ctx, info.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second revoke: %v, want ErrNotFound", err)
		}

		// Revoke by name takes every active key of that name.
		b1, _, _ := k.Create(ctx, KeySpec{Name: "batch", Models: []string{"*"}})
		b2, _, _ := k.Create(ctx, KeySpec{Name: "batch", Models: []string{"*"}})
		other, _, _ := k.Create(ctx, KeySpec{Name: "other", Models: []string{"*"}})
		if n, err := k.Revoke(ctx, "batch"); n != 2 || err != nil {
			t.Fatalf("revoke by name: %d, %v", n, err)
		}
		for _, b := range []string{b1, b2} {
			if _, err := k.Verify(ctx, b); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("revoked by name: %v", err)
			}
		}
		if p, err := k.Verify(ctx, other); err != nil || p.Tenant != "default" {
			t.Fatalf("unrelated key: %v, %v", p, err)
		}
		if _, err := k.Revoke(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("revoke unknown: %v", err)
		}
		list, _ = k.List(ctx)
		if len(list) != 4 {
			t.Fatalf("list has %d keys, want 4", len(list))
		}

		// Expiry, with the cache holding the key across it.
		exp, _, err := k.Create(ctx, KeySpec{Name: "temp", Models: []string{"m"}, Expires: clk.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.Verify(ctx, exp); err != nil {
			t.Fatalf("before expiry: %v", err)
		}
		clk.Add(time.Hour - time.Second)
		if _, err := k.Verify(ctx, exp); err != nil {
			t.Fatalf("a second before expiry: %v", err)
		}
		clk.Add(time.Second)
		for name, kk := range map[string]*APIKeys{"cached": k, "uncached": NewAPIKeys(db, 0, clk.Now)} {
			if _, err := kk.Verify(ctx, exp); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("%s: expired key: %v", name, err)
			}
		}
		if _, _, err := k.Create(ctx, KeySpec{Name: "past", Models: []string{"m"}, Expires: clk.Now().Add(-time.Second)}); err == nil {
			t.Error("created a key that expired already")
		}
	})
}

// TestAPIKeyRevocationCacheTTL: a replica that cached a key keeps
// accepting it after another replica revokes it, for at most the TTL.
func TestAPIKeyRevocationCacheTTL(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		clk := newClock()
		replicaA := NewAPIKeys(db, 5*time.Second, clk.Now)
		replicaB := NewAPIKeys(db, 5*time.Second, clk.Now)
		key, info, err := replicaB.Create(ctx, KeySpec{Name: "svc", Models: []string{"m"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := replicaA.Verify(ctx, key); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Second)
		if _, err := replicaB.Revoke(ctx, info.ID); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			advance time.Duration
			ok      bool
		}{
			{0, true}, // 1s after caching
			{3*time.Second + 999*time.Millisecond, true}, // 4.999s
			{time.Millisecond, false},                    // 5s: entry expired, database says revoked
			{time.Hour, false},
		}
		for i, s := range steps {
			clk.Add(s.advance)
			_, err := replicaA.Verify(ctx, key)
			if (err == nil) != s.ok {
				t.Fatalf("step %d: err = %v, want ok=%v", i, err, s.ok)
			}
		}
	})
}

func TestAPIKeyCreateValidation(t *testing.T) {
	k := NewAPIKeys(sqliteDB(t), 0, nil)
	cases := map[string]KeySpec{
		"no name":       {Models: []string{"m"}},
		"bad name":      {Name: "a b", Models: []string{"m"}},
		"bad tenant":    {Name: "a", Tenant: "x/y", Models: []string{"m"}},
		"no models":     {Name: "a"},
		"comma model":   {Name: "a", Models: []string{"a,b"}},
		"empty role":    {Name: "a", Models: []string{"m"}, Roles: []string{""}},
		"space in role": {Name: "a", Models: []string{"m"}, Roles: []string{"r 1"}},
	}
	for name, spec := range cases {
		if _, _, err := k.Create(context.Background(), spec); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParseKey(t *testing.T) {
	id := "AbCdEf-_1234"
	secret := strings.Repeat("x", 42) + "_"
	cases := []struct {
		in string
		ok bool
	}{
		{"wdn_" + id + "_" + secret, true},
		{"wdn_" + id + "-" + secret, false},
		{"wdn_" + id + "_" + secret[1:], false},
		{"WDN_" + id + "_" + secret, false},
		{"wdn_" + id[:11] + "._" + secret, false},
		{"wdn_" + id + "_" + secret[:42] + "\x00", false},
	}
	for _, c := range cases {
		gid, gsec, ok := parseKey(c.in)
		if ok != c.ok || (ok && (gid != id || gsec != secret)) {
			t.Errorf("parseKey(%q) = %q, %q, %v; want ok=%v", c.in, gid, gsec, ok, c.ok)
		}
	}
}

func FuzzParseKey(f *testing.F) {
	f.Add("wdn_AbCdEf-_1234_" + strings.Repeat("x", 43))
	f.Add("wdn_")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		id, secret, ok := parseKey(s)
		if !ok {
			return
		}
		if s != keyPrefix+id+"_"+secret || len(id) != keyIDLen || len(secret) != secretLen || !isBase64URL(id+secret) {
			t.Fatalf("parseKey accepted a key of the wrong shape")
		}
	})
}

func flipChar(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func samePrincipal(a, b Principal) bool {
	return a.Name == b.Name && a.Tenant == b.Tenant && a.Method == b.Method && a.KeyID == b.KeyID &&
		strings.Join(a.Roles, ",") == strings.Join(b.Roles, ",") && strings.Join(a.Models, ",") == strings.Join(b.Models, ",") &&
		a.Expires.Equal(b.Expires)
}

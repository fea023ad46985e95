package auth

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// BenchmarkAPIKeyVerifyCached is the hot path: a key verified within the
// cache TTL (SHA-256 of the secret, a map lookup, a constant-time compare).
func BenchmarkAPIKeyVerifyCached(b *testing.B) {
	ctx := context.Background()
	k := NewAPIKeys(sqliteDB(b), 0, nil)
	key, _, err := k.Create(ctx, KeySpec{Name: "bench", Models: []string{"m"}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := k.Verify(ctx, key); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Verify(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAPIKeyVerifyUncached reads the key from SQLite each time.
func BenchmarkAPIKeyVerifyUncached(b *testing.B) {
	ctx := context.Background()
	db := sqliteDB(b)
	k := NewAPIKeys(db, 0, nil)
	key, _, err := k.Create(ctx, KeySpec{Name: "bench", Models: []string{"m"}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		k.mu.Lock()
		clear(k.cache)
		k.mu.Unlock()
		if _, err := k.Verify(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTokenVerify checks one of the gateway's own EdDSA tokens:
// cached (seen before) and the full signature and claims check.
func BenchmarkTokenVerify(b *testing.B) {
	ctx := context.Background()
	clk := newClock()
	is := newMemIssuer(b, clk)
	tok, _, err := is.Mint(ctx, testPrincipal(), 0, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := is.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("signature", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := is.verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkOIDCVerify checks RS256 and ES256 IdP tokens (JWKS cached),
// cached and with the full signature check.
func BenchmarkOIDCVerify(b *testing.B) {
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.ES256} {
		b.Run(string(alg), func(b *testing.B) {
			d := newIDP(b)
			clk := newClock()
			v := newOIDC(b, d.config(), clk)
			std, extra := idpClaims(clk.Now())
			var tok string
			if alg == jose.RS256 {
				tok = signWith(b, alg, d.rsa, "rsa1", std, extra)
			} else {
				tok = signWith(b, alg, d.ec, "ec1", std, extra)
			}
			ctx := context.Background()
			b.Run("cached", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := v.verify(ctx, tok); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("signature", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := v.verifyUncached(ctx, tok, v.cfg.Audience); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkAuthenticateAPIKey is the whole Authenticate call for an API
// key in the Authorization header.
func BenchmarkAuthenticateAPIKey(b *testing.B) {
	ctx := context.Background()
	a, err := New(ctx, Config{}, Deps{Store: sqliteDB(b)})
	if err != nil {
		b.Fatal(err)
	}
	key, _, _ := a.APIKeys().Create(ctx, KeySpec{Name: "bench", Models: []string{"m"}})
	r := httptest.NewRequest("POST", "/v1/chat/completions", nil)
	r.Header.Set("Authorization", "Bearer "+key)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Authenticate(r); err != nil {
			b.Fatal(err)
		}
	}
}

package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/wardenhq/warden/store/storetest"
)

func testPrincipal() *Principal {
	return &Principal{Name: "alice", Tenant: "acme", Roles: []string{"dev"}, Models: []string{"gpt-4o-mini", "gpt-4o"}, Method: MethodAPIKey}
}

func newMemIssuer(t testing.TB, clk *clock) *Issuer {
	t.Helper()
	is, err := NewIssuer(context.Background(), TokenConfig{}, IssuerDeps{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return is
}

func TestIssuerMintVerify(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	is := newMemIssuer(t, clk)
	if is.Persistent() {
		t.Fatal("issuer without store is persistent")
	}
	tok, exp, err := is.Mint(ctx, testPrincipal(), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := exp.Sub(clk.Now()); got != MaxTokenLifetime {
		t.Fatalf("lifetime %v, want %v", got, MaxTokenLifetime)
	}
	p, err := is.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	want := Principal{Name: "alice", Tenant: "acme", Roles: []string{"dev"}, Models: []string{"gpt-4o-mini", "gpt-4o"}, Method: MethodToken, Expires: exp}
	if !samePrincipal(*p, want) {
		t.Fatalf("principal %+v, want %+v", *p, want)
	}
	// Claims on the wire.
	parsed, _ := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.EdDSA})
	var m map[string]any
	parsed.UnsafeClaimsWithoutVerification(&m)
	for _, c := range []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "tenant", "roles", "models"} {
		if _, ok := m[c]; !ok {
			t.Errorf("claim %s missing", c)
		}
	}
	if parsed.Headers[0].Algorithm != "EdDSA" || parsed.Headers[0].KeyID == "" {
		t.Errorf("header %+v", parsed.Headers[0])
	}

	// Narrowed models and lifetime.
	tok2, exp2, err := is.Mint(ctx, testPrincipal(), time.Minute, []string{"gpt-4o"})
	if err != nil || exp2.Sub(clk.Now()) != time.Minute {
		t.Fatalf("narrow mint: %v, %v", exp2, err)
	}
	if p, _ := is.Verify(ctx, tok2); p == nil || strings.Join(p.Models, ",") != "gpt-4o" {
		t.Fatalf("narrowed models: %+v", p)
	}
	if _, _, err := is.Mint(ctx, testPrincipal(), 0, []string{"claude"}); err == nil {
		t.Fatal("minted a token for a model the key may not use")
	}
	// Never past the credential's own expiry.
	short := testPrincipal()
	short.Expires = clk.Now().Add(2 * time.Minute)
	if _, exp, _ := is.Mint(ctx, short, 0, nil); !exp.Equal(short.Expires) {
		t.Fatalf("token outlives its key: %v > %v", exp, short.Expires)
	}

	// Lifetime boundary: valid until exp + leeway, refused after.
	clk.Add(MaxTokenLifetime + 30*time.Second)
	if _, err := is.Verify(ctx, tok); err != nil {
		t.Fatalf("at exp+leeway: %v", err)
	}
	clk.Add(time.Second)
	if _, err := is.Verify(ctx, tok); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("after exp+leeway: %v", err)
	}
}

func TestIssuerConfigValidation(t *testing.T) {
	for name, cfg := range map[string]TokenConfig{
		"lifetime too long":  {Lifetime: 16 * time.Minute},
		"lifetime too short": {Lifetime: time.Millisecond},
		"rotation too short": {Rotation: time.Second},
		"leeway too long":    {Leeway: time.Hour},
	} {
		if _, err := NewIssuer(context.Background(), cfg, IssuerDeps{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestIssuerRotation: a new key signs after Rotation; the old public key
// stays in the JWKS, and its tokens verify, until they have all expired.
func TestIssuerRotation(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		kr := testKeyring(t)
		clk := newClock()
		cfg := TokenConfig{Rotation: time.Hour, Lifetime: 10 * time.Minute, Leeway: 30 * time.Second}
		a, err := NewIssuer(ctx, cfg, IssuerDeps{Store: db, Keyring: kr, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		if !a.Persistent() {
			t.Fatal("issuer with store and keyring is not persistent")
		}
		// No private key rests in the clear.
		var sealed, pub []byte
		if err := db.Read().QueryRow(`SELECT private_sealed, public_key FROM auth_signing_keys`).Scan(&sealed, &pub); err != nil {
			t.Fatal(err)
		}
		if len(sealed) <= ed25519.SeedSize {
			t.Fatalf("sealed key is %d bytes", len(sealed))
		}

		old, _, err := a.Mint(ctx, testPrincipal(), 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		oldKid := kidOf(t, old)

		// A second replica (or a restart) shares the key.
		b, err := NewIssuer(ctx, cfg, IssuerDeps{Store: db, Keyring: kr, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Verify(ctx, old); err != nil {
			t.Fatalf("replica verifying: %v", err)
		}
		if tb, _, _ := b.Mint(ctx, testPrincipal(), 0, nil); kidOf(t, tb) != oldKid {
			t.Fatal("replica signs with another key before rotation is due")
		}

		clk.Add(55 * time.Minute)
		old, _, _ = a.Mint(ctx, testPrincipal(), 0, nil) // a late token of the old key, exp = 65m
		if len(jwksKids(t, a)) != 1 {
			t.Fatal("next key published too early")
		}
		// 2 minutes before retirement the next key is made and published,
		// but the old key still signs.
		clk.Add(3*time.Minute + time.Second)
		pre := jwksKids(t, a)
		if len(pre) != 2 {
			t.Fatalf("jwks before rotation = %v, want the old and the next key", pre)
		}
		if tok, _, _ := a.Mint(ctx, testPrincipal(), 0, nil); kidOf(t, tok) != oldKid {
			t.Fatal("next key signs before its time")
		}
		clk.Add(2*time.Minute - time.Second) // 60m: rotation due
		fresh, _, err := a.Mint(ctx, testPrincipal(), 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		newKid := kidOf(t, fresh)
		if newKid == oldKid || (newKid != pre[0] && newKid != pre[1]) {
			t.Fatalf("signing with %s; want the prepublished key from %v", newKid, pre)
		}
		if tb, _, _ := b.Mint(ctx, testPrincipal(), 0, nil); kidOf(t, tb) != newKid {
			t.Fatal("replicas sign with different keys after rotation")
		}
		// Replica b meets the new kid and reloads (after reloadEvery).
		if _, err := b.Verify(ctx, fresh); err != nil {
			t.Fatalf("replica, new key: %v", err)
		}
		if got := jwksKids(t, a); strings.Join(got, ",") != strings.Join(sorted(oldKid, newKid), ",") {
			t.Fatalf("jwks during overlap = %v", got)
		}
		if _, err := a.Verify(ctx, old); err != nil {
			t.Fatalf("old key's token during overlap: %v", err)
		}
		// 60m + 10m lifetime + 30s leeway: the old key is gone.
		clk.Add(10*time.Minute + 30*time.Second)
		if got := jwksKids(t, a); strings.Join(got, ",") != newKid {
			t.Fatalf("jwks after overlap = %v, want only %s", got, newKid)
		}
		if _, err := a.Verify(ctx, old); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("old token after its key expired: %v", err)
		}
		if _, err := a.Verify(ctx, fresh); err != nil {
			t.Fatalf("fresh token: %v", err)
		}
	})
}

// TestTokenDiesWithItsAPIKey: revoking a key refuses the tokens minted
// from it (within the API-key cache TTL).
func TestTokenDiesWithItsAPIKey(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db := sqliteDB(t)
	apiKeys := NewAPIKeys(db, 5*time.Second, clk.Now)
	is, err := NewIssuer(ctx, TokenConfig{}, IssuerDeps{APIKeys: apiKeys, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	key, info, _ := apiKeys.Create(ctx, KeySpec{Name: "svc", Models: []string{"m"}})
	p, err := apiKeys.Verify(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, _ := is.Mint(ctx, p, 0, nil)
	if got, err := is.Verify(ctx, tok); err != nil || got.KeyID != info.ID {
		t.Fatalf("before revoke: %+v, %v", got, err)
	}
	if _, err := apiKeys.Revoke(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	if _, err := is.Verify(ctx, tok); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("after revoke: %v", err)
	}
}

// Attack tests against the gateway's own tokens. Each forges a token a
// careless verifier would accept.
func TestTokenAttacks(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	is := newMemIssuer(t, clk)
	sk, _ := is.current(ctx)
	kid := sk.kid
	pub := is.keys[kid].pub
	now := clk.Now()
	good := func() (jwt.Claims, tokenClaims) {
		return jwt.Claims{Issuer: "warden", Subject: "alice", Audience: jwt.Audience{"warden"},
				Expiry: jwt.NewNumericDate(now.Add(10 * time.Minute)), NotBefore: jwt.NewNumericDate(now),
				IssuedAt: jwt.NewNumericDate(now), ID: "j1"},
			tokenClaims{Tenant: "acme", Models: []string{"*"}}
	}
	signOurs := func(mut func(*jwt.Claims)) string {
		c, x := good()
		mut(&c)
		tok, err := jwt.Signed(sk.signer).Claims(c).Claims(x).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	// The control: an honest token built the same way verifies.
	if _, err := is.Verify(ctx, signOurs(func(*jwt.Claims) {})); err != nil {
		t.Fatalf("control token refused: %v", err)
	}
	c, x := good()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	otherEd, _ := newEd25519Signer(t, kid)

	attacks := map[string]string{
		"AlgNone":                    unsignedToken(t, map[string]any{"alg": "none", "kid": kid, "typ": "JWT"}, c, x),
		"AlgNoneEmptyKid":            unsignedToken(t, map[string]any{"alg": "none"}, c, x),
		"HS256WithPublicKeyAsSecret": signWith(t, jose.HS256, []byte(pub), kid, c, x),
		"HS256WithJWKAsSecret":       signWith(t, jose.HS256, jwkJSON(t, pub, kid), kid, c, x),
		"RS256WhenEdDSAExpected":     signWith(t, jose.RS256, rsaKey, kid, c, x),
		"OtherEd25519KeySameKid":     mustSerialize(t, jwt.Signed(otherEd).Claims(c).Claims(x)),
		"UnknownKid":                 signWith(t, jose.EdDSA, otherKey(t), "not-a-kid", c, x),
		"MissingKid":                 signWith(t, jose.EdDSA, otherKey(t), "", c, x),
		"Expired":                    signOurs(func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(now.Add(-time.Minute)) }),
		"NotYetValid":                signOurs(func(c *jwt.Claims) { c.NotBefore = jwt.NewNumericDate(now.Add(time.Minute)) }),
		"IssuedInFuture":             signOurs(func(c *jwt.Claims) { c.IssuedAt = jwt.NewNumericDate(now.Add(time.Minute)) }),
		"NoExpiry":                   signOurs(func(c *jwt.Claims) { c.Expiry = nil }),
		"LifetimeTooLong":            signOurs(func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(now.Add(time.Hour)) }),
		"WrongAudience":              signOurs(func(c *jwt.Claims) { c.Audience = jwt.Audience{"someone-else"} }),
		"WrongIssuer":                signOurs(func(c *jwt.Claims) { c.Issuer = "evil" }),
		"TamperedPayload":            tamper(t, signOurs(func(*jwt.Claims) {})),
		"Garbage":                    "a.b.c",
	}
	// Each attack must fail at the check meant to stop it.
	reasons := map[string]string{
		"AlgNone": "not signed with EdDSA", "AlgNoneEmptyKid": "not signed with EdDSA",
		"HS256WithPublicKeyAsSecret": "not signed with EdDSA", "HS256WithJWKAsSecret": "not signed with EdDSA",
		"RS256WhenEdDSAExpected": "not signed with EdDSA", "OtherEd25519KeySameKid": "bad signature",
		"UnknownKid": "unknown key id", "MissingKid": "missing key id", "Expired": "expired",
		"NotYetValid": "not valid yet", "IssuedInFuture": "issued in the future", "NoExpiry": "no exp",
		"LifetimeTooLong": "lifetime longer", "WrongAudience": "wrong audience", "WrongIssuer": "wrong issuer",
		"TamperedPayload": "bad signature", "Garbage": "malformed",
	}
	for name, tok := range attacks {
		t.Run(name, func(t *testing.T) {
			p, err := is.Verify(ctx, tok)
			if err == nil || !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("accepted (%+v) or wrong error: %v", p, err)
			}
			if !strings.Contains(err.Error(), reasons[name]) || reasons[name] == "" {
				t.Fatalf("refused for another reason: %v (want %q)", err, reasons[name])
			}
			if len(tok) > 20 && strings.Contains(err.Error(), tok[len(tok)-20:]) {
				t.Fatal("error contains the token")
			}
		})
	}
}

func TestTokenAndJWKSHandlers(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db := sqliteDB(t)
	apiKeys := NewAPIKeys(db, 0, clk.Now)
	is, err := NewIssuer(ctx, TokenConfig{}, IssuerDeps{APIKeys: apiKeys, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	key, _, _ := apiKeys.Create(ctx, KeySpec{Name: "svc", Tenant: "acme", Models: []string{"a", "b"}})
	mux := http.NewServeMux()
	mux.Handle("/v1/auth/token", is.TokenHandler(apiKeys))
	mux.Handle("/.well-known/jwks.json", is.JWKSHandler())
	srv := httptest.NewServer(mux)
	defer srv.Close()

	post := func(auth, body string) (*http.Response, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/auth/token", strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp, m
	}
	cases := []struct {
		name, auth, body string
		status           int
	}{
		{"ok", "Bearer " + key, "", 200},
		{"narrowed", "Bearer " + key, `{"models":["b"],"expires_in":60}`, 200},
		{"no credentials", "", "", 401},
		{"bad key", "Bearer wdn_AAAAAAAAAAAA_" + strings.Repeat("A", 43), "", 401},
		{"a JWT is not an API key", "Bearer eyJhbGciOiJub25lIn0.e30.", "", 401},
		{"model outside the key", "Bearer " + key, `{"models":["c"]}`, 403},
		{"unknown field", "Bearer " + key, `{"scope":"x"}`, 400},
		{"negative lifetime", "Bearer " + key, `{"expires_in":-1}`, 400},
		{"huge body", "Bearer " + key, `{"models":["` + strings.Repeat("a", 5000) + `"]}`, 413},
	}
	for _, c := range cases {
		resp, m := post(c.auth, c.body)
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d (%v)", c.name, resp.StatusCode, c.status, m)
			continue
		}
		if body, _ := json.Marshal(m); strings.Contains(string(body), key[17:]) {
			t.Errorf("%s: response echoes the key", c.name)
		}
		if c.status != 200 {
			continue
		}
		tok, _ := m["access_token"].(string)
		p, err := is.Verify(ctx, tok)
		if err != nil || p.Tenant != "acme" || m["token_type"] != "Bearer" {
			t.Errorf("%s: token verify %+v, %v (%v)", c.name, p, err, m)
		}
		if c.name == "narrowed" && (m["expires_in"] != float64(60) || strings.Join(p.Models, ",") != "b") {
			t.Errorf("narrowed: %v, models %v", m, p.Models)
		}
		// A third party verifies it with nothing but the JWKS.
		resp, err = http.Get(srv.URL + "/.well-known/jwks.json")
		if err != nil {
			t.Fatal(err)
		}
		var set jose.JSONWebKeySet
		json.NewDecoder(resp.Body).Decode(&set)
		resp.Body.Close()
		parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.EdDSA})
		if err != nil {
			t.Fatal(err)
		}
		ks := set.Key(parsed.Headers[0].KeyID)
		if len(ks) != 1 || ks[0].Algorithm != "EdDSA" || !ks[0].IsPublic() {
			t.Fatalf("jwks: %+v", set)
		}
		var claims jwt.Claims
		if err := parsed.Claims(ks[0].Key, &claims); err != nil || claims.Subject != "svc" {
			t.Fatalf("verifying with the JWKS: %v %+v", err, claims)
		}
	}
	if resp, _ := http.Get(srv.URL + "/v1/auth/token"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET token: %d", resp.StatusCode)
	}
}

// helpers for forging tokens

func kidOf(t *testing.T, tok string) string {
	t.Helper()
	p, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	return p.Headers[0].KeyID
}

func jwksKids(t *testing.T, is *Issuer) []string {
	t.Helper()
	set, err := is.JWKS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KeyID)
	}
	return out
}

func sorted(a, b string) []string {
	if a > b {
		a, b = b, a
	}
	return []string{a, b}
}

func b64json(t testing.TB, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func mergeClaims(t testing.TB, parts ...any) map[string]any {
	m := map[string]any{}
	for _, p := range parts {
		b, _ := json.Marshal(p)
		json.Unmarshal(b, &m)
	}
	return m
}

func unsignedToken(t testing.TB, header map[string]any, claims ...any) string {
	return b64json(t, header) + "." + b64json(t, mergeClaims(t, claims...)) + "."
}

func signWith(t testing.TB, alg jose.SignatureAlgorithm, key any, kid string, claims ...any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	b := jwt.Signed(s)
	for _, c := range claims {
		b = b.Claims(c)
	}
	return mustSerialize(t, b)
}

func mustSerialize(t testing.TB, b jwt.Builder) string {
	t.Helper()
	s, err := b.Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newEd25519Signer(t testing.TB, kid string) (jose.Signer, ed25519.PrivateKey) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: jose.JSONWebKey{Key: priv, KeyID: kid}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, priv
}

func otherKey(t testing.TB) ed25519.PrivateKey {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	return priv
}

func jwkJSON(t testing.TB, pub any, kid string) []byte {
	b, err := json.Marshal(jose.JSONWebKey{Key: pub, KeyID: kid})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tamper flips the payload's sub while keeping the signature.
func tamper(t testing.TB, tok string) string {
	parts := strings.Split(tok, ".")
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	json.Unmarshal(b, &m)
	m["sub"] = "admin"
	parts[1] = b64json(t, m)
	return strings.Join(parts, ".")
}

// TestIssuerRotationInMemory: without a store, rotation works the same
// within the process.
func TestIssuerRotationInMemory(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	is, err := NewIssuer(ctx, TokenConfig{Rotation: time.Hour, Lifetime: 5 * time.Minute}, IssuerDeps{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := is.Mint(ctx, testPrincipal(), 0, nil)
	clk.Add(time.Hour - time.Minute)
	if len(jwksKids(t, is)) != 2 {
		t.Fatal("next key not prepublished")
	}
	late, _, _ := is.Mint(ctx, testPrincipal(), 0, nil)
	clk.Add(time.Minute)
	second, _, _ := is.Mint(ctx, testPrincipal(), 0, nil)
	if kidOf(t, first) != kidOf(t, late) || kidOf(t, second) == kidOf(t, first) {
		t.Fatal("rotation did not switch keys at retirement")
	}
	for i, tok := range []string{late, second} {
		if _, err := is.Verify(ctx, tok); err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
	}
	clk.Add(5*time.Minute + 30*time.Second) // old key: retire + lifetime + leeway
	if got := jwksKids(t, is); len(got) != 1 || got[0] != kidOf(t, second) {
		t.Fatalf("jwks = %v", got)
	}
}

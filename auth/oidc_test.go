package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const idpIssuer = "https://login.corp.example/"

// idp is a stand-in OIDC issuer: an httptest JWKS server with an RSA and
// an EC key (and an HMAC key it must never trust).
type idp struct {
	srv     *httptest.Server
	rsa     *rsa.PrivateKey
	ec      *ecdsa.PrivateKey
	fetches atomic.Int32
	keys    atomic.Value // []jose.JSONWebKey
}

func newIDP(t testing.TB) *idp {
	t.Helper()
	d := &idp{}
	d.rsa, _ = rsa.GenerateKey(rand.Reader, 2048)
	d.ec, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	d.keys.Store([]jose.JSONWebKey{
		{Key: &d.rsa.PublicKey, KeyID: "rsa1", Algorithm: "RS256", Use: "sig"},
		{Key: &d.ec.PublicKey, KeyID: "ec1", Algorithm: "ES256", Use: "sig"},
		{Key: []byte("symmetric-secret-never-trusted!!"), KeyID: "hmac1", Algorithm: "HS256"},
	})
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/jwks":
			d.fetches.Add(1)
			json.NewEncoder(w).Encode(map[string]any{"keys": d.keys.Load()})
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]string{"issuer": d.srv.URL, "jwks_uri": d.srv.URL + "/jwks"})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(d.srv.Close)
	return d
}

func (d *idp) config() OIDCConfig {
	return OIDCConfig{
		Issuer:   idpIssuer,
		Audience: "warden-gateway",
		JWKSURL:  d.srv.URL + "/jwks",
		Claims:   ClaimMapping{Principal: "email", Tenant: "org", Roles: "realm_access.roles", Models: "https://corp.example/models"},
		RoleModels: map[string][]string{
			"analyst": {"gpt-4o-mini"},
		},
	}
}

func idpClaims(now time.Time) (jwt.Claims, map[string]any) {
	return jwt.Claims{Issuer: idpIssuer, Subject: "u-123", Audience: jwt.Audience{"warden-gateway", "other"},
			Expiry: jwt.NewNumericDate(now.Add(time.Hour)), NotBefore: jwt.NewNumericDate(now), IssuedAt: jwt.NewNumericDate(now)},
		map[string]any{"email": "bob@corp.example", "org": "acme",
			"realm_access": map[string]any{"roles": []string{"analyst", "viewer"}}, "https://corp.example/models": "claude-3"}
}

func newOIDC(t testing.TB, cfg OIDCConfig, clk *clock) *oidcVerifier {
	t.Helper()
	v, err := newOIDCVerifier(cfg, nil, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOIDCVerify(t *testing.T) {
	d := newIDP(t)
	clk := newClock()
	v := newOIDC(t, d.config(), clk)
	std, extra := idpClaims(clk.Now())
	for _, tok := range []string{
		signWith(t, jose.RS256, d.rsa, "rsa1", std, extra),
		signWith(t, jose.ES256, d.ec, "ec1", std, extra),
	} {
		p, err := v.verify(context.Background(), tok)
		if err != nil {
			t.Fatal(err)
		}
		want := Principal{Name: "bob@corp.example", Tenant: "acme", Roles: []string{"analyst", "viewer"},
			Models: []string{"claude-3", "gpt-4o-mini"}, Method: MethodOIDC, Expires: std.Expiry.Time()}
		if !samePrincipal(*p, want) {
			t.Fatalf("principal %+v, want %+v", *p, want)
		}
	}
	if n := d.fetches.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times, want 1", n)
	}
}

func TestOIDCClaimMappingDefaults(t *testing.T) {
	d := newIDP(t)
	clk := newClock()
	cfg := OIDCConfig{Issuer: idpIssuer, Audience: "warden-gateway", JWKSURL: d.srv.URL + "/jwks", DefaultModels: []string{"small"}}
	v := newOIDC(t, cfg, clk)
	std, _ := idpClaims(clk.Now())
	p, err := v.verify(context.Background(), signWith(t, jose.RS256, d.rsa, "rsa1", std, map[string]any{"roles": "a b"}))
	if err != nil {
		t.Fatal(err)
	}
	want := Principal{Name: "u-123", Tenant: "default", Roles: []string{"a", "b"}, Models: []string{"small"}, Method: MethodOIDC, Expires: std.Expiry.Time()}
	if !samePrincipal(*p, want) {
		t.Fatalf("principal %+v, want %+v", *p, want)
	}
	for name, extra := range map[string]map[string]any{
		"roles not strings": {"roles": []any{1, 2}},
		"roles an object":   {"roles": map[string]any{"x": 1}},
	} {
		if _, err := v.verify(context.Background(), signWith(t, jose.RS256, d.rsa, "rsa1", std, extra)); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s: %v", name, err)
		}
	}
	cfg.Claims.Tenant = "org"
	v = newOIDC(t, cfg, clk)
	if _, err := v.verify(context.Background(), signWith(t, jose.RS256, d.rsa, "rsa1", std, map[string]any{"org": "../etc"})); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("bad tenant: %v", err)
	}
}

// TestOIDCDiscovery: with no jwks_url the key set is found through the
// discovery document at first use, not at construction.
func TestOIDCDiscovery(t *testing.T) {
	d := newIDP(t)
	clk := newClock()
	cfg := d.config()
	cfg.Issuer, cfg.JWKSURL = d.srv.URL, ""
	v := newOIDC(t, cfg, clk)
	if d.fetches.Load() != 0 {
		t.Fatal("fetched at construction")
	}
	std, extra := idpClaims(clk.Now())
	std.Issuer = d.srv.URL
	if _, err := v.verify(context.Background(), signWith(t, jose.RS256, d.rsa, "rsa1", std, extra)); err != nil {
		t.Fatal(err)
	}
}

// TestOIDCUnknownKidThrottled: forged kids cannot make the gateway
// hammer the IdP; a key rotated in at the IdP is picked up once the
// floor has passed.
func TestOIDCUnknownKidThrottled(t *testing.T) {
	d := newIDP(t)
	clk := newClock()
	v := newOIDC(t, d.config(), clk)
	std, extra := idpClaims(clk.Now())
	ctx := context.Background()
	if _, err := v.verify(ctx, signWith(t, jose.RS256, d.rsa, "rsa1", std, extra)); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		kid := "forged-" + string(rune('a'+i%26))
		if _, err := v.verify(ctx, signWith(t, jose.RS256, d.rsa, kid, std, extra)); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("forged kid: %v", err)
		}
	}
	if n := d.fetches.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times within the floor, want 1", n)
	}
	// The IdP rotates in a new key.
	newKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	d.keys.Store(append(d.keys.Load().([]jose.JSONWebKey), jose.JSONWebKey{Key: &newKey.PublicKey, KeyID: "rsa2", Algorithm: "RS256", Use: "sig"}))
	tok := signWith(t, jose.RS256, newKey, "rsa2", std, extra)
	if _, err := v.verify(ctx, tok); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("new kid inside the floor: %v", err)
	}
	clk.Add(time.Minute)
	if _, err := v.verify(ctx, tok); err != nil {
		t.Fatalf("new kid after the floor: %v", err)
	}
	if n := d.fetches.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2", n)
	}
}

// Attack tests against OIDC tokens.
func TestOIDCAttacks(t *testing.T) {
	d := newIDP(t)
	clk := newClock()
	v := newOIDC(t, d.config(), clk)
	now := clk.Now()
	std, extra := idpClaims(now)
	with := func(mut func(*jwt.Claims)) jwt.Claims {
		c := std
		mut(&c)
		return c
	}
	rsaPubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&d.rsa.PublicKey))})
	rsaPubDER := x509.MarshalPKCS1PublicKey(&d.rsa.PublicKey)
	otherRSA, _ := rsa.GenerateKey(rand.Reader, 2048)
	unpublished, _ := rsa.GenerateKey(rand.Reader, 2048)
	smallRSA, _ := rsa.GenerateKey(rand.Reader, 1024)
	// A second RS256 key makes a kid-less RS256 token ambiguous.
	d.keys.Store(append(d.keys.Load().([]jose.JSONWebKey), jose.JSONWebKey{Key: &smallRSA.PublicKey, KeyID: "small", Algorithm: "RS256"},
		jose.JSONWebKey{Key: &otherRSA.PublicKey, KeyID: "rsa-other", Algorithm: "RS256"}))
	otherEC, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

	attacks := []struct{ name, tok, reason string }{
		{"AlgNone", unsignedToken(t, map[string]any{"alg": "none", "kid": "rsa1"}, std, extra), "alg is not accepted"},
		{"HS256WithRSAPublicKeyPEMAsSecret", signWith(t, jose.HS256, rsaPubPEM, "rsa1", std, extra), "alg is not accepted"},
		{"HS256WithRSAPublicKeyDERAsSecret", signWith(t, jose.HS256, rsaPubDER, "rsa1", std, extra), "alg is not accepted"},
		{"HS256WithPublishedHMACKey", signWith(t, jose.HS256, []byte("symmetric-secret-never-trusted!!"), "hmac1", std, extra), "alg is not accepted"},
		{"ES256HeaderOnRSAKid", signWith(t, jose.ES256, otherEC, "rsa1", std, extra), "does not fit its alg"},
		{"RS256HeaderOnECKid", signWith(t, jose.RS256, unpublished, "ec1", std, extra), "does not fit its alg"},
		{"PS256OnKeyPinnedToRS256", signWith(t, jose.PS256, d.rsa, "rsa1", std, extra), "does not fit its alg"},
		{"RSAKeyTooSmall", signWith(t, jose.RS256, smallRSA, "small", std, extra), "does not fit its alg"},
		{"WrongKeySameKid", signWith(t, jose.RS256, unpublished, "rsa1", std, extra), "bad signature"},
		{"UnknownKid", signWith(t, jose.RS256, d.rsa, "nope", std, extra), "unknown key id"},
		{"NoKidAmbiguous", signWith(t, jose.RS256, d.rsa, "", std, extra), "no kid"},
		{"Expired", signWith(t, jose.RS256, d.rsa, "rsa1", with(func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(now.Add(-2 * time.Minute)) }), extra), "expired"},
		{"NotYetValid", signWith(t, jose.RS256, d.rsa, "rsa1", with(func(c *jwt.Claims) { c.NotBefore = jwt.NewNumericDate(now.Add(2 * time.Minute)) }), extra), "not valid yet"},
		{"NoExpiry", signWith(t, jose.RS256, d.rsa, "rsa1", with(func(c *jwt.Claims) { c.Expiry = nil }), extra), "no exp"},
		{"WrongAudience", signWith(t, jose.RS256, d.rsa, "rsa1", with(func(c *jwt.Claims) { c.Audience = jwt.Audience{"another-app"} }), extra), "wrong audience"},
		{"WrongIssuer", signWith(t, jose.RS256, d.rsa, "rsa1", with(func(c *jwt.Claims) { c.Issuer = "https://evil.example/" }), extra), "wrong issuer"},
		{"NoPrincipalClaim", signWith(t, jose.RS256, d.rsa, "rsa1", std, map[string]any{"org": "acme"}), "principal claim"},
		{"TamperedPayload", tamper(t, signWith(t, jose.RS256, d.rsa, "rsa1", std, extra)), "bad signature"},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			p, err := v.verify(context.Background(), a.tok)
			if err == nil || !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("accepted (%+v) or wrong error: %v", p, err)
			}
			if !strings.Contains(err.Error(), a.reason) {
				t.Fatalf("refused for another reason: %v (want %q)", err, a.reason)
			}
		})
	}
}

func TestOIDCConfigValidation(t *testing.T) {
	for name, cfg := range map[string]OIDCConfig{
		"no audience":        {Issuer: idpIssuer},
		"http issuer":        {Issuer: "http://idp.corp.example/", Audience: "a"},
		"http jwks":          {Issuer: idpIssuer, Audience: "a", JWKSURL: "http://idp.corp.example/jwks"},
		"relative jwks":      {Issuer: idpIssuer, Audience: "a", JWKSURL: "/jwks"},
		"symmetric alg":      {Issuer: idpIssuer, Audience: "a", Algorithms: []string{"HS256"}},
		"alg none":           {Issuer: idpIssuer, Audience: "a", Algorithms: []string{"none"}},
		"leeway over bounds": {Issuer: idpIssuer, Audience: "a", Leeway: time.Hour},
	} {
		if _, err := newOIDCVerifier(cfg, nil, time.Now); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestOIDCNoKid: a token without kid verifies only when exactly one
// published key fits its alg.
func TestOIDCNoKid(t *testing.T) {
	d := newIDP(t)
	clk := newClock()
	v := newOIDC(t, d.config(), clk)
	std, extra := idpClaims(clk.Now())
	if _, err := v.verify(context.Background(), signWith(t, jose.ES256, d.ec, "", std, extra)); err != nil {
		t.Fatalf("one EC key, no kid: %v", err)
	}
}

// TestOIDCTokenForAnotherResourceIsRefused: an MCP endpoint takes an IdP
// token only when its aud names that endpoint (RFC 8707); a token for
// the model API or for another endpoint is refused there, and one for
// the endpoint is refused on the model API.
func TestOIDCTokenForAnotherResourceIsRefused(t *testing.T) {
	d := newIDP(t)
	clk := newClock()
	v := newOIDC(t, d.config(), clk)
	const crm = "https://warden.corp.example/mcp/crm"
	std, extra := idpClaims(clk.Now())
	gatewayTok := signWith(t, jose.ES256, d.ec, "ec1", std, extra)
	std.Audience = jwt.Audience{crm}
	crmTok := signWith(t, jose.ES256, d.ec, "ec1", std, extra)
	ctx := context.Background()
	if _, err := v.verifyFor(ctx, crmTok, crm); err != nil {
		t.Fatalf("token for the endpoint: %v", err)
	}
	if _, err := v.verify(ctx, gatewayTok); err != nil { // cached for the model API
		t.Fatal(err)
	}
	for name, c := range map[string]struct{ tok, aud string }{
		"gateway token at the endpoint":   {gatewayTok, crm},
		"endpoint token at another one":   {crmTok, "https://warden.corp.example/mcp/hr"},
		"endpoint token at the model API": {crmTok, v.cfg.Audience},
	} {
		if _, err := v.verifyFor(ctx, c.tok, c.aud); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s: err %v, want ErrUnauthenticated", name, err)
		}
	}
}

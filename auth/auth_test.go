package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// clientCert makes a certificate with the given subject CN and SANs.
func clientCert(t testing.TB, cn string, dns []string, uri string, email string) *x509.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, DNSNames: dns,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	if uri != "" {
		u, _ := url.Parse(uri)
		tmpl.URIs = []*url.URL{u}
	}
	if email != "" {
		tmpl.EmailAddresses = []string{email}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

type authFixture struct {
	a      *Authenticator
	clk    *clock
	idp    *idp
	apiKey string
}

func newAuthFixture(t *testing.T) *authFixture {
	t.Helper()
	ctx := context.Background()
	f := &authFixture{clk: newClock(), idp: newIDP(t)}
	cfg := Config{
		OIDC: f.idp.config(),
		MTLS: MTLSConfig{Principals: []MTLSPrincipal{
			{CN: "batch-job", Models: []string{"m1"}, Tenant: "ops"},
			{DNS: "svc.corp.internal", Name: "svc", Models: []string{"m2"}},
			{URI: "spiffe://corp/ns/app", Models: []string{"*"}, Roles: []string{"app"}},
			{Email: "robot@corp.example", Models: []string{"m3"}},
			{SPIFFE: "spiffe://corp.example/ns/billing/sa/api", Name: "billing-api", Models: []string{"m4"}},
			{SPIFFE: "spiffe://corp.example/ns/prod/*", Models: []string{"*"}, Roles: []string{"prod"}},
		}},
	}
	var err error
	f.a, err = New(ctx, cfg, Deps{Store: sqliteDB(t), Keyring: testKeyring(t), Now: f.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.apiKey, _, err = f.a.APIKeys().Create(ctx, KeySpec{Name: "alice", Tenant: "acme", Models: []string{"gpt-4o-mini"}})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestAuthenticate(t *testing.T) {
	f := newAuthFixture(t)
	ctx := context.Background()
	akP, err := f.a.APIKeys().Verify(ctx, f.apiKey)
	if err != nil {
		t.Fatal(err)
	}
	ourToken, _, err := f.a.Issuer().Mint(ctx, akP, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	std, extra := idpClaims(f.clk.Now())
	oidcToken := signWith(t, jose.RS256, f.idp.rsa, "rsa1", std, extra)
	chain := func(c *x509.Certificate) *tls.ConnectionState {
		return &tls.ConnectionState{PeerCertificates: []*x509.Certificate{c}, VerifiedChains: [][]*x509.Certificate{{c}}}
	}
	unverified := func(c *x509.Certificate) *tls.ConnectionState {
		return &tls.ConnectionState{PeerCertificates: []*x509.Certificate{c}}
	}
	cases := []struct {
		name    string
		headers map[string]string
		tls     *tls.ConnectionState
		method  string // "" means refused
		who     string
	}{
		{"api key bearer", map[string]string{"Authorization": "Bearer " + f.apiKey}, nil, MethodAPIKey, "alice"},
		{"api key lowercase scheme", map[string]string{"Authorization": "bearer " + f.apiKey}, nil, MethodAPIKey, "alice"},
		{"api key x-api-key", map[string]string{"X-Api-Key": f.apiKey}, nil, MethodAPIKey, "alice"},
		{"same key in both headers", map[string]string{"Authorization": "Bearer " + f.apiKey, "X-Api-Key": f.apiKey}, nil, MethodAPIKey, "alice"},
		{"our token", map[string]string{"Authorization": "Bearer " + ourToken}, nil, MethodToken, "alice"},
		{"oidc token", map[string]string{"Authorization": "Bearer " + oidcToken}, nil, MethodOIDC, "bob@corp.example"},
		{"mtls cn", nil, chain(clientCert(t, "batch-job", nil, "", "")), MethodMTLS, "batch-job"},
		{"mtls dns", nil, chain(clientCert(t, "x", []string{"a.example", "svc.corp.internal"}, "", "")), MethodMTLS, "svc"},
		{"mtls uri", nil, chain(clientCert(t, "x", nil, "spiffe://corp/ns/app", "")), MethodMTLS, "spiffe://corp/ns/app"},
		{"mtls email", nil, chain(clientCert(t, "x", nil, "", "robot@corp.example")), MethodMTLS, "robot@corp.example"},
		{"mtls spiffe id", nil, chain(clientCert(t, "", nil, "spiffe://corp.example/ns/billing/sa/api", "")), MethodMTLS, "billing-api"},
		{"mtls spiffe path pattern names the caller", nil, chain(clientCert(t, "", nil, "spiffe://corp.example/ns/prod/sa/worker", "")), MethodMTLS, "spiffe://corp.example/ns/prod/sa/worker"},
		{"spiffe pattern is a path, not a string prefix", nil, chain(clientCert(t, "", nil, "spiffe://corp.example/ns/production/sa/x", "")), "", ""},
		{"spiffe id of another trust domain", nil, chain(clientCert(t, "", nil, "spiffe://evil.example/ns/prod/sa/worker", "")), "", ""},
		{"not a valid spiffe id", nil, chain(clientCert(t, "", nil, "spiffe://corp.example/ns/prod/sa/../x", "")), "", ""},
		{"mtls wins over bearer", map[string]string{"Authorization": "Bearer " + f.apiKey}, chain(clientCert(t, "batch-job", nil, "", "")), MethodMTLS, "batch-job"},
		{"unmapped cert falls back to bearer", map[string]string{"Authorization": "Bearer " + f.apiKey}, chain(clientCert(t, "stranger", nil, "", "")), MethodAPIKey, "alice"},
		{"unverified cert is ignored", nil, unverified(clientCert(t, "batch-job", nil, "", "")), "", ""},
		{"unmapped cert alone", nil, chain(clientCert(t, "stranger", nil, "", "")), "", ""},
		{"no credentials", nil, nil, "", ""},
		{"basic auth", map[string]string{"Authorization": "Basic YTpi"}, nil, "", ""},
		{"empty bearer", map[string]string{"Authorization": "Bearer "}, nil, "", ""},
		{"conflicting headers", map[string]string{"Authorization": "Bearer " + f.apiKey, "X-Api-Key": "wdn_other"}, nil, "", ""},
		{"bad api key", map[string]string{"Authorization": "Bearer wdn_AAAAAAAAAAAA_" + strings.Repeat("A", 43)}, nil, "", ""},
		{"not a credential", map[string]string{"Authorization": "Bearer hello"}, nil, "", ""},
		{"untrusted issuer", map[string]string{"Authorization": "Bearer " + unsignedToken(t, map[string]any{"alg": "none"}, map[string]any{"iss": "https://evil.example/"})}, nil, "", ""},
		{"oversized", map[string]string{"Authorization": "Bearer " + strings.Repeat("a", maxCredentialLen+1)}, nil, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/v1/chat/completions", nil)
			for k, v := range c.headers {
				r.Header.Set(k, v)
			}
			r.TLS = c.tls
			p, err := f.a.Authenticate(r)
			if c.method == "" {
				if err == nil || !errors.Is(err, ErrUnauthenticated) {
					t.Fatalf("accepted %+v or wrong error %v", p, err)
				}
				for _, v := range c.headers {
					if len(v) > 16 && strings.Contains(err.Error(), v[len(v)-16:]) {
						t.Fatal("error contains the credential")
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Method != c.method || p.Name != c.who {
				t.Fatalf("got %s/%s, want %s/%s", p.Method, p.Name, c.method, c.who)
			}
		})
	}
}

func TestNewValidation(t *testing.T) {
	db := sqliteDB(t)
	for name, cfg := range map[string]Config{
		"same issuer":        {OIDC: OIDCConfig{Issuer: "https://warden.example/", Audience: "a"}, Tokens: TokenConfig{Issuer: "https://warden.example/"}},
		"mtls two selectors": {MTLS: MTLSConfig{Principals: []MTLSPrincipal{{CN: "a", DNS: "b", Models: []string{"m"}}}}},
		"mtls no selector":   {MTLS: MTLSConfig{Principals: []MTLSPrincipal{{Models: []string{"m"}}}}},
		"mtls no models":     {MTLS: MTLSConfig{Principals: []MTLSPrincipal{{CN: "a"}}}},
		"spiffe not an id":   {MTLS: MTLSConfig{Principals: []MTLSPrincipal{{SPIFFE: "https://corp.example/x", Models: []string{"m"}}}}},
		"spiffe inner *":     {MTLS: MTLSConfig{Principals: []MTLSPrincipal{{SPIFFE: "spiffe://corp.example/ns/*/x", Models: []string{"m"}}}}},
		"spiffe and cn":      {MTLS: MTLSConfig{Principals: []MTLSPrincipal{{SPIFFE: "spiffe://corp.example/x", CN: "x", Models: []string{"m"}}}}},
		"negative cache ttl": {APIKeys: APIKeyConfig{CacheTTL: -time.Second}},
		"bad token lifetime": {Tokens: TokenConfig{Lifetime: time.Hour}},
	} {
		if _, err := New(context.Background(), cfg, Deps{Store: db}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(context.Background(), Config{}, Deps{}); err == nil {
		t.Error("no store: accepted")
	}
	a, err := New(context.Background(), Config{Tokens: TokenConfig{Disabled: true}}, Deps{Store: db})
	if err != nil || a.Issuer() != nil {
		t.Fatalf("disabled tokens: %v, %v", a.Issuer(), err)
	}
}

func TestPeekIssuer(t *testing.T) {
	cases := []struct {
		in, iss string
		ok      bool
	}{
		{unsignedToken(t, map[string]any{"alg": "none"}, map[string]any{"iss": "x"}) + "sig", "x", true},
		{unsignedToken(t, map[string]any{"alg": "none"}, map[string]any{"sub": "x"}), "", false},
		{unsignedToken(t, map[string]any{"alg": "none"}, map[string]any{"iss": 7}), "", false},
		{"a.b", "", false},
		{"a.b.c.d", "", false},
		{"a.!!!.c", "", false},
		{"", "", false},
	}
	for _, c := range cases {
		iss, ok := peekIssuer(c.in)
		if iss != c.iss || ok != c.ok {
			t.Errorf("peekIssuer(%q) = %q, %v", c.in, iss, ok)
		}
	}
}

func FuzzPeekIssuer(f *testing.F) {
	f.Add("eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, s string) {
		iss, ok := peekIssuer(s)
		if ok && iss == "" {
			t.Fatal("ok with empty issuer")
		}
	})
}

// corruptSig changes one character in the middle of a JWT's signature to
// a different one, so the result never verifies. (Overwriting the last two
// characters with "AA" left a valid token whenever they already were, and
// the last character carries only padding bits.)
func corruptSig(tok string) string {
	i := len(tok) - 10
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}

// FuzzAuthenticate throws arbitrary credentials at every verifier: none
// may be accepted, and no error may echo the credential.
func FuzzAuthenticate(f *testing.F) {
	clk := newClock()
	db := sqliteDB(f)
	d := newIDP(f)
	a, err := New(context.Background(), Config{OIDC: d.config()}, Deps{Store: db, Now: clk.Now})
	if err != nil {
		f.Fatal(err)
	}
	p := &Principal{Name: "alice", Tenant: "acme", Models: []string{"m"}}
	tok, _, _ := a.Issuer().Mint(context.Background(), p, 0, nil)
	std, extra := idpClaims(clk.Now())
	idpTok := signWith(f, jose.ES256, d.ec, "ec1", std, extra)
	f.Add(corruptSig(idpTok))
	f.Add(signWith(f, jose.HS256, []byte("symmetric-secret-never-trusted!!"), "hmac1", std, extra))
	f.Add(corruptSig(tok))
	f.Add(strings.Replace(tok, ".", "..", 1))
	f.Add("wdn_AAAAAAAAAAAA_" + strings.Repeat("A", 43))
	f.Add("eyJhbGciOiJub25lIn0.eyJpc3MiOiJ3YXJkZW4ifQ.")
	f.Fuzz(func(t *testing.T, cred string) {
		if cred == tok {
			return
		}
		// The canary stands for a secret inside the credential: no
		// error may repeat it.
		const canary = "Zq9CANARYx7"
		for _, c := range []string{cred, cred + canary, canary + cred} {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("X-Api-Key", c)
			p, err := a.Authenticate(r)
			if err == nil {
				t.Fatalf("accepted a fuzzed credential as %+v", p)
			}
			if strings.Contains(err.Error(), canary) {
				t.Fatal("error echoes the credential")
			}
		}
	})
}

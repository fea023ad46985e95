package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// OIDCConfig accepts JWTs (ID or access tokens) from an enterprise OIDC
// issuer. Verification is done here with go-jose rather than with
// go-oidc's RemoteKeySet, which re-fetches the JWKS on every unknown kid
// with no floor (a flood of forged kids becomes a flood of requests to
// the IdP) and reads the JWKS body without a bound.
type OIDCConfig struct {
	// Issuer is the exact iss claim, e.g. https://login.corp.example/.
	// Empty: OIDC is off.
	Issuer string `yaml:"issuer"`
	// Audience must appear in the aud claim. Required.
	Audience string `yaml:"audience"`
	// JWKSURL is where the issuer's public keys are. Empty: discovered
	// from <issuer>/.well-known/openid-configuration at first use (never
	// at start). Must be https, except on a loopback host.
	JWKSURL string `yaml:"jwks_url"`
	// Algorithms accepted in the alg header. Default: RS256, RS384,
	// RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA. Symmetric
	// (HS*) algorithms and none are never accepted.
	Algorithms []string `yaml:"algorithms"`
	// Claims says which claims carry the principal, tenant, roles and
	// models. A name is looked up as is, then as a dotted path into
	// nested objects (realm_access.roles).
	Claims ClaimMapping `yaml:"claims"`
	// DefaultTenant is the tenant when Claims.Tenant is unset or absent
	// from a token. Default "default".
	DefaultTenant string `yaml:"default_tenant"`
	// RoleModels grants models by role: a caller may use the union over
	// its roles, plus what its models claim names.
	RoleModels map[string][]string `yaml:"role_models"`
	// DefaultModels apply when a token yields no model at all. Default
	// none: such a caller authenticates but may use no model.
	DefaultModels []string `yaml:"default_models"`
	// Leeway tolerates clock skew with the issuer. Default 60s, at most 5m.
	Leeway time.Duration `yaml:"leeway"`
	// JWKSRefresh is how often the key set is re-read. Default 1h.
	JWKSRefresh time.Duration `yaml:"jwks_refresh"`
	// JWKSMinInterval is the least time between two fetches of the key
	// set, whatever unknown kids arrive. Default 1m.
	JWKSMinInterval time.Duration `yaml:"jwks_min_interval"`
}

// ClaimMapping names the claims a principal is built from.
type ClaimMapping struct {
	// Principal claim. Default "sub".
	Principal string `yaml:"principal"`
	// Tenant claim. Default none (DefaultTenant).
	Tenant string `yaml:"tenant"`
	// Roles claim: a string array, or a space-separated string.
	// Default "roles".
	Roles string `yaml:"roles"`
	// Models claim, like Roles. Default none (RoleModels, DefaultModels).
	Models string `yaml:"models"`
}

const (
	maxJWKSBytes = 1 << 20
	maxClaimList = 256
)

var defaultOIDCAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA}

type oidcVerifier struct {
	cfg    OIDCConfig
	algs   []jose.SignatureAlgorithm
	client *http.Client
	now    func() time.Time

	verified *tokenCache

	fetchMu sync.Mutex // one fetch at a time
	mu      sync.Mutex
	jwksURL string
	keys    []jose.JSONWebKey
	fetched time.Time // last successful fetch
	tried   time.Time // last attempt
	lastErr error
}

func newOIDCVerifier(cfg OIDCConfig, client *http.Client, now func() time.Time) (*oidcVerifier, error) {
	if cfg.Audience == "" {
		return nil, errors.New("auth.oidc.audience: required when auth.oidc.issuer is set")
	}
	if _, err := checkURL(cfg.Issuer); err != nil {
		return nil, fmt.Errorf("auth.oidc.issuer: %v", err)
	}
	if cfg.JWKSURL != "" {
		if _, err := checkURL(cfg.JWKSURL); err != nil {
			return nil, fmt.Errorf("auth.oidc.jwks_url: %v", err)
		}
	}
	v := &oidcVerifier{cfg: cfg, client: client, now: now, jwksURL: cfg.JWKSURL, verified: newTokenCache()}
	for _, a := range cfg.Algorithms {
		alg := jose.SignatureAlgorithm(a)
		if _, ok := algFamily(alg); !ok {
			return nil, fmt.Errorf("auth.oidc.algorithms: %q is not an asymmetric JWS algorithm (RS*, PS*, ES*, EdDSA)", a)
		}
		v.algs = append(v.algs, alg)
	}
	if len(v.algs) == 0 {
		v.algs = defaultOIDCAlgs
	}
	c := &v.cfg
	if c.Claims.Principal == "" {
		c.Claims.Principal = "sub"
	}
	if c.Claims.Roles == "" {
		c.Claims.Roles = "roles"
	}
	if c.DefaultTenant == "" {
		c.DefaultTenant = "default"
	}
	switch {
	case c.Leeway == 0:
		c.Leeway = time.Minute
	case c.Leeway < 0 || c.Leeway > 5*time.Minute:
		return nil, errors.New("auth.oidc.leeway: must be between 0 and 5m")
	}
	if c.JWKSRefresh <= 0 {
		c.JWKSRefresh = time.Hour
	}
	if c.JWKSMinInterval <= 0 {
		c.JWKSMinInterval = time.Minute
	}
	if v.client == nil {
		v.client = &http.Client{Timeout: 10 * time.Second}
	}
	return v, nil
}

// checkURL demands an absolute https URL, or http on a loopback host.
func checkURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return nil, errors.New("want an absolute URL")
	}
	switch u.Scheme {
	case "https":
		return u, nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return u, nil
		}
	}
	return nil, errors.New("want https (http only on a loopback host)")
}

// algFamily says which key type alg needs.
func algFamily(alg jose.SignatureAlgorithm) (string, bool) {
	switch alg {
	case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
		return "RSA", true
	case jose.ES256, jose.ES384, jose.ES512:
		return "EC", true
	case jose.EdDSA:
		return "OKP", true
	}
	return "", false
}

// keyFits reports whether key may verify alg: the right type, curve and
// size, and no conflicting alg or use on the JWK.
func keyFits(k *jose.JSONWebKey, alg jose.SignatureAlgorithm) bool {
	if (k.Use != "" && k.Use != "sig") || (k.Algorithm != "" && k.Algorithm != string(alg)) {
		return false
	}
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		f, _ := algFamily(alg)
		return f == "RSA" && pub.N.BitLen() >= 2048
	case *ecdsa.PublicKey:
		want := map[jose.SignatureAlgorithm]elliptic.Curve{jose.ES256: elliptic.P256(), jose.ES384: elliptic.P384(), jose.ES512: elliptic.P521()}[alg]
		return want != nil && pub.Curve == want
	case ed25519.PublicKey:
		return alg == jose.EdDSA
	}
	return false // symmetric or private keys never verify
}

// verify checks an IdP token. One that passed is remembered until it
// expires, but at most JWKSMinInterval, so a key the IdP withdraws stops
// working soon after.
func (v *oidcVerifier) verify(ctx context.Context, raw string) (*Principal, error) {
	return v.verifyFor(ctx, raw, v.cfg.Audience)
}

// verifyFor checks an IdP token that must name aud in its aud claim.
func (v *oidcVerifier) verifyFor(ctx context.Context, raw, aud string) (*Principal, error) {
	now := v.now()
	key := raw
	if aud != v.cfg.Audience {
		key = aud + " " + raw
	}
	p, h, ok := v.verified.get(key, now)
	if ok {
		return p, nil
	}
	p, err := v.verifyUncached(ctx, raw, aud)
	if err != nil {
		return nil, err
	}
	v.verified.put(h, p, minTime(p.Expires.Add(v.cfg.Leeway+time.Nanosecond), now.Add(v.cfg.JWKSMinInterval)))
	return p, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func (v *oidcVerifier) verifyUncached(ctx context.Context, raw, aud string) (*Principal, error) {
	tok, err := jwt.ParseSigned(raw, v.algs)
	if err != nil {
		return nil, unauth("oidc token: malformed, or its alg is not accepted")
	}
	if len(tok.Headers) != 1 {
		return nil, unauth("oidc token: want one signature")
	}
	h := tok.Headers[0]
	key, err := v.key(ctx, h.KeyID, jose.SignatureAlgorithm(h.Algorithm))
	if err != nil {
		return nil, err
	}
	var std jwt.Claims
	var claims map[string]any
	if err := tok.Claims(key.Key, &std, &claims); err != nil {
		return nil, unauth("oidc token: bad signature or claims")
	}
	now := v.now()
	if err := checkTimes(std, now, v.cfg.Leeway, 0); err != nil {
		return nil, err
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: v.cfg.Issuer, AnyAudience: jwt.Audience{aud}, Time: now}, v.cfg.Leeway); err != nil {
		return nil, unauth("oidc token: " + claimError(err))
	}
	return v.principal(claims, std)
}

func (v *oidcVerifier) principal(claims map[string]any, std jwt.Claims) (*Principal, error) {
	c := v.cfg.Claims
	name, ok := lookupClaim(claims, c.Principal).(string)
	if !ok || name == "" || len(name) > 256 {
		return nil, unauth("oidc token: the principal claim " + c.Principal + " is missing or not a string")
	}
	tenant := v.cfg.DefaultTenant
	if c.Tenant != "" {
		if t, ok := lookupClaim(claims, c.Tenant).(string); ok && t != "" {
			if !namePattern.MatchString(t) {
				return nil, unauth("oidc token: the tenant claim " + c.Tenant + " is not a valid tenant name")
			}
			tenant = t
		}
	}
	roles, err := claimList(claims, c.Roles)
	if err != nil {
		return nil, err
	}
	var models []string
	if c.Models != "" {
		if models, err = claimList(claims, c.Models); err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	for _, m := range models {
		seen[m] = true
	}
	for _, r := range roles {
		for _, m := range v.cfg.RoleModels[r] {
			if !seen[m] {
				seen[m] = true
				models = append(models, m)
			}
		}
	}
	if len(models) == 0 {
		models = v.cfg.DefaultModels
	}
	return &Principal{Name: name, Tenant: tenant, Roles: roles, Models: models, Method: MethodOIDC, Expires: std.Expiry.Time()}, nil
}

// lookupClaim finds name as a top-level claim, else as a dotted path.
func lookupClaim(claims map[string]any, name string) any {
	if v, ok := claims[name]; ok {
		return v
	}
	var cur any = claims
	for part := range strings.SplitSeq(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// claimList reads a string array or space-separated string claim.
func claimList(claims map[string]any, name string) ([]string, error) {
	var out []string
	switch v := lookupClaim(claims, name).(type) {
	case nil:
		return nil, nil
	case string:
		out = strings.Fields(v)
	case []any:
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, unauth("oidc token: claim " + name + " holds a non-string")
			}
			out = append(out, s)
		}
	default:
		return nil, unauth("oidc token: claim " + name + " is not a string or string array")
	}
	if len(out) > maxClaimList {
		return nil, unauth(fmt.Sprintf("oidc token: claim %s has more than %d entries", name, maxClaimList))
	}
	return out, nil
}

// key finds the JWK for kid that fits alg, fetching the key set when it
// is stale or kid is unknown, but never more often than JWKSMinInterval.
func (v *oidcVerifier) key(ctx context.Context, kid string, alg jose.SignatureAlgorithm) (*jose.JSONWebKey, error) {
	v.mu.Lock()
	ks, fetched := v.keys, v.fetched
	v.mu.Unlock()
	now := v.now()
	stale := fetched.IsZero() || now.Sub(fetched) >= v.cfg.JWKSRefresh
	k, found := pickKey(ks, kid, alg)
	if stale || !found {
		var err error
		ks, err = v.refresh(ctx)
		if err != nil && len(ks) == 0 {
			return nil, err
		}
		k, found = pickKey(ks, kid, alg)
	}
	if !found {
		if kid == "" {
			return nil, unauth("oidc token: no kid, and not exactly one key fits its alg")
		}
		return nil, unauth("oidc token: unknown key id, or the key does not fit its alg")
	}
	return k, nil
}

func pickKey(ks []jose.JSONWebKey, kid string, alg jose.SignatureAlgorithm) (*jose.JSONWebKey, bool) {
	var match *jose.JSONWebKey
	n := 0
	for i := range ks {
		k := &ks[i]
		if kid != "" && k.KeyID != kid {
			continue
		}
		if keyFits(k, alg) {
			match = k
			n++
		}
	}
	return match, n == 1
}

// refresh fetches the key set unless another fetch happened within
// JWKSMinInterval; it returns the keys it has (stale ones on failure).
func (v *oidcVerifier) refresh(ctx context.Context) ([]jose.JSONWebKey, error) {
	v.fetchMu.Lock()
	defer v.fetchMu.Unlock()
	v.mu.Lock()
	if !v.tried.IsZero() && v.now().Sub(v.tried) < v.cfg.JWKSMinInterval {
		ks, err := v.keys, v.lastErr
		v.mu.Unlock()
		return ks, err
	}
	v.tried = v.now()
	jwksURL := v.jwksURL
	v.mu.Unlock()
	ks, u, err := v.fetch(ctx, jwksURL)
	v.mu.Lock()
	defer v.mu.Unlock()
	v.lastErr = err
	if err != nil {
		return v.keys, err
	}
	v.jwksURL, v.keys, v.fetched = u, ks, v.now()
	return ks, nil
}

// fetch reads the key set, discovering its URL first when unset.
func (v *oidcVerifier) fetch(ctx context.Context, jwksURL string) ([]jose.JSONWebKey, string, error) {
	if jwksURL == "" {
		var doc struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		if err := v.getJSON(ctx, strings.TrimSuffix(v.cfg.Issuer, "/")+"/.well-known/openid-configuration", &doc); err != nil {
			return nil, "", fmt.Errorf("auth: oidc discovery: %w", err)
		}
		if doc.Issuer != v.cfg.Issuer {
			return nil, "", errors.New("auth: oidc discovery: the document's issuer differs from auth.oidc.issuer")
		}
		if _, err := checkURL(doc.JWKSURI); err != nil {
			return nil, "", fmt.Errorf("auth: oidc discovery: jwks_uri: %v", err)
		}
		jwksURL = doc.JWKSURI
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := v.getJSON(ctx, jwksURL, &set); err != nil {
		return nil, "", fmt.Errorf("auth: oidc jwks: %w", err)
	}
	var ks []jose.JSONWebKey
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if json.Unmarshal(raw, &k) != nil || !k.IsPublic() {
			continue // RFC 7517 §5: ignore keys we do not understand
		}
		ks = append(ks, k)
	}
	if len(ks) == 0 {
		return nil, "", errors.New("auth: oidc jwks: no usable public key")
	}
	return ks, jwksURL, nil
}

func (v *oidcVerifier) getJSON(ctx context.Context, u string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return errors.New("bad URL")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.client.Do(req)
	if err != nil {
		return fmt.Errorf("GET failed: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET answered %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return fmt.Errorf("reading the body: %w", err)
	}
	if len(body) > maxJWKSBytes {
		return fmt.Errorf("body larger than %d bytes", maxJWKSBytes)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return errors.New("body is not the expected JSON")
	}
	return nil
}

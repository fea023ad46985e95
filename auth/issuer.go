package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/wardenhq/warden/keys"
	"github.com/wardenhq/warden/store"
)

// MaxTokenLifetime caps the lifetime of tokens the gateway issues.
const MaxTokenLifetime = 15 * time.Minute

// TokenConfig configures the short-lived tokens the gateway issues at
// POST /v1/auth/token and publishes keys for at /.well-known/jwks.json.
type TokenConfig struct {
	// Disabled turns token issuing and verification off. Default false.
	Disabled bool `yaml:"disabled"`
	// Issuer is the iss claim. Default "warden".
	Issuer string `yaml:"issuer"`
	// Audience is the aud claim tokens carry and verification demands.
	// Default "warden".
	Audience string `yaml:"audience"`
	// Lifetime of a token. Default and maximum 15m.
	Lifetime time.Duration `yaml:"lifetime"`
	// Rotation is how long one signing key signs before a new one
	// replaces it; the old public key stays published until its last
	// token expires. Default 24h; at least 1m.
	Rotation time.Duration `yaml:"rotation"`
	// Leeway tolerates clock skew between replicas when checking exp,
	// nbf and iat. Default 30s; at most 5m.
	Leeway time.Duration `yaml:"leeway"`
}

func (c *TokenConfig) setDefaults() error {
	if c.Issuer == "" {
		c.Issuer = "warden"
	}
	if c.Audience == "" {
		c.Audience = "warden"
	}
	switch {
	case c.Lifetime == 0:
		c.Lifetime = MaxTokenLifetime
	case c.Lifetime < time.Second || c.Lifetime > MaxTokenLifetime:
		return fmt.Errorf("auth.tokens.lifetime: must be between 1s and %v", MaxTokenLifetime)
	}
	switch {
	case c.Rotation == 0:
		c.Rotation = 24 * time.Hour
	case c.Rotation < time.Minute:
		return errors.New("auth.tokens.rotation: must be at least 1m")
	}
	switch {
	case c.Leeway == 0:
		c.Leeway = 30 * time.Second
	case c.Leeway < 0 || c.Leeway > 5*time.Minute:
		return errors.New("auth.tokens.leeway: must be between 0 and 5m")
	}
	return nil
}

// Sealer seals token-signing keys at rest under the key-encryption key;
// *keys.Keyring implements it.
type Sealer interface {
	Wrap(ctx context.Context, dataKey []byte, ad keys.AAD) (wrapped []byte, version uint32, err error)
	Unwrap(ctx context.Context, wrapped []byte, ad keys.AAD) ([]byte, error)
}

// IssuerDeps are what [NewIssuer] needs.
type IssuerDeps struct {
	// Store and Keyring together keep signing keys, sealed, in the
	// auth_signing_keys table, shared by every replica and surviving
	// restarts. With either nil, keys live in this process's memory.
	Store   *store.DB
	Keyring Sealer
	// APIKeys, when set, is asked whether the API key a token was
	// minted from is still active: revoking a key kills its tokens
	// within the API-key cache TTL.
	APIKeys *APIKeys
	// Now is the clock. Nil: time.Now.
	Now func() time.Time
}

// Issuer signs short-lived EdDSA (Ed25519) JWTs for callers that hold an
// API key, publishes their public keys as a JWKS, and verifies them. It
// is safe for concurrent use.
type Issuer struct {
	cfg     TokenConfig
	db      *store.DB // nil: keys in memory
	sealer  Sealer
	apiKeys *APIKeys
	now     func() time.Time

	verified *tokenCache

	mu       sync.Mutex
	keys     map[string]*keyEntry // by kid; published until expires
	lastLoad time.Time            // of the last successful load
	lastTry  time.Time            // of the last load attempt
	loadErr  error                // of that attempt; nil if it worked
}

// NewIssuer returns an issuer with a current signing key: loaded from
// the store or generated (and stored, sealed) now.
func NewIssuer(ctx context.Context, cfg TokenConfig, d IssuerDeps) (*Issuer, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	is := &Issuer{cfg: cfg, apiKeys: d.APIKeys, now: d.Now, keys: map[string]*keyEntry{}, verified: newTokenCache()}
	if is.now == nil {
		is.now = time.Now
	}
	if d.Store != nil && d.Keyring != nil {
		is.db, is.sealer = d.Store, d.Keyring
	}
	if _, err := is.current(ctx); err != nil {
		return nil, err
	}
	return is, nil
}

// Persistent reports whether signing keys are kept sealed in the store
// (true) or only in memory (tokens die with the process).
func (is *Issuer) Persistent() bool { return is.db != nil }

// tokenClaims are the claims beyond the registered ones.
type tokenClaims struct {
	Tenant string   `json:"tenant"`
	Roles  []string `json:"roles"`
	Models []string `json:"models"`
	// APIKey is the id of the API key the token was minted from.
	APIKey string `json:"api_key,omitempty"`
}

// Mint signs a token for p, valid for lifetime (0: the configured
// lifetime; never longer, nor past p.Expires), allowing models (nil:
// all of p's). models must be a subset of what p may use.
func (is *Issuer) Mint(ctx context.Context, p *Principal, lifetime time.Duration, models []string) (token string, expires time.Time, err error) {
	if lifetime <= 0 || lifetime > is.cfg.Lifetime {
		lifetime = is.cfg.Lifetime
	}
	if models == nil {
		models = p.Models
	}
	for _, m := range models {
		if !mayUse(p.Models, m) {
			return "", time.Time{}, fmt.Errorf("auth: the credential may not use model %q", m)
		}
	}
	sk, err := is.current(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	now := is.now().Truncate(time.Second)
	exp := now.Add(lifetime)
	if !p.Expires.IsZero() && p.Expires.Before(exp) {
		exp = p.Expires.Truncate(time.Second)
	}
	if !exp.After(now) {
		return "", time.Time{}, errors.New("auth: the credential expires within a second")
	}
	var jti [16]byte
	rand.Read(jti[:]) // never fails (crypto/rand)
	std := jwt.Claims{
		Issuer:    is.cfg.Issuer,
		Subject:   p.Name,
		Audience:  jwt.Audience{is.cfg.Audience},
		Expiry:    jwt.NewNumericDate(exp),
		NotBefore: jwt.NewNumericDate(now),
		IssuedAt:  jwt.NewNumericDate(now),
		ID:        base64.RawURLEncoding.EncodeToString(jti[:]),
	}
	extra := tokenClaims{Tenant: p.Tenant, Roles: nonNil(p.Roles), Models: nonNil(models), APIKey: p.KeyID}
	token, err = jwt.Signed(sk.signer).Claims(std).Claims(extra).Serialize()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: signing token: %w", err)
	}
	return token, exp, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func mayUse(allowed []string, model string) bool {
	for _, m := range allowed {
		if m == "*" || m == model {
			return true
		}
	}
	return false
}

// Verify checks a token this issuer signed: algorithm EdDSA only, a
// known and unexpired kid, the signature, iss, aud, exp, nbf and iat
// (with the configured leeway), and that the API key it came from is
// still active. A token that passed is remembered until it expires, so
// its next uses skip the signature check. The returned principal must
// not be modified. Every failure wraps ErrUnauthenticated and names the
// check, never the token.
func (is *Issuer) Verify(ctx context.Context, raw string) (*Principal, error) {
	p, h, hit := is.verified.get(raw, is.now())
	if !hit {
		var err error
		if p, err = is.verify(ctx, raw); err != nil {
			return nil, err
		}
		// Valid until exp + leeway, as ValidateWithLeeway would say.
		is.verified.put(h, p, p.Expires.Add(is.cfg.Leeway+time.Nanosecond))
	}
	if is.apiKeys != nil && p.KeyID != "" {
		active, err := is.apiKeys.active(ctx, p.KeyID)
		if err != nil {
			return nil, err
		}
		if !active {
			return nil, unauth("token: its API key was revoked or expired")
		}
	}
	return p, nil
}

// verify does every check but the API key's.
func (is *Issuer) verify(ctx context.Context, raw string) (*Principal, error) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return nil, unauth("token: malformed or not signed with EdDSA")
	}
	if len(tok.Headers) != 1 || tok.Headers[0].KeyID == "" {
		return nil, unauth("token: missing key id")
	}
	key, ok, err := is.publicKey(ctx, tok.Headers[0].KeyID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, unauth("token: unknown key id")
	}
	var std jwt.Claims
	var extra tokenClaims
	if err := tok.Claims(key, &std, &extra); err != nil {
		return nil, unauth("token: bad signature or claims")
	}
	if err := checkTimes(std, is.now(), is.cfg.Leeway, is.cfg.Lifetime); err != nil {
		return nil, err
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: is.cfg.Issuer, AnyAudience: jwt.Audience{is.cfg.Audience}, Time: is.now()}, is.cfg.Leeway); err != nil {
		return nil, unauth("token: " + claimError(err))
	}
	if std.Subject == "" || extra.Tenant == "" {
		return nil, unauth("token: missing sub or tenant")
	}
	return &Principal{Name: std.Subject, Tenant: extra.Tenant, Roles: extra.Roles, Models: extra.Models,
		Method: MethodToken, KeyID: extra.APIKey, Expires: std.Expiry.Time()}, nil
}

// checkTimes demands exp, and with maxLifetime > 0 also iat, with
// exp - iat no longer than maxLifetime.
func checkTimes(c jwt.Claims, now time.Time, leeway, maxLifetime time.Duration) error {
	if c.Expiry == nil {
		return unauth("token: no exp claim")
	}
	if maxLifetime > 0 {
		if c.IssuedAt == nil {
			return unauth("token: no iat claim")
		}
		if c.Expiry.Time().Sub(c.IssuedAt.Time()) > maxLifetime {
			return unauth("token: lifetime longer than allowed")
		}
	}
	return nil
}

// claimError names a go-jose validation failure.
func claimError(err error) string {
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return "expired"
	case errors.Is(err, jwt.ErrNotValidYet):
		return "not valid yet (nbf)"
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return "issued in the future (iat)"
	case errors.Is(err, jwt.ErrInvalidAudience):
		return "wrong audience"
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return "wrong issuer"
	}
	return "invalid claims"
}

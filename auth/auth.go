// Package auth identifies the callers of the gateway, the first stage of
// the request path. A caller presents one of:
//
//   - a gateway API key (wdn_…), stored only as a SHA-256 hash ([APIKeys]);
//   - a short-lived JWT the gateway signed itself (EdDSA), obtained by
//     exchanging an API key at POST /v1/auth/token ([Issuer]);
//   - a JWT from the enterprise's OIDC issuer, checked against its JWKS;
//   - a TLS client certificate whose subject or SAN the config maps to a
//     principal.
//
// Each yields a [Principal]: a name, a tenant, roles and the models it may
// use. [New] builds the combined [Authenticator] from a [Config].
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/wardenhq/warden/store"
)

// Principal is an authenticated caller.
type Principal struct {
	// Name identifies the caller: the API key's name, the token's
	// subject, the mapped OIDC claim or certificate identity.
	Name   string
	Tenant string
	Roles  []string
	// Models the caller may use; "*" allows every model.
	Models []string
	// Method is how the caller authenticated: one of the Method constants.
	Method string
	// KeyID is the API key's public id (for apikey, and jwt tokens
	// minted from a key).
	KeyID string
	// Expires is when the credential stops being valid; zero: never.
	Expires time.Time
}

// Authentication methods, as found in Principal.Method.
const (
	MethodAPIKey = "apikey"
	MethodToken  = "jwt"
	MethodOIDC   = "oidc"
	MethodMTLS   = "mtls"
)

// ErrUnauthenticated is wrapped by every error [Authenticator.Authenticate]
// returns for missing, malformed or invalid credentials (the gateway
// answers 401). Other errors mean the credentials could not be checked
// and the request must still be refused: a store that failed or did not
// answer within store.timeout gives one wrapping [ErrUnavailable] (503
// with Retry-After).
var ErrUnauthenticated = errors.New("auth: missing or invalid credentials")

// unauth makes an ErrUnauthenticated naming the reason (never the
// credential).
func unauth(reason string) error { return fmt.Errorf("%w: %s", ErrUnauthenticated, reason) }

// Config chooses how callers may authenticate. The zero value accepts
// API keys and the gateway's own tokens; OIDC and mTLS are off until
// configured.
type Config struct {
	// APIKeys tunes API-key verification.
	APIKeys APIKeyConfig `yaml:"api_keys"`
	// Tokens configures the short-lived tokens the gateway issues.
	Tokens TokenConfig `yaml:"tokens"`
	// OIDC accepts JWTs from an enterprise identity provider.
	OIDC OIDCConfig `yaml:"oidc"`
	// MTLS maps verified client certificates to principals.
	MTLS MTLSConfig `yaml:"mtls"`
}

// APIKeyConfig tunes API-key verification.
type APIKeyConfig struct {
	// CacheTTL is how long a verified key is remembered; a key revoked
	// by another process (or replica) keeps working here for at most
	// this long. Default 5s.
	CacheTTL time.Duration `yaml:"cache_ttl"`
}

// maxCredentialLen bounds a presented credential (header value).
const maxCredentialLen = 8192

// Deps are what [New] needs from the rest of Warden.
type Deps struct {
	// Store holds API keys and, with Keyring, token-signing keys.
	// Required.
	Store *store.DB
	// Keyring seals token-signing keys at rest in Store (a
	// *keys.Keyring). Nil: signing keys live in memory only and tokens
	// stop verifying when the process restarts.
	Keyring Sealer
	// HTTPClient fetches the OIDC issuer's keys. Nil: a client with a
	// 10s timeout.
	HTTPClient *http.Client
	// Now is the clock. Nil: time.Now.
	Now func() time.Time
}

// Authenticator identifies callers by every configured method. It is
// safe for concurrent use.
type Authenticator struct {
	apiKeys *APIKeys
	issuer  *Issuer
	oidc    *oidcVerifier
	mtls    *mtlsMapper
}

// New validates cfg and builds the authenticator. With token issuing
// enabled it loads or creates the current signing key, so a broken
// keyring fails here rather than at the first request.
func New(ctx context.Context, cfg Config, d Deps) (*Authenticator, error) {
	if d.Store == nil {
		return nil, errors.New("auth: a store is required (API keys live there)")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if cfg.APIKeys.CacheTTL < 0 {
		return nil, errors.New("auth.api_keys.cache_ttl: must not be negative")
	}
	a := &Authenticator{apiKeys: NewAPIKeys(d.Store, cfg.APIKeys.CacheTTL, d.Now)}
	var err error
	if a.mtls, err = newMTLSMapper(cfg.MTLS); err != nil {
		return nil, err
	}
	if !cfg.Tokens.Disabled {
		a.issuer, err = NewIssuer(ctx, cfg.Tokens, IssuerDeps{Store: d.Store, Keyring: d.Keyring, APIKeys: a.apiKeys, Now: d.Now})
		if err != nil {
			return nil, err
		}
	}
	if cfg.OIDC.Issuer != "" {
		if a.issuer != nil && a.issuer.cfg.Issuer == cfg.OIDC.Issuer {
			return nil, errors.New("auth.oidc.issuer: must differ from auth.tokens.issuer")
		}
		if a.oidc, err = newOIDCVerifier(cfg.OIDC, d.HTTPClient, d.Now); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// APIKeys is the API-key store the authenticator verifies against.
func (a *Authenticator) APIKeys() *APIKeys { return a.apiKeys }

// Issuer is the token issuer, or nil when auth.tokens.disabled is set.
func (a *Authenticator) Issuer() *Issuer { return a.issuer }

// Authenticate identifies the caller of r, trying in order: a verified
// TLS client certificate that the config maps; then the credential in
// "Authorization: Bearer …" or "X-Api-Key" as an API key (wdn_…), a
// token from this gateway's issuer, or a JWT from the OIDC issuer. A
// JWT goes to the verifier whose issuer its (unverified) iss claim
// names; that verifier then checks everything, signature first.
func (a *Authenticator) Authenticate(r *http.Request) (*Principal, error) {
	if a.mtls != nil && r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		if p := a.mtls.principal(r.TLS.VerifiedChains[0][0]); p != nil {
			return p, nil
		}
	}
	cred, err := credential(r)
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	if looksLikeAPIKey(cred) {
		p, err := a.apiKeys.Verify(ctx, cred)
		if errors.Is(err, ErrInvalidKey) {
			return nil, unauth("invalid API key")
		}
		return p, err
	}
	iss, ok := peekIssuer(cred)
	if !ok {
		return nil, unauth("credential is neither an API key nor a JWT")
	}
	switch {
	case a.issuer != nil && iss == a.issuer.cfg.Issuer:
		return a.issuer.Verify(ctx, cred)
	case a.oidc != nil && iss == a.oidc.cfg.Issuer:
		return a.oidc.verify(ctx, cred)
	}
	return nil, unauth("token from an issuer this gateway does not trust")
}

// AuthenticateResource is Authenticate for a protected resource (an MCP
// endpoint, RFC 9728): a token from the OIDC issuer must name resource
// in its aud claim (RFC 8707 audience binding), so a token meant for
// another service — or for the model API — is refused here. API keys,
// certificates and this gateway's own tokens are accepted as by
// Authenticate: they are the gateway's own credentials.
func (a *Authenticator) AuthenticateResource(r *http.Request, resource string) (*Principal, error) {
	if a.oidc == nil {
		return a.Authenticate(r)
	}
	if a.mtls != nil && r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		return a.Authenticate(r)
	}
	cred, err := credential(r)
	if err != nil {
		return nil, err
	}
	if looksLikeAPIKey(cred) {
		return a.Authenticate(r)
	}
	if iss, ok := peekIssuer(cred); ok && iss == a.oidc.cfg.Issuer && (a.issuer == nil || iss != a.issuer.cfg.Issuer) {
		return a.oidc.verifyFor(r.Context(), cred, resource)
	}
	return a.Authenticate(r)
}

// AuthorizationServers are the issuers whose tokens the gateway takes,
// for RFC 9728 metadata: the OIDC issuer, then the gateway's own.
func (a *Authenticator) AuthorizationServers() []string {
	var out []string
	if a.oidc != nil {
		out = append(out, a.oidc.cfg.Issuer)
	}
	if a.issuer != nil {
		out = append(out, a.issuer.cfg.Issuer)
	}
	return out
}

// credential extracts the presented secret from Authorization: Bearer
// or X-Api-Key. Both present and different is refused.
func credential(r *http.Request) (string, error) {
	var bearer string
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, v, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return "", unauth("Authorization header: want Bearer")
		}
		bearer = strings.TrimSpace(v)
		if bearer == "" {
			return "", unauth("Authorization header: empty Bearer credential")
		}
	}
	apiKey := strings.TrimSpace(r.Header.Get("X-Api-Key"))
	switch {
	case bearer != "" && apiKey != "" && bearer != apiKey:
		return "", unauth("Authorization and X-Api-Key carry different credentials")
	case bearer == "" && apiKey == "":
		return "", unauth("no credentials (Authorization: Bearer or X-Api-Key)")
	}
	c := bearer
	if c == "" {
		c = apiKey
	}
	if len(c) > maxCredentialLen {
		return "", unauth(fmt.Sprintf("credential longer than %d bytes", maxCredentialLen))
	}
	return c, nil
}

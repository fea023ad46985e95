package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/wardenhq/warden/store"
)

// API key wire format: "wdn_" + 12-character key id + "_" + 43 characters
// of base64url (the 256-bit secret), 60 characters in all. The id is
// public (it appears in `apikey list` and logs); only SHA-256(secret) is
// stored. A plain hash is enough: the secret has 256 bits of entropy, so
// there is nothing to brute-force, and verification stays a microsecond.
const (
	keyPrefix    = "wdn_"
	keyIDLen     = 12
	secretBytes  = 32
	secretLen    = 43 // base64url of 32 bytes, unpadded
	apiKeyLen    = len(keyPrefix) + keyIDLen + 1 + secretLen
	maxCacheKeys = 100000
)

// Errors callers branch on.
var (
	// ErrInvalidKey reports an API key that is malformed, unknown,
	// wrong, revoked or expired. It never says which, and never
	// contains the key.
	ErrInvalidKey = errors.New("auth: invalid API key")
	// ErrInvalidSpec is matched (errors.Is) by the errors of Create for
	// a KeySpec it refuses: a bad name or tenant, no models, a bad model
	// or role name, an expiry in the past. Their messages say which,
	// never the value.
	ErrInvalidSpec = errors.New("auth: invalid key spec")
	// ErrNotFound reports an id or name that names no active key.
	ErrNotFound = errors.New("auth: no such API key")
	// ErrUnavailable is wrapped by the errors of checks that could not
	// be made because the store did not answer (within store.timeout,
	// see store.ErrTimeout) or failed: the credential is neither valid
	// nor invalid yet. The gateway answers 503 with Retry-After, never
	// 401. It is not ErrInvalidKey and does not wrap
	// ErrUnauthenticated.
	ErrUnavailable = errors.New("auth: credentials could not be checked: store unavailable")
)

// KeySpec describes a key to create.
type KeySpec struct {
	Name    string
	Tenant  string // default "default"
	Models  []string
	Roles   []string
	Expires time.Time // zero: never
}

// KeyInfo is a stored key, without its secret.
type KeyInfo struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Tenant    string    `json:"tenant"`
	Models    []string  `json:"models"`
	Roles     []string  `json:"roles"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"` // zero: never
	RevokedAt time.Time `json:"revoked_at,omitzero"` // zero: active
}

// APIKeys stores and verifies gateway API keys. It is safe for
// concurrent use.
type APIKeys struct {
	db    *store.DB
	now   func() time.Time
	ttl   time.Duration
	mu    sync.Mutex
	cache map[string]cachedKey
}

type cachedKey struct {
	p       *Principal
	sha     [32]byte
	expires time.Time // of the cache entry
}

// NewAPIKeys returns the key store. Verified keys are cached for cacheTTL
// (a revocation takes effect on every replica within it); 0 means 5s.
// now is the clock; nil means time.Now.
func NewAPIKeys(db *store.DB, cacheTTL time.Duration, now func() time.Time) *APIKeys {
	if cacheTTL <= 0 {
		cacheTTL = 5 * time.Second
	}
	if now == nil {
		now = time.Now
	}
	return &APIKeys{db: db, now: now, ttl: cacheTTL, cache: map[string]cachedKey{}}
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$`)

// Create makes a key and returns it in full: the only time it is shown.
func (k *APIKeys) Create(ctx context.Context, spec KeySpec) (string, KeyInfo, error) {
	if !namePattern.MatchString(spec.Name) {
		return "", KeyInfo{}, specError("auth: name must be 1-128 characters of letters, digits, '.', '_', '@', '-'")
	}
	if spec.Tenant == "" {
		spec.Tenant = "default"
	}
	if !namePattern.MatchString(spec.Tenant) {
		return "", KeyInfo{}, specError("auth: tenant must be 1-128 characters of letters, digits, '.', '_', '@', '-'")
	}
	if len(spec.Models) == 0 {
		return "", KeyInfo{}, specError("auth: models: name at least one model (or * for all)")
	}
	for _, l := range [][]string{spec.Models, spec.Roles} {
		for _, m := range l {
			if m == "" || len(m) > 256 || strings.ContainsAny(m, ", \t\r\n") {
				return "", KeyInfo{}, specError("auth: model and role names must be 1-256 characters without commas or spaces")
			}
		}
	}
	now := k.now().UTC().Truncate(time.Second)
	expires := spec.Expires.UTC().Truncate(time.Second)
	if !spec.Expires.IsZero() && !expires.After(now) {
		return "", KeyInfo{}, specError("auth: expires: must be in the future")
	}
	// 9 random bytes make the 12-character id; rand.Read never fails.
	var raw [9 + secretBytes]byte
	rand.Read(raw[:])
	id := base64.RawURLEncoding.EncodeToString(raw[:9])
	secret := base64.RawURLEncoding.EncodeToString(raw[9:])
	sha := sha256.Sum256([]byte(secret))
	info := KeyInfo{ID: id, Name: spec.Name, Tenant: spec.Tenant,
		Models: append([]string(nil), spec.Models...), Roles: append([]string(nil), spec.Roles...),
		CreatedAt: now, ExpiresAt: expires}
	var exp any
	if !spec.Expires.IsZero() {
		exp = expires.Unix()
	}
	err := k.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, name, secret_sha, tenant, models, roles, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			id, spec.Name, sha[:], spec.Tenant, strings.Join(spec.Models, ","), strings.Join(spec.Roles, ","), now.Unix(), exp)
		return err
	})
	if err != nil {
		return "", KeyInfo{}, fmt.Errorf("auth: storing key: %w", err)
	}
	return keyPrefix + id + "_" + secret, info, nil
}

// specError is a refusal of Create: it matches ErrInvalidSpec and keeps
// its own message.
type specError string

func (e specError) Error() string        { return string(e) }
func (e specError) Is(target error) bool { return target == ErrInvalidSpec }

// looksLikeAPIKey reports whether a presented credential is meant as an
// API key (and so must not be tried as a JWT).
func looksLikeAPIKey(s string) bool { return strings.HasPrefix(s, keyPrefix) }

// parseKey splits a presented key into id and secret. Both must be
// base64url of the right length.
func parseKey(key string) (id, secret string, ok bool) {
	if len(key) != apiKeyLen || !strings.HasPrefix(key, keyPrefix) {
		return "", "", false
	}
	rest := key[len(keyPrefix):]
	if rest[keyIDLen] != '_' {
		return "", "", false
	}
	id, secret = rest[:keyIDLen], rest[keyIDLen+1:]
	if !isBase64URL(id) || !isBase64URL(secret) {
		return "", "", false
	}
	return id, secret, true
}

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Verify checks a presented key and returns its principal, which the
// caller must not modify. The secret's hash is compared in constant
// time; every failure is ErrInvalidKey, which never contains the key.
// A key revoked by another process stops verifying here within the
// cache TTL; one revoked through this APIKeys, at once. A key that is
// not cached (or whose cache entry expired) while the store does not
// answer within store.timeout gives an error wrapping ErrUnavailable.
func (k *APIKeys) Verify(ctx context.Context, key string) (*Principal, error) {
	id, secret, ok := parseKey(key)
	if !ok {
		return nil, ErrInvalidKey
	}
	sha := sha256.Sum256([]byte(secret))
	now := k.now()
	k.mu.Lock()
	c, hit := k.cache[id]
	k.mu.Unlock()
	if hit && now.Before(c.expires) {
		if subtle.ConstantTimeCompare(sha[:], c.sha[:]) != 1 {
			return nil, ErrInvalidKey
		}
		return c.p, nil
	}
	info, stored, err := k.load(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrInvalidKey
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(sha[:], stored) != 1 {
		return nil, ErrInvalidKey
	}
	if !info.RevokedAt.IsZero() || (!info.ExpiresAt.IsZero() && !now.Before(info.ExpiresAt)) {
		return nil, ErrInvalidKey
	}
	p := &Principal{Name: info.Name, Tenant: info.Tenant, Roles: info.Roles, Models: info.Models,
		Method: MethodAPIKey, KeyID: info.ID, Expires: info.ExpiresAt}
	entry := cachedKey{p: p, expires: now.Add(k.ttl)}
	copy(entry.sha[:], stored)
	if !info.ExpiresAt.IsZero() && info.ExpiresAt.Before(entry.expires) {
		entry.expires = info.ExpiresAt
	}
	k.mu.Lock()
	if len(k.cache) >= maxCacheKeys {
		clear(k.cache)
	}
	k.cache[id] = entry
	k.mu.Unlock()
	return p, nil
}

// Active reports whether the key with public id id is still usable
// (not revoked, not expired), as active does: within the cache TTL of a
// revocation made elsewhere, at once for one made through k. The
// console ends a session whose key is no longer active.
func (k *APIKeys) Active(ctx context.Context, id string) (bool, error) { return k.active(ctx, id) }

// active reports whether key id is still usable (not revoked, not
// expired), through the same cache as Verify. Tokens minted from a key
// stop working within the cache TTL of the key's revocation.
func (k *APIKeys) active(ctx context.Context, id string) (bool, error) {
	now := k.now()
	k.mu.Lock()
	c, hit := k.cache[id]
	k.mu.Unlock()
	if hit && now.Before(c.expires) {
		return true, nil
	}
	info, _, err := k.load(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return info.RevokedAt.IsZero() && (info.ExpiresAt.IsZero() || now.Before(info.ExpiresAt)), nil
}

// load reads key id: ErrNotFound when there is none, an error wrapping
// ErrUnavailable when the store could not say.
func (k *APIKeys) load(ctx context.Context, id string) (KeyInfo, []byte, error) {
	info, sha, err := k.loadRow(ctx, id)
	if errors.Is(err, sql.ErrNoRows) {
		return KeyInfo{}, nil, ErrNotFound
	}
	if err != nil {
		return KeyInfo{}, nil, unavailable("loading API key", err)
	}
	return info, sha, nil
}

func (k *APIKeys) loadRow(ctx context.Context, id string) (_ KeyInfo, _ []byte, err error) {
	ctx, end := k.db.Bound(ctx)
	defer end(&err)
	return scanKey(k.db.Read().QueryRowContext(ctx, `SELECT id, name, secret_sha, tenant, models, roles, created_at, expires_at, revoked_at FROM api_keys WHERE id = $1`, id))
}

// unavailable wraps a store failure during what as ErrUnavailable. The
// store error is scrubbed: driver messages name the database's host
// and user.
func unavailable(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, what, store.Scrub(err))
}

// write runs fn in one write transaction under the store's deadline.
func (k *APIKeys) write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) (err error) {
	ctx, end := k.db.Bound(ctx)
	defer end(&err)
	return k.db.Write(ctx, func(tx *sql.Tx) error { return fn(ctx, tx) })
}

type scanner interface{ Scan(dest ...any) error }

func scanKey(row scanner) (KeyInfo, []byte, error) {
	var info KeyInfo
	var sha []byte
	var models, roles string
	var created int64
	var expires, revoked sql.NullInt64
	if err := row.Scan(&info.ID, &info.Name, &sha, &info.Tenant, &models, &roles, &created, &expires, &revoked); err != nil {
		return KeyInfo{}, nil, err
	}
	info.Models = splitList(models)
	info.Roles = splitList(roles)
	info.CreatedAt = time.Unix(created, 0).UTC()
	if expires.Valid {
		info.ExpiresAt = time.Unix(expires.Int64, 0).UTC()
	}
	if revoked.Valid {
		info.RevokedAt = time.Unix(revoked.Int64, 0).UTC()
	}
	return info, sha, nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// List returns every key, revoked and expired ones included, newest
// first. Secrets are not stored, so none is returned.
func (k *APIKeys) List(ctx context.Context) (_ []KeyInfo, err error) {
	ctx, end := k.db.Bound(ctx)
	defer end(&err)
	rows, err := k.db.Read().QueryContext(ctx, `SELECT id, name, secret_sha, tenant, models, roles, created_at, expires_at, revoked_at FROM api_keys ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("auth: listing API keys: %w", err)
	}
	defer rows.Close()
	var out []KeyInfo
	for rows.Next() {
		info, _, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("auth: listing API keys: %w", err)
		}
		out = append(out, info)
	}
	return out, rows.Err()
}

// Revoke disables the key with id idOrName or, failing that, every
// active key named idOrName. It returns how many keys it revoked, or
// ErrNotFound. Other processes notice within their cache TTL.
func (k *APIKeys) Revoke(ctx context.Context, idOrName string) (int, error) {
	var n int64
	now := k.now().Unix()
	err := k.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, now, idOrName)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		res, err = tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL`, now, idOrName)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("auth: revoking API key: %w", err)
	}
	if n == 0 {
		return 0, ErrNotFound
	}
	k.mu.Lock()
	clear(k.cache)
	k.mu.Unlock()
	return int(n), nil
}

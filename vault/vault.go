// Package vault keeps the originals behind Warden's tokens: per tenant,
// encrypted at rest, found again by a keyed blind index so that the same
// value in the same tenant always gets the same token.
//
// A token is [[TYPE:ID]] (see transform.FormatToken) with ID the first 10
// bytes of HMAC-SHA256(tenant index key, type || 0x00 || value). The
// original is stored sealed by the tenant's value key (package keys) and
// bound to its tenant, purpose and token ID, so a row copied to another
// tenant or another token does not decrypt. Both tenant keys are data
// keys wrapped by the keyring's KEK; destroying them (Shred) makes every
// token of the tenant permanently unrestorable.
//
// ID collisions. Two values of one tenant share a 10-byte ID with
// probability about n²/2⁸¹ (one in a million at 1.5 billion values). The
// full 32-byte MAC is stored, so a collision is detected, never confused:
// the later value gets a 16-byte ID instead (a longer token). Should that
// collide too, Token fails with ErrCollision.
//
// Caches. Unwrapped tenant keys are kept for Config.KeyCacheTTL. Revealed
// originals are kept in an LRU of Config.CacheSize entries, each for at
// most KeyCacheTTL; value→token lookups likewise (they hold no
// plaintext). Forget and Shred clear this process's caches at once; other
// processes sharing the store stop revealing within KeyCacheTTL.
package vault

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/wardenhq/warden/keys"
	"github.com/wardenhq/warden/store"
)

// Errors callers branch on.
var (
	// ErrCollision reports a value whose token ID collides with another
	// value's at every ID length (not expected to happen).
	ErrCollision = errors.New("vault: token ID collision at every length")
	// ErrBadTenant reports an empty, overlong or non-printable tenant name.
	ErrBadTenant = errors.New("vault: tenant name must be 1-128 printable ASCII characters")
	// ErrBadType reports a type that cannot appear in a token.
	ErrBadType = errors.New("vault: type must be 1-64 characters of A-Z, 0-9 and _")
	// ErrValueTooLong reports a value longer than MaxValueLen.
	ErrValueTooLong = errors.New("vault: value longer than the vault's limit")
)

// MaxValueLen bounds one original value in bytes.
const MaxValueLen = 64 << 10

// idLens are the token ID lengths tried in order; see the package doc.
var idLens = [...]int{10, 16}

// AAD purposes.
const (
	purposeValueKey = "dek.value"
	purposeIndexKey = "dek.index"
	purposeValue    = "vault.value"
)

// Config builds a Vault. Zero values are the documented defaults.
type Config struct {
	// Store holds tenants, wrapped keys and sealed originals. Required.
	Store *store.DB
	// Keyring wraps the tenants' data keys. Required.
	Keyring *keys.Keyring
	// KeyCacheTTL bounds how long unwrapped keys and cached originals stay
	// in memory. Default 5m.
	KeyCacheTTL time.Duration
	// CacheSize bounds the restore cache and the value→token cache
	// (entries each). Default 100000; negative disables both.
	CacheSize int
	// TTL is an optional retention per type: a value tokenized at t is no
	// longer restorable after t+TTL[type] (tokenizing it again renews it).
	TTL map[string]time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Vault maps tokens to encrypted originals for many tenants. It is safe
// for concurrent use.
type Vault struct {
	db   *store.DB
	kr   *keys.Keyring
	ttl  time.Duration
	keep map[string]time.Duration
	now  func() time.Time

	mu      sync.Mutex
	tenants map[string]*tenantKeys

	reveals *lru.Cache[string, revealed] // tenant id || token id → original
	known   *lru.Cache[string, known]    // tenant id || mac → token
}

type tenantKeys struct {
	id     int64
	name   string
	value  *keys.DataKey
	index  []byte
	expiry time.Time
}

type revealed struct {
	typ, value string
	until      time.Time
}

type known struct {
	token string
	until time.Time
}

// New makes a Vault.
func New(cfg Config) (*Vault, error) {
	if cfg.Store == nil || cfg.Keyring == nil {
		return nil, errors.New("vault: Config.Store and Config.Keyring are required")
	}
	if cfg.KeyCacheTTL <= 0 {
		cfg.KeyCacheTTL = 5 * time.Minute
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = 100000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	for typ, d := range cfg.TTL {
		if !validType(typ) {
			return nil, fmt.Errorf("vault: ttl for type %q: %w", typ, ErrBadType)
		}
		if d <= 0 {
			return nil, fmt.Errorf("vault: ttl for type %s: must be positive", typ)
		}
	}
	v := &Vault{db: cfg.Store, kr: cfg.Keyring, ttl: cfg.KeyCacheTTL, keep: cfg.TTL, now: cfg.Now,
		tenants: map[string]*tenantKeys{}}
	if cfg.CacheSize > 0 {
		v.reveals, _ = lru.New[string, revealed](cfg.CacheSize)
		v.known, _ = lru.New[string, known](cfg.CacheSize)
	}
	return v, nil
}

// Tenant returns the handle through which one tenant tokenizes and
// restores. It implements transform.Tokenizer, transform.Revealer and
// transform.BatchRevealer. An invalid name fails at first use.
func (v *Vault) Tenant(name string) *Tenant { return &Tenant{v: v, name: name} }

// Tenant is one tenant's view of the vault.
type Tenant struct {
	v    *Vault
	name string
}

// Name is the tenant's name.
func (t *Tenant) Name() string { return t.name }

func validTenant(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func validType(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// keyAAD binds a tenant data key to its tenant row.
func keyAAD(name string, tenantID int64, purpose string) keys.AAD {
	return keys.AAD{Tenant: name, Purpose: purpose, Record: strconv.FormatInt(tenantID, 10)}
}

// valueAAD binds a sealed original to its tenant, type and token ID.
func valueAAD(name, typ string, id []byte) keys.AAD {
	return keys.AAD{Tenant: name, Purpose: purposeValue, Record: typ + "\x00" + string(id)}
}

// tenantKeys returns the tenant's unwrapped keys, from cache or store.
// With create, a missing tenant is created with fresh keys; without,
// a missing tenant gives (nil, nil).
func (v *Vault) tenantKeys(ctx context.Context, name string, create bool) (*tenantKeys, error) {
	if !validTenant(name) {
		return nil, ErrBadTenant
	}
	now := v.now()
	v.mu.Lock()
	tk := v.tenants[name]
	v.mu.Unlock()
	if tk != nil && now.Before(tk.expiry) {
		return tk, nil
	}
	tk, err := v.loadTenant(ctx, name)
	if err != nil {
		return nil, err
	}
	if tk == nil && create {
		if err := v.createTenant(ctx, name); err != nil {
			return nil, err
		}
		if tk, err = v.loadTenant(ctx, name); err == nil && tk == nil {
			err = fmt.Errorf("vault: tenant %s vanished while being created", name)
		}
		if err != nil {
			return nil, err
		}
	}
	v.mu.Lock()
	if tk == nil {
		delete(v.tenants, name)
	} else {
		tk.expiry = now.Add(v.ttl)
		v.tenants[name] = tk
	}
	v.mu.Unlock()
	return tk, nil
}

func (v *Vault) loadTenant(ctx context.Context, name string) (*tenantKeys, error) {
	rows, err := v.db.Read().QueryContext(ctx, `SELECT t.id, k.id, k.purpose, k.wrapped
		FROM tenants t JOIN data_keys k ON k.tenant_id = t.id WHERE t.name = $1`, name)
	if err != nil {
		return nil, fmt.Errorf("vault: load tenant %s: %w", name, err)
	}
	defer rows.Close()
	var tk *tenantKeys
	for rows.Next() {
		var (
			tid, kid int64
			purpose  string
			wrapped  []byte
		)
		if err := rows.Scan(&tid, &kid, &purpose, &wrapped); err != nil {
			return nil, fmt.Errorf("vault: load tenant %s: %w", name, err)
		}
		if tk == nil {
			tk = &tenantKeys{id: tid, name: name}
		}
		raw, err := v.kr.Unwrap(ctx, wrapped, keyAAD(name, tid, purpose))
		if err != nil {
			return nil, fmt.Errorf("vault: tenant %s: %s key: %w", name, purpose, err)
		}
		switch purpose {
		case purposeValueKey:
			tk.value, err = keys.LoadDataKey(uint32(kid), raw)
			clear(raw)
			if err != nil {
				return nil, fmt.Errorf("vault: tenant %s: %w", name, err)
			}
		case purposeIndexKey:
			tk.index = raw
		default:
			clear(raw)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("vault: load tenant %s: %w", name, err)
	}
	if tk != nil && (tk.value == nil || tk.index == nil) {
		return nil, fmt.Errorf("vault: tenant %s: key material incomplete (damaged store)", name)
	}
	return tk, nil
}

// createTenant inserts the tenant and its two wrapped keys in one
// transaction. A concurrent creator (another process) wins or loses the
// unique name; the loser reads the winner's keys.
func (v *Vault) createTenant(ctx context.Context, name string) error {
	return v.db.Write(ctx, func(tx *sql.Tx) error {
		var tid int64
		err := tx.QueryRowContext(ctx, `INSERT INTO tenants (name, created_at) VALUES ($1, $2)
			ON CONFLICT (name) DO NOTHING RETURNING id`, name, v.now().Unix()).Scan(&tid)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // another writer created it
		}
		if err != nil {
			return fmt.Errorf("vault: create tenant %s: %w", name, err)
		}
		for _, purpose := range [...]string{purposeValueKey, purposeIndexKey} {
			dk := keys.NewDataKey()
			wrapped, ver, err := v.kr.Wrap(ctx, dk, keyAAD(name, tid, purpose))
			clear(dk)
			if err != nil {
				return fmt.Errorf("vault: create tenant %s: %w", name, err)
			}
			var kid int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO data_keys (tenant_id, purpose, kek_version, wrapped, created_at)
				VALUES ($1, $2, $3, $4, $5) RETURNING id`, tid, purpose, int64(ver), wrapped, v.now().Unix()).Scan(&kid); err != nil {
				return fmt.Errorf("vault: create tenant %s: %w", name, err)
			}
			if kid <= 0 || kid > 1<<32-1 {
				return fmt.Errorf("vault: data key id %d out of range", kid)
			}
		}
		return nil
	})
}

// mac computes the blind index of (typ, value).
func (tk *tenantKeys) mac(typ, value string) []byte {
	h := hmac.New(sha256.New, tk.index)
	h.Write([]byte(typ))
	h.Write([]byte{0})
	h.Write([]byte(value))
	return h.Sum(nil)
}

// cacheKey prefixes b with the tenant row id, so entries of a shredded
// and recreated tenant never match.
func cacheKey(tenantID int64, b []byte) string {
	k := make([]byte, 8+len(b))
	binary.BigEndian.PutUint64(k, uint64(tenantID))
	copy(k[8:], b)
	return string(k)
}

// dropTenantCaches removes every cached entry of tenant row id.
func (v *Vault) dropTenantCaches(name string, tenantID int64) {
	v.mu.Lock()
	delete(v.tenants, name)
	v.mu.Unlock()
	var prefix [8]byte
	binary.BigEndian.PutUint64(prefix[:], uint64(tenantID))
	if v.reveals != nil {
		for _, k := range v.reveals.Keys() {
			if k[:8] == string(prefix[:]) {
				v.reveals.Remove(k)
			}
		}
		for _, k := range v.known.Keys() {
			if k[:8] == string(prefix[:]) {
				v.known.Remove(k)
			}
		}
	}
}

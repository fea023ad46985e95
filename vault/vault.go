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
// plaintext).
//
// Erasure is final in every process sharing the store. Forget adds one
// to the tenant's erasure generation in the transaction that deletes the
// original; Shred deletes the tenant row, and a tenant made again under
// the name gets a new row id. Every cache entry remembers the (row id,
// generation) it was filled under, and a Vault uses its entries only
// while its last look at the tenant's row is younger than
// Config.InvalidationInterval (vault.invalidation_interval, default 1s);
// older, it reads the row again (one primary-key query per tenant per
// interval) and drops what no longer matches. The bound: once Forget or
// Shred has returned in any process, no Vault on the same store restores
// the erased originals, or issues a cached token of them without storing
// the original again, after InvalidationInterval has passed (with a
// negative interval, every call reads the row: no delay at all). On
// PostgreSQL the erasure also sends a NOTIFY, on which listening Vaults
// read the row at their next call, so the delay is usually milliseconds;
// the interval still bounds it when notifications are lost.
//
// Deadlines. Every store call of Token, TokenBatch, Reveal, RevealBatch,
// Restore and Forget, and each batch of Rewrap, runs under store.timeout
// ([store.DB.Bound]): a stalled database fails the call with an error
// matching store.ErrTimeout instead of holding it for the whole outage.
// Shred, Purge, Stats and the checkpoint after an erasure do work that
// grows with the data; only their ctx bounds them.
package vault

import (
	"crypto/hmac"
	"crypto/sha256"
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
	// InvalidationInterval bounds how long this Vault trusts what it
	// cached of a tenant (keys, restored originals, value→token lookups)
	// before it checks the store for erasures made by other processes
	// (see the package doc). Default 1s; negative: check on every call;
	// at most KeyCacheTTL.
	InvalidationInterval time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// DefaultInvalidationInterval is Config.InvalidationInterval's default.
const DefaultInvalidationInterval = time.Second

// erasureChannel is the PostgreSQL NOTIFY channel of erasures.
const erasureChannel = "warden_vault_erasure"

// Vault maps tokens to encrypted originals for many tenants. It is safe
// for concurrent use.
type Vault struct {
	db    *store.DB
	kr    *keys.Keyring
	ttl   time.Duration
	keep  map[string]time.Duration
	now   func() time.Time
	every time.Duration // invalidation interval; 0: check on every call

	listening sync.Once

	mu      sync.Mutex
	tenants map[string]*tenantState
	epoch   uint64 // erasure notifications received (PostgreSQL)

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

// revealed and known are cache entries; gen is the tenant's erasure
// generation they were filled under (the tenant row id is in the key).
type revealed struct {
	typ, value string
	until      time.Time
	gen        int64
}

type known struct {
	token string
	until time.Time
	gen   int64
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
	switch {
	case cfg.InvalidationInterval == 0:
		cfg.InvalidationInterval = DefaultInvalidationInterval
	case cfg.InvalidationInterval < 0:
		cfg.InvalidationInterval = 0
	}
	if cfg.InvalidationInterval > cfg.KeyCacheTTL {
		return nil, fmt.Errorf("vault: invalidation interval %s is longer than the key cache TTL %s", cfg.InvalidationInterval, cfg.KeyCacheTTL)
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
		every: cfg.InvalidationInterval, tenants: map[string]*tenantState{}}
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

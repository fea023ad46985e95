package auth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// maxVerifiedTokens bounds the verified-token cache; when full it is
// emptied (a burst of distinct tokens costs one re-verification each).
const maxVerifiedTokens = 65536

// tokenCache remembers tokens whose signature and claims checked out,
// keyed by SHA-256 of the token, until a deadline no later than the
// token's own expiry. Clients reuse a token for minutes, so most
// requests skip the signature check (~100-250 µs) for a map lookup.
type tokenCache struct {
	mu sync.Mutex
	m  map[[32]byte]cachedToken
}

type cachedToken struct {
	p     *Principal
	until time.Time
}

func newTokenCache() *tokenCache { return &tokenCache{m: map[[32]byte]cachedToken{}} }

func (c *tokenCache) get(token string, now time.Time) (*Principal, [32]byte, bool) {
	h := sha256.Sum256([]byte(token))
	c.mu.Lock()
	e, ok := c.m[h]
	c.mu.Unlock()
	if !ok || !now.Before(e.until) {
		return nil, h, false
	}
	return e.p, h, true
}

func (c *tokenCache) put(h [32]byte, p *Principal, until time.Time) {
	c.mu.Lock()
	if len(c.m) >= maxVerifiedTokens {
		clear(c.m)
	}
	c.m[h] = cachedToken{p: p, until: until}
	c.mu.Unlock()
}

package audit

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/store"
)

// Stored hashes
//
// tlog numbers the tree's stored hashes so that record n's leaf hash and
// the hashes of every complete subtree ending at record n are written
// together, right after the stored hashes of records 0 … n-1
// (tlog.StoredHashIndex). The log keeps them with their record:
// audit_entries.hashes of row n is tlog.StoredHashes(n, entry) — level 0
// first, 32 bytes each. The hash of the subtree at (level L, index k)
// therefore lives in row ((k+1) << L) - 1 at offset 32·L.

// hashOwner returns the record whose row holds stored hash index, and
// the hash's position in that row's hashes.
func hashOwner(index int64) (record int64, pos int) {
	level, n := tlog.SplitStoredHashIndex(index)
	return (n+1)<<uint(level) - 1, level
}

// querier is *sql.DB or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// hashCache keeps the stored hashes of recently written or read rows.
// Committed rows never change, so the cache is valid across processes.
type hashCache struct {
	mu   sync.Mutex
	rows map[int64][]byte
	max  int
}

func newHashCache(max int) *hashCache {
	return &hashCache{rows: make(map[int64][]byte), max: max}
}

func (c *hashCache) get(record int64) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	b, ok := c.rows[record]
	c.mu.Unlock()
	return b, ok
}

func (c *hashCache) put(record int64, hashes []byte) {
	if c == nil {
		return
	}
	c.mu.Lock()
	if len(c.rows) >= c.max {
		// Dropping everything is cheap to recover from: the frontier is
		// O(log n) rows, read back on the next append.
		clear(c.rows)
	}
	c.rows[record] = hashes
	c.mu.Unlock()
}

// hashReader reads stored hashes from the pending batch, the cache and
// the database, in that order.
type hashReader struct {
	ctx   context.Context
	db    *store.DB
	q     querier
	cache *hashCache
	// pending rows not yet committed: records base … base+len(pending)-1.
	base    int64
	pending [][]byte
}

var _ tlog.HashReader = (*hashReader)(nil)

func (r *hashReader) row(record int64) ([]byte, bool) {
	if i := record - r.base; r.pending != nil && i >= 0 && i < int64(len(r.pending)) {
		return r.pending[i], true
	}
	return r.cache.get(record)
}

// ReadHashes implements tlog.HashReader.
func (r *hashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var missing []int64
	seen := map[int64]bool{}
	for _, x := range indexes {
		rec, _ := hashOwner(x)
		if _, ok := r.row(rec); !ok && !seen[rec] {
			seen[rec] = true
			missing = append(missing, rec)
		}
	}
	fetched := map[int64][]byte{}
	for len(missing) > 0 {
		chunk := missing[:min(len(missing), 500)]
		missing = missing[len(chunk):]
		args := make([]any, len(chunk))
		for i, rec := range chunk {
			args[i] = rec
		}
		rows, err := r.q.QueryContext(r.ctx, "SELECT idx, hashes FROM audit_entries WHERE idx IN ("+r.db.Params(1, len(chunk))+")", args...)
		if err != nil {
			return nil, fmt.Errorf("audit: read hashes: %w", err)
		}
		for rows.Next() {
			var rec int64
			var hs []byte
			if err := rows.Scan(&rec, &hs); err != nil {
				rows.Close()
				return nil, fmt.Errorf("audit: read hashes: %w", err)
			}
			fetched[rec] = hs
			r.cache.put(rec, hs)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("audit: read hashes: %w", err)
		}
	}
	for i, x := range indexes {
		rec, pos := hashOwner(x)
		hs, ok := r.row(rec)
		if !ok {
			hs, ok = fetched[rec]
		}
		if !ok {
			return nil, fmt.Errorf("audit: entry %d is missing", rec)
		}
		if len(hs) < (pos+1)*tlog.HashSize {
			return nil, fmt.Errorf("audit: entry %d: stored hashes truncated", rec)
		}
		copy(out[i][:], hs[pos*tlog.HashSize:])
	}
	return out, nil
}

// joinHashes concatenates hs.
func joinHashes(hs []tlog.Hash) []byte {
	b := make([]byte, 0, len(hs)*tlog.HashSize)
	for _, h := range hs {
		b = append(b, h[:]...)
	}
	return b
}

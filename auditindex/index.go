// Package auditindex is a derived, rebuildable index of the audit log
// for the console: one row per entry with the fields a search filters
// on, and hourly rollups (requests, refusals by reason, findings by type
// and category, leaks and restores per tenant, principal, model and
// zone) that overview and data-flow pages sum.
//
// The audit log (package audit) stores canonical JSON entries and
// nothing else; it never reads this index, and appends do no work for
// it. An [Index] tails audit_entries instead: [Index.Step] reads the
// entries after its cursor, and writes their rows, the rollup deltas
// and the new cursor in one transaction, so the index is always exactly
// the log's first N entries. On PostgreSQL the cursor row is locked
// (FOR UPDATE SKIP LOCKED) by the replica indexing a batch, so several
// gateways tailing one log index each entry once; on SQLite the write
// transaction excludes other writers. [Index.Run] steps every interval
// inside `warden serve`; [Index.CatchUp] and [Index.Rebuild] serve
// `warden audit index`.
//
// Readers ([Index.Entries], [Index.Overview], [Index.Flows]) answer from
// the index alone, newest first with keyset pagination on the log
// index, in bounded time whatever the log's size: a time window becomes
// an index range through the per-hour table, and a search that matches
// little stops after a time budget with a cursor to continue from.
//
// The index holds what the entries hold: names, counts, codes, never a
// value, a prompt or a key.
package auditindex

import (
	"context"
	"errors"
	"time"

	"github.com/wardenhq/warden/store"
)

// Config configures [New]. The zero value of every field but Store is
// its documented default.
type Config struct {
	// Store holds the audit log and the index (migration 0060).
	Store *store.DB
	// Category maps a finding type to its category (PII, FINANCIAL,
	// HEALTH, SECRET, NETWORK), as detection assigns it. Types it does
	// not know (it returns "") count under OTHER. Default: every type
	// is OTHER.
	Category func(typ string) string
	// Batch is how many entries one indexing transaction takes. Default
	// 1000: on SQLite the batch holds the write lock, which audit
	// appends wait for, for a few milliseconds.
	Batch int
	// Budget bounds the time one Entries call spends searching before it
	// returns what it found with a cursor to continue. Default 100ms.
	Budget time.Duration
	// Now is the clock of the indexer's bookkeeping. Default time.Now.
	Now func() time.Time
}

// OtherCategory is the category of finding types Config.Category does
// not know.
const OtherCategory = "OTHER"

// Index is the audit index in a store. It is safe for concurrent use.
type Index struct {
	cfg Config
	db  *store.DB
}

// New returns the index kept in cfg.Store.
func New(cfg Config) (*Index, error) {
	if cfg.Store == nil {
		return nil, errors.New("auditindex: no store")
	}
	if cfg.Category == nil {
		cfg.Category = func(string) string { return "" }
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 1000
	}
	if cfg.Budget <= 0 {
		cfg.Budget = 100 * time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Index{cfg: cfg, db: cfg.Store}, nil
}

// category is typ's category, OtherCategory when unknown.
func (x *Index) category(typ string) string {
	if c := x.cfg.Category(typ); c != "" {
		return c
	}
	return OtherCategory
}

// Next returns the index of the first entry not yet indexed: the index
// covers entries 0 … Next-1.
func (x *Index) Next(ctx context.Context) (int64, error) {
	var n int64
	if err := x.db.Read().QueryRowContext(ctx, "SELECT next FROM audit_index_state WHERE id = 1").Scan(&n); err != nil {
		return 0, wrap("read cursor", err)
	}
	return n, nil
}

// wrap prefixes a store error with what failed; store errors are
// scrubbed of the database's host and user.
func wrap(what string, err error) error {
	return &Error{What: what, Err: store.Scrub(err)}
}

// Error is a failure of the index's store.
type Error struct {
	What string
	Err  error
}

func (e *Error) Error() string { return "auditindex: " + e.What + ": " + e.Err.Error() }

// Unwrap returns the store's error.
func (e *Error) Unwrap() error { return e.Err }

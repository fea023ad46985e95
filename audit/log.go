// Package audit is Warden's tamper-evident audit log: one canonical JSON
// entry per gateway request and per administrative act, appended to an
// RFC 6962 Merkle tree kept in the store, with C2SP tlog-checkpoint notes
// signed by Ed25519 and the tree served in the C2SP tlog-tiles layout.
//
// It sits at the end of the request path: the gateway hands each
// request's [gateway.Event] to [Log.Record], which returns the entry's
// index once the entry is durably stored. Appends are group-committed: a
// background committer takes entries from a bounded queue and writes a
// batch in one transaction, sequenced by the database, so several
// gateway processes on one PostgreSQL end in one log. When the queue is
// full or the store fails, Record returns an error and the gateway fails
// closed.
//
// Anyone holding the verifier key can check the log with
// golang.org/x/mod/sumdb/tlog and note alone: fetch /audit/checkpoint,
// verify its signature, read the entry bundles and recompute the root.
// [Verify] does that and more from the database.
package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/gateway"
	"github.com/wardenhq/warden/store"
)

// ErrQueueFull reports that the append queue is full: the store cannot
// keep up. The caller should refuse the request (503, retry later).
var ErrQueueFull = errors.New("audit: append queue full")

// ErrClosed reports an append to a closed log.
var ErrClosed = errors.New("audit: log closed")

// Config configures [Open]. The zero value of every field but Store and
// Keyring is its documented default.
type Config struct {
	// Store holds the log (tables of migration 0020_audit).
	Store *store.DB
	// Keyring seals the checkpoint signing key and the root audit secret,
	// which are generated on first open and kept in audit_keys.
	Keyring Keyring
	// Origin names the log in checkpoints and the verifier key when the
	// keys are first generated. Default "warden.audit/<random hex>".
	// Ignored once keys exist: the stored origin wins.
	Origin string
	// QueueSize bounds the entries waiting to be committed. Default 65536.
	QueueSize int
	// MaxBatch bounds the entries committed in one transaction. Default 4096.
	MaxBatch int
	// CommitTimeout bounds one commit transaction. Default 10s.
	CommitTimeout time.Duration
	// CheckpointInterval is how often a new checkpoint is signed while
	// entries arrive. Default 1s; negative disables the publisher (call
	// [Log.Publish] yourself).
	CheckpointInterval time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// OnError, if set, is told about background failures (checkpoint
	// publishing). Messages carry no entry content.
	OnError func(error)
}

// Log is an open audit log. It is safe for concurrent use.
type Log struct {
	cfg   Config
	db    *store.DB
	sec   *secrets
	cache *hashCache

	mu     sync.RWMutex // guards closed against sends on queue
	closed bool
	queue  chan *pending
	quit   chan struct{}
	wg     sync.WaitGroup

	tkMu       sync.Mutex
	tenantKeys map[string][]byte

	pubMu     sync.Mutex
	published atomic.Int64

	pool sync.Pool // of *pending
}

// pending is one entry waiting for its commit.
type pending struct {
	entry []byte
	idx   int64
	done  chan error
}

var _ gateway.Auditor = (*Log)(nil)

// Open opens the log in cfg.Store, generating its keys on first use, and
// starts the committer and the checkpoint publisher. Close stops them.
func Open(ctx context.Context, cfg Config) (*Log, error) {
	if cfg.Store == nil {
		return nil, errors.New("audit: no store")
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 65536
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 4096
	}
	if cfg.CommitTimeout <= 0 {
		cfg.CommitTimeout = 10 * time.Second
	}
	if cfg.CheckpointInterval == 0 {
		cfg.CheckpointInterval = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	sec, err := loadSecrets(ctx, cfg.Store, cfg.Keyring, cfg.Origin, cfg.Now())
	if err != nil {
		return nil, err
	}
	l := &Log{
		cfg: cfg, db: cfg.Store, sec: sec, cache: newHashCache(1 << 16),
		queue: make(chan *pending, cfg.QueueSize), quit: make(chan struct{}),
		tenantKeys: map[string][]byte{},
	}
	l.published.Store(-1) // none yet: even an empty tree gets one
	if cp, err := latestCheckpoint(ctx, l.db); err == nil {
		l.published.Store(cp.Size)
	}
	l.wg.Add(1)
	go l.commitLoop()
	if cfg.CheckpointInterval > 0 {
		l.wg.Add(1)
		go l.publishLoop()
	}
	return l, nil
}

// Origin is the log's name, the first line of its checkpoints.
func (l *Log) Origin() string { return l.sec.origin }

// VerifierKey is the note verifier key of the log's checkpoints,
// "origin+hash+base64".
func (l *Log) VerifierKey() string { return l.sec.vkey }

// TenantKey returns tenant's commitment key, for a party that must prove
// what a request or response body was (see [Commitment]).
func (l *Log) TenantKey(tenant string) []byte {
	l.tkMu.Lock()
	defer l.tkMu.Unlock()
	if k, ok := l.tenantKeys[tenant]; ok {
		return k
	}
	if len(l.tenantKeys) >= 10000 {
		clear(l.tenantKeys)
	}
	k := tenantKey(l.sec.root, tenant)
	l.tenantKeys[tenant] = k
	return k
}

// Record appends the audit entry of one gateway request and returns its
// index once it is durably stored. The bodies are not stored: the entry
// holds keyed commitments to them. It fails with ErrQueueFull when the
// committer is behind, with ErrClosed after Close, or with the store's
// error; the entry is then not acknowledged (it may still be committed).
func (l *Log) Record(ctx context.Context, ev *gateway.Event) (int64, error) {
	if ev == nil {
		return -1, errors.New("audit: nil event")
	}
	entry, err := requestEntryOf(ev, l.cfg.Now(), l.TenantKey(ev.Tenant))
	if err != nil {
		return -1, err
	}
	return l.append(ctx, entry)
}

// RecordAdmin appends the entry of an administrative act and returns its
// index once it is durably stored.
func (l *Log) RecordAdmin(ctx context.Context, ev AdminEvent) (int64, error) {
	entry, err := adminEntryOf(ev, l.cfg.Now())
	if err != nil {
		return -1, err
	}
	return l.append(ctx, entry)
}

func (l *Log) append(ctx context.Context, entry []byte) (int64, error) {
	p, _ := l.pool.Get().(*pending)
	if p == nil {
		p = &pending{done: make(chan error, 1)}
	}
	p.entry, p.idx = entry, -1
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		l.pool.Put(p)
		return -1, ErrClosed
	}
	select {
	case l.queue <- p:
	default:
		l.mu.RUnlock()
		l.pool.Put(p)
		return -1, ErrQueueFull
	}
	l.mu.RUnlock()
	select {
	case err := <-p.done:
		idx := p.idx
		p.entry = nil
		l.pool.Put(p)
		if err != nil {
			return -1, err
		}
		return idx, nil
	case <-ctx.Done():
		// p is still owned by the committer; let it be collected.
		return -1, fmt.Errorf("audit: waiting for commit: %w", ctx.Err())
	}
}

// Close commits what is queued, publishes a final checkpoint and stops
// the background work. It does not close the store.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	close(l.quit)
	l.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), l.cfg.CommitTimeout)
	defer cancel()
	_, err := l.Publish(ctx)
	return err
}

func (l *Log) commitLoop() {
	defer l.wg.Done()
	batch := make([]*pending, 0, l.cfg.MaxBatch)
	for {
		select {
		case p := <-l.queue:
			batch = append(batch[:0], p)
			batch = l.drain(batch)
			l.commit(batch)
		case <-l.quit:
			for {
				batch = l.drain(batch[:0])
				if len(batch) == 0 {
					return
				}
				l.commit(batch)
			}
		}
	}
}

// drain adds queued entries to batch without blocking, up to MaxBatch.
func (l *Log) drain(batch []*pending) []*pending {
	for len(batch) < l.cfg.MaxBatch {
		select {
		case p := <-l.queue:
			batch = append(batch, p)
		default:
			return batch
		}
	}
	return batch
}

// commit appends batch in one transaction and acknowledges each entry.
func (l *Log) commit(batch []*pending) {
	ctx, cancel := context.WithTimeout(context.Background(), l.cfg.CommitTimeout)
	defer cancel()
	entries := make([][]byte, len(batch))
	for i, p := range batch {
		entries[i] = p.entry
	}
	base, hashes, err := appendEntries(ctx, l.db, l.cache, entries, l.cfg.Now().Unix())
	if err == nil {
		for i, hs := range hashes {
			l.cache.put(base+int64(i), hs)
		}
	}
	for i, p := range batch {
		if err == nil {
			p.idx = base + int64(i)
		}
		p.done <- err
	}
}

// insertChunk bounds the rows of one INSERT (4 parameters each; SQLite
// allows 32766 parameters per statement).
const insertChunk = 1000

// appendEntries appends entries at the end of the log in one transaction,
// locking the sequencer row so appends of every process are ordered. It
// returns the first entry's index and each entry's stored hashes.
func appendEntries(ctx context.Context, db *store.DB, cache *hashCache, entries [][]byte, now int64) (base int64, hashes [][]byte, err error) {
	lock := "SELECT size FROM audit_state WHERE id = 1"
	if db.Engine() == store.Postgres {
		lock += " FOR UPDATE"
	}
	err = db.Write(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, lock).Scan(&base); err != nil {
			return fmt.Errorf("audit: read log size: %w", err)
		}
		r := &hashReader{ctx: ctx, db: db, q: tx, cache: cache, base: base, pending: make([][]byte, 0, len(entries))}
		for i, e := range entries {
			hs, err := tlog.StoredHashes(base+int64(i), e, r)
			if err != nil {
				return err
			}
			r.pending = append(r.pending, joinHashes(hs))
		}
		for off := 0; off < len(entries); off += insertChunk {
			n := min(insertChunk, len(entries)-off)
			args := make([]any, 0, 4*n)
			var q []byte
			q = append(q, "INSERT INTO audit_entries (idx, entry, hashes, created_at) VALUES "...)
			for i := range n {
				if i > 0 {
					q = append(q, ", "...)
				}
				q = append(q, '(')
				q = append(q, db.Params(len(args)+1, 4)...)
				q = append(q, ')')
				args = append(args, base+int64(off+i), entries[off+i], r.pending[off+i], now)
			}
			if _, err := tx.ExecContext(ctx, string(q), args...); err != nil {
				return fmt.Errorf("audit: insert entries: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE audit_state SET size = $1 WHERE id = 1", base+int64(len(entries))); err != nil {
			return fmt.Errorf("audit: update log size: %w", err)
		}
		hashes = r.pending
		return nil
	})
	if err != nil {
		return -1, nil, err
	}
	return base, hashes, nil
}

// Size reports the number of committed entries.
func Size(ctx context.Context, db *store.DB) (int64, error) {
	var n int64
	if err := db.Read().QueryRowContext(ctx, "SELECT size FROM audit_state WHERE id = 1").Scan(&n); err != nil {
		return 0, fmt.Errorf("audit: read log size: %w", err)
	}
	return n, nil
}

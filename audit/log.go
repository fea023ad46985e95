// Package audit is Warden's tamper-evident audit log: one canonical JSON
// entry per gateway request and per administrative act, appended to an
// RFC 6962 Merkle tree kept in the store, with C2SP tlog-checkpoint notes
// signed by Ed25519 and the tree served in the C2SP tlog-tiles layout.
//
// It sits at the end of the request path: the gateway hands each
// request's [event.Record] to [Log.Record], which returns the entry's
// index once the entry is durably stored. Appends are group-committed:
// entries wait in a bounded queue and are written a batch per
// transaction, sequenced by the database, so several gateway processes
// on one PostgreSQL end in one log. The caller that finds no commit
// running commits the batch itself (its entry is first), so an append on
// a quiet log costs no hand-off to another goroutine; entries that
// arrive meanwhile are committed by a background goroutine. When the
// queue is full or the store fails, Record returns an error and the
// gateway fails closed.
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

	"github.com/wardenhq/warden/audit/event"
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

	// qmu guards the queue and the committer state; idle is signalled
	// when a committer finds the queue empty and stops.
	qmu     sync.Mutex
	idle    sync.Cond
	closed  bool
	queue   []*pending // entries waiting for a commit
	leading bool       // a goroutine is committing batches
	batch   []*pending // the committer's batch (owned by whoever leads)
	stmts   *appendStmts

	quit chan struct{} // stops the checkpoint publisher
	wg   sync.WaitGroup

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

// Open opens the log in cfg.Store, generating its keys on first use, and
// starts the checkpoint publisher. Close commits what is queued and stops it.
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
	stmts, err := prepareAppend(ctx, cfg.Store)
	if err != nil {
		return nil, err
	}
	l := &Log{
		cfg: cfg, db: cfg.Store, sec: sec, cache: newHashCache(1 << 16),
		quit: make(chan struct{}), stmts: stmts,
		tenantKeys: map[string][]byte{},
	}
	l.idle.L = &l.qmu
	l.published.Store(-1) // none yet: even an empty tree gets one
	if cp, err := latestCheckpoint(ctx, l.db); err == nil {
		l.published.Store(cp.Size)
	}
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
func (l *Log) Record(ctx context.Context, ev *event.Record) (int64, error) {
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
	l.qmu.Lock()
	if l.closed {
		l.qmu.Unlock()
		l.pool.Put(p)
		return -1, ErrClosed
	}
	if len(l.queue) >= l.cfg.QueueSize {
		l.qmu.Unlock()
		l.pool.Put(p)
		return -1, ErrQueueFull
	}
	l.queue = append(l.queue, p)
	lead := !l.leading
	l.leading = true
	l.qmu.Unlock()
	if lead {
		// Nobody is committing, so the queue held nothing before p:
		// commit p's batch here and hand any later arrivals to a
		// background committer.
		l.commitQueued(1)
	}
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

// commitQueued commits queued entries, up to MaxBatch per transaction,
// until the queue is empty; the caller must have set l.leading. After
// rounds batches (0: no limit) it hands the rest to a new goroutine, so
// a request's goroutine never commits for long on behalf of others.
func (l *Log) commitQueued(rounds int) {
	for i := 0; ; i++ {
		l.qmu.Lock()
		if len(l.queue) == 0 {
			l.leading = false
			l.idle.Broadcast()
			l.qmu.Unlock()
			return
		}
		if rounds > 0 && i == rounds {
			l.qmu.Unlock()
			go l.commitQueued(0)
			return
		}
		n := min(len(l.queue), l.cfg.MaxBatch)
		batch := append(l.batch[:0], l.queue[:n]...)
		rest := copy(l.queue, l.queue[n:])
		clear(l.queue[rest:])
		l.queue = l.queue[:rest]
		l.batch = nil
		l.qmu.Unlock()
		l.commit(batch)
		clear(batch)
		l.qmu.Lock()
		l.batch = batch[:0]
		l.qmu.Unlock()
	}
}

// Close commits what is queued, publishes a final checkpoint and stops
// the background work. It does not close the store.
func (l *Log) Close() error {
	l.qmu.Lock()
	if l.closed {
		l.qmu.Unlock()
		return nil
	}
	l.closed = true
	for l.leading {
		l.idle.Wait()
	}
	l.qmu.Unlock()
	close(l.quit)
	l.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), l.cfg.CommitTimeout)
	defer cancel()
	_, err := l.Publish(ctx)
	return errors.Join(err, l.stmts.close())
}

// commit appends batch in one transaction and acknowledges each entry.
func (l *Log) commit(batch []*pending) {
	ctx, cancel := context.WithTimeout(context.Background(), l.cfg.CommitTimeout)
	defer cancel()
	entries := make([][]byte, len(batch))
	for i, p := range batch {
		entries[i] = p.entry
	}
	base, hashes, err := appendEntries(ctx, l.db, l.stmts, l.cache, entries, l.cfg.Now().Unix())
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

// insertChunk bounds the rows of one multi-row INSERT (4 parameters
// each; SQLite allows 32766 parameters per statement).
const insertChunk = 1000

// Statements of an append. On PostgreSQL the audit_state row is the
// sequencer, locked by every append; on SQLite, where a write
// transaction already excludes other writers, the next index is read
// from the entries (migration 0021) and nothing else is written.
const (
	sqlLockSize    = "SELECT size FROM audit_state WHERE id = 1 FOR UPDATE"
	sqlUpdateSize  = "UPDATE audit_state SET size = $1 WHERE id = 1"
	sqlReadSize    = "SELECT size FROM audit_state WHERE id = 1"
	sqliteSize     = "SELECT COALESCE(MAX(idx) + 1, 0) FROM audit_entries"
	sqlInsertEntry = "INSERT INTO audit_entries (idx, entry, hashes, created_at) VALUES ($1, $2, $3, $4)"
)

// appendStmts are the statements of an append, prepared once on the
// store's write pool and bound to each transaction: SQLite would
// otherwise parse every statement on every commit, which was a third of
// a small commit's cost. update is nil on SQLite.
type appendStmts struct {
	lock, insert, update *sql.Stmt
}

func prepareAppend(ctx context.Context, db *store.DB) (*appendStmts, error) {
	lock, update := sqlLockSize, sqlUpdateSize
	if db.Engine() == store.SQLite {
		lock, update = sqliteSize, ""
	}
	var s appendStmts
	for _, q := range []struct {
		dst   **sql.Stmt
		query string
	}{{&s.lock, lock}, {&s.insert, sqlInsertEntry}, {&s.update, update}} {
		if q.query == "" {
			continue
		}
		st, err := db.PrepareWrite(ctx, q.query)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("audit: prepare append: %w", err)
		}
		*q.dst = st
	}
	return &s, nil
}

func (s *appendStmts) close() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.lock, s.insert, s.update} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// appendEntries appends entries at the end of the log in one transaction,
// locking the sequencer row so appends of every process are ordered. It
// returns the first entry's index and each entry's stored hashes.
func appendEntries(ctx context.Context, db *store.DB, st *appendStmts, cache *hashCache, entries [][]byte, now int64) (base int64, hashes [][]byte, err error) {
	err = db.Write(ctx, func(tx *sql.Tx) error {
		if err := tx.StmtContext(ctx, st.lock).QueryRowContext(ctx).Scan(&base); err != nil {
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
		if err := insertEntries(ctx, db, tx, st, base, entries, r.pending, now); err != nil {
			return fmt.Errorf("audit: insert entries: %w", err)
		}
		if st.update != nil {
			if _, err := tx.StmtContext(ctx, st.update).ExecContext(ctx, base+int64(len(entries))); err != nil {
				return fmt.Errorf("audit: update log size: %w", err)
			}
		}
		hashes = r.pending
		return nil
	})
	if err != nil {
		return -1, nil, err
	}
	return base, hashes, nil
}

// insertEntries writes the rows of entries from index base: a few rows
// (the usual batch on a quiet log) with the prepared one-row statement,
// more in multi-row statements, which cost one parse but one round trip
// (PostgreSQL) or one statement run (SQLite) per chunk.
func insertEntries(ctx context.Context, db *store.DB, tx *sql.Tx, st *appendStmts, base int64, entries, hashes [][]byte, now int64) error {
	if len(entries) <= 4 {
		ins := tx.StmtContext(ctx, st.insert)
		for i, e := range entries {
			if _, err := ins.ExecContext(ctx, base+int64(i), e, hashes[i], now); err != nil {
				return err
			}
		}
		return nil
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
			args = append(args, base+int64(off+i), entries[off+i], hashes[off+i], now)
		}
		if _, err := tx.ExecContext(ctx, string(q), args...); err != nil {
			return err
		}
	}
	return nil
}

// Size reports the number of committed entries.
func Size(ctx context.Context, db *store.DB) (int64, error) {
	var n int64
	q := sqlReadSize
	if db.Engine() == store.SQLite {
		q = sqliteSize
	}
	if err := db.Read().QueryRowContext(ctx, q).Scan(&n); err != nil {
		return 0, fmt.Errorf("audit: read log size: %w", err)
	}
	return n, nil
}

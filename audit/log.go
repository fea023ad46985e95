// Package audit is Warden's tamper-evident audit log: canonical JSON
// entries for gateway requests and administrative acts, appended to an
// RFC 6962 Merkle tree kept in the store, with C2SP tlog-checkpoint notes
// signed by Ed25519 and the tree served in the C2SP tlog-tiles layout.
//
// It sits on the request path twice. A request that goes to an upstream
// is first an intent: the gateway hands its [event.Record] to
// [Log.Record], which returns once the entry is durable (fsynced on
// SQLite, committed on PostgreSQL); only then is the upstream called.
// After the response, a completion record names the intent's index and
// closes it. A request refused before any upstream call is one request
// entry. An intent whose completion never comes (the process died) is
// closed by an aborted entry that another log writes once the writer's
// heartbeat has stopped (see writers.go), so every intent ends closed
// exactly once, which [Verify] checks.
//
// Appends are group-committed: entries wait in a bounded queue and are
// written a batch per transaction (one fsync per batch), sequenced by
// the database, so several gateway processes on one PostgreSQL end in
// one log. The caller that finds no commit running commits the batch
// itself (its entry is first), so an append on a quiet log costs no
// hand-off to another goroutine; entries that arrive meanwhile are
// committed by a background goroutine. When the queue is full or the
// store fails, Record returns an error and the gateway fails closed;
// [Log.Ready] reports the same state for a readiness probe.
//
// Anyone holding the verifier key can check the log with
// golang.org/x/mod/sumdb/tlog and note alone: fetch /audit/checkpoint,
// verify its signature, read the entry bundles and recompute the root.
// [Verify] does that and more from the database. docs/AUDIT.md describes
// the entry format and the guarantees.
package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
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

// ErrIntentNotOpen reports a completion or aborted record whose intent
// is not open: never written, already closed, or aborted after its
// writer was presumed dead. Nothing was appended.
var ErrIntentNotOpen = errors.New("audit: intent is not open")

// Config configures [Open]. The zero value of every field but Store and
// Keyring is its documented default.
type Config struct {
	// Store holds the log (tables of migrations 0020_audit and
	// 0022_audit_open).
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
	// HeartbeatInterval is how often the log refreshes its row in
	// audit_writers and looks for intents of dead writers to abort.
	// Default 5s.
	HeartbeatInterval time.Duration
	// WriterTimeout is how long after its last heartbeat a writer is
	// presumed dead by every log on the store (it is kept in the
	// writer's row), which then aborts its open intents. At least three
	// HeartbeatIntervals. Default 30s: a heartbeat may wait for the
	// SQLite write lock up to the store's busy timeout (10s) and still
	// leave two more chances.
	WriterTimeout time.Duration
	// Now is the clock of entry times. Default time.Now. Heartbeats use
	// the database's clock, so that the nodes of a cluster agree.
	Now func() time.Time
	// OnError, if set, is told about background failures (checkpoint
	// publishing, heartbeats, recovery) and about intents the log closed
	// itself. Messages carry no entry content.
	OnError func(error)
}

// Log is an open audit log. It is safe for concurrent use.
type Log struct {
	// lastBeat is when the writer row was last refreshed in a committed
	// transaction (monotonic nanoseconds since start; 0: never).
	lastBeat atomic.Int64
	start    time.Time

	cfg   Config
	db    *store.DB
	sec   *secrets
	cache *hashCache
	nowMS string // SQL expression: the database clock in Unix milliseconds

	// writer is this log's id in audit_writers and audit_open.
	writer string

	// qmu guards the queue and the committer state; idle is signalled
	// when a committer finds the queue empty and stops.
	qmu     sync.Mutex
	idle    sync.Cond
	closed  bool
	queue   []*pending // entries waiting for a commit
	leading bool       // a goroutine is committing batches
	batch   []*pending // the committer's batch (owned by whoever leads)
	stmts   *appendStmts

	quit chan struct{} // stops the background loops
	wg   sync.WaitGroup

	// failing is set when the last write (a commit or a heartbeat)
	// failed and none succeeded since (see Ready).
	failing atomic.Bool

	tkMu       sync.Mutex
	tenantKeys map[string][]byte

	pubMu     sync.Mutex
	published atomic.Int64

	pool sync.Pool // of *pending
}

// pending is one entry waiting for its commit.
type pending struct {
	entry  []byte
	intent bool  // an intent: gets a row in audit_open
	closes int64 // the intent a completion or aborted entry closes, or -1
	idx    int64
	done   chan error
}

// Open opens the log in cfg.Store, generating its keys on first use,
// registers it as a writer, aborts the open intents of writers that are
// dead, and starts the heartbeat and the checkpoint publisher. Close
// commits what is queued and stops them.
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
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = 5 * time.Second
	}
	if cfg.WriterTimeout <= 0 {
		cfg.WriterTimeout = 30 * time.Second
	}
	if cfg.WriterTimeout < 3*cfg.HeartbeatInterval {
		return nil, fmt.Errorf("audit: WriterTimeout %s must be at least 3 × HeartbeatInterval (%s)",
			cfg.WriterTimeout, 3*cfg.HeartbeatInterval)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := checkDurable(ctx, cfg.Store); err != nil {
		return nil, err
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
		cfg: cfg, db: cfg.Store, sec: sec, cache: newHashCache(1 << 16), nowMS: nowMS(cfg.Store), start: time.Now(),
		quit: make(chan struct{}), stmts: stmts,
		tenantKeys: map[string][]byte{},
	}
	l.idle.L = &l.qmu
	l.published.Store(-1) // none yet: even an empty tree gets one
	if cp, err := latestCheckpoint(ctx, l.db); err == nil {
		l.published.Store(cp.Size)
	}
	if err := l.register(ctx); err != nil {
		stmts.close()
		return nil, err
	}
	if _, err := l.recoverDead(ctx); err != nil {
		l.unregister()
		stmts.close()
		return nil, err
	}
	l.wg.Add(1)
	go l.heartbeatLoop()
	if cfg.CheckpointInterval > 0 {
		l.wg.Add(1)
		go l.publishLoop()
	}
	return l, nil
}

// checkDurable refuses a PostgreSQL session whose commits are not
// durable (synchronous_commit off): an acknowledged intent could be lost
// in a crash, and the gateway would have called the upstream anyway.
func checkDurable(ctx context.Context, db *store.DB) error {
	if db.Engine() != store.Postgres {
		return nil // SQLite: the store syncs every commit (synchronous=FULL)
	}
	var v string
	if err := db.Read().QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&v); err != nil {
		return fmt.Errorf("audit: read synchronous_commit: %w", err)
	}
	if v == "off" {
		return errors.New("audit: PostgreSQL synchronous_commit is off: audit commits would not be durable; set it to on (or local, remote_write …)")
	}
	return nil
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

// Record appends the audit entry of one gateway request record and
// returns its index once it is durable. The bodies are not stored: the
// entry holds keyed commitments to them.
//
// An Intent record opens an intent, which stays open until a Completion
// or Aborted record naming its index (ev.Intent) is recorded; the
// gateway must not call the upstream before Record of the intent has
// returned an index. Record fails with ErrIntentNotOpen when a closing
// record's intent is not open, with ErrQueueFull when the
// committer is behind, with ErrClosed after Close, or with the store's
// error; the entry is then not acknowledged (after a store error or a
// cancelled ctx it may still be committed).
func (l *Log) Record(ctx context.Context, ev *event.Record) (int64, error) {
	if ev == nil {
		return -1, errors.New("audit: nil event")
	}
	if err := checkRecord(ev); err != nil {
		return -1, err
	}
	entry, err := recordEntryOf(ev, l.cfg.Now(), l.TenantKey(ev.Tenant))
	if err != nil {
		return -1, err
	}
	closes := int64(-1)
	if ev.Kind == event.Completion || ev.Kind == event.Aborted {
		closes = ev.Intent
	}
	return l.append(ctx, entry, ev.Kind == event.Intent, closes)
}

// RecordAdmin appends the entry of an administrative act and returns its
// index once it is durable.
func (l *Log) RecordAdmin(ctx context.Context, ev AdminEvent) (int64, error) {
	entry, err := adminEntryOf(ev, l.cfg.Now())
	if err != nil {
		return -1, err
	}
	return l.append(ctx, entry, false, -1)
}

func (l *Log) append(ctx context.Context, entry []byte, intent bool, closes int64) (int64, error) {
	p, _ := l.pool.Get().(*pending)
	if p == nil {
		p = &pending{done: make(chan error, 1)}
	}
	p.entry, p.intent, p.closes, p.idx = entry, intent, closes, -1
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
		l.commitQueued(ctx, 1)
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
func (l *Log) commitQueued(ctx context.Context, rounds int) {
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
			go l.commitQueued(context.Background(), 0)
			return
		}
		n := min(len(l.queue), l.cfg.MaxBatch)
		batch := append(l.batch[:0], l.queue[:n]...)
		rest := copy(l.queue, l.queue[n:])
		clear(l.queue[rest:])
		l.queue = l.queue[:rest]
		l.batch = nil
		l.qmu.Unlock()
		// The caller that leads commits under its own deadline (the
		// gateway's audit_timeout): a stalled store fails its request in
		// time instead of holding it for the store's busy timeout. Later
		// batches are the background committer's.
		l.commit(ctx, batch)
		ctx = context.Background()
		clear(batch)
		l.qmu.Lock()
		l.batch = batch[:0]
		l.qmu.Unlock()
	}
}

// Close commits what is queued, closes this log's intents that are
// still open with aborted entries (reason log_closed; the gateway should
// drain its requests first, and OnError is told how many there were),
// removes the log's writer row, publishes a final checkpoint and stops
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
	n, err := l.closeOwn(ctx)
	if n > 0 {
		l.report(fmt.Errorf("audit: closed with %d intents open; wrote aborted entries (reason %s)", n, ReasonLogClosed))
	}
	_, perr := l.Publish(ctx)
	return errors.Join(err, perr, l.stmts.close())
}

func (l *Log) report(err error) {
	if l.cfg.OnError != nil {
		l.cfg.OnError(err)
	}
}

// commit appends batch in one transaction and acknowledges each entry.
func (l *Log) commit(ctx context.Context, batch []*pending) {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.CommitTimeout)
	defer cancel()
	var res batchResult
	began := l.since()
	err := l.db.Write(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = l.appendBatch(ctx, tx, batch)
		return err
	})
	l.noteWrite(err)
	if err == nil && res.beat {
		l.lastBeat.Store(max(began, 1))
	}
	if err == nil && res.revived {
		l.report(errPresumedDead)
	}
	if err == nil {
		for i, hs := range res.hashes {
			l.cache.put(res.base+int64(i), hs)
		}
	}
	next := res.base
	for i, p := range batch {
		switch {
		case err != nil:
			p.done <- err
		case res.refused != nil && res.refused[i] != nil:
			p.done <- res.refused[i]
		default:
			p.idx = next
			next++
			p.done <- nil
		}
	}
}

// batchResult is what one commit appended: entries from index base,
// with their stored hashes, and the batch's entries refused (nil for
// each accepted one; nil altogether when none was refused).
type batchResult struct {
	base    int64
	hashes  [][]byte
	refused []error
	revived bool // the writer row was missing and was put back
	beat    bool // the writer row was refreshed
}

// appendBatch appends batch in tx: it closes the intents the batch's
// completions and aborted entries name (refusing those whose intent is
// not open), appends the rest in order, and opens the intents among
// them under this writer, whose heartbeat it refreshes in the same
// transaction (see Writers and recovery).
func (l *Log) appendBatch(ctx context.Context, tx *sql.Tx, batch []*pending) (batchResult, error) {
	res := batchResult{}
	base, err := l.stmts.next(ctx, tx)
	if err != nil {
		return res, err
	}
	res.base = base
	refuse := func(i int, err error) {
		if res.refused == nil {
			res.refused = make([]error, len(batch))
		}
		res.refused[i] = err
	}
	var closers []int
	for i, p := range batch {
		if p.closes >= 0 {
			closers = append(closers, i)
		}
	}
	if len(closers) > 0 {
		open, err := deleteOpen(ctx, tx, l.stmts, batch, closers)
		if err != nil {
			return res, fmt.Errorf("audit: close intents: %w", err)
		}
		for k, i := range closers {
			if !open[k] {
				refuse(i, fmt.Errorf("%w: %d", ErrIntentNotOpen, batch[i].closes))
			}
		}
	}
	entries := make([][]byte, 0, len(batch))
	var opened []int64
	for i, p := range batch {
		if res.refused != nil && res.refused[i] != nil {
			continue
		}
		if p.intent {
			opened = append(opened, base+int64(len(entries)))
		}
		entries = append(entries, p.entry)
	}
	now := l.cfg.Now().Unix()
	res.hashes, err = appendAt(ctx, l.db, tx, l.stmts, l.cache, base, entries, now)
	if err != nil {
		return res, err
	}
	if len(opened) > 0 {
		// Intents are written only under a writer row that no recovery
		// can take for dead. A beat committed less than a quarter of the
		// writer timeout ago is proof enough; otherwise this
		// transaction refreshes it.
		if last := l.lastBeat.Load(); last == 0 || time.Duration(l.since()-last) > l.cfg.WriterTimeout/4 {
			if res.revived, err = l.beat(ctx, tx); err != nil {
				return res, fmt.Errorf("audit: heartbeat: %w", err)
			}
			res.beat = true
		}
		if err := insertOpen(ctx, tx, l.stmts, opened, l.writer, now); err != nil {
			return res, fmt.Errorf("audit: open intents: %w", err)
		}
	}
	if err := l.stmts.setSize(ctx, tx, base+int64(len(entries))); err != nil {
		return res, err
	}
	return res, nil
}

// since is the log's monotonic clock.
func (l *Log) since() int64 { return int64(time.Since(l.start)) }

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
	sqlInsertOpen  = "INSERT INTO audit_open (idx, writer, created_at) VALUES ($1, $2, $3)"
	sqlDeleteOpen  = "DELETE FROM audit_open WHERE idx = $1"
)

// Statements on many audit_open rows take the indexes as one JSON array
// parameter, so their text does not change with the batch and they are
// prepared once (parsing a multi-row statement on every commit was an
// eighth of the committer's time).
var (
	sqlInsertOpens = map[store.Engine]string{
		store.SQLite:   "INSERT INTO audit_open (idx, writer, created_at) SELECT value, $1, $2 FROM json_each($3)",
		store.Postgres: "INSERT INTO audit_open (idx, writer, created_at) SELECT value::bigint, $1::text, $2::bigint FROM jsonb_array_elements_text($3::jsonb)",
	}
	sqlDeleteOpens = map[store.Engine]string{
		store.SQLite:   "DELETE FROM audit_open WHERE idx IN (SELECT value FROM json_each($1)) RETURNING idx",
		store.Postgres: "DELETE FROM audit_open WHERE idx IN (SELECT value::bigint FROM jsonb_array_elements_text($1::jsonb)) RETURNING idx",
	}
)

// jsonInts is idxs as a JSON array.
func jsonInts(idxs []int64) string {
	b := make([]byte, 0, 2+8*len(idxs))
	b = append(b, '[')
	for i, x := range idxs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, x, 10)
	}
	return string(append(b, ']'))
}

// appendStmts are the statements of an append, prepared once on the
// store's write pool and bound to each transaction: SQLite would
// otherwise parse every statement on every commit, which was a third of
// a small commit's cost. update is nil on SQLite; open and shut insert
// and delete one audit_open row, opens and shuts many; beat refreshes a
// writer's heartbeat.
type appendStmts struct {
	lock, insert, update, open, shut, beat *sql.Stmt
	opens, shuts                           *sql.Stmt // many rows, JSON array of indexes
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
	}{
		{&s.lock, lock}, {&s.insert, sqlInsertEntry}, {&s.update, update}, {&s.open, sqlInsertOpen}, {&s.shut, sqlDeleteOpen},
		{&s.beat, "UPDATE audit_writers SET beat = " + nowMS(db) + " WHERE id = $1"},
		{&s.opens, sqlInsertOpens[db.Engine()]}, {&s.shuts, sqlDeleteOpens[db.Engine()]},
	} {
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
	for _, st := range []*sql.Stmt{s.lock, s.insert, s.update, s.open, s.shut, s.beat, s.opens, s.shuts} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// next returns the index the next entry gets, locking the sequencer row
// on PostgreSQL so that appends of every process are ordered.
func (s *appendStmts) next(ctx context.Context, tx *sql.Tx) (int64, error) {
	var base int64
	if err := tx.StmtContext(ctx, s.lock).QueryRowContext(ctx).Scan(&base); err != nil {
		return -1, fmt.Errorf("audit: read log size: %w", err)
	}
	return base, nil
}

// setSize records the log's new size (PostgreSQL's sequencer row).
func (s *appendStmts) setSize(ctx context.Context, tx *sql.Tx, size int64) error {
	if s.update == nil {
		return nil
	}
	if _, err := tx.StmtContext(ctx, s.update).ExecContext(ctx, size); err != nil {
		return fmt.Errorf("audit: update log size: %w", err)
	}
	return nil
}

// appendEntries appends entries at the end of the log in one transaction
// and returns the first entry's index and each entry's stored hashes.
func appendEntries(ctx context.Context, db *store.DB, st *appendStmts, cache *hashCache, entries [][]byte, now int64) (base int64, hashes [][]byte, err error) {
	err = db.Write(ctx, func(tx *sql.Tx) error {
		var err error
		if base, err = st.next(ctx, tx); err != nil {
			return err
		}
		if hashes, err = appendAt(ctx, db, tx, st, cache, base, entries, now); err != nil {
			return err
		}
		return st.setSize(ctx, tx, base+int64(len(entries)))
	})
	if err != nil {
		return -1, nil, err
	}
	return base, hashes, nil
}

// appendAt hashes entries as the log's entries base, base+1 … and
// inserts their rows in tx. It returns each entry's stored hashes.
func appendAt(ctx context.Context, db *store.DB, tx *sql.Tx, st *appendStmts, cache *hashCache, base int64, entries [][]byte, now int64) ([][]byte, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	r := &hashReader{ctx: ctx, db: db, q: tx, cache: cache, base: base, pending: make([][]byte, 0, len(entries))}
	for i, e := range entries {
		hs, err := tlog.StoredHashes(base+int64(i), e, r)
		if err != nil {
			return nil, err
		}
		r.pending = append(r.pending, joinHashes(hs))
	}
	if err := insertEntries(ctx, db, tx, st, base, entries, r.pending, now); err != nil {
		return nil, fmt.Errorf("audit: insert entries: %w", err)
	}
	return r.pending, nil
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
	return multiRow(ctx, db, tx, "INSERT INTO audit_entries (idx, entry, hashes, created_at) VALUES ", 4, len(entries),
		func(i int, args []any) []any { return append(args, base+int64(i), entries[i], hashes[i], now) })
}

// insertOpen gives each intent index in idxs its audit_open row.
func insertOpen(ctx context.Context, tx *sql.Tx, st *appendStmts, idxs []int64, writer string, now int64) error {
	if len(idxs) <= 4 {
		ins := tx.StmtContext(ctx, st.open)
		for _, idx := range idxs {
			if _, err := ins.ExecContext(ctx, idx, writer, now); err != nil {
				return err
			}
		}
		return nil
	}
	_, err := tx.StmtContext(ctx, st.opens).ExecContext(ctx, writer, now, jsonInts(idxs))
	return err
}

// deleteOpen deletes the audit_open rows of the intents that
// batch[closers[k]] close and reports, for each k, whether that closer
// found its intent open. Of two closers of one intent, the first wins.
func deleteOpen(ctx context.Context, tx *sql.Tx, st *appendStmts, batch []*pending, closers []int) ([]bool, error) {
	open := make([]bool, len(closers))
	if len(closers) <= 4 {
		del := tx.StmtContext(ctx, st.shut)
		for k, i := range closers {
			r, err := del.ExecContext(ctx, batch[i].closes)
			if err != nil {
				return nil, err
			}
			n, err := r.RowsAffected()
			if err != nil {
				return nil, err
			}
			open[k] = n == 1
		}
		return open, nil
	}
	idxs := make([]int64, len(closers))
	for k, i := range closers {
		idxs[k] = batch[i].closes
	}
	gone, err := scanInts(tx.StmtContext(ctx, st.shuts).QueryContext(ctx, jsonInts(idxs)))
	if err != nil {
		return nil, err
	}
	deleted := make(map[int64]bool, len(gone))
	for _, idx := range gone {
		deleted[idx] = true
	}
	for k, i := range closers {
		if deleted[batch[i].closes] {
			open[k] = true
			delete(deleted, batch[i].closes) // a second closer finds it closed
		}
	}
	return open, nil
}

// multiRow runs prefix (v1, v2 …), (…) … in chunks of insertChunk rows
// of cols parameters each; row appends row i's parameters to args.
func multiRow(ctx context.Context, db *store.DB, tx *sql.Tx, prefix string, cols, n int, row func(i int, args []any) []any) error {
	for off := 0; off < n; off += insertChunk {
		m := min(insertChunk, n-off)
		args := make([]any, 0, cols*m)
		q := make([]byte, 0, len(prefix)+m*(4+6*cols))
		q = append(q, prefix...)
		for i := range m {
			if i > 0 {
				q = append(q, ", "...)
			}
			q = append(q, '(')
			q = append(q, db.Params(len(args)+1, cols)...)
			q = append(q, ')')
			args = row(off+i, args)
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

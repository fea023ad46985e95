package audit

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wardenhq/warden/store"
)

// Writers and recovery
//
// Every open Log is a writer: a row in audit_writers with a random id,
// refreshed every HeartbeatInterval (beat, in the database's clock) and
// declaring the writer's own timeout (ttl_ms = WriterTimeout). Each
// intent it appends gets a row in audit_open naming it, in the same
// transaction; the completion or aborted entry deletes the row in its
// own transaction. So audit_open is exactly the set of open intents.
//
// A writer is dead when beat + ttl_ms is in the database's past, or
// when its row is missing. At Open and on every heartbeat a log looks
// for open intents of dead writers and closes each with an aborted entry
// (reason writer_gone), then deletes dead writers' rows. It never
// touches a live writer's intents: a CLI command that opens the log for
// an admin entry, or a second gateway on the same PostgreSQL, leaves a
// running gateway's in-flight requests alone.
//
// Recovery is one transaction that first takes the sequencer (the
// audit_state row lock on PostgreSQL, the write lock on SQLite), then
// reads audit_open: two logs recovering at once are serialised, and the
// second finds the rows the first deleted gone, so each intent is
// aborted once.
//
// A commit that appends intents refreshes its writer's heartbeat in the
// same transaction, after taking the sequencer, and puts the row back if
// a recoverer deleted it. Commits and recoveries are serialised by the
// sequencer, so a recovery either runs before (and the intents are
// appended under a writer alive again) or after (and finds the beat
// fresh): an intent is never appended under a writer presumed dead.
// Intents appended earlier by a writer presumed dead were aborted; their
// completions fail with ErrIntentNotOpen and OnError is told.

// recoverChunk bounds the intents one recovery transaction closes.
const recoverChunk = 1000

// nowMS is the SQL expression of the database clock in Unix milliseconds.
func nowMS(db *store.DB) string {
	if db.Engine() == store.SQLite {
		return "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"
	}
	return "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
}

// errPresumedDead is what OnError hears when the log finds its writer
// row deleted by a recoverer.
var errPresumedDead = errors.New("audit: this log was presumed dead by another (no heartbeat within its WriterTimeout); its open intents were aborted")

// register inserts the log's writer row.
func (l *Log) register(ctx context.Context) error {
	var b [16]byte
	rand.Read(b[:])
	l.writer = hex.EncodeToString(b[:])
	err := l.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO audit_writers (id, started_at, beat, ttl_ms) VALUES ($1, $2, "+l.nowMS+", $3)",
			l.writer, l.cfg.Now().Unix(), l.cfg.WriterTimeout.Milliseconds())
		return err
	})
	if err != nil {
		return fmt.Errorf("audit: register writer: %w", err)
	}
	return nil
}

// unregister deletes the log's writer row (Open failed after register).
func (l *Log) unregister() {
	ctx, cancel := context.WithTimeout(context.Background(), l.cfg.CommitTimeout)
	defer cancel()
	l.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM audit_writers WHERE id = $1", l.writer)
		return err
	})
}

// beat refreshes the writer row in tx, putting it back if it is missing
// (revived: another log presumed this one dead and aborted its intents).
func (l *Log) beat(ctx context.Context, tx *sql.Tx) (revived bool, err error) {
	r, err := tx.StmtContext(ctx, l.stmts.beat).ExecContext(ctx, l.writer)
	if err != nil {
		return false, err
	}
	if n, err := r.RowsAffected(); err != nil || n == 1 {
		return false, err
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO audit_writers (id, started_at, beat, ttl_ms) VALUES ($1, $2, "+l.nowMS+", $3)",
		l.writer, l.cfg.Now().Unix(), l.cfg.WriterTimeout.Milliseconds())
	return true, err
}

// heartbeat refreshes the writer row in a transaction of its own.
func (l *Log) heartbeat(ctx context.Context) error {
	var revived bool
	began := l.since()
	err := l.db.Write(ctx, func(tx *sql.Tx) error {
		var err error
		revived, err = l.beat(ctx, tx)
		return err
	})
	l.noteWrite(err)
	if err != nil {
		return fmt.Errorf("audit: heartbeat: %w", err)
	}
	l.lastBeat.Store(max(began, 1))
	if revived {
		l.report(errPresumedDead)
	}
	return nil
}

func (l *Log) heartbeatLoop() {
	defer l.wg.Done()
	t := time.NewTicker(l.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-l.quit:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), l.cfg.CommitTimeout)
			if err := l.heartbeat(ctx); err != nil {
				l.report(err)
			} else if _, err := l.recoverDead(ctx); err != nil {
				l.report(err)
			}
			cancel()
		}
	}
}

// noteWrite records the outcome of a write for Ready.
func (l *Log) noteWrite(err error) {
	if l.failing.Load() != (err != nil) {
		l.failing.Store(err != nil)
	}
}

// ErrNotReady is the error [Log.Ready] wraps.
var ErrNotReady = errors.New("audit: not ready")

// Ready reports whether the log can take a request's entries now, for a
// readiness probe (/readyz). It does no I/O and writes no entry: the
// heartbeat, a write transaction every HeartbeatInterval, is the log's
// write probe, so an idle log notices a lost store within one interval.
// It fails when the log is closed, when the last write (a commit or a
// heartbeat) failed and none has succeeded since, or when the append
// queue is full. The error wraps ErrNotReady and names the condition,
// never the store.
func (l *Log) Ready(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrNotReady, err)
	}
	l.qmu.Lock()
	closed, full := l.closed, len(l.queue) >= l.cfg.QueueSize
	l.qmu.Unlock()
	switch {
	case closed:
		return fmt.Errorf("%w: log closed", ErrNotReady)
	case l.failing.Load():
		return fmt.Errorf("%w: store write failed", ErrNotReady)
	case full:
		return fmt.Errorf("%w: append queue full", ErrNotReady)
	}
	return nil
}

// Recovery queries; {now} stands for the database clock (nowMS).
const (
	// sqlDeadPending: is there anything to recover (an open intent of a
	// dead or missing writer, or a dead writer's row)?
	sqlDeadPending = `SELECT CASE WHEN EXISTS (SELECT 1 FROM audit_writers w WHERE w.id <> $1 AND w.beat + w.ttl_ms < {now})
	OR EXISTS (SELECT 1 FROM audit_open o WHERE o.writer <> $1 AND NOT EXISTS (SELECT 1 FROM audit_writers w WHERE w.id = o.writer))
	THEN 1 ELSE 0 END`
	sqlDeadIntents = `SELECT o.idx FROM audit_open o LEFT JOIN audit_writers w ON w.id = o.writer
	WHERE o.writer <> $1 AND (w.id IS NULL OR w.beat + w.ttl_ms < {now}) ORDER BY o.idx LIMIT $2`
	sqlDeadWriters = `DELETE FROM audit_writers WHERE id <> $1 AND beat + ttl_ms < {now}
	AND NOT EXISTS (SELECT 1 FROM audit_open o WHERE o.writer = audit_writers.id)`
	sqlOwnIntents = `SELECT idx FROM audit_open WHERE writer = $1 ORDER BY idx LIMIT $2`
)

func (l *Log) sql(q string) string {
	return strings.ReplaceAll(q, "{now}", l.nowMS)
}

// recoverDead closes the open intents of dead writers with aborted
// entries and deletes the dead writers' rows. It returns how many
// intents it closed; when there is nothing to do it costs one read.
func (l *Log) recoverDead(ctx context.Context) (int, error) {
	var pending int
	if err := l.db.Read().QueryRowContext(ctx, l.sql(sqlDeadPending), l.writer).Scan(&pending); err != nil {
		return 0, fmt.Errorf("audit: look for dead writers: %w", err)
	}
	if pending == 0 {
		return 0, nil
	}
	total := 0
	for {
		selected, closed, err := l.closeIntents(ctx, l.sql(sqlDeadIntents), ReasonWriterGone, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, l.sql(sqlDeadWriters), l.writer)
			return err
		})
		total += closed
		if err != nil {
			return total, fmt.Errorf("audit: recover intents of dead writers: %w", err)
		}
		if selected < recoverChunk {
			break
		}
	}
	if total > 0 {
		l.report(fmt.Errorf("audit: wrote aborted entries for %d intents of dead writers", total))
	}
	return total, nil
}

// closeOwn closes this log's own open intents (reason log_closed) and
// deletes its writer row.
func (l *Log) closeOwn(ctx context.Context) (int, error) {
	total := 0
	for {
		selected, closed, err := l.closeIntents(ctx, sqlOwnIntents, ReasonLogClosed, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "DELETE FROM audit_writers WHERE id = $1", l.writer)
			return err
		})
		total += closed
		if err != nil {
			return total, fmt.Errorf("audit: close open intents: %w", err)
		}
		if selected < recoverChunk {
			return total, nil
		}
	}
}

// closeIntents runs one transaction that takes the sequencer, selects
// up to recoverChunk open intents with query ($1 this writer, $2 the
// limit), appends an aborted entry with reason for each, deletes their
// audit_open rows and, when it selected fewer than recoverChunk (the
// last round), runs after. It returns how many intents it selected and
// how many aborted entries it appended.
func (l *Log) closeIntents(ctx context.Context, query, reason string, after func(*sql.Tx) error) (selected, closed int, err error) {
	var base int64
	var hashes [][]byte
	err = l.db.Write(ctx, func(tx *sql.Tx) error {
		var err error
		hashes = nil
		if base, err = l.stmts.next(ctx, tx); err != nil {
			return err
		}
		idxs, err := queryInts(ctx, tx, query, l.writer, recoverChunk)
		if err != nil {
			return err
		}
		selected = len(idxs)
		entries, err := l.abortedEntries(ctx, tx, idxs, reason)
		if err != nil {
			return err
		}
		if len(idxs) > 0 {
			args := make([]any, len(idxs))
			for i, x := range idxs {
				args[i] = x
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM audit_open WHERE idx IN ("+l.db.Params(1, len(idxs))+")", args...); err != nil {
				return err
			}
		}
		now := l.cfg.Now().Unix()
		if hashes, err = appendAt(ctx, l.db, tx, l.stmts, l.cache, base, entries, now); err != nil {
			return err
		}
		if err := l.stmts.setSize(ctx, tx, base+int64(len(entries))); err != nil {
			return err
		}
		if len(idxs) < recoverChunk {
			return after(tx)
		}
		return nil
	})
	l.noteWrite(err)
	if err != nil {
		return 0, 0, err
	}
	for i, hs := range hashes {
		l.cache.put(base+int64(i), hs)
	}
	return selected, len(hashes), nil
}

// abortedEntries builds the aborted entry of each intent index, copying
// the intent's request_id, principal and tenant. An index whose entry
// is not an intent (audit_open was edited) gets none: its row is
// dropped and OnError told, and Verify will name it if the log lacks a
// close.
func (l *Log) abortedEntries(ctx context.Context, tx *sql.Tx, idxs []int64, reason string) ([][]byte, error) {
	if len(idxs) == 0 {
		return nil, nil
	}
	args := make([]any, len(idxs))
	for i, x := range idxs {
		args[i] = x
	}
	rows, err := tx.QueryContext(ctx, "SELECT idx, entry FROM audit_entries WHERE idx IN ("+l.db.Params(1, len(idxs))+") ORDER BY idx", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byIdx := map[int64][]byte{}
	for rows.Next() {
		var idx int64
		var e []byte
		if err := rows.Scan(&idx, &e); err != nil {
			return nil, err
		}
		byIdx[idx] = e
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	now := l.cfg.Now()
	out := make([][]byte, 0, len(idxs))
	for _, idx := range idxs {
		e := byIdx[idx]
		var in struct {
			Kind      string `json:"kind"`
			RequestID string `json:"request_id"`
			Principal string `json:"principal"`
			Tenant    string `json:"tenant"`
		}
		if h, err := parseHead(e); err != nil || h.kind != KindIntent || json.Unmarshal(e, &in) != nil {
			l.report(fmt.Errorf("audit: audit_open names entry %d, which is not an intent; row dropped", idx))
			continue
		}
		a, err := abortedEntryOf(idx, now, in.RequestID, in.Principal, in.Tenant, reason)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// queryInts runs query and returns its single integer column.
func queryInts(ctx context.Context, q querier, query string, args ...any) ([]int64, error) {
	return scanInts(q.QueryContext(ctx, query, args...))
}

// scanInts reads the single integer column of rows.
func scanInts(rows *sql.Rows, err error) ([]int64, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var x int64
		if err := rows.Scan(&x); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

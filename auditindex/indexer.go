package auditindex

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/store"
)

// Indexing
//
// A step reads the entries after the cursor (outside any write
// transaction: parsing them and looking up their intents holds no lock),
// then, in one write transaction, locks the cursor row, checks that it
// has not moved (another replica indexed them), and writes the rows, the
// rollup deltas and the new cursor. Entries are read in index order and
// a step stops at a gap, so the index always covers a prefix of the log.
// The log commits entries in index order (its sequencer), so no entry
// before the cursor can appear later.

// Step indexes up to Config.Batch entries after the cursor and returns
// how many it indexed: 0 when the index is caught up, or when another
// process indexed the same entries first or holds the cursor now.
func (x *Index) Step(ctx context.Context) (int, error) {
	next, err := x.Next(ctx)
	if err != nil {
		return 0, err
	}
	entries, err := x.readEntries(ctx, next)
	if err != nil || len(entries) == 0 {
		return 0, err
	}
	if err := x.inheritIntents(ctx, entries); err != nil {
		return 0, err
	}
	d := x.deltas(entries)
	done := 0
	err = x.db.Write(ctx, func(tx *sql.Tx) error {
		q := "SELECT next FROM audit_index_state WHERE id = 1"
		if x.db.Engine() == store.Postgres {
			q += " FOR UPDATE SKIP LOCKED"
		}
		var cur int64
		err := tx.QueryRowContext(ctx, q).Scan(&cur)
		if err == sql.ErrNoRows || (err == nil && cur != next) {
			return nil // another process is indexing, or did
		}
		if err != nil {
			return err
		}
		if err := x.insertRows(ctx, tx, entries); err != nil {
			return err
		}
		if err := d.write(ctx, x.db, tx); err != nil {
			return err
		}
		last := entries[len(entries)-1].Index
		if _, err := tx.ExecContext(ctx, "UPDATE audit_index_state SET next = $1, updated_at = $2 WHERE id = 1", last+1, x.cfg.Now().Unix()); err != nil {
			return err
		}
		done = len(entries)
		return nil
	})
	if err != nil {
		return 0, wrap("index entries", err)
	}
	return done, nil
}

// readEntries reads and parses the entries from index next, up to a
// batch, stopping at a gap.
func (x *Index) readEntries(ctx context.Context, next int64) ([]Entry, error) {
	rows, err := x.db.Read().QueryContext(ctx, "SELECT idx, entry FROM audit_entries WHERE idx >= $1 ORDER BY idx LIMIT $2", next, x.cfg.Batch)
	if err != nil {
		return nil, wrap("read entries", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var idx int64
		var b []byte
		if err := rows.Scan(&idx, &b); err != nil {
			return nil, wrap("read entries", err)
		}
		if idx != next+int64(len(out)) {
			break
		}
		e, err := parseEntry(idx, b)
		if err != nil {
			// Verify reports a damaged entry; the index keeps its place.
			e = Entry{Index: idx, Kind: "unknown", Time: time.UnixMicro(0).UTC().Format(timeLayout), Findings: map[string]int{}, Intent: -1}
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("read entries", err)
	}
	return out, nil
}

// inheritIntents gives each completion and aborted entry its intent's
// model, route and endpoint, from the batch or from the index.
func (x *Index) inheritIntents(ctx context.Context, entries []Entry) error {
	first := entries[0].Index
	var missing []any
	seen := map[int64]bool{}
	for _, e := range entries {
		if e.Intent >= 0 && e.Intent < first && !seen[e.Intent] {
			seen[e.Intent] = true
			missing = append(missing, e.Intent)
		}
	}
	stored := map[int64]*Entry{}
	for len(missing) > 0 {
		chunk := missing[:min(len(missing), 500)]
		missing = missing[len(chunk):]
		rows, err := x.db.Read().QueryContext(ctx, "SELECT idx, principal, tenant, model, upstream, zone, endpoint, decision, server, tool FROM audit_index WHERE idx IN ("+
			x.db.Params(1, len(chunk))+")", chunk...)
		if err != nil {
			return wrap("read intents", err)
		}
		for rows.Next() {
			var in Entry
			if err := rows.Scan(&in.Index, &in.Principal, &in.Tenant, &in.Model, &in.Upstream, &in.Zone, &in.Endpoint, &in.Decision, &in.Server, &in.Tool); err != nil {
				rows.Close()
				return wrap("read intents", err)
			}
			stored[in.Index] = &in
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap("read intents", err)
		}
	}
	for i := range entries {
		e := &entries[i]
		if e.Intent < 0 {
			continue
		}
		if e.Intent >= first {
			if j := e.Intent - first; j < int64(i) {
				e.inherit(&entries[j])
			}
		} else if in := stored[e.Intent]; in != nil {
			e.inherit(in)
		}
	}
	return nil
}

// indexCols are audit_index's columns in insert order.
const indexCols = "idx, time_us, kind, principal, tenant, model, upstream, zone, endpoint, decision, status, error, findings, restored, leaks, request_id, server, tool, action, target, intent"

const nIndexCols = 21

// chunkRows bounds the rows of one multi-row statement (SQLite allows
// 32766 parameters).
const chunkRows = 500

func (x *Index) insertRows(ctx context.Context, tx *sql.Tx, entries []Entry) error {
	return multiRow(ctx, x.db, tx, "INSERT INTO audit_index ("+indexCols+") VALUES ", "", nIndexCols, len(entries), func(i int, args []any) []any {
		e := &entries[i]
		f, _ := json.Marshal(e.Findings) // map[string]int always marshals
		return append(args, e.Index, e.timeUS, e.Kind, e.Principal, e.Tenant, e.Model, e.Upstream, e.Zone, e.Endpoint,
			e.Decision, e.Status, e.Error, string(f), e.Restored, e.Leaks, e.RequestID, e.Server, e.Tool, e.Action, e.Target, e.Intent)
	})
}

// multiRow runs prefix (…), (…) … suffix in chunks of chunkRows rows of
// cols parameters each; row appends row i's parameters to args.
func multiRow(ctx context.Context, db *store.DB, tx *sql.Tx, prefix, suffix string, cols, n int, row func(i int, args []any) []any) error {
	for off := 0; off < n; off += chunkRows {
		m := min(chunkRows, n-off)
		args := make([]any, 0, cols*m)
		var q strings.Builder
		q.Grow(len(prefix) + len(suffix) + m*(4+6*cols))
		q.WriteString(prefix)
		for i := range m {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteByte('(')
			q.WriteString(db.Params(len(args)+1, cols))
			q.WriteByte(')')
			args = row(off+i, args)
		}
		q.WriteString(suffix)
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// CatchUp indexes every entry appended so far, telling progress (when
// set) the cursor and the log's size after each batch.
func (x *Index) CatchUp(ctx context.Context, progress func(next, size int64)) error {
	size, err := audit.Size(ctx, x.db)
	if err != nil {
		return err
	}
	for {
		n, err := x.Step(ctx)
		if err != nil {
			return err
		}
		next, err := x.Next(ctx)
		if err != nil {
			return err
		}
		if progress != nil {
			progress(next, max(size, next))
		}
		if n == 0 || next >= size {
			if next >= size {
				return nil
			}
			// Another process holds the cursor: wait for it.
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// Rebuild empties the index and the rollups and indexes the whole log
// again, as CatchUp. Run it after the index was damaged or after the
// categories of finding types changed (Config.Category).
func (x *Index) Rebuild(ctx context.Context, progress func(next, size int64)) error {
	err := x.db.Write(ctx, func(tx *sql.Tx) error {
		if x.db.Engine() == store.Postgres {
			if _, err := tx.ExecContext(ctx, "SELECT next FROM audit_index_state WHERE id = 1 FOR UPDATE"); err != nil {
				return err
			}
		}
		for _, t := range []string{"audit_index", "audit_index_hours", "audit_rollup_requests", "audit_rollup_flows", "audit_rollup_flows_daily", "audit_rollup_refusals", "audit_rollup_findings"} {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, "UPDATE audit_index_state SET next = 0, updated_at = $1 WHERE id = 1", x.cfg.Now().Unix())
		return err
	})
	if err != nil {
		return wrap("empty the index", err)
	}
	return x.CatchUp(ctx, progress)
}

// Run indexes new entries every interval until ctx ends: each tick it
// steps until the index is caught up, pausing briefly between batches
// so that audit appends waiting for the store's write lock go first.
// Failures go to onError (when set) and are retried on the next tick.
func (x *Index) Run(ctx context.Context, interval time.Duration, onError func(error)) {
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for {
			n, err := x.Step(ctx)
			if err != nil {
				if onError != nil && ctx.Err() == nil {
					onError(err)
				}
				break
			}
			if n < x.cfg.Batch {
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// hourOf is the start of the hour of a time in Unix microseconds, in
// Unix seconds.
func hourOf(us int64) int64 {
	s := us / 1e6
	if us < 0 && us%1e6 != 0 {
		s--
	}
	h := s - s%3600
	if s < 0 && s%3600 != 0 {
		h -= 3600
	}
	return h
}

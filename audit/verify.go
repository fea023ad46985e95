package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/store"
)

// VerifyError reports the first entry at which the log stops being what
// its checkpoints signed. Index is -1 when the damage cannot be pinned
// to one entry (a saved checkpoint disagrees with a log re-signed since).
type VerifyError struct {
	Index  int64
	Reason string
}

func (e *VerifyError) Error() string {
	if e.Index < 0 {
		return "audit: verify: " + e.Reason
	}
	return fmt.Sprintf("audit: verify: entry %d: %s", e.Index, e.Reason)
}

// VerifyOptions tunes [Verify].
type VerifyOptions struct {
	// Since is a checkpoint saved earlier (a signed note); the log must
	// still contain the tree it signed (consistency).
	Since []byte
}

// VerifyReport says what [Verify] checked.
type VerifyReport struct {
	Origin      string
	Size        int64 // entries in the log
	Checkpoints int   // signed checkpoints checked
	Latest      int64 // size of the newest checkpoint
	// Unsigned counts entries after the newest checkpoint: committed, but
	// not yet covered by a signature (a gateway stopped within a second
	// of writing them without a clean shutdown).
	Unsigned int64
	// PairCounts counts the entries by kind and the intents in flight.
	PairCounts
}

// Verify recomputes every hash of the log in db from its stored entries
// and checks them against the stored hashes, every stored checkpoint's
// signature (with the note verifier key vkey) and root, and, with
// opt.Since, an earlier checkpoint. Any edit, deletion, reordering or
// truncation makes it return a *VerifyError naming the first bad index.
//
// Once the log is what its checkpoints signed, Verify checks the
// pairing of intents (see Pairing): every completion and aborted entry
// names an earlier intent and repeats its request_id, principal and
// tenant, no intent is closed twice, and every intent is closed, or
// still open in audit_open under a live writer (counted in InFlight).
// An open intent of a dead writer not yet recovered, or an intent
// neither closed nor open, is a *VerifyError naming the intent.
//
// Verify reads the log as it was when it started; entries appended
// while it runs are left for the next run, and it may run beside live
// gateways.
func Verify(ctx context.Context, db *store.DB, vkey string, opt VerifyOptions) (*VerifyReport, error) {
	// Checkpoints first, then the size: every checkpoint read then
	// covers entries that are already committed.
	cps, err := storedCheckpoints(ctx, db)
	if err != nil {
		return nil, err
	}
	size, stored, err := sizes(ctx, db)
	if err != nil {
		return nil, err
	}
	rep := &VerifyReport{Size: size}
	all := make([]tlog.Hash, 0, 2*size+64)
	mem := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			if x < 0 || x >= int64(len(all)) {
				return nil, fmt.Errorf("audit: stored hash %d not computed", x)
			}
			out[i] = all[x]
		}
		return out, nil
	})
	var bad *VerifyError
	pairs := newPairing()
	n := int64(0)
	err = scanPipelined(ctx, db, size, func(idx int64, entry, hashes []byte, head entryHead, headErr error) error {
		if idx != n {
			bad = &VerifyError{Index: n, Reason: "entry is missing (deleted)"}
			return errStop
		}
		hs, err := tlog.StoredHashes(n, entry, mem)
		if err != nil {
			return err
		}
		if len(hashes) != len(hs)*tlog.HashSize {
			bad = &VerifyError{Index: n, Reason: "stored hashes have the wrong length"}
			return errStop
		}
		for i, h := range hs {
			if !bytes.Equal(h[:], hashes[i*tlog.HashSize:(i+1)*tlog.HashSize]) {
				reason := "entry does not match its recorded hash (edited or moved)"
				if i > 0 {
					reason = "tree hash does not match (an earlier entry was edited, moved or inserted)"
				}
				bad = &VerifyError{Index: n, Reason: reason}
				return errStop
			}
		}
		all = append(all, hs...)
		pairs.add(n, head, headErr)
		n++
		return nil
	})
	if bad != nil {
		return rep, bad
	}
	if err != nil {
		return rep, err
	}
	if n != size {
		return rep, &VerifyError{Index: n, Reason: fmt.Sprintf("log records %d entries but only %d are stored (truncated)", size, n)}
	}
	if stored > size {
		return rep, &VerifyError{Index: size, Reason: fmt.Sprintf("%d entries stored beyond the recorded size %d", stored-size, size)}
	}

	// Every stored checkpoint must be signed and match the recomputed tree.
	goodUpTo := int64(0)
	var latest *Checkpoint
	for _, raw := range cps {
		cp, err := OpenCheckpoint(raw.Note, vkey)
		if err != nil {
			return rep, &VerifyError{Index: goodUpTo, Reason: fmt.Sprintf("checkpoint of size %d does not verify: %v", raw.Size, err)}
		}
		if cp.Size != raw.Size {
			return rep, &VerifyError{Index: min(cp.Size, raw.Size), Reason: "checkpoint is stored under another size"}
		}
		if err := checkRoot(cp, n, mem); err != nil {
			if cp.Size <= n { // a wrong root: the damage is after the last good checkpoint
				err.Index = min(err.Index, goodUpTo)
			}
			return rep, err
		}
		goodUpTo = cp.Size
		rep.Origin = cp.Origin
		rep.Checkpoints++
		latest = cp
	}
	if latest == nil {
		if n > 0 {
			return rep, &VerifyError{Index: 0, Reason: "no signed checkpoint covers the log"}
		}
	} else {
		rep.Latest = latest.Size
		rep.Unsigned = n - latest.Size
	}
	if opt.Since != nil {
		since, err := OpenCheckpoint(opt.Since, vkey)
		if err != nil {
			return rep, fmt.Errorf("audit: verify: saved checkpoint: %w", err)
		}
		if err := checkRoot(since, n, mem); err != nil {
			if err.Index > n {
				err.Index = -1 // re-signed history: no one entry to name
			}
			err.Reason = "saved checkpoint: " + err.Reason
			return rep, err
		}
		if latest != nil && latest.Size >= since.Size {
			// The standard consistency proof, as a client would check it.
			p, err := tlog.ProveTree(latest.Size, since.Size, mem)
			if err == nil {
				err = tlog.CheckTree(p, latest.Size, latest.Root, since.Size, since.Root)
			}
			if err != nil {
				return rep, &VerifyError{Index: -1, Reason: "latest checkpoint is not consistent with the saved one"}
			}
		}
	}

	// The log is authentic; now its pairing.
	if err := resolveOpen(ctx, db, pairs, n); err != nil {
		return rep, err
	}
	rep.PairCounts = pairs.PairCounts
	if pairs.bad != nil {
		return rep, pairs.bad
	}
	return rep, nil
}

// sizes reads the log's recorded size and the size its stored entries
// span (MAX(idx) + 1), in one statement so they agree on PostgreSQL; on
// SQLite the two are the same query.
func sizes(ctx context.Context, db *store.DB) (recorded, stored int64, err error) {
	if db.Engine() == store.SQLite {
		n, err := Size(ctx, db)
		return n, n, err
	}
	err = db.Read().QueryRowContext(ctx, "SELECT s.size, (SELECT COALESCE(MAX(idx) + 1, 0) FROM audit_entries) FROM audit_state s WHERE s.id = 1").Scan(&recorded, &stored)
	if err != nil {
		return 0, 0, fmt.Errorf("audit: read log size: %w", err)
	}
	return recorded, stored, nil
}

// resolveOpen decides the intents the scan of entries 0 … n-1 left
// open: in flight (in audit_open under a live writer, or closed by an
// entry appended after n), or a failure recorded in p: open under a
// dead writer, or neither closed nor open. An audit_open row below n
// that is not an open intent is a failure too. audit_open is read
// before the entries after n, so an intent whose close commits in
// between is found by one or the other (the close deletes the row in
// its own transaction).
func resolveOpen(ctx context.Context, db *store.DB, p *pairing, n int64) error {
	rows, err := db.Read().QueryContext(ctx, strings.ReplaceAll(`SELECT o.idx, CASE WHEN w.id IS NOT NULL AND w.beat + w.ttl_ms >= {now} THEN 1 ELSE 0 END
		FROM audit_open o LEFT JOIN audit_writers w ON w.id = o.writer`, "{now}", nowMS(db)))
	if err != nil {
		return fmt.Errorf("audit: read open intents: %w", err)
	}
	live := map[int64]bool{}
	for rows.Next() {
		var idx int64
		var alive int
		if err := rows.Scan(&idx, &alive); err != nil {
			rows.Close()
			return fmt.Errorf("audit: read open intents: %w", err)
		}
		live[idx] = alive == 1
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit: read open intents: %w", err)
	}
	var failures []VerifyError
	for idx := range live {
		if _, open := p.open[idx]; idx < n && !open {
			failures = append(failures, VerifyError{Index: idx, Reason: fmt.Sprintf("audit_open lists entry %d, which is not an open intent", idx)})
		}
	}
	unresolved := map[int64]bool{}
	for idx := range p.open {
		alive, listed := live[idx]
		switch {
		case listed && alive:
			p.InFlight++
		case listed:
			failures = append(failures, VerifyError{Index: idx, Reason: "intent is open but its writer is gone and it was not recovered yet (opening the log writes its aborted entry)"})
		default:
			unresolved[idx] = true
		}
	}
	if len(unresolved) > 0 {
		err := Entries(ctx, db, n, func(_ int64, entry []byte) error {
			if h, err := parseHead(entry); err == nil && h.intent >= 0 && unresolved[h.intent] {
				delete(unresolved, h.intent)
				p.InFlight++ // closed after the range verified
			}
			if len(unresolved) == 0 {
				return errStop
			}
			return nil
		})
		if err != nil {
			return err
		}
		for idx := range unresolved {
			failures = append(failures, VerifyError{Index: idx, Reason: "intent was never closed and is not open"})
		}
	}
	for i := range failures {
		if p.bad == nil || failures[i].Index < p.bad.Index {
			p.bad = &failures[i]
		}
	}
	return nil
}

// checkRoot checks cp's root against the recomputed tree of n entries.
// A truncated log names index n; a wrong root names cp.Size, which the
// caller lowers to the end of the last good checkpoint.
func checkRoot(cp *Checkpoint, n int64, mem tlog.HashReader) *VerifyError {
	if cp.Size > n {
		return &VerifyError{Index: n, Reason: fmt.Sprintf("checkpoint signs %d entries but the log has %d (truncated)", cp.Size, n)}
	}
	root, err := tlog.TreeHash(cp.Size, mem)
	if err != nil {
		return &VerifyError{Index: cp.Size, Reason: err.Error()}
	}
	if root != cp.Root {
		return &VerifyError{Index: cp.Size, Reason: fmt.Sprintf("entries before index %d do not hash to the root signed by the checkpoint of size %d (edited, deleted, reordered or inserted)", cp.Size, cp.Size)}
	}
	return nil
}

var errStop = errors.New("stop")

// scanRows calls fn for each stored entry from index from, in order.
func scanRows(ctx context.Context, db *store.DB, from int64, withHashes bool, fn func(idx int64, entry, hashes []byte) error) error {
	return scanRowsOn(ctx, db.Read(), from, math.MaxInt64, withHashes, fn)
}

// scanRowsOn calls fn for each entry from index from up to (not
// including) to, in order.
func scanRowsOn(ctx context.Context, q querier, from, to int64, withHashes bool, fn func(idx int64, entry, hashes []byte) error) error {
	cols := "idx, entry"
	if withHashes {
		cols += ", hashes"
	}
	const page = 10000
	for {
		rows, err := q.QueryContext(ctx, "SELECT "+cols+" FROM audit_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx LIMIT $3", from, to, page)
		if err != nil {
			return fmt.Errorf("audit: read entries: %w", err)
		}
		got := 0
		var idx int64
		for rows.Next() {
			var entry, hashes []byte
			dst := []any{&idx, &entry}
			if withHashes {
				dst = append(dst, &hashes)
			}
			if err := rows.Scan(dst...); err != nil {
				rows.Close()
				return fmt.Errorf("audit: read entries: %w", err)
			}
			got++
			if err := fn(idx, entry, hashes); err != nil {
				rows.Close()
				if errors.Is(err, errStop) {
					return nil
				}
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("audit: read entries: %w", err)
		}
		if got < page {
			return nil
		}
		from = idx + 1
	}
}

// storedCheckpoints lists the stored checkpoints, smallest first.
func storedCheckpoints(ctx context.Context, db *store.DB) ([]Checkpoint, error) {
	rows, err := db.Read().QueryContext(ctx, "SELECT size, note FROM audit_checkpoints ORDER BY size")
	if err != nil {
		return nil, fmt.Errorf("audit: read checkpoints: %w", err)
	}
	defer rows.Close()
	var out []Checkpoint
	for rows.Next() {
		var cp Checkpoint
		if err := rows.Scan(&cp.Size, &cp.Note); err != nil {
			return nil, fmt.Errorf("audit: read checkpoints: %w", err)
		}
		out = append(out, cp)
	}
	return out, rows.Err()
}

// row is one stored entry with its stored hashes.
type row struct {
	idx           int64
	entry, hashes []byte
	head          entryHead
	headErr       error
}

// scanPipelined is scanRows of entries 0 … to-1 with hashes, reading
// pages and parsing each entry's head (parseHead) in a second goroutine
// so that reading and hashing overlap. On SQLite the reading connection
// memory-maps the file, which saves a read system call per page.
func scanPipelined(ctx context.Context, db *store.DB, to int64, fn func(idx int64, entry, hashes []byte, head entryHead, headErr error) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan []row, 4)
	errc := make(chan error, 1)
	go func() {
		defer close(pages)
		var q querier = db.Read()
		if db.Engine() == store.SQLite {
			conn, err := db.Read().Conn(ctx)
			if err != nil {
				errc <- fmt.Errorf("audit: read entries: %w", err)
				return
			}
			defer func() {
				conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA mmap_size = 0")
				conn.Close()
			}()
			if _, err := conn.ExecContext(ctx, "PRAGMA mmap_size = 1073741824"); err == nil {
				q = conn
			}
		}
		var page []row
		err := scanRowsOn(ctx, q, 0, to, true, func(idx int64, entry, hashes []byte) error {
			h, herr := parseHead(entry)
			page = append(page, row{idx, entry, hashes, h, herr})
			if len(page) == 4096 {
				select {
				case pages <- page:
				case <-ctx.Done():
					return ctx.Err()
				}
				page = nil
			}
			return nil
		})
		if err == nil && len(page) > 0 {
			select {
			case pages <- page:
			case <-ctx.Done():
			}
		}
		errc <- err
	}()
	for page := range pages {
		for _, r := range page {
			if err := fn(r.idx, r.entry, r.hashes, r.head, r.headErr); err != nil {
				cancel()
				for range pages {
				}
				<-errc
				if errors.Is(err, errStop) {
					return nil
				}
				return err
			}
		}
	}
	return <-errc
}

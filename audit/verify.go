package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"

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
}

// Verify recomputes every hash of the log in db from its stored entries
// and checks them against the stored hashes, every stored checkpoint's
// signature (with the note verifier key vkey) and root, and, with
// opt.Since, an earlier checkpoint. Any edit, deletion, reordering or
// truncation makes it return a *VerifyError naming the first bad index.
func Verify(ctx context.Context, db *store.DB, vkey string, opt VerifyOptions) (*VerifyReport, error) {
	size, err := Size(ctx, db)
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
	n := int64(0)
	err = scanPipelined(ctx, db, func(idx int64, entry, hashes []byte) error {
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
		if n < size {
			return rep, &VerifyError{Index: n, Reason: fmt.Sprintf("log records %d entries but only %d are stored (truncated)", size, n)}
		}
		return rep, &VerifyError{Index: size, Reason: fmt.Sprintf("%d entries stored beyond the recorded size %d", n-size, size)}
	}

	// Every stored checkpoint must be signed and match the recomputed tree.
	cps, err := storedCheckpoints(ctx, db)
	if err != nil {
		return rep, err
	}
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
	return rep, nil
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
	return scanRowsOn(ctx, db.Read(), from, withHashes, fn)
}

func scanRowsOn(ctx context.Context, q querier, from int64, withHashes bool, fn func(idx int64, entry, hashes []byte) error) error {
	cols := "idx, entry"
	if withHashes {
		cols += ", hashes"
	}
	const page = 10000
	for {
		rows, err := q.QueryContext(ctx, "SELECT "+cols+" FROM audit_entries WHERE idx >= $1 ORDER BY idx LIMIT $2", from, page)
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
}

// scanPipelined is scanRows from index 0 with hashes, reading pages in a
// second goroutine so reading and hashing overlap. On SQLite the reading
// connection memory-maps the file, which saves a read system call per
// page.
func scanPipelined(ctx context.Context, db *store.DB, fn func(idx int64, entry, hashes []byte) error) error {
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
		err := scanRowsOn(ctx, q, 0, true, func(idx int64, entry, hashes []byte) error {
			page = append(page, row{idx, entry, hashes})
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
			if err := fn(r.idx, r.entry, r.hashes); err != nil {
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

package audit

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/store"
)

// Reading a signed prefix
//
// ReadSigned gives a reader (a compliance report) the entries one
// checkpoint signs, and the proof that they are those entries, without
// holding the log in memory. It hashes each entry as it is read and
// keeps only the roots of the complete subtrees on the tree's right
// edge (at most log₂ n + 1 hashes): appending leaf n pushes its hash
// (tlog.RecordHash) and merges equal-sized neighbours with
// tlog.NodeHash; the root of the first n leaves is the fold of that
// stack from the right, RFC 6962's MTH for any n. Every stored
// checkpoint of a size up to the one read is checked the same way as
// the scan passes its size (signature, then root), so one run proves
// that no earlier signed state of the log was rewritten either.

// ReadReport says what [ReadSigned] checked.
type ReadReport struct {
	// Checkpoints counts the stored signed checkpoints of sizes up to
	// and including the one read, every one verified against the
	// entries; FirstCheckpoint is the smallest of their sizes.
	Checkpoints     int
	FirstCheckpoint int64
	// PairCounts counts the entries of the prefix by kind. InFlight
	// counts its intents that are closed only after the prefix, or
	// still open under a live writer.
	PairCounts
	// Pairing is the first pairing failure of the prefix (see
	// [Verify]), nil when every intent in it is paired or in flight.
	// The entries are authentic either way.
	Pairing *VerifyError
}

// ReadSigned calls fn with each entry of the log in db from index 0 up
// to cp.Size, in order, and checks that they are exactly the entries cp
// signs: it recomputes their Merkle root as it reads (memory O(log n))
// and compares it with cp.Root at the end. cp must come from
// [OpenCheckpoint], [LatestCheckpointOf] or [CheckpointAt] (a verified
// signature); vkey is the note verifier key of the log, used to check
// every other stored checkpoint up to cp.Size along the way.
//
// fn sees entries before the proof is complete: when ReadSigned returns
// an error, nothing fn gathered may be trusted. A mismatch is a
// *VerifyError naming the first bad index when it can (a missing entry,
// an earlier checkpoint that does not match) or the checkpoint's size.
// The pairing of intents in the prefix is checked as [Verify] checks
// it, and a failure is reported in ReadReport.Pairing, not as an error.
func ReadSigned(ctx context.Context, db *store.DB, vkey string, cp *Checkpoint, fn func(idx int64, entry []byte) error) (*ReadReport, error) {
	if cp == nil {
		return nil, errors.New("audit: no checkpoint to read")
	}
	rep := &ReadReport{FirstCheckpoint: -1}
	cps := &checkpointPager{db: db, upTo: cp.Size, after: -1}
	var stack []subtree
	good := int64(0) // size of the last checkpoint that verified
	check := func(n int64) error {
		for {
			next, err := cps.peek(ctx)
			if err != nil {
				return err
			}
			if next == nil || next.Size > n {
				return nil
			}
			cps.pop()
			if next.Size < n {
				return &VerifyError{Index: next.Size, Reason: fmt.Sprintf("checkpoint of size %d was passed over (stored out of order)", next.Size)}
			}
			got, err := OpenCheckpoint(next.Note, vkey)
			if err != nil {
				return &VerifyError{Index: good, Reason: fmt.Sprintf("checkpoint of size %d does not verify: %v", next.Size, err)}
			}
			if got.Size != next.Size {
				return &VerifyError{Index: min(got.Size, next.Size), Reason: "checkpoint is stored under another size"}
			}
			if foldRoot(stack) != got.Root {
				return &VerifyError{Index: good, Reason: fmt.Sprintf("entries before index %d do not hash to the root signed by the checkpoint of size %d (edited, deleted, reordered or inserted)", n, n)}
			}
			if rep.Checkpoints == 0 {
				rep.FirstCheckpoint = n
			}
			rep.Checkpoints++
			good = n
		}
	}
	if err := check(0); err != nil {
		return rep, err
	}
	pairs := newPairing()
	n := int64(0)
	var bad error
	err := scanRowsOn(ctx, db.Read(), 0, cp.Size, false, func(idx int64, entry, _ []byte) error {
		if idx != n {
			bad = &VerifyError{Index: n, Reason: "entry is missing (deleted)"}
			return errStop
		}
		stack = pushLeaf(stack, tlog.RecordHash(entry))
		h, herr := parseHead(entry)
		pairs.add(n, h, herr)
		n++
		if err := check(n); err != nil {
			bad = err
			return errStop
		}
		return fn(idx, entry)
	})
	if bad != nil {
		return rep, bad
	}
	if err != nil {
		return rep, err
	}
	if n != cp.Size {
		return rep, &VerifyError{Index: n, Reason: fmt.Sprintf("checkpoint signs %d entries but the log has %d (truncated)", cp.Size, n)}
	}
	if foldRoot(stack) != cp.Root {
		return rep, &VerifyError{Index: good, Reason: fmt.Sprintf("entries before index %d do not hash to the root signed by the checkpoint of size %d (edited, deleted, reordered or inserted)", cp.Size, cp.Size)}
	}
	if err := resolveOpen(ctx, db, pairs, n); err != nil {
		return rep, err
	}
	rep.PairCounts = pairs.PairCounts
	rep.Pairing = pairs.bad
	return rep, nil
}

// subtree is the root of a complete subtree of 2^level leaves.
type subtree struct {
	level int
	hash  tlog.Hash
}

// pushLeaf appends a leaf hash to the right edge of the tree.
func pushLeaf(stack []subtree, leaf tlog.Hash) []subtree {
	stack = append(stack, subtree{0, leaf})
	for len(stack) >= 2 && stack[len(stack)-1].level == stack[len(stack)-2].level {
		l, r := stack[len(stack)-2], stack[len(stack)-1]
		stack = append(stack[:len(stack)-2], subtree{l.level + 1, tlog.NodeHash(l.hash, r.hash)})
	}
	return stack
}

// foldRoot is the root of the tree whose right edge is stack.
func foldRoot(stack []subtree) tlog.Hash {
	if len(stack) == 0 {
		h, _ := tlog.TreeHash(0, nil)
		return h
	}
	h := stack[len(stack)-1].hash
	for i := len(stack) - 2; i >= 0; i-- {
		h = tlog.NodeHash(stack[i].hash, h)
	}
	return h
}

// checkpointPager reads the stored checkpoints of sizes up to upTo in
// order of size, a page at a time.
type checkpointPager struct {
	db    *store.DB
	upTo  int64
	after int64 // size of the last checkpoint read
	page  []Checkpoint
	done  bool
}

func (p *checkpointPager) peek(ctx context.Context) (*Checkpoint, error) {
	if len(p.page) == 0 && !p.done {
		const pageSize = 1000
		rows, err := p.db.Read().QueryContext(ctx, "SELECT size, note FROM audit_checkpoints WHERE size > $1 AND size <= $2 ORDER BY size LIMIT $3", p.after, p.upTo, pageSize)
		if err != nil {
			return nil, fmt.Errorf("audit: read checkpoints: %w", err)
		}
		for rows.Next() {
			var cp Checkpoint
			if err := rows.Scan(&cp.Size, &cp.Note); err != nil {
				rows.Close()
				return nil, fmt.Errorf("audit: read checkpoints: %w", err)
			}
			p.page = append(p.page, cp)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("audit: read checkpoints: %w", err)
		}
		if len(p.page) < pageSize {
			p.done = true
		}
		if len(p.page) > 0 {
			p.after = p.page[len(p.page)-1].Size
		}
	}
	if len(p.page) == 0 {
		return nil, nil
	}
	return &p.page[0], nil
}

func (p *checkpointPager) pop() { p.page = p.page[1:] }

package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/store"
)

// CheckpointInfo is a stored checkpoint's size and when it was signed.
type CheckpointInfo struct {
	Size int64     `json:"size"`
	Time time.Time `json:"time"`
}

// ListCheckpoints lists up to limit stored checkpoints, newest first.
func ListCheckpoints(ctx context.Context, db *store.DB, limit int) ([]CheckpointInfo, error) {
	rows, err := db.Read().QueryContext(ctx, "SELECT size, created_at FROM audit_checkpoints ORDER BY size DESC LIMIT $1", limit)
	if err != nil {
		return nil, fmt.Errorf("audit: read checkpoints: %w", err)
	}
	defer rows.Close()
	out := []CheckpointInfo{}
	for rows.Next() {
		var c CheckpointInfo
		var at int64
		if err := rows.Scan(&c.Size, &at); err != nil {
			return nil, fmt.Errorf("audit: read checkpoints: %w", err)
		}
		c.Time = time.Unix(at, 0).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// CheckpointAt returns the stored checkpoint of the tree of size
// entries, verified with the note verifier key vkey; ErrNoCheckpoint
// when none was signed at that size.
func CheckpointAt(ctx context.Context, db *store.DB, size int64, vkey string) (*Checkpoint, error) {
	var msg []byte
	err := db.Read().QueryRowContext(ctx, "SELECT note FROM audit_checkpoints WHERE size = $1", size).Scan(&msg)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoCheckpoint
	}
	if err != nil {
		return nil, fmt.Errorf("audit: read checkpoint: %w", err)
	}
	cp, err := OpenCheckpoint(msg, vkey)
	if err != nil {
		return nil, err
	}
	if cp.Size != size {
		return nil, fmt.Errorf("audit: the checkpoint stored for size %d signs size %d", size, cp.Size)
	}
	return cp, nil
}

// FirstCheckpoint returns the oldest stored checkpoint of a non-empty
// tree, verified with vkey; ErrNoCheckpoint when there is none.
func FirstCheckpoint(ctx context.Context, db *store.DB, vkey string) (*Checkpoint, error) {
	var size sql.NullInt64
	if err := db.Read().QueryRowContext(ctx, "SELECT MIN(size) FROM audit_checkpoints WHERE size > 0").Scan(&size); err != nil {
		return nil, fmt.Errorf("audit: read checkpoints: %w", err)
	}
	if !size.Valid {
		return nil, ErrNoCheckpoint
	}
	return CheckpointAt(ctx, db, size.Int64, vkey)
}

// ProveConsistency returns the RFC 6962 consistency proof that the tree
// signed by from is a prefix of the tree signed by to
// (tlog.ProveTree), and checks it against both roots before returning
// it, so a log that was rewritten between the two fails here.
func ProveConsistency(ctx context.Context, db *store.DB, from, to *Checkpoint) (tlog.TreeProof, error) {
	if from.Size > to.Size {
		return nil, fmt.Errorf("audit: checkpoint of size %d is not earlier than that of size %d", from.Size, to.Size)
	}
	r := &hashReader{ctx: ctx, db: db, q: db.Read()}
	p, err := tlog.ProveTree(to.Size, from.Size, r)
	if err != nil {
		return nil, err
	}
	if err := tlog.CheckTree(p, to.Size, to.Root, from.Size, from.Root); err != nil {
		return nil, fmt.Errorf("audit: the tree of size %d is not a prefix of the tree of size %d: %w", from.Size, to.Size, err)
	}
	return p, nil
}

// ReadEntry returns the canonical bytes of entry idx; ErrNoEntry when
// the log has no such entry.
func ReadEntry(ctx context.Context, db *store.DB, idx int64) ([]byte, error) {
	var e []byte
	err := db.Read().QueryRowContext(ctx, "SELECT entry FROM audit_entries WHERE idx = $1", idx).Scan(&e)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoEntry
	}
	if err != nil {
		return nil, fmt.Errorf("audit: read entry: %w", err)
	}
	return e, nil
}

// ErrNoEntry reports an index the log holds no entry at.
var ErrNoEntry = errors.New("audit: no entry at that index")

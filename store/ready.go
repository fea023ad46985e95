package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// DefaultMinFreeDisk is the free space under the data directory below
// which the gateway reports itself not ready: 64 MiB, room for the
// write-ahead log to checkpoint and for a burst of vault and audit rows,
// so a filling disk takes the replica out of rotation before SQLite
// starts failing writes (SQLITE_FULL).
const DefaultMinFreeDisk uint64 = 64 << 20

// CheckWrite proves the write path works end to end, without growing
// anything: in one write transaction (under store.timeout, queued behind
// this process's other writes like any write) it rewrites the single row
// of store_health and commits. On SQLite that takes the database's write
// lock and appends to the write-ahead log (which checkpoints reuse); on
// PostgreSQL it is one HOT update. Errors start "store: write check
// failed" and are scrubbed ([Scrub]): they never hold the DSN's host,
// port, user or database.
func (db *DB) CheckWrite(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("store: write check failed: %w", Scrub(err))
		}
	}()
	ctx, end := db.Bound(ctx)
	defer end(&err)
	return db.Write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE store_health SET checked_at = $1 WHERE id = 1", time.Now().Unix())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errors.Join(errMissingHealthRow, err)
		}
		return nil
	})
}

var errMissingHealthRow = errors.New("the store_health row is missing")

// CheckDisk reports an error when the file system holding the SQLite
// database has less than min bytes free (0: [DefaultMinFreeDisk]). On
// PostgreSQL, whose disk is the server's, it reports nil. The error
// names the free and wanted sizes, not the path.
func (db *DB) CheckDisk(min uint64) error {
	if db.engine != SQLite {
		return nil
	}
	if min == 0 {
		min = DefaultMinFreeDisk
	}
	free, err := FreeDisk(db.path)
	if err != nil {
		return err
	}
	if free < min {
		return fmt.Errorf("store: disk check failed: %d MiB free for the database, want at least %d MiB", free>>20, min>>20)
	}
	return nil
}

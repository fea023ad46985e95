package audit

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/store"
)

// Checkpoint format (C2SP tlog-checkpoint)
//
// A checkpoint is the body of a signed note (C2SP signed-note):
//
//	<origin>\n
//	<tree size, decimal>\n
//	<root hash, standard base64>\n
//
// followed by a blank line and one signature line per signer,
// "— <key name> <base64(key hash || Ed25519 signature)>". The log signs
// with one Ed25519 key named by the origin; note.Open checks it.

// Checkpoint is a parsed, verified checkpoint.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
	// Note is the signed note as published.
	Note []byte
}

// ErrNoCheckpoint reports a log that has not published a checkpoint yet.
var ErrNoCheckpoint = errors.New("audit: no checkpoint published yet")

// formatCheckpoint returns the checkpoint body.
func formatCheckpoint(origin string, size int64, root tlog.Hash) string {
	return origin + "\n" + strconv.FormatInt(size, 10) + "\n" + base64.StdEncoding.EncodeToString(root[:]) + "\n"
}

// parseCheckpointBody parses a checkpoint body (extension lines after the
// root are allowed and ignored).
func parseCheckpointBody(text string) (origin string, size int64, root tlog.Hash, err error) {
	bad := errors.New("audit: malformed checkpoint")
	lines := bytes.SplitN([]byte(text), []byte("\n"), 4)
	if len(lines) < 4 || len(lines[0]) == 0 {
		return "", 0, root, bad
	}
	size, err = strconv.ParseInt(string(lines[1]), 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != string(lines[1]) {
		return "", 0, root, bad
	}
	h, err := base64.StdEncoding.Strict().DecodeString(string(lines[2]))
	// The decoder skips \r and \n; only the canonical spelling is accepted.
	if err != nil || len(h) != tlog.HashSize || base64.StdEncoding.EncodeToString(h) != string(lines[2]) {
		return "", 0, root, bad
	}
	copy(root[:], h)
	return string(lines[0]), size, root, nil
}

// OpenCheckpoint verifies a signed checkpoint with the note verifier key
// vkey and parses it. The origin must be the key's name.
func OpenCheckpoint(msg []byte, vkey string) (*Checkpoint, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, errors.New("audit: malformed verifier key")
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return nil, fmt.Errorf("audit: checkpoint signature: %w", err)
	}
	origin, size, root, err := parseCheckpointBody(n.Text)
	if err != nil {
		return nil, err
	}
	if origin != v.Name() {
		return nil, errors.New("audit: checkpoint origin is not the verifier key's name")
	}
	return &Checkpoint{Origin: origin, Size: size, Root: root, Note: msg}, nil
}

// latestCheckpoint reads the newest stored checkpoint, unverified.
func latestCheckpoint(ctx context.Context, db *store.DB) (*Checkpoint, error) {
	var cp Checkpoint
	err := db.Read().QueryRowContext(ctx, "SELECT size, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1").Scan(&cp.Size, &cp.Note)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoCheckpoint
	}
	if err != nil {
		return nil, fmt.Errorf("audit: read checkpoint: %w", err)
	}
	return &cp, nil
}

// LatestCheckpoint returns the newest signed checkpoint, as published at
// /audit/checkpoint.
func (l *Log) LatestCheckpoint(ctx context.Context) (*Checkpoint, error) {
	return LatestCheckpointOf(ctx, l.db, l.sec.vkey)
}

// LatestCheckpointOf returns the newest checkpoint stored in db, verified
// with the note verifier key vkey.
func LatestCheckpointOf(ctx context.Context, db *store.DB, vkey string) (*Checkpoint, error) {
	cp, err := latestCheckpoint(ctx, db)
	if err != nil {
		return nil, err
	}
	return OpenCheckpoint(cp.Note, vkey)
}

// Publish signs and stores a checkpoint of the current tree if it grew
// since the last one, and returns the newest checkpoint's size.
func (l *Log) Publish(ctx context.Context) (int64, error) {
	l.pubMu.Lock()
	defer l.pubMu.Unlock()
	size, err := Size(ctx, l.db)
	if err != nil {
		return 0, err
	}
	if size <= l.published.Load() {
		return l.published.Load(), nil
	}
	root, err := tlog.TreeHash(size, &hashReader{ctx: ctx, db: l.db, q: l.db.Read(), cache: l.cache})
	if err != nil {
		return 0, err
	}
	msg, err := note.Sign(&note.Note{Text: formatCheckpoint(l.sec.origin, size, root)}, l.sec.signer)
	if err != nil {
		return 0, fmt.Errorf("audit: sign checkpoint: %w", err)
	}
	err = l.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO audit_checkpoints (size, note, created_at) VALUES ($1, $2, $3) ON CONFLICT (size) DO NOTHING",
			size, msg, l.cfg.Now().Unix())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("audit: store checkpoint: %w", err)
	}
	l.published.Store(size)
	return size, nil
}

func (l *Log) publishLoop() {
	defer l.wg.Done()
	t := time.NewTicker(l.cfg.CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-l.quit:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), l.cfg.CommitTimeout)
			if _, err := l.Publish(ctx); err != nil && l.cfg.OnError != nil {
				l.cfg.OnError(err)
			}
			cancel()
		}
	}
}

package toolpin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wardenhq/warden/store"
)

// Store keeps the approved hash of each (server, tool) in Warden's
// database, table mcp_tool_pins. Every call runs under the store's
// deadline (store.timeout): a stalled database gives an error matching
// store.ErrTimeout, never a missing pin.
type Store struct {
	db *store.DB
}

// NewStore returns the pins kept in db.
func NewStore(db *store.DB) *Store { return &Store{db: db} }

// Pin is one approved tool definition.
type Pin struct {
	// Server names the MCP server (its key in the gateway's config).
	Server string
	// Tool is the tool's name in the server's tools/list.
	Tool string
	// Hash is the [Hash] of the approved definition.
	Hash string
	// By names who pinned it (an operator, "tofu" for trust on first
	// use).
	By string
	// At is when it was pinned, to the second.
	At time.Time
}

// Pinned returns the hash pinned for server's tool; ok is false when the
// tool has no pin.
func (s *Store) Pinned(ctx context.Context, server, tool string) (hash string, ok bool, err error) {
	ctx, end := s.db.Bound(ctx)
	defer end(&err)
	err = s.db.Read().QueryRowContext(ctx,
		`SELECT hash FROM mcp_tool_pins WHERE server = $1 AND tool = $2`, server, tool).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("toolpin: pinned: %w", err)
	}
	return hash, true, nil
}

// Pin records hash as the approved definition of server's tool,
// replacing an earlier pin, with who pinned it (by) and the time.
func (s *Store) Pin(ctx context.Context, server, tool, hash, by string) (err error) {
	switch {
	case server == "":
		return errors.New("toolpin: pin: server is empty")
	case tool == "":
		return errors.New("toolpin: pin: tool is empty")
	case !validHash(hash):
		return errors.New(`toolpin: pin: hash is not "sha256:" and 64 lower-case hex digits`)
	}
	ctx, end := s.db.Bound(ctx)
	defer end(&err)
	now := time.Now().Unix()
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO mcp_tool_pins (server, tool, hash, pinned_by, pinned_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (server, tool) DO UPDATE SET hash = excluded.hash, pinned_by = excluded.pinned_by,
			pinned_at = excluded.pinned_at`, server, tool, hash, by, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("toolpin: pin: %w", err)
	}
	return nil
}

// Unpin removes the pin of server's tool. Removing a pin that is not
// there is not an error.
func (s *Store) Unpin(ctx context.Context, server, tool string) (err error) {
	ctx, end := s.db.Bound(ctx)
	defer end(&err)
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM mcp_tool_pins WHERE server = $1 AND tool = $2`, server, tool)
		return err
	})
	if err != nil {
		return fmt.Errorf("toolpin: unpin: %w", err)
	}
	return nil
}

// List returns the pins of server, or of every server when server is
// "", ordered by server, then tool (byte order on both engines).
func (s *Store) List(ctx context.Context, server string) (_ []Pin, err error) {
	ctx, end := s.db.Bound(ctx)
	defer end(&err)
	q := `SELECT server, tool, hash, pinned_by, pinned_at FROM mcp_tool_pins`
	var args []any
	if server != "" {
		q += ` WHERE server = $1`
		args = append(args, server)
	}
	rows, err := s.db.Read().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("toolpin: list: %w", err)
	}
	defer rows.Close()
	var out []Pin
	for rows.Next() {
		var p Pin
		var at int64
		if err := rows.Scan(&p.Server, &p.Tool, &p.Hash, &p.By, &at); err != nil {
			return nil, fmt.Errorf("toolpin: list: %w", err)
		}
		p.At = time.Unix(at, 0).UTC()
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("toolpin: list: %w", err)
	}
	// Sorted here, not by ORDER BY: PostgreSQL would order by the
	// database's collation, SQLite by bytes.
	slices.SortFunc(out, func(a, b Pin) int {
		if c := strings.Compare(a.Server, b.Server); c != 0 {
			return c
		}
		return strings.Compare(a.Tool, b.Tool)
	})
	return out, nil
}

package vault

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/wardenhq/warden/keys"
	"github.com/wardenhq/warden/store"
)

// Stats counts what the vault holds.
type Stats struct {
	Tenants int64
	Tokens  int64
	// DataKeys counts tenant data keys by the KEK version that wraps them.
	DataKeys map[uint32]int64
}

// Stats counts tenants, tokens and data keys per KEK version. Counting
// every row takes time that grows with the vault, so only ctx bounds it
// (not store.timeout).
func (v *Vault) Stats(ctx context.Context) (Stats, error) {
	st := Stats{DataKeys: map[uint32]int64{}}
	db := v.db.Read()
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM tenants").Scan(&st.Tenants); err != nil {
		return st, fmt.Errorf("vault: stats: %w", err)
	}
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM tokens").Scan(&st.Tokens); err != nil {
		return st, fmt.Errorf("vault: stats: %w", err)
	}
	rows, err := db.QueryContext(ctx, "SELECT kek_version, COUNT(*) FROM data_keys GROUP BY kek_version")
	if err != nil {
		return st, fmt.Errorf("vault: stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ver, n int64
		if err := rows.Scan(&ver, &n); err != nil {
			return st, fmt.Errorf("vault: stats: %w", err)
		}
		st.DataKeys[uint32(ver)] = n
	}
	return st, rows.Err()
}

// Rewrap re-wraps every stored data key that is not under the keyring's
// current KEK version, without touching the values they encrypt. It
// works in transactions of 100 keys, is safe to interrupt and rerun, and
// reports how many keys it moved.
func (v *Vault) Rewrap(ctx context.Context) (int, error) {
	moved := 0
	for {
		cur := v.kr.Current()
		type row struct {
			id, tenantID, ver int64
			tenant, purpose   string
			wrapped           []byte
		}
		var batch []row
		err := func() (err error) {
			ctx, end := v.db.Bound(ctx)
			defer end(&err)
			rows, err := v.db.Read().QueryContext(ctx, `SELECT k.id, k.tenant_id, t.name, k.purpose, k.kek_version, k.wrapped
				FROM data_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.kek_version <> $1 ORDER BY k.id LIMIT 100`, int64(cur))
			if err != nil {
				return fmt.Errorf("vault: rewrap: %w", err)
			}
			defer rows.Close()
			for rows.Next() {
				var r row
				if err := rows.Scan(&r.id, &r.tenantID, &r.tenant, &r.purpose, &r.ver, &r.wrapped); err != nil {
					return fmt.Errorf("vault: rewrap: %w", err)
				}
				batch = append(batch, r)
			}
			if err := rows.Err(); err != nil {
				return fmt.Errorf("vault: rewrap: %w", err)
			}
			return nil
		}()
		if err != nil {
			return moved, err
		}
		if len(batch) == 0 {
			return moved, nil
		}
		n := 0
		err = v.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
			n = 0
			for _, r := range batch {
				ad := keyAAD(r.tenant, r.tenantID, r.purpose)
				raw, err := v.kr.Unwrap(ctx, r.wrapped, ad)
				if err != nil {
					return fmt.Errorf("vault: rewrap tenant %s %s key: %w", r.tenant, r.purpose, err)
				}
				wrapped, ver, err := v.kr.Wrap(ctx, raw, ad)
				clear(raw)
				if err != nil {
					return fmt.Errorf("vault: rewrap: %w", err)
				}
				// Only if unchanged since read (another rewrap may race).
				res, err := tx.ExecContext(ctx, "UPDATE data_keys SET wrapped = $1, kek_version = $2 WHERE id = $3 AND kek_version = $4",
					wrapped, int64(ver), r.id, r.ver)
				if err != nil {
					return fmt.Errorf("vault: rewrap: %w", err)
				}
				if k, _ := res.RowsAffected(); k == 1 {
					n++
				}
			}
			return nil
		})
		if err != nil {
			return moved, err
		}
		moved += n
		if n == 0 && v.kr.Current() == cur {
			// Rows exist but none moved: they changed underneath; retry
			// reads them fresh. Guard against spinning on a store that
			// refuses the update.
			return moved, fmt.Errorf("vault: rewrap: %d data keys could not be updated", len(batch))
		}
	}
}

// Keyring is the keyring that wraps the vault's data keys.
func (v *Vault) Keyring() *keys.Keyring { return v.kr }

// Store returns the database the vault lives in.
func (v *Vault) Store() *store.DB { return v.db }

package vault

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/wardenhq/warden/transform"
)

// Forget deletes the original behind tok, so the token can no longer be
// restored (a GDPR erasure request for one value). It reports whether
// there was anything to delete. Tokenizing the same value later stores
// it again under the same token. In the same transaction it advances
// the tenant's erasure generation: this process stops restoring the
// value at once, every other within the invalidation interval (see the
// package doc).
func (t *Tenant) Forget(ctx context.Context, tok transform.TokenRef) (bool, error) {
	v := t.v
	tk, _, err := v.tenantKeys(ctx, t.name, false, false)
	if err != nil || tk == nil {
		return false, err
	}
	var (
		mac []byte
		gen int64
	)
	err = v.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		mac = nil
		err := tx.QueryRowContext(ctx, "DELETE FROM tokens WHERE tenant_id = $1 AND id = $2 AND type = $3 RETURNING mac",
			tk.id, tok.ID, tok.Type).Scan(&mac)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("vault: forget: %w", err)
		}
		if err := tx.QueryRowContext(ctx, "UPDATE tenants SET generation = generation + 1 WHERE id = $1 RETURNING generation",
			tk.id).Scan(&gen); err != nil {
			return fmt.Errorf("vault: forget: %w", err)
		}
		return v.db.Notify(ctx, tx, erasureChannel)
	})
	if err != nil {
		return false, err
	}
	if v.reveals != nil {
		v.reveals.Remove(cacheKey(tk.id, tok.ID))
		if mac != nil {
			v.known.Remove(cacheKey(tk.id, mac))
		}
	}
	if mac == nil {
		return false, nil
	}
	v.bumpGeneration(t.name, tk.id, gen)
	// The checkpoint waits for the gateway's readers and writers (up to
	// SQLite's busy timeout), so it is not under store.timeout.
	return true, v.db.Compact(ctx)
}

// Shred destroys a tenant: its keys, and with them every original it
// stored, so none of its tokens can ever be restored (crypto-shredding).
// It reports whether the tenant existed. Tokenizing for the same tenant
// name afterwards starts a new tenant with new keys and new tokens.
// This process forgets the tenant at once, every other within the
// invalidation interval (see the package doc).
//
// On SQLite deleted rows are overwritten (secure_delete) and the
// write-ahead log is truncated. Backups and PostgreSQL's dead tuples
// (until VACUUM) still hold the wrapped keys; to destroy those too,
// rotate, rewrap and retire the old KEK version.
func (v *Vault) Shred(ctx context.Context, tenant string) (bool, error) {
	if !validTenant(tenant) {
		return false, ErrBadTenant
	}
	var tid int64
	// Not under store.timeout: the transaction deletes every token of
	// the tenant, so it grows with the tenant; only ctx bounds it.
	err := v.db.Write(ctx, func(tx *sql.Tx) error {
		tid = 0
		err := tx.QueryRowContext(ctx, "DELETE FROM tenants WHERE name = $1 RETURNING id", tenant).Scan(&tid)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("vault: shred %s: %w", tenant, err)
		}
		// Foreign keys cascade; delete explicitly too, so a store whose
		// foreign keys were off still loses everything.
		for _, q := range []string{"DELETE FROM tokens WHERE tenant_id = $1", "DELETE FROM data_keys WHERE tenant_id = $1"} {
			if _, err := tx.ExecContext(ctx, q, tid); err != nil {
				return fmt.Errorf("vault: shred %s: %w", tenant, err)
			}
		}
		return v.db.Notify(ctx, tx, erasureChannel)
	})
	if err != nil {
		return false, err
	}
	v.mu.Lock()
	tk := stKeys(v.tenants[tenant])
	v.mu.Unlock()
	if tk != nil {
		v.dropTenantCaches(tenant, tk.id)
		clear(tk.index)
	}
	if tid != 0 {
		v.dropTenantCaches(tenant, tid)
	}
	if tid == 0 {
		return false, nil
	}
	return true, v.db.Compact(ctx)
}

// Purge deletes every original past its retention (Config.TTL) and
// reports how many. Expired tokens are already unrestorable; Purge frees
// their rows.
func (v *Vault) Purge(ctx context.Context) (int64, error) {
	var n int64
	// Not under store.timeout: the work grows with the data; only ctx
	// bounds it.
	err := v.db.Write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM tokens WHERE expires_at IS NOT NULL AND expires_at <= $1", v.now().Unix())
		if err != nil {
			return fmt.Errorf("vault: purge: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil || n == 0 {
		return n, err
	}
	return n, v.db.Compact(ctx)
}

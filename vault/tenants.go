package vault

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/wardenhq/warden/keys"
)

// tenantState is what a Vault last learnt of a tenant from the store.
// It is replaced, never changed, so readers may keep a pointer.
type tenantState struct {
	keys    *tenantKeys
	gen     int64     // the tenant row's erasure generation
	checked time.Time // when the query that read gen was about to start
	epoch   uint64    // Vault.epoch at that moment
}

// fresh reports whether st may be used at now without asking the store.
// A missing tenant is never fresh: another process may create it (and
// issue tokens) at any moment. Call with v.mu held.
func (v *Vault) fresh(st *tenantState, now time.Time) bool {
	if st == nil || st.keys == nil || v.every == 0 || st.epoch != v.epoch || now.Sub(st.checked) >= v.every {
		return false
	}
	return now.Before(st.keys.expiry)
}

// tenantKeys returns the tenant's unwrapped keys and its erasure
// generation, which tags every cache entry filled from them. While the
// Vault's last look at the tenant row is fresh, it answers from memory;
// otherwise it reads the row's id and generation (one query) and unwraps
// keys only when the id changed (a shred) or the keys expired; recheck
// reads the row even when the last look is fresh. With create, a
// missing tenant is created with fresh keys; without, a missing tenant
// gives (nil, 0, nil).
func (v *Vault) tenantKeys(ctx context.Context, name string, create, recheck bool) (*tenantKeys, int64, error) {
	if !validTenant(name) {
		return nil, 0, ErrBadTenant
	}
	now := v.now()
	v.mu.Lock()
	st := v.tenants[name]
	fresh := v.fresh(st, now)
	epoch := v.epoch
	v.mu.Unlock()
	if fresh && !recheck {
		return st.keys, st.gen, nil
	}
	if v.every > 0 {
		v.listening.Do(v.listen)
	}
	var (
		tk  *tenantKeys
		gen int64
		err error
	)
	if st != nil && now.Before(st.keys.expiry) {
		var id int64
		if id, gen, err = v.checkTenant(ctx, name); err != nil {
			return nil, 0, err
		}
		if id == st.keys.id {
			tk = st.keys
		} else if id != 0 {
			// Shredded and made again by another process.
			if tk, gen, err = v.loadTenant(ctx, name); err != nil {
				return nil, 0, err
			}
		}
	} else if tk, gen, err = v.loadTenant(ctx, name); err != nil {
		return nil, 0, err
	}
	// Create; a shred elsewhere may remove the new tenant before it is
	// read back, so try a few times.
	for attempt := 1; tk == nil && create; attempt++ {
		if attempt > 3 {
			return nil, 0, fmt.Errorf("vault: tenant %s vanished while being created", name)
		}
		if err := v.createTenant(ctx, name); err != nil {
			return nil, 0, err
		}
		if tk, gen, err = v.loadTenant(ctx, name); err != nil {
			return nil, 0, err
		}
	}
	if tk != nil && tk != stKeys(st) {
		tk.expiry = now.Add(v.ttl)
	}
	v.mu.Lock()
	if cur := v.tenants[name]; cur == nil || !cur.checked.After(now) {
		if tk == nil {
			delete(v.tenants, name)
		} else {
			v.tenants[name] = &tenantState{keys: tk, gen: gen, checked: now, epoch: epoch}
		}
	}
	v.mu.Unlock()
	if old := stKeys(st); old != nil {
		switch {
		case tk == nil || tk.id != old.id:
			v.dropEntries(old.id, -1) // shredded: drop its originals from memory
		case gen != st.gen:
			v.dropEntries(old.id, gen) // something was forgotten
		}
	}
	return tk, gen, nil
}

func stKeys(st *tenantState) *tenantKeys {
	if st == nil {
		return nil
	}
	return st.keys
}

// checkTenant reads the tenant row's id and erasure generation; id 0:
// no such tenant.
func (v *Vault) checkTenant(ctx context.Context, name string) (id, gen int64, err error) {
	ctx, end := v.db.Bound(ctx)
	defer end(&err)
	err = v.db.Read().QueryRowContext(ctx, "SELECT id, generation FROM tenants WHERE name = $1", name).Scan(&id, &gen)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("vault: check tenant %s: %w", name, err)
	}
	return id, gen, nil
}

// wrappedKey is one data_keys row.
type wrappedKey struct {
	id      int64
	purpose string
	wrapped []byte
}

// loadTenant reads the tenant's row and wrapped keys (one query, under
// the store's deadline), then unwraps the keys. A missing tenant is
// (nil, 0, nil).
func (v *Vault) loadTenant(ctx context.Context, name string) (*tenantKeys, int64, error) {
	tid, gen, rows, err := v.readTenant(ctx, name)
	if err != nil || tid == 0 {
		return nil, 0, err
	}
	tk := &tenantKeys{id: tid, name: name}
	for _, r := range rows {
		raw, err := v.kr.Unwrap(ctx, r.wrapped, keyAAD(name, tid, r.purpose))
		if err != nil {
			return nil, 0, fmt.Errorf("vault: tenant %s: %s key: %w", name, r.purpose, err)
		}
		switch r.purpose {
		case purposeValueKey:
			tk.value, err = keys.LoadDataKey(uint32(r.id), raw)
			clear(raw)
			if err != nil {
				return nil, 0, fmt.Errorf("vault: tenant %s: %w", name, err)
			}
		case purposeIndexKey:
			tk.index = raw
		default:
			clear(raw)
		}
	}
	if tk.value == nil || tk.index == nil {
		return nil, 0, fmt.Errorf("vault: tenant %s: key material incomplete (damaged store)", name)
	}
	return tk, gen, nil
}

func (v *Vault) readTenant(ctx context.Context, name string) (tid, gen int64, out []wrappedKey, err error) {
	ctx, end := v.db.Bound(ctx)
	defer end(&err)
	rows, err := v.db.Read().QueryContext(ctx, `SELECT t.id, t.generation, k.id, k.purpose, k.wrapped
		FROM tenants t JOIN data_keys k ON k.tenant_id = t.id WHERE t.name = $1`, name)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("vault: load tenant %s: %w", name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r wrappedKey
		if err := rows.Scan(&tid, &gen, &r.id, &r.purpose, &r.wrapped); err != nil {
			return 0, 0, nil, fmt.Errorf("vault: load tenant %s: %w", name, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return 0, 0, nil, fmt.Errorf("vault: load tenant %s: %w", name, err)
	}
	return tid, gen, out, nil
}

// createTenant inserts the tenant and its two wrapped keys in one
// transaction. A concurrent creator (another process) wins or loses the
// unique name; the loser reads the winner's keys.
func (v *Vault) createTenant(ctx context.Context, name string) error {
	return v.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var tid int64
		err := tx.QueryRowContext(ctx, `INSERT INTO tenants (name, created_at) VALUES ($1, $2)
			ON CONFLICT (name) DO NOTHING RETURNING id`, name, v.now().Unix()).Scan(&tid)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // another writer created it
		}
		if err != nil {
			return fmt.Errorf("vault: create tenant %s: %w", name, err)
		}
		for _, purpose := range [...]string{purposeValueKey, purposeIndexKey} {
			dk := keys.NewDataKey()
			wrapped, ver, err := v.kr.Wrap(ctx, dk, keyAAD(name, tid, purpose))
			clear(dk)
			if err != nil {
				return fmt.Errorf("vault: create tenant %s: %w", name, err)
			}
			var kid int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO data_keys (tenant_id, purpose, kek_version, wrapped, created_at)
				VALUES ($1, $2, $3, $4, $5) RETURNING id`, tid, purpose, int64(ver), wrapped, v.now().Unix()).Scan(&kid); err != nil {
				return fmt.Errorf("vault: create tenant %s: %w", name, err)
			}
			if kid <= 0 || kid > 1<<32-1 {
				return fmt.Errorf("vault: data key id %d out of range", kid)
			}
		}
		return nil
	})
}

// write runs fn in one write transaction under the store's deadline; fn
// must use the ctx it is given.
func (v *Vault) write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) (err error) {
	ctx, end := v.db.Bound(ctx)
	defer end(&err)
	return v.db.Write(ctx, func(tx *sql.Tx) error { return fn(ctx, tx) })
}

// listen subscribes to erasure notifications (PostgreSQL): each one, and
// each (re)connection of the listener, makes every tenant state stale.
func (v *Vault) listen() {
	v.db.Listen(erasureChannel, func() {
		v.mu.Lock()
		v.epoch++
		v.mu.Unlock()
	})
}

// bumpGeneration records, after this process's own Forget, the
// generation the store now holds, so this process's entries of the
// tenant stop matching at once.
func (v *Vault) bumpGeneration(name string, tenantID, gen int64) {
	v.mu.Lock()
	if st := v.tenants[name]; st != nil && st.keys.id == tenantID && gen > st.gen {
		v.tenants[name] = &tenantState{keys: st.keys, gen: gen, checked: st.checked, epoch: st.epoch}
	}
	v.mu.Unlock()
	v.dropEntries(tenantID, gen)
}

// tenantGone reports whether tenant row id is no longer the tenant's
// (another process shredded it), dropping what is cached of it if so.
func (v *Vault) tenantGone(ctx context.Context, name string, id int64) bool {
	cur, _, err := v.checkTenant(ctx, name)
	if err != nil || cur == id {
		return false
	}
	v.dropEntries(id, -1)
	return true
}

// dropTenantCaches forgets the tenant's state and every cached entry of
// its row id.
func (v *Vault) dropTenantCaches(name string, tenantID int64) {
	v.mu.Lock()
	delete(v.tenants, name)
	v.mu.Unlock()
	v.dropEntries(tenantID, -1)
}

// dropEntries removes the cached entries of tenant row id whose
// generation is not keep (-1: all of them). Entries that no longer match
// are never used anyway; removing them takes erased originals out of
// memory.
func (v *Vault) dropEntries(tenantID, keep int64) {
	if v.reveals == nil {
		return
	}
	var prefix [8]byte
	binary.BigEndian.PutUint64(prefix[:], uint64(tenantID))
	for _, k := range v.reveals.Keys() {
		if k[:8] == string(prefix[:]) {
			if r, ok := v.reveals.Peek(k); ok && r.gen != keep {
				v.reveals.Remove(k)
			}
		}
	}
	for _, k := range v.known.Keys() {
		if k[:8] == string(prefix[:]) {
			if e, ok := v.known.Peek(k); ok && e.gen != keep {
				v.known.Remove(k)
			}
		}
	}
}

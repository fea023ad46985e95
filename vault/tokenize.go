package vault

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/transform"
)

// batchRows bounds the rows of one multi-row statement (7 parameters
// each, well under SQLite's 32766).
const batchRows = 500

// Token returns the token for value of type typ, storing the original
// if it is new. The same tenant, type and value always give the same
// token.
func (t *Tenant) Token(ctx context.Context, typ, value string) (string, error) {
	out, err := t.TokenBatch(ctx, []string{typ}, []string{value})
	if err != nil {
		return "", err
	}
	return out[0], nil
}

// TokenBatch tokenizes many values at once: types[i] and values[i] give
// the i-th token. New originals are stored in one transaction, so either
// every token returned is restorable or the call fails and stores nothing.
func (t *Tenant) TokenBatch(ctx context.Context, types, values []string) ([]string, error) {
	if len(types) != len(values) {
		return nil, fmt.Errorf("vault: %d types for %d values", len(types), len(values))
	}
	for i := range types {
		if !validType(types[i]) {
			return nil, fmt.Errorf("vault: item %d: %w", i, ErrBadType)
		}
		if len(values[i]) > MaxValueLen {
			return nil, fmt.Errorf("vault: item %d: %w (%d bytes)", i, ErrValueTooLong, MaxValueLen)
		}
	}
	for attempt := 1; ; attempt++ {
		out, used, err := t.tokenBatch(ctx, types, values, attempt > 1)
		// Another process shredded the tenant while its keys sat in our
		// cache (the insert fails its foreign key): start afresh, with
		// the tenant row the store holds now.
		if err == nil || attempt == 3 || used == 0 || errors.Is(err, store.ErrTimeout) || !t.v.tenantGone(ctx, t.name, used) {
			return out, err
		}
	}
}

// tokenBatch is one attempt of TokenBatch; used is the tenant row id
// whose keys it used (0 if it got none). recheck reads the tenant row
// whatever the cache holds.
func (t *Tenant) tokenBatch(ctx context.Context, types, values []string, recheck bool) (_ []string, used int64, err error) {
	v := t.v
	tk, gen, err := v.tenantKeys(ctx, t.name, true, recheck)
	if err != nil {
		return nil, 0, err
	}
	out, err := v.tokenize(ctx, tk, gen, types, values)
	return out, tk.id, err
}

// tokenize tokenizes with the keys tk of generation gen.
func (v *Vault) tokenize(ctx context.Context, tk *tenantKeys, gen int64, types, values []string) ([]string, error) {
	now := v.now()
	out := make([]string, len(values))
	var pending []*item
	byMAC := map[string]*item{} // dedupe within the batch
	for i := range values {
		mac := tk.mac(types[i], values[i])
		ck := cacheKey(tk.id, mac)
		if v.known != nil {
			if k, ok := v.known.Get(ck); ok && k.gen == gen && now.Before(k.until) {
				out[i] = k.token
				continue
			}
		}
		if it := byMAC[ck]; it != nil {
			it.idx = append(it.idx, i)
			continue
		}
		it := &item{typ: types[i], value: values[i], mac: mac, ck: ck, idx: []int{i}}
		byMAC[ck] = it
		pending = append(pending, it)
	}
	if len(pending) == 0 {
		return out, nil
	}
	if err := v.resolve(ctx, tk, pending); err != nil {
		return nil, err
	}
	for _, it := range pending {
		tok := transform.FormatToken(it.typ, it.mac[:idLens[it.level]])
		for _, i := range it.idx {
			out[i] = tok
		}
		if v.known != nil {
			until := now.Add(v.ttl)
			if it.expires != 0 && it.expires < until.Unix() {
				continue // expiring soon: do not cache past the row's life
			}
			v.known.Add(it.ck, known{token: tok, until: until, gen: gen})
		}
	}
	return out, nil
}

// item is one distinct value being tokenized.
type item struct {
	typ, value string
	mac        []byte
	ck         string
	idx        []int // positions in the caller's batch
	level      int   // index into idLens
	expires    int64 // unix seconds, 0 = never
	missing    bool  // lookup found no row
	expired    bool  // lookup found the row past its retention
}

func (it *item) id() []byte { return it.mac[:idLens[it.level]] }

// resolve finds or stores every item, moving colliding items to longer IDs.
func (v *Vault) resolve(ctx context.Context, tk *tenantKeys, items []*item) error {
	for _, it := range items {
		if d, ok := v.keep[it.typ]; ok {
			it.expires = v.now().Add(d).Unix()
		}
	}
	// First a read: values seen before need no write transaction.
	todo, err := v.lookupRead(ctx, tk, items)
	if err != nil {
		return err
	}
	if len(todo) == 0 {
		return nil
	}
	// Write may rerun the function (PostgreSQL deadlock retry): every
	// run starts from the state the read lookup left.
	start := slices.Clone(todo)
	saved := make([]item, len(start))
	for i, it := range start {
		saved[i] = *it
	}
	return v.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		todo := slices.Clone(start)
		for i, it := range start {
			*it = saved[i]
		}
		// Each round settles items or moves them to a longer ID, so a
		// few rounds suffice; the bound only guards against a store
		// that keeps changing underneath.
		for round := 0; len(todo) > 0; round++ {
			if round == 8 {
				return fmt.Errorf("vault: store tokens: %d values still unsettled after %d rounds", len(todo), round)
			}
			var check []*item
			for _, it := range todo {
				if it.expired {
					if err := v.renew(ctx, tx, tk, it); err != nil {
						return err
					}
					continue
				}
				check = append(check, it)
			}
			// Insert in ID order, so concurrent writers take row locks
			// in the same order and cannot deadlock.
			slices.SortFunc(check, func(a, b *item) int { return bytes.Compare(a.id(), b.id()) })
			inserted, err := v.insert(ctx, tx, tk, check)
			if err != nil {
				return err
			}
			// Rows another writer stored first, and collisions, show here.
			rest := check[:0]
			for _, it := range check {
				if !inserted[string(it.id())] {
					rest = append(rest, it)
				}
			}
			if todo, err = v.lookup(ctx, tx, tk, rest); err != nil {
				return err
			}
		}
		return nil
	})
}

// lookupRead is lookup on the read pool, under the store's deadline.
func (v *Vault) lookupRead(ctx context.Context, tk *tenantKeys, items []*item) (_ []*item, err error) {
	ctx, end := v.db.Bound(ctx)
	defer end(&err)
	return v.lookup(ctx, v.db.Read(), tk, items)
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// lookup checks which items already have their row. It returns the
// items that need more work, each flagged: missing (insert it), expired
// (renew it), or neither (it collided and moved to the next ID length:
// look it up again).
func (v *Vault) lookup(ctx context.Context, q querier, tk *tenantKeys, items []*item) ([]*item, error) {
	var rest []*item
	now := v.now().Unix()
	for start := 0; start < len(items); start += batchRows {
		chunk := items[start:min(start+batchRows, len(items))]
		byID := make(map[string]*item, len(chunk))
		args := make([]any, 0, len(chunk)+1)
		args = append(args, tk.id)
		for _, it := range chunk {
			it.expired, it.missing = false, false
			if prev := byID[string(it.id())]; prev != nil {
				// Two values of this batch share an ID: the later one
				// moves on; the earlier one is written first.
				if err := it.next(); err != nil {
					return nil, err
				}
				rest = append(rest, it)
				continue
			}
			byID[string(it.id())] = it
			args = append(args, it.id())
		}
		query := "SELECT id, mac, expires_at FROM tokens WHERE tenant_id = $1 AND id IN (" + v.db.Params(2, len(args)-1) + ")"
		if v.db.Engine() == store.Postgres {
			// One array parameter: a plan that uses the primary key
			// whatever the batch size (a generic plan for a 1000-item IN
			// list degrades as the table grows).
			ids := make([][]byte, 0, len(args)-1)
			for _, a := range args[1:] {
				ids = append(ids, a.([]byte))
			}
			query = "SELECT id, mac, expires_at FROM tokens WHERE tenant_id = $1 AND id = ANY($2::bytea[])"
			args = []any{args[0], ids}
		}
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return nil, fmt.Errorf("vault: look up tokens: %w", err)
		}
		found := map[string]bool{}
		for rows.Next() {
			var (
				id, mac []byte
				exp     sql.NullInt64
			)
			if err := rows.Scan(&id, &mac, &exp); err != nil {
				rows.Close()
				return nil, fmt.Errorf("vault: look up tokens: %w", err)
			}
			it := byID[string(id)]
			if it == nil {
				continue
			}
			found[string(id)] = true
			switch {
			case string(mac) != string(it.mac):
				if err := it.next(); err != nil {
					rows.Close()
					return nil, err
				}
				rest = append(rest, it)
			case exp.Valid && exp.Int64 <= now:
				it.expired = true
				rest = append(rest, it)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("vault: look up tokens: %w", err)
		}
		for id, it := range byID {
			if !found[id] {
				it.missing = true
				rest = append(rest, it)
			}
		}
	}
	return rest, nil
}

func (it *item) next() error {
	if it.level+1 >= len(idLens) {
		return ErrCollision
	}
	it.level++
	return nil
}

// insert stores the items flagged missing and returns the IDs it
// inserted; rows that appeared meanwhile are left alone (ON CONFLICT DO
// NOTHING) for the caller to check.
func (v *Vault) insert(ctx context.Context, tx *sql.Tx, tk *tenantKeys, items []*item) (map[string]bool, error) {
	now := v.now().Unix()
	var (
		b        strings.Builder
		args     []any
		n        int
		inserted = make(map[string]bool, len(items))
	)
	flush := func() error {
		if n == 0 {
			return nil
		}
		rows, err := tx.QueryContext(ctx, b.String()+" ON CONFLICT (tenant_id, id) DO NOTHING RETURNING id", args...)
		b.Reset()
		args, n = args[:0], 0
		if err != nil {
			return fmt.Errorf("vault: store tokens: %w", err)
		}
		return collectInserted(rows, inserted)
	}
	if v.db.Engine() == store.Postgres {
		return inserted, v.insertPG(ctx, tx, tk, items, now, inserted)
	}
	for _, it := range items {
		if !it.missing {
			continue
		}
		it.missing = false
		if n == 0 {
			b.WriteString("INSERT INTO tokens (tenant_id, type, id, mac, value, created_at, expires_at) VALUES ")
		} else {
			b.WriteString(", ")
		}
		p := len(args)
		b.WriteByte('(')
		b.WriteString(v.db.Params(p+1, 7))
		b.WriteByte(')')
		id := it.id()
		sealed := tk.value.Seal(nil, []byte(it.value), valueAAD(tk.name, it.typ, id))
		args = append(args, tk.id, it.typ, id, it.mac, sealed, now, nullInt(it.expires))
		n++
		if n == batchRows {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	return inserted, flush()
}

// renew re-seals an expired row's value and gives it a new life.
func (v *Vault) renew(ctx context.Context, tx *sql.Tx, tk *tenantKeys, it *item) error {
	id := it.id()
	sealed := tk.value.Seal(nil, []byte(it.value), valueAAD(tk.name, it.typ, id))
	_, err := tx.ExecContext(ctx, "UPDATE tokens SET value = $1, created_at = $2, expires_at = $3 WHERE tenant_id = $4 AND id = $5 AND mac = $6",
		sealed, v.now().Unix(), nullInt(it.expires), tk.id, id, it.mac)
	if err != nil {
		return fmt.Errorf("vault: renew token: %w", err)
	}
	return nil
}

func nullInt(n int64) sql.NullInt64 { return sql.NullInt64{Int64: n, Valid: n != 0} }

// insertPG is insert for PostgreSQL: one statement over arrays (unnest),
// which the server plans once however many rows it carries.
func (v *Vault) insertPG(ctx context.Context, tx *sql.Tx, tk *tenantKeys, items []*item, now int64, inserted map[string]bool) error {
	var (
		types          []string
		ids, macs, val [][]byte
		expires        []*int64
	)
	for _, it := range items {
		if !it.missing {
			continue
		}
		it.missing = false
		id := it.id()
		types = append(types, it.typ)
		ids = append(ids, id)
		macs = append(macs, it.mac)
		val = append(val, tk.value.Seal(nil, []byte(it.value), valueAAD(tk.name, it.typ, id)))
		var exp *int64
		if it.expires != 0 {
			e := it.expires
			exp = &e
		}
		expires = append(expires, exp)
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `INSERT INTO tokens (tenant_id, type, id, mac, value, created_at, expires_at)
		SELECT $1, u.type, u.id, u.mac, u.value, $2, u.expires_at
		FROM unnest($3::text[], $4::bytea[], $5::bytea[], $6::bytea[], $7::bigint[]) AS u(type, id, mac, value, expires_at)
		ON CONFLICT (tenant_id, id) DO NOTHING RETURNING id`, tk.id, now, types, ids, macs, val, expires)
	if err != nil {
		return fmt.Errorf("vault: store tokens: %w", err)
	}
	return collectInserted(rows, inserted)
}

// collectInserted records the ids an INSERT … RETURNING id stored.
func collectInserted(rows *sql.Rows, inserted map[string]bool) error {
	defer rows.Close()
	for rows.Next() {
		var id []byte
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("vault: store tokens: %w", err)
		}
		inserted[string(id)] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("vault: store tokens: %w", err)
	}
	return nil
}

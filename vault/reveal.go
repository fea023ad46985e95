package vault

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/wardenhq/warden/transform"
)

var (
	_ transform.Tokenizer     = (*Tenant)(nil)
	_ transform.Revealer      = (*Tenant)(nil)
	_ transform.BatchRevealer = (*Tenant)(nil)
)

// Reveal returns the original behind tok if it is this tenant's and
// still stored; ok is false for unknown, foreign, forgotten, shredded or
// expired tokens. A row that does not decrypt (tampered, moved from
// another tenant, key retired) is an error, never a wrong value.
func (t *Tenant) Reveal(ctx context.Context, tok transform.TokenRef) (string, bool, error) {
	values, found := make([]string, 1), make([]bool, 1)
	if err := t.RevealBatch(ctx, []transform.TokenRef{tok}, values, found); err != nil {
		return "", false, err
	}
	return values[0], found[0], nil
}

// RevealBatch is Reveal for many tokens: it sets values[i] and found[i]
// for toks[i], answering from the cache and then with one query per
// batchRows misses.
func (t *Tenant) RevealBatch(ctx context.Context, toks []transform.TokenRef, values []string, found []bool) error {
	if len(values) != len(toks) || len(found) != len(toks) {
		return fmt.Errorf("vault: reveal: %d tokens, %d values, %d found", len(toks), len(values), len(found))
	}
	v := t.v
	tk, gen, err := v.tenantKeys(ctx, t.name, false, false)
	if err != nil {
		return err
	}
	clear(found)
	if tk == nil {
		return nil // no such tenant: nothing is ours
	}
	now := v.now()
	var miss map[string][]int // token id → positions
	for i, tok := range toks {
		if !validID(tok.ID) {
			continue
		}
		ck := cacheKey(tk.id, tok.ID)
		if v.reveals != nil {
			if r, ok := v.reveals.Get(ck); ok && r.gen == gen && now.Before(r.until) {
				if r.typ == tok.Type {
					values[i], found[i] = r.value, true
				}
				continue
			}
		}
		if miss == nil {
			miss = map[string][]int{}
		}
		miss[string(tok.ID)] = append(miss[string(tok.ID)], i)
	}
	if len(miss) == 0 {
		return nil
	}
	ids := make([]any, 0, len(miss))
	for id := range miss {
		ids = append(ids, []byte(id))
	}
	for start := 0; start < len(ids); start += batchRows {
		chunk := ids[start:min(start+batchRows, len(ids))]
		if err := v.fetch(ctx, tk, gen, chunk, func(id []byte, typ, value string) {
			for _, i := range miss[string(id)] {
				if toks[i].Type == typ {
					values[i], found[i] = value, true
				}
			}
		}); err != nil {
			return err
		}
	}
	return nil
}

// validID reports whether id has one of the lengths the vault issues.
func validID(id []byte) bool {
	for _, n := range idLens {
		if len(id) == n {
			return true
		}
	}
	return false
}

// fetch reads and decrypts the rows with the given ids, calling fn for
// each live one and caching it under generation gen.
func (v *Vault) fetch(ctx context.Context, tk *tenantKeys, gen int64, ids []any, fn func(id []byte, typ, value string)) (err error) {
	ctx, end := v.db.Bound(ctx)
	defer end(&err)
	args := append([]any{tk.id}, ids...)
	rows, err := v.db.Read().QueryContext(ctx, "SELECT id, type, value, expires_at FROM tokens WHERE tenant_id = $1 AND id IN ("+v.db.Params(2, len(ids))+")", args...)
	if err != nil {
		return fmt.Errorf("vault: reveal: %w", err)
	}
	defer rows.Close()
	now := v.now()
	until := now.Add(v.ttl)
	for rows.Next() {
		var (
			id, sealed []byte
			typ        string
			exp        sql.NullInt64
		)
		if err := rows.Scan(&id, &typ, &sealed, &exp); err != nil {
			return fmt.Errorf("vault: reveal: %w", err)
		}
		if exp.Valid && exp.Int64 <= now.Unix() {
			continue
		}
		plain, err := tk.value.Open(nil, sealed, valueAAD(tk.name, typ, id))
		if err != nil {
			return fmt.Errorf("vault: tenant %s: stored %s value does not decrypt: %w", tk.name, typ, err)
		}
		value := string(plain)
		clear(plain)
		fn(id, typ, value)
		if v.reveals != nil {
			u := until
			if exp.Valid && exp.Int64 < u.Unix() {
				u = time.Unix(exp.Int64, 0)
			}
			v.reveals.Add(cacheKey(tk.id, id), revealed{typ: typ, value: value, until: u, gen: gen})
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("vault: reveal: %w", err)
	}
	return nil
}

// Restore replaces every token of this tenant in text with its original
// (see transform.Restore); other tokens stay as they are.
func (t *Tenant) Restore(ctx context.Context, text string) (string, transform.RestoreStats, error) {
	return transform.Restore(ctx, text, t)
}

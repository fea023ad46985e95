package auth

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/wardenhq/warden/keys"
)

// Signing-key rotation
//
// A key signs from created_at until retire_at (created_at + Rotation)
// and is published in the JWKS until expires_at (retire_at + Lifetime +
// Leeway), when its last token has expired. The next key is made
// prepublish before the current one retires, with created_at set to
// that retirement, so every replica (which re-reads the table every
// refreshEvery) and every JWKS client knows it before the first token it
// signs exists. When several replicas make a next key at once, they all
// sign with the same one: the newest created_at, ties to the smallest
// kid. With a store and a keyring, private keys rest in
// auth_signing_keys sealed under the current KEK; without them they
// live in memory and die with the process.

const (
	// refreshEvery is how often a replica re-reads the signing keys.
	refreshEvery = 30 * time.Second
	// reloadEvery bounds re-reads caused by an unknown kid.
	reloadEvery = 5 * time.Second
	// signingKeyPurpose is the AAD purpose a sealed signing key is bound to.
	signingKeyPurpose = "auth.signing_key"
)

type keyEntry struct {
	kid                      string
	pub                      ed25519.PublicKey
	sealed                   []byte      // store mode
	signer                   jose.Signer // nil until unsealed
	created, retire, expires time.Time
}

// prepublish is how long before the current key retires the next one
// is made and published.
func (is *Issuer) prepublish() time.Duration { return min(is.cfg.Rotation/2, 2*time.Minute) }

// current returns the key to sign with, rotating when it is due.
func (is *Issuer) current(ctx context.Context) (*keyEntry, error) {
	is.mu.Lock()
	defer is.mu.Unlock()
	return is.currentLocked(ctx)
}

func (is *Issuer) currentLocked(ctx context.Context) (*keyEntry, error) {
	now := is.now()
	if is.db != nil && (is.lastLoad.IsZero() || now.Sub(is.lastLoad) >= refreshEvery) {
		if err := is.reloadLocked(ctx, now); err != nil && is.pickLocked(now) == nil {
			return nil, err
		}
		// On failure a known current key keeps signing: nothing newer
		// can be stored while the store is down.
	}
	cur := is.pickLocked(now)
	if cur != nil && cur.signer == nil {
		if err := is.unsealLocked(ctx, cur); errors.Is(err, keys.ErrRetired) {
			cur = nil // its KEK was retired: it still verifies, a new key signs
		} else if err != nil {
			return nil, err
		}
	}
	if cur == nil {
		var err error
		if cur, err = is.addKeyLocked(ctx, now); err != nil {
			return nil, err
		}
	}
	if !now.Before(cur.retire.Add(-is.prepublish())) && !is.hasSuccessorLocked(cur) && is.loadErr == nil {
		// Best effort: on failure the next call tries again, and at
		// retirement a key is made synchronously (or the error surfaces).
		is.addKeyLocked(ctx, cur.retire)
	}
	return cur, nil
}

// pickLocked is the key that signs at now: created <= now < retire, the
// newest, ties to the smallest kid.
func (is *Issuer) pickLocked(now time.Time) *keyEntry {
	var best *keyEntry
	for kid, k := range is.keys {
		if !now.Before(k.expires) {
			delete(is.keys, kid)
			continue
		}
		if now.Before(k.created) || !now.Before(k.retire) {
			continue
		}
		if best == nil || k.created.After(best.created) || (k.created.Equal(best.created) && k.kid < best.kid) {
			best = k
		}
	}
	return best
}

func (is *Issuer) hasSuccessorLocked(cur *keyEntry) bool {
	for _, k := range is.keys {
		if !k.created.Before(cur.retire) {
			return true
		}
	}
	return false
}

// addKeyLocked makes a key that signs from created, storing it sealed
// in store mode. Expired keys are deleted from the store on the way.
func (is *Issuer) addKeyLocked(ctx context.Context, created time.Time) (*keyEntry, error) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader) // never fails (crypto/rand)
	kid, err := thumbprint(pub)
	if err != nil {
		return nil, err
	}
	created = created.Truncate(time.Second)
	k := &keyEntry{kid: kid, pub: pub, created: created, retire: created.Add(is.cfg.Rotation)}
	k.expires = k.retire.Add(is.cfg.Lifetime + is.cfg.Leeway)
	if k.signer, err = newSigner(kid, priv); err != nil {
		return nil, err
	}
	if is.db != nil {
		if err := is.storeKey(ctx, k, priv); err != nil {
			return nil, err
		}
	}
	is.keys[kid] = k
	return k, nil
}

func newSigner(kid string, priv ed25519.PrivateKey) (jose.Signer, error) {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: string(jose.EdDSA)}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("auth: signer: %w", err)
	}
	return s, nil
}

// thumbprint is the RFC 7638 SHA-256 thumbprint of pub, base64url: the kid.
func thumbprint(pub ed25519.PublicKey) (string, error) {
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("auth: key thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// storeKey seals priv's seed under the keyring and inserts the key,
// deleting keys whose tokens have all expired.
func (is *Issuer) storeKey(ctx context.Context, k *keyEntry, priv ed25519.PrivateKey) error {
	sealed, _, err := is.sealer.Wrap(ctx, priv.Seed(), keys.AAD{Purpose: signingKeyPurpose, Record: k.kid})
	if err != nil {
		return fmt.Errorf("auth: sealing a token-signing key: %w", err)
	}
	k.sealed = sealed
	err = is.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM auth_signing_keys WHERE expires_at <= $1`, is.now().Unix()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO auth_signing_keys (kid, alg, public_key, private_sealed, created_at, retire_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			k.kid, string(jose.EdDSA), []byte(k.pub), sealed, k.created.Unix(), k.retire.Unix(), k.expires.Unix())
		return err
	})
	if err != nil {
		return unavailable("storing a token-signing key", err)
	}
	return nil
}

// write runs fn in one write transaction under the store's deadline.
func (is *Issuer) write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) (err error) {
	ctx, end := is.db.Bound(ctx)
	defer end(&err)
	return is.db.Write(ctx, func(tx *sql.Tx) error { return fn(ctx, tx) })
}

// reloadLocked re-reads the keys (loadLocked). After a failure it does
// not ask the store again for reloadEvery, returning that failure, so a
// stalled store costs one store.timeout per reloadEvery, not one per
// caller queued on the issuer's lock.
func (is *Issuer) reloadLocked(ctx context.Context, now time.Time) error {
	if is.loadErr != nil && now.Sub(is.lastTry) < reloadEvery {
		return is.loadErr
	}
	is.lastTry = now
	is.loadErr = nil
	if err := is.loadLocked(ctx); err != nil {
		is.loadErr = unavailable("loading token-signing keys", err)
	}
	return is.loadErr
}

// loadLocked re-reads every unexpired key, keeping signers already
// unsealed.
func (is *Issuer) loadLocked(ctx context.Context) (err error) {
	now := is.now()
	ctx, end := is.db.Bound(ctx)
	defer end(&err)
	rows, err := is.db.Read().QueryContext(ctx, `SELECT kid, public_key, private_sealed, created_at, retire_at, expires_at FROM auth_signing_keys WHERE expires_at > $1`, now.Unix())
	if err != nil {
		return err
	}
	defer rows.Close()
	loaded := map[string]*keyEntry{}
	for rows.Next() {
		k := &keyEntry{}
		var pub []byte
		var created, retire, expires int64
		if err := rows.Scan(&k.kid, &pub, &k.sealed, &created, &retire, &expires); err != nil {
			return err
		}
		if len(pub) != ed25519.PublicKeySize {
			return fmt.Errorf("auth: token-signing key %s: public key is %d bytes", k.kid, len(pub))
		}
		k.pub = ed25519.PublicKey(pub)
		k.created, k.retire, k.expires = time.Unix(created, 0), time.Unix(retire, 0), time.Unix(expires, 0)
		if old, ok := is.keys[k.kid]; ok {
			k.signer = old.signer
		}
		loaded[k.kid] = k
	}
	if err := rows.Err(); err != nil {
		return err
	}
	is.keys, is.lastLoad = loaded, now
	return nil
}

// unsealLocked opens k's private key and checks it against its kid.
func (is *Issuer) unsealLocked(ctx context.Context, k *keyEntry) error {
	seed, err := is.sealer.Unwrap(ctx, k.sealed, keys.AAD{Purpose: signingKeyPurpose, Record: k.kid})
	if err != nil {
		return fmt.Errorf("auth: unsealing token-signing key %s: %w", k.kid, err)
	}
	defer clear(seed)
	if len(seed) != ed25519.SeedSize {
		return fmt.Errorf("auth: token-signing key %s: seed is %d bytes", k.kid, len(seed))
	}
	priv := ed25519.NewKeyFromSeed(seed)
	if kid, err := thumbprint(priv.Public().(ed25519.PublicKey)); err != nil || kid != k.kid {
		return fmt.Errorf("auth: token-signing key %s: private key does not match its kid", k.kid)
	}
	k.signer, err = newSigner(k.kid, priv)
	return err
}

// publicKey returns the verification key for kid, re-reading the store
// when it is due, or (at most every reloadEvery) when kid is unknown.
func (is *Issuer) publicKey(ctx context.Context, kid string) (ed25519.PublicKey, bool, error) {
	is.mu.Lock()
	defer is.mu.Unlock()
	now := is.now()
	k, ok := is.keys[kid]
	if is.db != nil && (now.Sub(is.lastLoad) >= refreshEvery || (!ok && now.Sub(is.lastLoad) >= reloadEvery)) {
		if err := is.reloadLocked(ctx, now); err != nil && !ok {
			return nil, false, err // unknown kid: cannot tell whether it is ours
		}
		// On failure a known key still verifies: keys only ever expire.
		k, ok = is.keys[kid]
	}
	if !ok || !now.Before(k.expires) {
		return nil, false, nil
	}
	return k.pub, true, nil
}

// JWKS returns the public keys of every signing key whose tokens may
// still be valid, and of the next key once it is made.
func (is *Issuer) JWKS(ctx context.Context) (jose.JSONWebKeySet, error) {
	is.mu.Lock()
	defer is.mu.Unlock()
	if _, err := is.currentLocked(ctx); err != nil {
		return jose.JSONWebKeySet{}, err
	}
	now := is.now()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for kid, k := range is.keys {
		if now.Before(k.expires) {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.pub, KeyID: kid, Algorithm: string(jose.EdDSA), Use: "sig"})
		}
	}
	sortJWKs(set.Keys)
	return set, nil
}

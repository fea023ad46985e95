package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardenhq/warden/keys"
	"github.com/wardenhq/warden/store"
)

// Keyring seals the log's secrets; *keys.Keyring implements it.
type Keyring interface {
	Wrap(ctx context.Context, dataKey []byte, ad keys.AAD) (wrapped []byte, version uint32, err error)
	Unwrap(ctx context.Context, wrapped []byte, ad keys.AAD) ([]byte, error)
}

var _ Keyring = (*keys.Keyring)(nil)

// Key names in audit_keys.
const (
	keySigner = "signer" // Ed25519 seed of the checkpoint signing key
	keyRoot   = "root"   // root audit secret for commitment keys
)

// secrets are the log's unwrapped keys.
type secrets struct {
	origin string
	signer note.Signer
	vkey   string // note verifier key: origin+hash+base64
	root   []byte
}

func keyAAD(name, origin string) keys.AAD {
	return keys.AAD{Purpose: "audit." + name, Record: origin}
}

// loadSecrets reads the log's keys, generating them (under origin) the
// first time. Two processes starting at once agree: the first insert
// wins and the other reads it back.
func loadSecrets(ctx context.Context, db *store.DB, kr Keyring, origin string, now time.Time) (*secrets, error) {
	if kr == nil {
		return nil, errors.New("audit: no keyring")
	}
	if origin == "" {
		var b [6]byte
		rand.Read(b[:])
		origin = fmt.Sprintf("warden.audit/%x", b)
	}
	if !validOrigin(origin) {
		return nil, errors.New("audit: origin must be non-empty printable text without spaces or '+'")
	}
	// Both keys are sealed first and inserted in one transaction, so
	// processes racing to create them agree on one origin.
	names := []string{keySigner, keyRoot}
	wrapped := make([][]byte, len(names))
	vers := make([]uint32, len(names))
	for i, name := range names {
		secret := make([]byte, 32)
		rand.Read(secret)
		var err error
		wrapped[i], vers[i], err = kr.Wrap(ctx, secret, keyAAD(name, origin))
		clear(secret)
		if err != nil {
			return nil, fmt.Errorf("audit: seal %s key: %w", name, err)
		}
	}
	err := db.Write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM audit_keys").Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil // generated before, or by another process: keep them
		}
		for i, name := range names {
			if _, err := tx.ExecContext(ctx, "INSERT INTO audit_keys (name, origin, kek_version, wrapped, created_at) VALUES ($1, $2, $3, $4, $5)",
				name, origin, int64(vers[i]), wrapped[i], now.Unix()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// On PostgreSQL a process racing us may have won the insert.
		if s, rerr := readSecrets(ctx, db, kr); rerr == nil {
			return s, nil
		}
		return nil, fmt.Errorf("audit: store keys: %w", err)
	}
	return readSecrets(ctx, db, kr)
}

// readSecrets unwraps the stored keys.
func readSecrets(ctx context.Context, db *store.DB, kr Keyring) (*secrets, error) {
	s := &secrets{}
	for _, name := range []string{keySigner, keyRoot} {
		var origin string
		var wrapped []byte
		err := db.Read().QueryRowContext(ctx, "SELECT origin, wrapped FROM audit_keys WHERE name = $1", name).Scan(&origin, &wrapped)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNoKeys
		}
		if err != nil {
			return nil, fmt.Errorf("audit: read %s key: %w", name, err)
		}
		if s.origin != "" && origin != s.origin {
			return nil, errors.New("audit: the stored keys name different origins")
		}
		s.origin = origin
		secret, err := kr.Unwrap(ctx, wrapped, keyAAD(name, origin))
		if err != nil {
			return nil, fmt.Errorf("audit: open %s key: %w", name, err)
		}
		if len(secret) != 32 {
			return nil, fmt.Errorf("audit: %s key has %d bytes, want 32", name, len(secret))
		}
		if name == keyRoot {
			s.root = secret
			continue
		}
		signer, vkey, err := ed25519Signer(origin, secret)
		clear(secret)
		if err != nil {
			return nil, err
		}
		s.signer, s.vkey = signer, vkey
	}
	return s, nil
}

// ErrNoKeys reports a database whose audit keys were never generated
// (no gateway has opened the log yet).
var ErrNoKeys = errors.New("audit: the log has no keys yet; start the gateway (or open the log) once to generate them")

// ed25519Signer makes the note signer and verifier key named origin from
// an Ed25519 seed. The signer key text follows note.GenerateKey:
// PRIVATE+KEY+name+hash+base64(0x01 || seed).
func ed25519Signer(origin string, seed []byte) (note.Signer, string, error) {
	priv := ed25519.NewKeyFromSeed(seed)
	vkey, err := note.NewEd25519VerifierKey(origin, priv.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, "", fmt.Errorf("audit: verifier key: %w", err)
	}
	// vkey is origin+hash+base64; the base64 may itself hold '+'.
	hash := strings.TrimPrefix(vkey, origin+"+")[:8]
	skey := "PRIVATE+KEY+" + origin + "+" + hash + "+" + base64.StdEncoding.EncodeToString(append([]byte{1}, seed...))
	signer, err := note.NewSigner(skey)
	clear(priv)
	if err != nil {
		return nil, "", errors.New("audit: malformed signing key")
	}
	return signer, vkey, nil
}

func validOrigin(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == '+' || r == 0x7f {
			return false
		}
	}
	return true
}

// tenantKey derives tenant's commitment key:
// HKDF-SHA256(secret = root, salt = none, info = "warden/audit/commitment/v1\x00" || tenant).
func tenantKey(root []byte, tenant string) []byte {
	k, err := hkdf.Key(sha256.New, root, nil, "warden/audit/commitment/v1\x00"+tenant, 32)
	if err != nil {
		panic("audit: hkdf: " + err.Error()) // only for lengths > 255*32
	}
	return k
}

// VerifierKey returns the note verifier key ("origin+hash+base64") of the
// log in db, unwrapping its signing key with kr. With create, a log
// without keys gets them (named origin, or a random origin if empty);
// without, it fails with ErrNoKeys.
func VerifierKey(ctx context.Context, db *store.DB, kr Keyring, origin string, create bool) (string, error) {
	var (
		s   *secrets
		err error
	)
	if create {
		s, err = loadSecrets(ctx, db, kr, origin, time.Now())
	} else {
		s, err = readSecrets(ctx, db, kr)
	}
	if err != nil {
		return "", err
	}
	clear(s.root)
	return s.vkey, nil
}

// Rewrap re-seals the log's keys under the keyring's current KEK version
// and returns how many it rewrapped. Run it with the vault's rewrap,
// before a KEK version is retired: keys wrapped by a retired version can
// no longer sign checkpoints or derive commitment keys.
func Rewrap(ctx context.Context, db *store.DB, kr Keyring) (int, error) {
	n := 0
	for _, name := range []string{keySigner, keyRoot} {
		err := db.Write(ctx, func(tx *sql.Tx) error {
			var origin string
			var wrapped []byte
			err := tx.QueryRowContext(ctx, "SELECT origin, wrapped FROM audit_keys WHERE name = $1", name).Scan(&origin, &wrapped)
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			if err != nil {
				return err
			}
			secret, err := kr.Unwrap(ctx, wrapped, keyAAD(name, origin))
			if err != nil {
				return err
			}
			rewrapped, ver, err := kr.Wrap(ctx, secret, keyAAD(name, origin))
			clear(secret)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "UPDATE audit_keys SET wrapped = $1, kek_version = $2 WHERE name = $3", rewrapped, int64(ver), name); err != nil {
				return err
			}
			n++
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("audit: rewrap %s key: %w", name, err)
		}
	}
	return n, nil
}

// KEKVersions reports how many of the log's keys each KEK version wraps,
// so a version still in use is not retired.
func KEKVersions(ctx context.Context, db *store.DB) (map[uint32]int, error) {
	rows, err := db.Read().QueryContext(ctx, "SELECT kek_version, COUNT(*) FROM audit_keys GROUP BY kek_version")
	if err != nil {
		return nil, fmt.Errorf("audit: read keys: %w", err)
	}
	defer rows.Close()
	out := map[uint32]int{}
	for rows.Next() {
		var v int64
		var n int
		if err := rows.Scan(&v, &n); err != nil {
			return nil, fmt.Errorf("audit: read keys: %w", err)
		}
		out[uint32(v)] = n
	}
	return out, rows.Err()
}

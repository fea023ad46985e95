package modelguard

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/wardenhq/warden/store"
)

// Registration is a model's entry in the registry: what was checked and
// whether it may be served.
type Registration struct {
	// Name is the model name callers and upstreams use.
	Name string `json:"name"`
	// RootDigest is the hex SHA-256 over every file digest of the signed
	// manifest (Verified.RootDigest).
	RootDigest string `json:"root_digest"`
	Files      int    `json:"files"`
	// Signer is "sha256:" + the hex SHA-256 of the signer's public key
	// (PKIX DER), or the keyless certificate identity.
	Signer string `json:"signer"`
	// Verdict is the scan verdict of the whole directory.
	Verdict  Verdict `json:"verdict"`
	Source   string  `json:"source"`
	Licence  string  `json:"licence"`
	Approved bool    `json:"approved"`
	// UpdatedAt is when the entry was last written.
	UpdatedAt time.Time `json:"updated_at"`
}

// ErrNotApproved is returned (wrapped) by Registry.Approved for a model
// that is missing, revoked or did not pass its checks.
var ErrNotApproved = errors.New("model is not approved in the model registry")

// Registry stores registrations in Warden's database. Every call runs
// under the store's deadline (store.timeout): a stalled database gives
// an error matching store.ErrTimeout, which is not ErrNotApproved.
type Registry struct {
	db *store.DB
}

// NewRegistry returns the registry in db.
func NewRegistry(db *store.DB) *Registry { return &Registry{db: db} }

// KeyFingerprint names a public key as "sha256:<hex of its PKIX DER>".
func KeyFingerprint(pub any) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

func (r *Registry) ph(i int) string {
	if r.db.Engine() == store.SQLite {
		return fmt.Sprintf("?%d", i)
	}
	return fmt.Sprintf("$%d", i)
}

// Put records (or replaces) a registration.
func (r *Registry) Put(ctx context.Context, reg Registration) error {
	if reg.Name == "" {
		return errors.New("modelguard: registry: model name is empty")
	}
	approved := 0
	if reg.Approved {
		approved = 1
	}
	q := fmt.Sprintf(`INSERT INTO models (name, root_digest, files, signer, verdict, source, licence, approved, updated_at)
		VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
		ON CONFLICT (name) DO UPDATE SET root_digest = excluded.root_digest, files = excluded.files, signer = excluded.signer,
		verdict = excluded.verdict, source = excluded.source, licence = excluded.licence, approved = excluded.approved,
		updated_at = excluded.updated_at`, r.ph(1), r.ph(2), r.ph(3), r.ph(4), r.ph(5), r.ph(6), r.ph(7), r.ph(8), r.ph(9))
	return r.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, q, reg.Name, reg.RootDigest, reg.Files, reg.Signer, string(reg.Verdict), reg.Source, reg.Licence, approved, time.Now().Unix())
		return err
	})
}

// Get returns a model's registration, or ErrNotApproved when it has none.
func (r *Registry) Get(ctx context.Context, name string) (_ Registration, err error) {
	ctx, end := r.db.Bound(ctx)
	defer end(&err)
	row := r.db.Read().QueryRowContext(ctx, `SELECT name, root_digest, files, signer, verdict, source, licence, approved, updated_at FROM models WHERE name = `+r.ph(1), name)
	reg, err := scanRegistration(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Registration{}, fmt.Errorf("%w: %q is not registered", ErrNotApproved, name)
	}
	return reg, err
}

// List returns every registration by name.
func (r *Registry) List(ctx context.Context) (_ []Registration, err error) {
	ctx, end := r.db.Bound(ctx)
	defer end(&err)
	rows, err := r.db.Read().QueryContext(ctx, `SELECT name, root_digest, files, signer, verdict, source, licence, approved, updated_at FROM models ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Registration
	for rows.Next() {
		reg, err := scanRegistration(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, reg)
	}
	return out, rows.Err()
}

// Revoke withdraws a model's approval, keeping its record.
func (r *Registry) Revoke(ctx context.Context, name string) error {
	var n int64
	err := r.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE models SET approved = 0, updated_at = `+r.ph(1)+` WHERE name = `+r.ph(2), time.Now().Unix(), name)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err == nil && n == 0 {
		return fmt.Errorf("%w: %q is not registered", ErrNotApproved, name)
	}
	return err
}

// write runs fn in one write transaction under the store's deadline.
func (r *Registry) write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) (err error) {
	ctx, end := r.db.Bound(ctx)
	defer end(&err)
	return r.db.Write(ctx, func(tx *sql.Tx) error { return fn(ctx, tx) })
}

// Approved returns nil when name is registered, approved and scanned
// clean; otherwise an error wrapping ErrNotApproved that says why.
func (r *Registry) Approved(ctx context.Context, name string) error {
	reg, err := r.Get(ctx, name)
	if err != nil {
		return err
	}
	switch {
	case !reg.Approved:
		return fmt.Errorf("%w: %q is registered but not approved", ErrNotApproved, name)
	case reg.Verdict != VerdictClean:
		return fmt.Errorf("%w: %q scanned %s", ErrNotApproved, name, reg.Verdict)
	}
	return nil
}

type rowScanner interface{ Scan(dest ...any) error }

func scanRegistration(row rowScanner) (Registration, error) {
	var reg Registration
	var verdict string
	var approved int
	var updated int64
	if err := row.Scan(&reg.Name, &reg.RootDigest, &reg.Files, &reg.Signer, &verdict, &reg.Source, &reg.Licence, &approved, &updated); err != nil {
		return Registration{}, err
	}
	reg.Verdict = Verdict(verdict)
	reg.Approved = approved == 1
	reg.UpdatedAt = time.Unix(updated, 0).UTC()
	return reg, nil
}

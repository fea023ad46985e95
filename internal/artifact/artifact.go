// Package artifact signs and verifies Warden's release artifacts (the
// static binary, its SBOM, the container image) with the same Sigstore
// bundle format and keys that `warden model sign` uses.
//
// A signature is a Sigstore bundle (modelguard.SignEnvelope) whose DSSE
// envelope holds an in-toto Statement v1 naming one subject by SHA-256:
//
//	{"_type": "https://in-toto.io/Statement/v1",
//	 "subject": [{"name": <file name or image name>, "digest": {"sha256": <hex>}}],
//	 "predicateType": "https://sigstore.dev/cosign/sign/v1",
//	 "predicate": {}}
//
// This is the statement cosign (v3, new bundle format) signs for a
// container image, where the digest is the image manifest's; for a file it
// is the file's SHA-256. Verification checks the signature with the public
// key, the statement's shape, and that the subject digest is the digest of
// the artifact in hand; the subject name is reported, not trusted.
package artifact

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/wardenhq/warden/modelguard"
)

// PredicateType is the in-toto predicate type of an artifact signature:
// cosign's image-signature predicate (an empty predicate: the signer
// vouches for the subject).
const PredicateType = "https://sigstore.dev/cosign/sign/v1"

// ErrDigestMismatch means the signature is valid but signs another
// artifact: the artifact in hand was changed or is not the one signed.
var ErrDigestMismatch = errors.New("artifact: the artifact's SHA-256 is not the signed digest")

// Subject is what a signature names: an artifact by name and SHA-256.
type Subject struct {
	// Name is the file's base name or the image's name.
	Name string
	// SHA256 is the artifact's digest (for an image, its manifest's).
	SHA256 [sha256.Size]byte
}

// Digest returns the subject digest as "sha256:<hex>".
func (s Subject) Digest() string { return "sha256:" + hex.EncodeToString(s.SHA256[:]) }

// FileSubject hashes the file at path and names it by its base name.
func FileSubject(ctx context.Context, path string) (Subject, error) {
	f, err := os.Open(path)
	if err != nil {
		return Subject{}, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, f}); err != nil {
		return Subject{}, err
	}
	s := Subject{Name: filepath.Base(path)}
	h.Sum(s.SHA256[:0])
	return s, nil
}

// ctxReader stops a copy when its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// ParseDigest reads a digest written as "sha256:<64 hex digits>".
func ParseDigest(s string) ([sha256.Size]byte, error) {
	var d [sha256.Size]byte
	h, ok := strings.CutPrefix(s, "sha256:")
	if !ok {
		return d, errors.New("artifact: digest must start with \"sha256:\"")
	}
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != sha256.Size {
		return d, errors.New("artifact: digest must be sha256: and 64 hex digits")
	}
	copy(d[:], b)
	return d, nil
}

type statement struct {
	Type          string          `json:"_type"`
	Subject       []subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

type subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Sign returns a Sigstore bundle in which key signs s.
func Sign(s Subject, key crypto.Signer) ([]byte, error) {
	if s.Name == "" {
		return nil, errors.New("artifact: subject needs a name")
	}
	payload, err := json.Marshal(statement{
		Type:          modelguard.StatementType,
		Subject:       []subject{{Name: s.Name, Digest: map[string]string{"sha256": hex.EncodeToString(s.SHA256[:])}}},
		PredicateType: PredicateType,
		Predicate:     json.RawMessage("{}"),
	})
	if err != nil {
		return nil, err
	}
	return modelguard.SignEnvelope(modelguard.InTotoPayloadType, payload, key)
}

// Verify checks that bundle is signed by pub and signs the artifact whose
// SHA-256 is digest, and returns the signed subject. It returns
// modelguard.ErrBadSignature, modelguard.ErrKeyless,
// modelguard.ErrMalformedBundle (wrapped) or ErrDigestMismatch.
func Verify(bundle []byte, pub crypto.PublicKey, digest [sha256.Size]byte) (Subject, error) {
	payloadType, payload, err := modelguard.VerifyEnvelope(bundle, pub)
	if err != nil {
		return Subject{}, err
	}
	if payloadType != modelguard.InTotoPayloadType {
		return Subject{}, fmt.Errorf("%w: payloadType is not in-toto JSON", modelguard.ErrMalformedBundle)
	}
	var st statement
	if err := json.Unmarshal(payload, &st); err != nil {
		return Subject{}, fmt.Errorf("%w: payload is not an in-toto statement", modelguard.ErrMalformedBundle)
	}
	if st.Type != modelguard.StatementType || st.PredicateType != PredicateType {
		return Subject{}, fmt.Errorf("%w: statement or predicate type is not an artifact signature", modelguard.ErrMalformedBundle)
	}
	if len(st.Subject) != 1 {
		return Subject{}, fmt.Errorf("%w: want exactly one subject", modelguard.ErrMalformedBundle)
	}
	signed, err := ParseDigest("sha256:" + st.Subject[0].Digest["sha256"])
	if err != nil {
		return Subject{}, fmt.Errorf("%w: subject has no sha256 digest", modelguard.ErrMalformedBundle)
	}
	if signed != digest {
		return Subject{}, ErrDigestMismatch
	}
	return Subject{Name: st.Subject[0].Name, SHA256: signed}, nil
}

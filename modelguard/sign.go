package modelguard

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Signatures follow the OpenSSF model-signing format (v1.0, as produced by
// github.com/sigstore/model-transparency with a private key): a Sigstore
// bundle (JSON, protobuf field names) whose verification material is a
// public-key hint (hex SHA-256 of the PEM public key) and whose content is
// a DSSE envelope. The envelope's payload is an in-toto Statement v1:
//
//	{"_type": "https://in-toto.io/Statement/v1",
//	 "subject": [{"name": <model dir name>, "digest": {"sha256": <root>}}],
//	 "predicateType": "https://model_signing/signature/v1.0",
//	 "predicate": {"serialization": {"method": "files", "hash_type": "sha256",
//	                                 "allow_symlinks": false, "ignore_paths": [...]},
//	               "resources": [{"name": path, "algorithm": "sha256", "digest": hex}, ...]}}
//
// where root is SHA-256 over the concatenated raw resource digests in order.
// The DSSE signature is over PAE(payloadType, payload) (DSSE protocol v1):
//
//	"DSSEv1" SP len(type) SP type SP len(body) SP body
//
// ECDSA signatures are ASN.1 DER with SHA-256 (P-256), SHA-384 (P-384) or
// SHA-512 (P-521); Ed25519 signs the PAE bytes directly.
//
// This is written by hand rather than with sigstore-go: key-based bundles
// need only PAE and a signature check, while sigstore-go would add TUF,
// Rekor and protobuf-specs to every user of this package. Keyless
// (certificate) bundles need those: Verify refuses them with ErrKeyless,
// and the opt-in package modelguard/keyless checks them with sigstore-go
// and then calls VerifyPayload.

// Media and predicate types of the format.
const (
	BundleMediaType   = "application/vnd.dev.sigstore.bundle.v0.3+json"
	InTotoPayloadType = "application/vnd.in-toto+json"
	StatementType     = "https://in-toto.io/Statement/v1"
	PredicateType     = "https://model_signing/signature/v1.0"
)

var acceptedBundleTypes = map[string]bool{
	"application/vnd.dev.sigstore.bundle+json;version=0.1": true,
	"application/vnd.dev.sigstore.bundle+json;version=0.2": true,
	"application/vnd.dev.sigstore.bundle+json;version=0.3": true,
	"application/vnd.dev.sigstore.bundle.v0.3+json":        true,
}

// Errors returned by Verify.
var (
	// ErrBadSignature means the bundle's signature does not verify with the key.
	ErrBadSignature = errors.New("modelguard: signature does not verify with the given key")
	// ErrKeyless means the bundle is signed with a certificate (Sigstore
	// keyless): verify it with package modelguard/keyless instead.
	ErrKeyless = errors.New("modelguard: bundle is signed with a certificate (keyless), not a key: verify it against a trusted root")
	// ErrMalformedBundle means the signature file is not a model-signing bundle.
	ErrMalformedBundle = errors.New("modelguard: malformed signature bundle")
)

// MismatchError lists how a directory differs from its signed manifest.
type MismatchError struct {
	Changed, Added, Removed []string
}

func (e *MismatchError) Error() string {
	var parts []string
	if len(e.Changed) > 0 {
		parts = append(parts, fmt.Sprintf("%d changed (%s)", len(e.Changed), strings.Join(e.Changed, ", ")))
	}
	if len(e.Added) > 0 {
		parts = append(parts, fmt.Sprintf("%d added (%s)", len(e.Added), strings.Join(e.Added, ", ")))
	}
	if len(e.Removed) > 0 {
		parts = append(parts, fmt.Sprintf("%d removed (%s)", len(e.Removed), strings.Join(e.Removed, ", ")))
	}
	return "modelguard: model does not match its signature: " + strings.Join(parts, "; ")
}

// GenerateKey makes an ECDSA P-256 key pair (the curve the model-signing
// reference tool and Sigstore use) and returns the private key as PKCS#8
// PEM and the public key as PKIX PEM.
func GenerateKey() (privPEM, pubPEM []byte, err error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, nil, err
	}
	pub, err := marshalPublicPEM(&k.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), pub, nil
}

func marshalPublicPEM(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePrivateKey reads a PEM private key (PKCS#8, or SEC 1 "EC PRIVATE
// KEY"): ECDSA P-256/384/521 or Ed25519. Errors never include key bytes.
func ParsePrivateKey(pemBytes []byte) (crypto.Signer, error) {
	b, _ := pem.Decode(pemBytes)
	if b == nil {
		return nil, errors.New("modelguard: private key is not PEM")
	}
	var k any
	var err error
	switch b.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(b.Bytes)
	default:
		return nil, errors.New("modelguard: unsupported private key PEM type")
	}
	if err != nil {
		return nil, errors.New("modelguard: malformed private key")
	}
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		if _, err := ecdsaHash(&k.PublicKey); err != nil {
			return nil, err
		}
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	}
	return nil, errors.New("modelguard: private key must be ECDSA or Ed25519")
}

// ParsePublicKey reads a PEM (PKIX) public key: ECDSA or Ed25519.
func ParsePublicKey(pemBytes []byte) (crypto.PublicKey, error) {
	b, _ := pem.Decode(pemBytes)
	if b == nil || b.Type != "PUBLIC KEY" {
		return nil, errors.New("modelguard: public key is not a PEM PUBLIC KEY")
	}
	k, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		return nil, errors.New("modelguard: malformed public key")
	}
	switch k := k.(type) {
	case *ecdsa.PublicKey:
		if _, err := ecdsaHash(k); err != nil {
			return nil, err
		}
		return k, nil
	case ed25519.PublicKey:
		return k, nil
	}
	return nil, errors.New("modelguard: public key must be ECDSA or Ed25519")
}

func ecdsaHash(k *ecdsa.PublicKey) (crypto.Hash, error) {
	switch k.Curve {
	case elliptic.P256():
		return crypto.SHA256, nil
	case elliptic.P384():
		return crypto.SHA384, nil
	case elliptic.P521():
		return crypto.SHA512, nil
	}
	return 0, errors.New("modelguard: ECDSA curve must be P-256, P-384 or P-521")
}

// pae is DSSE's pre-authentication encoding.
func pae(payloadType string, payload []byte) []byte {
	var b bytes.Buffer
	b.WriteString("DSSEv1 ")
	b.WriteString(strconv.Itoa(len(payloadType)))
	b.WriteByte(' ')
	b.WriteString(payloadType)
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(len(payload)))
	b.WriteByte(' ')
	b.Write(payload)
	return b.Bytes()
}

func digestFor(h crypto.Hash, msg []byte) []byte {
	switch h {
	case crypto.SHA384:
		d := sha512.Sum384(msg)
		return d[:]
	case crypto.SHA512:
		d := sha512.Sum512(msg)
		return d[:]
	}
	d := sha256.Sum256(msg)
	return d[:]
}

// Wire types (Sigstore bundle and in-toto, protobuf JSON field names).
type (
	bundleJSON struct {
		MediaType            string               `json:"mediaType"`
		VerificationMaterial verificationMaterial `json:"verificationMaterial"`
		DSSEEnvelope         *envelopeJSON        `json:"dsseEnvelope,omitempty"`
		MessageSignature     json.RawMessage      `json:"messageSignature,omitempty"`
	}
	verificationMaterial struct {
		PublicKey            *publicKeyID    `json:"publicKey,omitempty"`
		Certificate          json.RawMessage `json:"certificate,omitempty"`
		X509CertificateChain json.RawMessage `json:"x509CertificateChain,omitempty"`
		TlogEntries          json.RawMessage `json:"tlogEntries,omitempty"`
		TimestampData        json.RawMessage `json:"timestampVerificationData,omitempty"`
	}
	publicKeyID struct {
		Hint string `json:"hint,omitempty"`
	}
	envelopeJSON struct {
		Payload     []byte    `json:"payload"`
		PayloadType string    `json:"payloadType"`
		Signatures  []sigJSON `json:"signatures"`
	}
	sigJSON struct {
		Sig   []byte `json:"sig"`
		KeyID string `json:"keyid,omitempty"`
	}
	statementJSON struct {
		Type          string        `json:"_type"`
		Subject       []subjectJSON `json:"subject"`
		PredicateType string        `json:"predicateType"`
		Predicate     predicateJSON `json:"predicate"`
	}
	subjectJSON struct {
		Name   string            `json:"name"`
		Digest map[string]string `json:"digest"`
	}
	predicateJSON struct {
		Serialization serializationJSON `json:"serialization"`
		Resources     []resourceJSON    `json:"resources"`
	}
	serializationJSON struct {
		Method        string   `json:"method"`
		HashType      string   `json:"hash_type"`
		AllowSymlinks bool     `json:"allow_symlinks"`
		IgnorePaths   []string `json:"ignore_paths,omitempty"`
	}
	resourceJSON struct {
		Name      string `json:"name"`
		Algorithm string `json:"algorithm"`
		Digest    string `json:"digest"`
	}
)

// Sign hashes every file of dir (except model.sig) and returns a
// model-signing bundle signed with key. The caller writes it to
// dir/model.sig.
func Sign(ctx context.Context, dir string, key crypto.Signer) ([]byte, error) {
	ignore := []string{SignatureFile}
	rs, err := HashDir(ctx, dir, ignore)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	st := statementJSON{
		Type:          StatementType,
		Subject:       []subjectJSON{{Name: filepath.Base(abs), Digest: map[string]string{"sha256": rootDigest(rs)}}},
		PredicateType: PredicateType,
		Predicate: predicateJSON{
			Serialization: serializationJSON{Method: "files", HashType: "sha256", IgnorePaths: ignore},
			Resources:     make([]resourceJSON, 0, len(rs)),
		},
	}
	for _, r := range rs {
		st.Predicate.Resources = append(st.Predicate.Resources, resourceJSON{Name: r.Name, Algorithm: "sha256", Digest: hex.EncodeToString(r.SHA256[:])})
	}
	payload, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	return SignEnvelope(InTotoPayloadType, payload, key)
}

// SignEnvelope signs payload as a DSSE envelope of payloadType and returns
// it in a Sigstore bundle whose verification material is the key's
// public-key hint: the format Sign writes, for any payload (warden
// artifact sign uses it for in-toto statements about binaries, SBOMs and
// image digests).
func SignEnvelope(payloadType string, payload []byte, key crypto.Signer) ([]byte, error) {
	msg := pae(payloadType, payload)
	var sig []byte
	var err error
	switch k := key.Public().(type) {
	case *ecdsa.PublicKey:
		h, err := ecdsaHash(k)
		if err != nil {
			return nil, err
		}
		sig, err = key.Sign(rand.Reader, digestFor(h, msg), h)
		if err != nil {
			return nil, err
		}
	case ed25519.PublicKey:
		sig, err = key.Sign(rand.Reader, msg, crypto.Hash(0))
		if err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("modelguard: key must be ECDSA or Ed25519")
	}
	pubPEM, err := marshalPublicPEM(key.Public())
	if err != nil {
		return nil, err
	}
	hint := sha256.Sum256(pubPEM)
	b := bundleJSON{
		MediaType:            BundleMediaType,
		VerificationMaterial: verificationMaterial{PublicKey: &publicKeyID{Hint: hex.EncodeToString(hint[:])}},
		DSSEEnvelope:         &envelopeJSON{Payload: payload, PayloadType: payloadType, Signatures: []sigJSON{{Sig: sig}}},
	}
	return json.MarshalIndent(b, "", "  ")
}

// VerifyEnvelope checks the DSSE signature of a key-signed bundle with pub
// and returns the signed payload type and payload, which the caller must
// still interpret. It returns ErrBadSignature, ErrKeyless or
// ErrMalformedBundle (wrapped).
func VerifyEnvelope(bundle []byte, pub crypto.PublicKey) (payloadType string, payload []byte, err error) {
	return verifyBundle(bundle, pub)
}

// Verified describes a directory whose signature and content check out.
type Verified struct {
	// Model is the subject name recorded at signing.
	Model string
	// Files is the number of files covered.
	Files int
	// RootDigest is the hex SHA-256 over all file digests.
	RootDigest string
}

// Verify checks bundle (the content of model.sig) against pub and then
// every file of dir against the signed manifest. It returns
// ErrBadSignature, ErrKeyless, ErrMalformedBundle (wrapped) or a
// *MismatchError naming changed, added and removed files.
func Verify(ctx context.Context, dir string, bundle []byte, pub crypto.PublicKey) (*Verified, error) {
	payloadType, payload, err := verifyBundle(bundle, pub)
	if err != nil {
		return nil, err
	}
	return VerifyPayload(ctx, dir, payloadType, payload)
}

// VerifyPayload checks dir against a DSSE payload whose signature the
// caller has already verified (for example with sigstore-go, for keyless
// bundles): the payload must be an in-toto statement with the
// model-signing predicate, and every file of dir must match it. It returns
// ErrMalformedBundle (wrapped) or a *MismatchError.
func VerifyPayload(ctx context.Context, dir, payloadType string, payload []byte) (*Verified, error) {
	if payloadType != InTotoPayloadType {
		return nil, fmt.Errorf("%w: payloadType is not in-toto JSON", ErrMalformedBundle)
	}
	var st statementJSON
	if err := json.Unmarshal(payload, &st); err != nil {
		return nil, fmt.Errorf("%w: payload is not an in-toto statement", ErrMalformedBundle)
	}
	if st.Type != StatementType || st.PredicateType != PredicateType {
		return nil, fmt.Errorf("%w: statement or predicate type not supported", ErrMalformedBundle)
	}
	ser := st.Predicate.Serialization
	if ser.Method != "files" || ser.HashType != "sha256" {
		return nil, fmt.Errorf("%w: serialization method must be files with sha256", ErrMalformedBundle)
	}
	signed := make(map[string]string, len(st.Predicate.Resources))
	var rs []Resource
	for i, r := range st.Predicate.Resources {
		d, err := hex.DecodeString(r.Digest)
		if err != nil || len(d) != 32 || r.Algorithm != "sha256" {
			return nil, fmt.Errorf("%w: resource %d has no sha256 digest", ErrMalformedBundle, i)
		}
		if _, dup := signed[r.Name]; dup {
			return nil, fmt.Errorf("%w: resource %d is listed twice", ErrMalformedBundle, i)
		}
		signed[r.Name] = r.Digest
		var res Resource
		res.Name = r.Name
		copy(res.SHA256[:], d)
		rs = append(rs, res)
	}
	if len(st.Subject) != 1 || st.Subject[0].Digest["sha256"] != rootDigest(rs) {
		return nil, fmt.Errorf("%w: subject digest does not match the resources", ErrMalformedBundle)
	}
	ignore := append([]string{SignatureFile}, ser.IgnorePaths...)
	actual, err := HashDir(ctx, dir, ignore)
	if err != nil {
		return nil, err
	}
	var mm MismatchError
	seen := make(map[string]bool, len(actual))
	for _, a := range actual {
		seen[a.Name] = true
		want, ok := signed[a.Name]
		switch {
		case !ok:
			mm.Added = append(mm.Added, a.Name)
		case want != hex.EncodeToString(a.SHA256[:]):
			mm.Changed = append(mm.Changed, a.Name)
		}
	}
	for name := range signed {
		if !seen[name] {
			mm.Removed = append(mm.Removed, name)
		}
	}
	sort.Strings(mm.Removed)
	if len(mm.Changed)+len(mm.Added)+len(mm.Removed) > 0 {
		return nil, &mm
	}
	return &Verified{Model: st.Subject[0].Name, Files: len(actual), RootDigest: rootDigest(rs)}, nil
}

// verifyBundle parses the bundle, checks the DSSE signature with pub and
// returns the signed payload type and payload.
func verifyBundle(data []byte, pub crypto.PublicKey) (string, []byte, error) {
	var b bundleJSON
	if err := json.Unmarshal(data, &b); err != nil {
		return "", nil, fmt.Errorf("%w: not JSON of the bundle shape", ErrMalformedBundle)
	}
	if !acceptedBundleTypes[b.MediaType] {
		return "", nil, fmt.Errorf("%w: unknown mediaType", ErrMalformedBundle)
	}
	vm := b.VerificationMaterial
	if len(vm.Certificate) > 0 || len(vm.X509CertificateChain) > 0 {
		return "", nil, ErrKeyless
	}
	if b.DSSEEnvelope == nil {
		return "", nil, fmt.Errorf("%w: no DSSE envelope", ErrMalformedBundle)
	}
	env := b.DSSEEnvelope
	if len(env.Signatures) != 1 {
		return "", nil, fmt.Errorf("%w: want exactly one signature", ErrMalformedBundle)
	}
	pubPEM, err := marshalPublicPEM(pub)
	if err != nil {
		return "", nil, err
	}
	if vm.PublicKey != nil && vm.PublicKey.Hint != "" {
		h := sha256.Sum256(pubPEM)
		if vm.PublicKey.Hint != hex.EncodeToString(h[:]) {
			return "", nil, fmt.Errorf("%w (the bundle names another key)", ErrBadSignature)
		}
	}
	msg := pae(env.PayloadType, env.Payload)
	sig := env.Signatures[0].Sig
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		h, err := ecdsaHash(k)
		if err != nil {
			return "", nil, err
		}
		if !ecdsa.VerifyASN1(k, digestFor(h, msg), sig) {
			return "", nil, ErrBadSignature
		}
	case ed25519.PublicKey:
		if !ed25519.Verify(k, msg, sig) {
			return "", nil, ErrBadSignature
		}
	default:
		return "", nil, errors.New("modelguard: key must be ECDSA or Ed25519")
	}
	return env.PayloadType, env.Payload, nil
}

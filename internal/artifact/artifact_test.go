package artifact

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardenhq/warden/modelguard"
)

func newKey(t *testing.T) (crypto.Signer, crypto.PublicKey) {
	t.Helper()
	privPEM, pubPEM, err := modelguard.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	priv, err := modelguard.ParsePrivateKey(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := modelguard.ParsePublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

func writeFile(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "warden")
	if err := os.WriteFile(p, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSignVerifyFile(t *testing.T) {
	ctx := context.Background()
	priv, pub := newKey(t)
	data := []byte("\x7fELF a static binary, say")
	s, err := FileSubject(ctx, writeFile(t, data))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "warden" || s.SHA256 != sha256.Sum256(data) {
		t.Fatalf("subject = %+v", s)
	}
	bundle, err := Sign(s, priv)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Verify(bundle, pub, sha256.Sum256(data))
	if err != nil {
		t.Fatal(err)
	}
	if got != s {
		t.Fatalf("verified %+v, signed %+v", got, s)
	}
	var b struct {
		MediaType string `json:"mediaType"`
	}
	if err := json.Unmarshal(bundle, &b); err != nil || b.MediaType != modelguard.BundleMediaType {
		t.Fatalf("bundle mediaType = %q, %v", b.MediaType, err)
	}
}

// TestTamperedArtifactFails flips one bit at a time of the artifact: every
// change must fail verification with ErrDigestMismatch.
func TestTamperedArtifactFails(t *testing.T) {
	ctx := context.Background()
	priv, pub := newKey(t)
	data := []byte("sbom: {components: [...]}")
	s, err := FileSubject(ctx, writeFile(t, data))
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := Sign(s, priv)
	if err != nil {
		t.Fatal(err)
	}
	for i := range data {
		bad := append([]byte(nil), data...)
		bad[i] ^= 1 << (i % 8)
		s2, err := FileSubject(ctx, writeFile(t, bad))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Verify(bundle, pub, s2.SHA256); !errors.Is(err, ErrDigestMismatch) {
			t.Fatalf("byte %d flipped: err = %v, want ErrDigestMismatch", i, err)
		}
	}
}

// TestForgedStatementFails flips bits of the signed payload (an attacker
// rewriting the subject digest to that of their own binary): the DSSE
// signature must fail.
func TestForgedStatementFails(t *testing.T) {
	priv, pub := newKey(t)
	d := sha256.Sum256([]byte("image manifest"))
	bundle, err := Sign(Subject{Name: "warden", SHA256: d}, priv)
	if err != nil {
		t.Fatal(err)
	}
	var b map[string]any
	if err := json.Unmarshal(bundle, &b); err != nil {
		t.Fatal(err)
	}
	env := b["dsseEnvelope"].(map[string]any)
	for _, field := range []string{"payload", "sig"} {
		target := env
		if field == "sig" {
			target = env["signatures"].([]any)[0].(map[string]any)
		}
		orig := target[field].(string)
		for i := 0; i < len(orig); i += 7 {
			mut := []byte(orig)
			if mut[i] == 'A' {
				mut[i] = 'B'
			} else {
				mut[i] = 'A'
			}
			target[field] = string(mut)
			forged, _ := json.Marshal(b)
			if _, err := Verify(forged, pub, d); err == nil {
				t.Fatalf("%s changed at %d: verified", field, i)
			}
		}
		target[field] = orig
	}
}

func TestOtherKeyFails(t *testing.T) {
	priv, _ := newKey(t)
	_, otherPub := newKey(t)
	d := sha256.Sum256([]byte("x"))
	bundle, err := Sign(Subject{Name: "x", SHA256: d}, priv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(bundle, otherPub, d); !errors.Is(err, modelguard.ErrBadSignature) {
		t.Fatalf("err = %v, want ErrBadSignature", err)
	}
}

func TestEd25519Key(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256([]byte("x"))
	bundle, err := Sign(Subject{Name: "x", SHA256: d}, priv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(bundle, pub, d); err != nil {
		t.Fatal(err)
	}
}

// TestModelSignatureIsNotAnArtifactSignature: a model.sig, validly signed
// by the same key, must not pass as a signature of a file, and an artifact
// signature must not pass as a model signature (the predicate types differ).
func TestModelSignatureIsNotAnArtifactSignature(t *testing.T) {
	ctx := context.Background()
	priv, pub := newKey(t)
	dir := t.TempDir()
	data := []byte("weights")
	if err := os.WriteFile(filepath.Join(dir, "model.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	modelSig, err := modelguard.Sign(ctx, dir, priv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(modelSig, pub, sha256.Sum256(data)); !errors.Is(err, modelguard.ErrMalformedBundle) {
		t.Fatalf("model.sig as artifact signature: err = %v, want ErrMalformedBundle", err)
	}
	s, err := FileSubject(ctx, filepath.Join(dir, "model.bin"))
	if err != nil {
		t.Fatal(err)
	}
	artSig, err := Sign(s, priv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := modelguard.Verify(ctx, dir, artSig, pub); !errors.Is(err, modelguard.ErrMalformedBundle) {
		t.Fatalf("artifact signature as model.sig: err = %v, want ErrMalformedBundle", err)
	}
}

func TestParseDigest(t *testing.T) {
	good := "sha256:" + strings.Repeat("0123456789abcdef", 4)
	if _, err := ParseDigest(good); err != nil {
		t.Fatalf("%s: %v", good, err)
	}
	for _, bad := range []string{"", "sha256:", "sha512:" + good[7:], good[7:], good + "00", good[:len(good)-1] + "g"} {
		if _, err := ParseDigest(bad); err == nil {
			t.Errorf("ParseDigest(%q) accepted", bad)
		}
	}
}

package modelguard

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestPAEKnownAnswer(t *testing.T) {
	// Example from the DSSE protocol specification.
	got := string(pae("http://example.com/HelloWorld", []byte("hello world")))
	if want := "DSSEv1 29 http://example.com/HelloWorld 11 hello world"; got != want {
		t.Fatalf("pae = %q, want %q", got, want)
	}
}

func writeModel(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tiny-model")
	files := map[string]string{
		"model.safetensors":   "weights-weights-weights",
		"config.json":         `{"a":1}`,
		"tokenizer/vocab.txt": "a\nb\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func newKeys(t *testing.T) (crypto.Signer, crypto.PublicKey) {
	t.Helper()
	privPEM, pubPEM, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ParsePrivateKey(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

func signDir(t *testing.T, dir string, key crypto.Signer) []byte {
	t.Helper()
	b, err := Sign(context.Background(), dir, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, SignatureFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSignVerify(t *testing.T) {
	priv, pub := newKeys(t)
	_, otherPub := newKeys(t)
	tests := []struct {
		name    string
		mutate  func(t *testing.T, dir string)
		key     crypto.PublicKey
		wantErr error
		want    *MismatchError
	}{
		{name: "unchanged", mutate: func(*testing.T, string) {}, key: pub},
		{name: "one byte of a weight file", key: pub, mutate: func(t *testing.T, dir string) {
			p := filepath.Join(dir, "model.safetensors")
			b, _ := os.ReadFile(p)
			b[3] ^= 1
			os.WriteFile(p, b, 0o644)
		}, want: &MismatchError{Changed: []string{"model.safetensors"}}},
		{name: "added file", key: pub, mutate: func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "extra.pkl"), []byte("x"), 0o644)
		}, want: &MismatchError{Added: []string{"extra.pkl"}}},
		{name: "removed file", key: pub, mutate: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "config.json"))
		}, want: &MismatchError{Removed: []string{"config.json"}}},
		{name: "renamed file", key: pub, mutate: func(t *testing.T, dir string) {
			os.Rename(filepath.Join(dir, "tokenizer", "vocab.txt"), filepath.Join(dir, "tokenizer", "vocab2.txt"))
		}, want: &MismatchError{Added: []string{"tokenizer/vocab2.txt"}, Removed: []string{"tokenizer/vocab.txt"}}},
		{name: "other key", mutate: func(*testing.T, string) {}, key: otherPub, wantErr: ErrBadSignature},
		{name: "tampered payload", key: pub, mutate: func(t *testing.T, dir string) {
			p := filepath.Join(dir, SignatureFile)
			var b bundleJSON
			raw, _ := os.ReadFile(p)
			if err := json.Unmarshal(raw, &b); err != nil {
				t.Fatal(err)
			}
			b.DSSEEnvelope.Payload[len(b.DSSEEnvelope.Payload)-3] ^= 1
			raw, _ = json.Marshal(b)
			os.WriteFile(p, raw, 0o644)
		}, wantErr: ErrBadSignature},
		{name: "certificate bundle", key: pub, mutate: func(t *testing.T, dir string) {
			p := filepath.Join(dir, SignatureFile)
			var b map[string]any
			raw, _ := os.ReadFile(p)
			json.Unmarshal(raw, &b)
			b["verificationMaterial"] = map[string]any{"certificate": map[string]any{"rawBytes": "AAAA"}}
			raw, _ = json.Marshal(b)
			os.WriteFile(p, raw, 0o644)
		}, wantErr: ErrKeyless},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeModel(t)
			signDir(t, dir, priv)
			tc.mutate(t, dir)
			bundle, err := os.ReadFile(filepath.Join(dir, SignatureFile))
			if err != nil {
				t.Fatal(err)
			}
			v, err := Verify(context.Background(), dir, bundle, tc.key)
			switch {
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
			case tc.want != nil:
				var mm *MismatchError
				if !errors.As(err, &mm) || !reflect.DeepEqual(mm, tc.want) {
					t.Fatalf("err = %#v, want %#v", err, tc.want)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if v.Model != "tiny-model" || v.Files != 3 {
					t.Fatalf("verified %+v", v)
				}
			}
		})
	}
}

func TestBundleShape(t *testing.T) {
	priv, _ := newKeys(t)
	dir := writeModel(t)
	raw := signDir(t, dir, priv)
	var b bundleJSON
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	var st statementJSON
	if err := json.Unmarshal(b.DSSEEnvelope.Payload, &st); err != nil {
		t.Fatal(err)
	}
	if b.MediaType != BundleMediaType || b.DSSEEnvelope.PayloadType != InTotoPayloadType ||
		st.Type != StatementType || st.PredicateType != PredicateType || len(st.Predicate.Resources) != 3 ||
		st.Predicate.Resources[0].Name != "config.json" || st.Predicate.Resources[2].Name != "tokenizer/vocab.txt" {
		t.Fatalf("bundle %+v statement %+v", b, st)
	}
}

// TestVerifyPythonBundle verifies a bundle written by testdata/gen_signed.py
// (Python's cryptography, the reference tool's layout and ignore list).
func TestVerifyPythonBundle(t *testing.T) {
	pubPEM, err := os.ReadFile("testdata/signed/key.pub")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := os.ReadFile("testdata/signed/model/model.sig")
	if err != nil {
		t.Fatal(err)
	}
	v, err := Verify(context.Background(), "testdata/signed/model", bundle, pub)
	if err != nil {
		t.Fatal(err)
	}
	if v.Model != "model" || v.Files != 3 {
		t.Fatalf("verified %+v", v)
	}
}

package keys_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocloud.dev/secrets"
	_ "gocloud.dev/secrets/localsecrets" // base64key://

	"github.com/wardenhq/warden/keys"
)

// cheap keeps Argon2id fast in tests; production uses RFC 9106 defaults.
var cheap = keys.Argon2Params{Time: 1, MemoryKiB: 8 * 1024, Threads: 1}

var (
	kmsURL      = "base64key://" + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	otherKMSURL = "base64key://" + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
)

func keeper(t *testing.T, url string) keys.Keeper {
	t.Helper()
	k, err := secrets.OpenKeeper(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

// roots is the conformance table: every root must behave the same.
func roots(t *testing.T, dir string) map[string]struct{ good, wrong keys.Root } {
	other := filepath.Join(dir, "other.key")
	if err := os.WriteFile(other, bytes.Repeat([]byte{7}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	return map[string]struct{ good, wrong keys.Root }{
		"passphrase": {keys.Passphrase([]byte("correct horse"), cheap), keys.Passphrase([]byte("wrong horse"), cheap)},
		"key_file":   {keys.KeyFile(filepath.Join(dir, "master.key"), true), keys.KeyFile(other, false)},
		"kms":        {keys.KMS(keeper(t, kmsURL)), keys.KMS(keeper(t, otherKMSURL))},
	}
}

func TestKeyringRoots(t *testing.T) {
	ctx := context.Background()
	for name, r := range roots(t, t.TempDir()) {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keyring.json")
			if _, err := keys.Open(ctx, keys.Options{Path: path, Root: r.good}); !errors.Is(err, keys.ErrNoKeyring) {
				t.Fatalf("open missing keyring: %v, want ErrNoKeyring", err)
			}
			k, err := keys.Open(ctx, keys.Options{Path: path, Root: r.good, Create: true})
			if err != nil {
				t.Fatal(err)
			}
			if !k.Created() || k.Current() != 1 {
				t.Fatalf("created=%v current=%d", k.Created(), k.Current())
			}
			fi, _ := os.Stat(path)
			if fi.Mode().Perm() != 0o600 {
				t.Fatalf("keyring mode %04o", fi.Mode().Perm())
			}
			dek := bytes.Repeat([]byte{0x5a}, 32)
			ad := keys.AAD{Tenant: "acme", Purpose: "dek.value"}
			w, v, err := k.Wrap(ctx, dek, ad)
			if err != nil || v != 1 {
				t.Fatalf("wrap: v=%d err=%v", v, err)
			}
			// Reopen with the same root.
			k2, err := keys.Open(ctx, keys.Options{Path: path, Root: r.good, Create: true})
			if err != nil {
				t.Fatal(err)
			}
			if k2.Created() {
				t.Fatal("reopen created a new keyring")
			}
			got, err := k2.Unwrap(ctx, w, ad)
			if err != nil || !bytes.Equal(got, dek) {
				t.Fatalf("unwrap after reopen: %v", err)
			}
			if _, err := k2.Unwrap(ctx, w, keys.AAD{Tenant: "globex", Purpose: "dek.value"}); !errors.Is(err, keys.ErrDecrypt) {
				t.Fatalf("unwrap as other tenant: %v", err)
			}
			// The wrong root is refused with a message that says why.
			_, err = keys.Open(ctx, keys.Options{Path: path, Root: r.wrong})
			if err == nil {
				t.Fatal("wrong root opened the keyring")
			}
			if !strings.Contains(err.Error(), "wrong") {
				t.Fatalf("wrong root error does not say so: %v", err)
			}
			raw, _ := os.ReadFile(path)
			if bytes.Contains(raw, dek) || bytes.Contains(raw, []byte("correct horse")) {
				t.Fatal("secret in keyring file")
			}
		})
	}
}

func TestKeyringKindMismatch(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "keyring.json")
	if _, err := keys.Open(ctx, keys.Options{Path: path, Root: keys.Passphrase([]byte("p"), cheap), Create: true}); err != nil {
		t.Fatal(err)
	}
	_, err := keys.Open(ctx, keys.Options{Path: path, Root: keys.KeyFile(filepath.Join(t.TempDir(), "k"), true)})
	if err == nil || !strings.Contains(err.Error(), "protected by a passphrase") {
		t.Fatalf("err = %v", err)
	}
}

func TestKeyFileChecks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	kf := filepath.Join(dir, "master.key")
	path := filepath.Join(dir, "keyring.json")
	k, err := keys.Open(ctx, keys.Options{Path: path, Root: keys.KeyFile(kf, true), Create: true})
	if err != nil {
		t.Fatal(err)
	}
	if k.GeneratedKeyFile() != kf {
		t.Fatalf("GeneratedKeyFile = %q", k.GeneratedKeyFile())
	}
	fi, err := os.Stat(kf)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v mode %v", err, fi.Mode())
	}
	if err := os.Chmod(kf, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = keys.Open(ctx, keys.Options{Path: path, Root: keys.KeyFile(kf, true)})
	if err == nil || !strings.Contains(err.Error(), "mode 0644") {
		t.Fatalf("bad mode: %v", err)
	}
	os.Chmod(kf, 0o600)
	os.Rename(kf, kf+".bak")
	// An existing keyring never gets a fresh key file.
	_, err = keys.Open(ctx, keys.Options{Path: path, Root: keys.KeyFile(kf, true), Create: true})
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing key file: %v", err)
	}
	if _, err := os.Stat(kf); err == nil {
		t.Fatal("a new key file was generated for an existing keyring")
	}
}

func TestRotateRetire(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "keyring.json")
	root := keys.Passphrase([]byte("pw"), cheap)
	a, err := keys.Open(ctx, keys.Options{Path: path, Root: root, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	// b is another process sharing the keyring file.
	b, err := keys.Open(ctx, keys.Options{Path: path, Root: root})
	if err != nil {
		t.Fatal(err)
	}
	ad := keys.AAD{Tenant: "t", Purpose: "dek"}
	dek := keys.NewDataKey()
	w1, v1, _ := a.Wrap(ctx, dek, ad)
	v2, err := a.Rotate(ctx)
	if err != nil || v2 != 2 {
		t.Fatalf("rotate: %d %v", v2, err)
	}
	// b notices the rotation: new wraps use v2, and it opens a's v2 wraps.
	w2, got, err := b.Wrap(ctx, dek, ad)
	if err != nil || got != 2 {
		t.Fatalf("b wrap after rotate: v=%d err=%v", got, err)
	}
	if _, err := a.Unwrap(ctx, w2, ad); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Unwrap(ctx, w1, ad); err != nil {
		t.Fatalf("old version no longer unwraps: %v", err)
	}
	if err := a.Retire(ctx, 2); err == nil {
		t.Fatal("retired the current version")
	}
	if err := a.Retire(ctx, v1); err != nil {
		t.Fatal(err)
	}
	for name, k := range map[string]*keys.Keyring{"a": a, "b": b} {
		if _, err := k.Unwrap(ctx, w1, ad); !errors.Is(err, keys.ErrRetired) {
			t.Fatalf("%s: unwrap retired: %v", name, err)
		}
	}
	vs, err := b.Versions(ctx)
	if err != nil || len(vs) != 2 || vs[0].Retired.IsZero() || !vs[1].Current {
		t.Fatalf("versions = %+v, %v", vs, err)
	}
	if err := a.Retire(ctx, v1); err == nil {
		t.Fatal("retired twice")
	}
	if err := a.Retire(ctx, 9); err == nil {
		t.Fatal("retired an unknown version")
	}
}

func TestDamagedKeyring(t *testing.T) {
	ctx := context.Background()
	root := keys.Passphrase([]byte("pw"), cheap)
	for name, content := range map[string]string{
		"not json":   "{",
		"format":     `{"format": 9}`,
		"no version": `{"format":1,"root":{"kind":"passphrase"},"versions":[{"version":0}]}`,
	} {
		path := filepath.Join(t.TempDir(), "keyring.json")
		os.WriteFile(path, []byte(content), 0o600)
		if _, err := keys.Open(ctx, keys.Options{Path: path, Root: root}); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
}

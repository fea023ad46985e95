package vault

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardenhq/warden/keys"
	"github.com/wardenhq/warden/transform"
)

// TestCanariesNeverRestInTheClear plants values, runs every vault
// operation on them, closes everything and greps every file in the data
// directory (database, -wal, -shm, keyring, key file, lock) for them.
func TestCanariesNeverRestInTheClear(t *testing.T) {
	for _, rootKind := range []string{"passphrase", "key_file"} {
		t.Run(rootKind, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			e := &env{t: t, dsn: "sqlite:" + filepath.Join(dir, "warden.db"), keyring: filepath.Join(dir, "keyring.json")}
			passphrase := "canary-passphrase-7731"
			if rootKind == "passphrase" {
				e.root = keys.Passphrase([]byte(passphrase), cheap)
			} else {
				e.root = keys.KeyFile(filepath.Join(dir, "master.key"), true)
			}
			canaries := map[string]string{
				"EMAIL_ADDRESS": "canary.7731@example.org",
				"US_SSN":        "219-09-9999",
				"CREDIT_CARD":   "4111111111111111",
				"PHONE_NUMBER":  "+1 202 555 7731",
			}
			v := e.open()
			var secrets [][]byte
			for _, tenant := range []string{"acme", "globex", "initech"} {
				tn := v.Tenant(tenant)
				var text string
				for typ, val := range canaries {
					text += mustToken(t, tn, typ, val) + " "
				}
				if got := mustRestore(t, tn, text); !strings.Contains(got, "219-09-9999") {
					t.Fatal("restore failed")
				}
				tk, _, err := v.tenantKeys(ctx, tenant, false, false)
				if err != nil {
					t.Fatal(err)
				}
				secrets = append(secrets, bytes.Clone(tk.index))
			}
			ref := transform.FindTokens(mustToken(t, v.Tenant("globex"), "US_SSN", "219-09-9999"))[0]
			if ok, err := v.Tenant("globex").Forget(ctx, ref); !ok || err != nil {
				t.Fatal("forget failed", err)
			}
			if ok, err := v.Shred(ctx, "initech"); !ok || err != nil {
				t.Fatal("shred failed", err)
			}
			v.db.Close()

			needles := [][]byte{[]byte(passphrase)}
			for _, val := range canaries {
				needles = append(needles, []byte(val))
				// Also as UTF-16 and reversed would be paranoia; the
				// vault only ever writes ciphertext.
			}
			needles = append(needles, secrets...)
			files := 0
			filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				files++
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				for i, n := range needles {
					if bytes.Contains(b, n) {
						t.Errorf("%s contains secret %d", filepath.Base(path), i)
					}
				}
				return nil
			})
			if files < 2 {
				t.Fatalf("only %d files in the data directory", files)
			}
		})
	}
}

// TestIDCollision plants a row that takes a value's 10-byte ID with a
// different MAC, as a real collision would.
func TestIDCollision(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "sqlite:"+filepath.Join(t.TempDir(), "w.db"))
	v := e.open()
	tn := v.Tenant("acme")
	mustToken(t, tn, "PERSON", "somebody") // creates the tenant
	tk, _, _ := v.tenantKeys(ctx, "acme", false, false)
	mac := tk.mac("PERSON", "Zed")
	plant := func(id []byte) {
		other := bytes.Repeat([]byte{0xee}, 32)
		sealed := tk.value.Seal(nil, []byte("Other"), valueAAD("acme", "PERSON", id))
		if _, err := v.db.Read().Exec("INSERT INTO tokens (tenant_id, type, id, mac, value, created_at) VALUES ($1, 'PERSON', $2, $3, $4, 0)",
			tk.id, id, other, sealed); err != nil {
			t.Fatal(err)
		}
	}
	plant(mac[:10])
	tok := mustToken(t, tn, "PERSON", "Zed")
	ref := transform.FindTokens(tok)
	if len(ref) != 1 || len(ref[0].ID) != 16 {
		t.Fatalf("colliding value got %s, want a 16-byte ID", tok)
	}
	if got := mustRestore(t, e.open().Tenant("acme"), tok); got != "Zed" {
		t.Fatalf("restore = %q", got)
	}
	short := transform.FormatToken("PERSON", mac[:10])
	if got := mustRestore(t, tn, short); got != "Other" {
		t.Fatalf("the planted row restores as %q", got)
	}
	// Stable: asking again gives the same long token.
	if again := mustToken(t, e.open().Tenant("acme"), "PERSON", "Zed"); again != tok {
		t.Fatalf("second tokenization %s, want %s", again, tok)
	}
	mac2 := tk.mac("PERSON", "Yan")
	plant(mac2[:10])
	plant(mac2[:16])
	if _, err := tn.Token(ctx, "PERSON", "Yan"); !errors.Is(err, ErrCollision) {
		t.Fatalf("collision at every length: %v", err)
	}
}

package keys_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wardenhq/warden/keys"
)

// A keyring protected by a key file wraps a tenant's data key; the data
// key seals a value bound to its tenant, purpose and row.
func Example() {
	dir, _ := os.MkdirTemp("", "keys-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	kr, err := keys.Open(ctx, keys.Options{
		Path:   filepath.Join(dir, "keyring.json"),
		Root:   keys.KeyFile(filepath.Join(dir, "master.key"), true),
		Create: true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	raw := keys.NewDataKey()
	keyAD := keys.AAD{Tenant: "acme", Purpose: "dek.value"}
	wrapped, version, _ := kr.Wrap(ctx, raw, keyAD) // store this, not raw

	unwrapped, _ := kr.Unwrap(ctx, wrapped, keyAD)
	dk, _ := keys.LoadDataKey(1, unwrapped)
	ad := keys.AAD{Tenant: "acme", Purpose: "vault.value", Record: "row-1"}
	sealed := dk.Seal(nil, []byte("078-05-1120"), ad)
	plain, _ := dk.Open(nil, sealed, ad)
	_, err = dk.Open(nil, sealed, keys.AAD{Tenant: "globex", Purpose: "vault.value", Record: "row-1"})
	fmt.Println(version, string(plain), err)
	// Output: 1 078-05-1120 keys: ciphertext does not authenticate (tampered, or moved from another tenant, purpose or record)
}

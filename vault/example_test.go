package vault_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wardenhq/warden/keys"
	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/vault"
)

func Example() {
	dir, _ := os.MkdirTemp("", "vault-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "warden.db"), store.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	kr, err := keys.Open(ctx, keys.Options{Path: filepath.Join(dir, "keyring.json"),
		Root: keys.KeyFile(filepath.Join(dir, "master.key"), true), Create: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	v, _ := vault.New(vault.Config{Store: db, Keyring: kr})

	acme := v.Tenant("acme")
	tok, _ := acme.Token(ctx, "EMAIL_ADDRESS", "alice@example.com")
	again, _ := acme.Token(ctx, "EMAIL_ADDRESS", "alice@example.com")
	mine, _, _ := acme.Restore(ctx, "write to "+tok)
	theirs, _, _ := v.Tenant("globex").Restore(ctx, "write to "+tok)
	fmt.Println(tok == again)
	fmt.Println(mine)
	fmt.Println(theirs == "write to "+tok)
	// Output:
	// true
	// write to alice@example.com
	// true
}

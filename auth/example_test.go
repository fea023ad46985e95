package auth_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/wardenhq/warden/auth"
	"github.com/wardenhq/warden/store"
)

// Example wires the authenticator the way `warden serve` does: create a
// key, exchange it for a short-lived token, and authenticate with each.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "warden-auth-example")
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "warden.db"), store.Options{})
	if err != nil {
		panic(err)
	}
	defer db.Close()
	// No keyring: signing keys stay in memory (tokens die on restart).
	a, err := auth.New(ctx, auth.Config{}, auth.Deps{Store: db})
	if err != nil {
		panic(err)
	}
	key, _, _ := a.APIKeys().Create(ctx, auth.KeySpec{Name: "alice", Tenant: "acme", Models: []string{"gpt-4o-mini"}})

	r := httptest.NewRequest("POST", "/v1/chat/completions", nil)
	r.Header.Set("Authorization", "Bearer "+key)
	p, _ := a.Authenticate(r)
	fmt.Println(p.Method, p.Name, p.Tenant, p.Models)

	tok, _, _ := a.Issuer().Mint(ctx, p, 0, nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	p, _ = a.Authenticate(r)
	fmt.Println(p.Method, p.Name, p.Tenant, p.Models)
	// Output:
	// apikey alice acme [gpt-4o-mini]
	// jwt alice acme [gpt-4o-mini]
}

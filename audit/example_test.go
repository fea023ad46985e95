package audit_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/audit/event"
	"github.com/wardenhq/warden/keys"
	"github.com/wardenhq/warden/store"
)

// Example records the intent and the completion of one request, signs
// a checkpoint and verifies the log.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "audit-example")
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "warden.db"), store.Options{})
	if err != nil {
		panic(err)
	}
	defer db.Close()
	kr, err := keys.Open(ctx, keys.Options{Path: filepath.Join(dir, "keyring.json"), Root: keys.KeyFile(filepath.Join(dir, "master.key"), true), Create: true})
	if err != nil {
		panic(err)
	}
	l, err := audit.Open(ctx, audit.Config{Store: db, Keyring: kr, Origin: "example.com/audit"})
	if err != nil {
		panic(err)
	}
	// The intent is durable before the upstream is called …
	intent, err := l.Record(ctx, &event.Record{Kind: event.Intent, RequestID: "r1", Tenant: "acme", Decision: "allow", RequestBody: []byte("hello")})
	if err != nil {
		panic(err) // a gateway answers 503 and calls nothing
	}
	// … and the completion closes it once the response is over.
	done, err := l.Record(ctx, &event.Record{Kind: event.Completion, Intent: intent, RequestID: "r1", Tenant: "acme", Status: 200, ResponseBody: []byte("hi")})
	if err != nil {
		panic(err)
	}
	l.Close() // commits what is queued and signs a final checkpoint
	rep, err := audit.Verify(ctx, db, l.VerifierKey(), audit.VerifyOptions{})
	fmt.Println(intent, done, rep.Size, rep.Latest, rep.Intents, rep.Completions, err)
	// Output: 0 1 2 2 1 1 <nil>
}

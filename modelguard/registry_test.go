package modelguard_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/modelguard"
	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/store/storetest"
)

func TestRegistry(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		r := modelguard.NewRegistry(storetest.Open(t, dsn))
		if err := r.Approved(ctx, "llama"); !errors.Is(err, modelguard.ErrNotApproved) {
			t.Fatalf("unregistered: %v", err)
		}
		reg := modelguard.Registration{Name: "llama", RootDigest: "ab", Files: 3, Signer: "sha256:00", Verdict: modelguard.VerdictClean, Source: "hub", Licence: "apache-2.0", Approved: true}
		if err := r.Put(ctx, reg); err != nil {
			t.Fatal(err)
		}
		if err := r.Approved(ctx, "llama"); err != nil {
			t.Fatalf("approved model refused: %v", err)
		}
		reg.Verdict = modelguard.VerdictDangerous
		if err := r.Put(ctx, reg); err != nil {
			t.Fatal(err)
		}
		if err := r.Approved(ctx, "llama"); !errors.Is(err, modelguard.ErrNotApproved) {
			t.Fatalf("dangerous model approved: %v", err)
		}
		reg.Verdict = modelguard.VerdictClean
		r.Put(ctx, reg)
		if err := r.Revoke(ctx, "llama"); err != nil {
			t.Fatal(err)
		}
		if err := r.Approved(ctx, "llama"); !errors.Is(err, modelguard.ErrNotApproved) {
			t.Fatalf("revoked model approved: %v", err)
		}
		if err := r.Revoke(ctx, "nope"); !errors.Is(err, modelguard.ErrNotApproved) {
			t.Fatalf("revoke unknown: %v", err)
		}
		list, err := r.List(ctx)
		if err != nil || len(list) != 1 || list[0].Name != "llama" || list[0].Approved {
			t.Fatalf("list: %+v, %v", list, err)
		}
	})
}

// TestRegistryStalledStore stalls the store: Approved, on the request
// path of upstreams with require_approved, must fail within
// store.timeout with store.ErrTimeout, not hang and not claim the model
// is unapproved.
func TestRegistryStalledStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		const timeout = 500 * time.Millisecond
		ctx := context.Background()
		db := storetest.OpenWith(t, dsn, store.Options{Timeout: timeout, MaxReaders: 1})
		r := modelguard.NewRegistry(db)
		if err := r.Put(ctx, modelguard.Registration{Name: "llama", Verdict: modelguard.VerdictClean, Approved: true}); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(dsn, "sqlite:") {
			conn, err := db.Read().Conn(ctx) // every read connection: WAL readers never wait for locks
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
		} else {
			defer storetest.Lock(t, dsn, "models")()
		}
		start := time.Now()
		err := r.Approved(ctx, "llama")
		if !errors.Is(err, store.ErrTimeout) || errors.Is(err, modelguard.ErrNotApproved) {
			t.Fatalf("err = %v, want store.ErrTimeout and not ErrNotApproved", err)
		}
		if took := time.Since(start); took > 10*timeout {
			t.Fatalf("answered after %v, want about %v", took, timeout)
		}
	})
}

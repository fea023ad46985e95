package toolpin_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/store/storetest"
	"github.com/wardenhq/warden/toolpin"
)

var (
	hashA = "sha256:" + strings.Repeat("a", 64)
	hashB = "sha256:" + strings.Repeat("b", 64)
)

// TestStore is the conformance suite of Store, run on SQLite and
// PostgreSQL.
func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := toolpin.NewStore(storetest.Open(t, dsn))

		if h, ok, err := s.Pinned(ctx, "github", "create_issue"); err != nil || ok || h != "" {
			t.Fatalf("unpinned: %q, %v, %v", h, ok, err)
		}
		before := time.Now().Add(-time.Second)
		if err := s.Pin(ctx, "github", "create_issue", hashA, "alice"); err != nil {
			t.Fatal(err)
		}
		if h, ok, err := s.Pinned(ctx, "github", "create_issue"); err != nil || !ok || h != hashA {
			t.Fatalf("pinned: %q, %v, %v", h, ok, err)
		}
		// Same tool name on another server is another pin.
		if _, ok, _ := s.Pinned(ctx, "gitlab", "create_issue"); ok {
			t.Fatal("pin leaked to another server")
		}
		// Upsert replaces hash and who.
		if err := s.Pin(ctx, "github", "create_issue", hashB, "bob"); err != nil {
			t.Fatal(err)
		}
		if h, _, _ := s.Pinned(ctx, "github", "create_issue"); h != hashB {
			t.Fatalf("re-pin: %q", h)
		}
		for _, p := range []struct{ server, tool string }{{"github", "Zeta"}, {"github", "alpha"}, {"Slack", "post"}, {"gitlab", "create_issue"}} {
			if err := s.Pin(ctx, p.server, p.tool, hashA, "tofu"); err != nil {
				t.Fatal(err)
			}
		}
		all, err := s.List(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range all {
			got = append(got, p.Server+"/"+p.Tool)
		}
		want := "Slack/post github/Zeta github/alpha github/create_issue gitlab/create_issue"
		if strings.Join(got, " ") != want {
			t.Fatalf("list order: %v, want %s", got, want)
		}
		gh, err := s.List(ctx, "github")
		if err != nil || len(gh) != 3 {
			t.Fatalf("list github: %+v, %v", gh, err)
		}
		ci := gh[2]
		if ci.Tool != "create_issue" || ci.Hash != hashB || ci.By != "bob" || ci.At.Before(before) || ci.At.After(time.Now().Add(time.Second)) {
			t.Fatalf("pin record: %+v", ci)
		}
		if l, err := s.List(ctx, "nope"); err != nil || len(l) != 0 {
			t.Fatalf("list unknown server: %+v, %v", l, err)
		}

		if err := s.Unpin(ctx, "github", "create_issue"); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := s.Pinned(ctx, "github", "create_issue"); ok {
			t.Fatal("unpinned tool still pinned")
		}
		if err := s.Unpin(ctx, "github", "create_issue"); err != nil {
			t.Fatalf("unpin twice: %v", err)
		}
		if _, ok, _ := s.Pinned(ctx, "gitlab", "create_issue"); !ok {
			t.Fatal("unpin removed another server's pin")
		}
	})
}

func TestStorePinRefusesBadInput(t *testing.T) {
	s := toolpin.NewStore(storetest.Open(t, storetest.DSN(t, store.SQLite)))
	ctx := context.Background()
	for name, c := range map[string][3]string{
		"empty server":   {"", "t", hashA},
		"empty tool":     {"s", "", hashA},
		"empty hash":     {"s", "t", ""},
		"no prefix":      {"s", "t", strings.Repeat("a", 64)},
		"upper-case hex": {"s", "t", "sha256:" + strings.Repeat("A", 64)},
		"short":          {"s", "t", "sha256:abc"},
	} {
		if err := s.Pin(ctx, c[0], c[1], c[2], "x"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestStoreStalled stalls the database: Pinned, on the request path of
// every tools/list, must fail with store.ErrTimeout within store.timeout,
// not hang and not report "no pin" (which a caller could read as "new
// tool").
func TestStoreStalled(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		const timeout = 500 * time.Millisecond
		ctx := context.Background()
		db := storetest.OpenWith(t, dsn, store.Options{Timeout: timeout, MaxReaders: 1})
		s := toolpin.NewStore(db)
		if err := s.Pin(ctx, "github", "create_issue", hashA, "alice"); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(dsn, "sqlite:") {
			conn, err := db.Read().Conn(ctx) // the only read connection
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
		} else {
			defer storetest.Lock(t, dsn, "mcp_tool_pins")()
		}
		start := time.Now()
		h, ok, err := s.Pinned(ctx, "github", "create_issue")
		if !errors.Is(err, store.ErrTimeout) || ok || h != "" {
			t.Fatalf("Pinned = %q, %v, %v; want store.ErrTimeout", h, ok, err)
		}
		if d := time.Since(start); d > timeout+time.Second {
			t.Fatalf("Pinned took %s, store.timeout is %s", d, timeout)
		}
	})
}

package store_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/store/storetest"
)

func TestListenNotify(t *testing.T) {
	dsn := storetest.DSN(t, store.Postgres)
	listener, sender := storetest.Open(t, dsn), storetest.Open(t, dsn)
	calls := make(chan struct{}, 16)
	if !listener.Listen("warden_test_channel", func() { calls <- struct{}{} }) {
		t.Fatal("Listen refused on PostgreSQL")
	}
	wait := func(what string) {
		t.Helper()
		select {
		case <-calls:
		case <-time.After(10 * time.Second):
			t.Fatalf("no call for %s", what)
		}
	}
	wait("the connection")
	ctx := context.Background()
	notify := func(commit bool) {
		err := sender.Write(ctx, func(tx *sql.Tx) error {
			if err := sender.Notify(ctx, tx, "warden_test_channel"); err != nil {
				return err
			}
			if !commit {
				return errors.New("roll back")
			}
			return nil
		})
		if commit && err != nil {
			t.Fatal(err)
		}
	}
	notify(false)
	notify(true)
	wait("the committed notification")
	select {
	case <-calls:
		t.Fatal("a rolled-back transaction notified")
	case <-time.After(200 * time.Millisecond):
	}
	if storetest.Open(t, storetest.DSN(t, store.SQLite)).Listen("x", func() {}) {
		t.Fatal("Listen on SQLite reported a listener")
	}
}

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

// TestBoundNamesOnlyItsOwnDeadline checks that a call cut short by
// store.timeout gives a TimeoutError naming the key, and one cut short
// by the caller's own earlier deadline stays the caller's error.
func TestBoundNamesOnlyItsOwnDeadline(t *testing.T) {
	dsn := storetest.DSN(t, store.SQLite)
	db := storetest.OpenWith(t, dsn, store.Options{Timeout: 300 * time.Millisecond})
	defer storetest.Lock(t, dsn)()
	write := func(ctx context.Context) (err error) {
		ctx, end := db.Bound(ctx)
		defer end(&err)
		return db.Write(ctx, func(tx *sql.Tx) error { return nil })
	}
	err := write(context.Background())
	var te *store.TimeoutError
	if !errors.As(err, &te) || te.Timeout != 300*time.Millisecond || err.Error() != "store: no answer within store.timeout (300ms)" ||
		!errors.Is(err, store.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("store deadline: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := write(ctx); errors.Is(err, store.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("caller's deadline: %v, want the caller's DeadlineExceeded, not store.ErrTimeout", err)
	}
}

package audit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/store/storetest"
)

// TestReadSignedGivesThePrefixAndItsProof reads the prefix signed by an
// earlier checkpoint while the log has grown past it: exactly those
// entries, every stored checkpoint up to it checked, the pairing
// counted with the intent closed after the prefix in flight.
func TestReadSignedGivesThePrefixAndItsProof(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		l := openLog(t, db, openKeyring(t, t.TempDir()), nil)
		var open int64
		for i := range 40 {
			switch {
			case i%4 == 0:
				idx, err := l.Record(ctx, testIntent(i))
				if err != nil {
					t.Fatal(err)
				}
				open = idx
			case i%4 == 1:
				if _, err := l.Record(ctx, testCompletion(i-1, open)); err != nil {
					t.Fatal(err)
				}
			default:
				if _, err := l.Record(ctx, testEvent(i)); err != nil {
					t.Fatal(err)
				}
			}
			if i == 9 || i == 24 {
				l.Publish(ctx)
			}
		}
		// One more intent inside the checkpoint, closed after it.
		last, err := l.Record(ctx, testIntent(40))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Publish(ctx); err != nil {
			t.Fatal(err)
		}
		cp, err := l.LatestCheckpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Record(ctx, testCompletion(40, last)); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Record(ctx, testEvent(99)); err != nil {
			t.Fatal(err)
		}
		l.Publish(ctx)

		var seen int64
		rep, err := audit.ReadSigned(ctx, db, l.VerifierKey(), cp, func(idx int64, entry []byte) error {
			if idx != seen {
				t.Fatalf("entry %d given as %d", seen, idx)
			}
			seen++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if seen != cp.Size || cp.Size != 41 {
			t.Fatalf("read %d entries of a checkpoint of %d", seen, cp.Size)
		}
		if rep.Checkpoints != 3 || rep.FirstCheckpoint != 10 {
			t.Fatalf("checkpoints %d from %d, want 3 from 10", rep.Checkpoints, rep.FirstCheckpoint)
		}
		if rep.Intents != 11 || rep.Completions != 10 || rep.Requests != 20 || rep.InFlight != 1 || rep.Pairing != nil {
			t.Fatalf("pairing %+v, failure %v", rep.PairCounts, rep.Pairing)
		}

		older, err := audit.CheckpointAt(ctx, db, 25, l.VerifierKey())
		if err != nil {
			t.Fatal(err)
		}
		seen = 0
		rep, err = audit.ReadSigned(ctx, db, l.VerifierKey(), older, func(int64, []byte) error { seen++; return nil })
		if err != nil || seen != 25 || rep.Checkpoints != 2 {
			t.Fatalf("size 25: %d entries, %+v, %v", seen, rep, err)
		}
		if _, err := audit.CheckpointAt(ctx, db, 26, l.VerifierKey()); !errors.Is(err, audit.ErrNoCheckpoint) {
			t.Fatalf("no checkpoint of size 26: %v", err)
		}
	})
}

// TestReadSignedRefusesAnEditedEntry flips one byte of an entry inside
// the signed prefix: ReadSigned fails with a VerifyError no later than
// the last checkpoint before the edit.
func TestReadSignedRefusesAnEditedEntry(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t, store.SQLite)
	db := storetest.Open(t, dsn)
	l := openLog(t, db, openKeyring(t, t.TempDir()), nil)
	for i := range 30 {
		if _, err := l.Record(ctx, testEvent(i)); err != nil {
			t.Fatal(err)
		}
		if i == 9 {
			l.Publish(ctx)
		}
	}
	l.Publish(ctx)
	cp, err := l.LatestCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Read().Exec(`UPDATE audit_entries SET entry = CAST(replace(CAST(entry AS TEXT), '"alice"', '"alicf"') AS BLOB) WHERE idx = 17`); err != nil {
		t.Fatal(err)
	}
	_, err = audit.ReadSigned(ctx, db, l.VerifierKey(), cp, func(int64, []byte) error { return nil })
	var ve *audit.VerifyError
	if !errors.As(err, &ve) || ve.Index != 10 {
		t.Fatalf("edited entry 17: %v, want a VerifyError at 10 (the last good checkpoint)", err)
	}
}

// TestReadSignedReportsBrokenPairing deletes the audit_open row of an
// intent in flight: the entries are authentic, so ReadSigned returns
// them, and names the unpaired intent in Pairing.
func TestReadSignedReportsBrokenPairing(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, storetest.DSN(t, store.SQLite))
	l := openLog(t, db, openKeyring(t, t.TempDir()), nil)
	if _, err := l.Record(ctx, testEvent(0)); err != nil {
		t.Fatal(err)
	}
	idx, err := l.Record(ctx, testIntent(1))
	if err != nil {
		t.Fatal(err)
	}
	l.Publish(ctx)
	cp, err := l.LatestCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Read().Exec(`DELETE FROM audit_open WHERE idx = $1`, idx); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.ReadSigned(ctx, db, l.VerifierKey(), cp, func(int64, []byte) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if rep.Pairing == nil || rep.Pairing.Index != idx {
		t.Fatalf("pairing failure %v, want one at intent %d", rep.Pairing, idx)
	}
}

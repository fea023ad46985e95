package audit

import (
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// TestFoldRootIsTreeHash checks the right-edge stack of ReadSigned
// against tlog.TreeHash for every tree size up to 130 (powers of two,
// one past them and everything between).
func TestFoldRootIsTreeHash(t *testing.T) {
	var stored []tlog.Hash
	r := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = stored[x]
		}
		return out, nil
	})
	var stack []subtree
	if got, want := foldRoot(stack), mustTreeHash(t, 0, r); got != want {
		t.Fatalf("empty tree: %v, want %v", got, want)
	}
	for n := int64(0); n < 130; n++ {
		rec := []byte{byte(n), byte(n >> 8), 'x'}
		hs, err := tlog.StoredHashes(n, rec, r)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, hs...)
		stack = pushLeaf(stack, tlog.RecordHash(rec))
		if got, want := foldRoot(stack), mustTreeHash(t, n+1, r); got != want {
			t.Fatalf("size %d: fold %v, tree hash %v", n+1, got, want)
		}
		if len(stack) > 8 {
			t.Fatalf("size %d: %d subtrees kept", n+1, len(stack))
		}
	}
}

func mustTreeHash(t *testing.T, n int64, r tlog.HashReader) tlog.Hash {
	t.Helper()
	h, err := tlog.TreeHash(n, r)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

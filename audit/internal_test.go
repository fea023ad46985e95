package audit

import (
	"bytes"
	"encoding/hex"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// TestTenantKeyKnownAnswer pins the commitment key derivation to values
// computed independently (Python hmac/hashlib, RFC 5869 by hand).
func TestTenantKeyKnownAnswer(t *testing.T) {
	root := make([]byte, 32)
	for i := range root {
		root[i] = byte(i)
	}
	k := tenantKey(root, "acme")
	if got, want := hex.EncodeToString(k), "652beb9f468c744a77e229403b8058e6513da09c150629d66d99f6cee55445a2"; got != want {
		t.Fatalf("tenantKey = %s, want %s", got, want)
	}
	if got, want := Commitment(k, []byte("hello")), "hmac-sha256:sbkSgunMxtM3z7nk6MJ1r2wmrmMIiOaoUWrpQODw6Vg="; got != want {
		t.Fatalf("Commitment = %s, want %s", got, want)
	}
	if bytes.Equal(tenantKey(root, "acme2"), k) {
		t.Fatal("tenants share a key")
	}
}

// TestHashOwner checks that every stored hash lives where hashOwner
// says: row r's hashes are tlog.StoredHashes(r), level 0 first.
func TestHashOwner(t *testing.T) {
	for r := range int64(600) {
		first, next := tlog.StoredHashIndex(0, r), tlog.StoredHashIndex(0, r+1)
		for x := first; x < next; x++ {
			rec, pos := hashOwner(x)
			if rec != r || int64(pos) != x-first {
				t.Fatalf("hashOwner(%d) = %d, %d; want %d, %d", x, rec, pos, r, x-first)
			}
		}
	}
}

func TestParseTilePath(t *testing.T) {
	tests := []struct {
		path string
		want tlog.Tile
		ok   bool
	}{
		{"tile/0/000", tlog.Tile{H: 8, L: 0, N: 0, W: 256}, true},
		{"tile/0/x001/234", tlog.Tile{H: 8, L: 0, N: 1234, W: 256}, true},
		{"tile/1/000.p/7", tlog.Tile{H: 8, L: 1, N: 0, W: 7}, true},
		{"tile/entries/000", tlog.Tile{H: 8, L: -1, N: 0, W: 256}, true},
		{"tile/entries/x123/x456/789.p/255", tlog.Tile{H: 8, L: -1, N: 123456789, W: 255}, true},
		{"tile/entries/0", tlog.Tile{}, false},          // not three digits
		{"tile/0/001.p/256", tlog.Tile{}, false},        // full width spelled partial
		{"tile/0/001.p/0", tlog.Tile{}, false},          // empty partial
		{"tile/data/000", tlog.Tile{}, false},           // tlog spelling, not C2SP
		{"tile/8/0/000", tlog.Tile{}, false},            // tlog spelling with height
		{"tile/7/000", tlog.Tile{}, false},              // level too high
		{"tile/-1/000", tlog.Tile{}, false},             // negative level
		{"tile/0/x000/001", tlog.Tile{}, false},         // leading zero group
		{"tile/entries/000/../001", tlog.Tile{}, false}, // dot segments
		{"checkpoint", tlog.Tile{}, false},
	}
	for _, tt := range tests {
		got, err := parseTilePath(tt.path)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseTilePath(%q) = %+v, %v; want %+v ok=%v", tt.path, got, err, tt.want, tt.ok)
			continue
		}
		if tt.ok && tilePath(got) != tt.path {
			t.Errorf("tilePath(%+v) = %q, want %q", got, tilePath(got), tt.path)
		}
	}
}

func TestTileInTree(t *testing.T) {
	tests := []struct {
		tile tlog.Tile
		size int64
		want bool
	}{
		{tlog.Tile{H: 8, L: -1, N: 0, W: 20}, 20, true},
		{tlog.Tile{H: 8, L: -1, N: 0, W: 21}, 20, false},
		{tlog.Tile{H: 8, L: -1, N: 0, W: 256}, 255, false},
		{tlog.Tile{H: 8, L: 0, N: 0, W: 256}, 256, true},
		{tlog.Tile{H: 8, L: 0, N: 1, W: 1}, 257, true},
		{tlog.Tile{H: 8, L: 1, N: 0, W: 1}, 255, false},
		{tlog.Tile{H: 8, L: 1, N: 0, W: 1}, 256, true},
		{tlog.Tile{H: 8, L: 1, N: 0, W: 2}, 511, false},
	}
	for _, tt := range tests {
		if got := tileInTree(tt.tile, tt.size); got != tt.want {
			t.Errorf("tileInTree(%+v, %d) = %v, want %v", tt.tile, tt.size, got, tt.want)
		}
	}
}

func TestParseBundle(t *testing.T) {
	good := []byte{0, 2, 'a', 'b', 0, 0, 0, 1, 'c'}
	got, err := ParseBundle(good)
	if err != nil || len(got) != 3 || string(got[0]) != "ab" || len(got[1]) != 0 || string(got[2]) != "c" {
		t.Fatalf("ParseBundle = %q, %v", got, err)
	}
	for _, bad := range [][]byte{{0}, {0, 3, 'a', 'b'}, {0, 1, 'a', 0}} {
		if _, err := ParseBundle(bad); err == nil {
			t.Errorf("ParseBundle(%v) accepted", bad)
		}
	}
}

func TestParseCheckpointBody(t *testing.T) {
	root := tlog.RecordHash([]byte("x"))
	body := formatCheckpoint("example.com/log", 42, root)
	o, n, r, err := parseCheckpointBody(body)
	if err != nil || o != "example.com/log" || n != 42 || r != root {
		t.Fatalf("round trip: %q %d %v %v", o, n, r, err)
	}
	for _, bad := range []string{
		"", "o\n42\n", "o\n042\n" + body[len("example.com/log\n42\n"):], "o\n-1\nAAAA\n", "\n1\nAAAA\n", "o\n1\nnot base64\n",
	} {
		if _, _, _, err := parseCheckpointBody(bad); err == nil {
			t.Errorf("parseCheckpointBody(%q) accepted", bad)
		}
	}
}

func FuzzParseTilePath(f *testing.F) {
	for _, s := range []string{"tile/0/000", "tile/entries/x001/234.p/5", "tile/3/x999/x999/999", "tile/entries/000.p/255"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		tile, err := parseTilePath(path)
		if err != nil {
			return
		}
		if tilePath(tile) != path {
			t.Fatalf("non-canonical path %q accepted as %+v", path, tile)
		}
		if tile.W < 1 || tile.W > 256 || tile.L < -1 || tile.L > 6 || tile.N < 0 {
			t.Fatalf("out of range tile %+v from %q", tile, path)
		}
	})
}

func FuzzParseBundle(f *testing.F) {
	f.Add([]byte{0, 2, 'a', 'b'})
	f.Add([]byte{0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := ParseBundle(b)
		if err != nil {
			return
		}
		var re []byte
		for _, e := range es {
			re = append(re, byte(len(e)>>8), byte(len(e)))
			re = append(re, e...)
		}
		if !bytes.Equal(re, b) {
			t.Fatal("bundle does not round-trip")
		}
	})
}

func FuzzParseCheckpoint(f *testing.F) {
	f.Add(formatCheckpoint("example.com/log", 42, tlog.RecordHash(nil)))
	f.Add("o\n0\n" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nextra\n")
	f.Fuzz(func(t *testing.T, text string) {
		o, n, r, err := parseCheckpointBody(text)
		if err != nil {
			return
		}
		if n < 0 || o == "" {
			t.Fatalf("accepted %q as %q %d", text, o, n)
		}
		if body := formatCheckpoint(o, n, r); len(text) < len(body) || text[:len(body)] != body {
			t.Fatalf("%q does not start with its own checkpoint", text)
		}
	})
}

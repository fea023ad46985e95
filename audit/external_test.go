package audit_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/store/storetest"
)

// externalVerify is the check an outside party runs, written with
// net/http, golang.org/x/mod/sumdb/tlog and note only (no audit code):
// fetch the checkpoint, verify its signature with vkey, read every entry
// bundle, recompute the tree and compare roots. It also checks one
// inclusion proof through the hash tiles (tlog.TileHashReader). It
// returns the entries.
func externalVerify(base, vkey string) ([][]byte, error) {
	get := func(path string) ([]byte, error) {
		resp, err := http.Get(base + path)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		return io.ReadAll(resp.Body)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	msg, err := get("checkpoint")
	if err != nil {
		return nil, err
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return nil, err
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 || lines[0] != v.Name() {
		return nil, errors.New("checkpoint: bad origin")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return nil, err
	}
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(rootBytes) != tlog.HashSize {
		return nil, errors.New("checkpoint: bad root")
	}
	var root tlog.Hash
	copy(root[:], rootBytes)

	// C2SP tile index: groups of three digits, all but the last x-prefixed.
	tileN := func(n int64) string {
		s := fmt.Sprintf("%03d", n%1000)
		for n >= 1000 {
			n /= 1000
			s = fmt.Sprintf("x%03d/%s", n%1000, s)
		}
		return s
	}
	var entries [][]byte
	for start := int64(0); start < size; start += 256 {
		w := min(256, size-start)
		path := "tile/entries/" + tileN(start/256)
		if w < 256 {
			path += ".p/" + strconv.FormatInt(w, 10)
		}
		b, err := get(path)
		if err != nil {
			return nil, err
		}
		for len(b) > 0 {
			if len(b) < 2 || len(b) < 2+int(binary.BigEndian.Uint16(b)) {
				return nil, errors.New("bad entry bundle")
			}
			l := int(binary.BigEndian.Uint16(b))
			entries = append(entries, b[2:2+l])
			b = b[2+l:]
		}
	}
	if int64(len(entries)) != size {
		return nil, fmt.Errorf("bundles hold %d entries, checkpoint %d", len(entries), size)
	}
	var hashes []tlog.Hash
	mem := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = hashes[x]
		}
		return out, nil
	})
	for i, e := range entries {
		hs, err := tlog.StoredHashes(int64(i), e, mem)
		if err != nil {
			return nil, err
		}
		hashes = append(hashes, hs...)
	}
	got, err := tlog.TreeHash(size, mem)
	if err != nil {
		return nil, err
	}
	if got != root {
		return nil, errors.New("recomputed root differs from the checkpoint")
	}

	// Hash tiles: prove the middle entry through tiles fetched over HTTP.
	if size > 0 {
		tr := tileReader(func(tiles []tlog.Tile) ([][]byte, error) {
			var out [][]byte
			for _, t := range tiles {
				path := fmt.Sprintf("tile/%d/%s", t.L, tileN(t.N))
				if t.W < 256 {
					path += ".p/" + strconv.Itoa(t.W)
				}
				b, err := get(path)
				if err != nil {
					return nil, err
				}
				out = append(out, b)
			}
			return out, nil
		})
		th := tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, tr)
		k := size / 2
		p, err := tlog.ProveRecord(size, k, th)
		if err != nil {
			return nil, fmt.Errorf("proof through tiles: %w", err)
		}
		if err := tlog.CheckRecord(p, size, root, k, tlog.RecordHash(entries[k])); err != nil {
			return nil, err
		}
	}
	return entries, nil
}

type tileReader func([]tlog.Tile) ([][]byte, error)

func (f tileReader) Height() int                               { return 8 }
func (f tileReader) ReadTiles(t []tlog.Tile) ([][]byte, error) { return f(t) }
func (f tileReader) SaveTiles([]tlog.Tile, [][]byte)           {}

func TestExternalVerifier(t *testing.T) {
	for _, n := range []int{0, 1, 20, 255, 256, 257, 1000} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			ctx := context.Background()
			db := storetest.Open(t, storetest.DSN(t, store.SQLite))
			l := openLog(t, db, openKeyring(t, t.TempDir()), nil)
			for i := range n {
				if _, err := l.Record(ctx, testEvent(i)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := l.Publish(ctx); err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			mux.Handle("/audit/", l.Handler())
			srv := httptest.NewServer(mux)
			defer srv.Close()
			entries, err := externalVerify(srv.URL+"/audit/", l.VerifierKey())
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != n {
				t.Fatalf("%d entries, want %d", len(entries), n)
			}
			for _, e := range entries {
				if bytes.Contains(e, []byte("078-05-1120")) || bytes.Contains(e, []byte(canaryPrompt)) {
					t.Fatal("raw prompt text in the log")
				}
			}
			// A tile beyond the checkpoint is not served.
			resp, err := http.Get(srv.URL + "/audit/tile/entries/x001/000")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Fatalf("tile beyond the tree: %s", resp.Status)
			}
			if n > 0 {
				resp, err := http.Get(srv.URL + "/audit/proof?index=" + strconv.Itoa(n-1))
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"tree_size":`+strconv.Itoa(n))) {
					t.Fatalf("proof: %s %s", resp.Status, body)
				}
			}
		})
	}
}

// TestVerifyDetectsTampering edits the SQLite file behind the log's back
// with plain SQL and expects Verify to name the first bad index.
func TestVerifyDetectsTampering(t *testing.T) {
	tests := []struct {
		name    string
		sql     []string
		wantIdx int64
	}{
		{"flip one byte", nil, 123},
		{"delete", []string{"DELETE FROM audit_entries WHERE idx = 77"}, 77},
		{"swap two", []string{
			"UPDATE audit_entries SET idx = -1 WHERE idx = 10",
			"UPDATE audit_entries SET idx = 10 WHERE idx = 11",
			"UPDATE audit_entries SET idx = 11 WHERE idx = -1",
		}, 10},
		{"swap entries only", []string{
			"UPDATE audit_entries SET entry = (SELECT entry FROM audit_entries WHERE idx = 201) WHERE idx = 200",
		}, 200},
		{"truncate tail", []string{"DELETE FROM audit_entries WHERE idx >= 250"}, 250},
		{"truncate tail and its checkpoints", []string{"DELETE FROM audit_entries WHERE idx >= 250", "DELETE FROM audit_checkpoints WHERE size > 250"}, -2},
		{"forge checkpoint", []string{"UPDATE audit_checkpoints SET note = CAST(replace(CAST(note AS TEXT), char(10) || '300' || char(10), char(10) || '299' || char(10)) AS BLOB) WHERE size = 300"}, 260},
		{"copy stored hashes", []string{"UPDATE audit_entries SET hashes = (SELECT hashes FROM audit_entries WHERE idx = 4) WHERE idx = 6"}, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := storetest.DSN(t, store.SQLite)
			db := storetest.Open(t, dsn)
			l := openLog(t, db, openKeyring(t, t.TempDir()), nil)
			var saved []byte
			for i := range 300 {
				if _, err := l.Record(ctx, testEvent(i)); err != nil {
					t.Fatal(err)
				}
				if i == 199 {
					l.Publish(ctx)
				}
				if i == 259 {
					l.Publish(ctx)
					cp, err := l.LatestCheckpoint(ctx)
					if err != nil {
						t.Fatal(err)
					}
					saved = cp.Note
				}
			}
			l.Publish(ctx)
			vkey := l.VerifierKey()
			if _, err := audit.Verify(ctx, db, vkey, audit.VerifyOptions{Since: saved}); err != nil {
				t.Fatalf("clean log: %v", err)
			}
			raw, err := sql.Open("sqlite", strings.TrimPrefix(dsn, "sqlite:"))
			if err != nil {
				t.Fatal(err)
			}
			if tt.sql == nil {
				// Flip one bit of one byte of entry 123, as an editor of
				// the file would.
				var e []byte
				if err := raw.QueryRow("SELECT entry FROM audit_entries WHERE idx = 123").Scan(&e); err != nil {
					t.Fatal(err)
				}
				e[40] ^= 1
				if _, err := raw.Exec("UPDATE audit_entries SET entry = ? WHERE idx = 123", e); err != nil {
					t.Fatal(err)
				}
			}
			for _, q := range tt.sql {
				if _, err := raw.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			raw.Close()
			if tt.wantIdx == -2 {
				// Without a saved checkpoint the shorter log looks whole;
				// the checkpoint saved at 260 catches it.
				if _, err := audit.Verify(ctx, db, vkey, audit.VerifyOptions{}); err != nil {
					t.Fatalf("without --since: %v", err)
				}
				_, err := audit.Verify(ctx, db, vkey, audit.VerifyOptions{Since: saved})
				var ve *audit.VerifyError
				if !errors.As(err, &ve) || !strings.Contains(ve.Reason, "truncated") || ve.Index != 250 {
					t.Fatalf("with --since: %v, want truncation", err)
				}
				return
			}
			_, err = audit.Verify(ctx, db, vkey, audit.VerifyOptions{})
			var ve *audit.VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("Verify = %v, want a VerifyError", err)
			}
			if ve.Index != tt.wantIdx {
				t.Fatalf("Verify named index %d (%v), want %d", ve.Index, err, tt.wantIdx)
			}
		})
	}
}

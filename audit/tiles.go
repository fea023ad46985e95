package audit

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/store"
)

// HTTP layout (C2SP tlog-tiles)
//
//	GET <prefix>checkpoint                  the newest signed checkpoint
//	GET <prefix>tile/<L>/<N>[.p/<W>]        hash tile: W (default 256) hashes
//	                                        at tree level 8·L, tile index N
//	GET <prefix>tile/entries/<N>[.p/<W>]    entry bundle: entries 256·N …
//	                                        256·N+W-1, each a big-endian
//	                                        uint16 length then the entry
//	GET <prefix>proof?index=I               inclusion proof of entry I
//	                                        against the newest checkpoint
//
// N is written in groups of three digits, all but the last prefixed
// with "x": 1234567 is x001/x234/567. Tiles are served only for trees up
// to the newest checkpoint's size; full tiles never change.

// TileHeight is the tile height of the tlog-tiles layout: 256 hashes a tile.
const TileHeight = 8

const tileWidth = 1 << TileHeight

// parseTilePath parses a C2SP tile path, "tile/<L>/<N>[.p/<W>]" or
// "tile/entries/<N>[.p/<W>]", into a tlog.Tile of height 8 (entries as
// level -1). Only the canonical spelling is accepted.
func parseTilePath(path string) (tlog.Tile, error) {
	rest, ok := strings.CutPrefix(path, "tile/")
	if !ok {
		return tlog.Tile{}, errors.New("audit: not a tile path")
	}
	if r, ok := strings.CutPrefix(rest, "entries/"); ok {
		rest = "data/" + r
	} else if strings.HasPrefix(rest, "data/") {
		return tlog.Tile{}, errors.New("audit: not a tile path")
	}
	t, err := tlog.ParseTilePath("tile/" + strconv.Itoa(TileHeight) + "/" + rest)
	if err != nil || t.L > 6 || t.N < 0 || t.N > 1<<40 {
		return tlog.Tile{}, errors.New("audit: malformed tile path")
	}
	return t, nil
}

// tilePath is the C2SP path of t, the inverse of parseTilePath.
func tilePath(t tlog.Tile) string {
	p := t.Path() // tile/8/L/N or tile/8/data/N
	p = strings.TrimPrefix(p, "tile/"+strconv.Itoa(TileHeight)+"/")
	if r, ok := strings.CutPrefix(p, "data/"); ok {
		return "tile/entries/" + r
	}
	return "tile/" + p
}

// tileInTree reports whether tile t exists in a tree of size entries.
func tileInTree(t tlog.Tile, size int64) bool {
	end := t.N*tileWidth + int64(t.W) // one past the last hash, at the tile's level
	if t.L < 0 {
		return end <= size
	}
	shift := uint(TileHeight * t.L)
	return end <= size>>shift
}

// readBundle reads entries [start, start+w) as an entry bundle.
func readBundle(ctx context.Context, db *store.DB, start int64, w int) ([]byte, error) {
	rows, err := db.Read().QueryContext(ctx, "SELECT idx, entry FROM audit_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx", start, start+int64(w))
	if err != nil {
		return nil, fmt.Errorf("audit: read entries: %w", err)
	}
	defer rows.Close()
	var out []byte
	next := start
	for rows.Next() {
		var idx int64
		var e []byte
		if err := rows.Scan(&idx, &e); err != nil {
			return nil, fmt.Errorf("audit: read entries: %w", err)
		}
		if idx != next || len(e) > MaxEntrySize {
			return nil, fmt.Errorf("audit: entry %d is missing or malformed", next)
		}
		out = binary.BigEndian.AppendUint16(out, uint16(len(e)))
		out = append(out, e...)
		next++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: read entries: %w", err)
	}
	if next != start+int64(w) {
		return nil, fmt.Errorf("audit: entry %d is missing", next)
	}
	return out, nil
}

// ParseBundle splits an entry bundle into its entries.
func ParseBundle(b []byte) ([][]byte, error) {
	var out [][]byte
	for off := 0; off < len(b); {
		if len(b)-off < 2 {
			return nil, fmt.Errorf("audit: entry bundle: truncated length at offset %d", off)
		}
		n := int(binary.BigEndian.Uint16(b[off:]))
		off += 2
		if len(b)-off < n {
			return nil, fmt.Errorf("audit: entry bundle: entry at offset %d runs past the end", off-2)
		}
		out = append(out, b[off:off+n:off+n])
		off += n
	}
	return out, nil
}

// Proof is an inclusion proof of one entry against a checkpoint.
type Proof struct {
	Index    int64  `json:"index"`
	TreeSize int64  `json:"tree_size"`
	LeafHash []byte `json:"leaf_hash"` // RFC 6962 leaf hash of Entry
	// Hashes is the RFC 6962 audit path (tlog.RecordProof).
	Hashes     [][]byte `json:"proof"`
	Entry      []byte   `json:"entry"`
	Checkpoint string   `json:"checkpoint"` // signed note
}

// Prove returns the inclusion proof of entry index in the tree of cp and
// checks it before returning it.
func Prove(ctx context.Context, db *store.DB, index int64, cp *Checkpoint) (*Proof, error) {
	if index < 0 || index >= cp.Size {
		return nil, fmt.Errorf("audit: index %d is not in the checkpoint's tree of %d entries", index, cp.Size)
	}
	var entry []byte
	if err := db.Read().QueryRowContext(ctx, "SELECT entry FROM audit_entries WHERE idx = $1", index).Scan(&entry); err != nil {
		return nil, fmt.Errorf("audit: entry %d: %w", index, err)
	}
	r := &hashReader{ctx: ctx, db: db, q: db.Read()}
	p, err := tlog.ProveRecord(cp.Size, index, r)
	if err != nil {
		return nil, err
	}
	leaf := tlog.RecordHash(entry)
	if err := tlog.CheckRecord(p, cp.Size, cp.Root, index, leaf); err != nil {
		return nil, fmt.Errorf("audit: entry %d does not prove against the checkpoint: %w", index, err)
	}
	out := &Proof{Index: index, TreeSize: cp.Size, LeafHash: leaf[:], Entry: entry, Checkpoint: string(cp.Note)}
	for _, h := range p {
		out.Hashes = append(out.Hashes, h[:])
	}
	return out, nil
}

// Handler serves the log in the C2SP tlog-tiles layout. Mount it under
// "/audit/" (the handler strips a leading "/audit/" itself, so it also
// works behind http.StripPrefix). Only GET and HEAD are allowed.
func (l *Log) Handler() http.Handler {
	return http.HandlerFunc(l.serveHTTP)
}

func (l *Log) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	path = strings.TrimPrefix(path, "audit/")
	ctx := r.Context()
	switch {
	case path == "checkpoint":
		cp, err := latestCheckpoint(ctx, l.db)
		if errors.Is(err, ErrNoCheckpoint) {
			http.Error(w, "no checkpoint yet", http.StatusNotFound)
			return
		}
		if err != nil {
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(cp.Note)
	case strings.HasPrefix(path, "tile/"):
		t, err := parseTilePath(path)
		if err != nil {
			http.Error(w, "malformed tile path", http.StatusBadRequest)
			return
		}
		cp, err := latestCheckpoint(ctx, l.db)
		if err != nil && !errors.Is(err, ErrNoCheckpoint) {
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
			return
		}
		if cp == nil || !tileInTree(t, cp.Size) {
			http.Error(w, "tile not found", http.StatusNotFound)
			return
		}
		var data []byte
		if t.L < 0 {
			data, err = readBundle(ctx, l.db, t.N*tileWidth, t.W)
		} else {
			data, err = tlog.ReadTileData(t, &hashReader{ctx: ctx, db: l.db, q: l.db.Read(), cache: l.cache})
		}
		if err != nil {
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		if t.W == tileWidth {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		w.Write(data)
	case path == "proof":
		idx, err := strconv.ParseInt(r.URL.Query().Get("index"), 10, 64)
		if err != nil || idx < 0 {
			http.Error(w, "want ?index=N", http.StatusBadRequest)
			return
		}
		cp, err := l.LatestCheckpoint(ctx)
		if errors.Is(err, ErrNoCheckpoint) {
			http.Error(w, "no checkpoint yet", http.StatusNotFound)
			return
		}
		if err != nil {
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
			return
		}
		if idx >= cp.Size {
			http.Error(w, "index not in the latest checkpoint yet; retry in a second", http.StatusNotFound)
			return
		}
		p, err := Prove(ctx, l.db, idx, cp)
		if err != nil {
			http.Error(w, "proof unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(p)
	default:
		http.NotFound(w, r)
	}
}

package modelguard

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/bits"
	"strings"
)

// GGUF (github.com/ggml-org/ggml, docs/gguf.md), versions 2 and 3, little
// endian: "GGUF", uint32 version, uint64 tensor count, uint64 metadata
// count; metadata key/value pairs (a string key, a uint32 type, a value);
// tensor infos (name, uint32 n_dims, n_dims uint64 dims, uint32 ggml type,
// uint64 offset); padding to general.alignment (default 32); tensor data.
// Strings are a uint64 length and bytes. Everything is read as a stream
// with every count and length checked against the file size and limits.

const (
	ggufU8 = iota
	ggufI8
	ggufU16
	ggufI16
	ggufU32
	ggufI32
	ggufF32
	ggufBool
	ggufString
	ggufArray
	ggufU64
	ggufI64
	ggufF64
)

var ggufScalarSize = map[uint32]int64{
	ggufU8: 1, ggufI8: 1, ggufBool: 1, ggufU16: 2, ggufI16: 2,
	ggufU32: 4, ggufI32: 4, ggufF32: 4, ggufU64: 8, ggufI64: 8, ggufF64: 8,
}

// ggmlTypes gives (block size in elements, block size in bytes) for the
// ggml tensor types (ggml.h enum ggml_type).
var ggmlTypes = map[uint32][2]uint64{
	0: {1, 4}, 1: {1, 2}, 2: {32, 18}, 3: {32, 20}, 6: {32, 22}, 7: {32, 24},
	8: {32, 34}, 9: {32, 36}, 10: {256, 84}, 11: {256, 110}, 12: {256, 144},
	13: {256, 176}, 14: {256, 210}, 15: {256, 292}, 16: {256, 66}, 17: {256, 74},
	18: {256, 98}, 19: {256, 50}, 20: {32, 18}, 21: {256, 110}, 22: {256, 82},
	23: {256, 136}, 24: {1, 1}, 25: {1, 2}, 26: {1, 4}, 27: {1, 8}, 28: {1, 8},
	29: {256, 56}, 30: {1, 2}, 34: {256, 54}, 35: {256, 66}, 39: {32, 17},
}

type ggufReader struct {
	r    *bufio.Reader
	off  int64
	size int64
	cfg  *Config
}

type ggufError struct {
	off int64
	msg string
}

func (e *ggufError) Error() string { return e.msg }

func (g *ggufReader) fail(format string, args ...any) error {
	return &ggufError{off: g.off, msg: fmt.Sprintf(format, args...)}
}

func (g *ggufReader) u(n int) (uint64, error) {
	var b [8]byte
	if _, err := io.ReadFull(g.r, b[:n]); err != nil {
		return 0, g.fail("truncated")
	}
	g.off += int64(n)
	return binary.LittleEndian.Uint64(b[:]), nil
}

// str reads a string; it is kept only if keep, else hashed and discarded.
func (g *ggufReader) str(keep bool, h io.Writer) (string, int64, error) {
	n, err := g.u(8)
	if err != nil {
		return "", 0, err
	}
	if n > uint64(g.cfg.MaxGGUFString) || n > uint64(g.size-g.off) {
		return "", 0, g.fail("string length %d beyond limits", n)
	}
	if keep {
		b := make([]byte, n)
		if _, err := io.ReadFull(g.r, b); err != nil {
			return "", 0, g.fail("truncated")
		}
		g.off += int64(n)
		return string(b), int64(n), nil
	}
	if h == nil {
		h = io.Discard
	}
	if _, err := io.CopyN(h, g.r, int64(n)); err != nil {
		return "", 0, g.fail("truncated")
	}
	g.off += int64(n)
	return "", int64(n), nil
}

// skipValue reads a value of type t; arrays may nest up to depth 4. If h is
// non-nil and the value is a string, it is hashed.
func (g *ggufReader) skipValue(t uint32, depth int, h io.Writer) (int64, error) {
	if sz, ok := ggufScalarSize[t]; ok {
		if _, err := g.r.Discard(int(sz)); err != nil {
			return 0, g.fail("truncated")
		}
		g.off += sz
		return 0, nil
	}
	switch t {
	case ggufString:
		_, n, err := g.str(false, h)
		return n, err
	case ggufArray:
		if depth >= 4 {
			return 0, g.fail("arrays nested deeper than 4")
		}
		et, err := g.u(4)
		if err != nil {
			return 0, err
		}
		n, err := g.u(8)
		if err != nil {
			return 0, err
		}
		if n > g.cfg.MaxGGUFCount || n > uint64(g.size-g.off) {
			return 0, g.fail("array length %d beyond limits", n)
		}
		if sz, ok := ggufScalarSize[uint32(et)]; ok {
			total := int64(n) * sz
			if total > g.size-g.off {
				return 0, g.fail("array beyond the end of the file")
			}
			if _, err := io.CopyN(io.Discard, g.r, total); err != nil {
				return 0, g.fail("truncated")
			}
			g.off += total
			return 0, nil
		}
		for i := uint64(0); i < n; i++ {
			if _, err := g.skipValue(uint32(et), depth+1, nil); err != nil {
				return 0, err
			}
		}
		return 0, nil
	}
	return 0, g.fail("unknown metadata value type %d", t)
}

func (s *Scanner) scanGGUF(r io.Reader, size int64, rep *FileReport) {
	g := &ggufReader{r: bufio.NewReaderSize(r, 64<<10), size: size, cfg: &s.cfg}
	if err := s.ggufParse(g, rep); err != nil {
		f := Finding{Kind: KindInvalid, Severity: SeverityHigh, Rule: "gguf.invalid", Offset: -1, Message: err.Error()}
		if ge, ok := err.(*ggufError); ok {
			f.Offset = ge.off
		}
		rep.Findings = append(rep.Findings, f)
	}
}

func (s *Scanner) ggufParse(g *ggufReader, rep *FileReport) error {
	if _, err := g.u(4); err != nil {
		return err
	}
	ver, err := g.u(4)
	if err != nil {
		return err
	}
	if ver != 2 && ver != 3 {
		return g.fail("unsupported GGUF version %d", ver)
	}
	nTensors, err := g.u(8)
	if err != nil {
		return err
	}
	nKV, err := g.u(8)
	if err != nil {
		return err
	}
	if nTensors > s.cfg.MaxGGUFCount || nKV > s.cfg.MaxGGUFCount || nTensors > uint64(size(g)) || nKV > uint64(size(g)) {
		return g.fail("tensor or metadata count beyond limits")
	}
	alignment := uint64(32)
	for i := uint64(0); i < nKV; i++ {
		key, _, err := g.str(true, nil)
		if err != nil {
			return err
		}
		if len(key) > 65535 {
			return g.fail("metadata key longer than 65535 bytes")
		}
		t, err := g.u(4)
		if err != nil {
			return err
		}
		switch {
		case key == "general.alignment":
			if t != ggufU32 {
				return g.fail("general.alignment is not a uint32")
			}
			a, err := g.u(4)
			if err != nil {
				return err
			}
			if a == 0 || a&(a-1) != 0 || a > 1<<20 {
				return g.fail("general.alignment %d is not a power of two up to 1 MiB", a)
			}
			alignment = a
		case t == ggufString && (key == "tokenizer.chat_template" || strings.HasPrefix(key, "tokenizer.chat_template.")):
			h := sha256.New()
			n, err := g.skipValue(uint32(t), 0, h)
			if err != nil {
				return err
			}
			rep.Templates = append(rep.Templates, Template{Key: printable(key), SHA256: hex.EncodeToString(h.Sum(nil)), Length: n})
		default:
			if _, err := g.skipValue(uint32(t), 0, nil); err != nil {
				return err
			}
		}
	}
	type info struct{ off, size uint64 }
	infos := make([]info, 0, min(nTensors, 1<<16))
	for i := uint64(0); i < nTensors; i++ {
		if _, _, err := g.str(false, nil); err != nil {
			return err
		}
		nd, err := g.u(4)
		if err != nil {
			return err
		}
		if nd == 0 || nd > 8 {
			return g.fail("tensor %d has %d dimensions", i, nd)
		}
		elems := uint64(1)
		var ne0 uint64
		for j := uint64(0); j < nd; j++ {
			d, err := g.u(8)
			if err != nil {
				return err
			}
			if j == 0 {
				ne0 = d
			}
			hi, lo := bits.Mul64(elems, d)
			if hi != 0 {
				return g.fail("tensor %d element count overflows", i)
			}
			elems = lo
		}
		typ, err := g.u(4)
		if err != nil {
			return err
		}
		off, err := g.u(8)
		if err != nil {
			return err
		}
		if off%alignment != 0 {
			return g.fail("tensor %d offset not aligned to %d", i, alignment)
		}
		bt, ok := ggmlTypes[uint32(typ)]
		if !ok {
			return g.fail("tensor %d has unknown ggml type %d", i, typ)
		}
		if ne0%bt[0] != 0 {
			return g.fail("tensor %d first dimension not a multiple of the block size", i)
		}
		hi, sz := bits.Mul64(elems/bt[0], bt[1])
		if hi != 0 {
			return g.fail("tensor %d byte size overflows", i)
		}
		infos = append(infos, info{off, sz})
	}
	dataStart := (uint64(g.off) + alignment - 1) / alignment * alignment
	if dataStart > uint64(g.size) {
		return g.fail("tensor data section starts beyond the end of the file")
	}
	dataLen := uint64(g.size) - dataStart
	for i, t := range infos {
		if t.off > dataLen || t.size > dataLen-t.off {
			return &ggufError{off: int64(dataStart), msg: fmt.Sprintf("tensor %d data beyond the end of the file", i)}
		}
	}
	rep.Tensors = int64(nTensors)
	return nil
}

func size(g *ggufReader) int64 { return g.size }

package modelguard

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/bits"
	"sort"
	"unicode/utf8"
)

// safetensors (github.com/huggingface/safetensors, "Format"): an 8-byte
// little-endian header length N, N bytes of UTF-8 JSON mapping tensor names
// to {"dtype", "shape", "data_offsets": [begin, end]} plus an optional
// "__metadata__" string map, then the data section. Offsets are relative to
// the data section. We require, as the reference implementation does, that
// the tensors tile the data section exactly: sorted by offset, the first
// begins at 0, each begins where the previous ends, and the last ends at
// the end of the file. Only the header is read.

// safetensorsDtypeBits gives each dtype's element size in bits.
var safetensorsDtypeBits = map[string]uint64{
	"BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8,
	"I16": 16, "U16": 16, "F16": 16, "BF16": 16,
	"I32": 32, "U32": 32, "F32": 32, "C64": 64,
	"F64": 64, "I64": 64, "U64": 64,
	"F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
}

// looksSafetensors reports whether a file of this size starts like a
// safetensors file: a plausible header length followed by '{'.
func looksSafetensors(h []byte, size int64) bool {
	if len(h) < 9 || h[8] != '{' {
		return false
	}
	n := binary.LittleEndian.Uint64(h)
	return n >= 2 && n <= uint64(size)-8
}

type stTensor struct {
	name       string
	begin, end uint64
}

func (s *Scanner) scanSafetensors(ra io.ReaderAt, size int64, rep *FileReport) {
	bad := func(off int64, format string, args ...any) {
		rep.Findings = append(rep.Findings, Finding{Kind: KindInvalid, Severity: SeverityHigh, Rule: "safetensors.invalid",
			Offset: off, Message: fmt.Sprintf(format, args...)})
	}
	var lb [8]byte
	if _, err := ra.ReadAt(lb[:], 0); err != nil {
		bad(0, "file shorter than the 8-byte header length")
		return
	}
	n := binary.LittleEndian.Uint64(lb[:])
	if n > uint64(s.cfg.MaxHeaderSize) {
		bad(0, "header length %d above %d (MaxHeaderSize)", n, s.cfg.MaxHeaderSize)
		return
	}
	if n+8 > uint64(size) {
		bad(0, "header length %d beyond the end of the file", n)
		return
	}
	hdr := make([]byte, n)
	if _, err := ra.ReadAt(hdr, 8); err != nil {
		bad(8, "cannot read header")
		return
	}
	dataLen := uint64(size) - 8 - n
	tensors, err := parseSafetensorsHeader(hdr)
	if err != nil {
		bad(8, "%v", err)
		return
	}
	sort.Slice(tensors, func(i, j int) bool {
		if tensors[i].begin != tensors[j].begin {
			return tensors[i].begin < tensors[j].begin
		}
		return tensors[i].end < tensors[j].end
	})
	var pos uint64
	for _, t := range tensors {
		if t.begin != pos {
			if t.begin < pos {
				bad(8, "tensor data ranges overlap")
			} else {
				bad(8, "gap of %d bytes in the data section", t.begin-pos)
			}
			return
		}
		pos = t.end
	}
	if pos != dataLen {
		bad(8+int64(n), "tensors cover %d bytes but the data section has %d", pos, dataLen)
		return
	}
	rep.Tensors = int64(len(tensors))
}

// parseSafetensorsHeader validates the JSON header and returns the tensors
// with their checked byte ranges. Errors name the problem, never the value.
func parseSafetensorsHeader(hdr []byte) ([]stTensor, error) {
	if !utf8.Valid(hdr) {
		return nil, fmt.Errorf("header is not UTF-8")
	}
	if len(bytes.TrimLeft(hdr, " ")) == 0 || bytes.TrimLeft(hdr, " ")[0] != '{' {
		return nil, fmt.Errorf("header is not a JSON object")
	}
	if err := checkJSONNoDuplicates(hdr); err != nil {
		return nil, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &top); err != nil {
		return nil, fmt.Errorf("header is not valid JSON")
	}
	var out []stTensor
	names := make([]string, 0, len(top))
	for k := range top {
		names = append(names, k)
	}
	sort.Strings(names)
	for idx, name := range names {
		raw := top[name]
		if name == "__metadata__" {
			var m map[string]string
			if err := json.Unmarshal(raw, &m); err != nil {
				return nil, fmt.Errorf("__metadata__ is not a map of strings")
			}
			continue
		}
		var t struct {
			Dtype   *string   `json:"dtype"`
			Shape   *[]uint64 `json:"shape"`
			Offsets *[]uint64 `json:"data_offsets"`
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&t); err != nil || t.Dtype == nil || t.Shape == nil || t.Offsets == nil {
			return nil, fmt.Errorf("tensor #%d: entry must be an object with dtype, shape (non-negative integers) and data_offsets only", idx)
		}
		bitsPer, ok := safetensorsDtypeBits[*t.Dtype]
		if !ok {
			return nil, fmt.Errorf("tensor #%d: unknown dtype", idx)
		}
		if len(*t.Offsets) != 2 {
			return nil, fmt.Errorf("tensor #%d: data_offsets must have two elements", idx)
		}
		begin, end := (*t.Offsets)[0], (*t.Offsets)[1]
		if end < begin {
			return nil, fmt.Errorf("tensor #%d: data_offsets end before begin", idx)
		}
		elems := uint64(1)
		for _, d := range *t.Shape {
			hi, lo := bits.Mul64(elems, d)
			if hi != 0 {
				return nil, fmt.Errorf("tensor #%d: element count overflows", idx)
			}
			elems = lo
		}
		hi, totalBits := bits.Mul64(elems, bitsPer)
		if hi != 0 {
			return nil, fmt.Errorf("tensor #%d: byte length overflows", idx)
		}
		if totalBits%8 != 0 {
			return nil, fmt.Errorf("tensor #%d: sub-byte dtype with a shape that does not fill whole bytes", idx)
		}
		if totalBits/8 != end-begin {
			return nil, fmt.Errorf("tensor #%d: shape and dtype give %d bytes but data_offsets span %d", idx, totalBits/8, end-begin)
		}
		out = append(out, stTensor{name: name, begin: begin, end: end})
	}
	return out, nil
}

// checkJSONNoDuplicates walks the token stream and fails on a repeated key
// in any object (encoding/json silently keeps the last one; other parsers
// keep the first, so a duplicate lets two loaders see two models).
// Nesting is bounded.
func checkJSONNoDuplicates(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var stack []jsonFrame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if len(stack) != 0 {
				return fmt.Errorf("header JSON truncated")
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("header is not valid JSON (near byte %d)", dec.InputOffset())
		}
		if len(stack) > 0 && stack[len(stack)-1].obj && stack[len(stack)-1].wantKey {
			top := &stack[len(stack)-1]
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				markValueDone(stack)
				continue
			}
			k, _ := tok.(string)
			if top.keys[k] {
				return fmt.Errorf("duplicate key in header JSON (near byte %d)", dec.InputOffset())
			}
			top.keys[k] = true
			top.wantKey = false
			continue
		}
		switch d, _ := tok.(json.Delim); d {
		case '{':
			if len(stack) >= 64 {
				return fmt.Errorf("header JSON nested deeper than 64")
			}
			stack = append(stack, jsonFrame{obj: true, keys: map[string]bool{}, wantKey: true})
		case '[':
			if len(stack) >= 64 {
				return fmt.Errorf("header JSON nested deeper than 64")
			}
			stack = append(stack, jsonFrame{})
		case ']':
			stack = stack[:len(stack)-1]
			markValueDone(stack)
		default:
			markValueDone(stack)
		}
	}
}

// jsonFrame is one open JSON object or array.
type jsonFrame struct {
	obj     bool
	keys    map[string]bool
	wantKey bool
}

// markValueDone records that the enclosing object's current value ended,
// so the next token is a key.
func markValueDone(stack []jsonFrame) {
	if n := len(stack); n > 0 && stack[n-1].obj {
		stack[n-1].wantKey = true
	}
}

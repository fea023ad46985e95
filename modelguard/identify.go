package modelguard

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"path"
	"strings"
)

// ONNX and Keras are identified, not fully parsed: what makes them
// dangerous is an external-data reference that reaches outside the model
// directory (ONNX) and a Lambda layer, which deserialises Python bytecode
// (Keras).

// scanONNX walks the protobuf wire format of an ONNX ModelProto
// (onnx/onnx.proto) far enough to see graph initializers: ModelProto.graph
// (field 7) → GraphProto.initializer (field 5) → TensorProto.external_data
// (field 13, StringStringEntryProto key=1 value=2). Tensor payloads are
// skipped without being read into memory.
func (s *Scanner) scanONNX(r io.Reader, rep *FileReport) {
	w := &pbWalker{r: bufio.NewReaderSize(r, 64<<10)}
	err := w.message(-1, 0, func(field uint64, depth int) bool {
		return depth == 0 && field == 7 || depth == 1 && field == 5 || depth == 2 && field == 13
	}, func(depth int, field uint64, entry []byte) {
		if depth != 3 {
			return
		}
		key, val := parseStringEntry(entry)
		if key != "location" {
			return
		}
		f := Finding{Kind: KindNotice, Severity: SeverityInfo, Rule: "onnx.external-data", Offset: -1,
			Message: "tensor data stored in an external file"}
		clean := path.Clean(strings.ReplaceAll(val, "\\", "/"))
		if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(val, ":") {
			f.Kind, f.Severity, f.Rule = KindDangerous, SeverityHigh, "onnx.external-traversal"
			f.Message = "external data location escapes the model directory"
		}
		rep.Findings = append(rep.Findings, f)
	})
	if err != nil {
		rep.Findings = append(rep.Findings, Finding{Kind: KindInvalid, Severity: SeverityHigh, Rule: "onnx.malformed",
			Offset: w.off, Message: err.Error()})
	}
}

// pbWalker streams protobuf wire format.
type pbWalker struct {
	r   *bufio.Reader
	off int64
}

var errPB = errors.New("malformed protobuf")

func (w *pbWalker) varint() (uint64, error) {
	var v uint64
	for i := 0; i < 10; i++ {
		b, err := w.r.ReadByte()
		if err != nil {
			return 0, errPB
		}
		w.off++
		v |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			return v, nil
		}
	}
	return 0, errPB
}

// message walks n bytes (n < 0: to EOF) of a message at depth. descend
// says which length-delimited fields to walk into; leaf receives the bytes
// of small messages at the deepest level.
func (w *pbWalker) message(n int64, depth int, descend func(uint64, int) bool, leaf func(int, uint64, []byte)) error {
	end := w.off + n
	for n < 0 || w.off < end {
		if n < 0 {
			if _, err := w.r.Peek(1); err != nil {
				return nil
			}
		}
		tag, err := w.varint()
		if err != nil {
			return err
		}
		field, wt := tag>>3, tag&7
		switch wt {
		case 0:
			if _, err := w.varint(); err != nil {
				return err
			}
		case 1, 5:
			k := 8
			if wt == 5 {
				k = 4
			}
			if _, err := w.r.Discard(k); err != nil {
				return errPB
			}
			w.off += int64(k)
		case 2:
			l, err := w.varint()
			if err != nil {
				return err
			}
			if l > 1<<40 || (n >= 0 && int64(l) > end-w.off) {
				return errPB
			}
			switch {
			case depth == 3-1 && descend(field, depth) && l <= 1<<20:
				b := make([]byte, l)
				if _, err := io.ReadFull(w.r, b); err != nil {
					return errPB
				}
				w.off += int64(l)
				leaf(depth+1, field, b)
			case depth < 2 && descend(field, depth):
				if err := w.message(int64(l), depth+1, descend, leaf); err != nil {
					return err
				}
			default:
				if _, err := io.CopyN(io.Discard, w.r, int64(l)); err != nil {
					return errPB
				}
				w.off += int64(l)
			}
		default:
			return errPB
		}
	}
	if w.off != end {
		return errPB
	}
	return nil
}

// parseStringEntry decodes a StringStringEntryProto (key=1, value=2).
func parseStringEntry(b []byte) (key, val string) {
	for len(b) > 0 {
		tag, n := binary.Uvarint(b)
		if n <= 0 {
			return "", ""
		}
		b = b[n:]
		if tag&7 != 2 {
			return "", ""
		}
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return "", ""
		}
		v := string(b[n : n+int(l)])
		b = b[n+int(l):]
		switch tag >> 3 {
		case 1:
			key = v
		case 2:
			val = v
		}
	}
	return key, val
}

// lambdaMarkers are the serialised forms of a Keras Lambda layer.
var lambdaMarkers = [][]byte{[]byte(`"class_name": "Lambda"`), []byte(`"class_name":"Lambda"`)}

// scanHDF5 looks for a Lambda layer in the model_config attribute of a
// Keras HDF5 file. The attribute is stored as plain JSON text, so the first
// 256 MiB are searched in overlapping chunks.
func (s *Scanner) scanHDF5(r io.Reader, rep *FileReport) {
	const limit = 256 << 20
	buf := make([]byte, 1<<20)
	var carry []byte
	var read int64
	for read < limit {
		n, err := io.ReadFull(r, buf)
		chunk := append(carry, buf[:n]...)
		for _, m := range lambdaMarkers {
			if i := bytes.Index(chunk, m); i >= 0 {
				rep.Findings = append(rep.Findings, lambdaFinding("", read-int64(len(carry))+int64(i)))
				return
			}
		}
		read += int64(n)
		if err != nil {
			return
		}
		keep := chunk[max(0, len(chunk)-32):]
		carry = append(make([]byte, 0, 32), keep...)
	}
}

func lambdaFinding(member string, off int64) Finding {
	return Finding{Kind: KindDangerous, Severity: SeverityCritical, Rule: "keras.lambda", Member: member, Offset: off,
		Message: "Keras Lambda layer: loading it runs serialised Python code"}
}

// scanKerasConfig checks a Keras v3 archive's config.json for Lambda layers.
func (s *Scanner) scanKerasConfig(r io.Reader, member string, rep *FileReport) {
	var v any
	dec := json.NewDecoder(io.LimitReader(r, 64<<20))
	if err := dec.Decode(&v); err != nil {
		return // not the Keras config we know; nothing to say
	}
	if findLambda(v, 0) {
		rep.Findings = append(rep.Findings, lambdaFinding(member, -1))
	}
}

func findLambda(v any, depth int) bool {
	if depth > 256 {
		return false
	}
	switch t := v.(type) {
	case map[string]any:
		if t["class_name"] == "Lambda" {
			return true
		}
		for _, e := range t {
			if findLambda(e, depth+1) {
				return true
			}
		}
	case []any:
		for _, e := range t {
			if findLambda(e, depth+1) {
				return true
			}
		}
	}
	return false
}

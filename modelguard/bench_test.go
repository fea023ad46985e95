package modelguard

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkPickleDecode measures opcode decoding on a state-dict-like
// pickle: many tensors, each a rebuild call with memoised globals.
func BenchmarkPickleDecode(b *testing.B) {
	var p bytes.Buffer
	p.WriteString("\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01(")
	p.WriteString("ctorch._utils\n_rebuild_tensor_v2\nq\x02ctorch\nFloatStorage\nq\x03")
	p.WriteString("0")
	for i := 0; i < 20000; i++ {
		name := fmt.Sprintf("layer.%d.weight", i)
		p.WriteString("X")
		binary.Write(&p, binary.LittleEndian, uint32(len(name)))
		p.WriteString(name)
		p.WriteString("h\x02((X\x07\x00\x00\x00storageh\x03X\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQK\x00K\x04\x85K\x01\x85\x89h\x00)RtR")
	}
	p.WriteString("u.")
	data := p.Bytes()
	allow := newAllowlist(nil)
	lim := pickleLimits{maxOps: 1 << 40, maxStack: 100_000, maxMemo: 1_000_000}
	if res := scanPickleStream(bytes.NewReader(data), allow, lim, "", 0); res.err != nil || len(res.findings) != 0 {
		b.Fatalf("benchmark input: err %v findings %v", res.err, res.findings)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		scanPickleStream(bytes.NewReader(data), allow, lim, "", 0)
	}
}

// BenchmarkSafetensorsHeader measures header validation for 10,000 tensors.
func BenchmarkSafetensorsHeader(b *testing.B) {
	var h strings.Builder
	h.WriteString("{")
	off := 0
	for i := 0; i < 10000; i++ {
		if i > 0 {
			h.WriteString(",")
		}
		fmt.Fprintf(&h, `"t%d":{"dtype":"F32","shape":[4,4],"data_offsets":[%d,%d]}`, i, off, off+64)
		off += 64
	}
	h.WriteString("}")
	hdr := []byte(h.String())
	b.SetBytes(int64(len(hdr)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseSafetensorsHeader(hdr); err != nil {
			b.Fatal(err)
		}
	}
}

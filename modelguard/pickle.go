package modelguard

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"strconv"
	"unicode/utf8"
)

// This file decodes pickle opcode streams (protocols 0 to 5, as written by
// CPython's Lib/pickle.py and documented in Lib/pickletools.py) without
// unpickling them. It keeps a model of the unpickler's stack and memo that
// is just precise enough to know, for every import (GLOBAL, STACK_GLOBAL,
// INST, EXT1/2/4), which module and name it resolves to. Every value other
// than a short string is abstract.

// Pickle opcodes.
const (
	opMark           = '('
	opStop           = '.'
	opPop            = '0'
	opPopMark        = '1'
	opDup            = '2'
	opFloat          = 'F'
	opInt            = 'I'
	opBinInt         = 'J'
	opBinInt1        = 'K'
	opLong           = 'L'
	opBinInt2        = 'M'
	opNone           = 'N'
	opPersID         = 'P'
	opBinPersID      = 'Q'
	opReduce         = 'R'
	opString         = 'S'
	opBinString      = 'T'
	opShortBinString = 'U'
	opUnicode        = 'V'
	opBinUnicode     = 'X'
	opAppend         = 'a'
	opBuild          = 'b'
	opGlobal         = 'c'
	opDict           = 'd'
	opEmptyDict      = '}'
	opAppends        = 'e'
	opGet            = 'g'
	opBinGet         = 'h'
	opInst           = 'i'
	opLongBinGet     = 'j'
	opList           = 'l'
	opEmptyList      = ']'
	opObj            = 'o'
	opPut            = 'p'
	opBinPut         = 'q'
	opLongBinPut     = 'r'
	opSetItem        = 's'
	opTuple          = 't'
	opEmptyTuple     = ')'
	opSetItems       = 'u'
	opBinFloat       = 'G'
	opProto          = 0x80
	opNewObj         = 0x81
	opExt1           = 0x82
	opExt2           = 0x83
	opExt4           = 0x84
	opTuple1         = 0x85
	opTuple2         = 0x86
	opTuple3         = 0x87
	opNewTrue        = 0x88
	opNewFalse       = 0x89
	opLong1          = 0x8a
	opLong4          = 0x8b
	opBinBytes       = 'B'
	opShortBinBytes  = 'C'
	opShortBinUni    = 0x8c
	opBinUnicode8    = 0x8d
	opBinBytes8      = 0x8e
	opEmptySet       = 0x8f
	opAddItems       = 0x90
	opFrozenSet      = 0x91
	opNewObjEx       = 0x92
	opStackGlobal    = 0x93
	opMemoize        = 0x94
	opFrame          = 0x95
	opByteArray8     = 0x96
	opNextBuffer     = 0x97
	opReadonlyBuffer = 0x98
)

// isPickleStart reports whether b can begin a pickle: the PROTO opcode with
// a known protocol, or an opcode a protocol 0 or 1 pickle starts with.
func isPickleStart(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	if b[0] == opProto {
		return len(b) >= 2 && b[1] <= 5
	}
	switch b[0] {
	case opMark, opGlobal, opEmptyDict, opEmptyList, opEmptyTuple, opNone,
		opInt, opLong, opFloat, opString, opUnicode, opBinInt, opBinInt1,
		opBinInt2, opBinUnicode, opShortBinString, opBinString, opInst,
		opBinFloat, opPersID:
		return true
	}
	return false
}

// valKind is the abstract kind of a stack value.
type valKind uint8

const (
	valOther  valKind = iota // any value we do not track
	valMark                  // a MARK
	valStr                   // a str whose value is known
	valStrUnk                // a str whose value we do not keep (too long or escaped)
	valBytes                 // bytes, bytearray or a buffer
	valGlobal                // an imported callable
)

type pval struct {
	kind valKind
	s    string // the string for valStr, the callable for valGlobal
}

// maxKeptString bounds strings kept for import resolution; longer strings
// are tracked as valStrUnk and are unresolvable as import operands.
const maxKeptString = 1024

// maxLine bounds a protocol 0 text operand.
const maxLine = 64 << 10

// pickleLimits bound the decoder.
type pickleLimits struct {
	maxOps   int64
	maxStack int
	maxMemo  int
}

// pickleDecoder decodes one or more consecutive pickles from r.
type pickleDecoder struct {
	r      *bufio.Reader
	off    int64 // offset of the next byte in the stream
	base   int64 // added to offsets in findings
	member string
	allow  allowlist
	lim    pickleLimits

	stack    []pval
	memo     map[uint64]pval
	ops      int64
	findings []Finding
	imports  map[string]bool
	// sawSuspect is set when an import with identifier-shaped names was
	// seen: in probe mode such a stream is reported even if it fails later.
	sawSuspect bool
}

func newPickleDecoder(r io.Reader, allow allowlist, lim pickleLimits) *pickleDecoder {
	return &pickleDecoder{r: bufio.NewReaderSize(r, 64<<10), allow: allow, lim: lim,
		memo: map[uint64]pval{}, imports: map[string]bool{}}
}

// pickleError is a decoding failure at an offset.
type pickleError struct {
	off int64
	msg string
}

func (e *pickleError) Error() string { return fmt.Sprintf("offset %d: %s", e.off, e.msg) }

func (d *pickleDecoder) fail(off int64, format string, args ...any) error {
	return &pickleError{off: d.base + off, msg: fmt.Sprintf(format, args...)}
}

func (d *pickleDecoder) readByte() (byte, error) {
	b, err := d.r.ReadByte()
	if err != nil {
		return 0, d.fail(d.off, "truncated pickle")
	}
	d.off++
	return b, nil
}

func (d *pickleDecoder) readUint(n int) (uint64, error) {
	b, err := d.r.Peek(n)
	if err != nil {
		return 0, d.fail(d.off, "truncated pickle")
	}
	var buf [8]byte
	copy(buf[:], b)
	d.r.Discard(n)
	d.off += int64(n)
	return binary.LittleEndian.Uint64(buf[:]), nil
}

// skip discards n bytes without holding them in memory.
func (d *pickleDecoder) skip(n uint64) error {
	if n > 1<<62 {
		return d.fail(d.off, "declared length %d out of range", n)
	}
	got, err := d.r.Discard(int(min(n, 1<<30)))
	d.off += int64(got)
	for err == nil && uint64(got) < n {
		var g int
		g, err = d.r.Discard(int(min(n-uint64(got), 1<<30)))
		got += g
		d.off += int64(g)
	}
	if err != nil {
		return d.fail(d.off, "truncated pickle")
	}
	return nil
}

// readLine reads a protocol 0 operand up to and excluding '\n'.
func (d *pickleDecoder) readLine() (string, error) {
	start := d.off
	var line []byte
	for {
		chunk, err := d.r.ReadSlice('\n')
		line = append(line, chunk...)
		d.off += int64(len(chunk))
		if len(line) > maxLine {
			return "", d.fail(start, "text operand longer than %d bytes", maxLine)
		}
		if err == nil {
			return string(line[:len(line)-1]), nil
		}
		if err != bufio.ErrBufferFull {
			return "", d.fail(d.off, "truncated pickle")
		}
	}
}

// str reads a length-prefixed string operand of n bytes.
func (d *pickleDecoder) str(n uint64, unicode bool) (pval, error) {
	if n > maxKeptString {
		if err := d.skip(n); err != nil {
			return pval{}, err
		}
		return pval{kind: valStrUnk}, nil
	}
	// n <= maxKeptString is far below the reader's buffer size.
	b, err := d.r.Peek(int(n))
	if err != nil {
		return pval{}, d.fail(d.off, "truncated pickle")
	}
	defer func() { d.r.Discard(int(n)); d.off += int64(n) }()
	if !utf8.Valid(b) {
		return pval{kind: valStrUnk}, nil
	}
	if !unicode {
		// BINSTRING decodes with the loader's encoding: only ASCII is certain.
		for _, c := range b {
			if c >= 0x80 {
				return pval{kind: valStrUnk}, nil
			}
		}
	}
	return pval{kind: valStr, s: string(b)}, nil
}

func (d *pickleDecoder) push(v pval) error {
	if len(d.stack) >= d.lim.maxStack {
		return d.fail(d.off, "stack deeper than %d", d.lim.maxStack)
	}
	d.stack = append(d.stack, v)
	return nil
}

// pop removes the top value; a MARK there is an underflow, as in CPython.
func (d *pickleDecoder) pop(at int64) (pval, error) {
	n := len(d.stack)
	if n == 0 || d.stack[n-1].kind == valMark {
		return pval{}, d.fail(at, "stack underflow")
	}
	v := d.stack[n-1]
	d.stack = d.stack[:n-1]
	return v, nil
}

// popMark removes everything down to and including the topmost MARK and
// returns the values above it.
func (d *pickleDecoder) popMark(at int64) ([]pval, error) {
	for i := len(d.stack) - 1; i >= 0; i-- {
		if d.stack[i].kind == valMark {
			items := d.stack[i+1:]
			d.stack = d.stack[:i]
			return items, nil
		}
	}
	return nil, d.fail(at, "no MARK on the stack")
}

func (d *pickleDecoder) top(at int64) (pval, error) {
	n := len(d.stack)
	if n == 0 || d.stack[n-1].kind == valMark {
		return pval{}, d.fail(at, "stack underflow")
	}
	return d.stack[n-1], nil
}

func (d *pickleDecoder) memoPut(at int64, idx uint64) error {
	v, err := d.top(at)
	if err != nil {
		return err
	}
	if _, ok := d.memo[idx]; !ok && len(d.memo) >= d.lim.maxMemo {
		return d.fail(at, "memo larger than %d entries", d.lim.maxMemo)
	}
	d.memo[idx] = v
	return nil
}

func (d *pickleDecoder) memoGet(at int64, idx uint64) error {
	v, ok := d.memo[idx]
	if !ok {
		return d.fail(at, "memo key %d not defined", idx)
	}
	return d.push(v)
}

func (d *pickleDecoder) finding(f Finding) {
	f.Member = d.member
	f.Offset += d.base
	d.findings = append(d.findings, f)
}

// importGlobal judges an import of module.name at offset at and pushes it.
func (d *pickleDecoder) importGlobal(at int64, module, name string) error {
	callable := module + "." + name
	if isDottedIdentifier(module) && isDottedIdentifier(name) {
		d.sawSuspect = true
	}
	if d.allow.allowed(module, name) {
		d.imports[callable] = true
	} else {
		d.finding(Finding{Kind: KindDangerous, Severity: importSeverity(module), Rule: "pickle.import",
			Offset: at, Callable: printable(callable),
			Message: "imports a callable that is not on the allowlist"})
	}
	return d.push(pval{kind: valGlobal, s: callable})
}

// printable makes an untrusted name (a callable, a member) safe to print:
// it keeps visible ASCII except the backslash, escapes everything else as
// \xNN, and caps the length.
func printable(s string) string {
	const maxLen = 200
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s) && len(out) < maxLen; i++ {
		c := s[i]
		if c > ' ' && c < 0x7f && c != '\\' {
			out = append(out, c)
		} else {
			out = append(out, fmt.Sprintf("\\x%02x", c)...)
		}
	}
	if len(out) >= maxLen {
		out = append(out, "..."...)
	}
	return string(out)
}

// unresolvable records an import whose operands could not be resolved.
func (d *pickleDecoder) unresolvable(at int64, op string) {
	d.finding(Finding{Kind: KindDangerous, Severity: SeverityHigh, Rule: "pickle.unresolvable-import",
		Offset: at, Message: op + " operands are not known strings: the imported callable cannot be resolved"})
}

// maxConsecutivePickles is how many pickles torch's legacy format loads
// back to back from one file (magic number, protocol version, system info,
// the object, the storage keys); raw storage bytes follow them.
const maxConsecutivePickles = 5

// run decodes pickles until the input ends. After each STOP it continues
// only if the next byte is a PROTO opcode, and for at most
// maxConsecutivePickles pickles.
func (d *pickleDecoder) run() error {
	for i := 1; ; i++ {
		if err := d.one(); err != nil {
			if d.imports["joblib.numpy_pickle.NumpyArrayWrapper"] {
				if pe, ok := err.(*pickleError); ok {
					pe.msg += " (joblib writes array data inside the pickle stream; such files cannot be fully checked by opcode analysis)"
				}
			}
			return err
		}
		if i == maxConsecutivePickles {
			return nil
		}
		b, err := d.r.Peek(2)
		if err != nil || !isPickleStart(b) || b[0] != opProto {
			return nil
		}
		d.stack = d.stack[:0]
		clear(d.memo)
	}
}

// one decodes a single pickle up to and including STOP.
func (d *pickleDecoder) one() error {
	for {
		d.ops++
		if d.ops > d.lim.maxOps {
			return d.fail(d.off, "more than %d opcodes", d.lim.maxOps)
		}
		at := d.off
		op, err := d.readByte()
		if err != nil {
			return err
		}
		switch op {
		case opStop:
			if _, err := d.pop(at); err != nil {
				return err
			}
			return nil
		case opProto:
			v, err := d.readByte()
			if err != nil {
				return err
			}
			if v > 5 {
				return d.fail(at, "unsupported pickle protocol %d", v)
			}
		case opFrame:
			if _, err := d.readUint(8); err != nil {
				return err
			}
		case opMark:
			err = d.push(pval{kind: valMark})
		case opPop:
			n := len(d.stack)
			if n == 0 {
				return d.fail(at, "stack underflow")
			}
			if d.stack[n-1].kind == valMark {
				_, err = d.popMark(at)
			} else {
				d.stack = d.stack[:n-1]
			}
		case opPopMark:
			_, err = d.popMark(at)
		case opDup:
			var v pval
			if v, err = d.top(at); err == nil {
				err = d.push(v)
			}
		case opNone, opNewTrue, opNewFalse, opEmptyDict, opEmptyList, opEmptyTuple, opEmptySet:
			err = d.push(pval{})
		case opBinInt1:
			if _, err = d.readUint(1); err == nil {
				err = d.push(pval{})
			}
		case opBinInt2:
			if _, err = d.readUint(2); err == nil {
				err = d.push(pval{})
			}
		case opBinInt:
			if _, err = d.readUint(4); err == nil {
				err = d.push(pval{})
			}
		case opBinFloat:
			if _, err = d.readUint(8); err == nil {
				err = d.push(pval{})
			}
		case opInt, opLong, opFloat:
			if _, err = d.readLine(); err == nil {
				err = d.push(pval{})
			}
		case opLong1:
			var n uint64
			if n, err = d.readUint(1); err == nil {
				if err = d.skip(n); err == nil {
					err = d.push(pval{})
				}
			}
		case opLong4:
			var n uint64
			if n, err = d.readUint(4); err == nil {
				if int32(n) < 0 {
					return d.fail(at, "negative LONG4 length")
				}
				if err = d.skip(n); err == nil {
					err = d.push(pval{})
				}
			}
		case opString:
			var line string
			if line, err = d.readLine(); err == nil {
				err = d.push(quotedString(line))
			}
		case opUnicode:
			var line string
			if line, err = d.readLine(); err == nil {
				err = d.push(rawUnicodeString(line))
			}
		case opShortBinString, opShortBinUni, opShortBinBytes:
			var n uint64
			if n, err = d.readUint(1); err == nil {
				err = d.pushString(op, n)
			}
		case opBinString, opBinUnicode, opBinBytes:
			var n uint64
			if n, err = d.readUint(4); err == nil {
				if op == opBinString && int32(n) < 0 {
					return d.fail(at, "negative BINSTRING length")
				}
				err = d.pushString(op, n)
			}
		case opBinUnicode8, opBinBytes8, opByteArray8:
			var n uint64
			if n, err = d.readUint(8); err == nil {
				err = d.pushString(op, n)
			}
		case opNextBuffer:
			err = d.push(pval{kind: valBytes})
		case opReadonlyBuffer:
			_, err = d.top(at)
		case opPersID:
			if _, err = d.readLine(); err == nil {
				err = d.push(pval{})
			}
		case opBinPersID:
			if _, err = d.pop(at); err == nil {
				err = d.push(pval{})
			}
		case opReduce:
			// callable(*args): the callable was judged when it was imported.
			if _, err = d.pop(at); err == nil {
				if _, err = d.pop(at); err == nil {
					err = d.push(pval{})
				}
			}
		case opBuild:
			if _, err = d.pop(at); err == nil {
				_, err = d.top(at)
			}
		case opNewObj:
			if _, err = d.pop(at); err == nil {
				if _, err = d.pop(at); err == nil {
					err = d.push(pval{})
				}
			}
		case opNewObjEx:
			for i := 0; i < 3 && err == nil; i++ {
				_, err = d.pop(at)
			}
			if err == nil {
				err = d.push(pval{})
			}
		case opGlobal:
			var module, name string
			if module, err = d.readLine(); err == nil {
				if name, err = d.readLine(); err == nil {
					err = d.importGlobal(at, module, name)
				}
			}
		case opStackGlobal:
			var name, module pval
			if name, err = d.pop(at); err != nil {
				return err
			}
			if module, err = d.pop(at); err != nil {
				return err
			}
			if name.kind != valStr || module.kind != valStr {
				d.unresolvable(at, "STACK_GLOBAL")
				err = d.push(pval{kind: valGlobal})
			} else {
				err = d.importGlobal(at, module.s, name.s)
			}
		case opInst:
			var module, name string
			if module, err = d.readLine(); err == nil {
				if name, err = d.readLine(); err == nil {
					if _, err = d.popMark(at); err == nil {
						// INST imports and calls in one step.
						if err = d.importGlobal(at, module, name); err == nil {
							d.stack[len(d.stack)-1] = pval{}
						}
					}
				}
			}
		case opObj:
			var items []pval
			if items, err = d.popMark(at); err == nil {
				if len(items) == 0 {
					return d.fail(at, "OBJ without a class")
				}
				err = d.push(pval{})
			}
		case opExt1, opExt2, opExt4:
			n := map[byte]int{opExt1: 1, opExt2: 2, opExt4: 4}[op]
			var code uint64
			if code, err = d.readUint(n); err == nil {
				d.finding(Finding{Kind: KindDangerous, Severity: SeverityHigh, Rule: "pickle.extension",
					Offset: at, Callable: "ext:" + strconv.FormatUint(code, 10),
					Message: "imports through the copyreg extension registry, which cannot be resolved statically"})
				err = d.push(pval{kind: valGlobal})
			}
		case opAppend:
			if _, err = d.pop(at); err == nil {
				_, err = d.top(at)
			}
		case opAppends, opSetItems, opAddItems:
			if _, err = d.popMark(at); err == nil {
				_, err = d.top(at)
			}
		case opList, opTuple, opDict, opFrozenSet:
			if _, err = d.popMark(at); err == nil {
				err = d.push(pval{})
			}
		case opSetItem:
			if _, err = d.pop(at); err == nil {
				if _, err = d.pop(at); err == nil {
					_, err = d.top(at)
				}
			}
		case opTuple1, opTuple2, opTuple3:
			for i := 0; i < int(op-opTuple1)+1 && err == nil; i++ {
				_, err = d.pop(at)
			}
			if err == nil {
				err = d.push(pval{})
			}
		case opGet:
			var line string
			if line, err = d.readLine(); err == nil {
				idx, perr := strconv.ParseUint(line, 10, 64)
				if perr != nil {
					return d.fail(at, "GET index is not a decimal integer")
				}
				err = d.memoGet(at, idx)
			}
		case opBinGet:
			var idx uint64
			if idx, err = d.readUint(1); err == nil {
				err = d.memoGet(at, idx)
			}
		case opLongBinGet:
			var idx uint64
			if idx, err = d.readUint(4); err == nil {
				err = d.memoGet(at, idx)
			}
		case opPut:
			var line string
			if line, err = d.readLine(); err == nil {
				idx, perr := strconv.ParseUint(line, 10, 64)
				if perr != nil {
					return d.fail(at, "PUT index is not a decimal integer")
				}
				err = d.memoPut(at, idx)
			}
		case opBinPut:
			var idx uint64
			if idx, err = d.readUint(1); err == nil {
				err = d.memoPut(at, idx)
			}
		case opLongBinPut:
			var idx uint64
			if idx, err = d.readUint(4); err == nil {
				err = d.memoPut(at, idx)
			}
		case opMemoize:
			err = d.memoPut(at, uint64(len(d.memo)))
		default:
			return d.fail(at, "unknown opcode 0x%02x", op)
		}
		if err != nil {
			return err
		}
	}
}

func (d *pickleDecoder) pushString(op byte, n uint64) error {
	switch op {
	case opShortBinBytes, opBinBytes, opBinBytes8, opByteArray8:
		if err := d.skip(n); err != nil {
			return err
		}
		return d.push(pval{kind: valBytes})
	}
	v, err := d.str(n, op != opShortBinString && op != opBinString)
	if err != nil {
		return err
	}
	return d.push(v)
}

// quotedString decodes a STRING operand ('...' or "..."). Only escape-free
// ASCII is decoded; anything else is a string of unknown value.
func quotedString(line string) pval {
	if len(line) < 2 || (line[0] != '\'' && line[0] != '"') || line[len(line)-1] != line[0] {
		return pval{kind: valStrUnk}
	}
	s := line[1 : len(line)-1]
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' || s[i] >= 0x80 {
			return pval{kind: valStrUnk}
		}
	}
	return pval{kind: valStr, s: s}
}

// rawUnicodeString decodes a UNICODE operand (raw-unicode-escape). Lines
// with escapes are strings of unknown value.
func rawUnicodeString(line string) pval {
	for i := 0; i < len(line); i++ {
		if line[i] == '\\' || line[i] >= 0x80 {
			return pval{kind: valStrUnk}
		}
	}
	return pval{kind: valStr, s: line}
}

// pickleResult is what scanning one pickle stream found.
type pickleResult struct {
	findings []Finding
	imports  []string
	err      error // the stream is malformed or exceeds a limit
	suspect  bool
}

// scanPickleStream decodes r. base is added to every offset; member names
// the archive member.
func scanPickleStream(r io.Reader, allow allowlist, lim pickleLimits, member string, base int64) pickleResult {
	d := newPickleDecoder(r, allow, lim)
	d.member, d.base = member, base
	err := d.run()
	res := pickleResult{findings: d.findings, err: err, suspect: d.sawSuspect}
	for k := range d.imports {
		res.imports = append(res.imports, k)
	}
	sort.Strings(res.imports)
	return res
}

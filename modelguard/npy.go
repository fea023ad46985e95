package modelguard

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// NumPy .npy (numpy/lib/format.py): "\x93NUMPY", major, minor, a header
// length (2 bytes in version 1, 4 in versions 2 and 3), then a Python dict
// literal such as {'descr': '<f4', 'fortran_order': False, 'shape': (3,), }.
// An object dtype ('O', alone or inside a structured dtype) means the data
// that follows is a pickle, which is scanned like any other.

func (s *Scanner) scanNpy(r *bufio.Reader, member string, rep *FileReport) {
	bad := func(off int64, msg string) {
		rep.Findings = append(rep.Findings, Finding{Kind: KindInvalid, Severity: SeverityHigh, Rule: "npy.malformed",
			Member: member, Offset: off, Message: msg})
	}
	var pre [10]byte
	if _, err := io.ReadFull(r, pre[:8]); err != nil {
		bad(0, "truncated header")
		return
	}
	major := pre[6]
	var hlen uint64
	off := int64(8)
	switch major {
	case 1:
		if _, err := io.ReadFull(r, pre[8:10]); err != nil {
			bad(off, "truncated header")
			return
		}
		hlen = uint64(binary.LittleEndian.Uint16(pre[8:]))
		off += 2
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			bad(off, "truncated header")
			return
		}
		hlen = uint64(binary.LittleEndian.Uint32(b[:]))
		off += 4
	default:
		bad(6, fmt.Sprintf("unsupported format version %d", major))
		return
	}
	if hlen > uint64(s.cfg.MaxHeaderSize) {
		bad(off, fmt.Sprintf("header longer than %d bytes (MaxHeaderSize)", s.cfg.MaxHeaderSize))
		return
	}
	// Read through a limit rather than allocating the declared length, so a
	// short input cannot make us allocate MaxHeaderSize.
	hb, err := io.ReadAll(io.LimitReader(r, int64(hlen)))
	if err != nil || uint64(len(hb)) != hlen {
		bad(off, "truncated header")
		return
	}
	if major == 3 && !utf8.Valid(hb) {
		bad(off, "header is not UTF-8")
		return
	}
	v, err := parsePyLiteral(string(hb))
	if err != nil {
		bad(off, "header is not a Python dict literal: "+err.Error())
		return
	}
	dict, ok := v.(map[string]any)
	if !ok {
		bad(off, "header is not a dict")
		return
	}
	descr, ok := dict["descr"]
	if _, hasShape := dict["shape"]; !ok || !hasShape {
		bad(off, "header lacks descr or shape")
		return
	}
	if !hasObjectDtype(descr, 0) {
		return
	}
	res := scanPickleStream(r, s.allow, s.pickleLimits(), member, off+int64(hlen))
	s.addPickle(res, true, member, rep)
}

// hasObjectDtype reports whether a descr holds an object field. A
// descr is a type string ("|O", "<f4") or a list of (name, descr[, shape]).
func hasObjectDtype(v any, depth int) bool {
	if depth > 32 {
		return true
	}
	switch t := v.(type) {
	case string:
		s := strings.TrimLeft(t, "<>|=")
		return strings.HasPrefix(s, "O")
	case []any:
		for i, e := range t {
			// In a field tuple the first element is the field name.
			if tup, ok := e.([]any); ok && len(tup) >= 2 {
				if hasObjectDtype(tup[1], depth+1) {
					return true
				}
				continue
			}
			if _, ok := e.(string); ok && i > 0 {
				if hasObjectDtype(e, depth+1) {
					return true
				}
			}
		}
	}
	return false
}

// parsePyLiteral parses the subset of Python literals .npy headers use:
// dicts, lists, tuples, quoted strings without escapes, integers, True,
// False and None. Nesting is bounded.
func parsePyLiteral(src string) (any, error) {
	p := &pyParser{s: src}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("trailing bytes at %d", p.i)
	}
	return v, nil
}

type pyParser struct {
	s string
	i int
}

func (p *pyParser) ws() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *pyParser) value(depth int) (any, error) {
	if depth > 32 {
		return nil, fmt.Errorf("nesting deeper than 32")
	}
	p.ws()
	if p.i >= len(p.s) {
		return nil, fmt.Errorf("unexpected end")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		p.i++
		m := map[string]any{}
		for {
			p.ws()
			if p.i < len(p.s) && p.s[p.i] == '}' {
				p.i++
				return m, nil
			}
			k, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("dict key at %d is not a string", p.i)
			}
			p.ws()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return nil, fmt.Errorf("expected ':' at %d", p.i)
			}
			p.i++
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			if _, dup := m[ks]; dup {
				return nil, fmt.Errorf("duplicate key at %d", p.i)
			}
			m[ks] = v
			if !p.sep('}') {
				return nil, fmt.Errorf("expected ',' or '}' at %d", p.i)
			}
		}
	case c == '(' || c == '[':
		closer := byte(')')
		if c == '[' {
			closer = ']'
		}
		p.i++
		var l []any
		for {
			p.ws()
			if p.i < len(p.s) && p.s[p.i] == closer {
				p.i++
				return l, nil
			}
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
			if !p.sep(closer) {
				return nil, fmt.Errorf("expected ',' at %d", p.i)
			}
		}
	case c == '\'' || c == '"':
		end := strings.IndexByte(p.s[p.i+1:], c)
		if end < 0 {
			return nil, fmt.Errorf("unterminated string at %d", p.i)
		}
		str := p.s[p.i+1 : p.i+1+end]
		if strings.ContainsRune(str, '\\') {
			return nil, fmt.Errorf("escaped string at %d", p.i)
		}
		p.i += end + 2
		return str, nil
	case c >= '0' && c <= '9' || c == '-':
		start := p.i
		p.i++
		for p.i < len(p.s) && (p.s[p.i] >= '0' && p.s[p.i] <= '9' || p.s[p.i] == 'L') {
			p.i++
		}
		return p.s[start:p.i], nil
	default:
		for _, w := range []string{"True", "False", "None"} {
			if strings.HasPrefix(p.s[p.i:], w) {
				p.i += len(w)
				return w == "True", nil
			}
		}
		return nil, fmt.Errorf("unexpected character at %d", p.i)
	}
}

// sep consumes a ',' (returning true) or sees the closer (true, not consumed).
func (p *pyParser) sep(closer byte) bool {
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ',' {
		p.i++
		return true
	}
	return p.i < len(p.s) && p.s[p.i] == closer
}

package detect

import (
	"encoding/binary"
	"hash/maphash"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The JSON tokenizer: one pass over the document with an explicit stack
// (no recursion, so depth costs heap, bounded by max_depth, not Go stack).
// It validates RFC 8259 syntax, tracks the path of the current value
// lazily (frames remember the raw span of the current key and the current
// index; the path string is built only when a finding, a callback or an
// error needs it), matches path patterns incrementally (each frame keeps
// the patterns still alive for its members) and, when rewriting, copies
// the unchanged stretches of the document into the output.

// walkMode says what the walker does with the values it meets.
type walkMode uint8

const (
	walkValidate walkMode = iota // syntax and limits only
	walkScan                     // collect findings
	walkRewrite                  // findings + replacement callback
	walkVisit                    // callback for every value
	walkMinimize                 // field allowlist (refuse or drop)
)

// String flags from scanString.
const (
	strEscaped = 1 << iota // holds a backslash escape
	strBadUTF8             // holds invalid UTF-8 (only when allowed)
)

// jsonFrame is one open object or array.
type jsonFrame struct {
	array bool
	// keyFlags are the scanString flags of the current key.
	keyFlags uint8
	// index is the current element's index (arrays).
	index int
	// keyStart, keyEnd span the current member's key literal (objects),
	// quotes included.
	keyStart, keyEnd int
	// act is the rule covering the container (and so its members unless
	// a deeper rule matches): a field rule index, or for the allowlist
	// any index meaning "allowed"; -1 for none.
	act int32
	// aliveLo, aliveHi index the walker's arena: the patterns that
	// matched the container's path so far and have steps left.
	aliveLo, aliveHi int32
	// sep is the offset just after the opening bracket or the last comma.
	sep int
	// open is the offset of the opening bracket.
	open int
	// kept counts the members kept so far (allowlist drop).
	kept int
	// keysLo indexes the walker's keys: the keys of this object seen so
	// far (JSONConfig.UniqueKeys).
	keysLo int32
	// keySet maps the folded-key hashes of a large object to the key's
	// index in the walker's keys (UniqueKeys).
	keySet map[uint64]int32
}

type jsonWalker struct {
	doc   []byte
	o     *JSONOptions
	mode  walkMode
	rules pathRules
	stack []jsonFrame
	arena []int32
	// keys are the spans of the keys of the open objects, for
	// JSONConfig.UniqueKeys: each frame owns keys[keysLo:] while it is
	// the innermost object.
	keys []keySpan
	seed maphash.Seed

	// The rule state of the value about to be parsed.
	curAct       int32
	curLo, curHi int32

	// dropDepth is the stack depth of the member being dropped, or -1.
	dropDepth int

	scratch, keyBuf, ctxBuf, pathBuf []byte

	out     []byte
	copied  int
	changed bool

	engine    *Engine
	findings  []JSONFinding
	walkFn    JSONWalkFunc
	rewriteFn JSONRewriteFunc

	defaults JSONOptions
}

// keySpan is an object key seen: its literal's span and scanString
// flags.
type keySpan struct {
	start, end int
	flags      uint8
}

// smallObjectKeys is how many keys an object may hold before UniqueKeys
// switches from pairwise comparison to a set.
const smallObjectKeys = 16

// getWalker returns a walker prepared for doc: from o's pool when o is
// set (so buffers are reused across documents), else a fresh one with the
// default options.
func getWalker(doc []byte, o *JSONOptions, mode walkMode) *jsonWalker {
	var w *jsonWalker
	if o != nil {
		w, _ = o.pool.Get().(*jsonWalker)
	}
	if w == nil {
		w = &jsonWalker{}
	}
	if o == nil {
		w.defaults = defaultJSONOptions()
		o = &w.defaults
	}
	w.doc, w.o, w.mode, w.dropDepth = doc, o, mode, -1
	if w.stack == nil {
		w.stack = make([]jsonFrame, 0, 16)
	}
	w.stack, w.arena, w.keys = w.stack[:0], w.arena[:0], w.keys[:0]
	w.out, w.copied, w.changed = nil, 0, false
	switch mode {
	case walkScan, walkRewrite, walkVisit:
		w.rules = o.fields
	case walkMinimize:
		w.rules = o.allow
	default:
		w.rules = pathRules{rootMatch: -1}
	}
	return w
}

// maxPooledBuffer bounds the buffers a pooled walker keeps.
const maxPooledBuffer = 64 << 10

// putWalker returns w to the pool of the options it was made for. It drops
// every reference to caller data and zeroes the buffers that held decoded
// values, so a pooled walker keeps no document content.
func putWalker(w *jsonWalker, o *JSONOptions) {
	if o == nil {
		return
	}
	w.doc, w.o, w.engine, w.findings, w.walkFn, w.rewriteFn, w.out = nil, nil, nil, nil, nil, nil, nil
	for _, b := range []*[]byte{&w.scratch, &w.keyBuf, &w.ctxBuf, &w.pathBuf} {
		if cap(*b) > maxPooledBuffer {
			*b = nil
			continue
		}
		clear((*b)[:cap(*b)])
	}
	if cap(w.stack) > 256 {
		w.stack = nil
	}
	if cap(w.arena) > 4096 {
		w.arena = nil
	}
	if cap(w.keys) > 4096 {
		w.keys = nil
	}
	o.pool.Put(w)
}

// output returns the rewritten document, or doc when nothing changed.
func (w *jsonWalker) output() []byte {
	if !w.changed {
		return w.doc
	}
	return append(w.out, w.doc[w.copied:]...)
}

func (w *jsonWalker) walk() error {
	d := w.doc
	n := len(d)
	o := w.o
	if n > o.maxBytes {
		return &JSONLimitError{Limit: "max_bytes", Max: o.maxBytes, Offset: o.maxBytes}
	}
	w.curAct = w.rules.rootMatch
	w.arena = append(w.arena[:0], w.rules.root...)
	w.curLo, w.curHi = 0, int32(len(w.arena))
	i := skipWS(d, 0)
	for {
		// A value starts at i.
		if i >= n {
			return w.eof()
		}
		c := d[i]
		if w.mode == walkMinimize && len(w.stack) > 0 && w.dropDepth < 0 {
			if err := w.decide(c); err != nil {
				return err
			}
		}
		var end int
		switch {
		case c == '{' || c == '[':
			if len(w.stack) >= o.maxDepth {
				return &JSONLimitError{Limit: "max_depth", Max: o.maxDepth, Offset: i}
			}
			w.stack = append(w.stack, jsonFrame{array: c == '[', act: w.curAct, aliveLo: w.curLo, aliveHi: w.curHi, sep: i + 1, open: i, keysLo: int32(len(w.keys))})
			top := &w.stack[len(w.stack)-1]
			i = skipWS(d, i+1)
			if i >= n {
				return w.eof()
			}
			if c == '[' {
				if d[i] == ']' {
					end = i + 1
					if err := w.pop(end); err != nil {
						return err
					}
					break
				}
				w.enterChild(top, 0)
				continue
			}
			if d[i] == '}' {
				end = i + 1
				if err := w.pop(end); err != nil {
					return err
				}
				break
			}
			var err error
			if i, err = w.member(top, i); err != nil {
				return err
			}
			continue
		case c == '"':
			e, flags, err := w.scanString(i)
			if err != nil {
				return err
			}
			if w.mode != walkValidate && w.mode != walkMinimize {
				if err := w.visit(i, e, flags, false); err != nil {
					return err
				}
			}
			end = e
		case c == '-' || (c >= '0' && c <= '9'):
			e, err := w.scanNumber(i)
			if err != nil {
				return err
			}
			if w.mode != walkValidate && w.mode != walkMinimize && !o.skipNumbers {
				if err := w.visit(i, e, 0, true); err != nil {
					return err
				}
			}
			end = e
		case c == 't':
			e, err := w.literal(i, "true")
			if err != nil {
				return err
			}
			if err := w.visitLiteral(i, e); err != nil {
				return err
			}
			end = e
		case c == 'f':
			e, err := w.literal(i, "false")
			if err != nil {
				return err
			}
			if err := w.visitLiteral(i, e); err != nil {
				return err
			}
			end = e
		case c == 'n':
			e, err := w.literal(i, "null")
			if err != nil {
				return err
			}
			if err := w.visitLiteral(i, e); err != nil {
				return err
			}
			end = e
		default:
			return w.unexpected(i, "want a value")
		}
		// The value ending at end is complete; close the containers that
		// end with it, then move to the next value.
		i = end
		for {
			if w.dropDepth == len(w.stack) {
				w.copied = i
				w.dropDepth = -1
			}
			i = skipWS(d, i)
			if len(w.stack) == 0 {
				if i < n {
					return w.unexpected(i, "after the top-level value")
				}
				return nil
			}
			if i >= n {
				return w.eof()
			}
			top := &w.stack[len(w.stack)-1]
			c := d[i]
			if c == ',' {
				if w.mode == walkMinimize && o.drop && w.dropDepth < 0 {
					w.out = append(w.out, d[w.copied:i]...)
					w.copied = i + 1
				}
				top.sep = i + 1
				j := skipWS(d, i+1)
				if top.array {
					top.index++
					w.enterChild(top, top.index)
					i = j
				} else {
					var err error
					if i, err = w.member(top, j); err != nil {
						return err
					}
				}
				break
			}
			if (top.array && c == ']') || (!top.array && c == '}') {
				i++
				if err := w.pop(i); err != nil {
					return err
				}
				continue
			}
			if top.array {
				return w.unexpected(i, "want ',' or ']'")
			}
			return w.unexpected(i, "want ',' or '}'")
		}
	}
}

// member parses an object key at i and the colon after it, and returns the
// offset of the member's value.
func (w *jsonWalker) member(top *jsonFrame, i int) (int, error) {
	d := w.doc
	if i >= len(d) {
		return 0, w.eof()
	}
	if d[i] != '"' {
		return 0, w.unexpected(i, "want an object key")
	}
	end, flags, err := w.scanString(i)
	if err != nil {
		return 0, err
	}
	top.keyStart, top.keyEnd, top.keyFlags = i, end, flags
	j := skipWS(d, end)
	if j >= len(d) {
		return 0, w.eof()
	}
	if d[j] != ':' {
		return 0, w.unexpected(j, "want ':' after an object key")
	}
	if w.o.uniqueKeys {
		if err := w.checkKey(top); err != nil {
			return 0, err
		}
	}
	w.enterChild(top, 0)
	if w.mode == walkVisit && w.o.keys {
		if err := w.visitKey(top); err != nil {
			return 0, err
		}
	}
	return skipWS(d, j+1), nil
}

// tooDeep reports whether the value being parsed lies deeper than
// JSONConfig.VisitDepth.
func (w *jsonWalker) tooDeep() bool {
	return w.o.visitDepth > 0 && len(w.stack) > w.o.visitDepth
}

// pop closes the innermost container, which ends at end, and reports it
// to a WalkJSON callback that asked for containers.
func (w *jsonWalker) pop(end int) error {
	top := &w.stack[len(w.stack)-1]
	w.keys = w.keys[:top.keysLo]
	top.keySet = nil
	open := top.open
	w.stack = w.stack[:len(w.stack)-1]
	if w.mode != walkVisit || !w.o.containers || w.tooDeep() {
		return nil
	}
	path := w.path()
	key := bytesToString(w.nearestKey())
	_, _, err := w.walkFn(JSONValue{Path: path, Key: key, Value: bytesToString(w.doc[open:end]), Container: true, Start: open, End: end})
	return err
}

// checkKey refuses top's current key when the object already holds it,
// or a key that differs from it only by case (JSONConfig.UniqueKeys).
// Small objects compare pairwise; larger ones keep a set of keyed hashes
// of the case-folded keys (no copy of the keys), checked by comparison
// on a hit.
func (w *jsonWalker) checkKey(top *jsonFrame) error {
	cur := keySpan{top.keyStart, top.keyEnd, top.keyFlags}
	seen := w.keys[top.keysLo:]
	k := w.keyString(cur, &w.keyBuf)
	if top.keySet == nil && len(seen) < smallObjectKeys {
		for _, o := range seen {
			if strings.EqualFold(k, w.keyString(o, &w.scratch)) {
				return w.duplicateKey()
			}
		}
		w.keys = append(w.keys, cur)
		return nil
	}
	if top.keySet == nil {
		top.keySet = make(map[uint64]int32, 2*len(seen))
		for i, o := range seen {
			top.keySet[w.foldHash(w.keyString(o, &w.scratch))] = top.keysLo + int32(i)
		}
	}
	h := w.foldHash(k)
	if j, hit := top.keySet[h]; hit {
		if strings.EqualFold(k, w.keyString(w.keys[j], &w.scratch)) {
			return w.duplicateKey()
		}
		// A hash collision between different keys (the seed is random
		// per walker, so nobody can aim for one): keep the first.
	} else {
		top.keySet[h] = int32(len(w.keys))
	}
	w.keys = append(w.keys, cur)
	return nil
}

// foldHash hashes k under simple case folding: keys that strings.EqualFold
// holds equal hash alike. Each rune is replaced by the smallest rune of
// its folding orbit.
func (w *jsonWalker) foldHash(k string) uint64 {
	if w.seed == (maphash.Seed{}) {
		w.seed = maphash.MakeSeed()
	}
	var h maphash.Hash
	h.SetSeed(w.seed)
	var buf [4]byte
	for _, r := range k {
		switch {
		case r < utf8.RuneSelf:
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			h.WriteByte(byte(r))
			continue
		default:
			m := r
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				m = min(m, f)
			}
			if m < utf8.RuneSelf && 'A' <= m && m <= 'Z' {
				m += 'a' - 'A'
			}
			n := utf8.EncodeRune(buf[:], m)
			h.Write(buf[:n])
		}
	}
	return h.Sum64()
}

// duplicateKey reports the object being parsed (its path, not the key).
func (w *jsonWalker) duplicateKey() error {
	p := w.path()
	if i := strings.LastIndexAny(p, ".["); i > 0 {
		p = p[:i] // the object's path: the key itself is not named
	} else {
		p = "$"
	}
	return &JSONFieldError{Path: p, Reason: "an object holds the same key twice, or two keys that differ only by case"}
}

// keyString returns the decoded key of span k; the result may share buf
// (or the document) and is valid until buf is reused.
func (w *jsonWalker) keyString(k keySpan, buf *[]byte) string {
	raw := w.doc[k.start+1 : k.end-1]
	if k.flags == 0 {
		return bytesToString(raw)
	}
	*buf = decodeJSONString((*buf)[:0], raw, k.flags)
	return bytesToString(*buf)
}

// visitKey hands top's current key to a WalkJSON callback that asked for
// keys, unless a "never" rule covers the member.
func (w *jsonWalker) visitKey(top *jsonFrame) error {
	if w.tooDeep() {
		return nil
	}
	if w.curAct >= 0 && w.o.fieldRules[w.curAct].Action == FieldNever {
		return nil
	}
	path := w.path()
	key := w.keyString(keySpan{top.keyStart, top.keyEnd, top.keyFlags}, &w.scratch)
	repl, changed, err := w.walkFn(JSONValue{Path: path, Key: key, Value: key, IsKey: true, Start: top.keyStart, End: top.keyEnd})
	if err != nil {
		return err
	}
	if changed {
		w.replace(top.keyStart, top.keyEnd, repl)
	}
	return nil
}

// enterChild computes the rule state of top's current member (its key for
// an object, index for an array).
func (w *jsonWalker) enterChild(top *jsonFrame, index int) {
	w.curAct = top.act
	if top.aliveLo == top.aliveHi {
		w.curLo, w.curHi = top.aliveHi, top.aliveHi
		return
	}
	w.arena = w.arena[:top.aliveHi]
	lo := int32(len(w.arena))
	var key []byte
	if !top.array {
		key = w.keyBytes(top)
	}
	step := len(w.stack) - 1
	best := int32(-1)
	for _, r := range w.arena[top.aliveLo:top.aliveHi] {
		seg := &w.rules.pats[r][step]
		if top.array && !seg.matchIndex(index) || !top.array && !seg.matchKey(key) {
			continue
		}
		if len(w.rules.pats[r]) == step+1 {
			if best < 0 || (w.mode != walkMinimize && w.o.betterRule(int(r), int(best))) {
				best = r
			}
			continue
		}
		w.arena = append(w.arena, r)
	}
	if best >= 0 {
		w.curAct = best
	}
	w.curLo, w.curHi = lo, int32(len(w.arena))
}

// decide applies the field allowlist to the member whose value starts
// with byte c.
func (w *jsonWalker) decide(c byte) error {
	top := &w.stack[len(w.stack)-1]
	keep := w.curAct >= 0 || (w.curLo < w.curHi && (c == '{' || c == '['))
	if !keep && !w.o.drop {
		return &JSONFieldError{Path: w.path(), Reason: "not in the field allowlist"}
	}
	if !w.o.drop {
		return nil
	}
	w.out = append(w.out, w.doc[w.copied:top.sep]...)
	w.copied = top.sep
	if keep {
		if top.kept > 0 {
			w.out = append(w.out, ',')
		}
		top.kept++
		return nil
	}
	w.dropDepth = len(w.stack)
	w.changed = true
	return nil
}

// keyBytes returns the decoded key of f's current member. The result may
// share w.keyBuf.
func (w *jsonWalker) keyBytes(f *jsonFrame) []byte {
	raw := w.doc[f.keyStart+1 : f.keyEnd-1]
	if f.keyFlags == 0 {
		return raw
	}
	w.keyBuf = decodeJSONString(w.keyBuf[:0], raw, f.keyFlags)
	return w.keyBuf
}

// path returns the path of the value being parsed.
func (w *jsonWalker) path() string {
	b := append(w.pathBuf[:0], '$')
	for k := range w.stack {
		f := &w.stack[k]
		if f.array {
			b = appendPathIndex(b, f.index)
		} else {
			b = appendPathKey(b, w.keyBytes(f))
		}
	}
	w.pathBuf = b
	return string(b)
}

// nearestKey returns the key of the innermost object member holding the
// current value, or nil.
func (w *jsonWalker) nearestKey() []byte {
	for k := len(w.stack) - 1; k >= 0; k-- {
		if f := &w.stack[k]; !f.array {
			return w.keyBytes(f)
		}
	}
	return nil
}

// maxContextKey bounds the key put in front of a value as context; the
// recognizers look only 64 bytes back.
const maxContextKey = 48

// visitLiteral hands true, false or null at doc[start:end] to a
// WalkJSON callback that asked for literals.
func (w *jsonWalker) visitLiteral(start, end int) error {
	if w.mode != walkVisit || !w.o.literals || w.tooDeep() {
		return nil
	}
	if w.curAct >= 0 && w.o.fieldRules[w.curAct].Action == FieldNever {
		return nil
	}
	path := w.path()
	key := bytesToString(w.nearestKey()) // after path(): both use keyBuf
	repl, changed, err := w.walkFn(JSONValue{Path: path, Key: key, Value: bytesToString(w.doc[start:end]), Literal: true, Start: start, End: end})
	if err != nil {
		return err
	}
	if changed {
		w.replace(start, end, repl)
	}
	return nil
}

// visit handles a string (flags from scanString) or number literal
// spanning doc[start:end].
func (w *jsonWalker) visit(start, end int, flags uint8, number bool) error {
	if w.mode == walkVisit && w.tooDeep() {
		return nil
	}
	var rule *FieldRule
	if w.curAct >= 0 {
		rule = &w.o.fieldRules[w.curAct]
		if rule.Action == FieldNever {
			return nil
		}
	}
	var val string
	switch {
	case number:
		val = bytesToString(w.doc[start:end])
	case flags == 0:
		val = bytesToString(w.doc[start+1 : end-1])
	default:
		w.scratch = decodeJSONString(w.scratch[:0], w.doc[start+1:end-1], flags)
		val = bytesToString(w.scratch)
	}
	if w.mode == walkVisit {
		path := w.path()
		key := bytesToString(w.nearestKey()) // after path(): both use keyBuf
		repl, changed, err := w.walkFn(JSONValue{Path: path, Key: key, Value: val, Number: number, Start: start, End: end})
		if err != nil {
			return err
		}
		if changed {
			w.replace(start, end, repl)
		}
		return nil
	}
	var fs []Finding
	if rule != nil {
		if val == "" {
			return nil
		}
		fs = []Finding{{Type: rule.Type, Category: rule.Category, Start: 0, End: len(val), Score: 1, Recognizer: "json_field"}}
	} else {
		fs = w.scanValue(val)
		if len(fs) == 0 {
			return nil
		}
	}
	path := w.path()
	for k := range fs {
		fs[k].Path = path
	}
	if w.mode == walkScan {
		for _, f := range fs {
			w.findings = append(w.findings, JSONFinding{Finding: f, ValueStart: start, ValueEnd: end})
		}
		return nil
	}
	repl, changed, err := w.rewriteFn(JSONValue{Path: path, Value: val, Number: number, Start: start, End: end}, fs)
	if err != nil {
		return err
	}
	if changed {
		w.replace(start, end, repl)
	}
	return nil
}

// scanValue runs the engine over val, with the nearest key in front as
// context unless configured otherwise.
func (w *jsonWalker) scanValue(val string) []Finding {
	if !w.o.keyContext {
		return w.engine.Scan(val)
	}
	key := w.nearestKey()
	if len(key) == 0 || len(key) > maxContextKey {
		return w.engine.Scan(val)
	}
	b := appendContextKey(w.ctxBuf[:0], key)
	b = append(b, ':', ' ')
	pre := len(b)
	b = append(b, val...)
	w.ctxBuf = b
	fs := w.engine.Scan(bytesToString(b))
	kept := fs[:0]
	for _, f := range fs {
		if f.Start < pre {
			continue // in or across the key
		}
		f.Start -= pre
		f.End -= pre
		kept = append(kept, f)
	}
	return kept
}

// appendContextKey appends key split into words for the context matcher,
// which wants context words at word starts: "customerSsn" and
// "customer_ssn" become "customer Ssn" and "customer ssn".
func appendContextKey(dst, key []byte) []byte {
	for i, c := range key {
		switch {
		case c == '_' || c == '-' || c == '.':
			c = ' '
		case c >= 'A' && c <= 'Z' && i > 0 && key[i-1] >= 'a' && key[i-1] <= 'z':
			dst = append(dst, ' ')
		}
		dst = append(dst, c)
	}
	return dst
}

// replace writes repl as a JSON string in place of doc[start:end].
func (w *jsonWalker) replace(start, end int, repl string) {
	if w.out == nil {
		w.out = make([]byte, 0, len(w.doc)+len(repl)+16)
	}
	w.out = append(w.out, w.doc[w.copied:start]...)
	w.out = appendJSONString(w.out, repl)
	w.copied = end
	w.changed = true
}

func skipWS(d []byte, i int) int {
	for i < len(d) {
		switch d[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// strPlain marks the bytes a string may hold without a closer look:
// printable ASCII other than the quote and the backslash.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// swarPlain reports whether all eight bytes of x are plain string bytes
// (no quote, backslash, control character or non-ASCII byte), by the
// "has zero byte" bit trick (Hacker's Delight §6-1).
func swarPlain(x uint64) bool {
	q := x ^ (lsb * '"')
	b := x ^ (lsb * '\\')
	m := (x - lsb*0x20) | (q - lsb) | (b - lsb) | x
	return m&msb == 0
}

// scanString checks the string literal starting at doc[i] (a quote) and
// returns the offset after its closing quote.
func (w *jsonWalker) scanString(i int) (int, uint8, error) {
	d := w.doc
	n := len(d)
	j := i + 1
	var flags uint8
	for {
		for j+8 <= n && swarPlain(binary.LittleEndian.Uint64(d[j:])) {
			j += 8
		}
		for j < n && strPlain[d[j]] {
			j++
		}
		if j >= n {
			return 0, 0, w.eof()
		}
		switch c := d[j]; {
		case c == '"':
			if w.o.maxString > 0 && j-i-1 > w.o.maxString {
				return 0, 0, &JSONLimitError{Limit: "max_string", Max: w.o.maxString, Offset: i}
			}
			return j + 1, flags, nil
		case c == '\\':
			flags |= strEscaped
			if j+1 >= n {
				return 0, 0, w.eof()
			}
			switch d[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				r, err := w.hexEscape(j)
				if err != nil {
					return 0, 0, err
				}
				switch {
				case r >= 0xD800 && r < 0xDC00:
					if j+11 < n && d[j+6] == '\\' && d[j+7] == 'u' {
						if r2, ok := hex4(d[j+8 : j+12]); ok && r2 >= 0xDC00 && r2 < 0xE000 {
							j += 12
							continue
						}
					}
					fallthrough
				case r >= 0xDC00 && r < 0xE000:
					if !w.o.allowInvalid {
						return 0, 0, &JSONSyntaxError{Offset: j, Msg: "unpaired surrogate escape in string"}
					}
				}
				j += 6
			default:
				return 0, 0, &JSONSyntaxError{Offset: j, Msg: "invalid escape in string"}
			}
		case c < 0x20:
			return 0, 0, &JSONSyntaxError{Offset: j, Msg: "control character 0x" + strconv.FormatUint(uint64(c), 16) + " in string"}
		default:
			r, size := utf8.DecodeRune(d[j:])
			if r == utf8.RuneError && size == 1 {
				if !w.o.allowInvalid {
					return 0, 0, &JSONSyntaxError{Offset: j, Msg: "invalid UTF-8 in string"}
				}
				flags |= strBadUTF8
			}
			j += size
		}
	}
}

// hexEscape decodes the \uXXXX escape at doc[j].
func (w *jsonWalker) hexEscape(j int) (rune, error) {
	d := w.doc
	for k := j + 2; k < j+6; k++ {
		if k >= len(d) {
			return 0, w.eof()
		}
		if !isHex(d[k]) {
			return 0, &JSONSyntaxError{Offset: j, Msg: `invalid \u escape in string`}
		}
	}
	r, _ := hex4(d[j+2 : j+6])
	return r, nil
}

// scanNumber checks the number literal at doc[i] and returns its end.
func (w *jsonWalker) scanNumber(i int) (int, error) {
	d := w.doc
	n := len(d)
	j := i
	if d[j] == '-' {
		j++
	}
	digits := func() error {
		if j >= n {
			return w.eof()
		}
		if d[j] < '0' || d[j] > '9' {
			return &JSONSyntaxError{Offset: j, Msg: "invalid number: want a digit"}
		}
		for j < n && d[j] >= '0' && d[j] <= '9' {
			j++
		}
		return nil
	}
	if j < n && d[j] == '0' {
		j++
	} else if err := digits(); err != nil {
		return 0, err
	}
	if j < n && d[j] == '.' {
		j++
		if err := digits(); err != nil {
			return 0, err
		}
	}
	if j < n && (d[j] == 'e' || d[j] == 'E') {
		j++
		if j < n && (d[j] == '+' || d[j] == '-') {
			j++
		}
		if err := digits(); err != nil {
			return 0, err
		}
	}
	if w.o.maxString > 0 && j-i > w.o.maxString {
		return 0, &JSONLimitError{Limit: "max_string", Max: w.o.maxString, Offset: i}
	}
	return j, nil
}

// literal checks the literal lit (true, false, null) at doc[i].
func (w *jsonWalker) literal(i int, lit string) (int, error) {
	d := w.doc
	for k := 0; k < len(lit); k++ {
		if i+k >= len(d) {
			return 0, w.eof()
		}
		if d[i+k] != lit[k] {
			return 0, &JSONSyntaxError{Offset: i + k, Msg: "invalid literal, want " + lit}
		}
	}
	return i + len(lit), nil
}

func (w *jsonWalker) eof() error {
	return &JSONSyntaxError{Offset: len(w.doc), Msg: "unexpected end of input"}
}

// unexpected reports the byte at i without quoting document text: JSON
// punctuation is named, anything else only by its class.
func (w *jsonWalker) unexpected(i int, want string) error {
	c := w.doc[i]
	var what string
	switch {
	case c == '"':
		what = "string"
	case c == '-' || (c >= '0' && c <= '9'):
		what = "number"
	case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
		what = "letter"
	case c < 0x20 || c == 0x7f:
		what = "control character 0x" + strconv.FormatUint(uint64(c), 16)
	case c >= 0x80:
		what = "non-ASCII byte"
	default:
		what = "'" + string(rune(c)) + "'"
	}
	return &JSONSyntaxError{Offset: i, Msg: "unexpected " + what + ", " + want}
}

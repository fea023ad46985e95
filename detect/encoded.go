package detect

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Encoded runs. After the recognizers, Scan looks for runs of 16 or more
// (DecodeConfig.MinRun) base64 (standard or URL alphabet, padded or not,
// lines joined when they wrap at one width), hex or percent-encoded
// characters, decodes each within a byte budget, and scans the result
// when it is UTF-8 text with few control characters (binary that starts
// like a DER structure is checked for a private key instead). A finding
// inside marks the whole run, with the inner finding's type, category
// and score, and a Recognizer that names the encoding first
// ("base64:email", "percent:base64:aws_access_key"). Decoded text is
// decoded again up to DecodeConfig.Depth levels. Runs that a recognizer
// already covers are left alone, and so are runs whose characters could
// not be base64 of text (one case only, no digits).

// Default decode limits.
const (
	DefaultDecodeMinRun = 16
	DefaultDecodeBudget = 64 << 10
	DefaultDecodeDepth  = 2
)

// DecodeConfig tunes the decoding of encoded runs.
type DecodeConfig struct {
	// Off turns decoding off. Default false: encoded runs are decoded
	// and scanned.
	Off bool `yaml:"off"`
	// MinRun is the shortest run decoded, in characters; 0 means 16.
	MinRun int `yaml:"min_run"`
	// Budget bounds the bytes decoded per Scan call (or per DecodeBudget
	// shared across calls); 0 means 64 KiB. Runs past it are not decoded
	// and DecodeBudget.Exhausted reports it.
	Budget int `yaml:"budget"`
	// Depth is how many encodings deep a value is looked for (base64 of
	// percent-encoded text is two); 0 means 2.
	Depth int `yaml:"depth"`
}

// DecodeBudget bounds the bytes decoded from encoded runs over one or more
// scans: the gateway shares one across every string of a request. It is
// not safe for concurrent use.
type DecodeBudget struct {
	left      int
	exhausted bool
}

// NewDecodeBudget returns a budget of Config.Decode.Budget bytes.
func (e *Engine) NewDecodeBudget() *DecodeBudget { return &DecodeBudget{left: e.dec.budget} }

// Remaining returns how many more bytes may be decoded.
func (b *DecodeBudget) Remaining() int { return b.left }

// Exhausted reports whether a run was left undecoded because the budget
// ran out: the caller that must not miss an encoded value refuses then.
func (b *DecodeBudget) Exhausted() bool { return b.exhausted }

func (b *DecodeBudget) take(n int) bool {
	if n > b.left {
		b.exhausted = true
		return false
	}
	b.left -= n
	return true
}

type decodeOpts struct {
	off                   bool
	minRun, budget, depth int
}

// Character classes of encoded runs.
const (
	encB64 = 1 << iota // base64, both alphabets
	encHex
	encPct // percent-encoding: unreserved characters, '%' and '+'
	encPad // '='
)

// isEncChar reports whether c is in the alphabet of base64 (either),
// hex or percent-encoding, or is base64's padding.
func isEncChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || strings.IndexByte("+/-_.~%=", c) >= 0
}

var encClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		if isAlnum(b) {
			t[c] |= encB64 | encPct
		}
		if isHex(b) {
			t[c] |= encHex
		}
		switch b {
		case '+':
			t[c] |= encB64 | encPct
		case '/', '_':
			t[c] |= encB64
		case '-':
			t[c] |= encB64 | encPct
		case '.', '~', '%':
			t[c] |= encPct
		case '=':
			t[c] |= encPad
		}
		if b == '_' {
			t[c] |= encPct
		}
	}
	return t
}()

// encoding names used in Recognizer prefixes.
const (
	encNameBase64  = "base64"
	encNameHex     = "hex"
	encNamePercent = "percent"
)

// decodeRuns decodes the runs of encoding characters that run noted in
// s.runs and adds a finding for each one that decodes to something the
// engine finds.
func (e *Engine) decodeRuns(s *Scan, b *DecodeBudget, depth int) {
	text := s.text
	s.cover = -1 // direct findings not sorted yet
	done := 0
	for _, r := range s.runs {
		i, k := r[0], r[1]
		if i < done {
			continue // inside base64 lines joined to an earlier run
		}
		// Non-ASCII bytes are in the runs run notes (they are word
		// bytes); split at them.
		for a := i; a < k; {
			c := a
			for c < k && text[c] < utf8.RuneSelf {
				c++
			}
			if c-a >= e.dec.minRun {
				done = max(done, e.runCandidates(s, b, depth, a, c))
			}
			for c < k && text[c] >= utf8.RuneSelf {
				c++
			}
			a = c
		}
	}
	if len(s.enc) > 0 {
		s.found = append(s.found, s.enc...)
		s.enc = s.enc[:0]
	}
}

// runCandidates splits the run text[i:k] of encoding characters into
// percent-encoded and base64 or hex candidates and decodes them. It
// returns where the run ended (past k when base64 lines were joined).
func (e *Engine) runCandidates(s *Scan, b *DecodeBudget, depth, i, k int) int {
	text := s.text
	L := e.dec.minRun
	// Percent-encoded pieces: split at characters outside the class.
	for a := i; a < k; {
		for a < k && encClass[text[a]]&encPct == 0 {
			a++
		}
		c, esc, plus := a, false, false
		for c < k && encClass[text[c]]&encPct != 0 {
			if text[c] == '%' && c+2 < k && isHex(text[c+1]) && isHex(text[c+2]) {
				esc = true
			}
			plus = plus || text[c] == '+'
			c++
		}
		// '+' alone (form encoding of spaces) counts unless the piece
		// could be base64, which has '+' too.
		if (esc || plus && !plausibleBase64(text[a:c])) && c-a >= L {
			e.tryDecode(s, b, depth, encNamePercent, a, c, nil)
		}
		a = c
	}
	end := k
	for a := i; a < k; {
		for a < k && encClass[text[a]]&encB64 == 0 {
			a++
		}
		c := a
		for c < k && encClass[text[c]]&encB64 != 0 {
			c++
		}
		body := c
		for pad := 0; c < len(text) && text[c] == '=' && pad < 2; pad++ {
			c++
		}
		if body-a >= L {
			lines := [maxB64Lines]int{}
			nl := 0
			if c >= k && c-a >= minWrapWidth {
				// Wrapped base64 (a PEM body without its armour, a MIME
				// part): lines of one width joined by line breaks.
				nl, c = wrappedLines(text, a, c, lines[:])
				end = max(end, c)
			}
			e.tryDecode(s, b, depth, "", a, c, lines[:nl])
		}
		a = max(c, a+1)
	}
	return end
}

// Wrapped base64 limits.
const (
	minWrapWidth = 40
	maxB64Lines  = 128
)

// wrappedLines extends the base64 line text[a:c] over the lines after it
// of the same width (the last may be shorter), separated by "\n",
// "\r\n" or their JSON escapes. It returns the number of line breaks
// recorded in lines (each the offset just past a line) and the new end.
func wrappedLines(text string, a, c int, lines []int) (int, int) {
	width := c - a
	if width%4 != 0 || text[c-1] == '=' {
		return 0, c
	}
	n := 0
	for n < len(lines) {
		j := lineBreak(text, c)
		if j < 0 {
			break
		}
		d := j
		for d < len(text) && encClass[text[d]]&encB64 != 0 && d-j < width {
			d++
		}
		e := d
		for pad := 0; e < len(text) && text[e] == '=' && pad < 2; pad++ {
			e++
		}
		if d == j || e < len(text) && encClass[text[e]]&(encB64|encPad) != 0 {
			break // not a line of this body
		}
		lines[n] = c
		n++
		c = e
		if d-j < width {
			break // the last line
		}
	}
	return n, c
}

// lineBreak returns the offset after a line break at i, or -1.
func lineBreak(text string, i int) int {
	switch {
	case i < len(text) && text[i] == '\n':
		return i + 1
	case i+1 < len(text) && text[i] == '\r' && text[i+1] == '\n':
		return i + 2
	case i+1 < len(text) && text[i] == '\\' && text[i+1] == 'n':
		return i + 2
	case i+3 < len(text) && text[i] == '\\' && text[i+1] == 'r' && text[i+2] == '\\' && text[i+3] == 'n':
		return i + 4
	}
	return -1
}

// tryDecode decodes the candidate text[a:c] (base64 or hex when enc is
// "", lines being the offsets of the line breaks to skip) and scans it.
func (e *Engine) tryDecode(s *Scan, b *DecodeBudget, depth int, enc string, a, c int, lines []int) {
	if e.covered(s, a, c) {
		return
	}
	text := s.text
	run := text[a:c]
	switch {
	case enc == encNamePercent:
	case allHex(run) && len(run)%2 == 0:
		enc = encNameHex
	case len(run) > 2 && run[0] == '0' && (run[1] == 'x' || run[1] == 'X') && allHex(run[2:]) && len(run)%2 == 0:
		enc, run = encNameHex, run[2:]
	case plausibleBase64(run):
		enc = encNameBase64
	default:
		return
	}
	var need int
	switch enc {
	case encNameHex:
		need = len(run) / 2
	case encNameBase64:
		need = len(run) * 3 / 4
	default:
		need = len(run)
	}
	if !b.take(need) {
		return
	}
	dec := s.dec[:0]
	switch enc {
	case encNameHex:
		for i := 0; i+1 < len(run); i += 2 {
			dec = append(dec, hexVal(run[i])<<4|hexVal(run[i+1]))
		}
	case encNameBase64:
		var d b64Stream
		from := a
		for _, l := range lines {
			dec = d.feed(dec, text[from:l])
			from = lineBreak(text, l)
		}
		dec = d.feed(dec, text[from:c])
	default:
		dec = percentDecode(dec, run)
	}
	s.dec = dec
	if enc == encNameBase64 && len(dec) >= 32 {
		if ok, truncated := derPrivateKey(dec); ok {
			score := 0.95
			if truncated {
				score = 0.85
			}
			s.enc = append(s.enc, Finding{Type: "PRIVATE_KEY", Category: Secret, Start: a, End: c, Score: score, Recognizer: "base64:private_key"})
			return
		}
	}
	if !textLike(dec) {
		return
	}
	inner := e.pool.Get().(*Scan)
	// The inner scan reads dec while this Scan's buffer holds it; the
	// inner Scan decodes into its own.
	fs := e.scan(inner, bytesToString(dec), b, depth+1)
	best := -1
	for i, f := range fs {
		if best < 0 || f.Score > fs[best].Score || f.Score == fs[best].Score && f.End-f.Start > fs[best].End-fs[best].Start {
			best = i
		}
	}
	if best >= 0 {
		f := fs[best]
		rec := f.Recognizer
		if rec == "" {
			rec = f.Type
		}
		s.enc = append(s.enc, Finding{Type: f.Type, Category: f.Category, Start: a, End: c, Score: f.Score, Recognizer: enc + ":" + rec})
	}
	inner.text = ""
	e.pool.Put(inner)
}

// covered reports whether a finding of the recognizers (one that passes
// its threshold) holds all of text[a:c]: decoding the run would add
// nothing, and a finding of part of it (a JWT's payload) would compete
// with the finding of the whole. The findings are sorted by start once,
// with the running maximum of their ends, so each call is a binary
// search.
func (e *Engine) covered(s *Scan, a, c int) bool {
	if s.cover < 0 {
		slices.SortFunc(s.found, func(x, y Finding) int { return x.Start - y.Start })
		s.coverEnd = s.coverEnd[:0]
		end := -1
		for _, f := range s.found {
			// A URL covers nothing: what is encoded inside one (an email
			// in a query string) is still decoded.
			if f.Score >= s.minScore(f.Type) && f.Type != "URL" {
				end = max(end, f.End)
			}
			s.coverEnd = append(s.coverEnd, end)
		}
		s.cover = 0
	}
	// The findings that start at or before a: found[:n].
	n, _ := slices.BinarySearchFunc(s.found, a, func(f Finding, a int) int {
		if f.Start <= a {
			return -1
		}
		return 1
	})
	return n > 0 && s.coverEnd[n-1] >= c
}

// plausibleBase64 rules out runs that cannot be base64 of text: base64 of
// ASCII text has upper-case letters, and lower-case letters or digits.
func plausibleBase64(run string) bool {
	var up, other bool
	for i := 0; i < len(run); i++ {
		c := run[i]
		switch {
		case isUpper(c):
			up = true
		case isLower(c) || isDigit(c):
			other = true
		}
		if up && other {
			return true
		}
	}
	return false
}

// textLike reports whether b is valid UTF-8 with at most one control
// character (other than tab and line breaks) in twenty: text worth
// scanning, not binary.
func textLike(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	ctl := 0
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7F {
			ctl++
		}
	}
	return ctl*20 <= len(b) && utf8.Valid(b)
}

func allHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return len(s) > 0
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// percentDecode appends the percent-decoding of s to dst ('+' is a
// space, as in form encoding; a '%' without two hex digits stays).
func percentDecode(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			dst = append(dst, hexVal(s[i+1])<<4|hexVal(s[i+2]))
			i += 2
		case c == '+':
			dst = append(dst, ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// b64Stream decodes base64 (either alphabet, padding ignored) fed in
// pieces.
type b64Stream struct {
	acc  uint32
	bits int
}

func (d *b64Stream) feed(dst []byte, src string) []byte {
	for i := 0; i < len(src); i++ {
		v := b64urlVal[src[i]]
		if v == 0xFF {
			continue // '=' padding
		}
		d.acc = d.acc<<6 | uint32(v)
		d.bits += 6
		if d.bits >= 8 {
			d.bits -= 8
			dst = append(dst, byte(d.acc>>uint(d.bits)))
		}
	}
	return dst
}

// decodeOptions validates c and fills in its defaults.
func decodeOptions(c DecodeConfig) (decodeOpts, error) {
	o := decodeOpts{off: c.Off, minRun: c.MinRun, budget: c.Budget, depth: c.Depth}
	switch {
	case c.MinRun < 0:
		return o, fmt.Errorf("detect: decode.min_run: %d is negative", c.MinRun)
	case c.MinRun > 0 && c.MinRun < 8:
		return o, fmt.Errorf("detect: decode.min_run: %d is below 8 characters; short runs decode to noise", c.MinRun)
	case c.Budget < 0:
		return o, fmt.Errorf("detect: decode.budget: %d is negative", c.Budget)
	case c.Depth < 0 || c.Depth > 4:
		return o, fmt.Errorf("detect: decode.depth: %d is outside 0..4", c.Depth)
	}
	if o.minRun == 0 {
		o.minRun = DefaultDecodeMinRun
	}
	if o.budget == 0 {
		o.budget = DefaultDecodeBudget
	}
	if o.depth == 0 {
		o.depth = DefaultDecodeDepth
	}
	return o, nil
}

package detect

import "strings"

// Context windows, in bytes, searched for context words before a candidate's
// start and after its end. Presidio looks five words either side; 64 bytes
// covers that for English prose and JSON keys ("ssn": "…").
const (
	contextBefore = 64
	contextAfter  = 32
)

// Context returns the first of words (lower-case ASCII) found near the span
// [start,end), or "". A word must begin at a word boundary; it may run into
// a longer word ("phone" matches "phone_number"). Recognizers add a boost
// to their score when it returns a word.
//
// The window stops at clause delimiters (, ; { } [ ] and line breaks), so
// that in `"ssn": "…", "order_id": "…"` the key "ssn" does not lend its
// meaning to the order id.
func (s *Scan) Context(start, end int, words []string) string {
	var buf [contextBefore + contextAfter + 1]byte
	lo := start
	for lo > 0 && start-lo < contextBefore && !isClauseEnd(s.text[lo-1]) {
		lo--
	}
	hi := end
	for hi < len(s.text) && hi-end < contextAfter && !isClauseEnd(s.text[hi]) {
		hi++
	}
	n := 0
	for i := lo; i < start; i++ {
		buf[n] = lower[s.text[i]]
		n++
	}
	buf[n] = ' '
	n++
	for i := end; i < hi; i++ {
		buf[n] = lower[s.text[i]]
		n++
	}
	w := bytesToString(buf[:n])
	for _, word := range words {
		off := 0
		for {
			j := strings.Index(w[off:], word)
			if j < 0 {
				break
			}
			j += off
			if j == 0 || !isAlnum(w[j-1]) {
				return word
			}
			off = j + 1
		}
	}
	return ""
}

// score combines a base score and a context boost, capped at 1.
func boosted(base, boost float64, ctx string) float64 {
	if ctx == "" {
		return base
	}
	if base+boost > 1 {
		return 1
	}
	return base + boost
}

// ctxList returns the context word as a list for Finding.Context.
func ctxList(w string) []string {
	if w == "" {
		return nil
	}
	return []string{w}
}

func isClauseEnd(c byte) bool {
	switch c {
	case ',', ';', '{', '}', '[', ']', '\n', '\r':
		return true
	}
	return false
}

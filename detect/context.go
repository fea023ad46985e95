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
	// The window, lower-cased, goes to buf[lo:n]: the bytes before start
	// (copied backwards, so one pass finds the window's start), a space,
	// the bytes after end. heads marks the bytes that begin a word of it,
	// so that most words are ruled out without a search.
	var buf [contextBefore + contextAfter + 1]byte
	var heads [4]uint64
	text := s.text
	lo := contextBefore
	for i := start - 1; i >= 0 && start-i <= contextBefore; i-- {
		c := text[i]
		if clauseEnd[c] {
			break
		}
		lo--
		buf[lo] = lower[c]
	}
	n := contextBefore
	buf[n] = ' '
	n++
	for i := end; i < len(text) && i-end < contextAfter; i++ {
		c := text[i]
		if clauseEnd[c] {
			break
		}
		buf[n] = lower[c]
		n++
	}
	w := bytesToString(buf[lo:n])
	prevAlnum := false
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !prevAlnum {
			heads[c>>6] |= 1 << (c & 63)
		}
		prevAlnum = isAlnum(c)
	}
	for _, word := range words {
		if word == "" {
			return "" // matches at once, as strings.Index would
		}
		if heads[word[0]>>6]&(1<<(word[0]&63)) == 0 {
			continue
		}
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

// ctxList returns the context word as a list for Finding.Context, or nil
// when the engine does not explain (Add would drop it: this saves the
// allocation).
func (s *Scan) ctxList(w string) []string {
	if w == "" || !s.e.explain {
		return nil
	}
	return []string{w}
}

// clauseEnd marks the bytes that end a context window.
var clauseEnd = [256]bool{',': true, ';': true, '{': true, '}': true, '[': true, ']': true, '\n': true, '\r': true}

package gateway

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/wardenhq/warden/detect"
)

// segmentFunc processes a complete piece of model output: it masks leaks
// and restores tokens. ctx is text already emitted just before seg, given
// so that context words ("SSN …") still count; only seg is rewritten.
type segmentFunc func(ctx context.Context, before, seg string) (string, error)

// Hold-back bounds of a streamGuard.
const (
	// maxHold is the most text a guard holds; past it, text is released
	// at the last space (or rune boundary) even if a finding could still
	// grow. Tokens are shorter than this.
	maxHold = 512
	// contextKeep is how much emitted text is kept as context for the
	// next segment.
	contextKeep = 64
	// maxHoldFinding bounds how long a guard waits for a finding that
	// reaches the end of what it holds (a long credential still
	// arriving) before it gives up and fails the stream rather than
	// release part of it.
	maxHoldFinding = 64 << 10
)

// errHoldOverflow ends a stream whose held text grew past
// maxHoldFinding without the finding in it ending.
var errHoldOverflow = errors.New("gateway: a finding in the stream grew past the hold-back bound")

// streamGuard rewrites one stream of text deltas (one choice's content,
// one tool call's arguments) incrementally. Only text that could still
// become part of a token or a finding waits: the last few words, an open
// "[[" token, a digit group that may continue. Everything before that
// is processed and released at once.
type streamGuard struct {
	pending strings.Builder
	emitted string // tail of emitted (processed) text, for context
	// consumed counts the input bytes released so far; changed says some
	// released text differs from the input (a leak masked, a token
	// restored), as opposed to text only held back and released later.
	consumed int
	changed  bool
	process  segmentFunc
	scan     func(string) []detect.Finding // nil: forced cuts do not look for findings
	held     int                           // bytes currently held, for metrics
	maxBytes int
}

func newStreamGuard(p segmentFunc) *streamGuard {
	return &streamGuard{process: p, maxBytes: maxHold}
}

// Write adds a delta and returns the text that may be sent now.
func (g *streamGuard) Write(ctx context.Context, delta string) (string, error) {
	g.pending.WriteString(delta)
	p := g.pending.String()
	cut := safeCut(p, g.maxBytes)
	if cut > 0 && len(p) > g.maxBytes && g.scan != nil {
		var err error
		if cut, err = g.settleCut(p, cut); err != nil {
			return "", err
		}
	}
	if cut == 0 {
		g.held = len(p)
		return "", nil
	}
	out, err := g.process(ctx, g.emitted, p[:cut])
	if err != nil {
		return "", err
	}
	g.consumed += cut
	g.changed = g.changed || out != p[:cut]
	g.remember(p[:cut])
	rest := p[cut:]
	g.pending.Reset()
	g.pending.WriteString(rest)
	g.held = len(rest)
	return out, nil
}

// settleCut moves a forced cut so that it splits no finding: before a
// finding that spans it, or after one that starts at the head. A finding
// that runs to the end of the held text may still be growing: the guard
// keeps holding, up to maxHoldFinding, then fails.
func (g *streamGuard) settleCut(p string, cut int) (int, error) {
	for _, f := range g.scan(p) {
		if f.Start >= cut || f.End <= cut {
			continue
		}
		switch {
		case f.Start > 0:
			cut = f.Start
		case f.End < len(p):
			cut = f.End
		case len(p) > maxHoldFinding:
			return 0, errHoldOverflow
		default:
			return 0, nil
		}
	}
	return cut, nil
}

// Flush processes and returns everything still held.
func (g *streamGuard) Flush(ctx context.Context) (string, error) {
	p := g.pending.String()
	g.pending.Reset()
	g.held = 0
	if p == "" {
		return "", nil
	}
	out, err := g.process(ctx, g.emitted, p)
	if err != nil {
		return "", err
	}
	g.consumed += len(p)
	g.changed = g.changed || out != p
	g.remember(p)
	return out, nil
}

func (g *streamGuard) remember(s string) {
	e := g.emitted + s
	if len(e) > contextKeep {
		i := len(e) - contextKeep
		for i < len(e) && !utf8.RuneStart(e[i]) {
			i++
		}
		e = e[i:]
	}
	g.emitted = e
}

// safeCut returns how much of p can be processed now. The last word is
// always held (the next delta may extend it: "jane.doe" before
// "@example.com"), and so is every word before it, back to the first one
// that cannot be part of a finding: plain lower-case prose. Words with
// capitals, digits, non-ASCII letters or symbols (names, numbers, tokens,
// addresses, keys) wait for their neighbours. When p is longer than max,
// the cut is forced so the hold stays bounded.
func safeCut(p string, max int) int {
	i := len(p)
	first := true
	for i > 0 {
		end := i
		for end > 0 && isSpaceByte(p[end-1]) {
			end--
		}
		start := end
		for start > 0 && !isSpaceByte(p[start-1]) {
			start--
		}
		if start == end { // only spaces left
			i = 0
			break
		}
		if !first && !mayContinue(p[start:end]) {
			for end < len(p) && isSpaceByte(p[end]) {
				end++ // the spaces after a settled word flow too
			}
			i = end
			break
		}
		first = false
		i = start
	}
	cut := i
	if open := strings.LastIndex(p[:cut], "[["); open >= 0 && !strings.Contains(p[open:cut], "]]") {
		cut = open
	}
	if cut == 0 && len(p) > max {
		// Release the head at the last space before the bound, or at a
		// rune boundary, to keep memory bounded.
		cut = lastSpaceBefore(p, len(p)-max/2)
		if cut == 0 {
			cut = len(p) - max/2
			for cut > 0 && !utf8.RuneStart(p[cut]) {
				cut--
			}
		}
	}
	return cut
}

// mayContinue reports whether a word could be part of a finding that
// spans words: anything but lower-case ASCII letters and sentence
// punctuation.
func mayContinue(w string) bool {
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c >= 'a' && c <= 'z':
		case c == '.' || c == ',' || c == ';' || c == '!' || c == '?' || c == '\'' || c == '"':
		default:
			return true
		}
	}
	return false
}

func lastSpaceBefore(p string, i int) int {
	for i > 0 && !isSpaceByte(p[i-1]) {
		i--
	}
	return i
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

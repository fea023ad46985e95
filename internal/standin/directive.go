package standin

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// directivePrefix starts a directive line in the last user message.
const directivePrefix = "standin:"

// directive is what one request's directive line asks for. Unset fields
// leave the Server's Options (or the request's own parameters) in force.
type directive struct {
	line       string // the line as written, the key of the fail counter
	tools      *int   // tool calls to make; -1: one per tool given
	interleave *bool
	n          *int
	logprobs   *bool
	refusal    *bool
	ping       *PingMode
	reasoning  *bool
	thinking   *bool
	redacted   *bool
	status     int
	fail       *int
	retry      *time.Duration
	delta      *int
}

// errDirective reports a directive line the stand-in does not understand.
// Its message names the key, never a value.
var errDirective = errors.New("standin: bad directive")

// splitDirective removes directive lines from text and parses the last
// one. A directive line is a line whose first non-blank characters are
// "standin:"; the echo never contains it.
func splitDirective(text string) (rest string, d directive, err error) {
	if !strings.Contains(text, directivePrefix) {
		return text, d, nil
	}
	lines := strings.SplitAfter(text, "\n")
	var keep []string
	var line string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, directivePrefix) {
			line = t
			continue
		}
		keep = append(keep, l)
	}
	rest = strings.Join(keep, "")
	if line == "" {
		return text, d, nil
	}
	// A directive on the message's last line leaves the newline that
	// ended the text before it; the echo is that text.
	if !strings.HasSuffix(text, "\n") {
		rest = strings.TrimSuffix(rest, "\n")
	}
	d, err = parseDirective(line)
	return rest, d, err
}

// parseDirective parses "standin: key=value key=value …".
func parseDirective(line string) (directive, error) {
	d := directive{line: line}
	for _, f := range strings.Fields(strings.TrimPrefix(line, directivePrefix)) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return d, fmt.Errorf("%w: %s needs key=value", errDirective, safeKey(f))
		}
		var err error
		switch k {
		case "tools":
			var n int
			if v == "all" {
				n = -1
			} else {
				n, err = count(v)
			}
			d.tools = &n
		case "interleave":
			d.interleave, err = flag(v)
		case "n":
			var n int
			if n, err = count(v); err == nil && n < 1 {
				err = errors.New("below 1")
			}
			d.n = &n
		case "logprobs":
			d.logprobs, err = flag(v)
		case "refusal":
			d.refusal, err = flag(v)
		case "ping":
			p := PingMode(v)
			if p != PingStart && p != PingNone && p != PingEvery {
				err = errors.New("not none, start or every")
			}
			d.ping = &p
		case "reasoning":
			d.reasoning, err = flag(v)
		case "thinking":
			d.thinking, err = flag(v)
		case "redacted":
			d.redacted, err = flag(v)
		case "status":
			d.status, err = strconv.Atoi(v)
			if err == nil && (d.status < 400 || d.status > 599) {
				err = errors.New("not an error status")
			}
		case "fail":
			var n int
			n, err = count(v)
			d.fail = &n
		case "retry_ms":
			var n int
			if n, err = strconv.Atoi(v); err == nil && (n < 0 || n > 60000) {
				err = errors.New("not 0 to 60000")
			}
			r := time.Duration(n) * time.Millisecond
			d.retry = &r
		case "delta":
			var n int
			if n, err = count(v); err == nil && n < 1 {
				err = errors.New("below 1")
			}
			d.delta = &n
		default:
			return d, fmt.Errorf("%w: unknown key %s", errDirective, safeKey(k))
		}
		if err != nil {
			return d, fmt.Errorf("%w: %s: %v", errDirective, safeKey(k), err)
		}
	}
	return d, nil
}

func count(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 64 {
		return 0, errors.New("not a count from 0 to 64")
	}
	return n, nil
}

func flag(v string) (*bool, error) {
	switch v {
	case "1", "true", "on":
		t := true
		return &t, nil
	case "0", "false", "off":
		f := false
		return &f, nil
	}
	return nil, errors.New("not 0 or 1")
}

// safeKey returns k when it is a short lower-case word, else a stand-in
// for it: error messages never repeat arbitrary request text.
func safeKey(k string) string {
	if len(k) == 0 || len(k) > 16 {
		return "(a key)"
	}
	for _, r := range k {
		if (r < 'a' || r > 'z') && r != '_' {
			return "(a key)"
		}
	}
	return strconv.Quote(k)
}

func pick[T any](p *T, def T) T {
	if p != nil {
		return *p
	}
	return def
}

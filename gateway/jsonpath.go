package gateway

import (
	"strconv"
	"strings"
)

// Paths of JSON values, as package detect writes them: "$", then ".key"
// for a plain key, "['key']" for any other key, and "[N]" for an array
// index ($.messages[2].content[0].text). The request and response code
// classifies values by matching their paths against patterns such as
// "$.messages[*].content[*].text", with "[*]" matching any index and
// capturing it.

// pathPattern is a compiled pattern: a sequence of plain keys and "[*]"
// steps.
type pathPattern []string

// pattern compiles a pattern literal; it panics on a malformed one (the
// patterns are constants of this package).
func pattern(p string) pathPattern {
	if !strings.HasPrefix(p, "$") {
		panic("gateway: path pattern must start with $: " + p)
	}
	var out pathPattern
	rest := p[1:]
	for rest != "" {
		switch {
		case strings.HasPrefix(rest, "[*]"):
			out = append(out, "[*]")
			rest = rest[3:]
		case rest[0] == '.':
			end := strings.IndexAny(rest[1:], ".[")
			if end < 0 {
				end = len(rest) - 1
			}
			out = append(out, rest[1:1+end])
			rest = rest[1+end:]
		default:
			panic("gateway: bad path pattern " + p)
		}
	}
	return out
}

// match reports whether path matches the pattern exactly and returns the
// indexes the [*] steps matched, in order (at most 4 are kept).
func (pp pathPattern) match(path string) (idx [4]int, ok bool) {
	if !strings.HasPrefix(path, "$") {
		return idx, false
	}
	rest := path[1:]
	n := 0
	for _, step := range pp {
		if step == "[*]" {
			if len(rest) < 3 || rest[0] != '[' || rest[1] == '\'' {
				return idx, false
			}
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return idx, false
			}
			v, err := strconv.Atoi(rest[1:end])
			if err != nil {
				return idx, false
			}
			if n < len(idx) {
				idx[n] = v
			}
			n++
			rest = rest[end+1:]
			continue
		}
		if len(rest) < len(step)+1 || rest[0] != '.' || rest[1:1+len(step)] != step {
			return idx, false
		}
		rest = rest[1+len(step):]
		if rest != "" && rest[0] != '.' && rest[0] != '[' {
			return idx, false // a longer key with the step as its prefix
		}
	}
	return idx, rest == ""
}

// patterns is a list of patterns; any may match.
type patterns []pathPattern

func compilePatterns(ps ...string) patterns {
	out := make(patterns, len(ps))
	for i, p := range ps {
		out[i] = pattern(p)
	}
	return out
}

func (ps patterns) match(path string) ([4]int, bool) {
	for _, p := range ps {
		if idx, ok := p.match(path); ok {
			return idx, true
		}
	}
	return [4]int{}, false
}

// lastKey returns the last plain key of a path ("text" for
// $.messages[0].content[1].text), or "".
func lastKey(path string) string {
	i := strings.LastIndexByte(path, '.')
	if i < 0 || strings.ContainsAny(path[i+1:], "[]'") {
		return ""
	}
	return path[i+1:]
}

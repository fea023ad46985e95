package gateway

import (
	"sort"

	"github.com/wardenhq/warden/detect"
)

// splice replaces body[start:end] with repl.
type splice struct {
	start, end int
	repl       []byte
}

// applySplices returns body with the splices applied (they must not
// overlap), or body itself when there are none.
func applySplices(body []byte, edits []splice) []byte {
	if len(edits) == 0 {
		return body
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].start < edits[j].start })
	n := len(body)
	for _, e := range edits {
		n += len(e.repl) - (e.end - e.start)
	}
	out := make([]byte, 0, n)
	prev := 0
	for _, e := range edits {
		out = append(out, body[prev:e.start]...)
		out = append(out, e.repl...)
		prev = e.end
	}
	return append(out, body[prev:]...)
}

// jsonString is s as a JSON string literal.
func jsonString(s string) []byte { return detect.AppendJSONString(nil, s) }

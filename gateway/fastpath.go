package gateway

import (
	"errors"
	"strconv"
	"strings"

	"github.com/wardenhq/warden/detect"
	"github.com/wardenhq/warden/transform"
)

// The fast path.
//
// Most requests and responses hold nothing to protect. Decoding a body
// into maps, walking them and encoding them again costs more than
// everything else the gateway does to such a request, so a body is
// first walked once in place (detect.WalkJSON, no document built). When
// that walk finds nothing to change, the body is used as is; otherwise
// the document path (decodeObject, collectSlots, guardDoc) runs exactly
// as it would have. The walk scans a superset of the strings the
// document path scans: it cannot tell a tool's "name" from a chat
// participant's or media "data" from text, so it scans both, and a
// finding there only sends the body down the document path, which
// decides. So the fast path never lets through anything the document
// path would have changed.

// errNeedsDocument stops a fast-path walk: the body needs the document
// path.
var errNeedsDocument = errors.New("gateway: body needs the document path")

// fastWalk compiles the walker options of request or response bodies.
// Every value is reported, literals too: the request's flags are read
// from the same walk.
func fastWalk(maxDepth int, maxBytes int64) (*detect.JSONOptions, error) {
	return detect.CompileJSON(detect.JSONConfig{
		MaxDepth:     maxDepth,
		MaxBytes:     int(min(maxBytes, 1<<40)),
		Literals:     true,
		NoKeyContext: true,
	})
}

// scanRequest walks a request body and reports its model and stream
// flag. ok is false when the body needs the document path: a finding in
// any string, a model alias, no string model, or a body the walker
// refuses (malformed, too deep, invalid UTF-8: the document path then
// answers or repairs it in its own words). Like the document path, the
// last of repeated keys wins.
func (s *Server) scanRequest(body []byte) (model string, stream, ok bool) {
	_, err := detect.WalkJSON(body, s.reqWalk, func(v detect.JSONValue) (string, bool, error) {
		switch v.Path {
		case "$.model":
			switch {
			case v.Number:
				return "", false, errNeedsDocument
			case v.Literal:
				model = ""
			default:
				model = strings.Clone(v.Value)
			}
			return "", false, nil
		case "$.stream":
			stream = v.Literal && v.Value == "true"
			return "", false, nil
		}
		if v.Number || v.Literal || v.Value == "" || structuralKeys[v.Key] || isDataURL(v.Value) {
			return "", false, nil
		}
		if len(s.deps.Detector.Scan(v.Value)) > 0 {
			return "", false, errNeedsDocument
		}
		return "", false, nil
	})
	if err != nil || model == "" || len(body) == 0 || body[firstNonSpace(body)] != '{' {
		return "", false, false
	}
	if _, aliased := s.cfg.Aliases[model]; aliased {
		return "", false, false
	}
	return model, stream, true
}

func firstNonSpace(b []byte) int {
	for i, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return i
		}
	}
	return 0
}

// usage is the token usage an upstream reported.
type usage struct{ total, input, output, prompt, completion int }

// tokens is the total, or the sum of the parts when no total is given.
func (u usage) tokens() int {
	if u.total != 0 {
		return u.total
	}
	return u.input + u.output + u.prompt + u.completion
}

// set records the usage number at a usage object's key.
func (u *usage) set(key string, n int) {
	switch key {
	case "total_tokens":
		u.total = n
	case "input_tokens":
		u.input = n
	case "output_tokens":
		u.output = n
	case "prompt_tokens":
		u.prompt = n
	case "completion_tokens":
		u.completion = n
	}
}

// cleanResponse walks a JSON response and reports whether it needs no
// change: no string the guard would scan holds a finding or a token.
// It also returns the usage the upstream reported ($.usage or
// $.response.usage) and, when model is not nil, sets it to the response
// model ($.model or $.response.model) for the trace.
func (s *Server) cleanResponse(raw []byte, model *string) (usage, bool) {
	var u usage
	_, err := detect.WalkJSON(raw, s.respWalk, func(v detect.JSONValue) (string, bool, error) {
		if model != nil && v.Key == "model" && !v.Number && !v.Literal && (v.Path == "$.model" || v.Path == "$.response.model") {
			*model = strings.Clone(v.Value)
		}
		if v.Path == "$.usage."+v.Key || v.Path == "$.response.usage."+v.Key {
			n := 0 // what usageOf reads from anything but an integer
			if v.Number {
				n, _ = strconv.Atoi(v.Value)
			}
			u.set(v.Key, n)
		}
		if v.Number || v.Literal {
			return "", false, nil
		}
		if v.Value == "" || structuralKeys[v.Key] {
			return "", false, nil
		}
		if hasToken(v.Value) || len(s.deps.Detector.Scan(v.Value)) > 0 {
			return "", false, errNeedsDocument
		}
		return "", false, nil
	})
	return u, err == nil
}

// hasToken reports whether s holds something Restore would take for a
// token (brackets the model may have dropped included).
func hasToken(s string) bool {
	return strings.IndexByte(s, '[') >= 0 && len(transform.FindTokens(s)) > 0
}

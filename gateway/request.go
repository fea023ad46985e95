package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/wardenhq/warden/detect"
	"github.com/wardenhq/warden/policy"
)

// The request side: decode, inspect, deidentify.
//
// A request body is never decoded into maps and encoded again. It is
// walked in place (detect.WalkJSON): once for its top level (decode),
// once to scan every value (inspect), and the upstream body is the
// caller's bytes with the values that must change spliced in — so key
// order, number formatting and every opaque value reach the upstream
// exactly as the caller sent them.
//
// Inspect scans every string value, every object key and every number of
// nine or more digits, wherever it sits: the scanner does not trust key
// names (id, type, name, metadata …) to tell identifiers from text. The
// exceptions are opaque values (opaque.go) that prove what they claim.
// Text parts (shape.parts) are also scanned joined: the parts of one
// message, and the messages of a run of one role, are read by the model
// as one text, so a value cut across two parts must not pass. A finding
// that crosses parts is replaced whole in the first part it touches and
// removed from the others.

// topFields is what decode reads from a request's top level.
type topFields struct {
	model  string
	stream bool
}

// topLevel checks that body is one strict JSON object within the limits
// and reads its model and stream flag.
func (s *Server) topLevel(sh *shape, body []byte) (topFields, *apiError) {
	var top topFields
	var bad *apiError
	_, err := detect.WalkJSON(body, s.topWalk, func(v detect.JSONValue) (string, bool, error) {
		if v.Container {
			if v.Path == "$" && !strings.HasPrefix(v.Value, "{") {
				bad = errBadRequest("invalid_json", "the request body must be a JSON object")
			}
			return "", false, nil
		}
		if v.IsKey {
			if !sh.fields[v.Value] {
				for f := range sh.fields {
					if strings.EqualFold(f, v.Value) {
						bad = errBadRequest("case_variant_field",
							fmt.Sprintf("a top-level key differs from the field %q only by case", f))
					}
				}
			}
			return "", false, nil
		}
		switch v.Path {
		case "$.model":
			if !v.Number && !v.Literal {
				top.model = strings.Clone(v.Value)
			}
		case "$.stream":
			top.stream = v.Literal && v.Value == "true"
		}
		return "", false, nil
	})
	if err != nil {
		return top, jsonError(err, "request")
	}
	if bad != nil {
		return top, bad
	}
	return top, nil
}

// jsonError turns a walker error into a 400 (413 for the size limit)
// that names the offset or a safe path, never content.
func jsonError(err error, what string) *apiError {
	var se *detect.JSONSyntaxError
	var le *detect.JSONLimitError
	var fe *detect.JSONFieldError
	switch {
	case errors.As(err, &se):
		return errBadRequest("invalid_json", fmt.Sprintf("malformed JSON in the %s at byte %d: %s", what, se.Offset, se.Msg))
	case errors.As(err, &le):
		key := map[string]string{"max_depth": "server.max_json_depth", "max_bytes": "server.max_body_bytes"}[le.Limit]
		if key == "" {
			key = le.Limit
		}
		e := errBadRequest("json_limit", fmt.Sprintf("the %s exceeds %s (%d) at byte %d", what, key, le.Max, le.Offset))
		if le.Limit == "max_bytes" {
			e.Status = 413
		}
		return e
	case errors.As(err, &fe):
		return errBadRequest("duplicate_key", fmt.Sprintf("the %s repeats a key, or holds keys that differ only by case, in the object at %s",
			what, detect.SafePath(fe.Path)))
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	return errBadRequest("invalid_json", "malformed JSON in the "+what)
}

// request is a request body after inspection.
type request struct {
	// vals are the values that hold findings, in document order.
	vals []*reqValue
	// cross are findings across text parts; crossParts holds one copy
	// of each part they touch, by the part's offset, so that two findings
	// that touch one part share it.
	cross      []crossFinding
	crossParts map[int32]*textPart
}

// reqValue is one value of the request that holds findings.
type reqValue struct {
	start, end int // the literal's span in the body
	path       string
	isKey      bool
	text       string // decoded
	findings   []detect.Finding

	// strip says the value holds invisible characters to strip.
	strip bool

	// Set by deidentify.
	out     string
	changed bool
}

// textPart is a text part of the request, for joined scanning. The
// walk keeps one per part (a request may hold hundreds of thousands), so
// it is small; text is decoded only for parts a cross finding touches.
type textPart struct {
	start, end int32 // the literal's span
	msg        int32 // message index (-1: system)
	val        *reqValue
	text       string
}

// crossFinding is a finding in joined text that crosses parts.
type crossFinding struct {
	f     detect.Finding // offsets into the joined text
	value string         // the finding's text
	// first..last are the parts it touches; startIn is where it starts
	// in the first, endIn where it ends in the last.
	parts   []*textPart
	startIn int
	endIn   int
}

// opaqueCand is a value at an opaque position, proven after the walk
// (its sibling may come later in the object).
type opaqueCand struct {
	start, end int
	path       string
	rule       *opaqueRule
}

// inspect scans the request and asks policy what to do: the decision,
// and the upstreams it allows.
func (s *Server) inspect(x *exchange) *apiError {
	h, bad := s.requestHeaders(x.r)
	if bad != nil {
		return bad
	}
	x.fwdHeader = h
	_, sp := s.stage(x.ctx, x, "warden.detect")
	req, err := s.scanRequest(x)
	if sp.IsRecording() {
		sp.SetAttributes(keyFindings.Int(sumCounts(x.rec.Findings)))
	}
	sp.End()
	if err != nil {
		return err
	}
	x.req = req
	return s.decide(x)
}

// scanRequest walks the body and scans every value.
func (s *Server) scanRequest(x *exchange) (*request, *apiError) {
	sh := x.sh
	req := &request{}
	var parts []textPart
	var cands []opaqueCand
	roles := map[int]string{}
	siblings := map[string]string{} // parent path + "." + key → value, for opaque siblings
	scan := s.deps.Detector.Scan
	var budget *detect.DecodeBudget
	if bd, ok := s.deps.Detector.(budgetDetector); ok {
		budget = bd.NewDecodeBudget()
		scan = func(t string) []detect.Finding { return bd.ScanWithBudget(t, budget) }
	}
	x.scan = scan
	x.in = policy.Input{Principal: x.p.Name, Roles: x.p.Roles, Tenant: x.p.Tenant, Model: x.model, Endpoint: sh.endpoint}
	_, err := detect.WalkJSON(x.body, s.reqWalk, func(v detect.JSONValue) (string, bool, error) {
		if v.Literal {
			return "", false, nil
		}
		if v.Number && digitCount(v.Value) < 9 {
			return "", false, nil
		}
		if !v.Number && !v.IsKey {
			if r := opaqueAt(sh.opaque, v.Path); r != nil {
				cands = append(cands, opaqueCand{start: v.Start, end: v.End, path: v.Path, rule: r})
				return "", false, nil
			}
			if k := v.Key; k == "media_type" || k == "format" {
				siblings[v.Path] = strings.Clone(v.Value)
			}
			if sh.role != nil {
				if idx, ok := sh.role.match(v.Path); ok {
					roles[idx[0]] = strings.Clone(v.Value)
				}
			}
		}
		strip := false
		if !v.Number {
			var bad *apiError
			if strip, bad = s.sanitize.check(v.Path, v.Value); bad != nil {
				return "", false, bad
			}
			strip = strip && !v.IsKey // keys are not rewritten
		}
		var rv *reqValue
		if fs := scan(v.Value); len(fs) > 0 || strip {
			rv = &reqValue{start: v.Start, end: v.End, path: v.Path, isKey: v.IsKey, text: strings.Clone(v.Value), findings: fs, strip: strip}
			req.vals = append(req.vals, rv)
		}
		if !v.IsKey && !v.Number && len(sh.parts) > 0 {
			if idx, ok := sh.parts.match(v.Path); ok {
				msg := idx[0]
				if !strings.Contains(v.Path, "[") {
					msg = -1
				}
				parts = append(parts, textPart{start: int32(v.Start), end: int32(v.End), msg: int32(msg), val: rv})
			}
		}
		return "", false, nil
	})
	if err != nil {
		return nil, jsonError(err, "request")
	}
	// Opaque candidates that do not prove what they claim are scanned.
	for _, c := range cands {
		text, err := decodeLiteral(x.body[c.start:c.end])
		if err != nil {
			return nil, errBadRequest("invalid_json", "malformed JSON string in the request")
		}
		parent := c.path[:max(0, strings.LastIndexByte(c.path, '.'))]
		if c.rule.proves(text, siblings[parent+"."+c.rule.sibling]) {
			continue
		}
		fs := scan(text)
		if len(fs) == 0 {
			// Text wrapped in base64 or a data URL: what it decodes to
			// is scanned, and a finding there covers the whole value.
			if dec, ok := payloadText(text); ok {
				if inner := scan(dec); len(inner) > 0 {
					f := inner[0]
					f.Start, f.End = 0, len(text)
					fs = []detect.Finding{f}
				}
			}
		}
		if len(fs) > 0 {
			req.vals = append(req.vals, &reqValue{start: c.start, end: c.end, path: c.path, text: text, findings: fs})
		}
	}
	sort.Slice(req.vals, func(i, j int) bool { return req.vals[i].start < req.vals[j].start })
	if err := s.scanJoined(x, req, parts, roles); err != nil {
		return nil, err
	}
	if budget != nil && budget.Exhausted() {
		// Fail closed: an encoded run left undecoded may hide a value.
		return nil, errBadRequest("decode_budget_exceeded", "the request holds more encoded text (base64, hex, "+
			"percent-encoding) than detect.decode.budget lets the gateway inspect; raise the budget or send less")
	}
	for _, rv := range req.vals {
		for _, f := range rv.findings {
			x.noteFinding(s, f)
		}
	}
	for _, c := range req.cross {
		x.noteFinding(s, c.f)
	}
	return req, nil
}

// scanJoined scans each group of adjacent text parts joined (the parts
// of consecutive messages of one role) and keeps the findings that
// cross a part boundary.
func (s *Server) scanJoined(x *exchange, req *request, parts []textPart, roles map[int]string) *apiError {
	if len(parts) < 2 {
		return nil
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].start < parts[j].start })
	for i := 0; i < len(parts); {
		j := i + 1
		for j < len(parts) && sameGroup(&parts[j-1], &parts[j], roles) {
			j++
		}
		if j-i >= 2 {
			if err := s.scanGroup(x, req, parts[i:j]); err != nil {
				return err
			}
		}
		i = j
	}
	return nil
}

// sameGroup reports whether b continues a's text: the same message, or
// the next message with the same role.
func sameGroup(a, b *textPart, roles map[int]string) bool {
	if a.msg == b.msg {
		return true
	}
	return a.msg >= 0 && b.msg == a.msg+1 && roles[int(a.msg)] == roles[int(b.msg)]
}

func (s *Server) scanGroup(x *exchange, req *request, group []textPart) *apiError {
	var joined []byte
	offs := make([]int, len(group)+1)
	for k := range group {
		lit := x.body[group[k].start:group[k].end]
		offs[k] = len(joined)
		if bytes.IndexByte(lit, '\\') < 0 {
			joined = append(joined, lit[1:len(lit)-1]...) // no escapes: the bytes are the text
			continue
		}
		t, err := decodeLiteral(lit)
		if err != nil {
			return errBadRequest("invalid_json", "malformed JSON string in the request")
		}
		joined = append(joined, t...)
	}
	offs[len(group)] = len(joined)
	text := string(joined)
	for _, f := range x.scan(text) {
		first := sort.SearchInts(offs, f.Start+1) - 1 // the part holding f.Start
		last := sort.SearchInts(offs, f.End) - 1      // the part holding f.End-1
		if first == last {
			continue // inside one part: its own scan found it
		}
		c := crossFinding{f: f, value: text[f.Start:f.End], startIn: f.Start - offs[first], endIn: f.End - offs[last]}
		for k := first; k <= last; k++ {
			p := req.crossParts[group[k].start]
			if p == nil {
				cp := group[k] // a copy, with its text
				cp.text = text[offs[k]:offs[k+1]]
				p = &cp
				if req.crossParts == nil {
					req.crossParts = map[int32]*textPart{}
				}
				req.crossParts[cp.start] = p
			}
			c.parts = append(c.parts, p)
		}
		req.cross = append(req.cross, c)
	}
	return nil
}

// decodeLiteral decodes a JSON string literal.
func decodeLiteral(lit []byte) (string, error) {
	var s string
	err := json.Unmarshal(lit, &s)
	return s, err
}

func digitCount(num string) int {
	n := 0
	for i := 0; i < len(num); i++ {
		if num[i] >= '0' && num[i] <= '9' {
			n++
		}
	}
	return n
}

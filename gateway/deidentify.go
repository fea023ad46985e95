package gateway

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/wardenhq/warden/detect"
	"github.com/wardenhq/warden/policy"
	"github.com/wardenhq/warden/transform"
)

// decide asks policy what to do with the request and which upstreams
// may take it. The decision is one: a rule that reads zone is decided
// again per candidate zone (decideZones), and the candidates kept are
// the ones decided alike.
func (s *Server) decide(x *exchange) *apiError {
	_, sp := s.stage(x.ctx, x, "warden.policy")
	dec, err := s.deps.Policy.Decide(x.in)
	sp.End()
	x.rec.Policy = s.deps.Policy.Version()
	x.rec.Rules = dec.Rules
	if err != nil {
		x.rec.Decision = string(policy.Deny)
		return errUnavailable("policy_error", "policy could not be evaluated; request refused")
	}
	x.rec.Decision = string(dec.Action)
	if dec.Action == policy.Deny {
		x.rec.Reasons = []string{dec.Reason}
		return errBadRequest("policy_denied", dec.Reason)
	}
	cands, reason := s.candidates(x.route, dec.Zones)
	if cands == nil {
		x.rec.Reasons = []string{reason}
		return errUnavailable("no_eligible_upstream", reason)
	}
	if zp, ok := s.deps.Policy.(zonePolicy); ok && zp.ZoneDependent() {
		var refused []string
		_, sp = s.stage(x.ctx, x, "warden.policy.zones")
		cands, dec, refused, err = s.decideZones(x.in, cands)
		sp.End()
		x.rec.Reasons = refused
		if err != nil {
			x.rec.Decision = string(policy.Deny)
			return errUnavailable("policy_error", "policy could not be evaluated; request refused")
		}
		if cands == nil {
			x.rec.Decision = string(policy.Deny)
			return errBadRequest("policy_denied", strings.Join(refused, "; "))
		}
		x.rec.Decision, x.rec.Rules = string(dec.Action), dec.Rules
	}
	x.dec, x.cands = dec, cands
	return nil
}

// deidentify rewrites every finding the decision does not allow with its
// operator and builds the body the upstream gets: the caller's bytes
// with the changed values spliced in.
func (s *Server) deidentify(x *exchange) *apiError {
	req, dec := x.req, x.dec
	x.sent = map[string]bool{}
	x.restore = dec.Restore
	if x.restore {
		x.revealer = s.revealer(x.p.Tenant)
	}
	// What each changed value becomes: its text with the findings to
	// rewrite, cross-part findings folded in.
	type work struct {
		v        *reqValue
		text     string
		findings []detect.Finding
	}
	var jobs []*work
	byStart := map[int]*work{}
	get := func(v *reqValue, start, end int, path string, text string) *work {
		if w := byStart[start]; w != nil {
			return w
		}
		if v == nil {
			v = &reqValue{start: start, end: end, path: path, text: text}
		}
		w := &work{v: v}
		byStart[start] = w
		jobs = append(jobs, w)
		return w
	}
	rewrite := func(f detect.Finding) bool {
		op := dec.Operator(f.Type, string(f.Category))
		return op != "" && op != "allow"
	}
	for _, v := range req.vals {
		var apply []detect.Finding
		for _, f := range v.findings {
			if rewrite(f) {
				apply = append(apply, f)
			} else {
				x.sent[v.text[f.Start:f.End]] = true
			}
		}
		if len(apply) == 0 && !v.strip {
			continue
		}
		if v.isKey && len(apply) > 0 {
			// Renaming a key would change what the request means.
			return errBadRequest("sensitive_key", fmt.Sprintf("an object key at %s holds sensitive data (%s); keys are not rewritten",
				detect.SafePath(parentPath(v.path)), apply[0].Type))
		}
		w := get(v, v.start, v.end, v.path, v.text)
		w.text, w.findings = v.text, apply
	}
	// Cross-part findings: the first part gets the whole value (its
	// rewrite), the parts after lose their share of it.
	type cut struct{ from, to int } // spans removed from a part's text
	cuts := map[*textPart][]cut{}
	// crossJob is a cross-part value, written whole where it starts.
	type crossJob struct {
		p     *textPart
		at    int // offset in the part where the value starts
		value string
		f     detect.Finding
	}
	var crossJobs []crossJob
	for _, c := range req.cross {
		if !rewrite(c.f) {
			x.sent[c.value] = true
			continue
		}
		first := c.parts[0]
		cuts[first] = append(cuts[first], cut{c.startIn, len(first.text)})
		for _, p := range c.parts[1 : len(c.parts)-1] {
			cuts[p] = append(cuts[p], cut{0, len(p.text)})
		}
		last := c.parts[len(c.parts)-1]
		cuts[last] = append(cuts[last], cut{0, c.endIn})
		crossJobs = append(crossJobs, crossJob{first, c.startIn, c.value, c.f})
	}
	for p, cs := range cuts {
		// The part's text with the cut spans left out, its own findings
		// outside them kept, and each cross value starting here written
		// in whole where it starts.
		sort.Slice(cs, func(i, j int) bool { return cs[i].from < cs[j].from })
		var own []detect.Finding
		if p.val != nil {
			own = keepFindings(p.val.findings, rewrite)
		}
		var b strings.Builder
		var fs []detect.Finding
		pos := 0
		emit := func(from, to int) {
			// Own findings are clipped to what is kept: a finding cut
			// by a cross value is rewritten as far as it remains.
			for _, f := range own {
				if f.End <= from || f.Start >= to {
					continue
				}
				f.Start, f.End = max(f.Start, from)+b.Len()-from, min(f.End, to)+b.Len()-from
				fs = append(fs, f)
			}
			b.WriteString(p.text[from:to])
		}
		for _, c := range cs {
			if c.from > pos {
				emit(pos, c.from)
			}
			for _, cj := range crossJobs {
				if cj.p == p && cj.at == c.from {
					f := cj.f
					f.Start, f.End = b.Len(), b.Len()+len(cj.value)
					fs = append(fs, f)
					b.WriteString(cj.value)
				}
			}
			pos = max(pos, c.to)
		}
		if pos < len(p.text) {
			emit(pos, len(p.text))
		}
		w := get(p.val, int(p.start), int(p.end), "", p.text)
		w.text, w.findings = b.String(), fs
	}
	if len(jobs) > 0 {
		if err := s.applyJobs(x, len(jobs), func(i int) (*string, []detect.Finding, *bool) {
			return &jobs[i].text, jobs[i].findings, &jobs[i].v.changed
		}); err != nil {
			return err
		}
		for _, w := range jobs {
			w.v.out = s.sanitize.clean(w.text)
		}
	}
	// The upstream body: the caller's bytes, changed values spliced in,
	// the model renamed when it is an alias.
	var edits []splice
	for _, w := range jobs {
		edits = append(edits, splice{w.v.start, w.v.end, jsonString(w.v.out)})
	}
	if x.route != x.model {
		if sp, ok := s.modelSpan(x); ok {
			edits = append(edits, splice{sp[0], sp[1], jsonString(x.route)})
		}
	}
	x.upBody = applySplices(x.body, edits)
	return nil
}

// applyJobs de-identifies n texts: text(i) returns the text to rewrite
// (rewritten in place), its findings (sorted, not overlapping) and a
// flag to set. Every token is issued in one vault batch.
func (s *Server) applyJobs(x *exchange, n int, text func(i int) (*string, []detect.Finding, *bool)) *apiError {
	d, err := s.deidentifier(x.p.Tenant, x.dec.Operators)
	if err != nil {
		return &apiError{Status: http.StatusInternalServerError, Type: "api_error", Code: "policy_operator",
			Msg: "policy names an unusable operator: " + err.Error()}
	}
	dctx, sp := s.stage(x.ctx, x, "warden.deidentify")
	defer sp.End()
	failed := func() *apiError {
		failStage(sp, "deidentify_failed")
		return errUnavailable("deidentify_failed", "de-identification failed; request refused (no data was sent upstream)")
	}
	texts := make([]string, n)
	apply := make([][]detect.Finding, n)
	for i := range n {
		t, fs, _ := text(i)
		texts[i], apply[i] = *t, fs
	}
	if tok, err := s.preissue(dctx, x.p.Tenant, d, texts, apply); err != nil {
		s.log.Error("de-identification failed", "request_id", x.rec.RequestID, "error", scrubError(err))
		return failed()
	} else if tok != nil {
		d = d.WithTokenizer(tok)
	}
	for i := range n {
		t, fs, changed := text(i)
		out, st, err := d.Apply(dctx, *t, fs)
		if err != nil {
			// Fail closed: never forward what could not be protected.
			s.log.Error("de-identification failed", "request_id", x.rec.RequestID, "error", scrubError(err))
			return failed()
		}
		for _, c := range st.Counts {
			x.rec.Operators[string(c.Operator)] += c.N
		}
		*t, *changed = out, true
	}
	return nil
}

// keepFindings returns the findings keep admits.
func keepFindings(fs []detect.Finding, keep func(detect.Finding) bool) []detect.Finding {
	var out []detect.Finding
	for _, f := range fs {
		if keep(f) {
			out = append(out, f)
		}
	}
	return out
}

// parentPath is the path of the object holding a member.
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i <= 0 {
		return "$"
	}
	return p[:i]
}

// modelSpan finds the span of the top-level model literal.
func (s *Server) modelSpan(x *exchange) ([2]int, bool) {
	var span [2]int
	found := false
	_, err := detect.WalkJSON(x.body, s.topWalk, func(v detect.JSONValue) (string, bool, error) {
		if !v.IsKey && !v.Container && v.Path == "$.model" {
			span, found = [2]int{v.Start, v.End}, true
		}
		return "", false, nil
	})
	return span, err == nil && found
}

// preissue issues the tokens a request needs in one vault batch when the
// tenant's tokenizer supports it; nil otherwise.
func (s *Server) preissue(ctx context.Context, tenant string, d *transform.Deidentifier, texts []string, apply [][]detect.Finding) (transform.Tokenizer, error) {
	if s.deps.Tokens == nil {
		return nil, nil
	}
	bt, ok := s.deps.Tokens.Tokenizer(tenant).(transform.BatchTokenizer)
	if !ok {
		return nil, nil
	}
	return d.Preissue(ctx, bt, texts, apply)
}

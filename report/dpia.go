package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// DPIASection is the data-flow and risk section of a DPIA draft (GDPR
// Art. 35(7)(a), (c) and (d)), drawn from the log.
type DPIASection struct {
	// Flows are the paths personal data took: principal and tenant →
	// category → model → upstream and zone, with counts.
	Flows []Flow `json:"flows"`
	// ToolCalls are the MCP tool calls, ToolResults the findings in
	// what tools returned (which then reach the model as tokens).
	ToolCalls   []ToolCall   `json:"tool_calls"`
	ToolResults []ToolResult `json:"tool_results"`
	// Refusals are requests refused before any upstream call, by error
	// code; UpstreamErrors requests that reached an upstream and ended
	// in an error.
	Refusals       []Count      `json:"refusals"`
	UpstreamErrors []Count      `json:"upstream_errors"`
	Leaks          []LeakRecord `json:"leaks"`
	Risks          []Risk       `json:"risks"`
	Mitigations    []Measure    `json:"mitigations"`
	// CannotSee is what Warden cannot see, so the DPIA must cover by
	// other means.
	CannotSee []string `json:"cannot_see"`
}

// Flow is one path of data, counted over the period.
type Flow struct {
	Purpose   string `json:"purpose"`
	Tenant    string `json:"tenant"`
	Principal string `json:"principal"`
	Category  string `json:"category"`
	Model     string `json:"model"`
	Upstream  string `json:"upstream"`
	Zone      string `json:"zone"`
	Country   string `json:"country"`
	Placement string `json:"placement"`
	// Requests counts requests sent along the flow, Findings the
	// findings of the category in them; SentRaw of the requests carried
	// findings the policy let through unchanged, Deidentified were
	// de-identified first.
	Requests     int64 `json:"requests"`
	Findings     int64 `json:"findings"`
	SentRaw      int64 `json:"sent_raw"`
	Deidentified int64 `json:"deidentified"`
	// Types are the finding types of the category, with counts.
	Types []Count `json:"types"`
}

// ToolCall counts the calls of one MCP tool.
type ToolCall struct {
	Server string `json:"server"`
	Tool   string `json:"tool"`
	Calls  int64  `json:"calls"`
}

// ToolResult counts the findings in one MCP server's results.
type ToolResult struct {
	Server   string  `json:"server"`
	Findings []Count `json:"findings"`
}

// LeakRecord counts what the response guard found in one model's
// answers: values of leak types the caller had not sent.
type LeakRecord struct {
	Purpose            string `json:"purpose"`
	Model              string `json:"model"`
	Upstream           string `json:"upstream"`
	Responses          int64  `json:"responses"`
	ResponsesWithLeaks int64  `json:"responses_with_leaks"`
	Leaks              int64  `json:"leaks"`
	Restored           int64  `json:"restored"`
}

// Risk is a risk the data shows, with the evidence and what mitigates
// it.
type Risk struct {
	ID         string `json:"id"`
	Title      string `json:"title"`
	Severity   string `json:"severity"`
	Evidence   string `json:"evidence"`
	Mitigation string `json:"mitigation"`
}

// cannotSee is what Warden cannot see.
var cannotSee = []string{
	"Traffic that does not go through Warden: applications calling a model or tool directly, browser extensions, a provider's own apps.",
	"Content inside images, audio, PDFs and other binary attachments: opaque values pass byte for byte (only their type is checked), so personal data in a scanned form or a voice note is not counted.",
	"Values its detectors miss: unusual formats, free-text health or other special-category information (a diagnosis, a religion) that carries no identifier — the HEALTH category counts health identifiers, not every health fact — and names or addresses outside the recognizers' reach. Counts here are lower bounds.",
	"What upstreams and MCP servers do with what they receive: their retention, training use, sub-processors and location beyond what is configured here (country and region are declared, not measured).",
	"What callers do with restored values once Warden returns them, and data in requests refused before detection ran (unauthenticated or malformed).",
	"Whether a person is identifiable from de-identified text by context alone (tokens replace values, not the facts around them).",
}

func (ev *Evidence) dpia() *DPIASection {
	s := &DPIASection{
		Refusals: sortedCounts(ev.refusals), UpstreamErrors: sortedCounts(ev.upErrors),
		ToolCalls: []ToolCall{}, ToolResults: []ToolResult{}, Leaks: []LeakRecord{},
		Mitigations: ev.measures(), CannotSee: slices.Clone(cannotSee),
	}
	s.Flows = ev.flowList()
	for k, n := range ev.tools {
		i := slices.IndexFunc(s.ToolCalls, func(t ToolCall) bool { return t.Server == k.server && t.Tool == k.tool })
		if i < 0 {
			s.ToolCalls = append(s.ToolCalls, ToolCall{Server: k.server, Tool: k.tool})
			i = len(s.ToolCalls) - 1
		}
		s.ToolCalls[i].Calls += n
	}
	slices.SortFunc(s.ToolCalls, func(a, b ToolCall) int {
		return cmp.Or(strings.Compare(a.Server, b.Server), strings.Compare(a.Tool, b.Tool))
	})
	for _, srv := range sortedKeys(ev.results) {
		s.ToolResults = append(s.ToolResults, ToolResult{srv, sortedCounts(ev.results[srv])})
	}
	for k, l := range ev.leaks {
		s.Leaks = append(s.Leaks, LeakRecord{k.purpose, k.model, k.upstream, l.responses, l.withLeaks, l.leaks, l.restored})
	}
	slices.SortFunc(s.Leaks, func(a, b LeakRecord) int {
		return cmp.Or(cmp.Compare(b.Leaks, a.Leaks), strings.Compare(a.Purpose, b.Purpose), strings.Compare(a.Model, b.Model), strings.Compare(a.Upstream, b.Upstream))
	})
	s.Risks = ev.risks(s)
	return s
}

// flowList is every flow, most requests first.
func (ev *Evidence) flowList() []Flow {
	out := make([]Flow, 0, len(ev.flows))
	for k, f := range ev.flows {
		r := ev.recipientOf(k.upstream)
		out = append(out, Flow{
			Purpose: k.purpose, Tenant: k.tenant, Principal: k.principal, Category: k.category, Model: k.model,
			Upstream: k.upstream, Zone: k.zone, Country: r.Country, Placement: ev.home.place(r).String(),
			Requests: f.requests, Findings: f.findings, SentRaw: f.raw, Deidentified: f.deidentified, Types: sortedCounts(f.types),
		})
	}
	slices.SortFunc(out, func(a, b Flow) int {
		return cmp.Or(cmp.Compare(b.Requests, a.Requests), strings.Compare(a.Purpose, b.Purpose), strings.Compare(a.Tenant, b.Tenant),
			strings.Compare(a.Principal, b.Principal), cmp.Compare(catRank(a.Category), catRank(b.Category)),
			strings.Compare(a.Model, b.Model), strings.Compare(a.Upstream, b.Upstream), strings.Compare(a.Zone, b.Zone))
	})
	return out
}

func (ev *Evidence) risks(s *DPIASection) []Risk {
	var rs []Risk
	var specialExt, specialExtRaw, rawExt, rawExtReq, secrets, secretReq, transfers, transferSpecial int64
	zones := map[string]bool{}
	for _, f := range s.Flows {
		ext := !ev.internal(f.Zone)
		switch {
		case f.Category == Health && ext:
			specialExt += f.Findings
			specialExtRaw += f.SentRaw
			zones[f.Zone] = true
		case f.Category == Secret:
			secrets += f.Findings
			secretReq += f.Requests
		}
		if ext && f.SentRaw > 0 && f.Category != None {
			rawExt += f.Findings
			rawExtReq += f.SentRaw
		}
	}
	ropa := ev.ropa()
	for _, t := range ropa.Transfers {
		transfers += t.Requests
		transferSpecial += t.SpecialFindings
	}
	zoneList := strings.Join(sortedKeys(zones), ", ")
	if specialExt > 0 {
		sev := Medium
		mit := "de-identified before sending: the zone receives tokens, the vault keeps the originals (encrypted) for the caller's tenant"
		if specialExtRaw > 0 {
			sev = High
			mit = fmt.Sprintf("%d of these requests went with the values unchanged (decision allow): add a policy rule that de-identifies HEALTH or routes it to an internal zone", specialExtRaw)
		}
		rs = append(rs, Risk{"special_categories_external", "Health data sent to zones outside the controller's own", sev,
			fmt.Sprintf("%s in requests to zone(s) %s (internal zones: %s)", plural(specialExt, "health finding"), zoneList, strings.Join(ev.opt.InternalZones, ", ")), mit})
	}
	if rawExt > 0 {
		rs = append(rs, Risk{"raw_personal_data_external", "Personal data sent unchanged to external zones", Medium,
			fmt.Sprintf("%s carried %s the policy allowed through unchanged to zones outside %s", plural(rawExtReq, "request"), plural(rawExt, "finding"), strings.Join(ev.opt.InternalZones, ", ")),
			"narrow the policy's allow rules, or route such requests to an internal zone"})
	}
	if transfers > 0 {
		sev := Medium
		what := fmt.Sprintf("%s went to recipients outside the home region or of undeclared country", plural(transfers, "request"))
		if transferSpecial > 0 {
			sev = High
			what += fmt.Sprintf(", with %s", plural(transferSpecial, "health finding"))
		}
		rs = append(rs, Risk{"transfers", "Transfers outside the home region", sev, what,
			"zones and upstream choice per request by policy; document the transfer mechanism per recipient (see the records of processing)"})
	}
	if und := ev.purposes[len(ev.purposes)-1]; und.requests > 0 {
		rs = append(rs, Risk{"undeclared_purpose", "Processing without a declared purpose", High,
			fmt.Sprintf("requests matching no declared purpose: %d (%d sent)", und.requests, und.sent),
			"declare their purpose and legal basis, or revoke the callers' keys"})
	}
	if secrets > 0 {
		rs = append(rs, Risk{"credentials_sent", "Credentials in requests", Medium,
			fmt.Sprintf("%s in %s sent", plural(secrets, "credential finding"), plural(secretReq, "request")),
			"credentials are refused by the default policy; a rule that lets them through sends them de-identified or raw as it says"})
	}
	var leaks, leakResp int64
	for _, l := range s.Leaks {
		leaks += l.Leaks
		leakResp += l.ResponsesWithLeaks
	}
	if leaks > 0 {
		rs = append(rs, Risk{"leaks_in_responses", "Models writing sensitive values the caller did not send", Medium,
			fmt.Sprintf("%s in %s", plural(leaks, "value"), plural(leakResp, "response")),
			"the response guard rewrote every one before it reached the caller; find which model and prompt produce them"})
	}
	var refused int64
	for _, c := range s.Refusals {
		refused += c.Count
	}
	if refused > 0 {
		var parts []string
		for _, c := range s.Refusals {
			parts = append(parts, fmt.Sprintf("%s %d", c.Name, c.Count))
		}
		rs = append(rs, Risk{"refusals", "Requests refused at the gateway", Low,
			fmt.Sprintf("%s refused before any upstream call: %s", plural(refused, "request"), strings.Join(parts, ", ")),
			"refused requests never left the gateway; repeated refusals of one caller may be misuse worth a look"})
	}
	var aborted int64
	for _, n := range ev.aborted {
		aborted += n
	}
	if aborted > 0 {
		rs = append(rs, Risk{"aborted", "Requests whose outcome is unknown", Low,
			fmt.Sprintf("%s sent whose completion was never logged (a gateway stopped or died)", plural(aborted, "request")),
			"the intent was logged before sending, so the request is on record; its response is not"})
	}
	var unknown int64
	for _, r := range ropa.Recipients {
		if r.Placement == unknownPlace.String() {
			unknown += r.Requests
		}
	}
	if unknown > 0 {
		rs = append(rs, Risk{"recipient_country_unknown", "Recipients of undeclared location", Medium,
			fmt.Sprintf("%s went to recipients with no country declared", plural(unknown, "request")),
			"declare upstreams[].country and region"})
	}
	slices.SortStableFunc(rs, func(a, b Risk) int {
		return cmp.Or(cmp.Compare(severityRank[a.Severity], severityRank[b.Severity]), strings.Compare(a.ID, b.ID))
	})
	if rs == nil {
		rs = []Risk{}
	}
	return rs
}

package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Format is an output format of a report.
type Format string

// Formats of reports.
const (
	// Markdown is the default: headings, tables, the signed note as a
	// code block.
	Markdown Format = "md"
	// HTML is one self-contained page: no script, no external asset,
	// every value escaped.
	HTML Format = "html"
	// JSON is the stable schema warden.report/v1 (docs/REPORTS.md).
	JSON Format = "json"
	// CSV is the tabular part: ropa one row per purpose × category ×
	// recipient, dpia one row per flow, ai-act one row per model; every
	// row ends with the checkpoint's origin, size and root.
	CSV Format = "csv"
)

// Formats lists every format.
func Formats() []Format { return []Format{Markdown, HTML, JSON, CSV} }

// maxRows bounds the rows of one table in Markdown and HTML; JSON and
// CSV hold every row.
const maxRows = 200

// Render writes the report to w in format f.
func (r *Report) Render(w io.Writer, f Format) error {
	switch f {
	case Markdown, "":
		return renderMarkdown(w, r.blocks())
	case HTML:
		return renderHTML(w, r.Title, r.blocks())
	case JSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(r)
	case CSV:
		return r.renderCSV(w)
	}
	return fmt.Errorf("report: unknown format %q (want md, html, json or csv)", f)
}

// block is one piece of a rendered report; Markdown and HTML draw the
// same blocks.
type block struct {
	kind  blockKind
	level int      // heading
	text  string   // heading, paragraph, code
	head  []string // table
	rows  [][]string
	more  int      // table rows left out (see maxRows)
	items []string // list
}

type blockKind int

const (
	heading blockKind = iota
	para
	table
	code
	list
)

// doc accumulates blocks.
type doc struct{ bs []block }

func (d *doc) h(level int, text string) {
	d.bs = append(d.bs, block{kind: heading, level: level, text: text})
}
func (d *doc) p(format string, a ...any) {
	d.bs = append(d.bs, block{kind: para, text: fmt.Sprintf(format, a...)})
}
func (d *doc) code(text string)    { d.bs = append(d.bs, block{kind: code, text: text}) }
func (d *doc) list(items []string) { d.bs = append(d.bs, block{kind: list, items: items}) }

// table adds a table, or the paragraph empty when there are no rows.
func (d *doc) table(head []string, rows [][]string, empty string) {
	if len(rows) == 0 {
		d.p("%s", empty)
		return
	}
	b := block{kind: table, head: head, rows: rows}
	if len(rows) > maxRows {
		b.rows, b.more = rows[:maxRows], len(rows)-maxRows
	}
	d.bs = append(d.bs, b)
}

// kv adds a two-column table of names and values.
func (d *doc) kv(pairs ...string) {
	var rows [][]string
	for i := 0; i+1 < len(pairs); i += 2 {
		rows = append(rows, []string{pairs[i], pairs[i+1]})
	}
	d.bs = append(d.bs, block{kind: table, head: []string{"", ""}, rows: rows})
}

func itoa(n int64) string { return fmt.Sprint(n) }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// countsText renders counts as "a 3, b 1".
func countsText(cs []Count) string {
	if len(cs) == 0 {
		return "—"
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s %d", dash(c.Name), c.Count)
	}
	return strings.Join(parts, ", ")
}

func listText(s []string) string {
	if len(s) == 0 {
		return "—"
	}
	return strings.Join(s, ", ")
}

// blocks lays the report out.
func (r *Report) blocks() []block {
	d := &doc{}
	d.h(1, r.Title)
	c := r.Controller
	d.kv("Controller", dash(c.Name), "Contact", dash(c.Contact), "Data protection officer", dash(c.DPO),
		"Period", periodText(r.Period), "Entries in the period", fmt.Sprintf("%d (first %s, last %s)", r.Period.Entries, dash(r.Period.First), dash(r.Period.Last)),
		"Generated", r.GeneratedAt, "Warden version", r.WardenVersion, "Config digest", r.ConfigDigest)
	cp := r.Checkpoint
	d.h(2, "Built from checkpoint")
	d.p("Every number in this report counts fields of the %d audit-log entries this signed checkpoint covers, read from index 0 and checked against its root; nothing else is counted.", cp.Size)
	d.kv("Origin", cp.Origin, "Size", itoa(cp.Size), "Root hash", cp.RootHash, "Verifier key", cp.VerifierKey,
		"Signed checkpoints verified", fmt.Sprintf("%d (sizes %d to %d)", cp.Checkpoints, cp.FirstCheckpoint, cp.Size),
		"Log", fmt.Sprintf("%s to %s", dash(r.Log.FirstEntry), dash(r.Log.LastEntry)))
	d.code(cp.Note)
	d.h(2, "Issues")
	var rows [][]string
	for _, is := range r.Issues {
		rows = append(rows, []string{is.Severity, is.Code, is.Message})
	}
	d.table([]string{"Severity", "Code", "Issue"}, rows, "None.")
	switch {
	case r.ROPA != nil:
		ropaBlocks(d, r.ROPA)
	case r.DPIA != nil:
		dpiaBlocks(d, r.DPIA)
	case r.AIAct != nil:
		aiActBlocks(d, r, r.AIAct)
	}
	d.h(2, "How to verify")
	d.p("An auditor can check this report against the log without trusting it or Warden:")
	for i, s := range r.Verify {
		d.p("%d. %s", i+1, s.Step)
		if s.Command != "" {
			d.code(s.Command)
		}
	}
	return d.bs
}

func periodText(p Period) string {
	since, until := p.Since, p.Until
	if since == "" {
		since = "the log's first entry"
	}
	if until == "" {
		until = "the checkpoint"
	}
	return since + " to " + until
}

func ropaBlocks(d *doc, s *ROPASection) {
	for _, p := range s.Purposes {
		if !p.Declared && p.Requests == 0 {
			continue
		}
		d.h(2, "Purpose: "+p.Name)
		basis, art9 := "— (not declared)", "—"
		if p.LegalBasis != nil {
			basis = "GDPR " + p.LegalBasis.Article + ": " + p.LegalBasis.Text
		}
		if p.Art9Condition != nil {
			art9 = "GDPR " + p.Art9Condition.Article + ": " + p.Art9Condition.Text
		}
		if !p.Declared {
			d.p("Traffic that no declared purpose matches. It has no legal basis on record: declare its purpose.")
		}
		covers := fmt.Sprintf("principals %s; tenants %s; models %s", globs(p.Match.Principals), globs(p.Match.Tenants), globs(p.Match.Models))
		if !p.Declared {
			covers = "requests no declared purpose matches"
		}
		d.kv("Description", dash(p.Description), "Legal basis", basis, "Special categories condition", art9,
			"Categories of data subjects", listText(p.DataSubjects), "Retention", dash(p.Retention), "Covers", covers,
			"Requests", fmt.Sprintf("%d: %d sent (%d with findings let through unchanged, %d de-identified first), %d refused", p.Requests, p.Sent, p.SentRaw, p.SentDeidentified, p.Refused),
			"Tenants", countsText(p.Tenants), "Principals", fmt.Sprintf("%d: %s", len(p.Principals), countsText(p.Principals)),
			"Recipients", countsText(p.Recipients), "Refusals", countsText(p.Refusals),
			"Response guard", fmt.Sprintf("%d leaked values masked, %d tokens restored for the caller", p.Leaks, p.Restored))
		d.h(3, "Categories of personal data observed")
		var rows [][]string
		for _, c := range p.Categories {
			special := ""
			if c.Special {
				special = "special category (Art. 9)"
			}
			rows = append(rows, []string{c.Category, c.Label, dash(special), itoa(c.Sent), itoa(c.Refused), typesText(c.Types)})
		}
		d.table([]string{"Category", "What it is", "Special", "Findings sent", "Findings refused", "Types"}, rows, "No findings.")
	}
	d.h(2, "Recipients")
	var rows [][]string
	for _, r := range s.Recipients {
		name := r.Name
		if !r.Configured {
			name += " (not in the configuration)"
		}
		rows = append(rows, []string{name, r.Kind, dash(r.Zone), dash(r.Country), dash(r.Region), dash(r.Host), dash(r.Transport), r.Placement, itoa(r.Requests), itoa(r.SpecialFindings)})
	}
	d.table([]string{"Recipient", "Kind", "Zone", "Country", "Region", "Host", "Transport", "Home region", "Requests", "Health findings"}, rows, "None.")
	d.h(2, "Transfers outside the home region")
	rows = nil
	for _, t := range s.Transfers {
		rows = append(rows, []string{t.Recipient, t.Kind, dash(t.Country), dash(t.Region), t.Placement, itoa(t.Requests), itoa(t.SpecialFindings), countsText(t.Purposes)})
	}
	d.table([]string{"Recipient", "Kind", "Country", "Region", "Placement", "Requests", "Health findings", "Purposes"}, rows, "None in the period.")
	d.h(2, "Retention")
	ret := s.Retention
	var ttl []string
	for _, t := range ret.VaultTTL {
		ttl = append(ttl, t.Type+" "+t.Duration)
	}
	d.kv("Vault (token originals), per type", listText(ttl), "Vault, other types", ret.VaultDefault, "Audit log", ret.AuditLog)
	var purposes []string
	for _, p := range s.Purposes {
		if p.Declared {
			purposes = append(purposes, p.Name+": "+dash(p.Retention))
		}
	}
	if len(purposes) > 0 {
		d.p("Declared per purpose:")
		d.list(purposes)
	}
	d.h(2, "Technical and organisational measures")
	measureTable(d, s.Measures)
}

func globs(g []string) string {
	if len(g) == 0 {
		return "any"
	}
	return strings.Join(g, ", ")
}

func typesText(ts []TypeCount) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = fmt.Sprintf("%s %d", t.Type, t.Sent+t.Refused)
		if t.NationalID {
			parts[i] += " (national id, Art. 87)"
		}
	}
	return strings.Join(parts, ", ")
}

func measureTable(d *doc, ms []Measure) {
	var rows [][]string
	for _, m := range ms {
		rows = append(rows, []string{m.Title, yesNo(m.InForce), m.Detail})
	}
	d.table([]string{"Measure", "In force", "Detail"}, rows, "None.")
}

func dpiaBlocks(d *doc, s *DPIASection) {
	d.h(2, "Data flows")
	d.p("Requests sent to a model or MCP server in the period, by who sent them, the category of personal data found, and where they went. Sent raw: the policy let findings through unchanged; de-identified: findings were replaced by tokens first.")
	var rows [][]string
	for _, f := range s.Flows {
		rows = append(rows, []string{f.Purpose, dash(f.Tenant), f.Principal, f.Category, f.Model, f.Upstream, dash(f.Zone), dash(f.Country), itoa(f.Requests), itoa(f.Findings), itoa(f.SentRaw), itoa(f.Deidentified)})
	}
	d.table([]string{"Purpose", "Tenant", "Principal", "Category", "Model", "Upstream", "Zone", "Country", "Requests", "Findings", "Sent raw", "De-identified"}, rows, "No requests were sent in the period.")
	if len(s.ToolCalls) > 0 || len(s.ToolResults) > 0 {
		d.h(2, "MCP tools")
		rows = nil
		for _, t := range s.ToolCalls {
			rows = append(rows, []string{t.Server, t.Tool, itoa(t.Calls)})
		}
		d.table([]string{"Server", "Tool", "Calls"}, rows, "No tool calls.")
		rows = nil
		for _, t := range s.ToolResults {
			rows = append(rows, []string{t.Server, countsText(t.Findings)})
		}
		d.table([]string{"Server", "Findings in tool results (reach the model as tokens)"}, rows, "No findings in tool results.")
	}
	d.h(2, "Refusals and errors")
	d.kv("Refused before any upstream call", countsText(s.Refusals), "Upstream calls that ended in an error", countsText(s.UpstreamErrors))
	d.h(2, "Leaks detected in responses")
	rows = nil
	for _, l := range s.Leaks {
		if l.Leaks == 0 && l.Restored == 0 {
			continue
		}
		rows = append(rows, []string{l.Purpose, l.Model, l.Upstream, itoa(l.Responses), itoa(l.ResponsesWithLeaks), itoa(l.Leaks), itoa(l.Restored)})
	}
	d.table([]string{"Purpose", "Model", "Upstream", "Responses", "With leaks", "Leaked values masked", "Tokens restored"}, rows, "None.")
	d.h(2, "Risks")
	rows = nil
	for _, r := range s.Risks {
		rows = append(rows, []string{r.Severity, r.Title, r.Evidence, r.Mitigation})
	}
	d.table([]string{"Severity", "Risk", "Evidence", "Mitigation"}, rows, "The log shows none of the risks this report looks for.")
	d.h(2, "Mitigations Warden applies")
	measureTable(d, s.Mitigations)
	d.h(2, "What Warden cannot see")
	d.p("Assess these by other means; the numbers above do not cover them.")
	d.list(s.CannotSee)
}

func aiActBlocks(d *doc, r *Report, s *AIActSection) {
	d.h(2, "Period covered")
	d.kv("Period", periodText(r.Period), "First entry in the period", dash(r.Period.First), "Last entry in the period", dash(r.Period.Last),
		"Log begins", dash(r.Log.FirstEntry), "Warden version", r.WardenVersion)
	d.h(2, "Completeness")
	c := s.Completeness
	d.kv("Entries (index 0 to checkpoint)", itoa(c.Entries), "Signed checkpoints verified", fmt.Sprintf("%d, sizes %d to %d", c.CheckpointsVerified, c.FirstCheckpointSize, r.Checkpoint.Size),
		"Intents", itoa(c.Intents), "Completions", itoa(c.Completions), "Aborted", itoa(c.Aborted), "In flight", itoa(c.InFlight),
		"Refused requests", itoa(c.Requests), "Administrative acts", itoa(c.Admin), "Every intent paired", yesNo(c.Paired))
	d.list(c.Statements)
	d.h(2, "Retention")
	ret := s.Retention
	var shorter []string
	for _, t := range ret.Shorter {
		shorter = append(shorter, t.Type+" "+t.Duration)
	}
	d.kv("Required (report.retention_min)", ret.Minimum, "Audit log", ret.AuditLog, "Oldest entry", dash(ret.OldestEntry),
		"Log age", fmt.Sprintf("%d days", ret.LogAgeDays), "Audit retention meets the minimum", yesNo(ret.Meets), "Settings shorter than the minimum", listText(shorter))
	d.h(2, "Models")
	var rows [][]string
	for _, m := range s.Models {
		reg := "not registered"
		if m.Registered {
			reg = fmt.Sprintf("approved %s, verdict %s, %d files, signer %s, root %s, source %s, licence %s, at %s",
				yesNo(m.Approved), dash(m.Verdict), m.Files, dash(m.Signer), dash(m.RootDigest), dash(m.Source), dash(m.Licence), dash(m.RegisteredAt))
		}
		rows = append(rows, []string{m.Name, itoa(m.Requests), countsText(m.Purposes), countsText(m.Upstreams), yesNo(m.RequireApproved), reg})
	}
	d.table([]string{"Model", "Requests", "Purposes", "Upstreams", "Approval required", "Registry (provenance)"}, rows, "No models.")
	d.h(2, "MCP tool pins")
	rows = nil
	for _, p := range s.ToolPins {
		rows = append(rows, []string{p.Server, p.Tool, dash(p.Hash), dash(p.PinnedBy), dash(p.PinnedAt), itoa(p.Calls), itoa(p.CallsOtherHash)})
	}
	d.table([]string{"Server", "Tool", "Pinned hash", "Pinned by", "Pinned at", "Calls", "Calls under another definition"}, rows, "No MCP tools are pinned or called.")
	d.h(2, "Administrative acts and aborted requests")
	d.kv("Administrative acts", countsText(s.AdminActs), "Aborted requests, by reason", countsText(s.Aborted))
}

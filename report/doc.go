package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Report is one report in its stable JSON form (schema warden.report/v1,
// docs/REPORTS.md). Exactly one of ROPA, DPIA and AIAct is set, by Kind.
type Report struct {
	Schema        string        `json:"schema"`
	Kind          Kind          `json:"kind"`
	Title         string        `json:"title"`
	GeneratedAt   string        `json:"generated_at"`
	WardenVersion string        `json:"warden_version"`
	Controller    Controller    `json:"controller"`
	Period        Period        `json:"period"`
	Checkpoint    CheckpointRef `json:"checkpoint"`
	Log           LogSummary    `json:"log"`
	ConfigDigest  string        `json:"config_digest"`
	// Issues are what the controller should fix or look at, most severe
	// first.
	Issues []Issue       `json:"issues"`
	ROPA   *ROPASection  `json:"ropa,omitempty"`
	DPIA   *DPIASection  `json:"dpia,omitempty"`
	AIAct  *AIActSection `json:"ai_act,omitempty"`
	// Verify says how an auditor checks the report against the log.
	Verify []VerifyStep `json:"how_to_verify"`

	ev *Evidence // for the tabular forms
}

// Period is the time the report covers. Since and Until are RFC 3339
// (Until exclusive); empty: from the log's first entry, up to the
// checkpoint.
type Period struct {
	Since string `json:"since"`
	Until string `json:"until"`
	// Entries counts the request, intent and admin entries in the
	// period (a completion belongs to its intent's period); First and
	// Last are the times of the first and last of them.
	Entries int64  `json:"entries"`
	First   string `json:"first"`
	Last    string `json:"last"`
}

// Severities of issues and risks, most severe first.
const (
	High   = "high"
	Medium = "medium"
	Low    = "low"
	Info   = "info"
)

var severityRank = map[string]int{High: 0, Medium: 1, Low: 2, Info: 3}

// Issue is something in the evidence the controller should act on: an
// undeclared purpose, a transfer, a gap in the log.
type Issue struct {
	Severity string `json:"severity"`
	// Code is stable: undeclared_purpose, special_category_without_condition,
	// transfer_outside_home_region, country_not_declared, …
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Count is a name with a count.
type Count struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
}

// VerifyStep is one step an auditor takes to check the report.
type VerifyStep struct {
	Step    string `json:"step"`
	Command string `json:"command,omitempty"`
}

// Report builds the report of kind k from the evidence.
func (ev *Evidence) Report(k Kind) (*Report, error) {
	r := &Report{
		Schema: Schema, Kind: k, GeneratedAt: ev.opt.Now.UTC().Format(time.RFC3339),
		WardenVersion: ev.opt.Version, Controller: ev.opt.Controller,
		Checkpoint: ev.Checkpoint, Log: ev.Log, ConfigDigest: ev.ConfigDigest, ev: ev,
		Period: Period{Entries: ev.inPeriod, First: displayTime(ev.periodFirst), Last: displayTime(ev.periodEnd)},
	}
	if r.WardenVersion == "" {
		r.WardenVersion = "dev"
	}
	if !ev.opt.Since.IsZero() {
		r.Period.Since = ev.opt.Since.UTC().Format(time.RFC3339)
	}
	if !ev.opt.Until.IsZero() {
		r.Period.Until = ev.opt.Until.UTC().Format(time.RFC3339)
	}
	var issues []Issue
	switch k {
	case ROPA:
		r.Title = "Records of processing activities (GDPR Art. 30(1))"
		r.ROPA = ev.ropa()
		issues = ev.ropaIssues(r.ROPA)
	case DPIA:
		r.Title = "Data protection impact assessment: data flows and risks (GDPR Art. 35(7))"
		r.DPIA = ev.dpia()
		issues = ev.ropaIssues(ev.ropa())
	case AIAct:
		r.Title = "Deployer log-keeping evidence (EU AI Act Art. 26(6), Art. 12)"
		r.AIAct = ev.aiAct()
		issues = ev.aiActIssues(r.AIAct)
	default:
		return nil, fmt.Errorf("report: unknown kind %q (want ropa, dpia or ai-act)", k)
	}
	if !ev.Log.Paired {
		issues = append(issues, Issue{High, "log_not_paired", "The log is authentic but not every request in it is closed: " + ev.Log.PairingFailure +
			". Run warden audit verify; opening the log (starting a gateway) closes intents of gateways that died."})
	}
	if ev.opt.Controller.Name == "" {
		issues = append(issues, Issue{Low, "controller_not_set", "No controller is named: set report.controller.name (and contact, dpo)."})
	}
	sortIssues(issues)
	r.Issues = issues
	if r.Issues == nil {
		r.Issues = []Issue{}
	}
	r.Verify = ev.verifySteps(k)
	return r, nil
}

func sortIssues(is []Issue) {
	slices.SortStableFunc(is, func(a, b Issue) int {
		return cmp.Or(cmp.Compare(severityRank[a.Severity], severityRank[b.Severity]), strings.Compare(a.Code, b.Code), strings.Compare(a.Message, b.Message))
	})
}

// verifySteps is the "how to verify" paragraph as commands.
func (ev *Evidence) verifySteps(k Kind) []VerifyStep {
	cp := ev.Checkpoint
	args := ""
	if !ev.opt.Since.IsZero() {
		args += " --since " + ev.opt.Since.UTC().Format(time.RFC3339)
	}
	if !ev.opt.Until.IsZero() {
		args += " --until " + ev.opt.Until.UTC().Format(time.RFC3339)
	}
	return []VerifyStep{
		{Step: "Save the signed checkpoint shown under \"Built from checkpoint\" to checkpoint.txt, exactly, with its final newline (in the JSON form: checkpoint.note)."},
		{Step: "Check that the log still holds, unchanged, every entry this checkpoint signs, and that every signed checkpoint since agrees with it (RFC 6962 consistency):",
			Command: "warden audit verify --config warden.yaml --since checkpoint.txt --key '" + cp.VerifierKey + "'"},
		{Step: "Anyone can check the same without Warden: fetch /audit/checkpoint and the entry bundles under /audit/tile/, verify the note with the key above using golang.org/x/mod/sumdb/note, and recompute the root of the first " +
			fmt.Sprint(cp.Size) + " entries with golang.org/x/mod/sumdb/tlog; it must be " + cp.RootHash + "."},
		{Step: "Recompute this report from the same checkpoint and the same configuration (config digest " + ev.ConfigDigest + "): every number must come out the same; only generated_at differs:",
			Command: fmt.Sprintf("warden report %s --config warden.yaml --checkpoint %d%s --format json", k, cp.Size, args)},
		{Step: "Or count by hand: export the entries and take the first " + fmt.Sprint(cp.Size) + " lines (index 0 to " + fmt.Sprint(cp.Size-1) +
			"); every count here is a count of those entries' fields (docs/AUDIT.md has the entry format):",
			Command: fmt.Sprintf("warden audit export --config warden.yaml --format jsonl | head -n %d", cp.Size)},
	}
}

// plural is n and noun, with an s unless n is 1.
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// sortedCounts turns a map into counts, largest first, then by name.
func sortedCounts(m map[string]int64) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{k, v})
	}
	slices.SortFunc(out, func(a, b Count) int { return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Name, b.Name)) })
	return out
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// catRank orders categories as categoryOrder does.
func catRank(c string) int {
	if i := slices.Index(categoryOrder, c); i >= 0 {
		return i
	}
	return len(categoryOrder)
}

// recipientOf returns the configured recipient named name, or one made
// from what the log says of it.
func (ev *Evidence) recipientOf(name string) Recipient {
	for _, r := range ev.opt.Recipients {
		if r.Name == name {
			return r
		}
	}
	r := Recipient{Name: name, Kind: "model upstream"}
	if u := ev.sentTo[name]; u != nil {
		r.Zone = u.zone
	}
	for m := range ev.models {
		if isMCPModel(m) && m == mcpModel(name) {
			r.Kind = "MCP server"
		}
	}
	return r
}

// internal reports whether zone is one of the controller's own.
func (ev *Evidence) internal(zone string) bool { return slices.Contains(ev.opt.InternalZones, zone) }

// hours renders a duration in hours and days.
func hours(d time.Duration) string {
	h := int64(d / time.Hour)
	if d%time.Hour != 0 {
		return d.String()
	}
	if h%24 == 0 {
		return fmt.Sprintf("%dh (%d days)", h, h/24)
	}
	return fmt.Sprintf("%dh (%.1f days)", h, float64(h)/24)
}

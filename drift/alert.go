package drift

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Kind names what an alert is about.
type Kind string

// Kinds of alerts.
const (
	// RateDeparture: a principal's findings of one type on one model are
	// far above their baseline this hour.
	RateDeparture Kind = "rate_departure"
	// RateDrop: far below it (Config.Drops only).
	RateDrop Kind = "rate_drop"
	// NewFindingType: a principal's requests carry a finding type they
	// never carried before.
	NewFindingType Kind = "new_finding_type"
	// Leak: model output carried sensitive values that were not in the
	// request (rewritten by the response guard).
	Leak Kind = "leak"
	// RefusalSpike: a principal's refused requests are far above their
	// baseline this hour.
	RefusalSpike Kind = "refusal_spike"
	// ToolChanged: an MCP tool's definition no longer matches its pin
	// (a rug pull); its calls are refused.
	ToolChanged Kind = "tool_definition_changed"
	// ToolUnapproved: an MCP tool was called whose definition was never
	// approved or holds hidden instructions; its calls are refused.
	ToolUnapproved Kind = "tool_definition_unapproved"
)

// Kinds lists every kind, for metrics and documentation.
func Kinds() []Kind {
	return []Kind{RateDeparture, RateDrop, NewFindingType, Leak, RefusalSpike, ToolChanged, ToolUnapproved}
}

// Severity ranks alerts.
type Severity string

// Severities, lowest first.
const (
	Info     Severity = "info"
	Warning  Severity = "warning"
	Critical Severity = "critical"
)

// Severities lists every severity, lowest first.
func Severities() []Severity { return []Severity{Info, Warning, Critical} }

// Rank orders severities: Info 0, Warning 1, Critical 2, unknown -1.
func (s Severity) Rank() int {
	switch s {
	case Info:
		return 0
	case Warning:
		return 1
	case Critical:
		return 2
	}
	return -1
}

// Alert is one thing the detectors found. It names who, which model,
// which type or tool and how many: never a value.
type Alert struct {
	Kind     Kind
	Severity Severity
	// Time is the time of the entry that raised it (of the bucket's end
	// for a drop).
	Time time.Time
	// Index is the audit index of that entry (-1 for a drop).
	Index int64

	Principal string
	Model     string
	// Type is the finding type (rate, drop and new-type alerts).
	Type string
	// Server, Tool and Hash name an MCP tool and its refused definition.
	Server, Tool, Hash string

	// Value is what was observed: the hour's count (rate, drop, refusal),
	// the findings of the new type in the first request, the leaks, 1
	// for a tool.
	Value float64
	// Baseline is the expected count e and Sigma the spread around it,
	// in counts; Z is the departure in spreads on the stabilised scale,
	// the number compared with Config.Sigma (rate, drop, refusal
	// alerts).
	Baseline, Sigma, Z float64
	// Bucket is the hour counted (rate, drop, refusal alerts).
	Bucket time.Time
	// Entries counts the audit entries folded into the alert (leaks).
	Entries int
	// Codes are the refusals' error codes in the hour (refusal spikes).
	Codes map[string]int
}

// Message is a one-line description of the alert for people.
func (a Alert) Message() string {
	model := ""
	if a.Model != "" {
		model = " on model " + a.Model
	}
	hour := a.Bucket.UTC().Format("2006-01-02 15:00 UTC")
	switch a.Kind {
	case RateDeparture:
		return fmt.Sprintf("%s findings for principal %s%s: %s in the hour from %s, baseline %s (σ %s)",
			a.Type, a.Principal, model, num(a.Value), hour, num(a.Baseline), num(a.Sigma))
	case RateDrop:
		return fmt.Sprintf("%s findings for principal %s%s fell to %s in the hour from %s, baseline %s (σ %s)",
			a.Type, a.Principal, model, num(a.Value), hour, num(a.Baseline), num(a.Sigma))
	case NewFindingType:
		return fmt.Sprintf("first %s finding for principal %s%s: %s in one request; its requests never carried this type before",
			a.Type, a.Principal, model, num(a.Value))
	case Leak:
		return fmt.Sprintf("%s sensitive value(s) in model output for principal %s%s that were not in the request (%d completion(s)); the response guard rewrote them",
			num(a.Value), a.Principal, model, a.Entries)
	case RefusalSpike:
		return fmt.Sprintf("%s refused requests for principal %s in the hour from %s, baseline %s (σ %s)%s",
			num(a.Value), a.Principal, hour, num(a.Baseline), num(a.Sigma), codesText(a.Codes))
	case ToolChanged:
		return fmt.Sprintf("MCP tool %s of server %s: its definition changed since it was approved (now %s); calls are refused until it is approved again; refused call by principal %s",
			a.Tool, a.Server, shortHash(a.Hash), a.Principal)
	case ToolUnapproved:
		return fmt.Sprintf("MCP tool %s of server %s: its definition (%s) is not approved; calls are refused; refused call by principal %s",
			a.Tool, a.Server, shortHash(a.Hash), a.Principal)
	}
	return string(a.Kind)
}

// num formats a count or a baseline: integers as such, others to one
// decimal.
func num(v float64) string {
	if v == float64(int64(v)) {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func shortHash(h string) string {
	if len(h) > len("sha256:")+12 {
		return h[:len("sha256:")+12] + "…"
	}
	return h
}

// codesText renders refusal error codes, most frequent first.
func codesText(codes map[string]int) string {
	if len(codes) == 0 {
		return ""
	}
	type kv struct {
		k string
		n int
	}
	var l []kv
	for k, n := range codes {
		l = append(l, kv{k, n})
	}
	sort.Slice(l, func(i, j int) bool {
		if l[i].n != l[j].n {
			return l[i].n > l[j].n
		}
		return l[i].k < l[j].k
	})
	parts := make([]string, 0, min(len(l), 5))
	for i, e := range l {
		if i == 5 {
			break
		}
		parts = append(parts, e.k+" "+strconv.Itoa(e.n))
	}
	return "; by error: " + strings.Join(parts, ", ")
}

package alerts

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Payload formats of a webhook.
//
// Slack ("slack"): an incoming-webhook message, {"text": …, "blocks":
// […]}: a header with the title, a section with the message, the facts
// as section fields, and a context line with the alert and audit
// index. Text is mrkdwn with &, < and > escaped, so no name can mention
// a channel or forge a link.
//
// Teams ("teams"): a message carrying one Adaptive Card (1.4), as Teams
// workflow webhooks ("When a Teams webhook request is received") and
// Power Automate take it: {"type": "message", "attachments":
// [{"contentType": "application/vnd.microsoft.card.adaptive",
// "content": {AdaptiveCard}}]}, with the title, the message and a
// FactSet. Markdown characters in names are backslash-escaped.
//
// Generic ("generic"): {"schema": "warden.alert/v1", "source":
// "warden", "title": …, "alert": Alert} — Alert exactly as the console
// API shows it (see docs/ALERTS.md for the schema).

// Formats of webhooks.
const (
	FormatSlack   = "slack"
	FormatTeams   = "teams"
	FormatGeneric = "generic"
)

// GenericSchema names the generic payload's version.
const GenericSchema = "warden.alert/v1"

// title is an alert's heading, from its kind and subject.
func title(a Alert) string {
	s := a.Subject
	switch a.Kind {
	case "rate_departure":
		return "Finding rate up: " + s.Type + " for " + s.Principal
	case "rate_drop":
		return "Finding rate down: " + s.Type + " for " + s.Principal
	case "new_finding_type":
		return "New finding type: " + s.Type + " for " + s.Principal
	case "leak":
		return "Leak in model output for " + s.Principal
	case "refusal_spike":
		return "Refusal spike for " + s.Principal
	case "tool_definition_changed":
		return "MCP tool definition changed: " + s.Server + "/" + s.Tool
	case "tool_definition_unapproved":
		return "MCP tool definition not approved: " + s.Server + "/" + s.Tool
	}
	return a.Kind
}

// facts are an alert's name-value pairs, in display order.
func facts(a Alert) [][2]string {
	s := a.Subject
	out := [][2]string{{"Kind", a.Kind}, {"Severity", a.Severity}}
	add := func(k, v string) {
		if v != "" {
			out = append(out, [2]string{k, v})
		}
	}
	add("Principal", s.Principal)
	add("Model", s.Model)
	add("Finding type", s.Type)
	add("MCP server", s.Server)
	add("Tool", s.Tool)
	add("Definition", s.Hash)
	out = append(out, [2]string{"Observed", number(a.Value)})
	if a.Baseline != 0 || a.Sigma != 0 {
		out = append(out, [2]string{"Baseline", number(a.Baseline) + " (σ " + number(a.Sigma) + ")"})
	}
	return out
}

func number(v float64) string {
	if v == float64(int64(v)) {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// footer names the alert and the audit entry behind it.
func footer(a Alert) string {
	f := fmt.Sprintf("Warden alert %d · %s", a.ID, a.Time.UTC().Format("2006-01-02 15:04:05 UTC"))
	if a.AuditIndex >= 0 {
		f += " · audit entry " + strconv.FormatInt(a.AuditIndex, 10)
	}
	return f
}

// payload renders a in format.
func payload(format string, a Alert) ([]byte, error) {
	switch format {
	case FormatSlack:
		return slackPayload(a)
	case FormatTeams:
		return teamsPayload(a)
	case FormatGeneric:
		return json.Marshal(map[string]any{"schema": GenericSchema, "source": "warden", "title": title(a), "alert": a})
	}
	return nil, fmt.Errorf("alerts: unknown webhook format %q", format)
}

var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// clip cuts s to n bytes at a rune boundary (Slack limits its fields).
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n-len("…")]
	for len(s) > 0 && s[len(s)-1]&0xC0 == 0x80 {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] >= 0xC0 {
		s = s[:len(s)-1]
	}
	return s + "…"
}

func slackPayload(a Alert) ([]byte, error) {
	type text struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	type block struct {
		Type     string `json:"type"`
		Text     *text  `json:"text,omitempty"`
		Fields   []text `json:"fields,omitempty"`
		Elements []text `json:"elements,omitempty"`
	}
	head := strings.ToUpper(a.Severity) + ": " + title(a)
	var fields []text
	for _, f := range facts(a) {
		if len(fields) == 10 { // Slack's limit
			break
		}
		fields = append(fields, text{"mrkdwn", clip("*"+f[0]+"*\n"+slackEscaper.Replace(f[1]), 2000)})
	}
	msg := struct {
		Text   string  `json:"text"`
		Blocks []block `json:"blocks"`
	}{
		Text: clip(slackEscaper.Replace(head+": "+a.Message), 3000),
		Blocks: []block{
			{Type: "header", Text: &text{"plain_text", clip(head, 150)}},
			{Type: "section", Text: &text{"mrkdwn", clip(slackEscaper.Replace(a.Message), 3000)}},
			{Type: "section", Fields: fields},
			{Type: "context", Elements: []text{{"mrkdwn", slackEscaper.Replace(footer(a))}}},
		},
	}
	return json.Marshal(msg)
}

// teamsEscaper backslash-escapes the characters Teams' card markdown
// reads.
var teamsEscaper = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "(", `\(`, ")", `\)`,
	"`", "\\`", "~", `\~`, "#", `\#`, ">", `\>`, "<", `\<`)

func teamsPayload(a Alert) ([]byte, error) {
	color := "Default"
	switch a.Severity {
	case "critical":
		color = "Attention"
	case "warning":
		color = "Warning"
	}
	var fs []map[string]string
	for _, f := range facts(a) {
		fs = append(fs, map[string]string{"title": f[0], "value": teamsEscaper.Replace(f[1])})
	}
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
		"msteams": map[string]any{"width": "Full"},
		"body": []any{
			map[string]any{"type": "TextBlock", "text": teamsEscaper.Replace(strings.ToUpper(a.Severity) + ": " + title(a)),
				"weight": "Bolder", "size": "Medium", "color": color, "wrap": true},
			map[string]any{"type": "TextBlock", "text": teamsEscaper.Replace(a.Message), "wrap": true},
			map[string]any{"type": "FactSet", "facts": fs},
			map[string]any{"type": "TextBlock", "text": teamsEscaper.Replace(footer(a)), "isSubtle": true, "size": "Small", "wrap": true},
		},
	}
	return json.Marshal(map[string]any{
		"type":    "message",
		"summary": title(a),
		"attachments": []any{map[string]any{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"contentUrl":  nil,
			"content":     card,
		}},
	})
}

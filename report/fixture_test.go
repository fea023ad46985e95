package report_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/audit/event"
	"github.com/wardenhq/warden/keys"
	"github.com/wardenhq/warden/report"
	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/store/storetest"
)

// canary is planted in every request and response body of the fixture:
// the log keeps only keyed commitments of bodies, so no report may
// ever hold it.
const canary = "Patient Canary Q. Whitlock, NHS 943 476 5919, jane.canary@example.org"

// day0 is the fixture's clock: every entry time is fixed, so the
// reports are the same on every run but for the log's keys (see
// normalise).
var day0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// fixture is a log written through audit.Log with fixed entry times,
// and the options a report reads it with.
type fixture struct {
	db   *store.DB
	log  *audit.Log
	cp   *audit.Checkpoint
	opt  report.Options
	size int64
}

// rec is one request of the fixture.
type rec struct {
	at        time.Duration // after day0
	principal string
	tenant    string
	model     string
	upstream  string
	zone      string
	decision  string
	findings  map[string]int
	operators map[string]int
	// refused: a request entry with this error; else an intent and,
	// unless open, a completion (or aborted with abort as reason).
	refused  string
	status   int
	leaks    int
	restored int
	upErr    string
	abort    string
	server   string // MCP
	tool     string
	results  map[string]int
}

var fixtureRecords = []rec{
	// Before the period the golden reports cover (--since day0).
	{at: -30 * 24 * time.Hour, principal: "support-bot", tenant: "acme", model: "gpt-4o", upstream: "openai", zone: "cloud", decision: "deidentify",
		findings: map[string]int{"EMAIL_ADDRESS": 1}, operators: map[string]int{"tokenize": 1}, restored: 1},
	// support: contact data tokenized to a US upstream (a transfer).
	{at: time.Minute, principal: "support-bot", tenant: "acme", model: "gpt-4o", upstream: "openai", zone: "cloud", decision: "deidentify",
		findings: map[string]int{"EMAIL_ADDRESS": 2, "PERSON": 1, "EMPLOYEE_ID": 1}, operators: map[string]int{"tokenize": 4}, restored: 3},
	{at: 2 * time.Minute, principal: "support-bot", tenant: "acme", model: "gpt-4o", upstream: "openai", zone: "cloud", decision: "deidentify",
		findings: map[string]int{"EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1}, operators: map[string]int{"tokenize": 2}, restored: 2},
	{at: 3 * time.Minute, principal: "support-web", tenant: "acme", model: "gpt-4o", upstream: "openai", zone: "cloud", decision: "deidentify",
		findings: map[string]int{"CREDIT_CARD": 1}, operators: map[string]int{"tokenize": 1}, leaks: 1},
	{at: 4 * time.Minute, principal: "support-bot", tenant: "acme", model: "gpt-4o", upstream: "openai", zone: "cloud", decision: "deny",
		findings: map[string]int{"AWS_ACCESS_KEY": 1}, refused: "policy_denied", status: 403},
	// clinical-notes: health data, raw, to the internal zone, under Art. 9(2)(h).
	{at: 5 * time.Minute, principal: "clinic-app", tenant: "clinic", model: "llama-med-8b", upstream: "onprem-llm", zone: "onprem", decision: "allow",
		findings: map[string]int{"UK_NHS": 1, "PERSON": 1, "MEDICAL_RECORD_NUMBER": 1}},
	// research: health data to an EU cloud upstream, no Art. 9 condition.
	{at: 6 * time.Minute, principal: "analyst", tenant: "acme", model: "mistral-large", upstream: "mistral-eu", zone: "cloud", decision: "deidentify",
		findings: map[string]int{"UK_NHS": 2, "DATE_TIME": 1}, operators: map[string]int{"tokenize": 2, "mask": 1}},
	// research: raw e-mail to an upstream of undeclared country; the gateway died.
	{at: 7 * time.Minute, principal: "analyst", tenant: "acme", model: "mystery-1", upstream: "mystery", zone: "cloud", decision: "allow",
		findings: map[string]int{"EMAIL_ADDRESS": 1, "WEIRD_TYPE": 1}, abort: audit.ReasonWriterGone},
	// No declared purpose; the upstream timed out.
	{at: 8 * time.Minute, principal: "batch-job", tenant: "beta", model: "gpt-4o-mini", upstream: "openai", zone: "cloud", decision: "allow",
		status: 504, upErr: "upstream_timeout"},
	{at: 9 * time.Minute, principal: event.Unauthenticated, model: event.UnknownModel, refused: "invalid_api_key", status: 401},
	// agents: an MCP tool call whose result held contact data.
	{at: 10 * time.Minute, principal: "agent-7", tenant: "acme", server: "crm", tool: "lookup_customer", zone: "onprem", decision: "allow",
		results: map[string]int{"EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1}},
	// In flight at the checkpoint: closed only after it.
	{at: 11 * time.Minute, principal: "support-bot", tenant: "acme", model: "gpt-4o", upstream: "openai", zone: "cloud", decision: "deidentify",
		findings: map[string]int{"PERSON": 1}, operators: map[string]int{"tokenize": 1}},
}

const toolHash = "sha256:9f2c1e0b7a6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b"

// newFixture writes fixtureRecords (and two admin acts) to a fresh
// SQLite log and checkpoints it before the last request completes.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db := storetest.Open(t, storetest.DSN(t, store.SQLite))
	kr, err := keys.Open(ctx, keys.Options{Path: filepath.Join(dir, "keyring.json"), Root: keys.KeyFile(filepath.Join(dir, "master.key"), true), Create: true})
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(ctx, audit.Config{Store: db, Keyring: kr, Origin: "example.com/warden-report-test", CheckpointInterval: -1,
		Now: func() time.Time { return day0 }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	f := &fixture{db: db, log: l}
	body := []byte(`{"messages":[{"role":"user","content":"` + canary + `"}]}`)
	admin := func(at time.Duration, action string) {
		if _, err := l.RecordAdmin(ctx, audit.AdminEvent{Time: day0.Add(at), Action: action, Actor: "cli", Target: "k1"}); err != nil {
			t.Fatal(err)
		}
	}
	admin(-31*24*time.Hour, "apikey.create")
	var lastIntent int64
	for i, r := range fixtureRecords {
		ev := &event.Record{
			Intent: -1, Time: day0.Add(r.at), RequestID: "req-" + string(rune('a'+i)), Principal: r.principal, Tenant: r.tenant,
			Credential: "apikey", Endpoint: "chat", Model: r.model, Upstream: r.upstream, Zone: r.zone, Decision: r.decision,
			Policy: "sha256:policy-v1", Findings: r.findings, Operators: r.operators, RequestBody: body, ResponseBody: body,
		}
		if r.server != "" {
			ev.Endpoint, ev.Model, ev.Server, ev.Method, ev.Tool, ev.ToolHash = "mcp", "", r.server, "tools/call", r.tool, toolHash
		}
		if i == 0 {
			ev.Policy = "sha256:policy-v0"
		}
		if r.refused != "" {
			ev.Kind, ev.Status, ev.Error = event.Request, r.status, r.refused
			if r.principal == event.Unauthenticated {
				ev.Credential, ev.Endpoint, ev.Policy = "none", "chat", ""
			}
			if _, err := l.Record(ctx, ev); err != nil {
				t.Fatal(err)
			}
			continue
		}
		ev.Kind = event.Intent
		idx, err := l.Record(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		lastIntent = idx
		if i == len(fixtureRecords)-1 {
			break // in flight at the checkpoint
		}
		done := &event.Record{Intent: idx, Time: day0.Add(r.at + time.Second), RequestID: ev.RequestID, Principal: r.principal, Tenant: r.tenant,
			Server: ev.Server, ResultFindings: r.results, ResponseBody: body}
		if r.abort != "" {
			done.Kind, done.Error = event.Aborted, r.abort
		} else {
			done.Kind, done.Status, done.Error, done.Leaks, done.Restored = event.Completion, 200, r.upErr, r.leaks, r.restored
			if r.status != 0 {
				done.Status = r.status
			}
		}
		if _, err := l.Record(ctx, done); err != nil {
			t.Fatal(err)
		}
		if i == 3 {
			if _, err := l.Publish(ctx); err != nil { // an earlier checkpoint, checked too
				t.Fatal(err)
			}
		}
	}
	admin(12*time.Minute, "keys.rotate")
	size, err := l.Publish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.size = size
	if f.cp, err = audit.CheckpointAt(ctx, db, size, l.VerifierKey()); err != nil {
		t.Fatal(err)
	}
	// The last request completes after the checkpoint.
	if _, err := l.Record(ctx, &event.Record{Kind: event.Completion, Intent: lastIntent, Time: day0.Add(12 * time.Minute), RequestID: "req-" + string(rune('a'+len(fixtureRecords)-1)),
		Principal: "support-bot", Tenant: "acme", Status: 200, ResponseBody: body}); err != nil {
		t.Fatal(err)
	}
	f.opt = fixtureOptions(l.VerifierKey())
	return f
}

// fixtureOptions is the configuration side of the fixture.
func fixtureOptions(vkey string) report.Options {
	at := time.Date(2026, 2, 20, 14, 30, 0, 0, time.UTC)
	return report.Options{
		Since:      day0,
		Controller: report.Controller{Name: "Acme Health Ltd", Contact: "privacy@acme.example", DPO: "dpo@acme.example"},
		Purposes: []report.Purpose{
			{Name: "support", Description: "Answering customer support tickets with an assistant", LegalBasis: "contract",
				DataSubjects: []string{"customers", "support staff"}, Retention: "tickets kept 2 years after closure",
				Principals: []string{"support-*"}, Tenants: []string{"acme"}},
			{Name: "clinical-notes", Description: "Summarising clinical notes on the internal model", LegalBasis: "legal_obligation",
				Art9Condition: "health_care", DataSubjects: []string{"patients"}, Retention: "in the patient record, 8 years",
				Principals: []string{"clinic-app"}, Models: []string{"llama-med-*"}},
			{Name: "research", Description: "Service analytics", LegalBasis: "legitimate_interests",
				DataSubjects: []string{"customers"}, Principals: []string{"analyst"}},
			{Name: "agents", Description: "CRM look-ups by support agents", LegalBasis: "contract",
				Models: []string{"mcp:*"}},
		},
		HomeRegion: []string{"EU"},
		Recipients: []report.Recipient{
			{Name: "openai", Kind: "model upstream", Zone: "cloud", Country: "US", Host: "api.openai.com", Transport: "https", Configured: true, Models: []string{"gpt-4o", "gpt-4o-mini"}},
			{Name: "mistral-eu", Kind: "model upstream", Zone: "cloud", Country: "FR", Region: "EU", Host: "api.mistral.ai", Transport: "https", Configured: true, Models: []string{"mistral-large"}},
			{Name: "onprem-llm", Kind: "model upstream", Zone: "onprem", Country: "DE", Host: "llm.corp.internal", Transport: "https", Configured: true, RequireApproved: true, Models: []string{"llama-med-8b"}},
			{Name: "crm", Kind: "MCP server", Zone: "onprem", Country: "DE", Host: "crm.corp.internal", Transport: "https", Configured: true, Models: []string{}},
		},
		Models: []report.Model{{Name: "llama-med-8b", RootDigest: "4c1f0e9d8b7a69584736251403f2e1d0c9b8a7968574635241302f1e0d9c8b7a", Files: 4,
			Signer: "sha256:1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff001", Verdict: "clean", Source: "https://huggingface.co/acme/llama-med-8b",
			Licence: "llama3", Approved: true, UpdatedAt: at}},
		Pins: []report.ToolPin{
			{Server: "crm", Tool: "lookup_customer", Hash: toolHash, By: "ops@acme.example", At: at},
			{Server: "crm", Tool: "update_ticket", Hash: "sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff0", By: "ops@acme.example", At: at},
		},
		Setup: report.Setup{
			DenySecrets: true, KeySource: "kms:awskms", KeyCacheTTL: 5 * time.Minute,
			PolicyHash: "sha256:policy-v1", PolicyRules: 2, InboundTLS: true, ClientCerts: true, RequireTLSZones: []string{"onprem"},
			StoreEngine: "sqlite", StoreSync: "full", RateLimits: true,
			VaultTTL:    map[string]time.Duration{"EMAIL_ADDRESS": 720 * time.Hour, "UK_NHS": 8760 * time.Hour},
			ToolPinning: map[string]string{"crm": "approved"},
		},
		Categories:  map[string]string{"EMPLOYEE_ID": "PII"},
		NationalIDs: []string{"UK_NHS", "US_SSN"},
		VerifierKey: vkey,
		Version:     "1.4.0-test",
		Now:         day0.Add(24 * time.Hour),
	}
}

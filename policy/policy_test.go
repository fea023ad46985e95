package policy

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

// input builds an Input from "TYPE:CATEGORY" pairs, one finding each.
func input(findings ...string) Input {
	in := Input{Principal: "alice", Roles: []string{"dev"}, Tenant: "acme", Model: "gpt-4o-mini", Endpoint: "chat"}
	for _, f := range findings {
		typ, cat, _ := strings.Cut(f, ":")
		in.Add(typ, cat, 1)
	}
	return in
}

func mustNew(t testing.TB, cfg Config) *Engine {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

func TestDefaultPolicy(t *testing.T) {
	e := mustNew(t, Config{})
	tests := []struct {
		name string
		in   Input
		want Decision
	}{
		{
			name: "no findings",
			in:   input(),
			want: Decision{Action: Allow, Restore: true},
		},
		{
			name: "PII and card are tokenized, network passes",
			in:   input("EMAIL_ADDRESS:PII", "CREDIT_CARD:FINANCIAL", "IP_ADDRESS:NETWORK"),
			want: Decision{Action: Deidentify, Restore: true, Operators: map[string]string{
				"EMAIL_ADDRESS": "tokenize", "CREDIT_CARD": "tokenize", "IP_ADDRESS": "allow"}},
		},
		{
			name: "only network findings: allow",
			in:   input("IP_ADDRESS:NETWORK"),
			want: Decision{Action: Allow, Restore: true, Operators: map[string]string{"IP_ADDRESS": "allow"}},
		},
		{
			name: "secret is refused naming only the secret types",
			in:   input("EMAIL_ADDRESS:PII", "AWS_ACCESS_KEY:SECRET", "GITHUB_TOKEN:SECRET"),
			want: Decision{Action: Deny, Rules: []string{"deny-secrets"},
				Reason:      "request contains a credential (AWS_ACCESS_KEY, GITHUB_TOKEN); remove it and retry",
				DeniedTypes: []string{"AWS_ACCESS_KEY", "GITHUB_TOKEN"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.Decide(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got.layers = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Decide:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDenySecretsWithOwnRules(t *testing.T) {
	own := []Rule{{Name: "everything-allowed", When: "true", Operators: map[string]string{"*": "allow"}}}
	d, _ := mustNew(t, Config{Rules: own}).Decide(input("AWS_ACCESS_KEY:SECRET"))
	if d.Action != Deny || d.Rules[0] != "deny-secrets" {
		t.Errorf("own rules dropped the built-in secret refusal: %+v", d)
	}
	d, _ = mustNew(t, Config{Rules: own, DenySecrets: ptr(false)}).Decide(input("AWS_ACCESS_KEY:SECRET"))
	if d.Action != Allow || d.Operators["AWS_ACCESS_KEY"] != "allow" {
		t.Errorf("deny_secrets: false still refused: %+v", d)
	}
}

func TestRules(t *testing.T) {
	cfg := Config{
		Rules: []Rule{
			{Name: "interns-no-health", When: `"intern" in roles && has_category("HEALTH")`, Action: Deny,
				Reason: "interns may not send health data ({types})"},
			{Name: "break-glass", When: `"breakglass" in roles`, Action: Allow, Operators: map[string]string{"*": "allow"}},
			{Name: "health-onprem", When: `has_category("HEALTH")`, Zones: []string{"onprem", "eu"}},
			{Name: "eu-tenant", When: `tenant == "euco"`, Zones: []string{"eu", "cloud-eu"}, Restore: ptr(false)},
			{Name: "us-only-model", When: `model.startsWith("us-")`, Zones: []string{"us"}},
			{Name: "mask-email", When: `count("EMAIL_ADDRESS") > 2`, Operators: map[string]string{"EMAIL_ADDRESS": "mask", "PII": "redact"}},
			{Name: "hash-pii", When: `category_count("PII") > 0`, Operators: map[string]string{"PII": "hash", "PERSON": "placeholder"}},
			{Name: "no-ssn-embeddings", When: `endpoint == "embeddings" && has_finding("US_SSN")`, Action: Deny},
		},
		DefaultOperators: map[string]string{"FINANCIAL": "tokenize", "*": "redact"},
	}
	e := mustNew(t, cfg)
	tests := []struct {
		name   string
		in     func() Input
		action Action
		reason string
		rules  []string
		ops    map[string]string
		zones  []string
		denied []string
		rest   bool
	}{
		{
			name: "deny by role and category names the health type",
			in: func() Input {
				in := input("MEDICAL_LICENSE:HEALTH", "EMAIL_ADDRESS:PII")
				in.Roles = []string{"intern"}
				return in
			},
			action: Deny, reason: "interns may not send health data (MEDICAL_LICENSE)",
			rules: []string{"interns-no-health"}, denied: []string{"MEDICAL_LICENSE"},
		},
		{
			name: "allow ends evaluation: later zone and deny rules are skipped",
			in: func() Input {
				in := input("MEDICAL_LICENSE:HEALTH", "US_SSN:PII")
				in.Roles, in.Endpoint = []string{"breakglass"}, "embeddings"
				return in
			},
			action: Allow, rules: []string{"break-glass"}, rest: true,
			ops: map[string]string{"MEDICAL_LICENSE": "allow", "US_SSN": "allow"},
		},
		{
			name:   "zones intersect",
			in:     func() Input { in := input("MEDICAL_LICENSE:HEALTH"); in.Tenant = "euco"; return in },
			action: Deidentify, rules: []string{"health-onprem", "eu-tenant"}, zones: []string{"eu"},
			ops: map[string]string{"MEDICAL_LICENSE": "redact"}, rest: false,
		},
		{
			name:   "empty zone intersection is a deny",
			in:     func() Input { in := input("MEDICAL_LICENSE:HEALTH"); in.Model = "us-llama"; return in },
			action: Deny, rules: []string{"health-onprem", "us-only-model"},
			reason: "no upstream zone satisfies every matching rule (health-onprem, us-only-model)",
		},
		{
			name:   "candidate zone outside the allowed zones is a deny",
			in:     func() Input { in := input("MEDICAL_LICENSE:HEALTH"); in.Zone = "cloud"; return in },
			action: Deny, rules: []string{"health-onprem"},
			reason: `zone "cloud" is not allowed by rules health-onprem (allowed: onprem, eu)`,
		},
		{
			name:   "candidate zone inside the allowed zones",
			in:     func() Input { in := input("MEDICAL_LICENSE:HEALTH"); in.Zone = "onprem"; return in },
			action: Deidentify, rules: []string{"health-onprem"}, zones: []string{"onprem", "eu"}, rest: true,
			ops: map[string]string{"MEDICAL_LICENSE": "redact"},
		},
		{
			name: "first rule naming type or category wins, then defaults",
			in: func() Input {
				return input("EMAIL_ADDRESS:PII", "EMAIL_ADDRESS:PII", "EMAIL_ADDRESS:PII", "PERSON:PII", "IBAN_CODE:FINANCIAL", "IP_ADDRESS:NETWORK")
			},
			action: Deidentify, rules: []string{"mask-email", "hash-pii"}, rest: true,
			ops: map[string]string{"EMAIL_ADDRESS": "mask", "PERSON": "redact", "IBAN_CODE": "tokenize", "IP_ADDRESS": "redact"},
		},
		{
			name:   "fewer emails: hash-pii names PERSON by type",
			in:     func() Input { return input("EMAIL_ADDRESS:PII", "PERSON:PII") },
			action: Deidentify, rules: []string{"hash-pii"}, rest: true,
			ops: map[string]string{"EMAIL_ADDRESS": "hash", "PERSON": "placeholder"},
		},
		{
			name:   "deny after contributing rules; default reason",
			in:     func() Input { in := input("US_SSN:PII"); in.Endpoint = "embeddings"; return in },
			action: Deny, rules: []string{"hash-pii", "no-ssn-embeddings"},
			reason: "denied by policy rule no-ssn-embeddings", denied: []string{"US_SSN"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := e.Decide(tt.in())
			if err != nil {
				t.Fatal(err)
			}
			if d.Action != tt.action || d.Reason != tt.reason || !reflect.DeepEqual(d.Rules, tt.rules) ||
				!reflect.DeepEqual(d.Operators, tt.ops) || !reflect.DeepEqual(d.Zones, tt.zones) ||
				!reflect.DeepEqual(d.DeniedTypes, tt.denied) || d.Restore != tt.rest {
				d.layers = nil
				t.Errorf("got %+v\nwant action=%s reason=%q rules=%v ops=%v zones=%v denied=%v restore=%v",
					d, tt.action, tt.reason, tt.rules, tt.ops, tt.zones, tt.denied, tt.rest)
			}
		})
	}
}

func TestOperatorForLaterFindings(t *testing.T) {
	e := mustNew(t, Config{
		Rules:            []Rule{{Name: "r", When: "true", Operators: map[string]string{"PII": "mask", "US_SSN": "redact"}}},
		DefaultOperators: map[string]string{"HEALTH": "hash"},
	})
	d, err := e.Decide(input())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ typ, cat, want string }{
		{"US_SSN", "PII", "redact"},
		{"EMAIL_ADDRESS", "PII", "mask"},
		{"MEDICAL_LICENSE", "HEALTH", "hash"},
		{"IP_ADDRESS", "NETWORK", "allow"},
	} {
		if got := d.Operator(c.typ, c.cat); got != c.want {
			t.Errorf("Operator(%s, %s) = %s, want %s", c.typ, c.cat, got, c.want)
		}
	}
}

func TestDeniedTypesWhenRuleReadsAllFindings(t *testing.T) {
	e := mustNew(t, Config{Rules: []Rule{{Name: "nothing-sensitive", When: "size(findings) > 0", Action: Deny, Reason: "found {types}"}}})
	d, _ := e.Decide(input("US_SSN:PII", "EMAIL_ADDRESS:PII"))
	if d.Reason != "found EMAIL_ADDRESS, US_SSN" {
		t.Errorf("reason %q", d.Reason)
	}
	e = mustNew(t, Config{Rules: []Rule{{Name: "role", When: `"intern" in roles`, Action: Deny, Reason: "no {types}"}}})
	in := input("US_SSN:PII")
	in.Roles = []string{"intern"}
	d, _ = e.Decide(in)
	if d.Reason != "no unspecified type" || d.DeniedTypes != nil {
		t.Errorf("got reason %q denied %v", d.Reason, d.DeniedTypes)
	}
}

func TestMissingKeysReadAsZero(t *testing.T) {
	for _, when := range []string{
		`count("NOPE") == 0`, `!has_finding("NOPE")`, `category_count("NOPE") == 0`, `!has_category("NOPE")`,
		`size(roles) >= 0 && zone == ""`,
	} {
		e := mustNew(t, Config{Rules: []Rule{{Name: "r", When: when, Action: Deny}}})
		for _, in := range []Input{{}, input()} {
			d, err := e.Decide(in)
			if err != nil || d.Action != Deny {
				t.Errorf("%s on %+v: action %s err %v, want deny with no error", when, in, d.Action, err)
			}
		}
	}
}

func TestEvalErrorFailsClosed(t *testing.T) {
	e := mustNew(t, Config{Rules: []Rule{
		{Name: "ok", When: "true", Operators: map[string]string{"*": "allow"}},
		{Name: "bad", When: `findings["US_SSN"] > 0`}, // no such key when absent
	}})
	d, err := e.Decide(input("EMAIL_ADDRESS:PII"))
	var ee *EvalError
	if !errors.As(err, &ee) || ee.Rule != "bad" {
		t.Fatalf("err = %v, want *EvalError for rule bad", err)
	}
	if d.Action != Deny || d.Reason != "policy error in rule bad" || !reflect.DeepEqual(d.Rules, []string{"ok", "bad"}) || d.Operators != nil {
		t.Errorf("got %+v", d)
	}
}

func TestCostLimitRefusesRule(t *testing.T) {
	// Three nested loops over 256 roles: millions of steps at the input limit.
	_, err := New(Config{Rules: []Rule{{Name: "heavy", When: `roles.exists(a, roles.exists(b, roles.exists(c, a + b + c == "x")))`}}})
	if err == nil || !strings.HasPrefix(err.Error(), "policy.rules[0].when: worst-case cost") {
		t.Fatalf("err = %v, want a worst-case cost error", err)
	}
	// One loop is fine.
	mustNew(t, Config{Rules: []Rule{{Name: "light", When: `roles.exists(r, r.startsWith("admin-"))`}}})
}

func TestInputLimitsFailClosed(t *testing.T) {
	e := mustNew(t, Config{Rules: []Rule{{Name: "r", When: "true", Operators: map[string]string{"*": "allow"}}}})
	long := strings.Repeat("x", maxString+1)
	for name, mod := range map[string]func(*Input){
		"roles":     func(in *Input) { in.Roles = make([]string, maxRoles+1) },
		"role size": func(in *Input) { in.Roles = []string{long} },
		"principal": func(in *Input) { in.Principal = long },
		"findings": func(in *Input) {
			for i := 0; i <= maxKeys; i++ {
				in.Add(strings.Repeat("T", i%100)+string(rune('a'+i%26))+string(rune('a'+i/26)), "PII", 1)
			}
		},
		"type name": func(in *Input) { in.Add(strings.Repeat("T", maxKeyLen+1), "PII", 1) },
	} {
		in := input()
		mod(&in)
		d, err := e.Decide(in)
		if err == nil || d.Action != Deny || strings.Contains(err.Error(), "xxxx") {
			t.Errorf("%s: got %s, %v; want deny with an error that does not quote the input", name, d.Action, err)
		}
	}
}

func TestContextBoundFailsClosed(t *testing.T) {
	e := mustNew(t, Config{Rules: []Rule{{Name: "loop", When: `roles.exists(a, a == "x")`}}})
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	in := input()
	in.Roles = make([]string, 250)
	d, err := e.DecideContext(ctx, in)
	if err == nil || d.Action != Deny {
		t.Fatalf("got %+v, %v; want deny with an error", d, err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want it to wrap context.DeadlineExceeded", err)
	}
	if d, err := e.DecideContext(context.Background(), in); err != nil || d.Action != Allow {
		t.Errorf("without a deadline: %+v, %v", d, err)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"empty name", Config{Rules: []Rule{{When: "true"}}}, "policy.rules[0].name: empty"},
		{"duplicate name", Config{Rules: []Rule{{Name: "a", When: "true"}, {Name: "a", When: "false"}}}, `policy.rules[1].name: "a" is already the name of rules[0]`},
		{"bad action", Config{Rules: []Rule{{Name: "a", When: "true", Action: "block"}}}, `policy.rules[0].action: "block" is not allow, deny or deidentify`},
		{"empty when", Config{Rules: []Rule{{Name: "a"}}}, "policy.rules[0].when: empty"},
		{"syntax", Config{Rules: []Rule{{Name: "a", When: "true &&"}}}, "policy.rules[0].when: ERROR: <input>:1:8: Syntax error"},
		{"unknown variable", Config{Rules: []Rule{{Name: "a", When: "true"}, {Name: "b", When: `user == "x"`}}}, "policy.rules[1].when: ERROR: <input>:1:1: undeclared reference to 'user'"},
		{"not bool", Config{Rules: []Rule{{Name: "a", When: `count("X")`}}}, "policy.rules[0].when: expression has type int, want bool"},
		{"bad operator", Config{Rules: []Rule{{Name: "a", When: "true", Operators: map[string]string{"PII": "encrypt"}}}}, `policy.rules[0].operators.PII: "encrypt" is not one of redact`},
		{"bad default operator", Config{DefaultOperators: map[string]string{"PII": "nope"}}, `policy.default_operators.PII: "nope"`},
		{"deny with zones", Config{Rules: []Rule{{Name: "a", When: "true", Action: Deny, Zones: []string{"x"}}}}, "policy.rules[0]: a deny rule has no operators, zones or restore"},
		{"reason on non-deny", Config{Rules: []Rule{{Name: "a", When: "true", Reason: "x"}}}, "policy.rules[0].reason: only deny rules have a reason"},
		{"empty zone", Config{Rules: []Rule{{Name: "a", When: "true", Zones: []string{"onprem", ""}}}}, "policy.rules[0].zones[1]: empty"},
		{"built-in name", Config{Rules: []Rule{{Name: "deny-secrets", When: "true", Action: Deny}}}, `policy.rules[0].name: "deny-secrets" is already the name of a built-in rule`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %v, want prefix %q", err, tt.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	a := mustNew(t, Config{})
	b := mustNew(t, Config{DenySecrets: ptr(false), Rules: DefaultRules(), DefaultOperators: DefaultOperators(), Restore: ptr(true)})
	if a.Version() != b.Version() {
		t.Errorf("the default policy written out has another version: %s vs %s", a.Version(), b.Version())
	}
	if !strings.HasPrefix(a.Version(), "sha256:") || len(a.Version()) != len("sha256:")+64 {
		t.Errorf("version %q", a.Version())
	}
	c := mustNew(t, Config{Restore: ptr(false)})
	if c.Version() == a.Version() {
		t.Error("restore change did not change the version")
	}
	r := DefaultRules()
	r[0].When = `has_category("SECRET") `
	if mustNew(t, Config{DenySecrets: ptr(false), Rules: r}).Version() == a.Version() {
		t.Error("rule change did not change the version")
	}
}

func TestReasonNeverCarriesInput(t *testing.T) {
	// Principals, tenants and models are not values from the prompt, but
	// findings reach the reason only as type names.
	e := mustNew(t, Config{})
	in := input("AWS_ACCESS_KEY:SECRET")
	in.Principal, in.Tenant = "AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"
	d, _ := e.Decide(in)
	if strings.Contains(d.Reason, "AKIA") {
		t.Errorf("reason %q carries an input string", d.Reason)
	}
}

// lateCtx is done, but reports it only from the second Err call on: it
// gets past Decide's check before each rule, so only the interrupt check
// inside the CEL loop can stop the evaluation.
type lateCtx struct {
	context.Context
	done  chan struct{}
	calls int
}

func (c *lateCtx) Done() <-chan struct{} { return c.done }
func (c *lateCtx) Err() error {
	c.calls++
	if c.calls == 1 {
		return nil
	}
	return context.Canceled
}

func TestContextInterruptsLoop(t *testing.T) {
	e := mustNew(t, Config{DenySecrets: ptr(false), Rules: []Rule{{Name: "loop", When: `roles.exists(a, a == "x")`}}})
	ctx := &lateCtx{Context: context.Background(), done: make(chan struct{})}
	close(ctx.done)
	in := input()
	in.Roles = make([]string, 250)
	d, err := e.DecideContext(ctx, in)
	var ee *EvalError
	if !errors.As(err, &ee) || ee.Rule != "loop" || d.Action != Deny || !strings.Contains(err.Error(), "interrupt") {
		t.Fatalf("got %+v, %v; want deny with an interrupt error from rule loop", d, err)
	}
}

func TestZoneDependent(t *testing.T) {
	for _, tc := range []struct {
		when string
		want bool
	}{
		{`zone == "cloud"`, true},
		{`has_category("PII") && zone in ["a", "b"]`, true},
		{`model == "zone"`, false},
		{`has_category("PII")`, false},
	} {
		e, err := New(Config{Rules: []Rule{{Name: "r", When: tc.when}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := e.ZoneDependent(); got != tc.want {
			t.Errorf("%s: ZoneDependent = %v, want %v", tc.when, got, tc.want)
		}
	}
	if e, _ := New(Config{}); e.ZoneDependent() {
		t.Error("default policy reported zone-dependent")
	}
}

// MCP tool calls are decided on the server, the tool and the findings
// in arguments and results.
func TestPolicyReadsMCPFields(t *testing.T) {
	e, err := New(Config{Rules: []Rule{
		{Name: "no-ssn-to-tickets", When: `server == "crm" && tool == "update_ticket" && "US_SSN" in args_findings`, Action: Deny, Reason: "no SSNs in tickets"},
		{Name: "no-health-results", When: `"MEDICAL_RECORD_NUMBER" in result_findings`, Action: Deny},
	}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.Decide(Input{Endpoint: "mcp", Server: "crm", Tool: "update_ticket", ArgsFindings: map[string]int{"US_SSN": 1}})
	if err != nil || d.Action != Deny || d.Reason != "no SSNs in tickets" {
		t.Fatalf("args: %+v %v", d, err)
	}
	d, err = e.Decide(Input{Endpoint: "mcp", Server: "crm", Tool: "lookup_customer", ArgsFindings: map[string]int{"US_SSN": 1}})
	if err != nil || d.Action == Deny {
		t.Fatalf("another tool: %+v %v", d, err)
	}
	if !e.ResultDependent() {
		t.Fatal("a rule reads result_findings, ResultDependent is false")
	}
	d, err = e.Decide(Input{Endpoint: "mcp", Server: "crm", Tool: "lookup_customer", ResultFindings: map[string]int{"MEDICAL_RECORD_NUMBER": 2}})
	if err != nil || d.Action != Deny {
		t.Fatalf("result: %+v %v", d, err)
	}
}

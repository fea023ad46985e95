// Package policy decides what happens to a request: allow it, refuse it, or
// de-identify it (which operator per finding type), and which upstream zones
// may receive it. It is the stage of Warden's request path between detect
// and transform: the gateway hands it who is asking (principal, roles,
// tenant), for what (model, endpoint, candidate zone) and what detect found
// (counts by type and category, never values), and acts on the Decision.
//
// # Rules
//
// A policy is an ordered list of rules. Each rule has a name, a condition
// written in CEL (https://cel.dev) and an action. The condition sees these
// variables:
//
//	principal  string             who is calling (API key name, JWT subject)
//	roles      list(string)       the caller's roles
//	tenant     string             the caller's tenant
//	model      string             the model asked for
//	endpoint   string             chat, responses, completions, embeddings, messages or mcp
//	zone       string             the upstream zone being considered; "" before routing
//	findings   map(string, int)   count of findings by type, e.g. {"EMAIL_ADDRESS": 2}
//	categories map(string, int)   count by category: PII, FINANCIAL, HEALTH, SECRET, NETWORK
//	server     string             MCP: the server's configured name; "" otherwise
//	tool       string             MCP: the tool called (tools/call); "" otherwise
//	args_findings   map(string, int)  MCP: findings by type in the tool call's arguments
//	result_findings map(string, int)  MCP: findings by type in the tool's result (a rule
//	                                  reading it is decided again once the result is in)
//
// and these helpers, which read a missing key as zero instead of failing:
//
//	count("US_SSN")            int   findings of that type
//	has_finding("US_SSN")      bool  count("US_SSN") > 0
//	category_count("HEALTH")   int   findings of that category
//	has_category("SECRET")     bool  category_count("SECRET") > 0
//
// Example: `has_category("HEALTH") && !("clinician" in roles)`.
//
// # Semantics
//
// Rules are evaluated in order and every matching rule is recorded in
// Decision.Rules.
//
//   - A matching deny rule ends evaluation: the request is refused with the
//     rule's reason. The first matching deny wins.
//   - A matching allow rule also ends evaluation: later rules (including
//     later deny rules) are not evaluated. Its operators, zones and restore
//     setting apply like a deidentify rule's. Use it for break-glass cases.
//   - A matching deidentify rule (the default action) contributes its
//     operators, zones and restore setting, and evaluation continues.
//
// Operators: for each finding, the first matching rule whose operators name
// the finding's type, or else its category, or else "*", decides; then
// Config.DefaultOperators in the same order (type, category, "*"); then
// "allow" (the value passes unchanged). Operators are redact, placeholder,
// mask, hash, tokenize, synthetic and allow.
//
// Zones: the zone lists of all matching rules intersect; a rule with no
// zones does not restrict. An empty intersection refuses the request (no
// zone satisfies every rule). When Input.Zone is set and not in the
// intersection, the request is refused for that zone.
//
// Restore: the first matching rule that sets restore decides, then
// Config.Restore, then true.
//
// The action of a Decision that is not a deny is deidentify when at least one
// finding resolves to an operator other than allow, and allow otherwise.
//
// A rule whose condition fails to evaluate (a runtime error, the context's
// deadline) refuses the request: policy fails closed. So does an input over
// the size limits (256 roles, 1 KiB strings, 512 finding types). Work is
// bounded before any request arrives: New estimates each rule's worst-case
// CEL cost for inputs at those limits and refuses rules over 100000 units.
//
// # Default policy
//
// The zero Config is the default policy. Before the configured rules, a
// built-in rule (DefaultRules) refuses any SECRET finding with a reason
// that names the finding types; Config.DenySecrets: false turns it off,
// so that adding rules never silently drops it. DefaultOperators, when
// nil, tokenize PII, FINANCIAL and HEALTH. Restore, when nil, is true.
//
// # Use in the gateway
//
// Decide once before routing (Input.Zone empty) to learn the action, the
// operators and the zones the request may go to, and pick an upstream in
// those zones; with no healthy upstream there, fail closed. Rules that
// test zone itself match only when Input.Zone is set: when ZoneDependent
// reports such rules, the gateway decides again for each candidate
// upstream's zone, skips zones refused, and falls back only to zones
// decided alike (the body is de-identified once). Decision.Operator gives the
// operator for types found later, such as leaks found in a response.
//
// Reasons never carry values: a deny reason is the rule's configured text,
// in which "{types}" is replaced by the finding types that caused the deny.
package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types/ref"
)

// Action is what a rule or a decision does with a request.
type Action string

// Actions.
const (
	// Allow lets the request through. On a rule it also ends evaluation.
	Allow Action = "allow"
	// Deny refuses the request with a reason.
	Deny Action = "deny"
	// Deidentify lets the request through after the operators are applied.
	// It is the default action of a rule.
	Deidentify Action = "deidentify"
)

// operatorNames lists the operators a rule may name.
const operatorNames = "redact, placeholder, mask, hash, tokenize, synthetic, allow"

func validOperator(op string) bool {
	switch op {
	case "redact", "placeholder", "mask", "hash", "tokenize", "synthetic", "allow":
		return true
	}
	return false
}

// Config is the policy section of Warden's configuration. The zero value is
// the default policy.
type Config struct {
	// DenySecrets runs DefaultRules (refuse any SECRET finding, naming its
	// types) before Rules. Default true; false leaves credentials to Rules
	// and DefaultOperators.
	DenySecrets *bool `yaml:"deny_secrets" json:"deny_secrets"`
	// Rules in evaluation order, after the built-in ones. Default none.
	Rules []Rule `yaml:"rules" json:"rules"`
	// DefaultOperators maps a finding type, a category or "*" to the
	// operator used when no matching rule names one. Default (nil):
	// tokenize PII, FINANCIAL and HEALTH.
	DefaultOperators map[string]string `yaml:"default_operators" json:"default_operators"`
	// Restore says whether originals are restored in responses for the
	// caller's own tenant when no matching rule says. Default true.
	Restore *bool `yaml:"restore" json:"restore"`
	// Sanitize says what happens to invisible characters in requests, per
	// class (tag, bidi, zero_width, variation_selector, other_ignorable):
	// refuse (the request, naming the class and where), strip (them
	// before the request is sent) or allow. Classes not listed keep
	// their default: DefaultSanitize.
	Sanitize map[string]string `yaml:"sanitize" json:"sanitize,omitempty"`
}

// DefaultSanitize refuses Unicode tag characters and bidi controls,
// which hide instructions and reorder text, and strips the other
// invisible characters (zero-width characters, variation selectors,
// other default-ignorable code points) before a request is sent. Zero
// width joiners and variation selectors that belong to an emoji stay.
func DefaultSanitize() map[string]string {
	return map[string]string{"tag": "refuse", "bidi": "refuse", "zero_width": "strip",
		"variation_selector": "strip", "other_ignorable": "strip"}
}

// Sanitize actions.
const (
	SanitizeRefuse = "refuse"
	SanitizeStrip  = "strip"
	SanitizeAllow  = "allow"
)

// Rule is one policy rule.
type Rule struct {
	// Name identifies the rule in decisions, reasons and audit records.
	// Required and unique.
	Name string `yaml:"name" json:"name"`
	// When is a CEL expression of type bool over the request (see the
	// package documentation). Required.
	When string `yaml:"when" json:"when"`
	// Action is deidentify (default), deny or allow.
	Action Action `yaml:"action" json:"action"`
	// Reason is the deny message shown to the caller; "{types}" is
	// replaced by the finding types that caused the deny. Deny rules only.
	// Default "denied by policy rule NAME".
	Reason string `yaml:"reason" json:"reason,omitempty"`
	// Operators maps a finding type, a category or "*" to an operator.
	Operators map[string]string `yaml:"operators" json:"operators,omitempty"`
	// Zones lists the upstream zones the request may go to; empty = any.
	Zones []string `yaml:"zones" json:"zones,omitempty"`
	// Restore, when set, decides whether responses get originals restored.
	Restore *bool `yaml:"restore" json:"restore,omitempty"`
}

// DefaultRules are the built-in rules that run first unless
// Config.DenySecrets is false: refuse requests that carry a credential,
// naming its type.
func DefaultRules() []Rule {
	return []Rule{{
		Name:   "deny-secrets",
		When:   `has_category("SECRET")`,
		Action: Deny,
		Reason: "request contains a credential ({types}); remove it and retry",
	}}
}

// DefaultOperators is the operator map of the default policy.
func DefaultOperators() map[string]string {
	return map[string]string{"PII": "tokenize", "FINANCIAL": "tokenize", "HEALTH": "tokenize"}
}

// Input is what the policy knows about a request. It holds no values from
// the request body, only who, what and how many findings of which type.
type Input struct {
	Principal string
	Roles     []string
	Tenant    string
	Model     string
	// Endpoint is chat, responses, completions, embeddings, messages or
	// mcp.
	Endpoint string
	// Zone is the upstream zone being considered; "" before routing.
	Zone string
	// Findings counts findings by type, e.g. {"EMAIL_ADDRESS": 2}.
	Findings map[string]int
	// Categories counts findings by category (PII, FINANCIAL, …).
	Categories map[string]int
	// TypeCategory maps each type in Findings to its category, so that
	// operators and deny reasons named by category apply to the type.
	TypeCategory map[string]string

	// MCP requests (endpoint "mcp"): the MCP server's configured name,
	// the tool called (tools/call), and the findings by type in the
	// call's arguments and in its result. A rule that reads
	// result_findings is decided again once the result is in: a deny
	// then withholds the result. Empty for the model APIs.
	Server         string
	Tool           string
	ArgsFindings   map[string]int
	ResultFindings map[string]int
}

// Add records n findings of one type and category, keeping Findings,
// Categories and TypeCategory consistent.
func (in *Input) Add(typ, category string, n int) {
	if in.Findings == nil {
		in.Findings = make(map[string]int)
	}
	if in.Categories == nil {
		in.Categories = make(map[string]int)
	}
	if in.TypeCategory == nil {
		in.TypeCategory = make(map[string]string)
	}
	in.Findings[typ] += n
	in.Categories[category] += n
	in.TypeCategory[typ] = category
}

// Decision is what the policy decided for one request.
type Decision struct {
	Action Action `json:"action"`
	// Reason explains a deny. It names rules and finding types, never values.
	Reason string `json:"reason,omitempty"`
	// Operators maps each finding type of the input to its operator.
	// Use Operator for types found later (for example in a response).
	Operators map[string]string `json:"operators,omitempty"`
	// Zones are the upstream zones the request may go to; empty = any.
	Zones []string `json:"zones,omitempty"`
	// Restore says whether originals are restored in responses for the
	// caller's own tenant.
	Restore bool `json:"restore"`
	// Rules names the rules that matched, in evaluation order.
	Rules []string `json:"rules"`
	// DeniedTypes are, for a deny, the finding types that caused it.
	DeniedTypes []string `json:"denied_types,omitempty"`

	layers []map[string]string // operator maps of matched rules, then defaults
}

// Operator returns the operator for a finding of the given type and
// category under this decision, following the same precedence as
// Decision.Operators: matched rules in order (type, category, "*"), then
// the default operators, then "allow".
func (d *Decision) Operator(typ, category string) string {
	for _, m := range d.layers {
		if op, ok := m[typ]; ok {
			return op
		}
		if op, ok := m[category]; ok && category != "" {
			return op
		}
		if op, ok := m["*"]; ok {
			return op
		}
	}
	return "allow"
}

// EvalError reports a rule whose condition failed to evaluate. The
// decision that comes with it is a deny.
type EvalError struct {
	Rule string
	Err  error
}

func (e *EvalError) Error() string { return fmt.Sprintf("policy rule %s: %v", e.Rule, e.Err) }

// Unwrap returns the evaluation error.
func (e *EvalError) Unwrap() error { return e.Err }

// Engine evaluates a compiled policy. It is safe for concurrent use.
type Engine struct {
	rules    []compiledRule
	defaults map[string]string
	restore  bool
	sanitize map[string]string
	version  string
	empty    map[string]int // stands in for nil maps; never written
}

type compiledRule struct {
	Rule
	whenFacts
	prg cel.Program
}

// costLimit bounds the worst-case work of one rule (CEL cost units; a
// comparison or a map lookup is about one). New estimates every rule's
// cost for inputs at the limits below and refuses rules over it, so
// evaluation needs no run-time cost tracking (which doubles its time).
const costLimit = 100_000

// Input limits. DecideContext refuses larger inputs, which keeps the
// static cost estimate true.
const (
	maxRoles  = 256  // entries in Input.Roles
	maxString = 1024 // bytes in a principal, tenant, model, endpoint, zone or role
	maxKeys   = 512  // entries in Input.Findings and Input.Categories
	maxKeyLen = 128  // bytes in a finding type or category name
)

// checkInput enforces the input limits. Errors name the field, not its value.
func checkInput(in *Input) error {
	if len(in.Roles) > maxRoles {
		return fmt.Errorf("policy input: roles has %d entries, limit %d", len(in.Roles), maxRoles)
	}
	for _, f := range []struct {
		name string
		v    string
	}{{"principal", in.Principal}, {"tenant", in.Tenant}, {"model", in.Model}, {"endpoint", in.Endpoint}, {"zone", in.Zone},
		{"server", in.Server}, {"tool", in.Tool}} {
		if len(f.v) > maxString {
			return fmt.Errorf("policy input: %s is %d bytes, limit %d", f.name, len(f.v), maxString)
		}
	}
	for i, r := range in.Roles {
		if len(r) > maxString {
			return fmt.Errorf("policy input: roles[%d] is %d bytes, limit %d", i, len(r), maxString)
		}
	}
	for _, m := range []struct {
		name string
		v    map[string]int
	}{{"findings", in.Findings}, {"categories", in.Categories}, {"args_findings", in.ArgsFindings}, {"result_findings", in.ResultFindings}} {
		if len(m.v) > maxKeys {
			return fmt.Errorf("policy input: %s has %d entries, limit %d", m.name, len(m.v), maxKeys)
		}
		for k := range m.v {
			if len(k) > maxKeyLen {
				return fmt.Errorf("policy input: a key of %s is %d bytes, limit %d", m.name, len(k), maxKeyLen)
			}
		}
	}
	return nil
}

// New validates and compiles a policy. Errors name the rule and field
// (rules[2].when) and carry the CEL compiler's message.
func New(cfg Config) (*Engine, error) {
	env, err := newEnv()
	if err != nil {
		return nil, err
	}
	defaults := maps.Clone(cfg.DefaultOperators) // the engine never shares the caller's maps
	if defaults == nil {
		defaults = DefaultOperators()
	}
	if err := checkOperators("policy.default_operators", defaults); err != nil {
		return nil, err
	}
	e := &Engine{defaults: defaults, restore: cfg.Restore == nil || *cfg.Restore, empty: map[string]int{}, sanitize: DefaultSanitize()}
	for class, act := range cfg.Sanitize {
		if _, known := e.sanitize[class]; !known {
			return nil, fmt.Errorf("policy.sanitize.%s: not a class of invisible characters (tag, bidi, zero_width, variation_selector, other_ignorable)", class)
		}
		switch act {
		case SanitizeRefuse, SanitizeStrip, SanitizeAllow:
			e.sanitize[class] = act
		default:
			return nil, fmt.Errorf("policy.sanitize.%s: %q is not refuse, strip or allow", class, act)
		}
	}
	seen := make(map[string]string)
	if cfg.DenySecrets == nil || *cfg.DenySecrets {
		for i, r := range DefaultRules() {
			cr, err := compileRule(env, fmt.Sprintf("built-in rule %d", i), r)
			if err != nil {
				return nil, err
			}
			seen[r.Name] = "a built-in rule (policy.deny_secrets: false turns it off)"
			e.rules = append(e.rules, cr)
		}
	}
	for i, r := range cfg.Rules {
		where := fmt.Sprintf("policy.rules[%d]", i)
		cr, err := compileRule(env, where, r)
		if err != nil {
			return nil, err
		}
		if other, dup := seen[r.Name]; dup {
			return nil, fmt.Errorf("%s.name: %q is already the name of %s", where, r.Name, other)
		}
		seen[r.Name] = fmt.Sprintf("rules[%d]", i)
		e.rules = append(e.rules, cr)
	}
	e.version = version(e)
	return e, nil
}

func compileRule(env *cel.Env, where string, r Rule) (compiledRule, error) {
	if r.Name == "" {
		return compiledRule{}, fmt.Errorf("%s.name: empty", where)
	}
	switch r.Action {
	case "":
		r.Action = Deidentify
	case Allow, Deidentify, Deny:
	default:
		return compiledRule{}, fmt.Errorf("%s.action: %q is not allow, deny or deidentify", where, r.Action)
	}
	if r.Action == Deny {
		if len(r.Operators) > 0 || len(r.Zones) > 0 || r.Restore != nil {
			return compiledRule{}, fmt.Errorf("%s: a deny rule has no operators, zones or restore", where)
		}
		if r.Reason == "" {
			r.Reason = "denied by policy rule " + r.Name
		}
	} else if r.Reason != "" {
		return compiledRule{}, fmt.Errorf("%s.reason: only deny rules have a reason", where)
	}
	if err := checkOperators(where+".operators", r.Operators); err != nil {
		return compiledRule{}, err
	}
	for j, z := range r.Zones {
		if z == "" {
			return compiledRule{}, fmt.Errorf("%s.zones[%d]: empty", where, j)
		}
	}
	if strings.TrimSpace(r.When) == "" {
		return compiledRule{}, fmt.Errorf("%s.when: empty (write \"true\" for a rule that always matches)", where)
	}
	r.Operators, r.Zones = maps.Clone(r.Operators), slices.Clone(r.Zones)
	if r.Restore != nil {
		restore := *r.Restore
		r.Restore = &restore
	}
	prg, facts, err := compileWhen(env, r.When)
	if err != nil {
		return compiledRule{}, fmt.Errorf("%s.when: %w", where, err)
	}
	return compiledRule{Rule: r, whenFacts: facts, prg: prg}, nil
}

func checkOperators(where string, ops map[string]string) error {
	for k, op := range ops {
		if k == "" {
			return fmt.Errorf("%s: empty finding type or category", where)
		}
		if !validOperator(op) {
			return fmt.Errorf("%s.%s: %q is not one of %s", where, k, op, operatorNames)
		}
	}
	return nil
}

// version hashes the canonical JSON of the effective policy.
func version(e *Engine) string {
	canon := struct {
		Rules            []Rule            `json:"rules"`
		DefaultOperators map[string]string `json:"default_operators"`
		Restore          bool              `json:"restore"`
		Sanitize         map[string]string `json:"sanitize"`
	}{DefaultOperators: e.defaults, Restore: e.restore, Sanitize: e.sanitize}
	for _, r := range e.rules {
		canon.Rules = append(canon.Rules, r.Rule)
	}
	b, err := json.Marshal(canon) // map keys are sorted: canonical
	if err != nil {
		panic("policy: cannot marshal policy: " + err.Error()) // plain strings, maps and bools always marshal
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Sanitize returns the effective action for each class of invisible
// characters (see Config.Sanitize).
func (e *Engine) Sanitize() map[string]string { return maps.Clone(e.sanitize) }

// Version identifies the effective policy ("sha256:…" of its canonical
// JSON form, defaults included), for audit records.
func (e *Engine) Version() string { return e.version }

// ZoneDependent reports whether some rule's condition reads zone, so that
// a decision can differ between upstream zones and the gateway must
// decide again for each candidate upstream's zone.
func (e *Engine) ZoneDependent() bool {
	for i := range e.rules {
		if e.rules[i].readsZone {
			return true
		}
	}
	return false
}

// ResultDependent reports whether some rule's condition reads
// result_findings, so that an MCP tool call must be decided again once
// its result is in.
func (e *Engine) ResultDependent() bool {
	for i := range e.rules {
		if e.rules[i].readsResult {
			return true
		}
	}
	return false
}

// Decide evaluates the policy for one request.
//
// When a rule fails to evaluate, Decide returns a deny decision (reason
// "policy error in rule NAME") together with an *EvalError: a caller that
// only looks at the decision still fails closed.
func (e *Engine) Decide(in Input) (Decision, error) {
	return e.DecideContext(context.Background(), in)
}

// DecideContext is Decide with a bound: when ctx is done, the rule being
// evaluated fails and the request is refused.
func (e *Engine) DecideContext(ctx context.Context, in Input) (Decision, error) {
	d := Decision{Restore: e.restore}
	if err := checkInput(&in); err != nil {
		return denied(d, "policy input over a limit"), err
	}
	act := activation{in: &in, empty: e.empty}
	restoreSet := false
	var zones []string
	zonesSet := false
	var zoneRules []string
	for i := range e.rules {
		r := &e.rules[i]
		ok, err := r.eval(ctx, &act)
		if err != nil {
			d.Rules = append(d.Rules, r.Name)
			return denied(d, "policy error in rule "+r.Name), &EvalError{Rule: r.Name, Err: err}
		}
		if !ok {
			continue
		}
		d.Rules = append(d.Rules, r.Name)
		if r.Action == Deny {
			d.DeniedTypes = r.deniedTypes(&in)
			return denied(d, r.reason(d.DeniedTypes)), nil
		}
		if len(r.Operators) > 0 {
			d.layers = append(d.layers, r.Operators)
		}
		if len(r.Zones) > 0 {
			zoneRules = append(zoneRules, r.Name)
			if !zonesSet {
				zones = slices.Clone(r.Zones)
				zonesSet = true
			} else {
				zones = slices.DeleteFunc(zones, func(z string) bool { return !slices.Contains(r.Zones, z) })
			}
		}
		if r.Restore != nil && !restoreSet {
			d.Restore, restoreSet = *r.Restore, true
		}
		if r.Action == Allow {
			break
		}
	}
	d.layers = append(d.layers, e.defaults)
	if zonesSet && len(zones) == 0 {
		return denied(d, "no upstream zone satisfies every matching rule ("+strings.Join(zoneRules, ", ")+")"), nil
	}
	d.Zones = zones
	if in.Zone != "" && zonesSet && !slices.Contains(zones, in.Zone) {
		return denied(d, fmt.Sprintf("zone %q is not allowed by rules %s (allowed: %s)", in.Zone, strings.Join(zoneRules, ", "), strings.Join(zones, ", "))), nil
	}
	d.Action = Allow
	if len(in.Findings) > 0 {
		d.Operators = make(map[string]string, len(in.Findings))
		for t, n := range in.Findings {
			if n <= 0 {
				continue
			}
			op := d.Operator(t, in.TypeCategory[t])
			d.Operators[t] = op
			if op != "allow" {
				d.Action = Deidentify
			}
		}
	}
	return d, nil
}

func denied(d Decision, reason string) Decision {
	d.Action, d.Reason = Deny, reason
	d.Operators, d.Zones, d.Restore, d.layers = nil, nil, false, nil
	return d
}

func (r *compiledRule) eval(ctx context.Context, act *activation) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	var (
		v   ref.Val
		err error
	)
	if r.loops && ctx.Done() != nil {
		v, _, err = r.prg.ContextEval(ctx, act) // checks ctx inside loops
	} else {
		v, _, err = r.prg.Eval(act) // bounded by the expression's size
	}
	if err != nil {
		return false, err
	}
	b, ok := v.Value().(bool)
	if !ok {
		return false, errors.New("condition did not produce a bool")
	}
	return b, nil
}

// deniedTypes lists the input's finding types that the condition names,
// by type or by category. A condition that reads the findings without
// naming any present type (size(findings) > 0) blames every type present.
func (r *compiledRule) deniedTypes(in *Input) []string {
	var out []string
	for t, n := range in.Findings {
		if n > 0 && (r.literals[t] || r.literals[in.TypeCategory[t]]) {
			out = append(out, t)
		}
	}
	if len(out) == 0 && r.readsFindings {
		for t, n := range in.Findings {
			if n > 0 {
				out = append(out, t)
			}
		}
	}
	slices.Sort(out)
	return out
}

func (r *compiledRule) reason(types []string) string {
	if !strings.Contains(r.Reason, "{types}") {
		return r.Reason
	}
	list := strings.Join(types, ", ")
	if list == "" {
		list = "unspecified type"
	}
	return strings.ReplaceAll(r.Reason, "{types}", list)
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/wardenhq/warden/detect"
	"github.com/wardenhq/warden/policy"
)

const policyHelp = `usage: warden policy test --config F --principal P --model M [flags] [FILE|-]

Shows what the policy decides for a request: runs detection on the text of
FILE (standard input when absent or "-"), evaluates the policy: section of
the config for the given caller and model, and prints the decision and why
(matched rules, findings by type, operators, zones, restore). Values found
in the text are never printed.

Exit codes: 0 allow or deidentify, 1 deny, 2 usage, configuration or I/O error.

Flags:
`

var policyEndpoints = []string{"chat", "responses", "completions", "embeddings", "messages"}

func runPolicy(ctx context.Context, c *cli, args []string) int {
	if len(args) == 0 || args[0] != "test" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprint(c.stdout, policyHelp)
			return exitOK
		}
		fmt.Fprint(c.stderr, policyHelp)
		return exitUsage
	}
	return runPolicyTest(ctx, c, args[1:])
}

func runPolicyTest(_ context.Context, c *cli, args []string) int {
	fs := flag.NewFlagSet("policy test", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	configPath := fs.String("config", "", "config `file` (policy: and detect: sections)")
	principal := fs.String("principal", "", "the caller (required)")
	model := fs.String("model", "", "the model asked for (required)")
	roles := fs.String("roles", "", "the caller's roles, comma-separated")
	tenant := fs.String("tenant", "", "the caller's tenant")
	endpoint := fs.String("endpoint", "chat", "API endpoint: "+strings.Join(policyEndpoints, ", "))
	zone := fs.String("zone", "", "upstream zone to decide for (empty: before routing)")
	asJSON := fs.Bool("json", false, "print the decision as one JSON object")
	maxBytes := fs.Int64("max-bytes", 64<<20, "largest input in `bytes`")
	fs.Usage = func() { fmt.Fprint(c.stderr, policyHelp); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(c.stderr, "warden policy test: "+format+"\n", a...)
		return exitUsage
	}
	switch {
	case *principal == "":
		return fail("--principal is required")
	case *model == "":
		return fail("--model is required")
	case !slices.Contains(policyEndpoints, *endpoint):
		return fail("--endpoint: want one of %s", strings.Join(policyEndpoints, ", "))
	case fs.NArg() > 1:
		return fail("at most one FILE")
	}
	cfg, err := loadConfig(*configPath, c.getenv)
	if err != nil {
		return fail("%v", err)
	}
	pol, err := policy.New(cfg.Policy)
	if err != nil {
		return fail("config: %v", err)
	}
	det, err := detect.New(cfg.Detect)
	if err != nil {
		return fail("config: %v", err)
	}
	name := "-"
	if fs.NArg() == 1 {
		name = fs.Arg(0)
	}
	text, err := readPolicyInput(c, name, *maxBytes)
	if err != nil {
		return fail("%s: %v", displayName(name), err)
	}

	in := policy.Input{Principal: *principal, Tenant: *tenant, Model: *model, Endpoint: *endpoint, Zone: *zone}
	if *roles != "" {
		for r := range strings.SplitSeq(*roles, ",") {
			if r = strings.TrimSpace(r); r != "" {
				in.Roles = append(in.Roles, r)
			}
		}
	}
	d, evalErr := testPolicy(pol, det, &in, text)
	if evalErr != nil {
		fmt.Fprintln(c.stderr, "warden policy test:", evalErr)
	}
	if *asJSON {
		err = printDecisionJSON(c.stdout, pol.Version(), &in, &d)
	} else {
		err = printDecision(c.stdout, pol.Version(), &in, &d)
	}
	if err != nil {
		return fail("writing output: %v", err)
	}
	if d.Action == policy.Deny {
		return exitFailure
	}
	return exitOK
}

// testPolicy is what `warden policy test` and the console's policy
// test run: detection on text, its findings added to in by type and
// category, then the policy's decision for in.
func testPolicy(pol *policy.Engine, det *detect.Engine, in *policy.Input, text string) (policy.Decision, error) {
	for _, f := range det.Scan(text) {
		in.Add(f.Type, string(f.Category), 1)
	}
	return pol.Decide(*in)
}

// readPolicyInput reads a whole file (or stdin for "-"), refusing more than max bytes.
func readPolicyInput(c *cli, name string, max int64) (string, error) {
	var r io.Reader = c.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return "", err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return "", err
	}
	if int64(len(b)) > max {
		return "", fmt.Errorf("input over --max-bytes (%d)", max)
	}
	return string(b), nil
}

func printDecision(w io.Writer, version string, in *policy.Input, d *policy.Decision) error {
	var b strings.Builder
	fmt.Fprintf(&b, "decision:  %s\n", d.Action)
	if d.Reason != "" {
		fmt.Fprintf(&b, "reason:    %s\n", d.Reason)
	}
	fmt.Fprintf(&b, "rules:     %s\n", policyOrNone(strings.Join(d.Rules, ", "), "(none matched)"))
	types := policySortedKeys(in.Findings)
	var fl []string
	for _, t := range types {
		fl = append(fl, fmt.Sprintf("%s×%d (%s)", t, in.Findings[t], in.TypeCategory[t]))
	}
	fmt.Fprintf(&b, "findings:  %s\n", policyOrNone(strings.Join(fl, ", "), "none"))
	if d.Action == policy.Deny {
		if len(d.DeniedTypes) > 0 {
			fmt.Fprintf(&b, "denied:    %s\n", strings.Join(d.DeniedTypes, ", "))
		}
	} else {
		var ol []string
		for _, t := range policySortedKeys(d.Operators) {
			ol = append(ol, t+" → "+d.Operators[t])
		}
		fmt.Fprintf(&b, "operators: %s\n", policyOrNone(strings.Join(ol, ", "), "none"))
		fmt.Fprintf(&b, "zones:     %s\n", policyOrNone(strings.Join(d.Zones, ", "), "any"))
		fmt.Fprintf(&b, "restore:   %s\n", map[bool]string{true: "yes (caller's own tenant)", false: "no"}[d.Restore])
	}
	fmt.Fprintf(&b, "policy:    %s\n", version)
	_, err := io.WriteString(w, b.String())
	return err
}

func printDecisionJSON(w io.Writer, version string, in *policy.Input, d *policy.Decision) error {
	out := struct {
		*policy.Decision
		Policy     string            `json:"policy_version"`
		Findings   map[string]int    `json:"findings"`
		Categories map[string]int    `json:"categories"`
		Types      map[string]string `json:"type_categories"`
		Input      map[string]any    `json:"input"`
	}{
		Decision: d, Policy: version,
		Findings: policyNonNil(in.Findings), Categories: policyNonNil(in.Categories), Types: in.TypeCategory,
		Input: map[string]any{"principal": in.Principal, "roles": in.Roles, "tenant": in.Tenant,
			"model": in.Model, "endpoint": in.Endpoint, "zone": in.Zone},
	}
	if out.Types == nil {
		out.Types = map[string]string{}
	}
	if d.Rules == nil {
		d.Rules = []string{}
	}
	if in.Roles == nil {
		out.Input["roles"] = []string{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func policyOrNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

func policyNonNil(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}

func policySortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

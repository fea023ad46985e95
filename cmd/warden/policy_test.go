package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// policyRun runs `warden policy …` with stdin and returns the exit code,
// stdout and stderr.
func policyRun(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code := runPolicy(context.Background(), c, args)
	return code, out.String(), errb.String()
}

const policyTestConfig = `
policy:
  rules:
    - name: interns-no-cards
      when: '"intern" in roles && has_category("FINANCIAL")'
      action: deny
    - name: acme-onprem
      when: tenant == "acme" && category_count("PII") > 0
      zones: [onprem]
      operators: {EMAIL_ADDRESS: mask}
      restore: false
  default_operators: {PII: tokenize, FINANCIAL: redact}
`

func TestPolicyTestCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "warden.yaml")
	if err := os.WriteFile(cfg, []byte(policyTestConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	const email, card, awsKey = "jane.roe@example.org", "4111 1111 1111 1111", "AKIAZ3MHXQ7R5TLP2WQE"
	prompt := "Write to " + email + " about card " + card + "."
	base := []string{"test", "--config", cfg, "--principal", "alice", "--model", "gpt-4o-mini"}
	tests := []struct {
		name     string
		args     []string
		stdin    string
		code     int
		contains []string
	}{
		{"default operators", nil, prompt, 0, []string{"decision:  deidentify", "rules:     (none matched)",
			"CREDIT_CARD → redact", "EMAIL_ADDRESS → tokenize", "zones:     any", "restore:   yes"}},
		{"tenant rule restricts zone and masks email", []string{"--tenant", "acme"}, prompt, 0, []string{
			"rules:     acme-onprem", "EMAIL_ADDRESS → mask", "CREDIT_CARD → redact", "zones:     onprem", "restore:   no"}},
		{"zone outside the rule's zones", []string{"--tenant", "acme", "--zone", "cloud"}, prompt, 1, []string{
			"decision:  deny", `zone "cloud" is not allowed`}},
		{"role deny", []string{"--roles", "dev, intern"}, prompt, 1, []string{"decision:  deny",
			"reason:    denied by policy rule interns-no-cards", "denied:    CREDIT_CARD"}},
		{"secret deny names the type", nil, "key " + awsKey + " for " + email, 1, []string{
			"reason:    request contains a credential (AWS_ACCESS_KEY); remove it and retry", "rules:     deny-secrets"}},
		{"nothing found", []string{"--endpoint", "embeddings"}, "hello world", 0, []string{"decision:  allow", "findings:  none"}},
		{"missing principal", []string{"--principal", ""}, "", 2, nil},
		{"bad endpoint", []string{"--endpoint", "images"}, "", 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string{}, base...), tt.args...)
			code, out, errOut := policyRun(t, tt.stdin, args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			for _, want := range tt.contains {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			for _, v := range []string{email, card, awsKey, "4111"} {
				if strings.Contains(out+errOut, v) {
					t.Errorf("output carries a value from the input (%s…)", v[:4])
				}
			}
		})
	}
}

func TestPolicyTestDenySecretsOff(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "w.yaml")
	os.WriteFile(cfg, []byte("policy:\n  deny_secrets: false\n  default_operators: {SECRET: redact}\n"), 0o600)
	code, out, errOut := policyRun(t, "key AKIAZ3MHXQ7R5TLP2WQE", "test", "--config", cfg, "--principal", "p", "--model", "m")
	if code != 0 || !strings.Contains(out, "AWS_ACCESS_KEY → redact") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
}

func TestPolicyTestJSON(t *testing.T) {
	code, out, errOut := policyRun(t, "mail jane.roe@example.org", "test", "--principal", "p", "--model", "m", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Action     string            `json:"action"`
		Operators  map[string]string `json:"operators"`
		Rules      []string          `json:"rules"`
		Restore    bool              `json:"restore"`
		Version    string            `json:"policy_version"`
		Findings   map[string]int    `json:"findings"`
		Categories map[string]int    `json:"categories"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Action != "deidentify" || got.Operators["EMAIL_ADDRESS"] != "tokenize" || got.Rules == nil || !got.Restore ||
		got.Findings["EMAIL_ADDRESS"] != 1 || got.Categories["PII"] != 1 || !strings.HasPrefix(got.Version, "sha256:") {
		t.Errorf("got %+v", got)
	}
}

func TestPolicyTestBadConfig(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(cfg, []byte("policy:\n  rules:\n    - name: r\n      when: 'tenant =='\n"), 0o600)
	code, _, errOut := policyRun(t, "", "test", "--config", cfg, "--principal", "p", "--model", "m")
	if code != 2 || !strings.Contains(errOut, "policy.rules[0].when:") {
		t.Errorf("exit %d, stderr %q; want 2 naming policy.rules[0].when", code, errOut)
	}
}

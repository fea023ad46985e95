package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wardenhq/warden/transform"
)

// cliRun runs one command with the quickstart config and the given
// environment, returning its exit code, stdout and stderr.
func cliRun(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }}
	cmd, ok := commands()[args[0]]
	if !ok {
		t.Fatalf("no command %s", args[0])
	}
	code := cmd.run(context.Background(), c, args[1:])
	return code, out.String(), errb.String()
}

// TestQuickstartVaultScenario walks the check through the CLI,
// with tokens issued through openVault (what `warden redact --operator
// tokenize` uses).
func TestQuickstartVaultScenario(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"WARDEN_DATA_DIR": filepath.Join(dir, "data")}
	quick := filepath.Join("..", "..", "examples", "quickstart.yaml")
	cfg, err := loadConfig(quick, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{
		"EMAIL_ADDRESS": "alice.canary@example.com",
		"PHONE_NUMBER":  "+1 415 555 0199",
		"US_SSN":        "078-05-1120",
		"CREDIT_CARD":   "4111 1111 1111 1111",
	}
	var errb bytes.Buffer
	c := &cli{stdout: &bytes.Buffer{}, stderr: &errb, getenv: func(k string) string { return env[k] }}
	v, closeVault, err := openVault(context.Background(), cfg, c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errb.String(), "generated key file") {
		t.Fatalf("no key-file notice: %q", errb.String())
	}
	original := "mail {EMAIL_ADDRESS}, call {PHONE_NUMBER}, ssn {US_SSN}, card {CREDIT_CARD}\n"
	redacted := original
	for typ, val := range values {
		original = strings.ReplaceAll(original, "{"+typ+"}", val)
		tok, err := v.Tenant("acme").Token(context.Background(), typ, val)
		if err != nil {
			t.Fatal(err)
		}
		redacted = strings.ReplaceAll(redacted, "{"+typ+"}", tok)
	}
	closeVault()

	restore := func(tenant string) string {
		t.Helper()
		code, out, stderr := cliRun(t, env, redacted, "restore", "--config", quick, "--tenant", tenant)
		if code != 0 {
			t.Fatalf("restore exit %d: %s", code, stderr)
		}
		if strings.Contains(stderr, "generated") {
			t.Fatal("key-file notice printed twice")
		}
		return out
	}
	if got := restore("acme"); got != original {
		t.Fatalf("restore = %q, want %q", got, original)
	}
	if got := restore("globex"); got != redacted {
		t.Fatalf("other tenant restored: %q", got)
	}
	// JSON input stays valid JSON.
	code, out, stderr := cliRun(t, env, `{"note":"`+strings.TrimSpace(redacted)+`"}`, "restore", "--config", quick, "--tenant", "acme")
	if code != 0 || !strings.Contains(out, values["US_SSN"]) {
		t.Fatalf("json restore: %d %s %s", code, out, stderr)
	}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		for _, val := range values {
			if bytes.Contains(b, []byte(val)) {
				t.Errorf("%s holds a value in the clear", path)
			}
		}
		return nil
	})

	if code, out, stderr := cliRun(t, env, "", "keys", "rotate", "--config", quick); code != 0 || !strings.Contains(out, "version 2") {
		t.Fatalf("rotate: %d %s %s", code, out, stderr)
	}
	if got := restore("acme"); got != original {
		t.Fatal("restore after rotate failed")
	}
	if code, _, stderr := cliRun(t, env, "", "keys", "retire", "--config", quick, "--version", "1"); code != 1 || !strings.Contains(stderr, "rewrap") {
		t.Fatalf("retire with keys in use: %d %s", code, stderr)
	}
	if code, out, _ := cliRun(t, env, "", "keys", "rewrap", "--config", quick); code != 0 || !strings.Contains(out, "rewrapped 2") {
		t.Fatalf("rewrap: %d %s", code, out)
	}
	if code, _, stderr := cliRun(t, env, "", "keys", "retire", "--config", quick, "--version", "1"); code != 0 {
		t.Fatalf("retire: %d %s", code, stderr)
	}
	code, out, _ = cliRun(t, env, "", "keys", "status", "--config", quick)
	if code != 0 || !strings.Contains(out, "retired") || !strings.Contains(out, "current") {
		t.Fatalf("status: %s", out)
	}
	if got := restore("acme"); got != original {
		t.Fatal("restore after rewrap and retire failed")
	}

	// Forget one value.
	ssnTok := redacted[strings.Index(redacted, "ssn ")+4 : strings.Index(redacted, ", card")]
	if code, _, stderr := cliRun(t, env, "", "vault", "forget", "--config", quick, "--tenant", "acme", "--token", ssnTok); code != 0 {
		t.Fatalf("forget: %d %s", code, stderr)
	}
	if got := restore("acme"); !strings.Contains(got, ssnTok) || !strings.Contains(got, values["US_SSN"][:0]+values["EMAIL_ADDRESS"]) {
		t.Fatalf("after forget: %q", got)
	}
	// Shred: refused without --yes, then everything stays tokens.
	if code, _, _ := cliRun(t, env, "", "vault", "shred", "--config", quick, "--tenant", "acme"); code != exitUsage {
		t.Fatal("shred without --yes ran")
	}
	if code, _, stderr := cliRun(t, env, "", "vault", "shred", "--config", quick, "--tenant", "acme", "--yes"); code != 0 {
		t.Fatalf("shred: %d %s", code, stderr)
	}
	if got := restore("acme"); got != redacted {
		t.Fatalf("after shred: %q", got)
	}
}

func FuzzJSONEscape(f *testing.F) {
	for _, s := range []string{"plain", `quo"te`, "back\\slash", "new\nline", "\x00ctl", "<html>&", "\u2028", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		doc := `{"v":"` + jsonEscape(s) + `"}`
		var got struct{ V string }
		if err := json.Unmarshal([]byte(doc), &got); err != nil {
			t.Fatalf("escaped value breaks JSON: %v", err)
		}
		if utf8.ValidString(s) && got.V != s {
			t.Fatalf("round trip changed the value")
		}
	})
}

func TestVaultCommandsRefuseBadInput(t *testing.T) {
	env := map[string]string{"WARDEN_DATA_DIR": t.TempDir()}
	quick := filepath.Join("..", "..", "examples", "quickstart.yaml")
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"restore without tenant", []string{"restore", "--config", quick}, exitUsage},
		{"restore bad format", []string{"restore", "--config", quick, "--tenant", "a", "--format", "xml"}, exitUsage},
		{"forget malformed token", []string{"vault", "forget", "--config", quick, "--tenant", "a", "--token", "[[X:1]]"}, exitUsage},
		{"forget unknown token", []string{"vault", "forget", "--config", quick, "--tenant", "a", "--token", transform.FormatToken("US_SSN", make([]byte, 10))}, exitFailure},
		{"keys unknown", []string{"keys", "spin", "--config", quick}, exitUsage},
		{"retire without version", []string{"keys", "retire", "--config", quick}, exitUsage},
		{"missing passphrase", []string{"keys", "status", "--config", quick}, exitUsage},
		{"help", []string{"vault", "--help"}, exitOK},
	}
	for _, c := range cases {
		e := env
		if c.name == "missing passphrase" {
			e = map[string]string{"WARDEN_DATA_DIR": t.TempDir(), "WARDEN_PASSPHRASE_ENV": "MY_PASS"}
		}
		code, _, stderr := cliRun(t, e, "", c.args...)
		if code != c.want {
			t.Errorf("%s: exit %d, want %d (%s)", c.name, code, c.want, stderr)
		}
	}
}

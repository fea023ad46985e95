package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runT runs a warden command line in-process with the given stdin and
// environment, returning exit code, stdout and stderr.
func runT(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }}
	code := runCLI(c, args)
	return code, out.String(), errb.String()
}

func TestDetectJSONLOneLinePerInput(t *testing.T) {
	in := "mail jane@example.com\n\nno findings here\ncard 4111 1111 1111 1111\n"
	code, out, errs := runT(t, nil, in, "detect", "--jsonl")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d output lines for 4 input lines:\n%s", len(lines), out)
	}
	var first struct {
		Findings []map[string]any `json:"findings"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if len(first.Findings) != 1 || first.Findings[0]["type"] != "EMAIL_ADDRESS" || first.Findings[0]["start"] != 5.0 || first.Findings[0]["end"] != 21.0 {
		t.Fatalf("line 1: %s", lines[0])
	}
	for _, k := range []string{"value", "recognizer"} {
		if _, ok := first.Findings[0][k]; ok {
			t.Errorf("%s printed without being asked for", k)
		}
	}
	if lines[1] != `{"findings":[]}` || lines[2] != `{"findings":[]}` {
		t.Fatalf("empty lines: %q %q", lines[1], lines[2])
	}
	if strings.Contains(out, "jane@example.com") {
		t.Fatal("value printed without --show-values")
	}
}

func TestDetectRefusesOverlongLine(t *testing.T) {
	code, _, errs := runT(t, nil, strings.Repeat("a", 100)+"\n", "detect", "--jsonl", "--max-line", "50")
	if code != exitUsage || !strings.Contains(errs, "--max-line") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

func TestDetectMalformedJSONNamesOffset(t *testing.T) {
	code, _, errs := runT(t, nil, `{"a": "secret-canary-value", }`, "detect", "--json")
	if code != exitUsage || !strings.Contains(errs, "byte") || strings.Contains(errs, "secret-canary-value") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

// TestRedactRestoreRoundTrip is the vault issue's check: tokenize with a
// tenant, the same output twice, exact restore, nothing for another
// tenant, and no original anywhere in the data directory.
func TestRedactRestoreRoundTrip(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"WARDEN_DATA_DIR": dir}
	in := "Email jane.canary@example.com or call (614) 507-4711, SSN 457-55-5462, card 4111 1111 1111 1111.\n"
	code, tok1, errs := runT(t, env, in, "redact", "--tenant", "acme", "--operator", "tokenize")
	if code != 0 {
		t.Fatalf("redact exit %d: %s", code, errs)
	}
	_, tok2, _ := runT(t, env, in, "redact", "--tenant", "acme", "--operator", "tokenize")
	if tok1 != tok2 {
		t.Fatalf("tokens differ between runs:\n%s\n%s", tok1, tok2)
	}
	for _, v := range []string{"jane.canary@example.com", "507-4711", "457-55-5462", "4111 1111"} {
		if strings.Contains(tok1, v) {
			t.Errorf("redacted output still holds %q", v)
		}
	}
	code, back, errs := runT(t, env, tok1, "restore", "--tenant", "acme")
	if code != 0 || back != in {
		t.Fatalf("restore exit %d (%s): %q", code, errs, back)
	}
	_, other, _ := runT(t, env, tok1, "restore", "--tenant", "other")
	if other != tok1 {
		t.Fatalf("another tenant restored something: %q", other)
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		for _, v := range []string{"jane.canary@example.com", "457-55-5462", "4111111111111111", "4111 1111 1111 1111"} {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("%s holds %q in the clear", p, v)
			}
		}
		return nil
	})
}

func TestRedactJSONAndCSV(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"WARDEN_DATA_DIR": dir}
	code, out, errs := runT(t, env, `{"user":{"email":"a.b@example.com","plan":"pro"}}`, "redact", "--format", "json", "--operator", "placeholder")
	if code != 0 || out != `{"user":{"email":"<EMAIL_ADDRESS>","plan":"pro"}}` {
		t.Fatalf("json: exit %d (%s): %s", code, errs, out)
	}
	csvIn := "name,email\nJane Doe,jane@example.com\n"
	code, out, errs = runT(t, env, csvIn, "redact", "--format", "csv", "--operator", "placeholder", "--quiet")
	if code != 0 || out != "name,email\n<PERSON>,<EMAIL_ADDRESS>\n" {
		t.Fatalf("csv: exit %d (%s): %q", code, errs, out)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/auth"
	"github.com/wardenhq/warden/store"
)

func apikeyRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code := runAPIKey(context.Background(), c, args)
	return code, out.String(), errb.String()
}

func TestAPIKeyCommand(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "warden.yaml")
	if err := os.WriteFile(cfgPath, []byte("data_dir: "+filepath.Join(dir, "data")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := apikeyRun(t, "create", "--config", cfgPath, "--name", "alice", "--models", "gpt-4o-mini, gpt-4o", "--roles", "dev", "--tenant", "acme", "--expires", "720h")
	if code != exitOK {
		t.Fatalf("create: %d %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	key := lines[len(lines)-1]
	if !strings.HasPrefix(key, "wdn_") || !strings.Contains(errOut, "gpt-4o-mini,gpt-4o") || strings.Contains(errOut, key) {
		t.Fatalf("create output: stdout %q stderr %q", out, errOut)
	}
	// The printed key verifies against the configured store.
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(dir, "data", "warden.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := auth.NewAPIKeys(db, 0, nil).Verify(context.Background(), key)
	if err != nil || p.Tenant != "acme" || strings.Join(p.Models, ",") != "gpt-4o-mini,gpt-4o" || time.Until(p.Expires) < 719*time.Hour {
		t.Fatalf("verify printed key: %+v, %v", p, err)
	}
	// --json create: the key is still the last line.
	code, out, _ = apikeyRun(t, "create", "--config", cfgPath, "--name", "bob", "--models", "*", "--json", "--expires", "2099-01-01T00:00:00Z")
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if code != exitOK || !strings.HasPrefix(lines[len(lines)-1], "wdn_") {
		t.Fatalf("create --json: %d %q", code, out)
	}

	code, out, _ = apikeyRun(t, "list", "--config", cfgPath)
	if code != exitOK || !strings.Contains(out, "alice") || !strings.Contains(out, "bob") || strings.Contains(out, key[17:]) {
		t.Fatalf("list: %d %q", code, out)
	}
	code, out, _ = apikeyRun(t, "revoke", "alice", "--config", cfgPath)
	if code != exitOK || !strings.Contains(out, "revoked 1") {
		t.Fatalf("revoke: %d %q", code, out)
	}
	code, out, _ = apikeyRun(t, "list", "--json", "--config", cfgPath)
	var list []auth.KeyInfo
	if err := json.Unmarshal([]byte(out), &list); err != nil || code != exitOK || len(list) != 2 {
		t.Fatalf("list --json: %d %q %v", code, out, err)
	}
	for _, k := range list {
		if (k.Name == "alice") == k.RevokedAt.IsZero() {
			t.Errorf("key %s revoked=%v", k.Name, !k.RevokedAt.IsZero())
		}
	}
	if code, _, _ := apikeyRun(t, "revoke", "alice", "--config", cfgPath); code != exitFailure {
		t.Errorf("revoking again: %d, want %d", code, exitFailure)
	}

	usage := [][]string{
		{},
		{"frobnicate"},
		{"create", "--config", cfgPath, "--models", "m"},
		{"create", "--config", cfgPath, "--name", "n"},
		{"create", "--config", cfgPath, "--name", "n", "--models", "m", "--expires", "yesterday"},
		{"create", "--config", cfgPath, "--name", "n", "--models", "m", "--expires", "-5h"},
		{"revoke", "--config", cfgPath},
		{"list", "--config", cfgPath, "extra"},
	}
	for _, args := range usage {
		if code, _, _ := apikeyRun(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/audit/event"
)

// TestAuditVerifyCountsPairs writes an admin entry through a CLI
// command, a finished request and one still in flight through a log
// that stays open (a running gateway), and checks what verify prints.
func TestAuditVerifyCountsPairs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "warden.yaml")
	if err := os.WriteFile(cfgPath, []byte("data_dir: "+filepath.Join(dir, "data")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := apikeyRun(t, "create", "--config", cfgPath, "--name", "alice", "--models", "*", "--expires", "24h"); code != exitOK {
		t.Fatalf("apikey create: %d %s", code, errOut)
	}
	var errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &errb, getenv: func(string) string { return "" }}
	cfg, err := loadConfig(cfgPath, c.getenv)
	if err != nil {
		t.Fatal(err)
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	kr, closeKeys, err := openKeyring(ctx, cfg, c)
	if err != nil {
		t.Fatal(err)
	}
	defer closeKeys()
	gw, err := audit.Open(ctx, audit.Config{Store: db, Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	for i, req := range []string{"r1", "r2"} {
		idx, err := gw.Record(ctx, &event.Record{Kind: event.Intent, RequestID: req, Tenant: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if _, err := gw.Record(ctx, &event.Record{Kind: event.Completion, Intent: idx, RequestID: req, Tenant: "acme", Status: 200}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := gw.Publish(ctx); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	c = &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	if code := runAudit(ctx, c, []string{"verify", "--config", cfgPath}); code != exitOK {
		t.Fatalf("verify: exit %d\n%s%s", code, out.String(), errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "OK: 4 entries") ||
		lines[1] != "pairing: 2 intents, 1 completions, 0 aborted, 1 in flight" || lines[2] != "other: 0 requests, 1 admin" {
		t.Fatalf("verify printed:\n%s", out.String())
	}
}

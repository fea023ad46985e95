package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestReportConfigErrorsNameTheKey: every bad purposes, report or
// upstream country setting is refused at load, naming its key.
func TestReportConfigErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name, yaml, key string
	}{
		{"no legal basis", "purposes:\n  - name: a\n", "purposes[0].legal_basis"},
		{"unknown legal basis", "purposes:\n  - {name: a, legal_basis: because}\n", "purposes[0].legal_basis"},
		{"unknown art9", "purposes:\n  - {name: a, legal_basis: consent, art9_condition: health}\n", "purposes[0].art9_condition"},
		{"no name", "purposes:\n  - {legal_basis: consent}\n", "purposes[0].name"},
		{"reserved name", "purposes:\n  - {name: (x), legal_basis: consent}\n", "purposes[0].name"},
		{"duplicate", "purposes:\n  - {name: a, legal_basis: consent, principals: [x]}\n  - {name: a, legal_basis: consent}\n", "purposes[1].name"},
		{"empty glob", "purposes:\n  - {name: a, legal_basis: consent, models: ['']}\n", "purposes[0].models[0]"},
		{"catch-all first", "purposes:\n  - {name: a, legal_basis: consent}\n  - {name: b, legal_basis: consent, principals: [x]}\n", "purposes[0]"},
		{"bad country", "upstreams:\n  - {name: u, country: UK}\n", "upstreams[0].country"},
		{"lower-case country", "upstreams:\n  - {name: u, country: de}\n", "upstreams[0].country"},
		{"bad home region", "report:\n  home_region: [Europe]\n", "report.home_region[0]"},
		{"negative retention", "report:\n  retention_min: -1h\n", "report.retention_min"},
		{"empty internal zone", "report:\n  internal_zones: ['']\n", "report.internal_zones[0]"},
		{"unknown key", "report:\n  controler: {name: x}\n", "controler"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "warden.yaml")
			if err := os.WriteFile(p, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := loadConfig(p, func(string) string { return "" })
			if err == nil || !strings.Contains(err.Error(), tt.key) {
				t.Fatalf("error %v does not name %s", err, tt.key)
			}
		})
	}
	p := filepath.Join(t.TempDir(), "warden.yaml")
	ok := "upstreams:\n  - {name: u, country: DE, region: eu-central}\npurposes:\n  - {name: a, legal_basis: contract, art9_condition: health_care, principals: ['svc-*']}\n  - {name: rest, legal_basis: legitimate_interests}\n" +
		"report:\n  home_region: [EU, CH, eu-central]\n  retention_min: 8760h\n  controller: {name: Acme, contact: privacy@acme.example, dpo: dpo@acme.example}\n"
	if err := os.WriteFile(p, []byte(ok), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadConfig(p, func(string) string { return "" }); err != nil {
		t.Fatalf("a valid report config is refused: %v", err)
	}
}

// TestReportFromServedTraffic drives real requests through `warden
// serve` (built-in echo upstream), builds every report in every format
// from the log it wrote, and checks the numbers, that the prompts'
// canary values appear in none, and that a log with one entry changed
// afterwards is refused with nothing written.
func TestReportFromServedTraffic(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "warden.yaml")
	cfg := "data_dir: " + filepath.Join(dir, "data") + "\nserver:\n  listen: 127.0.0.1:0\n" +
		"upstreams:\n  - {name: echo, zone: cloud, country: IE, region: EU, models: [gpt-4o-mini]}\n" +
		"purposes:\n  - {name: support, legal_basis: contract, art9_condition: health_care, data_subjects: [customers], retention: 30 days, principals: [alice]}\n" +
		"report:\n  controller: {name: Test Co}\n  home_region: [EU]\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	key := func(name string) string {
		code, out, errOut := apikeyRun(t, "create", "--config", cfgPath, "--name", name, "--models", "gpt-4o-mini", "--tenant", "acme")
		if code != exitOK {
			t.Fatalf("apikey create: %s", errOut)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		return lines[len(lines)-1]
	}
	alice, bob := key("alice"), key("bob")

	var logs syncBuffer
	c := &cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &logs, getenv: func(string) string { return "" }}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan int, 1)
	go func() { done <- runServe(ctx, c, []string{"--config", cfgPath}) }()
	urlRE := regexp.MustCompile(`"url":"(http://[^"]+/v1)"`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := urlRE.FindStringSubmatch(logs.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("serve did not start: %s", logs.String())
	}
	const prompt = "I am Dana Whitlock, email dana.canary@example.net, NHS number 943 476 5919, please help"
	post := func(key, content string) int {
		body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + content + `"}]}`
		req, _ := http.NewRequest("POST", base+"/chat/completions", strings.NewReader(body))
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for range 3 {
		if s := post(alice, prompt); s != 200 {
			t.Fatalf("alice: status %d", s)
		}
	}
	if s := post(alice, "my token is ghp_R7m2kQ9xV4bN8cL1pZ6wT3yH5jD0fA2sE9uK"); s == 200 {
		t.Fatal("a credential was not refused")
	}
	if s := post(bob, prompt); s != 200 {
		t.Fatalf("bob: status %d", s)
	}
	if s := post("", prompt); s != 401 {
		t.Fatalf("no key: status %d", s)
	}
	stop() // closing the log signs a final checkpoint
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}

	secrets := []string{"Whitlock", "dana.canary", "943 476 5919", "9434765919", "ghp_R7m2kQ9x"}
	for _, kind := range []string{"ropa", "dpia", "ai-act"} {
		for _, format := range []string{"md", "html", "json", "csv"} {
			code, out, errOut := runT(t, nil, "", "report", kind, "--config", cfgPath, "--format", format)
			if code != exitOK {
				t.Fatalf("report %s --format %s: exit %d: %s", kind, format, code, errOut)
			}
			for _, s := range secrets {
				if strings.Contains(out+errOut, s) {
					t.Errorf("report %s --format %s holds %q", kind, format, s)
				}
			}
		}
	}
	code, out, errOut := runT(t, nil, "", "report", "ropa", "--config", cfgPath, "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Checkpoint struct {
			Size  int64 `json:"size"`
			First int64 `json:"first_checkpoint_size"`
		} `json:"checkpoint"`
		Log struct {
			Intents, Completions, Requests int64
			Paired                         bool
		} `json:"log"`
		Issues []struct{ Code string } `json:"issues"`
		ROPA   struct {
			Purposes []struct {
				Name                    string
				Requests, Sent, Refused int64
				Categories              []struct {
					Category      string
					Sent, Refused int64
				}
			}
			Transfers []json.RawMessage
		} `json:"ropa"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Log.Intents != 4 || rep.Log.Completions != 4 || rep.Log.Requests != 2 || !rep.Log.Paired {
		t.Fatalf("log %+v", rep.Log)
	}
	if len(rep.ROPA.Purposes) != 2 {
		t.Fatalf("purposes %+v", rep.ROPA.Purposes)
	}
	sup, und := rep.ROPA.Purposes[0], rep.ROPA.Purposes[1]
	if sup.Name != "support" || sup.Requests != 4 || sup.Sent != 3 || sup.Refused != 1 || und.Sent != 1 {
		t.Fatalf("support %+v, undeclared %+v", sup, und)
	}
	cats := map[string][2]int64{}
	for _, c := range sup.Categories {
		cats[c.Category] = [2]int64{c.Sent, c.Refused}
	}
	if cats["HEALTH"][0] != 3 || cats["PII"][0] < 6 || cats["SECRET"][1] != 1 {
		t.Fatalf("support categories %v", cats)
	}
	if len(rep.ROPA.Transfers) != 0 {
		t.Fatalf("an IE upstream is a transfer out of the EU: %s", rep.ROPA.Transfers)
	}
	var codes []string
	for _, is := range rep.Issues {
		codes = append(codes, is.Code)
	}
	if !strings.Contains(strings.Join(codes, " "), "undeclared_purpose") {
		t.Fatalf("issues %v", codes)
	}

	// An older checkpoint, and one that was never signed.
	if rep.Checkpoint.First <= 0 || rep.Checkpoint.First >= rep.Checkpoint.Size {
		t.Fatalf("checkpoints: %+v", rep.Checkpoint)
	}
	first := strconv.FormatInt(rep.Checkpoint.First, 10)
	code, out, errOut = runT(t, nil, "", "report", "ai-act", "--config", cfgPath, "--checkpoint", first, "--format", "json")
	if code != exitOK || !strings.Contains(out, `"size": `+first+",") {
		t.Fatalf("--checkpoint %s: exit %d: %s", first, code, errOut)
	}
	if code, _, errOut := runT(t, nil, "", "report", "ai-act", "--config", cfgPath, "--checkpoint", "99999"); code != exitFailure || !strings.Contains(errOut, "no checkpoint") {
		t.Fatalf("--checkpoint 99999: exit %d: %s", code, errOut)
	}

	// One byte of one intent changed behind the log's back.
	db, err := openStore(context.Background(), mustConfig(t, cfgPath))
	if err != nil {
		t.Fatal(err)
	}
	res, err := db.Read().Exec(`UPDATE audit_entries SET entry = CAST(replace(CAST(entry AS TEXT), '"stream":false', '"stream":falsf') AS BLOB)
		WHERE idx = (SELECT MIN(idx) FROM audit_entries WHERE CAST(entry AS TEXT) LIKE '%"kind":"intent"%')`)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("changed %d entries", n)
	}
	db.Close()
	outFile := filepath.Join(dir, "ropa.md")
	code, out, errOut = runT(t, nil, "", "report", "ropa", "--config", cfgPath, "--out", outFile)
	if code != exitFailure || !strings.Contains(errOut, "does not verify") || out != "" {
		t.Fatalf("tampered log: exit %d, stdout %q, stderr %s", code, out, errOut)
	}
	if _, err := os.Stat(outFile); !os.IsNotExist(err) {
		t.Fatalf("a report of a tampered log was written: %v", err)
	}
}

func mustConfig(t *testing.T, path string) *Config {
	t.Helper()
	cfg, err := loadConfig(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestReportUsage(t *testing.T) {
	for _, args := range [][]string{
		{"report"}, {"report", "gdpr"}, {"report", "ropa", "--format", "pdf"}, {"report", "ropa", "--since", "yesterday"},
		{"report", "ropa", "--since", "2026-02-01", "--until", "2026-01-01"}, {"report", "ropa", "extra"},
	} {
		if code, _, _ := runT(t, nil, "", args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2026-01-02T03:04:05Z": time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		"2026-01-02":           time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC),
		"48h":                  now.Add(-48 * time.Hour),
	} {
		if got, err := parseReportTime(in, now); err != nil || !got.Equal(want) {
			t.Errorf("parseReportTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

// Package agent_test runs the agent example (run.sh) end to end, so CI
// proves the demo in the README works: the model sees only tokens, the
// trusted tool gets the real value, and the agent's answer has it back.
package agent_test

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The CRM's record (crm/main.go).
const (
	realName  = "Dana Whitlock"
	realEmail = "dana.whitlock@example.net"
	realPhone = "+1 415 555 0142"
)

var (
	anyToken   = regexp.MustCompile(`\[\[[A-Z_]+:[0-9A-Z]+\]\]`)
	emailToken = regexp.MustCompile(`\[\[EMAIL_ADDRESS:[0-9A-Z]+\]\]`)
)

func TestAgentDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds warden and runs the demo")
	}
	for _, tool := range []string{"bash", "jq", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("run.sh needs %s", tool)
		}
	}
	dir := t.TempDir()
	cmd := exec.Command("./run.sh")
	cmd.Env = append(os.Environ(), "AGENT_DEMO_DIR="+dir, "AGENT_DEMO_QUIET=1")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("run.sh: %v\n%s", err, out)
	}
	t.Logf("run.sh took %s", time.Since(start).Round(time.Millisecond))

	t.Run("the model saw only tokens", func(t *testing.T) {
		bodies := requestBodies(t, filepath.Join(dir, "model.jsonl"))
		if len(bodies) != 3 {
			t.Errorf("the model got %d requests, want 3 (lookup, update, answer)", len(bodies))
		}
		for i, b := range bodies {
			for _, v := range []string{realName, realEmail, realPhone, strings.ReplaceAll(realPhone, " ", "")} {
				if strings.Contains(b, v) {
					t.Errorf("request %d: the model saw a raw value of the record", i+1)
				}
			}
		}
		last := bodies[len(bodies)-1]
		// The tool result and the model's own update_ticket call carry
		// one and the same token: the one Warden issued for the tenant.
		toks := map[string]bool{}
		for _, m := range emailToken.FindAllString(last, -1) {
			toks[m] = true
		}
		if len(toks) != 1 {
			t.Errorf("the last request holds %d distinct email tokens, want 1", len(toks))
		}
	})

	t.Run("update_ticket received the real email", func(t *testing.T) {
		var got []map[string]string
		for _, l := range lines(t, filepath.Join(dir, "crm.log")) {
			if rest, ok := strings.CutPrefix(l, "update_ticket received: "); ok {
				var args map[string]string
				if err := json.Unmarshal([]byte(rest), &args); err != nil {
					t.Fatalf("crm.log: %v", err)
				}
				got = append(got, args)
			}
		}
		if len(got) != 1 {
			t.Fatalf("update_ticket was called %d times, want 1", len(got))
		}
		if got[0]["email"] != realEmail || got[0]["ticket_id"] != "T-7" {
			t.Errorf("update_ticket got ticket %q and an email that is not the real one (token: %v)",
				got[0]["ticket_id"], anyToken.MatchString(got[0]["email"]))
		}
	})

	t.Run("the agent saw tokens in tool results and the real email in the answer", func(t *testing.T) {
		var answer, lookup string
		for _, l := range lines(t, filepath.Join(dir, "agent.out")) {
			if a, ok := strings.CutPrefix(l, "final answer: "); ok {
				answer = a
			}
			if r, ok := strings.CutPrefix(l, "tool result → model: lookup_customer "); ok {
				lookup = r
			}
		}
		// Tool results are tokenized for the caller: the agent passes the
		// model exactly what it got.
		if !emailToken.MatchString(lookup) || strings.Contains(lookup, realEmail) || strings.Contains(lookup, realPhone) {
			t.Errorf("lookup_customer's result reached the agent with raw values or without an email token")
		}
		// The model path restores the caller's tokens in the answer.
		if !strings.Contains(answer, realEmail) || anyToken.MatchString(answer) {
			t.Errorf("final answer %q: want the real email restored and no token", answer)
		}
	})

	t.Run("the audit log has both tool calls with their pinned hashes", func(t *testing.T) {
		type entry struct {
			Index    int64          `json:"index"`
			Kind     string         `json:"kind"`
			Action   string         `json:"action"`
			Intent   int64          `json:"intent"`
			Decision string         `json:"decision"`
			Findings map[string]int `json:"findings"`
			MCP      *struct {
				Server, Method, Tool string
				ToolHash             string         `json:"tool_hash"`
				ResultFindings       map[string]int `json:"result_findings"`
			} `json:"mcp"`
		}
		var entries []entry
		for _, l := range lines(t, filepath.Join(dir, "audit.jsonl")) {
			var e entry
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Fatalf("audit.jsonl: %v", err)
			}
			entries = append(entries, e)
		}
		completion := map[int64]entry{}
		approved := false
		for _, e := range entries {
			if e.Kind == "completion" {
				completion[e.Intent] = e
			}
			approved = approved || e.Action == "mcp.approve"
		}
		if !approved {
			t.Error("no mcp.approve entry")
		}
		calls := map[string]entry{}
		for _, e := range entries {
			if e.Kind == "intent" && e.MCP != nil && e.MCP.Method == "tools/call" {
				calls[e.MCP.Tool] = e
				if e.MCP.Server != "crm" || !strings.HasPrefix(e.MCP.ToolHash, "sha256:") {
					t.Errorf("%s: server %q, tool_hash %q", e.MCP.Tool, e.MCP.Server, e.MCP.ToolHash)
				}
			}
		}
		lookup, ok := calls["lookup_customer"]
		if !ok {
			t.Fatal("no audit entry for lookup_customer")
		}
		if c := completion[lookup.Index]; c.MCP == nil || c.MCP.ResultFindings["EMAIL_ADDRESS"] == 0 || c.MCP.ResultFindings["PHONE_NUMBER"] == 0 {
			t.Errorf("lookup_customer's completion does not count the email and phone in its result")
		}
		update, ok := calls["update_ticket"]
		if !ok {
			t.Fatal("no audit entry for update_ticket")
		}
		if update.Findings["EMAIL_ADDRESS"] != 1 {
			t.Errorf("update_ticket's entry counts %d emails in its arguments, want 1", update.Findings["EMAIL_ADDRESS"])
		}
	})
}

// requestBodies returns the body of every request the model recorded.
func requestBodies(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	for _, l := range lines(t, path) {
		var r struct{ Body string }
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, r.Body)
	}
	return out
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 8<<20)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wardenhq/warden/auth"
)

// `warden mcp run` end to end: the test binary re-executes itself as a
// stdio CRM server (the official Go SDK over its StdioTransport), and
// the SDK's client plays the desktop agent over pipes to runMCP's stdin
// and stdout.

const (
	childModeVar = "MCPRUN_TEST_CHILD" // "crm": this process is the stdio server
	childLogVar  = "MCPRUN_TEST_LOG"   // where the server records what it received
	canaryVar    = "MCPRUN_TEST_CANARY"
	canary       = "canary-secret-5e1f0c"
)

func TestMain(m *testing.M) {
	if os.Getenv(childModeVar) == "crm" {
		os.Exit(runStdioCRM())
	}
	os.Exit(m.Run())
}

// runStdioCRM is the stdio CRM server: it records every request it gets
// (method and params) as a JSON line in $MCPRUN_TEST_LOG.
func runStdioCRM() int {
	logf, err := os.OpenFile(os.Getenv(childLogVar), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return 3
	}
	var mu sync.Mutex
	s := mcp.NewServer(&mcp.Implementation{Name: "crm-stdio", Version: "1.0.0"}, nil)
	s.AddReceivingMiddleware(func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			params, _ := json.Marshal(req.GetParams())
			b, _ := json.Marshal(map[string]any{"method": method, "params": json.RawMessage(params)})
			mu.Lock()
			logf.Write(append(b, '\n'))
			mu.Unlock()
			return next(ctx, method, req)
		}
	})
	text := func(s string) *mcp.CallToolResult {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
	}
	mcp.AddTool(s, &mcp.Tool{Name: "lookup_customer", Description: "Look up a customer by id."},
		func(ctx context.Context, req *mcp.CallToolRequest, in idArgs) (*mcp.CallToolResult, any, error) {
			return text(fmt.Sprintf("Customer %s: Dana Whitlock, email %s, SSN %s.", in.CustomerID, mcpEmail, mcpSSN)), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "update_ticket", Description: "Update a ticket's contact email and note."},
		func(ctx context.Context, req *mcp.CallToolRequest, in ticketArgs) (*mcp.CallToolResult, any, error) {
			return text("ticket " + in.TicketID + " updated"), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "add_note", Description: "Add a note to a ticket."},
		func(ctx context.Context, req *mcp.CallToolRequest, in ticketArgs) (*mcp.CallToolResult, any, error) {
			return text("note added to " + in.TicketID), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "delete_customer", Description: "Delete a customer."},
		func(ctx context.Context, req *mcp.CallToolRequest, in idArgs) (*mcp.CallToolResult, any, error) {
			return text("deleted"), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "env", Description: "Name the variables of the server's environment."},
		func(ctx context.Context, req *mcp.CallToolRequest, in struct{}) (*mcp.CallToolResult, any, error) {
			var names []string
			for _, kv := range os.Environ() {
				k, v, _ := strings.Cut(kv, "=")
				names = append(names, k)
				if strings.Contains(v, canary) {
					names = append(names, "CANARY_VALUE")
				}
			}
			sort.Strings(names)
			return text(strings.Join(names, ",")), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "slow_lookup", Description: "Look up a customer, reporting progress."},
		func(ctx context.Context, req *mcp.CallToolRequest, in idArgs) (*mcp.CallToolResult, any, error) {
			if tok := req.Params.GetProgressToken(); tok != nil {
				req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: tok, Progress: 1, Message: "found " + mcpEmail})
			}
			return text("done"), nil, nil
		})
	if err := s.Run(context.Background(), &mcp.StdioTransport{}); err != nil {
		return 1
	}
	return 0
}

// runStack is a config naming the stdio CRM, its data directory, and
// API keys.
type runStack struct {
	dir, cfgPath, logPath string
	env                   map[string]string
	supportKey, salesKey  string
	cfg                   *Config
}

// newRunStack writes the quickstart config plus the stdio server crm
// (pin as given; update_ticket restores arguments; role support may call
// everything but delete_customer) and makes the keys.
func newRunStack(t *testing.T, pin string, extraYAML string) *runStack {
	t.Helper()
	dir := t.TempDir()
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	quick, err := os.ReadFile("../../examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rs := &runStack{dir: dir, cfgPath: filepath.Join(dir, "warden.yaml"), logPath: filepath.Join(dir, "child.log")}
	y := string(quick) + fmt.Sprintf(`
mcp:
  servers:
    - name: crm
      command: [%q]
      env: [%s, %s]
      pin: %q
      overrides: {update_ticket: {restore_args: true}}
      allow:
        - roles: [support]
          tools: [lookup_customer, update_ticket, add_note, env, slow_lookup]
%s`, bin, childModeVar, childLogVar, pin, extraYAML)
	if err := os.WriteFile(rs.cfgPath, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	rs.env = map[string]string{"WARDEN_DATA_DIR": filepath.Join(dir, "data"), "PATH": os.Getenv("PATH"), "HOME": dir,
		childModeVar: "crm", childLogVar: rs.logPath, canaryVar: canary}
	rs.cfg, err = loadConfig(rs.cfgPath, rs.getenv)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := openStore(ctx, rs.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	keys := auth.NewAPIKeys(db, 0, nil)
	for _, k := range []struct {
		dst        *string
		name, role string
	}{{&rs.supportKey, "desktop", "support"}, {&rs.salesKey, "sales-desktop", "sales"}} {
		if *k.dst, _, err = keys.Create(ctx, auth.KeySpec{Name: k.name, Tenant: "acme", Models: []string{"*"}, Roles: []string{k.role}}); err != nil {
			t.Fatal(err)
		}
	}
	return rs
}

func (rs *runStack) getenv(k string) string { return rs.env[k] }

// cli is a cli whose environment holds key as WARDEN_MCP_KEY.
func (rs *runStack) cli(key string, stdin io.Reader, stdout, stderr io.Writer) *cli {
	env := map[string]string{}
	for k, v := range rs.env {
		env[k] = v
	}
	if key != "" {
		env["WARDEN_MCP_KEY"] = key
	}
	return &cli{stdin: stdin, stdout: stdout, stderr: stderr, getenv: func(k string) string { return env[k] }}
}

// agent runs `warden mcp run --server crm` with key and connects the SDK
// client to its stdin and stdout.
func (rs *runStack) agent(t *testing.T, key string, opts *mcp.ClientOptions) (*mcp.ClientSession, *lockedBuffer) {
	t.Helper()
	agentR, wardenW := io.Pipe()
	wardenR, agentW := io.Pipe()
	stderr := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		code := runMCP(context.Background(), rs.cli(key, wardenR, wardenW, stderr), []string{"run", "--config", rs.cfgPath, "--server", "crm"})
		wardenW.Close()
		wardenR.Close()
		done <- code
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "agent", Version: "1.0.0"}, opts)
	cs, err := client.Connect(ctx, &mcp.IOTransport{Reader: agentR, Writer: agentW}, nil)
	if err != nil {
		agentW.Close()
		<-done
		t.Fatalf("connect: %v; stderr: %s", err, stderr.Bytes())
	}
	t.Cleanup(func() {
		cs.Close()
		select {
		case code := <-done:
			if code != exitOK {
				t.Errorf("warden mcp run: exit %d; stderr: %s", code, stderr.Bytes())
			}
		case <-time.After(20 * time.Second):
			t.Errorf("warden mcp run did not stop after the agent closed its input")
		}
	})
	return cs, stderr
}

// childRequests are the requests the stdio server got, in order.
func (rs *runStack) childRequests(t *testing.T) []struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
} {
	t.Helper()
	f, err := os.Open(rs.logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []struct {
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e struct {
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
		}
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			out = append(out, e)
		}
	}
	return out
}

// calls are the arguments of the server's tools/call requests for tool.
func (rs *runStack) calls(t *testing.T, tool string) []string {
	var out []string
	for _, r := range rs.childRequests(t) {
		var p struct {
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
		}
		if r.Method == "tools/call" && json.Unmarshal(r.Params, &p) == nil && p.Name == tool {
			out = append(out, string(p.Arguments))
		}
	}
	return out
}

func (rs *runStack) auditEntries(t *testing.T) string {
	return (&mcpStack{probeGateway: &probeGateway{cfg: rs.cfg}}).auditEntries(t)
}

func toolNames(t *testing.T, cs *mcp.ClientSession) string {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range res.Tools {
		names = append(names, tl.Name)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

// TestMCPRunToolListShowsOnlyTheCallersTools: the allow rules hold for
// the stdio server: delete_customer is hidden from support, a key of
// another role sees nothing.
func TestMCPRunToolListShowsOnlyTheCallersTools(t *testing.T) {
	rs := newRunStack(t, "auto", "")
	for _, tc := range []struct {
		name, key, want string
	}{
		{"support", rs.supportKey, "add_note,env,lookup_customer,slow_lookup,update_ticket"},
		{"sales", rs.salesKey, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, _ := rs.agent(t, tc.key, nil)
			if got := toolNames(t, cs); got != tc.want {
				t.Errorf("tools/list shows %q, want %q", got, tc.want)
			}
		})
	}
}

// TestMCPRunToolResultReachesTheAgentAsTokens: the customer's email and
// SSN leave the stdio server raw and reach the agent as tokens.
func TestMCPRunToolResultReachesTheAgentAsTokens(t *testing.T) {
	rs := newRunStack(t, "auto", "")
	cs, _ := rs.agent(t, rs.supportKey, nil)
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "lookup_customer", Arguments: map[string]any{"customer_id": "42"}})
	if err != nil {
		t.Fatal(err)
	}
	text := resultText(res)
	for _, raw := range []string{mcpEmail, mcpSSN} {
		if strings.Contains(text, raw) {
			t.Errorf("a raw value (%d bytes) reached the agent", len(raw))
		}
	}
	if !strings.Contains(text, "[[EMAIL_ADDRESS:") || len(mcpTokenRE.FindAllString(text, -1)) < 2 {
		t.Errorf("want the email and the SSN as tokens, got %d tokens", len(mcpTokenRE.FindAllString(text, -1)))
	}
	if !strings.Contains(rs.auditEntries(t), `"tool":"lookup_customer"`) {
		t.Errorf("the call is not in the audit log")
	}
}

// TestMCPRunTokensRestoredOnlyForTrustedTools: update_ticket
// (restore_args) gets the real email the agent knows only as a token;
// add_note gets the token.
func TestMCPRunTokensRestoredOnlyForTrustedTools(t *testing.T) {
	rs := newRunStack(t, "auto", "")
	cs, _ := rs.agent(t, rs.supportKey, nil)
	ctx := context.Background()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "lookup_customer", Arguments: map[string]any{"customer_id": "42"}})
	if err != nil {
		t.Fatal(err)
	}
	var tok string
	for _, tk := range mcpTokenRE.FindAllString(resultText(res), -1) {
		if strings.HasPrefix(tk, "[[EMAIL_ADDRESS:") {
			tok = tk
		}
	}
	if tok == "" {
		t.Fatal("no email token in the lookup result")
	}
	for _, tool := range []string{"update_ticket", "add_note"} {
		if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: map[string]any{"ticket_id": "T-7", "email": tok}}); err != nil {
			t.Fatalf("%s: %v", tool, err)
		}
	}
	up, note := rs.calls(t, "update_ticket"), rs.calls(t, "add_note")
	if len(up) != 1 || !strings.Contains(up[0], mcpEmail) || strings.Contains(up[0], tok) {
		t.Errorf("update_ticket (restore_args) did not get the real email in place of the token")
	}
	if len(note) != 1 || strings.Contains(note[0], mcpEmail) || !strings.Contains(note[0], tok) {
		t.Errorf("add_note (no restore_args) did not get the token")
	}
}

// TestMCPRunCallToAToolNotAllowedIsRefusedAndAudited: a tool the allow
// rules do not grant cannot be called by name through the wrapper; the
// server never sees the call; the refusal is audited.
func TestMCPRunCallToAToolNotAllowedIsRefusedAndAudited(t *testing.T) {
	rs := newRunStack(t, "auto", "")
	cs, _ := rs.agent(t, rs.supportKey, nil)
	_, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "delete_customer", Arguments: map[string]any{"customer_id": "42"}})
	if err == nil || !strings.Contains(err.Error(), "may not call") {
		t.Fatalf("delete_customer: err %v, want a refusal", err)
	}
	if n := len(rs.calls(t, "delete_customer")); n != 0 {
		t.Fatalf("the server got %d delete_customer calls", n)
	}
	if e := rs.auditEntries(t); !strings.Contains(e, `"tool":"delete_customer"`) || !strings.Contains(e, "tool_not_allowed") {
		t.Fatal("no audit entry for the refused call")
	}
}

// TestMCPRunUnapprovedToolIsRefusedUntilApproved: under pin: approved
// nothing is callable until `warden mcp run --approve` pins it, which
// needs the typed confirmation.
func TestMCPRunUnapprovedToolIsRefusedUntilApproved(t *testing.T) {
	rs := newRunStack(t, "", "")
	cs, _ := rs.agent(t, rs.supportKey, nil)
	if _, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "add_note", Arguments: map[string]any{"ticket_id": "1"}}); err == nil || !strings.Contains(err.Error(), "not approved") {
		t.Fatalf("unapproved add_note: err %v, want a refusal", err)
	}
	approve := func(answer string) (int, string, string) {
		var out bytes.Buffer
		errb := &lockedBuffer{}
		code := runMCP(context.Background(), rs.cli("", strings.NewReader(answer), &out, errb),
			[]string{"run", "--config", rs.cfgPath, "--server", "crm", "--approve", "--tool", "add_note"})
		return code, out.String(), string(errb.Bytes())
	}
	if code, _, stderr := approve("no\n"); code != exitFailure || !strings.Contains(stderr, "nothing pinned") {
		t.Fatalf("approve without the typed confirmation: exit %d, stderr %s", code, stderr)
	}
	code, out, stderr := approve("approve\n")
	if code != exitOK || !strings.Contains(out, "add_note") || !strings.Contains(out, "sha256:") || !strings.Contains(out, "new") {
		t.Fatalf("approve: exit %d, stdout %s, stderr %s", code, out, stderr)
	}
	cs2, _ := rs.agent(t, rs.supportKey, nil)
	if _, err := cs2.CallTool(context.Background(), &mcp.CallToolParams{Name: "add_note", Arguments: map[string]any{"ticket_id": "1"}}); err != nil {
		t.Fatalf("approved add_note: %v", err)
	}
	if _, err := cs2.CallTool(context.Background(), &mcp.CallToolParams{Name: "update_ticket", Arguments: map[string]any{"ticket_id": "1"}}); err == nil {
		t.Fatal("update_ticket, not approved, was called")
	}
	if !strings.Contains(rs.auditEntries(t), "mcp.approve") {
		t.Error("the approval is not in the audit log")
	}
}

// TestMCPRunGatewaysDefinitionFetchDoesNotReinitializeTheAgentsSession:
// the gateway lists the tools before every call (toolpin.Fetch, in
// process); the stdio server still sees exactly one initialize — the
// agent's, with its name and revision — and the agent's session keeps
// working.
func TestMCPRunGatewaysDefinitionFetchDoesNotReinitializeTheAgentsSession(t *testing.T) {
	rs := newRunStack(t, "auto", "")
	cs, _ := rs.agent(t, rs.supportKey, nil)
	for i := range 3 {
		if _, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "add_note", Arguments: map[string]any{"ticket_id": fmt.Sprint(i)}}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	var inits []string
	lists := 0
	for _, r := range rs.childRequests(t) {
		switch r.Method {
		case "initialize":
			inits = append(inits, string(r.Params))
		case "tools/list":
			lists++
		}
	}
	if len(inits) != 1 || !strings.Contains(inits[0], `"name":"agent"`) || !strings.Contains(inits[0], `"protocolVersion":"2025-11-25"`) {
		t.Fatalf("the server got %d initialize requests (%v); want one, the agent's", len(inits), inits)
	}
	if lists < 3 {
		t.Errorf("the server got %d tools/list requests; want the gateway's check before each of the 3 calls", lists)
	}
	if got := toolNames(t, cs); !strings.Contains(got, "add_note") {
		t.Errorf("the agent's session broke: tools/list shows %q", got)
	}
}

// TestMCPRunServerNotificationsReachTheAgentAsTokens: a progress
// notification the server sends during a call (on the GET stream
// through the gateway) carries the customer's email as a token.
func TestMCPRunServerNotificationsReachTheAgentAsTokens(t *testing.T) {
	rs := newRunStack(t, "auto", "")
	got := make(chan string, 4)
	cs, _ := rs.agent(t, rs.supportKey, &mcp.ClientOptions{ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
		got <- r.Params.Message
	}})
	p := &mcp.CallToolParams{Name: "slow_lookup", Arguments: map[string]any{"customer_id": "42"}}
	p.SetProgressToken("p-1")
	if _, err := cs.CallTool(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	select {
	case msg := <-got:
		if strings.Contains(msg, mcpEmail) || !strings.Contains(msg, "[[EMAIL_ADDRESS:") {
			t.Fatalf("the progress message did not carry the email as a token (%d bytes)", len(msg))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the progress notification never reached the agent")
	}
}

// TestMCPRunServerDoesNotInheritTheGatewaysSecrets: the stdio server's
// environment is PATH, HOME and what its env key lists — not the agent's
// key, not any other variable of the gateway's.
func TestMCPRunServerDoesNotInheritTheGatewaysSecrets(t *testing.T) {
	rs := newRunStack(t, "auto", "")
	cs, _ := rs.agent(t, rs.supportKey, nil)
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "env", Arguments: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{"HOME", childModeVar, childLogVar, "PATH"}, ",")
	if got := resultText(res); got != want {
		t.Fatalf("the server's environment holds %q, want %q", got, want)
	}
}

// TestMCPRunRefusesToPassWardensSecretsToTheServer: an env list naming
// the agent's key, a WARDEN_ variable or a key another section reads is
// refused before anything starts.
func TestMCPRunRefusesToPassWardensSecretsToTheServer(t *testing.T) {
	for _, tc := range []struct{ name, env, extra string }{
		{"agent key", "WARDEN_MCP_KEY", ""},
		{"warden variable", "WARDEN_PASSPHRASE", ""},
		{"another server's credential", "CRM_MCP_TOKEN", "    - name: http\n      url: http://127.0.0.1:1/mcp\n      auth: {key_env: CRM_MCP_TOKEN}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := newRunStack(t, "auto", tc.extra)
			y, _ := os.ReadFile(rs.cfgPath)
			y = bytes.Replace(y, []byte("env: ["+childModeVar), []byte("env: ["+tc.env+", "+childModeVar), 1)
			os.WriteFile(rs.cfgPath, y, 0o600)
			errb := &lockedBuffer{}
			code := runMCP(context.Background(), rs.cli(rs.supportKey, strings.NewReader(""), io.Discard, errb), []string{"run", "--config", rs.cfgPath, "--server", "crm"})
			if code != exitUsage || !strings.Contains(string(errb.Bytes()), tc.env) {
				t.Fatalf("exit %d, stderr %s; want a usage error naming %s", code, errb.Bytes(), tc.env)
			}
			if _, err := os.Stat(rs.logPath); err == nil {
				t.Fatal("the server was started")
			}
		})
	}
}

// TestMCPRunRunsOnlyTheConfiguredCommand: nothing but the config's argv
// can be run: extra arguments, a server without a command or an unknown
// server are refused, and nothing starts.
func TestMCPRunRunsOnlyTheConfiguredCommand(t *testing.T) {
	rs := newRunStack(t, "auto", "    - name: remote\n      url: http://127.0.0.1:1/mcp\n")
	marker := filepath.Join(rs.dir, "pwned")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"extra command after --", []string{"--server", "crm", "--", "/bin/sh", "-c", "touch " + marker}},
		{"extra arguments", []string{"--server", "crm", "/bin/sh", "-c", "touch " + marker}},
		{"command flag", []string{"--server", "crm", "--command", "/bin/sh"}},
		{"server without command", []string{"--server", "remote"}},
		{"unknown server", []string{"--server", "nope"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errb := &lockedBuffer{}
			args := append([]string{"run", "--config", rs.cfgPath}, tc.args...)
			if code := runMCP(context.Background(), rs.cli(rs.supportKey, strings.NewReader(""), io.Discard, errb), args); code != exitUsage {
				t.Fatalf("exit %d, want %d (usage); stderr %s", code, exitUsage, errb.Bytes())
			}
			if _, err := os.Stat(marker); err == nil {
				t.Fatal("a command not in the config ran")
			}
			if _, err := os.Stat(rs.logPath); err == nil {
				t.Fatal("the server was started")
			}
		})
	}
}

// TestMCPRunWithoutAKeyFailsClearly: no key, no server started, and the
// message says how to make one; a wrong key is refused by the gateway.
func TestMCPRunWithoutAKeyFailsClearly(t *testing.T) {
	rs := newRunStack(t, "auto", "")
	errb := &lockedBuffer{}
	code := runMCP(context.Background(), rs.cli("", strings.NewReader(""), io.Discard, errb), []string{"run", "--config", rs.cfgPath, "--server", "crm"})
	if msg := string(errb.Bytes()); code != exitUsage || !strings.Contains(msg, "WARDEN_MCP_KEY is not set") || !strings.Contains(msg, "warden apikey create") {
		t.Fatalf("exit %d, stderr %s", code, msg)
	}
	if _, err := os.Stat(rs.logPath); err == nil {
		t.Fatal("the server was started without a key")
	}

	agentR, wardenW := io.Pipe()
	wardenR, agentW := io.Pipe()
	errb = &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- runMCP(context.Background(), rs.cli("wdn_not-a-key", wardenR, wardenW, errb), []string{"run", "--config", rs.cfgPath, "--server", "crm"})
		wardenW.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := mcp.NewClient(&mcp.Implementation{Name: "agent", Version: "1"}, nil).Connect(ctx, &mcp.IOTransport{Reader: agentR, Writer: agentW}, nil)
	agentW.Close()
	<-done
	if err == nil {
		t.Fatal("an agent with a wrong key connected")
	}
	if !strings.Contains(string(errb.Bytes()), "401") {
		t.Errorf("stderr does not say the key was refused: %s", errb.Bytes())
	}
	for _, r := range rs.childRequests(t) {
		if r.Method != "" {
			t.Fatalf("the server got %s from an unauthenticated agent", r.Method)
		}
	}
}

// FuzzClassifyChildLine: whatever the stdio server writes, a line the
// bridge routes is one compact JSON message (no newline: it becomes an
// SSE data line).
func FuzzClassifyChildLine(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":3,"result":{}}`,
		`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1}}`,
		`{"jsonrpc":"2.0","id":"x","method":"roots/list"}`,
		`{"jsonrpc":"2.0","id":"7","result":{}}`,
		`{"jsonrpc":"2.0","id":null,"error":{"code":-32700}}`,
		"{\"jsonrpc\":\"2.0\",\n\"method\":\"a\"}",
		`{"jsonrpc":"2.0","id":-1,"result":1}`,
		`[{"jsonrpc":"2.0"}]`,
		``, `   `, `{`, `{"jsonrpc":"1.0","id":1,"result":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		kind, id, msg := classifyChildLine(line)
		switch kind {
		case childResponse, childMessage:
			if !json.Valid(msg) || bytes.ContainsAny(msg, "\r\n") {
				t.Fatalf("routed a message that is not one compact JSON line: %q", msg)
			}
			if kind == childResponse && id < 0 {
				t.Fatalf("negative id %d", id)
			}
		case childBlank, childInvalid:
			if msg != nil {
				t.Fatal("a message for a line that is not routed")
			}
		default:
			t.Fatalf("unknown kind %d", kind)
		}
	})
}

// TestStdioBridgeSecondInitializeNeverReachesTheChild: the bridge's
// handshake rules on a scripted child: the first initialize goes
// through (followed by the bridge's notifications/initialized), a later
// one is answered from the first's result, and ids are the requester's
// on the way back.
func TestStdioBridgeSecondInitializeNeverReachesTheChild(t *testing.T) {
	childIn, bridgeOut := io.Pipe() // what the bridge writes to the child
	childOutR, childOutW := io.Pipe()
	b := newStdioBridge(bridgeOut, childOutR, slog.New(slog.DiscardHandler))
	defer childOutW.Close()
	var seen []string
	var mu sync.Mutex
	go func() {
		br := bufio.NewReader(childIn)
		for {
			line, err := br.ReadBytes('\n')
			if err != nil {
				return
			}
			mu.Lock()
			seen = append(seen, string(bytes.TrimSpace(line)))
			mu.Unlock()
			var m bridgeMessage
			json.Unmarshal(line, &m)
			if m.isRequest() {
				fmt.Fprintf(childOutW, `{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"s"}}}`+"\n", m.ID)
			}
		}
	}()
	post := func(body string) (int, string) {
		resp := serveLocal(b, (&agentLink{path: "/mcp"}).request(context.Background(), "POST", []byte(body)))
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	for i, tc := range []struct{ body, wantIn string }{
		{`{"jsonrpc":"2.0","id":"a-1","method":"initialize","params":{"protocolVersion":"2025-06-18","clientInfo":{"name":"agent"}}}`, `"id":"a-1"`},
		{`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","clientInfo":{"name":"warden-toolpin"}}}`, `"id":1`},
	} {
		status, out := post(tc.body)
		if status != 200 || !strings.Contains(out, tc.wantIn) || !strings.Contains(out, `"2025-06-18"`) {
			t.Fatalf("initialize %d: status %d, body %s", i, status, out)
		}
	}
	if status, out := post(`{"jsonrpc":"2.0","id":9,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`); status != 400 || !strings.Contains(out, "-32022") {
		t.Fatalf("server/discover: status %d, body %s; want 400 with -32022", status, out)
	}
	if status, _ := post(`{"jsonrpc":"2.0","method":"notifications/initialized"}`); status != 202 {
		t.Fatalf("notifications/initialized: status %d", status)
	}
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || !strings.Contains(seen[0], `"method":"initialize"`) || !strings.Contains(seen[0], `"name":"agent"`) ||
		!strings.Contains(seen[1], "notifications/initialized") {
		t.Fatalf("the child got %q; want the agent's initialize and one notifications/initialized", seen)
	}
}

// TestMCPStdioServerConfigIsChecked: the stdio keys are checked at
// start-up and errors name the key.
func TestMCPStdioServerConfigIsChecked(t *testing.T) {
	for _, tc := range []struct{ name, server, want string }{
		{"warden variable in env", "command: [srv]\n      env: [WARDEN_MCP_KEY]", "mcp.servers[0].env[0]"},
		{"bad variable name", "command: [srv]\n      env: [\"A=B\"]", "mcp.servers[0].env[0]"},
		{"env without command", "url: http://127.0.0.1:1/mcp\n      env: [TOKEN]", "mcp.servers[0].env"},
		{"auth on a stdio server", "command: [srv]\n      auth: {key_env: TOKEN}", "mcp.servers[0].auth"},
		{"empty program", "command: [\"\"]", "mcp.servers[0].command[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "w.yaml")
			os.WriteFile(path, []byte("mcp:\n  servers:\n    - name: s\n      "+tc.server+"\n"), 0o600)
			_, err := loadConfig(path, func(string) string { return "" })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one naming %s", err, tc.want)
			}
		})
	}
}

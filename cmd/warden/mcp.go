package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os/user"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/gateway"
	"github.com/wardenhq/warden/toolpin"
)

// MCPConfig configures the MCP gateway: MCP servers served at
// /mcp/{name} with the model path's vault, policy and audit log.
type MCPConfig struct {
	// Servers are the MCP servers the gateway fronts.
	Servers []MCPServerConfig `yaml:"servers"`
	// Resource is the gateway's public base URL
	// (https://warden.example.com). Each endpoint's OAuth resource
	// (RFC 8707), which IdP tokens for it must name in aud, is Resource +
	// /mcp/{name}. Default: built from each request's Host.
	Resource string `yaml:"resource"`
	// DefinitionsTTL is how long tool definitions read from a server
	// hold before a call reads them again. Default 0: every call checks
	// the server's current definition first, so a rug pull is refused at
	// the next call (costs a round trip to the server per call).
	DefinitionsTTL Duration `yaml:"definitions_ttl"`
	// InstructionPhrases are phrases addressed to the model that mark a
	// tool description as suspicious (never auto-pinned). Default: the
	// built-in list (toolpin.DefaultPhrases).
	InstructionPhrases []string `yaml:"instruction_phrases"`
}

// MCPServerConfig is one MCP server.
type MCPServerConfig struct {
	// Name is served at /mcp/{name}: letters, digits, - and _.
	Name string `yaml:"name"`
	// URL is the server's Streamable HTTP endpoint. Required unless
	// Command is set.
	URL string `yaml:"url"`
	// Command is a local stdio server, [program, args...], that
	// `warden mcp run --server NAME` starts: exactly this argv, nothing
	// else can be run through it. The program is looked up in PATH
	// unless it holds a /.
	Command []string `yaml:"command"`
	// Env names the environment variables a stdio server gets besides
	// PATH and HOME (its own credentials, say). Default none: the
	// gateway's environment — its keys — never reaches the server.
	// Names starting WARDEN_ and the variables the config names for
	// Warden's own secrets (*_env keys) are refused.
	Env []string `yaml:"env"`
	// Zone says where the server runs (onprem, cloud, …). Default onprem
	// for loopback URLs and commands, cloud otherwise.
	Zone string `yaml:"zone"`
	// Auth is the server's own credential, injected into every request.
	// The caller's credential never reaches the server.
	Auth MCPAuthConfig `yaml:"auth"`
	// Tools, when set, are the only tools ever shown or callable.
	Tools []string `yaml:"tools"`
	// RestoreArgs restores the caller's tokens in tool-call arguments, so
	// the tool gets the real values the model never saw. Default false.
	RestoreArgs bool `yaml:"restore_args"`
	// Overrides sets RestoreArgs per tool.
	Overrides map[string]MCPToolConfig `yaml:"overrides"`
	// Pin is how tool definitions get approved: approved (default; only
	// `warden mcp approve` pins a definition) or auto (the first sight of
	// a definition without hidden instructions pins it; for development).
	Pin string `yaml:"pin"`
	// Allow says who may call which tools. Deny by default.
	Allow []MCPAllowConfig `yaml:"allow"`
	// TLS is how the server is reached over https://, as an upstream's
	// tls (ca_file, system_roots, cert_file, key_file, server_name,
	// min_version).
	TLS ClientTLSConfig `yaml:"tls"`
	// Insecure allows a plain http:// URL to a host that is not
	// loopback, as an upstream's insecure.
	Insecure bool `yaml:"insecure"`
}

// MCPAuthConfig is the credential injected into requests to a server.
type MCPAuthConfig struct {
	// Header carries the credential. Default Authorization.
	Header string `yaml:"header"`
	// KeyEnv names the environment variable that holds it. For the
	// Authorization header a value without a scheme is sent as Bearer.
	KeyEnv string `yaml:"key_env"`
}

// MCPToolConfig overrides a server's settings for one tool.
type MCPToolConfig struct {
	// RestoreArgs: as the server's restore_args, for this tool.
	RestoreArgs *bool `yaml:"restore_args"`
}

// MCPAllowConfig grants tools to principals and roles.
type MCPAllowConfig struct {
	// Principals are caller names (API key names, token subjects).
	Principals []string `yaml:"principals"`
	// Roles are caller roles (API key roles, mapped OIDC roles).
	Roles []string `yaml:"roles"`
	// Tools are tool names; "*" is every tool of the server.
	Tools []string `yaml:"tools"`
}

// validate checks the mcp section; errors name the key.
func (m *MCPConfig) validate(where string, requireTLS []string) error {
	seen := map[string]bool{}
	if m.Resource != "" {
		if u, err := url.Parse(m.Resource); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return fmt.Errorf("%s: mcp.resource: want the gateway's base URL (https://host[:port]), no path", where)
		}
	}
	if d := time.Duration(m.DefinitionsTTL); d < 0 || d > time.Hour {
		return fmt.Errorf("%s: mcp.definitions_ttl: %s is not between 0 and 1h", where, d)
	}
	for i, s := range m.Servers {
		key := fmt.Sprintf("mcp.servers[%d]", i)
		if !validServerName(s.Name) {
			return fmt.Errorf("%s: %s.name: want 1-64 letters, digits, - or _", where, key)
		}
		if seen[s.Name] {
			return fmt.Errorf("%s: %s.name: %s is used twice", where, key, s.Name)
		}
		seen[s.Name] = true
		switch {
		case s.URL == "" && len(s.Command) == 0:
			return fmt.Errorf("%s: %s: set url (Streamable HTTP) or command (stdio, for warden mcp run)", where, key)
		case s.URL != "":
			// The URL is not echoed: it may carry credentials.
			if u, err := url.Parse(s.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("%s: %s.url: want an http:// or https:// URL (server %s)", where, key, s.Name)
			}
		}
		if s.URL == "" && (!s.TLS.isZero() || s.Insecure) {
			return fmt.Errorf("%s: %s: tls and insecure need a url (server %s is a stdio server)", where, key, s.Name)
		}
		if s.URL != "" {
			if err := checkTransport(key, "MCP server "+s.Name, s.URL, mcpZone(s), s.Insecure, s.TLS, requireTLS); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
		}
		if len(s.Command) > 0 && s.Command[0] == "" {
			return fmt.Errorf("%s: %s.command[0]: the program is empty (server %s)", where, key, s.Name)
		}
		if len(s.Env) > 0 && len(s.Command) == 0 {
			return fmt.Errorf("%s: %s.env: only for a stdio server (command) (server %s)", where, key, s.Name)
		}
		if s.URL == "" && len(s.Command) > 0 && (s.Auth.Header != "" || s.Auth.KeyEnv != "") {
			return fmt.Errorf("%s: %s.auth: a stdio server (command) gets its credential through env (server %s)", where, key, s.Name)
		}
		for j, e := range s.Env {
			if !validEnvName(e) {
				return fmt.Errorf("%s: %s.env[%d]: want a variable name (letters, digits, _; not starting with a digit)", where, key, j)
			}
			if strings.HasPrefix(strings.ToUpper(e), "WARDEN_") {
				return fmt.Errorf("%s: %s.env[%d]: %s: Warden's own variables never reach an MCP server", where, key, j, e)
			}
		}
		switch s.Pin {
		case "", "approved", "auto":
		default:
			return fmt.Errorf("%s: %s.pin: %q is not approved or auto", where, key, s.Pin)
		}
		if s.Auth.Header != "" && !validHeaderName(s.Auth.Header) {
			return fmt.Errorf("%s: %s.auth.header: not a valid header name", where, key)
		}
		if s.Auth.Header != "" && s.Auth.KeyEnv == "" {
			return fmt.Errorf("%s: %s.auth.key_env: required with auth.header", where, key)
		}
		for t := range s.Overrides {
			if len(s.Tools) > 0 && !slices.Contains(s.Tools, t) {
				return fmt.Errorf("%s: %s.overrides.%s: not one of the server's tools", where, key, t)
			}
		}
		for j, a := range s.Allow {
			if len(a.Tools) == 0 {
				return fmt.Errorf("%s: %s.allow[%d].tools: list the tools (or \"*\")", where, key, j)
			}
			if len(a.Principals) == 0 && len(a.Roles) == 0 {
				return fmt.Errorf("%s: %s.allow[%d]: name principals or roles", where, key, j)
			}
		}
	}
	return nil
}

func validServerName(n string) bool {
	if n == "" || len(n) > 64 {
		return false
	}
	for _, c := range n {
		if !(c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func validEnvName(n string) bool {
	if n == "" || len(n) > 128 || n[0] >= '0' && n[0] <= '9' {
		return false
	}
	for _, c := range n {
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func validHeaderName(h string) bool {
	for _, c := range h {
		if !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return h != ""
}

// mcpServers builds the gateway's MCP servers from the config, reading
// each server's credential from the environment. With stdio set
// (`warden mcp run`) only the servers it names are built, each served
// in process by its handler.
func mcpServers(ctx context.Context, cfg *Config, c *cli, log *slog.Logger, stdio map[string]http.Handler, cs *certSet) ([]*gateway.MCPServer, error) {
	var out []*gateway.MCPServer
	for i, s := range cfg.MCP.Servers {
		if stdio != nil {
			h := stdio[s.Name]
			if h == nil {
				continue
			}
			m, err := mcpServer(MCPServerConfig{Name: s.Name, Zone: s.Zone, Tools: s.Tools, RestoreArgs: s.RestoreArgs,
				Overrides: s.Overrides, Pin: s.Pin, Allow: s.Allow}, c)
			if err != nil {
				return nil, fmt.Errorf("mcp.servers[%d].%w", i, err)
			}
			m.Handler = h
			if s.Zone == "" {
				m.Zone = "onprem" // a local process
			}
			out = append(out, m)
			continue
		}
		if s.URL == "" {
			continue // a stdio server, for warden mcp run only
		}
		m, err := mcpServer(s, c)
		if err != nil {
			return nil, fmt.Errorf("mcp.servers[%d].%w", i, err)
		}
		k := fmt.Sprintf("mcp.servers[%d]", i)
		tr, err := cs.clientTransport(ctx, k, "mcp:"+s.Name, s.URL, s.TLS)
		if err != nil {
			return nil, err
		}
		if tr != nil {
			m.Transport = tr
		}
		if s.Insecure {
			insecureWarning(log, k, "MCP server "+s.Name, s.URL)
		}
		out = append(out, m)
	}
	return out, nil
}

func mcpServer(s MCPServerConfig, c *cli) (*gateway.MCPServer, error) {
	m := &gateway.MCPServer{Name: s.Name, URL: s.URL, Zone: mcpZone(s), Tools: s.Tools, RestoreArgs: s.RestoreArgs,
		AutoPin: s.Pin == "auto", ToolRestore: map[string]bool{}}
	for t, o := range s.Overrides {
		if o.RestoreArgs != nil {
			m.ToolRestore[t] = *o.RestoreArgs
		}
	}
	for _, a := range s.Allow {
		m.Allow = append(m.Allow, gateway.MCPAllow{Principals: a.Principals, Roles: a.Roles, Tools: a.Tools})
	}
	if s.Auth.KeyEnv != "" {
		v := c.getenv(s.Auth.KeyEnv)
		if v == "" {
			return nil, fmt.Errorf("auth.key_env: %s is not set (server %s)", s.Auth.KeyEnv, s.Name)
		}
		m.AuthHeader = s.Auth.Header
		if m.AuthHeader == "" {
			m.AuthHeader = "Authorization"
		}
		if strings.EqualFold(m.AuthHeader, "Authorization") && !strings.Contains(v, " ") {
			v = "Bearer " + v
		}
		m.AuthValue = v
	}
	return m, nil
}

// mcpZone is a server's zone: its own, else onprem for a loopback URL
// and cloud for another.
func mcpZone(s MCPServerConfig) string {
	if s.Zone != "" {
		return s.Zone
	}
	if u, err := url.Parse(s.URL); err == nil && isLoopbackHost(u.Hostname()) {
		return "onprem"
	}
	return "cloud"
}

// isLoopbackHost says whether h names this machine: localhost or a
// loopback address (127.0.0.0/8, ::1), written literally. Another name
// is not looked up: what it resolves to can change.
func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// toolInspector adapts package toolpin to the gateway.
type toolInspector struct{ in *toolpin.Inspector }

func (t toolInspector) Hash(def json.RawMessage) (string, error) { return toolpin.Hash(def) }
func (t toolInspector) Inspect(def json.RawMessage) []string     { return t.in.Inspect(def) }

// runMCP is `warden mcp`.
func runMCP(ctx context.Context, c *cli, args []string) int {
	usage := func() int {
		fmt.Fprint(c.stderr, `usage: warden mcp <command> [flags]

  run --server NAME [--key-env VAR] [--approve [--tool T] [--yes]]
        run the stdio server NAME (its configured command) behind the
        gateway, speaking MCP on stdin/stdout, for desktop agents; the
        agent's Warden API key is read from $WARDEN_MCP_KEY. --approve
        pins the server's tool definitions instead (see warden mcp run -h)
  approve --server NAME [--tool T] [--yes]
        fetch the server's tool definitions, show each one's hash and what
        changed, and pin them (after a typed confirmation unless --yes)
  pins [--server NAME]
        list the pinned tool definitions
  unpin --server NAME --tool T
        remove a pin (the tool is refused until approved again)

Every command takes --config FILE; approve and unpin record what they did
in the audit log, run every message it carries.
`)
		return exitUsage
	}
	if len(args) == 0 {
		return usage()
	}
	switch args[0] {
	case "run":
		return runMCPRun(ctx, c, args[1:])
	case "approve":
		return runMCPApprove(ctx, c, args[1:])
	case "pins":
		return runMCPPins(ctx, c, args[1:])
	case "unpin":
		return runMCPUnpin(ctx, c, args[1:])
	case "-h", "-help", "--help", "help":
		usage()
		return exitOK
	}
	fmt.Fprintf(c.stderr, "warden mcp: unknown command %q\n", args[0])
	return usage()
}

func runMCPApprove(ctx context.Context, c *cli, args []string) int {
	fs := flag.NewFlagSet("warden mcp approve", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	configPath := fs.String("config", "", "config file")
	server := fs.String("server", "", "the MCP server's name in the config (required)")
	tool := fs.String("tool", "", "approve only this tool")
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	cfg, ok := configOrExit(c, "mcp", *configPath)
	if !ok {
		return exitUsage
	}
	sc, ok := findMCPServer(cfg, *server)
	if !ok {
		fmt.Fprintf(c.stderr, "warden mcp approve: --server: no MCP server named %q in the config\n", *server)
		return exitUsage
	}
	if sc.URL == "" {
		fmt.Fprintln(c.stderr, "warden mcp approve: the server has no url; stdio servers are approved by warden mcp run --approve")
		return exitUsage
	}
	m, err := mcpServer(sc, c)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden mcp approve:", err)
		return exitFailure
	}
	h := http.Header{}
	if m.AuthHeader != "" {
		h.Set(m.AuthHeader, m.AuthValue)
	}
	// The server is reached as the gateway reaches it: its tls settings.
	cs := newCertSet(slog.New(slog.DiscardHandler), nil, 0)
	defer cs.close()
	client := &http.Client{Timeout: 30 * time.Second}
	for i, s := range cfg.MCP.Servers {
		if s.Name != sc.Name {
			continue
		}
		tr, err := cs.clientTransport(ctx, fmt.Sprintf("mcp.servers[%d]", i), "mcp:"+s.Name, s.URL, s.TLS)
		if err != nil {
			fmt.Fprintln(c.stderr, "warden mcp approve:", err)
			return exitUsage
		}
		if tr != nil {
			client.Transport = tr
		}
	}
	fmt.Fprintf(c.stderr, "warden mcp approve: fetching the tool definitions of %s\n", sc.Name)
	fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defs, err := toolpin.Fetch(fctx, client, sc.URL, h)
	cancel()
	if err != nil {
		fmt.Fprintln(c.stderr, "warden mcp approve: could not list the server's tools:", err)
		return exitFailure
	}
	return approveTools(ctx, c, cfg, sc, defs, *tool, *yes, "warden mcp approve")
}

// approveTools shows the state of each definition of defs (the server's
// tools/list) — new, pinned or CHANGED, its hash and the hidden
// instructions found — asks for a typed approve unless yes, pins them
// and records the act in the audit log. prog names the command in
// messages.
func approveTools(ctx context.Context, c *cli, cfg *Config, sc MCPServerConfig, defs []json.RawMessage, tool string, yes bool, prog string) int {
	db, err := openStore(ctx, cfg)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden: store:", err)
		return exitFailure
	}
	defer db.Close()
	pins := toolpin.NewStore(db)
	in := &toolpin.Inspector{Phrases: cfg.MCP.InstructionPhrases}
	type row struct {
		name, hash, state string
		problems          []string
	}
	var rows []row
	for _, d := range defs {
		var head struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(d, &head) != nil || head.Name == "" {
			continue
		}
		if tool != "" && head.Name != tool {
			continue
		}
		if len(sc.Tools) > 0 && !slices.Contains(sc.Tools, head.Name) {
			continue
		}
		hash, err := toolpin.Hash(d)
		if err != nil {
			continue
		}
		old, ok, err := pins.Pinned(ctx, sc.Name, head.Name)
		if err != nil {
			fmt.Fprintln(c.stderr, "warden: store:", err)
			return exitFailure
		}
		state := "new"
		switch {
		case ok && old == hash:
			state = "pinned"
		case ok:
			state = "CHANGED"
		}
		rows = append(rows, row{head.Name, hash, state, in.Inspect(d)})
	}
	if tool != "" && len(rows) == 0 {
		fmt.Fprintf(c.stderr, "%s: the server has no tool %q\n", prog, tool)
		return exitFailure
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TOOL\tSTATE\tHASH\tPROBLEMS")
	todo := 0
	for _, r := range rows {
		p := "-"
		if len(r.problems) > 0 {
			p = strings.Join(r.problems, "; ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.name, r.state, r.hash, p)
		if r.state != "pinned" {
			todo++
		}
	}
	tw.Flush()
	if todo == 0 {
		fmt.Fprintln(c.stderr, prog+": every definition is already pinned")
		return exitOK
	}
	if !yes {
		fmt.Fprintf(c.stderr, "Pin %d definition(s) of %s? Read the problems above first. Type 'approve' to continue: ", todo, sc.Name)
		var answer string
		fmt.Fscanln(c.stdin, &answer)
		if answer != "approve" {
			fmt.Fprintln(c.stderr, prog+": nothing pinned")
			return exitFailure
		}
	}
	by := "cli"
	if u, err := user.Current(); err == nil {
		by = "cli:" + u.Username
	}
	var pinned []string
	for _, r := range rows {
		if r.state == "pinned" {
			continue
		}
		if err := pins.Pin(ctx, sc.Name, r.name, r.hash, by); err != nil {
			fmt.Fprintln(c.stderr, "warden: store:", err)
			return exitFailure
		}
		pinned = append(pinned, r.name+"="+r.hash)
	}
	fmt.Fprintf(c.stderr, "%s: pinned %d definition(s); a running gateway uses them within mcp.definitions_ttl\n", prog, len(pinned))
	return recordAdmin(ctx, cfg, c, audit.AdminEvent{Action: "mcp.approve", Target: sc.Name,
		Details: map[string]string{"tools": strings.Join(pinned, ",")}})
}

func runMCPPins(ctx context.Context, c *cli, args []string) int {
	fs := flag.NewFlagSet("warden mcp pins", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	configPath := fs.String("config", "", "config file")
	server := fs.String("server", "", "only this server")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	cfg, ok := configOrExit(c, "mcp", *configPath)
	if !ok {
		return exitUsage
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden: store:", err)
		return exitFailure
	}
	defer db.Close()
	list, err := toolpin.NewStore(db).List(ctx, *server)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden: store:", err)
		return exitFailure
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tTOOL\tHASH\tPINNED BY\tAT")
	for _, p := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Server, p.Tool, p.Hash, p.By, p.At.UTC().Format(time.RFC3339))
	}
	tw.Flush()
	return exitOK
}

func runMCPUnpin(ctx context.Context, c *cli, args []string) int {
	fs := flag.NewFlagSet("warden mcp unpin", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	configPath := fs.String("config", "", "config file")
	server := fs.String("server", "", "the server (required)")
	tool := fs.String("tool", "", "the tool (required)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *server == "" || *tool == "" {
		fmt.Fprintln(c.stderr, "warden mcp unpin: --server and --tool are required")
		return exitUsage
	}
	cfg, ok := configOrExit(c, "mcp", *configPath)
	if !ok {
		return exitUsage
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden: store:", err)
		return exitFailure
	}
	defer db.Close()
	if err := toolpin.NewStore(db).Unpin(ctx, *server, *tool); err != nil {
		fmt.Fprintln(c.stderr, "warden: store:", err)
		return exitFailure
	}
	return recordAdmin(ctx, cfg, c, audit.AdminEvent{Action: "mcp.unpin", Target: *server, Details: map[string]string{"tool": *tool}})
}

func findMCPServer(cfg *Config, name string) (MCPServerConfig, bool) {
	for _, s := range cfg.MCP.Servers {
		if s.Name == name {
			return s, true
		}
	}
	return MCPServerConfig{}, false
}

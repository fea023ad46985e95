package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/wardenhq/warden/detect"
	"github.com/wardenhq/warden/policy"
	"github.com/wardenhq/warden/transform"
)

// The MCP gateway.
//
// `warden serve` also sits between agents and MCP servers, with the same
// vault, policy and audit log as the model path: each configured server
// is served at /mcp/{name} over Streamable HTTP, in both protocol
// revisions in use (2026-07-28, stateless: every request carries its
// protocol version in _meta and routing headers; 2025-11-25, with
// initialize and Mcp-Session-Id), told apart per request.
//
// A tool call is another API shape through the same stages
// (mcprequest.go): authenticate (an OAuth 2.1 protected resource: a 401
// names the RFC 9728 metadata; tokens must be meant for this resource),
// decode (one JSON-RPC message; batches refused; routing headers checked
// against the body), limit, inspect (the tool must be on the caller's
// allowlist, its definition pinned and unchanged; arguments scanned;
// policy decides with server, tool and findings), deidentify (arguments
// restored for tools trusted with raw values, tokenized otherwise),
// intent, call (the server's own credential injected, the caller's never
// forwarded), relay (tool results, resources and prompts tokenized for
// the caller's tenant — the same tokens the model path issues — secrets
// masked, markdown links and images that carry sensitive values
// neutralised; tools/list filtered to what the caller may call), finish.

// MCPServer is one MCP server the gateway fronts.
type MCPServer struct {
	// Name is the server's name: it is served at /mcp/{Name}.
	Name string
	// URL is the server's Streamable HTTP endpoint.
	URL string
	// Handler, when set, serves requests in-process instead of URL.
	Handler http.Handler
	// Zone says where the server runs (onprem, cloud, …).
	Zone string
	// AuthHeader and AuthValue are injected into every request to the
	// server (its own credential). The caller's never crosses.
	AuthHeader, AuthValue string
	// Tools, when set, are the only tools ever shown or callable.
	Tools []string
	// RestoreArgs restores tokens in the arguments of the server's tool
	// calls (the tool sees real values); ToolRestore overrides it per
	// tool. Default false: arguments stay tokenized.
	RestoreArgs bool
	ToolRestore map[string]bool
	// AutoPin pins a tool's definition the first time it is seen
	// (pin: auto, for development). Default false: definitions must be
	// approved (`warden mcp approve`) before they are shown or called.
	AutoPin bool
	// Allow says who may call which tool. Deny by default: a caller no
	// rule admits sees no tools and calls none.
	Allow []MCPAllow
	// Transport, when set, carries the requests to URL instead of the
	// gateway's shared transport (the server's own TLS settings).
	Transport http.RoundTripper

	client  *http.Client // Transport's, or the gateway's shared one
	base    *url.URL
	fetcher ToolFetcher
	// sessions binds each 2025-11-25 session the server handed out to
	// the caller it was handed to (the server sees only the gateway's
	// credential, so it cannot): by a keyed hash of the session id.
	sessions sessionBinding
	mu       sync.Mutex
	tools    map[string]*toolState // by name: the definitions last seen
	seen     time.Time             // when tools was last filled
}

// MCPAllow grants Tools ("*": all of the server's tools) to the callers
// named in Principals and to those holding one of Roles.
type MCPAllow struct {
	Principals, Roles, Tools []string
}

// toolState is what the gateway knows of one tool of a server.
type toolState struct {
	name     string
	hash     string
	problems []string
	verdict  toolVerdict
}

type toolVerdict uint8

const (
	toolApproved   toolVerdict = iota + 1
	toolUnpinned               // never approved
	toolChanged                // definition differs from the pin
	toolSuspicious             // hidden instructions; not auto-pinned
)

func (v toolVerdict) reason() string {
	switch v {
	case toolUnpinned:
		return "its definition is not approved (warden mcp approve)"
	case toolChanged:
		return "its definition changed since it was approved"
	case toolSuspicious:
		return "its definition holds hidden instructions"
	}
	return ""
}

// ToolPins stores the approved hash of each tool definition (package
// toolpin's Store).
type ToolPins interface {
	Pinned(ctx context.Context, server, tool string) (hash string, ok bool, err error)
	Pin(ctx context.Context, server, tool, hash, by string) error
}

// ToolInspector hashes a tool definition (the canonical form the pins
// hold) and names the hidden instructions in it (package toolpin).
type ToolInspector interface {
	Hash(def json.RawMessage) (string, error)
	Inspect(def json.RawMessage) []string
}

// ResourceAuthenticator is an Authenticator that can require a token to
// be meant for a resource (RFC 8707 audience), for the MCP endpoints.
type ResourceAuthenticator interface {
	AuthenticateResource(r *http.Request, resource string) (*Principal, error)
}

func (m *MCPServer) init() error {
	if m.Name == "" || strings.ContainsAny(m.Name, "/?#%") {
		return errors.New("name must be set and hold no / ? # %")
	}
	if m.Handler != nil {
		return nil
	}
	b, err := url.Parse(m.URL)
	if err != nil || (b.Scheme != "http" && b.Scheme != "https") || b.Host == "" {
		return errors.New("url must be an http:// or https:// URL")
	}
	m.base = b
	return nil
}

// restores says whether the tool's arguments are restored for it.
func (m *MCPServer) restores(tool string) bool {
	if r, ok := m.ToolRestore[tool]; ok {
		return r
	}
	return m.RestoreArgs
}

// listed says whether the server's pre-filter admits the tool.
func (m *MCPServer) listed(tool string) bool {
	if len(m.Tools) == 0 {
		return true
	}
	for _, t := range m.Tools {
		if t == tool {
			return true
		}
	}
	return false
}

// mayCall says whether p may call the tool: a rule of Allow names the
// caller or one of its roles, and the tool or "*". Deny by default.
func (m *MCPServer) mayCall(p *Principal, tool string) bool {
	for _, a := range m.Allow {
		if !contains(a.Tools, tool) && !contains(a.Tools, "*") {
			continue
		}
		if contains(a.Principals, p.Name) {
			return true
		}
		for _, r := range p.Roles {
			if contains(a.Roles, r) {
				return true
			}
		}
	}
	return false
}

// mcpState is the MCP part of an exchange.
type mcpState struct {
	srv      *MCPServer
	id       json.RawMessage // the request's JSON-RPC id (nil: a notification or a response)
	method   string
	version  string // protocol revision asked for
	tool     string
	hash     string
	restore  bool // arguments restored
	isCall   bool
	resultIn map[string]int // findings in the result by type
	withheld string         // the code of a policy that withheld the result
	decision policy.Decision
}

// shapeMCP is the MCP endpoint's shape: errors are JSON-RPC errors.
var shapeMCP = &shape{endpoint: "mcp", path: "", op: "execute_tool", provider: "mcp", mcp: true}

// JSON-RPC error codes the gateway answers with.
const (
	rpcParseError     = -32700
	rpcInvalidRequest = -32600
	rpcMethodNotFound = -32601
	rpcInvalidParams  = -32602
	rpcInternal       = -32603
	// rpcRefused is Warden's code (server range) for a call its policy,
	// an allowlist or a pin refuses.
	rpcRefused = -32001
	// rpcUnavailable: the gateway could not serve the call (audit log,
	// vault, upstream down).
	rpcUnavailable = -32002
	// rpcHeaderMismatch is the spec's code for routing headers that
	// disagree with the body.
	rpcHeaderMismatch = -32020
)

// mcpError is an apiError for the MCP endpoint: rpc is the JSON-RPC
// code; status the HTTP status recorded (and sent for transport-level
// errors; refusals of a call go out as 200 with the JSON-RPC error, as
// MCP servers answer them).
func mcpError(status, rpc int, code, msg string) *apiError {
	return &apiError{Status: status, Type: "mcp", Code: code, Msg: msg, rpc: rpc}
}

// writeMCPError writes e as a JSON-RPC error for the request id.
func writeMCPError(w http.ResponseWriter, e *apiError, id json.RawMessage) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", itoa(e.RetryAfter))
	}
	rpc := e.rpc
	if rpc == 0 {
		rpc = rpcInternal
		if e.Status == http.StatusBadRequest {
			rpc = rpcInvalidRequest
		}
		if e.Status == http.StatusServiceUnavailable || e.Status == http.StatusBadGateway || e.Status == http.StatusGatewayTimeout {
			rpc = rpcUnavailable
		}
	}
	body := mcpErrorBody(id, rpc, e.Msg, e.Code)
	status := e.Status
	if e.Status == http.StatusForbidden || e.Code == "unknown_tool" || e.Code == "invalid_params" {
		// A refused call is a JSON-RPC-level answer, as servers give
		// it; the HTTP status stays for transport and auth failures.
		status = http.StatusOK
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// mcpServer returns the configured server name names.
func (s *Server) mcpServer(name string) *MCPServer {
	for _, m := range s.cfg.MCPServers {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// mcpResource is the canonical URL of a server's endpoint, the RFC 8707
// resource that tokens for it must name.
func (s *Server) mcpResource(r *http.Request, name string) string {
	base := strings.TrimRight(s.cfg.MCPResource, "/")
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + "/mcp/" + name
}

// mcpMetadataURL is where the RFC 9728 metadata of a server's endpoint
// is served.
func (s *Server) mcpMetadataURL(r *http.Request, name string) string {
	res := s.mcpResource(r, name)
	u, err := url.Parse(res)
	if err != nil {
		return res
	}
	return u.Scheme + "://" + u.Host + "/.well-known/oauth-protected-resource" + u.Path
}

// recordMCP puts the MCP names on the record.
func (x *exchange) recordMCP() {
	m := x.mcp
	// The tool name is the caller's until the server's definitions
	// confirm it (inspectMCP): it may hold anything, so it is not
	// recorded before.
	x.rec.Server, x.rec.Method = m.srv.Name, safeMethod(m.method)
	x.rec.Model = ""
	x.rec.Zone = m.srv.Zone
}

// noteResultFinding counts a finding in a server's answer.
func (x *exchange) noteResultFinding(s *Server, f detect.Finding) {
	if x.mcp.resultIn == nil {
		x.mcp.resultIn = map[string]int{}
	}
	x.mcp.resultIn[f.Type]++
	x.rec.ResultFindings = x.mcp.resultIn
	s.deps.Metrics.findings.WithLabelValues(f.Type).Inc()
}

// initMCP checks the MCP servers and builds what their endpoints need.
func (s *Server) initMCP() error {
	if len(s.cfg.MCPServers) == 0 {
		return nil
	}
	if s.deps.MCP.Inspector == nil || s.deps.MCP.NewFetcher == nil {
		return errors.New("gateway: MCP servers need Deps.MCP.Inspector and Deps.MCP.NewFetcher")
	}
	seen := map[string]bool{}
	for i, m := range s.cfg.MCPServers {
		if err := m.init(); err != nil {
			return fmt.Errorf("gateway: mcp.servers[%d]: %w", i, err)
		}
		if seen[m.Name] {
			return fmt.Errorf("gateway: mcp.servers[%d]: name %s is used twice", i, m.Name)
		}
		seen[m.Name] = true
		m.client = s.mcpClient(m)
		m.fetcher = s.deps.MCP.NewFetcher(m.client, m.endpoint(), m.authHeader())
	}
	s.pins = s.deps.MCP.Pins
	if s.pins == nil {
		s.pins = &memPins{}
	}
	var err error
	if s.mcpMask, err = transform.NewDeidentifier(transform.Config{Default: transform.Mask, Key: s.cfg.Key}); err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	maxBody := int(min(s.cfg.MaxBodyBytes, 1<<40))
	s.mcpWalk, err = detect.CompileJSON(detect.JSONConfig{MaxDepth: s.cfg.MaxJSONDepth, MaxBytes: maxBody, UniqueKeys: true})
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	return nil
}

// handleMCPMetadata serves a server endpoint's RFC 9728 protected
// resource metadata: the resource tokens must name and where to get
// them.
func (s *Server) handleMCPMetadata(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if s.mcpServer(name) == nil {
		http.NotFound(w, r)
		return
	}
	servers := s.cfg.MCPAuthorizationServers
	if servers == nil {
		servers = []string{}
	}
	w.Header().Set("Cache-Control", "max-age=300")
	writeJSONStatus(w, http.StatusOK, map[string]any{
		"resource":                 s.mcpResource(r, name),
		"authorization_servers":    servers,
		"bearer_methods_supported": []string{"header"},
		"resource_name":            "Warden MCP gateway: " + name,
	})
}

// safeMethod is a JSON-RPC method fit for the record: MCP's methods are
// short slash-separated names; anything else is the caller's text.
func safeMethod(m string) string {
	if m == "" || len(m) > 64 {
		if m == "" {
			return ""
		}
		return "(other)"
	}
	for _, c := range m {
		if !(c == '/' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return "(other)"
		}
	}
	return m
}

// sessionBinding maps session ids (hashed) to the principal that owns
// them. Bounded: past maxSessions the oldest half is forgotten, and a
// forgotten session is bound again by its next user.
type sessionBinding struct {
	mu    sync.Mutex
	owner map[[32]byte]sessionOwner
	n     uint64
}

type sessionOwner struct {
	principal, tenant string
	seq               uint64
}

const maxSessions = 100000

func sessionKey(id string) [32]byte { return sha256.Sum256([]byte("warden mcp session\x00" + id)) }

// bind records p as the owner of id, if it has none.
func (b *sessionBinding) bind(id string, p *Principal) {
	k := sessionKey(id)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.owner == nil {
		b.owner = map[[32]byte]sessionOwner{}
	}
	if _, ok := b.owner[k]; ok {
		return
	}
	if len(b.owner) >= maxSessions {
		cut := b.n - maxSessions/2
		for k, o := range b.owner {
			if o.seq < cut {
				delete(b.owner, k)
			}
		}
	}
	b.n++
	b.owner[k] = sessionOwner{p.Name, p.Tenant, b.n}
}

// owned says p may use session id: it owns it, or nobody does yet (a
// session this gateway has not seen: it is bound to p now).
func (b *sessionBinding) owned(id string, p *Principal) bool {
	k := sessionKey(id)
	b.mu.Lock()
	o, ok := b.owner[k]
	b.mu.Unlock()
	if !ok {
		b.bind(id, p)
		return true
	}
	return o.principal == p.Name && o.tenant == p.Tenant
}

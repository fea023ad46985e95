package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// Tool definitions and their pins.
//
// The gateway knows each tool of a server by the hash of its
// definition (name, description, schemas, annotations): learnt from
// every tools/list answer that passes, and fetched from the server (with
// its own credential) for every call — or, with
// Config.MCPDefinitionsTTL set, when the tool was not seen that recently. A definition is approved when its hash is
// the one pinned (`warden mcp approve`, or the first sight under pin:
// auto when it holds no hidden instructions). A changed definition — a
// rug pull — is hidden from tools/list and refused in calls until it is
// approved again; so is one never approved.

// MCPDeps are what the MCP endpoints need beyond the model path's
// stages (package toolpin provides them).
type MCPDeps struct {
	// Pins store approved definition hashes. Nil: pins live in memory
	// (pin: auto only; nothing survives a restart).
	Pins ToolPins
	// Inspector hashes definitions and finds hidden instructions.
	// Required when MCP servers are configured.
	Inspector ToolInspector
	// NewFetcher makes what lists one server's tool definitions (both
	// protocol revisions; package toolpin's Fetcher keeps a session with
	// a 2025-11-25 server). Required when MCP servers are configured.
	NewFetcher func(c *http.Client, endpoint string, header http.Header) ToolFetcher
}

// ToolFetcher lists one server's tool definitions: within the caller's
// 2025-11-25 session when it has one (a server may give each session
// its own definitions), else on the fetcher's own.
type ToolFetcher interface {
	FetchIn(ctx context.Context, sessionID, revision string) ([]json.RawMessage, error)
}

// memPins are pins kept in memory.
type memPins struct {
	mu sync.Mutex
	m  map[string]string
}

func (p *memPins) Pinned(_ context.Context, server, tool string) (string, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	h, ok := p.m[server+"\x00"+tool]
	return h, ok, nil
}

func (p *memPins) Pin(_ context.Context, server, tool, hash, _ string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]string{}
	}
	p.m[server+"\x00"+tool] = hash
	return nil
}

// toolState finds what the gateway knows of srv's tool, fetching the
// server's definitions when the tool was not seen recently. Nil, nil:
// the server has no such tool.
func (s *Server) toolState(ctx context.Context, x *exchange, srv *MCPServer, tool string) (*toolState, error) {
	srv.mu.Lock()
	ttl := s.cfg.MCPDefinitionsTTL
	st, fresh := srv.tools[tool], ttl > 0 && time.Since(srv.seen) < ttl
	srv.mu.Unlock()
	if st != nil && fresh {
		return st, nil
	}
	fctx, cancel := context.WithTimeout(ctx, s.cfg.UpstreamTimeout)
	defer cancel()
	defs, err := srv.fetcher.FetchIn(fctx, x.r.Header.Get("Mcp-Session-Id"), x.mcp.version)
	if err != nil {
		if why := tlsFailure(err); why != "" {
			s.log.Warn("MCP tool definitions could not be fetched", "server", srv.Name, "reason", "TLS: "+why)
		} else {
			s.log.Warn("MCP tool definitions could not be fetched", "server", srv.Name, "error", scrubError(err))
		}
		return nil, err
	}
	states, err := s.learnTools(ctx, srv, defs, true)
	if err != nil {
		return nil, err
	}
	for _, st := range states {
		if st != nil && st.name == tool {
			return st, nil
		}
	}
	return nil, nil
}

// learnTools computes each definition's state (nil for one without a
// name) and caches them. whole says defs are the server's whole list.
func (s *Server) learnTools(ctx context.Context, srv *MCPServer, defs []json.RawMessage, whole bool) ([]*toolState, error) {
	out := make([]*toolState, len(defs))
	for i, d := range defs {
		var head struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(d, &head) != nil || head.Name == "" {
			continue
		}
		hash, err := s.deps.MCP.Inspector.Hash(d)
		if err != nil {
			continue
		}
		st := &toolState{name: head.Name, hash: hash, problems: s.deps.MCP.Inspector.Inspect(d)}
		pinned, ok, err := s.pins.Pinned(ctx, srv.Name, head.Name)
		if err != nil {
			return nil, err
		}
		switch {
		case ok && pinned == hash:
			st.verdict = toolApproved
		case ok:
			st.verdict = toolChanged
		case len(st.problems) > 0:
			st.verdict = toolSuspicious
		case srv.AutoPin:
			if err := s.pins.Pin(ctx, srv.Name, head.Name, hash, "pin:auto"); err != nil {
				return nil, err
			}
			s.log.Info("MCP tool definition pinned on first sight (pin: auto)", "server", srv.Name, "tool", safeToolName(head.Name), "hash", hash)
			st.verdict = toolApproved
		default:
			st.verdict = toolUnpinned
		}
		if st.verdict == toolChanged || st.verdict == toolSuspicious {
			s.log.Warn("MCP tool definition refused", "server", srv.Name, "tool", safeToolName(head.Name),
				"reason", st.verdict.reason(), "hash", hash, "problems", len(st.problems))
		}
		out[i] = st
	}
	srv.mu.Lock()
	if whole || srv.tools == nil {
		srv.tools = map[string]*toolState{}
	}
	for _, st := range out {
		if st != nil {
			srv.tools[st.name] = st
		}
	}
	srv.seen = time.Now()
	srv.mu.Unlock()
	return out, nil
}

// mcpClient is the client that reaches srv: the gateway's, or one that
// serves srv's in-process handler.
func (s *Server) mcpClient(srv *MCPServer) *http.Client {
	if srv.Handler == nil {
		if srv.Transport != nil {
			return upstreamClient(srv.Transport)
		}
		return s.client
	}
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return serveInProcess(srv.Handler, r), nil
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// endpoint is the server's URL (a placeholder for an in-process one).
func (m *MCPServer) endpoint() string {
	if m.base != nil {
		return m.base.String()
	}
	return "http://in-process/mcp"
}

// authHeader is the server's own credential as a header.
func (m *MCPServer) authHeader() http.Header {
	h := http.Header{}
	if m.AuthHeader != "" {
		h.Set(m.AuthHeader, m.AuthValue)
	}
	return h
}

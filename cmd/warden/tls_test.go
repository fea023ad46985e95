package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardenhq/warden/auth"
	"github.com/wardenhq/warden/internal/standin"
	"github.com/wardenhq/warden/internal/testpki"
)

// tlsUpstream is a model stand-in served over TLS that requires a
// client certificate signed by clientCA (tls.RequireAndVerifyClientCert),
// as an on-prem inference server behind mTLS does. It remembers the
// client certificates it was shown.
type tlsUpstream struct {
	srv *httptest.Server
	mu  sync.Mutex
	cns []string // client certificate CN per request
}

func newTLSUpstream(t *testing.T, serverCA, clientCA *testpki.CA, opts ...func(*tls.Config)) *tlsUpstream {
	t.Helper()
	u := &tlsUpstream{}
	h := standin.New(standin.Options{Models: []string{"*"}})
	u.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cn := "(none)"
		if len(r.TLS.PeerCertificates) > 0 {
			cn = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		u.mu.Lock()
		u.cns = append(u.cns, cn)
		u.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	leaf := serverCA.Issue(t, testpki.Leaf{CN: "llm.onprem.test", DNS: []string{"llm.onprem.test", "localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, Server: true})
	u.srv.Config.ErrorLog = stdlog.New(io.Discard, "", 0) // handshake failures are what some tests cause
	u.srv.TLS = &tls.Config{Certificates: []tls.Certificate{leaf.TLS(t)}, ClientCAs: clientCA.Pool(), ClientAuth: tls.RequireAndVerifyClientCert}
	for _, o := range opts {
		o(u.srv.TLS)
	}
	u.srv.StartTLS()
	t.Cleanup(u.srv.Close)
	return u
}

func (u *tlsUpstream) seen() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.cns...)
}

// tlsGateway is the real gateway (buildGateway) built from a config
// file, served over plain HTTP on loopback, with an API key.
type tlsGateway struct {
	url, key string
	logs     *lockedBuffer
	close    func()
}

// startTLSGateway writes yaml (its data_dir and listen set here) and
// builds the gateway through loadConfig and buildGateway.
func startTLSGateway(t *testing.T, yaml string) *tlsGateway {
	t.Helper()
	g, err := tryTLSGateway(t, yaml)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func tryTLSGateway(t *testing.T, yaml string) (*tlsGateway, error) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "warden.yaml")
	if err := os.WriteFile(path, []byte("data_dir: "+filepath.Join(dir, "data")+"\n"+yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(path, func(string) string { return "" })
	if err != nil {
		return nil, err
	}
	cfg.Server.Listen = "127.0.0.1:0"
	db, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := auth.NewAPIKeys(db, 0, nil).Create(ctx, auth.KeySpec{Name: "app", Tenant: "acme", Models: []string{"*"}})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	g := &tlsGateway{key: key, logs: &lockedBuffer{}}
	c := &cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: g.logs, getenv: func(string) string { return "" }}
	log := slog.New(slog.NewJSONHandler(g.logs, nil))
	gw, closeGW, err := buildGateway(ctx, cfg, c, log)
	if err != nil {
		return nil, err
	}
	srv := httptest.NewServer(newHTTPServer(cfg, gw, log).Handler)
	g.url, g.close = srv.URL, func() { srv.Close(); closeGW() }
	t.Cleanup(g.close)
	return g, nil
}

// chat sends one chat completion and returns the status and the error
// code of a refusal.
func (g *tlsGateway) chat(t *testing.T) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", g.url+"/v1/chat/completions", strings.NewReader(`{"model":"llama","messages":[{"role":"user","content":"hello"}]}`))
	req.Header.Set("Authorization", "Bearer "+g.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Error.Code
}

func yamlQuote(s string) string { b, _ := json.Marshal(s); return string(b) }

// An upstream behind mTLS with a private CA is reached only with the
// client certificate configured for it; without one, or with one its CA
// did not sign, the request fails closed (502 upstream_tls) and the
// gateway's log names the upstream and the setting, never the
// certificate.
func TestUpstreamMTLSOnlyWithTheConfiguredClientCertificate(t *testing.T) {
	dir := t.TempDir()
	serverCA, clientCA, strangerCA := testpki.NewCA(t, "Upstream Server CA"), testpki.NewCA(t, "Client CA"), testpki.NewCA(t, "Stranger CA")
	up := newTLSUpstream(t, serverCA, clientCA)
	caFile := serverCA.WriteCA(t, dir, "upstream-ca")
	good := clientCA.Issue(t, testpki.Leaf{CN: "warden-gateway", Client: true}).Write(t, dir, "client")
	stranger := strangerCA.Issue(t, testpki.Leaf{CN: "stranger", Client: true}).Write(t, dir, "stranger")

	upstream := func(tlsLines string) string {
		return "upstreams:\n  - name: onprem-llm\n    url: " + up.srv.URL + "/v1\n    zone: onprem\n    tls:\n      ca_file: " + yamlQuote(caFile) + "\n" + tlsLines
	}
	for _, tc := range []struct {
		name       string
		tls        string
		wantStatus int
		wantLog    string
	}{
		{"the configured client certificate", "      cert_file: " + yamlQuote(good.CertFile) + "\n      key_file: " + yamlQuote(good.KeyFile) + "\n      min_version: \"1.3\"\n", 200, ""},
		{"no client certificate", "", 502, "client certificate"},
		{"a client certificate of another CA", "      cert_file: " + yamlQuote(stranger.CertFile) + "\n      key_file: " + yamlQuote(stranger.KeyFile) + "\n", 502, "client certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(up.seen())
			g := startTLSGateway(t, upstream(tc.tls))
			status, code := g.chat(t)
			if status != tc.wantStatus {
				t.Fatalf("status %d (%s), want %d\n%s", status, code, tc.wantStatus, string(g.logs.Bytes()))
			}
			if tc.wantStatus == 200 {
				if seen := up.seen(); len(seen) != before+1 || seen[len(seen)-1] != "warden-gateway" {
					t.Fatalf("upstream saw client certificates %v", seen)
				}
				return
			}
			if code != "upstream_tls" {
				t.Fatalf("code %q, want upstream_tls", code)
			}
			if len(up.seen()) != before {
				t.Fatal("a request reached the upstream without the configured certificate")
			}
			logs := string(g.logs.Bytes())
			if !strings.Contains(logs, `"upstream":"onprem-llm"`) || !strings.Contains(logs, tc.wantLog) {
				t.Fatalf("log does not name the upstream and %q:\n%s", tc.wantLog, logs)
			}
			for _, leak := range []string{"Client CA", "Stranger CA", "BEGIN", "stranger\""} {
				if strings.Contains(logs, leak) {
					t.Fatalf("log quotes certificate contents (%q):\n%s", leak, logs)
				}
			}
		})
	}
}

// A server certificate that the configured CA did not sign fails closed:
// no request is sent, the log names the upstream and tls.ca_file and
// not the certificate's subject or issuer. server_name decides the name
// verified.
func TestUpstreamWrongCAFailsClosed(t *testing.T) {
	dir := t.TempDir()
	serverCA, clientCA, otherCA := testpki.NewCA(t, "Upstream Server CA"), testpki.NewCA(t, "Client CA"), testpki.NewCA(t, "Some Other CA")
	up := newTLSUpstream(t, serverCA, clientCA, func(c *tls.Config) { c.ClientAuth = tls.NoClientCert })
	right, wrong := serverCA.WriteCA(t, dir, "right"), otherCA.WriteCA(t, dir, "wrong")
	for _, tc := range []struct {
		name, tls  string
		wantStatus int
		wantLog    string
	}{
		{"the upstream's CA", "    tls:\n      ca_file: " + yamlQuote(right) + "\n", 200, ""},
		{"another CA", "    tls:\n      ca_file: " + yamlQuote(wrong) + "\n", 502, "not signed by a CA the gateway trusts (tls.ca_file)"},
		{"the system roots", "", 502, "not signed by a CA the gateway trusts"},
		{"the upstream's CA and the system roots", "    tls:\n      ca_file: " + yamlQuote(right) + "\n      system_roots: true\n", 200, ""},
		{"another CA and the system roots", "    tls:\n      ca_file: " + yamlQuote(wrong) + "\n      system_roots: true\n", 502, "not signed by a CA the gateway trusts (tls.ca_file)"},
		{"a server_name the certificate does not hold", "    tls:\n      ca_file: " + yamlQuote(right) + "\n      server_name: other.onprem.test\n", 502, "tls.server_name"},
		{"a server_name the certificate holds", "    tls:\n      ca_file: " + yamlQuote(right) + "\n      server_name: llm.onprem.test\n", 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := startTLSGateway(t, "upstreams:\n  - name: onprem-llm\n    url: "+up.srv.URL+"/v1\n    zone: onprem\n"+tc.tls)
			status, code := g.chat(t)
			if status != tc.wantStatus {
				t.Fatalf("status %d (%s), want %d\n%s", status, code, tc.wantStatus, string(g.logs.Bytes()))
			}
			if status == 200 {
				return
			}
			logs := string(g.logs.Bytes())
			if code != "upstream_tls" || !strings.Contains(logs, `"upstream":"onprem-llm"`) || !strings.Contains(logs, tc.wantLog) {
				t.Fatalf("code %q; log does not name the upstream and %q:\n%s", code, tc.wantLog, logs)
			}
			for _, leak := range []string{"Upstream Server CA", "Some Other CA", "llm.onprem.test\""} {
				if strings.Contains(logs, leak) {
					t.Fatalf("log quotes the certificate (%q):\n%s", leak, logs)
				}
			}
		})
	}
}

// The transport policy is applied when the config is loaded: plain HTTP
// only to loopback hosts unless insecure: true, never in a zone of
// server.require_tls_zones; tls settings only with https://; unknown
// keys refused. Each error names the key and the upstream or server.
func TestTransportPolicyRefusedAtStart(t *testing.T) {
	up := func(url, extra string) string {
		return "upstreams:\n  - name: llm\n    url: " + url + "\n" + extra
	}
	mcpSrv := func(url, extra string) string {
		return "mcp:\n  servers:\n    - name: crm\n      url: " + url + "\n" + extra
	}
	for _, tc := range []struct {
		name, yaml string
		want       []string // in the error; none: loads
	}{
		{"loopback plain HTTP", up("http://127.0.0.1:9000/v1", ""), nil},
		{"localhost plain HTTP", up("http://localhost:11434/v1", ""), nil},
		{"IPv6 loopback plain HTTP", up("http://[::1]:11434/v1", ""), nil},
		{"non-loopback plain HTTP", up("http://10.0.0.5:8000/v1", ""), []string{"upstreams[0].url", "upstreams[0].insecure: true", "upstream llm"}},
		{"a name that looks like loopback", up("http://127.attacker.example/v1", ""), []string{"upstreams[0].url", "not loopback"}},
		{"non-loopback plain HTTP with insecure", up("http://10.0.0.5:8000/v1", "    insecure: true\n"), nil},
		{"require_tls zone on loopback", "server:\n  require_tls_zones: [onprem]\n" + up("http://127.0.0.1:9000/v1", "    zone: onprem\n"), []string{"upstreams[0].url", "server.require_tls_zones", "upstream llm"}},
		{"require_tls zone with insecure", "server:\n  require_tls_zones: [onprem]\n" + up("http://10.0.0.5/v1", "    zone: onprem\n    insecure: true\n"), []string{"upstreams[0].url", "server.require_tls_zones"}},
		{"require_tls zone over https", "server:\n  require_tls_zones: [onprem]\n" + up("https://llm.onprem.test/v1", "    zone: onprem\n"), nil},
		{"another zone stays allowed", "server:\n  require_tls_zones: [onprem]\n" + up("http://127.0.0.1:9000/v1", ""), nil},
		{"insecure on https", up("https://api.example.com/v1", "    insecure: true\n"), []string{"upstreams[0].insecure", "never turns off certificate checks"}},
		{"tls on plain http", up("http://127.0.0.1:9000/v1", "    tls:\n      ca_file: ca.pem\n"), []string{"upstreams[0].tls", "https://"}},
		{"tls without url", up("", "    tls:\n      ca_file: ca.pem\n"), []string{"upstreams[0]", "built-in echo"}},
		{"cert without key", up("https://x.test/v1", "    tls:\n      cert_file: c.pem\n"), []string{"upstreams[0].tls", "cert_file and key_file"}},
		{"system_roots without ca_file", up("https://x.test/v1", "    tls:\n      system_roots: true\n"), []string{"upstreams[0].tls.system_roots"}},
		{"min_version 1.1", up("https://x.test/v1", "    tls:\n      min_version: \"1.1\"\n"), []string{"upstreams[0].tls.min_version", "1.2 or 1.3"}},
		{"unknown tls key", up("https://x.test/v1", "    tls:\n      insecure_skip_verify: true\n"), []string{"line 5", "insecure_skip_verify"}},
		{"MCP loopback plain HTTP", mcpSrv("http://127.0.0.1:8000/mcp", ""), nil},
		{"MCP non-loopback plain HTTP", mcpSrv("http://crm-mcp:8000/mcp", ""), []string{"mcp.servers[0].url", "mcp.servers[0].insecure: true", "MCP server crm"}},
		{"MCP non-loopback with insecure", mcpSrv("http://crm-mcp:8000/mcp", "      insecure: true\n"), nil},
		{"MCP loopback defaults to onprem, required TLS", "server:\n  require_tls_zones: [onprem]\n" + mcpSrv("http://127.0.0.1:8000/mcp", ""), []string{"mcp.servers[0].url", "zone onprem", "server.require_tls_zones"}},
		{"MCP tls on https", mcpSrv("https://crm.test/mcp", "      tls:\n        min_version: \"1.3\"\n"), nil},
		{"server.tls.client_ca without a certificate", "server:\n  tls:\n    client_ca: ca.pem\n", []string{"server.tls.client_ca"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "warden.yaml")
			os.WriteFile(path, []byte(tc.yaml), 0o600)
			_, err := loadConfig(path, func(string) string { return "" })
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("loaded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "10.0.0.5") || strings.Contains(err.Error(), "crm-mcp") {
				t.Errorf("error echoes the URL: %v", err)
			}
		})
	}
}

// An upstream called in the clear off this machine (insecure: true) is
// named in a warning when the gateway starts.
func TestInsecureUpstreamWarnedAtStart(t *testing.T) {
	g := startTLSGateway(t, "upstreams:\n  - name: lab-box\n    url: http://192.0.2.10:8000/v1\n    insecure: true\n")
	logs := string(g.logs.Bytes())
	if !strings.Contains(logs, `"level":"WARN"`) || !strings.Contains(logs, "upstream lab-box") || !strings.Contains(logs, "upstreams[0].insecure") {
		t.Fatalf("no warning naming the upstream:\n%s", logs)
	}
}

// A tls file that cannot be read stops the start with the key named.
func TestUpstreamTLSFilesCheckedAtStart(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t, "CA")
	pair := ca.Issue(t, testpki.Leaf{CN: "c"}).Write(t, dir, "c")
	for _, tc := range []struct{ name, tls, want string }{
		{"missing ca_file", "      ca_file: " + yamlQuote(filepath.Join(dir, "none.pem")) + "\n", "upstreams[0].tls.ca_file:"},
		{"ca_file without a certificate", "      ca_file: " + yamlQuote(pair.KeyFile) + "\n", "upstreams[0].tls.ca_file: no PEM certificate"},
		{"key of another certificate", "      cert_file: " + yamlQuote(pair.CertFile) + "\n      key_file: " + yamlQuote(ca.Issue(t, testpki.Leaf{CN: "d"}).Write(t, dir, "d").KeyFile) + "\n", "upstreams[0].tls.cert_file and key_file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tryTLSGateway(t, "upstreams:\n  - name: llm\n    url: https://llm.test/v1\n    tls:\n"+tc.tls)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "BEGIN") {
				t.Fatalf("error quotes a file: %v", err)
			}
		})
	}
}

// mtlsFront serves target (an MCP server) over TLS, requiring a client
// certificate of clientCA; seen lists the client certificates' CNs.
func mtlsFront(t *testing.T, target string, serverCA, clientCA *testpki.CA) (frontURL string, seen func() []string) {
	t.Helper()
	u, _ := url.Parse(target)
	u.Path = ""
	rp := httputil.NewSingleHostReverseProxy(u)
	var mu sync.Mutex
	var cns []string
	front := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		cns = append(cns, r.TLS.PeerCertificates[0].Subject.CommonName)
		mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	leaf := serverCA.Issue(t, testpki.Leaf{CN: "crm", IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, Server: true})
	front.Config.ErrorLog = stdlog.New(io.Discard, "", 0)
	front.TLS = &tls.Config{Certificates: []tls.Certificate{leaf.TLS(t)}, ClientCAs: clientCA.Pool(), ClientAuth: tls.RequireAndVerifyClientCert}
	front.StartTLS()
	t.Cleanup(front.Close)
	return front.URL, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), cns...)
	}
}

// An MCP server behind mTLS with a private CA is reached with the
// server's own tls settings, by the gateway and by warden mcp approve.
func TestMCPServerOverMTLS(t *testing.T) {
	dir := t.TempDir()
	serverCA, clientCA := testpki.NewCA(t, "MCP Server CA"), testpki.NewCA(t, "Client CA")
	client := clientCA.Issue(t, testpki.Leaf{CN: "warden-gateway", Client: true}).Write(t, dir, "client")
	caFile := serverCA.WriteCA(t, dir, "ca")
	var seen func() []string
	st := startMCPStack(t, true, true, "auto", func(cfg *Config) {
		var front string
		front, seen = mtlsFront(t, cfg.MCP.Servers[0].URL, serverCA, clientCA)
		cfg.MCP.Servers[0].URL = front + "/mcp"
		cfg.MCP.Servers[0].TLS = ClientTLSConfig{CAFile: caFile, CertFile: client.CertFile, KeyFile: client.KeyFile}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := st.connect(t, st.supportKey, "").ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Tools) == 0 {
		t.Fatalf("no tools listed:\n%s", st.logs.Bytes())
	}
	if s := seen(); len(s) == 0 || s[0] != "warden-gateway" {
		t.Fatalf("the MCP server saw client certificates %v", s)
	}

	// warden mcp approve fetches the definitions through the same tls.
	path := filepath.Join(dir, "warden.yaml")
	mc := st.cfg.MCP.Servers[0]
	os.WriteFile(path, []byte("data_dir: "+yamlQuote(st.cfg.DataDir)+"\nmcp:\n  servers:\n    - name: crm\n      url: "+mc.URL+
		"\n      zone: onprem\n      auth: {header: Authorization, key_env: CRM_MCP_TOKEN}\n      tls:\n        ca_file: "+yamlQuote(caFile)+
		"\n        cert_file: "+yamlQuote(client.CertFile)+"\n        key_file: "+yamlQuote(client.KeyFile)+"\n"), 0o600)
	var out, errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string {
		return map[string]string{"CRM_MCP_TOKEN": crmToken}[k]
	}}
	before := len(seen())
	if code := runMCP(context.Background(), c, []string{"approve", "--config", path, "--server", "crm", "--yes"}); code != exitOK {
		t.Fatalf("approve: exit %d\n%s%s", code, out.String(), errb.String())
	}
	if s := seen(); len(s) == before || s[len(s)-1] != "warden-gateway" {
		t.Fatalf("approve did not present the client certificate: %v", s)
	}
}

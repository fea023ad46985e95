package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/testpki"
)

// rotatingServer is a TLS server certificate that a test swaps; it
// counts the handshakes made with each version.
type rotatingServer struct {
	mu         sync.Mutex
	cur        *tls.Certificate
	name       string
	handshakes map[string]int
}

func (r *rotatingServer) set(name string, c tls.Certificate) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cur, r.name = &c, name
}

func (r *rotatingServer) count(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.handshakes[name]
}

func (r *rotatingServer) config(*tls.ClientHelloInfo) (*tls.Config, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handshakes[r.name]++
	return &tls.Config{Certificates: []tls.Certificate{*r.cur}}, nil
}

// waitLog waits (up to 10s) for logs to contain want.
func waitLog(t *testing.T, logs func() string, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs(), want); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s in the log:\n%s", want, logs())
		}
	}
}

// An upstream's ca_file is reloaded like its certificates: a broken
// bundle is refused and the old one kept; a new CA's bundle, written
// while the upstream moves to a certificate of that CA, is used for new
// connections without a restart, and the old CA is trusted no longer.
// Verification against the reloaded bundle still refuses an expired
// certificate and one for another name.
func TestUpstreamCABundleRotationWithoutRestart(t *testing.T) {
	dir := t.TempDir()
	oldCA, newCA := testpki.NewCA(t, "Old Upstream CA"), testpki.NewCA(t, "New Upstream CA")
	issue := func(ca *testpki.CA, l testpki.Leaf) tls.Certificate {
		if l.CN == "" {
			l.CN, l.DNS, l.IPs = "llm.onprem.test", []string{"llm.onprem.test"}, []net.IP{net.IPv4(127, 0, 0, 1)}
		}
		l.Server = true
		return ca.Issue(t, l).TLS(t)
	}
	rs := &rotatingServer{handshakes: map[string]int{}}
	rs.set("old", issue(oldCA, testpki.Leaf{}))
	up := newTLSUpstream(t, oldCA, oldCA, func(c *tls.Config) {
		// httptest serves its own certificate when Certificates is
		// empty; a config per handshake serves the current one.
		c.GetConfigForClient = rs.config
	})
	caFile := oldCA.WriteCA(t, dir, "upstream-ca")
	g := startTLSGateway(t, "server:\n  cert_reload_interval: 1s\nupstreams:\n  - name: onprem-llm\n    url: "+up.srv.URL+"/v1\n    zone: onprem\n    tls:\n      ca_file: "+yamlQuote(caFile)+"\n")
	expect := func(what string, want int, wantLog string) {
		t.Helper()
		status, code := g.chat(t)
		if status != want {
			t.Fatalf("%s: status %d (%s), want %d\n%s", what, status, code, want, g.logs.Bytes())
		}
		if want != 200 && (code != "upstream_tls" || !bytes.Contains(g.logs.Bytes(), []byte(wantLog))) {
			t.Fatalf("%s: code %q; log lacks %q:\n%s", what, code, wantLog, g.logs.Bytes())
		}
	}
	expect("the first CA", 200, "")

	// A broken bundle is refused; new connections still verify against
	// the old one.
	testpki.WriteFile(t, caFile, []byte("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"))
	waitLog(t, func() string { return string(g.logs.Bytes()) }, `"msg":"CA bundle reload refused; the current one stays in use","use":"upstream:onprem-llm","error":"upstreams[0].tls.ca_file: PEM block 1: not a valid certificate"`)
	up.srv.CloseClientConnections()
	expect("after a broken bundle", 200, "")

	// The upstream moves to the new CA, its bundle with it.
	rs.set("new", issue(newCA, testpki.Leaf{}))
	newCA.WriteCA(t, dir, "upstream-ca")
	waitLog(t, func() string { return string(g.logs.Bytes()) }, `"msg":"CA bundle reloaded: new connections are verified against it","use":"upstream:onprem-llm","ca_file":`+yamlQuote(caFile)+`,"certificates":1`)
	expect("the new CA", 200, "")
	if rs.count("new") == 0 {
		t.Fatal("the request after the reload did not make a new connection")
	}

	for _, tc := range []struct {
		name    string
		cert    tls.Certificate
		wantLog string
	}{
		{"a certificate of the old CA", issue(oldCA, testpki.Leaf{}), "not signed by a CA the gateway trusts (tls.ca_file)"},
		{"an expired certificate", issue(newCA, testpki.Leaf{NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)}), "expired"},
		{"a certificate for another name", issue(newCA, testpki.Leaf{CN: "other", DNS: []string{"other.onprem.test"}}), "tls.server_name"},
		{"a good certificate (the control)", issue(newCA, testpki.Leaf{}), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs.set(tc.name, tc.cert)
			up.srv.CloseClientConnections()
			before := len(up.seen())
			if tc.wantLog == "" {
				expect(tc.name, 200, "") // the control: the same steps with a good certificate
				return
			}
			expect(tc.name, 502, tc.wantLog)
			if len(up.seen()) != before {
				t.Fatal("a request reached an upstream whose certificate failed verification")
			}
		})
	}
	for _, leak := range []string{"Old Upstream CA", "New Upstream CA", "BEGIN", "bm90"} {
		if bytes.Contains(g.logs.Bytes(), []byte(leak)) {
			t.Fatalf("the log quotes a certificate or bundle (%q):\n%s", leak, g.logs.Bytes())
		}
	}
}

// server.tls.client_ca is reloaded (here on SIGHUP): after a new CA's
// bundle is written, a client certificate of that CA is accepted and
// mapped (auth.mtls reads the verified chain), one of the old CA is
// refused; a broken bundle is refused and the current one kept. Each
// reload is audited.
func TestServerTLSClientCARotation(t *testing.T) {
	dir := t.TempDir()
	srvCA, oldCA, newCA := testpki.NewCA(t, "Gateway CA"), testpki.NewCA(t, "Old Client CA"), testpki.NewCA(t, "New Client CA")
	pair := srvCA.Issue(t, testpki.Leaf{CN: "gateway", IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, Server: true}).Write(t, dir, "gateway")
	caFile := oldCA.WriteCA(t, dir, "clients")
	oldClient := oldCA.Issue(t, testpki.Leaf{CN: "batch-client", Client: true}).TLS(t)
	newClient := newCA.Issue(t, testpki.Leaf{CN: "batch-client", Client: true}).TLS(t)
	cfgPath := filepath.Join(dir, "warden.yaml")
	cfg := "data_dir: " + filepath.Join(dir, "data") + "\nserver:\n  listen: 127.0.0.1:0\n  cert_reload_interval: 1h\n" +
		"  tls:\n    cert_file: " + yamlQuote(pair.CertFile) + "\n    key_file: " + yamlQuote(pair.KeyFile) + "\n    client_ca: " + yamlQuote(caFile) + "\n" +
		"auth:\n  mtls:\n    principals:\n      - cn: batch-client\n        tenant: acme\n        models: [\"*\"]\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	c := &cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &logs, getenv: func(string) string { return "" }}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan int, 1)
	go func() { done <- runServe(ctx, c, []string{"--config", cfgPath}) }()
	urlRE := regexp.MustCompile(`"url":"(https://[^"]+/v1)"`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := urlRE.FindStringSubmatch(logs.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("serve did not start: %s", logs.String())
	}
	// call sends a chat completion with no credential but the client
	// certificate, on a new connection.
	call := func(cert tls.Certificate) (*http.Response, error) {
		cl := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, ForceAttemptHTTP2: true,
			// Always sent, even when the server names other CAs: the
			// server, not the client, must refuse it.
			TLSClientConfig: &tls.Config{RootCAs: srvCA.Pool(), GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				return &cert, nil
			}}}}
		resp, err := cl.Post(base+"/chat/completions", "application/json", strings.NewReader(`{"model":"llama","messages":[{"role":"user","content":"hi"}]}`))
		if err != nil {
			return nil, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp, nil
	}
	accepted := func(what string, cert tls.Certificate) {
		t.Helper()
		resp, err := call(cert)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v\n%s", what, resp, err, logs.String())
		}
		if resp.ProtoMajor != 2 {
			t.Fatalf("%s: served over %s, want HTTP/2 (ALPN kept by GetConfigForClient)", what, resp.Proto)
		}
		if len(resp.TLS.VerifiedChains) == 0 {
			t.Fatalf("%s: no verified chain", what)
		}
	}
	refused := func(what string, cert tls.Certificate) {
		t.Helper()
		// With TLS 1.3 the client learns of the refusal after its side
		// of the handshake, as a failed first read.
		if resp, err := call(cert); err == nil {
			t.Fatalf("%s: accepted (%d)", what, resp.StatusCode)
		}
	}
	hup := func() {
		t.Helper()
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}

	accepted("a client of the old CA", oldClient)
	refused("a client of the new CA before the reload", newClient)

	newCA.WriteCA(t, dir, "clients")
	hup()
	waitLog(t, logs.String, `"msg":"CA bundle reloaded: new connections are verified against it","use":"server","ca_file":`+yamlQuote(caFile)+`,"certificates":1`)
	accepted("a client of the new CA after the reload", newClient)
	refused("a client of the old CA after the reload", oldClient)

	testpki.WriteFile(t, caFile, []byte("no certificates here"))
	hup()
	waitLog(t, logs.String, `"msg":"CA bundle reload refused; the current one stays in use","use":"server","error":"server.tls.client_ca: no PEM certificate found"`)
	accepted("a client of the new CA after a broken bundle", newClient)
	if l := logs.String(); strings.Contains(l, "Client CA") || strings.Contains(l, "BEGIN") {
		t.Fatalf("the log quotes a bundle:\n%s", l)
	}

	stop()
	if code := <-done; code != exitOK {
		t.Fatalf("serve exit %d", code)
	}
	var exp, eb bytes.Buffer
	ec := &cli{stdin: strings.NewReader(""), stdout: &exp, stderr: &eb, getenv: func(string) string { return "" }}
	if code := runAudit(context.Background(), ec, []string{"export", "--config", cfgPath}); code != exitOK {
		t.Fatalf("audit export: %d %s", code, eb.String())
	}
	for _, want := range []string{`"action":"tls.reload"`, `"target":"server"`, `"ca_file":` + yamlQuote(caFile), `"certificates":"1"`, `"result":"reloaded"`, `"result":"refused"`} {
		if !strings.Contains(exp.String(), want) {
			t.Errorf("audit log lacks %s:\n%s", want, exp.String())
		}
	}
}

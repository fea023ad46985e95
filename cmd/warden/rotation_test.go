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
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/testpki"
)

// Replacing the certificate files of `warden serve` while requests run
// (its own serving pair and its client certificate for an mTLS
// upstream) fails no request: connections made after the reload use the
// new certificates, connections open finish on the old ones. A broken
// pair written later is refused and the current one kept. Each reload
// is logged and in the audit log.
func TestCertificateRotationUnderLoad(t *testing.T) {
	dir := t.TempDir()
	serverCA, clientCA := testpki.NewCA(t, "Gateway CA"), testpki.NewCA(t, "Client CA")
	up := newTLSUpstream(t, serverCA, clientCA)
	srvPair := serverCA.Issue(t, testpki.Leaf{CN: "gateway-v1", IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, Server: true}).Write(t, dir, "gateway")
	cliPair := clientCA.Issue(t, testpki.Leaf{CN: "client-v1", Client: true}).Write(t, dir, "client")
	caFile := serverCA.WriteCA(t, dir, "ca")

	cfgPath := filepath.Join(dir, "warden.yaml")
	cfg := "data_dir: " + filepath.Join(dir, "data") + "\nserver:\n  listen: 127.0.0.1:0\n  cert_reload_interval: 1s\n" +
		"  tls:\n    cert_file: " + yamlQuote(srvPair.CertFile) + "\n    key_file: " + yamlQuote(srvPair.KeyFile) + "\n" +
		"upstreams:\n  - name: onprem-llm\n    url: " + up.srv.URL + "/v1\n    zone: onprem\n    tls:\n" +
		"      ca_file: " + yamlQuote(caFile) + "\n      cert_file: " + yamlQuote(cliPair.CertFile) + "\n      key_file: " + yamlQuote(cliPair.KeyFile) + "\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := apikeyRun(t, "create", "--config", cfgPath, "--name", "app", "--models", "*")
	if code != exitOK {
		t.Fatalf("apikey create: %s", errOut)
	}
	key := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])

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

	// newClient trusts the gateway's CA; keepAlive false makes a new
	// connection (a handshake) per request.
	newClient := func(keepAlive bool) *http.Client {
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: !keepAlive,
			TLSClientConfig: &tls.Config{RootCAs: serverCA.Pool()}}}
	}
	send := func(cl *http.Client) (string, error) {
		req, _ := http.NewRequest("POST", base+"/chat/completions", strings.NewReader(`{"model":"llama","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := cl.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return "", &statusError{resp.StatusCode, string(body)}
		}
		return resp.TLS.PeerCertificates[0].Subject.CommonName, nil
	}

	var ok, failed atomic.Int64
	var firstErr atomic.Value
	halt := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := newClient(i%2 == 0)
			for {
				select {
				case <-halt:
					return
				default:
				}
				if _, err := send(cl); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				} else {
					ok.Add(1)
				}
			}
		}()
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				close(halt)
				t.Fatalf("timed out waiting for %s\n%s", what, logs.String())
			}
		}
	}
	waitFor("requests before the rotation", func() bool { return ok.Load() >= 30 })

	// Rotate both pairs, each written as cert tools do (a rename per
	// file, key first).
	serverCA.Issue(t, testpki.Leaf{CN: "gateway-v2", IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, Server: true}).Write(t, dir, "gateway")
	clientCA.Issue(t, testpki.Leaf{CN: "client-v2", Client: true}).Write(t, dir, "client")
	waitFor("both reloads", func() bool {
		l := logs.String()
		return strings.Contains(l, `"msg":"certificate reloaded: new connections use it","use":"server"`) &&
			strings.Contains(l, `"msg":"certificate reloaded: new connections use it","use":"upstream:onprem-llm"`)
	})
	after := ok.Load()
	waitFor("requests after the rotation", func() bool { return ok.Load() >= after+30 })
	close(halt)
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d of %d requests failed during the rotation; first: %v", n, n+ok.Load(), firstErr.Load())
	}

	// A new connection gets the new serving certificate; the upstream
	// sees the new client certificate.
	if cn, err := send(newClient(false)); err != nil || cn != "gateway-v2" {
		t.Fatalf("new connection after rotation: %q %v", cn, err)
	}
	seen := up.seen()
	if seen[0] != "client-v1" || seen[len(seen)-1] != "client-v2" {
		t.Fatalf("upstream saw client certificates from %q to %q, want client-v1 then client-v2", seen[0], seen[len(seen)-1])
	}

	// A broken pair (a key that is not the certificate's) is refused;
	// the gateway keeps serving the current one.
	broken := serverCA.Issue(t, testpki.Leaf{CN: "gateway-broken", Server: true})
	testpki.WriteFile(t, srvPair.CertFile, broken.CertPEM)
	waitFor("the refusal", func() bool {
		return strings.Contains(logs.String(), `"msg":"certificate reload refused; the current one stays in use","use":"server"`)
	})
	if cn, err := send(newClient(false)); err != nil || cn != "gateway-v2" {
		t.Fatalf("after a broken pair: %q %v", cn, err)
	}
	if l := logs.String(); strings.Contains(l, "PRIVATE KEY") || strings.Contains(l, "BEGIN") {
		t.Fatalf("a log line quotes a PEM file:\n%s", l)
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
	for _, want := range []string{`"action":"tls.reload"`, `"target":"server"`, `"target":"upstream:onprem-llm"`, `"result":"reloaded"`, `"result":"refused"`} {
		if !strings.Contains(exp.String(), want) {
			t.Errorf("audit log lacks %s", want)
		}
	}
}

type statusError struct {
	status int
	body   string
}

func (e *statusError) Error() string { return http.StatusText(e.status) + ": " + e.body }

// SIGHUP makes `warden serve` read its certificate files at once, long
// before the next poll.
func TestSIGHUPReloadsCertificates(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t, "Gateway CA")
	pair := ca.Issue(t, testpki.Leaf{CN: "gateway-v1", IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, Server: true}).Write(t, dir, "gateway")
	cfgPath := filepath.Join(dir, "warden.yaml")
	cfg := "data_dir: " + filepath.Join(dir, "data") + "\nserver:\n  listen: 127.0.0.1:0\n  cert_reload_interval: 1h\n" +
		"  tls:\n    cert_file: " + yamlQuote(pair.CertFile) + "\n    key_file: " + yamlQuote(pair.KeyFile) + "\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	c := &cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &logs, getenv: func(string) string { return "" }}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan int, 1)
	go func() { done <- runServe(ctx, c, []string{"--config", cfgPath}) }()
	urlRE := regexp.MustCompile(`"url":"(https://[^"]+)/v1"`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := urlRE.FindStringSubmatch(logs.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("serve did not start: %s", logs.String())
	}
	served := func() string {
		t.Helper()
		cl := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
		resp, err := cl.Get(base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.TLS.PeerCertificates[0].Subject.CommonName
	}
	if cn := served(); cn != "gateway-v1" {
		t.Fatalf("served %q", cn)
	}
	ca.Issue(t, testpki.Leaf{CN: "gateway-v2", IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, Server: true}).Write(t, dir, "gateway")
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(logs.String(), `"use":"server"`); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no reload after SIGHUP:\n%s", logs.String())
		}
	}
	if cn := served(); cn != "gateway-v2" {
		t.Fatalf("after SIGHUP served %q", cn)
	}
	stop()
	<-done
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/testpki"
)

// Each configured certificate's expiry is a gauge; /readyz fails while a
// certificate in use has expired, naming only the check.
func TestCertificateExpiryMetricAndReadiness(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t, "CA")
	srv := ca.Issue(t, testpki.Leaf{CN: "gateway", DNS: []string{"localhost"}, Server: true}).Write(t, dir, "server")
	good := ca.Issue(t, testpki.Leaf{CN: "client", Client: true}).Write(t, dir, "good")
	expired := ca.Issue(t, testpki.Leaf{CN: "old-client", Client: true, NotBefore: time.Now().Add(-72 * time.Hour), NotAfter: time.Now().Add(-time.Hour)}).Write(t, dir, "expired")
	for _, tc := range []struct {
		name   string
		client *testpki.Pair
		ready  string
	}{
		{"valid certificates", good, "ok"},
		{"an expired client certificate", expired, "failing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := startTLSGateway(t, "server:\n  tls:\n    cert_file: "+yamlQuote(srv.CertFile)+"\n    key_file: "+yamlQuote(srv.KeyFile)+"\n"+
				"upstreams:\n  - name: llm\n    url: https://llm.onprem.test/v1\n    tls:\n      cert_file: "+yamlQuote(tc.client.CertFile)+"\n      key_file: "+yamlQuote(tc.client.KeyFile)+"\n")
			resp, err := http.Get(g.url + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for use, want := range map[string]time.Time{"server": srv.Cert.NotAfter, "upstream:llm": tc.client.Cert.NotAfter} {
				if got := gauge(t, string(body), `warden_tls_certificate_expiry_seconds{use="`+use+`"}`); got != float64(want.Unix()) {
					t.Errorf("%s expiry %v, want %d", use, got, want.Unix())
				}
			}
			resp, err = http.Get(g.url + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			var ready struct {
				Checks map[string]string `json:"checks"`
			}
			json.NewDecoder(resp.Body).Decode(&ready)
			resp.Body.Close()
			if ready.Checks["certificates"] != tc.ready {
				t.Fatalf("readyz %d, checks %v, want certificates %s", resp.StatusCode, ready.Checks, tc.ready)
			}
			if tc.ready == "failing" && (resp.StatusCode != 503 || !strings.Contains(string(g.logs.Bytes()), "expired certificate in use: upstream:llm")) {
				t.Fatalf("readyz %d; log:\n%s", resp.StatusCode, g.logs.Bytes())
			}
		})
	}
}

func gauge(t *testing.T, metrics, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(metrics, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("no series %s", series)
	return 0
}

// `warden tls check` prints every configured chain with its names and
// days left, and exits 1 when one is expired or unreadable.
func TestTLSCheckCommand(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t, "Private CA")
	caFile := ca.WriteCA(t, dir, "ca")
	srv := ca.Issue(t, testpki.Leaf{CN: "gateway", DNS: []string{"warden.corp.test"}, Server: true}).Write(t, dir, "server")
	good := ca.Issue(t, testpki.Leaf{CN: "client", URIs: []string{"spiffe://corp.test/warden"}, Client: true}).Write(t, dir, "good")
	expired := ca.Issue(t, testpki.Leaf{CN: "old", NotBefore: time.Now().Add(-72 * time.Hour), NotAfter: time.Now().Add(-time.Hour)}).Write(t, dir, "expired")
	config := func(client *testpki.Pair, keyFile string) string {
		return "server:\n  tls:\n    cert_file: " + yamlQuote(srv.CertFile) + "\n    key_file: " + yamlQuote(srv.KeyFile) + "\n    client_ca: " + yamlQuote(caFile) + "\n" +
			"upstreams:\n  - name: llm\n    url: https://llm.test/v1\n    tls:\n      ca_file: " + yamlQuote(caFile) +
			"\n      cert_file: " + yamlQuote(client.CertFile) + "\n      key_file: " + yamlQuote(keyFile) + "\n"
	}
	for _, tc := range []struct {
		name     string
		yaml     string
		wantCode int
		want     []string
	}{
		{"all good", config(good, good.KeyFile), exitOK, []string{
			"server: server.tls.cert_file", `subject CN="gateway" issuer CN="Private CA" SANs=[warden.corp.test]`, "days left",
			"upstream:llm: upstreams[0].tls.ca_file", "upstream:llm: upstreams[0].tls.cert_file", "SANs=[spiffe://corp.test/warden]"}},
		{"an expired client certificate", config(expired, expired.KeyFile), exitFailure, []string{`subject CN="old"`, "EXPIRED", "1 problem(s)"}},
		{"a key that is not the certificate's", config(good, expired.KeyFile), exitFailure, []string{"UNREADABLE: upstreams[0].tls.cert_file"}},
		{"nothing configured", "", exitOK, []string{"no certificates configured"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "warden.yaml")
			os.WriteFile(path, []byte(tc.yaml), 0o600)
			var out, errb bytes.Buffer
			c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
			if code := runTLS(context.Background(), c, []string{"check", "--config", path}); code != tc.wantCode {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.wantCode, out.String(), errb.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if strings.Contains(out.String(), "BEGIN") || strings.Contains(out.String(), "PRIVATE") {
				t.Fatalf("output quotes a PEM file:\n%s", out.String())
			}
		})
	}
}

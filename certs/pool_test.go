package certs

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/testpki"
)

func TestLoadPool(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t, "Test CA")
	f := ca.WriteCA(t, dir, "ca")
	pool, err := LoadPool(f, false)
	if err != nil {
		t.Fatal(err)
	}
	if pool.Len() != 1 || pool.File() != f {
		t.Fatalf("Len %d File %q", pool.Len(), pool.File())
	}
	leaf := ca.Issue(t, testpki.Leaf{CN: "s", DNS: []string{"s.test"}})
	if _, err := leaf.Cert.Verify(x509.VerifyOptions{Roots: pool.CertPool(), DNSName: "s.test"}); err != nil {
		t.Fatalf("leaf of the CA: %v", err)
	}
	empty := filepath.Join(dir, "empty.pem")
	os.WriteFile(empty, []byte("nothing here"), 0o600)
	if _, err := LoadPool(empty, false); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Fatalf("empty bundle: %v", err)
	}
	if _, err := LoadPool(filepath.Join(dir, "none.pem"), false); err == nil || !strings.HasPrefix(err.Error(), "ca_file:") {
		t.Fatalf("missing bundle: %v", err)
	}
}

// A changed bundle replaces the old one only when it holds a valid
// certificate; a refused version is not read again until it changes.
func TestCertBundleReloadSwapsOnlyAGoodBundle(t *testing.T) {
	dir := t.TempDir()
	oldCA, newCA, thirdCA := testpki.NewCA(t, "Old CA"), testpki.NewCA(t, "New CA"), testpki.NewCA(t, "Third CA")
	f := oldCA.WriteCA(t, dir, "ca")
	p, err := LoadPool(f, false)
	if err != nil {
		t.Fatal(err)
	}
	trusts := func(ca *testpki.CA) bool {
		leaf := ca.Issue(t, testpki.Leaf{CN: "s", DNS: []string{"s.test"}, Server: true})
		_, err := leaf.Cert.Verify(x509.VerifyOptions{Roots: p.CertPool(), DNSName: "s.test"})
		return err == nil
	}
	if err := p.Reload(false); !errors.Is(err, ErrUnchanged) {
		t.Fatalf("unchanged file: %v", err)
	}
	badBlock := []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
	for _, tc := range []struct {
		name    string
		file    []byte
		want    string // an error containing it; "" a swap
		trusted []*testpki.CA
		n       int
	}{
		{"an empty file", nil, "no PEM certificate", []*testpki.CA{oldCA}, 1},
		{"no PEM in the file", []byte("not a bundle"), "no PEM certificate", []*testpki.CA{oldCA}, 1},
		{"a block that does not parse", append(append([]byte(nil), newCA.PEM...), badBlock...), "PEM block 2", []*testpki.CA{oldCA}, 1},
		{"a good new bundle", newCA.PEM, "", []*testpki.CA{newCA}, 1},
		{"a bundle of two", append(append([]byte(nil), newCA.PEM...), thirdCA.PEM...), "", []*testpki.CA{newCA, thirdCA}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testpki.WriteFile(t, f, tc.file)
			err := p.Reload(false)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), "ca_file: ") || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err %v, want one naming ca_file and %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "BEGIN") {
				t.Fatalf("error quotes the file: %v", err)
			}
			for _, ca := range tc.trusted {
				if !trusts(ca) {
					t.Errorf("%s not trusted", ca.Cert.Subject.CommonName)
				}
			}
			if tc.want == "" && trusts(oldCA) {
				t.Error("the old CA is still trusted after the swap")
			}
			if p.Len() != tc.n {
				t.Errorf("Len %d, want %d", p.Len(), tc.n)
			}
			if err := p.Reload(false); !errors.Is(err, ErrUnchanged) {
				t.Fatalf("second poll: %v", err)
			}
		})
	}
	// A missing file is refused too; force reads an unchanged file.
	os.Rename(f, f+".gone")
	if err := p.Reload(false); err == nil || !trusts(newCA) {
		t.Fatalf("missing file: %v", err)
	}
	os.Rename(f+".gone", f)
	if err := p.Reload(true); err != nil {
		t.Fatalf("forced: %v", err)
	}
}

// VerifyServer, which replaces crypto/tls's check when the bundle may
// change, refuses everything crypto/tls refuses: another CA, another
// name, an expired certificate, one not for server authentication, no
// certificate; and follows the bundle as it is reloaded.
func TestCertBundleVerifyServerFailsClosed(t *testing.T) {
	dir := t.TempDir()
	ca, other := testpki.NewCA(t, "Server CA"), testpki.NewCA(t, "Other CA")
	f := ca.WriteCA(t, dir, "ca")
	p, err := LoadPool(f, false)
	if err != nil {
		t.Fatal(err)
	}
	leaf := func(issuer *testpki.CA, l testpki.Leaf) []*x509.Certificate {
		if l.CN == "" {
			l.CN, l.DNS, l.IPs = "llm", []string{"llm.test"}, []net.IP{net.IPv4(127, 0, 0, 1)}
		}
		return []*x509.Certificate{issuer.Issue(t, l).Cert}
	}
	good := leaf(ca, testpki.Leaf{Server: true})
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	for _, tc := range []struct {
		name  string
		host  string
		chain []*x509.Certificate
		as    any // the error errors.As must find; nil: verified
	}{
		{"a certificate of the CA", "llm.test", good, nil},
		{"by IP address", "127.0.0.1", good, nil},
		{"another CA", "llm.test", leaf(other, testpki.Leaf{Server: true}), &unknown},
		{"another name", "other.test", good, &hostname},
		{"another IP address", "127.0.0.2", good, &hostname},
		{"expired", "llm.test", leaf(ca, testpki.Leaf{Server: true, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)}), &invalid},
		{"not yet valid", "llm.test", leaf(ca, testpki.Leaf{Server: true, NotBefore: time.Now().Add(time.Hour), NotAfter: time.Now().Add(48 * time.Hour)}), &invalid},
		{"a client certificate", "llm.test", leaf(ca, testpki.Leaf{Client: true}), &invalid},
		{"the trusted CA's own certificate", "llm.test", []*x509.Certificate{ca.Cert}, &hostname},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := p.VerifyServer(tc.host)(tls.ConnectionState{PeerCertificates: tc.chain})
			if tc.as == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var cve *tls.CertificateVerificationError
			if !errors.As(err, &cve) || !errors.As(err, tc.as) {
				t.Fatalf("err %v (%T), want a tls.CertificateVerificationError wrapping %T", err, err, tc.as)
			}
		})
	}
	if err := p.VerifyServer("llm.test")(tls.ConnectionState{}); err == nil {
		t.Fatal("no certificate verified")
	}
	if err := p.VerifyServer("")(tls.ConnectionState{PeerCertificates: good}); err == nil {
		t.Fatal("no name verified")
	}
	verify := p.VerifyServer("llm.test") // made before the reload, as a tls.Config is
	other.WriteCA(t, dir, "ca")
	if err := p.Reload(true); err != nil {
		t.Fatal(err)
	}
	if err := verify(tls.ConnectionState{PeerCertificates: good}); !errors.As(err, &unknown) {
		t.Fatalf("the old CA after the reload: %v", err)
	}
	if err := verify(tls.ConnectionState{PeerCertificates: leaf(other, testpki.Leaf{Server: true})}); err != nil {
		t.Fatalf("the new CA after the reload: %v", err)
	}
}

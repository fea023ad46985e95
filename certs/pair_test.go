package certs

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/testpki"
)

func TestReloadSwapsOnlyAGoodNewPair(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t, "Test CA")
	first := ca.Issue(t, testpki.Leaf{CN: "first"}).Write(t, dir, "leaf")
	p, err := LoadPair(first.CertFile, first.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Leaf().Subject.CommonName; got != "first" {
		t.Fatalf("loaded %q", got)
	}
	if err := p.Reload(false); !errors.Is(err, ErrUnchanged) {
		t.Fatalf("unchanged files: %v", err)
	}
	other := ca.Issue(t, testpki.Leaf{CN: "other"})
	expired := ca.Issue(t, testpki.Leaf{CN: "expired", NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})

	for _, tc := range []struct {
		name      string
		cert, key []byte
		want      string // an error containing it; "" a swap
	}{
		{"key of another certificate", other.CertPEM, first.KeyPEM, "cert_file and key_file"},
		{"no PEM in the key file", other.CertPEM, []byte("not a key"), "cert_file and key_file"},
		{"an expired certificate", expired.CertPEM, expired.KeyPEM, "expired"},
		{"a good new pair", other.CertPEM, other.KeyPEM, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := p.Leaf().Subject.CommonName
			testpki.WriteFile(t, first.KeyFile, tc.key)
			testpki.WriteFile(t, first.CertFile, tc.cert)
			err := p.Reload(false)
			if tc.want == "" {
				if err != nil || p.Leaf().Subject.CommonName != "other" {
					t.Fatalf("err %v, in use %q", err, p.Leaf().Subject.CommonName)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one naming %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), "BEGIN") {
				t.Fatalf("error quotes the files: %v", err)
			}
			if got := p.Leaf().Subject.CommonName; got != before {
				t.Fatalf("a refused pair replaced %q with %q", before, got)
			}
			// A refused version is not read (nor reported) again.
			if err := p.Reload(false); !errors.Is(err, ErrUnchanged) {
				t.Fatalf("second poll of the refused files: %v", err)
			}
		})
	}
}

func TestLoadPairNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t, "Test CA")
	good := ca.Issue(t, testpki.Leaf{CN: "x"}).Write(t, dir, "x")
	for _, tc := range []struct {
		name, cert, key, want string
	}{
		{"missing cert", filepath.Join(dir, "none.crt"), good.KeyFile, "cert_file:"},
		{"missing key", good.CertFile, filepath.Join(dir, "none.key"), "key_file:"},
		{"swapped", good.KeyFile, good.CertFile, "cert_file and key_file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := LoadPair(tc.cert, tc.key); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err %v, want prefix %q", err, tc.want)
			}
		})
	}
}

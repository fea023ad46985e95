// Package certs loads the TLS material Warden's connections use — its
// own serving certificate, the client certificates it presents to
// upstreams and MCP servers, private CA bundles — from PEM files, and
// swaps a certificate or a CA bundle for a new one when its files
// change, without a restart.
//
// A Pair is read once at start and handed to crypto/tls through
// GetCertificate (serving) or GetClientCertificate (calling out), which
// ask for the current certificate at each handshake: a connection keeps
// the certificate it was made with, so requests in flight finish on the
// old pair and new connections get the new one. Reload reads the files
// again and swaps only a pair that parses and whose key matches its
// certificate; a broken or already expired one is refused and the old
// pair kept. A Pool, a CA bundle, is reloaded the same way; a bundle
// without a certificate, or with one that does not parse, is refused.
//
// Errors name the file's role (cert_file, key_file, ca_file) and what
// was wrong, never the file's contents.
package certs

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Pair is a certificate chain and its private key read from two PEM
// files. Its methods are safe for concurrent use.
type Pair struct {
	certFile, keyFile string
	now               func() time.Time

	cur atomic.Pointer[tls.Certificate] // Leaf always set

	mu   sync.Mutex // serialises Reload
	seen stamp      // the files as last read, good or not
}

// stamp identifies a version of the two files as a poll can see it
// change: which file (a rename or a symlink swap, as Kubernetes does,
// gives a new one), its modification time and its size.
type stamp struct{ cert, key os.FileInfo }

func (a stamp) same(b stamp) bool { return sameFile(a.cert, b.cert) && sameFile(a.key, b.key) }

// sameFile reports whether x and y are one version of one file.
func sameFile(x, y os.FileInfo) bool {
	return x != nil && y != nil && os.SameFile(x, y) && x.ModTime().Equal(y.ModTime()) && x.Size() == y.Size()
}

// LoadPair reads certFile (a PEM chain, leaf first) and keyFile (its PEM
// private key). An expired certificate is loaded: the caller reports it
// (Warden's /readyz and `warden tls check`) rather than refusing to
// start.
func LoadPair(certFile, keyFile string) (*Pair, error) {
	p := &Pair{certFile: certFile, keyFile: keyFile, now: time.Now}
	st, err := statFiles(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	c, err := readPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	p.cur.Store(c)
	p.seen = st
	return p, nil
}

// Files are the certificate and key file names.
func (p *Pair) Files() (certFile, keyFile string) { return p.certFile, p.keyFile }

// Certificate is the current certificate.
func (p *Pair) Certificate() *tls.Certificate { return p.cur.Load() }

// Leaf is the current certificate's leaf.
func (p *Pair) Leaf() *x509.Certificate { return p.cur.Load().Leaf }

// GetCertificate serves the current certificate (tls.Config.GetCertificate).
func (p *Pair) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return p.cur.Load(), nil
}

// GetClientCertificate presents the current certificate to a server that
// asks for one (tls.Config.GetClientCertificate).
func (p *Pair) GetClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return p.cur.Load(), nil
}

// ErrUnchanged is Reload's answer when neither file changed since it was
// last read.
var ErrUnchanged = errors.New("certs: files unchanged")

// Reload reads the files again if their modification time or size
// changed since they were last read (always, with force). It returns
// ErrUnchanged when there was nothing to read, nil when the new pair is
// in use, and another error when the new pair was refused (unreadable,
// the key does not match, already expired): the old pair stays in use.
// A refused version is not read again until the files change again.
func (p *Pair) Reload(force bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	st, err := statFiles(p.certFile, p.keyFile)
	if err != nil {
		return err
	}
	if st.same(p.seen) && !force {
		return ErrUnchanged
	}
	p.seen = st
	c, err := readPair(p.certFile, p.keyFile)
	if err != nil {
		return err
	}
	if na := c.Leaf.NotAfter; p.now().After(na) {
		return fmt.Errorf("cert_file: the new certificate expired on %s; keeping the current one", na.UTC().Format(time.RFC3339))
	}
	p.cur.Store(c)
	return nil
}

func statFiles(certFile, keyFile string) (stamp, error) {
	ci, err := os.Stat(certFile)
	if err != nil {
		return stamp{}, fmt.Errorf("cert_file: %w", err)
	}
	ki, err := os.Stat(keyFile)
	if err != nil {
		return stamp{}, fmt.Errorf("key_file: %w", err)
	}
	return stamp{cert: ci, key: ki}, nil
}

// readPair reads and checks the two files. crypto/tls's errors describe
// the PEM structure, never its bytes.
func readPair(certFile, keyFile string) (*tls.Certificate, error) {
	cb, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("cert_file: %w", err)
	}
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("key_file: %w", err)
	}
	c, err := tls.X509KeyPair(cb, kb)
	if err != nil {
		return nil, fmt.Errorf("cert_file and key_file: %w", err)
	}
	if c.Leaf == nil {
		if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return nil, fmt.Errorf("cert_file: %w", err)
		}
	}
	return &c, nil
}

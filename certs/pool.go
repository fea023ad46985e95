package certs

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
)

// Pool is a CA bundle read from a PEM file — the CAs that may sign an
// upstream's certificate (tls.ca_file) or a client's (client_ca) — and
// reloaded, like a Pair, when the file changes. Its methods are safe for
// concurrent use.
//
// crypto/tls reads a tls.Config's RootCAs and ClientCAs at each
// handshake but offers no callback for them, so a Pool is handed over
// in two ways: VerifyServer checks a server against the current bundle
// (outbound), and CertPool is the current bundle for a per-handshake
// tls.Config (inbound, through GetConfigForClient).
type Pool struct {
	file   string
	system bool

	cur atomic.Pointer[bundle]

	mu   sync.Mutex // serialises Reload
	seen os.FileInfo
}

// bundle is one version of the file as trusted.
type bundle struct {
	pool *x509.CertPool
	n    int // certificates read from the file
}

// LoadPool reads caFile, a PEM bundle of CA certificates. With system,
// the pool is the system roots plus the bundle; without, the bundle
// alone is trusted.
func LoadPool(caFile string, system bool) (*Pool, error) {
	p := &Pool{file: caFile, system: system}
	fi, err := os.Stat(caFile)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	b, err := readBundle(caFile, system)
	if err != nil {
		return nil, err
	}
	p.cur.Store(b)
	p.seen = fi
	return p, nil
}

// File is the bundle's file name.
func (p *Pool) File() string { return p.file }

// CertPool is the current bundle (with the system roots, when asked).
// The caller must not add to it.
func (p *Pool) CertPool() *x509.CertPool { return p.cur.Load().pool }

// Len is the number of certificates read from the file in use (the
// system roots not counted).
func (p *Pool) Len() int { return p.cur.Load().n }

// Reload reads the file again if its modification time or size changed
// since it was last read (always, with force). It returns ErrUnchanged
// when there was nothing to read, nil when the new bundle is in use, and
// another error when it was refused (unreadable, no certificate, a block
// that does not parse): the old bundle stays in use. A refused version
// is not read again until the file changes again.
func (p *Pool) Reload(force bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	fi, err := os.Stat(p.file)
	if err != nil {
		return fmt.Errorf("ca_file: %w", err)
	}
	if sameFile(fi, p.seen) && !force {
		return ErrUnchanged
	}
	p.seen = fi
	b, err := readBundle(p.file, p.system)
	if err != nil {
		return err
	}
	p.cur.Store(b)
	return nil
}

// VerifyServer is a tls.Config.VerifyConnection for a client whose
// config sets InsecureSkipVerify (so that crypto/tls does not verify
// against a fixed RootCAs): it verifies the server's chain as crypto/tls
// would — against the current bundle, with the intermediates the server
// sent, for name (the configured server name or the URL's host, a DNS
// name or an IP address; never empty) and for server authentication at
// the present time. Its errors are crypto/tls's own
// (*tls.CertificateVerificationError wrapping crypto/x509's).
func (p *Pool) VerifyServer(name string) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if name == "" {
			return errors.New("certs: no server name to verify")
		}
		if len(cs.PeerCertificates) == 0 {
			return errors.New("certs: the server sent no certificate")
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
			Roots:         p.CertPool(),
			Intermediates: inter,
			DNSName:       name,
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		})
		if err != nil {
			return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
		}
		return nil
	}
}

func readBundle(caFile string, system bool) (*bundle, error) {
	certs, err := ReadChain(caFile)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if system {
		// SystemCertPool returns a copy: adding to it changes no other
		// pool.
		if pool, err = x509.SystemCertPool(); err != nil {
			return nil, fmt.Errorf("ca_file: the system roots: %w", err)
		}
	}
	for _, c := range certs {
		pool.AddCert(c)
	}
	return &bundle{pool: pool, n: len(certs)}, nil
}

// ReadChain reads every CERTIFICATE block of a PEM file, in order. Other
// blocks (a key in the same file) are skipped, unread. A file without a
// certificate is an error.
func ReadChain(file string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	for n := 1; ; n++ {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: not a valid certificate", n)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificate found")
	}
	return out, nil
}

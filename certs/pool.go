package certs

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// LoadPool reads a PEM bundle of CA certificates. With system, the
// pool is the system roots plus the bundle; without, the bundle alone
// is trusted.
func LoadPool(caFile string, system bool) (*x509.CertPool, error) {
	certs, err := ReadChain(caFile)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if system {
		if pool, err = x509.SystemCertPool(); err != nil {
			return nil, fmt.Errorf("ca_file: the system roots: %w", err)
		}
	}
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
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

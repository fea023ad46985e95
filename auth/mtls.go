package auth

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
)

// MTLSConfig maps verified TLS client certificates to principals. The
// TLS listener must ask for client certificates and verify them against
// the client CA (serve's job); only certificates in r.TLS.VerifiedChains
// are considered. A verified certificate that no entry matches is
// ignored, and the request's bearer credential is tried instead.
type MTLSConfig struct {
	// Principals are tried in order; the first whose selector matches
	// the leaf certificate wins.
	Principals []MTLSPrincipal `yaml:"principals"`
}

// MTLSPrincipal maps one certificate identity to a principal. Exactly
// one of CN, DNS, URI, Email and SPIFFE must be set.
type MTLSPrincipal struct {
	// CN matches the subject common name.
	CN string `yaml:"cn"`
	// DNS matches a DNS name in the subject alternative names.
	DNS string `yaml:"dns"`
	// URI matches a URI SAN, e.g. a SPIFFE id spiffe://corp/ns/app.
	URI string `yaml:"uri"`
	// Email matches an email address SAN.
	Email string `yaml:"email"`
	// SPIFFE matches the SPIFFE ID of an X.509-SVID (a certificate with
	// exactly one URI SAN, a valid spiffe:// ID): an exact ID
	// (spiffe://corp.example/ns/prod/sa/billing), or every ID under a
	// path or in a trust domain when it ends in /*
	// (spiffe://corp.example/ns/prod/*, spiffe://corp.example/*).
	SPIFFE string `yaml:"spiffe"`
	// Name is the principal's name. Default: the matched value (for a
	// spiffe pattern ending in /*, the caller's own SPIFFE ID).
	Name string `yaml:"name"`
	// Tenant defaults to "default".
	Tenant string   `yaml:"tenant"`
	Roles  []string `yaml:"roles"`
	// Models the principal may use; "*" for all. Required.
	Models []string `yaml:"models"`
}

type mtlsMapper struct{ entries []MTLSPrincipal }

func newMTLSMapper(cfg MTLSConfig) (*mtlsMapper, error) {
	if len(cfg.Principals) == 0 {
		return nil, nil
	}
	m := &mtlsMapper{}
	for i, e := range cfg.Principals {
		n := 0
		for _, s := range []string{e.CN, e.DNS, e.URI, e.Email, e.SPIFFE} {
			if s != "" {
				n++
			}
		}
		if n != 1 {
			return nil, fmt.Errorf("auth.mtls.principals[%d]: set exactly one of cn, dns, uri, email, spiffe", i)
		}
		if e.SPIFFE != "" {
			if err := checkSPIFFEPattern(e.SPIFFE); err != nil {
				return nil, fmt.Errorf("auth.mtls.principals[%d].spiffe: %w", i, err)
			}
		}
		if len(e.Models) == 0 {
			return nil, fmt.Errorf("auth.mtls.principals[%d].models: name at least one model (or *)", i)
		}
		if e.Name == "" && !strings.HasSuffix(e.SPIFFE, "/*") {
			e.Name = e.CN + e.DNS + e.URI + e.Email + e.SPIFFE
		}
		if e.Tenant == "" {
			e.Tenant = "default"
		}
		if !namePattern.MatchString(e.Tenant) {
			return nil, errors.New("auth.mtls.principals[" + fmt.Sprint(i) + "].tenant: 1-128 letters, digits, '.', '_', '@', '-'")
		}
		m.entries = append(m.entries, e)
	}
	return m, nil
}

// principal maps a verified leaf certificate, or returns nil.
func (m *mtlsMapper) principal(cert *x509.Certificate) *Principal {
	for _, e := range m.entries {
		if matchCert(e, cert) {
			name := e.Name
			if name == "" { // a spiffe pattern: the caller's own ID
				id, _ := x509svid.IDFromCert(cert)
				name = id.String()
			}
			return &Principal{Name: name, Tenant: e.Tenant, Roles: e.Roles, Models: e.Models,
				Method: MethodMTLS, Expires: cert.NotAfter}
		}
	}
	return nil
}

// checkSPIFFEPattern accepts a SPIFFE ID, or one with /* for every ID
// below it (spiffe://td/* for the whole trust domain).
func checkSPIFFEPattern(p string) error {
	base, wild := strings.CutSuffix(p, "/*")
	if wild {
		if td, err := spiffeid.TrustDomainFromString(base); err == nil && td.IDString() == base {
			return nil
		}
	}
	if _, err := spiffeid.FromString(base); err != nil {
		return errors.New("want a SPIFFE ID spiffe://trust-domain/path, or one ending in /*")
	}
	return nil
}

// matchSPIFFE reports whether the certificate is an X.509-SVID whose ID
// the pattern names.
func matchSPIFFE(pattern string, c *x509.Certificate) bool {
	id, err := x509svid.IDFromCert(c)
	if err != nil {
		return false
	}
	if prefix, wild := strings.CutSuffix(pattern, "*"); wild {
		return strings.HasPrefix(id.String(), prefix)
	}
	return id.String() == pattern
}

func matchCert(e MTLSPrincipal, c *x509.Certificate) bool {
	switch {
	case e.CN != "":
		return c.Subject.CommonName == e.CN
	case e.DNS != "":
		for _, d := range c.DNSNames {
			if d == e.DNS {
				return true
			}
		}
	case e.URI != "":
		for _, u := range c.URIs {
			if u.String() == e.URI {
				return true
			}
		}
	case e.Email != "":
		for _, a := range c.EmailAddresses {
			if a == e.Email {
				return true
			}
		}
	case e.SPIFFE != "":
		return matchSPIFFE(e.SPIFFE, c)
	}
	return false
}

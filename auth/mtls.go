package auth

import (
	"crypto/x509"
	"errors"
	"fmt"
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
// one of CN, DNS, URI and Email must be set.
type MTLSPrincipal struct {
	// CN matches the subject common name.
	CN string `yaml:"cn"`
	// DNS matches a DNS name in the subject alternative names.
	DNS string `yaml:"dns"`
	// URI matches a URI SAN, e.g. a SPIFFE id spiffe://corp/ns/app.
	URI string `yaml:"uri"`
	// Email matches an email address SAN.
	Email string `yaml:"email"`
	// Name is the principal's name. Default: the matched value.
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
		for _, s := range []string{e.CN, e.DNS, e.URI, e.Email} {
			if s != "" {
				n++
			}
		}
		if n != 1 {
			return nil, fmt.Errorf("auth.mtls.principals[%d]: set exactly one of cn, dns, uri, email", i)
		}
		if len(e.Models) == 0 {
			return nil, fmt.Errorf("auth.mtls.principals[%d].models: name at least one model (or *)", i)
		}
		if e.Name == "" {
			e.Name = e.CN + e.DNS + e.URI + e.Email
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
			return &Principal{Name: e.Name, Tenant: e.Tenant, Roles: e.Roles, Models: e.Models,
				Method: MethodMTLS, Expires: cert.NotAfter}
		}
	}
	return nil
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
	}
	return false
}

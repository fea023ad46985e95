package gateway

import (
	"crypto/x509"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
)

func TestTLSFailureNamesTheSetting(t *testing.T) {
	wrap := func(err error) error {
		return &url.Error{Op: "Post", URL: "https://llm.test/v1/chat/completions", Err: err}
	}
	for _, tc := range []struct {
		name string
		err  error
		want string // "" not a TLS failure
	}{
		{"unknown authority", wrap(x509.UnknownAuthorityError{}), "tls.ca_file"},
		{"wrong name", wrap(x509.HostnameError{Certificate: &x509.Certificate{}, Host: "llm.test"}), "tls.server_name"},
		{"expired", wrap(x509.CertificateInvalidError{Cert: &x509.Certificate{}, Reason: x509.Expired}), "expired"},
		{"client certificate required", wrap(errors.New("remote error: tls: certificate required")), "tls.cert_file"},
		{"bad client certificate", wrap(errors.New("remote error: tls: bad certificate")), "refused the gateway's client certificate"},
		{"connection refused", wrap(&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}), ""},
		{"plain error", errors.New("EOF"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tlsFailure(tc.err)
			if tc.want == "" {
				if got != "" {
					t.Fatalf("%q for a non-TLS error", got)
				}
				return
			}
			if !strings.Contains(got, tc.want) {
				t.Fatalf("%q does not name %q", got, tc.want)
			}
			if strings.Contains(got, "llm.test") {
				t.Fatalf("%q quotes the host or certificate", got)
			}
		})
	}
}

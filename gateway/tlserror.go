package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
)

// tlsFailure names, in the gateway's words, why a TLS connection to an
// upstream or MCP server failed, or returns "" for an error that is not
// a TLS failure. The words point at the setting to check; they never
// quote the certificate (its subject, issuer or names), which
// crypto/x509's own messages do.
func tlsFailure(err error) string {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
		record   tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &unknown):
		return "the server's certificate is not signed by a CA the gateway trusts (tls.ca_file)"
	case errors.As(err, &hostname):
		return "the server's certificate is not valid for the name it was called by (the URL's host or tls.server_name)"
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired {
			return "the server's certificate has expired or is not yet valid"
		}
		return "the server's certificate is not valid for TLS server authentication"
	case errors.As(err, &verify):
		return "the server's certificate could not be verified"
	case errors.As(err, &record):
		return "the server did not answer in TLS (is it plain http://?)"
	}
	// A server's alert arrives as "remote error: tls: <alert>" (the
	// alert type is not exported).
	msg := err.Error()
	if i := strings.Index(msg, "remote error: tls: "); i >= 0 {
		alert := msg[i+len("remote error: tls: "):]
		switch {
		case strings.Contains(alert, "certificate required"), strings.Contains(alert, "bad certificate"),
			strings.Contains(alert, "unknown certificate authority"), strings.Contains(alert, "certificate expired"),
			strings.Contains(alert, "certificate revoked"), strings.Contains(alert, "unknown certificate"):
			return "the server refused the gateway's client certificate, or needs one (tls.cert_file, tls.key_file): " + alert
		}
		return "the server ended the TLS handshake: " + alert
	}
	if strings.Contains(msg, "tls: ") {
		return "the TLS handshake failed"
	}
	return ""
}

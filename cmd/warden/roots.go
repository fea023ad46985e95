package main

// The container image (scripts/image.sh) has no CA bundle file: when the
// system has none, Go uses these roots, Mozilla's set as pinned by the
// module version in go.mod (so the SBOM lists it, scanners see its age, and
// the same commit builds the same image on any machine). A bundle at
// /etc/ssl/certs/ca-certificates.crt, or SSL_CERT_FILE / SSL_CERT_DIR,
// takes precedence, so a mounted corporate bundle still works.
import _ "golang.org/x/crypto/x509roots/fallback"

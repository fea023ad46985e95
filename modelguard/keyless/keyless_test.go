package keyless

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wardenhq/warden/modelguard"
)

// fixture is a private CA, a Fulcio-style leaf certificate for an e-mail
// identity, a model directory signed by the leaf's key, and the trusted
// root that names the CA.
type fixture struct {
	dir         string
	bundle      []byte
	trustedRoot []byte
}

const (
	testSAN    = "signer@example.com"
	testIssuer = "https://issuer.example.com"
)

var oidFulcioIssuerV2 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}

func newFixture(t *testing.T) fixture {
	t.Helper()
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA", Organization: []string{"test"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	issuerExt, _ := asn1.Marshal(testIssuer)
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), NotBefore: now.Add(-time.Minute), NotAfter: now.Add(10 * time.Minute),
		EmailAddresses: []string{testSAN}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		ExtraExtensions: []pkix.Extension{{Id: oidFulcioIssuerV2, Value: issuerExt}},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}

	dir := filepath.Join(t.TempDir(), "model")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"weights.bin": "0123456789", "config.json": "{}"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	keyBundle, err := modelguard.Sign(context.Background(), dir, leafKey)
	if err != nil {
		t.Fatal(err)
	}
	// Swap the key hint for the certificate, as a keyless signer writes it.
	var b map[string]any
	if err := json.Unmarshal(keyBundle, &b); err != nil {
		t.Fatal(err)
	}
	b["verificationMaterial"] = map[string]any{"certificate": map[string]any{"rawBytes": base64.StdEncoding.EncodeToString(leafDER)}}
	bundle, _ := json.Marshal(b)

	tr, _ := json.Marshal(map[string]any{
		"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
		"certificateAuthorities": []any{map[string]any{
			"subject":   map[string]any{"organization": "test", "commonName": "test CA"},
			"uri":       "https://ca.example.com",
			"certChain": map[string]any{"certificates": []any{map[string]any{"rawBytes": base64.StdEncoding.EncodeToString(caDER)}}},
			"validFor":  map[string]any{"start": now.Add(-time.Hour).UTC().Format(time.RFC3339)},
		}},
		"tlogs": []any{}, "ctlogs": []any{}, "timestampAuthorities": []any{},
	})
	return fixture{dir: dir, bundle: bundle, trustedRoot: tr}
}

func TestVerifyKeyless(t *testing.T) {
	f := newFixture(t)
	ok := Policy{SAN: testSAN, Issuer: testIssuer, NoTransparency: true}
	tests := []struct {
		name    string
		policy  Policy
		mutate  func(t *testing.T)
		wantErr error
	}{
		{name: "identity matches", policy: ok},
		{name: "regexp identity", policy: Policy{SANRegexp: `^signer@example\.com$`, IssuerRegexp: `^https://issuer\.`, NoTransparency: true}},
		{name: "other SAN", policy: Policy{SAN: "mallory@example.com", Issuer: testIssuer, NoTransparency: true}, wantErr: ErrNotVerified},
		{name: "other issuer", policy: Policy{SAN: testSAN, Issuer: "https://evil.example.com", NoTransparency: true}, wantErr: ErrNotVerified},
		{name: "transparency log required", policy: Policy{SAN: testSAN, Issuer: testIssuer}, wantErr: ErrNotVerified},
		{name: "no identity", policy: Policy{Issuer: testIssuer}, wantErr: ErrPolicy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Verify(context.Background(), f.dir, f.bundle, f.trustedRoot, tc.policy)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.Model != "model" || v.Files != 2 {
				t.Fatalf("verified %+v", v)
			}
		})
	}
	t.Run("tampered payload", func(t *testing.T) {
		var b struct {
			MediaType            string          `json:"mediaType"`
			VerificationMaterial json.RawMessage `json:"verificationMaterial"`
			DSSEEnvelope         struct {
				Payload     []byte          `json:"payload"`
				PayloadType string          `json:"payloadType"`
				Signatures  json.RawMessage `json:"signatures"`
			} `json:"dsseEnvelope"`
		}
		if err := json.Unmarshal(f.bundle, &b); err != nil {
			t.Fatal(err)
		}
		b.DSSEEnvelope.Payload[len(b.DSSEEnvelope.Payload)-2] ^= 1
		tampered, _ := json.Marshal(b)
		if _, err := Verify(context.Background(), f.dir, tampered, f.trustedRoot, ok); !errors.Is(err, ErrNotVerified) {
			t.Fatalf("err = %v, want ErrNotVerified", err)
		}
	})
	t.Run("changed weight file", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(f.dir, "weights.bin"), []byte("0123456788"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Verify(context.Background(), f.dir, f.bundle, f.trustedRoot, ok)
		var mm *modelguard.MismatchError
		if !errors.As(err, &mm) || len(mm.Changed) != 1 || mm.Changed[0] != "weights.bin" {
			t.Fatalf("err = %v, want weights.bin changed", err)
		}
	})
}

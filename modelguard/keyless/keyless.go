// Package keyless verifies model-signing bundles made with Sigstore
// keyless signing (a short-lived Fulcio certificate bound to an OIDC
// identity, logged in Rekor), as the model-signing reference tool writes
// them with 'model_signing sign sigstore'. The bundle is checked with
// sigstore-go against a trusted root that the caller supplies (no network:
// the root is not fetched through TUF), then the signed manifest is checked
// against the model directory with modelguard.VerifyPayload.
//
// It is a separate package so that only callers that need keyless
// verification link sigstore-go and its dependencies.
package keyless

import (
	"context"
	"errors"
	"fmt"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/wardenhq/warden/modelguard"
)

// Policy says which signer identity is accepted and how much proof is
// required. Exactly one of SAN and SANRegexp, and one of Issuer and
// IssuerRegexp, must be set.
type Policy struct {
	// SAN is the exact certificate subject alternative name (an e-mail
	// address or a workload URI); SANRegexp matches it with a regexp.
	SAN, SANRegexp string
	// Issuer is the exact OIDC issuer recorded in the certificate
	// (e.g. https://accounts.google.com); IssuerRegexp matches it.
	Issuer, IssuerRegexp string
	// NoTransparency drops the requirements of a transparency-log entry and
	// a signed certificate timestamp and checks the certificate's validity
	// at the current time instead. For private CAs without Rekor or CT
	// logs; the default (false) requires one Rekor entry, one SCT and one
	// observer timestamp, as the Sigstore public-good instance provides.
	NoTransparency bool
}

// ErrPolicy means the policy is incomplete.
var ErrPolicy = errors.New("keyless: policy needs an identity (SAN or SANRegexp) and an issuer (Issuer or IssuerRegexp)")

// ErrNotVerified wraps every failure of the Sigstore checks (certificate
// chain, identity, transparency log, signature).
var ErrNotVerified = errors.New("keyless: bundle does not verify")

// Verify checks bundleJSON (the content of model.sig) against the trusted
// root (trusted_root.json, Sigstore's TrustedRoot JSON) and the policy,
// then every file of dir against the signed manifest. Errors wrap
// ErrNotVerified, ErrPolicy, modelguard.ErrMalformedBundle, or are a
// *modelguard.MismatchError.
func Verify(ctx context.Context, dir string, bundleJSON, trustedRootJSON []byte, p Policy) (*modelguard.Verified, error) {
	if (p.SAN == "") == (p.SANRegexp == "") || (p.Issuer == "") == (p.IssuerRegexp == "") {
		return nil, ErrPolicy
	}
	tr, err := root.NewTrustedRootFromJSON(trustedRootJSON)
	if err != nil {
		return nil, fmt.Errorf("keyless: trusted root: %w", err)
	}
	var opts []verify.VerifierOption
	if p.NoTransparency {
		opts = append(opts, verify.WithCurrentTime())
	} else {
		opts = append(opts, verify.WithSignedCertificateTimestamps(1), verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1))
	}
	v, err := verify.NewVerifier(tr, opts...)
	if err != nil {
		return nil, fmt.Errorf("keyless: %w", err)
	}
	var b bundle.Bundle
	if err := b.UnmarshalJSON(bundleJSON); err != nil {
		return nil, fmt.Errorf("%w: %v", modelguard.ErrMalformedBundle, err)
	}
	env := b.GetDsseEnvelope()
	if env == nil {
		return nil, fmt.Errorf("%w: no DSSE envelope", modelguard.ErrMalformedBundle)
	}
	if b.GetVerificationMaterial().GetPublicKey() != nil {
		return nil, fmt.Errorf("%w: bundle is signed with a key, not a certificate", ErrNotVerified)
	}
	id, err := verify.NewShortCertificateIdentity(p.Issuer, p.IssuerRegexp, p.SAN, p.SANRegexp)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPolicy, err)
	}
	// The artifact is the model directory, checked below against the
	// signed manifest, so sigstore-go verifies the envelope signature only.
	if _, err := v.Verify(&b, verify.NewPolicy(verify.WithoutArtifactUnsafe(), verify.WithCertificateIdentity(id))); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotVerified, err)
	}
	return modelguard.VerifyPayload(ctx, dir, env.GetPayloadType(), env.GetPayload())
}

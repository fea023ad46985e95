package gateway

import (
	"context"
	"errors"
	"net/http"

	"github.com/wardenhq/warden/audit/event"
	"github.com/wardenhq/warden/detect"
	"github.com/wardenhq/warden/policy"
	"github.com/wardenhq/warden/ratelimit"
	"github.com/wardenhq/warden/transform"
)

// Principal is an authenticated caller.
type Principal struct {
	// Name identifies the caller in logs and audit records.
	Name string
	// Tenant scopes the caller's tokens.
	Tenant string
	Roles  []string
	// Models the caller may use; "*" allows every configured model.
	Models []string
	// Method says how the caller authenticated (apikey, jwt, oidc, mtls).
	Method string
}

// MayUse reports whether the principal's allowlist admits model.
func (p *Principal) MayUse(model string) bool {
	for _, m := range p.Models {
		if m == "*" || m == model {
			return true
		}
	}
	return false
}

// ErrUnauthenticated is returned by an Authenticator for missing or bad
// credentials; the gateway answers 401.
var ErrUnauthenticated = errors.New("gateway: missing or invalid credentials")

// Authenticator identifies the caller of a request.
type Authenticator interface {
	Authenticate(r *http.Request) (*Principal, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(r *http.Request) (*Principal, error)

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(r *http.Request) (*Principal, error) { return f(r) }

// Detector finds sensitive spans in text.
type Detector interface {
	Scan(text string) []detect.Finding
}

// budgetDetector is a Detector that decodes encoded runs (base64, hex,
// percent-encoding) within a budget shared by many scans: one request's
// (package detect's Engine).
type budgetDetector interface {
	NewDecodeBudget() *detect.DecodeBudget
	ScanWithBudget(text string, b *detect.DecodeBudget) []detect.Finding
}

// Policy decides what happens to a request (package policy's Engine).
type Policy interface {
	Decide(in policy.Input) (policy.Decision, error)
	// Version identifies the active policy (a hash), for audit records.
	Version() string
}

// Tokens gives the tenant-scoped token issuer and revealer.
type Tokens interface {
	Tokenizer(tenant string) transform.Tokenizer
	Revealer(tenant string) transform.Revealer
}

// Limiter enforces requests/min and tokens/min (package ratelimit's
// Memory or Redis). Take admits a request of an estimated size; Adjust
// corrects the estimate with the upstream's reported usage.
type Limiter interface {
	Take(ctx context.Context, key string, lim ratelimit.Limit, tokens int) (ratelimit.Result, error)
	Adjust(ctx context.Context, key string, lim ratelimit.Limit, deltaTokens int) error
}

// Auditor records one event per request and returns its log index.
type Auditor interface {
	Record(ctx context.Context, rec *event.Record) (index int64, err error)
}

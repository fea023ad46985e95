package gateway_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wardenhq/warden/detect"
	"github.com/wardenhq/warden/gateway"
	"github.com/wardenhq/warden/policy"
	"github.com/wardenhq/warden/transform"
)

// newTestGateway serves a gateway built from cfg and deps, filling what
// they leave unset: a caller alice of tenant acme who may use every
// model, the default detector and policy, and a fixed transform key.
func newTestGateway(t *testing.T, cfg gateway.Config, deps gateway.Deps) *httptest.Server {
	t.Helper()
	if deps.Auth == nil {
		deps.Auth = gateway.AuthenticatorFunc(func(r *http.Request) (*gateway.Principal, error) {
			return &gateway.Principal{Name: "alice", Tenant: "acme", Models: []string{"*"}}, nil
		})
	}
	if deps.Detector == nil {
		eng, err := detect.New(detect.Config{})
		if err != nil {
			t.Fatal(err)
		}
		deps.Detector = eng
	}
	if deps.Policy == nil {
		pol, err := policy.New(policy.Config{})
		if err != nil {
			t.Fatal(err)
		}
		deps.Policy = pol
	}
	if cfg.Key.IsZero() {
		key, err := transform.NewKey(bytes.Repeat([]byte{7}, 32))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Key = key
	}
	gw, err := gateway.New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(gw)
	srv.Listener = gateway.GuardFraming(srv.Listener)
	srv.Config.ConnContext = gateway.FramingContext
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// upstreamURL serves h as an upstream and returns its API base URL.
func upstreamURL(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

package auth

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// TestConfigYAML pins the config keys (the auth: section of warden.yaml)
// and that durations read as Go durations.
func TestConfigYAML(t *testing.T) {
	const doc = `
api_keys:
  cache_ttl: 10s
tokens:
  issuer: https://warden.corp.example
  audience: warden
  lifetime: 5m
  rotation: 12h
  leeway: 20s
oidc:
  issuer: https://login.corp.example/
  audience: warden-gateway
  jwks_url: https://login.corp.example/keys
  algorithms: [RS256, ES256]
  claims:
    principal: email
    tenant: org
    roles: realm_access.roles
    models: models
  default_tenant: corp
  role_models:
    analyst: [gpt-4o-mini]
  default_models: [small]
  leeway: 90s
  jwks_refresh: 30m
  jwks_min_interval: 2m
mtls:
  principals:
    - cn: batch-job
      tenant: ops
      models: ["*"]
    - uri: spiffe://corp/ns/app
      name: app
      roles: [svc]
      models: [gpt-4o]
`
	var cfg Config
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"api_keys.cache_ttl", cfg.APIKeys.CacheTTL, 10 * time.Second},
		{"tokens.lifetime", cfg.Tokens.Lifetime, 5 * time.Minute},
		{"tokens.rotation", cfg.Tokens.Rotation, 12 * time.Hour},
		{"tokens.leeway", cfg.Tokens.Leeway, 20 * time.Second},
		{"tokens.issuer", cfg.Tokens.Issuer, "https://warden.corp.example"},
		{"oidc.claims.roles", cfg.OIDC.Claims.Roles, "realm_access.roles"},
		{"oidc.role_models", strings.Join(cfg.OIDC.RoleModels["analyst"], ","), "gpt-4o-mini"},
		{"oidc.leeway", cfg.OIDC.Leeway, 90 * time.Second},
		{"oidc.jwks_min_interval", cfg.OIDC.JWKSMinInterval, 2 * time.Minute},
		{"oidc.algorithms", strings.Join(cfg.OIDC.Algorithms, ","), "RS256,ES256"},
		{"mtls.principals[1].uri", cfg.MTLS.Principals[1].URI, "spiffe://corp/ns/app"},
		{"mtls.principals[0].models", strings.Join(cfg.MTLS.Principals[0].Models, ","), "*"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

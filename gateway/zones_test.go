package gateway_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/wardenhq/warden/gateway"
	"github.com/wardenhq/warden/policy"
)

// Rules that read zone are decided for each candidate upstream's zone:
// a zone the policy refuses is skipped, never used as a fallback, and a
// zone's own operators apply to what it receives.
func TestPolicyDecidesPerZone(t *testing.T) {
	const email = "jane.canary@example.com"
	rules := []policy.Rule{
		{Name: "no-pii-in-cloud", When: `zone == "cloud" && has_category("PII")`, Action: policy.Deny, Reason: "PII may not leave the premises"},
		{Name: "onprem-sees-pii", When: `zone == "onprem"`, Operators: map[string]string{"PII": "allow"}},
	}
	type zoned struct{ name, zone string }
	for _, tc := range []struct {
		name      string
		upstreams []zoned
		body      string
		status    int
		want      string // upstream that must receive the request ("" none)
		raw       bool   // whether it receives the email raw
	}{
		{"PII skips the cloud", []zoned{{"cloud-a", "cloud"}, {"local", "onprem"}}, "mail " + email, 200, "local", true},
		{"no PII may use the cloud", []zoned{{"cloud-a", "cloud"}, {"local", "onprem"}}, "hello there", 200, "cloud-a", false},
		{"only cloud: refused", []zoned{{"cloud-a", "cloud"}}, "mail " + email, 400, "", false},
		{"other zone tokenized", []zoned{{"dc", "eu"}}, "mail " + email, 200, "dc", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]*fixedUpstream{}
			var ups []*gateway.Upstream
			for _, z := range tc.upstreams {
				f := &fixedUpstream{reply: plainReply}
				got[z.name] = f
				ups = append(ups, &gateway.Upstream{Name: z.name, URL: upstreamURL(t, f), Zone: z.zone, Models: []string{"*"}})
			}
			pol, err := policy.New(policy.Config{Rules: rules})
			if err != nil {
				t.Fatal(err)
			}
			srv := newTestGateway(t, gateway.Config{Upstreams: ups}, gateway.Deps{Policy: pol})
			status, out := post(t, srv, `{"model":"m","messages":[{"role":"user","content":"`+tc.body+`"}]}`)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, out)
			}
			if tc.status == 400 && !strings.Contains(string(out), "PII may not leave the premises") {
				t.Errorf("refusal does not give the rule's reason: %s", out)
			}
			for name, f := range got {
				n := len(f.bodies)
				if name != tc.want {
					if n != 0 {
						t.Errorf("upstream %s received %d requests", name, n)
					}
					continue
				}
				if n != 1 {
					t.Fatalf("upstream %s received %d requests, want 1", name, n)
				}
				if raw := bytes.Contains(f.last(), []byte(email)); raw != tc.raw && strings.Contains(tc.body, email) {
					t.Errorf("upstream %s received the email raw=%v, want %v: %s", name, raw, tc.raw, f.last())
				}
			}
		})
	}
}

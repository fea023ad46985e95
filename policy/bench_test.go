package policy

import "testing"

// benchConfig is the default policy plus five typical rules.
func benchConfig() Config {
	rules := []Rule{
		Rule{Name: "interns-no-health", When: `"intern" in roles && has_category("HEALTH")`, Action: Deny},
		Rule{Name: "health-onprem", When: `has_category("HEALTH")`, Zones: []string{"onprem", "eu"}},
		Rule{Name: "eu-tenant", When: `tenant == "euco"`, Zones: []string{"eu", "onprem"}},
		Rule{Name: "mask-many-emails", When: `count("EMAIL_ADDRESS") > 2`, Operators: map[string]string{"EMAIL_ADDRESS": "mask"}},
		Rule{Name: "no-ssn-embeddings", When: `endpoint == "embeddings" && has_finding("US_SSN")`, Action: Deny},
	}
	return Config{Rules: rules}
}

func BenchmarkDecide(b *testing.B) {
	e := mustNew(b, benchConfig())
	in := input("EMAIL_ADDRESS:PII", "EMAIL_ADDRESS:PII", "EMAIL_ADDRESS:PII", "US_SSN:PII", "CREDIT_CARD:FINANCIAL", "MEDICAL_LICENSE:HEALTH")
	in.Tenant = "euco"
	b.ReportAllocs()
	for b.Loop() {
		d, err := e.Decide(in)
		if err != nil || d.Action != Deidentify {
			b.Fatal(d, err)
		}
	}
}

func BenchmarkDecideNoFindings(b *testing.B) {
	e := mustNew(b, benchConfig())
	in := input()
	b.ReportAllocs()
	for b.Loop() {
		if d, _ := e.Decide(in); d.Action != Allow {
			b.Fatal(d)
		}
	}
}

package policy_test

import (
	"fmt"

	"github.com/wardenhq/warden/policy"
)

func Example() {
	eng, err := policy.New(policy.Config{
		Rules: []policy.Rule{{
			Name:  "health-stays-onprem",
			When:  `has_category("HEALTH")`,
			Zones: []string{"onprem"},
		}},
	})
	if err != nil {
		panic(err)
	}
	in := policy.Input{Principal: "alice", Tenant: "acme", Model: "gpt-4o-mini", Endpoint: "chat"}
	in.Add("EMAIL_ADDRESS", "PII", 1)
	in.Add("MEDICAL_LICENSE", "HEALTH", 1)
	d, _ := eng.Decide(in)
	fmt.Println(d.Action, d.Zones, d.Operators["EMAIL_ADDRESS"], d.Rules)

	in.Add("AWS_ACCESS_KEY", "SECRET", 1)
	d, _ = eng.Decide(in)
	fmt.Println(d.Action, d.Reason)
	// Output:
	// deidentify [onprem] tokenize [health-stays-onprem]
	// deny request contains a credential (AWS_ACCESS_KEY); remove it and retry
}

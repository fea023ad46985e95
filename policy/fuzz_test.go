package policy

import (
	"strings"
	"testing"
)

// FuzzNew: any condition text either compiles or is refused with an error
// naming the rule; it never panics, and a compiled one evaluates without
// panicking.
func FuzzNew(f *testing.F) {
	for _, s := range []string{
		`has_category("SECRET")`, `count("EMAIL_ADDRESS") > 2 && "admin" in roles`,
		`roles.exists(r, r.startsWith("x"))`, `findings.all(k, findings[k] < 3)`,
		`model.matches("^gpt-") || zone == ""`, `size(categories) == 0`, `has(x.y)`, `count()`,
		`[1,2,3].map(x, x * 2).size() > 1`, `"a" + "b" == principal`, `1/0 == 1`, `'\xff' == tenant`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, when string) {
		e, err := New(Config{Rules: []Rule{{Name: "f", When: when}}})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "policy.rules[0].when:") {
				t.Fatalf("error does not name the field: %v", err)
			}
			return
		}
		in := input("EMAIL_ADDRESS:PII", "AWS_ACCESS_KEY:SECRET")
		in.Roles = []string{"a", "b", "admin"}
		d, err := e.Decide(in)
		if err != nil && d.Action != Deny {
			t.Fatalf("evaluation error %v with action %s", err, d.Action)
		}
	})
}

// FuzzDecide: whatever the caller's identity and findings, the default
// policy refuses every SECRET, and a deny reason carries only type names.
func FuzzDecide(f *testing.F) {
	f.Add("alice", "dev", "acme", "gpt-4o", "EMAIL_ADDRESS", "PII", 2)
	f.Add("AKIA0000", "x", "", "", "AWS_ACCESS_KEY", "SECRET", 1)
	f.Add("", "", "", "", "", "", 0)
	e := mustNew(f, Config{})
	f.Fuzz(func(t *testing.T, principal, role, tenant, model, typ, cat string, n int) {
		in := Input{Principal: principal, Roles: []string{role}, Tenant: tenant, Model: model, Endpoint: "chat"}
		in.Add(typ, cat, n)
		d, err := e.Decide(in)
		if err != nil {
			if d.Action != Deny {
				t.Fatalf("error %v with action %s", err, d.Action)
			}
			return
		}
		if cat == "SECRET" && n > 0 && d.Action != Deny {
			t.Fatalf("SECRET finding not refused: %+v", d)
		}
		if d.Action == Deny {
			types := strings.Join(d.DeniedTypes, ", ")
			if types == "" { // an empty type name (testdata/fuzz seed)
				types = "unspecified type"
			}
			want := "request contains a credential (" + types + "); remove it and retry"
			if d.Reason != want {
				t.Fatalf("reason %q, want %q", d.Reason, want)
			}
		}
	})
}

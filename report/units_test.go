package report

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/wardenhq/warden/detect"
)

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"alice", "alice", true},
		{"alice", "alicf", false},
		{"alice", "alice2", false},
		{"support-*", "support-bot", true},
		{"support-*", "support-", true},
		{"support-*", "suppor", false},
		{"*", "", true},
		{"*", "spiffe://acme.example/ns/prod/sa/bot", true},
		{"spiffe://acme.example/*/sa/bot", "spiffe://acme.example/ns/prod/sa/bot", true},
		{"spiffe://acme.example/*/sa/bot", "spiffe://acme.example/ns/prod/sa/bot2", false},
		{"gpt-4o?", "gpt-4o1", true},
		{"gpt-4o?", "gpt-4o", false},
		{"*-8b", "llama-med-8b", true},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"mcp:*", "mcp:crm", true},
		{"mcp:*", "gpt-4o", false},
		{"[a]", "a", false}, // no character classes: brackets are literal
		{"[a]", "[a]", true},
	}
	for _, tt := range tests {
		if got := Glob(tt.pattern, tt.name); got != tt.want {
			t.Errorf("Glob(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func TestFirstPurposeWins(t *testing.T) {
	ps := []Purpose{
		{Name: "a", Principals: []string{"svc-*"}, Tenants: []string{"acme"}},
		{Name: "b", Principals: []string{"svc-*"}},
		{Name: "c"},
	}
	for _, tt := range []struct {
		principal, tenant, model string
		want                     int
	}{
		{"svc-1", "acme", "m", 0},
		{"svc-1", "beta", "m", 1},
		{"bob", "acme", "m", 2},
	} {
		if got := purposeOf(ps, tt.principal, tt.tenant, tt.model); got != tt.want {
			t.Errorf("purposeOf(%s, %s) = %d, want %d", tt.principal, tt.tenant, got, tt.want)
		}
	}
	if purposeOf(ps[:2], "bob", "acme", "m") != -1 {
		t.Error("an unmatched request has a purpose")
	}
}

func TestIsCountry(t *testing.T) {
	n := 0
	for _, c := range strings.Fields(iso3166) {
		if !IsCountry(c) {
			t.Errorf("IsCountry(%s) = false", c)
		}
		n++
	}
	if n != 249 {
		t.Errorf("%d codes, ISO 3166-1 assigns 249", n)
	}
	for _, c := range []string{"UK", "EU", "de", "D", "DEU", "", "D ", " D", "ZZ", "XK"} {
		if IsCountry(c) {
			t.Errorf("IsCountry(%q) = true", c)
		}
	}
	for name, want := range map[string]int{"EU": 27, "EEA": 30} {
		g, _ := RegionGroup(name)
		if len(g) != want {
			t.Errorf("%s has %d members, want %d", name, len(g), want)
		}
		for _, c := range g {
			if !IsCountry(c) {
				t.Errorf("%s member %s is not a country code", name, c)
			}
		}
	}
}

func TestHomePlacement(t *testing.T) {
	h := newHome([]string{"EU", "CH", "eu-west-1"})
	for _, tt := range []struct {
		r    Recipient
		want placement
	}{
		{Recipient{Country: "DE"}, inside},
		{Recipient{Country: "CH"}, inside},
		{Recipient{Country: "US"}, outside},
		{Recipient{Country: "US", Region: "eu-west-1"}, inside},
		{Recipient{}, unknownPlace},
		{Recipient{Builtin: true}, inside},
	} {
		if got := h.place(tt.r); got != tt.want {
			t.Errorf("place(%+v) = %s, want %s", tt.r, got, tt.want)
		}
	}
	if newHome(nil).place(Recipient{Country: "US"}) != notAssessed {
		t.Error("no home region: a transfer was assessed")
	}
}

func TestMarkdownEscaping(t *testing.T) {
	for in, want := range map[string]string{
		"EMAIL_ADDRESS":         "EMAIL_ADDRESS",
		"_start and end_":       `\_start and end\_`,
		"a|b":                   `a\|b`,
		"<b>&":                  "&lt;b&gt;&amp;",
		"[x](y)":                `\[x\](y)`,
		"# not a heading":       `\# not a heading`,
		"x # y":                 "x # y",
		"- not a list":          `\- not a list`,
		"line\nbreak":           "line break",
		"`code` *em*":           "\\`code\\` \\*em\\*",
		`back\slash`:            `back\\slash`,
		"support-* and ~strike": `support-\* and \~strike`,
	} {
		if got := mdText(in); got != want {
			t.Errorf("mdText(%q) = %q, want %q", in, got, want)
		}
	}
	// In a table cell, a leading + or # starts nothing: a root hash
	// such as +edg7… stays as it is (copied from the report, it must
	// verify).
	for in, want := range map[string]string{"+edg7+Ed/A=": "+edg7+Ed/A=", "# x": "# x", "a|b": `a\|b`} {
		if got := mdCell(in); got != want {
			t.Errorf("mdCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCategoriesAgreeWithDetect scans the detector's own held-out
// corpus and checks that the report places every finding type the
// engine reports in the category the engine gives it (the log records
// types only).
func TestCategoriesAgreeWithDetect(t *testing.T) {
	eng, err := detect.New(detect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../detect/testdata/heldout-shapes.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var doc struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		for _, fd := range eng.Scan(doc.Text) {
			seen[fd.Type] = true
			if got := categorizer(nil).of(fd.Type); got != string(fd.Category) {
				t.Errorf("type %s: report category %s, detect says %s", fd.Type, got, fd.Category)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d finding types seen", len(seen))
	if len(seen) < 10 {
		t.Fatalf("only %d types seen in the corpus", len(seen))
	}
	for _, typ := range []string{"UK_NHS", "MEDICAL_RECORD_NUMBER", "CREDIT_CARD", "IP_ADDRESS", "GITHUB_TOKEN", "PERSON"} {
		if categorizer(nil).of(typ) == Unclassified {
			t.Errorf("%s is unclassified", typ)
		}
	}
	if c := categorizer(map[string]string{"EMPLOYEE_ID": Health}).of("EMPLOYEE_ID"); c != Health {
		t.Errorf("configured type: %s", c)
	}
}

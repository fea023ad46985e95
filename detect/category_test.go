package detect

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Every built-in type has a category, and it is the one the secret
// recognizers (SECRET) or the table give it.
func TestTypeCategoryCoversEveryBuiltinType(t *testing.T) {
	for _, r := range Builtins() {
		typed, ok := r.(interface{ Types() []string })
		if !ok {
			t.Errorf("recognizer %s does not list its types", r.Name())
			continue
		}
		for _, typ := range typed.Types() {
			if _, ok := TypeCategory(typ); !ok {
				t.Errorf("type %s of recognizer %s has no category in TypeCategory", typ, r.Name())
			}
		}
	}
	for typ := range secretTypes() {
		if c, ok := builtinCategories[typ]; ok {
			t.Errorf("secret type %s is listed as %s", typ, c)
		}
	}
}

// The table agrees with the recognizers: every finding on the test
// corpora (the held-out shapes, the names prose and the text of this
// package's tests, which hold examples of every family) has the category
// TypeCategory gives its type.
func TestTypeCategoryMatchesFindings(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, corpus := range []string{"testdata/heldout-shapes.jsonl", "testdata/names-prose.jsonl"} {
		f, err := os.Open(corpus)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var line struct{ Text string }
			if json.Unmarshal(sc.Bytes(), &line) == nil {
				texts = append(texts, line.Text)
			}
		}
		f.Close()
	}
	files, _ := filepath.Glob("*_test.go")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
	}
	seen := map[string]bool{}
	for _, text := range texts {
		for _, f := range e.Scan(text) {
			c, ok := TypeCategory(f.Type)
			if !ok || c != f.Category {
				t.Fatalf("finding of type %s has category %s; TypeCategory says %q (%v)", f.Type, f.Category, c, ok)
			}
			seen[f.Type] = true
		}
	}
	if len(seen) < 60 {
		t.Fatalf("the corpora produced findings of only %d types", len(seen))
	}
}

func TestConfigTypeCategory(t *testing.T) {
	cfg := Config{
		Custom: []CustomRecognizer{{Name: "emp", Type: "EMPLOYEE_ID", Category: Financial}},
		Deny:   []DenyRule{{Term: "x"}, {Term: "y", Type: "PROJECT", Category: Secret}},
		JSON:   JSONConfig{Fields: []FieldRule{{Path: "$.ssn", Action: FieldAlways, Type: "CUSTOMER_SSN", Category: Health}}},
	}
	for typ, want := range map[string]Category{"EMPLOYEE_ID": Financial, "DENY_LIST": PII, "PROJECT": Secret,
		"CUSTOMER_SSN": Health, "EMAIL_ADDRESS": PII, "AWS_ACCESS_KEY": Secret} {
		if got, ok := cfg.TypeCategory(typ); !ok || got != want {
			t.Errorf("%s: got %s %v, want %s", typ, got, ok, want)
		}
	}
	if _, ok := cfg.TypeCategory("NO_SUCH_TYPE"); ok {
		t.Error("an unknown type has a category")
	}
}

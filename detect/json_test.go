package detect

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

var updateJSONGolden = flag.Bool("update-json", false, "rewrite testdata/json golden files")

// testEmailPattern is the custom recognizer the JSON tests scan with.
const testEmailPattern = `[a-z]+@[a-z]+\.com`

func jsonTestEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := NewWith(Config{Custom: []CustomRecognizer{
		{Name: "t", Type: "EMAIL_ADDRESS", Pattern: testEmailPattern},
		{Name: "card", Type: "CREDIT_CARD", Category: Financial, Pattern: `\b4[0-9]{15}\b`, Score: 0.9},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func mustCompileJSON(t testing.TB, cfg JSONConfig) *JSONOptions {
	t.Helper()
	o, err := CompileJSON(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

type pathValue struct{ Path, Value string }

func walkAll(t *testing.T, doc string, o *JSONOptions) []pathValue {
	t.Helper()
	var got []pathValue
	out, err := WalkJSON([]byte(doc), o, func(v JSONValue) (string, bool, error) {
		got = append(got, pathValue{v.Path, strings.Clone(v.Value)})
		return "", false, nil
	})
	if err != nil {
		t.Fatalf("WalkJSON: %v", err)
	}
	if string(out) != doc {
		t.Fatalf("WalkJSON without changes altered the document")
	}
	return got
}

func TestJSONPaths(t *testing.T) {
	doc := `{"model":"gpt","messages":[{"role":"user","content":"hi"},` +
		`{"role":"assistant","content":["a",{"text":"b"}]}],` +
		`"odd key":"x","it's":{"a\\b":"y"},"":"empty","k\u00e9":"z",` +
		`"n":[1,-2.5e3,true,null,false],"ctrl\n":"c","9a":"d","_ok9":"e","a.b":"f","x":[[["deep"]]],` +
		`"\ud83d\ude00":"smile"}`
	want := []pathValue{
		{"$.model", "gpt"},
		{"$.messages[0].role", "user"},
		{"$.messages[0].content", "hi"},
		{"$.messages[1].role", "assistant"},
		{"$.messages[1].content[0]", "a"},
		{"$.messages[1].content[1].text", "b"},
		{"$['odd key']", "x"},
		{`$['it\'s']['a\\b']`, "y"},
		{"$['']", "empty"},
		{"$['ké']", "z"},
		{"$.n[0]", "1"},
		{"$.n[1]", "-2.5e3"},
		{`$['ctrl\n']`, "c"},
		{"$['9a']", "d"},
		{"$._ok9", "e"},
		{"$['a.b']", "f"},
		{"$.x[0][0][0]", "deep"},
		{"$['😀']", "smile"},
	}
	got := walkAll(t, doc, nil)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("paths:\n got %q\nwant %q", got, want)
	}
	// Every emitted path parses back to the same steps.
	for _, pv := range got {
		if _, err := parsePathPattern(pv.Path); err != nil {
			t.Errorf("path %s does not parse: %v", pv.Path, err)
		}
	}
	// Scalars at the top level.
	if got := walkAll(t, ` "top" `, nil); !reflect.DeepEqual(got, []pathValue{{"$", "top"}}) {
		t.Errorf("top-level string: %q", got)
	}
	o := mustCompileJSON(t, JSONConfig{SkipNumbers: true})
	if got := walkAll(t, `[1,"a",2]`, o); !reflect.DeepEqual(got, []pathValue{{"$[1]", "a"}}) {
		t.Errorf("skip_numbers: %q", got)
	}
}

func TestJSONPathPatternRoundTrip(t *testing.T) {
	keys := []string{"plain", "with space", "it's", `back\slash`, "tab\there", "\x01ctl", "é", "", "9", "a.b", "[x]", `"q"`}
	for _, k := range keys {
		p := string(appendPathKey([]byte("$"), []byte(k)))
		segs, err := parsePathPattern(p)
		if err != nil {
			t.Errorf("key %q: path %s: %v", k, p, err)
			continue
		}
		if len(segs) != 1 || segs[0].kind != segKey || segs[0].key != k {
			t.Errorf("key %q: path %s parsed to %+v", k, p, segs)
		}
	}
	good := map[string][]pathSeg{
		"$":                   nil,
		"$.a[*].b":            {{kind: segKey, key: "a"}, {kind: segAnyIndex}, {kind: segKey, key: "b"}},
		"$.*[3]":              {{kind: segAnyKey}, {kind: segIndex, index: 3}},
		`$["x y"]['z\u0041']`: {{kind: segKey, key: "x y"}, {kind: segKey, key: "zA"}},
		"$.customer-id.x_y.é": {{kind: segKey, key: "customer-id"}, {kind: segKey, key: "x_y"}, {kind: segKey, key: "é"}},
	}
	for p, want := range good {
		got, err := parsePathPattern(p)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("parse %s = %+v, %v; want %+v", p, got, err, want)
		}
	}
	for _, bad := range []string{"", "a.b", "$.", "$..a", "$[", "$[x]", "$[01]", "$[1", "$['a'", "$['a']x", "$.a*", "$[*", `$['\q']`, `$['\ud800']`, "$ .a"} {
		if _, err := parsePathPattern(bad); err == nil {
			t.Errorf("parse %q: no error", bad)
		}
	}
}

func TestScanJSONEscapes(t *testing.T) {
	e := jsonTestEngine(t)
	// Escapes before and between findings: \n, \" , \u00e9 (2 bytes
	// decoded), a surrogate pair (4 bytes decoded), \/ and \\.
	doc := `{"c": "line1\nmail \"bob@x.com\" \u00e9 \ud83d\ude00 ann@y.com\/\\ zed@q.com", "k": [ "plain joe@w.com" ]}`
	fs, err := e.ScanJSON([]byte(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	decoded := "line1\nmail \"bob@x.com\" é 😀 ann@y.com/\\ zed@q.com"
	type span struct {
		path, value string
	}
	var got []span
	for _, f := range fs {
		var v string
		if err := json.Unmarshal([]byte(doc[f.ValueStart:f.ValueEnd]), &v); err != nil {
			t.Fatalf("ValueStart/End %d:%d do not span a string literal: %v", f.ValueStart, f.ValueEnd, err)
		}
		if f.Type != "EMAIL_ADDRESS" {
			t.Errorf("type %s", f.Type)
		}
		got = append(got, span{f.Path, v[f.Start:f.End]})
		if f.Path == "$.c" && v != decoded {
			t.Errorf("decoded value %q, want %q", v, decoded)
		}
	}
	want := []span{{"$.c", "bob@x.com"}, {"$.c", "ann@y.com"}, {"$.c", "zed@q.com"}, {"$.k[0]", "joe@w.com"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("findings %q, want %q", got, want)
	}
	// Exact decoded offsets.
	wantOff := [][2]int{{12, 21}, {31, 40}, {43, 52}, {6, 15}}
	for i, f := range fs {
		if i < len(wantOff) && (f.Start != wantOff[i][0] || f.End != wantOff[i][1]) {
			t.Errorf("finding %d at %d:%d, want %d:%d", i, f.Start, f.End, wantOff[i][0], wantOff[i][1])
		}
	}
	if fs[0].ValueStart != 6 || fs[3].ValueStart != strings.Index(doc, `"plain`) {
		t.Errorf("raw spans %d, %d", fs[0].ValueStart, fs[3].ValueStart)
	}
}

func TestScanJSONKeysAndNumbers(t *testing.T) {
	e := jsonTestEngine(t)
	doc := `{"bob@x.com": "no mail here", "card": 4111111111111111, "price": 12.5, "s": "4111111111111111"}`
	fs, err := e.ScanJSON([]byte(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, f.Path+" "+f.Type+" "+doc[f.ValueStart:f.ValueEnd])
	}
	want := []string{"$.card CREDIT_CARD 4111111111111111", `$.s CREDIT_CARD "4111111111111111"`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	fs, err = e.ScanJSON([]byte(doc), mustCompileJSON(t, JSONConfig{SkipNumbers: true}))
	if err != nil || len(fs) != 1 || fs[0].Path != "$.s" {
		t.Errorf("skip_numbers: %+v, %v", fs, err)
	}
}

// keyContextRecognizer reports digit runs only when a context word is
// near, like the built-in weak recognizers do.
type keyContextRecognizer struct{}

func (keyContextRecognizer) Name() string        { return "ctx" }
func (keyContextRecognizer) Triggers() []Trigger { return []Trigger{{Kind: TriggerDigits}} }
func (keyContextRecognizer) Find(s *Scan, at int) {
	end := at
	for end < len(s.Text()) && isDigit(s.Text()[end]) {
		end++
	}
	ctx := s.Context(at, end, []string{"ssn"})
	s.Add(Finding{Type: "US_SSN", Category: PII, Start: at, End: end, Score: boosted(0.4, 0.35, ctx)})
}

func TestScanJSONKeyContext(t *testing.T) {
	e, err := NewWith(Config{}, []Recognizer{keyContextRecognizer{}})
	if err != nil {
		t.Fatal(err)
	}
	doc := []byte(`{"ssn": "123456789", "customer_ssn": ["987654321"], "zip": "12345", "ssn2": {"n": "555"}, "customerSsn": "111", "xssn": "222"}`)
	fs, err := e.ScanJSON(doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, fmt.Sprintf("%s %d:%d", f.Path, f.Start, f.End))
	}
	want := []string{"$.ssn 0:9", "$.customer_ssn[0] 0:9", "$.customerSsn 0:3"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("with key context %q, want %q", got, want)
	}
	fs, err = e.ScanJSON(doc, mustCompileJSON(t, JSONConfig{NoKeyContext: true}))
	if err != nil || len(fs) != 0 {
		t.Errorf("no_key_context: %v, %v", fs, err)
	}
}

func TestScanJSONFieldRules(t *testing.T) {
	e := jsonTestEngine(t)
	o := mustCompileJSON(t, JSONConfig{Fields: []FieldRule{
		{Path: "$.customer.ssn", Action: FieldAlways, Type: "US_SSN"},
		{Path: "$.customer.card", Action: FieldAlways, Type: "CREDIT_CARD", Category: Financial},
		{Path: "$.model", Action: FieldNever},
		{Path: "$.messages[*].role", Action: FieldNever},
		{Path: "$.metadata", Action: FieldNever},
		{Path: "$.metadata.owner", Action: FieldAlways, Type: "PERSON"},
		{Path: "$.*.tag", Action: FieldAlways, Type: "TAG"},
		{Path: "$.dup", Action: FieldNever},
		{Path: "$.dup", Action: FieldAlways, Type: "DUP"},
		{Path: "$.list[1]", Action: FieldAlways, Type: "SECOND"},
	}})
	doc := `{"model":"bob@x.com","customer":{"ssn":"078-05-1120","card":4111111111111111,"mail":"ann@y.com","ssn_empty":""},` +
		`"messages":[{"role":"joe@w.com","content":"hi kim@z.com"}],` +
		`"metadata":{"note":"pat@v.com","owner":{"first":"Ann","last":"Lee"}},` +
		`"a":{"tag":"t1"},"b":{"tag":{"x":"t2"}},"dup":"d","list":["a","b","c"]}`
	fs, err := e.ScanJSON([]byte(doc), o)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		v := doc[f.ValueStart:f.ValueEnd]
		got = append(got, fmt.Sprintf("%s %s %s %v %s", f.Path, f.Type, f.Category, f.Score, v))
	}
	want := []string{
		`$.customer.ssn US_SSN PII 1 "078-05-1120"`,
		`$.customer.card CREDIT_CARD FINANCIAL 1 4111111111111111`,
		`$.customer.mail EMAIL_ADDRESS PII 0.6 "ann@y.com"`,
		`$.messages[0].content EMAIL_ADDRESS PII 0.6 "hi kim@z.com"`,
		`$.metadata.owner.first PERSON PII 1 "Ann"`,
		`$.metadata.owner.last PERSON PII 1 "Lee"`,
		`$.a.tag TAG PII 1 "t1"`,
		`$.b.tag.x TAG PII 1 "t2"`,
		`$.dup DUP PII 1 "d"`,
		`$.list[1] SECOND PII 1 "b"`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("field rules:\n got %q\nwant %q", got, want)
	}
	// An always finding spans the whole decoded value.
	for _, f := range fs {
		if f.Path == "$.customer.ssn" && (f.Start != 0 || f.End != len("078-05-1120")) {
			t.Errorf("always span %d:%d", f.Start, f.End)
		}
	}
	// never also hides values from WalkJSON.
	for _, pv := range walkAll(t, doc, o) {
		if pv.Path == "$.model" || strings.HasPrefix(pv.Path, "$.metadata.note") || strings.HasSuffix(pv.Path, ".role") {
			t.Errorf("WalkJSON visited %s", pv.Path)
		}
	}
}

func TestRewriteJSON(t *testing.T) {
	e := jsonTestEngine(t)
	o := mustCompileJSON(t, JSONConfig{Fields: []FieldRule{{Path: "$.ssn", Action: FieldAlways, Type: "US_SSN"}}})
	doc := "{\n  \"to\": \"bob@x.com\",\n  \"n\": 4111111111111111,\n  \"keep\": [1, true, null, \"x\\u0041\"],\n" +
		"  \"body\": \"caf\\u00e9 \\\"ann@y.com\\\"\\n\",\n  \"ssn\": \"078-05-1120\"\n}"
	out, err := e.RewriteJSON([]byte(doc), o, func(v JSONValue, fs []Finding) (string, bool, error) {
		var b strings.Builder
		last := 0
		for _, f := range fs {
			b.WriteString(v.Value[last:f.Start])
			b.WriteString("<" + f.Type + ">")
			last = f.End
		}
		b.WriteString(v.Value[last:])
		return b.String(), true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"to\": \"<EMAIL_ADDRESS>\",\n  \"n\": \"<CREDIT_CARD>\",\n  \"keep\": [1, true, null, \"x\\u0041\"],\n" +
		"  \"body\": \"café \\\"<EMAIL_ADDRESS>\\\"\\n\",\n  \"ssn\": \"<US_SSN>\"\n}"
	if string(out) != want {
		t.Errorf("rewrite:\n got %s\nwant %s", out, want)
	}
	// A callback error stops the walk and comes back as is.
	stop := errors.New("stop")
	if _, err := e.RewriteJSON([]byte(doc), o, func(JSONValue, []Finding) (string, bool, error) { return "", false, stop }); err != stop {
		t.Errorf("callback error: %v", err)
	}
	// No findings: the document itself comes back.
	clean := []byte(`{"a": "nothing"}`)
	out, err = e.RewriteJSON(clean, nil, func(JSONValue, []Finding) (string, bool, error) { return "X", true, nil })
	if err != nil || &out[0] != &clean[0] {
		t.Errorf("unchanged document was copied (%v)", err)
	}
}

func TestWalkJSONEscapesReplacement(t *testing.T) {
	doc := `{"a":"x","b":["y",2],"c":{"d":"z"}}`
	repl := "q\"\\\n\r\t\b\f\x01\x7f\u2028\u2029é😀\xff<>&"
	out, err := WalkJSON([]byte(doc), nil, func(v JSONValue) (string, bool, error) {
		return repl, v.Path != "$.c.d", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantLit := `"q\"\\\n\r\t\b\f\u0001` + "\x7f" + `\u2028\u2029é😀\ufffd<>&"`
	want := `{"a":` + wantLit + `,"b":[` + wantLit + `,` + wantLit + `],"c":{"d":"z"}}`
	if string(out) != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
	var v map[string]any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	if v["a"] != strings.ToValidUTF8(repl, "\uFFFD") {
		t.Errorf("decoded replacement %q", v["a"])
	}
}

func TestJSONInvalidUTF8(t *testing.T) {
	lenient := mustCompileJSON(t, JSONConfig{AllowInvalidUTF8: true})
	cases := []struct {
		doc, want string
	}{
		{"\"a\xffb\"", "a\uFFFDb"},
		{"\"\xed\xa0\x80\"", "\uFFFD\uFFFD\uFFFD"}, // UTF-8-encoded surrogate
		{`"\ud800"`, "\uFFFD"},
		{`"\udc00x"`, "\uFFFDx"},
		{`"\ud800\u0041"`, "\uFFFDA"},
		{`"\ud800\ud800\udc00"`, "\uFFFD\U00010000"},
		{`"\ud83d\ude00"`, "😀"},
		{`"\u0000"`, "\x00"},
	}
	for _, c := range cases {
		got := walkAll(t, c.doc, lenient)
		if len(got) != 1 || got[0].Value != c.want {
			t.Errorf("%q: decoded %q, want %q", c.doc, got, c.want)
		}
		var std string
		if err := json.Unmarshal([]byte(c.doc), &std); err != nil || std != c.want {
			t.Errorf("%q: encoding/json decodes %q (%v); test vector wrong", c.doc, std, err)
		}
	}
}

func TestJSONMalformed(t *testing.T) {
	cases := []struct {
		name, doc string
		off       int
		msg       string
	}{
		{"empty", "", 0, "unexpected end of input"},
		{"space only", " \n", 2, "unexpected end of input"},
		{"truncated object", `{"a":`, 5, "unexpected end of input"},
		{"truncated string", `{"a":"CANARY`, 12, "unexpected end of input"},
		{"truncated key", `{"a`, 3, "unexpected end of input"},
		{"truncated escape", `"ab\`, 4, "unexpected end of input"},
		{"truncated unicode", `"\u12`, 5, "unexpected end of input"},
		{"truncated array", `[1,2`, 4, "unexpected end of input"},
		{"truncated literal", `[tru`, 4, "unexpected end of input"},
		{"truncated number", `-`, 1, "unexpected end of input"},
		{"trailing garbage", `{} CANARY`, 3, "unexpected letter, after the top-level value"},
		{"two values", `1 2`, 2, "unexpected number, after the top-level value"},
		{"unexpected brace", `{"a":1}}`, 7, "unexpected '}', after the top-level value"},
		{"close mismatch", `[1}`, 2, "unexpected '}', want ',' or ']'"},
		{"trailing comma array", `[1,]`, 3, "unexpected ']', want a value"},
		{"trailing comma object", `{"a":1,}`, 7, "unexpected '}', want an object key"},
		{"missing colon", `{"a" 1}`, 5, "unexpected number, want ':'"},
		{"unquoted key", `{a:1}`, 1, "unexpected letter, want an object key"},
		{"single quotes", `['x']`, 1, "unexpected '''"},
		{"bad escape", `"a\x"`, 2, "invalid escape"},
		{"bad unicode escape", `"\u12G4"`, 1, `invalid \u escape`},
		{"lone high surrogate", `"ab\ud800"`, 3, "unpaired surrogate"},
		{"lone low surrogate", `"\udc00"`, 1, "unpaired surrogate"},
		{"high then non-low", `"\ud800\u0041"`, 1, "unpaired surrogate"},
		{"high then text", `"\ud800abcdef"`, 1, "unpaired surrogate"},
		{"NUL in string", "\"a\x00b\"", 2, "control character 0x0 in string"},
		{"newline in string", "\"a\nb\"", 2, "control character 0xa in string"},
		{"NUL outside", "[\x00]", 1, "unexpected control character 0x0"},
		{"invalid UTF-8", "\"ok\xffCANARY\"", 3, "invalid UTF-8 in string"},
		{"truncated UTF-8", "\"\xc3\"", 1, "invalid UTF-8 in string"},
		{"UTF-8 surrogate", "\"\xed\xa0\x80\"", 1, "invalid UTF-8 in string"},
		{"non-ASCII outside", "[\xc3\xa9]", 1, "unexpected non-ASCII byte"},
		{"BOM", "\xef\xbb\xbf{}", 0, "unexpected non-ASCII byte"},
		{"leading zero", `01`, 1, "unexpected number, after the top-level value"},
		{"bare dot", `1.`, 2, "unexpected end of input"},
		{"dot no digit", `[1.e5]`, 3, "invalid number"},
		{"exponent no digit", `[1e+]`, 4, "invalid number"},
		{"plus sign", `+1`, 0, "unexpected '+'"},
		{"minus letter", `-x`, 1, "invalid number"},
		{"hex number", `0x10`, 1, "unexpected letter"},
		{"bad literal", `[trUe]`, 3, "invalid literal, want true"},
		{"NaN", `NaN`, 0, "unexpected letter, want a value"},
		{"comment", `{} // x`, 3, "unexpected '/'"},
		{"vertical tab ws", "[\v1]", 1, "control character 0xb"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if json.Valid([]byte(c.doc)) && !strings.Contains(c.msg, "surrogate") && !strings.Contains(c.msg, "UTF-8") {
				t.Fatalf("encoding/json accepts %q; test vector wrong", c.doc)
			}
			err := ValidateJSON([]byte(c.doc), nil)
			var se *JSONSyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want *JSONSyntaxError", err)
			}
			if se.Offset != c.off || !strings.Contains(se.Msg, c.msg) {
				t.Errorf("got offset %d %q, want %d %q", se.Offset, se.Msg, c.off, c.msg)
			}
			want := fmt.Sprintf("detect: malformed JSON at byte %d: ", c.off)
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("message %q does not start with %q", err, want)
			}
			if strings.Contains(err.Error(), "CANARY") {
				t.Errorf("error echoes document content: %v", err)
			}
			// Every entry point reports the same error.
			e := jsonTestEngine(t)
			if _, err2 := e.ScanJSON([]byte(c.doc), nil); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("ScanJSON: %v", err2)
			}
			if _, err2 := WalkJSON([]byte(c.doc), nil, func(JSONValue) (string, bool, error) { return "", false, nil }); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("WalkJSON: %v", err2)
			}
		})
	}
}

func TestJSONLimits(t *testing.T) {
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	nestObj := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	cases := []struct {
		name  string
		cfg   JSONConfig
		doc   string
		limit string // "" = no error
		max   int
		off   int
	}{
		{"depth default ok", JSONConfig{}, nest(64), "", 0, 0},
		{"depth default exceeded", JSONConfig{}, nest(65), "max_depth", 64, 64},
		{"depth objects", JSONConfig{MaxDepth: 3}, nestObj(4), "max_depth", 3, 15},
		{"depth objects ok", JSONConfig{MaxDepth: 3}, nestObj(3), "", 0, 0},
		{"depth 100k", JSONConfig{}, strings.Repeat("[", 100000), "max_depth", 64, 64},
		{"bytes ok", JSONConfig{MaxBytes: 9}, `"1234567"`, "", 0, 0},
		{"bytes exceeded", JSONConfig{MaxBytes: 8}, `"1234567"`, "max_bytes", 8, 8},
		{"string ok", JSONConfig{MaxString: 5}, `["12345"]`, "", 0, 0},
		{"string exceeded", JSONConfig{MaxString: 5}, `["123456"]`, "max_string", 5, 1},
		{"string raw length counts escapes", JSONConfig{MaxString: 5}, `["\u0041"]`, "max_string", 5, 1},
		{"key exceeded", JSONConfig{MaxString: 3}, `{"abcd":1}`, "max_string", 3, 1},
		{"number exceeded", JSONConfig{MaxString: 3}, `[1,1234]`, "max_string", 3, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := mustCompileJSON(t, c.cfg)
			err := ValidateJSON([]byte(c.doc), o)
			if c.limit == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var le *JSONLimitError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want *JSONLimitError", err)
			}
			if le.Limit != c.limit || le.Max != c.max || le.Offset != c.off {
				t.Errorf("got %+v, want %s %d at %d", *le, c.limit, c.max, c.off)
			}
			if !strings.Contains(err.Error(), "json."+c.limit) {
				t.Errorf("message %q does not name the limit", err)
			}
		})
	}
}

func TestCompileJSONErrors(t *testing.T) {
	cases := []struct {
		cfg  JSONConfig
		want string
	}{
		{JSONConfig{MaxDepth: -1}, "must not be negative"},
		{JSONConfig{Fields: []FieldRule{{Path: "customer", Action: FieldNever}}}, "json.fields[0].path"},
		{JSONConfig{Fields: []FieldRule{{Path: "$.a", Action: FieldNever}, {Path: "$.b", Action: FieldAlways}}}, "json.fields[1].type"},
		{JSONConfig{Fields: []FieldRule{{Path: "$.a", Action: "sometimes"}}}, "json.fields[0].action"},
		{JSONConfig{Fields: []FieldRule{{Path: "$.a", Action: FieldAlways, Type: "X", Category: "SECRETISH"}}}, "json.fields[0].category"},
		{JSONConfig{Allow: []string{"$.a", "$["}}, "json.allow[1]"},
		{JSONConfig{Disallowed: "ignore"}, "json.disallowed"},
		{JSONConfig{Schema: `{"type": `}, "json.schema: not valid JSON"},
		{JSONConfig{Schema: `{"type": 5}`}, "json.schema"},
		{JSONConfig{Schema: `{"$ref": "https://example.com/s.json"}`}, "self-contained"},
		{JSONConfig{Schema: `{"$ref": "file:///etc/passwd"}`}, "self-contained"},
	}
	for _, c := range cases {
		_, err := CompileJSON(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want %q", c.cfg, err, c.want)
		}
	}
}

const testSchema = `{
  "type": "object",
  "required": ["model", "messages"],
  "additionalProperties": false,
  "properties": {
    "model": {"type": "string", "enum": ["gpt-4o", "gpt-4o-mini"]},
    "messages": {"type": "array", "maxItems": 3, "items": {
      "type": "object",
      "required": ["role", "content"],
      "properties": {"role": {"type": "string"}, "content": {"type": "string", "maxLength": 40, "pattern": "^[^0-9]*$"}}
    }},
    "temperature": {"type": "number", "maximum": 2},
    "user": {"$ref": "#/$defs/user"}
  },
  "$defs": {"user": {"type": "string", "minLength": 3}}
}`

func TestMinimizeSchema(t *testing.T) {
	o := mustCompileJSON(t, JSONConfig{Schema: testSchema})
	ok := `{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}],"user":"abc"}`
	if out, err := o.Minimize([]byte(ok)); err != nil || string(out) != ok {
		t.Fatalf("valid document: %s, %v", out, err)
	}
	cases := []struct {
		doc, want string
	}{
		{`{"model":"gpt-4o","messages":[{"role":"user","content":7}]}`, "$.messages[0].content: has type number, schema wants string"},
		{`{"model":"gpt-4o"}`, "$.messages: is required by the schema"},
		{`{"model":"gpt-4o","messages":[],"CANARY_KEY":1}`, "$.CANARY_KEY: is not allowed by the schema (additionalProperties)"},
		{`{"model":"CANARY","messages":[]}`, `$.model: fails schema keyword "enum"`},
		{`{"model":"gpt-4o","messages":[{"role":"user","content":"call 555 CANARY"}]}`, `$.messages[0].content: fails schema keyword "pattern"`},
		{`{"model":"gpt-4o","messages":[{"role":"user","content":"CANARY CANARY CANARY CANARY CANARY CANARY"}]}`, "$.messages[0].content: has length 41, schema wants at most 40 (maxLength)"},
		{`{"model":"gpt-4o","messages":[],"temperature":9.123}`, `$.temperature: fails schema keyword "maximum"`},
		{`{"model":"gpt-4o","messages":[],"user":"ab"}`, "$.user: has length 2, schema wants at least 3 (minLength)"},
		{`{"model":"gpt-4o","messages":[{"role":"a","content":"b"},{"role":"a","content":"b"},{"role":"a","content":"b"},{"role":"a","content":"b"}]}`, "$.messages: has 4 items, schema wants at most 3 (maxItems)"},
		{`{"model":"gpt-4o","messages":[{"role":"a"}]}`, "$.messages[0].content: is required by the schema"},
	}
	for _, c := range cases {
		_, err := o.Minimize([]byte(c.doc))
		var fe *JSONFieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s: err = %v, want *JSONFieldError", c.doc, err)
			continue
		}
		if got := fe.Path + ": " + fe.Reason; got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.doc, got, c.want)
		}
		if strings.Contains(err.Error(), "CANARY") && !strings.Contains(c.want, "CANARY_KEY") || strings.Contains(err.Error(), "9.123") {
			t.Errorf("error echoes a value: %v", err)
		}
	}
	// Syntax and limits are checked before the schema.
	if _, err := o.Minimize([]byte(`{"model":`)); !errors.As(err, new(*JSONSyntaxError)) {
		t.Errorf("malformed: %v", err)
	}
	if _, err := o.Minimize([]byte(strings.Repeat("[", 70) + strings.Repeat("]", 70))); !errors.As(err, new(*JSONLimitError)) {
		t.Errorf("deep: %v", err)
	}
}

func TestMinimizeAllowlist(t *testing.T) {
	allow := []string{"$.model", "$.messages[*].role", "$.messages[*].content", "$.tools", "$.meta.*.id"}
	doc := `{"model":"m","user":"CANARY","messages":[{"role":"user","content":"hi","name":"n"},{"role":"a","content":[{"type":"text","text":"t"}]}],` +
		`"tools":[{"x":1}],"meta":{"a":{"id":1,"secret":2},"b":{"id":2}},"stream":true}`
	drop := mustCompileJSON(t, JSONConfig{Allow: allow, Disallowed: DisallowDrop})
	out, err := drop.Minimize([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"a","content":[{"type":"text","text":"t"}]}],` +
		`"tools":[{"x":1}],"meta":{"a":{"id":1},"b":{"id":2}}}`
	if string(out) != want {
		t.Errorf("drop:\n got %s\nwant %s", out, want)
	}
	refuse := mustCompileJSON(t, JSONConfig{Allow: allow})
	_, err = refuse.Minimize([]byte(doc))
	var fe *JSONFieldError
	if !errors.As(err, &fe) || fe.Path != "$.user" {
		t.Errorf("refuse: %v", err)
	}
	if strings.Contains(err.Error(), "CANARY") {
		t.Errorf("refuse error echoes a value: %v", err)
	}
	if out, err := refuse.Minimize([]byte(want)); err != nil || string(out) != want {
		t.Errorf("refuse on an allowed document: %v", err)
	}

	table := []struct {
		name, allow, doc, want string
	}{
		{"pretty drop first", "$.b", "{\n  \"a\": 1,\n  \"b\": 2\n}", "{\n  \"b\": 2\n}"},
		{"pretty drop last", "$.a", "{\n  \"a\": 1,\n  \"b\": 2\n}", "{\n  \"a\": 1\n}"},
		{"drop middle", "$.c", `{"a":1, "b":{"x":[1,2]}, "c":3}`, `{ "c":3}`},
		{"drop all", "$.z", `{"a":1,"b":2}`, `{}`},
		{"scalar at prefix path", "$.a.b", `{"a":"s","c":1}`, `{}`},
		{"container at prefix path kept empty", "$.a.b", `{"a":{"c":1}}`, `{"a":{}}`},
		{"array elements", "$[1]", `[0, 1, 2]`, `[ 1]`},
		{"array any", "$[*].k", `[{"k":1,"j":2},{"j":3}]`, `[{"k":1},{}]`},
		{"root allows all", "$", `{"a":[1,{"b":2}]}`, `{"a":[1,{"b":2}]}`},
		{"scalar root", "$.a", `"x"`, `"x"`},
		{"key with escapes", "$['a b']", `{"a\u0020b":1,"c":2}`, `{"a\u0020b":1}`},
	}
	for _, c := range table {
		o := mustCompileJSON(t, JSONConfig{Allow: []string{c.allow}, Disallowed: DisallowDrop})
		out, err := o.Minimize([]byte(c.doc))
		if err != nil || string(out) != c.want {
			t.Errorf("%s: got %s (%v), want %s", c.name, out, err, c.want)
		}
		if err == nil && !json.Valid(out) {
			t.Errorf("%s: invalid output", c.name)
		}
	}
}

func TestRewriteJSONGolden(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("testdata", "json", "chat.json"))
	if err != nil {
		t.Fatal(err)
	}
	o := mustCompileJSON(t, JSONConfig{Fields: []FieldRule{
		{Path: "$.metadata.ip", Action: FieldAlways, Type: "IP_ADDRESS", Category: Network},
		{Path: "$.model", Action: FieldNever},
	}})
	// The test recognizer knows .com addresses only; add .org for the
	// fixture.
	e2, err := NewWith(Config{Custom: []CustomRecognizer{
		{Name: "t", Type: "EMAIL_ADDRESS", Pattern: `[a-z.]+@[a-z]+\.(?:com|org)`},
		{Name: "card", Type: "CREDIT_CARD", Category: Financial, Pattern: `\b4[0-9]{3}(?: ?[0-9]{4}){3}\b`, Score: 0.9},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := e2.RewriteJSON(doc, o, func(v JSONValue, fs []Finding) (string, bool, error) {
		var b strings.Builder
		last := 0
		for _, f := range fs {
			b.WriteString(v.Value[last:f.Start])
			b.WriteString("<" + f.Type + ">")
			last = f.End
		}
		b.WriteString(v.Value[last:])
		return b.String(), true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "json", "chat.redacted.json")
	if *updateJSONGolden {
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("rewrite differs from %s (run with -update-json to regenerate)", golden)
	}
	for _, leak := range []string{"dana.whitfield@example.com", "dana.w@example.org", "4111 1111 1111 1111", "4111111111111111", "203.0.113.42"} {
		if bytes.Contains(out, []byte(leak)) {
			t.Errorf("rewritten document still holds %q", leak)
		}
	}
	if !json.Valid(out) {
		t.Error("rewritten document is not valid JSON")
	}
}

func ExampleEngine_ScanJSON() {
	e, _ := NewWith(Config{Custom: []CustomRecognizer{
		{Name: "email", Type: "EMAIL_ADDRESS", Pattern: `[a-z]+@[a-z]+\.com`},
	}}, nil)
	doc := []byte(`{"messages":[{"role":"user","content":"caf\u00e9? mail bob@example.com"}]}`)
	fs, _ := e.ScanJSON(doc, nil)
	for _, f := range fs {
		fmt.Println(f.Path, f.Type, f.Start, f.End, f.ValueStart, f.ValueEnd)
	}
	// Output: $.messages[0].content EMAIL_ADDRESS 12 27 38 71
}

func ExampleEngine_RewriteJSON() {
	e, _ := NewWith(Config{Custom: []CustomRecognizer{
		{Name: "email", Type: "EMAIL_ADDRESS", Pattern: `[a-z]+@[a-z]+\.com`},
	}}, nil)
	o, _ := CompileJSON(JSONConfig{Fields: []FieldRule{
		{Path: "$.customer.ssn", Action: FieldAlways, Type: "US_SSN"},
		{Path: "$.model", Action: FieldNever},
	}})
	doc := []byte(`{"model": "ann@corp.com", "customer": {"ssn": "078-05-1120"}, "note": "mail ann@corp.com"}`)
	out, _ := e.RewriteJSON(doc, o, func(v JSONValue, fs []Finding) (string, bool, error) {
		// Replace each finding by its type, keeping the rest of the value.
		var b strings.Builder
		last := 0
		for _, f := range fs {
			b.WriteString(v.Value[last:f.Start] + "<" + f.Type + ">")
			last = f.End
		}
		b.WriteString(v.Value[last:])
		return b.String(), true, nil
	})
	fmt.Println(string(out))
	// Output: {"model": "ann@corp.com", "customer": {"ssn": "<US_SSN>"}, "note": "mail <EMAIL_ADDRESS>"}
}

func ExampleWalkJSON() {
	doc := []byte(`{"user": {"name": "Ann", "age": 41}, "note": "hi"}`)
	out, _ := WalkJSON(doc, nil, func(v JSONValue) (string, bool, error) {
		if strings.HasPrefix(v.Path, "$.user.") {
			return "[" + v.Path + "]", true, nil
		}
		return "", false, nil
	})
	fmt.Println(string(out))
	// Output: {"user": {"name": "[$.user.name]", "age": "[$.user.age]"}, "note": "hi"}
}

func ExampleJSONOptions_Minimize() {
	o, _ := CompileJSON(JSONConfig{
		Allow:      []string{"$.model", "$.messages[*].role", "$.messages[*].content"},
		Disallowed: DisallowDrop,
	})
	out, _ := o.Minimize([]byte(`{"model":"m","user":"u-1","messages":[{"role":"user","content":"hi","name":"ann"}]}`))
	fmt.Println(string(out))
	// Output: {"model":"m","messages":[{"role":"user","content":"hi"}]}
}

// FuzzJSON checks the tokenizer against encoding/json: same verdict on
// validity, and a rewrite that re-encodes every string decodes to the
// same value.
func FuzzJSON(f *testing.F) {
	seeds := []string{
		`{"a":"b"}`, `[1,-0.5e+3,true,false,null]`, `"\ud83d\ude00\u00e9\n\"\\\/"`, `{"a":{"b":[{"c":"bob@x.com"}]}}`,
		`{"a" : 1 , "b":[ ] ,"c":{ }}`, "\"\xff\"", `"\ud800"`, `"\udc00\ud800"`, `{"a":1,}`, `[1,]`, `01`, `1.`, `-`,
		`{"x":4111111111111111,"y":"ann@y.com"}`, "[\"\x00\"]", " \t\n\r[] ", `{"":""}`, `[[[[[[]]]]]]`, `{"a"}`,
		`"\u0000\u001f\u2028"`, `"\b\f\r\t\n\/"`, `{"k\u00e9y":"v"}`, `1e999`, `-0`, `[1e5,2E-5,3.25]`, `tru`, `nul`, `"\`, `"\u12`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	e := jsonTestEngine(f)
	lenient := mustCompileJSON(f, JSONConfig{MaxDepth: 10000, AllowInvalidUTF8: true})
	strict := mustCompileJSON(f, JSONConfig{MaxDepth: 10000})
	dropper := mustCompileJSON(f, JSONConfig{MaxDepth: 10000, AllowInvalidUTF8: true, Allow: []string{"$.a", "$[*].b", "$.*[0]"}, Disallowed: DisallowDrop})
	re := regexp.MustCompile(`^` + testEmailPattern + `$`)
	f.Fuzz(func(t *testing.T, doc []byte) {
		err := ValidateJSON(doc, lenient)
		if errors.As(err, new(*JSONLimitError)) {
			return
		}
		valid := json.Valid(doc)
		if (err == nil) != valid {
			t.Fatalf("ValidateJSON = %v, json.Valid = %v", err, valid)
		}
		errStrict := ValidateJSON(doc, strict)
		if errStrict == nil && (!valid || !utf8.Valid(doc)) {
			t.Fatalf("strict mode accepted a document with invalid UTF-8 or syntax")
		}
		if valid && errStrict != nil && !strings.Contains(errStrict.Error(), "UTF-8") && !strings.Contains(errStrict.Error(), "surrogate") {
			t.Fatalf("strict mode refused a valid document: %v", errStrict)
		}
		fs, errScan := e.ScanJSON(doc, lenient)
		out, errWalk := WalkJSON(doc, lenient, func(v JSONValue) (string, bool, error) {
			return v.Value, !v.Number, nil
		})
		min, errMin := dropper.Minimize(doc)
		if !valid {
			if errScan == nil || errWalk == nil || errMin == nil {
				t.Fatalf("invalid document accepted: scan %v walk %v minimize %v", errScan, errWalk, errMin)
			}
			return
		}
		if errScan != nil || errWalk != nil || errMin != nil {
			t.Fatalf("valid document refused: scan %v walk %v minimize %v", errScan, errWalk, errMin)
		}
		if !json.Valid(min) {
			t.Fatalf("Minimize produced invalid JSON")
		}
		if !json.Valid(out) {
			t.Fatalf("identity rewrite produced invalid JSON")
		}
		if a, b := decodeUseNumber(t, doc), decodeUseNumber(t, out); !reflect.DeepEqual(a, b) {
			t.Fatalf("identity rewrite changed the value:\n%#v\n%#v", a, b)
		}
		for _, f := range fs {
			lit := doc[f.ValueStart:f.ValueEnd]
			var v string
			if lit[0] == '"' {
				if err := json.Unmarshal(lit, &v); err != nil {
					t.Fatalf("value span is not a string literal: %v", err)
				}
			} else {
				v = string(lit)
			}
			if f.Start < 0 || f.End > len(v) || f.Start >= f.End {
				t.Fatalf("finding %d:%d outside value of %d bytes", f.Start, f.End, len(v))
			}
			if f.Type == "EMAIL_ADDRESS" && !re.MatchString(v[f.Start:f.End]) {
				t.Fatalf("finding offsets do not point at the match")
			}
		}
	})
}

func decodeUseNumber(t *testing.T, doc []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return v
}

// BenchmarkScanJSON scans a chat-completion request (testdata/json/chat.json)
// with the built-in engine, and the same messages repeated into a 180 KB
// request.
func BenchmarkScanJSON(b *testing.B) {
	doc, err := os.ReadFile(filepath.Join("testdata", "json", "chat.json"))
	if err != nil {
		b.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(doc, &v); err != nil {
		b.Fatal(err)
	}
	msgs := v["messages"].([]any)
	for len(msgs) < 384 {
		msgs = append(msgs, msgs...)
	}
	v["messages"] = msgs
	big, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		b.Fatal(err)
	}
	e, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	o := mustCompileJSON(b, JSONConfig{})
	for _, c := range []struct {
		name string
		doc  []byte
	}{{"chat", doc}, {"chat-big", big}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.doc)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.ScanJSON(c.doc, o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkScanJSONText is the plain-text scan of the same bytes, for
// comparison with BenchmarkScanJSON.
func BenchmarkScanJSONText(b *testing.B) {
	doc, err := os.ReadFile(filepath.Join("testdata", "json", "chat.json"))
	if err != nil {
		b.Fatal(err)
	}
	e, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		e.ScanBytes(doc)
	}
}

func BenchmarkValidateJSON(b *testing.B) {
	doc, err := os.ReadFile(filepath.Join("testdata", "json", "chat.json"))
	if err != nil {
		b.Fatal(err)
	}
	o := mustCompileJSON(b, JSONConfig{})
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if err := ValidateJSON(doc, o); err != nil {
			b.Fatal(err)
		}
	}
}

// TestJSONOptionsConcurrent shares one compiled JSONOptions (and its walker
// pool) between goroutines; run with -race.
func TestJSONOptionsConcurrent(t *testing.T) {
	e := jsonTestEngine(t)
	o := mustCompileJSON(t, JSONConfig{Fields: []FieldRule{{Path: "$.id", Action: FieldAlways, Type: "ID"}}})
	done := make(chan error)
	for g := 0; g < 4; g++ {
		go func(g int) {
			for i := 0; i < 200; i++ {
				doc := fmt.Sprintf(`{"id":"%d-%d","m":["x%d joe@w.com"]}`, g, i, i)
				fs, err := e.ScanJSON([]byte(doc), o)
				if err != nil {
					done <- err
					return
				}
				if len(fs) != 2 || fs[0].Path != "$.id" || fs[0].End != len(fmt.Sprintf("%d-%d", g, i)) || fs[1].Path != "$.m[0]" {
					done <- fmt.Errorf("goroutine %d doc %d: %+v", g, i, fs)
					return
				}
				out, err := e.RewriteJSON([]byte(doc), o, func(v JSONValue, _ []Finding) (string, bool, error) { return "R", true, nil })
				if err != nil || string(out) != `{"id":"R","m":["R"]}` {
					done <- fmt.Errorf("rewrite %s, %v", out, err)
					return
				}
			}
			done <- nil
		}(g)
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func TestWalkJSONKeys(t *testing.T) {
	doc := `{"a":{"b":["x",{"c":"y"}],"d":"z"},"e":1,"f\u0067":"w"}`
	var got []string
	_, err := WalkJSON([]byte(doc), nil, func(v JSONValue) (string, bool, error) {
		got = append(got, v.Key+"="+v.Value)
		return "", false, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "b=x c=y d=z e=1 fg=w"
	if s := strings.Join(got, " "); s != want {
		t.Fatalf("keys %q, want %q", s, want)
	}
	_, err = WalkJSON([]byte(`["top"]`), nil, func(v JSONValue) (string, bool, error) {
		if v.Key != "" {
			t.Errorf("top-level array element has key %q", v.Key)
		}
		return "", false, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestWalkJSONLiterals(t *testing.T) {
	doc := `{"stream":true,"n":null,"a":[false],"s":"true"}`
	opt, err := CompileJSON(JSONConfig{Literals: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	visit := func(v JSONValue) (string, bool, error) {
		got = append(got, fmt.Sprintf("%s=%s/%v", v.Path, v.Value, v.Literal))
		return "", false, nil
	}
	if _, err := WalkJSON([]byte(doc), opt, visit); err != nil {
		t.Fatal(err)
	}
	want := "$.stream=true/true $.n=null/true $.a[0]=false/true $.s=true/false"
	if s := strings.Join(got, " "); s != want {
		t.Fatalf("got %q, want %q", s, want)
	}
	got = nil
	if _, err := WalkJSON([]byte(doc), nil, visit); err != nil {
		t.Fatal(err)
	}
	if s := strings.Join(got, " "); s != "$.s=true/false" {
		t.Fatalf("literals reported without the option: %q", s)
	}
}

func TestWalkJSONReportsObjectKeys(t *testing.T) {
	o := mustCompileJSON(t, JSONConfig{Keys: true})
	doc := `{"a":{"b\u0063":["x"]},"d":1}`
	var got []string
	out, err := WalkJSON([]byte(doc), o, func(v JSONValue) (string, bool, error) {
		kind := "val"
		if v.IsKey {
			kind = "key"
		}
		got = append(got, kind+":"+v.Path+"="+v.Value+"@"+doc[v.Start:v.End])
		return "K", v.IsKey && v.Value == "bc", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `key:$.a=a@"a" key:$.a.bc=bc@"b\u0063" val:$.a.bc[0]=x@"x" key:$.d=d@"d" val:$.d=1@1`
	if s := strings.Join(got, " "); s != want {
		t.Fatalf("visits\n got %s\nwant %s", s, want)
	}
	if string(out) != `{"a":{"K":["x"]},"d":1}` {
		t.Fatalf("renamed key: %s", out)
	}
}

// A gateway and the model provider behind it must read a request alike:
// repeated keys, and keys that differ only by case (which Go's
// encoding/json folds onto one struct field), are refused.
func TestUniqueKeysRefusesDuplicateAndCaseVariantKeys(t *testing.T) {
	o := mustCompileJSON(t, JSONConfig{UniqueKeys: true})
	many := func(extra string) string {
		var b strings.Builder
		b.WriteString(`{"m":{`)
		for i := 0; i < 40; i++ {
			fmt.Fprintf(&b, `"k%d":1,`, i)
		}
		b.WriteString(extra + `}}`)
		return b.String()
	}
	cases := []struct {
		name, doc, path string // path "" means accepted
	}{
		{"distinct keys", `{"model":"a","messages":[{"role":"user"}]}`, ""},
		{"same key twice", `{"model":"a","model":"b"}`, "$"},
		{"upper-case variant", `{"model":"a","MODEL":"b"}`, "$"},
		{"mixed-case variant", `{"stream":false,"Stream":true}`, "$"},
		{"escaped variant", `{"model":"a","\u006dodel":"b"}`, "$"},
		{"kelvin sign folds to k", `{"k":1,"\u212a":2}`, "$"},
		{"nested object", `{"a":[{"x":1},{"y":1,"Y":2}]}`, "$.a[1]"},
		{"same key in sibling objects", `{"a":{"x":1},"b":{"x":1}}`, ""},
		{"large object distinct", many(`"other":1`), ""},
		{"large object duplicate", many(`"k7":2`), "$.m"},
		{"large object case variant", many(`"K39":2`), "$.m"},
	}
	for _, c := range cases {
		err := ValidateJSON([]byte(c.doc), o)
		if c.path == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			_, err = WalkJSON([]byte(c.doc), o, func(JSONValue) (string, bool, error) { return "", false, nil })
			if err != nil {
				t.Errorf("%s: walk: %v", c.name, err)
			}
			continue
		}
		var fe *JSONFieldError
		if !errors.As(err, &fe) || fe.Path != c.path {
			t.Errorf("%s: got %v, want a field error at %s", c.name, err, c.path)
			continue
		}
		if strings.Contains(err.Error(), "MODEL") || strings.Contains(err.Error(), "Stream") {
			t.Errorf("%s: the error names the key: %v", c.name, err)
		}
	}
	// Without the option the last key wins silently, as before.
	if err := ValidateJSON([]byte(`{"a":1,"a":2}`), nil); err != nil {
		t.Fatal(err)
	}
}

func TestSafePathHidesKeysThatMayBeData(t *testing.T) {
	cases := map[string]string{
		"$":                                      "$",
		"$.messages[3].content[0].text":          "$.messages[3].content[0].text",
		"$.metadata['jane.doe@example.com']":     "$.metadata['…']",
		"$['a b'].a":                             "$['…'].a",
		"$.metadata.user4575554":                 "$.metadata['…']",
		"$.metadata.abc123":                      "$.metadata.abc123",
		"$.x['a\\'b'][2].y":                      "$.x['…'][2].y",
		"$.averyveryveryverylongkeynameindeed_x": "$['…']",
		"not a path":                             "$…",
	}
	for in, want := range cases {
		if got := SafePath(in); got != want {
			t.Errorf("SafePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWalkJSONReportsContainers(t *testing.T) {
	o := mustCompileJSON(t, JSONConfig{Containers: true})
	doc := `{"a":[1,{}],"b":{"c":[]}}`
	var got []string
	_, err := WalkJSON([]byte(doc), o, func(v JSONValue) (string, bool, error) {
		if v.Container {
			if doc[v.Start:v.End] != v.Value {
				t.Errorf("%s: span %q, value %q", v.Path, doc[v.Start:v.End], v.Value)
			}
			got = append(got, v.Path+"="+v.Value)
		}
		return "", false, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `$.a[1]={} $.a=[1,{}] $.b.c=[] $.b={"c":[]} $=` + doc
	if s := strings.Join(got, " "); s != want {
		t.Fatalf("containers\n got %s\nwant %s", s, want)
	}
}

func TestWalkJSONVisitDepth(t *testing.T) {
	o := mustCompileJSON(t, JSONConfig{VisitDepth: 1, Keys: true, Literals: true, Containers: true, UniqueKeys: true})
	doc := `{"model":"m","stream":true,"messages":[{"content":"deep"}],"n":2}`
	var got []string
	_, err := WalkJSON([]byte(doc), o, func(v JSONValue) (string, bool, error) {
		got = append(got, v.Path)
		return "", false, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "$.model $.model $.stream $.stream $.messages $.messages $.n $.n $"
	if s := strings.Join(got, " "); s != want {
		t.Fatalf("visited %s, want %s", s, want)
	}
	// Deeper values are still checked.
	if _, err := WalkJSON([]byte(`{"a":[{"x":1,"x":2}]}`), o, func(JSONValue) (string, bool, error) { return "", false, nil }); err == nil {
		t.Fatal("a repeated key below the visit depth passed")
	}
}

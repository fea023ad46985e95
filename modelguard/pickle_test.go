package modelguard

import (
	"bytes"
	"strings"
	"testing"
)

// TestPickleDecoder pins the stack and memo model with hand-written opcode
// streams (opcodes as in CPython's Lib/pickletools.py).
func TestPickleDecoder(t *testing.T) {
	lim := pickleLimits{maxOps: 1000, maxStack: 16, maxMemo: 4}
	tests := []struct {
		name      string
		in        string
		callables []string // dangerous callables expected, in order
		rules     []string // rules of dangerous findings, if not pickle.import
		errPart   string   // substring of the decode error, "" for none
	}{
		{name: "allowlisted global", in: "ccollections\nOrderedDict\n)R."},
		{name: "dotted name is not allowlisted", in: "\x80\x04\x8c\x0bcollections\x8c\x14OrderedDict.fromkeys\x93.",
			callables: []string{"collections.OrderedDict.fromkeys"}},
		{name: "STACK_GLOBAL via text GET", in: "Vos\np0\n0Vsystem\np1\n0g0\ng1\n\x93.",
			callables: []string{"os.system"}},
		{name: "STACK_GLOBAL via LONG_BINGET", in: "\x80\x04\x8c\x02os\x94\x8c\x05popen\x94j\x00\x00\x00\x00j\x01\x00\x00\x00\x93.",
			callables: []string{"os.popen"}},
		{name: "STACK_GLOBAL with escaped unicode operand", in: "\x80\x04V\\u006fs\nVsystem\n\x93.",
			rules: []string{"pickle.unresolvable-import"}},
		{name: "STACK_GLOBAL with long operand", in: "\x80\x04X\x01\x04\x00\x00" + strings.Repeat("a", 1025) + "\x8c\x01b\x93.",
			rules: []string{"pickle.unresolvable-import"}},
		{name: "STACK_GLOBAL with int operand", in: "\x80\x04K\x01\x8c\x01b\x93.",
			rules: []string{"pickle.unresolvable-import"}},
		{name: "NEWOBJ_EX of unknown class", in: "\x80\x04\x8c\x03app\x8c\x05Model\x93)}\x92.",
			callables: []string{"app.Model"}},
		{name: "OBJ with class", in: "(csubprocess\nPopen\nS'id'\no.", callables: []string{"subprocess.Popen"}},
		{name: "second pickle after STOP", in: "\x80\x02K\x01.\x80\x02cos\nsystem\n.", callables: []string{"os.system"}},
		{name: "raw data after STOP is not decoded", in: "\x80\x02K\x01.\x00\x01garbage"},
		{name: "EXT2", in: "\x80\x02\x83\x01\x02.", rules: []string{"pickle.extension"}},
		{name: "unknown opcode", in: "\x80\x02\xff.", errPart: "unknown opcode"},
		{name: "unsupported protocol", in: "\x80\x06N.", errPart: "protocol 6"},
		{name: "stack underflow", in: "\x80\x02R.", errPart: "underflow"},
		{name: "pop across mark", in: "(\x85.", errPart: "underflow"},
		{name: "missing memo", in: "\x80\x02h\x05.", errPart: "memo key 5"},
		{name: "stack limit", in: strings.Repeat("N", 17) + ".", errPart: "stack deeper than 16"},
		{name: "memo limit", in: "N\x94\x94\x94\x94\x94.", errPart: "memo larger than 4"},
		{name: "opcode limit", in: strings.Repeat("N0", 600) + "N.", errPart: "more than 1000 opcodes"},
		{name: "truncated length", in: "\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\x0f", errPart: "truncated"},
		{name: "truncated line", in: "cos\nsys", errPart: "truncated"},
		{name: "no STOP", in: "\x80\x02N", errPart: "truncated"},
	}
	allow := newAllowlist(nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := scanPickleStream(bytes.NewReader([]byte(tc.in)), allow, lim, "", 0)
			var callables, rules []string
			for _, f := range res.findings {
				if f.Kind != KindDangerous {
					t.Errorf("finding kind %s", f.Kind)
				}
				if f.Rule == "pickle.import" {
					callables = append(callables, f.Callable)
				} else {
					rules = append(rules, f.Rule)
				}
			}
			if strings.Join(callables, ",") != strings.Join(tc.callables, ",") || strings.Join(rules, ",") != strings.Join(tc.rules, ",") {
				t.Errorf("callables %v rules %v, want %v %v", callables, rules, tc.callables, tc.rules)
			}
			switch {
			case tc.errPart == "" && res.err != nil:
				t.Errorf("unexpected error %v", res.err)
			case tc.errPart != "" && (res.err == nil || !strings.Contains(res.err.Error(), tc.errPart)):
				t.Errorf("error %v, want one containing %q", res.err, tc.errPart)
			}
		})
	}
}

func TestPrintableEscapes(t *testing.T) {
	if got := printable("os.sys\ntem\x00"); got != `os.sys\x0atem\x00` {
		t.Fatalf("printable = %q", got)
	}
}

func TestAllowConfig(t *testing.T) {
	if _, err := New(Config{Allow: []string{"not a name"}}); err == nil {
		t.Fatal("bad Allow entry accepted")
	}
	s, err := New(Config{Allow: []string{"sklearn.linear_model.LinearRegression"}})
	if err != nil {
		t.Fatal(err)
	}
	res := scanPickleStream(strings.NewReader("csklearn.linear_model\nLinearRegression\n)\x81."), s.allow, s.pickleLimits(), "", 0)
	if len(res.findings) != 0 || res.err != nil {
		t.Fatalf("findings %v err %v", res.findings, res.err)
	}
}

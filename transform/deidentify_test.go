package transform

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/wardenhq/warden/detect"
)

// find returns a finding for the first occurrence of value in text.
func find(t testing.TB, text, typ string, cat detect.Category, value string) detect.Finding {
	t.Helper()
	i := strings.Index(text, value)
	if i < 0 {
		t.Fatalf("%q not in text", value)
	}
	return detect.Finding{Type: typ, Category: cat, Start: i, End: i + len(value), Score: 1}
}

// applyOne runs one value through a Deidentifier built from cfg and
// returns what replaced it.
func applyOne(t testing.TB, cfg Config, typ, value string) string {
	t.Helper()
	d, err := NewDeidentifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	text := "<" + value + ">"
	out, st, err := d.Apply(context.Background(), text, []detect.Finding{{Type: typ, Category: detect.PII, Start: 1, End: 1 + len(value)}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Total() != 1 || st.ForType(typ) != 1 {
		t.Fatalf("stats %+v", st)
	}
	if !strings.HasPrefix(out, "<") || !strings.HasSuffix(out, ">") {
		t.Fatalf("surrounding text changed: %q", out)
	}
	return out[1 : len(out)-1]
}

func TestOperatorRedactPlaceholder(t *testing.T) {
	for _, c := range []struct {
		op      Operator
		typ, in string
		want    string
	}{
		{Redact, "EMAIL_ADDRESS", "jane@acme.test", ""},
		{Placeholder, "EMAIL_ADDRESS", "jane@acme.test", "<EMAIL_ADDRESS>"},
		{Placeholder, "US_SSN", "123-45-6789", "<US_SSN>"},
		{"", "PERSON", "Jane Doe", "<PERSON>"}, // default operator
	} {
		cfg := Config{Default: c.op}
		if got := applyOne(t, cfg, c.typ, c.in); got != c.want {
			t.Errorf("%s(%s) = %q, want %q", c.op, c.typ, got, c.want)
		}
	}
}

func TestOperatorMask(t *testing.T) {
	for _, c := range []struct {
		name    string
		mask    MaskConfig
		typ, in string
		want    string
	}{
		{"email", MaskConfig{}, "EMAIL_ADDRESS", "jane@acme.test", "**********test"},
		{"card keeps separators", MaskConfig{}, "CREDIT_CARD", "4111 1111 1111 1111", "**** **** **** 1111"},
		{"card compact", MaskConfig{}, "CREDIT_CARD", "4111111111111111", "************1111"},
		{"phone", MaskConfig{}, "PHONE_NUMBER", "+1 (415) 555-2671", "+* (***) ***-2671"},
		{"ssn", MaskConfig{}, "US_SSN", "123-45-6789", "***-**-6789"},
		{"iban", MaskConfig{}, "IBAN_CODE", "GB82 WEST 1234 5698 7654 32", "**** **** **** **** **54 32"},
		{"never more than half", MaskConfig{}, "PERSON", "Bob", "**b"},
		{"single character", MaskConfig{}, "PERSON", "X", "*"},
		{"runes not bytes", MaskConfig{}, "PERSON", "Zoë Ångström", "********tröm"},
		{"keep 2 hash char", MaskConfig{Char: "#", Keep: 2}, "PERSON", "Jane Doe", "######oe"},
		{"keep none", MaskConfig{Keep: -1}, "US_SSN", "123-45-6789", "***-**-****"},
		{"multibyte mask char", MaskConfig{Char: "•", Keep: 4}, "CREDIT_CARD", "5555-5555-5555-4444", "••••-••••-••••-4444"},
		{"separators off", MaskConfig{KeepSeparators: []string{}}, "CREDIT_CARD", "4111 1111 1111 1111", "***************1111"},
		{"separators for another type", MaskConfig{KeepSeparators: []string{"PERSON"}}, "PERSON", "Jane Q. Doe", "**** Q. Doe"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := Config{Default: Mask, Mask: c.mask}
			if got := applyOne(t, cfg, c.typ, c.in); got != c.want {
				t.Errorf("mask(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

// hmacHex recomputes the hash operator from its documented formula.
func hmacHex(t testing.TB, key Key, typ, value string, n int) string {
	k, err := hkdf.Key(sha256.New, key.b, nil, "warden transform v1 hash", 32)
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, k)
	m.Write([]byte(typ + "\x00" + value))
	return hex.EncodeToString(m.Sum(nil)[:n])
}

func TestOperatorHash(t *testing.T) {
	k1, k2 := testKey(t, 1), testKey(t, 2)
	for _, c := range []struct {
		name    string
		key     Key
		bytes   int
		typ, in string
	}{
		{"default length", k1, 0, "EMAIL_ADDRESS", "jane@acme.test"},
		{"other key", k2, 0, "EMAIL_ADDRESS", "jane@acme.test"},
		{"4 bytes", k1, 4, "US_SSN", "123-45-6789"},
		{"32 bytes", k1, 32, "US_SSN", "123-45-6789"},
		{"empty value", k1, 0, "PERSON", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := c.bytes
			if n == 0 {
				n = 8
			}
			want := "<" + c.typ + ":hmac:" + hmacHex(t, c.key, c.typ, c.in, n) + ">"
			got := applyOne(t, Config{Default: Hash, Key: c.key, Hash: HashConfig{Bytes: c.bytes}}, c.typ, c.in)
			if got != want {
				t.Errorf("hash = %q, want %q", got, want)
			}
		})
	}
	a := applyOne(t, Config{Default: Hash, Key: k1}, "EMAIL_ADDRESS", "jane@acme.test")
	b := applyOne(t, Config{Default: Hash, Key: k2}, "EMAIL_ADDRESS", "jane@acme.test")
	c := applyOne(t, Config{Default: Hash, Key: k1}, "PERSON", "jane@acme.test")
	if a == b || a[len("<EMAIL_ADDRESS"):] == c[len("<PERSON"):] {
		t.Errorf("hash does not depend on key and type: %s %s %s", a, b, c)
	}
	if a != "<EMAIL_ADDRESS:hmac:"+pinnedHash+">" {
		t.Errorf("known answer changed: %s", a)
	}
}

func TestOperatorTokenize(t *testing.T) {
	key := testKey(t, 1)
	got := applyOne(t, Config{Default: Tokenize, Key: key}, "EMAIL_ADDRESS", "jane@acme.test")
	s, _ := NewStatelessTokens(key)
	want, _ := s.Token(context.Background(), "EMAIL_ADDRESS", "jane@acme.test")
	if got != want {
		t.Fatalf("tokenize = %q, want %q", got, want)
	}
	// A configured Tokenizer (the vault) wins over the key.
	vault := TokenizerFunc(func(_ context.Context, typ, value string) (string, error) {
		return FormatToken(typ, []byte{byte(len(value))}), nil
	})
	got = applyOne(t, Config{Default: Tokenize, Tokenizer: vault}, "PERSON", "Jane")
	if got != FormatToken("PERSON", []byte{4}) {
		t.Fatalf("vault token = %q", got)
	}
	// WithTokenizer binds a per-request (per-tenant) Tokenizer and leaves
	// the original alone.
	d, _ := NewDeidentifier(Config{Default: Tokenize, Key: key})
	text := "Jane"
	fs := []detect.Finding{{Type: "PERSON", Start: 0, End: 4}}
	bound, _, _ := d.WithTokenizer(vault).Apply(context.Background(), text, fs)
	own, _, _ := d.Apply(context.Background(), text, fs)
	ownWant, _ := s.Token(context.Background(), "PERSON", "Jane")
	if bound != FormatToken("PERSON", []byte{4}) || own != ownWant {
		t.Fatalf("WithTokenizer: bound %q, own %q", bound, own)
	}
}

func TestApply(t *testing.T) {
	text := "Mail jane@acme.test or call +1 (415) 555-2671; card 4111 1111 1111 1111, SSN 123-45-6789, key sk_live_abc."
	findings := []detect.Finding{
		find(t, text, "EMAIL_ADDRESS", detect.PII, "jane@acme.test"),
		find(t, text, "PHONE_NUMBER", detect.PII, "+1 (415) 555-2671"),
		find(t, text, "CREDIT_CARD", detect.Financial, "4111 1111 1111 1111"),
		find(t, text, "US_SSN", detect.PII, "123-45-6789"),
		find(t, text, "STRIPE_KEY", detect.Secret, "sk_live_abc"),
	}
	d, err := NewDeidentifier(Config{
		Operators:  map[string]Operator{"EMAIL_ADDRESS": Placeholder, "US_SSN": Mask},
		Categories: map[detect.Category]Operator{detect.Financial: Mask, detect.Secret: Redact},
		Default:    Placeholder,
	})
	if err != nil {
		t.Fatal(err)
	}
	out, st, err := d.Apply(context.Background(), text, findings)
	if err != nil {
		t.Fatal(err)
	}
	want := "Mail <EMAIL_ADDRESS> or call <PHONE_NUMBER>; card **** **** **** 1111, SSN ***-**-6789, key ."
	if out != want {
		t.Fatalf("got  %q\nwant %q", out, want)
	}
	wantCounts := []Count{
		{"EMAIL_ADDRESS", Placeholder, 1}, {"PHONE_NUMBER", Placeholder, 1},
		{"CREDIT_CARD", Mask, 1}, {"US_SSN", Mask, 1}, {"STRIPE_KEY", Redact, 1},
	}
	if len(st.Counts) != len(wantCounts) {
		t.Fatalf("counts %+v", st.Counts)
	}
	for i, c := range wantCounts {
		if st.Counts[i] != c {
			t.Errorf("count %d = %+v, want %+v", i, st.Counts[i], c)
		}
	}
	if st.Total() != 5 || st.ForOperator(Mask) != 2 || st.ForOperator(Placeholder) != 2 || st.ForType("US_SSN") != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestApplyRejectsBadFindings(t *testing.T) {
	d, _ := NewDeidentifier(Config{})
	text := "0123456789"
	for _, c := range []struct {
		name string
		fs   []detect.Finding
	}{
		{"overlap", []detect.Finding{{Type: "A", Start: 0, End: 5}, {Type: "B", Start: 4, End: 6}}},
		{"unsorted", []detect.Finding{{Type: "A", Start: 5, End: 6}, {Type: "B", Start: 0, End: 1}}},
		{"past end", []detect.Finding{{Type: "A", Start: 5, End: 11}}},
		{"negative", []detect.Finding{{Type: "A", Start: -1, End: 1}}},
		{"reversed", []detect.Finding{{Type: "A", Start: 3, End: 2}}},
	} {
		out, _, err := d.Apply(context.Background(), text, c.fs)
		if err == nil || out != "" {
			t.Errorf("%s: %q, %v", c.name, out, err)
		}
	}
}

func TestApplyFailsClosedOnTokenizerError(t *testing.T) {
	outage := errors.New("vault unavailable")
	d, _ := NewDeidentifier(Config{Default: Tokenize, Tokenizer: TokenizerFunc(func(context.Context, string, string) (string, error) {
		return "", outage
	})})
	text := "call Jane Doe"
	out, _, err := d.Apply(context.Background(), text, []detect.Finding{find(t, text, "PERSON", detect.PII, "Jane Doe")})
	if !errors.Is(err, outage) || out != "" {
		t.Fatalf("%q, %v", out, err)
	}
	if strings.Contains(err.Error(), "Jane") {
		t.Fatalf("error leaks the value: %v", err)
	}
	// A type that cannot appear in a token is refused, not mangled.
	d, _ = NewDeidentifier(Config{Default: Tokenize, Key: testKey(t, 1)})
	if _, _, err := d.Apply(context.Background(), text, []detect.Finding{{Type: "employee-id", Start: 5, End: 9}}); !errors.Is(err, errBadType) {
		t.Fatalf("bad type: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	key := testKey(t, 1)
	for _, c := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"unknown operator", Config{Operators: map[string]Operator{"EMAIL_ADDRESS": "maks"}},
			`transform: operators.EMAIL_ADDRESS: unknown operator "maks"`},
		{"unknown category", Config{Categories: map[detect.Category]Operator{"BIOMETRIC": Redact}},
			`transform: categories.BIOMETRIC: unknown category (want PII, FINANCIAL, HEALTH, SECRET or NETWORK)`},
		{"category operator", Config{Categories: map[detect.Category]Operator{detect.Health: "scramble"}},
			`transform: categories.HEALTH: unknown operator "scramble"`},
		{"default operator", Config{Default: "Redact"}, `transform: default: unknown operator "Redact"`},
		{"hash without key", Config{Operators: map[string]Operator{"US_SSN": Hash}},
			`transform: key: required by operators.US_SSN (operator hash)`},
		{"synthetic without key", Config{Categories: map[detect.Category]Operator{detect.PII: Synthetic}},
			`transform: key: required by categories.PII (operator synthetic)`},
		{"tokenize without key or vault", Config{Default: Tokenize}, `transform: key: required by default (operator tokenize)`},
		{"short key", Config{Default: Hash, Key: Key{b: make([]byte, 16)}}, `transform: key: shorter than 32 bytes`},
		{"tokenize bad type", Config{Operators: map[string]Operator{"employee-id": Tokenize}, Key: key},
			`transform: operators.employee-id: type cannot appear in a token (use A-Z, 0-9, _)`},
		{"mask char", Config{Mask: MaskConfig{Char: "**"}}, `transform: mask.char: want one printable character other than [ and ]`},
		{"mask char bracket", Config{Mask: MaskConfig{Char: "]"}}, `transform: mask.char: want one printable character other than [ and ]`},
		{"hash bytes", Config{Hash: HashConfig{Bytes: 3}}, `transform: hash.bytes: 3 is out of range 4..32`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewDeidentifier(c.cfg)
			if err == nil || err.Error() != c.want {
				t.Fatalf("got  %v\nwant %s", err, c.want)
			}
		})
	}
	// Keyless configurations need no key.
	if _, err := NewDeidentifier(Config{Default: Mask, Categories: map[detect.Category]Operator{detect.Secret: Redact}}); err != nil {
		t.Fatal(err)
	}
}

func TestOperatorLookup(t *testing.T) {
	d, _ := NewDeidentifier(Config{
		Operators:  map[string]Operator{"IBAN_CODE": Mask},
		Categories: map[detect.Category]Operator{detect.Financial: Redact},
		Default:    Placeholder,
	})
	for _, c := range []struct {
		typ  string
		cat  detect.Category
		want Operator
	}{
		{"IBAN_CODE", detect.Financial, Mask},
		{"CREDIT_CARD", detect.Financial, Redact},
		{"PERSON", detect.PII, Placeholder},
	} {
		if got := d.Operator(c.typ, c.cat); got != c.want {
			t.Errorf("Operator(%s, %s) = %s, want %s", c.typ, c.cat, got, c.want)
		}
	}
}

func TestApplyConcurrent(t *testing.T) {
	d, err := NewDeidentifier(Config{
		Operators: map[string]Operator{"EMAIL_ADDRESS": Tokenize, "PERSON": Synthetic},
		Default:   Hash,
		Key:       testKey(t, 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	text := "Jane Doe <jane@acme.test> 123-45-6789"
	fs := []detect.Finding{
		find(t, text, "PERSON", detect.PII, "Jane Doe"),
		find(t, text, "EMAIL_ADDRESS", detect.PII, "jane@acme.test"),
		find(t, text, "US_SSN", detect.PII, "123-45-6789"),
	}
	want, _, err := d.Apply(context.Background(), text, fs)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 200; i++ {
				got, _, err := d.Apply(context.Background(), text, fs)
				if err != nil || got != want {
					errs <- got
					return
				}
			}
			errs <- want
		}()
	}
	for g := 0; g < 8; g++ {
		if got := <-errs; got != want {
			t.Fatalf("concurrent Apply gave %q, want %q", got, want)
		}
	}
}

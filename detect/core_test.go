package detect

import (
	"fmt"
	"strings"
	"testing"
)

func coreEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := NewWith(Config{}, coreRecognizers())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// found returns the values of findings of typ in text.
func found(e *Engine, text, typ string) []string {
	var out []string
	for _, f := range e.Scan(text) {
		if f.Type == typ {
			out = append(out, text[f.Start:f.End])
		}
	}
	return out
}

func TestCardNetworkTestNumbers(t *testing.T) {
	e := coreEngine(t)
	// Published test PANs of the card networks and processors.
	for _, pan := range []string{
		"4111111111111111", "4012888888881881", "4222222222222", "4000056655665556",
		"5555555555554444", "5105105105105100", "2223003122003222", "2720992720992729",
		"378282246310005", "371449635398431", "378734493671000",
		"6011111111111117", "6011000990139424", "6445644564456445",
		"30569309025904", "38520000023237", "36227206271667",
		"3530111333300000", "3566002020360505",
		"6200000000000005", "6759649826438453",
		"4111 1111 1111 1111", "4111-1111-1111-1111", "3782 822463 10005",
		// UATP (ISO/IEC 7812 industry 1, airlines; 15 digits), its
		// published test number, and JCB's 15-digit 2131 and 1800 ranges.
		"122000000000003", "213100000000001", "180000000000002",
		// Spaces and dashes mixed in a card's grouping.
		"4111 1111-1111 1111", "3782-822463 10005",
	} {
		got := found(e, "card: "+pan+" exp 12/28", "CREDIT_CARD")
		if len(got) != 1 || got[0] != pan {
			t.Errorf("%s: got %q", pan, got)
		}
	}
}

func TestCardNearMisses(t *testing.T) {
	e := coreEngine(t)
	for _, s := range []string{
		"4111111111111112", // Luhn fails
		"Reference number 4352065261712542 was not found", // Luhn fails
		"1234567812345670",         // Luhn passes, no issuer range
		"41111111111111111111",     // 20 digits
		"4111 1111-1111-1111 1111", // mixed separators, 20 digits
		"4111 11-11 1111 1111",     // mixed separators, not a card's grouping
		"122000000000004",          // UATP, Luhn fails
		"1220000000000030",         // 16 digits after a 1: no issuer
		"4111111111111111a",        // glued to a word
		"v4111111111111111",
		"4111.1111.1111.1111",
	} {
		if got := found(e, s, "CREDIT_CARD"); len(got) != 0 {
			t.Errorf("%q: unexpected card %q", s, got)
		}
	}
}

// TestAdjacentCards: several cards on one line, each in its own form,
// are each reported.
func TestAdjacentCards(t *testing.T) {
	e := coreEngine(t)
	text := "4012888888881881 4012-8888-8888-1881 4012 8888 8888 1881"
	got := found(e, text, "CREDIT_CARD")
	want := []string{"4012888888881881", "4012-8888-8888-1881", "4012 8888 8888 1881"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q want %q", got, want)
	}
	// Past maxDigits, a card is read where its separator changes.
	if got := found(e, "4111111111111111 1111 1111 1111 1111 1111 1111", "CREDIT_CARD"); len(got) != 1 || got[0] != "4111111111111111" {
		t.Errorf("compact card before a long run: %q", got)
	}
}

func TestSSN(t *testing.T) {
	e := coreEngine(t)
	cases := []struct {
		text string
		want []string
	}{
		{"SSN 355 36 7362, was seen", []string{"355 36 7362"}},
		{`"ssn": "085-54-2753"`, []string{"085-54-2753"}},
		{"ssn=123456780", []string{"123456780"}},
		{"her number 457-55-5462 on file", []string{"457-55-5462"}},
		{"SSN 000-12-3456", nil},         // area 000
		{"SSN 666-12-3456", nil},         // area 666
		{"SSN 912-12-3456", nil},         // area 9xx (ITIN range, not SSN)
		{"SSN 123-00-4567", nil},         // group 00
		{"SSN 123-45-0000", nil},         // serial 0000
		{"SSN 078-05-1120", nil},         // voided Woolworth number
		{"order 457555462 shipped", nil}, // plain nine digits without context
		{`{"ssn": "764-69-3922"}, "order_id": "222368446"`, []string{"764-69-3922"}},
		{"1-123-45-6789", nil},
		// The 3-2-4 grouping with spaces or dots, alone or in text.
		{"078 05 1123", []string{"078 05 1123"}},
		{"078.05.1123", []string{"078.05.1123"}},
		{"abc 078 05 1123 abc", []string{"078 05 1123"}},
		{"078.05.1123.4", nil},    // a longer dotted number
		{"078 05 1123 4567", nil}, // a longer spaced number
		{"078.05-1123", nil},      // two separators
	}
	for _, c := range cases {
		got := found(e, c.text, "US_SSN")
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%q: got %q want %q", c.text, got, c.want)
		}
	}
}

func TestITINAndABAAndNHS(t *testing.T) {
	e := coreEngine(t)
	if got := found(e, "ITIN 912-70-1234 on the form", "US_ITIN"); len(got) != 1 {
		t.Errorf("ITIN: %q", got)
	}
	if got := found(e, "ITIN 912-40-1234 on the form", "US_ITIN"); len(got) != 0 {
		t.Errorf("ITIN group 40 is not issued: %q", got)
	}
	// 011000015 is the Federal Reserve Bank of Boston's routing number.
	if got := found(e, "routing number 011000015 for the wire", "ABA_ROUTING_NUMBER"); len(got) != 1 {
		t.Errorf("ABA: %q", got)
	}
	if got := found(e, "routing number 011000016 for the wire", "ABA_ROUTING_NUMBER"); len(got) != 0 {
		t.Errorf("ABA bad checksum: %q", got)
	}
	if got := found(e, "id 011000015 in the table", "ABA_ROUTING_NUMBER"); len(got) != 0 {
		t.Errorf("ABA without context: %q", got)
	}
	// 943 476 5919 is the NHS's own example number.
	if got := found(e, "NHS number 943 476 5919", "UK_NHS"); len(got) != 1 {
		t.Errorf("NHS: %q", got)
	}
	if got := found(e, "NHS number 943 476 5918", "UK_NHS"); len(got) != 0 {
		t.Errorf("NHS bad check digit: %q", got)
	}
}

func TestIBANExamples(t *testing.T) {
	e := coreEngine(t)
	// Examples from the SWIFT IBAN registry.
	for _, iban := range []string{
		"GB82WEST12345698765432", "DE89370400440532013000", "FR1420041010050500013M02606",
		"NL91ABNA0417164300", "BE68539007547034", "ES9121000418450200051332",
		"IT60X0542811101000000123456", "CH9300762011623852957", "NO9386011117947",
		"MT84MALT011000012345MTLCAST001S", "SA0380000000608010167519", "AT611904300234573201",
		"PL61109010140000071219812874", "SE4550000000058398257466", "FI2112345600000785",
		"DK5000400440116243", "IE29AIBK93115212345678", "PT50000201231234567890154",
		"GB82 WEST 1234 5698 7654 32", "DE89 3704 0044 0532 0130 00", "BR1800360305000010009795493C1",
		// National groupings (python-stdnum's test numbers): a space after
		// the country code, the Spanish entidad-oficina-DC-cuenta split,
		// the Norwegian 4.2.5 and 3-3-3-2 splits, dots and dashes.
		"ES 58 0049 0290 3424 1352 8341", "ES10 0075 0080 11 0600658108", "ES72 2013-0692-81-0201150993",
		"NO 21 650 405 251 19", "NO07.8380.08.06006", "NO 44 1850.05.14562", "MK072 5012 0000 0589 84",
		"TL 38 008 00123456789101 57", "ME 25510260797324001246",
	} {
		got := found(e, "pay to "+iban+".", "IBAN_CODE")
		if len(got) != 1 || got[0] != iban {
			t.Errorf("%s: got %q", iban, got)
		}
	}
	for _, s := range []string{"GB82WEST12345698765433", "DE8937040044053201300", "XX89370400440532013000", "GB82WEST123456987654321",
		// mod 97 holds but the BBAN has a letter where the registry wants
		// a digit (BG 4!a4!n2!n8!c, NL 4!a10!n) or a digit for a letter (GI 4!a15!c).
		"BG93 BNBG 9661 1A20 3456 78", "GI22 NW3K 0000 0000 7099 453", "NL56 3003 0A17 1643 00",
		// two separators in a row, or a separator before the check digits' end
		"DE89  3704 0044 0532 0130 00", "DE8 9370400440532013000"} {
		if got := found(e, s, "IBAN_CODE"); len(got) != 0 {
			t.Errorf("%s: unexpected %q", s, got)
		}
	}
}

// TestIBANRegistry keeps the registry table well formed: every BBAN
// structure parses and adds up to the registered length.
func TestIBANRegistry(t *testing.T) {
	for cc, f := range ibanRegistry {
		if f.length < 15 || f.length > 34 {
			t.Errorf("%s: length %d", cc, f.length)
		}
		if f.bban == "" {
			continue
		}
		n := 0
		rest := f.bban
		for rest != "" {
			var k int
			var class byte
			if _, err := fmt.Sscanf(rest, "%d!%c", &k, &class); err != nil || !strings.ContainsRune("nac", rune(class)) {
				t.Fatalf("%s: malformed BBAN structure at %q", cc, rest)
			}
			n += k
			rest = rest[strings.IndexByte(rest, '!')+2:]
		}
		if 4+n != f.length {
			t.Errorf("%s: BBAN %s adds up to %d, registry length %d", cc, f.bban, 4+n, f.length)
		}
		// An all-digit or all-letter BBAN of the right length matches
		// exactly when the structure has no a (or no n) field.
		digits := strings.Repeat("1", f.length-4)
		if got, want := bbanMatches(f.bban, digits), !strings.Contains(f.bban, "!a"); got != want {
			t.Errorf("%s: all-digit BBAN matches=%v", cc, got)
		}
		letters := strings.Repeat("A", f.length-4)
		if got, want := bbanMatches(f.bban, letters), !strings.Contains(f.bban, "!n"); got != want {
			t.Errorf("%s: all-letter BBAN matches=%v", cc, got)
		}
	}
}

func TestPhones(t *testing.T) {
	e := coreEngine(t)
	for _, c := range []struct{ text, want string }{
		{"call (614) 507-4711 today", "(614) 507-4711"},
		{"phone=+1 763-252-9734", "+1 763-252-9734"},
		{"ring +44 20 7946 0958", "+44 20 7946 0958"},
		{"+49 30 20950020", "+49 30 20950020"},
		{"contact phone=+19544755780", "+19544755780"},
		{"office 415-555-0132", "415-555-0132"},
		{"mobile: 4155550132", "4155550132"},
		{"+33 1 42 68 53 00 (Paris)", "+33 1 42 68 53 00"},
	} {
		got := found(e, c.text, "PHONE_NUMBER")
		if len(got) != 1 || got[0] != c.want {
			t.Errorf("%q: got %q want %q", c.text, got, c.want)
		}
	}
	for _, s := range []string{
		"Order 536187668 shipped on 5/14/1968",
		"Call the front desk at extension 3612 between 9 and 5.",
		"request 1732480000 took 41026 ms",
		"version 10.11.20.1234 released",
		"2026-11-24T20:21:48.870Z",
		"182.33.62.44",
	} {
		if got := found(e, s, "PHONE_NUMBER"); len(got) != 0 {
			t.Errorf("%q: unexpected phone %q", s, got)
		}
	}
}

func TestEmail(t *testing.T) {
	e := coreEngine(t)
	for _, c := range []struct{ text, want string }{
		{"reply to (Delpha.Howe3@hotmail.com) now", "Delpha.Howe3@hotmail.com"},
		{"mail o'brien+tag@mail.example.co.uk.", "o'brien+tag@mail.example.co.uk"},
		{`"email":"a_b-c@x-y.io"`, "a_b-c@x-y.io"},
		{"user@xn--bcher-kva.example", "user@xn--bcher-kva.example"},
	} {
		got := found(e, c.text, "EMAIL_ADDRESS")
		if len(got) != 1 || got[0] != c.want {
			t.Errorf("%q: got %q want %q", c.text, got, c.want)
		}
	}
	for _, s := range []string{"npm i @types/node", "a@b", "user@localhost", "x@1.2.3.4", ".@example.com", "foo@bar.c0m"} {
		if got := found(e, s, "EMAIL_ADDRESS"); len(got) != 0 {
			t.Errorf("%q: unexpected %q", s, got)
		}
	}
}

func TestURL(t *testing.T) {
	e := coreEngine(t)
	for _, c := range []struct{ text, want string }{
		{"see https://example.com/a?b=c.", "https://example.com/a?b=c"},
		{"(docs at https://en.wikipedia.org/wiki/Foo_(bar))", "https://en.wikipedia.org/wiki/Foo_(bar)"},
		{"go to www.example.org, then", "www.example.org"},
	} {
		got := found(e, c.text, "URL")
		if len(got) != 1 || got[0] != c.want {
			t.Errorf("%q: got %q want %q", c.text, got, c.want)
		}
	}
}

func TestContextStopsAtClause(t *testing.T) {
	e := coreEngine(t)
	text := `{"ssn": "764-69-3922"}, "order_id": "222368446"`
	got := found(e, text, "US_SSN")
	if len(got) != 1 || got[0] != "764-69-3922" {
		t.Fatalf("got %q", got)
	}
}

func TestOffsetsOnRuneBoundaries(t *testing.T) {
	e := coreEngine(t)
	text := "é4111111111111111é ☎+44 20 7946 0958☎ ü@example.com jöhn@example.com"
	for _, f := range e.Scan(text) {
		for _, off := range []int{f.Start, f.End} {
			if !onRuneBoundary(text, off) {
				t.Errorf("%s at %d..%d splits a rune", f.Type, f.Start, f.End)
			}
		}
	}
}

func FuzzCore(f *testing.F) {
	for _, s := range []string{"card 4111 1111 1111 1111", "SSN 355 36 7362", "(614) 507-4711", "a@b.co", "https://x.y/(z)", "GB82 WEST 1234 5698 7654 32", "\x00\xff@\xfe.com", "+1 (", "99999999999999999999999999",
		"ES 58 0049 0290 3424 1352 8341", "NO07.8380.08.06006", "iban: es10 0075-0080.11 0600658108", "DE89 ", "NO 1"} {
		f.Add(s)
	}
	e, err := New(Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		prev := 0
		for _, fd := range e.Scan(s) {
			if fd.Start < prev || fd.Start >= fd.End || fd.End > len(s) {
				t.Fatalf("bad span %d..%d (prev end %d, len %d)", fd.Start, fd.End, prev, len(s))
			}
			if !onRuneBoundary(s, fd.Start) || !onRuneBoundary(s, fd.End) {
				t.Fatalf("%s span %d..%d splits a rune", fd.Type, fd.Start, fd.End)
			}
			prev = fd.End
		}
	})
}

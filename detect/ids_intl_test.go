package detect

import (
	"testing"
	"unicode/utf8"
)

// intlEngine has only the international identifier recognizers.
func intlEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := NewWith(Config{}, intlRecognizers())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// intlCase is an idCase whose type is given per case.
type intlCase struct {
	name, marked, typ string
}

func runIntlCases(t *testing.T, e *Engine, cases []intlCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text, want := unmark(c.marked, c.typ)
			var got []idSpan
			for _, f := range e.Scan(text) {
				got = append(got, idSpan{f.Type, f.Start, f.End})
			}
			if len(got) != len(want) {
				t.Fatalf("%q: got %v, want %v", text, got, want)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%q: got %v, want %v", text, got, want)
				}
			}
		})
	}
}

// TestIntlChecksums pins each check algorithm on its registry's published
// example numbers and on the same numbers with one digit changed.
func TestIntlChecksums(t *testing.T) {
	tfnRule := func(d string) bool { c, r := deTaxID(d); return c && r }
	krCheck := func(d string) bool { s, c := krRRN(d); return s && c }
	cases := []struct {
		name  string
		check func(string) bool
		good  []string
		bad   []string
	}{
		{"verhoeff", verhoeff, []string{"2363", "234123412346", "399876543211"}, []string{"2364", "234123412345", "123456789012"}},
		{"ca sin", caSIN, []string{"130692544", "435418165", "948584792"}, []string{"130692545", "046454286", "812345678", "111111111"}},
		{"au tfn", auTFN, []string{"876543210", "123456782"}, []string{"876543211", "824753557"}},
		{"au abn", auABN, []string{"51824753556", "53004085616"}, []string{"52824753556", "00000000560"}},
		{"au medicare", auMedicare, []string{"2123456701"}, []string{"2123258701", "7123456701"}},
		{"nl bsn", nlBSN, []string{"111222333", "123456782"}, []string{"111222334", "000000000"}},
		{"us npi", usNPI, []string{"1234567893", "1245319599", "1003000126"}, []string{"1234567890", "0234567893", "3234567893", "1111111112"}},
		{"in aadhaar", inAadhaar, []string{"234123412346", "399876543211"}, []string{"123456789012", "312345678909"}},
		{"de tax id", tfnRule, []string{"36574261809", "86095742719"}, []string{"36574261808", "12345678903", "11112345678", "02345678901"}},
		{"pl pesel", plPESEL, []string{"44051401458", "02070803628"}, []string{"44051401459", "85040812345", "11110021111"}},
		{"se personnummer", func(d string) bool { return sePersonnummer(d, -1) }, []string{"8112189876", "8712202384"}, []string{"8112189877", "8113189876"}},
		{"kr rrn check", krCheck, []string{"9601211021413", "0509122000019"}, []string{"9601211021414", "0013321234567", "9603030021413"}},
		{"za id", zaID, []string{"8001015009087", "9202201234088"}, []string{"8001015009086", "9913326789285", "8001015009176"}},
		{"fr nir", frNIR, []string{"255081416802538", "184127645108946"}, []string{"255081416802539", "555081416802538"}},
		{"fi hetu", fiHETU, []string{"131052-308T", "010594Y9032", "020516C903K"}, []string{"131052-308U", "311190-1111", "310289-211C"}},
		{"sg nric", sgNRIC, []string{"S1234567D", "S2740116C", "F2346401L", "M4332674T", "T7572225C"}, []string{"S1234567E", "T1234567Z", "G1122144L"}},
		{"icao 9303", icao9303, []string{"L01X00T471", "T220001293"}, []string{"L01X00T472", "T220001294"}},
		{"it codice fiscale", itFiscalCode, []string{"RSSMRA85T10A562S", "AAAAAA00B11C333Y"}, []string{"RSSMRA85T10A562T", "AAAAAA00B11C333N"}},
	}
	for _, c := range cases {
		for _, g := range c.good {
			if !c.check(g) {
				t.Errorf("%s: %s should pass", c.name, g)
			}
		}
		for _, b := range c.bad {
			if c.check(b) {
				t.Errorf("%s: %s should fail", c.name, b)
			}
		}
	}
	for i, n := range []int{12345678, 1111111, 55555555} {
		if !esCheck(n, "ZGK"[i]) || esCheck(n, 'A') {
			t.Errorf("es check: %d", n)
		}
	}
}

func TestIntlNumbers(t *testing.T) {
	runIntlCases(t, intlEngine(t), []intlCase{
		{"sin spaced", "⟦130 692 544⟧", "CA_SIN"},
		{"sin dashed with word", "my SIN is ⟦130-692-544⟧", "CA_SIN"},
		{"sin french", "mon NAS: ⟦258 933 688⟧", "CA_SIN"},
		{"sin plain alone", "130692544", ""},
		{"sin plain with word", "SIN: ⟦130692544⟧", "CA_SIN"},
		{"sin mixed separators", "046-454 286", ""},
		{"sin bad luhn", "130 692 545", ""},
		{"sin in longer spaced number", "130 692 544 12", ""},
		{"tfn spaced", "⟦876 543 210⟧", "AU_TFN"},
		{"tfn plain with word", "TFN ⟦876543210⟧", "AU_TFN"},
		{"bsn with word", "BSN ⟦111222333⟧", "NL_BSN"},
		{"bsn alone", "111222333", ""},
		{"abn spaced", "⟦51 824 753 556⟧", "AU_ABN"},
		{"abn plain", "⟦51824753556⟧", "AU_ABN"},
		{"abn bad", "52 824 753 556", ""},
		{"medicare formatted", "⟦2123 45670 1⟧", "AU_MEDICARE"},
		{"medicare plain alone", "2123456701", ""},
		{"medicare plain with word", "Medicare no ⟦2123456701⟧", "AU_MEDICARE"},
		{"npi formatted", "⟦1234-567-893⟧", "US_NPI"},
		{"npi with word", "NPI: ⟦1234567893⟧", "US_NPI"},
		{"npi plain alone is a unix time", "epoch=1718031234 and 1234567893", ""},
		{"aadhaar spaced", "⟦2341 2341 2346⟧", "IN_AADHAAR"},
		{"aadhaar colon", "⟦3998:7654:3211⟧", "IN_AADHAAR"},
		{"aadhaar with word", "Aadhaar ⟦399876543211⟧", "IN_AADHAAR"},
		{"aadhaar tracking", "FedEx tracking 2341 2341 2346", ""},
		{"aadhaar in iban", "EE38 A200 2341 2341 2346", ""},
		{"aadhaar in ipv6", "684d:1111:222:3998:7654:3211:77", ""},
		{"de tax id", "⟦36574261809⟧", "DE_TAX_ID"},
		{"de tax id spaced", "⟦36 574 261 809⟧", "DE_TAX_ID"},
		{"de tax id example with word", "Meine Steuer-ID: ⟦12345678903⟧.", "DE_TAX_ID"},
		{"de tax id example alone", "12345678903", ""},
		{"pesel", "My pesel is ⟦44051401458⟧.", "PL_PESEL"},
		{"pesel 2200s", "09491234567", ""},
		{"se twelve", "⟦198112189876⟧", "SE_PERSONNUMMER"},
		{"se dashed", "⟦811218-9876⟧", "SE_PERSONNUMMER"},
		{"se plus", "⟦811218+9876⟧", "SE_PERSONNUMMER"},
		{"se eight dash four", "⟦19811218-9876⟧ är mitt pnr", "SE_PERSONNUMMER"},
		{"se ten plain alone", "8112189876", ""},
		{"se invoice code", "Invoice INV-8112189876 is due", ""},
		{"kr dashed", "⟦960121-1234567⟧", "KR_RRN"},
		{"kr plain checked", "⟦9601211021413⟧", "KR_RRN"},
		{"kr plain unchecked alone", "9601211234567", ""},
		{"kr foreigner digit", "760413-5212134", ""},
		{"za", "RSA ID: ⟦8001015009087⟧", "ZA_ID_NUMBER"},
		{"za bad luhn", "8001015009086", ""},
		{"fr nir spaced", "⟦2 55 08 14 168 025 38⟧", "FR_NIR"},
		{"fr nir plain", "⟦255081416802538⟧", "FR_NIR"},
		{"fi", "hetu ⟦131052-308T⟧.", "FI_PERSONAL_IDENTITY_CODE"},
		{"fi new century sign", "⟦010594Y9032⟧", "FI_PERSONAL_IDENTITY_CODE"},
		{"fi slash", "131052/308T", ""},
		{"nif", "DNI ⟦12345678Z⟧", "ES_NIF"},
		{"nif dashed seven", "⟦1111111-G⟧", "ES_NIF"},
		{"nif bad letter", "12345678A", ""},
		{"nif in uuid", "id 4111891c-d1a9-40a4-8e31-15bd0a1b2c3d", ""},
		{"mbi dashed", "⟦1EG4-TE5-MK73⟧", "US_MBI"},
		{"mbi plain lower", "⟦1eg4te5mk73⟧", "US_MBI"},
		{"mbi letter S", "1SG4-TE5-MK73", ""},
		{"mbi one dash", "1EG4-TE5MK73", ""},
	})
}

func TestIntlWords(t *testing.T) {
	runIntlCases(t, intlEngine(t), []intlCase{
		{"uk passport with word", "My passport number is ⟦CD7654321⟧", "UK_PASSPORT"},
		{"uk passport alone", "AB1234567", ""},
		{"uk licence", "⟦MORGA657054SM9IJ⟧", "UK_DRIVING_LICENCE"},
		{"uk licence padded surname", "⟦SMIT9801015JK2CD⟧", "UK_DRIVING_LICENCE"},
		{"uk licence bad month", "MORGA637054SM9IJ", ""},
		{"uk licence letter after padding", "SM9T9801015JK2CD", ""},
		{"postcode with word", "Send to postcode ⟦EC2A 1NT⟧ please", "UK_POSTCODE"},
		{"postcode in address", "My address is ⟦SW1A 1AA⟧ in London", "UK_POSTCODE"},
		{"postcode GIR", "postcode ⟦GIR 0AA⟧", "UK_POSTCODE"},
		{"postcode alone", "From SW1A 1AA to EC1A 1BB", ""},
		{"postcode bad first letter", "postcode QA1 1AA", ""},
		{"postcode bad inward", "postcode M1 1CA", ""},
		{"pan person", "⟦ABCPD1234Z⟧", "IN_PAN"},
		{"pan company alone", "AAACA1111R", ""},
		{"pan company with word", "PAN: ⟦AAACA1111R⟧", "IN_PAN"},
		{"pan bad status", "ABCND1234Z", ""},
		{"nric", "NRIC ⟦S1234567D⟧ was processed", "SG_NRIC_FIN"},
		{"fin M", "⟦M4332674T⟧", "SG_NRIC_FIN"},
		{"nric bad check alone", "T1234567Z", ""},
		{"de id card mrz", "⟦L01X00T471⟧", "DE_ID_CARD"},
		{"de id card serial with word", "Personalausweis: ⟦L01X00T47⟧.", "DE_ID_CARD"},
		{"de id card serial alone", "L01X00T47", ""},
		{"de id card vowel", "Ausweis LA1X00T47", ""},
		{"nie", "⟦X9613851N⟧", "ES_NIE"},
		{"nie dashed", "NIE ⟦Y8063915-Z⟧", "ES_NIE"},
		{"nie bad letter", "Y8063915Q", ""},
		{"codice fiscale", "⟦RSSMRA85T10A562S⟧", "IT_FISCAL_CODE"},
		{"codice fiscale bad check alone", "RSSMRA85T10A562T", ""},
		{"codice fiscale bad check with word", "codice fiscale ⟦RSSMRA85T10A562T⟧", "IT_FISCAL_CODE"},
		{"codice fiscale bad day", "RSSMRA85T35A562S", ""},
		{"capitalised prose", "The Quick Brown Fox Jumps Over London Bridge", ""},
	})
}

// TestIntlNoFindingsInProse checks that the mixed corpus of ids_test.go,
// which holds no international identifier, gives none.
func TestIntlNoFindingsInProse(t *testing.T) {
	e := intlEngine(t)
	if fs := e.Scan(idMixedCorpus(1 << 16)); len(fs) > 0 {
		t.Fatalf("%d findings, first %s at %d", len(fs), fs[0].Type, fs[0].Start)
	}
}

// FuzzIntlIDs runs the international identifier recognizers through the
// engine: offsets in bounds and on rune boundaries, no panic.
func FuzzIntlIDs(f *testing.F) {
	for _, s := range []string{
		"SIN 130 692 544, TFN 876 543 210, ABN 51 824 753 556, Medicare 2123 45670 1",
		"NPI 1234-567-893 Aadhaar 3998:7654:3211 Steuer-ID 36574261809 PESEL 44051401458",
		"811218+9876 19811218-9876 960121-1234567 8001015009087 2 55 08 14 168 025 38",
		"131052-308T 010594Y9032 1111111-G 12345678Z 1EG4-TE5-MK73 1eg4te5mk73",
		"passport CD7654321 MORGA657054SM9IJ postcode GIR 0AA ABCPD1234Z S1234567D",
		"L01X00T471 Ausweis T22000129 Y8063915-Z RSSMRA85T10A562S",
		"1", "1E", "1EG4-", "131052-", "811218+", "3998:", "12345678-", "X1234567-", "SW1A ", "é130 692 544é",
	} {
		f.Add(s)
	}
	e := intlEngine(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, fd := range e.Scan(s) {
			if fd.Start < 0 || fd.End > len(s) || fd.Start >= fd.End {
				t.Fatalf("finding %+v out of range for %d bytes", fd, len(s))
			}
			if !utf8.RuneStart(s[fd.Start]) || (fd.End < len(s) && !utf8.RuneStart(s[fd.End])) {
				t.Fatalf("finding %+v splits a rune", fd)
			}
		}
	})
}

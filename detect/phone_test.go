package detect

import (
	"slices"
	"strings"
	"testing"
)

func phoneEngine(t testing.TB, regions ...string) *Engine {
	t.Helper()
	e, err := NewWith(Config{Phone: PhoneConfig{DefaultRegions: regions}}, coreRecognizers())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestPhoneFormats pins number formats from ITU-T E.123 (international
// notation "+22 607 123 4567", a national area code in brackets) and
// E.164 country codes, written the way people write them: the bracketed
// area code kept after the country code, extensions, and national numbers
// next to an international number of the same country.
func TestPhoneFormats(t *testing.T) {
	e := phoneEngine(t)
	for _, c := range []struct{ name, text, want string }{
		{"gb bracketed area", "my UK line is +44 (20) 7946 0958", "+44 (20) 7946 0958"},
		{"gb bracketed area no space", "+44(161) 496 0123 is the office", "+44(161) 496 0123"},
		{"gb bracketed trunk area", "fax +44 (020) 7946 0958", "+44 (020) 7946 0958"},
		{"de bracketed area", "Telefon +49 (30) 901820", "+49 (30) 901820"},
		{"tr bracketed mobile", "+90 (532) 123 45 67", "+90 (532) 123 45 67"},
		{"au bracketed area", "office +61 (2) 9876 5432.", "+61 (2) 9876 5432"},
		{"bracketed, next number kept out", "+44 (20) 7946 0958 2024", "+44 (20) 7946 0958"},
		{"ext.", "call 415-555-0132 ext. 204 today", "415-555-0132 ext. 204"},
		{"x", "phone (415) 555-0132 x12", "(415) 555-0132 x12"},
		{"comma ext", "+44 20 7946 0958, ext 3", "+44 20 7946 0958, ext 3"},
		{"extension word", "tel +1 415 555 0132 extension 5521", "+1 415 555 0132 extension 5521"},
		{"bracketed country code", "(+44) 20 7946 0958", "(+44) 20 7946 0958"},
		{"ie bracketed area", "Dublin office +353 (1) 234 5678", "+353 (1) 234 5678"},
		{"doc region tr", "Birinci: +905321234567, ikinci: 05359876543", "+905321234567|05359876543"},
		{"doc region ph", "First: +639171234567, Second: 09181234567", "+639171234567|09181234567"},
		{"doc region after", "home 020 7946 0321 or abroad +44 7700 900123", "020 7946 0321|+44 7700 900123"},
		{"doc region spaced trunk", "+90 532 123 45 67 / 0 212 123 45 67", "+90 532 123 45 67|0 212 123 45 67"},
	} {
		got := strings.Join(found(e, c.text, "PHONE_NUMBER"), "|")
		if got != c.want {
			t.Errorf("%s: %q: got %q want %q", c.name, c.text, got, c.want)
		}
	}
	for _, c := range []struct{ name, text string }{
		{"bracketed invalid", "+44 (99) 1234"},
		{"bracketed unknown code", "+999 (20) 7946 0958"},
		{"sum", "2+2 (4) 1234 5678"},
		{"order without region", "Order 5321234567 shipped"},
		{"national without region", "ref 05321234567"},
		{"region too far", "+90 532 123 45 67" + strings.Repeat(" filler", 40) + " 05359876543"},
		{"glued x", "part 555-0132x"},
		{"extension alone", "Call the front desk at extension 3612 between 9 and 5."},
	} {
		got := found(e, c.text, "PHONE_NUMBER")
		if c.name == "region too far" && len(got) == 1 && got[0] == "+90 532 123 45 67" {
			continue
		}
		if c.name == "glued x" {
			if slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, "x") }) {
				t.Errorf("%s: %q: got %q", c.name, c.text, got)
			}
			continue
		}
		if len(got) != 0 {
			t.Errorf("%s: %q: unexpected phone %q", c.name, c.text, got)
		}
	}
}

// TestPhoneDefaultRegions: detect.phone.default_regions reads national
// numbers without +CC and without a phone word.
func TestPhoneDefaultRegions(t *testing.T) {
	for _, c := range []struct {
		name    string
		regions []string
		text    string
		want    string
	}{
		{"tr trunk", []string{"TR"}, "05321234567", "05321234567"},
		{"tr no trunk", []string{"TR"}, "5321234567", "5321234567"},
		{"tr grouped", []string{"TR"}, "532 123 45 67", "532 123 45 67"},
		{"tr spaced trunk", []string{"TR"}, "0 532 123 45 67", "0 532 123 45 67"},
		{"ph mobile", []string{"PH"}, "09171234567", "09171234567"},
		{"us plain", []string{"US"}, "4155550132", "4155550132"},
		{"second region", []string{"GB", "TR"}, "05321234567", "05321234567"},
		{"none", nil, "05321234567", ""},
		{"invalid for region", []string{"TR"}, "01001234567", ""},
	} {
		e := phoneEngine(t, c.regions...)
		got := strings.Join(found(e, c.text, "PHONE_NUMBER"), "|")
		if got != c.want {
			t.Errorf("%s: %q with %v: got %q want %q", c.name, c.text, c.regions, got, c.want)
		}
	}
}

func TestPhoneConfigErrors(t *testing.T) {
	for _, r := range []string{"XX", "TUR", "", "U1", "ZZ"} {
		_, err := New(Config{Phone: PhoneConfig{DefaultRegions: []string{"GB", r}}})
		if err == nil || !strings.Contains(err.Error(), "phone.default_regions[1]") {
			t.Errorf("region %q: err %v, want one naming phone.default_regions[1]", r, err)
		}
	}
	if _, err := New(Config{Phone: PhoneConfig{DefaultRegions: []string{"US", "ca", "GB"}}}); err != nil {
		t.Fatal(err)
	}
}

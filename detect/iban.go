package detect

// IBANs (IBAN_CODE, FINANCIAL), ISO 13616-1: a two-letter country code,
// two check digits and the country's Basic Bank Account Number (BBAN).
// A candidate is valid when its length is the one registered for its
// country, every BBAN position has the registered character class, and
// ISO 7064 MOD 97-10 over BBAN + country + check digits leaves 1.

// ibanFormat is one country's entry in the SWIFT IBAN Registry: the IBAN
// length and the BBAN structure in the registry's notation, a sequence
// of fields "<n>!<class>" where the class is n (digits 0-9), a (upper-
// case letters A-Z) or c (upper- and lower-case letters and digits).
// "DE": {22, "8!n10!n"} reads: 8 digits of bank code, 10 digits of
// account. An empty bban means the structure is not registered: any
// letters and digits.
type ibanFormat struct {
	length int
	bban   string
}

// ibanRegistry holds the IBAN length and BBAN structure per country code
// from the SWIFT IBAN Registry (ISO 13616 registration authority),
// release 99, plus, with no structure, the countries that use IBANs
// nationally without registering them (as listed by the Nordea/ECBS IBAN
// tables).
var ibanRegistry = map[string]ibanFormat{
	"AD": {24, "4!n4!n12!c"}, "AE": {23, "3!n16!n"}, "AL": {28, "8!n16!c"},
	"AT": {20, "5!n11!n"}, "AZ": {28, "4!a20!c"}, "BA": {20, "3!n3!n8!n2!n"},
	"BE": {16, "3!n7!n2!n"}, "BG": {22, "4!a4!n2!n8!c"}, "BH": {22, "4!a14!c"},
	"BI": {27, "5!n5!n11!n2!n"}, "BR": {29, "8!n5!n10!n1!a1!c"}, "BY": {28, "4!c4!n16!c"},
	"CH": {21, "5!n12!c"}, "CR": {22, "4!n14!n"}, "CY": {28, "3!n5!n16!c"},
	"CZ": {24, "4!n6!n10!n"}, "DE": {22, "8!n10!n"}, "DJ": {27, "5!n5!n11!n2!n"},
	"DK": {18, "4!n9!n1!n"}, "DO": {28, "4!c20!n"}, "EE": {20, "2!n14!n"},
	"EG": {29, "4!n4!n17!n"}, "ES": {24, "4!n4!n1!n1!n10!n"}, "FI": {18, "3!n11!n"},
	"FK": {18, "2!a12!n"}, "FO": {18, "4!n9!n1!n"}, "FR": {27, "5!n5!n11!c2!n"},
	"GB": {22, "4!a6!n8!n"}, "GE": {22, "2!a16!n"}, "GI": {23, "4!a15!c"},
	"GL": {18, "4!n9!n1!n"}, "GR": {27, "3!n4!n16!c"}, "GT": {28, "4!c20!c"},
	"HN": {28, "4!a20!n"}, "HR": {21, "7!n10!n"}, "HU": {28, "3!n4!n1!n15!n1!n"},
	"IE": {22, "4!a6!n8!n"}, "IL": {23, "3!n3!n13!n"}, "IQ": {23, "4!a3!n12!n"},
	"IS": {26, "4!n2!n6!n10!n"}, "IT": {27, "1!a5!n5!n12!c"}, "JO": {30, "4!a4!n18!c"},
	"KW": {30, "4!a22!c"}, "KZ": {20, "3!n13!c"}, "LB": {28, "4!n20!c"},
	"LC": {32, "4!a24!c"}, "LI": {21, "5!n12!c"}, "LT": {20, "5!n11!n"},
	"LU": {20, "3!n13!c"}, "LV": {21, "4!a13!c"}, "LY": {25, "3!n3!n15!n"},
	"MC": {27, "5!n5!n11!c2!n"}, "MD": {24, "2!c18!c"}, "ME": {22, "3!n13!n2!n"},
	"MK": {19, "3!n10!c2!n"}, "MN": {20, "4!n12!n"}, "MR": {27, "5!n5!n11!n2!n"},
	"MT": {31, "4!a5!n18!c"}, "MU": {30, "4!a2!n2!n12!n3!n3!a"}, "NI": {28, "4!a20!n"},
	"NL": {18, "4!a10!n"}, "NO": {15, "4!n6!n1!n"}, "OM": {23, "3!n16!c"},
	"PK": {24, "4!a16!c"}, "PL": {28, "8!n16!n"}, "PS": {29, "4!a21!c"},
	"PT": {25, "4!n4!n11!n2!n"}, "QA": {29, "4!a21!c"}, "RO": {24, "4!a16!c"},
	"RS": {22, "3!n13!n2!n"}, "RU": {33, "9!n5!n15!c"}, "SA": {24, "2!n18!c"},
	"SC": {31, "4!a2!n2!n16!n3!a"}, "SD": {18, "2!n12!n"}, "SE": {24, "3!n16!n1!n"},
	"SI": {19, "5!n8!n2!n"}, "SK": {24, "4!n6!n10!n"}, "SM": {27, "1!a5!n5!n12!c"},
	"SO": {23, "4!n3!n12!n"}, "ST": {25, "8!n11!n2!n"}, "SV": {28, "4!a20!n"},
	"TL": {23, "3!n14!n2!n"}, "TN": {24, "2!n3!n13!n2!n"}, "TR": {26, "5!n1!n16!c"},
	"UA": {29, "6!n19!c"}, "VA": {22, "3!n15!n"}, "VG": {24, "4!a16!n"},
	"XK": {20, "4!n10!n2!n"}, "YE": {30, "4!a4!n18!c"},
	// National use, not in the registry: length only.
	"AO": {25, ""}, "BF": {28, ""}, "BJ": {28, ""}, "CF": {27, ""}, "CG": {27, ""},
	"CI": {28, ""}, "CM": {27, ""}, "CV": {25, ""}, "DZ": {26, ""}, "GA": {27, ""},
	"GQ": {27, ""}, "GW": {25, ""}, "IR": {26, ""}, "KM": {27, ""}, "MA": {28, ""},
	"MG": {27, ""}, "ML": {28, ""}, "MZ": {25, ""}, "NE": {28, ""}, "SN": {28, ""},
	"TD": {27, ""}, "TG": {28, ""},
}

// validIBAN checks a compact IBAN (no separators, upper-case country
// code): the registered length and BBAN structure for its country and
// ISO 7064 MOD 97-10 == 1.
func validIBAN(s string) bool {
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	if !isUpper(s[0]) || !isUpper(s[1]) || !isDigit(s[2]) || !isDigit(s[3]) {
		return false
	}
	f, ok := ibanRegistry[s[:2]]
	if !ok || f.length != len(s) || !bbanMatches(f.bban, s[4:]) {
		return false
	}
	return mod97(s[4:]+s[:4]) == 1
}

// bbanMatches reports whether bban has the structure format (registry
// notation, see ibanFormat); an empty format accepts letters and digits.
// The length is checked by the caller.
func bbanMatches(format, bban string) bool {
	if format == "" {
		for i := 0; i < len(bban); i++ {
			if !isAlnum(bban[i]) {
				return false
			}
		}
		return true
	}
	p := 0
	for i := 0; i < len(format); {
		n := 0
		for i < len(format) && isDigit(format[i]) {
			n = n*10 + int(format[i]-'0')
			i++
		}
		if i+1 >= len(format) || format[i] != '!' {
			return false // malformed entry; TestIBANRegistry keeps them well formed
		}
		class := format[i+1]
		i += 2
		if p+n > len(bban) {
			return false
		}
		for _, c := range []byte(bban[p : p+n]) {
			switch class {
			case 'n':
				if !isDigit(c) {
					return false
				}
			case 'a':
				if !isUpper(c) {
					return false
				}
			default: // 'c'
				if !isAlnum(c) {
					return false
				}
			}
		}
		p += n
	}
	return p == len(bban)
}

// ibanRecognizer finds IBANs, compact, printed in groups of four, or
// grouped as a country prints its national account number ("ES10 0075
// 0080 11 0600658108", "NO 21 650 405 251 19", "NO07.8380.08.06006"):
// single spaces, dashes or dots may fall anywhere after the country
// code. It wakes at the upper-case country codes; an IBAN typed in lower
// case ("iban: de89 3704 …") is read only after the word "iban", since
// the lower-case codes ("de", "it", "no") start common words.
type ibanRecognizer struct{}

// Scores for IBAN_CODE: the registered length, the BBAN structure and
// the mod-97 check make a random match rare; irregular grouping loses a
// little, since a separator could join two numbers.
const (
	scoreIBAN          = 0.95
	scoreIBANIrregular = 0.85
)

func (ibanRecognizer) Name() string    { return "iban" }
func (ibanRecognizer) Types() []string { return []string{"IBAN_CODE"} }
func (ibanRecognizer) Triggers() []Trigger {
	ts := make([]Trigger, 0, len(ibanRegistry)+1)
	for cc := range ibanRegistry {
		ts = append(ts, Trigger{Kind: TriggerPrefix, Prefix: cc})
	}
	return append(ts, Trigger{Kind: TriggerPrefix, Prefix: "iban", Fold: true})
}

func (r ibanRecognizer) Find(s *Scan, at int) {
	t := s.text
	if lower[t[at]] == 'i' && lower[t[at+1]] == 'b' {
		r.afterKeyword(s, at+4)
		return
	}
	r.parse(s, at)
}

// afterKeyword looks for an IBAN with a lower- or mixed-case country code
// after the word "iban" and a separator (`iban: `, `"iban": "`, `IBAN=`).
func (r ibanRecognizer) afterKeyword(s *Scan, i int) {
	t := s.text
	if i < len(t) && isAlnum(t[i]) {
		return // "ibans", "IBAN1"
	}
	for j := i; j < len(t) && j-i < 6; j++ {
		switch t[j] {
		case ' ', ':', '=', '"', '\'', '\t':
			continue
		}
		if j+1 < len(t) && (isLower(t[j]) || isLower(t[j+1])) {
			r.parse(s, j)
		}
		return
	}
}

// isIBANSep reports whether c may separate the groups of a printed IBAN.
func isIBANSep(c byte) bool { return c == ' ' || c == '-' || c == '.' }

func (ibanRecognizer) parse(s *Scan, at int) {
	t := s.text
	if at+4 > len(t) || (at > 0 && isAlnum(t[at-1])) {
		return
	}
	// The check digits, directly after the country code or after one
	// separator ("ES 58 0049 …").
	k := at + 2
	if k < len(t) && isIBANSep(t[k]) {
		k++
	}
	if k+2 > len(t) || !isDigit(t[k]) || !isDigit(t[k+1]) {
		return
	}
	var cc [2]byte
	for k := 0; k < 2; k++ {
		c := t[at+k]
		if isLower(c) {
			c -= 32
		}
		cc[k] = c
	}
	want := ibanRegistry[string(cc[:])].length
	if want == 0 {
		return
	}
	var buf [34]byte
	n := 0
	j := at
	irregular := false
	for j < len(t) && n < want {
		c := t[j]
		if isUpper(c) || isDigit(c) {
			buf[n] = c
			n++
			j++
			continue
		}
		if isLower(c) {
			buf[n] = c - 32
			n++
			j++
			continue
		}
		// One separator between two letters or digits; in the printed
		// form of ISO 13616 a space (or a dash) after every group of four.
		if isIBANSep(c) && n >= 2 && isAlnum(t[j-1]) && j+1 < len(t) && isAlnum(t[j+1]) {
			if c == '.' || n%4 != 0 {
				irregular = true
			}
			j++
			continue
		}
		break
	}
	if n != want || wordAfter(t, j) {
		return
	}
	if !validIBAN(bytesToString(buf[:n])) {
		return
	}
	score := scoreIBAN
	if irregular {
		score = scoreIBANIrregular
	}
	s.Add(Finding{Type: "IBAN_CODE", Category: Financial, Start: at, End: j, Score: score, Recognizer: "iban"})
}

package detect

// National identifiers of other countries that start with an upper-case
// letter: UK_PASSPORT, UK_DRIVING_LICENCE, UK_POSTCODE, IN_PAN,
// SG_NRIC_FIN, DE_ID_CARD, ES_NIE and IT_FISCAL_CODE (Presidio's type
// names). All are PII. Lower-case spellings are not looked for: the
// recognizer wakes at upper-case word starts (TriggerUpperWord), and its
// first test, a lower-case second letter, rules out ordinary capitalised
// words at once.

// Context words of the letter-start identifiers (lower case).
var (
	ukPassportContext = []string{"passport"}
	ukDLContext       = []string{"licence", "license", "dvla", "driving"}
	postcodeContext   = []string{"postcode", "post code", "postal code", "address", "addr", "zip", "deliver", "ship to", "send to", "street", "road"}
	panContext        = []string{"pan ", "pan:", "pan#", "pan\"", "permanent account", "income tax"}
	nricContext       = []string{"nric", "fin ", "fin:", "fin\"", "ic no", "identity card", "singapore"}
	deIDContext       = []string{"ausweis", "personalausweis", "id card", "identity card", "id-karte"}
	nieContext        = []string{"nie", "extranjero", "foreigner"}
	itCFContext       = []string{"codice fiscale", "cod. fisc", "fiscal code", "tax code", "cf "}
	intlWordTypes     = []string{"UK_PASSPORT", "UK_DRIVING_LICENCE", "UK_POSTCODE", "IN_PAN", "SG_NRIC_FIN", "DE_ID_CARD", "ES_NIE", "IT_FISCAL_CODE"}
	intlWordRecKey    = "intl_words"
)

// intlWordRecognizer dispatches on the length of the upper-case word.
type intlWordRecognizer struct{}

func (intlWordRecognizer) Name() string        { return intlWordRecKey }
func (intlWordRecognizer) Types() []string     { return intlWordTypes }
func (intlWordRecognizer) Triggers() []Trigger { return []Trigger{{Kind: TriggerUpperWord}} }

// maxIntlWord is the longest word looked at (a UK licence, a codice
// fiscale).
const maxIntlWord = 16

func (intlWordRecognizer) Find(s *Scan, at int) {
	t := s.text
	if at+1 >= len(t) || !isUpper(t[at]) || isLower(t[at+1]) {
		return
	}
	e := at + 1
	for e < len(t) && e-at <= maxIntlWord && isAlnum(t[e]) {
		e++
	}
	if e-at > maxIntlWord {
		return
	}
	w := t[at:e]
	if len(w) == 8 {
		if e+2 <= len(t) && t[e] == '-' {
			findNIE(s, at, e)
		}
		return
	}
	if !intlEnd(t, e) || !intlStart(t, at) {
		return
	}
	switch len(w) {
	case 2, 3, 4:
		findPostcode(s, at, e, w)
	case 5, 6, 7:
		findPostcode(s, at, e, w)
	case 9:
		findNine(s, at, w)
	case 10:
		if base := deIDCard(w); base > 0 {
			addIntl(s, intlWordRecKey, at, e, []intlCand{{"DE_ID_CARD", PII, base, deIDContext}})
			return
		}
		findPAN(s, at, w)
	case 16:
		if !findUKLicence(s, at, w) {
			findFiscalCode(s, at, w)
		}
	}
}

// allDigits reports whether w is ASCII digits only.
func allDigits(w string) bool {
	for i := 0; i < len(w); i++ {
		if !isDigit(w[i]) {
			return false
		}
	}
	return true
}

// findNine handles the nine-character words: SG NRIC/FIN, ES NIE, DE ID
// card serial numbers and UK passport numbers.
func findNine(s *Scan, at int, w string) {
	end := at + 9
	digits7 := allDigits(w[1:8])
	switch {
	case digits7 && isUpper(w[8]) && (w[0] == 'X' || w[0] == 'Y' || w[0] == 'Z'):
		// NIE: X, Y, Z stand for 0, 1, 2 before the seven digits
		// (Orden INT/2058/2008).
		n := int(w[0]-'X')*10000000 + atoiDigits(w[1:8])
		if esCheck(n, w[8]) {
			addIntl(s, intlWordRecKey, at, end, []intlCand{{"ES_NIE", PII, scoreIntlStrong, nieContext}})
		}
		return
	case digits7 && isUpper(w[8]) && strings4(w[0], "STFGM"):
		base := scoreIntlWeak + 0.05
		if sgNRIC(w) {
			base = scoreIntlStrong
		}
		addIntl(s, intlWordRecKey, at, end, []intlCand{{"SG_NRIC_FIN", PII, base, nricContext}})
		return
	}
	var buf [2]intlCand
	cands := buf[:0]
	if isUpper(w[1]) && allDigits(w[2:]) {
		// UK passport numbers since 2020: two letters, seven digits
		// (HM Passport Office); other countries share the shape, so only
		// with the word "passport".
		cands = append(cands, intlCand{"UK_PASSPORT", PII, scoreIntlWeak + 0.05, ukPassportContext})
	}
	if base := deIDCard(w); base > 0 {
		cands = append(cands, intlCand{"DE_ID_CARD", PII, base, deIDContext})
	}
	if len(cands) > 0 {
		addIntl(s, intlWordRecKey, at, end, cands)
	}
}

// strings4 reports whether c is one of the bytes of set.
func strings4(c byte, set string) bool {
	for i := 0; i < len(set); i++ {
		if set[i] == c {
			return true
		}
	}
	return false
}

// atoiDigits returns the value of the ASCII digits d.
func atoiDigits(d string) int {
	n := 0
	for i := 0; i < len(d); i++ {
		n = n*10 + digit(d, i)
	}
	return n
}

// deIDAlphabet is the character set of German identity card and passport
// serial numbers since November 2010 (PAuswV, Anlage 2; BSI TR-03127):
// no vowels and no B, D, Q, S, so that no word and no look-alike forms.
const deIDAlphabet = "CFGHJKLMNPRTVWXYZ0123456789"

// deIDCard scores a German identity card (or passport) serial number,
// nine characters of deIDAlphabet, the first a letter (PAuswV, Anlage 2;
// the specimen cards are L01X00T47 and T22000129). The serial carries no
// check digit of its own, so alone it needs a context word; the machine
// readable zone prints it followed by its ICAO 9303 check digit, and ten
// characters that pass that check are reported on their own. Three
// digits at least, so that consonant clusters are not serials.
func deIDCard(w string) float64 {
	if !strings4(w[0], deIDAlphabet[:17]) {
		return 0
	}
	digits := 0
	for i := 1; i < 9; i++ {
		if !strings4(w[i], deIDAlphabet) {
			return 0
		}
		if isDigit(w[i]) {
			digits++
		}
	}
	switch {
	case digits < 3:
		return 0
	case len(w) == 10 && icao9303(w):
		return scoreIntlFormatted
	case len(w) == 9:
		return scoreIntlWeak + 0.05
	}
	return 0
}

// findNIE reads an NIE written with a dash before its check letter.
func findNIE(s *Scan, at, e int) {
	t := s.text
	w := t[at:e]
	if (w[0] != 'X' && w[0] != 'Y' && w[0] != 'Z') || !allDigits(w[1:]) || !isUpper(t[e+1]) || !intlEnd(t, e+2) || !intlStart(t, at) {
		return
	}
	if esCheck(int(w[0]-'X')*10000000+atoiDigits(w[1:]), t[e+1]) {
		addIntl(s, intlWordRecKey, at, e+2, []intlCand{{"ES_NIE", PII, scoreIntlStrong, nieContext}})
	}
}

// findPAN reads an Indian Permanent Account Number (Income Tax
// Department): five letters, four digits, a letter; the fourth letter
// is the holder's status. Only a person's (P) is reported on its own:
// the others (companies, firms, trusts, …) need a context word.
func findPAN(s *Scan, at int, w string) {
	for i := 0; i < 10; i++ {
		if (i >= 5 && i < 9) != isDigit(w[i]) || (!isDigit(w[i]) && !isUpper(w[i])) {
			return
		}
	}
	base := 0.0
	switch w[3] {
	case 'P':
		base = scoreIntlFormatted
	case 'A', 'B', 'C', 'F', 'G', 'H', 'J', 'L', 'T', 'K':
		base = scoreIntlWeak
	default:
		return
	}
	addIntl(s, intlWordRecKey, at, at+10, []intlCand{{"IN_PAN", PII, base, panContext}})
}

// findUKLicence reads a DVLA driving licence number: five characters of
// surname (letters, padded with 9), six digits (decade, month + 50 for
// women, day, year), two initials (9 when missing), a digit and two check
// letters.
func findUKLicence(s *Scan, at int, w string) bool {
	if !isUpper(w[0]) {
		return false
	}
	pad := false
	for i := 1; i < 5; i++ {
		switch {
		case w[i] == '9':
			pad = true
		case isUpper(w[i]) && !pad:
		default:
			return false
		}
	}
	if !allDigits(w[5:11]) {
		return false
	}
	m := two(w, 6)
	if m > 50 {
		m -= 50
	}
	if m < 1 || m > 12 || two(w, 8) < 1 || two(w, 8) > 31 {
		return false
	}
	if !(isUpper(w[11]) || w[11] == '9') || !(isUpper(w[12]) || w[12] == '9') || !isDigit(w[13]) || !isUpper(w[14]) || !isUpper(w[15]) {
		return false
	}
	addIntl(s, intlWordRecKey, at, at+16, []intlCand{{"UK_DRIVING_LICENCE", PII, scoreIntlStrong, ukDLContext}})
	return true
}

// itMonths are the month letters of a codice fiscale (A = January … T =
// December); itOmocodia the letters that replace digits when two people
// would share a code (L = 0 … V = 9).
const (
	itMonths   = "ABCDEHLMPRST"
	itOmocodia = "LMNPQRSTUV"
)

// findFiscalCode reads an Italian codice fiscale: six letters (surname,
// name), two digits of year, a month letter, two digits of day (plus 40
// for women), a letter and three digits (the town), the check letter.
// Digits may be replaced by omocodia letters.
func findFiscalCode(s *Scan, at int, w string) {
	var v [16]byte
	for i := 0; i < 16; i++ {
		c := w[i]
		switch i {
		case 6, 7, 9, 10, 12, 13, 14:
			if !isDigit(c) {
				k := -1
				for j := 0; j < len(itOmocodia); j++ {
					if itOmocodia[j] == c {
						k = j
					}
				}
				if k < 0 {
					return
				}
			}
		default:
			if !isUpper(c) {
				return
			}
		}
		v[i] = c
	}
	if !strings4(w[8], itMonths) {
		return
	}
	base := scoreIntlWeak + 0.1
	if itFiscalCode(bytesToString(v[:])) {
		base = scoreIntlStrong + 0.05
	}
	if isDigit(w[9]) && isDigit(w[10]) {
		if d := two(w, 9); d < 1 || (d > 31 && d < 41) || d > 71 {
			return
		}
	}
	addIntl(s, intlWordRecKey, at, at+16, []intlCand{{"IT_FISCAL_CODE", PII, base, itCFContext}})
}

// findPostcode reads a UK postcode (Royal Mail PAF): an outward code A9,
// A99, AA9, AA99, A9A or AA9A and an inward code 9AA, with or without a
// space between. A postcode alone locates a street, not a person: it is
// reported only with an address word nearby.
func findPostcode(s *Scan, at, e int, w string) {
	t := s.text
	out, in := w, ""
	end := e
	switch {
	case len(w) <= 4:
		if e+4 > len(t) || t[e] != ' ' || !intlEnd(t, e+4) {
			return
		}
		in, end = t[e+1:e+4], e+4
	default:
		out, in = w[:len(w)-3], w[len(w)-3:]
	}
	if !postcodeInward(in) || !(out == "GIR" && in == "0AA" || postcodeOutward(out)) {
		return
	}
	base := scoreIntlWeak
	if end == e {
		base -= 0.05 // no space: more often a code of something else
	}
	addIntl(s, intlWordRecKey, at, end, []intlCand{{"UK_POSTCODE", PII, base, postcodeContext}})
}

// postcodeInward checks 9AA; the letters are not C, I, K, M, O or V.
func postcodeInward(in string) bool {
	if len(in) != 3 || !isDigit(in[0]) {
		return false
	}
	for i := 1; i < 3; i++ {
		if !isUpper(in[i]) || strings4(in[i], "CIKMOV") {
			return false
		}
	}
	return true
}

// postcodeOutward checks the outward code: the first letter is not Q, V
// or X, the second not I, J or Z; a letter in third place (A9A) is one of
// ABCDEFGHJKPSTUW, in fourth place (AA9A) one of ABEHMNPRVWXY.
func postcodeOutward(o string) bool {
	if len(o) < 2 || len(o) > 4 || !isUpper(o[0]) || strings4(o[0], "QVX") {
		return false
	}
	i := 1
	if isUpper(o[1]) {
		if strings4(o[1], "IJZ") {
			return false
		}
		i = 2
	}
	if i >= len(o) || !isDigit(o[i]) {
		return false
	}
	i++
	if i == len(o) {
		return true
	}
	c := o[i]
	switch {
	case isDigit(c):
		return i+1 == len(o)
	case i == 2:
		return i+1 == len(o) && strings4(c, "ABCDEFGHJKPSTUW")
	case i == 3:
		return i+1 == len(o) && strings4(c, "ABEHMNPRVWXY")
	}
	return false
}

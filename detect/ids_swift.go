package detect

// SWIFT / BIC codes (SWIFT_CODE, FINANCIAL), ISO 9362: four letters of
// institution, a two-letter ISO 3166-1 country code, two alphanumeric
// characters of location and an optional three-character branch
// ("DEUTDEFF", "DEUTDEFF500", "NWBKGB2L"). Eight capital letters are also
// an ordinary shouted word ("CUSTOMER", "REDACTED"), so a code on its own
// scores below the default threshold; "swift" or "bic" nearby lifts it
// well above, and a weaker money word ("bank", "iban", "wire") lifts only
// codes whose location or branch carries a digit or the "XXX" head-office
// branch.

// Scores for SWIFT_CODE.
const (
	scoreSWIFT       = 0.3
	swiftDigitBonus  = 0.1 // a digit in location or branch, or branch XXX
	swiftStrongBoost = 0.5
	swiftWeakBoost   = 0.15
	scoreSWIFTField  = 0.85 // the identifier of an option-A party field of a SWIFT MT message
)

// swiftFieldBefore reports whether the code at t[at:] is the identifier
// of a party field in option A of a SWIFT MT (FIN) message: ":52A:" to
// ":59A:" and ":82A:" to ":88A:" (ordering and account-with institutions,
// correspondents, intermediaries, beneficiary institution), directly
// after the tag or on the line after an optional party identifier line
// ("/D/123456"), as in
//
//	:57A:/12345678
//	DEUTDEFF500
func swiftFieldBefore(t string, at int) bool {
	i := at
	if i > 0 && t[i-1] == '\n' {
		i--
		if i > 0 && t[i-1] == '\r' {
			i--
		}
		// The party identifier line: '/' then at most 37 characters.
		j := i
		for j > 0 && i-j <= 37 && t[j-1] != '\n' && t[j-1] != ':' {
			j--
		}
		if j == i || j == 0 || t[j] != '/' || t[j-1] != ':' {
			return false
		}
		i = j
	}
	if i < 5 || t[i-1] != ':' || t[i-2] != 'A' || t[i-5] != ':' || !isDigit(t[i-3]) {
		return false
	}
	switch t[i-4] {
	case '5':
		return t[i-3] >= '2'
	case '8':
		return t[i-3] >= '2' && t[i-3] <= '8'
	}
	return false
}

// swiftContext lists the strong words ("swift", "bic") first, then the
// weak ones: Scan.Context returns the first listed word it finds.
var swiftContext = []string{"swift", "bic", "bank", "iban", "wire", "beneficiary", "correspondent", "remittance", "routing"}

const swiftStrongWords = 2

// iso3166 lists the ISO 3166-1 alpha-2 country codes (249 assigned codes)
// and XK, which SWIFT uses for Kosovo.
const iso3166 = "" +
	"ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZ" +
	"CACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFR" +
	"GAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJP" +
	"KEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMS" +
	"MTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRU" +
	"RWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZ" +
	"UAUGUMUSUYUZVAVCVEVGVIVNVUWFWSXKYEYTZAZMZW"

// swiftRecognizer wakes at upper-case word starts. The first checks are
// byte-class tests on the next eight bytes; the country table and the
// context search run only on eight- or eleven-character capital words.
type swiftRecognizer struct {
	country [26 * 26]bool
}

func newSWIFTRecognizer() *swiftRecognizer {
	r := &swiftRecognizer{}
	for i := 0; i+1 < len(iso3166); i += 2 {
		r.country[int(iso3166[i]-'A')*26+int(iso3166[i+1]-'A')] = true
	}
	return r
}

func (*swiftRecognizer) Name() string        { return "swift_code" }
func (*swiftRecognizer) Types() []string     { return []string{"SWIFT_CODE"} }
func (*swiftRecognizer) Triggers() []Trigger { return []Trigger{{Kind: TriggerUpperWord}} }

func isUpperOrDigit(c byte) bool { return isUpper(c) || isDigit(c) }

func (r *swiftRecognizer) Find(s *Scan, at int) {
	t := s.text
	if at+8 > len(t) {
		return
	}
	for i := at; i < at+6; i++ {
		if !isUpper(t[i]) {
			return
		}
	}
	if !isUpperOrDigit(t[at+6]) || !isUpperOrDigit(t[at+7]) {
		return
	}
	end := at + 8
	if end < len(t) && isUpperOrDigit(t[end]) {
		if end+3 > len(t) || !isUpperOrDigit(t[end+1]) || !isUpperOrDigit(t[end+2]) {
			return
		}
		end += 3
	}
	if end < len(t) && isWordByte(t[end]) {
		return
	}
	if !r.country[int(t[at+4]-'A')*26+int(t[at+5]-'A')] {
		return
	}
	if swiftFieldBefore(t, at) {
		s.Add(Finding{Type: "SWIFT_CODE", Category: Financial, Start: at, End: end, Score: scoreSWIFTField, Recognizer: "swift_code"})
		return
	}
	base := scoreSWIFT
	if isDigit(t[at+6]) || isDigit(t[at+7]) || (end-at == 11 && (t[at+8:end] == "XXX" || isDigit(t[at+8]) || isDigit(t[at+9]) || isDigit(t[at+10]))) {
		base += swiftDigitBonus
	}
	addID(s, idHit{typ: "SWIFT_CODE", rec: "swift_code", cat: Financial, start: at, end: end,
		base: base, boost: swiftStrongBoost, weakBoost: swiftWeakBoost, words: swiftContext, strong: swiftStrongWords})
}

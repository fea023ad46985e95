package detect

// National identifiers of other countries that start with a digit: the
// all-digit ones (CA_SIN, AU_TFN, AU_ABN, AU_MEDICARE, NL_BSN, US_NPI,
// IN_AADHAAR, DE_TAX_ID, PL_PESEL, SE_PERSONNUMMER, KR_RRN, ZA_ID_NUMBER,
// FR_NIR) and those that go on with letters (FI_PERSONAL_IDENTITY_CODE,
// ES_NIF, US_MBI). Type names are Presidio's.
//
// Every one is checked by its published check digit or structure (see
// checksum_intl.go). How a bare value scores follows how often a random
// number of its length and format passes those checks: below about 2 in
// 100 (ABN mod 89, the German tax id's digit rule and MOD 11,10, dates
// with Luhn), the value is reported on its own; above (a nine-digit Luhn
// or mod 11 number, one in ten or eleven, is also an SSN's shape), only
// in the format its registry prints or with a context word nearby.
//
// Categories: PII (AU_ABN too: a business number, public in the ABR),
// except the two health-insurance numbers, AU_MEDICARE
// and US_MBI, which name a patient's cover and are HEALTH as UK_NHS is.
// US_NPI names a health-care provider in a public registry (NPPES), not a
// patient, so it is PII and no leak of health data.

// intlRecognizers returns the recognizers of international identifiers.
func intlRecognizers() []Recognizer {
	return []Recognizer{intlNumberRecognizer{}, intlWordRecognizer{}}
}

// Scores shared by the international identifiers.
const (
	scoreIntlBare      = 0.5  // checksum and structure, plain digits
	scoreIntlFormatted = 0.55 // checksum in the registry's print format
	scoreIntlStrong    = 0.65 // checksum and a shape that little else has
	scoreIntlWeak      = 0.3  // checksum alone: needs a context word
	intlBoost          = 0.4
)

// Context words of the all-digit identifiers (lower case).
var (
	sinContext      = []string{"social insurance", "sin ", "sin:", "sin#", "sin\"", "sin-", "sin_", "nas ", "nas:", "assurance sociale"}
	tfnContext      = []string{"tfn", "tax file"}
	bsnContext      = []string{"bsn", "burgerservice", "sofinummer", "sofi-nummer", "sofi "}
	abnContext      = []string{"abn", "australian business", "business number"}
	medicareContext = []string{"medicare"}
	npiContext      = []string{"npi", "national provider", "provider", "prescriber"}
	aadhaarContext  = []string{"aadhaar", "aadhar", "uidai", "uid"}
	deTaxContext    = []string{"steuer", "idnr", "identifikationsnummer", "tax id", "tin"}
	peselContext    = []string{"pesel"}
	seContext       = []string{"personnummer", "pnr", "samordningsnummer", "personal identity", "swedish"}
	krContext       = []string{"rrn", "resident registration", "주민등록", "korean"}
	zaContext       = []string{"south africa", "rsa id", "id number", "identity number"}
	frContext       = []string{"nir", "sécurité sociale", "securite sociale", "sécu", "insee", "social security"}
	fiContext       = []string{"henkilötunnus", "hetu", "personal identity", "finnish"}
	nifContext      = []string{"dni", "nif", "documento nacional"}
	mbiContext      = []string{"mbi", "medicare", "beneficiary"}
	// notIDContext labels numbers of other kinds that share the shapes:
	// parcel tracking numbers (FedEx's are twelve digits), invoices and
	// orders, Unix times, phone numbers.
	notIDContext     = []string{"tracking", "track", "invoice", "order", "epoch", "timestamp", "phone", "tel", "fax", "mobile"}
	intlNumberTypes  = []string{"CA_SIN", "AU_TFN", "AU_ABN", "AU_MEDICARE", "NL_BSN", "US_NPI", "IN_AADHAAR", "DE_TAX_ID", "PL_PESEL", "SE_PERSONNUMMER", "KR_RRN", "ZA_ID_NUMBER", "FR_NIR", "FI_PERSONAL_IDENTITY_CODE", "ES_NIF", "US_MBI"}
	intlNumberRecKey = "intl_numbers"
)

// intlCand is one reading of a span: the span may pass more than one
// country's check (an 11-digit number may be an ABN and a PESEL), and
// the reading with a context word, else the first, is reported.
type intlCand struct {
	typ   string
	cat   Category
	base  float64
	words []string
}

// addIntl reports the best of cands for the span [start,end): the highest
// score after context, the first on a tie. Candidates that cannot reach
// their threshold even with the boost are not searched for.
func addIntl(s *Scan, rec string, start, end int, cands []intlCand) {
	best, bestScore, bestCtx := -1, 0.0, ""
	for i, c := range cands {
		th := s.minScore(c.typ)
		if c.base+intlBoost < th {
			continue
		}
		ctx := s.Context(start, end, c.words)
		sc := boosted(c.base, intlBoost, ctx)
		if sc >= th && sc > bestScore {
			best, bestScore, bestCtx = i, sc, ctx
		}
	}
	if best < 0 {
		return
	}
	// A bare value labelled as another kind of number is that number.
	if bestCtx == "" && s.Context(start, end, notIDContext) != "" {
		return
	}
	c := cands[best]
	s.Add(Finding{Type: c.typ, Category: c.cat, Start: start, End: end, Score: bestScore,
		Recognizer: rec, Context: s.ctxList(bestCtx)})
}

// intlNumberRecognizer shares the digit run the core number recognizer
// parses (Scan.Run), so it costs a few comparisons at a digit.
type intlNumberRecognizer struct{}

func (intlNumberRecognizer) Name() string        { return intlNumberRecKey }
func (intlNumberRecognizer) Types() []string     { return intlNumberTypes }
func (intlNumberRecognizer) Triggers() []Trigger { return []Trigger{{Kind: TriggerDigits}} }

func (intlNumberRecognizer) Find(s *Scan, at int) {
	t := s.text
	if !intlStart(t, at) {
		return
	}
	r := s.Run(at)
	if r.overrun || r.plus || r.paren {
		return
	}
	e0 := r.gend[0]
	if e0 < len(t) {
		c := t[e0]
		switch {
		case r.glen[0] == 1 && (isUpper(c) || isLower(c)):
			findMBI(s, at)
			return
		case r.glen[0] == 6 && e0+5 <= len(t) && fiCentury(c) != 0:
			if findFI(s, at) {
				return
			}
			if c == '+' { // a Swede over 100: YYMMDD+NNNC
				findSEPlus(s, at)
				return
			}
		case r.glen[0] == 4 && c == ':':
			findAadhaarColon(s, at)
			return
		case r.glen[0] == 7 || r.glen[0] == 8:
			if findNIF(s, r) {
				return
			}
		}
	}
	intlDigits(s, r)
}

// intlStart reports whether a value may start at at: not inside a code
// ("INV-6703217775", "A200 2210 2014 5685" of an IBAN, the groups of an
// IPv6 address "…:222:3333:4444:5555").
func intlStart(t string, at int) bool {
	if at == 0 {
		return true
	}
	if isAlnum(t[at-1]) || !cleanStart(t, at) {
		return false
	}
	if at < 2 {
		return true
	}
	switch c, p := t[at-1], t[at-2]; c {
	case '-', '/', '.', '+', '_':
		return !isAlnum(p)
	case ':':
		return !isDigit(p) && !(p >= 'a' && p <= 'f')
	case ' ':
		// the next group of a spaced code: "A200 2210"
		return !isDigit(p)
	}
	return true
}

// intlEnd reports whether a value may end at e: not glued to a word or a
// further group ("6203839a-e2f7-…" of a UUID, "3333:4444:5555:77").
func intlEnd(t string, e int) bool {
	if e >= len(t) {
		return true
	}
	c := t[e]
	if isAlnum(c) || c >= 0x80 || c == '_' {
		return false
	}
	if (c == '-' || c == '.' || c == '/' || c == ':') && e+1 < len(t) && isAlnum(t[e+1]) {
		return false
	}
	return true
}

// intlDigits reads the all-digit identifiers from the run's groups.
func intlDigits(s *Scan, r *numRun) {
	t := s.text
	var buf [4]intlCand
	cands := buf[:0]
	// k is the number of groups the identifier takes; fmtd says they are
	// in the registry's grouping.
	for k := min(r.ngroups, 7); k >= 1; k-- {
		sep, ok := r.sameSep(k)
		if !ok || sep == '/' || sep == '.' {
			continue
		}
		e := r.end(k)
		if !intlEnd(t, e) {
			continue
		}
		// A group followed by more digits with the same separator is
		// part of something longer (a phone or account number).
		if k < r.ngroups && k > 1 && r.sep[k-1] == sep {
			continue
		}
		n := r.ndigits(k)
		d := bytesToString(r.digits[:n])
		g := r.glen[:k]
		cands = cands[:0]
		switch n {
		case 9:
			fmtd := k == 3 && g[0] == 3 && g[1] == 3
			if k != 1 && !fmtd {
				continue
			}
			base := scoreIntlWeak
			if fmtd {
				base = scoreIntlBare
			}
			if caSIN(d) {
				cands = append(cands, intlCand{"CA_SIN", PII, base, sinContext})
			}
			if auTFN(d) {
				cands = append(cands, intlCand{"AU_TFN", PII, base, tfnContext})
			}
			if nlBSN(d) {
				cands = append(cands, intlCand{"NL_BSN", PII, scoreIntlWeak, bsnContext})
			}
		case 10:
			switch {
			case k == 1:
				if auMedicare(d) {
					cands = append(cands, intlCand{"AU_MEDICARE", Health, scoreIntlWeak, medicareContext})
				}
				// Ten plain digits are also a US phone number and a
				// Unix time (17… today): these need their word.
				if usNPI(d) {
					cands = append(cands, intlCand{"US_NPI", PII, scoreIntlWeak, npiContext})
				}
				if sePersonnummer(d, -1) {
					cands = append(cands, intlCand{"SE_PERSONNUMMER", PII, scoreIntlWeak + 0.15, seContext})
				}
			case k == 3 && g[0] == 4 && g[1] == 5 && sep == ' ':
				if auMedicare(d) {
					cands = append(cands, intlCand{"AU_MEDICARE", Health, scoreIntlFormatted, medicareContext})
				}
			case k == 3 && g[0] == 4 && g[1] == 3:
				if usNPI(d) {
					cands = append(cands, intlCand{"US_NPI", PII, scoreIntlFormatted, npiContext})
				}
			case k == 2 && g[0] == 6 && sep == '-':
				if sePersonnummer(d, -1) {
					cands = append(cands, intlCand{"SE_PERSONNUMMER", PII, scoreIntlFormatted, seContext})
				}
			}
		case 11:
			fmtd := k == 4 && g[0] == 2 && g[1] == 3 && g[2] == 3 && sep == ' '
			if k != 1 && !fmtd {
				continue
			}
			base := scoreIntlBare
			if fmtd {
				base = scoreIntlFormatted
			}
			if auABN(d) {
				cands = append(cands, intlCand{"AU_ABN", PII, base, abnContext})
			}
			if check, rule := deTaxID(d); check {
				if !rule {
					base = scoreIntlWeak
				}
				cands = append(cands, intlCand{"DE_TAX_ID", PII, base, deTaxContext})
			}
			if k == 1 && plPESEL(d) {
				cands = append(cands, intlCand{"PL_PESEL", PII, scoreIntlBare, peselContext})
			}
		case 12:
			switch {
			case k == 1:
				if c := two(d, 0); c >= 18 && c <= 20 && sePersonnummer(d[2:], c) {
					cands = append(cands, intlCand{"SE_PERSONNUMMER", PII, scoreIntlBare, seContext})
				}
				if inAadhaar(d) {
					cands = append(cands, intlCand{"IN_AADHAAR", PII, scoreIntlWeak + 0.15, aadhaarContext})
				}
			case k == 2 && g[0] == 8 && sep == '-':
				if c := two(d, 0); c >= 18 && c <= 20 && sePersonnummer(d[2:], c) {
					cands = append(cands, intlCand{"SE_PERSONNUMMER", PII, scoreIntlFormatted, seContext})
				}
			case k == 3 && g[0] == 4 && g[1] == 4:
				if inAadhaar(d) {
					cands = append(cands, intlCand{"IN_AADHAAR", PII, scoreIntlFormatted, aadhaarContext})
				}
			}
		case 13:
			if k != 1 && !(k == 2 && g[0] == 6 && sep == '-') {
				continue
			}
			if k == 1 && zaID(d) {
				cands = append(cands, intlCand{"ZA_ID_NUMBER", PII, scoreIntlFormatted, zaContext})
			}
			if shape, check := krRRN(d); shape {
				// Numbers issued since October 2020 have no check
				// digit: plain and unchecked, thirteen digits are as
				// likely a millisecond Unix time.
				base := scoreIntlWeak + 0.15
				switch {
				case k == 2 && check:
					base = scoreIntlStrong
				case k == 2, check:
					base = scoreIntlFormatted
				}
				cands = append(cands, intlCand{"KR_RRN", PII, base, krContext})
			}
		case 15:
			if (k == 1 || g[0] == 1 || g[0] == 13) && sep != '-' && frNIR(d) {
				cands = append(cands, intlCand{"FR_NIR", PII, scoreIntlFormatted, frContext})
			}
		}
		if len(cands) > 0 {
			addIntl(s, intlNumberRecKey, r.start, e, cands)
			return
		}
	}
}

// findFI reads a Finnish personal identity code DDMMYYCZZZQ at at.
func findFI(s *Scan, at int) bool {
	t := s.text
	end := at + 11
	if end > len(t) || !isDigit(t[at+7]) || !isDigit(t[at+8]) || !isDigit(t[at+9]) || !isAlnum(t[at+10]) || !intlEnd(t, end) {
		return false
	}
	if !fiHETU(t[at:end]) {
		return false
	}
	addIntl(s, intlNumberRecKey, at, end, []intlCand{{"FI_PERSONAL_IDENTITY_CODE", PII, scoreIntlStrong, fiContext}})
	return true
}

// findSEPlus reads a Swedish personnummer of someone over 100,
// YYMMDD+NNNC.
func findSEPlus(s *Scan, at int) {
	t := s.text
	end := at + 11
	if end > len(t) || !intlEnd(t, end) {
		return
	}
	var d [10]byte
	copy(d[:6], t[at:at+6])
	for i := 7; i < 11; i++ {
		if !isDigit(t[at+i]) {
			return
		}
		d[i-1] = t[at+i]
	}
	if sePersonnummer(bytesToString(d[:]), 19) {
		addIntl(s, intlNumberRecKey, at, end, []intlCand{{"SE_PERSONNUMMER", PII, scoreIntlFormatted, seContext}})
	}
}

// findAadhaarColon reads an Aadhaar number grouped 4:4:4.
func findAadhaarColon(s *Scan, at int) {
	t := s.text
	end := at + 14
	if end > len(t) || t[at+9] != ':' || !intlEnd(t, end) {
		return
	}
	var d [12]byte
	for i, j := 0, at; i < 12; j++ {
		if j == at+4 || j == at+9 {
			continue
		}
		if !isDigit(t[j]) {
			return
		}
		d[i] = t[j]
		i++
	}
	if inAadhaar(bytesToString(d[:])) {
		addIntl(s, intlNumberRecKey, at, end, []intlCand{{"IN_AADHAAR", PII, scoreIntlFormatted, aadhaarContext}})
	}
}

// findNIF reads a Spanish DNI/NIF, seven or eight digits and the check
// letter, with or without a dash before it.
func findNIF(s *Scan, r *numRun) bool {
	t := s.text
	i := r.gend[0]
	if t[i] == '-' {
		i++
	}
	if i >= len(t) || !(isUpper(t[i]) || isLower(t[i])) {
		return false
	}
	end := i + 1
	if !intlEnd(t, end) {
		return false
	}
	n := 0
	for _, c := range r.digits[:r.glen[0]] {
		n = n*10 + int(c-'0')
	}
	if !esCheck(n, t[i]) {
		return false
	}
	addIntl(s, intlNumberRecKey, r.start, end, []intlCand{{"ES_NIF", PII, scoreIntlStrong, nifContext}})
	return true
}

// mbiKind is what each of the eleven characters of a Medicare
// Beneficiary Identifier may be (CMS, "MBI format"): 'C' 1-9, 'A' a
// letter, 'N' a digit, 'X' either; the letters S, L, O, I, B and Z are
// never used.
const mbiKind = "CAXNAXNAANN"

// findMBI reads a US Medicare Beneficiary Identifier, eleven characters
// with or without dashes after the fourth and seventh.
func findMBI(s *Scan, at int) {
	t := s.text
	var v [11]byte
	j, dashes := at, 0
	for i := 0; i < 11; i++ {
		if (i == 4 || i == 7) && j < len(t) && t[j] == '-' {
			j++
			dashes++
		}
		if j >= len(t) {
			return
		}
		v[i] = upperASCII(t[j])
		j++
	}
	if (dashes != 0 && dashes != 2) || !intlEnd(t, j) {
		return
	}
	for i, c := range v {
		letter := isUpper(c) && c != 'S' && c != 'L' && c != 'O' && c != 'I' && c != 'B' && c != 'Z'
		var ok bool
		switch mbiKind[i] {
		case 'C':
			ok = c >= '1' && c <= '9'
		case 'A':
			ok = letter
		case 'N':
			ok = isDigit(c)
		default:
			ok = letter || isDigit(c)
		}
		if !ok {
			return
		}
	}
	base := scoreIntlFormatted
	if dashes > 0 {
		base = scoreIntlStrong
	}
	addIntl(s, intlNumberRecKey, at, j, []intlCand{{"US_MBI", Health, base, mbiContext}})
}

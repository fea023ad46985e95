package detect

// coreRecognizers returns the built-in PII, FINANCIAL, HEALTH and NETWORK
// recognizers other than names and identifiers: numbers (cards, SSN,
// ITIN, ABA routing, NHS, phones), e-mail addresses, URLs and IBANs.
func coreRecognizers() []Recognizer {
	return []Recognizer{
		&numberRecognizer{phones: newPhoneParser()},
		emailRecognizer{},
		urlRecognizer{},
		ibanRecognizer{},
	}
}

// Limits of a digit run.
const (
	maxGroups = 8
	maxDigits = 24
)

// numRun is a run of digit groups that starts at a word start, e.g.
// "4111 1111 1111 1111" or "555-01-2345" or "(614) 507-4711". Groups are
// separated by one of ' ', '-', '.', '/', or ") " after a parenthesised
// first group.
type numRun struct {
	start   int // offset of the first digit
	ngroups int
	gend    [maxGroups]int  // offset just past each group's last digit
	glen    [maxGroups]int  // digits in each group
	sep     [maxGroups]byte // separator after group i; ')' for ") "
	nd      int
	digits  [maxDigits]byte
	plus    bool // a '+' directly before start
	paren   bool // '(' directly before start and ')' after the first group
	trunk   bool // "+44 (0)20 …": a bracketed trunk zero after the country code, not in digits
	overrun bool // more digits followed than maxDigits allows
}

// Run parses the digit run starting at a word-start digit at offset at.
// Recognizers woken by TriggerDigits share the parse.
func (s *Scan) Run(at int) *numRun {
	if s.runAt == at {
		return &s.run
	}
	s.runAt = at
	r := &s.run
	*r = numRun{start: at}
	t := s.text
	r.plus = at > 0 && t[at-1] == '+'
	open := at > 0 && t[at-1] == '('
	i := at
	for r.ngroups < maxGroups {
		n := 0
		for i < len(t) && isDigit(t[i]) {
			if r.nd < maxDigits {
				r.digits[r.nd] = t[i]
				r.nd++
			} else {
				r.overrun = true
			}
			i++
			n++
		}
		g := r.ngroups
		r.gend[g], r.glen[g] = i, n
		r.ngroups++
		if i+1 >= len(t) {
			break
		}
		c := t[i]
		switch {
		case c == ')' && open && g == 0:
			// "(614) 507-4711" or "(614)507-4711"
			j := i + 1
			if j < len(t) && t[j] == ' ' {
				j++
			}
			if j < len(t) && isDigit(t[j]) {
				r.paren = true
				r.sep[g] = ')'
				i = j
				continue
			}
		case c == ' ' || c == '-' || c == '.' || c == '/':
			if isDigit(t[i+1]) {
				r.sep[g] = c
				i++
				continue
			}
			if r.plus && g == 0 && c == ' ' {
				if j := trunkZero(t, i+1); j > 0 {
					r.trunk, r.sep[g] = true, ' '
					i = j
					continue
				}
			}
		case c == '(' && r.plus && g == 0:
			if j := trunkZero(t, i); j > 0 {
				r.trunk, r.sep[g] = true, ' '
				i = j
				continue
			}
		}
		break
	}
	return r
}

// trunkZero reads the "(0)" that international numbers of trunk-prefix
// countries carry after the country code ("+44 (0)20 7946 0958": dial
// the 0 only from inside the country). It returns the offset of the
// digit after it, or 0.
func trunkZero(t string, i int) int {
	if i+3 >= len(t) || t[i] != '(' || t[i+1] != '0' || t[i+2] != ')' {
		return 0
	}
	j := i + 3
	if t[j] == ' ' || t[j] == '-' {
		j++
	}
	if j < len(t) && isDigit(t[j]) {
		return j
	}
	return 0
}

// end returns the offset past the first k groups.
func (r *numRun) end(k int) int { return r.gend[k-1] }

// ndigits returns the number of digits in the first k groups.
func (r *numRun) ndigits(k int) int {
	n := 0
	for i := 0; i < k; i++ {
		n += r.glen[i]
	}
	return n
}

// sameSep reports whether the first k groups are separated by one
// character only (or by none), and returns it (0 for none).
func (r *numRun) sameSep(k int) (byte, bool) {
	if k <= 1 {
		return 0, true
	}
	s := r.sep[0]
	for i := 1; i < k-1; i++ {
		if r.sep[i] != s {
			return 0, false
		}
	}
	return s, true
}

// cleanEnd reports whether the span ending at e is not glued to a
// following word character or another digit group ("123-45-6789-0").
func cleanEnd(t string, e int) bool {
	if e >= len(t) {
		return true
	}
	c := t[e]
	if isAlnum(c) || c >= 0x80 {
		return false
	}
	if (c == '-' || c == '.' || c == '/') && e+1 < len(t) && isDigit(t[e+1]) {
		return false
	}
	return true
}

// cleanStart reports whether a number starting at b is not glued to a
// preceding digit group ("1-123-45-6789" is not an SSN at "123").
func cleanStart(t string, b int) bool {
	if b == 0 {
		return true
	}
	c := t[b-1]
	if c == '-' || c == '.' || c == '/' {
		return b < 2 || !isDigit(t[b-2])
	}
	return true
}

// numberRecognizer handles every recognizer that starts at a digit, so
// the run is parsed once.
type numberRecognizer struct {
	phones *phoneParser
}

func (*numberRecognizer) Name() string { return "numbers" }
func (*numberRecognizer) Types() []string {
	return []string{"CREDIT_CARD", "US_SSN", "US_ITIN", "ABA_ROUTING_NUMBER", "UK_NHS", "PHONE_NUMBER"}
}
func (*numberRecognizer) Triggers() []Trigger { return []Trigger{{Kind: TriggerDigits}} }

var (
	cardContext  = []string{"card", "credit", "debit", "visa", "mastercard", "amex", "american express", "discover", "cc", "pan", "payment", "cvv", "expir"}
	ssnContext   = []string{"ssn", "social security", "social sec", "ss#", "ss #", "ss no", "tax id", "taxpayer", "tin"}
	itinContext  = []string{"itin", "taxpayer", "tax id", "tin"}
	abaContext   = []string{"routing", "aba", "rtn", "transit", "bank", "ach", "wire"}
	nhsContext   = []string{"nhs", "health service", "patient", "health number"}
	phoneContext = []string{"phone", "tel", "mobile", "cell", "call", "fax", "contact", "sms", "whatsapp", "dial", "reach", "ph", "mob",
		// other words and languages: "ring us on", Telefon, téléphone,
		// Handy, portable, appelez, llámame, ligue, chiamare, bellen,
		// celular, Durchwahl, tlf, 電話, 携帯, 电话, 전화, телефон.
		"ring", "landline", "hotline", "helpline", "switchboard", "tél", "handy", "portable", "appel", "llam", "ligue", "chiam",
		"bellen", "celular", "móvil", "movil", "gsm", "durchwahl", "tlf", "電話", "携帯", "电话", "전화", "тел",
		// last: the weakest word, which national formats do not count.
		"number"}
)

func (nr *numberRecognizer) Find(s *Scan, at int) {
	r := s.Run(at)
	t := s.text
	if !cleanStart(t, at) {
		return
	}
	// Cards look at a prefix of the run, so they are read even when more
	// digits follow ("4012888888881881 4012-8888-8888-1881 …" holds two).
	nr.cards(s, r)
	if r.overrun {
		return
	}
	nr.nineDigits(s, r)
	nr.nhs(s, r)
	nr.phone(s, r)
}

// cards looks for 12-19 digits in groups with one kind of separator (or
// spaces and dashes mixed in a card's own grouping, "4111 1111-1111
// 1111"), passing Luhn and an issuer range. Several cards may share a
// line: when the run is longer than a number can be, a card is read only
// where its groups end at a change of separator, so that a long table of
// equally spaced digits is not cut into cards.
func (nr *numberRecognizer) cards(s *Scan, r *numRun) {
	t := s.text
	if r.paren || r.plus {
		return
	}
	for k := r.ngroups; k >= 1; k-- {
		n := r.ndigits(k)
		if n < 12 || n > 19 {
			continue
		}
		sep, ok := r.sameSep(k)
		if !ok && k == r.ngroups && cardGrouping(r, k) {
			sep, ok = '-', true
		}
		if !ok || sep == '/' || sep == '.' && k > 1 {
			continue
		}
		if r.overrun && k > 1 && k < r.ngroups && r.sep[k-1] == sep {
			continue
		}
		e := r.end(k)
		if !cleanEnd(t, e) {
			continue
		}
		d := bytesToString(r.digits[:n])
		rec := cardRecognizer(d)
		if rec == "" || !luhn(d) {
			continue
		}
		base := 0.8
		if k > 1 {
			base = 0.85
		}
		if rec == "credit_card/uatp" {
			// Any 15 digits after a 1 pass one time in ten: weaker alone.
			base -= 0.25
		}
		ctx := s.Context(r.start, e, cardContext)
		s.Add(Finding{Type: "CREDIT_CARD", Category: Financial, Start: r.start, End: e,
			Score: boosted(base, 0.15, ctx), Recognizer: rec, Context: s.ctxList(ctx)})
		return
	}
}

// cardGrouping reports whether the first k groups, separated by spaces
// and dashes in any mix, are grouped as cards are printed (the caller
// takes a mixed grouping only as a whole run): fours with a
// shorter last group (4-4-4-4, 4-4-4-4-3) or the 4-6-5 and 4-6-4 of
// American Express and Diners Club.
func cardGrouping(r *numRun, k int) bool {
	if k < 3 {
		return false
	}
	for i := 0; i < k-1; i++ {
		if r.sep[i] != ' ' && r.sep[i] != '-' {
			return false
		}
	}
	if k == 3 && r.glen[0] == 4 && r.glen[1] == 6 && (r.glen[2] == 5 || r.glen[2] == 4) {
		return true
	}
	for i := 0; i < k-1; i++ {
		if r.glen[i] != 4 {
			return false
		}
	}
	return r.glen[k-1] >= 1 && r.glen[k-1] <= 4
}

// cardRecognizer names the recognizer of a PAN, "credit_card/" and the
// card network for its issuer range and length, or "" (ISO/IEC 7812 IIN
// ranges as published by the networks). The names are constants so that a
// finding costs no string concatenation.
func cardRecognizer(d string) string {
	n := len(d)
	p2 := int(d[0]-'0')*10 + int(d[1]-'0')
	p3 := p2*10 + int(d[2]-'0')
	p4 := p3*10 + int(d[3]-'0')
	p6 := p4*100 + int(d[4]-'0')*10 + int(d[5]-'0')
	switch {
	case d[0] == '1':
		// UATP (Universal Air Travel Plan): ISO/IEC 7812 major industry
		// identifier 1, airlines; 15 digits.
		switch {
		case n == 15 && p4 == 1800:
			return "credit_card/jcb"
		case n == 15:
			return "credit_card/uatp"
		}
	case p4 == 2131:
		// JCB's 15-digit legacy range (2131 and 1800).
		if n == 15 {
			return "credit_card/jcb"
		}
	case d[0] == '4':
		if n == 13 || n == 16 || n == 19 {
			return "credit_card/visa"
		}
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720:
		if n == 16 {
			return "credit_card/mastercard"
		}
	case p2 == 34 || p2 == 37:
		if n == 15 {
			return "credit_card/amex"
		}
	case p4 == 6011, p3 >= 644 && p3 <= 649, p2 == 65, p6 >= 622126 && p6 <= 622925:
		if n >= 16 && n <= 19 {
			return "credit_card/discover"
		}
	case p3 >= 300 && p3 <= 305, p2 == 36, p2 == 38, p2 == 39:
		if n >= 14 && n <= 19 {
			return "credit_card/diners"
		}
	case p4 >= 3528 && p4 <= 3589:
		if n >= 16 && n <= 19 {
			return "credit_card/jcb"
		}
	case p4 >= 2200 && p4 <= 2204:
		if n >= 16 && n <= 19 {
			return "credit_card/mir"
		}
	case p2 == 62:
		if n >= 16 && n <= 19 {
			return "credit_card/unionpay"
		}
	case p2 == 50, p2 >= 56 && p2 <= 69:
		if n >= 12 && n <= 19 {
			return "credit_card/maestro"
		}
	}
	return ""
}

// nineDigits handles US SSN, ITIN and ABA routing numbers.
func (nr *numberRecognizer) nineDigits(s *Scan, r *numRun) {
	t := s.text
	var k int
	var formatted bool
	var sep byte
	switch {
	case r.ngroups >= 3 && r.glen[0] == 3 && r.glen[1] == 2 && r.glen[2] == 4 && r.sep[0] == r.sep[1] && (r.sep[0] == '-' || r.sep[0] == ' ' || r.sep[0] == '.'):
		k, formatted, sep = 3, true, r.sep[0]
	case r.glen[0] == 9:
		k = 1
	default:
		return
	}
	if r.paren || r.plus {
		return
	}
	e := r.end(k)
	if !cleanEnd(t, e) {
		return
	}
	// A spaced group followed by more spaced digits is part of something
	// longer (a phone or account number).
	if sep == ' ' && k < r.ngroups && r.sep[k-1] == ' ' {
		return
	}
	d := bytesToString(r.digits[:9])
	switch {
	case validITIN(d):
		base := 0.35
		if formatted {
			base = 0.6
		}
		ctx := s.Context(r.start, e, itinContext)
		s.Add(Finding{Type: "US_ITIN", Category: PII, Start: r.start, End: e, Score: boosted(base, 0.35, ctx), Recognizer: "us_itin", Context: s.ctxList(ctx)})
	case validSSN(d):
		// The SSA prints 3-2-4 with dashes; spaces and dots are the
		// same grouping typed or scanned differently ("078 05 1123",
		// "078.05.1123"), reported alone but just at the threshold.
		base := 0.3
		switch {
		case formatted && sep == '-':
			base = 0.6
		case formatted:
			base = 0.5
		}
		ctx := s.Context(r.start, e, ssnContext)
		s.Add(Finding{Type: "US_SSN", Category: PII, Start: r.start, End: e, Score: boosted(base, 0.4, ctx), Recognizer: "us_ssn", Context: s.ctxList(ctx)})
	}
	if !formatted && abaChecksum(d) && validABAPrefix(d) {
		ctx := s.Context(r.start, e, abaContext)
		// Routing numbers are nine plain digits like many others: only
		// context makes one.
		s.Add(Finding{Type: "ABA_ROUTING_NUMBER", Category: Financial, Start: r.start, End: e, Score: boosted(0.2, 0.45, ctx), Recognizer: "aba_routing", Context: s.ctxList(ctx)})
	}
}

// validABAPrefix checks the first two digits of a routing number: 00-12
// (Federal Reserve routing), 21-32 (thrifts), 61-72 (electronic), 80
// (traveler's cheques).
func validABAPrefix(d string) bool {
	p := int(d[0]-'0')*10 + int(d[1]-'0')
	return p <= 12 || (p >= 21 && p <= 32) || (p >= 61 && p <= 72) || p == 80
}

// nhs handles UK NHS numbers: 10 digits, usually 3-3-4, mod 11.
func (nr *numberRecognizer) nhs(s *Scan, r *numRun) {
	var k int
	switch {
	case r.ngroups >= 3 && r.glen[0] == 3 && r.glen[1] == 3 && r.glen[2] == 4 && r.sep[0] == r.sep[1] && (r.sep[0] == ' ' || r.sep[0] == '-'):
		k = 3
	case r.glen[0] == 10:
		k = 1
	default:
		return
	}
	if r.paren || r.plus {
		return
	}
	e := r.end(k)
	if !cleanEnd(s.text, e) || !nhsChecksum(bytesToString(r.digits[:10])) {
		return
	}
	ctx := s.Context(r.start, e, nhsContext)
	s.Add(Finding{Type: "UK_NHS", Category: Health, Start: r.start, End: e, Score: boosted(0.3, 0.5, ctx), Recognizer: "uk_nhs", Context: s.ctxList(ctx)})
}

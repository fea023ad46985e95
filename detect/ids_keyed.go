package detect

// Identifiers that only mean something next to their label: US passport
// and driver's licence numbers, medical record numbers and bank account
// numbers are bare digit strings otherwise. These recognizers wake at the
// label ("passport", "driver's license", "DL#", "MRN", "medical record",
// "patient ID", "account number") through prefix triggers, which cost
// nothing on text without the label, and take the first token with a
// digit within keyedWindow bytes after it, if it has the right shape. A
// token with digits of the wrong shape ends the search, so a label never
// reaches past an unrelated number to a later one.

// keyedWindow is how far past the label (and its second word) the value
// may start; keyNextWindow is how far the second word of a two-word label
// ("medical … record") may be.
const (
	keyedWindow   = 40
	keyNextWindow = 20
	maxKeyedToken = 24
)

// keyword is one label that wakes a keyedRecognizer.
type keyword struct {
	// prefix is the trigger (ASCII case-insensitive, at a word start).
	prefix string
	// whole, when set, lists the only words (lower case) the label may be.
	whole []string
	// next, when set, lists words (lower case prefixes, or "#") one of
	// which must start within keyNextWindow bytes after the label word.
	next []string
	// notNext lists words (lower case prefixes) that, as the word right
	// after the label, make it another label ("license key").
	notNext []string
	// shape, when set, replaces the recognizer's shape for this label.
	shape func(tok string) float64
}

// keyedRecognizer reports a value of some shape that follows a label.
type keyedRecognizer struct {
	name, typ string
	cat       Category
	keys      []keyword
	// shape scores the token (alphanumerics and inner '-'); 0 rejects it.
	shape func(tok string) float64
	// boost, when set, lifts the score by boostBy when one of its words is
	// near the value (bank words for account numbers).
	boost   []string
	boostBy float64
}

func (r *keyedRecognizer) Name() string    { return r.name }
func (r *keyedRecognizer) Types() []string { return []string{r.typ} }
func (r *keyedRecognizer) Triggers() []Trigger {
	ts := make([]Trigger, len(r.keys))
	for i, k := range r.keys {
		ts[i] = Trigger{Kind: TriggerPrefix, Prefix: k.prefix, Fold: true}
	}
	return ts
}

func (r *keyedRecognizer) Find(s *Scan, at int) {
	t := s.text
	we := at
	for we < len(t) && isAlnum(t[we]) { // each word start scans only its own word
		we++
	}
	word := t[at:we]
	from := -1
	shape := r.shape
	for _, k := range r.keys {
		if !hasPrefixAt(word, 0, k.prefix, true) || !wholeWord(word, k.whole) || firstWordIs(t, we, k.notNext) {
			continue
		}
		if k.shape != nil {
			shape = k.shape
		}
		if len(k.next) == 0 {
			from = we
			break
		}
		if e := nextWord(t, we, k.next); e >= 0 {
			from = e
			break
		}
	}
	if from < 0 {
		return
	}
	// Walk the tokens after the label.
	i := from
	limit := min(from+keyedWindow, len(t))
	for i < limit {
		c := t[i]
		if c == '\n' {
			return
		}
		if !isAlnum(c) {
			i++
			continue
		}
		st := i
		digits := false
		for i < len(t) && i-st <= maxKeyedToken && (isAlnum(t[i]) || (t[i] == '-' && i+1 < len(t) && isAlnum(t[i+1]) && i > st)) {
			digits = digits || isDigit(t[i])
			i++
		}
		if !digits {
			if i < len(t) && t[i] >= 0x80 {
				return
			}
			continue
		}
		if i-st > maxKeyedToken || (i < len(t) && (t[i] >= 0x80 || t[i] == '_')) {
			return
		}
		sc := shape(t[st:i])
		if sc == 0 {
			return
		}
		addID(s, idHit{typ: r.typ, rec: r.name, cat: r.cat, start: st, end: i,
			base: sc, boost: r.boostBy, words: r.boost})
		return
	}
}

// wholeWord reports whether w (any case) is one of list, or list is empty.
func wholeWord(w string, list []string) bool {
	if len(list) == 0 {
		return true
	}
	for _, l := range list {
		if len(l) == len(w) && hasPrefixAt(w, 0, l, true) {
			return true
		}
	}
	return false
}

// nextWord looks for one of words starting at a word boundary within
// keyNextWindow bytes from i and returns the end of the word found there,
// or -1. "#" matches the byte '#' anywhere in the window.
// firstWordIs reports whether the first word at or after t[i:] on the
// same line starts with one of words (lower case).
func firstWordIs(t string, i int, words []string) bool {
	if len(words) == 0 {
		return false
	}
	for i < len(t) && !isAlnum(t[i]) && t[i] != '\n' {
		i++
	}
	for _, w := range words {
		if hasPrefixAt(t, i, w, true) {
			return true
		}
	}
	return false
}

func nextWord(t string, i int, words []string) int {
	limit := min(i+keyNextWindow, len(t))
	for j := i; j < limit; j++ {
		c := t[j]
		if c == '\n' {
			return -1
		}
		if c == '#' {
			for _, w := range words {
				if w == "#" {
					return j + 1
				}
			}
			continue
		}
		if !isAlnum(c) || (j > 0 && isAlnum(t[j-1])) {
			continue
		}
		for _, w := range words {
			if w != "#" && hasPrefixAt(t, j, w, true) {
				e := j + len(w)
				for e < len(t) && isAlnum(t[e]) {
					e++
				}
				return e
			}
		}
	}
	return -1
}

// tokenCounts returns the number of digits and letters in tok (dashes
// are neither) and whether the letters are all upper case.
func tokenCounts(tok string) (digits, letters int, upper bool) {
	upper = true
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case isDigit(c):
			digits++
		case isUpper(c):
			letters++
		case isLower(c):
			letters++
			upper = false
		}
	}
	return
}

// isDateToken reports whether tok is an ISO date ("2024-01-05"): labels
// are often followed by one ("MRN updated 2024-01-05"), and eight digits
// would otherwise pass the shape checks.
func isDateToken(tok string) bool {
	return len(tok) == 10 && tok[4] == '-' && tok[7] == '-'
}

// Scores of the labelled identifiers.
const (
	scorePassportUS    = 0.8 // 9 digits, or a letter and 8 digits (next generation)
	scorePassportOther = 0.6 // other common passport shapes after the label
	scoreDriverLicense = 0.75
	scoreLicenseAlone  = 0.6 // "license is AC432223": the label could be of another licence
	scoreMRN           = 0.75
	scoreBankNumber    = 0.45 // "account 12345678": needs a bank word as well
	bankContextBoost   = 0.3
)

// passportRecognizer finds US_PASSPORT values after "passport".
func passportRecognizer() *keyedRecognizer {
	return &keyedRecognizer{
		name: "us_passport", typ: "US_PASSPORT", cat: PII,
		keys: []keyword{{prefix: "passport"}},
		shape: func(tok string) float64 {
			d, l, up := tokenCounts(tok)
			if d+l != len(tok) || !up {
				return 0
			}
			switch {
			case d == 9 && l == 0, d == 8 && l == 1 && isUpper(tok[0]):
				return scorePassportUS
			case l <= 2 && d >= 6 && d <= 9 && d+l <= 9 && isDigit(tok[len(tok)-1]):
				return scorePassportOther
			}
			return 0
		},
	}
}

// driverLicenseRecognizer finds US_DRIVER_LICENSE values after "driver's
// license", "driving licence", "driver license no", "DL", "DL#" or "DLN".
// State formats vary (one letter and 4-14 digits, 7-13 digits, dashed
// groups), so the shape is broad: 5-16 characters with at least four
// digits and at most three letters.
func driverLicenseRecognizer() *keyedRecognizer {
	return &keyedRecognizer{
		name: "us_driver_license", typ: "US_DRIVER_LICENSE", cat: PII,
		keys: []keyword{
			{prefix: "driv", whole: []string{"driver", "drivers", "driving"}, next: []string{"licen", "lic", "permit", "dl"}},
			{prefix: "dl", whole: []string{"dl", "dln", "dlno"}},
			// "license" alone names many things (software, business,
			// professional): only the letter-led state formats after it,
			// and not when the next word makes it another label.
			{prefix: "licen", whole: []string{"license", "licence", "licenses", "licences"},
				notNext: []string{"key", "plate", "file", "server", "agreement", "fee", "type", "version", "code", "tag", "id"},
				shape:   letterLedLicense},
		},
		shape: func(tok string) float64 {
			if isDateToken(tok) {
				return 0
			}
			d, l, _ := tokenCounts(tok)
			if n := d + l; n < 5 || n > 16 || d < 4 || l > 3 {
				return 0
			}
			return scoreDriverLicense
		},
	}
}

// letterLedLicense scores the licence numbers of the states whose format
// is one or two capital letters and 5-13 digits (California A1234567,
// Florida A123456789012): the only form taken after a bare "license".
// All-digit and dashed formats need the "driver's license" label.
func letterLedLicense(tok string) float64 {
	l := 0
	for l < len(tok) && l < 3 && isUpper(tok[l]) {
		l++
	}
	if l == 0 || l > 2 {
		return 0
	}
	d := len(tok) - l
	if d < 5 || d > 13 {
		return 0
	}
	for i := l; i < len(tok); i++ {
		if !isDigit(tok[i]) {
			return 0
		}
	}
	return scoreLicenseAlone
}

// medicalRecordRecognizer finds MEDICAL_RECORD_NUMBER values after "MRN",
// "medical record" or "patient ID/number/no/#".
func medicalRecordRecognizer() *keyedRecognizer {
	return &keyedRecognizer{
		name: "medical_record_number", typ: "MEDICAL_RECORD_NUMBER", cat: Health,
		keys: []keyword{
			{prefix: "mrn", whole: []string{"mrn", "mrns"}},
			{prefix: "medical", whole: []string{"medical"}, next: []string{"record", "rec"}},
			{prefix: "patient", whole: []string{"patient", "patients"}, next: []string{"id", "no", "number", "num", "#"}},
		},
		shape: func(tok string) float64 {
			if isDateToken(tok) {
				return 0
			}
			d, l, _ := tokenCounts(tok)
			if n := d + l; n < 4 || n > 14 || d < 4 || l > 3 {
				return 0
			}
			return scoreMRN
		},
	}
}

// bankNumberRecognizer finds US_BANK_NUMBER values (8-17 digits) after
// "account" or "acct"; they pass the default threshold only with a bank
// word nearby ("bank", "checking", "routing", …).
func bankNumberRecognizer() *keyedRecognizer {
	return &keyedRecognizer{
		name: "us_bank_number", typ: "US_BANK_NUMBER", cat: Financial,
		keys: []keyword{
			{prefix: "account", whole: []string{"account", "accounts"}},
			{prefix: "acct", whole: []string{"acct", "acctno"}},
		},
		shape: func(tok string) float64 {
			d, l, _ := tokenCounts(tok)
			if l != 0 || d != len(tok) || d < 8 || d > 17 {
				return 0
			}
			return scoreBankNumber
		},
		boost:   []string{"bank", "checking", "savings", "routing", "aba", "ach", "wire", "deposit", "direct debit"},
		boostBy: bankContextBoost,
	}
}

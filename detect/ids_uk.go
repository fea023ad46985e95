package detect

// UK National Insurance numbers (UK_NINO, PII), HMRC format: two prefix
// letters, six digits, a suffix letter A-D ("QQ 12 34 56 C" is HMRC's own
// example, and QQ is not a valid prefix). The first prefix letter is not
// D, F, I, Q, U or V; the second is not those or O; BG, GB, KN, NK, NT, TN
// and ZZ are never issued. The digits may be grouped in pairs with spaces.

// Scores for UK_NINO.
const (
	scoreNINO        = 0.55 // the shape is specific, but part numbers share it
	scoreNINOSpaced  = 0.65 // "AB 12 34 56 C" is how HMRC prints it
	ninoContextBoost = 0.35
)

var ninoContext = []string{"national insurance", "insurance number", "nino", "ni number", "ni no", "hmrc"}

// scoreNINOLower is taken off a NINO typed in lower case ("tw987654a",
// "hh 01 02 03 d"): HMRC prints capitals, and lower-case letter-digit
// words are more often codes of other kinds.
const scoreNINOLower = 0.05

// ninoRecognizer wakes at upper-case word starts and at lower-case
// letter pairs before a digit; its first check is two table lookups.
type ninoRecognizer struct{}

func (ninoRecognizer) Name() string    { return "uk_nino" }
func (ninoRecognizer) Types() []string { return []string{"UK_NINO"} }
func (ninoRecognizer) Triggers() []Trigger {
	return []Trigger{{Kind: TriggerUpperWord}, {Kind: TriggerLowerPairDigit}}
}

// ninoFirst and ninoSecond say which letters may open a NINO.
func ninoFirst(c byte) bool {
	switch c {
	case 'D', 'F', 'I', 'Q', 'U', 'V':
		return false
	}
	return isUpper(c)
}

func ninoSecond(c byte) bool { return c != 'O' && ninoFirst(c) }

// ninoPrefixOK applies the first/second letter rules and the list of
// prefixes HMRC never issues.
func ninoPrefixOK(a, b byte) bool {
	if !ninoFirst(a) || !ninoSecond(b) {
		return false
	}
	switch string([]byte{a, b}) {
	case "BG", "GB", "KN", "NK", "NT", "TN", "ZZ":
		return false
	}
	return true
}

func (ninoRecognizer) Find(s *Scan, at int) {
	t := s.text
	// Cheapest test first: a NINO has a digit (or a space and a digit)
	// after its prefix.
	if at+9 > len(t) || !(isDigit(t[at+2]) || t[at+2] == ' ' && isDigit(t[at+3])) {
		return
	}
	a, b := t[at], t[at+1]
	lowerCase := isLower(a)
	if lowerCase {
		if !isLower(b) {
			return
		}
		a, b = a-32, b-32
	}
	if !ninoPrefixOK(a, b) {
		return
	}
	i := at + 2
	spaced := false
	for pair := 0; pair < 3; pair++ {
		if i < len(t) && t[i] == ' ' {
			i++
			spaced = true
		}
		if i+2 > len(t) || !isDigit(t[i]) || !isDigit(t[i+1]) {
			return
		}
		i += 2
	}
	if spaced && i < len(t) && t[i] == ' ' {
		i++
	}
	if i >= len(t) {
		return
	}
	if suffix := t[i] &^ 0x20; suffix < 'A' || suffix > 'D' || isLower(t[i]) != lowerCase {
		return
	}
	end := i + 1
	if wordAfter(t, end) || (end < len(t) && t[end] >= 0x80) {
		return
	}
	base := scoreNINO
	if spaced {
		base = scoreNINOSpaced
	}
	if lowerCase {
		base -= scoreNINOLower
	}
	addID(s, idHit{typ: "UK_NINO", rec: "uk_nino", cat: PII, start: at, end: end,
		base: base, boost: ninoContextBoost, words: ninoContext})
}

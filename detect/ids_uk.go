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

// ninoRecognizer wakes at upper-case word starts; its first check is two
// table lookups.
type ninoRecognizer struct{}

func (ninoRecognizer) Name() string        { return "uk_nino" }
func (ninoRecognizer) Types() []string     { return []string{"UK_NINO"} }
func (ninoRecognizer) Triggers() []Trigger { return []Trigger{{Kind: TriggerUpperWord}} }

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
	if at+9 > len(t) || !ninoPrefixOK(t[at], t[at+1]) {
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
	if i >= len(t) || t[i] < 'A' || t[i] > 'D' {
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
	addID(s, idHit{typ: "UK_NINO", rec: "uk_nino", cat: PII, start: at, end: end,
		base: base, boost: ninoContextBoost, words: ninoContext})
}

package detect

import (
	"github.com/nyaruka/phonenumbers"
)

// phoneParser validates phone candidates with libphonenumber's metadata
// (github.com/nyaruka/phonenumbers, a Go port of Google's
// libphonenumber). The scanner finds the candidate spans; the library
// decides whether the digits can be a number of the country they claim.
type phoneParser struct{}

func newPhoneParser() *phoneParser { return &phoneParser{} }

// phoneShape classifies how a candidate is written; the shape carries as
// much evidence as the digits.
type phoneShape int

const (
	shapeOther     phoneShape = iota // digit groups in some other pattern
	shapePlain                       // 10-11 digits, no separators
	shapeSpaced334                   // 555 123 4567
	shapeDashed334                   // 555-123-4567, 555.123.4567, 1-555-123-4567
	shapeParen                       // (555) 123-4567
	shapeIntl                        // +… international
)

// check parses the digits (with a leading '+' when intl) and reports
// whether the number is possible (length fits the country's plan) and
// valid (assigned ranges).
func (p *phoneParser) check(number string, intl bool) (possible, valid bool) {
	region := "US"
	if intl {
		region = ""
	}
	num, err := phonenumbers.Parse(number, region)
	if err != nil {
		return false, false
	}
	if !phonenumbers.IsPossibleNumber(num) {
		return false, false
	}
	return true, phonenumbers.IsValidNumber(num)
}

func (nr *numberRecognizer) phone(s *Scan, r *numRun) {
	t := s.text
	for k := r.ngroups; k >= 1; k-- {
		n := r.ndigits(k)
		if n < 7 || n > 15 {
			continue
		}
		e := r.end(k)
		if !cleanEnd(t, e) {
			continue
		}
		shape, ok := classifyPhone(r, k)
		if !ok {
			continue
		}
		start := r.start
		if r.plus || r.paren {
			start--
		}
		var buf [maxDigits + 1]byte
		b := buf[:0]
		if r.plus {
			b = append(b, '+')
		}
		b = append(b, r.digits[:n]...)
		possible, valid := nr.phones.check(string(b), r.plus)
		if !possible {
			continue
		}
		var base float64
		switch shape {
		case shapeIntl:
			base = 0.65
		case shapeParen:
			base = 0.6
		case shapeDashed334:
			base = 0.55
		case shapeSpaced334:
			base = 0.4
		case shapePlain:
			base = 0.3
		default:
			base = 0.35
		}
		if valid {
			base += 0.15
		}
		ctx := s.Context(start, e, phoneContext)
		s.Add(Finding{Type: "PHONE_NUMBER", Category: PII, Start: start, End: e,
			Score: boosted(base, 0.3, ctx), Recognizer: "phone", Context: ctxList(ctx)})
		return
	}
}

// classifyPhone decides whether the first k groups of r are written like
// a phone number, and how.
func classifyPhone(r *numRun, k int) (phoneShape, bool) {
	// No slashes (dates), and a dotted run of short groups is an IPv4
	// address or a version, not a phone.
	short := true
	for i := 0; i < k; i++ {
		if i < k-1 && r.sep[i] == '/' {
			return 0, false
		}
		if r.glen[i] > 3 {
			short = false
		}
	}
	if k > 1 && r.sep[0] == '.' && short {
		return 0, false
	}
	switch {
	case r.plus:
		return shapeIntl, true
	case r.paren:
		if r.glen[0] != 3 {
			return 0, false
		}
		return shapeParen, true
	case k == 1:
		n := r.glen[0]
		if n == 10 || (n == 11 && r.digits[0] == '1') {
			return shapePlain, true
		}
		return 0, false
	}
	// 555-123-4567 or 1-555-123-4567 with one separator kind.
	g := r.glen[:k]
	sep, same := r.sameSep(k)
	is334 := (k == 3 && g[0] == 3 && g[1] == 3 && g[2] == 4) ||
		(k == 4 && g[0] == 1 && g[1] == 3 && g[2] == 3 && g[3] == 4)
	if same && is334 {
		if sep == ' ' {
			return shapeSpaced334, true
		}
		return shapeDashed334, true
	}
	return shapeOther, true
}

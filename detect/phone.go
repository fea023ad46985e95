package detect

import (
	"sync"

	"github.com/nyaruka/phonenumbers"
	"google.golang.org/protobuf/proto"
)

// phoneParser validates phone candidates with libphonenumber's metadata
// (github.com/nyaruka/phonenumbers, a Go port of Google's
// libphonenumber). The scanner finds the candidate spans; the library
// decides whether the digits can be a number of the country they claim.
type phoneParser struct {
	// possible caches IsPossibleNumber, which depends only on the country
	// calling code, the national number's length and its leading zeros:
	// key cc<<16 | len<<8 | zeros.
	possible sync.Map // uint32 -> bool
}

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

// check reports whether the digits can be a phone number (their length
// fits the numbering plan of the country they claim: possible) and
// whether they fall in an assigned range (valid; only computed when
// wantValid). intl digits start with the country calling code; others
// are read as North American (NANP) numbers.
//
// It builds the PhoneNumber itself instead of calling phonenumbers.Parse:
// the scanner has already isolated the digits, and Parse's viability and
// extension regexps cost about 20 µs a call, most of the scan.
func (p *phoneParser) check(digits []byte, intl, wantValid bool) (possible, valid bool) {
	cc := 0
	var nsn []byte
	if intl {
		for i := 1; i <= 3 && i < len(digits); i++ {
			c := atoi(digits[:i])
			if phonenumbers.GetRegionCodeForCountryCode(c) != "ZZ" {
				cc, nsn = c, digits[i:]
				break
			}
		}
		if cc == 0 {
			return false, false
		}
	} else {
		cc, nsn = 1, digits
		if len(nsn) == 11 && nsn[0] == '1' {
			nsn = nsn[1:]
		}
	}
	if len(nsn) < 4 || len(nsn) > 14 {
		return false, false
	}
	zeros := int32(0)
	for _, c := range nsn {
		if c != '0' {
			break
		}
		zeros++
	}
	key := uint32(cc)<<16 | uint32(len(nsn))<<8 | uint32(zeros)
	if v, ok := p.possible.Load(key); ok && !wantValid {
		return v.(bool), false
	}
	num := &phonenumbers.PhoneNumber{CountryCode: proto.Int32(int32(cc)), NationalNumber: proto.Uint64(uint64(atoi(nsn)))}
	if zeros > 0 {
		num.ItalianLeadingZero = proto.Bool(true)
		num.NumberOfLeadingZeros = proto.Int32(zeros)
	}
	ok := phonenumbers.IsPossibleNumber(num)
	p.possible.Store(key, ok)
	if !ok {
		return false, false
	}
	if !wantValid {
		return true, false
	}
	return true, phonenumbers.IsValidNumber(num)
}

func atoi(d []byte) int {
	n := 0
	for _, c := range d {
		n = n*10 + int(c-'0')
	}
	return n
}

func (nr *numberRecognizer) phone(s *Scan, r *numRun) {
	t := s.text
	// Only the whole run: a phone number is not the head of a longer
	// digit run (that is a card, an account or an id).
	k := r.ngroups
	n := r.ndigits(k)
	if n < 7 || n > 15 {
		return
	}
	e := r.end(k)
	if !cleanEnd(t, e) {
		return
	}
	shape, ok := classifyPhone(r, k)
	if !ok {
		return
	}
	start := r.start
	if r.plus || r.paren {
		start--
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
	ctx := s.Context(start, e, phoneContext)
	if ctx != "" {
		base += 0.3
	}
	const validBonus = 0.15
	min := s.minScore("PHONE_NUMBER")
	if base+validBonus < min {
		return // cannot pass even if valid: skip the library
	}
	possible, valid := nr.phones.check(r.digits[:n], r.plus, base < min)
	if !possible {
		return
	}
	if valid {
		base += validBonus
	}
	if base > 1 {
		base = 1
	}
	s.Add(Finding{Type: "PHONE_NUMBER", Category: PII, Start: start, End: e,
		Score: base, Recognizer: "phone", Context: ctxList(ctx)})
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

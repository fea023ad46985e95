package detect

import (
	"sync/atomic"

	"github.com/nyaruka/phonenumbers"
	"google.golang.org/protobuf/proto"
)

// phoneParser validates phone candidates with libphonenumber's metadata
// (github.com/nyaruka/phonenumbers, a Go port of Google's
// libphonenumber). The scanner finds the candidate spans; the library
// decides whether the digits can be a number of the country they claim.
type phoneParser struct {
	// possibleBits caches IsPossibleNumber, which depends only on the country
	// calling code, the national number's length and its leading zeros.
	// Each key (see possibleKey) has two bits: possibleKnown, and
	// possibleYes when the answer is yes. Scans on several goroutines
	// share it; a racing pair computes and stores the same bits.
	possibleBits []atomic.Uint32
}

const (
	possibleKnown = 1
	possibleYes   = 2
	// possibleKeys is the number of keys: country code < 1000, length and
	// zeros < 16.
	possibleKeys = 1000 << 8
)

// possibleKey packs what IsPossibleNumber depends on into 0..possibleKeys-1.
func possibleKey(cc, n, zeros int) int { return cc<<8 | n<<4 | zeros }

func newPhoneParser() *phoneParser {
	return &phoneParser{possibleBits: make([]atomic.Uint32, possibleKeys/16)}
}

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

// phoneDigits is a candidate split into its country calling code and
// national significant number.
type phoneDigits struct {
	cc    int
	nsn   []byte
	zeros int32 // leading zeros of nsn
}

// splitPhone reads digits as a phone number: intl digits start with the
// country calling code; others are read as North American (NANP)
// numbers. It fails when no code fits or the national number's length
// cannot be a phone number's.
func splitPhone(digits []byte, intl bool) (phoneDigits, bool) {
	var d phoneDigits
	if intl {
		for i := 1; i <= 3 && i < len(digits); i++ {
			c := atoi(digits[:i])
			if phonenumbers.GetRegionCodeForCountryCode(c) != "ZZ" {
				d.cc, d.nsn = c, digits[i:]
				break
			}
		}
		if d.cc == 0 {
			return d, false
		}
	} else {
		d.cc, d.nsn = 1, digits
		if len(d.nsn) == 11 && d.nsn[0] == '1' {
			d.nsn = d.nsn[1:]
		}
	}
	if len(d.nsn) < 4 || len(d.nsn) > 14 {
		return d, false
	}
	for _, c := range d.nsn {
		if c != '0' {
			break
		}
		d.zeros++
	}
	return d, true
}

// number builds the library's PhoneNumber. It is built here instead of by
// phonenumbers.Parse: the scanner has already isolated the digits, and
// Parse's viability and extension regexps cost about 20 µs a call, most
// of the scan.
func (d phoneDigits) number() *phonenumbers.PhoneNumber {
	num := &phonenumbers.PhoneNumber{CountryCode: proto.Int32(int32(d.cc)), NationalNumber: proto.Uint64(uint64(atoi(d.nsn)))}
	if d.zeros > 0 {
		num.ItalianLeadingZero = proto.Bool(true)
		num.NumberOfLeadingZeros = proto.Int32(d.zeros)
	}
	return num
}

// possible reports whether d's length fits the numbering plan of its
// country (phonenumbers.IsPossibleNumber), from the cache when it can.
func (p *phoneParser) possible(d phoneDigits) bool {
	key := possibleKey(d.cc, len(d.nsn), int(d.zeros))
	word, shift := &p.possibleBits[key/16], uint(key%16)*2
	if bits := word.Load() >> shift; bits&possibleKnown != 0 {
		return bits&possibleYes != 0
	}
	ok := phonenumbers.IsPossibleNumber(d.number())
	bits := uint32(possibleKnown)
	if ok {
		bits |= possibleYes
	}
	word.Or(bits << shift)
	return ok
}

// valid reports whether d falls in an assigned range of its country
// (phonenumbers.IsValidNumber).
func (d phoneDigits) valid() bool { return phonenumbers.IsValidNumber(d.number()) }

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
	// Whether the length is possible is cached and cheap: ask it before
	// the context words are looked for.
	d, ok := splitPhone(r.digits[:n], r.plus)
	if !ok || !nr.phones.possible(d) {
		return
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
	if base < min && d.valid() {
		base += validBonus
	}
	if base > 1 {
		base = 1
	}
	s.Add(Finding{Type: "PHONE_NUMBER", Category: PII, Start: start, End: e,
		Score: base, Recognizer: "phone", Context: s.ctxList(ctx)})
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

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

// Regions whose numbers are tried for a candidate written in national
// format, most-used first. trunkRegions dial a trunk prefix 0 before the
// national number ("020 7946 0958" in the UK, "06 12 34 56 78" in France);
// plainRegions have none ("912 345 678" in Spain). Italy keeps its leading
// 0 inside the number and is tried both ways.
var (
	trunkRegions = []int{44, 49, 33, 61, 81, 91, 31, 32, 43, 41, 46, 64, 27, 86, 82, 90, 353, 358, 972, 971,
		66, 92, 20, 234, 254, 54, 60, 63, 62, 84, 886, 380, 55, 52, 57}
	plainRegions = []int{34, 39, 351, 45, 47, 48, 30, 420, 55, 852, 65, 36, 40}
)

func (nr *numberRecognizer) phone(s *Scan, r *numRun) {
	t := s.text
	if r.plus && r.ngroups == 1 && r.glen[0] <= 3 && nr.intlParen(s, r) {
		return
	}
	// Only the whole run: a phone number is not the head of a longer
	// digit run (that is a card, an account or an id).
	k := r.ngroups
	n := r.ndigits(k)
	if n < 7 || n > 15 {
		return
	}
	e := r.end(k)
	if !cleanEnd(t, e) || timeAt(t, e) {
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
	if !r.plus && idBefore(t, start) {
		return // INV-2024-000123, order_5551234567
	}
	digits := r.digits[:n]
	if !r.plus && k == 3 && r.glen[0] == 3 && r.glen[1] == 2 && r.glen[2] == 4 && !r.paren {
		return // 123-45-6789 is written like a US SSN, not like a phone
	}
	if !r.plus && digits[0] == '0' {
		nr.nationalPhone(s, r, k, start, e)
		return
	}
	if !r.plus && !nanpGroups(r, k) {
		nr.foreignPhone(s, r, k, start, e)
		return
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
	d, ok := splitPhone(digits, r.plus)
	if !ok || !nr.phones.possible(d) {
		if !r.plus {
			nr.foreignPhone(s, r, k, start, e)
		}
		return
	}
	ctx := s.Context(start, e, phoneContext)
	if ctx == "number" && s.Context(start, e, idNouns) != "" {
		return // "tracking number 5321234567", "order number …"
	}
	if ctx != "" {
		base += 0.3
	}
	const validBonus = 0.15
	min := s.minScore("PHONE_NUMBER")
	if base+validBonus < min {
		// Cannot pass even if valid: skip the library.
		if !r.plus {
			nr.regionPhone(s, r, k, start, e)
		}
		return
	}
	if base < min && d.valid() {
		base += validBonus
	}
	if base < min && !r.plus && nr.regionPhone(s, r, k, start, e) {
		return
	}
	nr.addPhone(s, start, e, base, ctx)
}

func (nr *numberRecognizer) addPhone(s *Scan, start, e int, score float64, ctx string) {
	e = phoneExt(s.text, e)
	if score > 1 {
		score = 1
	}
	s.Add(Finding{Type: "PHONE_NUMBER", Category: PII, Start: start, End: e,
		Score: score, Recognizer: "phone", Context: s.ctxList(ctx)})
}

// nationalPhone scores a candidate that starts with 0: an international
// call prefix 00 and a country code ("0049 30 123456"), or a trunk 0 and
// a national number ("020 7946 0958", "(02) 9876 5432", "06-12345678").
// Digit groups of one digit (ISBN-10 "0-306-40615-2") are not a phone's.
//
// A trunk-0 number needs a context word other than "number", or else it
// must be valid in one of trunkRegions and grouped exactly the way that
// country prints its numbers (libphonenumber's national format): "020
// 7946 0321" is a London number, "0456 7890 1234" a serial.
func (nr *numberRecognizer) nationalPhone(s *Scan, r *numRun, k, start, e int) {
	if groupBefore(s.text, start) {
		return
	}
	n := r.ndigits(k)
	digits := r.digits[:n]
	for i := 0; i < k; i++ {
		if r.glen[i] < 2 {
			nr.regionPhone(s, r, k, start, e) // "0 532 123 45 67"
			return
		}
	}
	if r.paren && r.glen[0] > 5 {
		return
	}
	if digits[1] == '0' {
		if n < 10 || digits[2] == '0' || r.paren {
			return
		}
		d, ok := splitPhone(digits[2:], true)
		if !ok || !nr.phones.possible(d) {
			return
		}
		nr.scoreIntlPrefix(s, start, e, 0.35, d)
		return
	}
	if n < 9 || n > 12 {
		return
	}
	if r.sep[0] == '.' && versionBefore(s.text, start) {
		return // version 01.02.03.04.05
	}
	ctx := s.Context(start, e, phoneContext)
	weak := ctx == "" || ctx == "number"
	score := 0.65
	switch {
	case k == 1:
		// A plain run with a leading zero is an id as often: it needs
		// a phone word and a valid number.
		if weak || !nr.phones.anyValid(digits, trunkRegions, true, nil) {
			nr.regionPhone(s, r, k, start, e)
			return
		}
	case weak:
		if !nr.phones.anyValid(digits, trunkRegions, true, r.glen[:k]) {
			nr.regionPhone(s, r, k, start, e)
			return
		}
		score = 0.5
		if ctx != "" {
			score = 0.8
		}
	}
	nr.addPhone(s, start, e, score, ctx)
}

// foreignPhone scores a candidate that is not a North American number
// and has no leading 0: the national format of a country without a trunk
// prefix ("912 345 678", "(11) 3456-7890"). Only a context word (other
// than "number") makes it a phone, and the number must be valid in one of
// plainRegions.
func (nr *numberRecognizer) foreignPhone(s *Scan, r *numRun, k, start, e int) {
	if groupBefore(s.text, start) {
		return
	}
	n := r.ndigits(k)
	if n < 8 || n > 11 || k < 2 {
		return
	}
	for i := 0; i < k; i++ {
		if r.glen[i] < 2 {
			return
		}
	}
	ctx := s.Context(start, e, phoneContext)
	if ctx == "" || ctx == "number" || !nr.phones.anyValid(r.digits[:n], plainRegions, false, nil) {
		nr.regionPhone(s, r, k, start, e)
		return
	}
	nr.addPhone(s, start, e, 0.8, ctx)
}

// scoreIntlPrefix adds a candidate dialled with the 00 international
// prefix: base, plus the context boost, plus the validity bonus when that
// is needed to pass.
func (nr *numberRecognizer) scoreIntlPrefix(s *Scan, start, e int, base float64, d phoneDigits) {
	ctx := s.Context(start, e, phoneContext)
	if ctx != "" {
		base += 0.3
	}
	const validBonus = 0.15
	if min := s.minScore("PHONE_NUMBER"); base < min {
		if base+validBonus < min || !d.valid() {
			return
		}
		base += validBonus
	}
	nr.addPhone(s, start, e, base, ctx)
}

// anyValid reports whether national digits are a valid number of one of
// regions. With trunk, the leading 0 is the trunk prefix and not part of
// the number, except in Italy. When groups is not nil, the digit groups
// must also be those of the region's national format.
func (p *phoneParser) anyValid(digits []byte, regions []int, trunk bool, groups []int) bool {
	nsn := digits
	if trunk {
		nsn = digits[1:]
	}
	try := func(d phoneDigits) bool {
		for _, c := range d.nsn {
			if c != '0' {
				break
			}
			d.zeros++
		}
		if !p.possible(d) || !d.valid() {
			return false
		}
		return groups == nil || sameGroups(phonenumbers.Format(d.number(), phonenumbers.NATIONAL), groups)
	}
	for _, cc := range regions {
		if cc == 39 && trunk {
			continue
		}
		if try(phoneDigits{cc: cc, nsn: nsn}) {
			return true
		}
	}
	return trunk && try(phoneDigits{cc: 39, nsn: digits})
}

// sameGroups reports whether the digit runs of formatted have the lengths
// in groups.
func sameGroups(formatted string, groups []int) bool {
	g, run := 0, 0
	for i := 0; i <= len(formatted); i++ {
		if i < len(formatted) && isDigit(formatted[i]) {
			run++
			continue
		}
		if run > 0 {
			if g >= len(groups) || groups[g] != run {
				return false
			}
			g++
			run = 0
		}
	}
	return g == len(groups)
}

// nanpGroups reports whether the digit groups of a candidate without a
// country code are grouped the way North American numbers are written:
// 3-3-4 and 1-3-3-4 with any separators, 3-7, 3-4 (a local number), or
// one run of 10 digits (11 after a 1).
func nanpGroups(r *numRun, k int) bool {
	g := r.glen[:k]
	switch k {
	case 1:
		return true // classifyPhone checked the length
	case 2:
		return g[0] == 3 && (g[1] == 7 || g[1] == 4)
	case 3:
		return g[0] == 3 && g[1] == 3 && g[2] == 4 || g[0] == 1 && g[1] == 3 && g[2] == 7
	case 4:
		return g[0] == 1 && g[1] == 3 && g[2] == 3 && g[3] == 4
	}
	return false
}

// groupBefore reports a digit and a space before start: the candidate is
// the tail of a longer spaced digit run ("4111 1111 1111 1112").
func groupBefore(t string, start int) bool {
	return start >= 2 && t[start-1] == ' ' && isDigit(t[start-2])
}

// timeAt reports a ':' and a digit at e: the number is the date before
// a clock time ("2025-03-02 14:11:09"), not a phone.
func timeAt(t string, e int) bool {
	return e+1 < len(t) && t[e] == ':' && isDigit(t[e+1])
}

// idBefore reports a letter or '_' glued to the number by '-' or '_'
// ("INV-2024-000123", "order_5551234567"): an identifier, not a phone.
func idBefore(t string, start int) bool {
	if start < 2 || (t[start-1] != '-' && t[start-1] != '_') {
		return false
	}
	c := t[start-2]
	return isUpper(c) || isLower(c) || c == '_'
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
	if k > 1 && r.sep[0] == '.' && short && !(k == 5 && r.ndigits(k) == 10) {
		return 0, false // but 01.42.68.53.00 is a French number
	}
	switch {
	case r.plus:
		return shapeIntl, true
	case r.paren:
		if r.glen[0] < 2 || r.glen[0] > 5 {
			return 0, false
		}
		return shapeParen, true
	case k == 1:
		n := r.glen[0]
		if n == 10 || (n == 11 && r.digits[0] == '1') || (r.digits[0] == '0' && n >= 9 && n <= 13) {
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

// idNouns name the numbers that are not phones. When "number" is the only
// phone word near a North American-shaped candidate, one of these makes
// it an id: "tracking number", "order number", "account number".
var idNouns = []string{"tracking", "order", "invoice", "account", "acct", "reference", "ref", "serial", "case", "ticket",
	"policy", "confirmation", "transaction", "booking", "shipment", "parcel", "customer", "member", "routing", "card"}

// intlParen reads "+44 (20) 7123 4567", "+90 (532) 123 45 67": a country
// code, a bracketed area code and the subscriber digits (E.123 writes the
// area code of a national number in brackets; people keep the brackets
// after a country code), or the country code in brackets: "(+44) 20 7946
// 0958". r holds the country code group only. A leading
// trunk 0 inside the brackets ("+44 (020) …") is dropped, except in
// Italy. The number must be valid; groups at the end are given up until
// it is, so that a following number is not swallowed. It reports whether
// it added a finding.
func (nr *numberRecognizer) intlParen(s *Scan, r *numRun) bool {
	t := s.text
	i := r.gend[0]
	start := r.start - 1
	// "(+44) 20 7946 0958": the country code in brackets.
	ccParen := start > 0 && t[start-1] == '(' && i < len(t) && t[i] == ')'
	if ccParen {
		start--
		i++
		if i < len(t) && t[i] == ' ' {
			i++
		}
		if i >= len(t) || !isDigit(t[i]) {
			return false
		}
	} else {
		if i < len(t) && t[i] == ' ' {
			i++
		}
		if i+3 >= len(t) || t[i] != '(' {
			return false
		}
	}
	var buf [maxDigits]byte
	n := copy(buf[:], r.digits[:r.glen[0]])
	cc := atoi(buf[:n])
	if phonenumbers.GetRegionCodeForCountryCode(cc) == "ZZ" {
		return false
	}
	n = 0
	if !ccParen {
		i++
		if t[i] == '0' && cc != 39 {
			i++
		}
		st := i
		for i < len(t) && isDigit(t[i]) && n < len(buf) {
			buf[n] = t[i]
			n++
			i++
		}
		if i-st < 1 || i-st > 5 || i >= len(t) || t[i] != ')' {
			return false
		}
		i++
		if i < len(t) && (t[i] == ' ' || t[i] == '-') {
			i++
		}
	}
	var ends [maxGroups]int // offset and digit count after each group
	var counts [maxGroups]int
	k := 0
	for k < maxGroups {
		st := i
		for i < len(t) && isDigit(t[i]) && n < len(buf) {
			buf[n] = t[i]
			n++
			i++
		}
		if i == st {
			break
		}
		ends[k], counts[k] = i, n
		k++
		if i+1 < len(t) && (t[i] == ' ' || t[i] == '-' || t[i] == '.') && isDigit(t[i+1]) {
			i++
			continue
		}
		break
	}
	for ; k > 0; k-- {
		e, nd := ends[k-1], counts[k-1]
		if nd < 6 || nd > 14 || !cleanEnd(t, e) {
			continue
		}
		d := phoneDigits{cc: cc, nsn: buf[:nd]}
		if !nr.phones.possible(d) || !d.valid() {
			continue
		}
		ctx := s.Context(start, e, phoneContext)
		score := 0.8
		if ctx != "" {
			score += 0.15
		}
		nr.addPhone(s, start, e, score, ctx)
		return true
	}
	return false
}

// phoneExt returns the end of an extension after a phone number ending at
// e (" ext. 204", ", ext 204", " x204", " extension 204", " #204"), or
// e when none follows.
func phoneExt(t string, e int) int {
	j := e
	if j < len(t) && t[j] == ',' {
		j++
	}
	if j < len(t) && t[j] == ' ' {
		j++
	}
	if j >= len(t) {
		return e
	}
	switch {
	case t[j] == '#':
		j++
	case t[j] == 'x' || t[j] == 'X':
		if j == e {
			return e // "555-1234x": glued letters are no extension word
		}
		j++
	case j+3 <= len(t) && (t[j:j+3] == "ext" || t[j:j+3] == "Ext" || t[j:j+3] == "EXT"):
		j += 3
		switch {
		case j+6 <= len(t) && t[j:j+6] == "ension":
			j += 6
		case j < len(t) && t[j] == 'n':
			j++
		}
		if j < len(t) && t[j] == '.' {
			j++
		}
		if j < len(t) && t[j] == ':' {
			j++
		}
	default:
		return e
	}
	if j < len(t) && t[j] == ' ' {
		j++
	}
	k := j
	for k < len(t) && isDigit(t[k]) && k-j <= 6 {
		k++
	}
	if k == j || k-j > 6 || !cleanEnd(t, k) {
		return e
	}
	return k
}

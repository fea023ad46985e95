package transform

import (
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
)

// synthesizer implements the synthetic operator: a fake value of the same
// kind and layout as the original, derived deterministically from the key
// and the value, so one entity keeps one surrogate within and across
// requests under the same key, and nobody without the key can link the
// surrogate to the value.
//
// The random stream for a value is ChaCha8 (math/rand/v2) seeded with
//
//	seed = HMAC-SHA256(k_syn, TYPE || 0x00 || value)
//
// where k_syn is derived from Key with HKDF (info "warden transform v1
// synthetic"). Numbers are drawn with Uint64 % n (bias below 2^-50 for the
// small n used), not with rand.Rand's methods, so surrogates stay the same
// across Go releases.
//
// Generators, by finding type:
//
//	CREDIT_CARD    Luhn-valid, same digit count and separators; issuer prefix
//	               400000 (Visa test range; 34 for 15 digits, 36 for 14)
//	US_SSN         area 773-899, group 01-99, serial 0001-9999 (see below)
//	US_ITIN        9NN-GG-NNNN with a group IRS uses for ITINs (70-88, 90-92,
//	               94-99)
//	UK_NHS         999 NNN NNNN with a valid mod-11 check digit: NHS
//	               numbers starting 999 are reserved for testing
//	ABA_ROUTING_NUMBER  valid 3-7-1 checksum, Federal Reserve prefix 01-12
//	EMAIL_ADDRESS  first.lastNN@example.com|org|net (RFC 2606)
//	PHONE_NUMBER   NANP fiction range NPA-555-0100..0199 in the original's
//	               layout; UK numbers get Ofcom's drama range 07700 900xxx
//	IBAN_CODE      same country, length and letter/digit pattern; valid
//	               ISO 13616 mod-97 check digits (national check digits
//	               inside the BBAN are not computed)
//	IP_ADDRESS     IPv4 from RFC 5737 (192.0.2.0/24, 198.51.100.0/24,
//	               203.0.113.0/24); IPv6 from 2001:db8::/32 (RFC 3849)
//	MAC_ADDRESS    00:00:5E:00:53:xx, the RFC 7042 documentation block
//	PERSON         a name from a short built-in list
//	LOCATION       a common town name from a short built-in list
//	URL            https://example.com/… (RFC 2606)
//
// US_SSN trade-off: numbers that are guaranteed never issued (area 000,
// 666 or 900-999, group 00, serial 0000) are exactly those validators
// reject, so a downstream system or model would treat the surrogate as
// malformed. We keep a valid format and draw the area from 773-899, which
// SSA never assigned before it randomised issuance in June 2011; since
// then any area 001-899 but 666 may be issued, so a surrogate can equal
// some real person's number (it is still unlinkable to the original).
type synthesizer struct {
	macs *macPool
}

func newSynthesizer(key Key) (*synthesizer, error) {
	k, err := key.derive(infoSynthetic)
	if err != nil {
		return nil, err
	}
	return &synthesizer{macs: newMACPool(k)}, nil
}

// has reports whether typ has a generator.
func (s *synthesizer) has(typ string) bool {
	switch typ {
	case "CREDIT_CARD", "US_SSN", "US_ITIN", "UK_NHS", "ABA_ROUTING_NUMBER", "EMAIL_ADDRESS", "PHONE_NUMBER", "IBAN_CODE",
		"IP_ADDRESS", "MAC_ADDRESS", "PERSON", "LOCATION", "URL":
		return true
	}
	return false
}

// write writes a surrogate for value; false means no generator fits (the
// type has none, or the value is not in a shape the generator knows) and
// nothing was written.
func (s *synthesizer) write(b *strings.Builder, typ, value string) bool {
	if !s.has(typ) {
		return false
	}
	var seed [32]byte
	macSum(s.macs, seed[:], typ, value)
	r := rng{rand.NewChaCha8(seed)}
	switch typ {
	case "CREDIT_CARD":
		return synthCard(b, &r, value)
	case "US_SSN":
		return synthSSN(b, &r, value)
	case "US_ITIN":
		return synthITIN(b, &r, value)
	case "UK_NHS":
		return synthNHS(b, &r, value)
	case "ABA_ROUTING_NUMBER":
		return synthABA(b, &r, value)
	case "EMAIL_ADDRESS":
		synthEmail(b, &r)
		return true
	case "PHONE_NUMBER":
		return synthPhone(b, &r, value)
	case "IBAN_CODE":
		return synthIBAN(b, &r, value)
	case "IP_ADDRESS":
		return synthIP(b, &r, value)
	case "MAC_ADDRESS":
		return synthMAC(b, &r, value)
	case "PERSON":
		synthPerson(b, &r, value)
		return true
	case "LOCATION":
		b.WriteString(towns[r.intn(len(towns))])
		return true
	case "URL":
		synthURL(b, &r, value)
		return true
	}
	return false
}

type rng struct{ c *rand.ChaCha8 }

// intn returns a number in [0, n).
func (r *rng) intn(n int) int { return int(r.c.Uint64() % uint64(n)) }

func (r *rng) digit() byte { return byte('0' + r.intn(10)) }

// countDigits returns the number of ASCII digits in s.
func countDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	return n
}

// writeLayout writes value with its ASCII digits replaced, in order, by
// digits (len(digits) must be the digit count of value).
func writeLayout(b *strings.Builder, value string, digits []byte) {
	j := 0
	for i := 0; i < len(value); i++ {
		c := value[i]
		if c >= '0' && c <= '9' {
			b.WriteByte(digits[j])
			j++
		} else {
			b.WriteByte(c)
		}
	}
}

func synthCard(b *strings.Builder, r *rng, value string) bool {
	n := countDigits(value)
	if n < 12 || n > 19 {
		return false
	}
	var d [19]byte
	iin := "400000"
	switch n {
	case 15:
		iin = "340000"
	case 14:
		iin = "360000"
	}
	copy(d[:], iin)
	for i := len(iin); i < n-1; i++ {
		d[i] = r.digit()
	}
	d[n-1] = luhnCheckDigit(d[:n-1])
	writeLayout(b, value, d[:n])
	return true
}

// luhnCheckDigit returns the digit that makes payload+digit pass Luhn.
func luhnCheckDigit(payload []byte) byte {
	sum := 0
	double := true // the rightmost payload digit is doubled
	for i := len(payload) - 1; i >= 0; i-- {
		v := int(payload[i] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return byte('0' + (10-sum%10)%10)
}

func synthSSN(b *strings.Builder, r *rng, value string) bool {
	if countDigits(value) != 9 {
		return false
	}
	var d [9]byte
	area := 773 + r.intn(899-773+1)
	group := 1 + r.intn(99)
	serial := 1 + r.intn(9999)
	strconv.AppendInt(d[:0], int64(area), 10)
	d[3], d[4] = byte('0'+group/10), byte('0'+group%10)
	for i, div := 5, 1000; i < 9; i, div = i+1, div/10 {
		d[i] = byte('0' + serial/div%10)
	}
	writeLayout(b, value, d[:])
	return true
}

// itinGroups are the middle digits IRS assigns to ITINs.
var itinGroups = func() (g []int) {
	for _, r := range [][2]int{{70, 88}, {90, 92}, {94, 99}} {
		for i := r[0]; i <= r[1]; i++ {
			g = append(g, i)
		}
	}
	return g
}()

func synthITIN(b *strings.Builder, r *rng, value string) bool {
	if countDigits(value) != 9 {
		return false
	}
	var d [9]byte
	d[0], d[1], d[2] = '9', r.digit(), r.digit()
	g := itinGroups[r.intn(len(itinGroups))]
	d[3], d[4] = byte('0'+g/10), byte('0'+g%10)
	for i := 5; i < 9; i++ {
		d[i] = r.digit()
	}
	writeLayout(b, value, d[:])
	return true
}

// synthNHS draws 999 NNN NNN and appends the mod-11 check digit (weights
// 10..2; a remainder giving 10 is not a valid number, so draw again).
func synthNHS(b *strings.Builder, r *rng, value string) bool {
	if countDigits(value) != 10 {
		return false
	}
	var d [10]byte
	for {
		copy(d[:], "999")
		sum := 9*10 + 9*9 + 9*8
		for i := 3; i < 9; i++ {
			d[i] = r.digit()
			sum += int(d[i]-'0') * (10 - i)
		}
		check := 11 - sum%11
		if check == 11 {
			check = 0
		}
		if check != 10 {
			d[9] = byte('0' + check)
			break
		}
	}
	writeLayout(b, value, d[:])
	return true
}

// synthABA draws a routing number with a Federal Reserve district prefix
// 01-12 and the ABA check digit: 3(d1+d4+d7) + 7(d2+d5+d8) + (d3+d6+d9)
// is a multiple of 10.
func synthABA(b *strings.Builder, r *rng, value string) bool {
	if countDigits(value) != 9 {
		return false
	}
	var d [9]byte
	district := 1 + r.intn(12)
	d[0], d[1] = byte('0'+district/10), byte('0'+district%10)
	for i := 2; i < 8; i++ {
		d[i] = r.digit()
	}
	w := [8]int{3, 7, 1, 3, 7, 1, 3, 7}
	sum := 0
	for i := 0; i < 8; i++ {
		sum += w[i] * int(d[i]-'0')
	}
	d[8] = byte('0' + (10-sum%10)%10)
	writeLayout(b, value, d[:])
	return true
}

var exampleDomains = [...]string{"example.com", "example.org", "example.net"}

func synthEmail(b *strings.Builder, r *rng) {
	b.WriteString(strings.ToLower(firstNames[r.intn(len(firstNames))]))
	b.WriteByte('.')
	b.WriteString(strings.ToLower(lastNames[r.intn(len(lastNames))]))
	b.WriteByte(r.digit())
	b.WriteByte(r.digit())
	b.WriteByte('@')
	b.WriteString(exampleDomains[r.intn(len(exampleDomains))])
}

// synthPhone keeps the layout of NANP numbers (10 digits, or 11 starting
// with 1) and UK numbers (+44 and 10 digits, or 0 and 10 digits); any other
// number becomes +1 NPA-555-01XX.
func synthPhone(b *strings.Builder, r *rng, value string) bool {
	n := countDigits(value)
	first := byte(0)
	for i := 0; i < len(value); i++ {
		if value[i] >= '0' && value[i] <= '9' {
			first = value[i]
			break
		}
	}
	plus := strings.HasPrefix(strings.TrimSpace(value), "+")
	var d [12]byte
	switch {
	case n == 10 && !plus && first != '0':
		nanp(d[:10], r)
		writeLayout(b, value, d[:10])
	case n == 11 && first == '1':
		d[0] = '1'
		nanp(d[1:11], r)
		writeLayout(b, value, d[:11])
	case n == 12 && plus && strings.HasPrefix(strings.TrimLeft(value, "+ "), "44"):
		copy(d[:], "447700900")
		d[9], d[10], d[11] = r.digit(), r.digit(), r.digit()
		writeLayout(b, value, d[:12])
	case n == 11 && !plus && first == '0':
		copy(d[:], "07700900")
		d[8], d[9], d[10] = r.digit(), r.digit(), r.digit()
		writeLayout(b, value, d[:11])
	default:
		nanp(d[:10], r)
		b.WriteString("+1 ")
		b.Write(d[:3])
		b.WriteByte('-')
		b.Write(d[3:6])
		b.WriteByte('-')
		b.Write(d[6:10])
	}
	return true
}

// nanp fills d (10 bytes) with NPA 555 01XX: a plausible area code (first
// digit 2-9, second 0-8, not N11) and a number from the range reserved
// for fiction.
func nanp(d []byte, r *rng) {
	d[0] = byte('2' + r.intn(8))
	d[1] = byte('0' + r.intn(9))
	d[2] = r.digit()
	if d[1] == '1' && d[2] == '1' {
		d[2] = '0'
	}
	copy(d[3:], "55501")
	d[8], d[9] = r.digit(), r.digit()
}

// synthIBAN writes an IBAN of the same country with the same pattern of
// letters and digits and valid check digits, in the original's layout
// (spaces kept).
func synthIBAN(b *strings.Builder, r *rng, value string) bool {
	var c [34]byte
	n := 0
	for i := 0; i < len(value); i++ {
		ch := value[i]
		switch {
		case ch >= 'a' && ch <= 'z':
			ch -= 'a' - 'A'
		case ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9':
		case ch == ' ' || ch == '-':
			continue
		default:
			return false
		}
		if n == len(c) {
			return false
		}
		c[n] = ch
		n++
	}
	if n < 5 || !isUpperASCII(c[0]) || !isUpperASCII(c[1]) {
		return false
	}
	for i := 4; i < n; i++ {
		if isUpperASCII(c[i]) {
			c[i] = byte('A' + r.intn(26))
		} else {
			c[i] = r.digit()
		}
	}
	check := 98 - ibanMod97(c[:n])
	c[2], c[3] = byte('0'+check/10), byte('0'+check%10)
	j := 0
	for i := 0; i < len(value); i++ {
		if ch := value[i]; ch == ' ' || ch == '-' {
			b.WriteByte(ch)
			continue
		}
		b.WriteByte(c[j])
		j++
	}
	return true
}

func isUpperASCII(c byte) bool { return c >= 'A' && c <= 'Z' }

// ibanMod97 computes ISO 7064 mod 97-10 of the IBAN rearranged (BBAN,
// country, then the check digits taken as 00), letters as 10..35.
func ibanMod97(c []byte) int {
	m := 0
	add := func(ch byte) {
		if ch >= 'A' && ch <= 'Z' {
			v := int(ch-'A') + 10
			m = (m*100 + v) % 97
		} else {
			m = (m*10 + int(ch-'0')) % 97
		}
	}
	for _, ch := range c[4:] {
		add(ch)
	}
	add(c[0])
	add(c[1])
	add('0')
	add('0')
	return m
}

var docNets4 = [...][3]byte{{192, 0, 2}, {198, 51, 100}, {203, 0, 113}}

func synthIP(b *strings.Builder, r *rng, value string) bool {
	bits := -1
	addr, err := netip.ParseAddr(value)
	if err != nil {
		p, perr := netip.ParsePrefix(value)
		if perr != nil {
			return false
		}
		addr, bits = p.Addr(), p.Bits()
	}
	var out netip.Addr
	if addr.Is4() {
		n := docNets4[r.intn(len(docNets4))]
		out = netip.AddrFrom4([4]byte{n[0], n[1], n[2], byte(1 + r.intn(254))})
		if bits >= 0 && bits < 24 {
			bits = 24 // stay inside the documentation block
		}
	} else {
		var a [16]byte
		a[0], a[1], a[2], a[3] = 0x20, 0x01, 0x0d, 0xb8
		for i := 4; i < 16; i++ {
			a[i] = byte(r.intn(256))
		}
		out = netip.AddrFrom16(a)
		if bits >= 0 && bits < 32 {
			bits = 32 // stay inside 2001:db8::/32
		}
	}
	if bits >= 0 {
		b.WriteString(netip.PrefixFrom(out, bits).Masked().String())
		return true
	}
	b.WriteString(out.String())
	return true
}

// synthMAC writes an address from the RFC 7042 documentation block
// 00-00-5E-00-53-00..FF in the original's layout and letter case.
func synthMAC(b *strings.Builder, r *rng, value string) bool {
	n, lower := 0, false
	for i := 0; i < len(value); i++ {
		switch c := value[i]; {
		case c >= '0' && c <= '9', c >= 'A' && c <= 'F':
			n++
		case c >= 'a' && c <= 'f':
			n++
			lower = true
		}
	}
	if n != 12 {
		return false
	}
	hexd := "0123456789ABCDEF"
	if lower {
		hexd = "0123456789abcdef"
	}
	last := r.intn(256)
	d := [12]byte{'0', '0', '0', '0', '5', hexd[0xE], '0', '0', '5', '3', hexd[last>>4], hexd[last&15]}
	j := 0
	for i := 0; i < len(value); i++ {
		c := value[i]
		if (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f') {
			b.WriteByte(d[j])
			j++
		} else {
			b.WriteByte(c)
		}
	}
	return true
}

// synthPerson writes a first name for a one-word value and "First Last"
// otherwise.
func synthPerson(b *strings.Builder, r *rng, value string) {
	b.WriteString(firstNames[r.intn(len(firstNames))])
	if strings.ContainsAny(strings.TrimSpace(value), " \t") {
		b.WriteByte(' ')
		b.WriteString(lastNames[r.intn(len(lastNames))])
	}
}

func synthURL(b *strings.Builder, r *rng, value string) {
	if strings.HasPrefix(strings.ToLower(value), "http://") {
		b.WriteString("http://")
	} else {
		b.WriteString("https://")
	}
	b.WriteString(exampleDomains[r.intn(len(exampleDomains))])
	b.WriteByte('/')
	b.WriteString(strings.ToLower(lastNames[r.intn(len(lastNames))]))
	b.WriteByte(r.digit())
	b.WriteByte(r.digit())
}

// Short hand-written lists of common given names, surnames and town
// names. They only need to look ordinary; they are not drawn from any
// fake-data library.
var (
	firstNames = [...]string{
		"Alex", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery",
		"Quinn", "Robin", "Sam", "Charlie", "Dana", "Emery", "Harper", "Kai",
		"Lee", "Noel", "Parker", "Reese", "Rowan", "Sasha", "Skyler", "Toni",
	}
	lastNames = [...]string{
		"Archer", "Bellamy", "Carver", "Dalton", "Ellison", "Fairfax", "Garner", "Hollis",
		"Ingram", "Jarvis", "Kendall", "Lawson", "Mercer", "Norwood", "Oakley", "Prescott",
		"Quill", "Rowe", "Sterling", "Thorne", "Upton", "Vance", "Whitlock", "Yardley",
	}
	towns = [...]string{
		"Springfield", "Riverton", "Fairview", "Greenville", "Franklin", "Clinton",
		"Madison", "Georgetown", "Salem", "Ashland", "Oakdale", "Milford",
	}
)

package detect

import "net/netip"

// Network identifiers: IP_ADDRESS (IPv4 and IPv6) and MAC_ADDRESS.
//
// Spans cover the address only. A CIDR prefix length ("/24"), a port
// (":8080"), the brackets of "[2001:db8::1]:443" and a URL around the
// address are left outside the span; an IPv6 zone ("%eth0") is inside it,
// since it names a host interface. Brackets, zones and embedded IPv4 count
// as evidence when scoring short compressed IPv6 forms.

// Scores for IP and MAC findings. Structural matches have fixed scores;
// the weak shapes need a context word, which adds ipWeakContextBoost (or
// macContextBoost).
const (
	scoreIPv4          = 0.8  // a valid dotted quad not inside a longer dotted number or version
	scoreIPv6Full      = 0.85 // eight groups, or six groups and an IPv4 tail
	scoreIPv6Strong    = 0.8  // compressed, with a 3-4 digit group, 3+ groups, IPv4 tail, zone or brackets
	scoreIPv6Weak      = 0.3  // "::", "a::b", "1::": also Haskell/C++/Rust text; needs context
	scoreIPv6Loopback  = 0.55 // "::1" (RFC 4291 section 2.5.3) after a space or a word break: logs print it bare
	ipWeakContextBoost = 0.4

	scoreMAC        = 0.8 // six hex pairs (or Cisco dotted triples) with at least one a-f letter
	scoreMACDigits  = 0.4 // the same shape, digits only or a group address: needs context
	macContextBoost = 0.35
)

// maxIPv6Text is the longest IPv6 text form without a zone:
// "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" (45 bytes).
const (
	maxIPv6Text = 45
	maxIPv6Zone = 16
)

var (
	// ipContext lifts the weak IPv6 shapes. Context words match at a word
	// start and may run on ("addr" matches "address", "ip" matches "ipv6"
	// and "src_ip"), so the list stays short: Scan.Context costs one
	// substring search per word.
	ipContext  = []string{"ip", "addr", "host", "server", "client", "src", "dst", "dest", "remote", "peer", "gateway", "listen", "bind", "inet", "dns", "proxy", "loopback", "localhost"}
	macContext = []string{"mac", "hwaddr", "ether", "bssid", "lladdr", "hardware", "physical address", "wifi", "device"}
)

// ipRecognizer finds IPv4 dotted quads (woken at digit word starts) and
// IPv6 addresses in every RFC 4291 section 2.2 text form (woken at ':').
type ipRecognizer struct{}

func (ipRecognizer) Name() string    { return "ip_address" }
func (ipRecognizer) Types() []string { return []string{"IP_ADDRESS"} }
func (ipRecognizer) Triggers() []Trigger {
	return []Trigger{{Kind: TriggerDigits}, {Kind: TriggerByte, Byte: ':'}}
}

func (r ipRecognizer) Find(s *Scan, at int) {
	if s.text[at] == ':' {
		r.findV6(s, at)
		return
	}
	r.findV4(s, at)
}

// parseIPv4 parses a dotted quad at t[i:] with the rules of
// netip.ParseAddr: four decimal octets 0-255, no leading zeros. It returns
// the end offset, or -1.
func parseIPv4(t string, i int) int {
	for part := 0; part < 4; part++ {
		j := i
		v := 0
		for j < len(t) && isDigit(t[j]) && j-i < 4 {
			v = v*10 + int(t[j]-'0')
			j++
		}
		n := j - i
		if n == 0 || n > 3 || v > 255 || (n > 1 && t[i] == '0') {
			return -1
		}
		if part == 3 {
			return j
		}
		if j >= len(t) || t[j] != '.' {
			return -1
		}
		i = j + 1
	}
	return -1
}

func (ipRecognizer) findV4(s *Scan, at int) {
	t := s.text
	// Cheap first check: one to three digits, then '.'.
	j := at + 1
	for j < len(t) && j-at < 4 && isDigit(t[j]) {
		j++
	}
	if j >= len(t) || t[j] != '.' {
		return
	}
	end := parseIPv4(t, at)
	if end < 0 {
		return
	}
	// Not a piece of a longer dotted number (1.2.3.4.5, OIDs, 10.0.0.1a).
	if at >= 2 && t[at-1] == '.' && isAlnum(t[at-2]) {
		return
	}
	if end < len(t) && (isWordByte(t[end]) || (t[end] == '.' && end+1 < len(t) && isAlnum(t[end+1]))) {
		return
	}
	if versionBefore(t, at) || outlineBefore(t, at) || insideIPv6(t, at, end) {
		return
	}
	addID(s, idHit{typ: "IP_ADDRESS", rec: "ip_address", cat: Network, start: at, end: end, base: scoreIPv4})
}

// insideIPv6 reports whether the dotted quad t[at:end] is the tail of an
// IPv6 address ("::ffff:192.0.2.1"), which findV6 reports whole.
func insideIPv6(t string, at, end int) bool {
	if at < 2 || t[at-1] != ':' || !(t[at-2] == ':' || isHex(t[at-2])) {
		return false
	}
	st := at - 1
	for st > 0 && end-st <= maxIPv6Text && (isHex(t[st-1]) || t[st-1] == ':') {
		st--
	}
	if end-st > maxIPv6Text || (st > 0 && isWordByte(t[st-1])) {
		return false
	}
	_, err := netip.ParseAddr(t[st:end])
	return err == nil
}

// versionBefore reports whether the dotted quad at i is a version: the
// word before it (across spaces and one ':' or '=') is "v", "ver" or
// "version", as in "version 1.2.3.4", or it follows a product token with a
// slash, as in the reduced User-Agent "Chrome/120.0.0.0".
func versionBefore(t string, i int) bool {
	if i >= 2 && t[i-1] == '/' && (isUpper(t[i-2]) || isLower(t[i-2])) {
		return true
	}
	j := i
	for k := 0; k < 3 && j > 0 && (t[j-1] == ' ' || t[j-1] == ':' || t[j-1] == '=' || t[j-1] == '.'); k++ {
		j--
	}
	e := j
	for j > 0 && e-j < 8 && isAlnum(t[j-1]) {
		j--
	}
	if j > 0 && isAlnum(t[j-1]) {
		return false
	}
	switch e - j {
	case 1:
		return lower[t[j]] == 'v'
	case 3:
		return lower[t[j]] == 'v' && lower[t[j+1]] == 'e' && lower[t[j+2]] == 'r'
	case 7:
		return hasPrefixAt(t, j, "version", true)
	}
	return false
}

// outlineBefore reports whether the dotted quad at i numbers a part of a
// document: the word before it is "section", "table", "figure", "clause",
// "chapter", "step" … ("see section 4.2.1.3", "Table 3.2.1.1", "§ 2.1.4.1").
func outlineBefore(t string, i int) bool {
	j := i
	for k := 0; k < 2 && j > 0 && (t[j-1] == ' ' || t[j-1] == '.'); k++ {
		j--
	}
	if j >= 2 && t[j-2] == 0xC2 && t[j-1] == 0xA7 { // §
		return true
	}
	e := j
	for j > 0 && e-j < 10 && isAlnum(t[j-1]) {
		j--
	}
	if e == j || e-j >= 10 || (j > 0 && isAlnum(t[j-1])) {
		return false
	}
	var buf [10]byte
	w := buf[:0]
	for k := j; k < e; k++ {
		w = append(w, lower[t[k]])
	}
	switch string(w) {
	case "section", "sections", "sec", "sect", "table", "tab", "figure", "fig", "clause", "chapter", "ch",
		"step", "paragraph", "para", "article", "art", "appendix", "item", "rule", "part", "annex", "exhibit":
		return true
	}
	return false
}

func isIPv6Char(c byte) bool { return isHex(c) || c == ':' || c == '.' }

// findV6 handles an IPv6 candidate at its first ':' only, so each address
// is reported once: later colons of the same run see a colon in the group
// before them and return.
func (ipRecognizer) findV6(s *Scan, at int) {
	t := s.text
	n := len(t)
	if at > 0 && t[at-1] == ':' {
		return // not the first colon of this run
	}
	// The group before the first colon: at most four hex digits.
	st := at
	for st > 0 && at-st < 5 && isHex(t[st-1]) {
		st--
	}
	if at-st > 4 {
		return
	}
	if st > 0 {
		switch c := t[st-1]; {
		case c == ':' || c == '.':
			return // a later colon, or "1.2.3.4:80"
		case isWordByte(c):
			if st < at || (at+1 < n && t[at+1] == ':') {
				return // tail of a longer word ("std::", "Foo::Bar", "deadbeef1:2")
			}
			st = at + 1 // "ip:2001:db8::1": drop the key's colon
		}
	}
	// Quick exit for the colons of prose and JSON (": ", "\":").
	if st == at && (at+1 >= n || !isIPv6Char(t[at+1])) {
		return
	}
	k := st
	for k < n && k-st <= maxIPv6Text+2 && isIPv6Char(t[k]) {
		k++
	}
	if k-st > maxIPv6Text+2 {
		return
	}
	end := k
	for end > st && t[end-1] == '.' {
		end--
	}
	if end-st >= 2 && t[end-1] == ':' && t[end-2] != ':' {
		end-- // "fe80::1: connection refused"
	}
	if end-st < 2 || end-st > maxIPv6Text {
		return
	}
	// Zone: "%eth0", only directly after the address.
	zend := end
	if end == k && k < n && t[k] == '%' {
		z := k + 1
		for z < n && z-k <= maxIPv6Zone && (isAlnum(t[z]) || t[z] == '_' || t[z] == '-' || t[z] == '.') {
			z++
		}
		if z-k > maxIPv6Zone {
			return
		}
		for z > k+1 && t[z-1] == '.' {
			z--
		}
		if z > k+1 {
			zend = z
			k = z
		}
	}
	if k < n && isWordByte(t[k]) {
		return // runs into a word: "::Bar", "HashMap::default"
	}
	cand := t[st:end]
	colons, groups, maxGroup, dots, double, allPairs := ipv6Shape(cand)
	if !double && colons != 7 && (colons != 6 || dots != 3) {
		return // times (12:30:45), MACs, ratios: not worth a parse
	}
	if _, err := netip.ParseAddr(t[st:zend]); err != nil {
		return
	}
	if !double && allPairs && dots == 0 {
		return // 01:23:45:67:89:ab:cd:ef is an EUI-64 / hardware address
	}
	bracketed := st > 0 && t[st-1] == '[' && zend < n && t[zend] == ']'
	base, boost := scoreIPv6Weak, ipWeakContextBoost
	switch {
	case !double:
		base, boost = scoreIPv6Full, 0
	case maxGroup >= 3 || groups >= 3 || dots > 0 || zend > end || bracketed || ipv6Prefix(t, zend):
		base, boost = scoreIPv6Strong, 0
	case cand == "::1":
		base = scoreIPv6Loopback
	}
	addID(s, idHit{typ: "IP_ADDRESS", rec: "ip_address", cat: Network, start: st, end: zend,
		base: base, boost: boost, words: ipContext})
}

// ipv6Prefix reports whether t[i:] is an IPv6 prefix length, "/0" to
// "/128" (RFC 4291 section 2.3, "::/0", "::1/128"), ending the word.
func ipv6Prefix(t string, i int) bool {
	if i+1 >= len(t) || t[i] != '/' {
		return false
	}
	j, v := i+1, 0
	for j < len(t) && j-i <= 3 && isDigit(t[j]) {
		v = v*10 + int(t[j]-'0')
		j++
	}
	if j == i+1 || j-i > 4 || v > 128 || (j-i > 2 && t[i+1] == '0') {
		return false
	}
	return j == len(t) || !isWordByte(t[j])
}

// ipv6Shape describes an IPv6 candidate: how many colons and non-empty
// hex groups it has, its longest group, its dots, whether it uses "::",
// and whether every hex group is exactly two digits long.
func ipv6Shape(c string) (colons, groups, maxGroup, dots int, double, allPairs bool) {
	allPairs = true
	g := 0
	end := func() {
		if g > 0 {
			groups++
			if g > maxGroup {
				maxGroup = g
			}
			if g != 2 {
				allPairs = false
			}
		}
		g = 0
	}
	for i := 0; i < len(c); i++ {
		switch c[i] {
		case ':':
			end()
			colons++
			if i > 0 && c[i-1] == ':' {
				double = true
			}
		case '.':
			dots++
			g = 0
		default:
			g++
		}
	}
	end()
	return
}

// macRecognizer finds IEEE 802 MAC-48 addresses written as six hex pairs
// separated by ':' or '-' (01:23:45:67:89:ab, 01-23-45-67-89-AB) or as
// three dotted groups of four (Cisco, 0123.4567.89ab). It wakes at the
// separators and works only at the first one of an address.
type macRecognizer struct{}

func (macRecognizer) Name() string    { return "mac_address" }
func (macRecognizer) Types() []string { return []string{"MAC_ADDRESS"} }
func (macRecognizer) Triggers() []Trigger {
	return []Trigger{{Kind: TriggerByte, Byte: ':'}, {Kind: TriggerByte, Byte: '-'}, {Kind: TriggerByte, Byte: '.'}}
}

func (macRecognizer) Find(s *Scan, at int) {
	t := s.text
	sep := t[at]
	glen, groups := 2, 6
	if sep == '.' {
		glen, groups = 4, 3
	}
	st := at - glen
	if st < 0 {
		return
	}
	for i := st; i < at; i++ {
		if !isHex(t[i]) {
			return
		}
	}
	if st > 0 {
		if c := t[st-1]; isWordByte(c) || c == ':' || c == '-' || c == '.' {
			return
		}
	}
	end := st + groups*glen + groups - 1
	if end > len(t) {
		return
	}
	letters, zero, ones := false, true, true
	for g := 0; g < groups; g++ {
		p := st + g*(glen+1)
		for i := p; i < p+glen; i++ {
			c := t[i]
			if !isHex(c) {
				return
			}
			letters = letters || !isDigit(c)
			zero = zero && c == '0'
			ones = ones && lower[c] == 'f'
		}
		if g < groups-1 && t[p+glen] != sep {
			return
		}
	}
	if end < len(t) {
		c := t[end]
		if isWordByte(c) || ((c == ':' || c == '-' || c == '.') && end+1 < len(t) && isHex(t[end+1])) {
			return
		}
	}
	if zero || ones {
		return // the null and broadcast addresses name no interface
	}
	h := idHit{typ: "MAC_ADDRESS", rec: "mac_address", cat: Network, start: st, end: end, base: scoreMAC}
	// The I/G bit (the least significant bit of the first octet, IEEE
	// 802-2014 clause 8.2) set makes a group address: a multicast
	// destination, not a device. The groups in use sit in 01-xx-xx
	// (IANA's 01-00-5E, IEEE 802.1's 01-80-C2, vendors' 01-00-0C, and the
	// 01:23:45:67:89:ab of every manual); a group address elsewhere is
	// more often a constructed value than a real one ("fd:ff:ff:…"), and
	// like a digits-only address it needs a context word.
	if !letters || (hexVal(t[st+1])&1 == 1 && (t[st] != '0' || t[st+1] != '1')) {
		h.base, h.boost, h.words = scoreMACDigits, macContextBoost, macContext
	}
	addID(s, h)
}

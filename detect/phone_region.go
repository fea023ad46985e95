package detect

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// PhoneConfig tunes phone-number detection (config key detect.phone).
type PhoneConfig struct {
	// DefaultRegions lists ISO 3166-1 alpha-2 region codes ("US", "GB",
	// "TR"; any case) whose national-format numbers, written without +CC and
	// without a phone word near them, are reported when libphonenumber
	// finds them valid for the region: "0532 123 45 67" with [TR],
	// "4155550132" with [US].
	//
	// Default none. North American numbers written the way they are
	// printed (555-123-4567, (555) 123-4567) are found by their shape
	// whatever this says, and other national numbers are found with a
	// phone word near them, when the document also holds an
	// international number of the same country ("+90 532 … , 0535 …"),
	// or when grouped exactly as their country prints them. A bare run
	// of 10 or 11 digits is valid somewhere in most numbering plans, so
	// a gateway that sees traffic from every country would read order
	// numbers and ids as phones; a deployment that knows where its users
	// live opts in.
	DefaultRegions []string `yaml:"default_regions"`
}

// phoneRegionCodes validates cfg.DefaultRegions and returns their
// country calling codes, without repeats.
func phoneRegionCodes(cfg PhoneConfig) ([]int, error) {
	var ccs []int
	for i, r := range cfg.DefaultRegions {
		cc := 0
		if u := strings.ToUpper(r); len(u) == 2 && isUpper(u[0]) && isUpper(u[1]) {
			cc = phonenumbers.GetCountryCodeForRegion(u)
		}
		if cc == 0 {
			return nil, fmt.Errorf("detect: phone.default_regions[%d]: %q is not an ISO 3166-1 alpha-2 region code with a numbering plan (e.g. \"GB\")", i, r)
		}
		if !slices.Contains(ccs, cc) {
			ccs = append(ccs, cc)
		}
	}
	return ccs, nil
}

// Scores of national-format numbers read in a region that configuration
// or the document names.
const (
	phoneDocRegion     = 0.75 // the document holds +CC of the same country
	phoneDefaultRegion = 0.7  // detect.phone.default_regions
	phoneRegionContext = 0.2  // a phone word near it as well
)

// regionPhone reads the first k groups of r as a national number of a
// configured default region or of the country whose +CC the document
// carries near it, and adds it when it is valid there. It reports
// whether it added a finding.
func (nr *numberRecognizer) regionPhone(s *Scan, r *numRun, k, start, e int) bool {
	n := r.ndigits(k)
	if n < 6 || n > 13 || groupBefore(s.text, start) {
		return false
	}
	for i := 0; i < k; i++ {
		if r.glen[i] < 2 && !(i == 0 && r.digits[0] == '0') {
			return false // "0 532 123 45 67" is the only one-digit group
		}
	}
	digits := r.digits[:n]
	try := func(cc int) bool {
		nsn := digits
		if digits[0] == '0' && cc != 39 {
			nsn = digits[1:]
		}
		d := phoneDigits{cc: cc, nsn: nsn}
		for _, c := range d.nsn {
			if c != '0' {
				break
			}
			d.zeros++
		}
		return len(nsn) >= 4 && nr.phones.possible(d) && d.valid()
	}
	score := 0.0
	if s.e != nil {
		for _, cc := range s.e.phoneCCs {
			if try(cc) {
				score = phoneDefaultRegion
				break
			}
		}
	}
	if score == 0 && digits[0] == '0' {
		// Written the way it is dialled inside its country, with the
		// trunk 0: the country of a +CC number beside it.
		if cc := docCountryCode(s.text, start, e); cc > 0 && try(cc) {
			score = phoneDocRegion
		}
	}
	if score == 0 {
		return false
	}
	ctx := s.Context(start, e, phoneContext)
	if ctx != "" {
		score += phoneRegionContext
	}
	nr.addPhone(s, start, e, score, ctx)
	return true
}

// docWindow bounds how far from a national number docCountryCode looks
// for an international one.
const docWindow = 200

// docCountryCode returns the country calling code of the nearest
// international number ("+90 532 123 45 67", "+639171234567") within
// docWindow bytes of [start, end), or 0. A '+' counts only before a
// country code and at least seven more digits.
func docCountryCode(t string, start, end int) int {
	lo, hi := max(0, start-docWindow), min(len(t), end+docWindow)
	best, bestDist := 0, len(t)+1
	for i := lo; i < hi; i++ {
		p := strings.IndexByte(t[i:hi], '+')
		if p < 0 {
			break
		}
		i += p
		if i+1 >= len(t) || !isDigit(t[i+1]) || (i > 0 && isAlnum(t[i-1])) {
			continue
		}
		if i >= start && i < end {
			continue
		}
		cc := intlCountryCode(t, i+1)
		if cc == 0 {
			continue
		}
		dist := start - i
		if i >= end {
			dist = i - end
		}
		if dist < bestDist {
			best, bestDist = cc, dist
		}
	}
	return best
}

// intlCountryCode reads a country calling code at i and counts the digits
// after it (separated by spaces, dashes, dots or brackets); it returns the
// code when at least seven follow, else 0.
func intlCountryCode(t string, i int) int {
	cc := 0
	j := i
	for l := 1; l <= 3 && j < len(t) && isDigit(t[j]); l++ {
		cc = cc*10 + int(t[j]-'0')
		j++
		if phonenumbers.GetRegionCodeForCountryCode(cc) != "ZZ" {
			break
		}
		if l == 3 {
			return 0
		}
	}
	if phonenumbers.GetRegionCodeForCountryCode(cc) == "ZZ" {
		return 0
	}
	n := 0
	for ; j < len(t) && j-i < 24; j++ {
		c := t[j]
		switch {
		case isDigit(c):
			n++
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			j = len(t)
		}
	}
	if n < 7 {
		return 0
	}
	return cc
}

package detect

import (
	"strings"

	"github.com/wardenhq/warden/detect/internal/lexicon"
)

// addressRecognizer finds street addresses: "1234 Elm Street, Apt 5,
// Springfield, IL 62704", "42 Main St", "10 Downing Street, London SW1A
// 2AA". It wakes at street-type words (Street, St, Avenue, Rd ...), reads
// back over the street name to a house number, and forward over an
// optional unit, city, state and postal code. Without a house number
// nothing is reported.
type addressRecognizer struct{ lex *lexicon.Table }

func (a *addressRecognizer) Name() string    { return "address" }
func (a *addressRecognizer) Types() []string { return []string{"LOCATION"} }

// streetWords are the street-type words the recognizer wakes at, spelt
// as they are written in addresses.
var streetWords = []string{
	"Street", "St", "Avenue", "Ave", "Av", "Road", "Rd", "Boulevard", "Blvd", "Lane", "Ln",
	"Drive", "Dr", "Court", "Ct", "Way", "Place", "Pl", "Terrace", "Ter", "Circle", "Cir",
	"Parkway", "Pkwy", "Highway", "Hwy", "Square", "Sq", "Trail", "Trl", "Plaza", "Alley",
	"Crescent", "Close", "Row", "Walk", "Pike", "Loop", "Ridge", "Grove", "Gardens", "Mews",
	"Hill", "Park", "Path", "Run", "Pass", "Point",
}

func (a *addressRecognizer) Triggers() []Trigger {
	ts := make([]Trigger, 0, 2*len(streetWords))
	for _, w := range streetWords {
		ts = append(ts, Trigger{Kind: TriggerPrefix, Prefix: w}, Trigger{Kind: TriggerPrefix, Prefix: strings.ToUpper(w)})
	}
	return ts
}

// Address limits and scores.
const (
	maxStreetNameWords = 4
	addressBase        = 0.7  // number + name + street word
	addressTail        = 0.15 // + city, state or postal code
)

func (a *addressRecognizer) Find(s *Scan, at int) {
	text := s.text
	t, ok := scanNameTok(a.lex, text, at)
	if !ok || t.cls&lexicon.Street == 0 || (t.shape != tokCap && t.shape != tokUpper) {
		return
	}
	end := t.end
	// Back over the street name: capitalised words, ordinals (5th), or
	// directions (N, NW), to a house number.
	i := at
	names := 0
	start := -1
	for w := 0; w <= maxStreetNameWords; w++ {
		if i < 2 || text[i-1] != ' ' {
			return
		}
		j := i - 1
		if text[j-1] == '.' { // "N. Main St"
			j--
		}
		st := j
		for st > 0 && isAlnum(text[st-1]) {
			st--
		}
		if st == j {
			return
		}
		word := text[st:j]
		if st > 0 && (isAlnum(text[st-1]) || text[st-1] >= 0x80) {
			return
		}
		if isDigit(word[0]) {
			if houseNumber(word) && names > 0 {
				if st > 0 && !isSpace(text[st-1]) && !isAddrPunct(text[st-1]) {
					return
				}
				start = st
				break
			}
			if !ordinal(word) {
				return
			}
			names++
			i = st
			continue
		}
		if !isUpper(word[0]) {
			return
		}
		names++
		i = st
	}
	if start < 0 {
		return
	}
	score := addressBase
	end = directionAfter(text, end)
	start = unitBefore(text, start)
	end, tail := a.tail(text, end)
	if tail {
		score += addressTail
	}
	s.Add(Finding{Type: "LOCATION", Category: PII, Start: start, End: end, Score: score, Recognizer: "address"})
}

func isAddrPunct(c byte) bool {
	switch c {
	case '"', '\'', '(', '[', ':', ',', '>', '=', '\n':
		return true
	}
	return false
}

// houseNumber accepts 1-6 digits with an optional letter ("12B") or a
// range ("12-14").
func houseNumber(w string) bool {
	n := 0
	for n < len(w) && isDigit(w[n]) {
		n++
	}
	if n == 0 || n > 6 || w[0] == '0' {
		return false
	}
	rest := w[n:]
	return rest == "" || len(rest) == 1 && (isUpper(rest[0]) || isLower(rest[0]))
}

// ordinal accepts 1st, 2nd, 3rd, 42nd, 5th.
func ordinal(w string) bool {
	n := 0
	for n < len(w) && isDigit(w[n]) {
		n++
	}
	if n == 0 || n > 3 || len(w)-n != 2 {
		return false
	}
	switch w[n:] {
	case "st", "nd", "rd", "th":
		return true
	}
	return false
}

// Kinds of address parts that tailPart reads, as bits of a partSet.
const (
	partUnit   = 1 << iota // Apt 5, Suite 300, Unit 2
	partPlace              // a city, a state, a country
	partPostal             // a part with a postal code
)

type partSet int

// tail reads the parts after a street: ", Apt 5", ", Springfield", ", IL
// 62704", " SW1A 2AA", ", 10115 Berlin", and on the lines after it a unit
// or a line with a postal code ("123 Main St\nSpringfield, IL 62704"),
// then a country line. It returns the new end and whether a city, state
// or postal code was found.
func (a *addressRecognizer) tail(text string, end int) (int, bool) {
	end, kinds := a.tailLine(text, end, false)
	for line := 0; line < 3; line++ {
		j := end
		if j < len(text) && text[j] == ',' {
			j++
		}
		k := addrLineBreak(text, j)
		if k == j {
			break
		}
		for n := 0; n < 8 && k < len(text) && (text[k] == ' ' || text[k] == '\t'); n++ {
			k++
		}
		e, next := a.tailLine(text, k, true)
		switch {
		case next&partPostal != 0, next == partUnit:
		case next == partPlace && kinds&partPostal != 0 && lineEnds(text, e):
			// The country after the postcode line.
		case next == partPlace && lineEnds(text, e) && a.postalLineAfter(text, e):
			// "London" on its own line, the postcode on the next.
		default:
			return end, kinds&(partPlace|partPostal) != 0
		}
		end, kinds = e, kinds|next
	}
	return end, kinds&(partPlace|partPostal) != 0
}

// postalLineAfter reports whether the line after e starts with a postal
// code part.
func (a *addressRecognizer) postalLineAfter(text string, e int) bool {
	k := addrLineBreak(text, e)
	if k == e {
		return false
	}
	for n := 0; n < 8 && k < len(text) && (text[k] == ' ' || text[k] == '\t'); n++ {
		k++
	}
	_, kinds := a.tailLine(text, k, true)
	return kinds&partPostal != 0
}

// tailLine reads up to four address parts from end on one line, each
// after ", ", " - " or " " (at end itself when atStart).
func (a *addressRecognizer) tailLine(text string, end int, atStart bool) (int, partSet) {
	var kinds partSet
	for part := 0; part < 4; part++ {
		j := end
		if !atStart || part > 0 {
			if part == 0 && j+1 < len(text) && text[j] == '.' && (text[j+1] == ',' || text[j+1] == ' ') {
				j++
			}
			if j < len(text) && text[j] == ',' {
				j++
			}
			if j < len(text) && text[j] == ' ' {
				j++
			}
			if j+1 < len(text) && text[j] == '-' && text[j+1] == ' ' && text[j-1] == ' ' {
				j += 2 // "São Paulo - SP"
			}
			if j == end {
				break
			}
		}
		if j >= len(text) {
			break
		}
		e, kind := a.tailPart(text, j)
		if kind == 0 {
			break
		}
		end = e
		kinds |= kind
	}
	return end, kinds
}

// addrLineBreak returns the offset after a line break at i ("\n", "\r\n", or
// the two characters \n of an escaped one inside a JSON string or a log
// line), or i when there is none.
func addrLineBreak(text string, i int) int {
	switch {
	case i < len(text) && text[i] == '\n':
		return i + 1
	case i+1 < len(text) && text[i] == '\r' && text[i+1] == '\n':
		return i + 2
	case i+1 < len(text) && text[i] == '\\' && text[i+1] == 'n':
		return i + 2
	}
	return i
}

// lineEnds reports whether a line ends at e.
func lineEnds(text string, e int) bool {
	return e >= len(text) || text[e] == '\n' || text[e] == '\r' || addrLineBreak(text, e) > e
}

// tailPart reads one address part at j: a unit, a city, state or country,
// or a postal code with or without a city beside it ("10115 Berlin",
// "Mumbai 400001", "ON M5V 3L9").
func (a *addressRecognizer) tailPart(text string, j int) (int, partSet) {
	t, ok := scanNameTok(a.lex, text, j)
	if !ok {
		e := postcodeAt(text, j)
		if e == 0 {
			return 0, 0
		}
		if e+1 < len(text) && text[e] == ' ' {
			if u, ok := scanNameTok(a.lex, text, e+1); ok && u.shape == tokCap {
				e = a.city(text, u)
			}
		}
		return e, partPostal
	}
	w := text[t.start:t.end]
	switch w {
	case "Apt", "Apartment", "Suite", "Ste", "Unit", "Floor", "Fl", "Room", "Rm", "Bldg", "Flat", "APT", "STE", "UNIT":
		k := t.spanEnd()
		if k < len(text) && text[k] == ' ' {
			k++
		}
		if k < len(text) && text[k] == '#' {
			k++
		}
		e := k
		for e < len(text) && e-k < 6 && isAlnum(text[e]) {
			e++
		}
		if e == k {
			return 0, 0
		}
		return e, partUnit
	}
	if e := postcodeAt(text, j); e > 0 {
		return e, partPostal // SW1A 2AA, K1A 0B1, D02 X285
	}
	if n := t.end - t.start; t.shape == tokUpper && (n == 2 || n == 3) && !wordAfter(text, t.end) {
		// A state or province code, and its postal code: "IL 62704",
		// "NSW 2000", "ON M5V 3L9".
		e := t.end
		if e+1 < len(text) && text[e] == ' ' {
			if p := postcodeAt(text, e+1); p > 0 {
				return p, partPostal
			}
		}
		if n == 2 {
			return e, partPlace
		}
	}
	if t.shape == tokUpper && t.cls&lexicon.Place != 0 {
		return t.end, partPlace // USA, UK
	}
	if t.shape == tokCap && t.cls&lexicon.Month == 0 {
		e := a.city(text, t)
		if e+1 < len(text) && text[e] == ' ' && isDigit(text[e+1]) {
			if p := postcodeAt(text, e+1); p > 0 {
				return p, partPostal // "Mumbai 400001", "Beijing 100000"
			}
		}
		return e, partPlace
	}
	return 0, 0
}

// city reads up to three capitalised words from t, with the particles of
// place names between them ("Rio de Janeiro", "Frankfurt am Main"),
// stopping before a postal code.
func (a *addressRecognizer) city(text string, t nameTok) int {
	e := t.end
	for w := 1; w < 4 && e+1 < len(text) && text[e] == ' '; w++ {
		j := e + 1
		if p := cityParticle(text, j); p > 0 && p+1 < len(text) && text[p] == ' ' && nameUpperAt(text, p+1) {
			j = p + 1
		}
		if !nameUpperAt(text, j) {
			break
		}
		u, ok := scanNameTok(a.lex, text, j)
		if !ok || u.shape != tokCap {
			break
		}
		if postcodeAt(text, j) > 0 {
			break
		}
		e = u.end
	}
	return e
}

// cityParticle returns the end of a lower-case particle of a place name
// at i ("de", "del", "am", "upon", "sur"), or 0.
func cityParticle(text string, i int) int {
	e := i
	for e < len(text) && isLower(text[e]) && e-i < 5 {
		e++
	}
	switch text[i:e] {
	case "de", "del", "da", "do", "dos", "das", "di", "la", "el", "am", "an", "im", "upon", "on", "sur", "en":
		return e
	}
	return 0
}

// ukPostcode matches a UK postcode at i (SW1A 2AA, M1 1AE, B33 8TH,
// EC1A 1BB) and returns its end, or 0.
func ukPostcode(text string, i int) int {
	// Outward code: A9, A99, AA9, AA99, A9A, AA9A.
	j := i
	letters := 0
	for j < len(text) && isUpper(text[j]) && letters < 2 {
		j++
		letters++
	}
	if letters == 0 || j >= len(text) || !isDigit(text[j]) {
		return 0
	}
	j++
	if j < len(text) && (isDigit(text[j]) || isUpper(text[j])) {
		j++
	}
	if j >= len(text) || text[j] != ' ' {
		return 0
	}
	j++
	// Inward code: 9AA.
	if j+3 > len(text) || !isDigit(text[j]) || !isUpper(text[j+1]) || !isUpper(text[j+2]) {
		return 0
	}
	j += 3
	if wordAfter(text, j) {
		return 0
	}
	return j
}

// directionAfter extends a street over a compass direction after its
// type: "100 Queen St W", "1600 Pennsylvania Ave NW".
func directionAfter(text string, end int) int {
	j := end
	if j < len(text) && text[j] == '.' {
		j++
	}
	if j+1 >= len(text) || text[j] != ' ' {
		return end
	}
	k := j + 1
	for k < len(text) && k-j <= 2 && (text[k] == 'N' || text[k] == 'S' || text[k] == 'E' || text[k] == 'W') {
		k++
	}
	if k == j+1 || k-j > 3 || k < len(text) && (isAlnum(text[k]) || text[k] >= 0x80) {
		return end
	}
	return k
}

// unitBefore extends an address start over a unit written before the
// house number: "Flat 3, 12 High Street", "Apt 4B, 77 Elm St".
func unitBefore(text string, start int) int {
	j := start
	if j < 3 || text[j-1] != ' ' || text[j-2] != ',' {
		return start
	}
	j -= 2
	k := j
	for k > 0 && j-k < 5 && isAlnum(text[k-1]) {
		k--
	}
	if k == j || k < 2 || text[k-1] != ' ' {
		return start
	}
	if text[k-2] == '#' {
		k--
	}
	w := k - 1
	ws := w
	for ws > 0 && w-ws < 9 && (isUpper(text[ws-1]) || isLower(text[ws-1])) {
		ws--
	}
	switch text[ws:w] {
	case "Flat", "Apt", "Apartment", "Unit", "Suite", "Ste", "FLAT", "APT", "UNIT":
		if ws == 0 || !isAlnum(text[ws-1]) {
			return ws
		}
	}
	return start
}

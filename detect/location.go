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

// tail reads ", Apt 5", ", Springfield", ", IL 62704", " SW1A 2AA" after a
// street and returns the new end and whether a city, state or postal code
// was found.
func (a *addressRecognizer) tail(text string, end int) (int, bool) {
	found := false
	for part := 0; part < 4; part++ {
		j := end
		if part == 0 && j+1 < len(text) && text[j] == '.' && (text[j+1] == ',' || text[j+1] == ' ') {
			j++
		}
		if j < len(text) && text[j] == ',' {
			j++
		}
		if j < len(text) && text[j] == ' ' {
			j++
		}
		if j == end || j >= len(text) {
			break
		}
		e, kind := a.tailPart(text, j)
		if kind == 0 {
			break
		}
		end = e
		if kind == 2 {
			found = true
		}
	}
	return end, found
}

// tailPart reads one address part at j: a unit (kind 1), or a city,
// state or postal code (kind 2).
func (a *addressRecognizer) tailPart(text string, j int) (int, int) {
	t, ok := scanNameTok(a.lex, text, j)
	if ok {
		w := text[t.start:t.end]
		switch w {
		case "Apt", "Apartment", "Suite", "Ste", "Unit", "Floor", "Fl", "Room", "Rm", "Bldg", "APT", "STE", "UNIT":
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
			return e, 1
		}
		if t.shape == tokUpper && t.end-t.start == 2 && !wordAfter(text, t.end) {
			// State code, optionally followed by a ZIP.
			e := t.end
			if e+6 <= len(text) && text[e] == ' ' && digitsAt(text, e+1, 5) {
				e += 6
				if e+5 <= len(text) && text[e] == '-' && digitsAt(text, e+1, 4) {
					e += 5
				}
			}
			return e, 2
		}
		if e := ukPostcode(text, j); e > 0 {
			return e, 2
		}
		if t.shape == tokCap && t.cls&lexicon.Month == 0 {
			// City: up to three capitalised words.
			e := t.end
			for w := 1; w < 3 && e+1 < len(text) && text[e] == ' ' && isUpper(text[e+1]); w++ {
				u, ok := scanNameTok(a.lex, text, e+1)
				if !ok || u.shape != tokCap {
					break
				}
				if ukPostcode(text, e+1) > 0 {
					break
				}
				e = u.end
			}
			return e, 2
		}
		return 0, 0
	}
	if digitsAt(text, j, 5) && !wordAfter(text, j+5) {
		return j + 5, 2
	}
	if e := ukPostcode(text, j); e > 0 {
		return e, 2
	}
	return 0, 0
}

func digitsAt(text string, i, n int) bool {
	if i+n > len(text) {
		return false
	}
	for k := i; k < i+n; k++ {
		if !isDigit(text[k]) {
			return false
		}
	}
	return i+n == len(text) || !isDigit(text[i+n])
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

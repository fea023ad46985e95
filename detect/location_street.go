package detect

import (
	"slices"
	"strings"

	"github.com/wardenhq/warden/detect/internal/lexicon"
)

// streetNumberRecognizer finds street addresses written the way most of
// continental Europe, Latin America and Asia write them, with the house
// number after the street name: "Hauptstraße 5, 10115 Berlin",
// "Kalverstraat 92", "Calle Mayor 12", "Via Roma 10, 00184 Roma", "ul.
// Marszałkowska 10", "Avenida Paulista, 1578"; and the French order, the
// number before a street type and its name: "14 rue de Rivoli, 75001
// Paris". It wakes at digits (the house number) and looks at the words
// on either side; addressRecognizer reads the tail (postcode, city).
type streetNumberRecognizer struct {
	lex  *lexicon.Table
	addr *addressRecognizer
}

func (r *streetNumberRecognizer) Name() string        { return "address-intl" }
func (r *streetNumberRecognizer) Types() []string     { return []string{"LOCATION"} }
func (r *streetNumberRecognizer) Triggers() []Trigger { return []Trigger{{Kind: TriggerDigits}} }

// Scores: a street type and a name are as strong as a house number
// before an English street; the postcode and city add as much.
const (
	streetIntlBase = 0.75
	maxIntlWords   = 4
)

func (r *streetNumberRecognizer) Find(s *Scan, at int) {
	text := s.text
	// Most digit runs are no house number: rule them out from the bytes
	// around them before any word is read.
	if text[at] == '0' {
		return
	}
	before := at >= 2 && text[at-1] == ' ' && (isLower(text[at-2]) || isUpper(text[at-2]) || text[at-2] >= 0x80 ||
		text[at-2] == '.' || text[at-2] == ',' || text[at-2] == ':')
	// The digit run is parsed once for every recognizer woken at digits.
	run := s.Run(at)
	if run.glen[0] > 4 {
		return
	}
	if e0 := run.gend[0]; !before && !(e0+2 < len(text) && (text[e0] == ' ' || text[e0] == ',' || isLetter(text[e0]))) {
		return
	}
	e := houseNumberEnd(text, at)
	if e == 0 {
		return
	}
	after := e+2 < len(text) && (text[e] == ' ' && isLetter(text[e+1]) || text[e] == ',' && text[e+1] == ' ' && isLetter(text[e+2]))
	if !before && !after {
		return
	}
	start, typed := -1, false
	if before {
		start, typed = r.streetBefore(text, at)
	}
	end := e
	needTail := false
	if start < 0 && !after {
		return
	}
	if start < 0 {
		// French order: "14 rue de Rivoli", "5, avenue Foch".
		end, needTail = r.streetAfter(text, e)
		if end == 0 {
			return
		}
		start = at
	} else if !numberEndsAddress(text, e) && !(typed && connectorAfter(text, e)) {
		return // "Via Zoom 2 hours"
	}
	score := streetIntlBase
	end, tail := r.addr.tail(text, end)
	if needTail && !tail {
		return
	}
	if tail {
		score += addressTail
	}
	s.Add(Finding{Type: "LOCATION", Category: PII, Start: start, End: end, Score: score, Recognizer: "address"})
}

// houseNumberEnd reads a house number at i: 1-4 digits, not starting with
// 0, with an optional letter ("12a", "12 B" is not read) or a second
// number ("12-14", "12/3"). It returns its end, or 0.
func houseNumberEnd(text string, i int) int {
	n := postDigits(text, i)
	if n == 0 || n > 4 || text[i] == '0' {
		return 0
	}
	e := i + n
	if e < len(text) && (isLower(text[e]) || isUpper(text[e])) && (e+1 == len(text) || !isAlnum(text[e+1])) {
		e++
	} else if e+1 < len(text) && (text[e] == '-' || text[e] == '/') && isDigit(text[e+1]) {
		if m := postDigits(text, e+1); m <= 4 {
			e += 1 + m
		}
	}
	if e < len(text) && (isAlnum(text[e]) || text[e] >= 0x80 || text[e] == '/' || text[e] == '-' || text[e] == ':' ||
		text[e] == '.' && e+1 < len(text) && isDigit(text[e+1])) {
		return 0 // a date, a time, a version, an id
	}
	return e
}

// isLetter reports an ASCII letter or the lead byte of a multi-byte rune.
func isLetter(c byte) bool { return isLower(c) || isUpper(c) || c >= 0xC0 }

// numberEndsAddress reports whether a house number at the end of a street
// ends the street part too: a line or text end, punctuation, or a postal
// code or a capitalised word after a space.
func numberEndsAddress(text string, e int) bool {
	if e >= len(text) {
		return true
	}
	switch text[e] {
	case ',', '\n', '\r', ';', ')', '.', '"', '\'', '|', '\\':
		return true
	case ' ':
		if e+3 < len(text) && text[e+1] == '-' && text[e+2] == ' ' {
			e += 2 // "Avenida Paulista, 1578 - Bela Vista"
		}
		return e+1 < len(text) && (isDigit(text[e+1]) || nameUpperAt(text, e+1))
	}
	return false
}

// compoundStreets are the endings of street names written as one word
// (German, Dutch, Scandinavian, Finnish, Hungarian), folded.
var compoundStreets = []string{
	"strasse", "weg", "gasse", "platz", "allee", "damm", "ufer", "chaussee", "steig", "pfad", "markt",
	"straat", "laan", "gracht", "plein", "kade", "singel", "dijk", "steeg",
	"vej", "gade", "gatan", "gata", "vagen", "veien", "vegen", "katu", "kuja", "tie", "utca",
}

// separateStreets are street types written as a capitalised word of their
// own after the name, before the number, folded: "Kärntner Straße 12",
// "Alte Allee 3" ("Hauptstraße" is a compound).
var separateStreets = []string{"strasse", "allee", "platz", "gasse", "weg", "damm", "ufer"}

// lowerStreets are street types written in lower case after the name:
// Scandinavian ones after a genitive ("Karl Johans gate 22", "Kongens
// gate"), Hungarian "utca" after any name ("Váci utca 12").
var lowerStreets = []string{"gate", "gata", "gatan", "vei", "veien", "vej", "gade", "vagen", "utca"}

// prefixStreets are the street types written before the street name,
// folded: Spanish, Portuguese, Italian, French, Catalan, Polish,
// Romanian, Indonesian and Malay, Russian (romanised).
var prefixStreets = []string{
	"calle", "avenida", "avda", "paseo", "plaza", "carrera", "camino", "carretera", "ronda", "rambla",
	"rua", "praca", "travessa", "alameda", "largo", "estrada",
	"via", "viale", "piazza", "piazzale", "corso", "vicolo", "strada",
	"rue", "boulevard", "avenue", "chemin", "quai", "place", "allee", "impasse", "cours",
	"carrer", "passeig", "avinguda",
	"ulica", "ul", "aleja", "aleje", "plac", "calea", "bulevardul", "soseaua",
	"jalan", "jl", "ulitsa", "prospekt", "straße", "strasse", "av", "cl", "caddesi", "cad", "sokak", "sok",
}

// streetBefore reads back from a house number at at over a street name to
// its street type and returns the address start, or -1; typed reports a
// street type inside the word before the number or as that word
// ("Hauptstraße 5", "Kärntner Straße 12"), not before the name.
func (r *streetNumberRecognizer) streetBefore(text string, at int) (start int, typed bool) {
	j := at - 1 // the space
	if j > 0 && text[j-1] == ',' {
		j--
	}
	j = numberWordBack(text, j)
	// The word before the number.
	we := j
	dot := we > 0 && text[we-1] == '.'
	if dot {
		we--
	}
	ws := wordStartBack(text, we)
	if ws == we {
		return -1, false
	}
	if !dot && isLower(text[ws]) && (we-ws < 3 || we-ws > 5) {
		return -1, false // "port 8080", "took 41 ms": no lower-case type is that long
	}
	var buf [lexicon.MaxWord]byte
	w, ok := lexicon.Fold(buf[:0], text[ws:we])
	if !ok {
		return -1, false
	}
	fw := string(w)
	if !dot {
		if st := r.separateBefore(text, ws, fw); st >= 0 {
			return st, true
		}
	}
	if !nameUpperAt(text, ws) && !dot {
		return r.prefixChain(text, j), false
	}
	if dot {
		// "Hauptstr. 5"
		if len(fw) > 5 && strings.HasSuffix(fw, "str") && nameUpperAt(text, ws) && boundaryBefore(text, ws) {
			return ws, true
		}
		return -1, false
	}
	if nameUpperAt(text, ws) && boundaryBefore(text, ws) {
		part := fw
		if h := strings.LastIndexByte(fw, '-'); h >= 0 {
			part = fw[h+1:] // "Karl-Marx-Straße"
		}
		for _, suf := range compoundStreets {
			if strings.HasSuffix(part, suf) && (len(part) > len(suf)+2 || hyphenated(fw) && len(part) == len(suf)) {
				if r.lex.Lookup(text[ws:we])&(lexicon.Word|lexicon.Stop) != 0 {
					break // "Brigade 5"
				}
				return ws, true
			}
		}
	}
	return r.prefixChain(text, j), false
}

// hyphenated reports a hyphenated word.
func hyphenated(w string) bool { return strings.IndexByte(w, '-') > 0 }

// prefixChain reads back from j (just after the street name) over up to
// maxIntlWords capitalised words and particles to a street type and
// returns its start, or -1: "Calle Mayor", "Via Giuseppe Verdi", "Rua
// Augusta", "ul. Marszałkowska", "Avenida de la Constitución".
func (r *streetNumberRecognizer) prefixChain(text string, j int) int {
	names := 0
	allWords := true
	for w := 0; w <= maxIntlWords; w++ {
		if j < 2 {
			return -1
		}
		we := j
		dot := text[we-1] == '.'
		if dot {
			we--
		}
		ws := wordStartBack(text, we)
		if ws == we || ws == 0 && names == 0 {
			return -1
		}
		var buf [lexicon.MaxWord]byte
		fw, ok := lexicon.Fold(buf[:0], text[ws:we])
		if !ok {
			return -1
		}
		if names > 0 && isPrefixStreet(string(fw)) && (nameUpperAt(text, ws) || dot || string(fw) == "rue" || string(fw) == "ul") && boundaryBefore(text, ws) {
			if string(fw) == "via" && allWords {
				return -1 // "Via Email 3": English "via"
			}
			return ws
		}
		if dot {
			return -1
		}
		switch {
		case nameUpperAt(text, ws):
			if r.lex.Lookup(text[ws:we])&lexicon.Word == 0 {
				allWords = false
			}
			names++
		case names > 0 && isStreetParticle(string(fw)):
		default:
			return -1
		}
		if ws < 1 || text[ws-1] != ' ' {
			return -1
		}
		j = ws - 1
	}
	return -1
}

func isPrefixStreet(w string) bool {
	if len(w) < 2 || len(w) > 10 {
		return false
	}
	for _, p := range prefixStreets {
		if w == p {
			return true
		}
	}
	return false
}

// isNumberFirstStreet reports the street types written after the house
// number (French, Belgian and Swiss French; English "Avenue"): "14 rue de
// Rivoli", "5 avenue Foch", "12 boulevard Haussmann".
func isNumberFirstStreet(w string) bool {
	switch w {
	case "rue", "avenue", "boulevard", "bd", "bld", "chemin", "quai", "place", "allee", "impasse", "cours", "route", "square", "passage", "faubourg":
		return true
	}
	return false
}

// isStreetParticle reports the lower-case words inside street names: "de
// la", "del", "dos", "di", "des", "du".
func isStreetParticle(w string) bool {
	switch w {
	case "de", "del", "la", "las", "los", "el", "da", "das", "do", "dos", "di", "della", "delle", "dei", "degli", "des", "du", "le", "les", "y", "e", "i", "von", "van", "der", "den":
		return true
	}
	return false
}

// streetAfter reads ", rue de Rivoli" after a house number ending at e:
// a street type in prefixStreets (any case) and at least one capitalised
// name word, with particles between. It returns the end of the name, or 0,
// and whether the address needs a tail to count.
func (r *streetNumberRecognizer) streetAfter(text string, e int) (int, bool) {
	j := e
	if j < len(text) && text[j] == ',' {
		j++
	}
	if j+4 >= len(text) || text[j] != ' ' {
		return 0, false
	}
	j++
	// The first two letters of isNumberFirstStreet's words rule out
	// "3 items", "2 of", "5 years" before any word is read.
	switch string([]byte{lower[text[j]], lower[text[j+1]]}) {
	case "ru", "av", "bo", "bd", "bl", "ch", "qu", "pl", "al", "im", "co", "ro", "sq", "pa", "fa":
	default:
		return 0, false
	}
	t, ok := scanNameTok(nil, text, j)
	if !ok || t.shape != tokLower && t.shape != tokCap || t.end-t.start > 9 {
		return 0, false
	}
	var buf [lexicon.MaxWord]byte
	fw, ok := lexicon.Fold(buf[:0], text[t.start:t.end])
	if !ok || !isNumberFirstStreet(string(fw)) || string(fw) == "place" && t.shape == tokLower {
		return 0, false
	}
	end := 0
	particle := false
	k := t.spanEnd()
	for w := 0; w < maxIntlWords+2 && k+1 < len(text) && text[k] == ' '; w++ {
		u, ok := scanNameTok(nil, text, k+1)
		if !ok {
			break
		}
		word := text[u.start:u.end]
		if u.shape == tokCap {
			end = u.end
		} else if u.shape != tokLower || !isStreetParticle(word) && !elided(word) {
			break
		} else if end == 0 {
			particle = true
		}
		k = u.end
	}
	if end == 0 || end < len(text) && isAlnum(text[end]) {
		return 0, false
	}
	// "14 rue Oberkampf", "14 Rue de Rivoli", but "Chapter 5 Place
	// Holders": a capitalised type straight before a capitalised word
	// needs the postcode or city after it.
	return end, t.shape == tokCap && !particle
}

// elided reports French elided articles that scanNameTok reads with the
// next word: "l'", "d'".
func elided(w string) bool { return w == "l" || w == "d" }

// wordStartBack returns the start of the word (letters, inner hyphens and
// apostrophes) that ends at i.
func wordStartBack(text string, i int) int {
	j := letterRunBack(text, i)
	for j > 1 && j < i && (text[j-1] == '-' || text[j-1] == '\'') && isLetterBefore(text, j-1) {
		j = letterRunBack(text, j-1)
	}
	return j
}

func isLetterBefore(text string, i int) bool { return letterRunBack(text, i) < i }

// boundaryBefore reports whether a word starting at i is not glued to the
// text before it.
func boundaryBefore(text string, i int) bool {
	if i == 0 {
		return true
	}
	c := text[i-1]
	return !isAlnum(c) && c < 0x80 && c != '_' && c != '/' && c != '.' && c != '@'
}

// numberWordBack steps back from j (just after the street) over a word
// for "number" between a street and its house number: "Jl. Sudirman No.
// 5", "İstiklal Caddesi No: 123", "Hauptstraße Nr. 5".
func numberWordBack(text string, j int) int {
	if j < 5 {
		return j
	}
	k := j
	if text[k-1] != '.' && text[k-1] != ':' {
		return j
	}
	k--
	w := text[k-2 : k]
	if w != "No" && w != "Nr" && w != "no" && w != "nr" || text[k-3] != ' ' {
		return j
	}
	k -= 3
	if k > 0 && text[k-1] == ',' {
		k--
	}
	return k
}

// separateBefore reads "Kärntner Straße", "Karl Johans gate": a street
// type word at ws (folded fw) after one to three capitalised words, and
// returns the start of the first, or -1.
func (r *streetNumberRecognizer) separateBefore(text string, ws int, fw string) int {
	if ws < 3 || text[ws-1] != ' ' {
		return -1
	}
	switch {
	case nameUpperAt(text, ws) && slices.Contains(separateStreets, fw):
	case isLower(text[ws]) && fw == "utca":
	case isLower(text[ws]) && slices.Contains(lowerStreets, fw):
		if text[ws-2] != 's' {
			return -1 // "Departure gate 12"
		}
	default:
		return -1
	}
	start := -1
	j := ws - 1
	for w := 0; w < 3 && j > 0; w++ {
		st := wordStartBack(text, j)
		if st == j || !nameUpperAt(text, st) {
			break
		}
		start = st
		if st < 2 || text[st-1] != ' ' {
			break
		}
		j = st - 1
	}
	if start < 0 || !boundaryBefore(text, start) {
		return -1
	}
	return start
}

// connectorAfter reports " in ", " near ", " and ", " or " after a house
// number: "Hauptstraße 5 in Berlin".
func connectorAfter(text string, e int) bool {
	for _, w := range [...]string{" in ", " near ", " and ", " or ", " im ", " in\n"} {
		if len(text)-e >= len(w) && text[e:e+len(w)] == w {
			return true
		}
	}
	return false
}

package detect

import (
	"unicode"
	"unicode/utf8"

	"github.com/wardenhq/warden/detect/internal/lexicon"
)

// Word shapes of a name nameTok.
const (
	tokCap     = 1 + iota // "Smith", "McCullough", "O'Connor", "Kub-Torp"
	tokUpper              // "SMITH" (two or more letters, all upper case)
	tokInitial            // "J" (one upper-case letter)
	tokLower              // "smith", "van"
	tokOther              // camelCase identifiers, mixed digits: never a name
)

// maxNameTok bounds a nameTok's length in bytes; longer letter runs are not
// names.
const maxNameTok = 40

// nameTok is one word of a candidate name.
type nameTok struct {
	start, end int // letters only; a following '.' is not included
	dot        bool
	shape      uint8
	cls        lexicon.Class
	hyphen     bool // two or more hyphen-joined parts
}

// spanEnd is the end of the nameTok including an abbreviation dot.
func (t *nameTok) spanEnd() int {
	if t.dot {
		return t.end + 1
	}
	return t.end
}

// nameLetterAt decodes the rune at i and reports whether it is a letter (or a
// combining mark, which continues a letter).
func nameLetterAt(text string, i int) (r rune, size int, ok bool) {
	if i >= len(text) {
		return 0, 0, false
	}
	c := text[i]
	if c < utf8.RuneSelf {
		return rune(c), 1, isUpper(c) || isLower(c)
	}
	r, size = utf8.DecodeRuneInString(text[i:])
	if r == utf8.RuneError {
		return r, size, false
	}
	return r, size, unicode.IsLetter(r) || unicode.Is(unicode.Mn, r)
}

// apostropheLen reports an apostrophe (' or U+2019) at i and its length.
func apostropheLen(text string, i int) int {
	if i < len(text) && text[i] == '\'' {
		return 1
	}
	if i+2 < len(text) && text[i] == 0xE2 && text[i+1] == 0x80 && text[i+2] == 0x99 {
		return 3
	}
	return 0
}

// nameUpperAt reports whether the rune at i is an upper-case letter.
func nameUpperAt(text string, i int) bool {
	r, _, ok := nameLetterAt(text, i)
	return ok && unicode.IsUpper(r)
}

// scanNameTok reads the word starting at i. ok is false when i does not
// start a letter.
func scanNameTok(lex *lexicon.Table, text string, i int) (t nameTok, ok bool) {
	r, _, isL := nameLetterAt(text, i)
	if !isL {
		return t, false
	}
	var size int
	t.start = i
	upper0 := unicode.IsUpper(r)
	nUpper, nLower, nLetters := 0, 0, 0
	camel := false
	partStart := i
	var prev rune
	j := i
	for {
		if j < len(text) && text[j] < utf8.RuneSelf {
			// ASCII fast path.
			c := text[j]
			if c >= 'a' && c <= 'z' {
				nLower++
				nLetters++
				prev = rune(c)
				j++
				if j-i > maxNameTok {
					camel = true
					break
				}
				continue
			}
			if c >= 'A' && c <= 'Z' {
				if nLetters > 0 && prev >= 'a' && prev <= 'z' && !namePrefix(text[partStart:j]) {
					camel = true
				}
				nUpper++
				nLetters++
				prev = rune(c)
				j++
				continue
			}
			isL = false
			size = 1
		} else {
			r, size, isL = nameLetterAt(text, j)
		}
		if !isL {
			// Inner apostrophe before an upper-case letter (O'Connor,
			// D'Angelo) or hyphen before a letter (Kub-Torp) continues.
			if n := apostropheLen(text, j); n > 0 && nLetters > 0 && nameUpperAt(text, j+n) {
				j += n
				partStart = j
				prev = '\''
				continue
			}
			if j < len(text) && text[j] == '-' && nLetters > 0 {
				if _, _, ok2 := nameLetterAt(text, j+1); ok2 {
					t.hyphen = true
					j++
					partStart = j
					prev = '-'
					continue
				}
			}
			break
		}
		if unicode.IsUpper(r) {
			if nLetters > 0 && prev != '\'' && prev != '-' && unicode.IsLower(prev) {
				// An inner capital: only name prefixes allow it.
				if !namePrefix(text[partStart:j]) {
					camel = true
				}
			}
			nUpper++
		} else if unicode.IsLower(r) {
			nLower++
		}
		nLetters++
		prev = r
		j += size
		if j-i > maxNameTok {
			camel = true
			break
		}
	}
	t.end = j
	t.dot = j < len(text) && text[j] == '.'
	switch {
	case camel:
		t.shape = tokOther
	case nLetters == 1 && upper0:
		t.shape = tokInitial
	case upper0 && nLower == 0:
		t.shape = tokUpper
	case upper0:
		t.shape = tokCap
	default:
		t.shape = tokLower
	}
	// A word glued to digits, '_' , '@' or a dotted/slashed continuation
	// is an identifier, e-mail or path, not a name.
	if j < len(text) {
		c := text[j]
		switch {
		case isDigit(c), c == '_', c == '@':
			t.shape = tokOther
		case (c == '.' || c == '/' || c == '\\') && j+1 < len(text) && (isAlnum(text[j+1]) || text[j+1] >= utf8.RuneSelf) && !escapedBreak(text, j):
			t.shape = tokOther
		case c == '(':
			t.shape = tokOther
		}
	}
	if t.shape != tokOther && lex != nil {
		t.cls = tokenClass(lex, text[t.start:t.end], t.hyphen)
	}
	return t, true
}

// escapedBreak reports an escaped line break or tab at i ("\\n", "\\r",
// "\\t") that is not followed by a lower-case letter: "Ngozi\\nHead of
// Operations" ends the word, "C:\\Users\\nadia" is a path.
func escapedBreak(text string, i int) bool {
	if i+1 >= len(text) || text[i] != '\\' {
		return false
	}
	switch text[i+1] {
	case 'n', 'r', 't':
		return i+2 >= len(text) || !isLower(text[i+2])
	}
	return false
}

// namePrefix reports whether p may be followed by a capital inside a
// surname: McCullough, MacArthur, DeShawn, LaToya, VanDyke, FitzGerald.
func namePrefix(p string) bool {
	switch p {
	case "Mc", "Mac", "De", "Di", "Da", "Du", "La", "Le", "Van", "Von", "Fitz", "St", "Ma", "Al", "El":
		return true
	}
	return false
}

// tokenClass looks a nameTok up; a hyphenated nameTok that is not in the
// lists takes the name classes of its parts, and a word class only when
// every part has it.
func tokenClass(lex *lexicon.Table, w string, hyphen bool) lexicon.Class {
	cls := lex.Lookup(w)
	if len(w) > 2 && (w[0] == 'O' || w[0] == 'D') && apostropheLen(w, 1) > 0 {
		cls |= lexicon.Surname
	}
	if len(w) > 3 && w[0] == 'M' && w[1] == 'c' && isUpper(w[2]) {
		cls |= lexicon.Surname
	}
	if !hyphen || cls&(lexicon.First|lexicon.Surname) != 0 {
		return cls
	}
	var names lexicon.Class
	all := lexicon.Word | lexicon.Stop | lexicon.Place
	start := 0
	for i := 0; i <= len(w); i++ {
		if i < len(w) && w[i] != '-' {
			continue
		}
		pc := lex.Lookup(w[start:i])
		names |= pc & (lexicon.First | lexicon.Surname)
		all &= pc
		start = i + 1
	}
	if names != 0 {
		return cls | names | lexicon.Surname
	}
	return cls | all
}

// Name nameEvidence of one nameTok.
const (
	evWord    = iota // a common word, place or stop word
	evUnknown        // capitalised, in no list
	evLastWeak
	evLast
	evFirstWeak
	evFirst
)

func nameEvidence(cls lexicon.Class) int {
	const (
		ambiguous = lexicon.Word | lexicon.Place | lexicon.Month
	)
	switch {
	case cls&lexicon.Stop != 0:
		return evWord
	case cls&lexicon.First != 0:
		if cls&ambiguous != 0 {
			return evFirstWeak
		}
		return evFirst
	case cls&lexicon.Surname != 0:
		if cls&ambiguous != 0 {
			return evLastWeak
		}
		return evLast
	case cls&(lexicon.Word|lexicon.Place|lexicon.Org|lexicon.Title|lexicon.TitleWeak|lexicon.Suffix|lexicon.PlacePrefix) != 0:
		return evWord
	}
	return evUnknown
}

// letterRunBack returns the start of the letter run ending just before i
// (i itself excluded), stepping back over whole runes.
func letterRunBack(text string, i int) int {
	j := i
	for j > 0 {
		if c := text[j-1]; c < utf8.RuneSelf {
			if !isUpper(c) && !isLower(c) {
				break
			}
			j--
			continue
		}
		r, size := utf8.DecodeLastRuneInString(text[:j])
		if r < utf8.RuneSelf {
			if !isUpper(byte(r)) && !isLower(byte(r)) {
				break
			}
		} else if !unicode.IsLetter(r) && !unicode.Is(unicode.Mn, r) {
			break
		}
		j -= size
	}
	return j
}

// nameTokBack finds the start of the nameTok that ends at end (exclusive),
// stepping over inner hyphens and apostrophes the way scanNameTok does.
func nameTokBack(text string, end int) int {
	j := letterRunBack(text, end)
	for j > 1 && j < end {
		c := text[j-1]
		if c == '-' || c == '\'' {
			k := letterRunBack(text, j-1)
			if k < j-1 {
				j = k
				continue
			}
		}
		if c == 0x99 && j >= 4 && text[j-3] == 0xE2 && text[j-2] == 0x80 {
			k := letterRunBack(text, j-3)
			if k < j-3 {
				j = k
				continue
			}
		}
		break
	}
	return j
}

// surnameEndings are endings of family names in many languages
// (Kowalski, Petrović, Shevchenko, Papadopoulos, Lindqvist, Haverkamp,
// Korhonen, Matsumoto); placeEndings of English place names
// (Hodkiewiczfurt, Lorenzotown, Keelyburgh). They classify words that are
// in no list.
var (
	surnameEndings = []string{
		"son", "sen", "ski", "ska", "sky", "cki", "cka", "wicz", "vich", "vic", "ović", "ovic", "evic",
		"enko", "chuk", "czuk", "czyk", "szyk", "ian", "yan", "idis", "opoulos", "poulos", "akis",
		"escu", "eanu", "ova", "eva", "ini", "elli", "etti", "ucci", "acci", "otti", "berg", "stein",
		"mann", "kamp", "stra", "haus", "baum", "feld", "strom", "qvist", "quist", "dottir",
		"oglu", "shvili", "adze", "wala", "nen", "moto", "mura", "kawa", "yama", "shima", "saki",
		"zaki", "uchi", "ez", "ak", "ek",
	}
	placeEndings = []string{
		"ville", "burgh", "borough", "boro", "shire", "furt", "stead", "chester", "cester",
		"mouth", "haven", "town",
	}
)

// morphClass guesses the class of an unknown word of five or more letters
// from its ending: Surname, Place or nothing.
func morphClass(w string) lexicon.Class {
	var buf [lexicon.MaxWord]byte
	k, ok := lexicon.Fold(buf[:0], w)
	if !ok {
		return 0
	}
	for _, e := range placeEndings {
		if len(k) > len(e)+2 && string(k[len(k)-len(e):]) == e {
			return lexicon.Place
		}
	}
	for _, e := range surnameEndings {
		if len(k) > len(e)+2 && string(k[len(k)-len(e):]) == e {
			return lexicon.Surname
		}
	}
	return 0
}

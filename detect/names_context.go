package detect

import (
	"unicode/utf8"

	"github.com/wardenhq/warden/detect/internal/lexicon"
)

// nameCues found in the words before a name.
type nameCues struct {
	strong, weak, det, placePrep, greeting bool
}

// cueBefore reads up to three words before i, stopping at a sentence end
// or a blank line.
func (p *personRecognizer) cueBefore(text string, i int) nameCues {
	var c nameCues
	j := i
	for d := 1; d <= 3; d++ {
		k := j
		nl := 0
		comma := false // the line before ends with ','
	skip:
		for k > 0 && i-k < 64 {
			switch ch := text[k-1]; ch {
			case '\n':
				nl++
				if nl > 1 {
					return c
				}
				k--
				comma = k > 0 && text[k-1] == ','
			case 'n', 'r':
				// An escaped line break ("Best,\\nTomás" in a JSON
				// string or a log line).
				if k < 2 || text[k-2] != '\\' {
					break skip
				}
				if ch == 'n' {
					nl++
					if nl > 1 {
						return c
					}
				}
				k -= 2
				comma = k > 0 && text[k-1] == ','

			case ' ', '\t', '\r', '"', '\'', ':', '=', ',', '(', '[', '{', '-', '*', '#', '>', '|', '_', '<':
				k--
			default:
				break skip
			}
		}
		st := letterRunBack(text, k)
		if st == k {
			return c
		}
		var buf [lexicon.MaxWord]byte
		w, ok := lexicon.Fold(buf[:0], text[st:k])
		if !ok {
			return c
		}
		cls := p.lex.LookupFolded(w)
		if cls&lexicon.Cue != 0 {
			c.strong = true
		}
		if d == 1 {
			if cls&lexicon.CueWeak != 0 {
				c.weak = true
			}
			switch string(w) {
			case "the", "a", "an", "our", "your", "their", "this", "that", "its":
				c.det = true
			case "in", "at", "near", "across", "around", "visit", "visiting", "outside", "inside":
				c.placePrep = true
			case "dear", "hi", "hello", "hey", "thanks", "thank", "cheers", "hiya", "morning", "afternoon", "evening", "bye", "goodbye",
				"bonjour", "hola", "ciao", "hallo", "hej", "hei", "salut", "ola", "beste", "liebe", "lieber", "chere", "cher", "gentile", "estimado", "estimada", "namaste":
				c.greeting = true
			}
		}
		j = st
		if nl > 0 && d == 1 {
			// A word on the line before counts only for sign-offs: a
			// cue word, or a short line ending in a comma ("Best,",
			// "Thanks again,", "Saludos,").
			if cls&lexicon.Cue == 0 {
				c = nameCues{}
			}
			if comma && i-st <= 24 {
				c.strong = true
			}
			return c
		}
	}
	return c
}

// Key context values from nameKeyBefore.
const (
	nkeyOther  = -1
	nkeyNone   = 0
	nkeyPerson = 1
	nkeyPart   = 2 // first_name, last_name, surname: a single word is enough
)

// nameKeyBefore looks for a field name just before a value at i: `"name":
// "…"`, `Name: …`, `full_name=…`, `customerName: …`.
func nameKeyBefore(lex *lexicon.Table, text string, i int) int {
	j := i
	if j > 0 && (text[j-1] == '"' || text[j-1] == '\'') {
		j--
	}
	for k := 0; k < 4 && j > 0 && (text[j-1] == ' ' || text[j-1] == '\t'); k++ {
		j--
	}
	if j == 0 || (text[j-1] != ':' && text[j-1] != '=') {
		return nkeyNone
	}
	j--
	for k := 0; k < 2 && j > 0 && text[j-1] == ' '; k++ {
		j--
	}
	if j > 0 && (text[j-1] == '"' || text[j-1] == '\'') {
		j--
	}
	e := j
	for j > 0 && e-j < 48 && (isAlnum(text[j-1]) || text[j-1] == '_' || text[j-1] == '-') {
		j--
	}
	if j == e {
		return nkeyNone
	}
	return classifyNameKey(lex, text[j:e])
}

// classifyNameKey decides whether a field name holds a person's name.
func classifyNameKey(lex *lexicon.Table, key string) int {
	var buf [48]byte
	n := 0
	seg := 0 // start of the last segment in buf
	for i := 0; i < len(key) && n < len(buf); i++ {
		c := key[i]
		switch {
		case isUpper(c) || isLower(c):
			buf[n] = lower[c]
			n++
		case c == '_' || c == '-':
			seg = n
		}
	}
	k := buf[:n]
	switch string(k) {
	case "given", "family", "forename", "forenames":
		// FHIR and form fields: {"given": "Aleksandr", "family": "Petrov"}.
		// Only the whole key: "font-family" is no person's.
		return nkeyPart
	}
	cls := lex.LookupFolded(k)
	if cls&lexicon.KeyPerson != 0 {
		switch string(k) {
		case "firstname", "lastname", "surname", "givenname", "familyname", "middlename", "maidenname", "nickname":
			return nkeyPart
		}
		return nkeyPerson
	}
	if len(k) >= 4 && string(k[len(k)-4:]) == "name" {
		pre := k[:len(k)-4]
		if len(pre) == 0 {
			return nkeyPerson
		}
		if lex.LookupFolded(pre)&lexicon.KeyOther != 0 {
			return nkeyOther
		}
		return nkeyPerson
	}
	last := k[seg:]
	lc := lex.LookupFolded(last)
	switch {
	case lc&lexicon.KeyPerson != 0:
		return nkeyPerson
	case lc&lexicon.KeyOther != 0 || cls&lexicon.KeyOther != 0:
		return nkeyOther
	}
	return nkeyNone
}

// namePost describes what follows a name.
type namePost struct {
	email bool // " <a@b.c>" or " (a@b.c)"
	owns  bool // "'s phone", "'s address": a person's attribute
	verb  bool // says, wrote, called ...
	punct bool // ',', '!', ':', end of line or text
}

func (p *personRecognizer) after(text string, end, words int) namePost {
	var pc namePost
	if end >= len(text) {
		pc.punct = true
		return pc
	}
	switch text[end] {
	case ',', '!', ':', '\n', '\r', ';', '?', '.':
		pc.punct = true
	}
	pc.owns = possessiveAttr(text, end)
	j := end
	for k := 0; k < 2 && j < len(text) && text[j] == ' '; k++ {
		j++
	}
	if j >= len(text) {
		return pc
	}
	if text[j] == '<' || text[j] == '(' {
		closer := byte('>')
		if text[j] == '(' {
			closer = ')'
		}
		for k := j + 1; k < len(text) && k < j+80; k++ {
			c := text[k]
			if c == '@' {
				pc.email = true
				break
			}
			if c == closer || c == ' ' || c == '\n' {
				break
			}
		}
		return pc
	}
	if j == end || words < 2 || !isLower(text[j]) {
		return pc
	}
	pc.verb = p.verbAfter(text, end)
	return pc
}

// commaName reports "Last, First" (records) and "First,Last" (CSV) after a
// single name word t whose span ends at end.
func (p *personRecognizer) commaName(s *Scan, t nameTok, end int, c nameCues, key int) {
	text := s.text
	if end >= len(text) || text[end] != ',' {
		return
	}
	j := end + 1
	space := j < len(text) && text[j] == ' '
	if space {
		j++
	}
	u, ok := scanNameTok(p.lex, text, j)
	if !ok || (u.shape != tokCap && u.shape != tokUpper) {
		return
	}
	if (u.shape == tokUpper) != (t.shape == tokUpper) {
		return
	}
	a, b := nameEvidence(t.cls), nameEvidence(u.cls)
	if space && a >= evFirstWeak && t.cls&lexicon.Surname != 0 {
		a = nameEvidence(t.cls &^ lexicon.First) // Johnson, Emily
	}
	if a == evUnknown && morph(text, &t) == lexicon.Surname {
		a = evLast
	}
	stop := u.end
	// Optional middle initial: "Reichert, Cary M."
	if stop+2 < len(text) && text[stop] == ' ' {
		if m, ok := scanNameTok(p.lex, text, stop+1); ok && m.shape == tokInitial {
			stop = m.spanEnd()
		}
	}
	if stop < len(text) && isAlnum(text[stop]) {
		return
	}
	initial := stop != u.end
	var score float64
	switch {
	case space && (b == evFirst || b == evFirstWeak) && a != evWord && a != evFirst:
		// Last, First
		switch a {
		case evLast:
			score = 0.55
		default:
			score = 0.35
		}
		if b == evFirstWeak {
			score -= 0.1
		}
	case space && a != evWord && a != evFirst && b != evWord:
		score = 0.2 // two unknown words: needs a key or cue
	case !space && a == evFirst && (b == evLast || b == evUnknown || b == evLastWeak):
		score = 0.6 // CSV First,Last
	case !space && (a == evLast || a == evUnknown) && b == evFirst:
		score = 0.5 // CSV Last,First
	default:
		return
	}
	if initial {
		score += 0.15
	}
	if post := p.after(text, stop, 2); post.email {
		score += personPostEmail
	} else if post.verb {
		score += personPostVerb
	}
	if c.strong {
		score += personCueStrong
	} else if c.weak {
		score += personCueWeak
	}
	if key > 0 {
		score += personKey
	}
	if score > 1 {
		score = 1
	}
	if score >= personMinReported {
		s.Add(Finding{Type: "PERSON", Category: PII, Start: t.start, End: stop, Score: score, Recognizer: "person"})
	}
}

// Introductions read by introBefore.
const (
	introNone  = iota
	introKnown // "I'm", "I am", "this is", "called": a known name only
	introAny   // "my name is", "named", "call me", "goes by": any name word
)

// wordBack returns the ASCII word (letters and apostrophes) that ends at
// or before i, one run of spaces back, and its start; "" when there is
// none.
func wordBack(text string, i int) (string, int) {
	j := i
	for j > 0 && i-j < 3 && (text[j-1] == ' ' || text[j-1] == '\t') {
		j--
	}
	if j == i && i > 0 {
		return "", i
	}
	k := j
	for k > 0 && j-k < 12 && (isUpper(text[k-1]) || isLower(text[k-1]) || text[k-1] == '\'') {
		k--
	}
	if k == j || k > 0 && isAlnum(text[k-1]) {
		return "", k
	}
	return text[k:j], k
}

// introBefore reads the phrase just before a name at i that introduces
// a person by name: "My name is Rubija", "a man named Tal", "call me
// Ishmael", "I'm Carlos", "this is Nicole".
func introBefore(text string, i int) int {
	w1, k := wordBack(text, i)
	if w1 == "" || len(w1) > 9 {
		return introNone
	}
	var b1, b2 [12]byte
	f1 := foldASCII(b1[:0], w1)
	switch f1 {
	case "name's":
		return introAny
	case "i'm", "im", "called":
		return introKnown
	}
	w2, _ := wordBack(text, k)
	if len(w2) > 9 {
		return introNone
	}
	f2 := foldASCII(b2[:0], w2)
	switch {
	case f1 == "named" || f1 == "nicknamed":
		// "a man named Tal", but "a product named Nova" is no person.
		switch f2 {
		case "man", "woman", "guy", "girl", "boy", "lady", "person", "child", "kid", "baby", "son", "daughter",
			"friend", "brother", "sister", "wife", "husband", "partner", "mother", "father", "user", "customer",
			"patient", "client", "employee", "colleague", "someone", "somebody", "doctor", "nurse", "student", "teacher":
			return introAny
		}
		return introKnown
	case w2 == "":
		return introNone
	case (f1 == "is" || f1 == "was") && f2 == "name":
		return introAny
	case f1 == "me" && f2 == "call":
		return introAny
	case isKin(f1) && (f2 == "my" || f2 == "our" || f2 == "his" || f2 == "her" || f2 == "your" || f2 == "their"):
		return introAny // "my brother Yusuf"
	case f1 == "by" && (f2 == "goes" || f2 == "go"):
		return introAny
	case f1 == "as" && f2 == "known":
		return introAny
	case f1 == "am" && f2 == "i", f1 == "is" && f2 == "this":
		return introKnown
	}
	return introNone
}

// foldASCII lower-cases an ASCII word into dst.
func foldASCII(dst []byte, w string) string {
	for i := 0; i < len(w); i++ {
		dst = append(dst, lower[w[i]])
	}
	return string(dst)
}

// speakerLabel reports a name word at [start, end) that labels a line of
// dialogue: at a line start (or after a "[10:42] " time stamp) and
// followed by ": " and more text, "Nicole: are you coming?".
func speakerLabel(text string, start, end int) bool {
	if end+2 >= len(text) || text[end] != ':' || text[end+1] != ' ' {
		return false
	}
	// Speech follows: a word of letters, not a code ("Danish: DK50…").
	k := end + 2
	for k < len(text) && (isUpper(text[k]) || isLower(text[k]) || text[k] == '\'') {
		k++
	}
	if k == end+2 && text[k] < utf8.RuneSelf || k < len(text) && (isDigit(text[k]) || text[k] == '_' || text[k] == '@') {
		return false
	}
	i := start
	if i >= 2 && text[i-1] == ' ' && text[i-2] == ']' {
		// "[10:42] Nicole:" or "[2026-01-02 10:42] Nicole:"
		k := i - 2
		for k > 0 && i-k < 28 && text[k-1] != '[' && text[k-1] != '\n' {
			k--
		}
		if k == 0 || text[k-1] != '[' {
			return false
		}
		i = k - 1
	}
	for i > 0 && (text[i-1] == ' ' || text[i-1] == '\t' || text[i-1] == '>') && start-i < 4 {
		i-- // "> Nicole:" quoted
	}
	if i == 0 || text[i-1] == '\n' || text[i-1] == '\r' {
		return true
	}
	return i >= 2 && text[i-2] == '\\' && text[i-1] == 'n' // a JSON string's "\n"
}

// isKin reports the nouns for relatives and companions that precede a
// given name: "my brother Yusuf", "our daughter Ama".
func isKin(w string) bool {
	switch w {
	case "brother", "sister", "son", "daughter", "wife", "husband", "partner", "mother", "father", "mom", "mum", "dad",
		"friend", "cousin", "uncle", "aunt", "nephew", "niece", "grandson", "granddaughter", "boyfriend", "girlfriend",
		"fiance", "fiancee", "colleague", "coworker", "boss", "neighbor", "neighbour", "roommate", "child", "baby", "kid":
		return true
	}
	return false
}

// possessiveAttr reports "'s" and a word for something only a person has
// at end: "Kate's phone number", "Gonzalez's address".
func possessiveAttr(text string, end int) bool {
	n := apostropheLen(text, end)
	if n == 0 || end+n+2 >= len(text) || text[end+n] != 's' || text[end+n+1] != ' ' {
		return false
	}
	i := end + n + 2
	e := i
	for e < len(text) && e-i < 12 && (isLower(text[e]) || text[e] == '-') {
		e++
	}
	switch text[i:e] {
	case "phone", "number", "email", "e-mail", "address", "birthday", "account", "card", "password", "ssn", "passport",
		"mobile", "cell", "wife", "husband", "son", "daughter", "mother", "father", "brother", "sister", "children",
		"salary", "diagnosis", "doctor", "lawyer", "date", "home", "flat", "apartment", "licence", "license", "full", "maiden", "middle", "last", "first":
		return true
	}
	return false
}

// talkedTo reports a verb of talking to or meeting someone just before a
// name at i, alone or with "with" or "to": "ask Gonzalez", "spoke with
// Gonzalez", "talked to Amara". Weaker cue words ("for Ada", "by
// Austin") are not enough for a lone name.
func talkedTo(text string, i int) bool {
	w1, k := wordBack(text, i)
	if w1 == "" || len(w1) > 11 {
		return false
	}
	var b1, b2 [12]byte
	f1 := foldASCII(b1[:0], w1)
	if f1 == "with" || f1 == "to" || f1 == "for" {
		w2, _ := wordBack(text, k)
		if w2 == "" || len(w2) > 11 {
			return false
		}
		f2 := foldASCII(b2[:0], w2)
		if f1 == "for" {
			return f2 == "ask" || f2 == "asked" || f2 == "asking" // "ask for Bjørn"
		}
		switch f2 {
		case "spoke", "speak", "speaking", "talk", "talked", "talking", "met", "meet", "meeting", "chat", "chatted",
			"reply", "replied", "wrote", "write", "sent", "send", "forward", "forwarded", "introduced", "married", "engaged":
			return true
		}
		return false
	}
	switch f1 {
	case "ask", "asked", "tell", "told", "call", "called", "email", "emailed", "text", "texted", "ping", "pinged",
		"message", "messaged", "invite", "invited", "hire", "hired", "interview", "interviewed", "thank", "thanked", "met", "cc":
		return true
	}
	return false
}

// verbAfter reports a verb that often follows a person (says, wrote,
// arrived ...) one or two spaces after end.
func (p *personRecognizer) verbAfter(text string, end int) bool {
	j := end
	for k := 0; k < 2 && j < len(text) && text[j] == ' '; k++ {
		j++
	}
	if j == end || j >= len(text) || !isLower(text[j]) {
		return false
	}
	t, ok := scanNameTok(p.lex, text, j)
	return ok && t.shape == tokLower && t.cls&lexicon.PostCue != 0
}

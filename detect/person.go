package detect

import (
	"unicode/utf8"

	"github.com/wardenhq/warden/detect/internal/lexicon"
)

// nameRecognizers returns the PERSON, LOCATION and DATE_TIME recognizers.
func nameRecognizers() []Recognizer {
	lex := lexicon.Default()
	addr := &addressRecognizer{lex: lex}
	return []Recognizer{
		&personRecognizer{lex: lex},
		&personKeyRecognizer{lex: lex},
		addr,
		&streetNumberRecognizer{lex: lex, addr: addr},
		&birthDateRecognizer{lex: lex},
	}
}

// personRecognizer finds person names written with capitals: "Cary
// Reichert", "Mr. Darrel Waters", "Dr. Hahn", "Manuela Kub-Torp", "Orie
// O'Kon", "José Müller", "SMITH, JOHN" after a name key, "Reichert, Cary".
//
// It wakes at every capitalised word, so it works from word lists and
// never from regular expressions. A chain of capitalised words joined by
// single spaces is read once, from its first word; later words of the
// chain return at once. Each run of name-like words in the chain gets a
// score from what its words are (a known first name followed by any
// capitalised word is strong; two unknown capitalised words are weak) and
// from context: a title (Mr, Dr), a cue word before it (patient, customer,
// dear, signed, reply to), a name-like JSON key or form label before it,
// an e-mail address or a verb (says, wrote) after it. Places, organisations
// and common words veto or lower it.
type personRecognizer struct{ lex *lexicon.Table }

func (p *personRecognizer) Name() string        { return "person" }
func (p *personRecognizer) Types() []string     { return []string{"PERSON"} }
func (p *personRecognizer) Triggers() []Trigger { return []Trigger{{Kind: TriggerUpperWord}} }

// maxChain bounds the words read in one chain of capitalised words.
const maxChain = 12

// Scores of person findings. Base scores depend on the words; boosts on
// context. DefaultMinScore (0.5) decides.
const (
	personTitle       = 0.85 // Mr./Dr. + a name
	personTitleWeak   = 0.5  // Officer/Judge + a name
	personCueStrong   = 0.35 // patient, customer, dear, signed ... before
	personCueWeak     = 0.2  // with, by, call ... just before
	personKey         = 0.4  // "name": / Name: / full_name= before
	personPostEmail   = 0.3  // followed by <e-mail> or (e-mail)
	personPostVerb    = 0.2  // followed by says, wrote, called ...
	personDeterminer  = 0.25 // the/a/our just before: "the Kessler Group"
	personPlacePrep   = 0.15 // in/at/near just before
	personAllCaps     = 0.2  // ALL-CAPS run without key or cue
	personMinReported = 0.3  // below this a candidate is not added at all
	personIntro       = 0.8  // a lone word after "my name is", "named", "call me"
	personIntroKnown  = 0.7  // a lone known name after "I'm", "this is", or as a speaker label
	personLoneKnown   = 0.6  // a lone known name with a weak cue, a verb or "'s phone" beside it
)

func (p *personRecognizer) Find(s *Scan, at int) {
	text := s.text
	if insideNameTok(text, at) || p.continues(text, at) {
		return
	}
	var toks [maxChain]nameTok
	n := p.chain(text, at, toks[:])
	if n == 0 {
		return
	}
	p.runs(s, toks[:n])
}

// insideNameTok reports whether at follows an inner apostrophe or hyphen of
// a word (the "C" of O'Connor), where the engine sees a word start.
func insideNameTok(text string, at int) bool {
	if at < 2 {
		return false
	}
	j := at - 1
	switch {
	case text[j] == '\'' || text[j] == '-':
	case text[j] == 0x99 && at >= 4 && text[j-2] == 0xE2 && text[j-1] == 0x80:
		j -= 2
	default:
		return false
	}
	return letterRunBack(text, j) < j
}

// nameAbbrev reports whether a nameTok followed by '.' may continue a chain:
// initials and title or suffix abbreviations (J. Smith, Mr. Smith).
func nameAbbrev(t *nameTok) bool {
	return t.shape == tokInitial || t.cls&(lexicon.Title|lexicon.TitleWeak|lexicon.Suffix) != 0
}

// chain reads the capitalised words joined by single spaces from at.
func (p *personRecognizer) chain(text string, at int, toks []nameTok) int {
	n := 0
	i := at
	for n < len(toks) {
		t, ok := scanNameTok(p.lex, text, i)
		if !ok || t.shape == tokOther {
			break
		}
		if t.shape == tokLower && (n == 0 || t.cls&lexicon.Particle == 0) {
			break
		}
		j := t.end
		if t.dot {
			if !nameAbbrev(&t) {
				t.dot = false
				toks[n] = t
				n++
				break
			}
			j++
		}
		toks[n] = t
		n++
		if j+1 < len(text) && text[j] == ' ' {
			if r, _, ok := nameLetterAt(text, j+1); ok && (r >= utf8.RuneSelf || isUpper(byte(r)) || particleAhead(text, j+1)) {
				i = j + 1
				continue
			}
		}
		break
	}
	return n
}

// particleAhead reports whether the lower-case word at i is short and
// followed by a space and a capital, so that it may be a name particle
// ("van" in "Ludwig van Beethoven"); only then is it looked up.
func particleAhead(text string, i int) bool {
	e := i
	for e < len(text) && isLower(text[e]) && e-i < 6 {
		e++
	}
	if e+1 >= len(text) || text[e] != ' ' {
		return false
	}
	if isUpper(text[e+1]) || text[e+1] >= 0xC0 {
		return true
	}
	// "de la Cruz", "van der Berg"
	f := e + 1
	for f < len(text) && isLower(text[f]) && f-e < 6 {
		f++
	}
	return f+1 < len(text) && text[f] == ' ' && (isUpper(text[f+1]) || text[f+1] >= 0xC0)
}

// continues reports whether the word at at is not the first of its chain,
// so that the chain's first word has read it already. It mirrors chain.
func (p *personRecognizer) continues(text string, at int) bool {
	for depth := 0; depth < 3; depth++ {
		if at < 2 || text[at-1] != ' ' {
			return false
		}
		end := at - 1
		dot := text[end-1] == '.'
		if dot {
			end--
		}
		// Fast paths: a word before ". " longer than any abbreviation
		// (a sentence end), a plain lower-case word longer than any
		// particle.
		if dot {
			k := end
			for k > 0 && end-k <= 5 && isAlnum(text[k-1]) {
				k--
			}
			if end-k > 5 {
				return false
			}
		}
		if k := end - 1; k >= 0 && isLower(text[k]) {
			for k > 0 && isLower(text[k-1]) && end-k <= maxNameTok {
				k--
			}
			if end-k > 6 && (k == 0 || text[k-1] < utf8.RuneSelf && !isUpper(text[k-1])) {
				return false
			}
		}
		st := nameTokBack(text, end)
		if st == end {
			return false
		}
		t, ok := scanNameTok(nil, text, st)
		if !ok || t.end != end || t.shape == tokOther {
			return false
		}
		if t.shape == tokLower {
			// A particle joins only after a capitalised word: look the
			// particle up only then.
			if st < 2 || text[st-1] != ' ' {
				return false
			}
			k := letterRunBack(text, st-1)
			if k == st-1 || !(isUpper(text[k]) || text[k] >= 0xC0) {
				return false
			}
		}
		if dot || t.shape == tokLower {
			t.cls = tokenClass(p.lex, text[t.start:t.end], t.hyphen)
		}
		if dot && !nameAbbrev(&t) {
			return false
		}
		if t.shape != tokLower {
			return true
		}
		if t.cls&lexicon.Particle == 0 {
			return false
		}
		at = st
	}
	return false
}

// nameish reports whether a chain word can be part of a name's core.
func nameish(t *nameTok) bool {
	switch t.shape {
	case tokInitial:
		return true
	case tokLower:
		return t.cls&lexicon.Particle != 0
	case tokCap, tokUpper:
		if t.cls&lexicon.Particle != 0 && t.cls&lexicon.Stop == 0 && t.cls&lexicon.PlacePrefix == 0 {
			return true
		}
		return nameEvidence(t.cls) != evWord
	}
	return false
}

func isTitle(t *nameTok) bool {
	return t.shape != tokLower && t.cls&(lexicon.Title|lexicon.TitleWeak) != 0 && t.cls&lexicon.Stop == 0 ||
		t.shape == tokCap && t.cls&lexicon.Title != 0
}

// runs scores every run of name-like words in a chain.
func (p *personRecognizer) runs(s *Scan, toks []nameTok) {
	n := len(toks)
	i := 0
	for i < n {
		// Leading words that cannot start a name.
		placeBefore := false
		for i < n && !isTitle(&toks[i]) && !(nameish(&toks[i]) && toks[i].shape != tokLower && !leadWord(toks, i)) {
			placeBefore = toks[i].cls&lexicon.PlacePrefix != 0
			i++
		}
		if i >= n {
			return
		}
		i = p.run(s, toks, i, placeBefore)
	}
}

// leadWord reports whether toks[i] is a cue or common word that opens a
// chain before a name rather than belonging to it: "Gentile Giulia
// Bianchi", "Cher Marc Dupont". The next word must be a known first name
// followed by another name word.
func leadWord(toks []nameTok, i int) bool {
	t := &toks[i]
	if t.cls&(lexicon.Cue|lexicon.Word) == 0 || t.cls&lexicon.First != 0 && t.cls&lexicon.Cue == 0 {
		return false
	}
	if i+2 >= len(toks) || nameEvidence(toks[i+1].cls) != evFirst || toks[i+1].shape != tokCap {
		return false
	}
	return nameish(&toks[i+2]) && toks[i+2].shape != tokLower
}

// run scores the run starting at toks[i] and returns the index after it.
func (p *personRecognizer) run(s *Scan, toks []nameTok, i int, placeBefore bool) int {
	text := s.text
	n := len(toks)
	start := i
	title, titleWeak := false, false
	for i < n && isTitle(&toks[i]) {
		if toks[i].cls&lexicon.Title != 0 {
			title = true
		} else {
			titleWeak = true
		}
		i++
	}
	coreStart := i
	for i < n && nameish(&toks[i]) {
		i++
	}
	// Trailing lower-case particles are not part of the name.
	for i > coreStart && toks[i-1].shape == tokLower {
		i--
	}
	coreEnd := i
	// Name words (not initials, not particles) of the core.
	first, last, words := -1, -1, 0
	allCaps := true
	for k := coreStart; k < coreEnd; k++ {
		t := &toks[k]
		if t.shape != tokUpper && t.shape != tokInitial {
			allCaps = false
		}
		if t.shape == tokInitial || t.shape == tokLower || t.cls&lexicon.Particle != 0 && nameEvidence(t.cls) == evWord {
			continue
		}
		if first < 0 {
			first = k
		}
		last = k
		words++
	}
	// A known first name, or a title, followed by a common word: "Gavin
	// Waters", "Dr. Strange".
	lastIsWord, lastIsName := false, false
	if i < n && words <= 1 && (title || titleWeak || words == 1 && nameEvidence(toks[first].cls) == evFirst) {
		t := &toks[i]
		// A given name that is also a month or a modal ("Mr. May", "Dan
		// May", "Dr. June") after a title or a known first name, unless a
		// day follows ("June 5").
		lastIsName = (title || words == 1) && t.cls&(lexicon.First|lexicon.Surname) != 0 &&
			t.cls&(lexicon.Org|lexicon.Place|lexicon.Title|lexicon.TitleWeak) == 0 && !digitAfter(text, t.spanEnd()) &&
			!(t.cls&lexicon.Stop != 0 && pronounAfter(text, t.end))
		if (t.shape == tokCap || t.shape == tokUpper && allCaps) && (lastIsName || t.cls&(lexicon.Stop|lexicon.Org|lexicon.Place|lexicon.Month|lexicon.Title|lexicon.TitleWeak) == 0) {
			if first < 0 {
				first = i
			}
			last = i
			words++
			lastIsWord = true
			i++
			coreEnd = i
		}
	}
	if words == 0 {
		if i == start {
			return i + 1
		}
		return i
	}
	// Suffixes: Jr., Sr., III, MD, PhD.
	end := toks[coreEnd-1].spanEnd()
	suffixed := false
	if coreEnd < n && toks[coreEnd].cls&lexicon.Suffix != 0 && words >= 1 {
		end = toks[coreEnd].spanEnd()
		i = coreEnd + 1
		suffixed = true
	} else if j := p.commaSuffix(text, end); j > end {
		end = j
	}
	// Veto: the next word makes it an organisation, street or place.
	if i < n && toks[i].cls&lexicon.Org != 0 && toks[i].cls&(lexicon.First|lexicon.Surname) == 0 {
		return i + 1
	}
	// After a suffix no surname follows: "Martin Luther King Jr. Park".
	if suffixed && i < n && toks[i].cls&(lexicon.Org|lexicon.Street) != 0 {
		return i + 1
	}
	if i == n && p.orgAfter(text, toks[n-1].spanEnd()) {
		return i
	}
	for k := coreStart; k < coreEnd; k++ {
		if toks[k].cls&lexicon.Org != 0 && toks[k].cls&(lexicon.First|lexicon.Surname) == 0 {
			return i
		}
	}
	if (placeBefore || words >= 2 && toks[first].cls&lexicon.PlacePrefix != 0) && !title {
		return i
	}
	runStart := toks[start].start
	if !nameStartOK(text, runStart) {
		return i
	}

	// Base score from the words.
	fe := nameEvidence(toks[first].cls)
	le := nameEvidence(toks[last].cls)
	if lastIsWord {
		le = evWord
	}
	if words >= 2 {
		// Unknown words: guess from the ending (Kowalski, Lorenzotown).
		if fe == evUnknown && morph(text, &toks[first]) == lexicon.Place {
			return i
		}
		if le == evUnknown {
			switch morph(text, &toks[last]) {
			case lexicon.Place:
				return i
			case lexicon.Surname:
				le = evLast
			}
		}
	}
	// Initials before a lone surname: "J. R. Smith", "M. Hernández".
	initials := false
	if words == 1 && !lastIsWord && first > coreStart && toks[coreStart].shape == tokInitial && toks[coreStart].dot {
		initials = true
	}
	var score float64
	switch {
	case initials && !title:
		switch fe {
		case evFirst, evLast:
			score = 0.6
		case evWord:
			return i
		case evUnknown:
			switch morph(text, &toks[first]) {
			case lexicon.Place:
				return i
			case lexicon.Surname:
				score = 0.6
			default:
				score = 0.45
			}
		default:
			score = 0.45
		}
	case title && lastIsWord && words == 1:
		// "Mr. Bean" but not "Dr Pepper", "Mr Clean".
		score = 0.45
		if toks[coreStart-1].dot {
			score = 0.6
		}
		if lastIsName {
			score += 0.15
		}
	case title && words >= 1:
		score = personTitle
	case words >= 2:
		score = pairScore(fe, le)
		if lastIsWord && lastIsName && fe == evFirst {
			score = 0.6
		}
	default:
		score = singleScore(fe)
		if titleWeak && fe != evWord {
			score = personTitleWeak
		}
	}
	if words == 1 && !title && !titleWeak {
		// A lone "J." is no name either.
		if toks[first].shape == tokInitial {
			return i
		}
	}

	// Context. A strong base score needs none, and skipping it saves
	// lookups at most names.
	key := nameKeyBefore(p.lex, text, runStart)
	var c nameCues
	var post namePost
	intro, speaker := introNone, false
	// A lone word that is a known name: the only one that a weak cue, a
	// verb or a speaker label can make a name.
	loneKnown := words == 1 && !lastIsWord && (fe == evFirst || fe == evLast)
	if score < 0.75 || p.explain(s) {
		c = p.cueBefore(text, runStart)
		post = p.after(text, end, words)
		if words == 1 && fe != evWord || words >= 2 && !c.strong {
			intro = introBefore(text, runStart)
		}
		speaker = loneKnown && speakerLabel(text, runStart, end)
	}
	boost := 0.0
	var why []string
	explain := p.explain(s)
	if c.strong {
		boost += personCueStrong
		why = appendNameWhy(why, explain, "cue")
	} else if c.weak {
		boost += personCueWeak
		why = appendNameWhy(why, explain, "cue")
	}
	switch {
	case key > 0:
		boost += personKey
		if words == 1 && key == 2 {
			boost += 0.1
		}
		why = appendNameWhy(why, explain, "name-key")
	case key < 0:
		boost -= 0.5
	}
	if post.email {
		boost += personPostEmail
		why = appendNameWhy(why, explain, "email-after")
	} else if post.verb && words >= 2 {
		boost += personPostVerb
		why = appendNameWhy(why, explain, "verb-after")
	}
	if words == 1 && !title && c.greeting && post.punct {
		boost += 0.35
	}
	if words == 1 && !title && fe == evFirst && salutation(text, runStart, end) {
		boost += 0.35 // "John,\n\nPlease find ..."
		c.greeting = true
	}
	if c.det {
		boost -= personDeterminer
	}
	if c.placePrep && !c.strong && key <= 0 {
		boost -= personPlacePrep
	}
	if allCaps && !title && key <= 0 && !c.strong {
		boost -= personAllCaps
	}
	if words == 1 && !initials && !title && !titleWeak && key <= 0 && !c.greeting && !c.strong {
		boost = 0 // a lone word needs a cue, a greeting or a name key
	}
	if intro == introAny && !c.strong && words >= 2 {
		boost += personCueStrong
	}
	score += boost
	// A lone name word introduced by name ("My name is Rubija", "I'm
	// Carlos") or labelling a line of dialogue ("Nicole: …").
	if words == 1 && !title && !titleWeak && !lastIsWord && !initials && key >= 0 && toks[first].shape == tokCap {
		floor := 0.0
		switch {
		case intro == introAny && fe != evWord:
			floor = personIntro
			why = appendNameWhy(why, explain, "intro")
		case (intro == introKnown || speaker) && (fe == evFirst || fe == evLast):
			floor = personIntroKnown
			why = appendNameWhy(why, explain, "intro")
		case loneKnown && !c.det && key == 0 && (post.owns || !toks[first].hyphen && (p.verbAfter(text, end) || talkedTo(text, runStart))):
			// "spoke with Gonzalez", "Olamide said", "Kate's phone".
			floor = personLoneKnown
			why = appendNameWhy(why, explain, "cue")
		}
		score = max(score, floor)
	}
	if score > 1 {
		score = 1
	}
	if score >= personMinReported {
		s.Add(Finding{Type: "PERSON", Category: PII, Start: runStart, End: end, Score: score, Recognizer: "person", Context: why})
	}
	// "Reichert, Cary" and CSV "Cary,Reichert".
	if words == 1 && !title && !titleWeak && i == coreEnd && coreEnd == n {
		p.commaName(s, toks[first], end, c, key)
	}
	return i
}

// morph classifies an unknown, unhyphenated token of five or more letters
// by its ending.
func morph(text string, t *nameTok) lexicon.Class {
	if t.hyphen || t.end-t.start < 5 {
		return 0
	}
	return morphClass(text[t.start:t.end])
}

func (p *personRecognizer) explain(s *Scan) bool { return s.e != nil && s.e.explain }

func appendNameWhy(why []string, explain bool, w string) []string {
	if !explain {
		return why
	}
	return append(why, w)
}

// pairScore scores two or more name words by their first and last word.
func pairScore(first, last int) float64 {
	switch first {
	case evFirst:
		if last == evWord {
			return 0.35
		}
		return 0.75
	case evFirstWeak:
		switch last {
		case evLast, evUnknown:
			return 0.55
		case evWord:
			return 0.2
		}
		return 0.45
	case evLast:
		switch last {
		case evLast, evFirst:
			// "Zhou Yu"; "Nakamura Kenji" (family name first).
			return 0.5
		case evWord:
			return 0.15
		}
		return 0.35
	case evLastWeak:
		switch last {
		case evLast:
			return 0.4
		case evWord:
			return 0.1
		}
		return 0.3
	case evUnknown:
		switch last {
		case evLast:
			return 0.6
		case evLastWeak:
			return 0.45
		case evWord:
			return 0.15
		}
		return 0.3
	}
	return 0
}

// singleScore scores one name word on its own.
func singleScore(ev int) float64 {
	switch ev {
	case evFirst, evLast:
		return 0.2
	case evFirstWeak, evLastWeak:
		return 0.1
	case evUnknown:
		return 0.05
	}
	return 0
}

// salutation reports a word alone at the start of a line and followed by
// a comma and a line break: the "John," that opens a letter.
func salutation(text string, start, end int) bool {
	if start > 0 && text[start-1] != '\n' {
		return false
	}
	if end+1 >= len(text) || text[end] != ',' {
		return false
	}
	return text[end+1] == '\n' || text[end+1] == '\r'
}

// nameStartOK reports whether a name may start at i: not inside a path,
// an identifier, a handle or an e-mail address.
func nameStartOK(text string, i int) bool {
	if i == 0 {
		return true
	}
	switch text[i-1] {
	case '.', '@', '/', '\\', '_', '#', '$', '+', '~', '&', '%', '^':
		return false
	}
	return true
}

// commaSuffix extends a name over ", Jr." / ", MD" / ", PhD" at end.
func (p *personRecognizer) commaSuffix(text string, end int) int {
	if end+2 >= len(text) || text[end] != ',' || text[end+1] != ' ' {
		return end
	}
	if !isUpper(text[end+2]) {
		return end
	}
	t, ok := scanNameTok(nil, text, end+2)
	if !ok || t.end-t.start > 3 {
		return end
	}
	t.cls = p.lex.Lookup(text[t.start:t.end])
	if t.shape == tokLower || t.shape == tokOther || t.cls&lexicon.Suffix == 0 {
		return end
	}
	return t.spanEnd()
}

// orgAfter reports whether the word after end (one space away) ends an
// organisation or place name: "Kessler Group", "Elm Street".
func (p *personRecognizer) orgAfter(text string, end int) bool {
	if end+1 >= len(text) || text[end] != ' ' {
		return false
	}
	if !isUpper(text[end+1]) {
		return false // a capital would have continued the chain
	}
	t, ok := scanNameTok(p.lex, text, end+1)
	return ok && t.cls&lexicon.Org != 0 && t.cls&(lexicon.First|lexicon.Surname) == 0
}

// digitAfter reports a space and a digit at i: "June 5", "May 2024".
func digitAfter(text string, i int) bool {
	return i+1 < len(text) && text[i] == ' ' && isDigit(text[i+1])
}

// pronounAfter reports " I ", " we " or " you " at i: the modal of a
// question ("May I …"), not a name.
func pronounAfter(text string, i int) bool {
	for _, p := range [...]string{" I ", " we ", " you "} {
		if len(text)-i >= len(p) && text[i:i+len(p)] == p {
			return true
		}
	}
	return false
}

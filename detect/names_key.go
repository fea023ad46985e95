package detect

import "github.com/wardenhq/warden/detect/internal/lexicon"

// personKeyRecognizer finds names written in lower case after a name
// field or phrase: `name: john smith`, `"full_name": "jane doe"`, `my name
// is maria garcia`. Capitalised and ALL-CAPS values are personRecognizer's.
type personKeyRecognizer struct{ lex *lexicon.Table }

func (p *personKeyRecognizer) Name() string    { return "person-key" }
func (p *personKeyRecognizer) Types() []string { return []string{"PERSON"} }
func (p *personKeyRecognizer) Triggers() []Trigger {
	return []Trigger{{Kind: TriggerPrefix, Prefix: "name", Fold: true}}
}

// maxKeyNameWords bounds the words of a lower-case name.
const maxKeyNameWords = 4

func (p *personKeyRecognizer) Find(s *Scan, at int) {
	text := s.text
	j := at + 4
	if j < len(text) && isAlnum(text[j]) {
		return // "names", "namespace"
	}
	// The field name is "name" or ends in it (full_name, customer_name).
	kind := nkeyPerson
	if at > 0 && (text[at-1] == '_' || text[at-1] == '-') {
		k := at - 1
		for k > 0 && at-k < 48 && (isAlnum(text[k-1]) || text[k-1] == '_' || text[k-1] == '-') {
			k--
		}
		kind = classifyNameKey(p.lex, text[k:j])
		if kind <= 0 {
			return
		}
	}
	// Separator: `: `, `=`, `": "`, or the words "is" / "was".
	if j < len(text) && (text[j] == '"' || text[j] == '\'') {
		j++
	}
	k := j
	for k < len(text) && k-j < 4 && (text[k] == ' ' || text[k] == '\t') {
		k++
	}
	switch {
	case k < len(text) && (text[k] == ':' || text[k] == '='):
		k++
		for k < len(text) && k-j < 8 && (text[k] == ' ' || text[k] == '\t') {
			k++
		}
		if k < len(text) && (text[k] == '"' || text[k] == '\'') {
			k++
		}
	case k > j && k+3 < len(text) && (text[k:k+3] == "is " || text[k:k+3] == "IS "):
		k += 3
	case k > j && k+4 < len(text) && text[k:k+4] == "was ":
		k += 4
	default:
		return
	}
	p.value(s, k, kind)
}

// value reads a lower-case name at i.
func (p *personKeyRecognizer) value(s *Scan, i, kind int) {
	text := s.text
	words, known := 0, 0
	end := i
	for words < maxKeyNameWords {
		t, ok := scanNameTok(p.lex, text, i)
		if !ok || t.shape != tokLower || t.end-t.start < 2 {
			break
		}
		c := t.cls
		if c&(lexicon.Stop|lexicon.Org|lexicon.Month) != 0 && c&(lexicon.First|lexicon.Surname) == 0 {
			break
		}
		if c&lexicon.Particle != 0 && words > 0 {
			// "maria de la cruz": a particle needs a word after it.
		} else if nameEvidence(c) == evWord {
			break
		} else if c&(lexicon.First|lexicon.Surname) != 0 {
			known++
		}
		words++
		end = t.end
		if t.end+1 < len(text) && text[t.end] == ' ' {
			i = t.end + 1
			continue
		}
		break
	}
	// Trailing particles are not part of the name.
	for words > 0 {
		st := nameTokBack(text, end)
		if p.lex.Lookup(text[st:end])&lexicon.Particle == 0 || st == 0 {
			break
		}
		end = st - 1
		words--
	}
	if words == 0 || end <= 0 {
		return
	}
	if end < len(text) && (isAlnum(text[end]) || text[end] == '@' || text[end] == '_' || text[end] == '.' && end+1 < len(text) && isAlnum(text[end+1])) {
		return
	}
	// i moved past the words; find the value start again.
	first := nameValueStart(text, end, words)
	var score float64
	switch {
	case words >= 2 && known > 0:
		score = 0.75
	case words >= 2:
		score = 0.55
	case known > 0 && kind == nkeyPart:
		score = 0.65
	case known > 0:
		score = 0.55
	case kind == nkeyPart:
		score = 0.5
	default:
		return
	}
	s.Add(Finding{Type: "PERSON", Category: PII, Start: first, End: end, Score: score, Recognizer: "person-key"})
}

// nameValueStart returns the start of the words-th word back from end.
func nameValueStart(text string, end, words int) int {
	st := end
	for w := 0; w < words; w++ {
		st = nameTokBack(text, st)
		if w+1 < words && st > 0 && text[st-1] == ' ' {
			st--
		}
	}
	return st
}

package detect

import "github.com/wardenhq/warden/detect/internal/lexicon"

// birthDateRecognizer finds dates of birth: a date close after (or just
// before) "DOB", "born", "birth date", "date of birth", "birthday",
// `"dob":`. A date without such context is not reported: order, invoice
// and visit dates are not sensitive on their own.
//
// Formats: 5/14/1968, 14/05/1968, 1968-05-14, 1968/05/14, 14.05.1968,
// May 14, 1968, May 14th 1968, 14 May 1968.
type birthDateRecognizer struct{ lex *lexicon.Table }

func (b *birthDateRecognizer) Name() string    { return "birth-date" }
func (b *birthDateRecognizer) Types() []string { return []string{"DATE_TIME"} }
func (b *birthDateRecognizer) Triggers() []Trigger {
	return []Trigger{
		{Kind: TriggerPrefix, Prefix: "dob", Fold: true},
		{Kind: TriggerPrefix, Prefix: "born", Fold: true},
		{Kind: TriggerPrefix, Prefix: "birth", Fold: true},
		{Kind: TriggerPrefix, Prefix: "date", Fold: true},
		{Kind: TriggerPrefix, Prefix: "d.o.b", Fold: true},
	}
}

// Birth-date limits and score.
const (
	dobWindow     = 40 // bytes after the keyword searched for a date
	dobBackWindow = 24 // bytes before the keyword
	dobScore      = 0.85
)

func (b *birthDateRecognizer) Find(s *Scan, at int) {
	text := s.text
	kwEnd := birthKeyword(text, at)
	if kwEnd < 0 {
		return
	}
	// Forward: the first date starting at a word start in the window.
	lim := kwEnd + dobWindow
	if lim > len(text) {
		lim = len(text)
	}
	for i := kwEnd; i < lim; i++ {
		if i > 0 && isAlnum(text[i-1]) {
			continue
		}
		if e := b.date(text, i); e > 0 {
			s.Add(Finding{Type: "DATE_TIME", Category: PII, Start: i, End: e, Score: dobScore, Recognizer: "birth-date"})
			return
		}
		if text[i] == '\n' {
			break
		}
	}
	// Backward: "1968-05-14 (DOB)".
	lo := at - dobBackWindow
	if lo < 0 {
		lo = 0
	}
	for i := lo; i < at; i++ {
		if i > 0 && isAlnum(text[i-1]) {
			continue
		}
		if e := b.date(text, i); e > 0 && e <= at && onlyPunct(text[e:at]) {
			s.Add(Finding{Type: "DATE_TIME", Category: PII, Start: i, End: e, Score: dobScore, Recognizer: "birth-date"})
			return
		}
	}
}

func onlyPunct(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '(', '[', ',', '-', ':':
		default:
			return false
		}
	}
	return true
}

// birthKeyword checks the word at at and returns the end of the keyword,
// or -1: dob, d.o.b., born, birth, birthdate, birthday, birth_date, date
// of birth, date_of_birth, dateofbirth.
func birthKeyword(text string, at int) int {
	w := at
	for w < len(text) && (isAlnum(text[w]) || text[w] == '_') {
		w++
	}
	var buf [24]byte
	n := 0
	for k := at; k < w && n < len(buf); k++ {
		if text[k] != '_' {
			buf[n] = lower[text[k]]
			n++
		}
	}
	switch string(buf[:n]) {
	case "dob", "born", "birth", "birthdate", "birthday", "dateofbirth":
		return w
	case "d":
		if hasPrefixAt(text, at, "d.o.b", true) {
			e := at + 5
			if e < len(text) && text[e] == '.' {
				e++
			}
			return e
		}
	case "date":
		if hasPrefixAt(text, w, " of birth", true) {
			return w + 9
		}
	}
	return -1
}

// date returns the end of a date starting at i, or 0.
func (b *birthDateRecognizer) date(text string, i int) int {
	if i >= len(text) {
		return 0
	}
	if isDigit(text[i]) {
		if e := numericDate(text, i); e > 0 {
			return e
		}
		return dayMonthYear(b.lex, text, i)
	}
	if isUpper(text[i]) || isLower(text[i]) {
		return monthDayYear(b.lex, text, i)
	}
	return 0
}

// digitRun returns the number and the end of the digits at i (at most 4).
func digitRun(text string, i int) (v, end int) {
	end = i
	for end < len(text) && isDigit(text[end]) && end-i < 5 {
		v = v*10 + int(text[end]-'0')
		end++
	}
	return v, end
}

// numericDate matches d/m/y, m/d/y, y-m-d with '/', '-' or '.' (one
// separator throughout).
func numericDate(text string, i int) int {
	a, e1 := digitRun(text, i)
	if e1 >= len(text) {
		return 0
	}
	sep := text[e1]
	if sep != '/' && sep != '-' && sep != '.' {
		return 0
	}
	b, e2 := digitRun(text, e1+1)
	if e2 == e1+1 || e2-e1-1 > 2 || e2 >= len(text) || text[e2] != sep {
		return 0
	}
	c, e3 := digitRun(text, e2+1)
	if e3 == e2+1 || (e3 < len(text) && (isAlnum(text[e3]) || text[e3] == sep && e3+1 < len(text) && isDigit(text[e3+1]))) {
		return 0
	}
	la, lc := e1-i, e3-e2-1
	switch {
	case la == 4 && lc <= 2: // y-m-d
		if validYear(a) && validMonth(b) && validDay(c) {
			return e3
		}
	case la <= 2 && (lc == 4 || lc == 2):
		if lc == 2 {
			c += 1900
		}
		if validYear(c) && validDay(a) && validDay(b) && (validMonth(a) || validMonth(b)) {
			return e3
		}
	}
	return 0
}

func validYear(y int) bool  { return y >= 1880 && y <= 2100 }
func validMonth(m int) bool { return m >= 1 && m <= 12 }
func validDay(d int) bool   { return d >= 1 && d <= 31 }

// monthName returns the end of a month name at i, or 0.
func monthName(lex *lexicon.Table, text string, i int) int {
	e := i
	for e < len(text) && (isUpper(text[e]) || isLower(text[e])) && e-i < 10 {
		e++
	}
	if e == i || (e < len(text) && isAlnum(text[e])) || lex.Lookup(text[i:e])&lexicon.Month == 0 {
		return 0
	}
	if e < len(text) && text[e] == '.' {
		e++
	}
	return e
}

// dayNumber reads "14", "14th", "1st" at i and returns the day and end.
func dayNumber(text string, i int) (int, int) {
	d, e := digitRun(text, i)
	if e == i || e-i > 2 || !validDay(d) {
		return 0, 0
	}
	if e+2 <= len(text) {
		switch text[e : e+2] {
		case "st", "nd", "rd", "th":
			e += 2
		}
	}
	if e < len(text) && isAlnum(text[e]) {
		return 0, 0
	}
	return d, e
}

// yearAt reads a four-digit year at i.
func yearAt(text string, i int) int {
	y, e := digitRun(text, i)
	if e-i != 4 || !validYear(y) || (e < len(text) && isAlnum(text[e])) {
		return 0
	}
	return e
}

// monthDayYear matches "May 14, 1968" and "May 14 1968".
func monthDayYear(lex *lexicon.Table, text string, i int) int {
	e := monthName(lex, text, i)
	if e == 0 || e >= len(text) || text[e] != ' ' {
		return 0
	}
	_, e = dayNumber(text, e+1)
	if e == 0 {
		return 0
	}
	if e < len(text) && text[e] == ',' {
		e++
	}
	if e >= len(text) || text[e] != ' ' {
		return 0
	}
	return yearAt(text, e+1)
}

// dayMonthYear matches "14 May 1968" and "14th May, 1968".
func dayMonthYear(lex *lexicon.Table, text string, i int) int {
	_, e := dayNumber(text, i)
	if e == 0 || e >= len(text) || text[e] != ' ' {
		return 0
	}
	e = monthName(lex, text, e+1)
	if e == 0 {
		return 0
	}
	if e < len(text) && text[e] == ',' {
		e++
	}
	if e >= len(text) || text[e] != ' ' {
		return 0
	}
	return yearAt(text, e+1)
}

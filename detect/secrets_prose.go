package detect

import "strings"

// proseSecretRecognizer finds passwords given without an '=' or ':':
//
//	my password is Tr0ub4dor&3          (sentences: "is" / "was")
//	temporary password Wq7!zRt2Lp       (a value mixing three classes)
//	ALTER USER app WITH PASSWORD 'Zx9…' (SQL; also IDENTIFIED BY '…')
//	mysqladmin --password S3cr3t!x      (command-line flags)
//	machine api.acme.dev login ci password Qw9…  (.netrc)
//
// The value must look like a password (six or more characters mixing
// classes), so ordinary sentences ("the password is incorrect") are not
// reported.
type proseSecretRecognizer struct{}

func (proseSecretRecognizer) Name() string    { return "secret_prose" }
func (proseSecretRecognizer) Types() []string { return []string{"GENERIC_SECRET"} }
func (proseSecretRecognizer) Triggers() []Trigger {
	return []Trigger{
		{Kind: TriggerPrefix, Prefix: "password", Fold: true},
		{Kind: TriggerPrefix, Prefix: "passphrase", Fold: true},
		{Kind: TriggerPrefix, Prefix: "passcode", Fold: true},
		{Kind: TriggerPrefix, Prefix: "identified by ", Fold: true},
	}
}

func (proseSecretRecognizer) Find(s *Scan, at int) {
	text := s.text
	i := at
	for i < len(text) && isAlnum(text[i]) {
		i++
	}
	if lower[text[at]] == 'i' { // SQL: IDENTIFIED BY 'x'
		if v := i + len(" by "); v < len(text) && (text[v] == '\'' || text[v] == '"') {
			proseValue(s, v, true)
		}
		return
	}
	if i-at > 10 { // "passwords", "passwordless" …: not a key
		return
	}
	if i < len(text) && text[i] == ' ' {
		j := i
		for j < len(text) && text[j] == ' ' {
			j++
		}
		flag := at >= 2 && text[at-1] == '-' && text[at-2] == '-'
		if j < len(text) && (text[j] == '\'' || text[j] == '"') && (flag || hasPrefixAt(text, max(0, at-5), "with ", true)) {
			proseValue(s, j, true) // WITH PASSWORD 'x', --password "x"
			return
		}
		lineStart := strings.LastIndexByte(text[max(0, at-80):at], '\n')
		before := text[max(0, at-80):at][lineStart+1:]
		if flag || strings.Contains(before, "login ") || strings.Contains(before, "machine ") {
			proseValue(s, j, false) // --password x, .netrc
			return
		}
		// "your temporary password Wq7!zRt2Lp": a value right after
		// the word, when it mixes three character classes.
		e := j
		for e < len(text) && e-j < 64 && !isSpace(text[e]) && text[e] != '"' && text[e] != '`' {
			e++
		}
		for e > j && strings.IndexByte(".,;:!?)'", text[e-1]) >= 0 {
			e--
		}
		if e-j >= 8 && secretClasses(text[j:e]) >= 3 && strings.ContainsAny(text[j:e], "0123456789") {
			proseValue(s, j, false)
			return
		}
	}
	lim := i + 48
	if lim > len(text) {
		lim = len(text)
	}
	w := text[i:lim]
	if nl := strings.IndexAny(w, "\n.?!"); nl >= 0 {
		w = w[:nl]
	}
	k := strings.Index(w, " is ")
	step := 4
	if k < 0 {
		k = strings.Index(w, " was ")
		step = 5
	}
	if k < 0 {
		return
	}
	v := i + k + step
	for v < len(text) && (text[v] == ' ' || text[v] == ':') {
		v++
	}
	proseValue(s, v, false)
}

// proseValue reads a value at v (quoted when text[v] is a quote) and
// reports it if it looks like a password.
func proseValue(s *Scan, v int, quoted bool) {
	text := s.text
	if v >= len(text) {
		return
	}
	var e int
	if q := text[v]; q == '\'' || q == '"' || q == '`' {
		v++
		e = v
		for e < len(text) && e-v < 128 && text[e] != q && text[e] != '\n' {
			e++
		}
		if e >= len(text) || text[e] != q {
			return
		}
	} else {
		e = v
		for e < len(text) && e-v < 128 && !isSpace(text[e]) && text[e] != '"' && text[e] != '`' {
			e++
		}
		for e > v && strings.IndexByte(".,;:!?)'", text[e-1]) >= 0 {
			e--
		}
	}
	if e < len(text) && text[e] >= 0x80 {
		return
	}
	val := text[v:e]
	n := len(val)
	if n < 6 || placeholderValue(val) || codeRef(val, true) {
		return
	}
	cls := secretClasses(val)
	score := 0.0
	switch {
	case cls >= 3 && n >= 8:
		score = 0.75
	case cls >= 2 && n >= 8 && !allIn(val, csDigits):
		score = 0.65
	case cls >= 2:
		score = 0.55
	default:
		return
	}
	addSecret(s, "GENERIC_SECRET", "secret_prose", v, e, score, "")
}

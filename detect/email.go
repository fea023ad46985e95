package detect

import "unicode/utf8"

// emailRecognizer finds e-mail addresses (RFC 5322 dot-atom local parts,
// the characters people use in practice, and DNS domains with an
// alphabetic top-level label). It wakes at '@' and expands both ways.
type emailRecognizer struct{}

func (emailRecognizer) Name() string        { return "email" }
func (emailRecognizer) Types() []string     { return []string{"EMAIL_ADDRESS"} }
func (emailRecognizer) Triggers() []Trigger { return []Trigger{{Kind: TriggerByte, Byte: '@'}} }

// maxEmailPart bounds how far the recognizer walks from the '@'.
const (
	maxLocalPart  = 64
	maxDomainPart = 253
)

func isLocalChar(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-' || c == '\''
}

func (emailRecognizer) Find(s *Scan, at int) {
	t := s.text
	// Local part: walk left. Accented Latin letters count (RFC 6531
	// addresses such as björn@…); another script before the address
	// ("请联系support@…") ends it.
	i := at
	for i > 0 && at-i < maxLocalPart {
		if isLocalChar(t[i-1]) {
			i--
			continue
		}
		if t[i-1] >= utf8.RuneSelf {
			if r, size := utf8.DecodeLastRuneInString(t[:i]); latinLetter(r) {
				i -= size
				continue
			}
		}
		break
	}
	// Trim leading dots, quotes and dashes ("--user@" in text).
	for i < at && (t[i] == '.' || t[i] == '\'' || t[i] == '-') {
		i++
	}
	if i == at || t[at-1] == '.' {
		return
	}
	if i > 0 && isAlnum(t[i-1]) {
		return // local part runs into something we do not accept
	}
	if urlUserinfoAt(t, i) {
		return // "scheme://user:pass@host": a credential URL (secrets_url.go)
	}
	// Domain: labels of letters, digits and '-' (accented Latin letters
	// for internationalised names), separated by dots.
	j := at + 1
	lastDot := -1
	labelStart := j
	for j < len(t) && j-at <= maxDomainPart {
		c := t[j]
		if isAlnum(c) || c == '-' {
			j++
			continue
		}
		if c >= utf8.RuneSelf {
			if r, size := utf8.DecodeRuneInString(t[j:]); latinLetter(r) {
				j += size
				continue
			}
			break
		}
		if c == '.' && j > labelStart && j+1 < len(t) && (isAlnum(t[j+1]) || t[j+1] >= 0xC3) {
			if t[j-1] == '-' {
				return
			}
			lastDot = j
			j++
			labelStart = j
			continue
		}
		break
	}
	if lastDot < 0 || j-lastDot-1 < 2 {
		return
	}
	// Top-level label: letters only (or xn-- punycode).
	tld := t[lastDot+1 : j]
	if len(tld) < 4 || tld[:4] != "xn--" {
		for k := 0; k < len(tld); k++ {
			if !isUpper(tld[k]) && !isLower(tld[k]) {
				return
			}
		}
	}
	if t[j-1] == '-' {
		return
	}
	s.Add(Finding{Type: "EMAIL_ADDRESS", Category: PII, Start: i, End: j, Score: 0.95, Recognizer: "email"})
}

// latinLetter reports an accented Latin letter (U+00C0-U+024F without the
// multiplication and division signs).
func latinLetter(r rune) bool {
	return r >= 0xC0 && r <= 0x24F && r != 0xD7 && r != 0xF7
}

// urlRecognizer finds URLs with a scheme ("https://…", "ftp://…") and
// bare "www." hosts. Category NETWORK: by default policy they are found
// but not tokenized. Credentials inside URLs are the secret recognizers'.
type urlRecognizer struct{}

func (urlRecognizer) Name() string    { return "url" }
func (urlRecognizer) Types() []string { return []string{"URL"} }
func (urlRecognizer) Triggers() []Trigger {
	return []Trigger{{Kind: TriggerByte, Byte: ':'}, {Kind: TriggerPrefix, Prefix: "www.", Fold: true}}
}

const maxURL = 2048

func isURLChar(c byte) bool {
	if c <= ' ' || c == 0x7f || c >= 0x80 {
		return false
	}
	switch c {
	case '"', '<', '>', '\\', '^', '`', '{', '|', '}':
		return false
	}
	return true
}

func (urlRecognizer) Find(s *Scan, at int) {
	t := s.text
	start := at
	if t[at] == ':' {
		if at+2 >= len(t) || t[at+1] != '/' || t[at+2] != '/' {
			return
		}
		// Scheme: letters, digits, '+', '-', '.', starting with a letter.
		i := at
		for i > 0 && at-i < 32 && (isAlnum(t[i-1]) || t[i-1] == '+' || t[i-1] == '-' || t[i-1] == '.') {
			i--
		}
		for i < at && !isUpper(t[i]) && !isLower(t[i]) {
			i++
		}
		if i == at {
			return
		}
		start = i
	}
	j := at
	if t[at] == ':' {
		j = at + 3
	}
	hostStart := j
	depth := 0 // open parentheses inside the URL
	for j < len(t) && j-start < maxURL && isURLChar(t[j]) {
		if t[j] == '(' {
			depth++
		} else if t[j] == ')' {
			if depth == 0 {
				break // closes a parenthesis opened before the URL
			}
			depth--
		}
		j++
	}
	// Trailing punctuation belongs to the sentence.
	for j > hostStart {
		c := t[j-1]
		if c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == '\'' {
			j--
			continue
		}
		break
	}
	if j-hostStart < 3 {
		return
	}
	s.Add(Finding{Type: "URL", Category: Network, Start: start, End: j, Score: 0.6, Recognizer: "url"})
}

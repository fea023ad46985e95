package detect

// Credential recognizers (category SECRET).
//
// Every recognizer here is woken by a literal vendor prefix (case-sensitive,
// "ghp_", "xoxb-", "AKIA" …), a folded keyword ("password", "bearer"), or a
// punctuation trigger ('=' and ':' for assignments, "://" for URLs, "-----BEGIN"
// for PEM blocks). The token body is read by a hand-written scanner: a run of
// the vendor's charset, bounded by the vendor's length, that must not be
// followed by another word character. No regexp runs in this family, so the
// cost per trigger is a table lookup per byte of the candidate.
//
// Reported spans cover the secret value only: for `"api_key": "ghp_…"` the
// ghp_ token, for `password=hunter2x9Q` the value after '=', for a database
// or basic-auth URL the password between ':' and '@' (the host stays visible
// so redacted logs remain useful), for a PEM block the whole block from
// "-----BEGIN" through the closing "-----".
//
// Scores: a vendor prefix with the exact length and charset scores 0.9-1.0
// (1.0 when a vendor checksum verifies); a vendor token whose checksum fails
// scores 0.6 (still reported: hand-made and truncated tokens are common in
// prompts, but policy can tell them apart); a generic assignment with a
// high-entropy value ~0.7; weak shapes stay below the default 0.5 threshold.

// secretRecognizers returns the credential recognizers (category SECRET).
func secretRecognizers() []Recognizer {
	var rs []Recognizer
	for _, r := range tokenRules() {
		rs = append(rs, r)
	}
	rs = append(rs,
		pemRecognizer{},
		jwtRecognizer{},
		urlCredRecognizer{},
		webhookRecognizer{},
		authHeaderRecognizer{},
		assignRecognizer{},
		proseSecretRecognizer{},
		azureClientSecretRecognizer{},
		mailchimpRecognizer{},
		telegramRecognizer{},
		terraformRecognizer{},
		discordBotRecognizer{},
		awsSecretPairRecognizer{},
	)
	return rs
}

// charset is a byte-membership table for token bodies.
type charset [256]bool

// newCharset builds a charset from ranges written as "a-z0-9_-": a '-' that
// is first or last stands for itself.
func newCharset(spec string) *charset {
	var c charset
	for i := 0; i < len(spec); i++ {
		if i+2 < len(spec) && spec[i+1] == '-' {
			for b := int(spec[i]); b <= int(spec[i+2]); b++ {
				c[b] = true
			}
			i += 2
			continue
		}
		c[spec[i]] = true
	}
	return &c
}

// Charsets used by token bodies. They are built once and never written.
var (
	csBase62    = newCharset("A-Za-z0-9")
	csB64URL    = newCharset("A-Za-z0-9_-")
	csB64       = newCharset("A-Za-z0-9+/")
	csB64Pad    = newCharset("A-Za-z0-9+/=")
	csHexLower  = newCharset("0-9a-f")
	csHex       = newCharset("0-9a-fA-F")
	csUpperNum  = newCharset("A-Z0-9")
	csWordDot   = newCharset("A-Za-z0-9_.-")
	csWordEq    = newCharset("A-Za-z0-9_=-")
	csB64Any    = newCharset("A-Za-z0-9+/=_-")
	csLetters   = newCharset("A-Za-z")
	csAlnumDash = newCharset("A-Za-z0-9-")
	csBech32    = newCharset("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L")
	csBraintree = newCharset("a-z0-9$")
	csFCM       = newCharset("A-Za-z0-9_:-")
	csHexDash   = newCharset("0-9a-f-")
	csHexUnder  = newCharset("0-9a-f_")
	csAlnumUnd  = newCharset("A-Za-z0-9_")
	csAirtable  = newCharset("A-Za-z0-9.")
	csB64Pct    = newCharset("A-Za-z0-9%")
)

// tokenRule recognizes one vendor token family: one of prefixes, then a body
// of min..max bytes from body, not followed by a word character.
type tokenRule struct {
	name     string
	typ      string
	prefixes []string
	body     *charset
	min, max int
	score    float64
	// check, when set, sees the whole token and its body and returns the
	// score to report (given the rule's score); 0 rejects the candidate.
	check func(tok, body string, score float64) float64
	// trimDot drops trailing '.' from the body (sentence ends) for bodies
	// whose charset contains '.'.
	trimDot bool
	// ctx replaces secretRuleCtx as the context words that raise scores
	// below 0.9.
	ctx []string
}

// ruleCtx are words near a candidate that make a vendor-shaped token more
// likely to be a live credential; they raise weaker rule scores.
var ruleCtx = []string{"token", "key", "secret", "password", "api", "auth", "credential", "bearer", "access"}

const ruleCtxBoost = 0.25

func (r *tokenRule) Name() string    { return r.name }
func (r *tokenRule) Types() []string { return []string{r.typ} }
func (r *tokenRule) Triggers() []Trigger {
	ts := make([]Trigger, len(r.prefixes))
	for i, p := range r.prefixes {
		ts[i] = Trigger{Kind: TriggerPrefix, Prefix: p}
	}
	return ts
}

func (r *tokenRule) Find(s *Scan, at int) {
	text := s.text
	plen := 0
	for _, p := range r.prefixes {
		if len(p) > plen && hasPrefixAt(text, at, p, false) {
			plen = len(p)
		}
	}
	if plen == 0 {
		return
	}
	i := at + plen
	j := i
	lim := i + r.max + 1
	if lim > len(text) {
		lim = len(text)
	}
	body := r.body
	for j < lim && body[text[j]] {
		j++
	}
	if j-i > r.max {
		return
	}
	if r.trimDot {
		for j > i && text[j-1] == '.' {
			j--
		}
	}
	if j-i < r.min || wordAfter(text, j) {
		return
	}
	if j < len(text) && text[j] >= 0x80 {
		return
	}
	b := text[i:j]
	// A vendor prefix in the right format is a credential even when it
	// spells EXAMPLE (AKIAIOSFODNN7EXAMPLE is pasted into prompts as
	// often as real keys, and a gateway that lets it through cannot tell
	// the two apart); only shapes no generator makes are skipped.
	if placeholderShape(b) {
		return
	}
	score := r.score
	if r.check != nil {
		score = r.check(text[at:j], b, score)
		if score <= 0 {
			return
		}
	}
	var ctx string
	if score < 0.9 && score != checksumFailScore {
		words := r.ctx
		if words == nil {
			words = ruleCtx
		}
		ctx = s.Context(at, j, words)
		score = boosted(score, ruleCtxBoost, ctx)
	}
	addSecret(s, r.typ, r.name, at, j, score, ctx)
}

// scanRun returns the end of the run of bytes in cs starting at i, looking
// at no more than max+1 bytes.
func scanRun(text string, i, max int, cs *charset) int {
	lim := i + max + 1
	if lim > len(text) {
		lim = len(text)
	}
	j := i
	for j < lim && cs[text[j]] {
		j++
	}
	return j
}

// addSecret reports a finding of category Secret. Spans that would cut a
// UTF-8 sequence (possible only in invalid UTF-8 input) are dropped.
func addSecret(s *Scan, typ, rec string, start, end int, score float64, ctx string) {
	if !secValidUTF8Bounds(s.text, start, end) {
		return
	}
	s.Add(Finding{Type: typ, Category: Secret, Start: start, End: end, Score: score, Recognizer: rec, Context: s.ctxList(ctx)})
}

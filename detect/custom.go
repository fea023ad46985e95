package detect

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
)

// CustomRecognizer is a recognizer defined in configuration.
type CustomRecognizer struct {
	// Name identifies the recognizer in findings and --explain output.
	Name string `yaml:"name"`
	// Type is the finding type reported, e.g. EMPLOYEE_ID.
	Type string `yaml:"type"`
	// Category is one of PII, FINANCIAL, HEALTH, SECRET, NETWORK; default PII.
	Category Category `yaml:"category"`
	// Pattern is an RE2 regular expression matching the whole value.
	Pattern string `yaml:"pattern"`
	// Validator names a checksum every match must pass: luhn, mod97,
	// aba, nhs, ssn. Empty means none.
	Validator string `yaml:"validator"`
	// Context words raise the score by ContextBoost when found nearby.
	Context []string `yaml:"context"`
	// Score is the base score; default 0.6.
	Score float64 `yaml:"score"`
	// ContextBoost defaults to 0.35.
	ContextBoost float64 `yaml:"context_boost"`
}

// DenyRule is a term that is always reported.
type DenyRule struct {
	Term     string   `yaml:"term"`
	Type     string   `yaml:"type"`
	Category Category `yaml:"category"`
}

// Validator checks a candidate value; digits and separators are passed as
// they appear in the text.
type Validator func(value string) bool

// Validators returns the checksum validators custom recognizers may name.
func Validators() map[string]Validator {
	return map[string]Validator{
		"luhn":  func(v string) bool { d := digitsOnly(v); return len(d) >= 2 && luhn(d) },
		"mod97": func(v string) bool { return validIBAN(compactAlnum(v)) },
		"aba":   func(v string) bool { d := digitsOnly(v); return len(d) == 9 && abaChecksum(d) },
		"nhs":   func(v string) bool { d := digitsOnly(v); return len(d) == 10 && nhsChecksum(d) },
		"ssn": func(v string) bool {
			d := digitsOnly(v)
			return len(d) == 9 && validSSN(d)
		},
	}
}

func (c Category) valid() bool {
	switch c {
	case PII, Financial, Health, Secret, Network:
		return true
	}
	return false
}

type customRecognizer struct {
	cfg       CustomRecognizer
	re        *regexp.Regexp // anchored at the trigger position
	all       *regexp.Regexp // unanchored, for whole-text scanning
	prefix    string
	fold      bool
	validate  Validator
	wholeText bool
	context   []string
}

// maxCustomMatch bounds how far past a trigger a custom pattern may match.
const maxCustomMatch = 4096

func newCustom(c CustomRecognizer) (*customRecognizer, error) {
	if c.Name == "" {
		return nil, fmt.Errorf("name is empty")
	}
	if c.Type == "" {
		return nil, fmt.Errorf("type is empty")
	}
	if c.Category == "" {
		c.Category = PII
	}
	if !c.Category.valid() {
		return nil, fmt.Errorf("category %q is not one of PII, FINANCIAL, HEALTH, SECRET, NETWORK", c.Category)
	}
	if c.Score == 0 {
		c.Score = 0.6
	}
	if c.ContextBoost == 0 {
		c.ContextBoost = 0.35
	}
	all, err := regexp.Compile(c.Pattern)
	if err != nil {
		return nil, fmt.Errorf("pattern: %v", err)
	}
	re := regexp.MustCompile(`^(?:` + c.Pattern + `)`)
	cr := &customRecognizer{cfg: c, re: re, all: all}
	for _, w := range c.Context {
		cr.context = append(cr.context, strings.ToLower(w))
	}
	if c.Validator != "" {
		v, ok := Validators()[c.Validator]
		if !ok {
			return nil, fmt.Errorf("validator %q is unknown (have luhn, mod97, aba, nhs, ssn)", c.Validator)
		}
		cr.validate = v
	}
	// A literal prefix of two or more bytes lets the prefilter wake the
	// recognizer only where the prefix occurs; otherwise the pattern runs
	// over the whole text once per scan.
	parsed, err := syntax.Parse(c.Pattern, syntax.Perl)
	if err == nil {
		prog, err := syntax.Compile(parsed.Simplify())
		if err == nil {
			p, _ := prog.Prefix()
			if len(p) >= 2 {
				cr.prefix = p
				cr.fold = parsed.Flags&syntax.FoldCase != 0
			}
		}
	}
	if cr.prefix == "" {
		cr.wholeText = true
	}
	return cr, nil
}

func (c *customRecognizer) Name() string    { return c.cfg.Name }
func (c *customRecognizer) Types() []string { return []string{c.cfg.Type} }
func (c *customRecognizer) Triggers() []Trigger {
	return []Trigger{{Kind: TriggerPrefix, Prefix: c.prefix, Fold: c.fold}}
}

func (c *customRecognizer) Find(s *Scan, at int) {
	end := at + maxCustomMatch
	if end > len(s.text) {
		end = len(s.text)
	}
	loc := c.re.FindStringIndex(s.text[at:end])
	if loc == nil {
		return
	}
	c.emit(s, at, at+loc[1])
}

func (c *customRecognizer) findAll(s *Scan) {
	for _, loc := range c.all.FindAllStringIndex(s.text, -1) {
		c.emit(s, loc[0], loc[1])
	}
}

func (c *customRecognizer) emit(s *Scan, start, end int) {
	if c.validate != nil && !c.validate(s.text[start:end]) {
		return
	}
	ctx := ""
	if len(c.context) > 0 {
		ctx = s.Context(start, end, c.context)
	}
	s.Add(Finding{Type: c.cfg.Type, Category: c.cfg.Category, Start: start, End: end,
		Score: boosted(c.cfg.Score, c.cfg.ContextBoost, ctx), Recognizer: c.cfg.Name, Context: s.ctxList(ctx)})
}

// denyList reports configured terms wherever they occur as whole words.
type denyList struct {
	rules []DenyRule
}

func newDenyList(rules []DenyRule) (*denyList, error) {
	d := &denyList{}
	for i, r := range rules {
		if len(r.Term) < 2 {
			return nil, fmt.Errorf("detect: deny[%d]: term must be at least 2 bytes", i)
		}
		if r.Type == "" {
			r.Type = "DENY_LIST"
		}
		if r.Category == "" {
			r.Category = PII
		}
		if !r.Category.valid() {
			return nil, fmt.Errorf("detect: deny[%d]: category %q is not one of PII, FINANCIAL, HEALTH, SECRET, NETWORK", i, r.Category)
		}
		d.rules = append(d.rules, r)
	}
	return d, nil
}

func (d *denyList) Name() string { return "deny_list" }
func (d *denyList) Triggers() []Trigger {
	t := make([]Trigger, len(d.rules))
	for i, r := range d.rules {
		t[i] = Trigger{Kind: TriggerPrefix, Prefix: r.Term, Fold: true}
	}
	return t
}

func (d *denyList) Find(s *Scan, at int) {
	for _, r := range d.rules {
		end := at + len(r.Term)
		if hasPrefixAt(s.text, at, r.Term, true) && !wordAfter(s.text, end) {
			s.Add(Finding{Type: r.Type, Category: r.Category, Start: at, End: end, Score: 1, Recognizer: "deny_list"})
		}
	}
}

func digitsOnly(v string) string {
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if isDigit(v[i]) {
			b = append(b, v[i])
		}
	}
	return string(b)
}

func compactAlnum(v string) string {
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if isAlnum(v[i]) {
			b = append(b, v[i])
		}
	}
	return string(b)
}

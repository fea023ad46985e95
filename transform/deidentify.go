package transform

import (
	"context"
	"fmt"
	"strings"

	"github.com/wardenhq/warden/detect"
)

// Deidentifier rewrites the findings in a text with the operator
// configured for each. It is safe for concurrent use.
type Deidentifier struct {
	byType map[string]Operator
	byCat  map[detect.Category]Operator
	def    Operator
	mask   masker
	hash   *hasher      // nil unless hash is used
	synth  *synthesizer // nil unless synthetic is used
	tokens Tokenizer    // nil unless tokenize is used
}

// NewDeidentifier validates cfg and builds a Deidentifier. Errors name the
// configuration key (transform: operators.EMAIL_ADDRESS: unknown operator
// "maks") and never contain key material. A keyed operator (hash,
// synthetic, tokenize without a Tokenizer) is refused without a key of at
// least 32 bytes.
func NewDeidentifier(cfg Config) (*Deidentifier, error) {
	used, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	d := &Deidentifier{
		byType: make(map[string]Operator, len(cfg.Operators)),
		byCat:  make(map[detect.Category]Operator, len(cfg.Categories)),
		def:    cfg.Default,
	}
	for t, op := range cfg.Operators {
		d.byType[t] = op
	}
	for c, op := range cfg.Categories {
		d.byCat[c] = op
	}
	if d.def == "" {
		d.def = DefaultOperator
	}

	d.mask = masker{char: cfg.Mask.Char, keep: cfg.Mask.Keep, sepTypes: map[string]bool{}}
	if d.mask.char == "" {
		d.mask.char = DefaultMaskChar
	}
	switch {
	case d.mask.keep == 0:
		d.mask.keep = DefaultMaskKeep
	case d.mask.keep < 0:
		d.mask.keep = 0
	}
	seps := cfg.Mask.KeepSeparators
	if seps == nil {
		seps = defaultSeparatorTypes()
	}
	for _, t := range seps {
		d.mask.sepTypes[t] = true
	}

	if _, ok := used[Hash]; ok {
		n := cfg.Hash.Bytes
		if n == 0 {
			n = DefaultHashBytes
		}
		if d.hash, err = newHasher(cfg.Key, n); err != nil {
			return nil, configError("key", "%v", err)
		}
	}
	if _, ok := used[Synthetic]; ok {
		if d.synth, err = newSynthesizer(cfg.Key); err != nil {
			return nil, configError("key", "%v", err)
		}
	}
	if _, ok := used[Tokenize]; ok {
		d.tokens = cfg.Tokenizer
		if d.tokens == nil {
			if d.tokens, err = NewStatelessTokens(cfg.Key); err != nil {
				return nil, configError("key", "%v", err)
			}
		}
	}
	return d, nil
}

// WithTokenizer returns a Deidentifier that shares d's configuration but
// issues tokens with t: the gateway builds one Deidentifier from the
// configuration and derives, per request, one bound to the tenant's vault.
// A nil t keeps d's Tokenizer.
func (d *Deidentifier) WithTokenizer(t Tokenizer) *Deidentifier {
	c := *d
	if t != nil {
		c.tokens = t
	}
	return &c
}

// Operator returns the operator for a finding of type typ in category
// cat: Operators[typ], else Categories[cat], else Default. Synthetic
// stays Synthetic here even for a type without a generator.
func (d *Deidentifier) Operator(typ string, cat detect.Category) Operator {
	if op, ok := d.byType[typ]; ok {
		return op
	}
	if op, ok := d.byCat[cat]; ok {
		return op
	}
	return d.def
}

// Stats counts the findings Apply rewrote, by type and operator.
type Stats struct {
	// Counts has one entry per (type, operator) pair, in the order the
	// pairs first occurred in the text.
	Counts []Count `json:"counts"`
}

// Count is the number of findings of one type rewritten by one operator.
// An operator that fell back (synthetic without a generator) is counted
// as the one that was applied (placeholder).
type Count struct {
	Type     string   `json:"type"`
	Operator Operator `json:"operator"`
	N        int      `json:"n"`
}

// Total returns the number of findings rewritten.
func (s Stats) Total() int {
	n := 0
	for _, c := range s.Counts {
		n += c.N
	}
	return n
}

// ForType returns the number of findings of type typ.
func (s Stats) ForType(typ string) int {
	n := 0
	for _, c := range s.Counts {
		if c.Type == typ {
			n += c.N
		}
	}
	return n
}

// ForOperator returns the number of findings rewritten by op.
func (s Stats) ForOperator(op Operator) int {
	n := 0
	for _, c := range s.Counts {
		if c.Operator == op {
			n += c.N
		}
	}
	return n
}

func (s *Stats) add(typ string, op Operator) {
	for i := range s.Counts {
		if c := &s.Counts[i]; c.Type == typ && c.Operator == op {
			c.N++
			return
		}
	}
	s.Counts = append(s.Counts, Count{Type: typ, Operator: op, N: 1})
}

// Apply rewrites every finding in text with its operator and returns the
// new text. findings must be sorted by Start, must not overlap and must lie
// within text (detect guarantees this); otherwise Apply fails without
// rewriting anything. An error from the Tokenizer fails the call (fail
// closed: no partly de-identified text is returned). Errors carry the
// finding's index, type and offsets, never its value.
func (d *Deidentifier) Apply(ctx context.Context, text string, findings []detect.Finding) (string, Stats, error) {
	var st Stats
	if len(findings) == 0 {
		return text, st, nil
	}
	prev := 0
	for i, f := range findings {
		if f.Start < prev || f.End < f.Start || f.End > len(text) {
			return "", Stats{}, fmt.Errorf("transform: finding %d (%s) at %d..%d is out of order, overlapping or outside the text (length %d)",
				i, f.Type, f.Start, f.End, len(text))
		}
		prev = f.End
	}
	var b strings.Builder
	b.Grow(len(text) + 16*len(findings))
	last := 0
	for i, f := range findings {
		b.WriteString(text[last:f.Start])
		last = f.End
		value := text[f.Start:f.End]
		op := d.Operator(f.Type, f.Category)
		switch op {
		case Redact:
		case Placeholder:
			writePlaceholder(&b, f.Type)
		case Mask:
			d.mask.write(&b, f.Type, value)
		case Hash:
			d.hash.write(&b, f.Type, value)
		case Tokenize:
			if !validType(f.Type) {
				return "", Stats{}, fmt.Errorf("transform: finding %d (%s) at %d..%d: %w", i, f.Type, f.Start, f.End, errBadType)
			}
			tok, err := d.tokens.Token(ctx, f.Type, value)
			if err != nil {
				return "", Stats{}, fmt.Errorf("transform: tokenize finding %d (%s) at %d..%d: %w", i, f.Type, f.Start, f.End, err)
			}
			b.WriteString(tok)
		case Synthetic:
			if !d.synth.write(&b, f.Type, value) {
				op = Placeholder
				writePlaceholder(&b, f.Type)
			}
		}
		st.add(f.Type, op)
	}
	b.WriteString(text[last:])
	return b.String(), st, nil
}

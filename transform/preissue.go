package transform

import (
	"context"
	"errors"

	"github.com/wardenhq/warden/detect"
)

// BatchTokenizer is a Tokenizer that issues many tokens in one call (the
// vault: one transaction instead of one per value).
type BatchTokenizer interface {
	Tokenizer
	TokenBatch(ctx context.Context, types, values []string) ([]string, error)
}

// errNotPreissued is returned by a preissued Tokenizer for a value that
// was not in its batch.
var errNotPreissued = errors.New("transform: token was not issued in the batch")

// Preissue issues, in one TokenBatch call, every token d would ask for
// when applied to findings[i] in texts[i], and returns a Tokenizer that
// answers from them: pass it to WithTokenizer. It returns nil when no
// finding uses the tokenize operator.
func (d *Deidentifier) Preissue(ctx context.Context, bt BatchTokenizer, texts []string, findings [][]detect.Finding) (Tokenizer, error) {
	type key struct{ typ, value string }
	seen := map[key]bool{}
	var types, values []string
	for i, fs := range findings {
		for _, f := range fs {
			if d.Operator(f.Type, f.Category) != Tokenize {
				continue
			}
			k := key{f.Type, texts[i][f.Start:f.End]}
			if !seen[k] {
				seen[k] = true
				types = append(types, k.typ)
				values = append(values, k.value)
			}
		}
	}
	if len(values) == 0 {
		return nil, nil
	}
	toks, err := bt.TokenBatch(ctx, types, values)
	if err != nil {
		return nil, err
	}
	issued := make(map[key]string, len(toks))
	for i, t := range toks {
		issued[key{types[i], values[i]}] = t
	}
	return TokenizerFunc(func(_ context.Context, typ, value string) (string, error) {
		if t, ok := issued[key{typ, value}]; ok {
			return t, nil
		}
		return "", errNotPreissued
	}), nil
}

package transform

import (
	"context"
	"strings"
	"testing"

	"github.com/wardenhq/warden/detect"
)

// countingBatch issues tokens and counts its calls.
type countingBatch struct {
	calls, values int
}

func (c *countingBatch) Token(ctx context.Context, typ, value string) (string, error) {
	t, err := c.TokenBatch(ctx, []string{typ}, []string{value})
	if err != nil {
		return "", err
	}
	return t[0], nil
}

func (c *countingBatch) TokenBatch(_ context.Context, types, values []string) ([]string, error) {
	c.calls++
	c.values += len(values)
	out := make([]string, len(values))
	for i := range values {
		out[i] = FormatToken(types[i], []byte(values[i]))
	}
	return out, nil
}

func TestPreissueOneBatchPerCall(t *testing.T) {
	bt := &countingBatch{}
	d, err := NewDeidentifier(Config{Default: Tokenize, Tokenizer: bt, Operators: map[string]Operator{"URL": Placeholder}})
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"a@x.io and b@x.io", "a@x.io again, see http://x"}
	fs := [][]detect.Finding{
		{{Type: "EMAIL_ADDRESS", Category: detect.PII, Start: 0, End: 6}, {Type: "EMAIL_ADDRESS", Category: detect.PII, Start: 11, End: 17}},
		{{Type: "EMAIL_ADDRESS", Category: detect.PII, Start: 0, End: 6}, {Type: "URL", Category: detect.Network, Start: 18, End: 26}},
	}
	tok, err := d.Preissue(context.Background(), bt, texts, fs)
	if err != nil {
		t.Fatal(err)
	}
	if bt.calls != 1 || bt.values != 2 {
		t.Fatalf("want one batch of the 2 distinct tokenized values, got %d calls, %d values", bt.calls, bt.values)
	}
	pd := d.WithTokenizer(tok)
	for i := range texts {
		out, _, err := pd.Apply(context.Background(), texts[i], fs[i])
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out, "@x.io") {
			t.Fatalf("not tokenized: %q", out)
		}
	}
	if bt.calls != 1 {
		t.Fatalf("Apply went back to the tokenizer: %d calls", bt.calls)
	}
	if _, err := tok.Token(context.Background(), "EMAIL_ADDRESS", "other@x.io"); err == nil {
		t.Fatal("a value outside the batch got a token")
	}
}

package transform

import (
	"context"
	"fmt"
	"strings"
)

// Tokenizer issues the token for a value (persistent vault or stateless key).
// The same type and value must give the same token for the same caller,
// so that a model sees one entity as one token. The returned string is
// the whole token in the wire format (see FormatToken).
type Tokenizer interface {
	Token(ctx context.Context, typ, value string) (string, error)
}

// Revealer returns the original for a token this caller may see; ok=false
// for unknown or foreign tokens (they are left as they are). An error means
// the revealer could not decide (a vault outage) and fails the Restore.
type Revealer interface {
	Reveal(ctx context.Context, tok TokenRef) (value string, ok bool, err error)
}

// BatchRevealer is a Revealer that can answer for many tokens at once (one
// cache pass or one database round trip). Restore uses it when the
// Revealer implements it. RevealBatch sets values[i] and found[i] for
// toks[i]; the three slices have the same length. The TokenRef IDs share
// one buffer and are valid only during the call: copy what you keep.
type BatchRevealer interface {
	Revealer
	RevealBatch(ctx context.Context, toks []TokenRef, values []string, found []bool) error
}

// RevealerFunc adapts a function to Revealer.
type RevealerFunc func(ctx context.Context, tok TokenRef) (string, bool, error)

// Reveal calls f.
func (f RevealerFunc) Reveal(ctx context.Context, tok TokenRef) (string, bool, error) {
	return f(ctx, tok)
}

// TokenizerFunc adapts a function to Tokenizer.
type TokenizerFunc func(ctx context.Context, typ, value string) (string, error)

// Token calls f.
func (f TokenizerFunc) Token(ctx context.Context, typ, value string) (string, error) {
	return f(ctx, typ, value)
}

// RestoreStats counts what Restore did.
type RestoreStats struct {
	// Tokens is the number of well-formed tokens found.
	Tokens int `json:"tokens"`
	// Restored is the number replaced by their original value.
	Restored int `json:"restored"`
	// Left is the number left in the text: unknown, foreign or mangled
	// beyond recognition by the Revealer.
	Left int `json:"left"`
}

// Restore replaces every token in text that r can reveal with its original
// value. Tokens r does not know stay as they are. An error from r fails the
// whole call and returns "" (fail closed: no half-restored text). A text
// without tokens is returned as it is, without copying.
//
// Restore works on plain text. To restore inside JSON, restore the decoded
// string values: an original may contain quotes or newlines.
func Restore(ctx context.Context, text string, r Revealer) (string, RestoreStats, error) {
	var st RestoreStats
	first := strings.IndexByte(text, '[')
	if first < 0 {
		return text, st, nil
	}
	// Locate tokens; decode every ID into one shared buffer. When the
	// buffer grows, IDs already sliced keep pointing into the old array,
	// which still holds their bytes.
	var (
		refs []TokenRef
		buf  []byte
	)
	off := first
	for {
		i := strings.IndexByte(text[off:], '[')
		if i < 0 {
			break
		}
		start := off + i
		t, ok := scanToken(text, start)
		if !ok {
			off = start + 1
			continue
		}
		if buf == nil {
			refs = make([]TokenRef, 0, 8)
			buf = make([]byte, 0, 256)
		}
		n := len(buf)
		if buf, ok = appendBase32(buf, t.body); !ok {
			buf = buf[:n]
			off = start + 1
			continue
		}
		refs = append(refs, TokenRef{Start: start, End: t.end, Type: t.typ, ID: buf[n:len(buf):len(buf)]})
		off = t.end
	}
	if len(refs) == 0 {
		return text, st, nil
	}
	st.Tokens = len(refs)

	values, ok := make([]string, len(refs)), make([]bool, len(refs))
	if br, isBatch := r.(BatchRevealer); isBatch {
		if err := br.RevealBatch(ctx, refs, values, ok); err != nil {
			return "", RestoreStats{}, fmt.Errorf("transform: restore %d tokens: %w", len(refs), err)
		}
	} else {
		for i := range refs {
			v, found, err := r.Reveal(ctx, refs[i])
			if err != nil {
				return "", RestoreStats{}, fmt.Errorf("transform: restore token at offset %d: %w", refs[i].Start, err)
			}
			values[i], ok[i] = v, found
		}
	}

	size := len(text)
	for i := range refs {
		if ok[i] {
			st.Restored++
			size += len(values[i]) - (refs[i].End - refs[i].Start)
		}
	}
	st.Left = st.Tokens - st.Restored
	if st.Restored == 0 {
		return text, st, nil
	}
	var b strings.Builder
	b.Grow(size)
	last := 0
	for i := range refs {
		if !ok[i] {
			continue
		}
		b.WriteString(text[last:refs[i].Start])
		b.WriteString(values[i])
		last = refs[i].End
	}
	b.WriteString(text[last:])
	return b.String(), st, nil
}

package transform

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func mustToken(t testing.TB, s *StatelessTokens, typ, value string) string {
	t.Helper()
	tok, err := s.Token(context.Background(), typ, value)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestRestoreSurvivesModelFormatting puts a token where a model tends to
// put it and expects Restore to find it there.
func TestRestoreSurvivesModelFormatting(t *testing.T) {
	s := newStateless(t, 1)
	const email = "jane.doe@acme.test"
	tok := mustToken(t, s, "EMAIL_ADDRESS", email)
	inner := tok[2 : len(tok)-2]
	jsonText, _ := json.Marshal(map[string]string{"reply": "Write to " + tok + ".\nThanks"})
	for _, c := range []struct{ name, in, want string }{
		{"bold", "Send it to **" + tok + "**.", "Send it to **" + email + "**."},
		{"italic", "_" + tok + "_", "_" + email + "_"},
		{"double quotes", `"` + tok + `"`, `"` + email + `"`},
		{"single quotes", "'" + tok + "'", "'" + email + "'"},
		{"typographic quotes", "“" + tok + "”", "“" + email + "”"},
		{"parentheses", "(" + tok + ")", "(" + email + ")"},
		{"code span", "`" + tok + "`", "`" + email + "`"},
		{"line end", "Contact:\n" + tok + "\nBye", "Contact:\n" + email + "\nBye"},
		{"end of text", "Contact " + tok, "Contact " + email},
		{"start of text", tok + ", thanks", email + ", thanks"},
		{"sentence end", "Mail " + tok + ".", "Mail " + email + "."},
		{"list item", "- " + tok + "\n- other", "- " + email + "\n- other"},
		{"table cell", "| " + tok + " |", "| " + email + " |"},
		{"markdown link text", "[" + tok + "](mailto:x)", "[" + email + "](mailto:x)"},
		{"no spaces around", "to:" + tok + "!", "to:" + email + "!"},
		{"repeated", tok + " and " + tok, email + " and " + email},
		{"json escaped", string(jsonText), strings.Replace(string(jsonText), tok, email, 1)},
		{"spaces inside brackets", "[[ " + inner + " ]]", email},
		{"dropped closing bracket", "[[" + inner + "] ok", email + " ok"},
		{"dropped opening bracket", "see [" + inner + "]]", "see " + email},
		{"escaped underscore", `[[EMAIL\_ADDRESS` + inner[len("EMAIL_ADDRESS"):] + "]]", email},
		{"lower-cased id", "[[EMAIL_ADDRESS" + strings.ToLower(inner[len("EMAIL_ADDRESS"):]) + "]]", email},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, st, err := Restore(context.Background(), c.in, s)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Fatalf("got  %q\nwant %q", got, c.want)
			}
			if st.Restored == 0 || st.Left != 0 || st.Tokens != st.Restored {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// TestRestoreFailsClosedOnMangledID changes, drops, inserts and swaps
// characters of a token's ID and expects the token to stay as it is:
// never a wrong value.
func TestRestoreFailsClosedOnMangledID(t *testing.T) {
	s := newStateless(t, 1)
	const value = "123-45-6789"
	tok := mustToken(t, s, "US_SSN", value)
	idStart, idEnd := len("[[US_SSN:"), len(tok)-2
	var mangled []string
	for i := idStart; i < idEnd; i++ {
		for _, c := range []byte("0AZ9") {
			if crockfordVal[c] != crockfordVal[tok[i]] {
				mangled = append(mangled, tok[:i]+string(c)+tok[i+1:])
			}
		}
		mangled = append(mangled, tok[:i]+tok[i+1:])   // dropped
		mangled = append(mangled, tok[:i]+"7"+tok[i:]) // inserted
		if i+1 < idEnd && tok[i] != tok[i+1] {         // swapped
			mangled = append(mangled, tok[:i]+tok[i+1:i+2]+tok[i:i+1]+tok[i+2:])
		}
	}
	mangled = append(mangled, "[[US_SSM"+tok[len("[[US_SSN"):], "[[PERSON"+tok[len("[[US_SSN"):])
	for _, m := range mangled {
		text := "SSN: " + m + " end"
		got, st, err := Restore(context.Background(), text, s)
		if err != nil || got != text || st.Restored != 0 {
			t.Fatalf("mangled %q restored to %q (%+v, %v)", m, got, st, err)
		}
	}
}

func TestRestoreLeavesUnknownTokens(t *testing.T) {
	mine, other := newStateless(t, 1), newStateless(t, 2)
	a := mustToken(t, mine, "PERSON", "Jane Doe")
	b := mustToken(t, other, "PERSON", "John Roe")
	c := FormatToken("PERSON", []byte("vault-id"))
	text := a + " met " + b + " and " + c + "; [[NOT A TOKEN]] [[X:1]]"
	got, st, err := Restore(context.Background(), text, mine)
	if err != nil {
		t.Fatal(err)
	}
	want := "Jane Doe met " + b + " and " + c + "; [[NOT A TOKEN]] [[X:1]]"
	if got != want || st != (RestoreStats{Tokens: 3, Restored: 1, Left: 2}) {
		t.Fatalf("got %q %+v", got, st)
	}
}

func TestRestoreDoesNotRecurse(t *testing.T) {
	s := newStateless(t, 1)
	inner := mustToken(t, s, "PERSON", "Jane")
	outer := mustToken(t, s, "SECRET", "value with "+inner)
	got, _, err := Restore(context.Background(), outer, s)
	if err != nil || got != "value with "+inner {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestRestoreFailsClosedOnRevealerError(t *testing.T) {
	s := newStateless(t, 1)
	tok := mustToken(t, s, "PERSON", "Jane Doe")
	outage := errors.New("vault unavailable")
	calls := 0
	r := RevealerFunc(func(_ context.Context, ref TokenRef) (string, bool, error) {
		calls++
		if calls == 2 {
			return "", false, outage
		}
		return s.Reveal(context.Background(), ref)
	})
	got, _, err := Restore(context.Background(), tok+" and "+tok, r)
	if !errors.Is(err, outage) || got != "" {
		t.Fatalf("got %q, %v", got, err)
	}
	if strings.Contains(err.Error(), "Jane") {
		t.Fatalf("error leaks a value: %v", err)
	}
	if got, _, err := Restore(context.Background(), tok, batchFunc(func() error { return outage })); !errors.Is(err, outage) || got != "" {
		t.Fatalf("batch: got %q, %v", got, err)
	}
}

type batchFunc func() error

func (f batchFunc) Reveal(context.Context, TokenRef) (string, bool, error) { return "", false, f() }
func (f batchFunc) RevealBatch(context.Context, []TokenRef, []string, []bool) error {
	return f()
}

// TestRestoreBatchAndSingleAgree checks Restore gives the same answer
// whether the Revealer answers in batches or one token at a time.
func TestRestoreBatchAndSingleAgree(t *testing.T) {
	s := newStateless(t, 1)
	var b strings.Builder
	for i := 0; i < 40; i++ {
		b.WriteString("item ")
		b.WriteString(mustToken(t, s, "PERSON", strings.Repeat("n", i)))
		b.WriteString(" [[X:00]] ")
	}
	text := b.String()
	single := RevealerFunc(s.Reveal)
	x, sx, err1 := Restore(context.Background(), text, s)
	y, sy, err2 := Restore(context.Background(), text, single)
	if err1 != nil || err2 != nil || x != y || sx != sy || sx.Restored != 40 {
		t.Fatalf("batch %+v single %+v (%v %v)", sx, sy, err1, err2)
	}
}

func TestRestoreWithoutTokens(t *testing.T) {
	r := batchFunc(func() error { return errors.New("must not be called") })
	for _, text := range []string{"", "plain text", "[link](x) [[wiki]] [a:b]"} {
		got, st, err := Restore(context.Background(), text, r)
		if err != nil || got != text || st != (RestoreStats{}) {
			t.Fatalf("%q: %q %+v %v", text, got, st, err)
		}
	}
}

func FuzzRestore(f *testing.F) {
	f.Add(uint8(0), "jane.doe@acme.test", "Hello ")
	f.Add(uint8(1), "", "")
	f.Add(uint8(2), "\x00\xff\xfe[[A:00]]", "**")
	f.Add(uint8(3), "名前 naïve", "\"")
	f.Add(uint8(4), strings.Repeat("z", 600), "[[X:")
	types := []string{"EMAIL_ADDRESS", "US_SSN", "PERSON", "A", "CREDIT_CARD_2"}
	s := newStateless(f, 1)
	f.Fuzz(func(t *testing.T, ti uint8, value, around string) {
		ctx := context.Background()
		typ := types[int(ti)%len(types)]
		// Random text alone never restores (that would be a forgery).
		if got, st, err := Restore(ctx, around+value, s); err != nil || got != around+value || st.Restored != 0 {
			t.Fatalf("forged restore: %+v %v", st, err)
		}
		tok, err := s.Token(ctx, typ, value)
		if errors.Is(err, ErrValueTooLong) {
			if len(value) <= MaxStatelessValueLen(typ) {
				t.Fatalf("value of %d bytes refused, limit %d", len(value), MaxStatelessValueLen(typ))
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := Restore(ctx, tok, s)
		if err != nil || got != value {
			t.Fatalf("restore(tokenize(x)) != x: %q", got)
		}
		// Around text without brackets cannot touch the token.
		clean := strings.NewReplacer("[", "", "]", "").Replace(around)
		text := clean + tok + clean
		got, _, err = Restore(ctx, text, s)
		if err != nil || got != clean+value+clean {
			t.Fatalf("restore in context failed")
		}
	})
}

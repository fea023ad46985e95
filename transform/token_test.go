package transform

import (
	"bytes"
	"strings"
	"testing"
)

func TestTokenRoundTrip(t *testing.T) {
	for _, id := range [][]byte{{0}, {1, 2, 3, 4, 5, 6, 7, 8}, bytes.Repeat([]byte{0xff}, 33)} {
		tok := FormatToken("EMAIL_ADDRESS", id)
		refs := FindTokens("see " + tok + " and more")
		if len(refs) != 1 || refs[0].Type != "EMAIL_ADDRESS" || !bytes.Equal(refs[0].ID, id) {
			t.Fatalf("%s: got %+v", tok, refs)
		}
		if refs[0].Start != 4 || refs[0].End != 4+len(tok) {
			t.Fatalf("%s: offsets %d..%d", tok, refs[0].Start, refs[0].End)
		}
	}
}

func TestTokenRejectsMangledID(t *testing.T) {
	tok := FormatToken("US_SSN", []byte{9, 8, 7, 6, 5, 4, 3, 2})
	b := []byte(tok)
	for i := len("[[US_SSN:"); i < len(b)-2; i++ {
		m := append([]byte(nil), b...)
		if m[i] == 'Z' {
			m[i] = 'Y'
		} else {
			m[i] = 'Z'
		}
		if refs := FindTokens(string(m)); len(refs) != 0 {
			t.Errorf("mangled %s accepted as %+v", m, refs)
		}
	}
}

func TestTokenIDCaseInsensitive(t *testing.T) {
	tok := FormatToken("PHONE_NUMBER", []byte("abcdefgh"))
	low := []byte(tok)
	for i := len("[[PHONE_NUMBER:"); i < len(low)-2; i++ {
		if low[i] >= 'A' && low[i] <= 'Z' {
			low[i] += 32
		}
	}
	refs := FindTokens(string(low))
	if len(refs) != 1 || string(refs[0].ID) != "abcdefgh" {
		t.Fatalf("lower-cased %s: %+v", low, refs)
	}
}

func TestTokenTolerated(t *testing.T) {
	id := []byte("0123456789")
	tok := FormatToken("EMAIL_ADDRESS", id) // [[EMAIL_ADDRESS:…]]
	inner := tok[2 : len(tok)-2]            // EMAIL_ADDRESS:…
	typ, body := inner[:len("EMAIL_ADDRESS")], inner[len("EMAIL_ADDRESS:"):]
	short := FormatToken("US_SSN", []byte{1, 2, 3}) // ID of 6 characters
	for _, c := range []struct {
		name, text string
		want       bool
	}{
		{"canonical", tok, true},
		{"spaces inside brackets", "[[ " + inner + " ]]", true},
		{"spaces around colon", "[[" + typ + " : " + body + "]]", true},
		{"missing opening bracket", "[" + inner + "]]", true},
		{"missing closing bracket", "[[" + inner + "]", true},
		{"markdown escaped underscore", `[[EMAIL\_ADDRESS:` + body + "]]", true},
		{"single brackets both sides", "[" + inner + "]", false},
		{"no brackets", inner, false},
		{"short ID with missing bracket", short[1:], false},
		{"short ID canonical", short, true},
		{"newline inside", "[[" + typ + ":\n" + body + "]]", false},
		{"lower-case type", "[[" + "email_address:" + body + "]]", false},
		{"changed type", "[[EMAIL_ADDRESX:" + body + "]]", false},
		{"unclosed", "[[" + inner, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			refs := FindTokens("x " + c.text + " y")
			if !c.want {
				if len(refs) != 0 {
					t.Fatalf("%q parsed as %+v", c.text, refs)
				}
				return
			}
			if len(refs) != 1 {
				t.Fatalf("%q: got %d tokens", c.text, len(refs))
			}
			r := refs[0]
			if r.Start != 2 || r.End != 2+len(c.text) {
				t.Errorf("offsets %d..%d, want 2..%d", r.Start, r.End, 2+len(c.text))
			}
			if r.Type != "EMAIL_ADDRESS" && r.Type != "US_SSN" {
				t.Errorf("type %q", r.Type)
			}
		})
	}
}

func TestTokenExtraBrackets(t *testing.T) {
	tok := FormatToken("PERSON", []byte("abcdefgh"))
	text := "[" + tok + "]"
	refs := FindTokens(text)
	if len(refs) != 1 || refs[0].Start != 1 || refs[0].End != 1+len(tok) {
		t.Fatalf("%q: %+v", text, refs)
	}
}

func TestTokenAdjacent(t *testing.T) {
	a := FormatToken("PERSON", []byte("abcdefgh"))
	b := FormatToken("LOCATION", []byte("ijklmnop"))
	refs := FindTokens(a + b + a)
	if len(refs) != 3 || refs[1].Start != len(a) || refs[2].Start != len(a)+len(b) {
		t.Fatalf("%+v", refs)
	}
}

func TestTokenTooLong(t *testing.T) {
	typ := "T"
	n := (MaxTokenLen - formattedLen(typ, 0)) * 5 / 8 // bytes that just fit
	for formattedLen(typ, n) > MaxTokenLen {
		n--
	}
	if got := FindTokens(FormatToken(typ, make([]byte, n))); len(got) != 1 {
		t.Fatalf("token of %d bytes (len %d) not found", n, formattedLen(typ, n))
	}
	if got := FindTokens(FormatToken(typ, make([]byte, n+1))); len(got) != 0 {
		t.Fatalf("token of %d bytes (len %d) accepted", n+1, formattedLen(typ, n+1))
	}
}

func FuzzFindTokens(f *testing.F) {
	for _, s := range []string{
		"", "[", "[[", "[[A:00]]", FormatToken("EMAIL_ADDRESS", []byte("hello")),
		"[[ EMAIL_ADDRESS : 00 ]]", `[[A\_B:ZZ]`, "[[[[A:1]]]]", "[A:0123456789]]",
		"x [[US_SSN:" + "\xff\x00" + "]] y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		refs := FindTokens(text)
		prev := 0
		for _, r := range refs {
			if r.Start < prev || r.End <= r.Start || r.End > len(text) || r.End-r.Start > MaxTokenLen {
				t.Fatalf("bad offsets %d..%d after %d in %d bytes", r.Start, r.End, prev, len(text))
			}
			if text[r.Start] != '[' || text[r.End-1] != ']' {
				t.Fatalf("token %d..%d does not span brackets", r.Start, r.End)
			}
			if !validType(r.Type) {
				t.Fatalf("bad type %q", r.Type)
			}
			again, ok := ParseTokenAt(text, r.Start)
			if !ok || again.End != r.End || again.Type != r.Type || !bytes.Equal(again.ID, r.ID) {
				t.Fatalf("ParseTokenAt disagrees at %d", r.Start)
			}
			canon := FormatToken(r.Type, r.ID)
			c, ok := ParseTokenAt(canon, 0)
			if !ok || c.Type != r.Type || !bytes.Equal(c.ID, r.ID) || c.End != len(canon) {
				t.Fatalf("canonical form %q does not round-trip", canon)
			}
			prev = r.End
		}
	})
}

// TestTokenNoFalseMatches runs bracketed text common in prompts, code and
// logs through FindTokens.
func TestTokenNoFalseMatches(t *testing.T) {
	for _, s := range []string{
		`[[1, 2], [3, 4]]`, `{"a": [[0, 1]]}`, `[[wiki link]]`, `[[Category:Foo]]`,
		`[INFO:2024-01-01] started`, `[ERROR:E42] failed`, `see [^1] and [1]`,
		`arr[i][j]`, `[[A:B]]`, `[[NOTE:TODO]]`, `[[x:00]]`, `[A:0123456789ABC]`,
		`- [ ] task`, `[[ ]]`, `[[:ABCDEF]]`, `[[TYPE:]]`, `[[TYPE: ]]`, `[TYPE:AB]]`,
		"[[" + strings.Repeat("A", 100) + ":00]]",
	} {
		if refs := FindTokens(s); len(refs) != 0 {
			t.Errorf("%q: %+v", s, refs)
		}
	}
}

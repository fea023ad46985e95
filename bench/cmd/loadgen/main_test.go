package main

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func luhnOK(s string) bool {
	s = strings.ReplaceAll(s, " ", "")
	sum := 0
	for i := range len(s) {
		v := int(s[len(s)-1-i] - '0')
		if i%2 == 1 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return sum%10 == 0
}

func TestCardIsLuhnValid(t *testing.T) {
	for _, known := range []struct {
		s  string
		ok bool
	}{{"4111 1111 1111 1111", true}, {"4111 1111 1111 1112", false}, {"4539 1488 0343 6467", true}} {
		if luhnOK(known.s) != known.ok {
			t.Fatalf("luhnOK(%q) = %v", known.s, !known.ok)
		}
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for range 1000 {
		c := card(rng)
		if len(c) != 19 || c[0] != '4' || !luhnOK(c) {
			t.Fatalf("card() = %q: not a Luhn-valid 16-digit Visa number", c)
		}
	}
}

func TestSummaryPercentiles(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	got := summary(d)
	want := stats{P50: 50, P90: 90, P99: 99, Max: 100, Mean: 50.5}
	if got != want {
		t.Fatalf("summary = %+v, want %+v", got, want)
	}
	if (summary(nil) != stats{}) {
		t.Fatal("summary(nil) is not zero")
	}
}

func TestPrompts(t *testing.T) {
	for _, pii := range []bool{true, false} {
		ps := makePrompts(options{model: "m", promptBytes: 2048, distinct: 3, pii: pii})
		for _, p := range ps {
			var req struct {
				Messages []struct{ Content string } `json:"messages"`
			}
			if err := json.Unmarshal(p.body, &req); err != nil {
				t.Fatal(err)
			}
			text := req.Messages[1].Content
			if len(text) < 1900 || len(text) > 2100 {
				t.Errorf("pii=%v: prompt is %d bytes, want about 2048", pii, len(text))
			}
			if pii != (p.check != "") || pii != strings.Contains(text, "@example.com") {
				t.Errorf("pii=%v: check %q, email present %v", pii, p.check, strings.Contains(text, "@"))
			}
			if !pii && strings.ContainsAny(text, "0123456789@") {
				t.Errorf("no-PII prompt contains digits or @")
			}
		}
	}
}

func TestReplyHas(t *testing.T) {
	stream := "data: {\"choices\":[{\"delta\":{\"content\":\"mail a@b\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\".com now\"}}]}\n\ndata: [DONE]\n\n"
	cases := []struct {
		body   string
		stream bool
		want   string
		ok     bool
	}{
		{`{"choices":[{"message":{"content":"mail a@b.com now"}}]}`, false, "a@b.com", true},
		{`{"choices":[{"message":{"content":"mail [[EMAIL_ADDRESS:X]]"}}]}`, false, "a@b.com", false},
		{`{"choices":[]}`, false, "a@b.com", false},
		{stream, true, "a@b.com", true},
		{stream, true, "c@d.com", false},
	}
	for i, c := range cases {
		if got := replyHas([]byte(c.body), c.stream, c.want); got != c.ok {
			t.Errorf("case %d: replyHas = %v, want %v", i, got, c.ok)
		}
	}
}

// FuzzReplyHas feeds arbitrary target responses to the reply check: it
// must not panic, and a JSON reply built around the wanted text must pass.
func FuzzReplyHas(f *testing.F) {
	f.Add([]byte(`{"choices":[{"message":{"content":"x"}}]}`), false, "x")
	f.Add([]byte("data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\ndata: [DONE]\n"), true, "x")
	f.Add([]byte("data: {\ndata: [DONE]"), true, "")
	f.Fuzz(func(t *testing.T, body []byte, stream bool, want string) {
		replyHas(body, stream, want)
		if !utf8.ValidString(want) {
			return // JSON encoding replaces invalid UTF-8
		}
		b, _ := json.Marshal(map[string]any{"choices": []any{map[string]any{"message": map[string]string{"content": "a" + want + "b"}}}})
		if !replyHas(b, false, want) {
			t.Fatalf("reply %s does not contain %q", b, want)
		}
	})
}

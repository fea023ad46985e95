package standin

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSplitDirective(t *testing.T) {
	cases := []struct {
		name, text, rest string
		check            func(d directive) bool
	}{
		{"no directive", "hello", "hello", func(d directive) bool { return d.line == "" }},
		{"last line", "hello\nstandin: n=2 tools=all", "hello", func(d directive) bool { return *d.n == 2 && *d.tools == -1 }},
		{"first line, indented", "  standin: ping=every retry_ms=1500\nhello\n", "hello\n",
			func(d directive) bool { return *d.ping == PingEvery && *d.retry == 1500*time.Millisecond }},
		{"whole message", "standin: status=503 fail=2", "", func(d directive) bool { return d.status == 503 && *d.fail == 2 }},
		{"mentioned mid-line is text", "say standin: n=2 please", "say standin: n=2 please", func(d directive) bool { return d.line == "" }},
		{"flags", "x\nstandin: interleave=1 logprobs=true refusal=off reasoning=on thinking=1 redacted=0 delta=3", "x",
			func(d directive) bool {
				return *d.interleave && *d.logprobs && !*d.refusal && *d.reasoning && *d.thinking && !*d.redacted && *d.delta == 3
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rest, d, err := splitDirective(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			if rest != tc.rest || !tc.check(d) {
				t.Errorf("rest %q, directive %+v", rest, d)
			}
		})
	}
}

// A bad directive names the key, never the value the request carried.
func TestBadDirectiveErrorsDoNotEchoValues(t *testing.T) {
	for _, line := range []string{
		"standin: n=jane.doe@example.com",
		"standin: jane.doe@example.com=1",
		"standin: 457-55-5462",
		"standin: tools=999",
	} {
		_, _, err := splitDirective(line)
		if !errors.Is(err, errDirective) {
			t.Fatalf("%q: %v", line, err)
		}
		for _, v := range []string{"jane", "457", "999"} {
			if strings.Contains(err.Error(), v) {
				t.Errorf("%q: error %q repeats the request's text", line, err)
			}
		}
	}
}

func FuzzSplitDirective(f *testing.F) {
	for _, s := range []string{"hi", "hi\nstandin: n=2", "standin: tools=all interleave=1\n", "standin:", "standin: =", "a\r\nstandin: ping=every\r\nb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rest, _, _ := splitDirective(s)
		for _, l := range strings.Split(rest, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), directivePrefix) {
				t.Fatalf("echo %q keeps a directive line", rest)
			}
		}
		if len(rest) > len(s) {
			t.Fatalf("echo %q is longer than the text %q", rest, s)
		}
	})
}

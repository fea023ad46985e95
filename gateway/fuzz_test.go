package gateway

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/wardenhq/warden/detect"
	"github.com/wardenhq/warden/policy"
)

// fuzzServer is a gateway with the real detector and policy; its
// upstream is never called.
func fuzzServer(t testing.TB) *Server {
	t.Helper()
	eng, err := detect.New(detect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.New(policy.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Upstreams: []*Upstream{{Name: "u", URL: "http://127.0.0.1:1/v1", Models: []string{"*"}}}},
		Deps{Auth: AuthenticatorFunc(func(*http.Request) (*Principal, error) { return nil, ErrUnauthenticated }),
			Detector: eng, Policy: pol})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var fuzzBodies = []string{
	`{"model":"m","messages":[{"role":"user","content":"hello there"}]}`,
	`{"model":"m","messages":[{"role":"user","name":"jane.roe@example.org","content":"hi"}]}`,
	`{"model":"m","stream":true,"messages":[{"role":"user","content":[{"type":"text","text":"SSN 457-55-5462"}]}]}`,
	`{"model":"m","tools":[{"type":"function","function":{"name":"mail_a@b.co","parameters":{"type":"object"}}}],"messages":[]}`,
	`{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{\"card\":\"4111 1111 1111 1111\"}"}}]}]}`,
	`{"model":"m","input":[{"role":"user","content":[{"type":"input_image","image_url":"data:image/png;base64,iVBORw0KGgo="}]}]}`,
	`{"model":"m","messages":[{"role":"user","content":"caf\u00e9 \ud83d\ude00 \"quoted\" \\ back"}],"temperature":0.5,"n":1,"stop":null}`,
	`{"model":"m","model":"m2","messages":[]}`,
	`{"model":"m","\u0073tream":true,"messages":[]}`,
	`{"model":"m","stream":true,"stream":1}`, `{"model":"m","model":null}`, `{"model":"m","stream":false,"stream":true}`,
	`{"model":7}`, `[]`, `{"model":"m"} {}`, `{"model":"m","x":[[[[[[1]]]]]]}`, "{\"model\":\"m\",\"a\":\"\xff\"}",
	`{"model":"claude","system":"You are Dr. Amara Okafor's assistant","messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AKIAIOSFODNN7EXAMPLE"}}]}]}`,
}

// The fast path may let a request body through untouched only when the
// document path would have found nothing to change in it: whatever the
// bytes, scanRequest's "ok" implies that decodeObject accepts the body,
// reads the same model and stream flag, and that no slot has a finding.
func FuzzFastPathAgreesWithDocumentPath(f *testing.F) {
	for _, b := range fuzzBodies {
		f.Add([]byte(b))
	}
	s := fuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		model, stream, ok := s.scanRequest(body)
		if !ok {
			return
		}
		obj, err := decodeObject(body, s.cfg.MaxJSONDepth)
		if err != nil {
			t.Fatalf("fast path passed a body the document path refuses: %v", err)
		}
		if m, _ := obj["model"].(string); m != model {
			t.Fatalf("model %q, document path reads %q", model, m)
		}
		if st, _ := obj["stream"].(bool); st != stream {
			t.Fatalf("stream %v, document path reads %v", stream, st)
		}
		for _, sl := range collectSlots(obj) {
			if fs := s.deps.Detector.Scan(sl.value); len(fs) > 0 {
				t.Fatalf("fast path passed a body whose slot holds %s", fs[0].Type)
			}
		}
	})
}

// The same for responses: cleanResponse's "clean" implies that the
// response decodes, that the guard would change no string, and that the
// usage it read is the document's.
func FuzzCleanResponseAgreesWithGuard(f *testing.F) {
	for _, b := range []string{
		`{"id":"c1","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"All clear."}}],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}`,
		`{"choices":[{"message":{"content":"your SSN is 457-55-5462"}}]}`,
		`{"choices":[{"message":{"content":"hello [[EMAIL_ADDRESS:ABCDEFGHJKMNPQ]]"}}]}`,
		`{"response":{"output":[{"type":"message","content":[{"type":"output_text","text":"ok"}]}],"usage":{"input_tokens":5,"output_tokens":6}}}`,
		`{"choices":[{"message":{"tool_calls":[{"function":{"name":"x@y.zz","arguments":"{}"}}]}}]}`,
		`{"usage":{"total_tokens":1e3}}`, `{"usage":{"total_tokens":5,"total_tokens":null}}`, `{"model":"m","usage":{"total_tokens":"7"}}`, `{"usage":{"total_tokens":-5}}`, `"just a string"`, `{`,
	} {
		f.Add([]byte(b))
	}
	s := fuzzServer(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		u, clean := s.cleanResponse(raw, nil)
		if !clean {
			return
		}
		var doc any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("clean response does not decode: %v", err)
		}
		walkStrings(doc, func(key string, parent map[string]any, v string, _ func(string)) {
			if structuralKey(key, parent) || v == "" {
				return
			}
			if hasToken(v) {
				t.Fatalf("clean response holds a token")
			}
			if fs := s.deps.Detector.Scan(v); len(fs) > 0 {
				t.Fatalf("clean response holds %s", fs[0].Type)
			}
		})
		if d := usageOf(doc); d.tokens() != u.tokens() {
			t.Fatalf("usage %d, document reads %d", u.tokens(), d.tokens())
		}
	})
}

// readEvent never panics, never returns more than maxEventBytes of data,
// and ends every input with io.EOF or a malformed-stream error.
func FuzzReadEvent(f *testing.F) {
	for _, b := range []string{
		"data: {\"a\":1}\n\n", "event: x\ndata: a\ndata: b\n\n", ": comment\n\ndata: [DONE]\n\n",
		"data: no end", "id: 1\nretry: 5\n\n", "data\n\n", "\r\n\r\ndata: x\r\n\r\n",
	} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(in), 4096)
		for i := 0; ; i++ {
			ev, err := readEvent(br)
			if err != nil {
				if err != io.EOF && !errors.Is(err, errMalformedStream) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				return
			}
			if len(ev.data) > maxEventBytes {
				t.Fatalf("event of %d bytes", len(ev.data))
			}
			if i > len(in) {
				t.Fatal("more events than input bytes")
			}
		}
	})
}

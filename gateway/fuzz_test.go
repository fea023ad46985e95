package gateway

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/wardenhq/warden/detect"
	"github.com/wardenhq/warden/policy"
	"github.com/wardenhq/warden/transform"
)

// fuzzServer is a gateway with the real detector and policy in front of
// an in-process upstream that records the bodies it gets and answers
// reply.
func fuzzServer(t testing.TB, reply string) (*Server, *recorder) {
	t.Helper()
	eng, err := detect.New(detect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.New(policy.Config{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{reply: reply}
	key, _ := transform.NewKey(bytes.Repeat([]byte{7}, 32))
	s, err := New(Config{Upstreams: []*Upstream{{Name: "u", Handler: rec, Models: []string{"*"}}}, Key: key},
		Deps{Auth: AuthenticatorFunc(func(*http.Request) (*Principal, error) {
			return &Principal{Name: "fuzz", Tenant: "t", Models: []string{"*"}}, nil
		}), Detector: eng, Policy: pol})
	if err != nil {
		t.Fatal(err)
	}
	return s, rec
}

// recorder is an upstream that keeps the last body it got.
type recorder struct {
	mu    sync.Mutex
	last  []byte
	reply string
	raw   []byte // when set, written instead of reply
}

func (r *recorder) setRaw(b []byte) {
	r.mu.Lock()
	r.raw = b
	r.mu.Unlock()
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.last = b
	reply, raw := r.reply, r.raw
	r.mu.Unlock()
	ct := "application/json"
	if strings.HasPrefix(reply, "data:") || strings.HasPrefix(reply, "event:") {
		ct = "text/event-stream"
	}
	w.Header().Set("Content-Type", ct)
	if raw != nil {
		w.Write(raw)
		return
	}
	io.WriteString(w, reply)
}

func (r *recorder) take() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.last
	r.last = nil
	return b
}

// rawFindings returns the findings in the strings, keys and long
// numbers of doc that the default policy would have rewritten (PII,
// FINANCIAL, HEALTH) and that are not inside a token.
func rawFindings(t *testing.T, eng *detect.Engine, doc []byte) []string {
	var out []string
	_, err := detect.WalkJSON(doc, mustJSON(t, detect.JSONConfig{Keys: true, NoKeyContext: true}), func(v detect.JSONValue) (string, bool, error) {
		toks := transform.FindTokens(v.Value)
		for _, f := range eng.Scan(v.Value) {
			switch f.Category {
			case detect.PII, detect.Financial, detect.Health:
			default:
				continue
			}
			if v.Number && digitCount(v.Value) < 9 || overlapsToken(f, toks) {
				continue
			}
			out = append(out, f.Type+" at "+v.Path)
		}
		return "", false, nil
	})
	if err != nil {
		t.Fatalf("upstream body is not JSON the walker reads: %v\n%s", err, doc)
	}
	return out
}

func mustJSON(t *testing.T, c detect.JSONConfig) *detect.JSONOptions {
	o, err := detect.CompileJSON(c)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// Whatever the caller sends, what reaches the upstream is one valid JSON
// document in which no string, key or long number holds a value the
// policy tokenizes (outside its token).
func FuzzNothingRawReachesTheUpstream(f *testing.F) {
	for _, b := range fuzzBodies {
		f.Add([]byte(b))
	}
	s, rec := fuzzServer(f, `{"id":"x","object":"chat.completion","choices":[]}`)
	eng, _ := detect.New(detect.Config{})
	f.Fuzz(func(t *testing.T, body []byte) {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest("POST", "/v1/chat/completions", bytes.NewReader(body)))
		up := rec.take()
		if up == nil {
			return
		}
		if w.Code != 200 {
			t.Fatalf("upstream called, but the caller got %d", w.Code)
		}
		if !json.Valid(up) {
			t.Fatalf("upstream got invalid JSON:\n%s", up)
		}
		if raw := rawFindings(t, eng, up); len(raw) > 0 {
			t.Fatalf("upstream got raw values (%v) for input\n%q\nupstream body\n%s", raw, body, up)
		}
	})
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

// Whatever an upstream streams, the caller gets well-formed events: each
// one's data is a JSON document or [DONE], and the gateway never passes
// raw bytes it could not read.
func FuzzStreamRewriter(f *testing.F) {
	for _, b := range []string{
		"data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"mail jane.canary@exa\"}}]}\n\n" +
			"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"mple.com SSN 457-55-5462\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
		"data: {\"choices\":[{\"index\":1,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c1\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\":\"}}]}}]}\n\n" +
			"data: {\"choices\":[{\"index\":1,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"[[EMAIL_ADDRESS:AB\"}}]}}]}\n\ndata: [DONE]\n\n",
		"event: x\nid: 7\ndata: {\"a\":1}\n\n: comment\n\ndata: {not json\n\n",
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"logprobs\":{\"content\":[{\"token\":\"a\",\"logprob\":0}]}}]}\n\n",
	} {
		f.Add([]byte(b))
	}
	s, rec := fuzzServer(f, "")
	f.Fuzz(func(t *testing.T, stream []byte) {
		rec.mu.Lock()
		rec.reply = "data: " // marks the reply as an event stream for the recorder
		rec.mu.Unlock()
		rec.setRaw(stream)
		w := httptest.NewRecorder()
		body := `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`
		s.ServeHTTP(w, httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(body)))
		if w.Code != 200 {
			return
		}
		br := bufio.NewReader(bytes.NewReader(w.Body.Bytes()))
		for {
			ev, err := readEvent(br)
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatalf("the gateway wrote a malformed event stream: %v\n%q", err, w.Body.Bytes())
			}
			if string(ev.data) != "[DONE]" && !json.Valid(ev.data) {
				t.Fatalf("event data is not JSON: %q\nfor upstream stream %q", ev.data, stream)
			}
		}
	})
}

package gateway

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wardenhq/warden/audit/event"
)

// BenchmarkRequestPath measures the request side of the pipeline on a
// 2 KB chat body without findings: decode's top-level walk and
// inspect's scan of every value.
func BenchmarkRequestPath(b *testing.B) {
	s, _ := fuzzServer(b, `{}`)
	body := []byte(`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"` +
		strings.Repeat("Please summarise the quarterly planning notes and list the open risks. ", 28) + `"}],"temperature":0.2}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		x := &exchange{sh: shapeChat, rec: &event.Record{Findings: map[string]int{}}, body: body, r: &http.Request{Header: http.Header{}},
			p: &Principal{Name: "p", Models: []string{"*"}}}
		if _, err := s.topLevel(x.sh, body); err != nil {
			b.Fatal(err)
		}
		if _, err := s.scanRequest(x); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResponseGuard measures guarding a JSON chat response without
// findings or tokens.
func BenchmarkResponseGuard(b *testing.B) {
	s, _ := fuzzServer(b, `{}`)
	raw := []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"` +
		strings.Repeat("Here is the summary of the notes with the risks listed below. ", 30) + `"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30}}`)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		x := &exchange{sh: shapeChat, rec: &event.Record{}}
		if _, err := s.guardJSON(b.Context(), x, raw); err != nil {
			b.Fatal(err)
		}
	}
}

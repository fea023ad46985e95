// Package standin is a stand-in model upstream: it speaks the OpenAI and
// Anthropic HTTP APIs and answers every request by echoing the text it
// received, so a caller can see exactly what a model would have been sent.
//
// `warden serve` uses it as the built-in "echo" upstream when none is
// configured; tests and benchmarks use it as the model behind the gateway,
// with knobs to split streams into tiny writes and to record requests.
package standin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Options tune a Server. The zero value echoes with 8-byte deltas and
// writes each SSE event whole.
type Options struct {
	// DeltaBytes is how much reply text goes in one stream event.
	// Default 8. Deltas may split a UTF-8 character? No: they are cut on
	// rune boundaries, as real models do.
	DeltaBytes int
	// WriteBytes, when > 0, splits the response body into writes of this
	// many bytes, each flushed, so SSE events and JSON arrive in pieces.
	WriteBytes int
	// Prefix is written before the echoed text. Default "".
	Prefix string
	// Record keeps every request's headers and body for inspection.
	Record bool
	// Models lists the models /models reports. Default ["echo"].
	Models []string
	// ShowTokens writes Warden's tokens in the echo with ⟦ ⟧ instead of
	// [[ ]], so the gateway does not restore them and a person sees
	// exactly what the model received.
	ShowTokens bool
}

// Request is a recorded request.
type Request struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// Server is the stand-in upstream. It is an http.Handler; mount it at the
// API's base path (requests may or may not carry a /v1 prefix).
type Server struct {
	opt  Options
	mu   sync.Mutex
	reqs []Request
}

// New returns a stand-in upstream.
func New(opt Options) *Server {
	if opt.DeltaBytes <= 0 {
		opt.DeltaBytes = 8
	}
	if len(opt.Models) == 0 {
		opt.Models = []string{"echo"}
	}
	return &Server{opt: opt}
}

// Requests returns the recorded requests.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// ServeHTTP answers one API call.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		http.Error(w, "read error", http.StatusBadRequest)
		return
	}
	if s.opt.Record {
		s.mu.Lock()
		s.reqs = append(s.reqs, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		s.mu.Unlock()
	}
	path := strings.TrimPrefix(r.URL.Path, "/v1")
	if r.Method == http.MethodGet && path == "/models" {
		s.models(w)
		return
	}
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"message": "invalid JSON", "type": "invalid_request_error"}})
		return
	}
	model, _ := req["model"].(string)
	stream, _ := req["stream"].(bool)
	ww := &splitWriter{w: w, n: s.opt.WriteBytes}
	switch path {
	case "/chat/completions":
		s.chat(ww, req, model, stream)
	case "/completions":
		s.completions(ww, req, model, stream)
	case "/responses":
		s.responses(ww, req, model, stream)
	case "/messages":
		s.messages(ww, req, model, stream)
	case "/embeddings":
		s.embeddings(ww, req, model)
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{"message": "unknown path " + path, "type": "invalid_request_error"}})
	}
}

func (s *Server) models(w http.ResponseWriter) {
	var data []any
	for _, m := range s.opt.Models {
		data = append(data, map[string]any{"id": m, "object": "model", "created": 1700000000, "owned_by": "standin"})
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
}

// lastUserText returns the text of the last user message (string content
// or the text parts of content blocks), or the prompt/input as a string.
func lastUserText(req map[string]any) string {
	if msgs, ok := req["messages"].([]any); ok {
		for i := len(msgs) - 1; i >= 0; i-- {
			m, _ := msgs[i].(map[string]any)
			if m["role"] == "user" {
				return contentText(m["content"])
			}
		}
	}
	if p, ok := req["prompt"].(string); ok {
		return p
	}
	switch in := req["input"].(type) {
	case string:
		return in
	case []any:
		for i := len(in) - 1; i >= 0; i-- {
			m, _ := in[i].(map[string]any)
			if m["role"] == "user" {
				return contentText(m["content"])
			}
		}
	}
	return ""
}

func contentText(c any) string {
	switch v := c.(type) {
	case string:
		return v
	case []any:
		var parts []string
		for _, p := range v {
			m, _ := p.(map[string]any)
			if t, ok := m["text"].(string); ok {
				parts = append(parts, t)
			}
		}
		return strings.Join(parts, "\n")
	}
	return ""
}

// toolCall returns the first tool's name when the request offers tools
// and the user text starts with "call:": the stand-in then answers with a
// tool call whose arguments echo the rest of the text.
func toolCall(req map[string]any, text string) (name, args string, ok bool) {
	tools, _ := req["tools"].([]any)
	if len(tools) == 0 || !strings.HasPrefix(text, "call:") {
		return "", "", false
	}
	t, _ := tools[0].(map[string]any)
	name, _ = t["name"].(string)
	if f, ok := t["function"].(map[string]any); ok {
		name, _ = f["name"].(string)
	}
	a, _ := json.Marshal(map[string]string{"text": strings.TrimSpace(strings.TrimPrefix(text, "call:"))})
	return name, string(a), true
}

func (s *Server) reply(req map[string]any) string {
	t := s.opt.Prefix + lastUserText(req)
	if s.opt.ShowTokens {
		t = strings.NewReplacer("[[", "⟦", "]]", "⟧").Replace(t)
	}
	return t
}

// deltas cuts text into pieces of about n bytes on rune boundaries.
func deltas(text string, n int) []string {
	var out []string
	for len(text) > 0 {
		k := n
		if k >= len(text) {
			k = len(text)
		} else {
			for k > 0 && !utf8.RuneStart(text[k]) {
				k--
			}
			if k == 0 {
				_, k = utf8.DecodeRuneInString(text)
			}
		}
		out = append(out, text[:k])
		text = text[k:]
	}
	return out
}

func usage(in, out string) map[string]any {
	pi, co := len(in)/4+1, len(out)/4+1
	return map[string]any{"prompt_tokens": pi, "completion_tokens": co, "total_tokens": pi + co}
}

func (s *Server) chat(w *splitWriter, req map[string]any, model string, stream bool) {
	text := s.reply(req)
	id := "chatcmpl-standin"
	name, args, isTool := toolCall(req, lastUserText(req))
	if !stream {
		msg := map[string]any{"role": "assistant", "content": text}
		finish := "stop"
		if isTool {
			msg = map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{map[string]any{
				"id": "call_1", "type": "function", "function": map[string]any{"name": name, "arguments": args}}}}
			finish = "tool_calls"
		}
		w.json(http.StatusOK, map[string]any{"id": id, "object": "chat.completion", "created": time.Now().Unix(), "model": model,
			"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}}, "usage": usage(text, text)})
		return
	}
	w.sseHeader()
	chunk := func(delta map[string]any, finish any) map[string]any {
		return map[string]any{"id": id, "object": "chat.completion.chunk", "created": time.Now().Unix(), "model": model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}}
	}
	w.event("", chunk(map[string]any{"role": "assistant", "content": ""}, nil))
	if isTool {
		w.event("", chunk(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "id": "call_1", "type": "function",
			"function": map[string]any{"name": name, "arguments": ""}}}}, nil))
		for _, d := range deltas(args, s.opt.DeltaBytes) {
			w.event("", chunk(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "function": map[string]any{"arguments": d}}}}, nil))
		}
		w.event("", chunk(map[string]any{}, "tool_calls"))
	} else {
		for _, d := range deltas(text, s.opt.DeltaBytes) {
			w.event("", chunk(map[string]any{"content": d}, nil))
		}
		w.event("", chunk(map[string]any{}, "stop"))
	}
	w.raw("data: [DONE]\n\n")
}

func (s *Server) completions(w *splitWriter, req map[string]any, model string, stream bool) {
	text := s.reply(req)
	if !stream {
		w.json(http.StatusOK, map[string]any{"id": "cmpl-standin", "object": "text_completion", "created": time.Now().Unix(), "model": model,
			"choices": []any{map[string]any{"index": 0, "text": text, "finish_reason": "stop"}}, "usage": usage(text, text)})
		return
	}
	w.sseHeader()
	for _, d := range deltas(text, s.opt.DeltaBytes) {
		w.event("", map[string]any{"id": "cmpl-standin", "object": "text_completion", "model": model,
			"choices": []any{map[string]any{"index": 0, "text": d, "finish_reason": nil}}})
	}
	w.event("", map[string]any{"id": "cmpl-standin", "object": "text_completion", "model": model,
		"choices": []any{map[string]any{"index": 0, "text": "", "finish_reason": "stop"}}})
	w.raw("data: [DONE]\n\n")
}

func (s *Server) responses(w *splitWriter, req map[string]any, model string, stream bool) {
	text := s.reply(req)
	msg := map[string]any{"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
		"content": []any{map[string]any{"type": "output_text", "text": text, "annotations": []any{}}}}
	resp := map[string]any{"id": "resp_standin", "object": "response", "created_at": time.Now().Unix(), "model": model,
		"status": "completed", "output": []any{msg},
		"usage": map[string]any{"input_tokens": len(text)/4 + 1, "output_tokens": len(text)/4 + 1, "total_tokens": len(text)/2 + 2}}
	if !stream {
		w.json(http.StatusOK, resp)
		return
	}
	w.sseHeader()
	seq := 0
	ev := func(typ string, m map[string]any) {
		m["type"] = typ
		m["sequence_number"] = seq
		seq++
		w.event(typ, m)
	}
	inProgress := map[string]any{"id": "resp_standin", "object": "response", "model": model, "status": "in_progress", "output": []any{}}
	ev("response.created", map[string]any{"response": inProgress})
	ev("response.output_item.added", map[string]any{"output_index": 0, "item": map[string]any{"id": "msg_1", "type": "message", "role": "assistant", "status": "in_progress", "content": []any{}}})
	ev("response.content_part.added", map[string]any{"item_id": "msg_1", "output_index": 0, "content_index": 0, "part": map[string]any{"type": "output_text", "text": "", "annotations": []any{}}})
	for _, d := range deltas(text, s.opt.DeltaBytes) {
		ev("response.output_text.delta", map[string]any{"item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": d})
	}
	ev("response.output_text.done", map[string]any{"item_id": "msg_1", "output_index": 0, "content_index": 0, "text": text})
	ev("response.content_part.done", map[string]any{"item_id": "msg_1", "output_index": 0, "content_index": 0, "part": map[string]any{"type": "output_text", "text": text, "annotations": []any{}}})
	ev("response.output_item.done", map[string]any{"output_index": 0, "item": msg})
	ev("response.completed", map[string]any{"response": resp})
}

func (s *Server) messages(w *splitWriter, req map[string]any, model string, stream bool) {
	text := s.reply(req)
	use := map[string]any{"input_tokens": len(text)/4 + 1, "output_tokens": len(text)/4 + 1}
	if !stream {
		w.json(http.StatusOK, map[string]any{"id": "msg_standin", "type": "message", "role": "assistant", "model": model,
			"content": []any{map[string]any{"type": "text", "text": text}}, "stop_reason": "end_turn", "stop_sequence": nil, "usage": use})
		return
	}
	w.sseHeader()
	w.event("message_start", map[string]any{"type": "message_start", "message": map[string]any{"id": "msg_standin", "type": "message",
		"role": "assistant", "model": model, "content": []any{}, "stop_reason": nil, "stop_sequence": nil, "usage": map[string]any{"input_tokens": use["input_tokens"], "output_tokens": 1}}})
	w.event("content_block_start", map[string]any{"type": "content_block_start", "index": 0, "content_block": map[string]any{"type": "text", "text": ""}})
	for _, d := range deltas(text, s.opt.DeltaBytes) {
		w.event("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0, "delta": map[string]any{"type": "text_delta", "text": d}})
	}
	w.event("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
	w.event("message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": "end_turn", "stop_sequence": nil}, "usage": map[string]any{"output_tokens": use["output_tokens"]}})
	w.event("message_stop", map[string]any{"type": "message_stop"})
}

func (s *Server) embeddings(w *splitWriter, req map[string]any, model string) {
	var inputs []string
	switch in := req["input"].(type) {
	case string:
		inputs = []string{in}
	case []any:
		for _, v := range in {
			if t, ok := v.(string); ok {
				inputs = append(inputs, t)
			}
		}
	}
	var data []any
	for i, t := range inputs {
		// A tiny deterministic "embedding": byte histogram buckets.
		vec := make([]float64, 8)
		for j := 0; j < len(t); j++ {
			vec[int(t[j])%8]++
		}
		data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": vec})
	}
	w.json(http.StatusOK, map[string]any{"object": "list", "data": data, "model": model,
		"usage": map[string]any{"prompt_tokens": len(strings.Join(inputs, " "))/4 + 1, "total_tokens": len(strings.Join(inputs, " "))/4 + 1}})
}

// splitWriter writes responses, optionally in tiny flushed pieces.
type splitWriter struct {
	w http.ResponseWriter
	n int
}

func (s *splitWriter) write(b []byte) {
	f, _ := s.w.(http.Flusher)
	if s.n <= 0 {
		s.w.Write(b)
		if f != nil {
			f.Flush()
		}
		return
	}
	for len(b) > 0 {
		k := s.n
		if k > len(b) {
			k = len(b)
		}
		s.w.Write(b[:k])
		if f != nil {
			f.Flush()
		}
		b = b[k:]
	}
}

func (s *splitWriter) json(status int, v any) {
	b, _ := json.Marshal(v)
	s.w.Header().Set("Content-Type", "application/json")
	s.w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	s.w.WriteHeader(status)
	s.write(b)
}

func (s *splitWriter) sseHeader() {
	s.w.Header().Set("Content-Type", "text/event-stream")
	s.w.Header().Set("Cache-Control", "no-cache")
	s.w.WriteHeader(http.StatusOK)
}

func (s *splitWriter) event(name string, v any) {
	var b bytes.Buffer
	if name != "" {
		fmt.Fprintf(&b, "event: %s\n", name)
	}
	d, _ := json.Marshal(v)
	b.WriteString("data: ")
	b.Write(d)
	b.WriteString("\n\n")
	s.write(b.Bytes())
}

func (s *splitWriter) raw(t string) { s.write([]byte(t)) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

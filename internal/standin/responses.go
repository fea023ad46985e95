package standin

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
)

// opaque returns n deterministic bytes derived from seed: the stand-in's
// encrypted reasoning, thinking signatures and redacted thinking, which a
// client must pass back byte for byte and never read.
func opaque(seed string, n int) []byte {
	var out []byte
	h := sha256.Sum256([]byte(seed))
	for len(out) < n {
		out = append(out, h[:]...)
		h = sha256.Sum256(h[:])
	}
	return out[:n]
}

// encryptedReasoning is a reasoning item's encrypted_content, shaped like
// OpenAI's: a Fernet token (version byte 0x80, a big-endian timestamp,
// IV, ciphertext, HMAC) in URL-safe base64 with padding, so it starts
// "gAAAAAB" as theirs do.
func encryptedReasoning(seed string) string {
	head := []byte{0x80, 0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00} // version, Unix 1700000000
	return base64.URLEncoding.EncodeToString(append(head, opaque("reasoning "+seed, 16+64+32)...))
}

// responseItem is one output item of a Responses answer: the events
// that stream it and the item as it ends.
type responseItem struct {
	events []sseEvent
	done   obj
}

// rev is a Responses stream event; its sequence_number is set when it is
// written.
func rev(typ string, fields ...kv) sseEvent {
	return sseEvent{name: typ, data: append(obj{{"type", typ}, {"sequence_number", 0}}, fields...)}
}

// responses answers POST /responses.
func (x *exchange) responses(req map[string]any, p plan) {
	var reasoning []*responseItem
	var rest []*responseItem
	outIndex := 0
	outTokens, reasoningTokens := 0, 0
	if p.reasoning {
		reasoning = append(reasoning, x.reasoningItem(outIndex, p))
		outIndex++
		reasoningTokens = tokens(p.echo)
	}
	if len(p.calls) > 0 {
		for i, c := range p.calls {
			rest = append(rest, x.functionCallItem(outIndex, i, c, p))
			outIndex++
			outTokens += tokens(c.args)
		}
	} else {
		rest = append(rest, x.messageItem(outIndex, p))
		outTokens += tokens(p.text)
	}
	var final []any
	for _, it := range append(append([]*responseItem(nil), reasoning...), rest...) {
		final = append(final, it.done)
	}
	in := tokens(lastUserText(req))
	usage := obj{{"input_tokens", in}, {"input_tokens_details", obj{{"cached_tokens", 0}}},
		{"output_tokens", outTokens + reasoningTokens}, {"output_tokens_details", obj{{"reasoning_tokens", reasoningTokens}}},
		{"total_tokens", in + outTokens + reasoningTokens}}
	if !x.stream {
		x.w.json(http.StatusOK, x.responseObject(req, "completed", final, usage))
		return
	}
	tracks := func(items []*responseItem) [][]sseEvent {
		var t [][]sseEvent
		for _, it := range items {
			t = append(t, it.events)
		}
		return t
	}
	evs := []sseEvent{
		rev("response.created", kv{"response", x.responseObject(req, "in_progress", []any{}, nil)}),
		rev("response.in_progress", kv{"response", x.responseObject(req, "in_progress", []any{}, nil)}),
	}
	evs = append(evs, sequential(tracks(reasoning))...)
	evs = append(evs, schedule(tracks(rest), p.interleave)...)
	evs = append(evs, rev("response.completed", kv{"response", x.responseObject(req, "completed", final, usage)}))
	x.w.sseHeader()
	for seq, ev := range evs {
		x.w.event(ev.name, ev.data.set("sequence_number", seq))
	}
}

// responseObject is the Response: the body of a JSON answer and the
// "response" of the created, in_progress and completed events. Like the
// API it repeats the request's instructions, tools and sampling settings.
func (x *exchange) responseObject(req map[string]any, status string, output []any, usage any) obj {
	orDefault := func(k string, def any) any {
		if v, ok := req[k]; ok && v != nil {
			return v
		}
		return def
	}
	reasoning := obj{{"effort", nil}, {"summary", nil}}
	if r, ok := req["reasoning"].(map[string]any); ok {
		reasoning = obj{{"effort", r["effort"]}, {"summary", r["summary"]}}
	}
	return obj{{"id", x.id("resp_standin_")}, {"object", "response"}, {"created_at", x.created}, {"status", status},
		{"background", false}, {"error", nil}, {"incomplete_details", nil}, {"instructions", orDefault("instructions", nil)},
		{"max_output_tokens", orDefault("max_output_tokens", nil)}, {"model", x.model}, {"output", output},
		{"parallel_tool_calls", orDefault("parallel_tool_calls", true)}, {"previous_response_id", orDefault("previous_response_id", nil)},
		{"reasoning", reasoning}, {"service_tier", "default"}, {"store", orDefault("store", true)},
		{"temperature", orDefault("temperature", 1.0)}, {"text", obj{{"format", obj{{"type", "text"}}}, {"verbosity", "medium"}}},
		{"tool_choice", orDefault("tool_choice", "auto")}, {"tools", orDefault("tools", []any{})}, {"top_p", orDefault("top_p", 1.0)},
		{"truncation", "disabled"}, {"usage", usage}, {"user", nil}, {"metadata", orDefault("metadata", obj{})}}
}

// messageItem is an assistant message with one output_text part.
func (x *exchange) messageItem(outIndex int, p plan) *responseItem {
	id := x.id("msg_standin_")
	where := []kv{{"item_id", id}, {"output_index", outIndex}, {"content_index", 0}}
	part := func(text string) obj {
		return obj{{"type", "output_text"}, {"annotations", []any{}}, {"logprobs", []any{}}, {"text", text}}
	}
	it := &responseItem{done: obj{{"id", id}, {"type", "message"}, {"status", "completed"},
		{"content", []any{part(p.text)}}, {"role", "assistant"}}}
	it.events = append(it.events,
		rev("response.output_item.added", kv{"output_index", outIndex},
			kv{"item", obj{{"id", id}, {"type", "message"}, {"status", "in_progress"}, {"content", []any{}}, {"role", "assistant"}}}),
		rev("response.content_part.added", append(where, kv{"part", part("")})...))
	for _, d := range deltas(p.text, p.delta) {
		it.events = append(it.events, rev("response.output_text.delta", append(where, kv{"delta", d}, kv{"logprobs", []any{}})...))
	}
	it.events = append(it.events,
		rev("response.output_text.done", append(where, kv{"text", p.text}, kv{"logprobs", []any{}})...),
		rev("response.content_part.done", append(where, kv{"part", part(p.text)})...),
		rev("response.output_item.done", kv{"output_index", outIndex}, kv{"item", it.done}))
	return it
}

// functionCallItem is function call i; its call_id is call_standin_i.
func (x *exchange) functionCallItem(outIndex, i int, c call, p plan) *responseItem {
	id := "fc_standin_" + strconv.Itoa(x.n) + "_" + strconv.Itoa(i)
	item := func(status, args string) obj {
		return obj{{"id", id}, {"type", "function_call"}, {"status", status}, {"arguments", args}, {"call_id", callID(0, i)}, {"name", c.name}}
	}
	it := &responseItem{done: item("completed", c.args)}
	it.events = append(it.events, rev("response.output_item.added", kv{"output_index", outIndex}, kv{"item", item("in_progress", "")}))
	for _, d := range deltas(c.args, p.delta) {
		it.events = append(it.events, rev("response.function_call_arguments.delta", kv{"item_id", id}, kv{"output_index", outIndex}, kv{"delta", d}))
	}
	it.events = append(it.events,
		rev("response.function_call_arguments.done", kv{"item_id", id}, kv{"output_index", outIndex}, kv{"arguments", c.args}),
		rev("response.output_item.done", kv{"output_index", outIndex}, kv{"item", it.done}))
	return it
}

// reasoningItem is a reasoning item: one summary part whose text is the
// echo, and encrypted_content.
func (x *exchange) reasoningItem(outIndex int, p plan) *responseItem {
	id := x.id("rs_standin_")
	summary := func(text string) obj { return obj{{"type", "summary_text"}, {"text", text}} }
	where := []kv{{"item_id", id}, {"output_index", outIndex}, {"summary_index", 0}}
	it := &responseItem{done: obj{{"id", id}, {"type", "reasoning"}, {"encrypted_content", encryptedReasoning(p.echo)},
		{"summary", []any{summary(p.echo)}}}}
	it.events = append(it.events,
		rev("response.output_item.added", kv{"output_index", outIndex},
			kv{"item", obj{{"id", id}, {"type", "reasoning"}, {"encrypted_content", encryptedReasoning(p.echo)}, {"summary", []any{}}}}),
		rev("response.reasoning_summary_part.added", append(where, kv{"part", summary("")})...))
	for _, d := range deltas(p.echo, p.delta) {
		it.events = append(it.events, rev("response.reasoning_summary_text.delta", append(where, kv{"delta", d})...))
	}
	it.events = append(it.events,
		rev("response.reasoning_summary_text.done", append(where, kv{"text", p.echo})...),
		rev("response.reasoning_summary_part.done", append(where, kv{"part", summary(p.echo)})...),
		rev("response.output_item.done", kv{"output_index", outIndex}, kv{"item", it.done}))
	return it
}

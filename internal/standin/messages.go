package standin

import (
	"encoding/base64"
	"net/http"
	"strconv"
)

// block is one content block of an Anthropic answer: the events that
// stream it (start, deltas, stop) and the block as it ends.
type block struct {
	events []sseEvent
	done   obj
}

// aev is an Anthropic stream event.
func aev(typ string, fields ...kv) sseEvent {
	return sseEvent{name: typ, data: append(obj{{"type", typ}}, fields...)}
}

// messages answers POST /messages (Anthropic Messages).
func (x *exchange) messages(p plan) {
	var blocks []*block
	var thinking []*block
	out := 0
	if p.thinking {
		thinking = append(thinking, x.thinkingBlock(len(thinking), p))
		out += tokens(p.echo)
	}
	if p.redacted {
		thinking = append(thinking, x.redactedBlock(len(thinking), p))
	}
	stop := "end_turn"
	if len(p.calls) > 0 {
		stop = "tool_use"
		for i, c := range p.calls {
			blocks = append(blocks, x.toolUseBlock(len(thinking)+i, i, c, p))
			out += tokens(c.args)
		}
	} else {
		blocks = append(blocks, x.textBlock(len(thinking), p))
		out += tokens(p.text)
	}
	in := tokens(p.echo)
	var content []any
	for _, b := range append(append([]*block(nil), thinking...), blocks...) {
		content = append(content, b.done)
	}
	usage := func(outTokens int) obj {
		return obj{{"input_tokens", in}, {"cache_creation_input_tokens", 0}, {"cache_read_input_tokens", 0},
			{"output_tokens", outTokens}, {"service_tier", "standard"}}
	}
	msg := func(content []any, stop any, u obj) obj {
		return obj{{"id", x.id("msg_standin_")}, {"type", "message"}, {"role", "assistant"}, {"model", x.model},
			{"content", content}, {"stop_reason", stop}, {"stop_sequence", nil}, {"usage", u}}
	}
	if !x.stream {
		x.w.json(http.StatusOK, msg(content, stop, usage(out)))
		return
	}
	tracks := func(bs []*block) [][]sseEvent {
		var t [][]sseEvent
		for _, b := range bs {
			t = append(t, b.events)
		}
		return t
	}
	body := append(sequential(tracks(thinking)), schedule(tracks(blocks), p.interleave)...)
	x.w.sseHeader()
	x.w.event("message_start", aev("message_start", kv{"message", msg([]any{}, nil, usage(1))}).data)
	ping := aev("ping")
	for i, ev := range body {
		if p.ping == PingEvery {
			x.w.event(ping.name, ping.data)
		}
		x.w.event(ev.name, ev.data)
		if p.ping == PingStart && i == 0 {
			x.w.event(ping.name, ping.data)
		}
	}
	if p.ping == PingEvery {
		x.w.event(ping.name, ping.data)
	}
	x.w.event("message_delta", aev("message_delta", kv{"delta", obj{{"stop_reason", stop}, {"stop_sequence", nil}}},
		kv{"usage", obj{{"input_tokens", in}, {"cache_creation_input_tokens", 0}, {"cache_read_input_tokens", 0}, {"output_tokens", out}}}).data)
	x.w.event("message_stop", aev("message_stop").data)
}

// blockEvents returns a block's start event, its deltas and its stop.
func blockEvents(index int, start obj, deltas []obj) []sseEvent {
	evs := []sseEvent{aev("content_block_start", kv{"index", index}, kv{"content_block", start})}
	for _, d := range deltas {
		evs = append(evs, aev("content_block_delta", kv{"index", index}, kv{"delta", d}))
	}
	return append(evs, aev("content_block_stop", kv{"index", index}))
}

func (x *exchange) textBlock(index int, p plan) *block {
	var ds []obj
	for _, d := range deltas(p.text, p.delta) {
		ds = append(ds, obj{{"type", "text_delta"}, {"text", d}})
	}
	return &block{done: obj{{"type", "text"}, {"text", p.text}},
		events: blockEvents(index, obj{{"type", "text"}, {"text", ""}}, ds)}
}

// toolUseBlock is tool call i, id toolu_standin_i. Like the API it starts
// with input {} and an empty partial_json before the argument fragments.
func (x *exchange) toolUseBlock(index, i int, c call, p plan) *block {
	id := "toolu_standin_" + strconv.Itoa(i)
	ds := []obj{{{"type", "input_json_delta"}, {"partial_json", ""}}}
	for _, d := range deltas(c.args, p.delta) {
		ds = append(ds, obj{{"type", "input_json_delta"}, {"partial_json", d}})
	}
	return &block{done: obj{{"type", "tool_use"}, {"id", id}, {"name", c.name}, {"input", rawJSON(c.args)}},
		events: blockEvents(index, obj{{"type", "tool_use"}, {"id", id}, {"name", c.name}, {"input", obj{}}}, ds)}
}

// thinkingBlock is a thinking block: the echo as thinking text, then a
// signature_delta with a base64 signature.
func (x *exchange) thinkingBlock(index int, p plan) *block {
	sig := base64.StdEncoding.EncodeToString(opaque("signature "+p.echo, 96))
	var ds []obj
	for _, d := range deltas(p.echo, p.delta) {
		ds = append(ds, obj{{"type", "thinking_delta"}, {"thinking", d}})
	}
	ds = append(ds, obj{{"type", "signature_delta"}, {"signature", sig}})
	return &block{done: obj{{"type", "thinking"}, {"thinking", p.echo}, {"signature", sig}},
		events: blockEvents(index, obj{{"type", "thinking"}, {"thinking", ""}, {"signature", ""}}, ds)}
}

// redactedBlock is a redacted_thinking block: its data, base64, comes
// whole in the start event.
func (x *exchange) redactedBlock(index int, p plan) *block {
	b := obj{{"type", "redacted_thinking"}, {"data", base64.StdEncoding.EncodeToString(opaque("redacted "+p.echo, 120))}}
	return &block{done: b, events: blockEvents(index, b, nil)}
}

// rawJSON is JSON text that marshals as itself.
type rawJSON string

// MarshalJSON returns the text.
func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }

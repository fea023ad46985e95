package gateway

import (
	"strconv"
	"strings"
)

// How each API streams: which event values are text deltas, which
// track each belongs to, which events end tracks, and how a track's held
// text is released in an event of its own. The wire formats are the
// providers' published ones: OpenAI's chat.completion.chunk and
// text_completion chunks and Responses stream events, Anthropic's
// message stream events.
//
// Track keys are built so that a track's key starts with the key of
// everything that ends it: "c0|content" (choice 0's content) and
// "c0|t1" (choice 0's tool call with index 1) both end with "c0|" at
// choice 0's finish_reason.

// chat.completion.chunk deltas, keyed by choice index (its "index"
// field, not its array position).
var (
	chatDeltas = []struct {
		at    pathPattern
		field string
	}{
		{pattern("$.choices[*].delta.content"), "content"},
		{pattern("$.choices[*].delta.refusal"), "refusal"},
		{pattern("$.choices[*].delta.reasoning_content"), "reasoning_content"},
		{pattern("$.choices[*].delta.reasoning"), "reasoning"},
		{pattern("$.choices[*].delta.audio.transcript"), "audio.transcript"},
	}
	chatToolArgs = pattern("$.choices[*].delta.tool_calls[*].function.arguments")
	chatToolID   = pattern("$.choices[*].delta.tool_calls[*].id")
	chatFinish   = pattern("$.choices[*].finish_reason")
	complText    = pattern("$.choices[*].text")
)

// envelopeOf starts an event's JSON with the given top-level fields of
// a template event, those it has, each followed by a comma.
func envelopeOf(d *evDoc, paths ...string) []byte {
	b := []byte{'{'}
	for _, p := range paths {
		for i := range d.vals {
			v := &d.vals[i]
			if v.path == p && !v.isKey {
				b = append(append(append(append(b, '"'), p[2:]...), `":`...), d.data[v.start:v.end]...)
				b = append(b, ',')
				break
			}
		}
	}
	return b
}

// choiceIndex is the raw index of the choice at array position k.
func choiceIndex(d *evDoc, k int) string {
	if v, ok := d.get("$.choices[" + strconv.Itoa(k) + "].index"); ok {
		return v
	}
	return strconv.Itoa(k)
}

var chatStream = &streamShape{
	done: "[DONE]",
	classify: func(d *evDoc) evClass {
		var c evClass
		for i := range d.vals {
			v := &d.vals[i]
			if v.isKey || v.container || v.number || v.literal {
				continue
			}
			if idx, ok := chatToolArgs.match(v.path); ok {
				ci := choiceIndex(d, idx[0])
				ti, ok := d.get("$.choices[" + strconv.Itoa(idx[0]) + "].delta.tool_calls[" + strconv.Itoa(idx[1]) + "].index")
				if !ok {
					ti = strconv.Itoa(idx[1])
				}
				c.deltas = append(c.deltas, evDelta{i, "c" + ci + "|t" + ti})
				continue
			}
			for _, f := range chatDeltas {
				if idx, ok := f.at.match(v.path); ok {
					c.deltas = append(c.deltas, evDelta{i, "c" + choiceIndex(d, idx[0]) + "|" + f.field})
					break
				}
			}
			if idx, ok := chatFinish.match(v.path); ok && v.text != "" {
				c.ends = append(c.ends, "c"+choiceIndex(d, idx[0])+"|")
			}
			// A tool call's first chunk (it carries the call's id) comes
			// after the choice's text, and — the API streams one call
			// after another — after the earlier calls' arguments are
			// complete. That text, and the calls whose arguments are a
			// complete JSON value, go out before the new call, keeping the
			// order. (A call still open, in an upstream that interleaves
			// calls, is left to hold what it holds.)
			if idx, ok := chatToolID.match(v.path); ok && v.text != "" {
				ci := choiceIndex(d, idx[0])
				ti, ok := d.get("$.choices[" + strconv.Itoa(idx[0]) + "].delta.tool_calls[" + strconv.Itoa(idx[1]) + "].index")
				if !ok {
					ti = strconv.Itoa(idx[1])
				}
				for _, f := range chatDeltas {
					c.ends = append(c.ends, "c"+ci+"|"+f.field)
				}
				c.endsComplete = append(c.endsComplete, "c"+ci+"|t")
				c.keep = append(c.keep, "c"+ci+"|t"+ti)
			}
		}
		return c
	},
	release: func(t *track, text string, lp []byte) (string, []byte) {
		ci, field, _ := strings.Cut(strings.TrimPrefix(t.key, "c"), "|")
		d := t.tmpl
		var delta []byte
		switch {
		case strings.HasPrefix(field, "t"):
			delta = append([]byte(`{"tool_calls":[{"index":`), field[1:]...)
			delta = append(delta, `,"function":{"arguments":`...)
			delta = append(append(delta, jsonString(text)...), "}}]}"...)
		case field == "audio.transcript":
			delta = append(append([]byte(`{"audio":{"transcript":`), jsonString(text)...), "}}"...)
		default:
			delta = append(append(append(append([]byte(`{"`), field...), `":`...), jsonString(text)...), '}')
		}
		b := envelopeOf(d, "$.id", "$.object", "$.created", "$.model", "$.system_fingerprint", "$.service_tier")
		b = append(b, `"choices":[{"index":`...)
		b = append(b, ci...)
		b = append(b, `,"delta":`...)
		b = append(b, delta...)
		switch {
		case lp == nil:
			b = append(b, `,"logprobs":null`...)
		case field == "refusal":
			b = append(append(append(b, `,"logprobs":{"content":null,"refusal":`...), lp...), '}')
		default:
			b = append(append(append(b, `,"logprobs":{"content":`...), lp...), `,"refusal":null}`...)
		}
		b = append(b, `,"finish_reason":null}]}`...)
		return t.name, b
	},
	logprobs: func(p string) string {
		for _, f := range []string{".delta.content", ".delta.refusal"} {
			if base, ok := strings.CutSuffix(p, f); ok && strings.HasPrefix(base, "$.choices[") {
				return base + ".logprobs." + f[len(".delta."):]
			}
		}
		return ""
	},
	envelope: compilePatterns("$.id", "$.object", "$.created", "$.model", "$.system_fingerprint", "$.service_tier",
		"$.obfuscation", "$.choices[*].index", "$.choices[*].delta.tool_calls[*].index"),
	opaque: []opaqueRule{{at: compilePatterns("$.choices[*].delta.audio.data"), kind: opaqueBase64}},
}

var completionsStream = &streamShape{
	done: "[DONE]",
	classify: func(d *evDoc) evClass {
		var c evClass
		for i := range d.vals {
			v := &d.vals[i]
			if v.isKey || v.container || v.number || v.literal {
				continue
			}
			if idx, ok := complText.match(v.path); ok {
				c.deltas = append(c.deltas, evDelta{i, "c" + choiceIndex(d, idx[0]) + "|text"})
			}
			if idx, ok := chatFinish.match(v.path); ok && v.text != "" {
				c.ends = append(c.ends, "c"+choiceIndex(d, idx[0])+"|")
			}
		}
		return c
	},
	release: func(t *track, text string, lp []byte) (string, []byte) {
		ci, _, _ := strings.Cut(strings.TrimPrefix(t.key, "c"), "|")
		d := t.tmpl
		b := envelopeOf(d, "$.id", "$.object", "$.created", "$.model", "$.system_fingerprint")
		b = append(b, `"choices":[{"text":`...)
		b = append(b, jsonString(text)...)
		b = append(b, `,"index":`...)
		b = append(b, ci...)
		b = append(b, `,"logprobs":null,"finish_reason":null}]}`...)
		return t.name, b
	},
	envelope: compilePatterns("$.id", "$.object", "$.created", "$.model", "$.system_fingerprint", "$.choices[*].index"),
}

// Responses stream events whose $.delta is text, and the track each
// belongs to (o: output_index, c: content_index, s: summary_index).
var responsesDeltaTypes = map[string]string{
	"response.output_text.delta":                "oc|text",
	"response.refusal.delta":                    "oc|refusal",
	"response.reasoning_text.delta":             "oc|reasoning",
	"response.reasoning_summary_text.delta":     "os|summary",
	"response.function_call_arguments.delta":    "o|args",
	"response.custom_tool_call_input.delta":     "o|input",
	"response.mcp_call_arguments.delta":         "o|args",
	"response.code_interpreter_call_code.delta": "o|code",
	"response.output_audio_transcript.delta":    "o|transcript",
	"response.audio.transcript.delta":           "o|transcript",
}

// responsesEnds maps an event type to the track (prefix) it ends, in
// the same letters.
var responsesEnds = map[string]string{
	"response.output_text.done":                "oc|text",
	"response.refusal.done":                    "oc|refusal",
	"response.reasoning_text.done":             "oc|reasoning",
	"response.reasoning_summary_text.done":     "os|summary",
	"response.reasoning_summary_part.done":     "os|",
	"response.function_call_arguments.done":    "o|args",
	"response.custom_tool_call_input.done":     "o|input",
	"response.mcp_call_arguments.done":         "o|args",
	"response.code_interpreter_call_code.done": "o|code",
	"response.output_audio_transcript.done":    "o|transcript",
	"response.audio.transcript.done":           "o|transcript",
	"response.content_part.done":               "oc|",
	"response.output_item.done":                "o|",
}

// responsesKey fills a track template with the event's indexes.
func responsesKey(d *evDoc, tmpl string) string {
	where, what, _ := strings.Cut(tmpl, "|")
	var b strings.Builder
	for _, c := range where {
		switch c {
		case 'o':
			v, _ := d.get("$.output_index")
			b.WriteString("o" + v + "|")
		case 'c':
			v, _ := d.get("$.content_index")
			b.WriteString("c" + v + "|")
		case 's':
			v, _ := d.get("$.summary_index")
			b.WriteString("s" + v + "|")
		}
	}
	return b.String() + what
}

// responsesAudio are the event types whose $.delta is base64 audio.
var responsesAudio = map[string]bool{"response.output_audio.delta": true, "response.audio.delta": true}

var responsesStream = &streamShape{
	seq: true,
	logprobs: func(p string) string {
		if p == "$.delta" {
			return "$.logprobs"
		}
		return ""
	},
	classify: func(d *evDoc) evClass {
		var c evClass
		switch d.typ {
		case "response.completed", "response.failed", "response.incomplete":
			c.ends, c.terminal = []string{""}, true
			return c
		case "error":
			c.ends = []string{""}
			return c
		}
		if responsesAudio[d.typ] {
			for i := range d.vals {
				if d.vals[i].path == "$.delta" && !d.vals[i].isKey {
					c.opaque = append(c.opaque, i)
				}
			}
		}
		if tmpl := responsesDeltaTypes[d.typ]; tmpl != "" {
			for i := range d.vals {
				if v := &d.vals[i]; v.path == "$.delta" && !v.isKey && !v.container && !v.number && !v.literal {
					c.deltas = append(c.deltas, evDelta{i, responsesKey(d, tmpl)})
				}
			}
		}
		if e, ok := responsesEnds[d.typ]; ok {
			c.ends = append(c.ends, responsesKey(d, e))
		}
		return c
	},
	release: func(t *track, text string, lp []byte) (string, []byte) {
		d := t.tmpl
		b := []byte{'{'}
		first := true
		hadLogprobs := false
		for i := range d.vals {
			v := &d.vals[i]
			if v.isKey || strings.Count(v.path, ".") != 1 || strings.Contains(v.path, "[") {
				continue
			}
			switch k := v.path[2:]; k {
			case "delta", "sequence_number", "obfuscation":
				continue
			case "logprobs":
				hadLogprobs = true
				continue
			default:
				if !first {
					b = append(b, ',')
				}
				first = false
				b = append(append(append(append(b, '"'), k...), `":`...), d.data[v.start:v.end]...)
			}
		}
		if !first {
			b = append(b, ',')
		}
		b = append(append(b, `"delta":`...), jsonString(text)...)
		if hadLogprobs {
			if lp == nil {
				lp = []byte("[]")
			}
			b = append(append(b, `,"logprobs":`...), lp...)
		}
		b = append(b, `,"sequence_number":0}`...)
		return t.name, b
	},
	envelope: compilePatterns("$.type", "$.item_id", "$.output_index", "$.content_index", "$.summary_index",
		"$.sequence_number", "$.obfuscation"),
	opaque: []opaqueRule{{at: compilePatterns("$.item.encrypted_content", "$.response.output[*].encrypted_content"), kind: opaqueBase64}},
}

// Anthropic content block deltas: delta type → the field holding text.
var messagesDeltaFields = map[string]string{
	"text_delta":       "text",
	"input_json_delta": "partial_json",
	"thinking_delta":   "thinking",
}

var messagesStream = &streamShape{
	classify: func(d *evDoc) evClass {
		var c evClass
		idx, _ := d.get("$.index")
		switch d.typ {
		case "content_block_delta":
			dt, _ := d.get("$.delta.type")
			if field, ok := messagesDeltaFields[dt]; ok {
				for i := range d.vals {
					if v := &d.vals[i]; v.path == "$.delta."+field && !v.isKey && !v.container && !v.number && !v.literal {
						c.deltas = append(c.deltas, evDelta{i, "b" + idx + "|" + dt})
					}
				}
			}
		case "content_block_stop":
			c.ends = []string{"b" + idx + "|"}
		case "message_delta", "error":
			c.ends = []string{""}
		case "message_stop":
			c.ends, c.terminal = []string{""}, true
		}
		return c
	},
	release: func(t *track, text string, lp []byte) (string, []byte) {
		idx, dt, _ := strings.Cut(strings.TrimPrefix(t.key, "b"), "|")
		b := []byte(`{"type":"content_block_delta","index":`)
		b = append(b, idx...)
		b = append(b, `,"delta":{"type":`...)
		b = append(b, jsonString(dt)...)
		b = append(b, `,"`...)
		b = append(b, messagesDeltaFields[dt]...)
		b = append(b, `":`...)
		b = append(b, jsonString(text)...)
		b = append(b, "}}"...)
		return t.name, b
	},
	envelope: compilePatterns("$.type", "$.index", "$.delta.type"),
	opaque: []opaqueRule{{at: compilePatterns("$.content_block.signature", "$.content_block.data", "$.delta.signature"),
		kind: opaqueBase64}},
}

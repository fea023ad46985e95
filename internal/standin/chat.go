package standin

import (
	"net/http"
	"strconv"
)

// systemFingerprint is the system_fingerprint of every Chat Completions
// and Completions answer.
const systemFingerprint = "fp_standin"

// callID is the id of choice c's tool call i: call_standin_i for the
// first choice, call_standin_c<c>_i for the others.
func callID(c, i int) string {
	if c == 0 {
		return "call_standin_" + strconv.Itoa(i)
	}
	return "call_standin_c" + strconv.Itoa(c) + "_" + strconv.Itoa(i)
}

// logprob is one token's entry of a logprobs.content (or .refusal) list:
// the token, its log probability, its UTF-8 bytes, and top alternatives
// (the token itself first, then "alt1", "alt2" …).
func logprob(tok string, top int) obj {
	tops := []any{}
	for j := 0; j < top; j++ {
		t := tok
		if j > 0 {
			t = "alt" + strconv.Itoa(j)
		}
		tops = append(tops, obj{{"token", t}, {"logprob", -0.25 - float64(j)}, {"bytes", byteList(t)}})
	}
	return obj{{"token", tok}, {"logprob", -0.25}, {"bytes", byteList(tok)}, {"top_logprobs", tops}}
}

// byteList is a token's bytes as the JSON array of integers the API sends.
func byteList(t string) []int {
	b := make([]int, len(t))
	for i := 0; i < len(t); i++ {
		b[i] = int(t[i])
	}
	return b
}

// chat answers POST /chat/completions.
func (x *exchange) chat(req map[string]any, p plan) {
	id := x.id("chatcmpl-standin-")
	out := 0
	for _, c := range p.calls {
		out += tokens(c.args)
	}
	if len(p.calls) == 0 {
		out = tokens(p.text)
	}
	usage := usageChat(tokens(lastUserText(req)), out*p.n)
	if !x.stream {
		choices := make([]any, p.n)
		for c := range choices {
			choices[c] = chatChoice(c, p)
		}
		x.w.json(http.StatusOK, obj{{"id", id}, {"object", "chat.completion"}, {"created", x.created}, {"model", x.model},
			{"choices", choices}, {"usage", usage}, {"service_tier", "default"}, {"system_fingerprint", systemFingerprint}})
		return
	}
	chunk := func(choices []any) obj {
		o := obj{{"id", id}, {"object", "chat.completion.chunk"}, {"created", x.created}, {"model", x.model},
			{"service_tier", "default"}, {"system_fingerprint", systemFingerprint}, {"choices", choices}}
		if p.usage {
			o = append(o, kv{"usage", nil})
		}
		return o
	}
	tracks := make([][]sseEvent, p.n)
	for c := range tracks {
		tracks[c] = chatChoiceEvents(c, p, func(delta obj, logprobs, finish any) sseEvent {
			return sseEvent{data: chunk([]any{obj{{"index", c}, {"delta", delta}, {"logprobs", logprobs}, {"finish_reason", finish}}})}
		})
	}
	x.w.sseHeader()
	for _, ev := range interleave(tracks) {
		x.w.event("", ev.data)
	}
	if p.usage {
		x.w.event("", chunk([]any{}).set("usage", usage))
	}
	x.w.raw("data: [DONE]\n\n")
}

// chatChoice is choice c of a JSON answer.
func chatChoice(c int, p plan) obj {
	var lp any
	switch {
	case p.refusal:
		if p.logprobs {
			lp = obj{{"content", nil}, {"refusal", logprobList(p.text, p)}}
		}
		return obj{{"index", c}, {"message", obj{{"role", "assistant"}, {"content", nil}, {"refusal", p.text}, {"annotations", []any{}}}},
			{"logprobs", lp}, {"finish_reason", "stop"}}
	case len(p.calls) > 0:
		calls := make([]any, len(p.calls))
		for i, tc := range p.calls {
			calls[i] = obj{{"id", callID(c, i)}, {"type", "function"}, {"function", obj{{"name", tc.name}, {"arguments", tc.args}}}}
		}
		return obj{{"index", c}, {"message", obj{{"role", "assistant"}, {"content", nil}, {"tool_calls", calls}, {"refusal", nil}, {"annotations", []any{}}}},
			{"logprobs", nil}, {"finish_reason", "tool_calls"}}
	}
	if p.logprobs {
		lp = obj{{"content", logprobList(p.text, p)}, {"refusal", nil}}
	}
	return obj{{"index", c}, {"message", obj{{"role", "assistant"}, {"content", p.text}, {"refusal", nil}, {"annotations", []any{}}}},
		{"logprobs", lp}, {"finish_reason", "stop"}}
}

// logprobList is the logprobs entries of text, one per delta-sized token.
func logprobList(text string, p plan) []any {
	out := []any{}
	for _, d := range deltas(text, p.delta) {
		out = append(out, logprob(d, p.top))
	}
	return out
}

// chatChoiceEvents are the stream chunks of choice c: a first chunk with
// the role, the deltas (content, refusal or tool calls), and a chunk with
// the finish_reason.
func chatChoiceEvents(c int, p plan, chunk func(delta obj, logprobs, finish any) sseEvent) []sseEvent {
	var evs []sseEvent
	switch {
	case p.refusal:
		evs = append(evs, chunk(obj{{"role", "assistant"}, {"content", nil}, {"refusal", ""}}, nil, nil))
		for _, d := range deltas(p.text, p.delta) {
			var lp any
			if p.logprobs {
				lp = obj{{"content", nil}, {"refusal", []any{logprob(d, p.top)}}}
			}
			evs = append(evs, chunk(obj{{"refusal", d}}, lp, nil))
		}
		return append(evs, chunk(obj{}, nil, "stop"))
	case len(p.calls) > 0:
		tracks := make([][]sseEvent, len(p.calls))
		for i, tc := range p.calls {
			head := obj{{"index", i}, {"id", callID(c, i)}, {"type", "function"}, {"function", obj{{"name", tc.name}, {"arguments", ""}}}}
			delta := obj{{"tool_calls", []any{head}}}
			if i == 0 {
				// Both schedules start with the first call's first chunk,
				// which carries the role as the API sends it:
				// {"role":"assistant","content":null,"tool_calls":[…],"refusal":null}.
				delta = obj{{"role", "assistant"}, {"content", nil}, delta[0], {"refusal", nil}}
			}
			tracks[i] = append(tracks[i], chunk(delta, nil, nil))
			for _, d := range deltas(tc.args, p.delta) {
				frag := obj{{"index", i}, {"function", obj{{"arguments", d}}}}
				tracks[i] = append(tracks[i], chunk(obj{{"tool_calls", []any{frag}}}, nil, nil))
			}
		}
		evs = schedule(tracks, p.interleave)
		return append(evs, chunk(obj{}, nil, "tool_calls"))
	}
	evs = append(evs, chunk(obj{{"role", "assistant"}, {"content", ""}, {"refusal", nil}}, nil, nil))
	for _, d := range deltas(p.text, p.delta) {
		var lp any
		if p.logprobs {
			lp = obj{{"content", []any{logprob(d, p.top)}}, {"refusal", nil}}
		}
		evs = append(evs, chunk(obj{{"content", d}}, lp, nil))
	}
	return append(evs, chunk(obj{}, nil, "stop"))
}

// completions answers POST /completions (the legacy text API). Each
// prompt of a prompt list gets n choices, indexed prompt*n + k.
func (x *exchange) completions(req map[string]any, p plan) {
	id := x.id("cmpl-standin-")
	var prompts []string
	switch pr := req["prompt"].(type) {
	case string:
		prompts = []string{pr}
	case []any:
		for _, v := range pr {
			if t, ok := v.(string); ok {
				prompts = append(prompts, t)
			}
		}
	}
	if len(prompts) == 0 {
		prompts = []string{""}
	}
	var texts []string
	in, out := 0, 0
	for _, pr := range prompts {
		rest, _, _ := splitDirective(pr)
		t := x.s.opt.Prefix + x.s.show(rest)
		in += tokens(pr)
		for k := 0; k < p.n; k++ {
			texts = append(texts, t)
			out += tokens(t)
		}
	}
	usage := obj{{"prompt_tokens", in}, {"completion_tokens", out}, {"total_tokens", in + out}}
	legacyLogprobs := func(text string) any {
		if !p.logprobs {
			return nil
		}
		lp := obj{{"tokens", []any{}}, {"token_logprobs", []any{}}, {"top_logprobs", []any{}}, {"text_offset", []any{}}}
		off := 0
		for _, d := range deltas(text, p.delta) {
			lp[0].v = append(lp[0].v.([]any), d)
			lp[1].v = append(lp[1].v.([]any), -0.25)
			lp[2].v = append(lp[2].v.([]any), obj{{d, -0.25}})
			lp[3].v = append(lp[3].v.([]any), off)
			off += len(d)
		}
		return lp
	}
	if !x.stream {
		choices := make([]any, len(texts))
		for i, t := range texts {
			choices[i] = obj{{"text", t}, {"index", i}, {"logprobs", legacyLogprobs(t)}, {"finish_reason", "stop"}}
		}
		x.w.json(http.StatusOK, obj{{"id", id}, {"object", "text_completion"}, {"created", x.created}, {"model", x.model},
			{"choices", choices}, {"usage", usage}, {"system_fingerprint", systemFingerprint}})
		return
	}
	chunk := func(choices []any) obj {
		o := obj{{"id", id}, {"object", "text_completion"}, {"created", x.created}, {"choices", choices}, {"model", x.model},
			{"system_fingerprint", systemFingerprint}}
		if p.usage {
			o = append(o, kv{"usage", nil})
		}
		return o
	}
	tracks := make([][]sseEvent, len(texts))
	for i, t := range texts {
		for _, d := range deltas(t, p.delta) {
			tracks[i] = append(tracks[i], sseEvent{data: chunk([]any{obj{{"text", d}, {"index", i}, {"logprobs", legacyLogprobs(d)}, {"finish_reason", nil}}})})
		}
		tracks[i] = append(tracks[i], sseEvent{data: chunk([]any{obj{{"text", ""}, {"index", i}, {"logprobs", nil}, {"finish_reason", "stop"}}})})
	}
	x.w.sseHeader()
	for _, ev := range interleave(tracks) {
		x.w.event("", ev.data)
	}
	if p.usage {
		x.w.event("", chunk([]any{}).set("usage", usage))
	}
	x.w.raw("data: [DONE]\n\n")
}

package standin_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/wardenhq/warden/internal/standin"
)

// userText is what the tests send: ASCII, a token-like value, and
// multi-byte runes that a 3-byte delta must not split.
const userText = "Mail [[EMAIL_ADDRESS:8Q3JZ0WTKDH2A]] about Grüße ☃ today"

// weather and lookup are the tools the tests offer, as JSON schemas.
var (
	weatherSchema = map[string]any{"type": "object", "properties": map[string]any{
		"city": map[string]any{"type": "string"},
		"unit": map[string]any{"type": "string", "enum": []any{"celsius", "fahrenheit"}},
		"days": map[string]any{"type": "integer"},
	}, "required": []any{"city", "unit"}, "additionalProperties": false}
	lookupSchema = map[string]any{"type": "object", "properties": map[string]any{
		"query":  map[string]any{"type": "string"},
		"limit":  map[string]any{"type": "number"},
		"exact":  map[string]any{"type": "boolean"},
		"filter": map[string]any{"type": "object", "properties": map[string]any{"tags": map[string]any{"type": "array", "items": map[string]any{"type": "string"}}}, "required": []any{"tags"}},
	}, "required": []any{"query", "limit", "exact", "filter"}}
	// The arguments the stand-in makes for them from userText.
	weatherArgs = `{"city":"` + userText + `","unit":"celsius"}`
	lookupArgs  = `{"query":"` + userText + `","limit":1,"exact":true,"filter":{"tags":["` + userText + `"]}}`
)

func chatTools() []any {
	return []any{
		map[string]any{"type": "function", "function": map[string]any{"name": "weather", "parameters": weatherSchema}},
		map[string]any{"type": "function", "function": map[string]any{"name": "lookup", "parameters": lookupSchema}},
	}
}

func serve(t *testing.T, opt standin.Options) (*standin.Server, string) {
	t.Helper()
	s := standin.New(opt)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL + "/v1"
}

func openaiClient(base string, retries int) *openai.Client {
	c := openai.NewClient(option.WithBaseURL(base), option.WithAPIKey("sk-test"), option.WithMaxRetries(retries))
	return &c
}

func anthropicClient(base string, retries int) *anthropic.Client {
	c := anthropic.NewClient(aoption.WithBaseURL(strings.TrimSuffix(base, "/v1")), aoption.WithAPIKey("sk-ant-test"), aoption.WithMaxRetries(retries))
	return &c
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// validate checks args against a JSON schema.
func validate(t *testing.T, schema map[string]any, args string) {
	t.Helper()
	c := jsonschema.NewCompiler()
	if err := c.AddResource("tool.json", schema); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("tool.json")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(args))
	if err != nil {
		t.Fatalf("arguments are not JSON: %v: %s", err, args)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("arguments %s do not conform to the schema: %v", args, err)
	}
}

func TestChatStreamAccumulates(t *testing.T) {
	type toolWant struct{ id, name, args string }
	cases := []struct {
		name     string
		opt      standin.Options
		body     map[string]any
		texts    []string // per choice
		refusal  string
		tools    []toolWant
		usage    bool
		logprobs bool
	}{
		{name: "text in 3-byte deltas and 3-byte writes", opt: standin.Options{DeltaBytes: 3, WriteBytes: 3},
			body: map[string]any{}, texts: []string{userText}},
		{name: "n=2 with include_usage and logprobs", opt: standin.Options{DeltaBytes: 4},
			body:  map[string]any{"n": 2, "logprobs": true, "top_logprobs": 2, "stream_options": map[string]any{"include_usage": true}},
			texts: []string{userText, userText}, usage: true, logprobs: true},
		{name: "n=3 by directive", body: map[string]any{"directive": "standin: n=3"}, texts: []string{userText, userText, userText}},
		{name: "refusal by option", opt: standin.Options{Refuse: true, Prefix: "No: "}, body: map[string]any{}, refusal: "No: " + userText},
		{name: "parallel tool calls one after another", opt: standin.Options{DeltaBytes: 5, WriteBytes: 7},
			body:  map[string]any{"tools": chatTools()},
			tools: []toolWant{{"call_standin_0", "weather", weatherArgs}, {"call_standin_1", "lookup", lookupArgs}}},
		{name: "parallel tool calls interleaved by directive", opt: standin.Options{DeltaBytes: 2},
			body:  map[string]any{"tools": chatTools(), "directive": "standin: interleave=1", "stream_options": map[string]any{"include_usage": true}},
			tools: []toolWant{{"call_standin_0", "weather", weatherArgs}, {"call_standin_1", "lookup", lookupArgs}}, usage: true},
		{name: "three calls over two tools interleaved by option", opt: standin.Options{ToolCalls: 3, InterleaveTools: true, DeltaBytes: 6},
			body:  map[string]any{"tools": chatTools()},
			tools: []toolWant{{"call_standin_0", "weather", weatherArgs}, {"call_standin_1", "lookup", lookupArgs}, {"call_standin_2", "weather", weatherArgs}}},
		{name: "tools=0 echoes", body: map[string]any{"tools": chatTools(), "directive": "standin: tools=0"}, texts: []string{userText}},
		{name: "tool_choice none echoes", body: map[string]any{"tools": chatTools(), "tool_choice": "none"}, texts: []string{userText}},
		{name: "a named tool_choice calls that tool", body: map[string]any{"tools": chatTools(),
			"tool_choice": map[string]any{"type": "function", "function": map[string]any{"name": "lookup"}}},
			tools: []toolWant{{"call_standin_0", "lookup", lookupArgs}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, base := serve(t, tc.opt)
			c := openaiClient(base, 0)
			content := userText
			if d, ok := tc.body["directive"].(string); ok {
				content += "\n" + d
				delete(tc.body, "directive")
			}
			tc.body["model"] = "gpt-4o-mini"
			tc.body["stream"] = true
			tc.body["messages"] = []any{map[string]any{"role": "user", "content": content}}
			stream := c.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{},
				option.WithRequestBody("application/json", mustJSON(t, tc.body)))
			var acc openai.ChatCompletionAccumulator
			for stream.Next() {
				if !acc.AddChunk(stream.Current()) {
					t.Fatalf("accumulator refused chunk %s", stream.Current().RawJSON())
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			want := max(len(tc.texts), 1)
			if len(acc.Choices) != want {
				t.Fatalf("%d choices, want %d", len(acc.Choices), want)
			}
			for i, text := range tc.texts {
				ch := acc.Choices[i]
				if ch.Message.Content != text || ch.FinishReason != "stop" || ch.Index != int64(i) {
					t.Errorf("choice %d: content %q finish %q index %d, want %q stop", i, ch.Message.Content, ch.FinishReason, ch.Index, text)
				}
				if tc.logprobs {
					var got strings.Builder
					for _, lp := range ch.Logprobs.Content {
						got.WriteString(lp.Token)
						if len(lp.TopLogprobs) != 2 {
							t.Errorf("choice %d: %d top_logprobs, want 2", i, len(lp.TopLogprobs))
						}
					}
					if got.String() != text {
						t.Errorf("choice %d: logprob tokens spell %q, want %q", i, got.String(), text)
					}
				}
			}
			if tc.refusal != "" && acc.Choices[0].Message.Refusal != tc.refusal {
				t.Errorf("refusal %q, want %q", acc.Choices[0].Message.Refusal, tc.refusal)
			}
			if tc.tools != nil {
				calls := acc.Choices[0].Message.ToolCalls
				if len(calls) != len(tc.tools) || acc.Choices[0].FinishReason != "tool_calls" {
					t.Fatalf("%d tool calls (finish %q), want %d", len(calls), acc.Choices[0].FinishReason, len(tc.tools))
				}
				for i, w := range tc.tools {
					if calls[i].ID != w.id || calls[i].Function.Name != w.name || calls[i].Function.Arguments != w.args {
						t.Errorf("call %d = %s %s %s, want %s %s %s", i, calls[i].ID, calls[i].Function.Name, calls[i].Function.Arguments, w.id, w.name, w.args)
					}
				}
			}
			if tc.usage != (acc.Usage.TotalTokens > 0) {
				t.Errorf("usage %+v, want present=%v", acc.Usage, tc.usage)
			}
		})
	}
}

// sse is one raw server-sent event.
type sse struct {
	name string
	data string
}

// rawStream posts body to url and returns the events and the response.
func rawStream(t *testing.T, url string, body []byte, header map[string]string) ([]sse, *http.Response) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var evs []sse
	var cur sse
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.data != "" {
				evs = append(evs, cur)
			}
			cur = sse{}
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.data = strings.TrimPrefix(line, "data: ")
		default:
			t.Fatalf("unexpected SSE line %q", line)
		}
	}
	return evs, resp
}

// The interleave directive really mixes the calls' chunks; without it
// each call's chunks come together, as the API sends them.
func TestChatToolCallsInterleaveOnTheWire(t *testing.T) {
	_, base := serve(t, standin.Options{DeltaBytes: 4})
	for _, tc := range []struct {
		directive string
		want      string // the sequence of tool_calls indexes, deduplicated runs
	}{
		{"", "01"},
		{"\nstandin: interleave=1", "0101"},
	} {
		body := mustJSON(t, map[string]any{"model": "m", "stream": true, "tools": chatTools(),
			"messages": []any{map[string]any{"role": "user", "content": "x" + tc.directive}}})
		evs, _ := rawStream(t, base+"/chat/completions", body, nil)
		var runs strings.Builder
		last := byte(0)
		for _, ev := range evs {
			if ev.data == "[DONE]" {
				continue
			}
			var chunk struct {
				Choices []struct {
					Delta struct {
						ToolCalls []struct{ Index int } `json:"tool_calls"`
					}
				}
			}
			if err := json.Unmarshal([]byte(ev.data), &chunk); err != nil {
				t.Fatal(err)
			}
			for _, c := range chunk.Choices {
				for _, tcall := range c.Delta.ToolCalls {
					if b := byte('0' + tcall.Index); b != last {
						runs.WriteByte(b)
						last = b
					}
				}
			}
		}
		if got := runs.String(); !strings.HasPrefix(got, tc.want) {
			t.Errorf("directive %q: index runs %q, want prefix %q", tc.directive, got, tc.want)
		}
		if evs[len(evs)-1].data != "[DONE]" {
			t.Errorf("stream does not end with [DONE]")
		}
	}
}

func TestChatJSON(t *testing.T) {
	_, base := serve(t, standin.Options{})
	c := openaiClient(base, 0)
	body := map[string]any{"model": "gpt-4o", "n": 2, "logprobs": true,
		"messages": []any{map[string]any{"role": "user", "content": userText}}}
	resp, err := c.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{},
		option.WithRequestBody("application/json", mustJSON(t, body)))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Choices) != 2 || resp.Choices[1].Message.Content != userText || resp.Choices[1].Index != 1 {
		t.Fatalf("choices %+v", resp.Choices)
	}
	if resp.ID != "chatcmpl-standin-1" || !strings.Contains(resp.RawJSON(), `"system_fingerprint":"fp_standin"`) || resp.Created != 1700000000 || resp.Usage.TotalTokens == 0 {
		t.Errorf("id %q created %d usage %+v in %s", resp.ID, resp.Created, resp.Usage, resp.RawJSON())
	}
	if len(resp.Choices[0].Logprobs.Content) == 0 {
		t.Error("no logprobs")
	}

	body = map[string]any{"model": "gpt-4o", "tools": chatTools(), "messages": []any{map[string]any{"role": "user", "content": userText}}}
	resp, err = c.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{},
		option.WithRequestBody("application/json", mustJSON(t, body)))
	if err != nil {
		t.Fatal(err)
	}
	calls := resp.Choices[0].Message.ToolCalls
	if len(calls) != 2 || resp.Choices[0].FinishReason != "tool_calls" || resp.Choices[0].Message.Content != "" {
		t.Fatalf("message %s", resp.Choices[0].Message.RawJSON())
	}
	validate(t, weatherSchema, calls[0].Function.Arguments)
	validate(t, lookupSchema, calls[1].Function.Arguments)
}

func TestToolArgumentsConformToSchema(t *testing.T) {
	cases := []struct {
		name   string
		schema map[string]any
		want   string
	}{
		{"required strings, enum and integer", weatherSchema, weatherArgs},
		{"nested object, array, number, boolean", lookupSchema, lookupArgs},
		{"no required: every property, sorted", map[string]any{"type": "object", "properties": map[string]any{
			"b": map[string]any{"type": "boolean"}, "a": map[string]any{"type": "string"}}},
			`{"a":"x","b":true}`},
		{"nullable type list and const", map[string]any{"type": "object", "properties": map[string]any{
			"n": map[string]any{"type": []any{"null", "integer"}, "minimum": 3}, "k": map[string]any{"const": "fixed"}},
			"required": []any{"n", "k"}}, `{"n":3,"k":"fixed"}`},
		{"$ref into $defs and anyOf", map[string]any{"type": "object", "properties": map[string]any{
			"who": map[string]any{"$ref": "#/$defs/person"},
			"any": map[string]any{"anyOf": []any{map[string]any{"type": "number"}, map[string]any{"type": "string"}}}},
			"required": []any{"who", "any"},
			"$defs":    map[string]any{"person": map[string]any{"type": "object", "properties": map[string]any{"name": map[string]any{"type": "string"}}, "required": []any{"name"}}}},
			`{"who":{"name":"x"},"any":1}`},
		{"empty object schema", map[string]any{"type": "object", "properties": map[string]any{}, "additionalProperties": false}, `{}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, base := serve(t, standin.Options{})
			text := userText
			if !strings.Contains(tc.want, userText) {
				text = "x"
			}
			body := map[string]any{"model": "m", "messages": []any{map[string]any{"role": "user", "content": text}},
				"tools": []any{map[string]any{"type": "function", "function": map[string]any{"name": "f", "parameters": tc.schema}}}}
			resp, err := openaiClient(base, 0).Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{},
				option.WithRequestBody("application/json", mustJSON(t, body)))
			if err != nil {
				t.Fatal(err)
			}
			got := resp.Choices[0].Message.ToolCalls[0].Function.Arguments
			if got != tc.want {
				t.Errorf("arguments %s, want %s", got, tc.want)
			}
			validate(t, tc.schema, got)
		})
	}
}

// After tool results the stand-in answers with their text, in every API.
func TestToolResultsAreEchoed(t *testing.T) {
	_, base := serve(t, standin.Options{})
	ctx := context.Background()
	chat := map[string]any{"model": "m", "tools": chatTools(), "messages": []any{
		map[string]any{"role": "user", "content": "weather?"},
		map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{
			map[string]any{"id": "call_standin_0", "type": "function", "function": map[string]any{"name": "weather", "arguments": "{}"}},
			map[string]any{"id": "call_standin_1", "type": "function", "function": map[string]any{"name": "lookup", "arguments": "{}"}}}},
		map[string]any{"role": "tool", "tool_call_id": "call_standin_0", "content": "sunny at [[LOCATION:ABC]]"},
		map[string]any{"role": "tool", "tool_call_id": "call_standin_1", "content": []any{map[string]any{"type": "text", "text": "found it"}}},
	}}
	resp, err := openaiClient(base, 0).Chat.Completions.New(ctx, openai.ChatCompletionNewParams{},
		option.WithRequestBody("application/json", mustJSON(t, chat)))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Content; got != "sunny at [[LOCATION:ABC]]\nfound it" || len(resp.Choices[0].Message.ToolCalls) != 0 {
		t.Errorf("chat answer %q", got)
	}

	rs := map[string]any{"model": "m", "tools": []any{map[string]any{"type": "function", "name": "weather", "parameters": weatherSchema}},
		"input": []any{
			map[string]any{"role": "user", "content": "weather?"},
			map[string]any{"type": "function_call", "call_id": "call_standin_0", "name": "weather", "arguments": "{}"},
			map[string]any{"type": "function_call_output", "call_id": "call_standin_0", "output": "rainy"},
		}}
	r, err := openaiClient(base, 0).Responses.New(ctx, responses.ResponseNewParams{}, option.WithRequestBody("application/json", mustJSON(t, rs)))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.OutputText(); got != "rainy" {
		t.Errorf("responses answer %q", got)
	}

	msg, err := anthropicClient(base, 0).Messages.New(ctx, anthropic.MessageNewParams{
		Model: "claude-test", MaxTokens: 100,
		Tools: []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{Name: "weather", InputSchema: anthropic.ToolInputSchemaParam{Properties: weatherSchema["properties"]}}}},
		Messages: []anthropic.MessageParam{
			anthropic.NewUserMessage(anthropic.NewTextBlock("weather?")),
			anthropic.NewAssistantMessage(anthropic.NewToolUseBlock("toolu_standin_0", map[string]any{"city": "x"}, "weather")),
			anthropic.NewUserMessage(anthropic.NewToolResultBlock("toolu_standin_0", "cloudy", false)),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.Content) != 1 || msg.Content[0].Text != "cloudy" || msg.StopReason != "end_turn" {
		t.Errorf("anthropic answer %s", msg.RawJSON())
	}
}

func TestResponsesStream(t *testing.T) {
	cases := []struct {
		name      string
		opt       standin.Options
		body      map[string]any
		reasoning bool
		calls     []string // arguments per function call
	}{
		{name: "text", opt: standin.Options{DeltaBytes: 3, WriteBytes: 5}, body: map[string]any{}},
		{name: "reasoning item by parameter", body: map[string]any{"reasoning": map[string]any{"effort": "low", "summary": "auto"}}, reasoning: true},
		{name: "two function calls after reasoning, interleaved", opt: standin.Options{Reasoning: true, InterleaveTools: true, DeltaBytes: 7},
			body: map[string]any{"tools": []any{
				map[string]any{"type": "function", "name": "weather", "parameters": weatherSchema},
				map[string]any{"type": "function", "name": "lookup", "parameters": lookupSchema}}},
			reasoning: true, calls: []string{weatherArgs, lookupArgs}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, base := serve(t, tc.opt)
			tc.body["model"] = "gpt-4o-mini"
			tc.body["stream"] = true
			tc.body["input"] = userText
			stream := openaiClient(base, 0).Responses.NewStreaming(context.Background(), responses.ResponseNewParams{},
				option.WithRequestBody("application/json", mustJSON(t, tc.body)))
			seq := int64(-1)
			var types []string
			text := map[int64]*strings.Builder{}
			args := map[int64]*strings.Builder{}
			var completed responses.Response
			for stream.Next() {
				ev := stream.Current()
				if ev.SequenceNumber != seq+1 {
					t.Errorf("%s: sequence_number %d after %d", ev.Type, ev.SequenceNumber, seq)
				}
				seq = ev.SequenceNumber
				types = append(types, ev.Type)
				b := func(m map[int64]*strings.Builder) *strings.Builder {
					if m[ev.OutputIndex] == nil {
						m[ev.OutputIndex] = &strings.Builder{}
					}
					return m[ev.OutputIndex]
				}
				switch ev.Type {
				case "response.output_text.delta", "response.reasoning_summary_text.delta":
					b(text).WriteString(ev.Delta)
				case "response.function_call_arguments.delta":
					b(args).WriteString(ev.Delta)
				case "response.function_call_arguments.done":
					if got := b(args).String(); got != ev.Arguments {
						t.Errorf("output %d: deltas %q, done %q", ev.OutputIndex, got, ev.Arguments)
					}
				case "response.completed":
					completed = ev.Response
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			if types[0] != "response.created" || types[1] != "response.in_progress" || types[len(types)-1] != "response.completed" {
				t.Errorf("event order %v", types)
			}
			if completed.Status != "completed" || completed.Usage.TotalTokens == 0 {
				t.Fatalf("completed response %s", completed.RawJSON())
			}
			out := completed.Output
			i := 0
			if tc.reasoning {
				if out[0].Type != "reasoning" || len(out[0].Summary) != 1 || out[0].Summary[0].Text != userText || text[0].String() != userText {
					t.Errorf("reasoning item %s", out[0].RawJSON())
				}
				raw, err := base64.URLEncoding.DecodeString(out[0].EncryptedContent)
				if err != nil || raw[0] != 0x80 {
					t.Errorf("encrypted_content is not a base64 Fernet token: %v", err)
				}
				i++
			}
			if tc.calls == nil {
				if completed.OutputText() != userText || text[int64(i)].String() != userText {
					t.Errorf("output text %q, deltas %q", completed.OutputText(), text[int64(i)])
				}
				return
			}
			for k, want := range tc.calls {
				it := out[i+k]
				var fc struct{ Arguments, CallID, Name string }
				json.Unmarshal([]byte(it.RawJSON()), &fc)
				if it.Type != "function_call" || fc.Arguments != want || args[int64(i+k)].String() != want {
					t.Errorf("output %d: %s; deltas %q", i+k, it.RawJSON(), args[int64(i+k)])
				}
			}
		})
	}
}

func TestAnthropicStreamAccumulates(t *testing.T) {
	type blockWant struct{ typ, text string }
	anthTools := []any{
		map[string]any{"name": "weather", "input_schema": weatherSchema},
		map[string]any{"name": "lookup", "description": "find", "input_schema": lookupSchema},
	}
	cases := []struct {
		name   string
		opt    standin.Options
		body   map[string]any
		blocks []blockWant
		stop   string
	}{
		{name: "text, pings everywhere, 1-byte writes", opt: standin.Options{WriteBytes: 1, DeltaBytes: 3, Ping: standin.PingEvery},
			body: map[string]any{}, blocks: []blockWant{{"text", userText}}, stop: "end_turn"},
		{name: "thinking by parameter and redacted thinking by directive", body: map[string]any{
			"thinking": map[string]any{"type": "enabled", "budget_tokens": 1024}, "directive": "standin: redacted=1"},
			blocks: []blockWant{{"thinking", userText}, {"redacted_thinking", ""}, {"text", userText}}, stop: "end_turn"},
		{name: "parallel tool_use interleaved after thinking", opt: standin.Options{Thinking: true, DeltaBytes: 4},
			body:   map[string]any{"tools": anthTools, "directive": "standin: interleave=1 ping=every"},
			blocks: []blockWant{{"thinking", userText}, {"tool_use", weatherArgs}, {"tool_use", lookupArgs}}, stop: "tool_use"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, base := serve(t, tc.opt)
			content := userText
			if d, ok := tc.body["directive"].(string); ok {
				content += "\n" + d
				delete(tc.body, "directive")
			}
			tc.body["model"] = "claude-test"
			tc.body["max_tokens"] = 1024
			tc.body["stream"] = true
			tc.body["messages"] = []any{map[string]any{"role": "user", "content": content}}
			stream := anthropicClient(base, 0).Messages.NewStreaming(context.Background(), anthropic.MessageNewParams{},
				aoption.WithRequestBody("application/json", mustJSON(t, tc.body)))
			var msg anthropic.Message
			for stream.Next() {
				ev := stream.Current() // the SDK's decoder drops ping events
				if err := msg.Accumulate(ev); err != nil {
					t.Fatal(err)
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			if len(msg.Content) != len(tc.blocks) {
				t.Fatalf("%d blocks, want %d: %s", len(msg.Content), len(tc.blocks), msg.RawJSON())
			}
			for i, w := range tc.blocks {
				b := msg.Content[i]
				got := b.Text
				switch b.Type {
				case "thinking":
					got = b.Thinking
					if sig, err := base64.StdEncoding.DecodeString(b.Signature); err != nil || len(sig) == 0 {
						t.Errorf("block %d: signature %q is not base64", i, b.Signature)
					}
				case "redacted_thinking":
					if _, err := base64.StdEncoding.DecodeString(b.Data); err != nil || b.Data == "" {
						t.Errorf("block %d: data %q is not base64", i, b.Data)
					}
				case "tool_use":
					got = string(b.Input)
				}
				if b.Type != w.typ || got != w.text {
					t.Errorf("block %d: %s %q, want %s %q", i, b.Type, got, w.typ, w.text)
				}
			}
			if msg.StopReason != anthropic.StopReason(tc.stop) || msg.Usage.OutputTokens < 2 || msg.Usage.InputTokens == 0 {
				t.Errorf("stop %q usage %+v", msg.StopReason, msg.Usage)
			}
		})
	}
}

// Pings: one after the first content_block_start by default, none with
// ping=none, and between every two events (also inside a block) with
// ping=every.
func TestAnthropicPings(t *testing.T) {
	_, base := serve(t, standin.Options{DeltaBytes: 4})
	for _, tc := range []struct{ directive, want string }{
		{"", "message_start content_block_start ping content_block_delta"},
		{"\nstandin: ping=none", "message_start content_block_start content_block_delta"},
		{"\nstandin: ping=every", "message_start ping content_block_start ping content_block_delta ping content_block_delta"},
	} {
		body := mustJSON(t, map[string]any{"model": "c", "max_tokens": 10, "stream": true,
			"messages": []any{map[string]any{"role": "user", "content": "hello world" + tc.directive}}})
		evs, resp := rawStream(t, base+"/messages", body, nil)
		var names []string
		for _, ev := range evs {
			var d struct{ Type string }
			json.Unmarshal([]byte(ev.data), &d)
			if d.Type != ev.name {
				t.Errorf("event %q carries type %q", ev.name, d.Type)
			}
			names = append(names, ev.name)
		}
		if got := strings.Join(names, " "); !strings.HasPrefix(got, tc.want) || !strings.HasSuffix(got, "message_delta message_stop") {
			t.Errorf("directive %q: events %s", tc.directive, got)
		}
		if resp.Header.Get("request-id") == "" || resp.Header.Get("anthropic-ratelimit-requests-remaining") == "" {
			t.Errorf("headers %v", resp.Header)
		}
	}
}

func TestRetriesAgainstFailures(t *testing.T) {
	ctx := context.Background()
	t.Run("FailFirst with openai-go retries", func(t *testing.T) {
		s, base := serve(t, standin.Options{FailFirst: 2, Record: true})
		var raw *http.Response
		resp, err := openaiClient(base, 2).Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: "m", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}, option.WithResponseInto(&raw))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Choices[0].Message.Content != "hi" || len(s.Requests()) != 3 {
			t.Errorf("content %q after %d requests, want hi after 3", resp.Choices[0].Message.Content, len(s.Requests()))
		}
		if raw.Header.Get("x-request-id") != "req_standin_3" || raw.Header.Get("openai-processing-ms") == "" {
			t.Errorf("headers %v", raw.Header)
		}
	})
	t.Run("status directive without retries: the API's error", func(t *testing.T) {
		_, base := serve(t, standin.Options{})
		_, err := openaiClient(base, 0).Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: "m", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi\nstandin: status=503 retry_ms=1500")}})
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 || apiErr.Type != "server_error" {
			t.Fatalf("error %v", err)
		}
		h := apiErr.Response.Header
		if h.Get("retry-after") != "2" || h.Get("retry-after-ms") != "1500" || h.Get("x-request-id") == "" {
			t.Errorf("headers %v", h)
		}
	})
	t.Run("429 headers", func(t *testing.T) {
		_, base := serve(t, standin.Options{FailFirst: 1})
		resp, err := http.Post(base+"/chat/completions", "application/json", strings.NewReader(`{"model":"m","messages":[]}`))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := `{"error":{"message":"Rate limit reached for requests (standin). Please try again shortly.","type":"requests","param":null,"code":"rate_limit_exceeded"}}`
		if resp.StatusCode != 429 || string(b) != want {
			t.Errorf("%d %s", resp.StatusCode, b)
		}
		for k, v := range map[string]string{"retry-after": "1", "retry-after-ms": "20", "x-ratelimit-limit-requests": "10000",
			"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "20ms"} {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("%s: %q, want %q", k, got, v)
			}
		}
	})
	t.Run("fail directive with anthropic-sdk-go retries", func(t *testing.T) {
		s, base := serve(t, standin.Options{Record: true})
		msg, err := anthropicClient(base, 3).Messages.New(ctx, anthropic.MessageNewParams{Model: "c", MaxTokens: 10,
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi\nstandin: fail=2 status=529 retry_ms=0"))}})
		if err != nil {
			t.Fatal(err)
		}
		if msg.Content[0].Text != "hi" || len(s.Requests()) != 3 {
			t.Errorf("text %q after %d requests", msg.Content[0].Text, len(s.Requests()))
		}
		// The counter is per directive line: the same line succeeds now,
		// and a status directive alone fails every time.
		_, err = anthropicClient(base, 0).Messages.New(ctx, anthropic.MessageNewParams{Model: "c", MaxTokens: 10,
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi\nstandin: status=429"))}})
		var apiErr *anthropic.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 {
			t.Fatalf("error %v", err)
		}
		var body struct {
			Type  string
			Error struct{ Type string }
		}
		json.Unmarshal([]byte(apiErr.RawJSON()), &body)
		if body.Type != "error" || body.Error.Type != "rate_limit_error" || apiErr.Response.Header.Get("retry-after") != "1" {
			t.Errorf("error body %s headers %v", apiErr.RawJSON(), apiErr.Response.Header)
		}
	})
}

func TestModels(t *testing.T) {
	_, base := serve(t, standin.Options{Models: []string{"gpt-4o-mini", "text-embedding-3-small"}})
	c := openaiClient(base, 0)
	m, err := c.Models.Get(context.Background(), "gpt-4o-mini")
	if err != nil || m.ID != "gpt-4o-mini" || m.OwnedBy != "standin" {
		t.Fatalf("model %+v %v", m, err)
	}
	_, err = c.Models.Get(context.Background(), "gpt-5-unknown")
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Code != "model_not_found" {
		t.Fatalf("unknown model: %v", err)
	}
	page, err := c.Models.List(context.Background())
	if err != nil || len(page.Data) != 2 {
		t.Fatalf("list %+v %v", page, err)
	}
	am, err := anthropicClient(base, 0).Models.Get(context.Background(), "gpt-4o-mini", anthropic.ModelGetParams{})
	if err != nil || am.ID != "gpt-4o-mini" || am.Type != "model" {
		t.Fatalf("anthropic model %+v %v", am, err)
	}
}

func TestEmbeddingsBase64(t *testing.T) {
	_, base := serve(t, standin.Options{})
	c := openaiClient(base, 0)
	ctx := context.Background()
	params := openai.EmbeddingNewParams{Model: "text-embedding-3-small", Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{userText, "abc"}}}
	floats, err := c.Embeddings.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	var raw *http.Response
	params.EncodingFormat = openai.EmbeddingNewParamsEncodingFormatBase64
	b64, err := c.Embeddings.New(ctx, params, option.WithResponseInto(&raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(floats.Data) != 2 || len(floats.Data[0].Embedding) != 8 {
		t.Fatalf("float embeddings %+v", floats.Data)
	}
	for i := range floats.Data {
		var got []float64
		var rawB64 struct{ Embedding string }
		json.Unmarshal([]byte(b64.Data[i].RawJSON()), &rawB64)
		bs, err := base64.StdEncoding.DecodeString(rawB64.Embedding)
		if err != nil || len(bs) != 32 {
			t.Fatalf("embedding %d: %q is not 8 base64 float32 values", i, rawB64.Embedding)
		}
		for k := 0; k < len(bs); k += 4 {
			got = append(got, float64(math.Float32frombits(binary.LittleEndian.Uint32(bs[k:]))))
		}
		for k, f := range floats.Data[i].Embedding {
			if got[k] != f {
				t.Errorf("embedding %d[%d]: base64 %v, float %v", i, k, got[k], f)
			}
		}
	}
}

func TestCompletionsStream(t *testing.T) {
	_, base := serve(t, standin.Options{DeltaBytes: 5})
	body := mustJSON(t, map[string]any{"model": "gpt-3.5-turbo-instruct", "stream": true, "n": 2, "prompt": userText,
		"stream_options": map[string]any{"include_usage": true}})
	evs, _ := rawStream(t, base+"/completions", body, nil)
	texts := map[int]string{}
	usage := false
	for _, ev := range evs[:len(evs)-1] {
		var c openai.Completion
		if err := json.Unmarshal([]byte(ev.data), &c); err != nil {
			t.Fatal(err)
		}
		for _, ch := range c.Choices {
			texts[int(ch.Index)] += ch.Text
		}
		if len(c.Choices) == 0 && c.Usage.TotalTokens > 0 {
			usage = true
		}
	}
	if texts[0] != userText || texts[1] != userText || !usage || evs[len(evs)-1].data != "[DONE]" {
		t.Errorf("texts %v usage %v last %q", texts, usage, evs[len(evs)-1].data)
	}
}

func TestBadDirectiveIsRefused(t *testing.T) {
	_, base := serve(t, standin.Options{})
	for _, line := range []string{"standin: frobnicate=1", "standin: n=0", "standin: ping=sometimes", "standin: status=200", "standin: tools"} {
		resp, err := http.Post(base+"/chat/completions", "application/json",
			bytes.NewReader(mustJSON(t, map[string]any{"model": "m", "messages": []any{map[string]any{"role": "user", "content": "hi\n" + line}}})))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(b), "standin: bad directive") {
			t.Errorf("%q: %d %s", line, resp.StatusCode, b)
		}
	}
}

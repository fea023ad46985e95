package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"
	goopenai "github.com/sashabaranov/go-openai"

	"github.com/wardenhq/warden/internal/standin"
)

// The Go client matrix: Go SDKs against `warden serve` as a user runs
// it — the config file a user writes (an upstream URL and key_env), the
// stack buildGateway builds, served by newHTTPServer on a real listener —
// in front of the stand-in upstream (internal/standin) on another real
// listener. For each client: a PII round trip (the caller gets the
// originals back; the upstream sees only tokens, never a raw value or
// the caller's key), a streamed answer, two parallel tool calls in a
// stream whose arguments carry the restored PII, and an upstream 429
// relayed with its retry headers and retried by the SDK (go-openai has
// no retries: its caller gets the 429 as an *APIError). e2e/run.sh runs
// the npm half of the matrix.

// The sensitive values of the matrix; the card is a Luhn-valid test
// number.
const (
	clientEmail = "jane.roe+go@example.org"
	clientSSN   = "536-22-4817"
	clientCard  = "4111 1111 1111 1111"
)

var clientRaw = []string{clientEmail, clientSSN, clientCard, strings.ReplaceAll(clientCard, " ", "")}

// clientPII is a prompt with the email, SSN and card, tagged so a test
// finds its own upstream requests.
func clientPII(tag string) string {
	return fmt.Sprintf("case %s: please file this: contact %s, SSN %s, card %s. Thanks!", tag, clientEmail, clientSSN, clientCard)
}

// The stand-in directives the tests use (the echo leaves them out).
const (
	directiveTools      = "\nstandin: tools=2 interleave=1"
	directiveSequential = "\nstandin: tools=2 interleave=0"
)

// directiveFail makes the stand-in answer the first request carrying it
// with 429 and retry-after, then normally. Failures are counted per
// directive line, so each test passes its own ms.
func directiveFail(ms int) string {
	return fmt.Sprintf("\nstandin: status=429 fail=1 retry_ms=%d", ms)
}

// The two tools every client offers.
var (
	lookupParams = map[string]any{"type": "object", "properties": map[string]any{"query": map[string]any{"type": "string"}},
		"required": []string{"query"}, "additionalProperties": false}
	fileParams = map[string]any{"type": "object", "properties": map[string]any{
		"note": map[string]any{"type": "string"}, "priority": map[string]any{"type": "integer"}},
		"required": []string{"note", "priority"}, "additionalProperties": false}
)

// clientStack is warden serve on a real listener in front of the
// stand-in on another.
type clientStack struct {
	url      string // gateway base, no /v1
	key      string // the caller's API key
	upstream *standin.Server
	upKey    string // the configured upstream key
	logs     *lockedBuffer
	dataDir  string
	stop     func()
}

func newClientStack(t *testing.T) *clientStack {
	t.Helper()
	up := standin.New(standin.Options{Record: true, DeltaBytes: 5, WriteBytes: 3, Models: []string{"gpt-4o-mini", "claude-test"}})
	upLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	upSrv := &http.Server{Handler: up, ReadHeaderTimeout: 10 * time.Second}
	go upSrv.Serve(upLn)
	t.Cleanup(func() { upSrv.Close() })

	var b [8]byte
	rand.Read(b[:])
	s := &clientStack{upstream: up, upKey: "sk-upstream-go-" + hex.EncodeToString(b[:]), logs: &lockedBuffer{}}
	dir := t.TempDir()
	s.dataDir = filepath.Join(dir, "data")
	cfgPath := filepath.Join(dir, "warden.yaml")
	yaml := fmt.Sprintf("data_dir: %s\nserver:\n  listen: 127.0.0.1:0\nupstreams:\n  - name: standin\n    url: http://%s/v1\n"+
		"    key_env: WARDEN_CLIENTS_UPSTREAM_KEY\n    models: [gpt-4o-mini, claude-test]\n", s.dataDir, upLn.Addr())
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		if k == "WARDEN_CLIENTS_UPSTREAM_KEY" {
			return s.upKey
		}
		return ""
	}
	var out bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: s.logs, getenv: getenv}
	if code := runAPIKey(context.Background(), c, []string{"create", "--config", cfgPath, "--name", "clients",
		"--models", "gpt-4o-mini,claude-test", "--tenant", "acme"}); code != exitOK {
		t.Fatalf("apikey create: exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	s.key = lines[len(lines)-1]
	cfg, err := loadConfig(cfgPath, getenv)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(s.logs, nil))
	gw, closeGW, err := buildGateway(context.Background(), cfg, c, log)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		closeGW()
		t.Fatal(err)
	}
	srv := newHTTPServer(cfg, gw, log)
	go srv.Serve(ln)
	s.url = "http://" + ln.Addr().String()
	stopped := false
	s.stop = func() {
		if !stopped {
			stopped = true
			srv.Close()
			closeGW()
		}
	}
	t.Cleanup(s.stop)
	return s
}

var tokenRE = regexp.MustCompile(`\[\[[A-Z_]+:[0-9A-Z]+\]\]`)

// assertRestored checks text holds the three originals and no token.
func assertRestored(t *testing.T, what, text string) {
	t.Helper()
	for _, v := range []string{clientEmail, clientSSN, clientCard} {
		if !strings.Contains(text, v) {
			t.Errorf("%s: a value was not restored: %q", what, text)
			return
		}
	}
	if tokenRE.MatchString(text) {
		t.Errorf("%s: a token reached the caller: %q", what, text)
	}
}

// assertUpstream checks the upstream saw want requests for tag, on path,
// each with tokens of the three types, the configured upstream key, and
// neither a raw value nor the caller's key anywhere in headers or body.
func (s *clientStack) assertUpstream(t *testing.T, tag, path string, want int) {
	t.Helper()
	var got []standin.Request
	for _, r := range s.upstream.Requests() {
		if bytes.Contains(r.Body, []byte("case "+tag+":")) {
			got = append(got, r)
		}
	}
	if len(got) != want {
		t.Fatalf("case %s: the upstream saw %d requests, want %d", tag, len(got), want)
	}
	for _, r := range got {
		if r.Path != path {
			t.Errorf("case %s: upstream path %s, want %s", tag, r.Path, path)
		}
		hdr, _ := json.Marshal(r.Header)
		all := string(r.Body) + string(hdr)
		for _, v := range append(slices.Clone(clientRaw), s.key) {
			if strings.Contains(all, v) {
				t.Errorf("case %s: the upstream request carries a raw value or the caller's key", tag)
			}
		}
		if r.Header.Get("Authorization") != "Bearer "+s.upKey && r.Header.Get("X-Api-Key") != s.upKey {
			t.Errorf("case %s: the upstream request lacks the configured upstream key", tag)
		}
		for _, typ := range []string{"EMAIL_ADDRESS", "US_SSN", "CREDIT_CARD"} {
			if !strings.Contains(string(r.Body), "[["+typ+":") {
				t.Errorf("case %s: the upstream saw no %s token", tag, typ)
			}
		}
	}
}

// assertNoRawOutput stops the gateway and checks no raw value reached
// its log or data directory, and the caller's key is not in clear there.
func (s *clientStack) assertNoRawOutput(t *testing.T) {
	t.Helper()
	s.stop()
	outputs := map[string][]byte{"log": s.logs.Bytes()}
	filepath.WalkDir(s.dataDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, err := os.ReadFile(path); err == nil {
				outputs[path] = b
			}
		}
		return nil
	})
	for name, b := range outputs {
		for _, v := range append(slices.Clone(clientRaw), s.key, s.upKey) {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("a raw value or key is in the gateway's %s", name)
			}
		}
	}
}

// toolCall is a client's accumulated tool call.
type toolCall struct{ name, args string }

// assertToolCalls checks the two tools by name, in order, with complete
// JSON arguments whose strings hold the restored prompt.
func assertToolCalls(t *testing.T, what string, calls []toolCall) {
	t.Helper()
	var names []string
	for _, c := range calls {
		names = append(names, c.name)
	}
	if !slices.Equal(names, []string{"lookup_customer", "file_ticket"}) {
		t.Fatalf("%s: tool calls %v, want [lookup_customer file_ticket]", what, names)
	}
	for _, c := range calls {
		var args struct {
			Query    string `json:"query"`
			Note     string `json:"note"`
			Priority *int   `json:"priority"`
		}
		if err := json.Unmarshal([]byte(c.args), &args); err != nil {
			t.Errorf("%s: %s arguments are not JSON: %v: %q", what, c.name, err, c.args)
			continue
		}
		if c.name == "lookup_customer" {
			assertRestored(t, what+": lookup_customer.query", args.Query)
		} else {
			assertRestored(t, what+": file_ticket.note", args.Note)
			if args.Priority == nil || *args.Priority != 1 {
				t.Errorf("%s: file_ticket.priority is not 1", what)
			}
		}
	}
}

func TestClientOpenAIGo(t *testing.T) {
	s := newClientStack(t)
	ctx := context.Background()
	client := func(retries int) *openai.Client {
		c := openai.NewClient(option.WithBaseURL(s.url+"/v1/"), option.WithAPIKey(s.key), option.WithMaxRetries(retries),
			option.WithRequestTimeout(20*time.Second))
		return &c
	}
	chatTools := []openai.ChatCompletionToolUnionParam{
		openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{Name: "lookup_customer", Parameters: lookupParams}),
		openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{Name: "file_ticket", Parameters: fileParams}),
	}
	chat := func(text string) openai.ChatCompletionNewParams {
		return openai.ChatCompletionNewParams{Model: "gpt-4o-mini", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(text)}}
	}

	t.Run("chat PII round trip", func(t *testing.T) {
		tag := "go-openai-go-chat-pii"
		r, err := client(0).Chat.Completions.New(ctx, chat(clientPII(tag)))
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Choices[0].Message.Content; got != clientPII(tag) {
			t.Errorf("content %q, want the prompt", got)
		}
		s.assertUpstream(t, tag, "/v1/chat/completions", 1)
	})

	t.Run("chat stream text", func(t *testing.T) {
		tag := "go-openai-go-chat-stream"
		stream := client(0).Chat.Completions.NewStreaming(ctx, chat(clientPII(tag)))
		var acc openai.ChatCompletionAccumulator
		var deltas strings.Builder
		for stream.Next() {
			ch := stream.Current()
			acc.AddChunk(ch)
			if len(ch.Choices) > 0 {
				deltas.WriteString(ch.Choices[0].Delta.Content)
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		if deltas.String() != clientPII(tag) || acc.Choices[0].Message.Content != clientPII(tag) {
			t.Errorf("streamed %q, accumulated %q, want the prompt", deltas.String(), acc.Choices[0].Message.Content)
		}
		s.assertUpstream(t, tag, "/v1/chat/completions", 1)
	})

	for _, tc := range []struct{ name, directive string }{
		{"interleaved", directiveTools},
		{"sequential", directiveSequential},
	} {
		t.Run("chat stream two tool calls "+tc.name, func(t *testing.T) {
			tag := "go-openai-go-chat-tools-" + tc.name
			p := chat(clientPII(tag) + tc.directive)
			p.Tools = chatTools
			stream := client(0).Chat.Completions.NewStreaming(ctx, p)
			var acc openai.ChatCompletionAccumulator
			var finished []toolCall
			var order []int64 // tool call index of each delta, in stream order
			for stream.Next() {
				if !acc.AddChunk(stream.Current()) {
					t.Fatalf("the accumulator refused a chunk: %s", stream.Current().RawJSON())
				}
				for _, ch := range stream.Current().Choices {
					for _, d := range ch.Delta.ToolCalls {
						order = append(order, d.Index)
					}
				}
				if c, ok := acc.JustFinishedToolCall(); ok {
					finished = append(finished, toolCall{c.Name, c.Arguments})
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			var calls []toolCall
			for _, c := range acc.Choices[0].Message.ToolCalls {
				calls = append(calls, toolCall{c.Function.Name, c.Function.Arguments})
			}
			assertToolCalls(t, "accumulated", calls)
			s.assertUpstream(t, tag, "/v1/chat/completions", 1)
			if tc.name == "sequential" {
				// The API sends one call after another, and the SDK
				// reports a call finished when the next one starts.
				t.Run("JustFinishedToolCall", func(t *testing.T) {
					if !slices.IsSorted(order) {
						t.Errorf("the upstream sent the calls one after another; the caller got deltas of calls %v", order)
					}
					assertToolCalls(t, "JustFinishedToolCall", finished)
				})
			}
		})
	}

	t.Run("responses stream two function calls", func(t *testing.T) {
		tag := "go-openai-go-responses-tools"
		stream := client(0).Responses.NewStreaming(ctx, responses.ResponseNewParams{
			Model: "gpt-4o-mini",
			Input: responses.ResponseNewParamsInputUnion{OfString: openai.String(clientPII(tag) + directiveTools)},
			Tools: []responses.ToolUnionParam{
				responses.ToolParamOfFunction("lookup_customer", lookupParams, true),
				responses.ToolParamOfFunction("file_ticket", fileParams, true),
			},
		})
		deltas := map[string]string{}
		var final responses.Response
		for stream.Next() {
			ev := stream.Current()
			switch ev.Type {
			case "response.function_call_arguments.delta":
				deltas[ev.ItemID] += ev.Delta
			case "response.completed":
				final = ev.Response
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		var calls, streamed []toolCall
		for _, o := range final.Output {
			if o.Type == "function_call" {
				calls = append(calls, toolCall{o.Name, o.Arguments.OfString})
				streamed = append(streamed, toolCall{o.Name, deltas[o.ID]})
			}
		}
		assertToolCalls(t, "response.completed", calls)
		assertToolCalls(t, "argument deltas", streamed)
		s.assertUpstream(t, tag, "/v1/responses", 1)
	})

	t.Run("upstream 429 relayed with its headers", func(t *testing.T) {
		tag := "go-openai-go-429-headers"
		_, err := client(0).Chat.Completions.New(ctx, chat(clientPII(tag)+directiveFail(25)))
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("want a 429 *openai.Error, got %v", err)
		}
		h := apiErr.Response.Header
		for k, want := range map[string]string{"Retry-After-Ms": "25", "Retry-After": "1", "X-Ratelimit-Remaining-Requests": "0"} {
			if got := h.Get(k); got != want {
				t.Errorf("%s: %q, want %q", k, got, want)
			}
		}
		if apiErr.Code != "rate_limit_exceeded" || !strings.HasPrefix(h.Get("X-Request-Id"), "req_standin_") {
			t.Errorf("code %q, x-request-id %q", apiErr.Code, h.Get("X-Request-Id"))
		}
		s.assertUpstream(t, tag, "/v1/chat/completions", 1)
	})

	t.Run("upstream 429 retried by the SDK", func(t *testing.T) {
		tag := "go-openai-go-429-retry"
		var resp *http.Response
		r, err := client(2).Chat.Completions.New(ctx, chat(clientPII(tag)+directiveFail(20)), option.WithResponseInto(&resp))
		if err != nil {
			t.Fatal(err)
		}
		if r.Choices[0].Message.Content != clientPII(tag) {
			t.Errorf("content %q, want the prompt", r.Choices[0].Message.Content)
		}
		if !strings.HasPrefix(resp.Header.Get("X-Request-Id"), "req_standin_") {
			t.Errorf("x-request-id %q", resp.Header.Get("X-Request-Id"))
		}
		s.assertUpstream(t, tag, "/v1/chat/completions", 2)
	})

	s.assertNoRawOutput(t)
}

func TestClientGoOpenAI(t *testing.T) {
	s := newClientStack(t)
	ctx := context.Background()
	cfg := goopenai.DefaultConfig(s.key)
	cfg.BaseURL = s.url + "/v1"
	client := goopenai.NewClientWithConfig(cfg)
	chat := func(text string) goopenai.ChatCompletionRequest {
		return goopenai.ChatCompletionRequest{Model: "gpt-4o-mini", Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: text}}}
	}

	t.Run("chat PII round trip", func(t *testing.T) {
		tag := "go-go-openai-chat-pii"
		r, err := client.CreateChatCompletion(ctx, chat(clientPII(tag)))
		if err != nil {
			t.Fatal(err)
		}
		if r.Choices[0].Message.Content != clientPII(tag) {
			t.Errorf("content %q, want the prompt", r.Choices[0].Message.Content)
		}
		if rl := r.GetRateLimitHeaders(); rl.LimitRequests != 10000 {
			t.Errorf("x-ratelimit-limit-requests: %d, want the upstream's 10000", rl.LimitRequests)
		}
		s.assertUpstream(t, tag, "/v1/chat/completions", 1)
	})

	t.Run("chat stream text", func(t *testing.T) {
		tag := "go-go-openai-chat-stream"
		stream, err := client.CreateChatCompletionStream(ctx, chat(clientPII(tag)))
		if err != nil {
			t.Fatal(err)
		}
		defer stream.Close()
		var text strings.Builder
		finish := goopenai.FinishReason("")
		for {
			ch, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ch.Choices) > 0 {
				text.WriteString(ch.Choices[0].Delta.Content)
				if ch.Choices[0].FinishReason != "" {
					finish = ch.Choices[0].FinishReason
				}
			}
		}
		if text.String() != clientPII(tag) || finish != goopenai.FinishReasonStop {
			t.Errorf("streamed %q (finish %q), want the prompt (stop)", text.String(), finish)
		}
		s.assertUpstream(t, tag, "/v1/chat/completions", 1)
	})

	t.Run("chat stream two tool calls interleaved", func(t *testing.T) {
		tag := "go-go-openai-chat-tools"
		req := chat(clientPII(tag) + directiveTools)
		req.Tools = []goopenai.Tool{
			{Type: goopenai.ToolTypeFunction, Function: &goopenai.FunctionDefinition{Name: "lookup_customer", Parameters: lookupParams}},
			{Type: goopenai.ToolTypeFunction, Function: &goopenai.FunctionDefinition{Name: "file_ticket", Parameters: fileParams}},
		}
		stream, err := client.CreateChatCompletionStream(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		defer stream.Close()
		// go-openai leaves accumulation to the caller: by index, as the
		// API documents.
		var calls []toolCall
		for {
			ch, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range ch.Choices {
				for _, d := range c.Delta.ToolCalls {
					if d.Index == nil {
						t.Fatal("a tool call delta without an index")
					}
					for len(calls) <= *d.Index {
						calls = append(calls, toolCall{})
					}
					calls[*d.Index].name += d.Function.Name
					calls[*d.Index].args += d.Function.Arguments
				}
			}
		}
		assertToolCalls(t, "accumulated", calls)
		s.assertUpstream(t, tag, "/v1/chat/completions", 1)
	})

	t.Run("upstream 429 reaches the caller as an APIError", func(t *testing.T) {
		tag := "go-go-openai-429"
		_, err := client.CreateChatCompletion(ctx, chat(clientPII(tag)+directiveFail(25)))
		var apiErr *goopenai.APIError
		if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != http.StatusTooManyRequests || apiErr.Code != "rate_limit_exceeded" {
			t.Fatalf("want a 429 rate_limit_exceeded *APIError, got %v", err)
		}
		// go-openai does not retry; the caller's own retry succeeds.
		r, err := client.CreateChatCompletion(ctx, chat(clientPII(tag)+directiveFail(25)))
		if err != nil {
			t.Fatal(err)
		}
		if r.Choices[0].Message.Content != clientPII(tag) {
			t.Errorf("content %q, want the prompt", r.Choices[0].Message.Content)
		}
		s.assertUpstream(t, tag, "/v1/chat/completions", 2)
	})

	s.assertNoRawOutput(t)
}

func TestClientAnthropicGo(t *testing.T) {
	s := newClientStack(t)
	ctx := context.Background()
	client := func(retries int) *anthropic.Client {
		c := anthropic.NewClient(aoption.WithBaseURL(s.url), aoption.WithAPIKey(s.key), aoption.WithMaxRetries(retries),
			aoption.WithRequestTimeout(20*time.Second))
		return &c
	}
	msg := func(text string) anthropic.MessageNewParams {
		return anthropic.MessageNewParams{Model: "claude-test", MaxTokens: 512,
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(text))}}
	}
	tool := func(name string, params map[string]any) anthropic.ToolUnionParam {
		return anthropic.ToolUnionParam{OfTool: &anthropic.ToolParam{Name: name,
			InputSchema: anthropic.ToolInputSchemaParam{Properties: params["properties"], Required: params["required"].([]string)}}}
	}

	t.Run("messages PII round trip", func(t *testing.T) {
		tag := "go-anthropic-pii"
		r, err := client(0).Messages.New(ctx, msg(clientPII(tag)))
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Content) != 1 || r.Content[0].Text != clientPII(tag) || r.StopReason != anthropic.StopReasonEndTurn {
			t.Errorf("answer %s, want the prompt", r.RawJSON())
		}
		s.assertUpstream(t, tag, "/v1/messages", 1)
	})

	t.Run("messages stream text", func(t *testing.T) {
		tag := "go-anthropic-stream"
		stream := client(0).Messages.NewStreaming(ctx, msg(clientPII(tag)+"\nstandin: ping=every"))
		var acc anthropic.Message
		var deltas strings.Builder
		for stream.Next() {
			ev := stream.Current()
			if err := acc.Accumulate(ev); err != nil {
				t.Fatal(err)
			}
			if d, ok := ev.AsAny().(anthropic.ContentBlockDeltaEvent); ok {
				deltas.WriteString(d.Delta.Text)
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		if deltas.String() != clientPII(tag) || len(acc.Content) != 1 || acc.Content[0].Text != clientPII(tag) {
			t.Errorf("streamed %q, accumulated %s, want the prompt", deltas.String(), acc.RawJSON())
		}
		s.assertUpstream(t, tag, "/v1/messages", 1)
	})

	t.Run("messages stream two tool_use blocks interleaved", func(t *testing.T) {
		tag := "go-anthropic-tools"
		p := msg(clientPII(tag) + directiveTools)
		p.Tools = []anthropic.ToolUnionParam{tool("lookup_customer", lookupParams), tool("file_ticket", fileParams)}
		stream := client(0).Messages.NewStreaming(ctx, p)
		var acc anthropic.Message
		partial := map[int64]string{}
		for stream.Next() {
			ev := stream.Current()
			if err := acc.Accumulate(ev); err != nil {
				t.Fatal(err)
			}
			if d, ok := ev.AsAny().(anthropic.ContentBlockDeltaEvent); ok && d.Delta.Type == "input_json_delta" {
				partial[d.Index] += d.Delta.PartialJSON
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		var calls, streamed []toolCall
		for i, b := range acc.Content {
			if b.Type == "tool_use" {
				calls = append(calls, toolCall{b.Name, string(b.Input)})
				streamed = append(streamed, toolCall{b.Name, partial[int64(i)]})
			}
		}
		if acc.StopReason != anthropic.StopReasonToolUse {
			t.Errorf("stop_reason %q, want tool_use", acc.StopReason)
		}
		assertToolCalls(t, "accumulated", calls)
		assertToolCalls(t, "input_json deltas", streamed)
		s.assertUpstream(t, tag, "/v1/messages", 1)
	})

	t.Run("upstream 429 relayed with its headers", func(t *testing.T) {
		tag := "go-anthropic-429-headers"
		_, err := client(0).Messages.New(ctx, msg(clientPII(tag)+directiveFail(25)))
		var apiErr *anthropic.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("want a 429 *anthropic.Error, got %v", err)
		}
		h := apiErr.Response.Header
		if h.Get("Retry-After") != "1" || h.Get("Anthropic-Ratelimit-Requests-Remaining") != "0" || !strings.HasPrefix(h.Get("Request-Id"), "req_standin_") {
			t.Errorf("retry-after %q, anthropic-ratelimit-requests-remaining %q, request-id %q",
				h.Get("Retry-After"), h.Get("Anthropic-Ratelimit-Requests-Remaining"), h.Get("Request-Id"))
		}
		s.assertUpstream(t, tag, "/v1/messages", 1)
	})

	t.Run("upstream 429 retried by the SDK", func(t *testing.T) {
		tag := "go-anthropic-429-retry"
		var resp *http.Response
		r, err := client(2).Messages.New(ctx, msg(clientPII(tag)+directiveFail(20)), aoption.WithResponseInto(&resp))
		if err != nil {
			t.Fatal(err)
		}
		if r.Content[0].Text != clientPII(tag) {
			t.Errorf("answer %q, want the prompt", r.Content[0].Text)
		}
		if !strings.HasPrefix(resp.Header.Get("Request-Id"), "req_standin_") {
			t.Errorf("request-id %q", resp.Header.Get("Request-Id"))
		}
		s.assertUpstream(t, tag, "/v1/messages", 2)
	})

	s.assertNoRawOutput(t)
}

package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"

	"github.com/wardenhq/warden/detect"
	"github.com/wardenhq/warden/gateway"
	"github.com/wardenhq/warden/internal/standin"
	"github.com/wardenhq/warden/policy"
	"github.com/wardenhq/warden/ratelimit"
)

const (
	testKey     = "wk_test_0123456789abcdef0123456789abcdef"
	upstreamKey = "sk-upstream-credential-for-tests-0000"
)

// Canary values: they must never reach the upstream or any log.
const (
	canaryEmail = "jane.canary@example.com"
	canarySSN   = "457-55-5462"
	canaryCard  = "4111 1111 1111 1111"
	prompt      = "Email " + canaryEmail + " about SSN " + canarySSN + " and card " + canaryCard + " please."
)

type env struct {
	gw       *httptest.Server
	upstream *standin.Server
}

func newEnv(t *testing.T, opt standin.Options) *env {
	t.Helper()
	opt.Record = true
	up := standin.New(opt)
	srv := newTestGateway(t, gateway.Config{
		Upstreams: []*gateway.Upstream{{Name: "standin", URL: upstreamURL(t, up), Key: upstreamKey, Zone: "cloud", Models: []string{"gpt-4o-mini", "gpt-4o", "claude-test"}}},
	}, gateway.Deps{Auth: testAuth})
	return &env{gw: srv, upstream: up}
}

// testAuth admits testKey (as a bearer token or Anthropic's x-api-key)
// for alice of tenant acme.
var testAuth = gateway.AuthenticatorFunc(func(r *http.Request) (*gateway.Principal, error) {
	if r.Header.Get("Authorization") != "Bearer "+testKey && r.Header.Get("X-Api-Key") != testKey {
		return nil, gateway.ErrUnauthenticated
	}
	return &gateway.Principal{Name: "alice", Tenant: "acme", Models: []string{"gpt-4o-mini", "claude-test"}}, nil
})

func (e *env) client(key string) *openai.Client {
	c := openai.NewClient(option.WithBaseURL(e.gw.URL+"/v1"), option.WithAPIKey(key), option.WithMaxRetries(0))
	return &c
}

// assertUpstreamClean checks that no request the upstream received holds a
// canary or the caller's key, and that each carried the upstream key.
func (e *env) assertUpstreamClean(t *testing.T) {
	t.Helper()
	reqs := e.upstream.Requests()
	if len(reqs) == 0 {
		t.Fatal("upstream received nothing")
	}
	for _, r := range reqs {
		for _, c := range []string{canaryEmail, canarySSN, canaryCard, "4111111111111111", testKey} {
			if bytes.Contains(r.Body, []byte(c)) || strings.Contains(r.Header.Get("Authorization"), c) {
				t.Errorf("upstream received %q", c)
			}
		}
		if got := r.Header.Get("Authorization"); got != "Bearer "+upstreamKey && r.Header.Get("X-Api-Key") != upstreamKey {
			t.Errorf("upstream credential not injected: Authorization=%q", got)
		}
	}
}

func TestChatRestoresOriginals(t *testing.T) {
	e := newEnv(t, standin.Options{})
	c := e.client(testKey)
	resp, err := c.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:    "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("be brief"), openai.UserMessage(prompt)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Content; got != prompt {
		t.Fatalf("content = %q, want the original prompt back", got)
	}
	e.assertUpstreamClean(t)
	body := e.upstream.Requests()[0].Body
	if !bytes.Contains(body, []byte("[[EMAIL_ADDRESS:")) || !bytes.Contains(body, []byte("[[US_SSN:")) || !bytes.Contains(body, []byte("[[CREDIT_CARD:")) {
		t.Errorf("upstream body lacks tokens: %s", body)
	}
}

func TestChatStreamSplitIntoTinyWrites(t *testing.T) {
	for _, n := range []int{1, 3} {
		e := newEnv(t, standin.Options{DeltaBytes: 3, WriteBytes: n})
		c := e.client(testKey)
		stream := c.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
			Model:    "gpt-4o-mini",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt + " Grüße ☃")},
		})
		var acc openai.ChatCompletionAccumulator
		for stream.Next() {
			acc.AddChunk(stream.Current())
		}
		if err := stream.Err(); err != nil {
			t.Fatalf("write size %d: %v", n, err)
		}
		if got := acc.Choices[0].Message.Content; got != prompt+" Grüße ☃" {
			t.Fatalf("write size %d: streamed content = %q", n, got)
		}
		e.assertUpstreamClean(t)
	}
}

func TestResponsesAPI(t *testing.T) {
	e := newEnv(t, standin.Options{DeltaBytes: 5})
	c := e.client(testKey)
	ctx := context.Background()
	params := responses.ResponseNewParams{Model: "gpt-4o-mini", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String(prompt)}}
	resp, err := c.Responses.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.OutputText(); got != prompt {
		t.Fatalf("responses JSON: %q", got)
	}
	stream := c.Responses.NewStreaming(ctx, params)
	var b strings.Builder
	for stream.Next() {
		ev := stream.Current()
		if ev.Type == "response.output_text.delta" {
			b.WriteString(ev.Delta)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if b.String() != prompt {
		t.Fatalf("responses stream: %q", b.String())
	}
	e.assertUpstreamClean(t)
}

func TestEmbeddingsDeidentified(t *testing.T) {
	e := newEnv(t, standin.Options{})
	c := e.client(testKey)
	_, err := c.Embeddings.New(context.Background(), openai.EmbeddingNewParams{
		Model: "gpt-4o-mini",
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{prompt, "plain"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.assertUpstreamClean(t)
}

func TestRefusals(t *testing.T) {
	e := newEnv(t, standin.Options{})
	ctx := context.Background()
	msg := []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello")}

	_, err := e.client("wrong-key").Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini", Messages: msg})
	assertStatus(t, err, 401)

	_, err = e.client(testKey).Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o", Messages: msg})
	assertStatus(t, err, 403)

	// A made-up key and AWS's documentation key: both are refused.
	for _, key := range []string{"AKIAZ7QW3ERTY5UIOP2A", "AKIAIOSFODNN7EXAMPLE"} {
		secret := []openai.ChatCompletionMessageParamUnion{openai.UserMessage("deploy with " + key + " please")}
		_, err = e.client(testKey).Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini", Messages: secret})
		apiErr := assertStatus(t, err, 400)
		if apiErr != nil && (strings.Contains(apiErr.Message, "AKIA") || !strings.Contains(apiErr.Message, "AWS")) {
			t.Errorf("refusal should name the type, not the value: %q", apiErr.Message)
		}
	}
	if n := len(e.upstream.Requests()); n != 0 {
		t.Errorf("upstream received %d requests for refused calls", n)
	}
}

func assertStatus(t *testing.T, err error, want int) *openai.Error {
	t.Helper()
	var apiErr *openai.Error
	if err == nil {
		t.Fatalf("want HTTP %d, got success", want)
	}
	if !asError(err, &apiErr) || apiErr.StatusCode != want {
		t.Fatalf("want HTTP %d, got %v", want, err)
	}
	return apiErr
}

func asError(err error, target **openai.Error) bool {
	e, ok := err.(*openai.Error)
	if ok {
		*target = e
	}
	return ok
}

func TestModelsListsOnlyAllowed(t *testing.T) {
	e := newEnv(t, standin.Options{})
	page, err := e.client(testKey).Models.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range page.Data {
		ids = append(ids, m.ID)
	}
	if strings.Join(ids, ",") != "claude-test,gpt-4o-mini" && strings.Join(ids, ",") != "gpt-4o-mini,claude-test" {
		t.Fatalf("models = %v", ids)
	}
}

func TestAnthropicMessages(t *testing.T) {
	e := newEnv(t, standin.Options{DeltaBytes: 2, WriteBytes: 3})
	for _, stream := range []bool{false, true} {
		body, _ := json.Marshal(map[string]any{"model": "claude-test", "max_tokens": 100, "stream": stream,
			"system": "You are terse.", "messages": []any{map[string]any{"role": "user", "content": []any{map[string]any{"type": "text", "text": prompt}}}}})
		req, _ := http.NewRequest("POST", e.gw.URL+"/v1/messages", bytes.NewReader(body))
		req.Header.Set("x-api-key", testKey)
		req.Header.Set("anthropic-version", "2023-06-01")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, raw)
		}
		var text string
		if !stream {
			var m struct {
				Content []struct{ Text string } `json:"content"`
			}
			json.Unmarshal(raw, &m)
			text = m.Content[0].Text
		} else {
			for _, line := range strings.Split(string(raw), "\n") {
				if !strings.HasPrefix(line, "data: ") {
					continue
				}
				var ev struct {
					Type  string
					Delta struct{ Text string }
				}
				json.Unmarshal([]byte(line[6:]), &ev)
				if ev.Type == "content_block_delta" {
					text += ev.Delta.Text
				}
			}
		}
		if text != prompt {
			t.Fatalf("stream=%v: text = %q", stream, text)
		}
	}
	e.assertUpstreamClean(t)
}

func TestUnapprovedModelRefused(t *testing.T) {
	up := httptest.NewServer(standin.New(standin.Options{}))
	defer up.Close()
	eng, _ := detect.New(detect.Config{})
	pol, _ := policy.New(policy.Config{})
	auth := gateway.AuthenticatorFunc(func(r *http.Request) (*gateway.Principal, error) {
		return &gateway.Principal{Name: "alice", Tenant: "acme", Models: []string{"*"}}, nil
	})
	gw, err := gateway.New(gateway.Config{Upstreams: []*gateway.Upstream{{Name: "onprem", URL: up.URL + "/v1", Models: []string{"*"},
		Check: func(_ context.Context, model string) error {
			if model == "llama-approved" {
				return nil
			}
			return errors.New("model is not approved in the model registry")
		}}}}, gateway.Deps{Auth: auth, Detector: eng, Policy: pol})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	c := openai.NewClient(option.WithBaseURL(srv.URL+"/v1"), option.WithAPIKey("x"), option.WithMaxRetries(0))
	msg := []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}
	if _, err := c.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "llama-approved", Messages: msg}); err != nil {
		t.Fatalf("approved model: %v", err)
	}
	_, err = c.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "llama-unvetted", Messages: msg})
	if e := assertStatus(t, err, 403); !strings.Contains(e.Message, "not approved") {
		t.Fatalf("message: %q", e.Message)
	}
}

func TestRateLimit429WithRetryAfter(t *testing.T) {
	up := httptest.NewServer(standin.New(standin.Options{}))
	defer up.Close()
	eng, _ := detect.New(detect.Config{})
	pol, _ := policy.New(policy.Config{})
	auth := gateway.AuthenticatorFunc(func(r *http.Request) (*gateway.Principal, error) {
		return &gateway.Principal{Name: "alice", Tenant: "acme", Models: []string{"*"}}, nil
	})
	gw, err := gateway.New(gateway.Config{
		Upstreams:             []*gateway.Upstream{{Name: "u", URL: up.URL + "/v1", Models: []string{"*"}}},
		DefaultPrincipalLimit: ratelimit.Limit{Requests: 2, Per: time.Minute},
	}, gateway.Deps{Auth: auth, Detector: eng, Policy: pol, Limiter: ratelimit.NewMemory(nil)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	body := `{"model":"m","messages":[{"role":"user","content":"hi"}]}`
	for i := 0; i < 3; i++ {
		resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := 200
		if i == 2 {
			want = 429
		}
		if resp.StatusCode != want {
			t.Fatalf("request %d: status %d, want %d", i+1, resp.StatusCode, want)
		}
		if want == 429 {
			if ra, _ := strconv.Atoi(resp.Header.Get("Retry-After")); ra < 1 || ra > 60 {
				t.Fatalf("Retry-After = %q", resp.Header.Get("Retry-After"))
			}
		}
	}
}

func TestMalformedUpstreamStreamEndsWithErrorEvent(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hello [[US_SSN:\"}}]}\n\n")
		io.WriteString(w, "data: {not json at all, raw secret 457-55-5462\n\n")
	}))
	defer up.Close()
	eng, _ := detect.New(detect.Config{})
	pol, _ := policy.New(policy.Config{})
	auth := gateway.AuthenticatorFunc(func(r *http.Request) (*gateway.Principal, error) {
		return &gateway.Principal{Name: "alice", Tenant: "acme", Models: []string{"*"}}, nil
	})
	gw, _ := gateway.New(gateway.Config{Upstreams: []*gateway.Upstream{{Name: "u", URL: up.URL + "/v1", Models: []string{"*"}}}},
		gateway.Deps{Auth: auth, Detector: eng, Policy: pol})
	srv := httptest.NewServer(gw)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(raw), "event: error") {
		t.Fatalf("no error event:\n%s", raw)
	}
	if strings.Contains(string(raw), "457-55-5462") || strings.Contains(string(raw), "not json") {
		t.Fatalf("raw upstream bytes passed through:\n%s", raw)
	}
}

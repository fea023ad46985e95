package standin

import (
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

// PingMode says where an Anthropic stream carries "ping" events.
type PingMode string

// The ping modes.
const (
	// PingStart sends one ping after the first content_block_start, as
	// the Anthropic API does. It is the default.
	PingStart PingMode = "start"
	// PingNone sends no ping.
	PingNone PingMode = "none"
	// PingEvery sends a ping between every two events after
	// message_start, including between the deltas of one block.
	PingEvery PingMode = "every"
)

// Options tune a Server. The zero value echoes with 8-byte deltas, writes
// each SSE event whole and calls every tool a request offers.
type Options struct {
	// DeltaBytes is how much reply text (and tool-call argument text)
	// goes in one stream event. Default 8. Deltas are cut on rune
	// boundaries, as real models cut them.
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
	// Clock gives the "created" timestamps. Default: a fixed time,
	// Unix 1700000000 (2023-11-14T22:13:20Z), so bodies are
	// deterministic.
	Clock func() time.Time
	// ToolCalls is how many tool calls the stand-in makes when a request
	// offers tools: 0 (the default) makes one call per tool, n > 0 makes
	// n calls cycling through the tools, n < 0 makes none (it echoes).
	ToolCalls int
	// InterleaveTools interleaves the stream events of parallel tool
	// calls (and of Anthropic content blocks) round-robin instead of
	// sending one call after another. The OpenAI and Anthropic APIs send
	// calls one after another; some compatible upstreams interleave.
	InterleaveTools bool
	// Ping places Anthropic "ping" events. Default PingStart.
	Ping PingMode
	// Reasoning adds a reasoning output item (summary text and
	// encrypted_content) to every Responses answer; without it only a
	// request with a "reasoning" parameter or the reasoning directive
	// gets one.
	Reasoning bool
	// Thinking adds a thinking block (with a signature) to every
	// Anthropic answer; without it only a request with thinking enabled
	// or the thinking directive gets one.
	Thinking bool
	// RedactedThinking adds a redacted_thinking block to every Anthropic
	// answer.
	RedactedThinking bool
	// Refuse answers Chat Completions with a refusal (the echo in the
	// "refusal" field) instead of content.
	Refuse bool
	// FailFirst answers the first FailFirst requests the Server receives
	// (counting every request) with FailStatus, then answers normally:
	// an SDK's retries can be tested against it.
	FailFirst int
	// FailStatus is the status of failed answers. Default 429.
	FailStatus int
	// RetryAfter is what failed answers ask the client to wait, in
	// retry-after (whole seconds, rounded up) and, for OpenAI paths,
	// retry-after-ms. Default 20ms.
	RetryAfter time.Duration
}

// fixedClock is the default Clock.
func fixedClock() time.Time { return time.Unix(1700000000, 0).UTC() }

// Request is a recorded request.
type Request struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// Server is the stand-in upstream. It is an http.Handler; mount it at the
// API's base path (requests may or may not carry a /v1 prefix).
type Server struct {
	opt   Options
	mu    sync.Mutex
	reqs  []Request
	count int            // requests received
	fails map[string]int // requests received per fail directive
}

// New returns a stand-in upstream.
func New(opt Options) *Server {
	if opt.DeltaBytes <= 0 {
		opt.DeltaBytes = 8
	}
	if len(opt.Models) == 0 {
		opt.Models = []string{"echo"}
	}
	if opt.Clock == nil {
		opt.Clock = fixedClock
	}
	if opt.Ping == "" {
		opt.Ping = PingStart
	}
	if opt.FailStatus == 0 {
		opt.FailStatus = http.StatusTooManyRequests
	}
	if opt.RetryAfter == 0 {
		opt.RetryAfter = 20 * time.Millisecond
	}
	return &Server{opt: opt, fails: map[string]int{}}
}

// Requests returns the recorded requests.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// exchange is one request being answered.
type exchange struct {
	s         *Server
	w         *splitWriter
	n         int  // the request's number on this Server, from 1
	anthropic bool // answer in Anthropic's shapes
	path      string
	model     string
	stream    bool
	created   int64
}

// ServeHTTP answers one API call.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	s.mu.Lock()
	s.count++
	x := &exchange{s: s, w: &splitWriter{w: w, n: s.opt.WriteBytes}, n: s.count}
	failing := s.count <= s.opt.FailFirst
	if s.opt.Record {
		s.reqs = append(s.reqs, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	}
	s.mu.Unlock()
	x.path = strings.TrimPrefix(r.URL.Path, "/v1")
	x.anthropic = x.path == "/messages" || r.Header.Get("Anthropic-Version") != ""
	x.created = s.opt.Clock().Unix()
	x.headers()
	if err != nil {
		x.fail(http.StatusBadRequest, "could not read the request body")
		return
	}
	if failing {
		x.failRetryable(s.opt.FailStatus, s.opt.RetryAfter)
		return
	}
	if r.Method == http.MethodGet {
		switch {
		case x.path == "/models":
			x.models()
		case strings.HasPrefix(x.path, "/models/"):
			x.model1(strings.TrimPrefix(x.path, "/models/"))
		default:
			x.fail(http.StatusNotFound, "unknown path")
		}
		return
	}
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		x.fail(http.StatusBadRequest, "the request body is not valid JSON")
		return
	}
	x.model, _ = req["model"].(string)
	x.stream, _ = req["stream"].(bool)
	p, err := s.plan(req)
	if err != nil {
		x.fail(http.StatusBadRequest, err.Error())
		return
	}
	if status := s.failDirective(x.path, p.d); status != 0 {
		x.failRetryable(status, pick(p.d.retry, s.opt.RetryAfter))
		return
	}
	switch x.path {
	case "/chat/completions":
		x.chat(req, p)
	case "/completions":
		x.completions(req, p)
	case "/responses":
		x.responses(req, p)
	case "/messages":
		x.messages(p)
	case "/embeddings":
		x.embeddings(req)
	default:
		x.fail(http.StatusNotFound, "unknown path")
	}
}

// failDirective returns the status a request's directive makes it fail
// with, or 0. fail=N counts the requests that carry the same directive
// line on the same path and fails the first N; status=S alone fails
// every one.
func (s *Server) failDirective(path string, d directive) int {
	status := d.status
	if d.fail == nil {
		return status
	}
	if status == 0 {
		status = http.StatusTooManyRequests
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := path + "\x00" + d.line
	s.fails[key]++
	if s.fails[key] <= *d.fail {
		return status
	}
	return 0
}

// plan is what the stand-in answers one request with.
type plan struct {
	d          directive
	text       string // the reply: Prefix + echo (or tool results)
	echo       string // the user's text alone (for tool arguments)
	calls      []call // tool calls to make instead of replying
	delta      int
	interleave bool
	n          int
	logprobs   bool
	top        int // top_logprobs
	refusal    bool
	ping       PingMode
	reasoning  bool
	thinking   bool
	redacted   bool
	usage      bool // stream_options.include_usage
}

// plan reads a request's text, parameters and directive line.
func (s *Server) plan(req map[string]any) (plan, error) {
	user, d, err := splitDirective(lastUserText(req))
	if err != nil {
		return plan{}, err
	}
	p := plan{
		d:          d,
		echo:       s.show(user),
		delta:      pick(d.delta, s.opt.DeltaBytes),
		interleave: pick(d.interleave, s.opt.InterleaveTools),
		n:          1,
		refusal:    pick(d.refusal, s.opt.Refuse),
		ping:       pick(d.ping, s.opt.Ping),
		redacted:   pick(d.redacted, s.opt.RedactedThinking),
	}
	if n, ok := req["n"].(float64); ok && n >= 1 && n <= 64 {
		p.n = int(n)
	}
	p.n = pick(d.n, p.n)
	switch lp := req["logprobs"].(type) {
	case bool: // Chat Completions
		p.logprobs = lp
	case float64: // Completions: the number of top log probabilities
		p.logprobs, p.top = true, int(lp)
	}
	if t, ok := req["top_logprobs"].(float64); ok && t > 0 && t <= 20 {
		p.top = int(t)
	}
	p.logprobs = pick(d.logprobs, p.logprobs)
	if so, ok := req["stream_options"].(map[string]any); ok {
		p.usage, _ = so["include_usage"].(bool)
	}
	_, asksReasoning := req["reasoning"].(map[string]any)
	p.reasoning = pick(d.reasoning, s.opt.Reasoning || asksReasoning)
	asksThinking := false
	if th, ok := req["thinking"].(map[string]any); ok {
		asksThinking = th["type"] == "enabled" || th["type"] == "adaptive"
	}
	p.thinking = pick(d.thinking, s.opt.Thinking || asksThinking)

	p.text = s.opt.Prefix + p.echo
	if results, ok := toolResults(req); ok {
		p.text = s.opt.Prefix + s.show(results)
		return p, nil
	}
	n := 0 // one call per tool
	switch {
	case s.opt.ToolCalls > 0:
		n = s.opt.ToolCalls
	case s.opt.ToolCalls < 0:
		n = 0
	default:
		n = -1
	}
	if d.tools != nil {
		n = *d.tools
	}
	if !p.refusal && n != 0 {
		p.calls = plannedCalls(requestTools(req), n, p.echo)
	}
	return p, nil
}

// show applies ShowTokens.
func (s *Server) show(t string) string {
	if s.opt.ShowTokens {
		t = strings.NewReplacer("[[", "⟦", "]]", "⟧").Replace(t)
	}
	return t
}

// lastUserText returns the text of the last user message that has text
// (string content or the text parts of content blocks; an Anthropic
// message of tool results alone has none), or the prompt/input as a
// string.
func lastUserText(req map[string]any) string {
	if msgs, ok := req["messages"].([]any); ok {
		return lastUserIn(msgs)
	}
	switch p := req["prompt"].(type) {
	case string:
		return p
	case []any:
		if len(p) > 0 {
			t, _ := p[len(p)-1].(string)
			return t
		}
	}
	switch in := req["input"].(type) {
	case string:
		return in
	case []any:
		return lastUserIn(in)
	}
	return ""
}

func lastUserIn(msgs []any) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		m, _ := msgs[i].(map[string]any)
		if m["role"] == "user" {
			if t := contentText(m["content"]); t != "" {
				return t
			}
		}
	}
	return ""
}

// contentText returns a string content, or the text parts of a content
// array ("text", "input_text", "output_text" parts) joined by newlines.
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

// tokens estimates a text's token count the way the stand-in reports
// usage: a token per four bytes, at least one.
func tokens(t string) int { return len(t)/4 + 1 }

// requestID is the id of the x-request-id (OpenAI) and request-id
// (Anthropic) headers and of Anthropic error bodies.
func (x *exchange) requestID() string { return "req_standin_" + strconv.Itoa(x.n) }

// headers sets the headers every answer carries: the request id, and the
// API's rate-limit headers with requests to spare.
func (x *exchange) headers() {
	h := x.w.w.Header()
	if x.anthropic {
		reset := x.s.opt.Clock().Add(time.Minute).UTC().Format(time.RFC3339)
		h.Set("request-id", x.requestID())
		h.Set("anthropic-organization-id", "00000000-0000-4000-8000-000000000000")
		for _, k := range []string{"requests", "tokens", "input-tokens", "output-tokens"} {
			limit := 4000
			if k != "requests" {
				limit = 400000
			}
			h.Set("anthropic-ratelimit-"+k+"-limit", strconv.Itoa(limit))
			h.Set("anthropic-ratelimit-"+k+"-remaining", strconv.Itoa(limit-1))
			h.Set("anthropic-ratelimit-"+k+"-reset", reset)
		}
		return
	}
	h.Set("x-request-id", x.requestID())
	h.Set("openai-processing-ms", "1")
	h.Set("openai-version", "2020-10-01")
	h.Set("openai-organization", "standin")
	h.Set("x-ratelimit-limit-requests", "10000")
	h.Set("x-ratelimit-remaining-requests", "9999")
	h.Set("x-ratelimit-reset-requests", "6ms")
	h.Set("x-ratelimit-limit-tokens", "30000000")
	h.Set("x-ratelimit-remaining-tokens", "29999990")
	h.Set("x-ratelimit-reset-tokens", "0s")
}

// failRetryable answers with a retryable error status: the API's error
// body, retry-after (and retry-after-ms on OpenAI paths), and rate-limit
// headers that show nothing remaining.
func (x *exchange) failRetryable(status int, wait time.Duration) {
	h := x.w.w.Header()
	h.Set("retry-after", strconv.FormatInt(int64((wait+time.Second-1)/time.Second), 10))
	if x.anthropic {
		if status == http.StatusTooManyRequests {
			h.Set("anthropic-ratelimit-requests-remaining", "0")
		}
		x.fail(status, retryableMessage(status))
		return
	}
	h.Set("retry-after-ms", strconv.FormatInt(wait.Milliseconds(), 10))
	if status == http.StatusTooManyRequests {
		h.Set("x-ratelimit-remaining-requests", "0")
		h.Set("x-ratelimit-reset-requests", wait.String())
	}
	x.fail(status, retryableMessage(status))
}

func retryableMessage(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "Rate limit reached for requests (standin). Please try again shortly."
	case 529:
		return "Overloaded"
	case http.StatusServiceUnavailable:
		return "The server is overloaded or not ready yet."
	}
	return "The server had an error while processing your request."
}

// fail answers with an error in the API's shape: OpenAI's
// {"error":{"message","type","param","code"}} or Anthropic's
// {"type":"error","error":{"type","message"},"request_id"}.
func (x *exchange) fail(status int, msg string) {
	if x.anthropic {
		typ := map[int]string{400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
			404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error", 529: "overloaded_error"}[status]
		if typ == "" {
			typ = "api_error"
		}
		x.w.json(status, obj{{"type", "error"}, {"error", obj{{"type", typ}, {"message", msg}}}, {"request_id", x.requestID()}})
		return
	}
	typ, code := "invalid_request_error", any(nil)
	switch {
	case status == http.StatusTooManyRequests:
		typ, code = "requests", "rate_limit_exceeded"
	case status == http.StatusNotFound:
		code = "not_found"
	case status >= 500:
		typ = "server_error"
	}
	x.w.json(status, obj{{"error", obj{{"message", msg}, {"type", typ}, {"param", nil}, {"code", code}}}})
}

// models answers GET /models: OpenAI's list, or Anthropic's when the
// request carries anthropic-version.
func (x *exchange) models() {
	var data []any
	for _, m := range x.s.opt.Models {
		data = append(data, x.modelObject(m))
	}
	if data == nil {
		data = []any{}
	}
	if x.anthropic {
		x.w.json(http.StatusOK, obj{{"data", data}, {"has_more", false}, {"first_id", x.s.opt.Models[0]}, {"last_id", x.s.opt.Models[len(x.s.opt.Models)-1]}})
		return
	}
	x.w.json(http.StatusOK, obj{{"object", "list"}, {"data", data}})
}

// model1 answers GET /models/{id}, with 404 for a model it does not list.
func (x *exchange) model1(id string) {
	for _, m := range x.s.opt.Models {
		if m == id {
			x.w.json(http.StatusOK, x.modelObject(m))
			return
		}
	}
	if x.anthropic {
		x.fail(http.StatusNotFound, "model not found")
		return
	}
	x.w.json(http.StatusNotFound, obj{{"error", obj{{"message", "The model does not exist or you do not have access to it."},
		{"type", "invalid_request_error"}, {"param", nil}, {"code", "model_not_found"}}}})
}

func (x *exchange) modelObject(id string) obj {
	if x.anthropic {
		return obj{{"type", "model"}, {"id", id}, {"display_name", id}, {"created_at", x.s.opt.Clock().UTC().Format(time.RFC3339)}}
	}
	return obj{{"id", id}, {"object", "model"}, {"created", x.created}, {"owned_by", "standin"}}
}

// usageChat is the usage object of Chat Completions and Completions.
func usageChat(in, out int) obj {
	return obj{{"prompt_tokens", in}, {"completion_tokens", out}, {"total_tokens", in + out},
		{"prompt_tokens_details", obj{{"cached_tokens", 0}, {"audio_tokens", 0}}},
		{"completion_tokens_details", obj{{"reasoning_tokens", 0}, {"audio_tokens", 0}, {"accepted_prediction_tokens", 0}, {"rejected_prediction_tokens", 0}}}}
}

// id returns an object id of this exchange: prefix + the request number.
func (x *exchange) id(prefix string) string { return fmt.Sprintf("%s%d", prefix, x.n) }

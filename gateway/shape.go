package gateway

import (
	"encoding/json"
	"net/http"
)

// API shapes.
//
// The request pipeline (pipeline.go) does not know which API it serves.
// What differs between OpenAI's chat, completions, responses and
// embeddings APIs and Anthropic's messages API is described here, once
// per shape, as data: the upstream path and default credential header,
// the top-level fields, which request strings are text parts that a
// model reads joined with their neighbours, where opaque values (images,
// audio, reasoning blobs, base64 embeddings) may sit, how errors are
// written, and how a stream is cut into tracks (stream.go).

// shape is one API the gateway serves.
type shape struct {
	// endpoint names the API in logs, metrics and audit entries.
	endpoint string
	// path is the upstream path below the API base (/chat/completions).
	path string
	// op and provider are the gen_ai.operation.name and
	// gen_ai.provider.name of its spans.
	op, provider string
	// auth is the credential header an upstream gets by default.
	auth string
	// anthropic says errors are written in Anthropic's format.
	anthropic bool
	// mcp says errors are JSON-RPC errors (the MCP endpoint).
	mcp bool

	// fields are the API's top-level request fields. A top-level key that
	// differs from one only by case is refused: Go upstreams decode field
	// names case-insensitively, so {"MODEL": …} may reach one as model.
	fields map[string]bool
	// parts are the request's text parts, capturing the message index
	// first: consecutive messages of one role are read by the model as
	// one text, so their parts are also scanned joined. A pattern with no
	// [*] (a system prompt) is message -1.
	parts patterns
	// role is the path of a message's role (capturing its index).
	role pathPattern
	// opaque and respOpaque are the positions where an opaque value may
	// pass unscanned once it proves what it claims (opaque.go).
	opaque, respOpaque []opaqueRule

	// stream describes the API's event stream (nil: no streaming).
	stream *streamShape
}

func fieldSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

var (
	shapeChat = &shape{
		endpoint: "chat", path: "/chat/completions", op: "chat", provider: "openai", auth: authBearer,
		fields: fieldSet("model", "messages", "stream", "stream_options", "n", "tools", "tool_choice",
			"parallel_tool_calls", "functions", "function_call", "temperature", "top_p", "max_tokens",
			"max_completion_tokens", "stop", "user", "metadata", "store", "response_format", "seed",
			"logprobs", "top_logprobs", "logit_bias", "presence_penalty", "frequency_penalty", "modalities",
			"audio", "prediction", "reasoning_effort", "service_tier", "web_search_options", "verbosity",
			"prompt_cache_key", "safety_identifier"),
		parts: compilePatterns("$.messages[*].content", "$.messages[*].content[*].text"),
		role:  pattern("$.messages[*].role"),
		opaque: []opaqueRule{
			{at: compilePatterns("$.messages[*].content[*].image_url.url"), kind: opaqueDataURL},
			{at: compilePatterns("$.messages[*].content[*].input_audio.data"), kind: opaqueMedia, sibling: "format"},
			{at: compilePatterns("$.messages[*].content[*].file.file_data"), kind: opaqueDataURL},
		},
		respOpaque: []opaqueRule{
			{at: compilePatterns("$.choices[*].message.audio.data"), kind: opaqueBase64},
		},
		stream: chatStream,
	}
	shapeCompletions = &shape{
		endpoint: "completions", path: "/completions", op: "text_completion", provider: "openai", auth: authBearer,
		fields: fieldSet("model", "prompt", "stream", "stream_options", "n", "best_of", "echo", "suffix",
			"temperature", "top_p", "max_tokens", "stop", "user", "seed", "logprobs", "logit_bias",
			"presence_penalty", "frequency_penalty"),
		stream: completionsStream,
	}
	shapeResponses = &shape{
		endpoint: "responses", path: "/responses", op: "chat", provider: "openai", auth: authBearer,
		fields: fieldSet("model", "input", "instructions", "stream", "stream_options", "tools", "tool_choice",
			"parallel_tool_calls", "temperature", "top_p", "max_output_tokens", "max_tool_calls", "user",
			"metadata", "store", "text", "reasoning", "previous_response_id", "conversation", "include",
			"background", "truncation", "service_tier", "prompt", "prompt_cache_key", "safety_identifier",
			"top_logprobs"),
		parts: compilePatterns("$.instructions", "$.input", "$.input[*].content", "$.input[*].content[*].text",
			"$.input[*].output"),
		role: pattern("$.input[*].role"),
		opaque: []opaqueRule{
			{at: compilePatterns("$.input[*].content[*].image_url"), kind: opaqueDataURL},
			{at: compilePatterns("$.input[*].content[*].file_data"), kind: opaqueDataURL},
			{at: compilePatterns("$.input[*].encrypted_content"), kind: opaqueBlob},
		},
		respOpaque: []opaqueRule{
			{at: compilePatterns("$.output[*].encrypted_content"), kind: opaqueBase64},
		},
		stream: responsesStream,
	}
	shapeEmbeddings = &shape{
		endpoint: "embeddings", path: "/embeddings", op: "embeddings", provider: "openai", auth: authBearer,
		fields: fieldSet("model", "input", "encoding_format", "dimensions", "user"),
		respOpaque: []opaqueRule{
			{at: compilePatterns("$.data[*].embedding"), kind: opaqueEmbedding},
		},
	}
	shapeMessages = &shape{
		endpoint: "messages", path: "/messages", op: "chat", provider: "anthropic", auth: authXAPIKey, anthropic: true,
		fields: fieldSet("model", "messages", "system", "max_tokens", "stream", "stop_sequences", "temperature",
			"top_p", "top_k", "tools", "tool_choice", "metadata", "thinking", "service_tier", "container",
			"mcp_servers", "context_management"),
		parts: compilePatterns("$.system", "$.system[*].text", "$.messages[*].content", "$.messages[*].content[*].text",
			"$.messages[*].content[*].content", "$.messages[*].content[*].content[*].text"),
		role: pattern("$.messages[*].role"),
		opaque: []opaqueRule{
			{at: compilePatterns("$.messages[*].content[*].source.data", "$.messages[*].content[*].content[*].source.data"),
				kind: opaqueMedia, sibling: "media_type"},
			{at: compilePatterns("$.messages[*].content[*].signature", "$.messages[*].content[*].data"), kind: opaqueBlob},
		},
		respOpaque: []opaqueRule{
			{at: compilePatterns("$.content[*].signature", "$.content[*].data"), kind: opaqueBase64},
		},
		stream: messagesStream,
	}
)

// The models endpoints (GET /v1/models, /v1/models/{id}) in each
// provider's format.
var (
	shapeModels          = &shape{endpoint: "models", path: "/models", op: "models", provider: "openai"}
	shapeModelsAnthropic = &shape{endpoint: "models", path: "/models", op: "models", provider: "anthropic", anthropic: true}
)

// Upstream credential headers (Upstream.Auth).
const (
	authBearer  = "bearer"    // Authorization: Bearer KEY (OpenAI and compatibles)
	authXAPIKey = "x-api-key" // x-api-key: KEY (Anthropic)
	authAPIKey  = "api-key"   // api-key: KEY (Azure OpenAI)
)

// writeError writes e in the shape's error format.
func (sh *shape) writeError(w http.ResponseWriter, e *apiError) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", itoa(e.RetryAfter))
	}
	b := sh.errorBody(e)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", itoa(len(b)))
	w.WriteHeader(e.Status)
	w.Write(b)
}

// errorBody is e as the API writes errors.
func (sh *shape) errorBody(e *apiError) []byte {
	var body any
	if sh.anthropic {
		body = map[string]any{"type": "error", "error": map[string]any{"type": anthropicErrorType(e), "message": e.Msg}}
	} else {
		body = map[string]any{"error": map[string]any{"message": e.Msg, "type": e.Type, "param": nil, "code": e.Code}}
	}
	b, _ := json.Marshal(body)
	return b
}

// anthropicErrorType maps an error to Anthropic's error types
// (https://docs.anthropic.com/en/api/errors).
func anthropicErrorType(e *apiError) string {
	switch {
	case e.Status == http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case e.Status == http.StatusNotFound:
		return "not_found_error"
	case e.Status == http.StatusServiceUnavailable && e.Code == "upstream_overloaded":
		return "overloaded_error"
	}
	switch e.Type {
	case "authentication_error", "permission_error", "rate_limit_error", "invalid_request_error":
		return e.Type
	}
	return "api_error"
}

// streamErrorEvent is the event that ends a stream the gateway must cut
// short, in the API's own error format.
func (sh *shape) streamErrorEvent(e *apiError) []byte {
	b := sh.errorBody(e)
	out := make([]byte, 0, len(b)+32)
	out = append(out, "event: error\ndata: "...)
	out = append(out, b...)
	return append(out, "\n\n"...)
}

// Package standin is a stand-in model upstream: it speaks the OpenAI and
// Anthropic HTTP APIs in their published wire formats and answers every
// request by echoing the text it received, so a caller can see exactly
// what a model would have been sent.
//
// `warden serve` uses it as the built-in "echo" upstream when none is
// configured; tests, the SDK client matrix and benchmarks use it as the
// model behind the gateway. It is deterministic: ids carry the request's
// number on the Server (chatcmpl-standin-1, resp_standin_1, msg_standin_1,
// req_standin_1), tool calls are call_standin_0, call_standin_1 … (Anthropic
// toolu_standin_0 …), and timestamps come from Options.Clock (a fixed time
// by default).
//
// # What it answers
//
//   - POST /chat/completions: the echo as content, or a refusal, or
//     parallel tool calls. n choices (the request's n), logprobs (the
//     request's logprobs/top_logprobs), usage, system_fingerprint. A stream
//     sends, per choice, a first chunk with the role, the deltas and a
//     chunk with finish_reason; the choices' chunks are interleaved, each
//     with its index; stream_options.include_usage adds "usage":null to
//     every chunk and a last chunk with "choices":[] and the usage; then
//     "data: [DONE]".
//   - POST /completions: the legacy text API, n choices per prompt,
//     legacy logprobs, include_usage, [DONE].
//   - POST /responses: an output_text message, or function_call items,
//     after a reasoning item (summary text and encrypted_content) when
//     asked. A stream sends response.created, response.in_progress, per
//     item output_item.added, content_part.added / output_text.delta /
//     .done / content_part.done (function_call_arguments.delta / .done for
//     calls, reasoning_summary_part / reasoning_summary_text for
//     reasoning), output_item.done, and response.completed with usage;
//     sequence_number counts up from 0.
//   - POST /messages: Anthropic Messages: text, or tool_use blocks
//     (stop_reason "tool_use"), after a thinking block (thinking_delta,
//     then signature_delta with a base64 signature) and a
//     redacted_thinking block (base64 data) when asked. A stream sends
//     message_start (with usage), content_block_start / content_block_delta
//     / content_block_stop per block (a tool_use starts with input {} and
//     an empty partial_json), ping events (see PingMode), message_delta
//     with stop_reason and usage, message_stop.
//   - POST /embeddings: one vector per input; encoding_format "base64"
//     gives base64 of little-endian float32 values.
//   - GET /models and GET /models/{id} (404 in the API's error shape for a
//     model not in Options.Models); Anthropic's model shape when the
//     request carries anthropic-version.
//
// The echo is the last user message's text (Options.Prefix first, a
// directive line removed). When the request offers tools and the last
// message is not a tool result, the stand-in calls them (Options.ToolCalls
// or the tools directive say how many; tool_choice "none" or a named tool
// is obeyed) with arguments that conform to each tool's JSON schema:
// required properties (every property when none is required) with
// string → the echoed text, number and integer → 1, boolean → true,
// enum → its first value, arrays → one item, objects recursively. When
// the conversation ends with tool results (a "tool" message, a
// function_call_output item, an Anthropic tool_result block), it answers
// with text that echoes the results' text.
//
// Every answer carries the API's request id header (x-request-id and
// openai-processing-ms for OpenAI paths, request-id for Anthropic) and its
// rate-limit headers (x-ratelimit-*, anthropic-ratelimit-*). Failed answers
// (Options.FailFirst, or the status and fail directives) carry the API's
// own error body, retry-after (and retry-after-ms on OpenAI paths) and
// rate-limit headers with nothing remaining.
//
// # Directives
//
// Black-box clients (the npm SDKs behind the gateway) choose behaviours
// with a directive line in the last user message, which the echo leaves
// out:
//
//	standin: tools=2 interleave=1 n=2 ping=every reasoning=1 thinking=1 status=429 fail=2 logprobs=1
//
// The keys (each optional; an unknown key or a bad value is a 400):
//
//	tools=N|all   make N tool calls (cycling through the tools), all: one per tool, 0: none (echo)
//	interleave=1  interleave parallel tool calls' stream events (0: one after another)
//	n=N           N choices (Chat Completions, Completions)
//	logprobs=1    log probabilities (Chat Completions, Completions)
//	refusal=1     answer with a refusal (Chat Completions)
//	ping=MODE     Anthropic pings: start, none or every
//	reasoning=1   a reasoning item (Responses)
//	thinking=1    a thinking block with a signature (Anthropic)
//	redacted=1    a redacted_thinking block (Anthropic)
//	status=S      answer with error status S (400–599) in the API's error shape
//	fail=N        fail the first N requests that carry this same directive
//	              line on this path (with status S, default 429), then answer
//	retry_ms=N    the retry-after the failure asks for, in milliseconds
//	delta=N       N bytes of text per stream delta
//
// Values are 0–64 for counts and 0/1 (or true/false, on/off) for flags.
package standin

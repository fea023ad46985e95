// Package event is the audit record of one gateway request: what the
// gateway hands the audit log and the log turns into a canonical entry.
// It is a leaf package (standard library only) so that the gateway and
// the audit log both import it without either importing the other, and
// the offline verifier links neither the gateway nor its dependencies.
//
// A record carries no content: names, counts, decisions, status codes
// and timings, plus the bodies as sent and received, which the log turns
// into keyed commitments and never stores.
//
// Every request gets entries whatever happens to it:
//
//   - A request refused before any upstream call (bad credentials, a
//     model not allowed, a rate limit, a policy denial, malformed JSON …)
//     is one [Request] entry that tells the whole story.
//   - A request that goes to an upstream is two entries. The [Intent] is
//     written, and durable, before the upstream is called: who, which
//     model and zone, the decision, the findings and the commitment to
//     the body as sent. If it cannot be written, nothing is sent. The
//     [Completion], written after the response, names the intent's
//     index in Intent and adds status, usage, restores, leaks and the
//     commitment to the response as returned.
//   - An intent whose completion never came is closed by an [Aborted]
//     entry: written by any log on the store once the intent's writer has
//     stopped sending heartbeats (the process died), or by the writer's
//     own log when it closes with requests still open.
package event

import "time"

// Kind is what an entry says about a request.
type Kind string

// Kinds of request records.
const (
	// Request is the single entry of a request that never reached an
	// upstream.
	Request Kind = "request"
	// Intent is written before the upstream is called.
	Intent Kind = "intent"
	// Completion closes an intent once the response is over.
	Completion Kind = "completion"
	// Aborted closes an intent whose completion was never written.
	Aborted Kind = "aborted"
)

// Unauthenticated is the principal of a request whose caller could not
// be identified.
const Unauthenticated = "unauthenticated"

// UnknownModel is the model of a request that named no configured model:
// the name the caller gave is never recorded.
const UnknownModel = "unknown"

// Record is the audit record of one gateway request, in one of its
// kinds. Fields that do not apply to a kind are zero.
type Record struct {
	// Kind says which entry of the request this is.
	Kind Kind
	// Intent is the log index of the intent a Completion or Aborted
	// record closes; -1 otherwise.
	Intent int64

	Time      time.Time
	RequestID string
	// Principal is who called, or Unauthenticated.
	Principal string
	// Credential is the kind of credential presented (apikey, jwt, oidc,
	// mtls, none), never the credential.
	Credential string
	Tenant     string
	// Endpoint is the API called (chat, completions, responses,
	// embeddings, messages, models).
	Endpoint string
	// Model is the configured model name the request named, or
	// UnknownModel.
	Model    string
	Upstream string
	Zone     string
	Stream   bool

	// Decision is the policy's action (allow, deidentify, deny), empty
	// when the request was refused before the policy ran.
	Decision string
	Reasons  []string
	Rules    []string
	// Policy identifies the policy version that decided.
	Policy    string
	Findings  map[string]int // by type
	Operators map[string]int // operator -> count

	// Status is the HTTP status answered (0 in an intent).
	Status int
	// Error is the gateway's error code when it answered with an error
	// (invalid_api_key, policy_denied, upstream_unavailable …).
	Error string

	Restored     int
	Leaks        int
	InputTokens  int
	OutputTokens int
	// Overhead is the time the gateway spent (total minus upstream).
	Overhead     time.Duration
	UpstreamTime time.Duration

	// MCP requests (Endpoint "mcp"): the MCP server's configured name,
	// the JSON-RPC method, the tool called and the hash of its pinned
	// definition; in a completion, the findings in the result (by type)
	// and how many links and images carrying sensitive values were
	// neutralised.
	Server         string
	Method         string
	Tool           string
	ToolHash       string
	ResultFindings map[string]int
	Neutralised    int

	// RequestBody and ResponseBody are the bodies as sent upstream and as
	// returned to the caller. The log commits to them with keyed hashes
	// and must not store them.
	RequestBody  []byte
	ResponseBody []byte
}

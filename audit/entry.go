package audit

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wardenhq/warden/audit/event"
)

// Entry format
//
// Every entry is one JSON object in canonical form (RFC 8785): fields in
// the fixed order of the structs below, object keys of maps sorted, no
// insignificant whitespace, no HTML escaping, integers only. The leaf
// hash of the Merkle tree is taken over exactly these bytes, and entry
// bundles serve them unchanged. "v" is the format version, "kind" what
// the entry records. Version 2 (written since the intent log) has five
// kinds; version 1 logs hold "request" and "admin" entries of the older
// request shape, which Verify and Export still read. docs/AUDIT.md has
// the full schema with examples.
//
// Every kind starts with the same fields, so a reader can pair entries
// without decoding them whole: v, kind, time, then for completion and
// aborted the intent index, then request_id, principal, tenant (admin
// entries: action, actor, target, tenant).
//
//	request     a request refused before any upstream call, the whole story:
//	            {"v":2,"kind":"request","time","request_id","principal","tenant",
//	             "credential","endpoint","model","upstream","zone","stream",
//	             "decision","reasons","rules","policy","findings","operators",
//	             "status","error","overhead_us","request_hmac","response_hmac"}
//	intent      durable before the upstream is called:
//	            {"v":2,"kind":"intent","time","request_id","principal","tenant",
//	             "credential","endpoint","model","upstream","zone","stream",
//	             "decision","reasons","rules","policy","findings","operators",
//	             "request_hmac"}
//	completion  closes the intent at index "intent" once the response is over:
//	            {"v":2,"kind":"completion","time","intent","request_id",
//	             "principal","tenant","status","error","input_tokens",
//	             "output_tokens","restored","leaks","overhead_us","upstream_us",
//	             "response_hmac"}
//	aborted     closes an intent whose completion never came:
//	            {"v":2,"kind":"aborted","time","intent","request_id","principal",
//	             "tenant","reason"}
//	admin       an administrative act (unchanged since version 1):
//	            {"v":1,"kind":"admin","time","action","actor","target","tenant",
//	             "details"}
//
// A completion or aborted entry repeats its intent's request_id,
// principal and tenant (Verify checks that they match) and always names
// an earlier entry. Each intent is closed exactly once.
//
// Bodies are never stored: request_hmac and response_hmac are
// "hmac-sha256:" || base64(HMAC-SHA256(K_tenant, body)), where K_tenant
// is derived from the log's root audit secret (see keys.go). Whoever
// holds a body and the tenant's key can prove that the log commits to it.

// MaxEntrySize is the largest entry the log accepts: entry bundles give
// each entry a 16-bit length.
const MaxEntrySize = 1<<16 - 1

// ErrEntryTooLarge reports an event whose canonical entry exceeds
// MaxEntrySize (it names too many reasons, rules or finding types).
var ErrEntryTooLarge = errors.New("audit: entry larger than 65535 bytes")

// Kinds of entries.
const (
	KindRequest    = string(event.Request)
	KindIntent     = string(event.Intent)
	KindCompletion = string(event.Completion)
	KindAborted    = string(event.Aborted)
	KindAdmin      = "admin"
)

// Reasons of aborted entries the log writes itself.
const (
	// ReasonWriterGone closes an intent whose writer stopped
	// heartbeating (the process died or lost its store).
	ReasonWriterGone = "writer_gone"
	// ReasonLogClosed closes an intent still open when its log was
	// closed (the gateway did not drain it).
	ReasonLogClosed = "log_closed"
)

// formatVersion is the version of request entries written now.
const formatVersion = 2

// requestEntry is the canonical form of an event.Request record.
type requestEntry struct {
	V            int            `json:"v"`
	Kind         string         `json:"kind"`
	Time         string         `json:"time"`
	RequestID    string         `json:"request_id"`
	Principal    string         `json:"principal"`
	Tenant       string         `json:"tenant"`
	Credential   string         `json:"credential"`
	Endpoint     string         `json:"endpoint"`
	Model        string         `json:"model"`
	Upstream     string         `json:"upstream"`
	Zone         string         `json:"zone"`
	Stream       bool           `json:"stream"`
	Decision     string         `json:"decision"`
	Reasons      []string       `json:"reasons"`
	Rules        []string       `json:"rules"`
	Policy       string         `json:"policy"`
	Findings     map[string]int `json:"findings"`
	Operators    map[string]int `json:"operators"`
	Status       int            `json:"status"`
	Error        string         `json:"error"`
	OverheadUS   int64          `json:"overhead_us"`
	RequestHMAC  string         `json:"request_hmac"`
	ResponseHMAC string         `json:"response_hmac"`
	MCP          *mcpCall       `json:"mcp,omitempty"`
}

// mcpCall is what request and intent entries of an MCP request add:
// the server, the JSON-RPC method, the tool and its pinned definition's
// hash. Absent for the model APIs, so their entries are unchanged.
type mcpCall struct {
	Server   string `json:"server"`
	Method   string `json:"method"`
	Tool     string `json:"tool"`
	ToolHash string `json:"tool_hash"`
}

// mcpResult is what a completion of an MCP request adds: findings in
// the result by type, and links or images neutralised.
type mcpResult struct {
	ResultFindings map[string]int `json:"result_findings"`
	Neutralised    int            `json:"neutralised"`
}

func mcpCallOf(ev *event.Record) *mcpCall {
	if ev.Server == "" {
		return nil
	}
	return &mcpCall{Server: ev.Server, Method: ev.Method, Tool: ev.Tool, ToolHash: ev.ToolHash}
}

func modelNeutralised(ev *event.Record) int {
	if ev.Server != "" {
		return 0
	}
	return ev.Neutralised
}

func mcpResultOf(ev *event.Record) *mcpResult {
	if ev.Server == "" {
		return nil
	}
	return &mcpResult{ResultFindings: nonNilCounts(ev.ResultFindings), Neutralised: ev.Neutralised}
}

// intentEntry is the canonical form of an event.Intent record.
type intentEntry struct {
	V           int            `json:"v"`
	Kind        string         `json:"kind"`
	Time        string         `json:"time"`
	RequestID   string         `json:"request_id"`
	Principal   string         `json:"principal"`
	Tenant      string         `json:"tenant"`
	Credential  string         `json:"credential"`
	Endpoint    string         `json:"endpoint"`
	Model       string         `json:"model"`
	Upstream    string         `json:"upstream"`
	Zone        string         `json:"zone"`
	Stream      bool           `json:"stream"`
	Decision    string         `json:"decision"`
	Reasons     []string       `json:"reasons"`
	Rules       []string       `json:"rules"`
	Policy      string         `json:"policy"`
	Findings    map[string]int `json:"findings"`
	Operators   map[string]int `json:"operators"`
	RequestHMAC string         `json:"request_hmac"`
	MCP         *mcpCall       `json:"mcp,omitempty"`
}

// completionEntry is the canonical form of an event.Completion record.
type completionEntry struct {
	V            int    `json:"v"`
	Kind         string `json:"kind"`
	Time         string `json:"time"`
	Intent       int64  `json:"intent"`
	RequestID    string `json:"request_id"`
	Principal    string `json:"principal"`
	Tenant       string `json:"tenant"`
	Status       int    `json:"status"`
	Error        string `json:"error"`
	InputTokens  int    `json:"input_tokens"`
	OutputTokens int    `json:"output_tokens"`
	Restored     int    `json:"restored"`
	Leaks        int    `json:"leaks"`
	// Neutralised counts markdown links and images in a model answer
	// whose URL carried a token or a finding, replaced (absent when none,
	// so earlier entries keep their form). MCP answers count theirs in
	// MCP.
	Neutralised  int        `json:"neutralised,omitempty"`
	OverheadUS   int64      `json:"overhead_us"`
	UpstreamUS   int64      `json:"upstream_us"`
	ResponseHMAC string     `json:"response_hmac"`
	MCP          *mcpResult `json:"mcp,omitempty"`
}

// abortedEntry is the canonical form of an event.Aborted record and of
// the aborted entries the log writes when it closes intents itself.
type abortedEntry struct {
	V         int    `json:"v"`
	Kind      string `json:"kind"`
	Time      string `json:"time"`
	Intent    int64  `json:"intent"`
	RequestID string `json:"request_id"`
	Principal string `json:"principal"`
	Tenant    string `json:"tenant"`
	Reason    string `json:"reason"`
}

// AdminEvent is an administrative act: an API key created or revoked, a
// policy changed, keys rotated or rewrapped, a vault erasure or shred, a
// detokenisation outside the gateway. Values are names, ids and counts,
// never a raw secret, value or token original.
type AdminEvent struct {
	// Time of the act. Default: now.
	Time time.Time
	// Action names the act, e.g. "apikey.create", "keys.rotate",
	// "vault.shred", "vault.forget", "policy.change", "restore".
	Action string
	// Actor is who did it (an operator, a principal, "cli").
	Actor string
	// Target is what it was done to (a key id, a KEK version, a tenant).
	Target string
	// Tenant the act concerns, if any.
	Tenant string
	// Details are further names and counts.
	Details map[string]string
}

type adminEntry struct {
	V       int               `json:"v"`
	Kind    string            `json:"kind"`
	Time    string            `json:"time"`
	Action  string            `json:"action"`
	Actor   string            `json:"actor"`
	Target  string            `json:"target"`
	Tenant  string            `json:"tenant"`
	Details map[string]string `json:"details"`
}

// timeFormat is RFC 3339 in UTC with a fixed microsecond precision, so
// entries sort as text.
const timeFormat = "2006-01-02T15:04:05.000000Z"

// canonical encodes v as canonical JSON (see Entry format).
func canonical(v any) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(512)
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("audit: encode entry: %w", err)
	}
	out := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	if len(out) > MaxEntrySize {
		return nil, ErrEntryTooLarge
	}
	return out, nil
}

// commitment is the keyed commitment to body under the tenant key.
func commitment(key, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return "hmac-sha256:" + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Commitment returns the keyed commitment to body that the log holds in
// request_hmac or response_hmac, for a party that holds the body and the
// tenant's commitment key (see [Log.TenantKey]).
func Commitment(tenantKey, body []byte) string { return commitment(tenantKey, body) }

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilCounts(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}

// checkRecord rejects a record the log cannot turn into an entry
// without losing what it says: an unknown kind, a closing record that
// names no intent, or a request record that carries the results of an
// upstream call (which only a completion records). Fields of the record
// that an entry of its kind does not carry are otherwise ignored, so a
// gateway may reuse one record for a request's intent and completion.
func checkRecord(ev *event.Record) error {
	switch ev.Kind {
	case event.Request:
		for _, f := range []struct {
			name string
			set  bool
		}{
			{"UpstreamTime", ev.UpstreamTime != 0}, {"Restored", ev.Restored != 0}, {"Leaks", ev.Leaks != 0},
			{"InputTokens", ev.InputTokens != 0}, {"OutputTokens", ev.OutputTokens != 0},
		} {
			if f.set {
				return fmt.Errorf("audit: request record sets %s, a result of an upstream call: record an intent and a completion", f.name)
			}
		}
	case event.Intent:
	case event.Completion, event.Aborted:
		if ev.Intent < 0 {
			return fmt.Errorf("audit: %s record names no intent (Intent < 0)", ev.Kind)
		}
		if ev.Kind == event.Aborted && ev.Error == "" {
			return errors.New("audit: aborted record without a reason (Error)")
		}
	default:
		return errors.New("audit: record has no known kind (want request, intent, completion or aborted)")
	}
	return nil
}

// recordEntryOf builds the canonical entry of ev; key is the tenant's
// commitment key. ev must have passed checkRecord.
func recordEntryOf(ev *event.Record, now time.Time, key []byte) ([]byte, error) {
	t := ev.Time
	if t.IsZero() {
		t = now
	}
	ts := t.UTC().Format(timeFormat)
	switch ev.Kind {
	case event.Request:
		return canonical(&requestEntry{
			V: formatVersion, Kind: KindRequest, Time: ts,
			RequestID: ev.RequestID, Principal: ev.Principal, Tenant: ev.Tenant, Credential: ev.Credential,
			Endpoint: ev.Endpoint, Model: ev.Model, Upstream: ev.Upstream, Zone: ev.Zone, Stream: ev.Stream,
			Decision: ev.Decision, Reasons: nonNilStrings(ev.Reasons), Rules: nonNilStrings(ev.Rules),
			Policy: ev.Policy, Findings: nonNilCounts(ev.Findings), Operators: nonNilCounts(ev.Operators),
			Status: ev.Status, Error: ev.Error, OverheadUS: ev.Overhead.Microseconds(),
			RequestHMAC:  commitment(key, ev.RequestBody),
			ResponseHMAC: commitment(key, ev.ResponseBody),
			MCP:          mcpCallOf(ev),
		})
	case event.Intent:
		return canonical(&intentEntry{
			V: formatVersion, Kind: KindIntent, Time: ts,
			RequestID: ev.RequestID, Principal: ev.Principal, Tenant: ev.Tenant, Credential: ev.Credential,
			Endpoint: ev.Endpoint, Model: ev.Model, Upstream: ev.Upstream, Zone: ev.Zone, Stream: ev.Stream,
			Decision: ev.Decision, Reasons: nonNilStrings(ev.Reasons), Rules: nonNilStrings(ev.Rules),
			Policy: ev.Policy, Findings: nonNilCounts(ev.Findings), Operators: nonNilCounts(ev.Operators),
			RequestHMAC: commitment(key, ev.RequestBody),
			MCP:         mcpCallOf(ev),
		})
	case event.Completion:
		return canonical(&completionEntry{
			V: formatVersion, Kind: KindCompletion, Time: ts, Intent: ev.Intent,
			RequestID: ev.RequestID, Principal: ev.Principal, Tenant: ev.Tenant,
			Status: ev.Status, Error: ev.Error, InputTokens: ev.InputTokens, OutputTokens: ev.OutputTokens,
			Restored: ev.Restored, Leaks: ev.Leaks, Neutralised: modelNeutralised(ev),
			OverheadUS: ev.Overhead.Microseconds(), UpstreamUS: ev.UpstreamTime.Microseconds(),
			ResponseHMAC: commitment(key, ev.ResponseBody),
			MCP:          mcpResultOf(ev),
		})
	case event.Aborted:
		return abortedEntryOf(ev.Intent, t, ev.RequestID, ev.Principal, ev.Tenant, ev.Error)
	}
	return nil, errors.New("audit: record has no known kind")
}

// abortedEntryOf builds the aborted entry closing intent.
func abortedEntryOf(intent int64, t time.Time, requestID, principal, tenant, reason string) ([]byte, error) {
	return canonical(&abortedEntry{
		V: formatVersion, Kind: KindAborted, Time: t.UTC().Format(timeFormat), Intent: intent,
		RequestID: requestID, Principal: principal, Tenant: tenant, Reason: reason,
	})
}

// adminEntryOf builds the canonical entry of ev.
func adminEntryOf(ev AdminEvent, now time.Time) ([]byte, error) {
	if ev.Action == "" {
		return nil, errors.New("audit: admin event without an action")
	}
	t := ev.Time
	if t.IsZero() {
		t = now
	}
	d := ev.Details
	if d == nil {
		d = map[string]string{}
	}
	return canonical(&adminEntry{
		V: 1, Kind: KindAdmin, Time: t.UTC().Format(timeFormat),
		Action: ev.Action, Actor: ev.Actor, Target: ev.Target, Tenant: ev.Tenant, Details: d,
	})
}

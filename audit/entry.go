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
// bundles serve them unchanged. "v" is the format version; "kind" is
// "request" for a gateway request and "admin" for an administrative act.
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
	KindRequest = "request"
	KindAdmin   = "admin"
)

// requestEntry is the canonical form of a event.Record.
type requestEntry struct {
	V            int            `json:"v"`
	Kind         string         `json:"kind"`
	Time         string         `json:"time"`
	RequestID    string         `json:"request_id"`
	Principal    string         `json:"principal"`
	Tenant       string         `json:"tenant"`
	Endpoint     string         `json:"endpoint"`
	Model        string         `json:"model"`
	Upstream     string         `json:"upstream"`
	Zone         string         `json:"zone"`
	Decision     string         `json:"decision"`
	Reasons      []string       `json:"reasons"`
	Rules        []string       `json:"rules"`
	Policy       string         `json:"policy"`
	Findings     map[string]int `json:"findings"`
	Operators    map[string]int `json:"operators"`
	Status       int            `json:"status"`
	Stream       bool           `json:"stream"`
	Restored     int            `json:"restored"`
	Leaks        int            `json:"leaks"`
	OverheadUS   int64          `json:"overhead_us"`
	UpstreamUS   int64          `json:"upstream_us"`
	RequestHMAC  string         `json:"request_hmac"`
	ResponseHMAC string         `json:"response_hmac"`
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

// requestEntryOf builds the canonical entry of ev; key is the tenant's
// commitment key.
func requestEntryOf(ev *event.Record, now time.Time, key []byte) ([]byte, error) {
	t := ev.Time
	if t.IsZero() {
		t = now
	}
	e := requestEntry{
		V: 1, Kind: KindRequest, Time: t.UTC().Format(timeFormat),
		RequestID: ev.RequestID, Principal: ev.Principal, Tenant: ev.Tenant,
		Endpoint: ev.Endpoint, Model: ev.Model, Upstream: ev.Upstream, Zone: ev.Zone,
		Decision: ev.Decision, Reasons: nonNilStrings(ev.Reasons), Rules: nonNilStrings(ev.Rules),
		Policy: ev.Policy, Findings: nonNilCounts(ev.Findings), Operators: nonNilCounts(ev.Operators),
		Status: ev.Status, Stream: ev.Stream, Restored: ev.Restored, Leaks: ev.Leaks,
		OverheadUS: ev.Overhead.Microseconds(), UpstreamUS: ev.UpstreamTime.Microseconds(),
		RequestHMAC:  commitment(key, ev.RequestBody),
		ResponseHMAC: commitment(key, ev.ResponseBody),
	}
	return canonical(&e)
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

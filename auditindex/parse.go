package auditindex

import (
	"encoding/json"
	"errors"
	"time"
)

// Entry is one indexed audit entry, as the console lists it: the fields
// of its canonical entry a search filters on, with a completion's or
// aborted entry's model, upstream, zone, endpoint, decision, server and
// tool taken from its intent. Admin entries name their actor in
// Principal and their act in Action and Target.
type Entry struct {
	Index     int64          `json:"index"`
	Kind      string         `json:"kind"`
	Time      string         `json:"time"`
	Principal string         `json:"principal"`
	Tenant    string         `json:"tenant"`
	Model     string         `json:"model"`
	Upstream  string         `json:"upstream"`
	Zone      string         `json:"zone"`
	Endpoint  string         `json:"endpoint"`
	Decision  string         `json:"decision"`
	Status    int            `json:"status"`
	Error     string         `json:"error"`
	Findings  map[string]int `json:"findings"`
	Restored  int            `json:"restored"`
	Leaks     int            `json:"leaks"`
	RequestID string         `json:"request_id"`
	Server    string         `json:"server"`
	Tool      string         `json:"tool"`
	// Action and Target are an admin entry's act and what it was done
	// to ("" for other kinds).
	Action string `json:"action"`
	Target string `json:"target"`
	// Intent is the intent a completion or aborted entry closes, -1 for
	// other kinds.
	Intent int64 `json:"intent"`

	timeUS int64
}

// timeLayout is the audit log's entry time format (audit/entry.go).
const timeLayout = "2006-01-02T15:04:05.000000Z"

// rawEntry is the union of the fields of every kind of entry, both
// format versions.
type rawEntry struct {
	V         int            `json:"v"`
	Kind      string         `json:"kind"`
	Time      string         `json:"time"`
	Intent    *int64         `json:"intent"`
	RequestID string         `json:"request_id"`
	Principal string         `json:"principal"`
	Tenant    string         `json:"tenant"`
	Endpoint  string         `json:"endpoint"`
	Model     string         `json:"model"`
	Upstream  string         `json:"upstream"`
	Zone      string         `json:"zone"`
	Decision  string         `json:"decision"`
	Findings  map[string]int `json:"findings"`
	Status    int            `json:"status"`
	Error     string         `json:"error"`
	Restored  int            `json:"restored"`
	Leaks     int            `json:"leaks"`
	Reason    string         `json:"reason"`
	Action    string         `json:"action"`
	Actor     string         `json:"actor"`
	Target    string         `json:"target"`
	MCP       *struct {
		Server         string         `json:"server"`
		Tool           string         `json:"tool"`
		ResultFindings map[string]int `json:"result_findings"`
	} `json:"mcp"`
}

// errMalformed reports an entry that is not a JSON object of a known
// shape. It names no content.
var errMalformed = errors.New("entry is not a JSON object with a kind and a time")

// parseEntry reads the indexed fields of entry idx. A completion or
// aborted entry's fields from its intent are left for the caller.
func parseEntry(idx int64, b []byte) (Entry, error) {
	var r rawEntry
	if err := json.Unmarshal(b, &r); err != nil || r.Kind == "" {
		return Entry{}, errMalformed
	}
	t, err := time.Parse(time.RFC3339Nano, r.Time)
	if err != nil {
		return Entry{}, errMalformed
	}
	e := Entry{
		Index: idx, Kind: r.Kind, Time: t.UTC().Format(timeLayout), timeUS: t.UnixMicro(),
		Principal: r.Principal, Tenant: r.Tenant, Model: r.Model, Upstream: r.Upstream, Zone: r.Zone,
		Endpoint: r.Endpoint, Decision: r.Decision, Status: r.Status, Error: r.Error, Findings: r.Findings,
		Restored: r.Restored, Leaks: r.Leaks, RequestID: r.RequestID, Intent: -1,
	}
	if r.MCP != nil {
		e.Server, e.Tool = r.MCP.Server, r.MCP.Tool
	}
	switch r.Kind {
	case "completion", "aborted":
		if r.Intent == nil {
			return Entry{}, errMalformed
		}
		e.Intent = *r.Intent
		if r.Kind == "aborted" {
			e.Error = r.Reason
		}
		e.Findings = nil
		if r.MCP != nil {
			e.Findings = r.MCP.ResultFindings
		}
	case "admin":
		e.Principal, e.Action, e.Target = r.Actor, r.Action, r.Target
	}
	if e.Findings == nil {
		e.Findings = map[string]int{}
	}
	return e, nil
}

// inherit copies what a completion or aborted entry does not carry from
// its intent.
func (e *Entry) inherit(in *Entry) {
	e.Model, e.Upstream, e.Zone, e.Endpoint, e.Decision = in.Model, in.Upstream, in.Zone, in.Endpoint, in.Decision
	e.Server, e.Tool = in.Server, in.Tool
	if e.Principal == "" {
		e.Principal = in.Principal
	}
	if e.Tenant == "" {
		e.Tenant = in.Tenant
	}
}

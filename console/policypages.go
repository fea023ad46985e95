package console

import (
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/auditindex"
)

// PolicyActions are the admin actions whose entries record the policy
// put in force (details policy_hash): a configuration reload.
var PolicyActions = []string{"config.reload"}

// historyJSON is one policy change of the history.
type historyJSON struct {
	Hash  string `json:"hash"`
	Time  string `json:"time"`
	Index int64  `json:"index"`
	// Result is the reload's result as its entry records it.
	Result string `json:"result"`
}

// policy answers the policy in force and the history of policy hashes
// the audit log records.
func (c *Console) policy(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var cur Policy
	if c.d.Policy != nil {
		cur = c.d.Policy()
	}
	history := []historyJSON{}
	for _, action := range PolicyActions {
		page, err := c.d.Index.Entries(ctx, auditindex.Filter{Kind: "admin", Action: action}, -1, 100)
		if err != nil {
			c.fail(w, r, "searching the audit index", err)
			return
		}
		for _, e := range page.Entries {
			b, err := audit.ReadEntry(ctx, c.d.Store, e.Index)
			if err != nil {
				c.fail(w, r, "reading the log", err)
				return
			}
			var ent struct {
				Details map[string]string `json:"details"`
			}
			if json.Unmarshal(b, &ent) != nil || ent.Details["policy_hash"] == "" {
				continue
			}
			history = append(history, historyJSON{Hash: ent.Details["policy_hash"], Time: e.Time, Index: e.Index, Result: ent.Details["result"]})
		}
	}
	slices.SortFunc(history, func(a, b historyJSON) int { return cmp.Compare(b.Index, a.Index) })
	writeJSON(w, http.StatusOK, struct {
		Hash    string        `json:"hash"`
		Config  any           `json:"config"`
		Rules   any           `json:"rules"`
		History []historyJSON `json:"history"`
	}{cur.Hash, cur.Config, rulesOf(cur.Config), history})
}

// rulesOf is the rules list of a policy configuration, [] when it has
// none.
func rulesOf(cfg any) any {
	b, err := json.Marshal(cfg)
	if err != nil {
		return []any{}
	}
	var v struct {
		Rules []json.RawMessage `json:"rules"`
	}
	if json.Unmarshal(b, &v) != nil || v.Rules == nil {
		return []any{}
	}
	return v.Rules
}

// PolicyTestInput is a request to test against the policy: the body as
// the caller would send it, the endpoint, and who sends it. Model and
// Zone default to the body's model and "" (before routing).
type PolicyTestInput struct {
	Request   json.RawMessage `json:"request"`
	Endpoint  string          `json:"endpoint"`
	Principal string          `json:"principal"`
	Tenant    string          `json:"tenant"`
	Roles     []string        `json:"roles"`
	Model     string          `json:"model"`
	Zone      string          `json:"zone"`
}

// PolicyTestResult is what the policy decided, with the findings by
// type (never a value).
type PolicyTestResult struct {
	Decision    string            `json:"decision"`
	Reasons     []string          `json:"reasons"`
	Rules       []string          `json:"rules"`
	Findings    map[string]int    `json:"findings"`
	Categories  map[string]int    `json:"categories"`
	Operators   map[string]string `json:"operators"`
	Zones       []string          `json:"zones"`
	DeniedTypes []string          `json:"denied_types"`
	Restore     bool              `json:"restore"`
	Policy      string            `json:"policy"`
}

// ErrPolicyInput is matched by PolicyTest errors about its input; their
// messages name the field, never a value.
var ErrPolicyInput = errors.New("console: policy test input")

// policyTest runs PolicyTest on the pasted request.
func (c *Console) policyTest(w http.ResponseWriter, r *http.Request) {
	if c.d.PolicyTest == nil {
		writeError(w, http.StatusNotImplemented, "not_implemented", "this console cannot test the policy")
		return
	}
	var in PolicyTestInput
	if !readJSON(w, r, &in) {
		return
	}
	if len(in.Request) == 0 || in.Request[0] != '{' {
		writeError(w, http.StatusBadRequest, "bad_request", "request: want the API request body, a JSON object")
		return
	}
	if in.Endpoint == "" {
		in.Endpoint = "chat"
	}
	if s := sessionOf(r); in.Principal == "" {
		in.Principal, in.Tenant = s.Principal, s.Tenant
		if in.Roles == nil {
			in.Roles = s.Roles
		}
	}
	res, err := c.d.PolicyTest(r.Context(), in)
	if errors.Is(err, ErrPolicyInput) {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	if err != nil {
		c.fail(w, r, "testing the policy", err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// models answers the model registry and the pinned MCP tool
// definitions.
func (c *Console) models(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	type modelJSON struct {
		Name       string `json:"name"`
		Digest     string `json:"digest"`
		Scanned    bool   `json:"scanned"`
		Verdict    string `json:"verdict"`
		Signed     bool   `json:"signed"`
		Signer     string `json:"signer"`
		Approved   bool   `json:"approved"`
		ApprovedBy string `json:"approved_by"`
		Source     string `json:"source"`
		Licence    string `json:"licence"`
		At         string `json:"at"`
	}
	type pinJSON struct {
		Server     string `json:"server"`
		Tool       string `json:"tool"`
		Hash       string `json:"hash"`
		State      string `json:"state"`
		ApprovedBy string `json:"approved_by"`
		At         string `json:"at"`
	}
	out := struct {
		Models  []modelJSON `json:"models"`
		MCPPins []pinJSON   `json:"mcp_pins"`
	}{Models: []modelJSON{}, MCPPins: []pinJSON{}}
	if c.d.Models != nil {
		list, err := c.d.Models.List(ctx)
		if err != nil {
			c.fail(w, r, "reading the model registry", err)
			return
		}
		for _, m := range list {
			signed := m.RootDigest != "" && m.Signer != ""
			by := ""
			if m.Approved {
				// Approval is the registry's: a clean scan and a signature
				// that verifies under the signer's key.
				by = m.Signer
			}
			out.Models = append(out.Models, modelJSON{Name: m.Name, Digest: m.RootDigest, Scanned: m.Verdict != "", Verdict: string(m.Verdict),
				Signed: signed, Signer: m.Signer, Approved: m.Approved, ApprovedBy: by, Source: m.Source, Licence: m.Licence,
				At: m.UpdatedAt.UTC().Format(time.RFC3339)})
		}
	}
	if c.d.Pins != nil {
		pins, err := c.d.Pins.List(ctx, "")
		if err != nil {
			c.fail(w, r, "reading the MCP tool pins", err)
			return
		}
		for _, p := range pins {
			out.MCPPins = append(out.MCPPins, pinJSON{Server: p.Server, Tool: p.Tool, Hash: p.Hash, State: "approved", ApprovedBy: p.By,
				At: p.At.UTC().Format(time.RFC3339)})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

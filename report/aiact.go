package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// AIActSection is the deployer's evidence of log-keeping (EU AI Act
// Art. 26(6): keep the logs a high-risk AI system generates, to the
// extent they are under the deployer's control, for at least six
// months; Art. 12: automatic recording of events over the system's
// lifetime), with the inventory of models and tools in use.
type AIActSection struct {
	Completeness Completeness   `json:"completeness"`
	Retention    RetentionCheck `json:"retention"`
	Models       []ModelRecord  `json:"models"`
	ToolPins     []PinRecord    `json:"tool_pins"`
	// AdminActs counts administrative acts logged in the period by
	// action (keys rotated, tenants shredded, configuration reloaded …).
	AdminActs []Count `json:"admin_acts"`
	// Aborted counts requests closed without a completion, by reason.
	Aborted []Count `json:"aborted"`
}

// Completeness is the proof that the log is whole up to the checkpoint.
type Completeness struct {
	// Entries is the number of entries the checkpoint signs, all read
	// from index 0 and hashed to its root.
	Entries int64 `json:"entries"`
	// CheckpointsVerified counts the stored signed checkpoints up to
	// this one, each a prefix of the same tree (the log was never
	// rewritten between them); FirstCheckpointSize is the smallest.
	CheckpointsVerified int   `json:"checkpoints_verified"`
	FirstCheckpointSize int64 `json:"first_checkpoint_size"`
	// Every intent (written before a request is sent) is closed by
	// exactly one completion or aborted entry, or in flight.
	Intents     int64    `json:"intents"`
	Completions int64    `json:"completions"`
	Aborted     int64    `json:"aborted"`
	InFlight    int64    `json:"in_flight"`
	Requests    int64    `json:"requests"`
	Admin       int64    `json:"admin"`
	Paired      bool     `json:"paired"`
	Statements  []string `json:"statements"`
}

// RetentionCheck compares what is kept with what must be.
type RetentionCheck struct {
	// Minimum is report.retention_min.
	Minimum string `json:"minimum"`
	// AuditLog says how long entries are kept.
	AuditLog string `json:"audit_log"`
	// OldestEntry is the time of entry 0; LogAgeDays its age when the
	// report was made.
	OldestEntry string `json:"oldest_entry"`
	LogAgeDays  int64  `json:"log_age_days"`
	// Meets is true when no setting keeps entries shorter than Minimum.
	Meets bool `json:"meets"`
	// Shorter lists the settings shorter than Minimum.
	Shorter []TTL `json:"shorter"`
}

// ModelRecord is a model in use or registered, with its provenance.
type ModelRecord struct {
	Name      string  `json:"name"`
	Requests  int64   `json:"requests"`
	Purposes  []Count `json:"purposes"`
	Upstreams []Count `json:"upstreams"`
	// RequireApproved: an upstream serving it serves only approved
	// models.
	RequireApproved bool `json:"require_approved"`
	// Registered is true when the model registry has a record; the rest
	// is that record (warden model register).
	Registered   bool   `json:"registered"`
	Approved     bool   `json:"approved"`
	Verdict      string `json:"verdict"`
	Signer       string `json:"signer"`
	RootDigest   string `json:"root_digest"`
	Files        int    `json:"files"`
	Source       string `json:"source"`
	Licence      string `json:"licence"`
	RegisteredAt string `json:"registered_at"`
}

// PinRecord is a pinned MCP tool definition and the calls made under it.
type PinRecord struct {
	Server   string `json:"server"`
	Tool     string `json:"tool"`
	Hash     string `json:"hash"`
	PinnedBy string `json:"pinned_by"`
	PinnedAt string `json:"pinned_at"`
	// Calls were made under this definition in the period;
	// CallsOtherHash under another (an earlier pin).
	Calls          int64 `json:"calls"`
	CallsOtherHash int64 `json:"calls_other_hash"`
}

func (ev *Evidence) aiAct() *AIActSection {
	l, cp := ev.Log, ev.Checkpoint
	s := &AIActSection{AdminActs: sortedCounts(ev.admin), Aborted: sortedCounts(ev.aborted)}
	c := Completeness{
		Entries: l.Entries, CheckpointsVerified: cp.Checkpoints, FirstCheckpointSize: cp.FirstCheckpoint,
		Intents: l.Intents, Completions: l.Completions, Aborted: l.Aborted, InFlight: l.InFlight,
		Requests: l.Requests, Admin: l.Admin, Paired: l.Paired,
	}
	c.Statements = append(c.Statements,
		fmt.Sprintf("All %d entries from index 0 to the checkpoint were read and hash to its signed root %s: none was edited, removed, reordered or inserted.", l.Entries, cp.RootHash))
	if cp.Checkpoints > 0 {
		c.Statements = append(c.Statements, fmt.Sprintf("%d signed checkpoints from size %d to %d agree with it: the log only ever grew.", cp.Checkpoints, cp.FirstCheckpoint, cp.Size))
	}
	if l.Paired {
		c.Statements = append(c.Statements, fmt.Sprintf("Every request sent to a model or tool was logged before it was sent: %d intents, each closed by exactly one completion (%d) or aborted entry (%d), or still in flight (%d).",
			l.Intents, l.Completions, l.Aborted, l.InFlight))
	} else {
		c.Statements = append(c.Statements, "The pairing of intents fails: "+l.PairingFailure+".")
	}
	c.Statements = append(c.Statements, fmt.Sprintf("Requests refused before any upstream call: %d, one entry each. Administrative acts: %d.", l.Requests, l.Admin))
	s.Completeness = c
	s.Retention = ev.retentionCheck()
	s.Models = ev.modelList()
	s.ToolPins = ev.pinList()
	return s
}

func (ev *Evidence) retentionCheck() RetentionCheck {
	st := ev.opt.Setup
	r := RetentionCheck{Minimum: hours(ev.opt.RetentionMin), AuditLog: ev.retention().AuditLog, OldestEntry: ev.Log.FirstEntry, Meets: true, Shorter: []TTL{}}
	if t, err := time.Parse(time.RFC3339, ev.Log.FirstEntry); err == nil {
		r.LogAgeDays = int64(ev.opt.Now.Sub(t) / (24 * time.Hour))
	}
	if d := st.AuditRetention; d > 0 && d < ev.opt.RetentionMin {
		r.Meets = false
		r.Shorter = append(r.Shorter, TTL{"audit log", hours(d)})
	}
	for _, t := range sortedKeys(st.VaultTTL) {
		if d := st.VaultTTL[t]; d < ev.opt.RetentionMin {
			r.Shorter = append(r.Shorter, TTL{"vault.ttl " + t, hours(d)})
		}
	}
	return r
}

func (ev *Evidence) modelList() []ModelRecord {
	byName := map[string]*ModelRecord{}
	get := func(name string) *ModelRecord {
		m := byName[name]
		if m == nil {
			m = &ModelRecord{Name: name, Purposes: []Count{}, Upstreams: []Count{}}
			byName[name] = m
		}
		return m
	}
	for name, mu := range ev.models {
		if name == "unknown" || isMCPModel(name) {
			continue
		}
		m := get(name)
		m.Requests, m.Purposes, m.Upstreams = mu.requests, sortedCounts(mu.purposes), sortedCounts(mu.upstreams)
		for up := range mu.upstreams {
			m.RequireApproved = m.RequireApproved || ev.recipientOf(up).RequireApproved
		}
	}
	for _, r := range ev.opt.Recipients {
		for _, name := range r.Models {
			if strings.ContainsAny(name, "*?") || r.Kind != "model upstream" {
				continue
			}
			m := get(name)
			m.RequireApproved = m.RequireApproved || r.RequireApproved
			if !slices.ContainsFunc(m.Upstreams, func(c Count) bool { return c.Name == r.Name }) {
				m.Upstreams = append(m.Upstreams, Count{r.Name, 0})
			}
		}
	}
	for _, reg := range ev.opt.Models {
		m := get(reg.Name)
		m.Registered, m.Approved, m.Verdict, m.Signer = true, reg.Approved, reg.Verdict, reg.Signer
		m.RootDigest, m.Files, m.Source, m.Licence = reg.RootDigest, reg.Files, reg.Source, reg.Licence
		if !reg.UpdatedAt.IsZero() {
			m.RegisteredAt = reg.UpdatedAt.UTC().Format(time.RFC3339)
		}
	}
	out := make([]ModelRecord, 0, len(byName))
	for _, m := range byName {
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b ModelRecord) int {
		return cmp.Or(cmp.Compare(b.Requests, a.Requests), strings.Compare(a.Name, b.Name))
	})
	return out
}

func (ev *Evidence) pinList() []PinRecord {
	out := []PinRecord{}
	type st struct{ server, tool string }
	idx := map[st]int{}
	for _, p := range ev.opt.Pins {
		r := PinRecord{Server: p.Server, Tool: p.Tool, Hash: p.Hash, PinnedBy: p.By}
		if !p.At.IsZero() {
			r.PinnedAt = p.At.UTC().Format(time.RFC3339)
		}
		idx[st{p.Server, p.Tool}] = len(out)
		out = append(out, r)
	}
	for k, n := range ev.tools {
		i, ok := idx[st{k.server, k.tool}]
		if !ok {
			idx[st{k.server, k.tool}] = len(out)
			out = append(out, PinRecord{Server: k.server, Tool: k.tool})
			i = len(out) - 1
		}
		if k.hash != "" && k.hash == out[i].Hash {
			out[i].Calls += n
		} else {
			out[i].CallsOtherHash += n
		}
	}
	slices.SortFunc(out, func(a, b PinRecord) int {
		return cmp.Or(strings.Compare(a.Server, b.Server), strings.Compare(a.Tool, b.Tool))
	})
	return out
}

func (ev *Evidence) aiActIssues(s *AIActSection) []Issue {
	var is []Issue
	r := s.Retention
	if !r.Meets {
		is = append(is, Issue{High, "audit_retention_short", fmt.Sprintf("Audit entries are kept %s, less than the required %s (report.retention_min).", ev.retention().AuditLog, r.Minimum)})
	}
	for _, t := range r.Shorter {
		if strings.HasPrefix(t.Type, "vault.ttl ") {
			is = append(is, Issue{Low, "vault_ttl_shorter", fmt.Sprintf("%s is %s, shorter than %s: those token originals stop being restorable sooner; the audit log is not affected.", t.Type, t.Duration, r.Minimum)})
		}
	}
	first, err := time.Parse(time.RFC3339, ev.Log.FirstEntry)
	if err == nil && !ev.opt.Since.IsZero() && first.After(ev.opt.Since) {
		is = append(is, Issue{Medium, "period_before_log", fmt.Sprintf("The period starts %s but the log's first entry is from %s: nothing before it is on record here.",
			ev.opt.Since.UTC().Format(time.RFC3339), ev.Log.FirstEntry)})
	}
	if err == nil && ev.opt.Now.Sub(first) < ev.opt.RetentionMin {
		is = append(is, Issue{Info, "log_younger_than_retention", fmt.Sprintf("The log begins %s (%d days before this report): keeping entries for %s cannot be shown yet, only that none was removed.", ev.Log.FirstEntry, r.LogAgeDays, r.Minimum)})
	}
	if ev.Log.Entries == 0 {
		is = append(is, Issue{Medium, "empty_log", "The checkpoint covers no entries."})
	}
	for _, m := range s.Models {
		if m.Requests > 0 && !(m.Registered && m.Approved) {
			is = append(is, Issue{Low, "model_provenance_not_recorded", fmt.Sprintf("Model %s served %s and has no approved record in the model registry: for a hosted model, keep the provider's documentation as its provenance; a self-hosted one can be scanned and signed (warden model register).", m.Name, plural(m.Requests, "request"))})
		}
	}
	for _, p := range s.ToolPins {
		if p.CallsOtherHash > 0 {
			is = append(is, Issue{Info, "tool_definition_changed", fmt.Sprintf("MCP tool %s/%s: %d calls were made under a definition other than the one pinned now.", p.Server, p.Tool, p.CallsOtherHash)})
		}
	}
	return is
}

package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ROPASection is the records of processing of GDPR Art. 30(1), per
// purpose, with the recipients, transfers, retention and measures they
// share.
type ROPASection struct {
	Purposes   []PurposeRecord   `json:"purposes"`
	Recipients []RecipientRecord `json:"recipients"`
	Transfers  []Transfer        `json:"transfers"`
	Retention  Retention         `json:"retention"`
	Measures   []Measure         `json:"measures"`
}

// BasisRef is a legal basis or Art. 9(2) condition as the report names it.
type BasisRef struct {
	Name    string `json:"name"`
	Article string `json:"article"`
	Text    string `json:"text"`
}

// Match is what traffic a purpose covers, as declared.
type Match struct {
	Principals []string `json:"principals"`
	Tenants    []string `json:"tenants"`
	Models     []string `json:"models"`
}

// PurposeRecord is one purpose's record of processing.
type PurposeRecord struct {
	Name string `json:"name"`
	// Declared is false for the traffic no declared purpose matches.
	Declared      bool      `json:"declared"`
	Description   string    `json:"description"`
	LegalBasis    *BasisRef `json:"legal_basis"`
	Art9Condition *BasisRef `json:"art9_condition"`
	DataSubjects  []string  `json:"data_subjects"`
	Retention     string    `json:"retention"`
	Match         Match     `json:"match"`
	// Requests counts the purpose's requests in the period: Sent went
	// to a model or MCP server (SentRaw of them with findings the policy
	// let through unchanged, SentDeidentified de-identified first),
	// Refused were refused before any upstream call.
	Requests         int64 `json:"requests"`
	Sent             int64 `json:"sent"`
	SentRaw          int64 `json:"sent_raw"`
	SentDeidentified int64 `json:"sent_deidentified"`
	Refused          int64 `json:"refused"`
	// Categories are the categories of personal data observed, from the
	// finding types counted in its requests.
	Categories []CategoryRecord `json:"categories"`
	Tenants    []Count          `json:"tenants"`
	Principals []Count          `json:"principals"`
	Recipients []Count          `json:"recipients"`
	Refusals   []Count          `json:"refusals"`
	// Leaks counts values of the leak types models wrote that the caller
	// had not sent (masked); Restored the caller's tokens put back.
	Leaks    int64 `json:"leaks"`
	Restored int64 `json:"restored"`
}

// CategoryRecord is one category of personal data observed: findings
// in requests sent and in requests refused.
type CategoryRecord struct {
	Category string      `json:"category"`
	Label    string      `json:"label"`
	Special  bool        `json:"special"`
	Sent     int64       `json:"sent"`
	Refused  int64       `json:"refused"`
	Types    []TypeCount `json:"types"`
}

// TypeCount is one finding type's count.
type TypeCount struct {
	Type       string `json:"type"`
	Sent       int64  `json:"sent"`
	Refused    int64  `json:"refused"`
	NationalID bool   `json:"national_id"`
}

// RecipientRecord is a recipient with what it received in the period.
type RecipientRecord struct {
	Recipient
	// Placement is inside, outside or unknown (no country declared)
	// relative to report.home_region, or "not assessed" without one.
	Placement string `json:"placement"`
	Requests  int64  `json:"requests"`
	// SpecialFindings counts special-category findings (HEALTH) in what
	// it received.
	SpecialFindings int64   `json:"special_findings"`
	Purposes        []Count `json:"purposes"`
}

// Transfer is data sent to a recipient outside the home region, or to
// one whose country is not declared (Placement unknown).
type Transfer struct {
	Recipient       string  `json:"recipient"`
	Kind            string  `json:"kind"`
	Country         string  `json:"country"`
	Region          string  `json:"region"`
	Zone            string  `json:"zone"`
	Placement       string  `json:"placement"`
	Requests        int64   `json:"requests"`
	SpecialFindings int64   `json:"special_findings"`
	Purposes        []Count `json:"purposes"`
}

// Retention is how long what Warden keeps is kept.
type Retention struct {
	// VaultTTL is the vault's retention per finding type (a token's
	// original is no longer restorable that long after it was last
	// tokenized); VaultDefault says what happens to other types.
	VaultTTL     []TTL  `json:"vault_ttl"`
	VaultDefault string `json:"vault_default"`
	// AuditLog says how long audit entries are kept.
	AuditLog string `json:"audit_log"`
}

// TTL is a retention period of one finding type.
type TTL struct {
	Type     string `json:"type"`
	Duration string `json:"duration"`
}

func (ev *Evidence) ropa() *ROPASection {
	s := &ROPASection{Transfers: []Transfer{}}
	for i := range ev.purposes {
		s.Purposes = append(s.Purposes, ev.purposeRecord(i))
	}
	s.Recipients = ev.recipients()
	for _, r := range s.Recipients {
		if r.Requests == 0 || (r.Placement != outside.String() && r.Placement != unknownPlace.String()) {
			continue
		}
		s.Transfers = append(s.Transfers, Transfer{
			Recipient: r.Name, Kind: r.Kind, Country: r.Country, Region: r.Region, Zone: r.Zone, Placement: r.Placement,
			Requests: r.Requests, SpecialFindings: r.SpecialFindings, Purposes: r.Purposes,
		})
	}
	s.Retention = ev.retention()
	s.Measures = ev.measures()
	return s
}

func (ev *Evidence) purposeRecord(i int) PurposeRecord {
	pu := ev.purposes[i]
	rec := PurposeRecord{
		Name: undeclaredName, DataSubjects: []string{}, Match: Match{[]string{}, []string{}, []string{}},
		Requests: pu.requests, Sent: pu.sent, SentRaw: pu.raw, SentDeidentified: pu.deidentified, Refused: pu.refused,
		Tenants: sortedCounts(pu.tenants), Principals: sortedCounts(pu.principals), Recipients: sortedCounts(pu.recipients),
		Refusals: sortedCounts(pu.refusals), Leaks: pu.leaks, Restored: pu.restored,
	}
	if i < len(ev.opt.Purposes) {
		p := ev.opt.Purposes[i]
		rec.Name, rec.Declared, rec.Description, rec.Retention = p.Name, true, p.Description, p.Retention
		if b, ok := LookupLegalBasis(p.LegalBasis); ok {
			rec.LegalBasis = &BasisRef{b.Name, b.Article, b.Text}
		}
		if b, ok := LookupArt9Condition(p.Art9Condition); ok {
			rec.Art9Condition = &BasisRef{b.Name, b.Article, b.Text}
		}
		rec.DataSubjects = append(rec.DataSubjects, p.DataSubjects...)
		rec.Match = Match{append([]string{}, p.Principals...), append([]string{}, p.Tenants...), append([]string{}, p.Models...)}
	}
	rec.Categories = ev.categories(pu.types)
	return rec
}

// categories groups type counts by category.
func (ev *Evidence) categories(types map[string]*typeUse) []CategoryRecord {
	byCat := map[string]*CategoryRecord{}
	for t, u := range types {
		cat := ev.cat.of(t)
		cr := byCat[cat]
		if cr == nil {
			cr = &CategoryRecord{Category: cat, Label: CategoryLabel(cat), Special: Special(cat)}
			byCat[cat] = cr
		}
		cr.Sent += u.sent
		cr.Refused += u.refused
		cr.Types = append(cr.Types, TypeCount{Type: t, Sent: u.sent, Refused: u.refused, NationalID: ev.natID[t]})
	}
	out := make([]CategoryRecord, 0, len(byCat))
	for _, cr := range byCat {
		slices.SortFunc(cr.Types, func(a, b TypeCount) int {
			return cmp.Or(cmp.Compare(b.Sent+b.Refused, a.Sent+a.Refused), strings.Compare(a.Type, b.Type))
		})
		out = append(out, *cr)
	}
	slices.SortFunc(out, func(a, b CategoryRecord) int { return cmp.Compare(catRank(a.Category), catRank(b.Category)) })
	return out
}

// recipients lists the configured recipients and those the log names,
// with what each received.
func (ev *Evidence) recipients() []RecipientRecord {
	seen := map[string]bool{}
	var out []RecipientRecord
	add := func(r Recipient) {
		rr := RecipientRecord{Recipient: r, Placement: ev.home.place(r).String(), Purposes: []Count{}}
		if rr.Models == nil {
			rr.Models = []string{}
		}
		if u := ev.sentTo[r.Name]; u != nil {
			rr.Requests, rr.SpecialFindings, rr.Purposes = u.requests, u.special, sortedCounts(u.purposes)
		}
		out = append(out, rr)
		seen[r.Name] = true
	}
	for _, r := range ev.opt.Recipients {
		add(r)
	}
	for _, name := range sortedKeys(ev.sentTo) {
		if !seen[name] {
			add(ev.recipientOf(name))
		}
	}
	return out
}

func (ev *Evidence) retention() Retention {
	r := Retention{VaultTTL: []TTL{}, VaultDefault: "kept until erased (warden vault forget) or the tenant is shredded (warden vault shred)"}
	for _, t := range sortedKeys(ev.opt.Setup.VaultTTL) {
		r.VaultTTL = append(r.VaultTTL, TTL{t, hours(ev.opt.Setup.VaultTTL[t])})
	}
	if d := ev.opt.Setup.AuditRetention; d > 0 {
		r.AuditLog = "entries are kept " + hours(d)
	} else {
		r.AuditLog = "entries are never deleted by Warden: the log is append-only and kept as long as the store (" +
			cmp.Or(ev.opt.Setup.StoreEngine, "sqlite") + ")"
	}
	return r
}

func (ev *Evidence) ropaIssues(s *ROPASection) []Issue {
	var is []Issue
	und := ev.purposes[len(ev.purposes)-1]
	if und.requests > 0 {
		sev := Medium
		if und.sent > 0 {
			sev = High
		}
		keys := make([]whoKey, 0, len(ev.undecl))
		for k := range ev.undecl {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b whoKey) int {
			ua, ub := ev.undecl[a], ev.undecl[b]
			return cmp.Or(cmp.Compare(ub.sent+ub.refused, ua.sent+ua.refused), strings.Compare(a.principal, b.principal),
				strings.Compare(a.tenant, b.tenant), strings.Compare(a.model, b.model))
		})
		var who []string
		for i, k := range keys {
			if i == 5 {
				who = append(who, fmt.Sprintf("and %d more", len(keys)-5))
				break
			}
			u := ev.undecl[k]
			who = append(who, fmt.Sprintf("%s (tenant %s) to %s: %d", k.principal, orNone(k.tenant), k.model, u.sent+u.refused))
		}
		is = append(is, Issue{sev, "undeclared_purpose", fmt.Sprintf("Requests matching no declared purpose: %d (%d sent to a model or tool): %s. Declare their purpose under purposes: (principals, tenants, models).",
			und.requests, und.sent, strings.Join(who, "; "))})
	}
	for _, p := range s.Purposes {
		if !p.Declared {
			continue
		}
		var special int64
		for _, c := range p.Categories {
			if c.Special {
				special += c.Sent + c.Refused
			}
		}
		if special > 0 && p.Art9Condition == nil {
			is = append(is, Issue{High, "special_category_without_condition", fmt.Sprintf("Purpose %s processed %s (a special category) but declares no Art. 9(2) condition: set purposes[].art9_condition, or stop the data at the gateway.", p.Name, plural(special, "health finding"))})
		}
		if len(p.DataSubjects) == 0 {
			is = append(is, Issue{Low, "data_subjects_not_declared", fmt.Sprintf("Purpose %s declares no categories of data subjects (purposes[].data_subjects).", p.Name)})
		}
		if p.Retention == "" {
			is = append(is, Issue{Low, "retention_not_declared", fmt.Sprintf("Purpose %s declares no retention (purposes[].retention).", p.Name)})
		}
	}
	for _, r := range s.Recipients {
		switch {
		case r.Requests == 0:
		case r.Placement == outside.String():
			where := r.Country
			if r.Region != "" {
				where += ", region " + r.Region
			}
			msg := fmt.Sprintf("%s %s (%s) is outside the home region (%s): %s", r.Kind, r.Name, where, strings.Join(ev.opt.HomeRegion, ", "), plural(r.Requests, "request"))
			if r.SpecialFindings > 0 {
				msg += fmt.Sprintf(", with %s", plural(r.SpecialFindings, "health finding"))
			}
			is = append(is, Issue{Medium, "transfer_outside_home_region", msg + ". Document the transfer mechanism (adequacy decision, SCCs) for it (Art. 30(1)(e), Chapter V)."})
		case r.Placement == unknownPlace.String():
			is = append(is, Issue{Medium, "country_not_declared", fmt.Sprintf("%s %s received %s and declares no country: set its country (ISO 3166-1 alpha-2) so transfers can be assessed.", r.Kind, r.Name, plural(r.Requests, "request"))})
		}
		if !r.Configured && r.Requests > 0 {
			is = append(is, Issue{Low, "recipient_not_configured", fmt.Sprintf("The log names %s %s, which the configuration no longer has: its zone is taken from the log, its country is unknown.", r.Kind, r.Name)})
		}
	}
	if len(ev.opt.HomeRegion) == 0 {
		is = append(is, Issue{Low, "home_region_not_set", "report.home_region is not set: transfers outside it are not assessed."})
	}
	var unclassified []string
	for _, pu := range ev.purposes {
		for t := range pu.types {
			if ev.cat.of(t) == Unclassified && !slices.Contains(unclassified, t) {
				unclassified = append(unclassified, t)
			}
		}
	}
	if len(unclassified) > 0 {
		slices.Sort(unclassified)
		is = append(is, Issue{Low, "unclassified_types", "Finding types with no known category: " + strings.Join(unclassified, ", ") + " (a custom recognizer's category comes from detect.custom)."})
	}
	return is
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// Measure is a technical or organisational measure in force (GDPR Art.
// 32, Art. 30(1)(g)).
type Measure struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	InForce bool   `json:"in_force"`
	Detail  string `json:"detail"`
}

func (ev *Evidence) measures() []Measure {
	st := ev.opt.Setup
	var ms []Measure
	ms = append(ms, Measure{"detection", "Detection of personal data", true,
		"every string, object key and long number of requests, responses, tool arguments and tool results is scanned, read through Unicode normalisation and encodings (base64, hex, percent)"})
	var ops []string
	for _, t := range sortedKeys(st.Operators) {
		ops = append(ops, t+" "+st.Operators[t])
	}
	if len(ops) == 0 {
		ops = []string{"PII, FINANCIAL and HEALTH tokenize (the default)"}
	}
	applied := "none in the period"
	if len(ev.ops) > 0 {
		var parts []string
		for _, c := range sortedCounts(ev.ops) {
			parts = append(parts, fmt.Sprintf("%s %d", c.Name, c.Count))
		}
		applied = strings.Join(parts, ", ")
	}
	ms = append(ms, Measure{"deidentification", "De-identification (tokenization) before data leaves", true,
		"operators: " + strings.Join(ops, ", ") + "; applied in the period: " + applied +
			"; tokens are restored only for the caller's own tenant"})
	keySrc := "a local keyring"
	switch s := st.KeySource; {
	case strings.HasPrefix(s, "kms:"):
		keySrc = "a KMS key (" + strings.TrimPrefix(s, "kms:") + "), which sees only KEKs"
	case s == "passphrase":
		keySrc = "a local keyring sealed by a passphrase (Argon2id)"
	case s == "key_file":
		keySrc = "a local keyring sealed by a key file"
	case s == "generated_key_file":
		keySrc = "a local keyring sealed by the generated key file under the data directory"
	}
	ms = append(ms, Measure{"encryption_at_rest", "Envelope encryption of token originals", true,
		"each original is encrypted with an AES-256-GCM data key bound to its tenant; data keys are wrapped by versioned key-encryption keys protected by " + keySrc +
			fmt.Sprintf("; unwrapped keys stay in memory at most %s", cmp.Or(durationText(st.KeyCacheTTL), "5m0s"))})
	pol := "policy " + cmp.Or(st.PolicyHash, "(unknown)")
	if st.PolicyRules > 0 {
		pol += fmt.Sprintf(", %d rules", st.PolicyRules)
	} else {
		pol += ", no rules of its own (personal data is de-identified by default)"
	}
	if st.DenySecrets {
		pol += "; requests carrying credentials are refused"
	}
	var seen []string
	for _, h := range sortedKeys(ev.policies) {
		p := ev.policies[h]
		seen = append(seen, fmt.Sprintf("%s (%s, %s to %s)", h, plural(p.requests, "request"), displayTime(p.first), displayTime(p.last)))
	}
	if len(seen) > 0 {
		pol += "; versions that decided in the period: " + strings.Join(seen, "; ")
	}
	ms = append(ms, Measure{"policy", "Policy on every request (allow, de-identify, deny, zones)", true, pol})
	in := "plain HTTP"
	if st.InboundTLS {
		in = "HTTPS"
		if st.ClientCerts {
			in += " with client certificates (mTLS)"
		}
	}
	https, total := 0, 0
	for _, r := range ev.opt.Recipients {
		if r.Builtin || r.Transport == "stdio" {
			continue
		}
		total++
		if r.Transport == "https" {
			https++
		}
	}
	tls := fmt.Sprintf("inbound %s; %d of %d upstreams and MCP servers over HTTPS", in, https, total)
	if len(st.RequireTLSZones) > 0 {
		tls += "; zones that must use TLS: " + strings.Join(st.RequireTLSZones, ", ")
	}
	ms = append(ms, Measure{"tls", "Encryption in transit", st.InboundTLS || https > 0, tls})
	lt := st.LeakTypes
	if len(lt) == 0 {
		lt = []string{"SECRET", "FINANCIAL", "HEALTH", "GOVERNMENT_ID"}
	}
	ms = append(ms, Measure{"response_guard", "Response guard", true,
		"values of " + strings.Join(lt, ", ") + " that a model writes and the caller did not send are rewritten (" + cmp.Or(st.LeakOperator, "mask") + ")"})
	var approved []string
	for _, r := range ev.opt.Recipients {
		if r.RequireApproved {
			approved = append(approved, r.Name)
		}
	}
	appr := "no upstream requires registry approval"
	if len(approved) > 0 {
		appr = "upstreams serving only scanned, signed and approved models: " + strings.Join(approved, ", ")
	}
	ms = append(ms, Measure{"model_provenance", "Model provenance", len(approved) > 0, appr})
	if len(st.ToolPinning) > 0 {
		var ps []string
		for _, s := range sortedKeys(st.ToolPinning) {
			ps = append(ps, s+" "+st.ToolPinning[s])
		}
		ms = append(ms, Measure{"tool_pinning", "MCP tool definitions pinned by hash", true, "pin mode per server: " + strings.Join(ps, ", ") + "; a changed definition is hidden and refused"})
	}
	ms = append(ms, Measure{"rate_limits", "Rate limits", st.RateLimits, map[bool]string{true: "requests and tokens per minute are limited", false: "none configured"}[st.RateLimits]})
	cp := ev.Checkpoint
	ms = append(ms, Measure{"audit_log", "Tamper-evident audit log", true, fmt.Sprintf(
		"every request is logged before it is sent (write-ahead) in an RFC 6962 Merkle tree with Ed25519-signed checkpoints; this report: origin %s, %d entries, root %s", cp.Origin, cp.Size, cp.RootHash)})
	return ms
}

func durationText(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/gateway"
	"github.com/wardenhq/warden/modelguard"
	"github.com/wardenhq/warden/policy"
	"github.com/wardenhq/warden/report"
	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/toolpin"
)

// PurposeConfig is one entry of purposes: a declared purpose of
// processing and the traffic it covers (docs/REPORTS.md). A request
// belongs to the first purpose whose lists all match it; a list left
// out matches anything.
type PurposeConfig struct {
	// Name identifies the purpose. Required, unique.
	Name string `yaml:"name"`
	// Description says what the processing is for.
	Description string `yaml:"description"`
	// LegalBasis is the GDPR Art. 6(1) basis: consent, contract,
	// legal_obligation, vital_interests, public_task or
	// legitimate_interests. Required.
	LegalBasis string `yaml:"legal_basis"`
	// Art9Condition is the GDPR Art. 9(2) condition that allows special
	// categories (health data) under this purpose: explicit_consent,
	// employment, vital_interests, not_for_profit, made_public,
	// legal_claims, substantial_public_interest, health_care,
	// public_health or research. Default none.
	Art9Condition string `yaml:"art9_condition"`
	// DataSubjects are the categories of data subjects (customers,
	// employees, patients …), as declared.
	DataSubjects []string `yaml:"data_subjects"`
	// Retention is the declared retention, in words.
	Retention string `yaml:"retention"`
	// Principals, Tenants and Models are names or globs (* any run of
	// characters, ? one). MCP tool calls match Models as mcp:<server>.
	Principals []string `yaml:"principals"`
	Tenants    []string `yaml:"tenants"`
	Models     []string `yaml:"models"`
}

// ReportConfig configures `warden report`.
type ReportConfig struct {
	// Controller heads every report: GDPR Art. 30(1)(a).
	Controller ControllerConfig `yaml:"controller"`
	// HomeRegion names where data may go without a transfer: ISO 3166-1
	// alpha-2 country codes, EU, EEA, or region names that upstreams
	// use. Default none: transfers are not assessed.
	HomeRegion []string `yaml:"home_region"`
	// RetentionMin is the log retention the ai-act report asks for.
	// Default 4380h (six months, EU AI Act Art. 26(6)).
	RetentionMin Duration `yaml:"retention_min"`
	// InternalZones are the zones that are the controller's own; health
	// data sent elsewhere is a DPIA risk. Default [onprem].
	InternalZones []string `yaml:"internal_zones"`
}

// ControllerConfig names the controller and its contacts.
type ControllerConfig struct {
	Name    string `yaml:"name"`
	Contact string `yaml:"contact"`
	DPO     string `yaml:"dpo"`
}

// validateReport checks purposes, report and the upstreams' country and
// region; errors name the key.
func (c *Config) validateReport(where string) error {
	names := map[string]bool{}
	for i, p := range c.Purposes {
		key := fmt.Sprintf("purposes[%d]", i)
		switch {
		case p.Name == "":
			return fmt.Errorf("%s: %s.name: empty", where, key)
		case strings.HasPrefix(p.Name, "("):
			return fmt.Errorf("%s: %s.name: must not start with '(' (reserved for the undeclared purpose)", where, key)
		case names[p.Name]:
			return fmt.Errorf("%s: %s.name: %s is already the name of an earlier purpose", where, key, p.Name)
		}
		names[p.Name] = true
		if p.LegalBasis == "" {
			return fmt.Errorf("%s: %s.legal_basis: required (purpose %s): one of %s", where, key, p.Name, basisNames(report.LegalBases()))
		}
		if _, ok := report.LookupLegalBasis(p.LegalBasis); !ok {
			return fmt.Errorf("%s: %s.legal_basis: %q is not one of %s (GDPR Art. 6(1))", where, key, p.LegalBasis, basisNames(report.LegalBases()))
		}
		if _, ok := report.LookupArt9Condition(p.Art9Condition); p.Art9Condition != "" && !ok {
			return fmt.Errorf("%s: %s.art9_condition: %q is not one of %s (GDPR Art. 9(2))", where, key, p.Art9Condition, basisNames(report.Art9Conditions()))
		}
		for _, l := range []struct {
			name string
			vals []string
		}{{"principals", p.Principals}, {"tenants", p.Tenants}, {"models", p.Models}, {"data_subjects", p.DataSubjects}} {
			for j, v := range l.vals {
				if strings.TrimSpace(v) == "" {
					return fmt.Errorf("%s: %s.%s[%d]: empty", where, key, l.name, j)
				}
			}
		}
		if len(p.Principals) == 0 && len(p.Tenants) == 0 && len(p.Models) == 0 && i < len(c.Purposes)-1 {
			return fmt.Errorf("%s: %s: matches every request (no principals, tenants or models), so purposes[%d] and later can never match: put it last", where, key, i+1)
		}
	}
	regions := map[string]bool{}
	for i, u := range c.Upstreams {
		if u.Country != "" && !report.IsCountry(u.Country) {
			return fmt.Errorf("%s: upstreams[%d].country: %q is not an ISO 3166-1 alpha-2 country code in upper case (DE, IE, US …; GB, not UK)", where, i, u.Country)
		}
		if u.Region != "" {
			if strings.TrimSpace(u.Region) == "" {
				return fmt.Errorf("%s: upstreams[%d].region: blank", where, i)
			}
			regions[u.Region] = true
		}
	}
	r := c.Report
	for i, h := range r.HomeRegion {
		if _, group := report.RegionGroup(h); !group && !report.IsCountry(h) && !regions[h] {
			return fmt.Errorf("%s: report.home_region[%d]: %q is not EU, EEA, an ISO 3166-1 alpha-2 country code or a region an upstream names", where, i, h)
		}
	}
	if r.RetentionMin < 0 {
		return fmt.Errorf("%s: report.retention_min: must not be negative", where)
	}
	for i, z := range r.InternalZones {
		if z == "" {
			return fmt.Errorf("%s: report.internal_zones[%d]: empty", where, i)
		}
	}
	return nil
}

func basisNames(bs []report.LegalBasis) string {
	names := make([]string, len(bs))
	for i, b := range bs {
		names[i] = b.Name
	}
	return strings.Join(names, ", ")
}

const reportHelp = `usage: warden report ropa|dpia|ai-act [flags]

Builds a compliance record from the audit log, the only source of its
numbers: the entries of the newest signed checkpoint (or --checkpoint),
read from index 0 and checked against the checkpoint's root as they are
read. A log that does not verify is refused (exit 1, nothing written).

  ropa     records of processing, GDPR Art. 30(1), per purpose: legal basis,
           data subjects, categories of personal data observed, recipients,
           transfers outside report.home_region, retention, measures
  dpia     the data-flow and risk section of a DPIA draft: flows, risks the
           data shows, mitigations in force, what Warden cannot see
  ai-act   deployer log-keeping evidence, EU AI Act Art. 26(6) and Art. 12:
           period, completeness proof, retention, models with provenance,
           MCP tool pins, Warden version

Purposes (purposes:), the controller and the home region (report:) and each
upstream's country and region come from the config; docs/REPORTS.md has the
keys. Every report names its checkpoint and says how to verify it.

Exit codes: 0 written; 1 the log does not verify (nothing written), or it
verifies but an intent is not paired (written, with the failure named);
2 usage, configuration or I/O error.

Flags:
`

func runReport(ctx context.Context, c *cli, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(c.stderr, reportHelp)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	kind := report.Kind(args[0])
	if !slices.Contains(report.Kinds(), kind) {
		fmt.Fprintf(c.stderr, "warden report: unknown report %q (want ropa, dpia or ai-act)\n\n%s", args[0], reportHelp)
		return exitUsage
	}
	name := "report " + string(kind)
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	configPath := fs.String("config", "", "config `file` (default: built-in defaults, data in ./warden-data)")
	sinceFlag := fs.String("since", "", "period start: RFC 3339 time, a date (2026-01-01, UTC) or a duration ago (720h); default the log's first entry")
	untilFlag := fs.String("until", "", "period end, exclusive, in the same forms; default the checkpoint")
	cpSize := fs.Int64("checkpoint", -1, "build from the stored checkpoint of this `size` (default: the newest)")
	format := fs.String("format", "md", "md, html, json or csv")
	out := fs.String("out", "", "write to `file` (default: stdout)")
	vkeyFlag := fs.String("key", "", "the verifier `key` to check checkpoints with (default: the log's own, from the keyring)")
	fs.Usage = func() { fmt.Fprint(c.stderr, reportHelp); fs.PrintDefaults() }
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(c.stderr, "warden %s: unexpected argument\n", name)
		return exitUsage
	}
	if !slices.Contains(report.Formats(), report.Format(*format)) {
		fmt.Fprintf(c.stderr, "warden %s: --format: want md, html, json or csv\n", name)
		return exitUsage
	}
	now := time.Now()
	since, err := parseReportTime(*sinceFlag, now)
	if err != nil {
		fmt.Fprintf(c.stderr, "warden %s: --since: %v\n", name, err)
		return exitUsage
	}
	until, err := parseReportTime(*untilFlag, now)
	if err != nil {
		fmt.Fprintf(c.stderr, "warden %s: --until: %v\n", name, err)
		return exitUsage
	}
	if !since.IsZero() && !until.IsZero() && !until.After(since) {
		fmt.Fprintf(c.stderr, "warden %s: --until must be after --since\n", name)
		return exitUsage
	}
	cfg, ok := configOrExit(c, name, *configPath)
	if !ok {
		return exitUsage
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(c.stderr, "warden %s: %v\n", name, err)
		return code
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return fail(exitUsage, err)
	}
	defer db.Close()
	vkey := *vkeyFlag
	if vkey == "" {
		kr, closeKeys, err := openKeyring(ctx, cfg, c)
		if err != nil {
			return fail(exitUsage, err)
		}
		vkey, err = audit.VerifierKey(ctx, db, kr, "", false)
		closeKeys()
		if err != nil {
			return fail(exitUsage, err)
		}
	}
	var cp *audit.Checkpoint
	if *cpSize >= 0 {
		cp, err = audit.CheckpointAt(ctx, db, *cpSize, vkey)
	} else {
		cp, err = audit.LatestCheckpointOf(ctx, db, vkey)
	}
	if err != nil {
		return fail(exitFailure, fmt.Errorf("checkpoint: %w", err))
	}
	opt, err := reportOptions(ctx, cfg, db)
	if err != nil {
		return fail(exitUsage, err)
	}
	opt.Since, opt.Until, opt.VerifierKey, opt.Version, opt.Now = since, until, vkey, version, now
	var prog *reportProgress
	if c.stderrTTY && *out != "" || c.stderrTTY && cp.Size >= 100000 {
		prog = &reportProgress{c: c, start: time.Now()}
		opt.Progress = prog.update
	}
	start := time.Now()
	ev, err := report.Collect(ctx, db, cp, opt)
	prog.finish()
	var ve *audit.VerifyError
	if errors.As(err, &ve) {
		return fail(exitFailure, err)
	}
	if err != nil {
		return fail(exitUsage, err)
	}
	rep, err := ev.Report(kind)
	if err != nil {
		return fail(exitUsage, err)
	}
	var buf bytes.Buffer
	if err := rep.Render(&buf, report.Format(*format)); err != nil {
		return fail(exitUsage, err)
	}
	if *out != "" {
		if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
			return fail(exitUsage, fmt.Errorf("--out: %v", ioErrText(err)))
		}
		fmt.Fprintf(c.stderr, "warden %s: %d entries of checkpoint %d read in %s; wrote %s\n", name, cp.Size, cp.Size, time.Since(start).Round(time.Millisecond), *out)
	} else if _, err := c.stdout.Write(buf.Bytes()); err != nil {
		return fail(exitUsage, err)
	}
	if !ev.Log.Paired {
		fmt.Fprintf(c.stderr, "warden %s: the log verifies but its pairing does not: %s\n", name, ev.Log.PairingFailure)
		return exitFailure
	}
	return exitOK
}

// parseReportTime reads an RFC 3339 time, a date (UTC midnight) or a
// duration before now; "" is the zero time.
func parseReportTime(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, errors.New("want an RFC 3339 time (2026-01-02T15:04:05Z), a date (2026-01-02) or a duration ago (720h)")
}

// reportOptions gathers what a report reads besides the log: the
// declared purposes and settings, the recipients, the measures in force
// and the registries.
func reportOptions(ctx context.Context, cfg *Config, db *store.DB) (report.Options, error) {
	opt := report.Options{
		Controller:    report.Controller{Name: cfg.Report.Controller.Name, Contact: cfg.Report.Controller.Contact, DPO: cfg.Report.Controller.DPO},
		HomeRegion:    cfg.Report.HomeRegion,
		InternalZones: cfg.Report.InternalZones,
		RetentionMin:  time.Duration(cfg.Report.RetentionMin),
		NationalIDs:   gateway.GovernmentIDTypes,
		Categories:    map[string]string{},
	}
	for _, p := range cfg.Purposes {
		opt.Purposes = append(opt.Purposes, report.Purpose{
			Name: p.Name, Description: p.Description, LegalBasis: p.LegalBasis, Art9Condition: p.Art9Condition,
			DataSubjects: p.DataSubjects, Retention: p.Retention, Principals: p.Principals, Tenants: p.Tenants, Models: p.Models,
		})
	}
	for _, cr := range cfg.Detect.Custom {
		opt.Categories[cr.Type] = cmp.Or(string(cr.Category), "PII")
	}
	for _, d := range cfg.Detect.Deny {
		opt.Categories[cmp.Or(d.Type, "DENY_LIST")] = cmp.Or(string(d.Category), "PII")
	}
	ups := cfg.Upstreams
	if len(ups) == 0 {
		ups = []UpstreamConfig{{Name: "echo", Zone: "cloud"}}
	}
	for _, u := range ups {
		r := report.Recipient{Name: u.Name, Kind: "model upstream", Zone: cmp.Or(u.Zone, "cloud"), Country: u.Country, Region: u.Region,
			Configured: true, RequireApproved: u.RequireApproved, Models: u.Models}
		if len(r.Models) == 0 {
			r.Models = []string{"*"}
		}
		setTransport(&r, u.URL, false)
		opt.Recipients = append(opt.Recipients, r)
	}
	pinning := map[string]string{}
	for _, s := range cfg.MCP.Servers {
		r := report.Recipient{Name: s.Name, Kind: "MCP server", Zone: s.Zone, Configured: true, Models: []string{}}
		setTransport(&r, s.URL, len(s.Command) > 0)
		if r.Zone == "" {
			r.Zone = "cloud"
			if r.Transport == "stdio" || isLoopbackURL(s.URL) {
				r.Zone = "onprem"
			}
		}
		opt.Recipients = append(opt.Recipients, r)
		pinning[s.Name] = cmp.Or(s.Pin, "approved")
	}
	pol, err := policy.New(cfg.Policy)
	if err != nil {
		return opt, err
	}
	ttl := map[string]time.Duration{}
	for t, d := range cfg.Vault.TTL {
		ttl[t] = time.Duration(d)
	}
	l := cfg.Server.Limits
	opt.Setup = report.Setup{
		Operators:       cfg.Policy.DefaultOperators,
		DenySecrets:     cfg.Policy.DenySecrets == nil || *cfg.Policy.DenySecrets,
		KeySource:       keySource(cfg),
		KeyCacheTTL:     time.Duration(cfg.Keys.CacheTTL),
		PolicyHash:      pol.Version(),
		PolicyRules:     len(cfg.Policy.Rules),
		InboundTLS:      cfg.Server.TLS.CertFile != "",
		ClientCerts:     cfg.Server.TLS.ClientCA != "",
		RequireTLSZones: cfg.Server.RequireTLSZones,
		LeakTypes:       cfg.Server.LeakTypes,
		LeakOperator:    cfg.Server.LeakOperator,
		StoreEngine:     string(db.Engine()),
		StoreSync:       cmp.Or(cfg.Store.Sync, "full"),
		RateLimits:      l.Default != (Limit{}) || len(l.Principals) > 0 || len(l.Models) > 0,
		VaultTTL:        ttl,
		ToolPinning:     pinning,
	}
	regs, err := modelguard.NewRegistry(db).List(ctx)
	if err != nil {
		return opt, fmt.Errorf("model registry: %w", err)
	}
	for _, m := range regs {
		opt.Models = append(opt.Models, report.Model{Name: m.Name, RootDigest: m.RootDigest, Files: m.Files, Signer: m.Signer,
			Verdict: string(m.Verdict), Source: m.Source, Licence: m.Licence, Approved: m.Approved, UpdatedAt: m.UpdatedAt})
	}
	pins, err := toolpin.NewStore(db).List(ctx, "")
	if err != nil {
		return opt, fmt.Errorf("tool pins: %w", err)
	}
	for _, p := range pins {
		opt.Pins = append(opt.Pins, report.ToolPin{Server: p.Server, Tool: p.Tool, Hash: p.Hash, By: p.By, At: p.At})
	}
	return opt, nil
}

// setTransport fills in how r is reached from its URL: the host only
// (a URL may carry credentials), and the scheme.
func setTransport(r *report.Recipient, raw string, stdio bool) {
	switch {
	case stdio:
		r.Transport = "stdio"
	case raw == "":
		r.Transport, r.Builtin = "in-process", true
	default:
		if u, err := url.Parse(raw); err == nil {
			r.Host, r.Transport = u.Hostname(), u.Scheme
		}
	}
}

func isLoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := u.Hostname()
	return h == "localhost" || h == "::1" || strings.HasPrefix(h, "127.")
}

// keySource says what protects the keyring, never the key or its URL.
func keySource(cfg *Config) string {
	switch {
	case cfg.Keys.KMS != "":
		scheme, _, _ := strings.Cut(cfg.Keys.KMS, "://")
		return "kms:" + scheme
	case cfg.Keys.PassphraseEnv != "":
		return "passphrase"
	case cfg.Keys.KeyFile != "":
		return "key_file"
	}
	return "generated_key_file"
}

// reportProgress draws "entries read" on a terminal's stderr.
type reportProgress struct {
	c     *cli
	start time.Time
	mu    sync.Mutex
	last  time.Time
	drawn bool
}

func (p *reportProgress) update(done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if done < total && time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	p.drawn = true
	pct := 100.0
	if total > 0 {
		pct = float64(done) * 100 / float64(total)
	}
	rate := float64(done) / max(time.Since(p.start).Seconds(), 1e-9)
	fmt.Fprintf(p.c.stderr, "\rwarden report: %d / %d entries (%5.1f%%), %.0f entries/s", done, total, pct, rate)
}

func (p *reportProgress) finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.c.stderr)
	}
}

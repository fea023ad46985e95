// Package report builds compliance records from the audit log: the
// records of processing of GDPR Art. 30 (ropa), the data-flow and risk
// section of a data protection impact assessment (dpia), and the
// deployer's log-keeping evidence of the EU AI Act, Art. 26(6) and
// Art. 12 (ai-act).
//
// The audit log is the only source of the numbers. [Collect] reads the
// entries one signed checkpoint covers, from index 0, streaming, and
// proves as it goes that they are the entries the checkpoint signs
// (audit.ReadSigned); it refuses a log that does not verify. What the
// configuration declares (purposes and their legal bases, where each
// upstream runs, the measures in force) and what the registries hold
// (models, pinned MCP tools) come in [Options]. Every report names the
// checkpoint it was built from, so that an auditor can verify the log
// and recompute the numbers.
//
// The log holds no content, only names, counts and decisions, and a
// report holds nothing else: no prompt, value or token ever reaches
// one.
package report

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/store"
)

// Kind names a report.
type Kind string

// Kinds of reports.
const (
	// ROPA is the records of processing activities, GDPR Art. 30(1).
	ROPA Kind = "ropa"
	// DPIA is the data-flow and risk section of a data protection
	// impact assessment, GDPR Art. 35(7).
	DPIA Kind = "dpia"
	// AIAct is the deployer's log-keeping evidence, EU AI Act Art. 26(6)
	// and Art. 12.
	AIAct Kind = "ai-act"
)

// Kinds lists every kind of report.
func Kinds() []Kind { return []Kind{ROPA, DPIA, AIAct} }

// Schema names the version of the JSON form of a report.
const Schema = "warden.report/v1"

// DefaultRetentionMin is the shortest log retention the ai-act report
// accepts by default: six months (Art. 26(6)), as 4380 hours.
const DefaultRetentionMin = 4380 * time.Hour

// Controller is the controller the records are kept for (GDPR Art.
// 30(1)(a)).
type Controller struct {
	Name    string `json:"name"`
	Contact string `json:"contact"`
	DPO     string `json:"dpo"`
}

// Purpose is a declared purpose of processing and the traffic it
// covers. A request belongs to the first purpose whose lists all match
// it (see [Purpose.Matches]); MCP tool calls match Models as
// "mcp:<server>".
type Purpose struct {
	// Name identifies the purpose in the report.
	Name        string
	Description string
	// LegalBasis is an Art. 6(1) basis by name (see [LegalBases]).
	LegalBasis string
	// Art9Condition is the Art. 9(2) condition (see [Art9Conditions])
	// that allows special categories, such as health data, under this
	// purpose; empty when none is declared.
	Art9Condition string
	// DataSubjects are the categories of data subjects, as declared.
	DataSubjects []string
	// Retention is the declared retention, in words.
	Retention string
	// Principals, Tenants and Models are names or globs (* and ?).
	Principals, Tenants, Models []string
}

// Recipient is an upstream or MCP server data is sent to.
type Recipient struct {
	Name string `json:"name"`
	// Kind is "model upstream" or "MCP server".
	Kind string `json:"kind"`
	Zone string `json:"zone"`
	// Country is an ISO 3166-1 alpha-2 code; Region a free name
	// (eu-west-1, EU); both as configured, empty when not declared.
	Country string `json:"country"`
	Region  string `json:"region"`
	// Host is the host of its URL (never the URL: it may hold
	// credentials); empty for the built-in echo and stdio servers.
	Host string `json:"host"`
	// Transport is https, http, in-process or stdio.
	Transport string `json:"transport"`
	// Builtin marks the built-in echo upstream, which runs in process.
	Builtin bool `json:"builtin"`
	// Configured is false for a recipient the log names that the
	// configuration no longer has.
	Configured bool `json:"configured"`
	// RequireApproved: the upstream serves only models the registry
	// approved.
	RequireApproved bool `json:"require_approved"`
	// Models are the model names (or globs) it serves.
	Models []string `json:"models"`
}

// Model is a model's record in the model registry.
type Model struct {
	Name       string
	RootDigest string
	Files      int
	Signer     string
	Verdict    string
	Source     string
	Licence    string
	Approved   bool
	UpdatedAt  time.Time
}

// ToolPin is an approved MCP tool definition.
type ToolPin struct {
	Server, Tool, Hash, By string
	At                     time.Time
}

// Setup is what the configuration says about the measures in force.
type Setup struct {
	// Operators maps finding types, categories or "*" to the
	// de-identification operator the policy uses when no rule names one
	// (policy.default_operators); nil: PII, FINANCIAL and HEALTH are
	// tokenized.
	Operators map[string]string
	// DenySecrets: requests with credentials are refused
	// (policy.deny_secrets).
	DenySecrets bool
	// KeySource is where key-encryption keys are protected: "kms:<scheme>",
	// "passphrase", "key_file" or "generated_key_file".
	KeySource   string
	KeyCacheTTL time.Duration
	// PolicyHash identifies the policy in force; PolicyRules counts its
	// rules.
	PolicyHash  string
	PolicyRules int
	// InboundTLS: the gateway serves HTTPS; ClientCerts: it verifies
	// client certificates (mTLS).
	InboundTLS, ClientCerts bool
	RequireTLSZones         []string
	// LeakTypes and LeakOperator are the response guard's.
	LeakTypes    []string
	LeakOperator string
	// StoreEngine is sqlite or postgres; StoreSync SQLite's sync.
	StoreEngine, StoreSync string
	// RateLimits: request or token budgets are configured.
	RateLimits bool
	// VaultTTL is the vault's retention per finding type.
	VaultTTL map[string]time.Duration
	// AuditRetention is how long the audit log keeps entries; 0: Warden
	// never deletes them.
	AuditRetention time.Duration
	// ToolPinning maps each MCP server to its pin mode (approved, auto).
	ToolPinning map[string]string
}

// Options are what [Collect] needs besides the log.
type Options struct {
	// Since and Until bound the period reported (Until exclusive); zero:
	// the whole log.
	Since, Until time.Time
	Controller   Controller
	Purposes     []Purpose
	// HomeRegion names the countries (ISO 3166-1 alpha-2), groups (EU,
	// EEA) or upstream region names data may go to without a transfer.
	// Empty: transfers are not assessed.
	HomeRegion []string
	// InternalZones are the zones that count as the controller's own.
	// Default [onprem].
	InternalZones []string
	// RetentionMin is the log retention the ai-act report asks for.
	// Default DefaultRetentionMin.
	RetentionMin time.Duration
	// Recipients are the configured upstreams and MCP servers.
	Recipients []Recipient
	Models     []Model
	Pins       []ToolPin
	Setup      Setup
	// Categories places finding types the built-in table does not know
	// (custom recognizers, deny lists) in categories.
	Categories map[string]string
	// NationalIDs are the finding types that are national identifiers
	// (GDPR Art. 87).
	NationalIDs []string
	// VerifierKey is the log's note verifier key.
	VerifierKey string
	// Version is the Warden version.
	Version string
	// Now is when the report is made. Default time.Now().
	Now time.Time
	// Progress, if set, is told how many of the checkpoint's entries
	// have been read and counted, every 10,000 entries and at the end.
	Progress func(done, total int64)
}

// Collect reads the entries of the log in db that checkpoint cp signs
// (cp from audit.LatestCheckpointOf or audit.CheckpointAt, verified
// with opt.VerifierKey), checks them against it and gathers the
// evidence every report is built from. A log that does not verify is
// an error wrapping the *audit.VerifyError.
func Collect(ctx context.Context, db *store.DB, cp *audit.Checkpoint, opt Options) (*Evidence, error) {
	if cp == nil {
		return nil, errors.New("report: no checkpoint")
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if len(opt.InternalZones) == 0 {
		opt.InternalZones = []string{"onprem"}
	}
	if opt.RetentionMin == 0 {
		opt.RetentionMin = DefaultRetentionMin
	}
	c := newCollector(&opt)
	// Entries are decoded and counted in a goroutine of their own, a
	// batch at a time, while ReadSigned reads and hashes the next ones.
	type raw struct {
		idx   int64
		entry []byte
	}
	batches := make(chan []raw, 2)
	counted := make(chan struct{})
	go func() {
		defer close(counted)
		for b := range batches {
			for _, r := range b {
				c.add(r.idx, r.entry)
			}
			if n := b[len(b)-1].idx + 1; opt.Progress != nil && (n%10000 == 0 || n == cp.Size) {
				opt.Progress(n, cp.Size)
			}
		}
	}()
	var batch []raw
	rep, err := audit.ReadSigned(ctx, db, opt.VerifierKey, cp, func(idx int64, entry []byte) error {
		batch = append(batch, raw{idx, entry})
		if len(batch) == 2000 {
			batches <- batch
			batch = nil
		}
		return nil
	})
	if len(batch) > 0 {
		batches <- batch
	}
	close(batches)
	<-counted
	if err != nil {
		var ve *audit.VerifyError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("report: the log does not verify against the checkpoint of size %d, refusing to report: %w", cp.Size, err)
		}
		return nil, fmt.Errorf("report: %w", err)
	}
	if c.bad != nil {
		return nil, fmt.Errorf("report: %w", c.bad)
	}
	ev := c.finish()
	ev.Checkpoint = CheckpointRef{
		Origin: cp.Origin, Size: cp.Size, RootHash: base64.StdEncoding.EncodeToString(cp.Root[:]),
		Note: string(cp.Note), VerifierKey: opt.VerifierKey,
		Checkpoints: rep.Checkpoints, FirstCheckpoint: rep.FirstCheckpoint,
	}
	ev.Log = LogSummary{
		Entries: cp.Size, Requests: rep.Requests, Intents: rep.Intents, Completions: rep.Completions,
		Aborted: rep.Aborted, Admin: rep.Admin, InFlight: rep.InFlight, Paired: rep.Pairing == nil,
		FirstEntry: displayTime(c.firstEntry), LastEntry: displayTime(c.lastEntry),
	}
	if rep.Pairing != nil {
		ev.Log.PairingFailure = rep.Pairing.Error()
	}
	ev.ConfigDigest = configDigest(&opt)
	return ev, nil
}

// CheckpointRef is the checkpoint a report was built from.
type CheckpointRef struct {
	Origin string `json:"origin"`
	Size   int64  `json:"size"`
	// RootHash is the tree's root, standard base64 as in the note.
	RootHash string `json:"root_hash"`
	// Note is the signed note (C2SP tlog-checkpoint) as published.
	Note        string `json:"note"`
	VerifierKey string `json:"verifier_key"`
	// Checkpoints counts the stored signed checkpoints up to this one,
	// every one checked against the entries; FirstCheckpoint is the
	// smallest of their sizes (-1: none but this one was stored).
	Checkpoints     int   `json:"checkpoints_verified"`
	FirstCheckpoint int64 `json:"first_checkpoint_size"`
}

// LogSummary counts the entries the checkpoint covers, by kind, and
// says whether every intent among them is paired.
type LogSummary struct {
	Entries     int64 `json:"entries"`
	Requests    int64 `json:"requests"`
	Intents     int64 `json:"intents"`
	Completions int64 `json:"completions"`
	Aborted     int64 `json:"aborted"`
	Admin       int64 `json:"admin"`
	// InFlight counts intents closed only after the checkpoint or still
	// open under a live gateway.
	InFlight int64 `json:"in_flight"`
	// Paired is true when every intent is closed exactly once or in
	// flight; PairingFailure names the first failure otherwise.
	Paired         bool   `json:"paired"`
	PairingFailure string `json:"pairing_failure,omitempty"`
	// FirstEntry and LastEntry are the times of the first and last
	// entries (RFC 3339, UTC), empty for an empty log.
	FirstEntry string `json:"first_entry"`
	LastEntry  string `json:"last_entry"`
}

// configDigest is the SHA-256 of what the report read from the
// configuration, so a re-run can show it used the same.
func configDigest(opt *Options) string {
	b, _ := json.Marshal(struct {
		Since, Until  time.Time
		Controller    Controller
		Purposes      []Purpose
		HomeRegion    []string
		InternalZones []string
		RetentionMin  time.Duration
		Recipients    []Recipient
		Setup         Setup
		Categories    map[string]string
	}{opt.Since, opt.Until, opt.Controller, opt.Purposes, opt.HomeRegion, opt.InternalZones, opt.RetentionMin,
		opt.Recipients, opt.Setup, opt.Categories})
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

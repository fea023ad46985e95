package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wardenhq/warden/alerts"
	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/auditindex"
	"github.com/wardenhq/warden/auth"
	"github.com/wardenhq/warden/console"
	"github.com/wardenhq/warden/detect"
	"github.com/wardenhq/warden/keys"
	"github.com/wardenhq/warden/modelguard"
	"github.com/wardenhq/warden/policy"
	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/toolpin"
	"github.com/wardenhq/warden/vault"
)

// ConsoleConfig is the console: block: the admin console `warden serve`
// serves at /console/ (docs/CONSOLE.md).
type ConsoleConfig struct {
	// Enabled serves the console and keeps the audit index it reads up to
	// date beside the gateway. Default false: /console/ answers 404 and
	// nothing is indexed (`warden audit index` catches up later).
	Enabled bool `yaml:"enabled"`
	// Roles are the API-key roles that may sign in; of them only admin
	// may change anything (keys, KEK rotation, shredding), the others
	// read. Default [admin, auditor].
	Roles []string `yaml:"roles"`
	// SessionTTL is how long a sign-in lasts (never past the key's
	// expiry). Between 1m and 720h. Default 8h.
	SessionTTL Duration `yaml:"session_ttl"`
	// IndexInterval is how often the audit index catches up with the log
	// (entries newer than that are not yet searchable). Between 100ms and
	// 1m. Default 1s.
	IndexInterval Duration `yaml:"index_interval"`
}

func (c *ConsoleConfig) validate(where string) error {
	for i, r := range c.Roles {
		if r == "" || strings.ContainsAny(r, ", \t\r\n") {
			return fmt.Errorf("%s: console.roles[%d]: want a role name without commas or spaces", where, i)
		}
	}
	if d := time.Duration(c.SessionTTL); d != 0 && (d < time.Minute || d > 720*time.Hour) {
		return fmt.Errorf("%s: console.session_ttl: %s is not between 1m and 720h", where, d)
	}
	if d := time.Duration(c.IndexInterval); d != 0 && (d < 100*time.Millisecond || d > time.Minute) {
		return fmt.Errorf("%s: console.index_interval: %s is not between 100ms and 1m", where, d)
	}
	return nil
}

// newAuditIndex is the audit index of the store, with finding types
// categorised as the config's detection does.
func newAuditIndex(cfg *Config, db *store.DB) (*auditindex.Index, error) {
	det := cfg.Detect
	return auditindex.New(auditindex.Config{Store: db, Category: func(typ string) string {
		c, _ := det.TypeCategory(typ)
		return string(c)
	}})
}

// consoleParts are what buildStack has built that the console reads and
// acts on.
type consoleParts struct {
	db       *store.DB
	log      *audit.Log
	authn    *auth.Authenticator
	keyring  *keys.Keyring
	vault    *vault.Vault
	current  func() *generation // the policy and detection in force
	registry *modelguard.Registry
	pins     *toolpin.Store
	alerts   console.AlertSource
}

// startConsole builds the console and starts the audit indexer; each
// generation mounts the handler at console.Prefix (stackBase.mount), and
// the returned function stops the indexer.
func startConsole(ctx context.Context, cfg *Config, p consoleParts, log *slog.Logger) (http.Handler, func(), error) {
	idx, err := newAuditIndex(cfg, p.db)
	if err != nil {
		return nil, nil, err
	}
	con, err := console.New(console.Config{Roles: cfg.Console.Roles, SessionTTL: time.Duration(cfg.Console.SessionTTL)}, console.Deps{
		Store: p.db, Log: p.log, Index: idx, APIKeys: p.authn.APIKeys(),
		Admin: consoleAdmin{keys: p.authn.APIKeys(), kr: p.keyring, v: p.vault, log: p.log},
		KEKs:  p.keyring,
		// The policy in force: the current generation's, after reloads.
		Policy: func() console.Policy {
			g := p.current()
			return console.Policy{Hash: g.pol.Version(), Config: g.cfg.Policy}
		},
		PolicyTest: func(ctx context.Context, in console.PolicyTestInput) (*console.PolicyTestResult, error) {
			g := p.current()
			return consolePolicyTest(g.pol, g.eng)(ctx, in)
		},
		Models: p.registry, Pins: p.pins, Alerts: p.alerts, Logger: log,
	})
	if err != nil {
		return nil, nil, err
	}
	ictx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() {
		idx.Run(ictx, time.Duration(cfg.Console.IndexInterval), func(err error) { log.Warn("audit index", "error", err.Error()) })
	})
	return con.Handler(), func() { cancel(); wg.Wait() }, nil
}

// consoleAdmin does the console's administrative acts with the CLI's
// audit entries (adminaudit.go), actor "console:<principal>".
type consoleAdmin struct {
	keys *auth.APIKeys
	kr   *keys.Keyring
	v    *vault.Vault
	log  *audit.Log
}

var _ console.Admin = consoleAdmin{}

// errNotRecorded reports an act that was done but whose audit entry
// could not be written.
var errNotRecorded = errors.New("the act was done but could not be recorded in the audit log")

func (a consoleAdmin) record(ctx context.Context, actor string, ev audit.AdminEvent) error {
	ev.Actor = "console:" + actor
	if _, err := a.log.RecordAdmin(ctx, ev); err != nil {
		return fmt.Errorf("%w: %w", errNotRecorded, err)
	}
	return nil
}

// CreateAPIKey creates the key and records apikey.create; a key whose
// entry cannot be written is revoked again, so no key exists that the
// log does not show.
func (a consoleAdmin) CreateAPIKey(ctx context.Context, actor string, spec auth.KeySpec) (string, auth.KeyInfo, error) {
	key, info, err := a.keys.Create(ctx, spec)
	if err != nil {
		return "", auth.KeyInfo{}, err
	}
	if err := a.record(ctx, actor, apikeyCreatedEvent(info)); err != nil {
		if _, rerr := a.keys.Revoke(context.WithoutCancel(ctx), info.ID); rerr != nil {
			return "", auth.KeyInfo{}, errors.Join(err, fmt.Errorf("and revoking the unrecorded key %s failed: %w", info.ID, rerr))
		}
		return "", auth.KeyInfo{}, err
	}
	return key, info, nil
}

// RevokeAPIKey revokes the active key with public id id (never keys
// named id, as `apikey revoke NAME` would).
func (a consoleAdmin) RevokeAPIKey(ctx context.Context, actor, id string) error {
	list, err := a.keys.List(ctx)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(list, func(k auth.KeyInfo) bool { return k.ID == id && k.RevokedAt.IsZero() }) {
		return auth.ErrNotFound
	}
	n, err := a.keys.Revoke(ctx, id)
	if err != nil {
		return err
	}
	return a.record(ctx, actor, apikeyRevokedEvent(id, n))
}

// RotateKEK adds a KEK version and records keys.rotate.
func (a consoleAdmin) RotateKEK(ctx context.Context, actor string) (uint32, error) {
	nv, err := a.kr.Rotate(ctx)
	if err != nil {
		return 0, err
	}
	return nv, a.record(ctx, actor, kekRotatedEvent(nv))
}

// ShredTenant shreds the tenant and records vault.shred.
func (a consoleAdmin) ShredTenant(ctx context.Context, actor, tenant string) (bool, error) {
	ok, err := a.v.Shred(ctx, tenant)
	if err != nil || !ok {
		return ok, err
	}
	return true, a.record(ctx, actor, tenantShreddedEvent(tenant))
}

// consolePolicyTest runs testPolicy (what `warden policy test` runs) on
// the pasted request body.
func consolePolicyTest(pol *policy.Engine, det *detect.Engine) console.PolicyTest {
	return func(_ context.Context, in console.PolicyTestInput) (*console.PolicyTestResult, error) {
		bad := func(msg string) error { return fmt.Errorf("%w: %s", console.ErrPolicyInput, msg) }
		if !slices.Contains(policyEndpoints, in.Endpoint) {
			return nil, bad("endpoint: want one of " + strings.Join(policyEndpoints, ", "))
		}
		if in.Model == "" {
			var body struct {
				Model string `json:"model"`
			}
			json.Unmarshal(in.Request, &body)
			in.Model = body.Model
		}
		if in.Model == "" {
			return nil, bad("model: name the model (or set it in the request)")
		}
		if in.Principal == "" {
			return nil, bad("principal: name the caller")
		}
		pin := policy.Input{Principal: in.Principal, Tenant: in.Tenant, Roles: in.Roles, Model: in.Model, Endpoint: in.Endpoint, Zone: in.Zone}
		d, err := testPolicy(pol, det, &pin, string(in.Request))
		if err != nil && d.Action == "" {
			return nil, err
		}
		res := &console.PolicyTestResult{Decision: string(d.Action), Reasons: []string{}, Rules: d.Rules,
			Findings: policyNonNil(pin.Findings), Categories: policyNonNil(pin.Categories), Operators: d.Operators,
			Zones: d.Zones, DeniedTypes: d.DeniedTypes, Restore: d.Restore, Policy: pol.Version()}
		if d.Reason != "" {
			res.Reasons = append(res.Reasons, d.Reason)
		}
		if res.Rules == nil {
			res.Rules = []string{}
		}
		if res.Operators == nil {
			res.Operators = map[string]string{}
		}
		if res.Zones == nil {
			res.Zones = []string{}
		}
		if res.DeniedTypes == nil {
			res.DeniedTypes = []string{}
		}
		return res, nil
	}
}

// consoleAlerts lists the alerts the evaluator raised (alerts.List on
// the store: every replica's console shows the same ones) in the
// console's shape.
type consoleAlerts struct{ db *store.DB }

func (a consoleAlerts) Alerts(ctx context.Context, since time.Time, limit int) ([]console.Alert, error) {
	raised, err := alerts.List(ctx, a.db, since, limit)
	if err != nil {
		return nil, err
	}
	out := make([]console.Alert, 0, len(raised))
	for _, r := range raised {
		out = append(out, console.Alert{ID: strconv.FormatInt(r.ID, 10), Time: r.Time, Kind: r.Kind, Severity: r.Severity,
			Subject: console.AlertSubject{Principal: r.Subject.Principal, Model: r.Subject.Model, Type: r.Subject.Type},
			Message: r.Message, Value: r.Value, Baseline: r.Baseline})
	}
	return out, nil
}

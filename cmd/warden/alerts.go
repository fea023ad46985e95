package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wardenhq/warden/alerts"
	"github.com/wardenhq/warden/drift"
	"github.com/wardenhq/warden/store"
)

// AlertsConfig is the alerts key: drift and incident alerts from the
// audit log, evaluated inside `warden serve` (docs/ALERTS.md). Every
// field's zero value is its default.
type AlertsConfig struct {
	// Enabled runs the evaluator in `warden serve`. Default true: alerts
	// are stored, counted in /metrics and shown in the console even with
	// no webhook.
	Enabled *bool `yaml:"enabled"`
	// Interval is how often the audit log is read and webhooks sent.
	// Between 10ms and 1h. Default 10s.
	Interval Duration `yaml:"interval"`
	// Sigma is k: how many spreads above its baseline an hour's count
	// must be to alert. Default 5.
	Sigma float64 `yaml:"sigma"`
	// MinCount is the least excess over the baseline that alerts.
	// Default 10.
	MinCount float64 `yaml:"min_count"`
	// MinRatio: the count must also be at least this many times the
	// baseline. Default 1.5 (1 turns it off).
	MinRatio float64 `yaml:"min_ratio"`
	// Warmup is how long a series (and a principal, for new finding
	// types) is watched before it alerts. Default 336h (two weeks).
	Warmup Duration `yaml:"warmup"`
	// SlotWeeks is how many weeks an hour-of-week slot needs before its
	// own baseline is used. Default 2.
	SlotWeeks int `yaml:"slot_weeks"`
	// HalfLife is the half-life of the overall baseline. Default 24h.
	HalfLife Duration `yaml:"half_life"`
	// SlotHalfLife is the half-life of the hour-of-week baselines, in
	// whole weeks. Default 672h (four weeks).
	SlotHalfLife Duration `yaml:"slot_half_life"`
	// Grace is how long an hour stays open for entries still being
	// written. Default 2m.
	Grace Duration `yaml:"grace"`
	// Drops also alerts when an hour's findings fall far below their
	// baseline. Default false.
	Drops bool `yaml:"drops"`
	// MaxSeries bounds the series tracked. Default 10000.
	MaxSeries int `yaml:"max_series"`
	// MaxAttempts bounds the tries of one webhook delivery. Default 10.
	MaxAttempts int `yaml:"max_attempts"`
	// DeliverWithin: alerts raised by entries older than this are stored
	// but not sent (a first start on a long log). Default 24h.
	DeliverWithin Duration `yaml:"deliver_within"`
	// Webhooks receive the alerts. Default none.
	Webhooks []WebhookConfig `yaml:"webhooks"`
}

// WebhookConfig is one alerts.webhooks entry.
type WebhookConfig struct {
	// Name identifies the webhook in logs, metrics and the outbox.
	// Default: its format (two webhooks of one format need names).
	Name string `yaml:"name"`
	// URL receives a POST per alert. https://, or plain http:// to a
	// loopback host (or with insecure). Never logged: Slack's and Teams'
	// URLs are secrets.
	URL string `yaml:"url"`
	// Format is slack, teams or generic. Default generic.
	Format string `yaml:"format"`
	// HeadersEnv maps a header to the environment variable holding its
	// value (Authorization: ALERTS_TOKEN). The variable must be set.
	HeadersEnv map[string]string `yaml:"headers_env"`
	// SecretEnv names a variable holding a secret that signs each body
	// (header Warden-Signature). Default: unsigned.
	SecretEnv string `yaml:"secret_env"`
	// MinSeverity is the lowest severity sent: info, warning or
	// critical. Default info.
	MinSeverity string `yaml:"min_severity"`
	// Timeout bounds one attempt. Default 5s.
	Timeout Duration `yaml:"timeout"`
	// TLS is how an https:// receiver is reached (as upstreams[].tls).
	TLS ClientTLSConfig `yaml:"tls"`
	// Insecure allows plain http:// to a host that is not loopback.
	Insecure bool `yaml:"insecure"`
}

// on reports whether alerts run.
func (a *AlertsConfig) on() bool { return a.Enabled == nil || *a.Enabled }

// validate checks the alerts key; where names the config file.
func (a *AlertsConfig) validate(where string, requireZones []string) error {
	if d := time.Duration(a.Interval); d != 0 && (d < 10*time.Millisecond || d > time.Hour) {
		return fmt.Errorf("%s: alerts.interval: %s is not between 10ms and 1h", where, d)
	}
	if _, err := drift.New(a.drift()); err != nil {
		return fmt.Errorf("%s: alerts: %s", where, strings.TrimPrefix(err.Error(), "drift: "))
	}
	if a.MaxAttempts < 0 {
		return fmt.Errorf("%s: alerts.max_attempts: must not be negative", where)
	}
	if a.DeliverWithin < 0 {
		return fmt.Errorf("%s: alerts.deliver_within: must not be negative", where)
	}
	seen := map[string]bool{}
	for i := range a.Webhooks {
		w := &a.Webhooks[i]
		key := fmt.Sprintf("alerts.webhooks[%d]", i)
		if w.Format == "" {
			w.Format = alerts.FormatGeneric
		}
		switch w.Format {
		case alerts.FormatSlack, alerts.FormatTeams, alerts.FormatGeneric:
		default:
			return fmt.Errorf("%s: %s.format: %q is not slack, teams or generic", where, key, w.Format)
		}
		if w.Name == "" {
			w.Name = w.Format
		}
		if seen[w.Name] {
			return fmt.Errorf("%s: %s.name: a second webhook named %s (give each a name)", where, key, w.Name)
		}
		seen[w.Name] = true
		if w.URL == "" {
			return fmt.Errorf("%s: %s.url: empty", where, key)
		}
		if !strings.HasPrefix(w.URL, "https://") && !strings.HasPrefix(w.URL, "http://") {
			return fmt.Errorf("%s: %s.url: want an https:// URL (webhook %s)", where, key, w.Name)
		}
		if err := checkTransport(key, "webhook "+w.Name, w.URL, "", w.Insecure, w.TLS, requireZones); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if w.MinSeverity != "" && drift.Severity(w.MinSeverity).Rank() < 0 {
			return fmt.Errorf("%s: %s.min_severity: %q is not info, warning or critical", where, key, w.MinSeverity)
		}
		if w.Timeout < 0 {
			return fmt.Errorf("%s: %s.timeout: must not be negative", where, key)
		}
		for h, env := range w.HeadersEnv {
			if h == "" || strings.ContainsAny(h, " :\r\n") || env == "" {
				return fmt.Errorf("%s: %s.headers_env: want Header-Name: ENV_VAR pairs", where, key)
			}
		}
	}
	return nil
}

func (a *AlertsConfig) drift() drift.Config {
	return drift.Config{Sigma: a.Sigma, MinCount: a.MinCount, MinRatio: a.MinRatio, Warmup: time.Duration(a.Warmup),
		SlotWeeks: a.SlotWeeks, HalfLife: time.Duration(a.HalfLife), SlotHalfLife: time.Duration(a.SlotHalfLife),
		Grace: time.Duration(a.Grace), Drops: a.Drops, MaxSeries: a.MaxSeries}
}

// newAlerts builds the evaluator of `warden serve` (nil when
// alerts.enabled is false): webhooks with their headers and secrets
// read from the environment, reached with the upstreams' TLS rules,
// metrics in reg.
func newAlerts(ctx context.Context, cfg *Config, c *cli, log *slog.Logger, db *store.DB, reg prometheus.Registerer, cs *certSet) (*alerts.Evaluator, error) {
	a := &cfg.Alerts
	if !a.on() {
		return nil, nil
	}
	var hooks []*alerts.Webhook
	for i, w := range a.Webhooks {
		key := fmt.Sprintf("alerts.webhooks[%d]", i)
		h := &alerts.Webhook{Name: w.Name, URL: w.URL, Format: w.Format, Header: http.Header{},
			MinSeverity: drift.Severity(w.MinSeverity), Timeout: time.Duration(w.Timeout)}
		for name, env := range w.HeadersEnv {
			v := c.getenv(env)
			if v == "" {
				return nil, fmt.Errorf("%s.headers_env: %s (for %s) is empty", key, env, name)
			}
			h.Header.Set(name, v)
		}
		if w.SecretEnv != "" {
			v := c.getenv(w.SecretEnv)
			if v == "" {
				return nil, fmt.Errorf("%s.secret_env: %s is empty", key, w.SecretEnv)
			}
			h.Secret = []byte(v)
		}
		tr, err := cs.clientTransport(ctx, key, "webhook:"+w.Name, w.URL, w.TLS)
		if err != nil {
			return nil, err
		}
		if tr != nil {
			h.Client = &http.Client{Transport: tr}
		}
		if w.Insecure {
			insecureWarning(log, key, "webhook "+w.Name, w.URL)
		}
		hooks = append(hooks, h)
	}
	return alerts.New(alerts.Config{
		Store: db, Interval: time.Duration(a.Interval), Drift: a.drift(), Webhooks: hooks,
		MaxAttempts: a.MaxAttempts, DeliverWithin: time.Duration(a.DeliverWithin),
		Log: log, Metrics: alerts.NewMetrics(reg),
	})
}

// alertsRunner runs an evaluator from start until stop.
type alertsRunner struct {
	e      *alerts.Evaluator
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// start runs the evaluator in the background (serve only: `warden mcp
// run` and `warden probe` build the stack without it).
func (r *alertsRunner) start() {
	if r == nil || r.e == nil || r.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.e.Run(ctx)
	}()
}

// stop ends the evaluator (giving up its lease) and waits for it.
func (r *alertsRunner) stop() {
	if r == nil || r.cancel == nil {
		return
	}
	r.cancel()
	r.wg.Wait()
}

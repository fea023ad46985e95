// Package alerts runs Warden's drift and incident detectors (package
// drift) over the audit log and delivers what they find: to webhooks
// (Slack, Teams, generic JSON), as Prometheus metrics, and to the
// console (List, [Evaluator.Alerts]).
//
// It sits beside the request path, not on it. The audit log is the only
// source of truth and holds every replica's traffic, so the evaluator
// tails it: every Interval it reads the entries past its cursor, feeds
// them to the detector, and saves the new cursor, the baselines that
// changed and the alerts raised, with one outbox row per alert and
// webhook, in one transaction (store.go). A second loop sends the
// outbox with retries and backoff (webhook.go), so a slow or failing
// receiver never holds the evaluation up, and an alert is sent at
// least once even across a restart (a crash between sending and
// recording it sends it again: receivers may deduplicate by alert id).
//
// Several replicas on one PostgreSQL store: only the holder of the
// alerts lease (a row, renewed every evaluation, held for three
// intervals by the database's clock) evaluates and delivers; the
// others check every interval and take over once it expires (a replica
// that stops releases it). A versioned save keeps a replica that lost
// the lease without knowing from writing over its successor. On SQLite
// the one process evaluates (another process on the same file would
// share the lease the same way).
package alerts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/drift"
	"github.com/wardenhq/warden/store"
)

// Config configures [New]. The zero value of every field but Store is
// its documented default.
type Config struct {
	// Store holds the audit log and the alerts tables (migration
	// 0070_alerts).
	Store *store.DB
	// Interval is how often the log is read and the outbox sent.
	// Default 10s.
	Interval time.Duration
	// Drift tunes the detectors.
	Drift drift.Config
	// Webhooks receive the alerts.
	Webhooks []*Webhook
	// MaxAttempts bounds the tries of one delivery; after the last the
	// delivery is marked failed (and logged). Tries back off from
	// Interval, doubling up to 15m, or as the receiver's Retry-After
	// says (up to 1h). Default 10 (about 50 minutes at the default
	// interval).
	MaxAttempts int
	// DeliverWithin: alerts raised by entries older than this when read
	// (a first start on a long log, a long outage) are stored and shown
	// but not sent. Default 24h.
	DeliverWithin time.Duration
	// BatchSize bounds the entries read between two saves. Default
	// 10000.
	BatchSize int
	// Now is the evaluator's clock (closing hours, outbox times).
	// Default time.Now.
	Now func() time.Time
	// Log receives a line per alert (names and counts only) and per
	// failure. Default discards.
	Log *slog.Logger
	// Metrics are updated by the replica that evaluates. Default:
	// unregistered.
	Metrics *Metrics
}

// Evaluator tails the audit log, raises alerts and delivers them.
type Evaluator struct {
	cfg    Config
	db     *store.DB
	hooks  map[string]*Webhook
	names  []string
	holder string
	feed   *feed
	log    *slog.Logger
	m      *Metrics

	leader atomic.Bool
	wake   chan struct{}

	evalMu sync.Mutex
	st     *state // nil until loaded, and after a failed save

	deliverMu sync.Mutex
}

// New checks cfg and returns an evaluator; [Evaluator.Run] runs it.
func New(cfg Config) (*Evaluator, error) {
	if cfg.Store == nil {
		return nil, errors.New("alerts: no store")
	}
	if cfg.Interval == 0 {
		cfg.Interval = 10 * time.Second
	}
	if cfg.Interval < 10*time.Millisecond {
		return nil, errors.New("alerts: Interval must be at least 10ms")
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 10
	}
	if cfg.DeliverWithin == 0 {
		cfg.DeliverWithin = 24 * time.Hour
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 10000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	if _, err := drift.New(cfg.Drift); err != nil {
		return nil, err
	}
	e := &Evaluator{cfg: cfg, db: cfg.Store, hooks: map[string]*Webhook{}, feed: newFeed(cfg.Store),
		log: cfg.Log, m: cfg.Metrics, wake: make(chan struct{}, 1)}
	for i, w := range cfg.Webhooks {
		switch {
		case w.Name == "":
			return nil, fmt.Errorf("alerts: webhook %d has no name", i)
		case e.hooks[w.Name] != nil:
			return nil, fmt.Errorf("alerts: two webhooks named %s", w.Name)
		}
		switch w.Format {
		case FormatSlack, FormatTeams, FormatGeneric:
		default:
			return nil, fmt.Errorf("alerts: webhook %s: format %q is not slack, teams or generic", w.Name, w.Format)
		}
		if w.MinSeverity == "" {
			w.MinSeverity = drift.Info
		}
		if w.MinSeverity.Rank() < 0 {
			return nil, fmt.Errorf("alerts: webhook %s: min_severity %q is not info, warning or critical", w.Name, w.MinSeverity)
		}
		if w.Timeout == 0 {
			w.Timeout = 5 * time.Second
		}
		if w.Client == nil {
			w.Client = &http.Client{Transport: &http.Transport{Proxy: nil, ForceAttemptHTTP2: true}}
		}
		e.hooks[w.Name] = w
		e.names = append(e.names, w.Name)
	}
	var b [8]byte
	rand.Read(b[:])
	e.holder = hex.EncodeToString(b[:])
	return e, nil
}

// leaseTerms is how many intervals a lease lasts, and minLease its
// shortest term (a short interval must not have replicas trade the
// lease on every slow pass).
const (
	leaseTerms = 3
	minLease   = 5 * time.Second
)

// Run evaluates and delivers every Interval until ctx ends, then gives
// up the lease.
func (e *Evaluator) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		e.deliverLoop(ctx)
	}()
	t := time.NewTicker(e.cfg.Interval)
	defer t.Stop()
	for {
		if n, err := e.Evaluate(ctx); err != nil && ctx.Err() == nil {
			e.log.Warn("alerts: evaluation failed; retrying next interval", "error", err.Error())
		} else if n > 0 {
			select {
			case e.wake <- struct{}{}:
			default:
			}
		}
		select {
		case <-ctx.Done():
			wg.Wait()
			rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			e.Release(rctx)
			cancel()
			return
		case <-t.C:
		}
	}
}

func (e *Evaluator) deliverLoop(ctx context.Context) {
	t := time.NewTicker(e.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-e.wake:
		}
		if _, err := e.Deliver(ctx); err != nil && ctx.Err() == nil {
			e.log.Warn("alerts: delivery pass failed", "error", err.Error())
		}
	}
}

// Release gives the lease up (when held), so another replica takes
// over at its next interval. Run calls it when it stops.
func (e *Evaluator) Release(ctx context.Context) {
	e.evalMu.Lock()
	defer e.evalMu.Unlock()
	if e.leader.Swap(false) {
		if err := releaseLease(ctx, e.db, e.holder); err != nil {
			e.log.Warn("alerts: could not release the evaluator lease; another replica takes over when it expires", "error", store.Scrub(err).Error())
		}
	}
	e.m.leader.Set(0)
	e.st = nil
}

// leaseTTL is how long a lease lasts: leaseTerms intervals, at least
// minLease.
func (e *Evaluator) leaseTTL() time.Duration { return max(leaseTerms*e.cfg.Interval, minLease) }

// Leader reports whether this evaluator holds the lease (as of its last
// evaluation).
func (e *Evaluator) Leader() bool { return e.leader.Load() }

var errBatchFull = errors.New("batch full")

// Evaluate takes (or renews) the lease and, holding it, reads the audit
// entries past the cursor, runs the detectors and saves what they
// learnt and raised. It returns the number of alerts raised. Without
// the lease it does nothing.
func (e *Evaluator) Evaluate(ctx context.Context) (int, error) {
	e.evalMu.Lock()
	defer e.evalMu.Unlock()
	raisedN := 0
	for {
		ok, err := takeLease(ctx, e.db, e.holder, e.leaseTTL())
		if err != nil {
			return raisedN, err
		}
		if !ok {
			if e.leader.Swap(false) {
				e.log.Info("alerts: another replica holds the evaluator lease; standing by")
			}
			e.m.leader.Set(0)
			e.st = nil
			return raisedN, nil
		}
		if !e.leader.Swap(true) {
			e.log.Info("alerts: this replica evaluates alerts (holds the lease)")
			e.st = nil
		}
		e.m.leader.Set(1)
		if e.st == nil {
			st, err := loadState(ctx, e.db, e.cfg.Drift)
			if err != nil {
				return raisedN, err
			}
			e.st = st
			e.feed.reset()
		}
		n, full, err := e.evaluateBatch(ctx)
		raisedN += n
		if err != nil {
			e.st = nil
			if errors.Is(err, errStale) {
				e.log.Warn("alerts: the saved state moved on (another replica evaluated); reloading")
				continue
			}
			return raisedN, err
		}
		if !full {
			break
		}
	}
	if size, err := audit.Size(ctx, e.db); err == nil && e.st != nil {
		e.m.lag.Set(float64(max(0, size-e.st.cursor)))
	}
	e.m.evaluated.Set(float64(e.cfg.Now().Unix()))
	return raisedN, nil
}

// evaluateBatch reads up to BatchSize entries and saves the outcome. It
// reports whether the batch was full (more may follow).
func (e *Evaluator) evaluateBatch(ctx context.Context) (int, bool, error) {
	st := e.st
	next, read := st.cursor, 0
	err := audit.Entries(ctx, e.db, st.cursor, func(idx int64, raw []byte) error {
		ev, ok, err := e.feed.event(ctx, idx, raw)
		switch {
		case errors.Is(err, errNotEntry):
			e.log.Warn("alerts: skipping an audit entry that is not of a known form", "index", idx)
		case err != nil:
			return err
		case ok:
			st.det.Observe(ev)
		}
		next, read = idx+1, read+1
		if read >= e.cfg.BatchSize {
			return errBatchFull
		}
		return nil
	})
	if err != nil && !errors.Is(err, errBatchFull) {
		return 0, false, fmt.Errorf("alerts: read the audit log: %w", store.Scrub(err))
	}
	now := e.cfg.Now()
	found := st.det.Advance(now)
	out := make([]*raised, 0, len(found))
	for _, a := range found {
		r := &raised{a: a, message: a.Message()}
		if now.Sub(a.Time) <= e.cfg.DeliverWithin {
			for _, name := range e.names {
				if e.hooks[name].wants(string(a.Severity)) {
					r.targets = append(r.targets, name)
				}
			}
		}
		out = append(out, r)
	}
	if err := save(ctx, e.db, st, next, st.det.Changes(), out, now); err != nil {
		return 0, false, err
	}
	st.cursor = next
	e.m.cursor.Set(float64(next))
	e.m.stats(st.det.Stats())
	for _, r := range out {
		a := r.a
		e.m.alerts.WithLabelValues(string(a.Kind), string(a.Severity)).Inc()
		attrs := []any{"id", r.id, "kind", string(a.Kind), "severity", string(a.Severity), "principal", a.Principal,
			"model", a.Model, "type", a.Type, "value", a.Value, "baseline", a.Baseline, "audit_index", a.Index}
		if a.Server != "" {
			attrs = append(attrs, "server", a.Server, "tool", a.Tool)
		}
		if len(r.targets) == 0 && len(e.names) > 0 && now.Sub(a.Time) > e.cfg.DeliverWithin {
			attrs = append(attrs, "sent", "no: raised by an entry older than alerts.deliver_within")
		}
		e.log.Warn("alert", attrs...)
	}
	return len(out), read >= e.cfg.BatchSize, nil
}

// Deliver sends the outbox's due deliveries once each. Without the
// lease it does nothing. It returns how many were delivered.
func (e *Evaluator) Deliver(ctx context.Context) (int, error) {
	e.deliverMu.Lock()
	defer e.deliverMu.Unlock()
	if !e.leader.Load() || len(e.names) == 0 {
		return 0, nil
	}
	done := 0
	for range 10 { // at most 10 pages per pass
		now := e.cfg.Now()
		ds, err := dueDeliveries(ctx, e.db, now, e.names, 100)
		if err != nil {
			return done, err
		}
		for _, d := range ds {
			if ctx.Err() != nil {
				return done, ctx.Err()
			}
			w := e.hooks[d.target]
			// A send that started finishes and is recorded even when the
			// evaluator stops meanwhile (bounded by the webhook's
			// timeout): a delivery recorded as pending after the receiver
			// got it would be sent again by the next leader.
			dctx := context.WithoutCancel(ctx)
			res, status, wait, err := w.send(dctx, d.alert, e.cfg.Now())
			attempts := d.attempts + 1
			now := e.cfg.Now()
			state, next := stateDelivered, now
			switch res {
			case delivered:
				done++
				e.m.deliveries.WithLabelValues(w.Name, "delivered").Inc()
			case retry:
				if attempts >= e.cfg.MaxAttempts {
					state = stateFailed
					e.m.deliveries.WithLabelValues(w.Name, "failed").Inc()
					e.log.Warn("alerts: webhook delivery failed for good", "webhook", w.Name, "alert", d.alert.ID, "attempts", attempts, "error", err.Error())
				} else {
					state, next = statePending, now.Add(e.backoff(attempts, wait))
					e.m.deliveries.WithLabelValues(w.Name, "retry").Inc()
					e.log.Info("alerts: webhook delivery will be retried", "webhook", w.Name, "alert", d.alert.ID, "attempts", attempts,
						"retry_at", next.UTC().Format(time.RFC3339), "error", err.Error())
				}
			case refused:
				state = stateFailed
				e.m.deliveries.WithLabelValues(w.Name, "failed").Inc()
				e.log.Warn("alerts: webhook refused the alert", "webhook", w.Name, "alert", d.alert.ID, "error", err.Error())
			}
			mctx, cancel := context.WithTimeout(dctx, 10*time.Second)
			err = markDelivery(mctx, e.db, d.alert.ID, d.target, state, attempts, status, next, now)
			cancel()
			if err != nil {
				return done, err
			}
		}
		if len(ds) < 100 {
			break
		}
	}
	return done, nil
}

// backoff is the wait before try attempts+1: Interval doubled per try
// up to 15m, or the receiver's Retry-After (up to 1h) when longer.
func (e *Evaluator) backoff(attempts int, retryAfter time.Duration) time.Duration {
	d := e.cfg.Interval
	for i := 1; i < attempts && d < 15*time.Minute; i++ {
		d *= 2
	}
	d = min(d, 15*time.Minute)
	return max(d, min(retryAfter, time.Hour))
}

// Alerts returns the alerts raised by entries written since since,
// newest first, at most limit: the console's AlertSource.
func (e *Evaluator) Alerts(ctx context.Context, since time.Time, limit int) ([]Alert, error) {
	return List(ctx, e.db, since, limit)
}

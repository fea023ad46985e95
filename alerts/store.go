package alerts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wardenhq/warden/drift"
	"github.com/wardenhq/warden/store"
)

// Persistence (tables of migration 0070_alerts).
//
// alerts_state holds the cursor (the next audit index to read), the
// detector's global record and a version; drift_series one row per
// series; alerts the alerts raised; alert_deliveries the webhook
// outbox. An evaluation saves everything it changed in one transaction
// that also bumps the version, conditioned on the version it loaded: an
// evaluator that lost its lease (or never had it) cannot overwrite the
// state a newer one saved, and the cursor never moves without the
// alerts and baselines of the entries it passed. After a restart the
// evaluator loads exactly what was committed: nothing is raised twice
// and nothing learnt is lost.
//
// alerts_lease says which replica evaluates. It is held for
// leaseTerms × Interval and renewed by every evaluation; another replica
// takes it once it has expired, by the database's clock (so the
// replicas' clocks need not agree).

// errStale reports that the saved state moved on since it was loaded.
var errStale = errors.New("alerts: the evaluator's state was saved by another replica")

// nowMS is the SQL expression of the database clock in Unix ms.
func nowMS(db *store.DB) string {
	if db.Engine() == store.SQLite {
		return "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"
	}
	return "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
}

// takeLease takes or renews the lease for holder for ttl; it reports
// whether holder has it.
func takeLease(ctx context.Context, db *store.DB, holder string, ttl time.Duration) (bool, error) {
	now := nowMS(db)
	var n int64
	err := db.Write(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, "UPDATE alerts_lease SET holder = $1, expires_at = "+now+" + $2 WHERE id = 1 AND (holder = $1 OR expires_at < "+now+")",
			holder, ttl.Milliseconds())
		if err != nil {
			return err
		}
		n, err = r.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("alerts: lease: %w", store.Scrub(err))
	}
	return n == 1, nil
}

// releaseLease gives the lease up, so another replica takes over at
// once.
func releaseLease(ctx context.Context, db *store.DB, holder string) error {
	return db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE alerts_lease SET expires_at = 0 WHERE id = 1 AND holder = $1", holder)
		return err
	})
}

// state is what an evaluator loaded.
type state struct {
	version int64
	cursor  int64
	det     *drift.Detector
}

// loadState reads the saved state and rebuilds the detector.
func loadState(ctx context.Context, db *store.DB, cfg drift.Config) (*state, error) {
	st := &state{}
	var global []byte
	if err := db.Read().QueryRowContext(ctx, "SELECT version, cursor, detector FROM alerts_state WHERE id = 1").Scan(&st.version, &st.cursor, &global); err != nil {
		return nil, fmt.Errorf("alerts: load state: %w", store.Scrub(err))
	}
	rows, err := db.Read().QueryContext(ctx, "SELECT kind, principal, model, type, state FROM drift_series")
	if err != nil {
		return nil, fmt.Errorf("alerts: load baselines: %w", store.Scrub(err))
	}
	defer rows.Close()
	var recs []drift.SeriesRecord
	for rows.Next() {
		var r drift.SeriesRecord
		var kind string
		if err := rows.Scan(&kind, &r.Key.Principal, &r.Key.Model, &r.Key.Type, &r.Data); err != nil {
			return nil, fmt.Errorf("alerts: load baselines: %w", store.Scrub(err))
		}
		r.Key.Kind = drift.SeriesKind(kind)
		recs = append(recs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("alerts: load baselines: %w", store.Scrub(err))
	}
	st.det, err = drift.Restore(cfg, global, recs)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	return st, nil
}

// raised is an alert about to be saved, with the webhooks it goes to.
type raised struct {
	a       drift.Alert
	message string
	targets []string
	id      int64 // set by save
}

// save commits one evaluation: the new cursor, the detector's changes
// and the alerts raised with their deliveries, if the state is still
// at st.version; it then bumps st.version.
func save(ctx context.Context, db *store.DB, st *state, cursor int64, ch drift.Changes, as []*raised, now time.Time) error {
	err := db.Write(ctx, func(tx *sql.Tx) error {
		q, args := "UPDATE alerts_state SET version = $1, cursor = $2, updated_at = $3 WHERE id = 1 AND version = $4",
			[]any{st.version + 1, cursor, now.UnixMilli(), st.version}
		if ch.Global != nil {
			q = "UPDATE alerts_state SET version = $1, cursor = $2, updated_at = $3, detector = $5 WHERE id = 1 AND version = $4"
			args = append(args, ch.Global)
		}
		r, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		if n, err := r.RowsAffected(); err != nil || n != 1 {
			return errors.Join(errStale, err)
		}
		if len(ch.Series) > 0 {
			up, err := tx.PrepareContext(ctx, `INSERT INTO drift_series (kind, principal, model, type, state) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (kind, principal, model, type) DO UPDATE SET state = excluded.state`)
			if err != nil {
				return err
			}
			defer up.Close()
			for _, s := range ch.Series {
				if _, err := up.ExecContext(ctx, string(s.Key.Kind), s.Key.Principal, s.Key.Model, s.Key.Type, s.Data); err != nil {
					return err
				}
			}
		}
		for _, x := range as {
			a := x.a
			bucket := int64(0)
			if !a.Bucket.IsZero() {
				bucket = a.Bucket.UnixMilli()
			}
			if err := tx.QueryRowContext(ctx, `INSERT INTO alerts (created_at, event_at, entry_idx, kind, severity, principal, model, type,
				server, tool, hash, value, baseline, sigma, bucket, message)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id`,
				now.UnixMilli(), a.Time.UnixMilli(), a.Index, string(a.Kind), string(a.Severity), a.Principal, a.Model, a.Type,
				a.Server, a.Tool, a.Hash, a.Value, a.Baseline, a.Sigma, bucket, x.message).Scan(&x.id); err != nil {
				return err
			}
			for _, t := range x.targets {
				if _, err := tx.ExecContext(ctx, `INSERT INTO alert_deliveries (alert_id, target, state, attempts, next_at, last_status, done_at)
					VALUES ($1, $2, 'pending', 0, $3, 0, 0)`, x.id, t, now.UnixMilli()); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if errors.Is(err, errStale) {
		return errStale
	}
	if err != nil {
		return fmt.Errorf("alerts: save: %w", store.Scrub(err))
	}
	st.version++
	return nil
}

// Alert is an alert as the console and the generic webhook show it
// (the console contract: GET /console/api/alerts).
type Alert struct {
	// ID numbers alerts in the order they were raised.
	ID int64 `json:"id"`
	// Time is when the audit entry that raised it was written.
	Time     time.Time `json:"time"`
	Kind     string    `json:"kind"`
	Severity string    `json:"severity"`
	Subject  Subject   `json:"subject"`
	Message  string    `json:"message"`
	// Value is what was observed (an hour's count, leaks …); Baseline
	// what was expected (0 for detectors without one).
	Value    float64 `json:"value"`
	Baseline float64 `json:"baseline"`
	// Sigma is the spread around Baseline, in counts.
	Sigma float64 `json:"sigma"`
	// Bucket is the hour counted, for rate alerts.
	Bucket *time.Time `json:"bucket,omitempty"`
	// AuditIndex is the index of the entry that raised it (-1: none, a
	// drop raised by an hour's end).
	AuditIndex int64 `json:"audit_index"`
}

// Subject names what an alert is about.
type Subject struct {
	Principal string `json:"principal"`
	Model     string `json:"model"`
	// Type is the finding type of rate and new-type alerts.
	Type string `json:"type"`
	// Server and Tool name the MCP tool of tool alerts; Hash its refused
	// definition.
	Server string `json:"server,omitempty"`
	Tool   string `json:"tool,omitempty"`
	Hash   string `json:"hash,omitempty"`
}

const alertColumns = "id, event_at, kind, severity, principal, model, type, server, tool, hash, value, baseline, sigma, bucket, entry_idx, message"

func scanAlert(sc interface{ Scan(...any) error }) (Alert, error) {
	var a Alert
	var at, bucket int64
	err := sc.Scan(&a.ID, &at, &a.Kind, &a.Severity, &a.Subject.Principal, &a.Subject.Model, &a.Subject.Type,
		&a.Subject.Server, &a.Subject.Tool, &a.Subject.Hash, &a.Value, &a.Baseline, &a.Sigma, &bucket, &a.AuditIndex, &a.Message)
	a.Time = time.UnixMilli(at).UTC()
	if bucket != 0 {
		b := time.UnixMilli(bucket).UTC()
		a.Bucket = &b
	}
	return a, err
}

// List returns the alerts raised by entries written since since, newest
// first, at most limit (default 100, at most 1000). Any replica answers
// it: alerts are in the store.
func List(ctx context.Context, db *store.DB, since time.Time, limit int) ([]Alert, error) {
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	rows, err := db.Read().QueryContext(ctx, "SELECT "+alertColumns+" FROM alerts WHERE event_at >= $1 ORDER BY event_at DESC, id DESC LIMIT $2",
		since.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("alerts: list: %w", store.Scrub(err))
	}
	defer rows.Close()
	out := []Alert{}
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("alerts: list: %w", store.Scrub(err))
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("alerts: list: %w", store.Scrub(err))
	}
	return out, nil
}

// delivery is one due row of the outbox.
type delivery struct {
	alert    Alert
	target   string
	attempts int
}

// dueDeliveries returns up to limit pending deliveries to targets whose
// time has come, oldest alert first. Rows of webhooks no longer
// configured stay pending.
func dueDeliveries(ctx context.Context, db *store.DB, now time.Time, targets []string, limit int) ([]delivery, error) {
	args := []any{now.UnixMilli()}
	for _, t := range targets {
		args = append(args, t)
	}
	args = append(args, limit)
	rows, err := db.Read().QueryContext(ctx, `SELECT d.target, d.attempts, a.`+strings.ReplaceAll(alertColumns, ", ", ", a.")+`
		FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id
		WHERE d.state = 'pending' AND d.next_at <= $1 AND d.target IN (`+db.Params(2, len(targets))+`)
		ORDER BY d.alert_id, d.target LIMIT $`+strconv.Itoa(len(targets)+2), args...)
	if err != nil {
		return nil, fmt.Errorf("alerts: read outbox: %w", store.Scrub(err))
	}
	defer rows.Close()
	var out []delivery
	for rows.Next() {
		var d delivery
		a, err := scanAlert(scanPrefix{rows, []any{&d.target, &d.attempts}})
		if err != nil {
			return nil, fmt.Errorf("alerts: read outbox: %w", store.Scrub(err))
		}
		d.alert = a
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("alerts: read outbox: %w", store.Scrub(err))
	}
	return out, nil
}

// scanPrefix scans dst first, then what the caller scans.
type scanPrefix struct {
	rows *sql.Rows
	dst  []any
}

func (s scanPrefix) Scan(dst ...any) error { return s.rows.Scan(append(s.dst, dst...)...) }

// Delivery states.
const (
	statePending   = "pending"
	stateDelivered = "delivered"
	stateFailed    = "failed"
)

// markDelivery records an attempt's outcome: delivered, failed for
// good, or pending again at next.
func markDelivery(ctx context.Context, db *store.DB, alertID int64, target, st string, attempts, status int, next, now time.Time) error {
	done := int64(0)
	if st != statePending {
		done = now.UnixMilli()
	}
	err := db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE alert_deliveries SET state = $1, attempts = $2, last_status = $3, next_at = $4, done_at = $5
			WHERE alert_id = $6 AND target = $7`, st, attempts, status, next.UnixMilli(), done, alertID, target)
		return err
	})
	if err != nil {
		return fmt.Errorf("alerts: record delivery: %w", store.Scrub(err))
	}
	return nil
}

package alerts

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wardenhq/warden/drift"
)

// Metrics are the evaluator's Prometheus metrics. Every label has a
// bounded set of values: kind and severity are drift's fixed lists,
// webhook the configured names, result one of three words, series kind
// findings or refusals. No principal, model or finding type is a label:
// per-series numbers stay in the store and the console.
type Metrics struct {
	alerts     *prometheus.CounterVec
	deliveries *prometheus.CounterVec
	series     *prometheus.GaugeVec
	departure  *prometheus.GaugeVec
	active     *prometheus.GaugeVec
	dropped    prometheus.Gauge
	leader     prometheus.Gauge
	cursor     prometheus.Gauge
	lag        prometheus.Gauge
	evaluated  prometheus.Gauge
}

// NewMetrics registers the evaluator's metrics in reg (none when nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "warden_alerts_total",
			Help: "Alerts raised by the drift and incident detectors (on the replica that evaluates), by kind and severity."}, []string{"kind", "severity"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "warden_alert_deliveries_total",
			Help: "Webhook delivery attempts by webhook and result (delivered, retry, failed)."}, []string{"webhook", "result"}),
		series: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "warden_drift_series",
			Help: "Drift series tracked, by kind (findings: principal × model × finding type; refusals: principal)."}, []string{"kind"}),
		departure: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "warden_drift_rate_departure",
			Help: "Largest departure of a series' count this hour from its baseline, in spreads (z; alerts fire at alerts.sigma), by kind."}, []string{"kind"}),
		active: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "warden_drift_active",
			Help: "Series whose count this hour is above their alert threshold, by kind."}, []string{"kind"}),
		dropped: prometheus.NewGauge(prometheus.GaugeOpts{Name: "warden_drift_series_dropped",
			Help: "New series not tracked because alerts.max_series was reached."}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{Name: "warden_alerts_leader",
			Help: "1 while this replica holds the evaluator lease (evaluates and delivers), else 0."}),
		cursor: prometheus.NewGauge(prometheus.GaugeOpts{Name: "warden_alerts_cursor",
			Help: "The next audit index the evaluator reads."}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{Name: "warden_alerts_lag_entries",
			Help: "Audit entries written but not yet evaluated."}),
		evaluated: prometheus.NewGauge(prometheus.GaugeOpts{Name: "warden_alerts_last_evaluation_timestamp_seconds",
			Help: "When this replica last finished an evaluation (Unix seconds)."}),
	}
	for _, k := range drift.Kinds() {
		for _, s := range drift.Severities() {
			m.alerts.WithLabelValues(string(k), string(s))
		}
	}
	for _, k := range []drift.SeriesKind{drift.Findings, drift.Refusals} {
		m.series.WithLabelValues(string(k))
		m.departure.WithLabelValues(string(k))
		m.active.WithLabelValues(string(k))
	}
	if reg != nil {
		reg.MustRegister(m.alerts, m.deliveries, m.series, m.departure, m.active, m.dropped, m.leader, m.cursor, m.lag, m.evaluated)
	}
	return m
}

func (m *Metrics) stats(st drift.Stats) {
	for _, k := range []drift.SeriesKind{drift.Findings, drift.Refusals} {
		m.series.WithLabelValues(string(k)).Set(float64(st.Series[k]))
		m.departure.WithLabelValues(string(k)).Set(st.MaxDeparture[k])
		m.active.WithLabelValues(string(k)).Set(float64(st.Active[k]))
	}
	m.dropped.Set(float64(st.Dropped))
}

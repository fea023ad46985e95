package gateway

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the gateway's Prometheus metrics. Labels never carry
// content: endpoint, model (only models that reached an upstream; others
// are "other"), status and finding type.
type Metrics struct {
	reg           *prometheus.Registry
	requests      *prometheus.CounterVec
	overhead      *prometheus.HistogramVec
	upstream      *prometheus.HistogramVec
	findings      *prometheus.CounterVec
	blocked       *prometheus.CounterVec
	rateLimited   *prometheus.CounterVec
	restores      prometheus.Counter
	leaks         prometheus.Counter
	neutralised   prometheus.Counter
	holdBack      prometheus.Histogram
	streamErrors  prometheus.Counter
	auditFailures prometheus.Counter
	limiterUp     prometheus.Gauge
	certExpiry    *prometheus.GaugeVec
}

// NewMetrics registers the gateway's metrics in reg (a new registry when
// nil).
func NewMetrics(reg *prometheus.Registry) *Metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "warden_requests_total",
			Help: "Gateway requests by endpoint, model and HTTP status."}, []string{"endpoint", "model", "status"}),
		overhead: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "warden_gateway_overhead_seconds",
			Help:    "Time the gateway adds to a request (total minus upstream time).",
			Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5}}, []string{"endpoint"}),
		upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "warden_upstream_seconds",
			Help: "Upstream time per request.", Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12)}, []string{"endpoint"}),
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "warden_findings_total",
			Help: "Sensitive values found in requests, by type."}, []string{"type"}),
		blocked: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "warden_blocked_total",
			Help: "Requests refused by policy."}, []string{"model"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "warden_rate_limited_total",
			Help: "Requests refused by rate limits."}, []string{"model"}),
		restores:      prometheus.NewCounter(prometheus.CounterOpts{Name: "warden_restores_total", Help: "Tokens restored in responses."}),
		leaks:         prometheus.NewCounter(prometheus.CounterOpts{Name: "warden_response_leaks_total", Help: "Sensitive values in model output that were not in the request, rewritten."}),
		neutralised:   prometheus.NewCounter(prometheus.CounterOpts{Name: "warden_links_neutralised_total", Help: "Markdown links and images in model and MCP answers whose URL carried a sensitive value or a token, replaced."}),
		holdBack:      prometheus.NewHistogram(prometheus.HistogramOpts{Name: "warden_stream_holdback_bytes", Help: "Bytes held back by the stream guard after each delta.", Buckets: []float64{0, 8, 16, 32, 64, 128, 256, 512}}),
		streamErrors:  prometheus.NewCounter(prometheus.CounterOpts{Name: "warden_stream_errors_total", Help: "Streams ended by the gateway because the upstream stream was malformed or could not be guarded."}),
		auditFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "warden_audit_failures_total", Help: "Requests whose audit record could not be written."}),
		limiterUp:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "warden_rate_limiter_up", Help: "1 while the rate limiter answers, 0 while it does not (requests are refused with 503)."}),
		certExpiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "warden_tls_certificate_expiry_seconds",
			Help: "When each configured certificate expires (its NotAfter, Unix seconds), by use: server, upstream:NAME or mcp:NAME."}, []string{"use"}),
	}
	m.limiterUp.Set(1)
	reg.MustRegister(m.requests, m.overhead, m.upstream, m.findings, m.blocked, m.rateLimited, m.restores, m.leaks, m.neutralised, m.holdBack, m.streamErrors, m.auditFailures, m.limiterUp, m.certExpiry,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// CertificateExpiry records when the certificate in use for use
// (server, upstream:NAME, mcp:NAME) expires; set again after each reload.
func (m *Metrics) CertificateExpiry(use string, notAfter time.Time) {
	m.certExpiry.WithLabelValues(use).Set(float64(notAfter.Unix()))
}

func (m *Metrics) observe(endpoint, model string, status int, overhead, upstream time.Duration) {
	m.requests.WithLabelValues(endpoint, model, strconv.Itoa(status)).Inc()
	m.overhead.WithLabelValues(endpoint).Observe(overhead.Seconds())
	if upstream > 0 {
		m.upstream.WithLabelValues(endpoint).Observe(upstream.Seconds())
	}
}

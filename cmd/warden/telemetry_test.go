package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

func TestTelemetryConfig(t *testing.T) {
	cases := []struct {
		name    string
		yaml    string
		env     map[string]string
		url     string // "" means traces off
		ratio   float64
		service string
		err     string // substring of the error; "" means none
	}{
		{name: "off by default", ratio: 1, service: "warden"},
		{name: "endpoint is a base URL", yaml: "telemetry:\n  traces:\n    endpoint: http://collector:4318/\n    sample_ratio: 0.25\n    service_name: gw-eu",
			url: "http://collector:4318/v1/traces", ratio: 0.25, service: "gw-eu"},
		{name: "endpoint already naming the traces path", yaml: "telemetry:\n  traces:\n    endpoint: https://otel.example.com/v1/traces",
			url: "https://otel.example.com/v1/traces", ratio: 1, service: "warden"},
		{name: "general variable is a base URL", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SERVICE_NAME": "edge"},
			url: "http://c:4318/v1/traces", ratio: 1, service: "edge"},
		{name: "traces variable is the full URL and wins", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t:9999/custom"},
			url: "http://t:9999/custom", ratio: 1, service: "warden"},
		{name: "config wins over the environment", yaml: "telemetry:\n  traces:\n    endpoint: http://cfg:4318", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://env:4318"},
			url: "http://cfg:4318/v1/traces", ratio: 1, service: "warden"},
		{name: "endpoint not a URL", yaml: "telemetry:\n  traces:\n    endpoint: collector:4318", err: "telemetry.traces.endpoint: want the http:// or https:// URL"},
		{name: "bad variable named", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "grpc://c:4317"}, err: "OTEL_EXPORTER_OTLP_ENDPOINT: want"},
		{name: "ratio above one", yaml: "telemetry:\n  traces:\n    endpoint: http://c:4318\n    sample_ratio: 1.5", err: "telemetry.traces.sample_ratio: want a number between 0 and 1"},
		{name: "ratio negative", yaml: "telemetry:\n  traces:\n    sample_ratio: -0.1", err: "telemetry.traces.sample_ratio"},
		{name: "unknown key refused", yaml: "telemetry:\n  traces:\n    endpoit: http://c:4318", err: "endpoit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "warden.yaml")
			if err := os.WriteFile(path, []byte(c.yaml+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := loadConfig(path, func(k string) string { return c.env[k] })
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tr := cfg.Telemetry.Traces
			if tr.url != c.url || tr.SampleRatio != c.ratio || tr.ServiceName != c.service {
				t.Fatalf("url %q ratio %v service %q; want %q %v %q", tr.url, tr.SampleRatio, tr.ServiceName, c.url, c.ratio, c.service)
			}
		})
	}
}

// otlpReceiver is an OTLP/HTTP collector that keeps every request body
// POSTed to /v1/traces.
type otlpReceiver struct {
	mu     sync.Mutex
	bodies [][]byte
	other  []string // requests to any other path
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	o.mu.Lock()
	defer o.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		o.other = append(o.other, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type"))
		http.NotFound(w, r)
		return
	}
	o.bodies = append(o.bodies, body)
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

// `warden serve` with telemetry.traces sends its spans to the collector
// over OTLP/HTTP when it stops, and nothing in them is content: not the
// prompt's values, the caller's key or a vault token.
func TestServeExportsTracesWithoutContent(t *testing.T) {
	recv := &otlpReceiver{}
	col := httptest.NewServer(recv)
	defer col.Close()
	gw, key, closeAll := newServeStack(t, "telemetry:\n  traces:\n    endpoint: "+col.URL+"\n")
	closed := false
	defer func() {
		if !closed {
			closeAll()
		}
	}()

	const (
		email = "jane.canary@example.com"
		ssn   = "457-55-5462"
		card  = "4111 1111 1111 1111"
	)
	content := "Email " + email + " about SSN " + ssn + " and card " + card + " please."
	canaries := []string{email, "jane.canary", ssn, card, "4111111111111111", key, "[[", "⟦", "please"}
	tokenRE := regexp.MustCompile(`⟦[A-Z_]+:([0-9A-Z]+)⟧`)
	for _, stream := range []bool{false, true} {
		body, _ := json.Marshal(map[string]any{"model": "gpt-4o-mini", "stream": stream,
			"messages": []any{map[string]any{"role": "user", "content": content}}})
		req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		w := httptest.NewRecorder()
		gw.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("stream=%v: status %d: %s", stream, w.Code, w.Body.String())
		}
		// The echo upstream shows the tokens it received; they must not
		// be exported either.
		for _, m := range tokenRE.FindAllStringSubmatch(w.Body.String(), -1) {
			canaries = append(canaries, m[1])
		}
	}
	if len(canaries) < 8 {
		t.Fatalf("echo showed no tokens; canaries %q", canaries)
	}
	closeAll() // as serve does on stop: flushes the queued spans
	closed = true

	recv.mu.Lock()
	defer recv.mu.Unlock()
	if len(recv.other) > 0 {
		t.Fatalf("unexpected requests at the collector: %q", recv.other)
	}
	if len(recv.bodies) == 0 {
		t.Fatal("no spans reached the collector")
	}
	var servers []*tracepb.Span
	var service string
	for _, raw := range recv.bodies {
		for _, c := range canaries {
			if bytes.Contains(raw, []byte(c)) {
				t.Errorf("export carries %q", c)
			}
		}
		var msg collectortrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(raw, &msg); err != nil {
			t.Fatalf("export is not an OTLP ExportTraceServiceRequest: %v", err)
		}
		for _, rs := range msg.ResourceSpans {
			for _, kv := range rs.GetResource().GetAttributes() {
				if kv.Key == "service.name" {
					service = kv.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					if s.Kind == tracepb.Span_SPAN_KIND_SERVER {
						servers = append(servers, s)
					}
				}
			}
		}
	}
	if service != "warden" {
		t.Errorf("service.name = %q", service)
	}
	if len(servers) != 2 {
		t.Fatalf("%d server spans exported, want 2", len(servers))
	}
	for _, s := range servers {
		a := map[string]string{}
		for _, kv := range s.Attributes {
			v := kv.GetValue()
			if _, isInt := v.GetValue().(*commonpb.AnyValue_IntValue); isInt {
				a[kv.Key] = strconv.FormatInt(v.GetIntValue(), 10)
			} else {
				a[kv.Key] = v.GetStringValue()
			}
		}
		if s.Name != "chat gpt-4o-mini" || a["gen_ai.operation.name"] != "chat" || a["warden.decision"] != "deidentify" ||
			a["warden.findings"] != "3" || a["warden.principal"] != "bench" || a["warden.audit.index"] == "" {
			t.Errorf("server span %q attributes: %v", s.Name, a)
		}
	}
}

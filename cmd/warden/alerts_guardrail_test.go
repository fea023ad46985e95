package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// guardrailStack is `warden serve`'s stack (buildStack) with its spans
// going to an in-memory exporter.
func guardrailStack(t *testing.T, on bool) (http.Handler, string, *tracetest.InMemoryExporter) {
	t.Helper()
	up := leakUpstream(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "warden.yaml")
	y := fmt.Sprintf("data_dir: %s\nupstreams:\n  - name: up\n    url: %s/v1\n    models: [gpt-4o-mini]\ntelemetry:\n  genai_guardrails: %v\n",
		filepath.Join(dir, "data"), up.URL, on)
	if err := os.WriteFile(cfgPath, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := apikeyRun(t, "create", "--config", cfgPath, "--name", "dana", "--models", "gpt-4o-mini")
	if code != exitOK {
		t.Fatalf("apikey create: %s", errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	cfg, err := loadConfig(cfgPath, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	exp := tracetest.NewInMemoryExporter()
	cfg.Telemetry.Traces.exporter = exp
	c := &cli{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, getenv: func(string) string { return "" }}
	st, err := buildStack(context.Background(), cfg, c, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.close)
	return st.gw, lines[len(lines)-1], exp
}

func attrMap(kvs []attribute.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.String()
	}
	return m
}

// With telemetry.genai_guardrails, each traced request carries the
// OpenTelemetry GenAI guardrail conventions — an apply_guardrail span
// with the decision and a gen_ai.guardrail.result event per finding
// type, and the response guard's leaks on the server span — and none of
// it is a value: not the e-mail, the SSN, the card the model leaked,
// the prompt or the key. Without the setting there is none of it.
func TestGenAIGuardrailSpansCarryNamesNotValues(t *testing.T) {
	const (
		email = "dana.canary@example.org"
		ssn   = "536-22-4817"
	)
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprintf("genai_guardrails=%v", on), func(t *testing.T) {
			gw, key, exp := guardrailStack(t, on)
			for _, content := range []string{"Write to " + email + " about SSN " + ssn + " please.", "LEAKME: which card?"} {
				body, _ := json.Marshal(map[string]any{"model": "gpt-4o-mini", "messages": []any{map[string]any{"role": "user", "content": content}}})
				req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				w := httptest.NewRecorder()
				gw.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					t.Fatalf("status %d: %s", w.Code, w.Body.String())
				}
			}
			spans := exp.GetSpans()
			var guard []tracetest.SpanStub
			var outputs []map[string]string
			dump, _ := json.Marshal(spans)
			for _, c := range []string{email, "dana.canary", ssn, alertCard, "4539148803436467", key, "please", "LEAKME"} {
				if bytes.Contains(dump, []byte(c)) {
					t.Errorf("spans carry %q", c)
				}
			}
			for _, s := range spans {
				if s.Name == "apply_guardrail Warden" {
					guard = append(guard, s)
				}
				for _, ev := range s.Events {
					if ev.Name == "gen_ai.guardrail.result" && attrMap(ev.Attributes)["gen_ai.guardrail.source"] == "output" {
						if s.SpanKind != trace.SpanKindServer {
							t.Errorf("output result on a %s span", s.SpanKind)
						}
						outputs = append(outputs, attrMap(ev.Attributes))
					}
				}
			}
			if !on {
				if len(guard) != 0 || len(outputs) != 0 || !bytes.Contains(dump, []byte("chat gpt-4o-mini")) {
					t.Fatalf("setting off: %d guardrail spans, %d output events (of %d spans)", len(guard), len(outputs), len(spans))
				}
				return
			}
			if len(guard) != 2 {
				t.Fatalf("%d apply_guardrail spans, want one per request", len(guard))
			}
			g := guard[0]
			a := attrMap(g.Attributes)
			if g.SpanKind != trace.SpanKindInternal || a["gen_ai.operation.name"] != "apply_guardrail" || a["gen_ai.provider.name"] != "warden" ||
				a["gen_ai.guardrail.component.name"] != "Warden" || a["gen_ai.guardrail.source"] != "input" ||
				a["gen_ai.guardrail.result.type"] != "decision" || a["gen_ai.guardrail.result.value"] != "deidentify" ||
				a["gen_ai.guardrail.policy.id"] == "" || !g.Parent.IsValid() {
				t.Errorf("apply_guardrail span %s: %v", g.SpanKind, a)
			}
			found := map[string]string{}
			for _, ev := range g.Events {
				ea := attrMap(ev.Attributes)
				if ev.Name != "gen_ai.guardrail.result" || ea["gen_ai.guardrail.result.type"] != "findings" {
					continue
				}
				found[ea["gen_ai.guardrail.risk.category"]] = ea["gen_ai.guardrail.result.value"]
			}
			if found["EMAIL_ADDRESS"] != "1" || found["US_SSN"] != "1" {
				t.Errorf("finding events %v, want EMAIL_ADDRESS and US_SSN once each", found)
			}
			if len(outputs) != 1 || outputs[0]["gen_ai.guardrail.result.type"] != "leaks" || outputs[0]["gen_ai.guardrail.result.value"] != "1" {
				t.Errorf("output results %v, want the one leak", outputs)
			}
		})
	}
}

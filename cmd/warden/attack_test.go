package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/attack"
)

// TestBoundaryAttacks throws the whole attack catalogue
// (internal/attack) at `warden serve` built from
// examples/quickstart.yaml — the server, gateway, vault, audit log and
// policy that serve builds — with a scripted upstream, one subtest per
// attack named after it. Afterwards none of the catalogue's raw values
// may be in the gateway's log, metrics, exported traces or data
// directory (store, audit log).
func TestBoundaryAttacks(t *testing.T) {
	recv := &otlpReceiver{}
	col := httptest.NewServer(recv)
	defer col.Close()
	cfg, err := loadConfig("../../examples/quickstart.yaml", func(k string) string {
		if k == "OTEL_EXPORTER_OTLP_ENDPOINT" {
			return col.URL
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	c := &cli{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, getenv: func(string) string { return "" }}
	ctx := context.Background()
	p, err := startProbeGateway(ctx, cfg, c, "gpt-4o-mini", "claude-sonnet-4-5", true)
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	attacks := attack.Catalogue()
	results := attack.Run(ctx, attack.Target{BaseURL: p.url, Key: p.key, Upstream: p.up}, attacks)
	for _, r := range results {
		t.Run(r.Attack.Class+"/"+r.Attack.Name, func(t *testing.T) {
			if r.Skipped || !r.Pass {
				t.Errorf("want %s, got status %d: %s", r.Attack.Want, r.Status, r.Why)
			}
		})
	}
	outputs := p.outputs(ctx) // stops the gateway: traces are flushed
	recv.mu.Lock()
	var spans bytes.Buffer
	for _, b := range recv.bodies {
		spans.Write(b)
	}
	recv.mu.Unlock()
	if spans.Len() == 0 {
		t.Error("no spans were exported, so traces were not checked")
	}
	outputs = append(outputs, probeOutput{"exported traces", spans.Bytes()})
	for _, o := range outputs {
		if len(o.data) == 0 {
			t.Errorf("the gateway's %s is empty, so it was not checked", o.name)
		}
		for _, cv := range attack.Canaries(attacks) {
			if bytes.Contains(o.data, []byte(cv)) {
				t.Errorf("a raw value of the catalogue (%d bytes) is in the gateway's %s", len(cv), o.name)
			}
		}
	}
}

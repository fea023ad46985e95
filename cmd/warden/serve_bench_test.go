package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchFiller is business prose with nothing a detector reports.
const benchFiller = "The quarterly planning review covers the roadmap for the support tooling, " +
	"the migration of the ticket queue to the new workflow engine, and the training plan for " +
	"the regional teams. Please summarise the open risks, list the decisions that still need an " +
	"owner, and suggest which items can move to the next cycle without hurting the launch. "

// BenchmarkServeChat measures the CPU cost of one chat request through
// the whole `warden serve` stack (API-key auth, detection, policy, vault
// tokens, restore, audit commit to SQLite) with the in-process echo
// upstream, so no network hop is counted. bench/gateway.sh measures the
// latency over real sockets.
func BenchmarkServeChat(b *testing.B) { benchServeChat(b, "") }

// BenchmarkServeChatTraced is BenchmarkServeChat with every request
// traced (sample_ratio 1) and exported over OTLP/HTTP to a local
// collector that discards what it receives.
func BenchmarkServeChatTraced(b *testing.B) {
	col := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	defer col.Close()
	benchServeChat(b, "telemetry:\n  traces:\n    endpoint: "+col.URL+"\n")
}

func benchServeChat(b *testing.B, extraConfig string) {
	for _, pii := range []bool{false, true} {
		name := "passthrough"
		if pii {
			name = "protected"
		}
		b.Run(name, func(b *testing.B) {
			gw, key, closeAll := newServeStack(b, extraConfig)
			defer closeAll()
			const distinct = 100
			bodies := make([][]byte, distinct)
			for i := range bodies {
				var sb strings.Builder
				if pii {
					fmt.Fprintf(&sb, "Customer record: email customer.%d@example.com, SSN 123-45-%04d, phone (415) 555-%04d, card 4111 1111 1111 1111. ", i, 1000+i, 1000+i)
				}
				for sb.Len() < 2048 {
					sb.WriteString(benchFiller)
				}
				bodies[i], _ = json.Marshal(map[string]any{
					"model":    "gpt-4o-mini",
					"messages": []map[string]string{{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": sb.String()}},
				})
			}
			do := func(i int) {
				req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", bytes.NewReader(bodies[i%distinct]))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				gw.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body.String())
				}
			}
			for i := range distinct { // tokens issued, caches warm
				do(i)
			}
			b.SetBytes(int64(len(bodies[0])))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				do(i)
			}
		})
	}
}

// newServeStack writes a config (data_dir, then extra), creates an API
// key for gpt-4o-mini and builds the whole `warden serve` stack in
// process.
func newServeStack(tb testing.TB, extra string) (http.Handler, string, func()) {
	tb.Helper()
	dir := tb.TempDir()
	cfgPath := filepath.Join(dir, "warden.yaml")
	if err := os.WriteFile(cfgPath, []byte("data_dir: "+filepath.Join(dir, "data")+"\n"+extra), 0o600); err != nil {
		tb.Fatal(err)
	}
	var out, errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	if code := runAPIKey(context.Background(), c, []string{"create", "--config", cfgPath, "--name", "bench", "--models", "gpt-4o-mini", "--tenant", "bench"}); code != exitOK {
		tb.Fatalf("apikey create: %s", errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	key := lines[len(lines)-1]
	cfg, err := loadConfig(cfgPath, func(string) string { return "" })
	if err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil))
	gw, closeAll, err := buildGateway(context.Background(), cfg, c, log)
	if err != nil {
		tb.Fatal(err)
	}
	return gw, key, closeAll
}

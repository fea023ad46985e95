package gateway_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/wardenhq/warden/gateway"
)

// BenchmarkPeakRSSTinyStrings measures the peak resident memory one
// 8 MiB request made of tiny strings costs the gateway: a million
// two-letter strings in a metadata array, and 300,000 one-letter text
// parts (which are also scanned joined). Each shape runs in a child
// process, which builds the gateway, warms it up, then serves the one
// request; the metric is (peak RSS − RSS before the request) / body
// size. Target: under 10.
//
//	go test ./gateway -run XXX -bench PeakRSS -benchtime 1x
func BenchmarkPeakRSSTinyStrings(b *testing.B) {
	for _, shape := range []string{"strings", "parts"} {
		b.Run(shape, func(b *testing.B) {
			for range b.N {
				cmd := exec.Command(os.Args[0], "-test.run", "^TestPeakRSSChild$")
				cmd.Env = append(os.Environ(), "WARDEN_RSS_CHILD="+shape)
				out, err := cmd.CombinedOutput()
				if err != nil {
					b.Fatalf("child: %v\n%s", err, out)
				}
				var ratio, body float64
				for _, line := range strings.Split(string(out), "\n") {
					if _, err := fmt.Sscanf(line, "rss %g body %g", &ratio, &body); err == nil {
						break
					}
				}
				if body == 0 {
					b.Fatalf("child said nothing useful:\n%s", out)
				}
				b.ReportMetric(ratio, "peak-rss/body")
				b.ReportMetric(body/(1<<20), "body-MiB")
			}
		})
	}
}

// TestPeakRSSChild is the child of BenchmarkPeakRSSTinyStrings; it does
// nothing unless run as one.
func TestPeakRSSChild(t *testing.T) {
	shape := os.Getenv("WARDEN_RSS_CHILD")
	if shape == "" {
		t.Skip("run by BenchmarkPeakRSSTinyStrings")
	}
	discard := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"x","object":"chat.completion","choices":[]}`)
	})
	srv := newTestGateway(t, gateway.Config{MaxBodyBytes: 9 << 20,
		Upstreams: []*gateway.Upstream{{Name: "u", Handler: discard, Models: []string{"*"}}}}, gateway.Deps{})
	gw := srv.Config.Handler
	var body bytes.Buffer
	switch shape {
	case "strings":
		body.WriteString(`{"model":"m","messages":[{"role":"user","content":"mail jane.canary@example.com"}],"metadata":{"k":[`)
		for i := 0; body.Len() < 8<<20-16; i++ {
			if i > 0 {
				body.WriteByte(',')
			}
			body.WriteString(`"ab"`)
		}
		body.WriteString(`]}}`)
	case "parts":
		body.WriteString(`{"model":"m","messages":[{"role":"system","content":"mail jane.canary@example.com"},{"role":"user","content":[`)
		for i := 0; body.Len() < 8<<20-16; i++ {
			if i > 0 {
				body.WriteByte(',')
			}
			body.WriteString(`{"type":"text","text":"a"}`)
		}
		body.WriteString(`]}]}`)
	}
	serve := func(b []byte) int {
		w := httptest.NewRecorder()
		gw.ServeHTTP(w, httptest.NewRequest("POST", "/v1/chat/completions", bytes.NewReader(b)))
		return w.Code
	}
	serve([]byte(`{"model":"m","messages":[{"role":"user","content":"warm up jane@example.com"}]}`))
	raw := body.Bytes()
	runtime.GC()
	debug.FreeOSMemory()
	before := rss(t, "VmRSS")
	resetPeak(t)
	if code := serve(raw); code != 200 {
		t.Fatalf("status %d", code)
	}
	peak := rss(t, "VmHWM")
	fmt.Printf("rss %.2f body %d\n", float64(peak-before)/float64(len(raw)), len(raw))
}

// rss reads a /proc/self/status field in bytes.
func rss(t *testing.T, field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Fatalf("no %s", field)
	return 0
}

// resetPeak resets VmHWM to the current RSS (Linux: write 5 to
// /proc/self/clear_refs).
func resetPeak(t *testing.T) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Logf("cannot reset the peak RSS (%v); the measure includes start-up", err)
	}
}

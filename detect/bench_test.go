package detect

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// prose is ordinary English with no sensitive values.
const prose = `the quarterly report shows that revenue grew in most regions while costs stayed flat. ` +
	`please summarise the main points for the board and suggest three questions they might ask. ` +
	`we would like the tone to be neutral and the length to stay under two hundred words. ` +
	`the team also wants a short list of risks, ordered by how likely they are to matter next year. `

// mixedCorpus builds n bytes of prompt, JSON and log text in which about
// one line in four carries a sensitive value, like real gateway traffic.
func mixedCorpus(n int) string {
	r := rand.New(rand.NewSource(1))
	var b strings.Builder
	for b.Len() < n {
		switch r.Intn(8) {
		case 0:
			fmt.Fprintf(&b, `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Please email the invoice to jane.doe%d@example.com and call +1 415-555-%04d if needed."}],"temperature":0.2}`+"\n", r.Intn(100), r.Intn(10000))
		case 1:
			fmt.Fprintf(&b, "2026-11-24T20:21:%02d.870Z INFO api: request id=%08x-%04x status=200 latency_ms=%d bytes=%d path=/v1/chat/completions\n", r.Intn(60), r.Uint32(), r.Intn(65536), r.Intn(900), r.Intn(100000))
		case 2:
			fmt.Fprintf(&b, "Customer Maria Lopez paid with card 4111 1111 1111 1111 and her SSN is 123-45-%04d; ship to the office.\n", 1000+r.Intn(8999))
		case 3:
			b.WriteString(`Refactor this function: func add(a, b int) int { return a + b } and explain the change in two sentences.` + "\n")
		case 4:
			fmt.Fprintf(&b, `{"level":"info","ts":1732480000.%d,"caller":"server/http.go:%d","msg":"served","remote":"10.0.%d.%d:51234","ua":"Mozilla/5.0"}`+"\n", r.Intn(1000), r.Intn(500), r.Intn(255), r.Intn(255))
		default:
			b.WriteString(prose)
			b.WriteString("\n")
		}
	}
	return b.String()
}

func benchScan(b *testing.B, text string) { benchScanWith(b, Config{}, text) }

func benchScanWith(b *testing.B, cfg Config, text string) {
	e, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.Scan(text)
	}
}

// BenchmarkScanMixed is the "mixed prompt/JSON/log text" case with
// every built-in recognizer on (target >= 100 MB/s on one core).
func BenchmarkScanMixed(b *testing.B) { benchScan(b, mixedCorpus(1<<20)) }

// BenchmarkScanNoCandidates is prose with nothing to find (target >= 300 MB/s).
func BenchmarkScanNoCandidates(b *testing.B) {
	benchScan(b, strings.Repeat(prose, (1<<20)/len(prose)))
}

// BenchmarkScanMixedRaw is BenchmarkScanMixed without the normalised view
// and the decoding of encoded runs: what those cost on ASCII text is the
// difference.
func BenchmarkScanMixedRaw(b *testing.B) {
	benchScanWith(b, Config{NoNormalize: true, Decode: DecodeConfig{Off: true}}, mixedCorpus(1<<20))
}

// BenchmarkScanMixedUnicode is the mixed corpus with one line in eight
// written with fullwidth digits, look-alike letters, Unicode dashes and
// zero-width characters: the normaliser's slow path.
func BenchmarkScanMixedUnicode(b *testing.B) {
	lines := strings.SplitAfter(mixedCorpus(1<<20), "\n")
	r := strings.NewReplacer("1", "\uff11", "4", "\uff14", "a", "\u0430", "e", "\u0435", "-", "\u2013", "@", "\u200b@", " ", "\u00a0")
	for i := range lines {
		if i%8 == 0 {
			lines[i] = r.Replace(lines[i])
		}
	}
	benchScan(b, strings.Join(lines, ""))
}

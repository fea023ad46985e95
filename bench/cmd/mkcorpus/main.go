// Command mkcorpus writes N bytes of mixed prompt, JSON and log lines in
// which about one line in four carries a sensitive value: the input of
// the detection throughput benchmarks (bench/detect.sh).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand"
	"os"
)

const prose = `the quarterly report shows that revenue grew in most regions while costs stayed flat. ` +
	`please summarise the main points for the board and suggest three questions they might ask.`

func main() {
	size := flag.Int("bytes", 9<<20, "how many bytes to write")
	seed := flag.Int64("seed", 1, "random seed")
	flag.Parse()
	r := rand.New(rand.NewSource(*seed))
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	n := 0
	for n < *size {
		var line string
		switch r.Intn(8) {
		case 0:
			line = fmt.Sprintf(`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Please email the invoice to jane.doe%d@example.com and call +1 415-555-%04d if needed."}],"temperature":0.2}`, r.Intn(100), r.Intn(10000))
		case 1:
			line = fmt.Sprintf("2026-11-24T20:21:%02d.870Z INFO api: request id=%08x-%04x status=200 latency_ms=%d bytes=%d path=/v1/chat/completions", r.Intn(60), r.Uint32(), r.Intn(65536), r.Intn(900), r.Intn(100000))
		case 2:
			line = fmt.Sprintf("Customer Maria Lopez paid with card 4111 1111 1111 1111 and her SSN is 123-45-%04d; ship to the office.", 1000+r.Intn(8999))
		case 3:
			line = `Refactor this function: func add(a, b int) int { return a + b } and explain the change in two sentences.`
		case 4:
			line = fmt.Sprintf(`{"level":"info","ts":1732480000.%d,"caller":"server/http.go:%d","msg":"served","remote":"10.0.%d.%d:51234","ua":"Mozilla/5.0"}`, r.Intn(1000), r.Intn(500), r.Intn(255), r.Intn(255))
		case 5:
			line = fmt.Sprintf(`deploy failed: AWS_SECRET_ACCESS_KEY not set; token ghp_%036d rejected for user %d`, r.Int63(), r.Intn(1000))
		default:
			line = prose
		}
		k, _ := w.WriteString(line + "\n")
		n += k
	}
}

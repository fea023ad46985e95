// Command loadgen is an open-loop load generator for the gateway
// benchmark: it sends OpenAI chat completions to a target at a fixed rate,
// whatever the latency (requests are started on schedule, not when earlier
// ones finish), and prints latency percentiles and errors as JSON.
//
// Latency is measured from each request's scheduled start, so a target or
// a generator that falls behind shows up in the numbers instead of
// silently lowering the rate (no coordinated omission). sched_lag reports
// how late the generator itself started requests.
//
//	loadgen -url http://127.0.0.1:8080/v1 -key-env WARDEN_KEY -rate 500 -duration 10s
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	url, key, model, scenario string
	rate                      float64
	duration, warmup, timeout time.Duration
	count, promptBytes        int
	distinct                  int
	seed                      uint64
	pii, stream, check        bool
	maxInFlight               int
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080/v1", "API base `URL`; requests go to URL/chat/completions")
	keyEnv := fs.String("key-env", "", "environment `variable` holding the bearer key (none: no Authorization header)")
	fs.StringVar(&o.model, "model", "gpt-4o-mini", "model `id`")
	fs.StringVar(&o.scenario, "scenario", "", "label copied into the JSON report")
	fs.Float64Var(&o.rate, "rate", 500, "requests per `second` (open loop)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured run length")
	fs.IntVar(&o.count, "n", 0, "stop after this many measured requests (0: rate × duration)")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured warm-up at the same rate before the run")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.IntVar(&o.promptBytes, "prompt-bytes", 2048, "approximate prompt size")
	fs.IntVar(&o.distinct, "distinct", 1000, "distinct prompts (distinct PII values) to cycle through")
	fs.Uint64Var(&o.seed, "seed", 1, "seed for the synthetic PII values; change it to send values the gateway has not seen")
	fs.BoolVar(&o.pii, "pii", true, "put an email, SSN, phone number and card number in each prompt; false: no sensitive data")
	fs.BoolVar(&o.stream, "stream", false, "stream the response and also report time to first byte")
	fs.BoolVar(&o.check, "check", true, "count a 200 whose reply does not contain the prompt's email as an error")
	fs.IntVar(&o.maxInFlight, "max-inflight", 4096, "requests in flight above which new ones are dropped and counted as errors")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.rate <= 0 || o.duration <= 0 && o.count <= 0 || o.distinct <= 0 {
		fmt.Fprintln(stderr, "loadgen: -rate and -distinct must be > 0 and one of -duration, -n must be > 0")
		return 2
	}
	if *keyEnv != "" {
		o.key = os.Getenv(*keyEnv)
		if o.key == "" {
			fmt.Fprintf(stderr, "loadgen: -key-env: %s is empty\n", *keyEnv)
			return 2
		}
	}
	if o.count <= 0 {
		o.count = int(o.rate * o.duration.Seconds())
	}
	rep := load(context.Background(), o)
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 1
	}
	return 0
}

// report is the JSON printed at the end. Durations are milliseconds.
type report struct {
	Scenario    string         `json:"scenario,omitempty"`
	URL         string         `json:"url"`
	Stream      bool           `json:"stream"`
	PII         bool           `json:"pii"`
	PromptBytes int            `json:"prompt_bytes"`
	TargetRPS   float64        `json:"target_rps"`
	Sent        int            `json:"sent"`
	OK          int            `json:"ok"`
	Errors      int            `json:"errors"`
	ErrorKinds  map[string]int `json:"error_kinds,omitempty"`
	Seconds     float64        `json:"seconds"`
	AchievedRPS float64        `json:"achieved_rps"`
	Latency     stats          `json:"latency_ms"`
	TTFB        *stats         `json:"ttfb_ms,omitempty"`
	SchedLag    stats          `json:"sched_lag_ms"`
}

type stats struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

type result struct {
	lat, ttfb, lag time.Duration
	err            string
}

type prompt struct {
	body  []byte
	check string // text the reply must contain; "" for none
}

func load(ctx context.Context, o options) report {
	prompts := makePrompts(o)
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        o.maxInFlight,
		MaxIdleConnsPerHost: o.maxInFlight,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: o.timeout}
	endpoint := strings.TrimRight(o.url, "/") + "/chat/completions"

	warm := int(o.rate * o.warmup.Seconds())
	total := warm + o.count
	interval := time.Duration(float64(time.Second) / o.rate)
	results := make([]result, o.count)
	var wg sync.WaitGroup
	sem := make(chan struct{}, o.maxInFlight)
	start := time.Now()
	var measuredStart time.Time
	for i := range total {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		if i == warm {
			measuredStart = due
		}
		idx := i - warm
		select {
		case sem <- struct{}{}:
		default:
			if idx >= 0 {
				results[idx] = result{err: "dropped: too many in flight"}
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r := do(ctx, client, endpoint, o, prompts[i%len(prompts)], due)
			if idx >= 0 {
				results[idx] = r
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(measuredStart)
	return summarize(o, results, elapsed)
}

func do(ctx context.Context, client *http.Client, endpoint string, o options, p prompt, due time.Time) result {
	res := result{lag: time.Since(due)}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(p.body))
	if err != nil {
		return result{err: "request: " + err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	if o.key != "" {
		req.Header.Set("Authorization", "Bearer "+o.key)
	}
	resp, err := client.Do(req)
	if err != nil {
		res.err = "transport: " + errKind(err)
		return res
	}
	defer resp.Body.Close()
	var body []byte
	if o.stream {
		br := bufio.NewReader(resp.Body)
		if _, err := br.Peek(1); err == nil {
			res.ttfb = time.Since(due)
		}
		body, err = io.ReadAll(br)
	} else {
		body, err = io.ReadAll(resp.Body)
	}
	res.lat = time.Since(due)
	switch {
	case err != nil:
		res.err = "read: " + errKind(err)
	case resp.StatusCode != http.StatusOK:
		res.err = fmt.Sprintf("status %d", resp.StatusCode)
	case o.check && p.check != "" && !replyHas(body, o.stream, p.check):
		res.err = "reply does not echo the prompt's email"
	}
	return res
}

// replyHas reports whether the reply text contains want: the message
// content for JSON, the joined deltas for a stream.
func replyHas(body []byte, stream bool, want string) bool {
	if !stream {
		var r struct {
			Choices []struct {
				Message struct{ Content string } `json:"message"`
			} `json:"choices"`
		}
		if json.Unmarshal(body, &r) != nil || len(r.Choices) == 0 {
			return false
		}
		return strings.Contains(r.Choices[0].Message.Content, want)
	}
	var sb strings.Builder
	for line := range strings.SplitSeq(string(body), "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		var c struct {
			Choices []struct {
				Delta struct{ Content string } `json:"delta"`
			} `json:"choices"`
		}
		if json.Unmarshal([]byte(data), &c) == nil && len(c.Choices) > 0 {
			sb.WriteString(c.Choices[0].Delta.Content)
		}
	}
	return strings.Contains(sb.String(), want)
}

// errKind shortens a transport error to its class, so the report groups
// them (and never carries request content).
func errKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "unexpected EOF"
	case strings.Contains(err.Error(), "connection refused"):
		return "connection refused"
	case strings.Contains(err.Error(), "connection reset"):
		return "connection reset"
	}
	return "other"
}

func summarize(o options, results []result, elapsed time.Duration) report {
	rep := report{Scenario: o.scenario, URL: o.url, Stream: o.stream, PII: o.pii, PromptBytes: o.promptBytes,
		TargetRPS: o.rate, Sent: len(results), Seconds: elapsed.Seconds(), ErrorKinds: map[string]int{}}
	var lat, ttfb, lag []time.Duration
	for _, r := range results {
		lag = append(lag, r.lag)
		if r.err != "" {
			rep.Errors++
			rep.ErrorKinds[r.err]++
			continue
		}
		rep.OK++
		lat = append(lat, r.lat)
		if o.stream {
			ttfb = append(ttfb, r.ttfb)
		}
	}
	if len(rep.ErrorKinds) == 0 {
		rep.ErrorKinds = nil
	}
	if elapsed > 0 {
		rep.AchievedRPS = float64(rep.OK) / elapsed.Seconds()
	}
	rep.Latency = summary(lat)
	rep.SchedLag = summary(lag)
	if o.stream {
		s := summary(ttfb)
		rep.TTFB = &s
	}
	return rep
}

// summary computes nearest-rank percentiles in milliseconds.
func summary(d []time.Duration) stats {
	if len(d) == 0 {
		return stats{}
	}
	slices.Sort(d)
	pct := func(p float64) float64 {
		i := int(p*float64(len(d))+0.5) - 1
		i = max(0, min(i, len(d)-1))
		return ms(d[i])
	}
	var sum time.Duration
	for _, v := range d {
		sum += v
	}
	return stats{P50: pct(0.50), P90: pct(0.90), P99: pct(0.99), Max: ms(d[len(d)-1]), Mean: ms(sum / time.Duration(len(d)))}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// filler is plain business prose with no digits, names or other values a
// detector could mistake for sensitive data.
const filler = "The quarterly planning review covers the roadmap for the support tooling, " +
	"the migration of the ticket queue to the new workflow engine, and the training plan for " +
	"the regional teams. Please summarise the open risks, list the decisions that still need an " +
	"owner, and suggest which items can move to the next cycle without hurting the launch. "

// makePrompts builds o.distinct request bodies of about o.promptBytes,
// each with its own synthetic PII when o.pii is set.
func makePrompts(o options) []prompt {
	rng := rand.New(rand.NewPCG(o.seed, 2))
	out := make([]prompt, o.distinct)
	for i := range out {
		var sb strings.Builder
		check := ""
		if o.pii {
			email := fmt.Sprintf("customer.%d.%d.%04d@example.com", o.seed, i, rng.IntN(10000))
			fmt.Fprintf(&sb, "Customer record: email %s, SSN %s, phone %s, card %s. ",
				email, ssn(rng), phone(rng), card(rng))
			check = email
		}
		for sb.Len() < o.promptBytes {
			sb.WriteString(filler)
		}
		text := sb.String()
		if len(text) > o.promptBytes && o.promptBytes > 0 {
			text = text[:o.promptBytes]
			text = text[:strings.LastIndexByte(text, ' ')+1] + "Thanks."
		}
		body, _ := json.Marshal(map[string]any{
			"model":    o.model,
			"stream":   o.stream,
			"messages": []map[string]string{{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": text}},
		})
		out[i] = prompt{body: body, check: check}
	}
	return out
}

// ssn returns a well-formed US SSN (area 001-665 except 000, group and
// serial non-zero).
func ssn(rng *rand.Rand) string {
	return fmt.Sprintf("%03d-%02d-%04d", 100+rng.IntN(565), 10+rng.IntN(89), 1000+rng.IntN(8999))
}

func phone(rng *rand.Rand) string {
	return fmt.Sprintf("(415) %03d-%04d", 200+rng.IntN(799), rng.IntN(10000))
}

// card returns a Luhn-valid 16-digit Visa number in groups of four.
func card(rng *rand.Rand) string {
	d := make([]int, 16)
	d[0] = 4
	for i := 1; i < 15; i++ {
		d[i] = rng.IntN(10)
	}
	sum := 0
	for i := 0; i < 15; i++ {
		v := d[i]
		if i%2 == 0 { // doubled positions counting from the check digit
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	d[15] = (10 - sum%10) % 10
	var sb strings.Builder
	for i, v := range d {
		if i > 0 && i%4 == 0 {
			sb.WriteByte(' ')
		}
		sb.WriteByte(byte('0' + v))
	}
	return sb.String()
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wardenhq/warden/auth"
	"github.com/wardenhq/warden/gateway"
	"github.com/wardenhq/warden/internal/attack"
)

const probeHelp = `usage: warden probe [--config FILE] [--url URL --key KEY [--upstream-record FILE]] [--json] [--verbose]

Throws Warden's catalogue of boundary attacks at a gateway and prints a
table of attack class × verdict; exits 1 if any attack got through.
Run it after every configuration change.

Without --url, it builds the gateway of --config in this process — the
same detection, policy, transform and server settings, with a temporary
data directory and store, and a scripted stand-in in place of every
upstream — and judges every attack: what the upstream received, what the
caller received, and the gateway's log, metrics and audit log.

With --url and --key, it probes a running gateway. It can then judge
refusals only, unless --upstream-record names the JSONL file that a
recording stand-in upstream writes (e2e/cmd/standin -record FILE); replies
cannot be scripted there, so response-side attacks are skipped.

Exit codes: 0 every judged attack was stopped, 1 some got through, 2
usage or configuration error.

Flags:
`

func runProbe(ctx context.Context, c *cli, args []string) int {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	configPath := fs.String("config", "", "config `file` of the gateway to build in process (default: built-in defaults)")
	target := fs.String("url", "", "probe the running gateway at this base `URL` (http://host:port) instead")
	key := fs.String("key", "", "API `key` for --url; it must allow --chat-model and --messages-model")
	record := fs.String("upstream-record", "", "JSONL `file` a recording stand-in upstream of the --url gateway writes")
	chatModel := fs.String("chat-model", "gpt-4o-mini", "`model` for OpenAI-shaped attacks")
	msgModel := fs.String("messages-model", "claude-sonnet-4-5", "`model` for Anthropic-shaped attacks")
	asJSON := fs.Bool("json", false, "print one JSON result per attack instead of the table")
	verbose := fs.Bool("verbose", false, "list every attack, not only those that got through")
	fs.Usage = func() { fmt.Fprint(c.stderr, probeHelp); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(c.stderr, "warden probe: unexpected arguments")
		return exitUsage
	}
	attacks := attack.Catalogue()
	t := attack.Target{BaseURL: strings.TrimRight(*target, "/"), Key: *key, ChatModel: *chatModel, MessagesModel: *msgModel}
	var local *probeGateway
	if *target == "" {
		if *key != "" || *record != "" {
			fmt.Fprintln(c.stderr, "warden probe: --key and --upstream-record go with --url")
			return exitUsage
		}
		cfg, err := loadConfig(*configPath, c.getenv)
		if err != nil {
			fmt.Fprintln(c.stderr, "warden probe:", err)
			return exitUsage
		}
		local, err = startProbeGateway(ctx, cfg, c, *chatModel, *msgModel, false)
		if err != nil {
			fmt.Fprintln(c.stderr, "warden probe:", err)
			return exitUsage
		}
		defer local.stop()
		t.BaseURL, t.Key, t.Upstream = local.url, local.key, local.up
	} else {
		if *key == "" {
			fmt.Fprintln(c.stderr, "warden probe: --url needs --key")
			return exitUsage
		}
		if *record != "" {
			t.Upstream = &attack.RecordFile{Path: *record}
		}
	}
	fmt.Fprintf(c.stderr, "probing %s with %d attacks\n", t.BaseURL, len(attacks))
	results := attack.Run(ctx, t, attacks)
	var outputs []probeOutput
	if local != nil {
		outputs = local.outputs(ctx)
	}
	failed := reportProbe(c, results, outputs, attack.Canaries(attacks), *asJSON, *verbose)
	if failed {
		return exitFailure
	}
	return exitOK
}

// probeOutput is one place the gateway writes to, checked for canaries.
type probeOutput struct {
	name string
	data []byte
}

// reportProbe prints the results and reports whether anything failed.
func reportProbe(c *cli, results []attack.Result, outputs []probeOutput, canaries []string, asJSON, verbose bool) bool {
	failed := false
	type tally struct{ pass, fail, skip int }
	by := map[string]*tally{}
	var classes []string
	for _, r := range results {
		tl := by[r.Attack.Class]
		if tl == nil {
			tl = &tally{}
			by[r.Attack.Class] = tl
			classes = append(classes, r.Attack.Class)
		}
		switch {
		case r.Skipped:
			tl.skip++
		case r.Pass:
			tl.pass++
		default:
			tl.fail++
			failed = true
		}
		if asJSON {
			json.NewEncoder(c.stdout).Encode(map[string]any{"class": r.Attack.Class, "attack": r.Attack.Name,
				"want": r.Attack.Want.String(), "pass": r.Pass, "skipped": r.Skipped, "status": r.Status, "why": r.Why})
		}
	}
	var leaks []string
	for _, o := range outputs {
		for i, cv := range canaries {
			if bytes.Contains(o.data, []byte(cv)) {
				leaks = append(leaks, fmt.Sprintf("raw value #%d of the catalogue is in the gateway's %s", i+1, o.name))
			}
		}
	}
	if len(leaks) > 0 {
		failed = true
	}
	if asJSON {
		for _, l := range leaks {
			json.NewEncoder(c.stdout).Encode(map[string]any{"class": "outputs", "pass": false, "why": l})
		}
		return failed
	}
	fmt.Fprintf(c.stdout, "%-18s %6s %6s %6s\n", "class", "pass", "fail", "skip")
	for _, cl := range classes {
		tl := by[cl]
		fmt.Fprintf(c.stdout, "%-18s %6d %6d %6d\n", cl, tl.pass, tl.fail, tl.skip)
	}
	if len(outputs) > 0 {
		verdict := "clean"
		if len(leaks) > 0 {
			verdict = fmt.Sprintf("%d leaks", len(leaks))
		}
		names := make([]string, 0, len(outputs))
		for _, o := range outputs {
			names = append(names, o.name)
		}
		fmt.Fprintf(c.stdout, "%-18s %s (%s)\n", "outputs", verdict, strings.Join(names, ", "))
	}
	for _, r := range results {
		if (r.Pass || r.Skipped) && !verbose {
			continue
		}
		mark := "FAIL"
		switch {
		case r.Skipped:
			mark = "skip"
		case r.Pass:
			mark = "ok"
		}
		fmt.Fprintf(c.stdout, "%-4s %s / %s (want %s, status %d)", mark, r.Attack.Class, r.Attack.Name, r.Attack.Want, r.Status)
		if r.Why != "" {
			fmt.Fprintf(c.stdout, ": %s", r.Why)
		}
		fmt.Fprintln(c.stdout)
	}
	for _, l := range leaks {
		fmt.Fprintln(c.stdout, "FAIL", l)
	}
	return failed
}

// probeGateway is a gateway built in process for probing.
type probeGateway struct {
	url, key string
	up       *attack.Scripted
	srv      *http.Server
	upSrv    *http.Server
	logs     *lockedBuffer
	cfg      *Config
	dir      string
	closeGW  func()
}

// lockedBuffer is a bytes.Buffer safe for a logger and a reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]byte(nil), l.b.Bytes()...)
}

// startProbeGateway builds cfg's gateway with a temporary data
// directory and store, its upstreams replaced by one scripted stand-in,
// and an API key for the models probed, and serves it on loopback. Trace
// export is switched off unless keepTelemetry.
func startProbeGateway(ctx context.Context, cfg *Config, c *cli, chatModel, msgModel string, keepTelemetry bool) (*probeGateway, error) {
	dir, err := os.MkdirTemp("", "warden-probe-")
	if err != nil {
		return nil, err
	}
	p := &probeGateway{dir: dir, logs: &lockedBuffer{}, up: attack.NewScripted(chatModel, msgModel)}
	fail := func(err error) (*probeGateway, error) {
		p.stop()
		return nil, err
	}
	upLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	p.upSrv = &http.Server{Handler: p.up, ReadHeaderTimeout: 10 * time.Second}
	go p.upSrv.Serve(upLn)
	upURL := "http://" + upLn.Addr().String() + "/v1"

	pc := *cfg
	pc.DataDir, pc.Store = filepath.Join(dir, "data"), StoreConfig{Timeout: cfg.Store.Timeout, Sync: cfg.Store.Sync}
	pc.Keys = KeysConfig{Keyring: filepath.Join(pc.DataDir, "keyring.json"), CacheTTL: cfg.Keys.CacheTTL}
	pc.Server.Listen = "127.0.0.1:0"
	pc.Server.TLS = TLSConfig{}
	pc.Server.Limits = LimitsConfig{}
	if !keepTelemetry {
		pc.Telemetry = TelemetryConfig{}
	}
	pc.Upstreams = nil
	for _, u := range cfg.Upstreams {
		u.URL, u.KeyEnv, u.RequireApproved = upURL, "", false
		u.TLS, u.Insecure = ClientTLSConfig{}, false // the stand-in is plain HTTP on loopback
		pc.Upstreams = append(pc.Upstreams, u)
	}
	if len(pc.Upstreams) == 0 {
		pc.Upstreams = []UpstreamConfig{{Name: "probe", URL: upURL, Models: []string{"*"}}}
	}
	p.cfg = &pc
	quiet := &cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: p.logs, getenv: c.getenv}
	db, err := openStore(ctx, &pc)
	if err != nil {
		return fail(err)
	}
	key, _, err := auth.NewAPIKeys(db, 0, nil).Create(ctx, auth.KeySpec{Name: "probe", Tenant: "probe", Models: []string{"*"}})
	db.Close()
	if err != nil {
		return fail(err)
	}
	p.key = key
	log := slog.New(slog.NewJSONHandler(p.logs, nil))
	gw, closeGW, err := buildGateway(ctx, &pc, quiet, log)
	if err != nil {
		return fail(err)
	}
	p.closeGW = closeGW
	ln, err := net.Listen("tcp", pc.Server.Listen)
	if err != nil {
		return fail(err)
	}
	p.srv = newHTTPServer(&pc, gw, log)
	go p.srv.Serve(gateway.GuardFraming(ln))
	p.url = "http://" + ln.Addr().String()
	return p, nil
}

// outputs returns what the gateway wrote: its log, its metrics, its
// audit log's entries and the files of its data directory.
func (p *probeGateway) outputs(ctx context.Context) []probeOutput {
	var out []probeOutput
	if resp, err := http.Get(p.url + "/metrics"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		out = append(out, probeOutput{"metrics", b})
	}
	if p.closeGW != nil {
		// Stop the gateway first so the audit log and store are flushed.
		p.srv.Close()
		p.closeGW()
		p.closeGW = nil
	}
	out = append(out, probeOutput{"log", p.logs.Bytes()})
	var files []string
	filepath.Walk(p.cfg.DataDir, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	sort.Strings(files)
	var data bytes.Buffer
	for _, f := range files {
		b, _ := os.ReadFile(f)
		data.Write(b)
	}
	out = append(out, probeOutput{"data directory (store, audit log, keyring)", data.Bytes()})
	return out
}

func (p *probeGateway) stop() {
	if p.srv != nil {
		p.srv.Close()
	}
	if p.closeGW != nil {
		p.closeGW()
	}
	if p.upSrv != nil {
		p.upSrv.Close()
	}
	os.RemoveAll(p.dir)
}

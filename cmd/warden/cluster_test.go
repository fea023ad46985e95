package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The multi-replica test: three real `warden serve` processes (the
// binary, built by the test) on one PostgreSQL database the test
// creates and one Redis, in front of a stand-in model upstream served by
// the test, behind a round-robin client. It proves that the replicas act
// as one gateway: one audit log, one vault, one set of limits, one set of
// API keys. It needs WARDEN_TEST_POSTGRES and WARDEN_TEST_REDIS (which
// scripts/test.sh sets).

const (
	clusterReplicas = 3
	// clusterCacheTTL is auth.api_keys.cache_ttl of the replicas: the
	// revocation bound under test.
	clusterCacheTTL = 2 * time.Second
	// clusterLimit is the limited key's requests_per_minute.
	clusterLimit = 30
	// clusterWriterTimeout is the audit log's WriterTimeout (audit.Config
	// default, not configurable in `warden serve`): a killed replica's
	// open intents are aborted by a live one within this plus one
	// heartbeat (5s) of its last heartbeat.
	clusterWriterTimeout = 30 * time.Second
)

// TestThreeReplicasActAsOneGateway: under load one replica is killed -9
// and restarted, and afterwards the store holds one audit log that
// `warden audit verify` passes, with no gaps or duplicate indices, every
// intent paired and every answered request recorded; a token issued
// through one replica is restored through another; a per-key limit holds
// across replicas; a revoked key is refused by every replica within
// auth.api_keys.cache_ttl; a config reload on one replica leaves its
// streams in flight intact and applies to its new requests only.
//
// The subtests share the cluster and run in order; the audit log checks
// run last, once a live replica has aborted the killed one's intents
// (up to WriterTimeout after the kill: the other subtests run meanwhile).
func TestThreeReplicasActAsOneGateway(t *testing.T) {
	pgBase, redisAddr := os.Getenv("WARDEN_TEST_POSTGRES"), os.Getenv("WARDEN_TEST_REDIS")
	if pgBase == "" || redisAddr == "" {
		t.Skip("WARDEN_TEST_POSTGRES and WARDEN_TEST_REDIS are needed (scripts/test.sh sets them)")
	}
	if testing.Short() {
		t.Skip("builds warden and runs three replicas")
	}
	began := time.Now()
	c := newCluster(t, pgBase, redisAddr)
	t.Logf("cluster up in %s (binary built in %s)", time.Since(began).Round(time.Millisecond), c.buildTime.Round(time.Millisecond))

	var kill killResult
	ok := t.Run("kill9_of_one_replica_under_load", func(t *testing.T) { kill = c.killUnderLoad(t) })
	t.Run("token_issued_on_one_replica_restores_on_another", c.tokenAcrossReplicas)
	t.Run("per_key_limit_holds_across_replicas", c.limitAcrossReplicas)
	t.Run("revoked_key_refused_by_every_replica_within_cache_ttl", c.revocationAcrossReplicas)
	t.Run("config_reload_on_one_replica_spares_streams_in_flight", c.reloadOneReplica)
	if !ok {
		t.Fatal("no audit log check: the kill subtest failed")
	}
	t.Run("one_verifiable_audit_log_after_the_kill", func(t *testing.T) { c.checkAuditLog(t, kill) })
	c.checkLogs(t)
	t.Logf("whole test: %s", time.Since(began).Round(time.Millisecond))
}

// cluster is the replicas, their upstream and the client.
type cluster struct {
	bin, dir, dsn string
	buildTime     time.Duration
	run           string // random suffix of names shared with Redis and PostgreSQL
	env           []string
	up            *clusterUpstream
	replicas      []*replica
	hc            *http.Client
	keys          map[string]string // role → API key: load, limited, revokee, globex, reload
	names         map[string]string // role → key name (the principal)

	reload reloadSeen // what the reload subtest saw, for the audit log check

	mu       sync.Mutex
	answered map[string]int // request id → final status the client saw, for every complete answer
}

// reloadSeen is what the reload subtest leaves for the audit log check.
type reloadSeen struct {
	done      bool
	streams   []string // request ids of the streams in flight across the reload
	denied    string   // a new request the reloaded replica refused
	elsewhere []string // the same request, answered by the other replicas
}

// replica is one `warden serve` process (restarted in place).
type replica struct {
	n                int
	cfgPath, logPath string
	mu               sync.Mutex
	cmd              *exec.Cmd
	exited           chan struct{}
	base             string // http://host:port of the current process
}

func (r *replica) url() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.base
}

func newCluster(t *testing.T, pgBase, redisAddr string) *cluster {
	t.Helper()
	c := &cluster{dir: t.TempDir(), answered: map[string]int{}, keys: map[string]string{}, names: map[string]string{}}
	var b [4]byte
	rand.Read(b[:])
	c.run = hex.EncodeToString(b[:])
	start := time.Now()
	c.bin = buildWarden(t, c.dir)
	c.buildTime = time.Since(start)
	c.dsn = clusterDatabase(t, pgBase, "warden_cluster_"+c.run)
	c.up = newClusterUpstream(t)
	c.hc = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 5 * time.Second}}
	t.Cleanup(c.hc.CloseIdleConnections)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WARDEN_") && !strings.HasPrefix(kv, "OTEL_") {
			c.env = append(c.env, kv)
		}
	}
	// The replicas share the data directory (the keyring and the key
	// that protects it); everything else is in PostgreSQL and Redis.
	c.names = map[string]string{"load": "load-" + c.run, "limited": "limited-" + c.run, "revokee": "revokee-" + c.run,
		"globex": "globex-" + c.run, "reload": "reload-" + c.run}
	cfg := fmt.Sprintf(`data_dir: %s
store:
  dsn: %s
server:
  listen: 127.0.0.1:0
  shutdown_timeout: 10s
  # A loaded CI machine (and the race detector) can hold a commit past
  # the 2s default; this test is about the cluster, not the deadline.
  audit_timeout: 10s
  limits:
    redis: redis://%s
    principals:
      %s: {requests_per_minute: %d}
auth:
  api_keys:
    cache_ttl: %s
upstreams:
  - name: stand-in
    url: %s/v1
    models: [gpt-4o-mini]
`, filepath.Join(c.dir, "data"), c.dsn, redisAddr, c.names["limited"], clusterLimit, clusterCacheTTL, c.up.srv.URL)
	for i := range clusterReplicas {
		r := &replica{n: i, cfgPath: filepath.Join(c.dir, fmt.Sprintf("warden-%d.yaml", i)), logPath: filepath.Join(c.dir, fmt.Sprintf("replica-%d.log", i))}
		if err := os.WriteFile(r.cfgPath, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		c.replicas = append(c.replicas, r)
	}
	// Keys first, in this process (the same command code): it migrates
	// the new database and generates the keyring before any replica
	// starts, so the replicas do not race to create them.
	for _, role := range []string{"load", "limited", "revokee", "globex", "reload"} {
		tenant := "acme-" + c.run
		if role == "globex" {
			tenant = "globex-" + c.run
		}
		code, out, stderr := cliRun(t, nil, "", "apikey", "create", "--config", c.replicas[0].cfgPath, "--name", c.names[role], "--models", "*", "--tenant", tenant)
		if code != exitOK {
			t.Fatalf("apikey create %s: %d %s", role, code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		c.keys[role] = lines[len(lines)-1]
	}
	var wg sync.WaitGroup
	for _, r := range c.replicas {
		wg.Go(func() { c.start(t, r) })
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	t.Cleanup(func() {
		for _, r := range c.replicas {
			c.stop(t, r)
		}
	})
	return c
}

// buildWarden builds cmd/warden into dir (with -race when the test runs
// under it: the test build compiled the same packages with it).
func buildWarden(t *testing.T, dir string) string {
	t.Helper()
	out := filepath.Join(dir, "warden")
	args := []string{"build", "-o", out}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, ".")...) // go test puts $GOROOT/bin first in PATH
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

// clusterDatabase creates database name on the server of base and
// returns base's URL naming it; it is dropped when t ends.
func clusterDatabase(t *testing.T, base, name string) string {
	t.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		if _, err := db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	return u.String()
}

// start runs r's `warden serve` and waits until it listens.
func (c *cluster) start(t *testing.T, r *replica) {
	t.Helper()
	logf, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Error(err)
		return
	}
	fi, _ := logf.Stat()
	from := fi.Size()
	cmd := exec.Command(c.bin, "serve", "--config", r.cfgPath)
	cmd.Env, cmd.Stdout, cmd.Stderr = c.env, logf, logf
	err = cmd.Start()
	logf.Close()
	if err != nil {
		t.Error(err)
		return
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	r.mu.Lock()
	r.cmd, r.exited, r.base = cmd, exited, ""
	r.mu.Unlock()
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(r.logPath)
		if int64(len(b)) > from {
			if base := listeningURL(b[from:]); base != "" {
				r.mu.Lock()
				r.base = base
				r.mu.Unlock()
				return
			}
		}
		select {
		case <-exited:
			t.Errorf("replica %d exited at start (%s):\n%s", r.n, cmd.ProcessState, tail(b, 4000))
			return
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Errorf("replica %d did not listen within 60s:\n%s", r.n, tail(b, 4000))
			return
		}
	}
}

// listeningURL finds the gateway's address in serve's JSON log lines.
func listeningURL(log []byte) string {
	for line := range bytes.SplitSeq(log, []byte("\n")) {
		var l struct{ Msg, URL string }
		if json.Unmarshal(line, &l) == nil && l.Msg == "warden gateway listening" {
			return strings.TrimSuffix(l.URL, "/v1")
		}
	}
	return ""
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// kill9 sends SIGKILL to r's process and waits for it to be gone.
func (c *cluster) kill9(t *testing.T, r *replica) {
	t.Helper()
	r.mu.Lock()
	cmd, exited := r.cmd, r.exited
	r.mu.Unlock()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
}

// stop ends r's process gracefully (SIGTERM, draining) and checks it
// exited cleanly.
func (c *cluster) stop(t *testing.T, r *replica) {
	r.mu.Lock()
	cmd, exited := r.cmd, r.exited
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-exited:
		return
	default:
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		if code := cmd.ProcessState.ExitCode(); code != 0 {
			b, _ := os.ReadFile(r.logPath)
			t.Errorf("replica %d exited with %d after SIGTERM:\n%s", r.n, code, tail(b, 4000))
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-exited
		t.Errorf("replica %d did not stop within 20s of SIGTERM", r.n)
	}
}

// checkLogs: no replica logged a value (every email the test sends is
// at example.com) or a data race.
func (c *cluster) checkLogs(t *testing.T) {
	for _, r := range c.replicas {
		b, err := os.ReadFile(r.logPath)
		if err != nil {
			t.Fatal(err)
		}
		if i := bytes.Index(b, []byte("@example.com")); i >= 0 {
			t.Errorf("replica %d logged an email address (a value): ...%s...", r.n, b[max(0, i-200):min(len(b), i+40)])
		}
		if bytes.Contains(b, []byte("WARNING: DATA RACE")) {
			t.Errorf("replica %d: data race:\n%s", r.n, tail(b, 8000))
		}
	}
	if c.up.sawValue("@example.com") {
		t.Error("the upstream received an email address in the clear")
	}
}

// warden runs the built binary with args (a CLI command).
func (c *cluster) warden(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Env = c.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("warden %s: %v", args[0], err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// db opens the cluster's database for the test's own queries.
func (c *cluster) db(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", c.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// answer is what the client saw of one request.
type answer struct {
	status  int
	reqID   string
	content string // the assistant text (a stream's deltas joined)
	done    bool   // a stream ended with [DONE]
	body    string // the body as received
	err     error  // transport or read error
}

// chat sends one chat completion with text as the user message to r
// with key, reads the whole answer and notes it for the audit check.
func (c *cluster) chat(ctx context.Context, r *replica, key, text string, stream bool) answer {
	body, _ := json.Marshal(map[string]any{"model": "gpt-4o-mini", "stream": stream,
		"messages": []map[string]string{{"role": "user", "content": text}}})
	base := r.url()
	if base == "" {
		return answer{err: errors.New("replica down")}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/chat/completions", bytes.NewReader(body))
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, reqID: resp.Header.Get("Warden-Request-Id")}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.err = err
		return a
	}
	a.body = string(b)
	if stream && resp.StatusCode == http.StatusOK {
		a.content, a.done = sseText(b)
	} else {
		var cc struct {
			Choices []struct {
				Message struct{ Content string } `json:"message"`
			} `json:"choices"`
		}
		if json.Unmarshal(b, &cc) == nil && len(cc.Choices) > 0 {
			a.content = cc.Choices[0].Message.Content
		}
	}
	if a.reqID != "" && (!stream || resp.StatusCode != http.StatusOK || a.done) {
		c.mu.Lock()
		c.answered[a.reqID] = a.status
		c.mu.Unlock()
	}
	return a
}

// sseText joins a chat stream's content deltas and says whether it
// ended with [DONE].
func sseText(b []byte) (string, bool) {
	var sb strings.Builder
	done := false
	for line := range strings.SplitSeq(string(b), "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			done = true
			continue
		}
		var ch struct {
			Choices []struct {
				Delta struct{ Content string } `json:"delta"`
			} `json:"choices"`
		}
		if json.Unmarshal([]byte(data), &ch) == nil && len(ch.Choices) > 0 {
			sb.WriteString(ch.Choices[0].Delta.Content)
		}
	}
	return sb.String(), done
}

// killResult is what the kill subtest leaves for the audit log check.
type killResult struct {
	at       time.Time // when the killed process was gone
	heldReq  string    // request id of the stream held open through the kill
	answered int       // load requests answered 200
}

// killUnderLoad drives load through all replicas from several
// goroutines, kills one replica with SIGKILL while a stream and
// requests are in flight on it, restarts it, and keeps the load going.
func (c *cluster) killUnderLoad(t *testing.T) killResult {
	victim := c.replicas[1]
	ctx, stop := context.WithCancel(context.Background())
	var (
		rr                   atomic.Int64
		mu                   sync.Mutex
		ok, failed, restored int
		okAfter              = map[int]int{} // 200s per replica after the restart
		restarted            atomic.Bool
		wrong                []string
	)
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				r := c.replicas[rr.Add(1)%clusterReplicas]
				email := fmt.Sprintf("load.%d.%d.%s@example.com", g, i, c.run)
				a := c.chat(ctx, r, c.keys["load"], "Please update the contact record to "+email+" today.", false)
				if ctx.Err() != nil && a.err != nil {
					return
				}
				mu.Lock()
				switch {
				case a.err == nil && a.status == http.StatusOK:
					ok++
					if strings.Contains(a.content, email) {
						restored++
					} else {
						wrong = append(wrong, fmt.Sprintf("replica %d answered 200 without the original value", r.n))
					}
					if restarted.Load() {
						okAfter[r.n]++
					}
				default:
					failed++
				}
				mu.Unlock()
				if a.err != nil {
					time.Sleep(20 * time.Millisecond) // the killed replica: do not spin
				}
			}
		})
	}
	time.Sleep(1500 * time.Millisecond)

	// A stream held open by the upstream: its intent is certainly open
	// when the replica dies.
	held := make(chan string, 1)
	heldDone := make(chan struct{})
	go func() {
		defer close(heldDone)
		body := `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hold-stream until the replica dies"}]}`
		req, _ := http.NewRequest(http.MethodPost, victim.url()+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+c.keys["load"])
		resp, err := c.hc.Do(req)
		if err != nil {
			held <- ""
			return
		}
		defer resp.Body.Close()
		br := bufio.NewReader(resp.Body)
		if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "data:") {
			held <- ""
			return
		}
		held <- resp.Header.Get("Warden-Request-Id")
		io.Copy(io.Discard, br)
	}()
	var heldReq string
	select {
	case heldReq = <-held:
	case <-time.After(20 * time.Second):
	}
	if heldReq == "" {
		stop()
		wg.Wait()
		t.Fatal("the held stream did not start on the replica to be killed")
	}
	time.Sleep(200 * time.Millisecond)
	c.kill9(t, victim)
	killedAt := time.Now()
	select {
	case <-heldDone:
	case <-time.After(10 * time.Second):
		t.Error("the held stream did not end when its replica was killed")
	}
	c.start(t, victim)
	restarted.Store(true)
	restartedIn := time.Since(killedAt)
	time.Sleep(1500 * time.Millisecond)
	stop()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	t.Logf("load: %d answered 200 (%d restored the original value), %d failed (the killed replica was down %s); after the restart 200s per replica %v",
		ok, restored, failed, restartedIn.Round(time.Millisecond), okAfter)
	for _, w := range wrong[:min(len(wrong), 5)] {
		t.Error(w)
	}
	if ok < 30 {
		t.Errorf("only %d requests answered 200 under load", ok)
	}
	for _, r := range c.replicas {
		if okAfter[r.n] == 0 {
			t.Errorf("replica %d answered no request after the restart", r.n)
		}
	}
	return killResult{at: killedAt, heldReq: heldReq, answered: ok}
}

// tokenAcrossReplicas: a value tokenized by replica 0 comes back as a
// token in an answer through replicas 1 and 2, which restore it for the
// same tenant (from PostgreSQL: neither has seen the value); a key of
// another tenant gets no original through any replica.
func (c *cluster) tokenAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	marker := "m" + c.run
	email := "alice." + c.run + "@example.com"
	a := c.chat(ctx, c.replicas[0], c.keys["load"], "ref "+marker+": my address is "+email, false)
	if a.err != nil || a.status != http.StatusOK || !strings.Contains(a.content, email) {
		t.Fatalf("through replica 0: %d %v %q", a.status, a.err, a.content)
	}
	tok := c.up.token(marker)
	if tok == "" {
		t.Fatal("the upstream saw no token for the address")
	}
	for _, r := range c.replicas[1:] {
		a := c.chat(ctx, r, c.keys["load"], "repeat "+marker, false)
		if a.err != nil || a.status != http.StatusOK {
			t.Fatalf("replica %d: %d %v", r.n, a.status, a.err)
		}
		if !strings.Contains(a.content, email) || strings.Contains(a.content, tok) {
			t.Errorf("replica %d did not restore a token replica 0 issued: %q", r.n, a.content)
		}
	}
	for _, r := range c.replicas {
		a := c.chat(ctx, r, c.keys["globex"], "repeat "+marker, false)
		if a.err != nil || a.status != http.StatusOK {
			t.Fatalf("replica %d, other tenant: %d %v", r.n, a.status, a.err)
		}
		if strings.Contains(a.content, email) {
			t.Errorf("replica %d restored another tenant's token", r.n)
		}
	}
}

// limitAcrossReplicas: a key limited to clusterLimit requests a minute
// gets that many 200s in total, whichever replicas its requests reach
// (Redis holds the budget), within one per replica (plus what the
// budget refills while the requests run).
func (c *cluster) limitAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	var (
		rr        atomic.Int64
		mu        sync.Mutex
		perRep    = map[int]int{}
		ok, limit int
		other     []string
	)
	start := time.Now()
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for range clusterLimit * 3 / 6 {
				r := c.replicas[rr.Add(1)%clusterReplicas]
				a := c.chat(ctx, r, c.keys["limited"], "count this request", false)
				mu.Lock()
				switch {
				case a.err == nil && a.status == http.StatusOK:
					ok++
					perRep[r.n]++
				case a.err == nil && a.status == http.StatusTooManyRequests:
					limit++
				default:
					other = append(other, fmt.Sprintf("replica %d: %d %v", r.n, a.status, a.err))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	refill := int(float64(clusterLimit) * elapsed.Seconds() / 60)
	t.Logf("limit %d/min: %d answered 200 (per replica %v), %d refused 429, in %s (refill allows %d more)",
		clusterLimit, ok, perRep, limit, elapsed.Round(time.Millisecond), refill)
	if len(other) > 0 {
		t.Errorf("unexpected answers: %v", other[:min(len(other), 5)])
	}
	if ok < clusterLimit-clusterReplicas || ok > clusterLimit+refill+clusterReplicas {
		t.Errorf("%d requests answered 200 across %d replicas, want %d ± %d (+%d refilled)", ok, clusterReplicas, clusterLimit, clusterReplicas, refill)
	}
	for _, r := range c.replicas {
		if perRep[r.n] == 0 {
			t.Errorf("replica %d answered none of the limited key's requests", r.n)
		}
	}
	if limit == 0 {
		t.Error("no request was refused with 429")
	}
}

// revocationAcrossReplicas: every replica has the key cached (it just
// answered with it); `warden apikey revoke` runs; each replica must
// refuse the key within auth.api_keys.cache_ttl of the revocation's
// commit (seen by polling the database).
func (c *cluster) revocationAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	db := c.db(t)
	for _, r := range c.replicas {
		if a := c.chat(ctx, r, c.keys["revokee"], "hello before the revocation", false); a.err != nil || a.status != http.StatusOK {
			t.Fatalf("replica %d before the revocation: %d %v", r.n, a.status, a.err)
		}
	}
	committed := make(chan time.Time, 1)
	pollCtx, stopPoll := context.WithTimeout(ctx, 30*time.Second)
	defer stopPoll()
	go func() {
		for pollCtx.Err() == nil {
			var revoked bool
			if err := db.QueryRowContext(pollCtx, "SELECT revoked_at IS NOT NULL FROM api_keys WHERE name = $1", c.names["revokee"]).Scan(&revoked); err == nil && revoked {
				committed <- time.Now()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	type seen struct {
		refused   time.Time
		accepted  int // 200s after the commit
		reopened  bool
		lastError string
	}
	results := make([]seen, clusterReplicas)
	pollStart := make(chan struct{})
	var wg sync.WaitGroup
	for _, r := range c.replicas {
		wg.Go(func() {
			<-pollStart
			s := &results[r.n]
			deadline := time.Now().Add(clusterCacheTTL + 10*time.Second)
			for time.Now().Before(deadline) {
				a := c.chat(ctx, r, c.keys["revokee"], "hello after the revocation", false)
				now := time.Now()
				switch {
				case a.err != nil:
					s.lastError = a.err.Error()
				case a.status == http.StatusUnauthorized:
					if s.refused.IsZero() {
						s.refused = now
					}
				case a.status == http.StatusOK:
					if !s.refused.IsZero() {
						s.reopened = true
					}
					s.accepted++
				default:
					s.lastError = fmt.Sprintf("status %d", a.status)
				}
				if !s.refused.IsZero() && now.Sub(s.refused) > 300*time.Millisecond {
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	cmdStart := time.Now()
	code, out, stderr := c.warden(t, "apikey", "revoke", c.names["revokee"], "--config", c.replicas[0].cfgPath)
	cmdTook := time.Since(cmdStart)
	if code != exitOK {
		close(pollStart)
		wg.Wait()
		t.Fatalf("apikey revoke: %d %s %s", code, out, stderr)
	}
	var at time.Time
	select {
	case at = <-committed:
	case <-time.After(10 * time.Second):
		close(pollStart)
		wg.Wait()
		t.Fatal("the revocation never showed in api_keys")
	}
	close(pollStart)
	wg.Wait()
	const slack = time.Second // polling (20ms), scheduling on a loaded machine
	var took []string
	for n, s := range results {
		if s.refused.IsZero() {
			t.Errorf("replica %d still accepts the revoked key %s after its commit (%d answers 200; %s)", n, clusterCacheTTL+10*time.Second, s.accepted, s.lastError)
			continue
		}
		d := s.refused.Sub(at)
		took = append(took, fmt.Sprintf("replica %d %s", n, d.Round(time.Millisecond)))
		if d > clusterCacheTTL+slack {
			t.Errorf("replica %d refused the revoked key %s after the commit; bound %s (+%s slack)", n, d.Round(time.Millisecond), clusterCacheTTL, slack)
		}
		if s.reopened {
			t.Errorf("replica %d accepted the revoked key again after refusing it", n)
		}
	}
	t.Logf("revocation (cache_ttl %s; `warden apikey revoke` took %s): refused %s after the commit", clusterCacheTTL, cmdTook.Round(time.Millisecond), strings.Join(took, ", "))
}

// reloadOneReplica: streams are in flight on replica 2 (the upstream
// holds them half-way); its config file gets a policy rule refusing US
// SSNs and it gets SIGHUP. Once it has reloaded, a new request with an
// SSN is refused there and answered by the other two (their config is
// unchanged); then the streams, whose requests carried an SSN too, are
// released and must end intact. The audit log check then finds the
// streams under the old policy, the refusal under the new one, and the
// config.reload entry with the new policy's hash.
func (c *cluster) reloadOneReplica(t *testing.T) {
	ctx := context.Background()
	r := c.replicas[2]
	gate := c.up.holdSlowStreams()
	released := false
	defer func() {
		if !released {
			close(gate)
		}
	}()
	const ssn = "457-55-5462"
	type result struct {
		a     answer
		ended time.Time
	}
	results := make(chan result, 3)
	for range 3 {
		go func() {
			a := c.chat(ctx, r, c.keys["reload"], "slow-stream for the customer with SSN "+ssn, true)
			results <- result{a, time.Now()}
		}()
	}
	if !c.up.waitHeld(3, 20*time.Second) {
		t.Fatal("the streams did not reach the upstream")
	}
	fi, err := os.Stat(r.logPath)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(r.cfgPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.WriteString(f, `policy:
  rules:
    - name: no-ssn-after-reload
      when: has_finding("US_SSN")
      action: deny
      reason: US SSNs are refused since the reload
`)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	cmd := r.cmd
	r.mu.Unlock()
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for {
		b, _ := os.ReadFile(r.logPath)
		if int64(len(b)) > fi.Size() {
			if bytes.Contains(b[fi.Size():], []byte(`"msg":"config reloaded"`)) {
				break
			}
			if bytes.Contains(b[fi.Size():], []byte(`"msg":"config reload refused`)) || bytes.Contains(b[fi.Size():], []byte(`only after a restart`)) {
				t.Fatalf("replica 2 did not apply the reload:\n%s", b[fi.Size():])
			}
		}
		if time.Since(sent) > 20*time.Second {
			t.Fatalf("replica 2 did not reload within 20s of SIGHUP:\n%s", tail(b, 4000))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("replica 2 reloaded %s after SIGHUP, with 3 streams in flight", time.Since(sent).Round(time.Millisecond))
	select {
	case res := <-results:
		t.Fatalf("a stream ended before it was released: %d %v", res.a.status, res.a.err)
	default:
	}

	text := "Please file the form for SSN " + ssn + " today."
	denied := c.chat(ctx, r, c.keys["reload"], text, false)
	if denied.err != nil || denied.status != http.StatusBadRequest || !strings.Contains(denied.body, "policy_denied") {
		t.Errorf("replica 2 after the reload: %d %v %s, want 400 policy_denied", denied.status, denied.err, denied.body)
	}
	var elsewhere []string
	for _, o := range c.replicas[:2] {
		a := c.chat(ctx, o, c.keys["reload"], text, false)
		if a.err != nil || a.status != http.StatusOK || !strings.Contains(a.content, ssn) {
			t.Errorf("replica %d (config unchanged) after replica 2's reload: %d %v %q", o.n, a.status, a.err, a.body)
		}
		elsewhere = append(elsewhere, a.reqID)
	}
	if a := c.chat(ctx, r, c.keys["reload"], "Please file the form today.", false); a.err != nil || a.status != http.StatusOK {
		t.Errorf("replica 2 refused a request the new policy allows: %d %v", a.status, a.err)
	}

	close(gate)
	released = true
	var streams []string
	for range 3 {
		var res result
		select {
		case res = <-results:
		case <-time.After(20 * time.Second):
			t.Fatal("a stream in flight across the reload did not end")
		}
		a := res.a
		if a.err != nil || a.status != http.StatusOK || !a.done || a.content != slowText() {
			t.Errorf("a stream in flight across the reload ended %d %v done=%v with %q, want all %d parts and [DONE]", a.status, a.err, a.done, a.content, slowParts)
		}
		streams = append(streams, a.reqID)
	}
	c.reload = reloadSeen{done: true, streams: streams, denied: denied.reqID, elsewhere: elsewhere}
}

// checkAuditLog waits until a live replica has aborted the killed
// replica's open intents, stops every replica, then checks the one log:
// `warden audit verify` passes; the export has indices 0..size-1 once
// each; every intent is closed exactly once (the held stream's by an
// aborted entry); every request the client saw answered has its entries
// with the status it saw.
func (c *cluster) checkAuditLog(t *testing.T, kill killResult) {
	db := c.db(t)
	deadline := kill.at.Add(clusterWriterTimeout + 15*time.Second)
	for {
		var n int
		err := db.QueryRow(`SELECT count(*) FROM audit_entries WHERE convert_from(entry, 'UTF8') LIKE '{"v":2,"kind":"aborted",%' AND convert_from(entry, 'UTF8') LIKE $1`,
			`%"request_id":"`+kill.heldReq+`"%`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no aborted entry for the killed replica's open stream %s after the kill", time.Since(kill.at).Round(time.Second))
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("the killed replica's open intents were aborted %s after the kill (WriterTimeout %s)", time.Since(kill.at).Round(time.Millisecond), clusterWriterTimeout)
	time.Sleep(1500 * time.Millisecond) // let a checkpoint cover the last entries
	if code, out, stderr := c.warden(t, "audit", "verify", "--config", c.replicas[0].cfgPath); code != exitOK {
		t.Errorf("audit verify with the replicas running: %d\n%s%s", code, out, stderr)
	}
	for _, r := range c.replicas {
		c.stop(t, r)
	}
	code, out, stderr := c.warden(t, "audit", "verify", "--config", c.replicas[0].cfgPath)
	t.Logf("warden audit verify:\n%s", out)
	if code != exitOK {
		t.Fatalf("audit verify: %d\n%s%s", code, out, stderr)
	}
	var size, cps, covered, intents, completions, aborted, inflight int64
	if _, err := fmt.Sscanf(out[strings.Index(out, "OK: "):], "OK: %d entries, %d signed checkpoints verified (newest covers %d", &size, &cps, &covered); err != nil {
		t.Fatalf("audit verify output: %v", err)
	}
	if i := strings.Index(out, "pairing: "); i < 0 {
		t.Fatal("audit verify printed no pairing line")
	} else if _, err := fmt.Sscanf(out[i:], "pairing: %d intents, %d completions, %d aborted, %d in flight", &intents, &completions, &aborted, &inflight); err != nil {
		t.Fatalf("audit verify pairing line: %v", err)
	}
	if inflight != 0 || intents != completions+aborted || aborted == 0 {
		t.Errorf("pairing: %d intents, %d completions, %d aborted, %d in flight", intents, completions, aborted, inflight)
	}

	code, exported, stderr := c.warden(t, "audit", "export", "--config", c.replicas[0].cfgPath, "--format", "jsonl")
	if code != exitOK {
		t.Fatalf("audit export: %d %s", code, stderr)
	}
	type entry struct {
		Index     int64             `json:"index"`
		Kind      string            `json:"kind"`
		Intent    *int64            `json:"intent"`
		RequestID string            `json:"request_id"`
		Status    int               `json:"status"`
		Reason    string            `json:"reason"`
		Policy    string            `json:"policy"`
		Action    string            `json:"action"`
		Target    string            `json:"target"`
		Details   map[string]string `json:"details"`
	}
	var (
		next     int64
		byIdx    = map[int64]entry{}
		closedBy = map[int64][]entry{}
		byReq    = map[string][]entry{}
		reloads  []entry
	)
	sc := bufio.NewScanner(strings.NewReader(exported))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("export line %d: %v", next, err)
		}
		if e.Index != next {
			t.Fatalf("export: index %d where %d was due (a gap or a duplicate)", e.Index, next)
		}
		next++
		byIdx[e.Index] = e
		if e.RequestID != "" {
			byReq[e.RequestID] = append(byReq[e.RequestID], e)
		}
		if (e.Kind == "completion" || e.Kind == "aborted") && e.Intent != nil {
			closedBy[*e.Intent] = append(closedBy[*e.Intent], e)
		}
		if e.Kind == "admin" && e.Action == "config.reload" {
			reloads = append(reloads, e)
		}
	}
	if next != size {
		t.Errorf("export has %d entries, verify counted %d", next, size)
	}
	for idx, e := range byIdx {
		if e.Kind != "intent" {
			continue
		}
		if n := len(closedBy[idx]); n != 1 {
			t.Errorf("intent %d is closed %d times", idx, n)
		}
	}
	held := byReq[kill.heldReq]
	if len(held) != 2 || held[0].Kind != "intent" || held[1].Kind != "aborted" || held[1].Reason != "writer_gone" {
		t.Errorf("the stream open at the kill has entries %+v, want its intent and an aborted entry (writer_gone)", held)
	}
	if rl := c.reload; rl.done {
		// The reload: one config.reload entry, from replica 2's file,
		// applied, with the new policy's hash; the streams in flight
		// across it ran under the old policy, as do the other replicas'
		// requests after it; replica 2's refusal under the new one.
		if len(reloads) != 1 || reloads[0].Target != c.replicas[2].cfgPath || reloads[0].Details["result"] != "applied" {
			t.Errorf("config.reload entries %+v, want one applied reload of %s", reloads, c.replicas[2].cfgPath)
		} else {
			newPolicy := reloads[0].Details["policy_hash"]
			policyOf := func(id string) string {
				if es := byReq[id]; len(es) > 0 {
					return es[0].Policy
				}
				return "(no entry)"
			}
			oldPolicy := policyOf(rl.streams[0])
			if newPolicy == "" || oldPolicy == newPolicy {
				t.Errorf("policy before the reload %q, after %q", oldPolicy, newPolicy)
			}
			for _, id := range rl.streams {
				if got := policyOf(id); got != oldPolicy {
					t.Errorf("stream in flight across the reload recorded under policy %s, want the old %s", got, oldPolicy)
				}
			}
			for _, id := range rl.elsewhere {
				if got := policyOf(id); got != oldPolicy {
					t.Errorf("a request to a replica not reloaded recorded under policy %s, want the old %s", got, oldPolicy)
				}
			}
			if got := policyOf(rl.denied); got != newPolicy {
				t.Errorf("the refusal after the reload recorded under policy %s, want the new %s", got, newPolicy)
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	missing := 0
	for id, status := range c.answered {
		es := byReq[id]
		var good bool
		switch {
		case status == http.StatusOK:
			good = len(es) == 2 && es[0].Kind == "intent" && es[1].Kind == "completion" && es[1].Status == status
		case len(es) == 1:
			good = es[0].Kind == "request" && es[0].Status == status
		case len(es) == 2:
			good = es[0].Kind == "intent" && es[1].Kind == "completion" && es[1].Status == status
		}
		if !good {
			if missing++; missing <= 5 {
				t.Errorf("request %s answered %d has entries %+v", id, status, es)
			}
		}
	}
	statuses := map[int]int{}
	for _, s := range c.answered {
		statuses[s]++
	}
	t.Logf("audit log: %d entries (%d intents, %d completions, %d aborted), indices 0..%d once each; %d answers the client saw (by status %v) all recorded: %v",
		size, intents, completions, aborted, size-1, len(c.answered), statuses, missing == 0)
}

// clusterUpstream is the stand-in model behind the replicas. It answers
// chat completions with the user's text (tokens and all, so the gateway
// restores them; the load's after 25ms), remembers the token of a "ref MARKER" request and says
// it again for "repeat MARKER", holds a "hold-stream" stream open until
// its caller goes, and sends a "slow-stream" as slowParts deltas
// slowEvery apart (waiting half-way while holdSlowStreams' gate is shut).
type clusterUpstream struct {
	srv    *httptest.Server
	quit   chan struct{}
	mu     sync.Mutex
	bodies [][]byte
	tokens map[string]string
	gate   chan struct{} // slow streams wait here half-way, when set
	held   int           // slow streams waiting at the gate
}

const (
	slowParts = 20
	slowEvery = 50 * time.Millisecond
)

// holdSlowStreams makes slow streams wait half-way until the returned
// channel is closed.
func (u *clusterUpstream) holdSlowStreams() chan struct{} {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.gate, u.held = make(chan struct{}), 0
	return u.gate
}

// waitHeld waits until n slow streams wait at the gate.
func (u *clusterUpstream) waitHeld(n int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		u.mu.Lock()
		held := u.held
		u.mu.Unlock()
		if held >= n {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

var (
	refRe   = regexp.MustCompile(`\bref (m[0-9a-f]+)`)
	tokenRe = regexp.MustCompile(`\[\[[A-Z_]+:[0-9A-Z]+\]\]`)
)

func newClusterUpstream(t *testing.T) *clusterUpstream {
	u := &clusterUpstream{quit: make(chan struct{}), tokens: map[string]string{}}
	u.srv = httptest.NewServer(u)
	t.Cleanup(func() { close(u.quit); u.srv.Close() })
	return u
}

func (u *clusterUpstream) token(marker string) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.tokens[marker]
}

func (u *clusterUpstream) sawValue(v string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.ContainsFunc(u.bodies, func(b []byte) bool { return bytes.Contains(b, []byte(v)) })
}

func (u *clusterUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req struct {
		Stream   bool `json:"stream"`
		Messages []struct {
			Content string `json:"content"`
		} `json:"messages"`
	}
	if r.URL.Path != "/v1/chat/completions" || json.Unmarshal(body, &req) != nil || len(req.Messages) == 0 {
		http.Error(w, `{"error":{"message":"stand-in: not a chat completion"}}`, http.StatusBadRequest)
		return
	}
	text := req.Messages[len(req.Messages)-1].Content
	u.mu.Lock()
	u.bodies = append(u.bodies, body)
	if m := refRe.FindStringSubmatch(text); m != nil {
		u.tokens[m[1]] = tokenRe.FindString(text)
	}
	reply := text
	if marker, ok := strings.CutPrefix(text, "repeat "); ok {
		reply = "the address on file is " + u.tokens[marker]
	}
	u.mu.Unlock()
	if strings.HasPrefix(text, "Please update") {
		// The load: a model's latency keeps requests (their intents)
		// in flight on the replica that is killed.
		time.Sleep(25 * time.Millisecond)
	}
	if !req.Stream {
		b, _ := json.Marshal(map[string]any{"id": "chatcmpl-cluster", "object": "chat.completion", "created": 0, "model": "gpt-4o-mini",
			"choices": []any{map[string]any{"index": 0, "message": map[string]string{"role": "assistant", "content": reply}, "finish_reason": "stop"}},
			"usage":   map[string]int{"prompt_tokens": 8, "completion_tokens": 8, "total_tokens": 16}})
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	chunk := func(delta string, finish bool) {
		fr := any(nil)
		d := map[string]string{"content": delta}
		if finish {
			fr, d = "stop", map[string]string{}
		}
		b, _ := json.Marshal(map[string]any{"id": "chatcmpl-cluster", "object": "chat.completion.chunk", "created": 0, "model": "gpt-4o-mini",
			"choices": []any{map[string]any{"index": 0, "delta": d, "finish_reason": fr}}})
		fmt.Fprintf(w, "data: %s\n\n", b)
		w.(http.Flusher).Flush()
	}
	switch {
	case strings.HasPrefix(text, "hold-stream"):
		// Text the gateway's stream guard releases at once (it holds
		// back only what may still become a token or a finding).
		chunk("This stream is held open by the model.\n", false)
		chunk("It ends when the replica goes.\n", false)
		select {
		case <-r.Context().Done():
		case <-u.quit:
		}
		return
	case strings.HasPrefix(text, "slow-stream"):
		u.mu.Lock()
		gate := u.gate
		u.mu.Unlock()
		for i := range slowParts {
			chunk(fmt.Sprintf("part-%02d.\n", i), false)
			if i == slowParts/2-1 && gate != nil {
				u.mu.Lock()
				u.held++
				u.mu.Unlock()
				select {
				case <-gate:
				case <-r.Context().Done():
					return
				case <-u.quit:
					return
				}
			}
			select {
			case <-time.After(slowEvery):
			case <-r.Context().Done():
				return
			}
		}
	default:
		chunk(reply, false)
	}
	chunk("", true)
	io.WriteString(w, "data: [DONE]\n\n")
}

// slowText is what a slow stream's deltas join to.
func slowText() string {
	var sb strings.Builder
	for i := range slowParts {
		fmt.Fprintf(&sb, "part-%02d.\n", i)
	}
	return sb.String()
}

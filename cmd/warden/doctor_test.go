package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/testpki"
	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/store/storetest"
)

// doctorRun runs `warden doctor` on cfg with env; dial, when set,
// replaces the network dialer (to reach loopback servers standing in for
// other hosts).
func doctorRun(t *testing.T, env map[string]string, cfg string, dial func(ctx context.Context, network, addr string) (net.Conn, error), extra ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }}
	d := newDoctor(c, cfg, 3*time.Second)
	if dial != nil {
		d.dial = dial
	}
	d.run(context.Background(), cfg)
	code := d.report(len(extra) > 0 && extra[0] == "--json")
	if errb.Len() > 0 {
		t.Fatalf("doctor wrote to stderr: %s", errb.String())
	}
	return code, out.String()
}

// wantLine fails unless out has a line of status for check name holding
// every one of parts.
func wantLine(t *testing.T, out, status, name string, parts ...string) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, status+" ") || !strings.HasPrefix(strings.TrimLeft(line[len(status):], " "), name+": ") {
			continue
		}
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			return
		}
	}
	t.Fatalf("no %s line for %s with %q in:\n%s", status, name, parts, out)
}

func noCanary(t *testing.T, out string, canaries ...string) {
	t.Helper()
	for _, c := range canaries {
		if c != "" && strings.Contains(out, c) {
			t.Fatalf("output holds the secret %q:\n%s", c, out)
		}
	}
}

// setUpQuickstart runs what a first start does on the quickstart config
// with the data in a temporary directory: migrate, then a keys command
// that creates the keyring and records in the audit log (its keys and a
// signed checkpoint).
func setUpQuickstart(t *testing.T) (env map[string]string, quick string) {
	t.Helper()
	env = map[string]string{"WARDEN_DATA_DIR": filepath.Join(t.TempDir(), "data")}
	quick = filepath.Join("..", "..", "examples", "quickstart.yaml")
	if code, _, stderr := cliRun(t, env, "", "migrate", "--config", quick); code != exitOK {
		t.Fatal(stderr)
	}
	if code, _, stderr := cliRun(t, env, "", "keys", "rotate", "--config", quick); code != exitOK {
		t.Fatal(stderr)
	}
	return env, quick
}

// On the quickstart config with the echo upstream, after a first start,
// every check passes; before it, doctor warns (nothing exists yet) but
// does not fail, and creates nothing.
func TestDoctorAllOKOnTheQuickstart(t *testing.T) {
	fresh := map[string]string{"WARDEN_DATA_DIR": filepath.Join(t.TempDir(), "data")}
	quick := filepath.Join("..", "..", "examples", "quickstart.yaml")
	code, out := doctorRun(t, fresh, quick, nil)
	if code != exitOK || strings.Contains(out, "\nFAIL") {
		t.Fatalf("fresh quickstart: exit %d\n%s", code, out)
	}
	wantLine(t, out, "WARN", "store", "does not exist yet", "warden migrate --config")
	wantLine(t, out, "WARN", "keys", "does not exist yet")
	if _, err := os.Stat(fresh["WARDEN_DATA_DIR"]); err == nil {
		t.Fatal("doctor created the data directory")
	}

	env, quick := setUpQuickstart(t)
	code, out = doctorRun(t, env, quick, nil)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(line, "OK ") && !strings.Contains(line, " checks: ") {
			t.Errorf("not OK: %s", line)
		}
	}
	wantLine(t, out, "OK", "config", "parses and validates")
	wantLine(t, out, "OK", "store schema", "current")
	wantLine(t, out, "OK", "store write", "committed")
	wantLine(t, out, "OK", "store disk", "MiB free")
	wantLine(t, out, "OK", "keys", "wrapped and unwrapped a throwaway value")
	wantLine(t, out, "OK", "audit", "signer key unwraps", "latest checkpoint", "verifies")
	wantLine(t, out, "OK", "upstream default", "built-in echo")
	t.Logf("warden doctor on the quickstart:\n%s", out)

	code, js := doctorRun(t, env, quick, nil, "--json")
	var res struct {
		OK     bool
		Counts map[string]int
		Checks []doctorCheck
	}
	if err := json.Unmarshal([]byte(js), &res); code != exitOK || err != nil || !res.OK || res.Counts["fail"] != 0 || res.Counts["warn"] != 0 || len(res.Checks) < 8 {
		t.Fatalf("--json: exit %d %v %s", code, err, js)
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Upstreams: one down is a FAIL naming the address; one up answers GET
// /models with the configured key (never printed); a refused key is a
// WARN; an upstream whose clock is off by 90s fails the clock check; a
// plain http:// upstream off this machine is flagged.
func TestDoctorChecksUpstreams(t *testing.T) {
	const goodKey, badKey = "sk-canary-good-1f2e3d4c", "sk-canary-bad-9a8b7c6d"
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
	)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery] = true
		mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+goodKey {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"data":[]}`))
	}))
	defer up.Close()
	skewed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
	}))
	defer skewed.Close()
	down := closedAddr(t)
	cfg := writeConfig(t, "upstreams:\n"+
		"  - {name: down, url: 'http://"+down+"/v1'}\n"+
		"  - {name: up, url: '"+up.URL+"/v1?key=canary-query-5c6d', key_env: GOOD_KEY}\n"+
		"  - {name: refused, url: '"+up.URL+"/v1', key_env: BAD_KEY}\n"+
		"  - {name: skewed, url: '"+skewed.URL+"/v1'}\n"+
		"  - {name: offsite, url: 'http://llm.corp.example:8000/v1', insecure: true}\n")
	env := map[string]string{"GOOD_KEY": goodKey, "BAD_KEY": badKey}
	// llm.corp.example stands for a host off this machine; the test
	// dials the echo server on loopback in its place (no traffic leaves).
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if strings.HasPrefix(addr, "llm.corp.example:") {
			addr = strings.TrimPrefix(up.URL, "http://")
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	code, out := doctorRun(t, env, cfg, dial)
	if code != exitFailure {
		t.Fatalf("exit %d\n%s", code, out)
	}
	wantLine(t, out, "FAIL", "upstream down", "cannot connect to "+down, "connection refused", "fix:")
	wantLine(t, out, "OK", "upstream up", "GET /models answered 200")
	wantLine(t, out, "WARN", "upstream refused", "answered 401", "credential was refused", "$BAD_KEY")
	wantLine(t, out, "FAIL", "clock", "upstream skewed Date header", "ahead of", "over 30s")
	wantLine(t, out, "OK", "clock", "upstream up Date header")
	wantLine(t, out, "WARN", "upstream offsite", "plain http://", "not loopback", "upstreams[4].insecure")
	noCanary(t, out, goodKey, badKey, "canary-query-5c6d")
	mu.Lock()
	defer mu.Unlock()
	if !seen["GET /v1/models?key=canary-query-5c6d"] || !seen["GET /v1/models?"] {
		t.Fatalf("the upstream saw %v", seen)
	}
	t.Logf("warden doctor with upstreams down, up, refusing, skewed and off-site:\n%s", out)
}

// A stopped store is a FAIL with a fix, and the DSN's password — in its
// user info or its query — appears in nothing doctor, migrate or serve
// print.
func TestDoctorFailsOnAStoppedStoreWithoutPrintingItsPassword(t *testing.T) {
	const pw, qpw = "canary-pw-7f3a9c", "canary-qpw-2b8e41"
	dsn := "postgres://warden:" + pw + "@" + closedAddr(t) + "/warden?sslmode=disable&password=" + qpw
	cfg := writeConfig(t, "store:\n  dsn: '"+dsn+"'\nserver:\n  listen: 127.0.0.1:0\n")
	code, out := doctorRun(t, nil, cfg, nil)
	if code != exitFailure {
		t.Fatalf("exit %d\n%s", code, out)
	}
	wantLine(t, out, "FAIL", "store", "cannot open postgres://warden:xxxxx@127.0.0.1:", "password=xxxxx", "connection refused", "is PostgreSQL running")
	noCanary(t, out, pw, qpw)
	_, js := doctorRun(t, nil, cfg, nil, "--json")
	noCanary(t, js, pw, qpw)
	for _, cmd := range []string{"migrate", "serve"} {
		code, stdout, stderr := cliRun(t, nil, "", cmd, "--config", cfg)
		if code == exitOK || !strings.Contains(stderr, "connect") {
			t.Fatalf("%s on a stopped store: exit %d %q", cmd, code, stderr)
		}
		noCanary(t, stdout+stderr, pw, qpw)
	}
}

// The store's schema states: behind with store.migrate off is a FAIL
// (serve would refuse), behind with auto a WARN, newer a FAIL in both.
func TestDoctorReportsTheSchemaState(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		for _, mode := range []string{"off", "auto"} {
			cfg := writeConfig(t, "store:\n  dsn: "+dsn+"\n  migrate: "+mode+"\n")
			code, out := doctorRun(t, nil, cfg, nil)
			switch {
			case strings.HasPrefix(dsn, "sqlite:") && mode == "off":
				wantLine(t, out, "FAIL", "store", "does not exist", "warden migrate")
			case strings.HasPrefix(dsn, "sqlite:"):
				wantLine(t, out, "WARN", "store", "does not exist yet")
			case mode == "off":
				wantLine(t, out, "FAIL", "store schema", "at version 0", "serve refuses to start", "warden migrate --config")
			default:
				wantLine(t, out, "WARN", "store schema", "at version 0", "serve applies them at start")
			}
			if want := map[string]int{"off": exitFailure, "auto": exitOK}[mode]; code != want {
				t.Fatalf("migrate %s: exit %d, want %d\n%s", mode, code, want, out)
			}
		}
		cfg := writeConfig(t, "store:\n  dsn: "+dsn+"\n")
		if code, _, stderr := cliRun(t, nil, "", "migrate", "--config", cfg); code != exitOK {
			t.Fatal(stderr)
		}
		db := storetest.OpenWith(t, dsn, store.Options{Migrate: store.MigrateManual})
		if _, err := db.Read().Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9000, 'future', 0)"); err != nil {
			t.Fatal(err)
		}
		code, out := doctorRun(t, nil, cfg, nil)
		if code != exitFailure {
			t.Fatalf("newer schema: exit %d\n%s", code, out)
		}
		wantLine(t, out, "FAIL", "store schema", "version 9000", "newer", "upgrade warden")
	})
}

func randomKMS(t *testing.T) string {
	t.Helper()
	k := make([]byte, 32)
	rand.Read(k)
	return "base64key://" + base64.URLEncoding.EncodeToString(k)
}

// A keyring that does not open with the configured root (another KMS
// key, a replaced key file, a missing passphrase), a keyring missing
// next to a store holding sealed keys, and a keyring that is not the
// log's are FAILs; no key is printed.
func TestDoctorFailsOnAWrongKeyringRoot(t *testing.T) {
	t.Run("another KMS key", func(t *testing.T) {
		kmsA, kmsB := randomKMS(t), randomKMS(t)
		dir := t.TempDir()
		write := func(kms string) string {
			p := filepath.Join(dir, "warden.yaml")
			os.WriteFile(p, []byte("data_dir: "+filepath.Join(dir, "data")+"\nkeys:\n  kms: "+kms+"\n"), 0o600)
			return p
		}
		if code, _, stderr := cliRun(t, nil, "", "keys", "rotate", "--config", write(kmsA)); code != exitOK {
			t.Fatal(stderr)
		}
		code, out := doctorRun(t, nil, write(kmsA), nil)
		wantLine(t, out, "OK", "keys kms", "base64key:// KMS encrypted and decrypted a throwaway value")
		wantLine(t, out, "OK", "keys", "KMS key")
		if code != exitOK {
			t.Fatalf("right KMS key: exit %d\n%s", code, out)
		}
		code, out = doctorRun(t, nil, write(kmsB), nil)
		if code != exitFailure {
			t.Fatalf("wrong KMS key: exit %d\n%s", code, out)
		}
		wantLine(t, out, "FAIL", "keys", "fix: use the root")
		wantLine(t, out, "WARN", "audit", "not checked")
		noCanary(t, out, strings.TrimPrefix(kmsA, "base64key://"), strings.TrimPrefix(kmsB, "base64key://"))
	})
	t.Run("a KMS that cannot be opened", func(t *testing.T) {
		cfg := writeConfig(t, "keys:\n  kms: nosuchkms://key-canary-77\n")
		code, out := doctorRun(t, nil, cfg, nil)
		if code != exitFailure {
			t.Fatalf("exit %d\n%s", code, out)
		}
		wantLine(t, out, "FAIL", "keys", "cannot open the nosuchkms:// keeper")
		noCanary(t, out, "key-canary-77")
	})
	t.Run("a replaced key file", func(t *testing.T) {
		env, quick := setUpQuickstart(t)
		k := make([]byte, 32)
		rand.Read(k)
		if err := os.WriteFile(filepath.Join(env["WARDEN_DATA_DIR"], "master.key"), []byte(base64.StdEncoding.EncodeToString(k)), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out := doctorRun(t, env, quick, nil)
		if code != exitFailure {
			t.Fatalf("exit %d\n%s", code, out)
		}
		wantLine(t, out, "FAIL", "keys", "master.key")
		noCanary(t, out, base64.StdEncoding.EncodeToString(k))
	})
	t.Run("an unset passphrase", func(t *testing.T) {
		cfg := writeConfig(t, "keys:\n  passphrase_env: MY_PASSPHRASE\n")
		code, out := doctorRun(t, nil, cfg, nil)
		if code != exitFailure {
			t.Fatalf("exit %d\n%s", code, out)
		}
		wantLine(t, out, "FAIL", "keys", "keys.passphrase_env", "MY_PASSPHRASE")
	})
	t.Run("a keyring missing beside sealed keys", func(t *testing.T) {
		env, quick := setUpQuickstart(t)
		if err := os.Remove(filepath.Join(env["WARDEN_DATA_DIR"], "keyring.json")); err != nil {
			t.Fatal(err)
		}
		code, out := doctorRun(t, env, quick, nil)
		if code != exitFailure {
			t.Fatalf("exit %d\n%s", code, out)
		}
		wantLine(t, out, "FAIL", "keys", "does not exist, but the store holds", "sealed")
	})
	t.Run("another log's keyring", func(t *testing.T) {
		env, quick := setUpQuickstart(t)
		data := env["WARDEN_DATA_DIR"]
		os.Remove(filepath.Join(data, "keyring.json"))
		os.Remove(filepath.Join(data, "master.key"))
		if code, _, stderr := cliRun(t, env, "", "keys", "status", "--config", quick); code != exitOK { // a new keyring
			t.Fatal(stderr)
		}
		code, out := doctorRun(t, env, quick, nil)
		if code != exitFailure {
			t.Fatalf("exit %d\n%s", code, out)
		}
		wantLine(t, out, "OK", "keys", "wrapped and unwrapped")
		wantLine(t, out, "FAIL", "audit", "signer key does not unwrap with this keyring")
	})
	t.Run("a tampered checkpoint", func(t *testing.T) {
		env, quick := setUpQuickstart(t)
		db := storetest.OpenWith(t, "sqlite:"+filepath.Join(env["WARDEN_DATA_DIR"], "warden.db"), store.Options{})
		if _, err := db.Read().Exec("UPDATE audit_checkpoints SET note = CAST('not a note' AS BLOB)"); err != nil {
			t.Fatal(err)
		}
		code, out := doctorRun(t, env, quick, nil)
		if code != exitFailure {
			t.Fatalf("exit %d\n%s", code, out)
		}
		wantLine(t, out, "FAIL", "audit", "latest checkpoint does not verify", "warden audit verify")
	})
}

// On PostgreSQL and Redis: the store's clock is compared, Redis is
// pinged, and a Redis that is down is a FAIL.
func TestDoctorOnPostgresAndRedis(t *testing.T) {
	dsn := storetest.DSN(t, store.Postgres)
	redisAddr := os.Getenv("WARDEN_TEST_REDIS")
	if redisAddr == "" {
		t.Skip("WARDEN_TEST_REDIS is not set")
	}
	limits := "server:\n  limits:\n    default: {requests_per_minute: 60}\n    redis: redis://"
	cfg := writeConfig(t, "store:\n  dsn: "+dsn+"\n  migrate: off\n"+limits+redisAddr+"/0\n")
	if code, _, stderr := cliRun(t, nil, "", "migrate", "--config", cfg); code != exitOK {
		t.Fatal(stderr)
	}
	if code, _, stderr := cliRun(t, nil, "", "keys", "rotate", "--config", cfg); code != exitOK {
		t.Fatal(stderr)
	}
	code, out := doctorRun(t, nil, cfg, nil)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, out)
	}
	wantLine(t, out, "OK", "store", "opens (PostgreSQL")
	wantLine(t, out, "OK", "store schema", "current; store.migrate: off")
	wantLine(t, out, "OK", "store write", "committed")
	wantLine(t, out, "OK", "clock", "PostgreSQL now()")
	wantLine(t, out, "OK", "redis", "answers PING")
	wantLine(t, out, "OK", "audit", "verifies")
	t.Logf("warden doctor on PostgreSQL and Redis:\n%s", out)

	dir := filepath.Dir(cfg)
	down := filepath.Join(dir, "down.yaml")
	os.WriteFile(down, []byte("data_dir: "+filepath.Join(dir, "data")+"\nstore:\n  dsn: "+dsn+"\n"+limits+"user:canary-redis-pw@"+closedAddr(t)+"/0\n"), 0o600)
	code, out = doctorRun(t, nil, down, nil)
	if code != exitFailure {
		t.Fatalf("redis down: exit %d\n%s", code, out)
	}
	wantLine(t, out, "FAIL", "redis", "cannot reach Redis at 127.0.0.1:", "connection refused")
	noCanary(t, out, "canary-redis-pw")
}

// TLS: an upstream behind a private CA connects with its ca_file and
// fails the handshake without it; MCP servers are reached (over HTTP,
// or found as a stdio command); certificates are read as `warden tls
// check` reads them, an expired one failing.
func TestDoctorChecksTLSAndMCP(t *testing.T) {
	dir := t.TempDir()
	serverCA, clientCA := testpki.NewCA(t, "Server CA"), testpki.NewCA(t, "Client CA")
	up := newTLSUpstream(t, serverCA, clientCA)
	caFile := serverCA.WriteCA(t, dir, "server-ca")
	client := clientCA.Issue(t, testpki.Leaf{CN: "warden", Client: true, NotAfter: time.Now().Add(90 * 24 * time.Hour)}).Write(t, dir, "client")
	expired := clientCA.Issue(t, testpki.Leaf{CN: "old", Client: true, NotBefore: time.Now().Add(-72 * time.Hour), NotAfter: time.Now().Add(-time.Hour)}).Write(t, dir, "expired")
	mcpSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusMethodNotAllowed) }))
	defer mcpSrv.Close()
	tlsOf := func(cert *testpki.Pair, ca string) string {
		s := "    tls: {cert_file: " + yamlQuote(cert.CertFile) + ", key_file: " + yamlQuote(cert.KeyFile)
		if ca != "" {
			s += ", ca_file: " + yamlQuote(ca)
		}
		return s + "}\n"
	}
	cfg := writeConfig(t, "upstreams:\n"+
		"  - name: onprem\n    url: "+up.srv.URL+"/v1\n"+tlsOf(client, caFile)+
		"  - name: wrongca\n    url: "+up.srv.URL+"/v1\n"+tlsOf(client, "")+
		"mcp:\n  servers:\n"+
		"    - name: crm\n      url: "+mcpSrv.URL+"/mcp\n"+
		"    - name: notes\n      command: [warden-no-such-command-4f1]\n"+
		"    - name: old\n      url: https://127.0.0.1:1/mcp\n"+strings.Replace(tlsOf(expired, caFile), "    tls", "      tls", 1))
	code, out := doctorRun(t, nil, cfg, nil)
	if code != exitFailure {
		t.Fatalf("exit %d\n%s", code, out)
	}
	wantLine(t, out, "OK", "upstream onprem", "TLS 1.3", "GET /models answered")
	wantLine(t, out, "FAIL", "upstream wrongca", "TLS handshake failed", "upstreams[1].tls")
	wantLine(t, out, "OK", "mcp crm", "HEAD answered 405")
	wantLine(t, out, "FAIL", "mcp notes", "warden-no-such-command-4f1 is not found")
	wantLine(t, out, "FAIL", "mcp old", "cannot connect")
	wantLine(t, out, "OK", "certificate upstreams[0].tls.cert_file", "CN=\"warden\"")
	wantLine(t, out, "FAIL", "certificate mcp.servers[2].tls.cert_file", "EXPIRED", "renew")
	if got := up.seen(); len(got) == 0 || got[0] != "warden" {
		t.Fatalf("the upstream saw client certificates %v", got)
	}
}

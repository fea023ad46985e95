package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/store/storetest"
)

// writeConfig writes a config file into a fresh directory, whose data/
// is the data_dir, and returns its path.
func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "warden.yaml")
	if err := os.WriteFile(path, []byte("data_dir: "+filepath.Join(dir, "data")+"\n"+yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// binarySchema is the newest migration this binary knows on dsn's engine.
func binarySchema(t *testing.T, dsn string) store.Schema {
	t.Helper()
	db, err := store.Open(context.Background(), dsn, store.Options{Migrate: store.MigrateManual})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := db.Schema(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startServe runs `warden serve` until the test ends and returns its
// base URL, or fails with its output when it does not start.
func startMigratedServe(t *testing.T, cfgPath string) string {
	t.Helper()
	var logs syncBuffer
	c := &cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &logs, getenv: func(string) string { return "" }}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- runServe(ctx, c, []string{"--config", cfgPath}) }()
	t.Cleanup(func() {
		stop()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop")
		}
	})
	urlRE := regexp.MustCompile(`"url":"(http://[^"]+)/v1"`)
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := urlRE.FindStringSubmatch(logs.String()); m != nil {
			return m[1]
		}
		select {
		case code := <-done:
			done <- code
			t.Fatalf("serve exited %d: %s", code, logs.String())
		default:
		}
	}
	t.Fatalf("serve did not start: %s", logs.String())
	return ""
}

// With store.migrate off, serve refuses a fresh store with the words
// the operator needs; `warden migrate --dry-run` lists the migrations
// and changes nothing; `warden migrate` applies each once, printing
// progress; then serve starts.
func TestMigrateOffRefusesAFreshStoreUntilWardenMigrate(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		want := binarySchema(t, dsn)
		cfg := writeConfig(t, "store:\n  dsn: "+dsn+"\n  migrate: off\nserver:\n  listen: 127.0.0.1:0\n")
		env := map[string]string{}

		code, _, stderr := cliRun(t, env, "", "serve", "--config", cfg)
		refusal := fmt.Sprintf("store: schema at version 0, this binary needs %d: run 'warden migrate'", want.Want)
		if code != exitUsage || !strings.Contains(stderr, refusal) {
			t.Fatalf("serve on a fresh store with migrate off: exit %d, %q; want %q", code, stderr, refusal)
		}
		// Other commands open the store the same way.
		if code, _, stderr := cliRun(t, env, "", "apikey", "list", "--config", cfg); code == exitOK || !strings.Contains(stderr, refusal) {
			t.Fatalf("apikey list: exit %d, %q", code, stderr)
		}

		for range 2 { // a dry run changes nothing
			code, out, stderr := cliRun(t, env, "", "migrate", "--config", cfg, "--dry-run")
			if code != exitOK || !strings.Contains(out, "schema at version 0; "+fmt.Sprint(len(want.Pending))+" migration(s) would run") {
				t.Fatalf("dry run: exit %d\n%s%s", code, out, stderr)
			}
			for _, m := range want.Pending {
				if !strings.Contains(out, "  "+m.String()+"\n") {
					t.Fatalf("dry run does not list %s:\n%s", m, out)
				}
			}
		}

		code, out, stderr := cliRun(t, env, "", "migrate", "--config", cfg)
		if code != exitOK {
			t.Fatalf("migrate: exit %d: %s", code, stderr)
		}
		progress := regexp.MustCompile(`(?m)^applying (\d{4}_\w+) … done in [0-9.]+m?s$`)
		var applied []string
		for _, m := range progress.FindAllStringSubmatch(out, -1) {
			applied = append(applied, m[1])
		}
		var wantNames []string
		for _, m := range want.Pending {
			wantNames = append(wantNames, m.String())
		}
		if strings.Join(applied, " ") != strings.Join(wantNames, " ") {
			t.Fatalf("migrate applied %v, want %v:\n%s", applied, wantNames, out)
		}
		if !strings.HasSuffix(out, fmt.Sprintf("schema is current (version %d)\n", want.Want)) {
			t.Fatalf("migrate output does not end with the version:\n%s", out)
		}
		t.Logf("warden migrate on a fresh %s store:\n%s", strings.SplitN(dsn, ":", 2)[0], out)

		code, out, _ = cliRun(t, env, "", "migrate", "--config", cfg)
		if code != exitOK || out != fmt.Sprintf("schema is current (version %d)\n", want.Want) {
			t.Fatalf("second migrate: exit %d %q", code, out)
		}

		base := startMigratedServe(t, cfg)
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("readyz %d after migrate", resp.StatusCode)
		}
	})
}

// A schema a newer binary migrated is refused by `warden migrate` and
// by serve in both modes, naming both versions: an old replica does not
// run on it.
func TestNewerSchemaIsRefusedByMigrateAndServe(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		want := binarySchema(t, dsn).Want
		cfg := writeConfig(t, "store:\n  dsn: "+dsn+"\nserver:\n  listen: 127.0.0.1:0\n")
		if code, _, stderr := cliRun(t, nil, "", "migrate", "--config", cfg); code != exitOK {
			t.Fatal(stderr)
		}
		db := storetest.OpenWith(t, dsn, store.Options{Migrate: store.MigrateManual})
		if _, err := db.Read().Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9000, 'from_a_newer_binary', 0)"); err != nil {
			t.Fatal(err)
		}
		names := func(s string) bool {
			return strings.Contains(s, "version 9000") && strings.Contains(s, fmt.Sprintf("version %d", want)) && strings.Contains(s, "newer")
		}
		for _, args := range [][]string{{"migrate"}, {"migrate", "--dry-run"}} {
			code, _, stderr := cliRun(t, nil, "", append(args, "--config", cfg)...)
			if code != exitFailure || !names(stderr) {
				t.Fatalf("%v on a newer schema: exit %d %q", args, code, stderr)
			}
		}
		code, out, _ := cliRun(t, nil, "", "migrate", "--config", cfg, "--json")
		var res migrateResult
		if err := json.Unmarshal([]byte(out), &res); code != exitFailure || err != nil || res.From != 9000 || res.Binary != want || !names(res.Error) {
			t.Fatalf("migrate --json on a newer schema: exit %d %v %s", code, err, out)
		}
		for _, mode := range []string{"auto", "off"} {
			cfg := writeConfig(t, "store:\n  dsn: "+dsn+"\n  migrate: "+mode+"\nserver:\n  listen: 127.0.0.1:0\n")
			code, _, stderr := cliRun(t, nil, "", "serve", "--config", cfg)
			if code != exitUsage || !names(stderr) {
				t.Fatalf("serve (migrate %s) on a newer schema: exit %d %q", mode, code, stderr)
			}
		}
	})
}

func TestStoreMigrateKeyIsValidatedAtStart(t *testing.T) {
	for _, tc := range []struct{ yaml, err string }{
		{"store:\n  migrate: sometimes\n", `store.migrate: "sometimes" is not auto or off`},
		{"store:\n  migrate: off\n", ""},
		{"store:\n  migrate: auto\n", ""},
	} {
		cfg := writeConfig(t, tc.yaml)
		_, err := loadConfig(cfg, func(string) string { return "" })
		if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%q: %v, want %q", tc.yaml, err, tc.err)
		}
	}
	code, _, stderr := cliRun(t, nil, "", "migrate", "--config", writeConfig(t, "store:\n  migrate: sometimes\n"))
	if code != exitUsage || !strings.Contains(stderr, "store.migrate") {
		t.Fatalf("migrate with a bad store.migrate: exit %d %q", code, stderr)
	}
}

// envMigrateHelper makes the test binary a `warden migrate --json`
// process (TestMigrateHelperProcess) on the config it names.
const envMigrateHelper = "WARDEN_TEST_MIGRATE_HELPER_CONFIG"

func TestMigrateHelperProcess(t *testing.T) {
	cfg := os.Getenv(envMigrateHelper)
	if cfg == "" {
		t.Skip("run by TestConcurrentMigrateProcesses")
	}
	c := &cli{stdin: strings.NewReader(""), stdout: os.Stdout, stderr: os.Stderr, getenv: func(string) string { return "" }}
	os.Exit(runMigrate(context.Background(), c, []string{"--config", cfg, "--json"}))
}

// Several `warden migrate` processes on one fresh store (a migration Job
// and replicas starting at once) apply each migration exactly once, in
// one of them, and none fails.
func TestConcurrentMigrateProcesses(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		const n = 4
		want := binarySchema(t, dsn)
		cfg := writeConfig(t, "store:\n  dsn: "+dsn+"\n")
		outs := make([][]byte, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := time.Now()
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := exec.Command(os.Args[0], "-test.run=^TestMigrateHelperProcess$")
				cmd.Env = append(os.Environ(), envMigrateHelper+"="+cfg)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				outs[i], errs[i] = cmd.Output()
				if errs[i] != nil {
					errs[i] = fmt.Errorf("%w: %s", errs[i], stderr.String())
				}
			}()
		}
		wg.Wait()
		took := time.Since(start)
		count := map[int]int{}
		var applied []int
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("process %d: %v", i, errs[i])
			}
			var res migrateResult
			if err := json.NewDecoder(bytes.NewReader(outs[i])).Decode(&res); err != nil {
				t.Fatalf("process %d: %v: %s", i, err, outs[i])
			}
			if res.To != want.Want || len(res.Pending) != 0 {
				t.Fatalf("process %d ended at version %d with %d pending", i, res.To, len(res.Pending))
			}
			applied = append(applied, len(res.Applied))
			for _, m := range res.Applied {
				count[m.Version]++
			}
		}
		if len(count) != len(want.Pending) {
			t.Fatalf("%d distinct migrations applied, want %d", len(count), len(want.Pending))
		}
		for v, k := range count {
			if k != 1 {
				t.Errorf("migration %d applied %d times", v, k)
			}
		}
		t.Logf("%d concurrent warden migrate processes in %s: migrations applied per process %v, each of %d once", n, took.Round(time.Millisecond), applied, len(count))
	})
}

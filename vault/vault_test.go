package vault

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardenhq/warden/keys"
	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/store/storetest"
	"github.com/wardenhq/warden/transform"
)

// env is one test's store and keyring; open makes a Vault on them as a
// separate process would (own store handle, own keyring handle, cold
// caches).
type env struct {
	t       testing.TB
	dsn     string
	keyring string
	root    keys.Root
	opts    store.Options // for every store handle open makes
}

var cheap = keys.Argon2Params{Time: 1, MemoryKiB: 8 * 1024, Threads: 1}

func newEnv(t testing.TB, dsn string) *env {
	return &env{t: t, dsn: dsn, keyring: filepath.Join(t.TempDir(), "keyring.json"), root: keys.Passphrase([]byte("test passphrase"), cheap)}
}

func (e *env) keys() *keys.Keyring {
	e.t.Helper()
	kr, err := keys.Open(context.Background(), keys.Options{Path: e.keyring, Root: e.root, Create: true})
	if err != nil {
		e.t.Fatal(err)
	}
	return kr
}

func (e *env) db() *store.DB { return storetest.OpenWith(e.t, e.dsn, e.opts) }

func (e *env) open(mod ...func(*Config)) *Vault {
	e.t.Helper()
	cfg := Config{Store: e.db(), Keyring: e.keys()}
	for _, m := range mod {
		m(&cfg)
	}
	v, err := New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

func mustToken(t testing.TB, tn *Tenant, typ, value string) string {
	t.Helper()
	tok, err := tn.Token(context.Background(), typ, value)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func mustRestore(t testing.TB, tn *Tenant, text string) string {
	t.Helper()
	out, _, err := tn.Restore(context.Background(), text)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDeterministicTokens(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		v := e.open()
		acme, globex := v.Tenant("acme"), v.Tenant("globex")
		a1 := mustToken(t, acme, "EMAIL_ADDRESS", "alice@example.com")
		cases := []struct {
			name string
			got  string
			same bool
		}{
			{"same value again", mustToken(t, acme, "EMAIL_ADDRESS", "alice@example.com"), true},
			{"new process", mustToken(t, e.open().Tenant("acme"), "EMAIL_ADDRESS", "alice@example.com"), true},
			{"other tenant", mustToken(t, globex, "EMAIL_ADDRESS", "alice@example.com"), false},
			{"other type", mustToken(t, acme, "PERSON", "alice@example.com"), false},
			{"other value", mustToken(t, acme, "EMAIL_ADDRESS", "bob@example.com"), false},
		}
		for _, c := range cases {
			if (c.got == a1) != c.same {
				t.Errorf("%s: token %s vs %s, want same=%v", c.name, c.got, a1, c.same)
			}
		}
		refs := transform.FindTokens(a1)
		if len(refs) != 1 || refs[0].Type != "EMAIL_ADDRESS" || len(refs[0].ID) != 10 {
			t.Fatalf("token %s parses as %+v", a1, refs)
		}
		st, _ := v.Stats(context.Background())
		if st.Tenants != 2 || st.Tokens != 4 {
			t.Fatalf("stats %+v, want 2 tenants 4 tokens", st)
		}
	})
}

func TestRestore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		v := e.open()
		acme := v.Tenant("acme")
		orig := map[string]string{"EMAIL_ADDRESS": "alice@example.com", "US_SSN": "078-05-1120", "PHONE_NUMBER": "+1 415 555 0100"}
		text := "mail {EMAIL_ADDRESS}, ssn {US_SSN}, call {PHONE_NUMBER}; again {EMAIL_ADDRESS}; foreign [[EMAIL_ADDRESS:0000000000000000P]]"
		want := text
		for typ, val := range orig {
			text = strings.ReplaceAll(text, "{"+typ+"}", mustToken(t, acme, typ, val))
			want = strings.ReplaceAll(want, "{"+typ+"}", val)
		}
		for _, tn := range []*Tenant{acme, e.open().Tenant("acme")} { // warm and cold cache
			out, st, err := tn.Restore(context.Background(), text)
			if err != nil {
				t.Fatal(err)
			}
			if st.Restored != 4 {
				t.Errorf("restored %d tokens, want 4 (stats %+v)", st.Restored, st)
			}
			// The fake token may not even parse; what matters is that the
			// four real ones came back and nothing else changed.
			if !strings.HasPrefix(out, want[:strings.Index(want, "; foreign")]) {
				t.Errorf("restore = %q", out)
			}
		}
		// Another tenant restores nothing, and learns nothing.
		for _, tn := range []*Tenant{v.Tenant("globex"), e.open().Tenant("globex")} {
			if out := mustRestore(t, tn, text); out != text {
				t.Errorf("other tenant restored: %q", out)
			}
		}
		mustToken(t, v.Tenant("globex"), "US_SSN", "078-05-1120")
		if out := mustRestore(t, v.Tenant("globex"), text); out != text {
			t.Errorf("other tenant with the same value restored: %q", out)
		}
		// A token with its type changed is not revealed.
		tok := mustToken(t, acme, "US_SSN", "078-05-1120")
		ref := transform.FindTokens(tok)[0]
		ref.Type = "PERSON"
		if _, ok, err := acme.Reveal(context.Background(), ref); ok || err != nil {
			t.Errorf("retyped token revealed: ok=%v err=%v", ok, err)
		}
	})
}

func TestTokenBatch(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		v := e.open()
		acme := v.Tenant("acme")
		var types, values []string
		for i := range 1203 { // spans several statements
			types = append(types, "PERSON")
			values = append(values, fmt.Sprintf("person %d", i%1100)) // with duplicates
		}
		toks, err := acme.TokenBatch(context.Background(), types, values)
		if err != nil {
			t.Fatal(err)
		}
		fresh := e.open().Tenant("acme")
		for _, i := range []int{0, 1, 599, 1099, 1100, 1202} {
			if one := mustToken(t, fresh, types[i], values[i]); one != toks[i] {
				t.Fatalf("item %d: batch %s, single %s", i, toks[i], one)
			}
		}
		if toks[5] != toks[1105] {
			t.Fatal("duplicate value got two tokens")
		}
		st, _ := v.Stats(context.Background())
		if st.Tokens != 1100 {
			t.Fatalf("%d rows, want 1100", st.Tokens)
		}
		text := strings.Join(toks, " ")
		if got := mustRestore(t, fresh, text); got != strings.Join(values, " ") {
			t.Fatal("batch restore differs")
		}
	})
}

func TestBadInput(t *testing.T) {
	e := newEnv(t, storetest.DSN(t, store.SQLite))
	v := e.open()
	ctx := context.Background()
	cases := []struct {
		name   string
		tenant string
		typ    string
		value  string
		want   error
	}{
		{"empty tenant", "", "PERSON", "x", ErrBadTenant},
		{"tenant with space", "a b", "PERSON", "x", ErrBadTenant},
		{"long tenant", strings.Repeat("a", 129), "PERSON", "x", ErrBadTenant},
		{"lower-case type", "acme", "person", "x", ErrBadType},
		{"empty type", "acme", "", "x", ErrBadType},
		{"long value", "acme", "PERSON", strings.Repeat("x", MaxValueLen+1), ErrValueTooLong},
	}
	for _, c := range cases {
		_, err := v.Tenant(c.tenant).Token(ctx, c.typ, c.value)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
		if err != nil && len(c.value) > 1 && strings.Contains(err.Error(), c.value[:10]) {
			t.Errorf("%s: error echoes the value", c.name)
		}
	}
	st, _ := v.Stats(ctx)
	if st.Tokens != 0 {
		t.Fatalf("bad input stored %d tokens", st.Tokens)
	}
	if _, err := v.Tenant("acme").TokenBatch(ctx, []string{"PERSON", "bad type"}, []string{"ok", "x"}); !errors.Is(err, ErrBadType) {
		t.Fatalf("batch with one bad item: %v", err)
	}
	if st, _ := v.Stats(ctx); st.Tokens != 0 {
		t.Fatal("a failed batch stored part of its values")
	}
}

func TestForget(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		v := e.open()
		acme := v.Tenant("acme")
		ctx := context.Background()
		tok := mustToken(t, acme, "EMAIL_ADDRESS", "alice@example.com")
		keep := mustToken(t, acme, "EMAIL_ADDRESS", "bob@example.com")
		mustRestore(t, acme, tok) // warm the cache
		ref := transform.FindTokens(tok)[0]
		ok, err := acme.Forget(ctx, ref)
		if err != nil || !ok {
			t.Fatalf("forget: %v %v", ok, err)
		}
		if got := mustRestore(t, acme, tok+" "+keep); got != tok+" bob@example.com" {
			t.Fatalf("after forget: %q", got)
		}
		if ok, _ := acme.Forget(ctx, ref); ok {
			t.Fatal("forgot twice")
		}
		// Tokenizing again stores it again under the same token.
		if again := mustToken(t, acme, "EMAIL_ADDRESS", "alice@example.com"); again != tok {
			t.Fatalf("re-tokenized as %s, want %s", again, tok)
		}
		if got := mustRestore(t, e.open().Tenant("acme"), tok); got != "alice@example.com" {
			t.Fatalf("after re-tokenize: %q", got)
		}
	})
}

func TestShred(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		v := e.open()
		ctx := context.Background()
		acme := v.Tenant("acme")
		tok := mustToken(t, acme, "EMAIL_ADDRESS", "alice@example.com")
		other := mustToken(t, v.Tenant("globex"), "EMAIL_ADDRESS", "alice@example.com")
		mustRestore(t, acme, tok) // warm caches
		ok, err := v.Shred(ctx, "acme")
		if err != nil || !ok {
			t.Fatalf("shred: %v %v", ok, err)
		}
		for name, tn := range map[string]*Tenant{"same process": acme, "new process": e.open().Tenant("acme")} {
			if got := mustRestore(t, tn, tok); got != tok {
				t.Errorf("%s: shredded token restored", name)
			}
		}
		if got := mustRestore(t, v.Tenant("globex"), other); got != "alice@example.com" {
			t.Errorf("shred hurt another tenant: %q", got)
		}
		var n int
		e.db().Read().QueryRow("SELECT COUNT(*) FROM data_keys k JOIN tenants t ON t.id = k.tenant_id WHERE t.name = 'acme'").Scan(&n)
		if n != 0 {
			t.Fatalf("%d acme data keys left", n)
		}
		// The name can be used again, with new keys: the old token stays dead.
		again := mustToken(t, acme, "EMAIL_ADDRESS", "alice@example.com")
		if again == tok {
			t.Fatal("recreated tenant issues the shredded tenant's token")
		}
		if got := mustRestore(t, acme, tok); got != tok {
			t.Fatal("old token restored by the recreated tenant")
		}
		if ok, _ := v.Shred(ctx, "nobody"); ok {
			t.Fatal("shredded a tenant that does not exist")
		}
	})
}

func TestTamperedRows(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		cases := []struct {
			name   string
			tamper string // SQL run on the store after tokenizing
		}{
			{"value bytes changed", "UPDATE tokens SET value = value || value WHERE type = 'US_SSN'"},
			{"row moved to another tenant", "UPDATE tokens SET tenant_id = (SELECT id FROM tenants WHERE name = 'globex') WHERE type = 'US_SSN'"},
			{"value copied from another row", "UPDATE tokens SET value = (SELECT value FROM tokens WHERE type = 'PERSON' AND tenant_id = (SELECT id FROM tenants WHERE name = 'acme')) WHERE type = 'US_SSN'"},
			{"type changed", "UPDATE tokens SET type = 'PERSON_X' WHERE type = 'US_SSN'"},
			{"wrapped key swapped between tenants", "UPDATE data_keys SET wrapped = (SELECT k.wrapped FROM data_keys k JOIN tenants t ON t.id = k.tenant_id WHERE t.name = 'acme' AND k.purpose = 'dek.value') WHERE purpose = 'dek.value' AND tenant_id = (SELECT id FROM tenants WHERE name = 'globex')"},
		}
		for _, c := range cases {
			t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
				e := newEnv(t, storetest.DSN(t, store.Engine(strings.Split(t.Name(), "/")[1])))
				v := e.open()
				ssn := mustToken(t, v.Tenant("acme"), "US_SSN", "078-05-1120")
				mustToken(t, v.Tenant("acme"), "PERSON", "Alice")
				mustToken(t, v.Tenant("globex"), "PERSON", "Bob")
				res, err := e.db().Read().Exec(c.tamper)
				if err != nil {
					t.Fatal(err)
				}
				if n, _ := res.RowsAffected(); n != 1 {
					t.Fatalf("tamper changed %d rows, want 1", n)
				}
				tenant := "acme"
				if strings.Contains(c.name, "another tenant") || strings.Contains(c.name, "swapped") {
					tenant = "globex"
				}
				ref := transform.FindTokens(ssn)[0]
				if c.name == "type changed" {
					ref.Type = "PERSON_X"
				}
				val, ok, err := e.open().Tenant(tenant).Reveal(ctx, ref)
				if c.name == "wrapped key swapped between tenants" {
					// The key itself fails to unwrap: every reveal errs.
					if err == nil {
						t.Fatalf("swapped key: reveal ok=%v", ok)
					}
					return
				}
				if err == nil {
					t.Fatalf("tampered row revealed ok=%v value len %d", ok, len(val))
				}
				if strings.Contains(err.Error(), "078") {
					t.Fatalf("error echoes the value: %v", err)
				}
			})
		}
		_ = dsn
	})
}

func TestRotateRewrapRetire(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newEnv(t, dsn)
		v := e.open()
		tok := mustToken(t, v.Tenant("acme"), "US_SSN", "078-05-1120")
		kr := e.keys()
		if _, err := kr.Rotate(ctx); err != nil {
			t.Fatal(err)
		}
		// Old version still decrypts, in a fresh process.
		if got := mustRestore(t, e.open().Tenant("acme"), tok); got != "078-05-1120" {
			t.Fatalf("after rotate: %q", got)
		}
		// New tenants' keys use version 2.
		mustToken(t, v.Tenant("globex"), "US_SSN", "1")
		st, _ := v.Stats(ctx)
		if st.DataKeys[1] != 2 || st.DataKeys[2] != 2 {
			t.Fatalf("data keys per version %v, want 1:2 2:2", st.DataKeys)
		}
		// Retiring v1 before rewrapping breaks acme, with a clear error.
		e2 := *e
		e2.keyring = filepath.Join(t.TempDir(), "copy.json")
		copyFile(t, e.keyring, e2.keyring)
		if err := e2.keys().Retire(ctx, 1); err != nil {
			t.Fatal(err)
		}
		cold := e2.open().Tenant("acme")
		if _, _, err := cold.Restore(ctx, tok); !errors.Is(err, keys.ErrRetired) {
			t.Fatalf("restore under a retired key: %v, want ErrRetired", err)
		}
		// Rewrap moves everything to v2; then retiring v1 is harmless.
		n, err := v.Rewrap(ctx)
		if err != nil || n != 2 {
			t.Fatalf("rewrap moved %d: %v", n, err)
		}
		if n, _ := v.Rewrap(ctx); n != 0 {
			t.Fatalf("second rewrap moved %d", n)
		}
		st, _ = v.Stats(ctx)
		if st.DataKeys[1] != 0 || st.DataKeys[2] != 4 {
			t.Fatalf("after rewrap %v", st.DataKeys)
		}
		if err := kr.Retire(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if got := mustRestore(t, e.open().Tenant("acme"), tok); got != "078-05-1120" {
			t.Fatalf("after rewrap and retire: %q", got)
		}
	})
}

func TestConcurrentWriters(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		e.open() // create the keyring once
		const writers, n = 4, 600
		values := make([]string, n)
		types := make([]string, n)
		for i := range values {
			values[i], types[i] = fmt.Sprintf("v%04d@example.com", i), "EMAIL_ADDRESS"
		}
		results := make([][]string, writers)
		errs := make([]error, writers)
		var wg sync.WaitGroup
		for w := range writers {
			v := e.open() // own store handle and keyring: another process
			wg.Add(1)
			go func() {
				defer wg.Done()
				tn := v.Tenant("acme")
				for start := 0; start < n; start += 50 {
					// Writers walk the values in different orders.
					lo := (start + w*150) % n
					toks, err := tn.TokenBatch(context.Background(), types[lo:lo+50], values[lo:lo+50])
					if err != nil {
						errs[w] = err
						return
					}
					if results[w] == nil {
						results[w] = make([]string, n)
					}
					copy(results[w][lo:], toks)
				}
			}()
		}
		wg.Wait()
		for w, err := range errs {
			if err != nil {
				t.Fatalf("writer %d: %v", w, err)
			}
		}
		for w := 1; w < writers; w++ {
			for i := range n {
				if results[w][i] != results[0][i] {
					t.Fatalf("value %d: writer %d got %s, writer 0 %s", i, w, results[w][i], results[0][i])
				}
			}
		}
		st, _ := e.open().Stats(context.Background())
		if st.Tokens != n || st.Tenants != 1 || st.DataKeys[1] != 2 {
			t.Fatalf("stats %+v, want %d tokens, 1 tenant, 2 keys", st, n)
		}
	})
}

func TestRetention(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newEnv(t, dsn)
		now := time.Unix(1_800_000_000, 0)
		var mu sync.Mutex
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		v := e.open(func(c *Config) {
			c.Now = clock
			c.TTL = map[string]time.Duration{"US_SSN": time.Hour}
		})
		tn := v.Tenant("acme")
		ssn := mustToken(t, tn, "US_SSN", "078-05-1120")
		mail := mustToken(t, tn, "EMAIL_ADDRESS", "a@example.com")
		text := ssn + " " + mail
		if got := mustRestore(t, tn, text); got != "078-05-1120 a@example.com" {
			t.Fatalf("before expiry: %q", got)
		}
		advance(61 * time.Minute)
		if got := mustRestore(t, tn, text); got != ssn+" a@example.com" {
			t.Fatalf("after expiry: %q", got)
		}
		// Seen again: renewed under the same token.
		if again := mustToken(t, tn, "US_SSN", "078-05-1120"); again != ssn {
			t.Fatal("renewal changed the token")
		}
		if got := mustRestore(t, tn, ssn); got != "078-05-1120" {
			t.Fatalf("after renewal: %q", got)
		}
		advance(2 * time.Hour)
		n, err := v.Purge(ctx)
		if err != nil || n != 1 {
			t.Fatalf("purge: %d %v", n, err)
		}
		if st, _ := v.Stats(ctx); st.Tokens != 1 {
			t.Fatalf("%d tokens after purge", st.Tokens)
		}
	})
}

func TestShredByAnotherProcess(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		a, b := e.open(), e.open()
		tok := mustToken(t, a.Tenant("acme"), "PERSON", "Alice") // a caches acme's keys
		if ok, err := b.Shred(context.Background(), "acme"); !ok || err != nil {
			t.Fatal(ok, err)
		}
		// a still holds acme's keys, but its next write notices.
		again := mustToken(t, a.Tenant("acme"), "PERSON", "Bob")
		if got := mustRestore(t, b.Tenant("acme"), again); got != "Bob" {
			t.Fatalf("write after a remote shred did not land: %q", got)
		}
		if got := mustRestore(t, b.Tenant("acme"), tok); got != tok {
			t.Fatal("shredded token restored")
		}
	})
}

package auditindex_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/audit/event"
	"github.com/wardenhq/warden/auditindex"
	"github.com/wardenhq/warden/keys"
	"github.com/wardenhq/warden/store"
	"github.com/wardenhq/warden/store/storetest"
)

var t0 = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

func category(typ string) string {
	return map[string]string{"EMAIL_ADDRESS": "PII", "CREDIT_CARD": "FINANCIAL", "AWS_ACCESS_KEY": "SECRET"}[typ]
}

type fixture struct {
	db  *store.DB
	log *audit.Log
	idx *auditindex.Index
}

func newFixture(t *testing.T, dsn string) *fixture {
	t.Helper()
	dir := t.TempDir()
	kr, err := keys.Open(context.Background(), keys.Options{
		Path: filepath.Join(dir, "keyring.json"), Root: keys.KeyFile(filepath.Join(dir, "master.key"), true), Create: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.Open(t, dsn)
	l, err := audit.Open(context.Background(), audit.Config{Store: db, Keyring: kr, Origin: "example.com/index-test", CheckpointInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	x, err := auditindex.New(auditindex.Config{Store: db, Category: category, Batch: 7})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, log: l, idx: x}
}

// traffic records n requests of a scripted mix: every fifth is refused
// before the upstream (policy_denied, with a credential found), the rest
// go upstream as an intent and a completion. Request i is at t0 + i
// minutes, from principal p<i%3> of tenant t<i%2>, to model m<i%2>.
func (f *fixture) traffic(t *testing.T, n int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Minute)
		base := event.Record{Time: at, RequestID: fmt.Sprintf("req-%d", i), Principal: fmt.Sprintf("p%d", i%3),
			Tenant: fmt.Sprintf("t%d", i%2), Credential: "apikey", Endpoint: "chat", Model: fmt.Sprintf("m%d", i%2),
			Upstream: "up", Zone: []string{"cloud", "onprem"}[i%2], Policy: "sha256:00"}
		if i%5 == 0 {
			ev := base
			ev.Kind, ev.Intent, ev.Decision, ev.Status, ev.Error = event.Request, -1, "deny", 403, "policy_denied"
			ev.Findings = map[string]int{"AWS_ACCESS_KEY": 1}
			if _, err := f.log.Record(ctx, &ev); err != nil {
				t.Fatal(err)
			}
			continue
		}
		ev := base
		ev.Kind, ev.Intent, ev.Decision = event.Intent, -1, "deidentify"
		ev.Findings = map[string]int{"EMAIL_ADDRESS": 2, "CREDIT_CARD": 1}
		idx, err := f.log.Record(ctx, &ev)
		if err != nil {
			t.Fatal(err)
		}
		c := event.Record{Kind: event.Completion, Intent: idx, Time: at.Add(time.Second), RequestID: base.RequestID,
			Principal: base.Principal, Tenant: base.Tenant, Status: 200, Restored: 2, Leaks: i % 4 / 3}
		if _, err := f.log.Record(ctx, &c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.log.RecordAdmin(ctx, audit.AdminEvent{Time: t0, Action: "apikey.create", Actor: "cli:root", Target: "k1", Tenant: "t0"}); err != nil {
		t.Fatal(err)
	}
}

func TestIndexFollowsTheLog(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn)
		f.traffic(t, 50) // 10 refused + 40 pairs + 1 admin = 91 entries
		ctx := context.Background()
		var seen [][2]int64
		if err := f.idx.CatchUp(ctx, func(next, size int64) { seen = append(seen, [2]int64{next, size}) }); err != nil {
			t.Fatal(err)
		}
		if next, _ := f.idx.Next(ctx); next != 91 {
			t.Fatalf("indexed up to %d, want 91", next)
		}
		if len(seen) < 91/7 || seen[len(seen)-1] != [2]int64{91, 91} {
			t.Fatalf("progress %v", seen)
		}

		all, err := f.idx.Entries(ctx, auditindex.Filter{}, -1, 500)
		if err != nil {
			t.Fatal(err)
		}
		if len(all.Entries) != 91 || all.Next != nil || all.Entries[0].Index != 90 || all.Entries[90].Index != 0 {
			t.Fatalf("%d entries, next %v", len(all.Entries), all.Next)
		}
		admin := all.Entries[0]
		if admin.Kind != "admin" || admin.Principal != "cli:root" || admin.Action != "apikey.create" || admin.Target != "k1" {
			t.Fatalf("admin entry %+v", admin)
		}
		// Entry 2 is the completion of request 1 (intent 1): it carries
		// its intent's model and zone.
		c := all.Entries[90-2]
		if c.Kind != "completion" || c.Intent != 1 || c.Model != "m1" || c.Zone != "onprem" || c.Status != 200 || c.Restored != 2 || c.Endpoint != "chat" {
			t.Fatalf("completion %+v", c)
		}
		if r := all.Entries[90]; r.Kind != "request" || r.Error != "policy_denied" || r.Findings["AWS_ACCESS_KEY"] != 1 || r.Time != "2026-03-04T10:00:00.000000Z" {
			t.Fatalf("request %+v", r)
		}

		// Filters, and keyset pagination over them.
		var got []int64
		before := int64(-1)
		for pages := 0; ; pages++ {
			p, err := f.idx.Entries(ctx, auditindex.Filter{Principal: "p1", Kind: "intent"}, before, 4)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range p.Entries {
				if e.Principal != "p1" || e.Kind != "intent" {
					t.Fatalf("filter let through %+v", e)
				}
				got = append(got, e.Index)
			}
			if p.Next == nil {
				break
			}
			if pages > 20 {
				t.Fatal("pagination does not end")
			}
			before = *p.Next
		}
		// p1 sends requests 1, 4, 7 … 49; those not divisible by 5 are intents.
		want := 0
		for i := 1; i < 50; i += 3 {
			if i%5 != 0 {
				want++
			}
		}
		if len(got) != want {
			t.Fatalf("%d intents of p1, want %d", len(got), want)
		}
		for i := 1; i < len(got); i++ {
			if got[i] >= got[i-1] {
				t.Fatalf("not newest first: %v", got)
			}
		}
		for _, c := range []struct {
			f    auditindex.Filter
			want int
		}{
			{auditindex.Filter{Status: 403}, 10},
			{auditindex.Filter{Decision: "deny", Tenant: "t0"}, 5},
			{auditindex.Filter{Model: "m0", Kind: "completion"}, 20},
			{auditindex.Filter{Error: "policy_denied", Model: "m1"}, 5},
			{auditindex.Filter{Since: t0.Add(10 * time.Minute), Until: t0.Add(20 * time.Minute), Kind: "intent"}, 8},
			{auditindex.Filter{Since: t0.Add(time.Hour)}, 0},
			{auditindex.Filter{Action: "apikey.create"}, 1},
		} {
			p, err := f.idx.Entries(ctx, c.f, -1, 500)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Entries) != c.want {
				t.Errorf("filter %+v: %d entries, want %d", c.f, len(p.Entries), c.want)
			}
		}

		// The overview and flows sum the rollups.
		w, err := auditindex.NewWindow(t0, t0.Add(2*time.Hour), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		o, err := f.idx.Overview(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		leaks := int64(0)
		for i := range 50 {
			if i%5 != 0 {
				leaks += int64(i % 4 / 3)
			}
		}
		wantTotals := auditindex.Totals{Requests: 50, Refusals: 10, Findings: 10 + 40*3, Leaks: leaks, Restores: 80}
		if o.Totals != wantTotals {
			t.Fatalf("totals %+v, want %+v", o.Totals, wantTotals)
		}
		if len(o.Series) != 2 || o.Series[0].T != t0.Unix() || o.Series[0].Totals != wantTotals || o.Series[1].Requests != 0 {
			t.Fatalf("series %+v", o.Series)
		}
		if !reflect.DeepEqual(o.FindingsByCategory, map[string]int64{"PII": 80, "FINANCIAL": 40, "SECRET": 10}) ||
			!reflect.DeepEqual(o.RefusalsByReason, map[string]int64{"policy_denied": 10}) ||
			o.FindingsByType["EMAIL_ADDRESS"] != 80 || o.Series[0].Categories["SECRET"] != 10 {
			t.Fatalf("overview %+v", o)
		}
		if len(o.ByModel) != 2 || o.ByModel[0].Requests != 25 {
			t.Fatalf("by model %+v", o.ByModel)
		}
		links, err := f.idx.Flows(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		var reqs, fin int64
		for _, l := range links {
			if l.Category == "SECRET" {
				t.Fatalf("a refused request is a flow: %+v", l)
			}
			if l.Category == "PII" {
				reqs += l.Count
				fin += l.Findings
			}
		}
		if reqs != 40 || fin != 80 {
			t.Fatalf("PII flows: %d requests, %d findings", reqs, fin)
		}

		// A rebuild gives the same index.
		if err := f.idx.Rebuild(ctx, nil); err != nil {
			t.Fatal(err)
		}
		again, err := f.idx.Entries(ctx, auditindex.Filter{}, -1, 500)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(again, all) {
			t.Fatal("rebuilt index differs")
		}
		o2, err := f.idx.Overview(ctx, w)
		if err != nil || !reflect.DeepEqual(o2, o) {
			t.Fatalf("rebuilt overview differs: %v", err)
		}
	})
}

// Several gateways tailing one log index each entry once: the rollups
// count every request once however the batches fell.
func TestIndexersOnOneStoreIndexEachEntryOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn)
		f.traffic(t, 60)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for range 3 {
			x, err := auditindex.New(auditindex.Config{Store: storetest.Open(t, dsn), Category: category, Batch: 5})
			if err != nil {
				t.Fatal(err)
			}
			wg.Go(func() { x.Run(ctx, 5*time.Millisecond, func(err error) { t.Error(err) }) })
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			next, err := f.idx.Next(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if next == 109 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("indexed %d of 109", next)
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		wg.Wait()
		w, _ := auditindex.NewWindow(t0, t0.Add(2*time.Hour), time.Hour)
		o, err := f.idx.Overview(context.Background(), w)
		if err != nil {
			t.Fatal(err)
		}
		if o.Totals.Requests != 60 || o.Totals.Refusals != 12 {
			t.Fatalf("totals %+v", o.Totals)
		}
		p, err := f.idx.Entries(context.Background(), auditindex.Filter{}, -1, 500)
		if err != nil || len(p.Entries) != 109 {
			t.Fatalf("%d entries, %v", len(p.Entries), err)
		}
	})
}

func TestWindow(t *testing.T) {
	w, err := auditindex.NewWindow(t0.Add(30*time.Minute), t0.Add(3*time.Hour), time.Hour)
	if err != nil || w.From != t0.Unix() || w.To != t0.Add(3*time.Hour).Unix() {
		t.Fatalf("%+v %v", w, err)
	}
	w, err = auditindex.NewWindow(t0, t0.Add(3*time.Hour+time.Second), time.Hour)
	if err != nil || w.To != t0.Add(4*time.Hour).Unix() {
		t.Fatalf("%+v %v", w, err)
	}
	for _, c := range []struct {
		since, until time.Time
		step         time.Duration
	}{
		{t0, t0, time.Hour}, {t0, t0.Add(time.Hour), 30 * time.Minute}, {t0, t0.Add(10000 * time.Hour), time.Hour},
	} {
		if _, err := auditindex.NewWindow(c.since, c.until, c.step); err == nil {
			t.Errorf("window %v–%v step %s accepted", c.since, c.until, c.step)
		}
	}
}

// Flows over windows of whole days and of odd hours sum the daily and
// hourly rollups to what counting the requests gives.
func TestFlowsOverDaysAndHours(t *testing.T) {
	f := newFixture(t, storetest.DSN(t, store.SQLite))
	ctx := context.Background()
	day0 := t0.Truncate(24 * time.Hour)
	var times []time.Time
	for i := range 30 {
		at := day0.Add(time.Duration(i*7) * time.Hour).Add(time.Duration(i) * time.Minute)
		times = append(times, at)
		ev := event.Record{Kind: event.Intent, Intent: -1, Time: at, RequestID: fmt.Sprint(i), Principal: "p", Tenant: "t",
			Model: "m", Zone: "z", Decision: "allow", Findings: map[string]int{"EMAIL_ADDRESS": 1 + i%2}}
		if i%3 == 0 {
			ev.Findings = nil
		}
		if _, err := f.log.Record(ctx, &ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.idx.CatchUp(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ from, to time.Duration }{
		{0, 72 * time.Hour}, {5 * time.Hour, 200 * time.Hour}, {23 * time.Hour, 49 * time.Hour}, {30 * time.Hour, 40 * time.Hour}, {0, 300 * time.Hour},
	} {
		w, err := auditindex.NewWindow(day0.Add(c.from), day0.Add(c.to), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		links, err := f.idx.Flows(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][2]int64{}
		for _, l := range links {
			got[l.Category] = [2]int64{l.Count, l.Findings}
		}
		want := map[string][2]int64{}
		for i, at := range times {
			if at.Unix() < w.From || at.Unix() >= w.To {
				continue
			}
			if i%3 == 0 {
				v := want[""]
				want[""] = [2]int64{v[0] + 1, 0}
				continue
			}
			v := want["PII"]
			want["PII"] = [2]int64{v[0] + 1, v[1] + int64(1+i%2)}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("window %s–%s: flows %v, want %v", c.from, c.to, got, want)
		}
	}
}

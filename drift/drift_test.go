package drift

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// trace is a deterministic multi-week stream of events shaped like real
// traffic: each principal's finding rates follow the hour of the day
// (busy 8–18 UTC, quiet at night) and the day of the week (weekends
// quieter), with Poisson noise from a fixed seed.
type trace struct {
	rng   *rand.Rand
	idx   int64
	start time.Time
	// mute silences the steady streams of a principal.
	mute map[string]bool
}

// A Monday, 00:00 UTC.
var traceStart = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

type stream struct {
	principal, model, typ string
	base                  float64 // findings per busy weekday hour
}

var steadyStreams = []stream{
	{"alice", "gpt-4o-mini", "EMAIL_ADDRESS", 20},
	{"alice", "gpt-4o-mini", "PERSON", 8},
	{"alice", "claude-sonnet", "EMAIL_ADDRESS", 3},
	{"bob", "gpt-4o-mini", "PHONE_NUMBER", 12},
	{"bob", "gpt-4o-mini", "EMAIL_ADDRESS", 5},
	{"carol", "claude-sonnet", "PERSON", 40},
	{"carol", "claude-sonnet", "LOCATION", 1},
}

// shape is the share of the busy rate at hour-of-week slot h.
func shape(h int) float64 {
	day, hour := h/24, h%24
	f := 0.05
	switch {
	case hour >= 8 && hour < 18:
		f = 1
	case hour >= 6 && hour < 21:
		f = 0.4
	}
	if day >= 5 {
		f *= 0.2
	}
	return f
}

func poisson(r *rand.Rand, lambda float64) int {
	// Knuth's method, split for large λ.
	n := 0
	for lambda > 30 {
		n += poisson(r, 30)
		lambda -= 30
	}
	l, p := math.Exp(-lambda), 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return n
		}
		n++
	}
}

// hour emits one hour of steady traffic starting at t, each count split
// over a few requests spread in the hour.
func (tr *trace) hour(t time.Time, emit func(Event)) {
	h := slotOf(bucketOf(t))
	for _, s := range steadyStreams {
		n := poisson(tr.rng, s.base*shape(h))
		if tr.mute[s.principal] {
			n = 0
		}
		for n > 0 {
			k := min(n, 1+tr.rng.IntN(4))
			n -= k
			tr.emit(t.Add(time.Duration(tr.rng.Int64N(int64(time.Hour)))), Event{Principal: s.principal, Model: s.model,
				Findings: map[string]int{s.typ: k}}, emit)
		}
	}
	for _, p := range []string{"alice", "bob", "carol"} {
		// Every principal makes requests with no findings too, and is
		// refused now and then.
		tr.emit(t.Add(time.Minute), Event{Principal: p, Model: "gpt-4o-mini"}, emit)
		for range poisson(tr.rng, 2*shape(h)) {
			tr.emit(t.Add(time.Duration(tr.rng.Int64N(int64(time.Hour)))), Event{Principal: p, Model: "gpt-4o-mini", Refused: true, Error: "policy_denied"}, emit)
		}
	}
}

func (tr *trace) emit(t time.Time, ev Event, emit func(Event)) {
	ev.Time, ev.Index = t, tr.idx
	tr.idx++
	emit(ev)
}

// run feeds hours [from, to) of steady traffic (plus extra, called at
// the start of each hour) to d, advancing every 10 minutes of trace
// time, and returns the alerts. Events within an hour are sorted by
// time, as the log has them.
func (tr *trace) run(d *Detector, from, to int, extra func(t time.Time, emit func(Event))) []Alert {
	var out []Alert
	for h := from; h < to; h++ {
		t := tr.start.Add(time.Duration(h) * time.Hour)
		var evs []Event
		collect := func(ev Event) { evs = append(evs, ev) }
		tr.hour(t, collect)
		if extra != nil {
			extra(t, func(ev Event) { tr.emit(ev.Time, ev, collect) })
		}
		slices.SortStableFunc(evs, func(a, b Event) int { return a.Time.Compare(b.Time) })
		next := t
		for _, ev := range evs {
			for !ev.Time.Before(next) {
				out = append(out, d.Advance(next)...)
				next = next.Add(10 * time.Minute)
			}
			d.Observe(ev)
		}
		for ; next.Before(t.Add(time.Hour)); next = next.Add(10 * time.Minute) {
			out = append(out, d.Advance(next)...)
		}
	}
	return out
}

func newTrace() *trace {
	return &trace{rng: rand.New(rand.NewPCG(16, 2026)), start: traceStart}
}

func describe(as []Alert) string {
	var b strings.Builder
	for _, a := range as {
		fmt.Fprintf(&b, "\n  %s %s %s %s %s/%s value=%v baseline=%.1f σ=%.1f at %s", a.Kind, a.Principal, a.Model, a.Type,
			a.Server, a.Tool, a.Value, a.Baseline, a.Sigma, a.Time.Format(time.RFC3339))
	}
	return b.String()
}

const weekHours = 168

// Six weeks of steady traffic with the usual daily and weekly swings
// raise no alert, drops included, whatever the noise (three seeds).
func TestSteadyTraceFiresNothing(t *testing.T) {
	for _, c := range []struct {
		drops bool
		seed  uint64
	}{{false, 2026}, {true, 2026}, {false, 1}, {true, 2}} {
		t.Run(fmt.Sprintf("drops=%v seed=%d", c.drops, c.seed), func(t *testing.T) {
			d, err := New(Config{Drops: c.drops})
			if err != nil {
				t.Fatal(err)
			}
			tr := &trace{rng: rand.New(rand.NewPCG(16, c.seed)), start: traceStart}
			if got := tr.run(d, 0, 6*weekHours, nil); len(got) != 0 {
				t.Fatalf("steady trace raised %d alerts:%s", len(got), describe(got))
			}
			st := d.Stats()
			if st.Series[Findings] != len(steadyStreams) || st.Series[Refusals] != 3 || st.Dropped != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// The shift: after three weeks of steady traffic, in one Tuesday busy
// hour, alice's EMAIL_ADDRESS findings go ×10, bob sends a CREDIT_CARD
// for the first time, carol's answer leaks, alice is refused 40 times
// and an MCP tool's definition is refused as changed. Each fires exactly
// its alert, and the steady traffic around it fires nothing.
func TestShiftFiresExactlyTheExpectedAlerts(t *testing.T) {
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	tr := newTrace()
	if got := tr.run(d, 0, 3*weekHours+24+10, nil); len(got) != 0 {
		t.Fatalf("steady weeks raised alerts:%s", describe(got))
	}
	shiftHour := 3*weekHours + 24 + 10 // Tuesday 10:00
	shift := func(t time.Time, emit func(Event)) {
		// ×10: nine times the usual busy hour on top of it, over the hour.
		for i := range 36 {
			emit(Event{Time: t.Add(time.Duration(i) * 100 * time.Second), Principal: "alice", Model: "gpt-4o-mini",
				Findings: map[string]int{"EMAIL_ADDRESS": 5}})
		}
		emit(Event{Time: t.Add(20 * time.Minute), Principal: "bob", Model: "gpt-4o-mini",
			Findings: map[string]int{"CREDIT_CARD": 1, "PHONE_NUMBER": 1}})
		emit(Event{Time: t.Add(25 * time.Minute), Principal: "carol", Model: "claude-sonnet", Leaks: 2})
		emit(Event{Time: t.Add(25*time.Minute + time.Second), Principal: "carol", Model: "claude-sonnet", Leaks: 1})
		for i := range 40 {
			code := "model_not_allowed"
			if i%4 == 0 {
				code = "policy_denied"
			}
			emit(Event{Time: t.Add(30*time.Minute + time.Duration(i)*time.Second), Principal: "alice", Model: "gpt-4o",
				Refused: true, Error: code})
		}
		emit(Event{Time: t.Add(40 * time.Minute), Principal: "bob", Refused: true, Error: "tool_not_approved",
			Tool: &ToolRefusal{Server: "crm", Tool: "search", Hash: "sha256:" + strings.Repeat("ab", 32), Changed: true}})
		// The same refused definition again: no second alert.
		emit(Event{Time: t.Add(41 * time.Minute), Principal: "bob", Refused: true, Error: "tool_not_approved",
			Tool: &ToolRefusal{Server: "crm", Tool: "search", Hash: "sha256:" + strings.Repeat("ab", 32), Changed: true}})
	}
	got := tr.run(d, shiftHour, shiftHour+1, shift)
	got = append(got, tr.run(d, shiftHour+1, shiftHour+weekHours, nil)...)

	type want struct {
		kind                  Kind
		principal, model, typ string
	}
	wants := []want{
		{RateDeparture, "alice", "gpt-4o-mini", "EMAIL_ADDRESS"},
		{NewFindingType, "bob", "gpt-4o-mini", "CREDIT_CARD"},
		{Leak, "carol", "claude-sonnet", ""},
		{RefusalSpike, "alice", "", ""},
		{ToolChanged, "bob", "", ""},
	}
	if len(got) != len(wants) {
		t.Fatalf("%d alerts, want %d:%s", len(got), len(wants), describe(got))
	}
	for _, w := range wants {
		i := slices.IndexFunc(got, func(a Alert) bool {
			return a.Kind == w.kind && a.Principal == w.principal && a.Model == w.model && a.Type == w.typ
		})
		if i < 0 {
			t.Errorf("no %s alert for %s %s %s:%s", w.kind, w.principal, w.model, w.typ, describe(got))
			continue
		}
		a := got[i]
		switch a.Kind {
		case RateDeparture:
			// It fires as soon as the hour's count crosses the threshold.
			if a.Value < 40 || a.Z < 5 || a.Baseline < 10 || a.Baseline > 30 || a.Severity != Warning || !a.Bucket.Equal(traceStart.Add(time.Duration(shiftHour)*time.Hour)) {
				t.Errorf("rate alert %+v", a)
			}
		case Leak:
			if a.Value != 3 || a.Entries != 2 || a.Severity != Critical {
				t.Errorf("leak alert %+v", a)
			}
		case RefusalSpike:
			if a.Value < 20 || a.Z < 5 || a.Codes["model_not_allowed"] < 10 || !strings.Contains(a.Message(), "by error: model_not_allowed") {
				t.Errorf("refusal alert %+v: %s", a, a.Message())
			}
		case ToolChanged:
			if a.Server != "crm" || a.Tool != "search" || a.Severity != Critical {
				t.Errorf("tool alert %+v", a)
			}
		}
	}
}

// A principal's first weeks are its warm-up: no baseline or new-type
// alert however its traffic moves.
func TestWarmupSilencesNewPrincipals(t *testing.T) {
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	tr := newTrace()
	got := tr.run(d, 0, 6*24, func(ts time.Time, emit func(Event)) {
		if ts.Hour() == 12 {
			emit(Event{Time: ts.Add(time.Minute), Principal: "alice", Model: "gpt-4o-mini",
				Findings: map[string]int{"EMAIL_ADDRESS": 500, "US_SSN": 1}})
		}
	})
	if len(got) != 0 {
		t.Fatalf("warm-up raised alerts:%s", describe(got))
	}
}

// When a busy hour goes silent, Drops says so once.
func TestDropFiresWhenTrafficStops(t *testing.T) {
	d, err := New(Config{Drops: true})
	if err != nil {
		t.Fatal(err)
	}
	tr := newTrace()
	if got := tr.run(d, 0, 3*weekHours+10, nil); len(got) != 0 {
		t.Fatalf("steady weeks raised alerts:%s", describe(got))
	}
	// carol (40 PERSON findings a busy hour) stops for two hours.
	tr.mute = map[string]bool{"carol": true}
	got := tr.run(d, 3*weekHours+10, 3*weekHours+12, nil)
	tr.mute = nil
	got = append(got, tr.run(d, 3*weekHours+12, 3*weekHours+13, nil)...)
	if len(got) != 2 || got[0].Kind != RateDrop || got[0].Principal != "carol" || got[0].Type != "PERSON" || got[0].Value != 0 {
		t.Fatalf("alerts:%s", describe(got))
	}
}

// A detector restored from its persisted records raises the same alerts
// as one that never stopped, and does not raise again what it raised
// before the stop.
func TestRestoreNeitherRefiresNorForgets(t *testing.T) {
	shift := func(t time.Time, emit func(Event)) {
		if t.Weekday() == time.Wednesday && t.Hour() == 11 && t.After(traceStart.Add(2*weekHours*time.Hour)) {
			for i := range 20 {
				emit(Event{Time: t.Add(time.Duration(i) * time.Minute), Principal: "bob", Model: "gpt-4o-mini",
					Findings: map[string]int{"PHONE_NUMBER": 10}})
			}
			emit(Event{Time: t.Add(30 * time.Minute), Principal: "carol", Model: "claude-sonnet", Findings: map[string]int{"IBAN_CODE": 1}})
		}
	}
	whole, _ := New(Config{})
	want := newTrace().run(whole, 0, 4*weekHours, shift)
	if len(want) < 2 { // a rate alert and a new type on the first shifted Wednesday
		t.Fatalf("uninterrupted run: %d alerts:%s", len(want), describe(want))
	}

	// The same trace, stopped and restored every 37 hours, from records
	// kept as a store would keep them.
	cfg := Config{}
	d, _ := New(cfg)
	var global []byte
	rows := map[Key][]byte{}
	persist := func() {
		ch := d.Changes()
		if ch.Global != nil {
			global = ch.Global
		}
		for _, r := range ch.Series {
			rows[r.Key] = r.Data
		}
	}
	tr := newTrace()
	var got []Alert
	for h := 0; h < 4*weekHours; h += 37 {
		got = append(got, tr.run(d, h, min(h+37, 4*weekHours), shift)...)
		persist()
		recs := make([]SeriesRecord, 0, len(rows))
		for k, b := range rows {
			recs = append(recs, SeriesRecord{Key: k, Data: b})
		}
		var err error
		if d, err = Restore(cfg, global, recs); err != nil {
			t.Fatal(err)
		}
		if again := d.Advance(tr.start.Add(time.Duration(min(h+37, 4*weekHours)) * time.Hour)); len(again) != 0 {
			t.Fatalf("restored detector raised again:%s", describe(again))
		}
	}
	if describe(got) != describe(want) {
		t.Fatalf("restored run:%s\nuninterrupted:%s", describe(got), describe(want))
	}
	for k := range rows {
		c1, e1, s1, _ := whole.Baseline(k)
		c2, e2, s2, _ := d.Baseline(k)
		if c1 != c2 || math.Abs(e1-e2) > 1e-9 || math.Abs(s1-s2) > 1e-9 {
			t.Errorf("%s: restored (%v %v %v), uninterrupted (%v %v %v)", k, c2, e2, s2, c1, e1, s1)
		}
	}
}

// Alert messages name principals, models, types and counts, and hold
// nothing else of an event.
func TestMessagesCarryNamesAndCounts(t *testing.T) {
	bucket := time.Date(2026, 3, 3, 14, 0, 0, 0, time.UTC)
	cases := []struct {
		a    Alert
		want string
	}{
		{Alert{Kind: RateDeparture, Principal: "alice", Model: "gpt-4o", Type: "EMAIL_ADDRESS", Value: 200, Baseline: 20.26, Sigma: 4.5, Bucket: bucket},
			"EMAIL_ADDRESS findings for principal alice on model gpt-4o: 200 in the hour from 2026-03-03 14:00 UTC, baseline 20.3 (σ 4.5)"},
		{Alert{Kind: NewFindingType, Principal: "bob", Model: "gpt-4o", Type: "CREDIT_CARD", Value: 1},
			"first CREDIT_CARD finding for principal bob on model gpt-4o: 1 in one request; its requests never carried this type before"},
		{Alert{Kind: Leak, Principal: "carol", Model: "m", Value: 3, Entries: 2},
			"3 sensitive value(s) in model output for principal carol on model m that were not in the request (2 completion(s)); the response guard rewrote them"},
		{Alert{Kind: RefusalSpike, Principal: "alice", Value: 40, Baseline: 1, Sigma: 1, Bucket: bucket, Codes: map[string]int{"policy_denied": 10, "model_not_allowed": 30}},
			"40 refused requests for principal alice in the hour from 2026-03-03 14:00 UTC, baseline 1 (σ 1); by error: model_not_allowed 30, policy_denied 10"},
		{Alert{Kind: ToolChanged, Principal: "bob", Server: "crm", Tool: "search", Hash: "sha256:" + strings.Repeat("0f", 32)},
			"MCP tool search of server crm: its definition changed since it was approved (now sha256:0f0f0f0f0f0f…); calls are refused until it is approved again; refused call by principal bob"},
	}
	for _, c := range cases {
		if got := c.a.Message(); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.a.Kind, got, c.want)
		}
	}
}

// Series beyond MaxSeries are counted, not tracked, and raise nothing.
func TestMaxSeriesBoundsState(t *testing.T) {
	d, _ := New(Config{MaxSeries: 3, Warmup: time.Hour})
	t0 := traceStart
	for i := range 10 {
		d.Observe(Event{Time: t0, Principal: "p", Model: "m", Findings: map[string]int{fmt.Sprintf("T%d", i): 1}})
	}
	st := d.Stats()
	if n := st.Series[Findings] + st.Series[Refusals]; n != 3 || st.Dropped != 8 {
		t.Fatalf("stats %+v", st)
	}
}

func TestConfigRefusesNonsense(t *testing.T) {
	for _, c := range []Config{{Sigma: -1}, {MinRatio: 0.5}, {SlotWeeks: 300}, {HalfLife: time.Minute}, {SlotHalfLife: 24 * time.Hour}, {MinCount: math.NaN()}} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
}

func TestSlotOfMondayMidnightIsZero(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		slot int
	}{
		{time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), 0},      // Monday
		{time.Date(2026, 1, 4, 23, 59, 0, 0, time.UTC), 167},  // Sunday
		{time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), 72},     // Thursday
		{time.Date(1969, 12, 31, 23, 30, 0, 0, time.UTC), 71}, // before the epoch
	} {
		if got := slotOf(bucketOf(c.t)); got != c.slot {
			t.Errorf("slot of %s = %d, want %d", c.t, got, c.slot)
		}
	}
}

func TestCorruptSeriesRecordRefused(t *testing.T) {
	s := &series{first: 1, bucket: 2, count: 3, codes: map[string]int{"x": 1}}
	s.slots[5] = slot{mean: 1, vari: 2, n: 3}
	b := s.marshal()
	for i := range len(b) {
		if _, err := unmarshalSeries(b[:i]); err == nil {
			t.Fatalf("a record cut at %d of %d bytes was accepted", i, len(b))
		}
	}
	if _, err := unmarshalSeries(append(b, 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
	got, err := unmarshalSeries(b)
	if err != nil || got.slots[5] != s.slots[5] || got.codes["x"] != 1 || got.count != 3 {
		t.Fatalf("round trip: %+v %v", got, err)
	}
}

package drift

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// Config tunes a [Detector]. The zero value of every field is its
// documented default.
type Config struct {
	// Sigma is k: how many spreads above its expectation an hour's count
	// must be to alert. Default 5.
	Sigma float64
	// MinCount is c: the least absolute excess over the expectation that
	// alerts, so a quiet series does not alert on a handful of events.
	// Default 10.
	MinCount float64
	// MinRatio is r: the count must also be at least r times the
	// expectation. Default 1.5; 1 turns the condition off.
	MinRatio float64
	// Warmup is how old a series (and, for new finding types, a
	// principal) must be before it alerts. Default 168h (a week).
	Warmup time.Duration
	// SlotWeeks is how many weeks of an hour-of-week slot its own
	// baseline needs before it replaces the overall one. Default 2.
	SlotWeeks int
	// HalfLife is the half-life of the overall baseline, in hours of
	// traffic (rounded down to whole hours, at least 1). Default 24h.
	HalfLife time.Duration
	// SlotHalfLife is the half-life of the hour-of-week baselines, in
	// weeks (rounded down to whole weeks, at least 1). Default 4 weeks
	// (672h).
	SlotHalfLife time.Duration
	// Grace is how long after an hour ends its bucket stays open for
	// entries still being written. Default 2m.
	Grace time.Duration
	// Drops also alerts when an hour's count falls far below its
	// expectation. Default false.
	Drops bool
	// MaxSeries bounds the series tracked (findings and refusals
	// together). Default 10000.
	MaxSeries int
}

// withDefaults fills the zero fields and checks the others.
func (c Config) withDefaults() (Config, error) {
	if c.Sigma == 0 {
		c.Sigma = 5
	}
	if c.MinCount == 0 {
		c.MinCount = 10
	}
	if c.MinRatio == 0 {
		c.MinRatio = 1.5
	}
	if c.Warmup == 0 {
		c.Warmup = 336 * time.Hour
	}
	if c.SlotWeeks == 0 {
		c.SlotWeeks = 2
	}
	if c.HalfLife == 0 {
		c.HalfLife = 24 * time.Hour
	}
	if c.SlotHalfLife == 0 {
		c.SlotHalfLife = 4 * 168 * time.Hour
	}
	if c.Grace == 0 {
		c.Grace = 2 * time.Minute
	}
	if c.MaxSeries == 0 {
		c.MaxSeries = 10000
	}
	switch {
	case c.Sigma < 0 || math.IsNaN(c.Sigma) || math.IsInf(c.Sigma, 0):
		return c, errors.New("drift: Sigma must be a positive number")
	case c.MinCount < 0 || math.IsNaN(c.MinCount) || math.IsInf(c.MinCount, 0):
		return c, errors.New("drift: MinCount must not be negative")
	case c.MinRatio < 1 || math.IsNaN(c.MinRatio) || math.IsInf(c.MinRatio, 0):
		return c, errors.New("drift: MinRatio must be at least 1")
	case c.Warmup < 0, c.Grace < 0:
		return c, errors.New("drift: Warmup and Grace must not be negative")
	case c.SlotWeeks < 1 || c.SlotWeeks > 255:
		return c, errors.New("drift: SlotWeeks must be between 1 and 255")
	case c.HalfLife < time.Hour:
		return c, errors.New("drift: HalfLife must be at least 1h")
	case c.SlotHalfLife < 168*time.Hour:
		return c, errors.New("drift: SlotHalfLife must be at least 168h (a week)")
	case c.MaxSeries < 0:
		return c, errors.New("drift: MaxSeries must not be negative")
	}
	return c, nil
}

// SeriesKind says what a series counts.
type SeriesKind string

// Series kinds.
const (
	// Findings counts findings of one type in one principal's requests
	// to one model.
	Findings SeriesKind = "findings"
	// Refusals counts one principal's refused requests.
	Refusals SeriesKind = "refusals"
)

// Key names a series. Refusal series have no Model or Type.
type Key struct {
	Kind      SeriesKind
	Principal string
	Model     string
	Type      string
}

// Event is what one audit entry tells the detector: names and counts,
// never content.
type Event struct {
	// Index is the entry's index in the audit log.
	Index int64
	// Time is the entry's time.
	Time time.Time
	// Principal made the request ("unauthenticated" when unknown).
	Principal string
	// Model is the configured model the request named ("" when none).
	Model string
	// Findings are the findings in the request by type (request and
	// intent entries).
	Findings map[string]int
	// Refused says the request was refused with a 4xx before any
	// upstream call, with error code Error.
	Refused bool
	Error   string
	// Leaks are sensitive values in the model's output that were not in
	// the request (completion entries).
	Leaks int
	// Tool is set when the request was an MCP call refused because of
	// the tool's definition.
	Tool *ToolRefusal
}

// ToolRefusal is an MCP call refused for its tool's definition.
type ToolRefusal struct {
	Server, Tool string
	// Hash is the refused definition's hash (toolpin.Hash).
	Hash string
	// Changed says the definition differs from its pin (a rug pull);
	// otherwise it was never approved or holds hidden instructions.
	Changed bool
}

// Stats describe the detector's series, for metrics.
type Stats struct {
	// Series counts the series tracked, by kind.
	Series map[SeriesKind]int
	// Dropped counts series not tracked because MaxSeries was reached.
	Dropped int64
	// MaxDeparture is the largest departure z (see Alert.Z) among the series
	// with events in the open bucket that are past warm-up, by kind (0
	// when none).
	MaxDeparture map[SeriesKind]float64
	// Active counts the series whose open bucket is above its alert
	// threshold, by kind.
	Active map[SeriesKind]int
}

// Detector holds the baselines and runs the detectors. It is not safe
// for concurrent use.
type Detector struct {
	cfg         Config
	alpha, beta float64
	warmup      int64 // buckets

	open    int64 // the open bucket; noBucket before the first event
	series  map[Key]*series
	types   map[string]map[string]bool // principal → finding types seen
	tools   map[toolKey]string         // (server, tool) → last alerted hash
	dropped int64

	dirty   map[Key]bool
	touched map[Key]bool // series with events in the open bucket
	global  bool         // open, tools or dropped changed

	pending []Alert
	leaks   map[leakKey]int // index into pending of the open leak alert
}

type toolKey struct{ server, tool string }
type leakKey struct{ principal, model string }

const noBucket = math.MinInt64

// New returns a detector with no history.
func New(cfg Config) (*Detector, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	hl := math.Max(1, math.Floor(cfg.HalfLife.Hours()))
	shl := math.Max(1, math.Floor(cfg.SlotHalfLife.Hours()/168))
	return &Detector{
		cfg:     cfg,
		alpha:   1 - math.Pow(2, -1/hl),
		beta:    1 - math.Pow(2, -1/shl),
		warmup:  int64(cfg.Warmup / time.Hour),
		open:    noBucket,
		series:  map[Key]*series{},
		types:   map[string]map[string]bool{},
		tools:   map[toolKey]string{},
		dirty:   map[Key]bool{},
		touched: map[Key]bool{},
		leaks:   map[leakKey]int{},
	}, nil
}

// bucketOf is the hour of t.
func bucketOf(t time.Time) int64 {
	s := t.Unix()
	b := s / 3600
	if s < 0 && s%3600 != 0 {
		b--
	}
	return b
}

func bucketTime(b int64) time.Time { return time.Unix(b*3600, 0).UTC() }

// Observe counts one audit entry's event. Alerts it raises are returned
// by the next Advance.
func (d *Detector) Observe(ev Event) {
	if ev.Principal == "" {
		return
	}
	b := bucketOf(ev.Time)
	if b > d.open {
		d.moveTo(b)
	}
	b = d.open
	if ps := d.touch(Key{Kind: Refusals, Principal: ev.Principal}, b); ps != nil && ev.Refused {
		ps.count++
		if ev.Error != "" {
			if ps.codes == nil {
				ps.codes = map[string]int{}
			}
			if _, ok := ps.codes[ev.Error]; ok || len(ps.codes) < 64 {
				ps.codes[ev.Error]++
			}
		}
		d.checkUp(Key{Kind: Refusals, Principal: ev.Principal}, ps, ev)
	}
	if len(ev.Findings) > 0 {
		types := make([]string, 0, len(ev.Findings))
		for t, n := range ev.Findings {
			if n > 0 && t != "" {
				types = append(types, t)
			}
		}
		sort.Strings(types) // alerts in a stable order
		for _, t := range types {
			d.observeFinding(ev, b, t, ev.Findings[t])
		}
	}
	if ev.Leaks > 0 {
		k := leakKey{ev.Principal, ev.Model}
		if i, ok := d.leaks[k]; ok {
			d.pending[i].Value += float64(ev.Leaks)
			d.pending[i].Entries++
		} else {
			d.leaks[k] = len(d.pending)
			d.pending = append(d.pending, Alert{Kind: Leak, Severity: Critical, Time: ev.Time, Index: ev.Index,
				Principal: ev.Principal, Model: ev.Model, Value: float64(ev.Leaks), Entries: 1})
		}
	}
	if tr := ev.Tool; tr != nil && tr.Hash != "" {
		k := toolKey{tr.Server, tr.Tool}
		if d.tools[k] != tr.Hash {
			d.tools[k] = tr.Hash
			d.global = true
			a := Alert{Kind: ToolUnapproved, Severity: Warning, Time: ev.Time, Index: ev.Index,
				Principal: ev.Principal, Model: ev.Model, Server: tr.Server, Tool: tr.Tool, Hash: tr.Hash, Value: 1, Entries: 1}
			if tr.Changed {
				a.Kind, a.Severity = ToolChanged, Critical
			}
			d.pending = append(d.pending, a)
		}
	}
}

func (d *Detector) observeFinding(ev Event, b int64, typ string, n int) {
	k := Key{Kind: Findings, Principal: ev.Principal, Model: ev.Model, Type: typ}
	_, known := d.series[k]
	s := d.touch(k, b)
	if s == nil {
		return
	}
	if !known && !d.types[ev.Principal][typ] {
		if d.types[ev.Principal] == nil {
			d.types[ev.Principal] = map[string]bool{}
		}
		d.types[ev.Principal][typ] = true
		if ps := d.series[Key{Kind: Refusals, Principal: ev.Principal}]; ps != nil && b-ps.first >= d.warmup {
			d.pending = append(d.pending, Alert{Kind: NewFindingType, Severity: Warning, Time: ev.Time, Index: ev.Index,
				Principal: ev.Principal, Model: ev.Model, Type: typ, Value: float64(n), Entries: 1})
		}
	}
	s.count += float64(n)
	d.checkUp(k, s, ev)
}

// touch returns the series of k moved to bucket b, creating it; nil
// when MaxSeries is reached.
func (d *Detector) touch(k Key, b int64) *series {
	s := d.series[k]
	if s == nil {
		if len(d.series) >= d.cfg.MaxSeries {
			d.dropped++
			d.global = true
			return nil
		}
		s = &series{first: b, bucket: b}
		d.series[k] = s
	} else {
		s.advance(b, d.alpha, d.beta)
	}
	d.dirty[k] = true
	d.touched[k] = true
	return s
}

// verdict compares the open bucket's count x of s with its baseline:
// the expected count e, its spread in counts, the departure z in
// spreads of the stab scale, and whether x is above (or below) the
// alert thresholds.
type verdict struct {
	e, spread, z float64
	above, below bool
}

func (d *Detector) judge(s *series) verdict {
	m, sd := s.baseline(d.cfg.SlotWeeks, d.alpha, d.beta)
	x := s.count
	var v verdict
	v.e, v.spread = expected(m, sd)
	v.z = (stab(x) - m) / sd
	c, k, r := d.cfg.MinCount, d.cfg.Sigma, d.cfg.MinRatio
	v.above = v.z >= k && x-v.e >= c && x >= r*v.e
	v.below = -v.z >= k && v.e-x >= c && x*r <= v.e
	return v
}

// checkUp fires the series' up alert once its open bucket departs.
func (d *Detector) checkUp(k Key, s *series, ev Event) {
	if s.fired || s.bucket-s.first < d.warmup {
		return
	}
	v := d.judge(s)
	if !v.above {
		return
	}
	s.fired = true
	a := Alert{Kind: RateDeparture, Severity: Warning, Time: ev.Time, Index: ev.Index,
		Principal: k.Principal, Model: k.Model, Type: k.Type, Value: s.count, Baseline: v.e, Sigma: v.spread, Z: v.z,
		Bucket: bucketTime(s.bucket), Entries: 1}
	if k.Kind == Refusals {
		a.Kind = RefusalSpike
		a.Codes = make(map[string]int, len(s.codes))
		for c, n := range s.codes {
			a.Codes[c] = n
		}
	}
	d.pending = append(d.pending, a)
}

// moveTo makes b the open bucket. With Drops, every series is brought
// to b and each closed bucket checked.
func (d *Detector) moveTo(b int64) {
	prev := d.open
	d.open = b
	d.global = true
	clear(d.touched)
	if !d.cfg.Drops || prev == noBucket {
		return
	}
	keys := make([]Key, 0, len(d.series))
	for k := range d.series {
		keys = append(keys, k)
	}
	sortKeys(keys)
	for _, k := range keys {
		s := d.series[k]
		if k.Kind != Findings {
			if s.advance(b, d.alpha, d.beta) {
				d.dirty[k] = true
			}
			continue
		}
		// Each closed bucket: the series' own, then the empty hours up
		// to b (only the last two of a long gap, so an idle series is not
		// checked for every empty hour).
		start := s.bucket
		for c := start; c < b; c++ {
			if c > start && c < b-2 {
				c = b - 2
			}
			if s.advance(c, d.alpha, d.beta) {
				d.dirty[k] = true
			}
			if c-s.first < d.warmup {
				continue
			}
			if v := d.judge(s); v.below {
				d.pending = append(d.pending, Alert{Kind: RateDrop, Severity: Info, Time: bucketTime(c + 1),
					Index: -1, Principal: k.Principal, Model: k.Model, Type: k.Type, Value: s.count, Baseline: v.e, Sigma: v.spread, Z: v.z,
					Bucket: bucketTime(c)})
			}
		}
		if s.advance(b, d.alpha, d.beta) {
			d.dirty[k] = true
		}
	}
}

func sortKeys(keys []Key) {
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Principal != b.Principal {
			return a.Principal < b.Principal
		}
		if a.Model != b.Model {
			return a.Model < b.Model
		}
		return a.Type < b.Type
	})
}

// Advance closes the open bucket once now is Config.Grace past its end,
// and returns the alerts raised since the last Advance, in the order of
// the entries that raised them.
func (d *Detector) Advance(now time.Time) []Alert {
	if d.open != noBucket {
		if b := bucketOf(now.Add(-d.cfg.Grace)); b > d.open {
			d.moveTo(b)
		}
	}
	out := d.pending
	d.pending = nil
	clear(d.leaks)
	return out
}

// Open is the start of the open bucket (zero before the first event).
func (d *Detector) Open() time.Time {
	if d.open == noBucket {
		return time.Time{}
	}
	return bucketTime(d.open)
}

// Stats describes the series now.
func (d *Detector) Stats() Stats {
	st := Stats{Series: map[SeriesKind]int{}, Dropped: d.dropped,
		MaxDeparture: map[SeriesKind]float64{}, Active: map[SeriesKind]int{}}
	for k := range d.series {
		st.Series[k.Kind]++
	}
	for k := range d.touched {
		s := d.series[k]
		if s == nil || s.bucket != d.open || s.bucket-s.first < d.warmup {
			continue
		}
		v := d.judge(s)
		if v.z > st.MaxDeparture[k.Kind] {
			st.MaxDeparture[k.Kind] = v.z
		}
		if v.above {
			st.Active[k.Kind]++
		}
	}
	return st
}

// Baseline reports the expectation and spread of series k for its open
// bucket, and whether the series exists; for tests and diagnostics.
func (d *Detector) Baseline(k Key) (count, expect, spread float64, ok bool) {
	s := d.series[k]
	if s == nil {
		return 0, 0, 0, false
	}
	v := d.judge(s)
	return s.count, v.e, v.spread, true
}

func (k Key) String() string {
	if k.Kind == Refusals {
		return fmt.Sprintf("refusals(%s)", k.Principal)
	}
	return fmt.Sprintf("findings(%s, %s, %s)", k.Principal, k.Model, k.Type)
}

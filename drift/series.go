package drift

import "math"

// slotsPerWeek is the number of hour-of-week slots.
const slotsPerWeek = 168

// maxGap bounds the empty hours folded into a series at once: after 16
// weeks of nothing, more zeros change no baseline of half-life ≤ 4
// weeks by more than float precision matters.
const maxGap = 16 * slotsPerWeek

// slotOf is the hour-of-week slot of bucket b: 0 is Monday 00:00 UTC.
// Bucket 0 (1970-01-01 00:00 UTC) was a Thursday, slot 72.
func slotOf(b int64) int {
	s := (b + 72) % slotsPerWeek
	if s < 0 {
		s += slotsPerWeek
	}
	return int(s)
}

// slot is the hour-of-week baseline of one slot. It is kept in float32,
// as it is stored, so a restored detector computes what the running one
// would have.
type slot struct {
	mean, vari float32
	n          uint8 // weeks folded in, saturating
}

// series is one counted series: the open bucket's count and the
// baselines of the buckets before it.
type series struct {
	first  int64   // bucket of the first event
	bucket int64   // the bucket count belongs to
	count  float64 // events in bucket
	fired  bool    // an up alert fired for bucket
	mean   float64 // overall baseline μ
	vari   float64 // overall variance σ²
	n      uint32  // buckets folded into the overall baseline
	slots  [slotsPerWeek]slot
	// codes are the error codes of the refusals in bucket (refusal
	// series only).
	codes map[string]int
}

// ewma folds x into the exponentially weighted mean m and variance v
// of n earlier samples, with weight w = max(base, 1/(n+1)): the first
// samples are averaged plainly (a first sample alone is no baseline),
// later ones weighted by base.
func ewma(m, v, x, base float64, n uint32) (float64, float64) {
	w := max(base, 1/float64(n+1))
	d := x - m
	return m + w*d, (1 - w) * (v + w*d*d)
}

// stab is the variance-stabilising transform of a count (Anscombe):
// √(x + 3/8) of a Poisson count has variance ≈ 1/4 whatever its mean.
func stab(x float64) float64 { return math.Sqrt(x + 3.0/8) }

// poissonVar is the variance of stab(x) for a Poisson count x.
const poissonVar = 0.25

// fold adds bucket b's count x to the baselines (kept on the stab
// scale).
func (s *series) fold(b int64, x, alpha, beta float64) {
	y := stab(x)
	s.mean, s.vari = ewma(s.mean, s.vari, y, alpha, s.n)
	if s.n < math.MaxUint32 {
		s.n++
	}
	sl := &s.slots[slotOf(b)]
	m, v := ewma(float64(sl.mean), float64(sl.vari), y, beta, uint32(sl.n))
	sl.mean, sl.vari = float32(m), float32(v)
	if sl.n < math.MaxUint8 {
		sl.n++
	}
}

// advance moves the series to bucket b: the open count is folded into
// the baselines, then one zero per empty hour up to b. It reports
// whether anything changed.
func (s *series) advance(b int64, alpha, beta float64) bool {
	if b <= s.bucket {
		return false
	}
	s.fold(s.bucket, s.count, alpha, beta)
	from := s.bucket + 1
	if b-from > maxGap {
		from = b - maxGap
	}
	for e := from; e < b; e++ {
		s.fold(e, 0, alpha, beta)
	}
	s.bucket, s.count, s.fired = b, 0, false
	clear(s.codes)
	return true
}

// baseline is the open bucket's baseline on the stab scale: the mean
// m and the spread sd a departure is measured in (see the package doc).
func (s *series) baseline(slotWeeks int, alpha, beta float64) (m, sd float64) {
	m, v, n, w := s.mean, s.vari, float64(s.n), alpha
	if sl := s.slots[slotOf(s.bucket)]; int(sl.n) >= slotWeeks {
		m, v, n, w = float64(sl.mean), float64(sl.vari), float64(sl.n), beta
	}
	if n == 0 {
		m = stab(0)
	}
	neff := max(1, min(n, (2-w)/w))
	return m, math.Sqrt(max(v, poissonVar) * (1 + 1/neff))
}

// expected turns a stab-scale baseline back into counts: the expected
// count e and the spread in counts around it (delta method).
func expected(m, sd float64) (e, spread float64) {
	e = max(0, m*m-3.0/8)
	return e, 2 * m * sd
}

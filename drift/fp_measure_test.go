package drift

import (
	"math/rand/v2"
	"os"
	"testing"
	"time"
)

// TestMeasureFalseAlertRate measures how often steady Poisson traffic
// (the trace of drift_test.go, 40 seeds × 8 weeks) crosses the rate
// thresholds for several k. It is a measurement, not a check: set
// DRIFT_MEASURE=1 to run it (about 30 s). docs/ALERTS.md quotes its
// numbers.
func TestMeasureFalseAlertRate(t *testing.T) {
	if os.Getenv("DRIFT_MEASURE") == "" {
		t.Skip("set DRIFT_MEASURE=1 to measure")
	}
	const seeds, weeks = 40, 8
	for _, k := range []float64{3, 4, 5} {
		alerts := 0
		for seed := uint64(0); seed < seeds; seed++ {
			d, _ := New(Config{Sigma: k})
			tr := &trace{rng: rand.New(rand.NewPCG(seed, 7)), start: traceStart}
			alerts += len(tr.run(d, 0, weeks*weekHours, nil))
		}
		// Alerts can fire from week 3 (after the two-week warm-up).
		seriesWeeks := seeds * (weeks - 2) * (len(steadyStreams) + 3)
		t.Logf("k=%v: %d false alerts in %d series-weeks (%.2g per series-week); warm-up %s",
			k, alerts, seriesWeeks, float64(alerts)/float64(seriesWeeks), 336*time.Hour)
	}
}

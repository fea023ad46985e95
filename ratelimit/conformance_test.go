package ratelimit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// limiter is what the gateway needs; both implementations satisfy it.
type limiter interface {
	Take(ctx context.Context, key string, lim Limit, tokens int) (Result, error)
	Adjust(ctx context.Context, key string, lim Limit, deltaTokens int) error
}

var (
	_ limiter = (*Memory)(nil)
	_ limiter = (*Redis)(nil)
)

// fakeClock is a settable clock for deterministic tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// step is one call in a scenario: advance the clock, then Take (or
// Adjust when adjust != 0) and compare.
type step struct {
	advance time.Duration
	adjust  int
	tokens  int
	want    Result
}

// ok and no build expected results. Remaining -1 means unlimited.
func ok(remReq, remTok int) Result {
	return Result{Allowed: true, RemainingRequests: remReq, RemainingTokens: remTok}
}

func no(retry time.Duration, remReq, remTok int) Result {
	return Result{RetryAfter: retry, RemainingRequests: remReq, RemainingTokens: remTok}
}

var scenarios = []struct {
	name  string
	lim   Limit
	steps []step
}{
	{
		name: "request burst then refill",
		lim:  Limit{Requests: 3, Per: time.Minute},
		steps: []step{
			{want: ok(2, -1)}, {want: ok(1, -1)}, {want: ok(0, -1)},
			{want: no(20*time.Second, 0, -1)},
			{advance: 19 * time.Second, want: no(time.Second, 0, -1)},
			{advance: time.Second, want: ok(0, -1)},
			{advance: 60 * time.Second, want: ok(2, -1)},
		},
	},
	{
		name: "token budget",
		lim:  Limit{Tokens: 1000},
		steps: []step{
			{tokens: 600, want: ok(-1, 400)},
			{tokens: 500, want: no(6*time.Second, -1, 400)}, // 100 more tokens at 1000/min
			{tokens: 400, want: ok(-1, 0)},
			{advance: 3 * time.Second, tokens: 0, want: ok(-1, 50)},
		},
	},
	{
		name: "a refused take charges neither budget",
		lim:  Limit{Requests: 2, Tokens: 100},
		steps: []step{
			{tokens: 90, want: ok(1, 10)},
			{tokens: 20, want: no(6*time.Second, 1, 10)},
			{tokens: 10, want: ok(0, 0)},
			{tokens: 0, want: no(30*time.Second, 0, 0)},
		},
	},
	{
		name: "a take larger than the budget waits for a full budget, then leaves debt",
		lim:  Limit{Tokens: 100},
		steps: []step{
			{tokens: 10, want: ok(-1, 90)},
			{tokens: 250, want: no(6*time.Second, -1, 90)},
			{advance: 6 * time.Second, tokens: 250, want: ok(-1, 0)},
			{tokens: 1, want: no(90600*time.Millisecond, -1, 0)}, // 150 s of debt + 0.6 s − 60 s
		},
	},
	{
		name: "adjust gives back and charges tokens",
		lim:  Limit{Tokens: 100},
		steps: []step{
			{tokens: 100, want: ok(-1, 0)},
			{adjust: -50},
			{tokens: 50, want: ok(-1, 0)},
			{adjust: 30},
			{tokens: 1, want: no(18600*time.Millisecond, -1, 0)},
			{advance: time.Hour, adjust: -1000}, // never more than a full budget
			{tokens: 100, want: ok(-1, 0)},
			{tokens: 1, want: no(600*time.Millisecond, -1, 0)},
		},
	},
	{
		name: "smooth refill",
		lim:  Limit{Requests: 60, Per: time.Minute},
		steps: append(repeat(60, step{want: Result{Allowed: true, RemainingRequests: -2}}),
			step{want: no(time.Second, 0, -1)},
			step{advance: 10 * time.Second, want: ok(9, -1)},
			step{advance: 0, want: ok(8, -1)}),
	},
	{
		name: "unlimited",
		lim:  Limit{},
		steps: []step{
			{tokens: 1 << 30, want: ok(-1, -1)}, {tokens: 1 << 30, want: ok(-1, -1)},
		},
	},
	{
		name: "one request per day",
		lim:  Limit{Requests: 1, Per: 24 * time.Hour},
		steps: []step{
			{want: ok(0, -1)},
			{advance: time.Hour, want: no(23*time.Hour, 0, -1)},
		},
	},
}

func repeat(n int, s step) []step {
	out := make([]step, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// testConformance runs every scenario against limiters built by mk, which
// must read time from the given clock.
func testConformance(t *testing.T, mk func(t *testing.T, clock func() time.Time) limiter) {
	ctx := context.Background()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			clk := newFakeClock()
			l := mk(t, clk.Now)
			for i, st := range sc.steps {
				clk.Advance(st.advance)
				if st.adjust != 0 {
					if err := l.Adjust(ctx, "k", sc.lim, st.adjust); err != nil {
						t.Fatalf("step %d: Adjust: %v", i, err)
					}
					continue
				}
				got, err := l.Take(ctx, "k", sc.lim, st.tokens)
				if err != nil {
					t.Fatalf("step %d: Take: %v", i, err)
				}
				if st.want.RemainingRequests == -2 { // only Allowed matters
					if !got.Allowed {
						t.Fatalf("step %d: refused: %+v", i, got)
					}
					continue
				}
				got.ResetRequests, got.ResetTokens = 0, 0
				if !same(got, st.want) {
					t.Fatalf("step %d: got %+v, want %+v", i, got, st.want)
				}
			}
		})
	}

	t.Run("keys are independent", func(t *testing.T) {
		l := mk(t, newFakeClock().Now)
		lim := Limit{Requests: 1}
		for _, k := range []string{"alice", "bob", "alice|gpt-4o", ""} {
			if r, err := l.Take(ctx, k, lim, 0); err != nil || !r.Allowed {
				t.Errorf("first take of %q: %+v %v", k, r, err)
			}
		}
		if r, _ := l.Take(ctx, "alice", lim, 0); r.Allowed {
			t.Error("second take of alice admitted")
		}
	})

	t.Run("reset times", func(t *testing.T) {
		l := mk(t, newFakeClock().Now)
		lim := Limit{Requests: 4, Tokens: 1000, Per: time.Minute}
		r, err := l.Take(ctx, "k", lim, 250)
		if err != nil {
			t.Fatal(err)
		}
		if !near(r.ResetRequests, 15*time.Second) || !near(r.ResetTokens, 15*time.Second) {
			t.Errorf("resets %v %v, want 15s 15s", r.ResetRequests, r.ResetTokens)
		}
	})

	t.Run("invalid arguments", func(t *testing.T) {
		l := mk(t, newFakeClock().Now)
		for _, c := range []struct {
			lim    Limit
			tokens int
		}{{Limit{Requests: -1}, 0}, {Limit{Tokens: -1}, 0}, {Limit{Requests: 1, Per: -time.Second}, 0}, {Limit{Tokens: 1}, -5}, {Limit{Requests: 1, Per: time.Nanosecond}, 0}} {
			if _, err := l.Take(ctx, "k", c.lim, c.tokens); !errors.Is(err, ErrInvalid) {
				t.Errorf("Take(%+v, %d): err %v, want ErrInvalid", c.lim, c.tokens, err)
			}
		}
		if err := l.Adjust(ctx, "k", Limit{Tokens: -1}, 3); !errors.Is(err, ErrInvalid) {
			t.Errorf("Adjust: err %v, want ErrInvalid", err)
		}
	})
}

// testConcurrency hammers one key from many goroutines; exactly the limit
// is admitted (the period is long enough that nothing refills meanwhile).
func testConcurrency(t *testing.T, l limiter) {
	const limit, workers, each = 100, 8, 40
	lim := Limit{Requests: limit, Tokens: limit * 10, Per: time.Hour}
	var admitted atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				r, err := l.Take(context.Background(), "hot", lim, 5)
				if err != nil {
					errs <- err
					return
				}
				if r.Allowed {
					admitted.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := admitted.Load(); got != limit {
		t.Errorf("admitted %d of %d takes, want exactly %d", got, workers*each, limit)
	}
}

// same compares results, allowing a few microseconds of rounding.
func same(a, b Result) bool {
	return a.Allowed == b.Allowed && near(a.RetryAfter, b.RetryAfter) &&
		a.RemainingRequests == b.RemainingRequests && a.RemainingTokens == b.RemainingTokens
}

func near(a, b time.Duration) bool {
	d := a - b
	return d >= -5*time.Microsecond && d <= 5*time.Microsecond
}

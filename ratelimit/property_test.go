package ratelimit

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"
)

// FuzzMemoryNeverOverAdmits: over any sequence of takes from a full
// budget, what is admitted by time t is at most the burst plus the refill,
// N + t·N/P, for requests and for tokens.
func FuzzMemoryNeverOverAdmits(f *testing.F) {
	f.Add([]byte{0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x01, 0x86})
	f.Add([]byte{0xff, 0xfe, 0x7f, 0xbf, 0x00, 0xc0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		clk := newFakeClock()
		start := clk.Now()
		m := NewMemory(clk.Now)
		lim := Limit{Requests: 5, Tokens: 100, Per: time.Second}
		reqs, toks := 0, 0
		for _, b := range ops {
			if b&0x80 == 0 {
				clk.Advance(time.Duration(b) * 7 * time.Millisecond)
				continue
			}
			n := int(b & 0x3f) // at most 63 tokens: no single take over the budget
			r, err := m.Take(context.Background(), "k", lim, n)
			if err != nil {
				t.Fatal(err)
			}
			if r.Allowed {
				reqs++
				toks += n
			} else if r.RetryAfter <= 0 {
				t.Fatalf("refused with RetryAfter %v", r.RetryAfter)
			}
			el := clk.Now().Sub(start)
			if maxR := 5 + int(el*5/time.Second); reqs > maxR {
				t.Fatalf("admitted %d requests in %v, bound %d", reqs, el, maxR)
			}
			if maxT := 100 + int(el*100/time.Second); toks > maxT {
				t.Fatalf("admitted %d tokens in %v, bound %d", toks, el, maxT)
			}
		}
	})
}

// TestRedisMatchesMemory drives both implementations with the same random
// sequence of takes, adjustments and clock steps and expects the same
// answers.
func TestRedisMatchesMemory(t *testing.T) {
	c, prefix := redisClient(t)
	clk := newFakeClock()
	mem, red := NewMemory(clk.Now), NewRedis(c, prefix, clk.Now)
	rng := rand.New(rand.NewPCG(1, 2))
	limits := []Limit{
		{Requests: 7, Per: time.Minute},
		{Tokens: 1000, Per: 10 * time.Second},
		{Requests: 3, Tokens: 333, Per: 3 * time.Second},
	}
	ctx := context.Background()
	for i := 0; i < 400; i++ {
		key := []string{"a", "b", "c"}[rng.IntN(3)]
		lim := limits[rng.IntN(len(limits))]
		switch op := rng.IntN(10); {
		case op < 2:
			clk.Advance(time.Duration(rng.IntN(3000)) * time.Millisecond)
		case op < 3:
			d := rng.IntN(400) - 200
			if err := mem.Adjust(ctx, key, lim, d); err != nil {
				t.Fatal(err)
			}
			if err := red.Adjust(ctx, key, lim, d); err != nil {
				t.Fatal(err)
			}
		default:
			n := rng.IntN(500)
			a, err := mem.Take(ctx, key, lim, n)
			if err != nil {
				t.Fatal(err)
			}
			b, err := red.Take(ctx, key, lim, n)
			if err != nil {
				t.Fatal(err)
			}
			if !same(a, b) || !near(a.ResetRequests, b.ResetRequests) || !near(a.ResetTokens, b.ResetTokens) {
				t.Fatalf("op %d Take(%s, %+v, %d): memory %+v, redis %+v", i, key, lim, n, a, b)
			}
		}
	}
}

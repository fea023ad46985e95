// Package ratelimit limits requests per period and tokens per period for a
// key (a principal, a model, or both joined), for Warden's gateway, which
// answers 429 with the Retry-After this package computes.
//
// Two implementations behave the same and pass one conformance suite:
// Memory, in-process (the default), and Redis, shared by every gateway
// replica. The gateway declares the interface it needs; both types have
//
//	Take(ctx, key, lim, tokens) (Result, error)
//	Adjust(ctx, key, lim, deltaTokens) error
//
// # Algorithm
//
// Each key holds two GCRA (generic cell rate algorithm) cells, one for
// requests and one for tokens. A cell stores only its theoretical arrival
// time TAT, in microseconds. For a limit of N units per period P, one unit
// costs P/N, and a take of n units at time now is admitted when
//
//	max(TAT, now) + n·P/N − P ≤ now
//
// after which TAT becomes max(TAT, now) + n·P/N. A full budget (TAT ≤ now)
// admits a burst of N units at once and refills smoothly, one unit every
// P/N. This is a token bucket of capacity N that needs no background
// refill and one number of state. A take is admitted only when both cells
// admit it, and then both are charged: the pair is updated atomically.
//
// Token counts are estimates made before the upstream call; Adjust moves
// the token cell by the difference once the real usage is known (a
// negative difference gives budget back, never more than a full bucket).
//
// A single take larger than the whole token budget (n > N) would never
// fit; it is admitted when the token budget is full and leaves the cell in
// debt, so later takes wait until the debt is paid off. A long prompt is
// slow to repeat rather than refused forever.
//
// When a take is refused, Result.RetryAfter is how long until the same
// take would be admitted if nothing else happened.
package ratelimit

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Limit is a budget per period. Zero Requests or Tokens means unlimited.
type Limit struct {
	// Requests admitted per Per; 0 = unlimited.
	Requests int
	// Tokens admitted per Per; 0 = unlimited.
	Tokens int
	// Per is the period. Default (0) one minute.
	Per time.Duration
}

// Result is the outcome of a Take.
type Result struct {
	// Allowed reports whether the take was admitted (and charged).
	Allowed bool
	// RetryAfter is, when not Allowed, how long until the same take
	// would be admitted.
	RetryAfter time.Duration
	// RemainingRequests and RemainingTokens are the budget left after
	// this take; -1 when that dimension is unlimited.
	RemainingRequests int
	RemainingTokens   int
	// ResetRequests and ResetTokens are how long until the budget is
	// full again (for x-ratelimit-reset-* headers).
	ResetRequests time.Duration
	ResetTokens   time.Duration
}

// ErrInvalid is returned (wrapped) for a negative limit, period or token
// count.
var ErrInvalid = errors.New("ratelimit: invalid argument")

// params are a validated Limit in the units the algorithm uses.
type params struct {
	per      float64 // microseconds
	requests float64
	tokens   float64
}

func checkLimit(lim Limit) (params, error) {
	if lim.Requests < 0 || lim.Tokens < 0 || lim.Per < 0 {
		return params{}, fmt.Errorf("%w: limit fields must not be negative", ErrInvalid)
	}
	per := lim.Per
	if per == 0 {
		per = time.Minute
	}
	if per < time.Microsecond {
		return params{}, fmt.Errorf("%w: limit period under a microsecond", ErrInvalid)
	}
	return params{per: float64(per.Microseconds()), requests: float64(lim.Requests), tokens: float64(lim.Tokens)}, nil
}

func (p params) unlimited() bool { return p.requests == 0 && p.tokens == 0 }

// cell is one key's state: the two theoretical arrival times in
// microseconds since the Unix epoch (0 = a full budget).
type cell struct {
	req, tok int64
}

// take is the algorithm shared, line for line, with the Redis script
// (redis.go). It returns the result and the new state; the state changes
// only when the take is admitted.
func take(now int64, c cell, p params, tokens int) (Result, cell) {
	n := float64(now)
	waitR, waitT := math.Inf(-1), math.Inf(-1)
	newR, newT := float64(c.req), float64(c.tok)
	if p.requests > 0 {
		inc := p.per / p.requests
		base := math.Max(float64(c.req), n)
		newR = base + inc
		waitR = newR - p.per - n
	}
	if p.tokens > 0 {
		inc := float64(tokens) * p.per / p.tokens
		base := math.Max(float64(c.tok), n)
		newT = base + inc
		check := newT
		if inc > p.per {
			check = base + p.per // too big to ever fit: admit on a full budget
		}
		waitT = check - p.per - n
	}
	wait := math.Max(waitR, waitT)
	var r Result
	next := c
	if wait <= 0 {
		r.Allowed = true
		next = cell{req: int64(math.Floor(newR)), tok: int64(math.Floor(newT))}
	} else {
		r.RetryAfter = time.Duration(math.Ceil(wait)) * time.Microsecond
	}
	r.RemainingRequests, r.ResetRequests = remaining(n, float64(next.req), p.per, p.requests)
	r.RemainingTokens, r.ResetTokens = remaining(n, float64(next.tok), p.per, p.tokens)
	return r, next
}

// remaining is the budget left and the time to a full budget for a cell.
func remaining(now, tat, per, limit float64) (int, time.Duration) {
	if limit == 0 {
		return -1, 0
	}
	used := math.Max(tat-now, 0)
	left := math.Floor((per - used) * limit / per)
	return int(math.Max(left, 0)), time.Duration(math.Ceil(used)) * time.Microsecond
}

// adjust moves the token cell by delta tokens.
func adjust(now int64, c cell, p params, delta int) cell {
	if p.tokens == 0 || delta == 0 {
		return c
	}
	n := float64(now)
	t := math.Max(float64(c.tok), n) + float64(delta)*p.per/p.tokens
	c.tok = int64(math.Floor(math.Max(t, n)))
	return c
}

// idle reports whether the cell is the same as no state at all.
func (c cell) idle(now int64) bool { return c.req <= now && c.tok <= now }

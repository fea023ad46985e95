package ratelimit_test

import (
	"context"
	"fmt"
	"time"

	"github.com/wardenhq/warden/ratelimit"
)

func Example() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	lim := ratelimit.NewMemory(func() time.Time { return now })
	perPrincipal := ratelimit.Limit{Requests: 2, Tokens: 10000, Per: time.Minute}
	ctx := context.Background()

	for range 3 {
		r, _ := lim.Take(ctx, "principal:alice", perPrincipal, 1200) // estimated tokens
		fmt.Println(r.Allowed, r.RetryAfter, r.RemainingRequests, r.RemainingTokens)
	}
	// The upstream reported 900 tokens for the first call, not 1200.
	_ = lim.Adjust(ctx, "principal:alice", perPrincipal, 900-1200)
	// Output:
	// true 0s 1 8800
	// true 0s 0 7600
	// false 30s 0 7600
}

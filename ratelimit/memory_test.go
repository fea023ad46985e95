package ratelimit

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestMemoryConformance(t *testing.T) {
	testConformance(t, func(_ *testing.T, clock func() time.Time) limiter { return NewMemory(clock) })
}

func TestMemoryConcurrency(t *testing.T) {
	testConcurrency(t, NewMemory(nil))
}

// TestMemoryEvictsIdleKeys: keys whose budget is full again are dropped,
// so memory follows the keys active within one period.
func TestMemoryEvictsIdleKeys(t *testing.T) {
	clk := newFakeClock()
	m := NewMemory(clk.Now)
	ctx := context.Background()
	lim := Limit{Requests: 5, Per: time.Second}
	for i := 0; i < 10000; i++ {
		if _, err := m.Take(ctx, fmt.Sprint("old-", i), lim, 0); err != nil {
			t.Fatal(err)
		}
	}
	if n := m.Len(); n != 10000 {
		t.Fatalf("Len = %d after 10000 active keys", n)
	}
	clk.Advance(2 * time.Second) // every old key is idle now
	for i := 0; i < 40000; i++ {
		if _, err := m.Take(ctx, fmt.Sprint("new-", i), lim, 0); err != nil {
			t.Fatal(err)
		}
	}
	if n := m.Len(); n != 40000 {
		t.Errorf("Len = %d, want 40000 (the idle keys swept)", n)
	}
	// A key that becomes idle through Adjust is dropped at once.
	tl := Limit{Tokens: 100}
	m.Take(ctx, "adj", tl, 10)
	before := m.Len()
	m.Adjust(ctx, "adj", tl, -10)
	if m.Len() != before-1 {
		t.Errorf("Len %d after giving back every token, want %d", m.Len(), before-1)
	}
}

func BenchmarkMemoryTake(b *testing.B) {
	m := NewMemory(nil)
	lim := Limit{Requests: 1 << 30, Tokens: 1 << 30}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		i := 0
		for pb.Next() {
			i++
			if _, err := m.Take(ctx, keys[i%len(keys)], lim, 100); err != nil {
				b.Fatal(err)
			}
		}
	})
}

var keys = []string{"alice", "bob", "carol", "dave", "alice|gpt-4o", "bob|gpt-4o", "model:gpt-4o", "model:claude"}

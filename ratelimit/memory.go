package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// shards splits Memory's keys so that concurrent requests for different
// keys rarely wait on the same lock.
const shards = 32

// minSweep is the key count per shard below which Memory does not look
// for idle keys.
const minSweep = 256

// Memory is an in-process limiter. Its memory is bounded by the keys
// active within one period: a key whose budget is full again holds no
// information and is dropped by a sweep, which runs (amortised O(1)) when
// a shard has doubled in size since the last sweep.
type Memory struct {
	clock  func() time.Time
	seed   maphash.Seed
	shards [shards]memShard
}

type memShard struct {
	mu        sync.Mutex
	cells     map[string]cell
	nextSweep int
}

// NewMemory returns an in-process limiter reading time from clock
// (time.Now when nil).
func NewMemory(clock func() time.Time) *Memory {
	if clock == nil {
		clock = time.Now
	}
	m := &Memory{clock: clock, seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].cells = make(map[string]cell)
		m.shards[i].nextSweep = minSweep
	}
	return m
}

func (m *Memory) shard(key string) *memShard {
	return &m.shards[maphash.String(m.seed, key)%shards]
}

// Take charges one request and tokens tokens to key if both budgets
// allow it. It never blocks; ctx is unused and present to match Redis.
func (m *Memory) Take(_ context.Context, key string, lim Limit, tokens int) (Result, error) {
	p, err := checkLimit(lim)
	if err != nil {
		return Result{}, err
	}
	if tokens < 0 {
		return Result{}, ErrInvalid
	}
	if p.unlimited() {
		return Result{Allowed: true, RemainingRequests: -1, RemainingTokens: -1}, nil
	}
	now := m.clock().UnixMicro()
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	r, next := take(now, s.cells[key], p, tokens)
	if r.Allowed {
		s.store(key, next, now)
	}
	return r, nil
}

// Adjust corrects key's token budget by deltaTokens (positive: more were
// used than taken; negative: fewer).
func (m *Memory) Adjust(_ context.Context, key string, lim Limit, deltaTokens int) error {
	p, err := checkLimit(lim)
	if err != nil {
		return err
	}
	if p.tokens == 0 || deltaTokens == 0 {
		return nil
	}
	now := m.clock().UnixMicro()
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store(key, adjust(now, s.cells[key], p, deltaTokens), now)
	return nil
}

// Len returns the number of keys held (for tests and metrics).
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.cells)
		s.mu.Unlock()
	}
	return n
}

// store saves a cell, dropping it when idle, and sweeps the shard when it
// has grown. The caller holds s.mu.
func (s *memShard) store(key string, c cell, now int64) {
	if c.idle(now) {
		delete(s.cells, key)
		return
	}
	s.cells[key] = c
	if len(s.cells) < s.nextSweep {
		return
	}
	for k, v := range s.cells {
		if v.idle(now) {
			delete(s.cells, k)
		}
	}
	s.nextSweep = max(2*len(s.cells), minSweep)
}

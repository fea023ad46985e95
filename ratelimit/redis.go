package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a limiter whose state lives in Redis, so that every gateway
// replica shares the same budgets. Each Take and Adjust is one Lua script
// call (EVALSHA), atomic on the server; a key's state is one hash with the
// two theoretical arrival times, expiring when its budget is full again.
// Keys touch a single Redis key, so Redis Cluster works too.
type Redis struct {
	client redis.Scripter
	prefix string
	clock  func() time.Time
	take   *redis.Script
	adjust *redis.Script
}

// NewRedis returns a limiter storing its keys under prefix (for example
// "warden:rl:"). client is a *redis.Client, *redis.ClusterClient or any
// redis.Scripter. When clock is nil the script reads Redis's own clock
// (TIME), which keeps replicas with skewed clocks consistent; a clock is
// for tests.
func NewRedis(client redis.Scripter, prefix string, clock func() time.Time) *Redis {
	return &Redis{client: client, prefix: prefix, clock: clock,
		take: redis.NewScript(takeScript), adjust: redis.NewScript(adjustScript)}
}

// redisNow is the Lua prelude that sets `now` (microseconds) from ARGV[1]
// or, when that is empty, from the server's clock.
const redisNow = `
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[1])
end
local st = redis.call('HMGET', KEYS[1], 'r', 't')
local cr = tonumber(st[1]) or 0
local ct = tonumber(st[2]) or 0
local function save(nr, nt)
  local hi = math.max(nr, nt)
  if hi <= now then
    redis.call('DEL', KEYS[1])
  else
    redis.call('HSET', KEYS[1], 'r', string.format('%d', nr), 't', string.format('%d', nt))
    redis.call('PEXPIRE', KEYS[1], math.ceil((hi - now) / 1000) + 1)
  end
end
`

// takeScript mirrors take in ratelimit.go. ARGV: now, per (µs), request
// limit, token limit, tokens. Returns {allowed, retry µs, req TAT, tok TAT, now}.
const takeScript = redisNow + `
local per = tonumber(ARGV[2])
local R = tonumber(ARGV[3])
local T = tonumber(ARGV[4])
local n = tonumber(ARGV[5])
local waitR, waitT = -math.huge, -math.huge
local newR, newT = cr, ct
if R > 0 then
  local inc = per / R
  newR = math.max(cr, now) + inc
  waitR = newR - per - now
end
if T > 0 then
  local inc = n * per / T
  local base = math.max(ct, now)
  newT = base + inc
  local check = newT
  if inc > per then check = base + per end
  waitT = check - per - now
end
local wait = math.max(waitR, waitT)
if wait <= 0 then
  local nr, nt = math.floor(newR), math.floor(newT)
  save(nr, nt)
  return {1, 0, nr, nt, now}
end
return {0, math.ceil(wait), cr, ct, now}
`

// adjustScript mirrors adjust. ARGV: now, per (µs), token limit, delta.
const adjustScript = redisNow + `
local per = tonumber(ARGV[2])
local T = tonumber(ARGV[3])
local d = tonumber(ARGV[4])
local t = math.max(ct, now) + d * per / T
save(cr, math.floor(math.max(t, now)))
return 1
`

func (r *Redis) now() string {
	if r.clock == nil {
		return ""
	}
	return strconv.FormatInt(r.clock().UnixMicro(), 10)
}

// Take charges one request and tokens tokens to key if both budgets
// allow it, atomically across replicas.
func (r *Redis) Take(ctx context.Context, key string, lim Limit, tokens int) (Result, error) {
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
	v, err := r.take.Run(ctx, r.client, []string{r.prefix + key},
		r.now(), int64(p.per), lim.Requests, lim.Tokens, tokens).Int64Slice()
	if err != nil {
		return Result{}, fmt.Errorf("ratelimit: redis: %w", err)
	}
	if len(v) != 5 {
		return Result{}, fmt.Errorf("ratelimit: redis: script returned %d values, want 5", len(v))
	}
	res := Result{Allowed: v[0] == 1, RetryAfter: time.Duration(v[1]) * time.Microsecond}
	now := float64(v[4])
	res.RemainingRequests, res.ResetRequests = remaining(now, float64(v[2]), p.per, p.requests)
	res.RemainingTokens, res.ResetTokens = remaining(now, float64(v[3]), p.per, p.tokens)
	return res, nil
}

// Adjust corrects key's token budget by deltaTokens (positive: more were
// used than taken; negative: fewer).
func (r *Redis) Adjust(ctx context.Context, key string, lim Limit, deltaTokens int) error {
	p, err := checkLimit(lim)
	if err != nil {
		return err
	}
	if p.tokens == 0 || deltaTokens == 0 {
		return nil
	}
	if err := r.adjust.Run(ctx, r.client, []string{r.prefix + key},
		r.now(), int64(p.per), lim.Tokens, deltaTokens).Err(); err != nil {
		return fmt.Errorf("ratelimit: redis: %w", err)
	}
	return nil
}

package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisClient connects to WARDEN_TEST_REDIS (host:port) and skips the
// test when it is unset. It returns a key prefix unique to the test and
// deletes the test's keys afterwards.
func redisClient(t testing.TB) (*redis.Client, string) {
	addr := os.Getenv("WARDEN_TEST_REDIS")
	if addr == "" {
		t.Skip("WARDEN_TEST_REDIS not set")
	}
	c := redis.NewClient(&redis.Options{Addr: addr})
	ctx := context.Background()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("redis at WARDEN_TEST_REDIS: %v", err)
	}
	var b [8]byte
	rand.Read(b[:])
	prefix := "warden-test:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		c.Close()
	})
	return c, prefix
}

func TestRedisConformance(t *testing.T) {
	testConformance(t, func(t *testing.T, clock func() time.Time) limiter {
		c, prefix := redisClient(t)
		return NewRedis(c, prefix, clock)
	})
}

func TestRedisConcurrency(t *testing.T) {
	c, prefix := redisClient(t)
	testConcurrency(t, NewRedis(c, prefix, nil)) // the server's clock
}

// TestRedisServerClock runs without a client clock: the script reads TIME.
func TestRedisServerClock(t *testing.T) {
	c, prefix := redisClient(t)
	l := NewRedis(c, prefix, nil)
	ctx := context.Background()
	lim := Limit{Requests: 2, Tokens: 1000, Per: time.Hour}
	for i, want := range []bool{true, true, false} {
		r, err := l.Take(ctx, "k", lim, 100)
		if err != nil {
			t.Fatal(err)
		}
		if r.Allowed != want {
			t.Fatalf("take %d: %+v", i, r)
		}
		if !want && (r.RetryAfter < 29*time.Minute || r.RetryAfter > 30*time.Minute) {
			t.Errorf("retry after %v, want about 30m", r.RetryAfter)
		}
	}
	// The key expires when its budget is full again: about an hour.
	ttl, err := c.PTTL(ctx, prefix+"k").Result()
	if err != nil || ttl < 59*time.Minute || ttl > 61*time.Minute {
		t.Errorf("PTTL = %v, %v; want about an hour", ttl, err)
	}
}

// TestRedisSharedAcrossClients: two limiters (two replicas) share budgets.
func TestRedisSharedAcrossClients(t *testing.T) {
	c, prefix := redisClient(t)
	c2 := redis.NewClient(&redis.Options{Addr: os.Getenv("WARDEN_TEST_REDIS")})
	defer c2.Close()
	a, b := NewRedis(c, prefix, nil), NewRedis(c2, prefix, nil)
	ctx := context.Background()
	lim := Limit{Requests: 3, Per: time.Hour}
	admitted := 0
	for i := 0; i < 6; i++ {
		l := a
		if i%2 == 1 {
			l = b
		}
		r, err := l.Take(ctx, "shared", lim, 0)
		if err != nil {
			t.Fatal(err)
		}
		if r.Allowed {
			admitted++
		}
	}
	if admitted != 3 {
		t.Errorf("admitted %d across two replicas, want 3", admitted)
	}
}

func TestRedisErrorIsReported(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	defer c.Close()
	_, err := NewRedis(c, "x:", nil).Take(context.Background(), "k", Limit{Requests: 1}, 0)
	if err == nil {
		t.Fatal("Take against a closed port succeeded")
	}
}

func BenchmarkRedisTake(b *testing.B) {
	c, prefix := redisClient(b)
	l := NewRedis(c, prefix, nil)
	lim := Limit{Requests: 1 << 30, Tokens: 1 << 30}
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := l.Take(ctx, keys[i%len(keys)], lim, 100); err != nil {
			b.Fatal(err)
		}
	}
}

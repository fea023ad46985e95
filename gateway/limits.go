package gateway

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/wardenhq/warden/ratelimit"
)

// limits returns the budgets that apply to a principal and a model.
func (s *Server) limits(principal, model string) (pl, ml ratelimit.Limit, hasP, hasM bool) {
	pl, hasP = s.cfg.PrincipalLimits[principal]
	if !hasP {
		pl, hasP = s.cfg.DefaultPrincipalLimit, s.cfg.DefaultPrincipalLimit != (ratelimit.Limit{})
	}
	ml, hasM = s.cfg.ModelLimits[model]
	return
}

// takeLimits charges a request to its principal's and its model's
// budgets: 429 with Retry-After when one is spent; 503 when the limiter
// cannot be asked (fail closed: no limits, no service).
func (s *Server) takeLimits(ctx context.Context, x *exchange) *apiError {
	if s.deps.Limiter == nil {
		return nil
	}
	pl, ml, hasP, hasM := s.limits(x.p.Name, x.model)
	check := func(key string, lim ratelimit.Limit) *apiError {
		res, err := s.deps.Limiter.Take(ctx, key, lim, x.estimate)
		s.limiterState(err)
		if err != nil {
			return errUnavailable("rate_limiter_unavailable", "rate limiter unavailable; refusing to serve without limits")
		}
		if res.Allowed {
			return nil
		}
		secs := int(res.RetryAfter.Seconds() + 0.999)
		if secs < 1 {
			secs = 1
		}
		s.deps.Metrics.rateLimited.WithLabelValues(x.modelLabel).Inc()
		return &apiError{Status: http.StatusTooManyRequests, Type: "rate_limit_error", Code: "rate_limited",
			Msg: fmt.Sprintf("rate limit reached; retry after %ds", secs), RetryAfter: secs}
	}
	if hasP {
		if err := check("p:"+x.p.Name, pl); err != nil {
			return err
		}
	}
	if hasM {
		if err := check("m:"+x.model, ml); err != nil {
			return err
		}
	}
	return nil
}

// limiterState notes the rate limiter's health: a metric, and a log line
// when it goes down or comes back.
func (s *Server) limiterState(err error) {
	down := err != nil
	if s.limiterDown.Swap(down) == down {
		return
	}
	if down {
		s.deps.Metrics.limiterUp.Set(0)
		s.log.Error("rate limiter unavailable: refusing requests with 503 until it is back", "error", scrubError(err))
	} else {
		s.deps.Metrics.limiterUp.Set(1)
		s.log.Info("rate limiter available again")
	}
}

// adjustLimits corrects the token charge with the upstream's usage.
func (s *Server) adjustLimits(ctx context.Context, principal, model string, delta int) {
	if s.deps.Limiter == nil || delta == 0 {
		return
	}
	pl, ml, hasP, hasM := s.limits(principal, model)
	if hasP {
		if err := s.deps.Limiter.Adjust(ctx, "p:"+principal, pl, delta); err != nil {
			s.log.Warn("rate limit adjust failed", "error", err.Error())
		}
	}
	if hasM {
		if err := s.deps.Limiter.Adjust(ctx, "m:"+model, ml, delta); err != nil {
			s.log.Warn("rate limit adjust failed", "error", err.Error())
		}
	}
}

// MinBodyRate wraps h so that a request body must arrive at rate bytes
// per second or faster once grace has passed: each read extends the
// connection's read deadline by what the bytes so far allow. A slower
// body fails its read, and the gateway answers 408. Slow senders
// cannot hold connections open with a trickle.
func MinBodyRate(h http.Handler, rate int, grace time.Duration) http.Handler {
	if rate <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			rc := http.NewResponseController(w)
			start := time.Now()
			rc.SetReadDeadline(start.Add(grace))
			r.Body = &rateBody{ReadCloser: r.Body, rc: rc, start: start, rate: rate, grace: grace}
		}
		h.ServeHTTP(w, r)
	})
}

type rateBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	start time.Time
	rate  int
	grace time.Duration
	n     int64
}

func (b *rateBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	allowed := b.grace + time.Duration(float64(b.n+int64(len(p)))/float64(b.rate)*float64(time.Second))
	b.rc.SetReadDeadline(b.start.Add(allowed))
	if err == io.EOF {
		b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

package gateway

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

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

// limit charges a request to its principal's and its model's budgets. It
// writes the 429 (with Retry-After) or the fail-closed 503 itself.
func (s *Server) limit(ctx context.Context, w http.ResponseWriter, x *exchange, principal, model string, tokens int) (int, bool) {
	if s.deps.Limiter == nil {
		return 0, false
	}
	pl, ml, hasP, hasM := s.limits(principal, model)
	check := func(key string, lim ratelimit.Limit) (int, bool) {
		res, err := s.deps.Limiter.Take(ctx, key, lim, tokens)
		if err != nil {
			return s.refuse(w, x, http.StatusServiceUnavailable, "api_error", "rate_limiter_unavailable",
				"rate limiter unavailable; refusing to serve without limits"), true
		}
		if res.Allowed {
			return 0, false
		}
		secs := int(res.RetryAfter.Seconds() + 0.999)
		if secs < 1 {
			secs = 1
		}
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		s.deps.Metrics.rateLimited.WithLabelValues(key[:1]).Inc()
		return s.refuse(w, x, http.StatusTooManyRequests, "rate_limit_error", "rate_limited",
			fmt.Sprintf("rate limit reached; retry after %ds", secs)), true
	}
	if hasP {
		if st, done := check("p:"+principal, pl); done {
			return st, true
		}
	}
	if hasM {
		if st, done := check("m:"+model, ml); done {
			return st, true
		}
	}
	return 0, false
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

package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultTimeout is the deadline of one store call when Options.Timeout
// (the config key store.timeout) is zero.
const DefaultTimeout = 2 * time.Second

// ErrTimeout is matched (errors.Is) by every error of a store call that
// [DB.Bound] cut short: the database did not answer within store.timeout,
// so it is stalled, locked or unreachable. The request that needed it can
// be retried later (503 with Retry-After), unlike a refusal.
var ErrTimeout = errors.New("store: no answer within store.timeout")

// TimeoutError is the error [DB.Bound] makes of a call its deadline cut
// short. Its message names the config key and the limit and nothing else
// (driver messages may name the database's host and user); Unwrap gives
// the driver's error.
type TimeoutError struct {
	// Timeout is the deadline that passed.
	Timeout time.Duration
	err     error
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("store: no answer within store.timeout (%s)", e.Timeout)
}

// Unwrap returns the error the call itself returned.
func (e *TimeoutError) Unwrap() error { return e.err }

// Is reports target == ErrTimeout.
func (e *TimeoutError) Is(target error) bool { return target == ErrTimeout }

// Timeout is the deadline [DB.Bound] gives a store call.
func (db *DB) Timeout() time.Duration {
	if db.timeout <= 0 {
		return DefaultTimeout
	}
	return db.timeout
}

// Bound limits one store call (a query, or a whole [DB.Write]) to the
// store's timeout. It returns ctx with that deadline and end, which the
// caller must run when the call is over, with the address of the error
// the call ended with:
//
//	ctx, end := db.Bound(ctx)
//	defer end(&err)
//
// When the deadline cut the call short, end replaces the error with a
// [*TimeoutError] (so errors.Is(err, ErrTimeout)); an earlier deadline or
// cancellation of the caller's own ctx leaves it as it is. Keep work that
// is not a store call (a KMS unwrap) outside the bounded ctx.
func (db *DB) Bound(ctx context.Context) (context.Context, func(*error)) {
	d := db.Timeout()
	cause := &TimeoutError{Timeout: d}
	ctx, cancel := context.WithTimeoutCause(ctx, d, cause)
	return ctx, func(errp *error) {
		if errp != nil && *errp != nil && context.Cause(ctx) == cause {
			var te *TimeoutError
			if !errors.As(*errp, &te) {
				*errp = &TimeoutError{Timeout: d, err: *errp}
			}
		}
		cancel()
	}
}

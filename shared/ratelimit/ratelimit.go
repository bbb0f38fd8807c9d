// Package ratelimit gives each producer source its fair share of ingest: a token
// bucket per source, kept in the store so that every ingest function instance takes
// from the same bucket, with short local leases so that most requests make no store
// call.
//
// A per-instance bucket would not be a limit at all: Lambda runs as many instances as
// requests arrive, each with its own memory. Here the bucket's state is one DynamoDB
// item (store.TakeTokens: read, refill by the elapsed time, conditional write). An
// instance takes a lease of up to a tenth of a second's tokens at a time and spends it
// locally for at most LeaseTTL; what it does not spend is lost, never given twice. So
// a source never gets more than its rate and burst across all instances; it may get
// somewhat less while many instances each hold a part of a lease.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/store"
)

// Default is a source's limit when the admin set none: 1,000 events a second on
// average, bursts of 2,000.
var Default = store.RateLimit{Rate: 1000, Burst: 2000}

// LeaseTTL is how long an instance may spend tokens it took from the store.
const LeaseTTL = time.Second

// Buckets is the store's side: taking tokens from a source's bucket.
type Buckets interface {
	TakeTokens(ctx context.Context, sourceID string, need, want int, rl store.RateLimit) (int, time.Duration, error)
}

// ErrUnavailable wraps a failure to read or write a bucket: the caller decides
// whether to let the request through (ingest does, and logs it).
var ErrUnavailable = errors.New("rate limit bucket unavailable")

// Limiter hands out one instance's leases.
type Limiter struct {
	buckets Buckets
	now     func() time.Time

	mu     sync.Mutex
	leases map[string]lease
}

type lease struct {
	tokens int
	exp    time.Time
}

// New returns a limiter over the store's buckets.
func New(b Buckets, now func() time.Time) *Limiter {
	return &Limiter{buckets: b, now: now, leases: map[string]lease{}}
}

// Take lets a source send n events now, or answers why not: a fault.RateLimited
// whose RetryAfter says when to try again, or a fault.TooLarge when n is more than the
// source's burst ever allows. rl nil is Default.
func (l *Limiter) Take(ctx context.Context, sourceID string, rl *store.RateLimit, n int) error {
	limit := Default
	if rl != nil && rl.Rate > 0 && rl.Burst > 0 {
		limit = *rl
	}
	if n > limit.Burst {
		return fault.New(fault.TooLarge, "%d events in one request; this source's rate limit allows at most %d at once", n, limit.Burst)
	}
	now := l.now()
	l.mu.Lock()
	if le, ok := l.leases[sourceID]; ok && now.Before(le.exp) && le.tokens >= n {
		le.tokens -= n
		l.leases[sourceID] = le
		l.mu.Unlock()
		return nil
	}
	l.mu.Unlock()

	want := min(limit.Burst, max(n, int(math.Ceil(limit.Rate/10))))
	got, wait, err := l.buckets.TakeTokens(ctx, sourceID, n, want, limit)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if got < n {
		secs := max(1, int(math.Ceil(wait.Seconds())))
		return &fault.Error{Code: fault.RateLimited, RetryAfter: secs,
			Message: fmt.Sprintf("source %s is over its rate limit of %g events a second (bursts of %d): retry after %d s", sourceID, limit.Rate, limit.Burst, secs)}
	}
	l.mu.Lock()
	if len(l.leases) > 10000 {
		clear(l.leases)
	}
	l.leases[sourceID] = lease{tokens: got - n, exp: now.Add(LeaseTTL)}
	l.mu.Unlock()
	return nil
}

package ratelimit

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/store"
)

// memBuckets is the store's token bucket in memory, on the test's clock; it counts
// the takes and can fail them.
type memBuckets struct {
	now    func() time.Time
	tokens map[string]float64
	at     map[string]time.Time
	calls  int
	err    error
}

func (m *memBuckets) TakeTokens(_ context.Context, id string, need, want int, rl store.RateLimit) (int, time.Duration, error) {
	m.calls++
	if m.err != nil {
		return 0, 0, m.err
	}
	now := m.now()
	tokens := float64(rl.Burst)
	if at, ok := m.at[id]; ok {
		tokens = min(float64(rl.Burst), m.tokens[id]+now.Sub(at).Seconds()*rl.Rate)
	}
	if tokens < float64(need) {
		return 0, time.Duration((float64(need) - tokens) / rl.Rate * float64(time.Second)), nil
	}
	take := min(want, int(tokens))
	m.tokens[id], m.at[id] = tokens-float64(take), now
	return take, 0, nil
}

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	b := &memBuckets{now: clock, tokens: map[string]float64{}, at: map[string]time.Time{}}
	l := New(b, clock)
	ctx := context.Background()
	rl := &store.RateLimit{Rate: 20, Burst: 10}

	// The burst, two events at a time, in leases of a tenth of a second's tokens.
	for i := range 5 {
		if err := l.Take(ctx, "src_a", rl, 2); err != nil {
			t.Fatalf("take %d: %v", i, err)
		}
	}
	if b.calls != 5 {
		t.Errorf("%d store calls for 5 takes of 2 with leases of 2; want 5", b.calls)
	}
	err := l.Take(ctx, "src_a", rl, 1)
	e, ok := fault.As(err)
	if !ok || e.Code != fault.RateLimited || e.RetryAfter != 1 {
		t.Fatalf("take past the burst = %v; want RateLimited, retry after 1 s", err)
	}
	// Another source has its own bucket.
	if err := l.Take(ctx, "src_b", rl, 10); err != nil {
		t.Errorf("another source: %v", err)
	}
	// Refilled at the rate.
	now = now.Add(100 * time.Millisecond)
	if err := l.Take(ctx, "src_a", rl, 2); err != nil {
		t.Errorf("after a tenth of a second at 20/s: %v", err)
	}
	if err := l.Take(ctx, "src_a", rl, 1); err == nil {
		t.Errorf("a third event after a tenth of a second at 20/s was let through")
	}
	// More than the burst can never pass.
	if e, ok := fault.As(l.Take(ctx, "src_a", rl, 11)); !ok || e.Code != fault.TooLarge {
		t.Errorf("11 events with a burst of 10: want TooLarge")
	}
	// A lease is spent locally, within its time.
	fast := &store.RateLimit{Rate: 1000, Burst: 1000}
	b.calls = 0
	for range 100 {
		if err := l.Take(ctx, "src_c", fast, 1); err != nil {
			t.Fatal(err)
		}
	}
	if b.calls != 1 {
		t.Errorf("100 events at 1000/s made %d store calls; want 1 lease of 100", b.calls)
	}
	now = now.Add(LeaseTTL)
	if err := l.Take(ctx, "src_c", fast, 1); err != nil || b.calls != 2 {
		t.Errorf("after the lease's time: %v, %d calls; want a new lease", err, b.calls)
	}
	// No limit set: the default.
	if err := l.Take(ctx, "src_d", nil, Default.Burst); err != nil {
		t.Errorf("the default burst: %v", err)
	}
	// A store failure is told apart.
	b.err = errors.New("throttled")
	if err := l.Take(ctx, "src_e", rl, 1); !errors.Is(err, ErrUnavailable) {
		t.Errorf("store failure = %v; want ErrUnavailable", err)
	}
}

package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventhub/eventhub/shared/store"
)

// TestTakeTokensIsGlobal: several takers at once never get more than the bucket holds,
// and the bucket refills at its rate.
func TestTakeTokensIsGlobal(t *testing.T) {
	ctx := context.Background()
	c := newClock(t0)
	st := newStore(t, c)
	rl := store.RateLimit{Rate: 10, Burst: 50}
	var got atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				n, _, err := st.TakeTokens(ctx, "src_1", 1, 3, rl)
				if err != nil {
					t.Error(err)
					return
				}
				got.Add(int64(n))
			}
		})
	}
	wg.Wait()
	if got.Load() != 50 {
		t.Fatalf("8 takers got %d tokens from a bucket of 50 (clock stopped); want exactly 50", got.Load())
	}
	n, wait, err := st.TakeTokens(ctx, "src_1", 1, 1, rl)
	if err != nil || n != 0 || wait != 100*time.Millisecond {
		t.Fatalf("take from the empty bucket = %d, %s, %v; want 0 and a wait of 100ms", n, wait, err)
	}
	c.add(time.Second)
	if n, _, err := st.TakeTokens(ctx, "src_1", 10, 20, rl); err != nil || n != 10 {
		t.Fatalf("after a second at 10/s = %d, %v; want 10", n, err)
	}
	if n, _, _ := st.TakeTokens(ctx, "src_2", 1, 1, rl); n != 1 {
		t.Fatalf("another source's bucket = %d; want its own", n)
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/eventhub/eventhub/shared/auth"
	"github.com/eventhub/eventhub/shared/store"
)

// countingStore is a tokenStore that counts its reads and serves sources by token hash.
type countingStore struct {
	byHash map[string]*store.Source
	err    error // returned instead, when set
	reads  []string
}

func (s *countingStore) SourceByTokenHash(_ context.Context, hash string) (*store.Source, error) {
	s.reads = append(s.reads, hash)
	if s.err != nil {
		return nil, s.err
	}
	if src, ok := s.byHash[hash]; ok {
		return src, nil
	}
	return nil, fmt.Errorf("token: %w", store.ErrNotFound)
}

func TestTokenCache(t *testing.T) {
	const ttl = 30 * time.Second
	src := &store.Source{ID: "src_1", Enabled: true}
	other := &store.Source{ID: "src_2", Enabled: true}
	type call struct {
		after     time.Duration // since the start
		token     string
		wantID    string // "" = want store.ErrNotFound
		wantReads int    // store reads so far
	}
	tests := []struct {
		name  string
		calls []call
	}{
		{name: "hit within ttl", calls: []call{
			{0, "ehp_a", "src_1", 1},
			{time.Second, "ehp_a", "src_1", 1},
			{ttl - time.Nanosecond, "ehp_a", "src_1", 1},
		}},
		{name: "expiry at ttl", calls: []call{
			{0, "ehp_a", "src_1", 1},
			{ttl, "ehp_a", "src_1", 2},
			{ttl + time.Second, "ehp_a", "src_1", 2},
			{2*ttl + time.Second, "ehp_a", "src_1", 3},
		}},
		{name: "tokens are cached apart", calls: []call{
			{0, "ehp_a", "src_1", 1},
			{0, "ehp_b", "src_2", 2},
			{time.Second, "ehp_b", "src_2", 2},
			{time.Second, "ehp_a", "src_1", 2},
		}},
		{name: "unknown tokens are not cached", calls: []call{
			{0, "ehp_nope", "", 1},
			{time.Second, "ehp_nope", "", 2},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := &countingStore{byHash: map[string]*store.Source{auth.Hash("ehp_a"): src, auth.Hash("ehp_b"): other}}
			start := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
			clock := start
			c := newTokenCache(st, ttl, func() time.Time { return clock })
			for i, cl := range tc.calls {
				clock = start.Add(cl.after)
				got, err := c.Source(context.Background(), cl.token)
				switch {
				case cl.wantID == "" && !errors.Is(err, store.ErrNotFound):
					t.Errorf("call %d: Source(%s) = %v, %v; want store.ErrNotFound", i, cl.token, got, err)
				case cl.wantID != "" && (err != nil || got.ID != cl.wantID):
					t.Errorf("call %d: Source(%s) = %v, %v; want %s", i, cl.token, got, err, cl.wantID)
				}
				if len(st.reads) != cl.wantReads {
					t.Errorf("call %d at +%s: store reads = %d; want %d", i, cl.after, len(st.reads), cl.wantReads)
				}
			}
		})
	}
}

func TestTokenCacheAsksByHashOnly(t *testing.T) {
	st := &countingStore{}
	c := newTokenCache(st, time.Minute, time.Now)
	_, _ = c.Source(context.Background(), "ehp_secret")
	if len(st.reads) != 1 || st.reads[0] != auth.Hash("ehp_secret") {
		t.Errorf("store asked for %q; want only the hash %s", st.reads, auth.Hash("ehp_secret"))
	}
}

func TestTokenCacheStoreFailure(t *testing.T) {
	boom := errors.New("throttled")
	st := &countingStore{err: boom}
	c := newTokenCache(st, time.Minute, time.Now)
	for i := range 2 {
		if _, err := c.Source(context.Background(), "ehp_a"); !errors.Is(err, boom) {
			t.Errorf("call %d: Source = %v; want the store's error", i, err)
		}
	}
	if len(st.reads) != 2 {
		t.Errorf("store reads = %d; want 2 (failures are not cached)", len(st.reads))
	}
}

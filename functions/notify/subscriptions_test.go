package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/eventhub/eventhub/shared/store"
)

// countingSource is a subscriptionSource that counts its reads; change replaces the
// subscriptions and increments the version, as the store does.
type countingSource struct {
	mu       sync.Mutex
	subs     []store.Subscription
	version  int64
	versions int // SubscriptionsVersion calls
	lists    int // ListSubscriptions calls
}

func (s *countingSource) SubscriptionsVersion(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.versions++
	return s.version, nil
}

func (s *countingSource) ListSubscriptions(context.Context) ([]store.Subscription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists++
	return append([]store.Subscription(nil), s.subs...), nil
}

func (s *countingSource) change(f func(subs []store.Subscription) []store.Subscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs = f(s.subs)
	s.version++
}

func (s *countingSource) reads() (versions, lists int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.versions, s.lists
}

// thousand returns 1,000 subscriptions, each to events of its own type t<i>.
func thousand() []store.Subscription {
	subs := make([]store.Subscription, 1000)
	for i := range subs {
		subs[i] = sub(fmt.Sprintf("sub_%04d", i), fmt.Sprintf(`{"type":["t%d"]}`, i))
	}
	return subs
}

func typedEvent(typ string) []byte {
	return []byte(`{"specversion":"1.0","id":"1","source":"s","type":"` + typ + `"}`)
}

// Matching events against 1,000 subscriptions reads the table once per warm
// instance, then only checks the version, at most once per maxAge.
func TestSubscriptionsCostACachedRead(t *testing.T) {
	src := &countingSource{subs: thousand(), version: 7}
	clock := now
	c := newSubscriptions(src, time.Second, func() time.Time { return clock })
	log := slog.New(slog.DiscardHandler)
	for i := range 10_000 {
		clock = now.Add(time.Duration(i) * 200 * time.Microsecond) // 10,000 events in 2 s
		got, err := c.match(context.Background(), log, typedEvent(fmt.Sprintf("t%d", i%1000)))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != fmt.Sprintf("sub_%04d", i%1000) {
			t.Fatalf("event %d matched %d subscriptions; want sub_%04d", i, len(got), i%1000)
		}
	}
	if v, l := src.reads(); l != 1 || v > 3 {
		t.Errorf("10,000 events in 2 s: %d version reads, %d reads of the subscriptions; want at most 3 and 1", v, l)
	}
}

// The bound on staleness: a change is seen by events matched maxAge after the
// instance last checked, and not read again until the version changes.
func TestSubscriptionsStalenessBound(t *testing.T) {
	for _, maxAge := range []time.Duration{0, time.Second, 30 * time.Second} {
		t.Run(maxAge.String(), func(t *testing.T) {
			src := &countingSource{subs: []store.Subscription{sub("sub_a", `{"type":["x"]}`)}}
			clock := now
			c := newSubscriptions(src, maxAge, func() time.Time { return clock })
			log := slog.New(slog.DiscardHandler)
			matched := func() []string {
				t.Helper()
				got, err := c.match(context.Background(), log, typedEvent("x"))
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, s := range got {
					ids = append(ids, s.ID)
				}
				return ids
			}
			if got := matched(); fmt.Sprint(got) != "[sub_a]" {
				t.Fatalf("first match = %v; want [sub_a]", got)
			}
			// A new subscription, and sub_a disabled.
			src.change(func(subs []store.Subscription) []store.Subscription {
				subs[0].Enabled = false
				return append(subs, sub("sub_b", `{"type":["x"]}`))
			})
			if maxAge > 0 {
				clock = now.Add(maxAge - time.Nanosecond)
				if got := matched(); fmt.Sprint(got) != "[sub_a]" {
					t.Errorf("within maxAge of the last check: %v; want the subscriptions as they were, [sub_a]", got)
				}
			}
			clock = now.Add(maxAge)
			if got := matched(); fmt.Sprint(got) != "[sub_b]" {
				t.Errorf("maxAge after the last check: %v; want the change seen, [sub_b]", got)
			}
			_, lists := src.reads()
			clock = clock.Add(maxAge)
			matched()
			if _, l := src.reads(); l != lists {
				t.Errorf("no change: %d more reads of the subscriptions; want none", l-lists)
			}
		})
	}
}

// A subscription whose stored pattern does not compile is skipped, and the others
// still match; deleting a subscription removes its pattern.
func TestSubscriptionsBadPatternAndDelete(t *testing.T) {
	src := &countingSource{subs: []store.Subscription{sub("sub_a", `{"type":"not a list"}`), sub("sub_b", `{"type":["x"]}`), sub("sub_c", ``)}}
	c := newSubscriptions(src, 0, func() time.Time { return now })
	log := slog.New(slog.DiscardHandler)
	got, err := c.match(context.Background(), log, typedEvent("x"))
	if err != nil || len(got) != 2 || got[0].ID != "sub_b" || got[1].ID != "sub_c" {
		t.Fatalf("match = %v, %v; want sub_b and sub_c (an empty pattern matches everything)", got, err)
	}
	src.change(func(subs []store.Subscription) []store.Subscription { return subs[:1] })
	if got, err := c.match(context.Background(), log, typedEvent("x")); err != nil || len(got) != 0 {
		t.Errorf("after deleting sub_b and sub_c: %v, %v; want nothing", got, err)
	}
}

package main

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/eventhub/eventhub/shared/pattern"
	"github.com/eventhub/eventhub/shared/store"
)

// subscriptionSource is the store's side of the subscriptions a warm instance keeps.
type subscriptionSource interface {
	SubscriptionsVersion(ctx context.Context) (int64, error)
	ListSubscriptions(ctx context.Context) ([]store.Subscription, error)
}

// subscriptions keeps every subscription and its compiled pattern across the
// invocations of a warm instance, so that matching an event against them costs no
// read of the table: the instance checks the subscriptions' version (one small,
// strongly consistent read) at most once per maxAge, and reads them all again only
// when the version changed, recompiling only the patterns of those that changed.
//
// The bound on staleness: an event is matched against the subscriptions as they were
// at most maxAge before it is matched (0: as they are when it is matched). A
// subscription created, changed, disabled or deleted is seen by every warm instance
// within maxAge of the change. Deliveries already under way (retries) read their
// subscription afresh and are not affected.
type subscriptions struct {
	src    subscriptionSource
	maxAge time.Duration
	now    func() time.Time

	mu      sync.Mutex
	loaded  bool
	version int64
	checked time.Time
	set     *pattern.Set
	byID    map[string]store.Subscription
}

func newSubscriptions(src subscriptionSource, maxAge time.Duration, now func() time.Time) *subscriptions {
	return &subscriptions{src: src, maxAge: maxAge, now: now, set: pattern.NewSet(), byID: map[string]store.Subscription{}}
}

// match returns the enabled subscriptions whose pattern matches the event, ordered by
// id. A subscription whose stored pattern no longer compiles is logged and skipped.
func (c *subscriptions) match(ctx context.Context, log *slog.Logger, event []byte) ([]store.Subscription, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	byID, err := c.current(ctx, log)
	if err != nil {
		return nil, err
	}
	names, err := c.set.Match(event)
	if err != nil {
		return nil, err
	}
	out := make([]store.Subscription, 0, len(names))
	for _, n := range names {
		if s, ok := byID[n]; ok && s.Enabled {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// current returns the subscriptions by id, checking first whether they changed if
// they were last checked maxAge ago or more, and updates the set of patterns. The
// caller holds c.mu.
func (c *subscriptions) current(ctx context.Context, log *slog.Logger) (map[string]store.Subscription, error) {
	now := c.now()
	if c.loaded && now.Sub(c.checked) < c.maxAge {
		return c.byID, nil
	}
	// The version first: a change that commits while the subscriptions are read
	// shows as a newer version at the next check.
	v, err := c.src.SubscriptionsVersion(ctx)
	if err != nil {
		return nil, err
	}
	if c.loaded && v == c.version {
		c.checked = now
		return c.byID, nil
	}
	subs, err := c.src.ListSubscriptions(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]store.Subscription, len(subs))
	for _, s := range subs {
		byID[s.ID] = s
		if old, ok := c.byID[s.ID]; c.loaded && ok && old.UpdatedAt.Equal(s.UpdatedAt) && old.Pattern == s.Pattern {
			continue
		}
		pat := s.Pattern
		if pat == "" {
			pat = "{}"
		}
		if err := c.set.Add(s.ID, []byte(pat)); err != nil {
			log.ErrorContext(ctx, "subscription pattern does not compile", "subscriptionId", s.ID, "error", err)
			c.set.Remove(s.ID)
		}
	}
	for id := range c.byID {
		if _, ok := byID[id]; !ok {
			c.set.Remove(id)
		}
	}
	c.byID, c.version, c.checked, c.loaded = byID, v, now, true
	return byID, nil
}

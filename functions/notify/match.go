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

// matcher keeps the subscriptions' compiled patterns across invocations of a warm
// function, recompiling only those that changed.
type matcher struct {
	mu      sync.Mutex
	set     *pattern.Set
	version map[string]time.Time
}

func newMatcher() *matcher {
	return &matcher{set: pattern.NewSet(), version: map[string]time.Time{}}
}

// match returns the enabled subscriptions whose pattern matches the event, ordered by
// id. A subscription whose stored pattern no longer compiles is logged and skipped.
func (m *matcher) match(ctx context.Context, log *slog.Logger, subs []store.Subscription, event []byte) ([]store.Subscription, error) {
	m.mu.Lock()
	byID := make(map[string]store.Subscription, len(subs))
	for _, s := range subs {
		byID[s.ID] = s
		if v, ok := m.version[s.ID]; ok && v.Equal(s.UpdatedAt) {
			continue
		}
		pat := s.Pattern
		if pat == "" {
			pat = "{}"
		}
		if err := m.set.Add(s.ID, []byte(pat)); err != nil {
			log.ErrorContext(ctx, "subscription pattern does not compile", "subscriptionId", s.ID, "error", err)
			m.set.Remove(s.ID)
		}
		m.version[s.ID] = s.UpdatedAt
	}
	for id := range m.version {
		if _, ok := byID[id]; !ok {
			m.set.Remove(id)
			delete(m.version, id)
		}
	}
	set := m.set
	m.mu.Unlock()

	names, err := set.Match(event)
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

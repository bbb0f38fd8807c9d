package main

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/eventhub/eventhub/shared/store"
)

// Subscriptions that share a group receive each event one after another, in ascending
// order (iuap's operindex): a member's first attempt is made once the member before it
// is done with the event, delivered or failed for good. A member waiting for retries
// holds the rest of its group back for that event; other subscriptions and groups are
// delivered concurrently.

// byGroup splits matched subscriptions into those without a group and the groups,
// each in delivery order.
func byGroup(subs []store.Subscription) (alone []store.Subscription, groups [][]store.Subscription) {
	index := map[string]int{}
	for _, s := range subs {
		if s.Group == "" {
			alone = append(alone, s)
			continue
		}
		i, ok := index[s.Group]
		if !ok {
			i = len(groups)
			index[s.Group] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], s)
	}
	for _, g := range groups {
		slices.SortFunc(g, inGroupOrder)
	}
	return alone, groups
}

func inGroupOrder(a, b store.Subscription) int {
	return cmp.Or(cmp.Compare(a.Order, b.Order), cmp.Compare(a.ID, b.ID))
}

// chain delivers the event to members, in order, as far as it can now: it stops at a
// member whose delivery is still pending (its retry goes on with the chain later) or
// held by another invocation.
func (h *handler) chain(ctx context.Context, key string, ev storedEvent, members []store.Subscription) error {
	for _, sub := range members {
		if !h.timeFor(ctx, sub) {
			// Not enough time left in this invocation: hand the rest over to the queue.
			m := first(key, sub)
			m.DueAt = h.now().UTC()
			return h.schedule(ctx, m)
		}
		m := first(key, sub)
		status, err := h.attempt(ctx, m, ev, sub)
		if busy, ok := errors.AsType[*busyError](err); ok {
			// The invocation holding it goes on with the chain, unless it died: the
			// watch takes over then.
			return h.watch(ctx, m, busy)
		}
		if err != nil || status == store.DeliveryPending {
			return err
		}
	}
	return nil
}

// continueGroup goes on with the chain of done's group after done's delivery of the
// event ended.
func (h *handler) continueGroup(ctx context.Context, key string, ev storedEvent, done store.Subscription) error {
	if done.Group == "" {
		return nil
	}
	subs, err := h.store.ListSubscriptions(ctx)
	if err != nil {
		return err
	}
	matched, err := h.subs.match(ctx, h.log, subs, ev.body)
	if err != nil {
		return err
	}
	var rest []store.Subscription
	for _, s := range matched {
		if s.Group == done.Group && inGroupOrder(s, done) > 0 {
			rest = append(rest, s)
		}
	}
	slices.SortFunc(rest, inGroupOrder)
	return h.chain(ctx, key, ev, rest)
}

// timeFor reports whether the invocation has time left for an attempt to sub.
func (h *handler) timeFor(ctx context.Context, sub store.Subscription) bool {
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) > h.attemptTimeout(sub)+5*time.Second
}

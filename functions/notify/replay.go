package main

import (
	"context"
	"errors"
	"time"

	"github.com/eventhub/eventhub/shared/store"
	"github.com/eventhub/eventhub/shared/webhook"
)

// replayStore is the store's side of replay jobs.
type replayStore interface {
	ClaimReplayDelivery(ctx context.Context, replayID, key, subID string, lease time.Duration) (claimed, done bool, err error)
	FinishReplayDelivery(ctx context.Context, replayID, key, subID string, ok bool, e store.TimelineEntry) error
}

// replay makes the one delivery of an event to a subscription that a replay job asked
// for (a retry queue message with a replay marker). It stands outside the claim chain
// of the original delivery: one attempt, no retries, recorded as a replay in the
// event's timeline and counted in the job. It keeps the original webhook-id, so a
// receiver that deduplicates sees the event it already has.
func (h *handler) replay(ctx context.Context, m retryMessage) error {
	if h.replays == nil {
		return errors.New("replay message received but notify has no replay store")
	}
	log := h.log.With("eventKey", m.Key, "subscriptionId", m.SubscriptionID, "replayId", m.Replay)
	sub, err := h.store.GetSubscription(ctx, m.SubscriptionID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	timeout := h.timeout
	if sub != nil {
		timeout = h.attemptTimeout(*sub)
	}
	claimed, done, err := h.replays.ClaimReplayDelivery(ctx, m.Replay, m.Key, m.SubscriptionID, timeout+30*time.Second)
	if err != nil {
		return err
	}
	if !claimed {
		if done {
			return nil
		}
		return errBusy
	}
	entry := store.TimelineEntry{Stage: store.StageReplay}
	var res webhook.Result
	ev, err := h.store.GetEvent(ctx, m.Key)
	switch {
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return err // the claim's lease runs out and the message is received again
	case sub == nil:
		res.Err = errors.New("subscription deleted")
	case ev == nil:
		res.Err = errors.New("event expired")
	case !sub.Enabled:
		res.Err = errors.New("subscription is disabled")
	default:
		// The subscription's own form (CloudEvent or iuap) and signing secrets.
		res = h.sender.Send(ctx, h.message(*sub, webhookID(m.Key, sub.ID), ev.Event, timeout))
	}
	entry.At = h.now().UTC()
	entry.Status, entry.LatencyMs, entry.Response = res.Status, res.Latency.Milliseconds(), res.Response
	entry.Outcome = store.DeliveryDelivered
	if !res.OK() {
		entry.Outcome, entry.Error = store.DeliveryFailed, res.Problem()
	}
	if err := h.replays.FinishReplayDelivery(ctx, m.Replay, m.Key, m.SubscriptionID, res.OK(), entry); err != nil {
		return err
	}
	log.InfoContext(ctx, "replayed", "outcome", entry.Outcome, "status", res.Status)
	return nil
}

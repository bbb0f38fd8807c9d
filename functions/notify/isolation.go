package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventhub/eventhub/shared/store"
	"github.com/eventhub/eventhub/shared/webhook"
)

// Isolation: a slow, hanging or failing subscriber delays only its own deliveries.
//
//   - First attempts are made on Event Stored, concurrently, each bounded by the
//     first-attempt timeout (FIRST_ATTEMPT_TIMEOUT_SECONDS, default 2 s) rather than
//     the subscription's own timeout: an Event Stored invocation never waits longer
//     for any subscriber. An attempt that gets no answer in that time is handed over:
//     it is recorded ("handed over"), and its delivery goes on from the retry queue at
//     once, where the next attempt waits the subscription's full timeout.
//   - A subscription that needed a hand-over, or whose answer on the retry queue took
//     longer than the first-attempt timeout, is slow for the next minute in this
//     instance: its first attempts go straight to the retry queue, batched, without
//     being tried inline. After the minute one first attempt is tried inline again.
//   - Retry queue messages carry the subscription as MessageGroupId, which makes the
//     standard queue a fair queue: one subscription's backlog does not lengthen the
//     wait of other subscriptions' messages. The queue's mapping caps how many of
//     notify's concurrent invocations retries may hold (ScalingConfig), so hanging
//     attempts cannot take the concurrency Event Stored needs.
//
// Handing over costs the delivery one more attempt (the receiver may have got the
// first one: it has the same webhook-id) and one queue message; a subscription known
// to be slow costs a tenth of a SendMessageBatch per event instead of an inline wait.

// slowFor is how long a subscription found slow stays slow in an instance.
const slowFor = time.Minute

// slowMarks are the subscriptions this instance found slow, and until when.
type slowMarks struct {
	mu    sync.Mutex
	until map[string]time.Time
}

func (s *slowMarks) mark(id string, until time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.until == nil {
		s.until = map[string]time.Time{}
	}
	s.until[id] = until
}

func (s *slowMarks) clear(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.until, id)
}

// is reports whether the subscription is slow at now, forgetting expired marks.
func (s *slowMarks) is(id string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	until, ok := s.until[id]
	if ok && !now.Before(until) {
		delete(s.until, id)
		return false
	}
	return ok
}

// pace keeps the slow mark of a subscription after an attempt that had the full
// timeout: slow when it took longer than the first-attempt timeout, not slow after a
// quicker acknowledgement.
func (h *handler) pace(sub string, res webhook.Result) {
	switch {
	case h.firstTimeout <= 0:
	case res.TimedOut || res.Latency >= h.firstTimeout:
		h.slow.mark(sub, h.now().Add(slowFor))
	case res.OK():
		h.slow.clear(sub)
	}
}

// sendTimeout is how long attempt m to sub may wait for an answer: the
// subscription's timeout, or the first-attempt timeout for an inline first attempt.
func (h *handler) sendTimeout(m retryMessage, sub store.Subscription) time.Duration {
	timeout := h.attemptTimeout(sub)
	if m.inline && h.firstTimeout > 0 && h.firstTimeout < timeout {
		return h.firstTimeout
	}
	return timeout
}

// handOver records an inline attempt that got no answer within the first-attempt
// timeout and queues the next attempt at once, with the subscription's full timeout.
// The next attempt starts the retry schedule afresh (Base), so the hand-over costs the
// delivery none of its retries.
func (h *handler) handOver(ctx context.Context, m retryMessage, ev storedEvent, sub store.Subscription, res webhook.Result, entry store.TimelineEntry, waited time.Duration) (string, error) {
	now := h.now().UTC()
	h.slow.mark(sub.ID, now.Add(slowFor))
	entry.Outcome = "handed over"
	entry.Error = fmt.Sprintf("no answer within %s: attempted again from the retry queue, with the subscription's timeout of %s", waited, h.attemptTimeout(sub))
	if err := h.store.AddTimeline(ctx, m.Key, entry); err != nil {
		return "", err
	}
	next := retryMessage{Key: m.Key, SubscriptionID: sub.ID, Attempt: m.Attempt + 1, DueAt: now, Base: m.Attempt, Group: sub.Group, Order: sub.Order}
	if err := h.schedule(ctx, next); err != nil {
		return "", err
	}
	if err := h.store.FinishAttempt(ctx, m.Key, sub.ID, m.Attempt, store.Outcome{Status: store.DeliveryPending, NextAt: now, Error: entry.Error}); err != nil {
		return "", err
	}
	h.log.InfoContext(ctx, "slow endpoint, attempt handed over to the retry queue",
		"eventKey", m.Key, "subscriptionId", sub.ID, "attempt", m.Attempt, "waitedMs", waited.Milliseconds())
	h.count(ctx, res, ev, store.DeliveryPending)
	return store.DeliveryPending, nil
}

// scheduleAll queues the messages, ten to a SendMessageBatch call, the calls at once
// (each message's DueAt is now or past: no delay).
func (h *handler) scheduleAll(ctx context.Context, ms []retryMessage) error {
	var wg sync.WaitGroup
	errs := make([]error, (len(ms)+9)/10)
	for start := 0; start < len(ms); start += 10 {
		wg.Go(func() { errs[start/10] = h.sendBatch(ctx, ms[start:min(start+10, len(ms))]) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// sendBatch sends up to ten messages in one SendMessageBatch; those it reports as
// failed are sent again one by one.
func (h *handler) sendBatch(ctx context.Context, part []retryMessage) error {
	entries := make([]types.SendMessageBatchRequestEntry, len(part))
	for i, m := range part {
		body, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("encode retry: %w", err)
		}
		entries[i] = types.SendMessageBatchRequestEntry{Id: ptr(strconv.Itoa(i)), MessageBody: ptr(string(body)), MessageGroupId: ptr(m.SubscriptionID)}
	}
	out, err := h.queue.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &h.retryURL, Entries: entries})
	if err != nil {
		return fmt.Errorf("queue %d first attempts of %s: %w", len(part), part[0].Key, err)
	}
	for _, f := range out.Failed {
		i, _ := strconv.Atoi(ptrValue(f.Id))
		if i < 0 || i >= len(part) {
			return fmt.Errorf("queue first attempts of %s: unknown failed entry %q", part[0].Key, ptrValue(f.Id))
		}
		if err := h.schedule(ctx, part[i]); err != nil {
			return err
		}
	}
	return nil
}

func ptrValue(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

package main

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/metrics"
	"github.com/eventhub/eventhub/shared/store"
	"github.com/eventhub/eventhub/shared/webhook"
)

type deliveryStore interface {
	ListSubscriptions(ctx context.Context) ([]store.Subscription, error)
	GetSubscription(ctx context.Context, id string) (*store.Subscription, error)
	GetEvent(ctx context.Context, key string) (*store.Event, error)
	GetDelivery(ctx context.Context, key, subID string) (*store.Delivery, error)
	ClaimAttempt(ctx context.Context, key, subID, webhookID string, attempt int, lease time.Duration) (bool, error)
	ReopenAttempt(ctx context.Context, key, subID string, attempt int, lease time.Duration) (bool, error)
	FinishAttempt(ctx context.Context, key, subID string, attempt int, o store.Outcome) error
	AddTimeline(ctx context.Context, key string, e store.TimelineEntry) error
	NoteFailure(ctx context.Context, subID string, at time.Time) (time.Time, error)
	NoteSuccess(ctx context.Context, subID string) error
	DisableSubscription(ctx context.Context, subID, reason string, at time.Time) (bool, error)
}

type sender interface {
	Send(ctx context.Context, m webhook.Message) webhook.Result
}

type queueAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

type publisher interface {
	Publish(ctx context.Context, entries ...bus.Entry) error
}

type handlerConfig struct {
	store    deliveryStore
	claims   bus.Claims
	sender   sender
	queue    queueAPI
	retryURL string
	dlqURL   string
	pub      publisher
	timeout  time.Duration // default per-attempt timeout
	// failingPeriod disables a subscription whose attempts have all failed for this
	// long; 0 never does.
	failingPeriod time.Duration
	log           *slog.Logger
	metrics       *metrics.Emitter // nil: no metric lines
	now           func() time.Time
	jitter        func() float64 // in [-1, 1)
	replays       replayStore    // replay.go
}

type handler struct {
	handlerConfig
	subs *matcher
}

func newHandler(c handlerConfig) *handler {
	if c.now == nil {
		c.now = time.Now
	}
	if c.jitter == nil {
		c.jitter = func() float64 { return rand.Float64()*2 - 1 }
	}
	return &handler{handlerConfig: c, subs: newMatcher()}
}

// DefaultSchedule is the delay before each retry: attempts at 0, 5 s, 5 min, 30 min,
// 2 h, 5 h, 10 h and 10 h after the previous one, about 27.5 hours in all.
var DefaultSchedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// maxRetryAfter bounds how long a receiver's Retry-After can hold a retry back, so
// that a delivery still ends within its schedule's reach.
const maxRetryAfter = 24 * time.Hour

// maxQueueDelay is SQS's longest DelaySeconds; longer waits are chained.
const maxQueueDelay = 15 * time.Minute

// retryMessage is the body of a delivery retry queue message: attempt number Attempt
// of delivering event Key to a subscription, due at DueAt.
//
// Base is the number of attempts made before the current pass through the retry
// schedule: 0 for a new delivery, the attempts so far when an operator retries a failed
// one (which starts the schedule again). Reopen marks such an operator retry: its
// attempt may reopen the failed delivery. Group and Order repeat the subscription's,
// so that a group's chain goes on when the subscription was deleted meanwhile.
type retryMessage struct {
	Key            string    `json:"key"`
	SubscriptionID string    `json:"subscriptionId"`
	Attempt        int       `json:"attempt"`
	DueAt          time.Time `json:"dueAt"`
	Base           int       `json:"base,omitempty"`
	Reopen         bool      `json:"reopen,omitempty"`
	Group          string    `json:"group,omitempty"`
	Order          int       `json:"order,omitempty"`
	Replay         string    `json:"replay,omitempty"` // a replay job's id: one delivery outside the retry chain (replay.go)
}

// deadLetter is the body of a message put on the delivery dead-letter queue when a
// delivery has used up its schedule.
type deadLetter struct {
	Key            string    `json:"key"`
	SubscriptionID string    `json:"subscriptionId"`
	WebhookID      string    `json:"webhookId"`
	Attempts       int       `json:"attempts"`
	LastStatus     int       `json:"lastStatus,omitempty"`
	LastError      string    `json:"lastError,omitempty"`
	FailedAt       time.Time `json:"failedAt"`
}

// storedEvent is the event a delivery sends: the stored CloudEvent and when it was
// stored (for the stored-to-delivered latency; zero when unknown).
type storedEvent struct {
	body     []byte
	storedAt time.Time
}

// handle takes both of notify's triggers: Event Stored from EventBridge, and batches from
// the retry queue.
func (h *handler) handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		Records    []json.RawMessage `json:"Records"`
		DetailType string            `json:"detail-type"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("decode invocation: %w", err)
	}
	if probe.Records != nil {
		var in events.SQSEvent
		if err := json.Unmarshal(raw, &in); err != nil {
			return nil, fmt.Errorf("decode SQS event: %w", err)
		}
		return h.retries(ctx, in), nil
	}
	var in events.EventBridgeEvent
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, fmt.Errorf("decode EventBridge event: %w", err)
	}
	return nil, h.stored(ctx, in)
}

// stored makes the first attempt of every matching subscription, concurrently.
func (h *handler) stored(ctx context.Context, in events.EventBridgeEvent) error {
	detail, err := bus.Resolve(ctx, in.Detail, h.claims)
	if err != nil {
		return err
	}
	var d bus.EventDetail
	if err := json.Unmarshal(detail, &d); err != nil {
		return fmt.Errorf("decode %s detail %s: %w", bus.Stored, in.ID, err)
	}
	if d.Hub.DataRef != "" {
		// Too large to travel with its data (bus.StoredEntry): subscribers get the
		// event as stored, data included.
		ev, err := h.store.GetEvent(ctx, d.Hub.Key)
		if err != nil {
			return fmt.Errorf("load event %s, whose data is in the store: %w", d.Hub.Key, err)
		}
		d.Event = ev.Event
	}
	subs, err := h.store.ListSubscriptions(ctx)
	if err != nil {
		return err
	}
	matched, err := h.subs.match(ctx, h.log, subs, d.Event)
	if err != nil {
		return err
	}
	ev := storedEvent{body: d.Event, storedAt: d.Hub.StoredAt}
	alone, groups := byGroup(matched)
	errs := make([]error, len(alone)+len(groups))
	var wg sync.WaitGroup
	for i, sub := range alone {
		wg.Go(func() {
			m := first(d.Hub.Key, sub)
			_, err := h.attempt(ctx, m, ev, sub)
			if busy, ok := errors.AsType[*busyError](err); ok {
				// Held by a concurrent invocation of the same Event Stored, or by one
				// that died (or failed) after claiming it: Lambda's retries of that
				// one come too soon to see its lease run out.
				err = h.watch(ctx, m, busy)
			}
			errs[i] = err
		})
	}
	for i, members := range groups {
		wg.Go(func() { errs[len(alone)+i] = h.chain(ctx, d.Hub.Key, ev, members) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// first is the first attempt of delivering the event to sub.
func first(key string, sub store.Subscription) retryMessage {
	return retryMessage{Key: key, SubscriptionID: sub.ID, Attempt: 1, Group: sub.Group, Order: sub.Order}
}

// webhookID is stable for one event and one subscription, across retries.
func webhookID(key, subID string) string {
	sum := sha256.Sum256([]byte(key + "\x00" + subID))
	return "msg_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:16]))
}

func (h *handler) attemptTimeout(sub store.Subscription) time.Duration {
	if sub.TimeoutMs > 0 {
		return time.Duration(sub.TimeoutMs) * time.Millisecond
	}
	return h.timeout
}

// errDisabled is the result of an attempt to a disabled subscription.
var errDisabled = errors.New("subscription is disabled")

// errBusy means another invocation holds the step: try later.
var errBusy = errors.New("delivery step is held by another invocation")

// busyError is errBusy for an attempt, with the end of its holder's lease.
type busyError struct{ until time.Time }

func (e *busyError) Error() string {
	return errBusy.Error() + " until " + e.until.Format(time.RFC3339)
}

func (e *busyError) Is(target error) bool { return target == errBusy }

// attempt makes the attempt m of delivering ev to sub and schedules what follows. It
// returns the delivery's status afterwards: pending while a retry is scheduled,
// delivered or failed when it is over. A returned error means the outcome is not
// recorded and the caller must retry. Once the outcome is recorded, it is counted
// (one metric line per attempt).
func (h *handler) attempt(ctx context.Context, m retryMessage, ev storedEvent, sub store.Subscription) (string, error) {
	body := ev.body
	key, n := m.Key, m.Attempt
	log := h.log.With("eventKey", key, "subscriptionId", sub.ID, "attempt", n)
	whID := webhookID(key, sub.ID)
	timeout := h.attemptTimeout(sub)
	lease := timeout + 30*time.Second
	var ok bool
	var err error
	if m.Reopen {
		ok, err = h.store.ReopenAttempt(ctx, key, sub.ID, n, lease)
	}
	if !ok && err == nil {
		ok, err = h.store.ClaimAttempt(ctx, key, sub.ID, whID, n, lease)
	}
	if err != nil {
		return "", err
	}
	if !ok {
		return h.whyNotClaimed(ctx, key, sub.ID, n)
	}
	var res webhook.Result
	if !sub.Enabled {
		res = webhook.Result{Err: errDisabled}
	} else {
		res = h.sender.Send(ctx, h.message(sub, whID, body, timeout))
		h.health(ctx, &sub, res, log)
	}
	entry := store.TimelineEntry{
		At: h.now().UTC(), Stage: store.StageAttempt, SubscriptionID: sub.ID, Attempt: n,
		Status: res.Status, LatencyMs: res.Latency.Milliseconds(), Response: res.Response, Error: res.Problem(),
	}
	if res.OK() {
		entry.Outcome = store.DeliveryDelivered
		if err := h.store.FinishAttempt(ctx, key, sub.ID, n, store.Outcome{Status: store.DeliveryDelivered, HTTPStatus: res.Status, Entry: &entry}); err != nil {
			return "", err
		}
		log.InfoContext(ctx, "delivered", "status", res.Status, "latencyMs", entry.LatencyMs)
		h.count(ctx, res, ev, store.DeliveryDelivered)
		return store.DeliveryDelivered, nil
	}
	if res.Err == nil && res.Status == http.StatusGone && entry.Error == "" {
		entry.Error = "the endpoint is gone (410): subscription disabled"
	}
	schedule, err := retrySchedule(sub.Retry)
	if err != nil {
		log.WarnContext(ctx, "invalid retry schedule, using the default", "error", err)
		schedule = DefaultSchedule
	}
	if pos := n - m.Base; sub.Enabled && pos >= 1 && pos <= len(schedule) {
		delay := h.jittered(schedule[pos-1])
		if res.RetryAfter > delay {
			delay = min(res.RetryAfter, maxRetryAfter)
		}
		due := h.now().Add(delay).UTC()
		entry.Outcome = "retry scheduled"
		if err := h.store.AddTimeline(ctx, key, entry); err != nil {
			return "", err
		}
		next := retryMessage{Key: key, SubscriptionID: sub.ID, Attempt: n + 1, DueAt: due, Base: m.Base, Group: sub.Group, Order: sub.Order}
		if err := h.schedule(ctx, next); err != nil {
			return "", err
		}
		if err := h.store.FinishAttempt(ctx, key, sub.ID, n, store.Outcome{Status: store.DeliveryPending, NextAt: due, HTTPStatus: res.Status, Error: entry.Error}); err != nil {
			return "", err
		}
		log.InfoContext(ctx, "attempt failed, retry scheduled", "result", res.Describe(), "dueAt", due)
		h.count(ctx, res, ev, store.DeliveryPending)
		return store.DeliveryPending, nil
	}
	entry.Outcome = store.DeliveryFailed
	if err := h.store.AddTimeline(ctx, key, entry); err != nil {
		return "", err
	}
	if err := h.fail(ctx, key, body, sub, n, whID, res, entry.Error, log); err != nil {
		return "", err
	}
	h.count(ctx, res, ev, store.DeliveryFailed)
	return store.DeliveryFailed, nil
}

// count records an attempt whose outcome is recorded: delivered (with the
// stored-to-delivered latency), or failed by status class and then retried or
// dead-lettered; and the HTTP exchange's latency when there was one.
func (h *handler) count(ctx context.Context, res webhook.Result, ev storedEvent, status string) {
	var ms [3]metrics.Metric
	line := ms[:0]
	var dims []metrics.Dimension
	if res.OK() {
		line = append(line, metrics.CountOf(metrics.Delivered, 1))
		if !ev.storedAt.IsZero() {
			line = append(line, metrics.Duration(metrics.StoredToDelivered, h.now().Sub(ev.storedAt)))
		}
	} else {
		dims = []metrics.Dimension{metrics.Dim(metrics.StatusClass, statusClass(res))}
		line = append(line, metrics.CountBy(metrics.FailedAttempts, 1, metrics.StatusClass))
		switch status {
		case store.DeliveryPending:
			line = append(line, metrics.CountOf(metrics.Retries, 1))
		case store.DeliveryFailed:
			line = append(line, metrics.CountOf(metrics.DeadLettered, 1))
		}
	}
	if res.Latency > 0 {
		line = append(line, metrics.Duration(metrics.DeliveryLatency, res.Latency))
	}
	h.metrics.Emit(ctx, dims, line...)
}

// statusClass names how an attempt failed, for the FailedAttempts metric: the HTTP
// status class (4xx, 5xx; 2xx for an answer that was not an acknowledgement), or
// timeout, network (no answer otherwise), disabled.
func statusClass(res webhook.Result) string {
	switch {
	case res.Err == nil && res.Status > 0:
		return strconv.Itoa(res.Status/100) + "xx"
	case res.Err == nil:
		return "unknown"
	case errors.Is(res.Err, errDisabled):
		return "disabled"
	case errors.Is(res.Err, context.DeadlineExceeded) || isTimeout(res.Err):
		return "timeout"
	}
	return "network" // refused, reset, DNS, the destination guard

}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// message is the request of one attempt: the CloudEvent itself, or the iuap form.
func (h *handler) message(sub store.Subscription, whID string, body []byte, timeout time.Duration) webhook.Message {
	m := webhook.Message{
		URL:         sub.URL,
		ID:          whID,
		Body:        body,
		ContentType: "application/cloudevents+json",
		Secrets:     sub.SigningSecrets(h.now()),
		Headers:     sub.Headers,
		Timeout:     timeout,
	}
	if sub.Mode == store.ModeIUAP {
		f := iuapFields(body)
		m.Body = f.encode()
		m.ContentType = iuapContentType
		m.Headers = f.headers(sub.Headers)
		m.Accept = iuapAck
	}
	return m
}

// health keeps the subscription's endpoint health after an attempt that reached the
// network: a success ends a run of failures; a 410, or failures only for the failing
// period, disable the subscription. Problems are logged: the attempt's outcome stands.
func (h *handler) health(ctx context.Context, sub *store.Subscription, res webhook.Result, log *slog.Logger) {
	if res.OK() {
		if sub.FailingSince != nil {
			if err := h.store.NoteSuccess(ctx, sub.ID); err != nil {
				log.WarnContext(ctx, "could not record the endpoint's recovery", "error", err)
			}
		}
		return
	}
	now := h.now().UTC()
	since, err := h.store.NoteFailure(ctx, sub.ID, now)
	if err != nil {
		log.WarnContext(ctx, "could not record the endpoint's failure", "error", err)
	}
	reason := ""
	switch {
	case res.Err == nil && res.Status == http.StatusGone:
		reason = store.DisabledGone
	case h.failingPeriod > 0 && !since.IsZero() && now.Sub(since) >= h.failingPeriod:
		reason = store.DisabledFailing
	default:
		return
	}
	sub.Enabled = false // no retry, whoever wins the race below
	disabled, err := h.store.DisableSubscription(ctx, sub.ID, reason, now)
	if err != nil {
		log.ErrorContext(ctx, "could not disable the subscription", "reason", reason, "error", err)
		return
	}
	if !disabled {
		return
	}
	d := bus.SubscriptionDisabledDetail{
		SubscriptionID: sub.ID, Name: sub.Name, URL: sub.URL, Reason: reason,
		LastStatus: res.Status, LastError: res.Problem(), DisabledAt: now,
	}
	if !since.IsZero() {
		d.FailingSince = &since
	}
	if err := h.pub.Publish(ctx, bus.Entry{Source: bus.SourceNotify, DetailType: bus.SubscriptionDisabled, Detail: d}); err != nil {
		log.ErrorContext(ctx, "could not announce the disabled subscription", "error", err)
	}
	log.WarnContext(ctx, "subscription disabled", "reason", reason, "failingSince", since)
}

func (h *handler) fail(ctx context.Context, key string, body []byte, sub store.Subscription, n int, whID string, res webhook.Result, problem string, log *slog.Logger) error {
	now := h.now().UTC()
	dl := deadLetter{Key: key, SubscriptionID: sub.ID, WebhookID: whID, Attempts: n, LastStatus: res.Status, LastError: problem, FailedAt: now}
	msg, err := json.Marshal(dl)
	if err != nil {
		return fmt.Errorf("encode dead letter: %w", err)
	}
	if _, err := h.queue.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &h.dlqURL, MessageBody: ptr(string(msg))}); err != nil {
		return fmt.Errorf("dead-letter delivery of %s to %s: %w", key, sub.ID, err)
	}
	var ev struct{ ID, Source, Type string }
	_ = json.Unmarshal(body, &ev) // stored events are valid CloudEvents
	if err := h.pub.Publish(ctx, bus.Entry{
		Source:     bus.SourceNotify,
		DetailType: bus.DeliveryFailed,
		Detail: bus.DeliveryFailedDetail{
			Key: key, EventID: ev.ID, EventSource: ev.Source, EventType: ev.Type,
			SubscriptionID: sub.ID, URL: sub.URL, Attempts: n, LastStatus: res.Status, LastError: dl.LastError, FailedAt: now,
		},
	}); err != nil {
		return err
	}
	log.WarnContext(ctx, "delivery failed, dead-lettered", "result", res.Describe())
	return h.store.FinishAttempt(ctx, key, sub.ID, n, store.Outcome{Status: store.DeliveryFailed, HTTPStatus: res.Status, Error: dl.LastError})
}

// whyNotClaimed tells a step that is already done (the delivery's status) from one
// that another invocation still holds (*busyError).
func (h *handler) whyNotClaimed(ctx context.Context, key, subID string, n int) (string, error) {
	d, err := h.store.GetDelivery(ctx, key, subID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil // expired: nothing left to do
	}
	if err != nil {
		return "", err
	}
	switch {
	case d.Status != store.DeliveryPending, d.Attempt > n, d.Attempt == n && !d.InFlight:
		return d.Status, nil
	}
	return "", &busyError{until: time.Unix(d.LeaseUntil, 0)}
}

// watch makes sure that a step held by another invocation is done even if that
// invocation is gone: it queues the step again for when the holder's lease runs out.
// By then the step is finished (the message is dropped, a group's chain goes on) or
// its claim can be taken over.
func (h *handler) watch(ctx context.Context, m retryMessage, busy *busyError) error {
	m.DueAt = busy.until.Add(time.Second).UTC()
	if err := h.schedule(ctx, m); err != nil {
		return err
	}
	h.log.InfoContext(ctx, "attempt held by another invocation; checking again when its lease ends",
		"eventKey", m.Key, "subscriptionId", m.SubscriptionID, "attempt", m.Attempt, "dueAt", m.DueAt)
	return nil
}

func (h *handler) jittered(d time.Duration) time.Duration {
	return d + time.Duration(float64(d)*0.2*h.jitter())
}

func (h *handler) schedule(ctx context.Context, m retryMessage) error {
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode retry: %w", err)
	}
	delay := min(max(m.DueAt.Sub(h.now()), 0), maxQueueDelay)
	_, err = h.queue.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:     &h.retryURL,
		MessageBody:  ptr(string(body)),
		DelaySeconds: int32(delay.Round(time.Second) / time.Second),
	})
	if err != nil {
		return fmt.Errorf("schedule attempt %d of %s to %s: %w", m.Attempt, m.Key, m.SubscriptionID, err)
	}
	return nil
}

// retrySchedule parses a subscription's retry override: the delays before each retry.
func retrySchedule(spec []string) ([]time.Duration, error) {
	if len(spec) == 0 {
		return DefaultSchedule, nil
	}
	out := make([]time.Duration, len(spec))
	for i, s := range spec {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("retry[%d] %q is not a duration", i, s)
		}
		out[i] = d
	}
	return out, nil
}

// retries runs the attempts due in a batch from the retry queue, concurrently, and
// reports the messages to receive again.
func (h *handler) retries(ctx context.Context, in events.SQSEvent) events.SQSEventResponse {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	failed := make([]bool, len(in.Records))
	var wg sync.WaitGroup
	for i, rec := range in.Records {
		wg.Go(func() {
			if err := h.retry(ctx, rec); err != nil {
				failed[i] = true
				level := slog.LevelError
				if errors.Is(err, errBusy) {
					level = slog.LevelInfo
					h.soon(ctx, rec)
				}
				h.log.Log(ctx, level, "retry not done, will be received again", "messageId", rec.MessageId, "error", err)
			}
		})
	}
	wg.Wait()
	for i, f := range failed {
		if f {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: in.Records[i].MessageId})
		}
	}
	return resp
}

// soon makes a message whose step is busy visible again shortly instead of after the
// queue's full visibility timeout.
func (h *handler) soon(ctx context.Context, rec events.SQSMessage) {
	_, err := h.queue.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: &h.retryURL, ReceiptHandle: &rec.ReceiptHandle, VisibilityTimeout: 5,
	})
	if err != nil {
		h.log.WarnContext(ctx, "could not shorten visibility", "messageId", rec.MessageId, "error", err)
	}
}

func (h *handler) retry(ctx context.Context, rec events.SQSMessage) error {
	var m retryMessage
	if json.Unmarshal([]byte(rec.Body), &m) == nil && m.Replay != "" && m.Key != "" && m.SubscriptionID != "" {
		return h.replay(ctx, m)
	}
	if err := json.Unmarshal([]byte(rec.Body), &m); err != nil || m.Key == "" || m.SubscriptionID == "" || m.Attempt < 1 || m.Base < 0 || m.Base >= m.Attempt {
		// Left to the queue's redrive policy, which moves it to the dead-letter queue.
		return fmt.Errorf("malformed retry message %s: %q", rec.MessageId, rec.Body)
	}
	if wait := m.DueAt.Sub(h.now()); wait > time.Second {
		// Longer than one queue delay: wait again.
		return h.schedule(ctx, m)
	}
	sub, err := h.store.GetSubscription(ctx, m.SubscriptionID)
	deleted := errors.Is(err, store.ErrNotFound)
	if err != nil && !deleted {
		return err
	}
	ev, err := h.store.GetEvent(ctx, m.Key)
	if errors.Is(err, store.ErrNotFound) {
		h.log.WarnContext(ctx, "event expired, retry dropped", "eventKey", m.Key, "subscriptionId", m.SubscriptionID)
		return nil
	}
	if err != nil {
		return err
	}
	if deleted {
		h.log.WarnContext(ctx, "subscription deleted, retry dropped", "eventKey", m.Key, "subscriptionId", m.SubscriptionID)
		// The rest of its group still gets the event.
		return h.continueGroup(ctx, m.Key, storedEvent{body: ev.Event, storedAt: ev.StoredAt}, store.Subscription{ID: m.SubscriptionID, Group: m.Group, Order: m.Order})
	}
	se := storedEvent{body: ev.Event, storedAt: ev.StoredAt}
	status, err := h.attempt(ctx, m, se, *sub)
	if busy, ok := errors.AsType[*busyError](err); ok {
		// A new message for when the holder's lease ends, rather than this one
		// received again and again: each receive counts towards the queue's
		// maxReceiveCount, after which SQS would dead-letter a live delivery.
		return h.watch(ctx, m, busy)
	}
	if err != nil || status == store.DeliveryPending {
		return err
	}
	return h.continueGroup(ctx, m.Key, se, *sub)
}

func ptr[T any](v T) *T { return &v }

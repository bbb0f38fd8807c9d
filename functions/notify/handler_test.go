package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/store"
	"github.com/eventhub/eventhub/shared/webhook"
)

// fakeStore is a deliveryStore in memory. Claims succeed unless claim says otherwise;
// every call that changes delivery state is recorded. Safe for the handler's goroutines.
type fakeStore struct {
	mu          sync.Mutex
	subs        []store.Subscription
	events      map[string]*store.Event
	deliveries  map[string]*store.Delivery // by key + " " + subscription id
	claim       func(key, subID string, attempt int) (bool, error)
	getEventErr error
	onFinish    func(key, subID string)

	reopen       func(key, subID string, attempt int) bool
	failingSince map[string]time.Time

	claimed  []claimCall
	reopened []claimCall
	health   []string // NoteFailure, NoteSuccess, DisableSubscription calls
	finished []finishCall
	// finishedEntries counts timeline entries written by FinishAttempt.
	finishedEntries int
	timeline        []store.TimelineEntry
	reads           int // GetSubscription and GetEvent calls
}

type claimCall struct {
	key, subID, webhookID string
	attempt               int
	lease                 time.Duration
}

type finishCall struct {
	key, subID string
	attempt    int
	outcome    store.Outcome
}

// SubscriptionsVersion is a digest of the subscriptions: a test that changes them
// in place changes the version, as every change does in the store.
func (s *fakeStore) SubscriptionsVersion(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := json.Marshal(s.subs)
	h := fnv.New64a()
	_, _ = h.Write(b)
	return int64(h.Sum64() >> 1), err
}

func (s *fakeStore) ListSubscriptions(context.Context) ([]store.Subscription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]store.Subscription(nil), s.subs...), nil
}

func (s *fakeStore) GetSubscription(_ context.Context, id string) (*store.Subscription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	for _, sub := range s.subs {
		if sub.ID == id {
			return &sub, nil
		}
	}
	return nil, fmt.Errorf("subscription %s: %w", id, store.ErrNotFound)
}

func (s *fakeStore) GetEvent(_ context.Context, key string) (*store.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	if s.getEventErr != nil && key == "evt_broken" {
		return nil, fmt.Errorf("get event %s: %w", key, s.getEventErr)
	}
	if ev, ok := s.events[key]; ok {
		return ev, nil
	}
	return nil, fmt.Errorf("event %s: %w", key, store.ErrNotFound)
}

func (s *fakeStore) GetDelivery(_ context.Context, key, subID string) (*store.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.deliveries[key+" "+subID]; ok {
		return d, nil
	}
	return nil, fmt.Errorf("delivery of %s to %s: %w", key, subID, store.ErrNotFound)
}

func (s *fakeStore) ClaimAttempt(_ context.Context, key, subID, webhookID string, attempt int, lease time.Duration) (bool, error) {
	s.mu.Lock()
	s.claimed = append(s.claimed, claimCall{key, subID, webhookID, attempt, lease})
	claim := s.claim
	s.mu.Unlock()
	if claim == nil {
		return true, nil
	}
	return claim(key, subID, attempt)
}

func (s *fakeStore) ReopenAttempt(_ context.Context, key, subID string, attempt int, lease time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reopened = append(s.reopened, claimCall{key, subID, "", attempt, lease})
	if s.reopen == nil {
		return false, nil
	}
	return s.reopen(key, subID, attempt), nil
}

func (s *fakeStore) NoteFailure(_ context.Context, subID string, at time.Time) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.health = append(s.health, "failure "+subID)
	if s.failingSince == nil {
		s.failingSince = map[string]time.Time{}
	}
	if _, ok := s.failingSince[subID]; !ok {
		s.failingSince[subID] = at
	}
	return s.failingSince[subID], nil
}

func (s *fakeStore) NoteSuccess(_ context.Context, subID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.health = append(s.health, "success "+subID)
	delete(s.failingSince, subID)
	return nil
}

func (s *fakeStore) DisableSubscription(_ context.Context, subID, reason string, at time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.subs {
		if s.subs[i].ID == subID && s.subs[i].Enabled {
			s.subs[i].Enabled = false
			s.subs[i].DisabledReason = reason
			s.health = append(s.health, "disabled "+subID+" "+reason)
			return true, nil
		}
	}
	return false, nil
}

// FinishAttempt records the call; the timeline entry an outcome carries joins the
// timeline, as the store shows it, and is not part of the recorded outcome.
func (s *fakeStore) FinishAttempt(_ context.Context, key, subID string, attempt int, o store.Outcome) error {
	s.mu.Lock()
	if o.Entry != nil {
		s.timeline = append(s.timeline, *o.Entry)
		s.finishedEntries++
		o.Entry = nil
	}
	s.finished = append(s.finished, finishCall{key, subID, attempt, o})
	onFinish := s.onFinish
	s.mu.Unlock()
	if onFinish != nil {
		onFinish(key, subID)
	}
	return nil
}

func (s *fakeStore) AddTimeline(_ context.Context, key string, e store.TimelineEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timeline = append(s.timeline, e)
	return nil
}

// fakeSender answers with send, or 200 when send is nil, and records every message.
type fakeSender struct {
	mu   sync.Mutex
	send func(ctx context.Context, m webhook.Message) webhook.Result
	sent []webhook.Message
}

func (s *fakeSender) Send(ctx context.Context, m webhook.Message) webhook.Result {
	s.mu.Lock()
	s.sent = append(s.sent, m)
	send := s.send
	s.mu.Unlock()
	if send == nil {
		return webhook.Result{Status: 200, Latency: 12 * time.Millisecond}
	}
	return send(ctx, m)
}

func (s *fakeSender) messages() []webhook.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]webhook.Message(nil), s.sent...)
}

// fakeQueue records the SQS calls.
type fakeQueue struct {
	mu         sync.Mutex
	sent       []*sqs.SendMessageInput
	visibility []*sqs.ChangeMessageVisibilityInput
	batches    int                    // SendMessageBatch calls
	failEntry  func(body string) bool // entries of a batch that fail
}

// SendMessageBatch records each entry as a SendMessage, but those failEntry fails.
func (q *fakeQueue) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.batches++
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		if q.failEntry != nil && q.failEntry(*e.MessageBody) {
			out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: ptr("InternalError"), SenderFault: false})
			continue
		}
		q.sent = append(q.sent, &sqs.SendMessageInput{QueueUrl: in.QueueUrl, MessageBody: e.MessageBody, DelaySeconds: e.DelaySeconds, MessageGroupId: e.MessageGroupId})
		out.Successful = append(out.Successful, sqstypes.SendMessageBatchResultEntry{Id: e.Id})
	}
	return out, nil
}

func (q *fakeQueue) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.sent = append(q.sent, in)
	return &sqs.SendMessageOutput{MessageId: ptr(fmt.Sprintf("m-%d", len(q.sent)))}, nil
}

func (q *fakeQueue) ChangeMessageVisibility(_ context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.visibility = append(q.visibility, in)
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

// to returns the messages sent to one queue.
func (q *fakeQueue) to(url string) []*sqs.SendMessageInput {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []*sqs.SendMessageInput
	for _, in := range q.sent {
		if *in.QueueUrl == url {
			out = append(out, in)
		}
	}
	return out
}

// fakeBus records what the handler publishes.
type fakeBus struct {
	mu      sync.Mutex
	entries []bus.Entry
}

func (b *fakeBus) Publish(_ context.Context, entries ...bus.Entry) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.entries = append(b.entries, entries...)
	return nil
}

// memClaims is a claim store in memory.
type memClaims map[string][]byte

func (m memClaims) PutClaim(_ context.Context, id string, d []byte) error { m[id] = d; return nil }
func (m memClaims) GetClaim(_ context.Context, id string) ([]byte, error) {
	d, ok := m[id]
	if !ok {
		return nil, fmt.Errorf("get claim %s: %w", id, store.ErrNotFound)
	}
	return d, nil
}

const (
	retryURL = "https://sqs.us-east-1.amazonaws.com/123456789012/eventhub-retry"
	dlqURL   = "https://sqs.us-east-1.amazonaws.com/123456789012/eventhub-dlq"
	timeout  = 10 * time.Second
	evType   = "mse:Agent:OutlierEjection"
	evID     = "170d56b6-9efe-420b-affb-16ab9adb****"
)

var (
	now   = time.Date(2026, 3, 14, 15, 9, 27, 0, time.UTC)
	key   = cloudevent.Key("acs.mse", evID)
	event = `{"specversion":"1.0","id":"` + evID + `","source":"acs.mse","type":"` + evType + `","aliyunregionid":"cn-hangzhou","data":{"framework":"DUBBO"}}`
)

func sub(id, pattern string) store.Subscription {
	return store.Subscription{
		ID:        id,
		Name:      "team " + id,
		URL:       "https://hooks.example.com/" + id,
		Pattern:   pattern,
		Mode:      "cloudevents",
		Enabled:   true,
		Secrets:   []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
		Headers:   map[string]string{"X-Team": id},
		UpdatedAt: now.Add(-time.Hour),
	}
}

// rig is a notify handler on fakes.
type rig struct {
	st     *fakeStore
	sender *fakeSender
	queue  *fakeQueue
	pub    *fakeBus
	claims memClaims
	jitter float64
	h      *handler
}

func newRig(subs ...store.Subscription) *rig {
	r := &rig{
		st: &fakeStore{
			subs:       subs,
			events:     map[string]*store.Event{key: {Key: key, Source: "acs.mse", ID: evID, Type: evType, Event: json.RawMessage(event)}},
			deliveries: map[string]*store.Delivery{},
		},
		sender: &fakeSender{},
		queue:  &fakeQueue{},
		pub:    &fakeBus{},
		claims: memClaims{},
	}
	r.h = newHandler(handlerConfig{
		store:    r.st,
		claims:   r.claims,
		sender:   r.sender,
		queue:    r.queue,
		retryURL: retryURL,
		dlqURL:   dlqURL,
		pub:      r.pub,
		timeout:  timeout,
		log:      slog.New(slog.DiscardHandler),
		now:      func() time.Time { return now },
		jitter:   func() float64 { return r.jitter },
	})
	return r
}

// stored returns an Event Stored invocation as EventBridge sends it.
func stored(t *testing.T, ev string) json.RawMessage {
	t.Helper()
	e, err := cloudevent.Parse([]byte(ev))
	if err != nil {
		t.Fatalf("test event: %v", err)
	}
	detail, err := json.Marshal(bus.EventDetail{Event: json.RawMessage(ev), Hub: bus.Hub{Key: e.Key(), SourceID: "src_1", ReceivedAt: now.Add(-time.Second)}})
	if err != nil {
		t.Fatal(err)
	}
	return storedDetail(t, detail)
}

func storedDetail(t *testing.T, detail []byte) json.RawMessage {
	t.Helper()
	raw, err := json.Marshal(events.EventBridgeEvent{
		Version: "0", ID: "eb-3", DetailType: "Event Stored", Source: "eventhub.persist",
		AccountID: "123456789012", Region: "us-east-1", Time: now, Resources: []string{}, Detail: detail,
	})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// record is one retry queue message as SQS delivers it to the function.
type record struct {
	id   string
	body string
}

func retryBody(k, subID string, attempt int, due time.Time) string {
	b, _ := json.Marshal(retryMessage{Key: k, SubscriptionID: subID, Attempt: attempt, DueAt: due})
	return string(b)
}

func sqsBatch(t *testing.T, recs ...record) json.RawMessage {
	t.Helper()
	var in events.SQSEvent
	for _, r := range recs {
		in.Records = append(in.Records, events.SQSMessage{
			MessageId: r.id, ReceiptHandle: "rh-" + r.id, Body: r.body,
			EventSource: "aws:sqs", EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:eventhub-retry", AWSRegion: "us-east-1",
		})
	}
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// runStored invokes the handler with Event Stored and wants no SQS-style answer.
func (r *rig) runStored(t *testing.T, ev string) error {
	t.Helper()
	out, err := r.h.handle(context.Background(), stored(t, ev))
	if out != nil {
		t.Errorf("handle(Event Stored) result = %v; want nil", out)
	}
	return err
}

// runBatch invokes the handler with a retry queue batch and returns the ids of the
// messages reported as failed.
func (r *rig) runBatch(t *testing.T, recs ...record) []string {
	t.Helper()
	out, err := r.h.handle(context.Background(), sqsBatch(t, recs...))
	if err != nil {
		t.Fatalf("handle(SQS batch) error = %v; want failures reported per message", err)
	}
	resp, ok := out.(events.SQSEventResponse)
	if !ok {
		t.Fatalf("handle(SQS batch) = %T; want events.SQSEventResponse", out)
	}
	if resp.BatchItemFailures == nil {
		t.Errorf("batchItemFailures is nil; want [] so that it marshals as an empty list")
	}
	ids := []string{}
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

func TestNotifyFirstAttemptDelivered(t *testing.T) {
	tests := []struct {
		name        string
		timeoutMs   int
		wantTimeout time.Duration
	}{
		{name: "default timeout", wantTimeout: timeout},
		{name: "subscription timeout", timeoutMs: 2500, wantTimeout: 2500 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := sub("sub_a", `{"type":["`+evType+`"]}`)
			s.TimeoutMs = tc.timeoutMs
			r := newRig(s)
			if err := r.runStored(t, event); err != nil {
				t.Fatalf("handle = %v; want nil", err)
			}
			whID := webhookID(key, "sub_a")
			if !strings.HasPrefix(whID, "msg_") {
				t.Errorf("webhookID = %q; want a msg_ id", whID)
			}
			wantClaim := claimCall{key, "sub_a", whID, 1, tc.wantTimeout + 30*time.Second}
			if len(r.st.claimed) != 1 || r.st.claimed[0] != wantClaim {
				t.Errorf("claims = %+v; want [%+v]", r.st.claimed, wantClaim)
			}
			sent := r.sender.messages()
			if len(sent) != 1 {
				t.Fatalf("sent %d messages; want 1", len(sent))
			}
			m := sent[0]
			if m.URL != s.URL || m.ID != whID || string(m.Body) != event || m.ContentType != "application/cloudevents+json" || m.Timeout != tc.wantTimeout {
				t.Errorf("sent {url %s, id %s, body %s, type %s, timeout %s}; want {%s, %s, %s, application/cloudevents+json, %s}",
					m.URL, m.ID, m.Body, m.ContentType, m.Timeout, s.URL, whID, event, tc.wantTimeout)
			}
			if len(m.Secrets) != 1 || m.Secrets[0] != s.Secrets[0] || m.Headers["X-Team"] != "sub_a" {
				t.Errorf("sent secrets %v, headers %v; want the subscription's", m.Secrets, m.Headers)
			}
			want := finishCall{key, "sub_a", 1, store.Outcome{Status: store.DeliveryDelivered, HTTPStatus: 200}}
			if len(r.st.finished) != 1 || r.st.finished[0] != want {
				t.Errorf("FinishAttempt calls = %+v; want [%+v]", r.st.finished, want)
			}
			if len(r.st.timeline) != 1 || r.st.finishedEntries != 1 {
				t.Fatalf("timeline entries = %+v (%d with FinishAttempt); want one attempt, written with the delivery", r.st.timeline, r.st.finishedEntries)
			}
			e := r.st.timeline[0]
			if e.Stage != store.StageAttempt || e.Attempt != 1 || e.SubscriptionID != "sub_a" || e.Status != 200 || e.Outcome != store.DeliveryDelivered || e.LatencyMs != 12 || !e.At.Equal(now) {
				t.Errorf("timeline entry = %+v; want attempt 1 of sub_a, 200, delivered, 12 ms, at now", e)
			}
			if len(r.queue.sent) != 0 || len(r.pub.entries) != 0 {
				t.Errorf("queued %d, published %d; want neither", len(r.queue.sent), len(r.pub.entries))
			}
		})
	}
}

func TestNotifyRetryScheduled(t *testing.T) {
	connRefused := errors.New("dial tcp 203.0.113.9:443: connect: connection refused")
	tests := []struct {
		name      string
		retry     []string
		attempt   int // 1: from Event Stored; more: from the retry queue
		result    webhook.Result
		jitter    float64
		wantDelay time.Duration // until dueAt
		wantQueue int32         // DelaySeconds
	}{
		{name: "default schedule", attempt: 1, result: webhook.Result{Status: 500}, wantDelay: 5 * time.Second, wantQueue: 5},
		{name: "subscription schedule", retry: []string{"10s", "1m"}, attempt: 1, result: webhook.Result{Status: 500}, wantDelay: 10 * time.Second, wantQueue: 10},
		{name: "subscription schedule, second attempt", retry: []string{"10s", "1m"}, attempt: 2, result: webhook.Result{Status: 502}, wantDelay: time.Minute, wantQueue: 60},
		{name: "no answer", retry: []string{"10s"}, attempt: 1, result: webhook.Result{Err: connRefused}, wantDelay: 10 * time.Second, wantQueue: 10},
		{name: "redirect is a failure", retry: []string{"10s"}, attempt: 1, result: webhook.Result{Status: 302}, wantDelay: 10 * time.Second, wantQueue: 10},
		{name: "Retry-After longer than the schedule", retry: []string{"10s"}, attempt: 1, result: webhook.Result{Status: 503, RetryAfter: 2 * time.Minute}, wantDelay: 2 * time.Minute, wantQueue: 120},
		{name: "Retry-After of ten years is capped at a day", retry: []string{"10s"}, attempt: 1, result: webhook.Result{Status: 503, RetryAfter: 10 * 365 * 24 * time.Hour}, wantDelay: 24 * time.Hour, wantQueue: 900},
		{name: "Retry-After shorter than the schedule", retry: []string{"10s"}, attempt: 1, result: webhook.Result{Status: 429, RetryAfter: 3 * time.Second}, wantDelay: 10 * time.Second, wantQueue: 10},
		{name: "delay over the queue's 15 minutes", retry: []string{"2h"}, attempt: 1, result: webhook.Result{Status: 500}, wantDelay: 2 * time.Hour, wantQueue: 900},
		{name: "default schedule, seventh attempt", attempt: 7, result: webhook.Result{Status: 500}, wantDelay: 10 * time.Hour, wantQueue: 900},
		{name: "jitter up", retry: []string{"10s"}, attempt: 1, jitter: 0.5, result: webhook.Result{Status: 500}, wantDelay: 11 * time.Second, wantQueue: 11},
		{name: "jitter down", retry: []string{"10s"}, attempt: 1, jitter: -1, result: webhook.Result{Status: 500}, wantDelay: 8 * time.Second, wantQueue: 8},
		{name: "invalid stored schedule falls back to the default", retry: []string{"soon"}, attempt: 1, result: webhook.Result{Status: 500}, wantDelay: 5 * time.Second, wantQueue: 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := sub("sub_a", "")
			s.Retry = tc.retry
			r := newRig(s)
			r.jitter = tc.jitter
			r.sender.send = func(context.Context, webhook.Message) webhook.Result { return tc.result }
			if tc.attempt == 1 {
				if err := r.runStored(t, event); err != nil {
					t.Fatalf("handle = %v; want nil (the failure is scheduled, not returned)", err)
				}
			} else if failed := r.runBatch(t, record{"m1", retryBody(key, "sub_a", tc.attempt, now)}); len(failed) != 0 {
				t.Fatalf("batchItemFailures = %v; want none", failed)
			}
			if len(r.sender.messages()) != 1 {
				t.Fatalf("sent %d messages; want 1", len(r.sender.messages()))
			}
			due := now.Add(tc.wantDelay)
			retries := r.queue.to(retryURL)
			if len(retries) != 1 {
				t.Fatalf("retry queue messages = %d; want 1", len(retries))
			}
			if retries[0].DelaySeconds != tc.wantQueue {
				t.Errorf("DelaySeconds = %d; want %d", retries[0].DelaySeconds, tc.wantQueue)
			}
			var m retryMessage
			if err := json.Unmarshal([]byte(*retries[0].MessageBody), &m); err != nil {
				t.Fatalf("retry body %s: %v", *retries[0].MessageBody, err)
			}
			want := retryMessage{Key: key, SubscriptionID: "sub_a", Attempt: tc.attempt + 1, DueAt: due}
			if m.Key != want.Key || m.SubscriptionID != want.SubscriptionID || m.Attempt != want.Attempt || !m.DueAt.Equal(due) {
				t.Errorf("retry message = %+v; want %+v", m, want)
			}
			if len(r.queue.to(dlqURL)) != 0 || len(r.pub.entries) != 0 {
				t.Errorf("dead-lettered %d, published %d; want neither before the schedule is used up", len(r.queue.to(dlqURL)), len(r.pub.entries))
			}
			if len(r.st.finished) != 1 {
				t.Fatalf("FinishAttempt calls = %+v; want 1", r.st.finished)
			}
			f := r.st.finished[0]
			wantErr := ""
			if tc.result.Err != nil {
				wantErr = tc.result.Err.Error()
			}
			if f.attempt != tc.attempt || f.outcome.Status != store.DeliveryPending || !f.outcome.NextAt.Equal(due) || f.outcome.HTTPStatus != tc.result.Status || f.outcome.Error != wantErr {
				t.Errorf("FinishAttempt(%d, %+v); want (%d, {pending, next %v, status %d, error %q})", f.attempt, f.outcome, tc.attempt, due, tc.result.Status, wantErr)
			}
		})
	}
}

func TestNotifyLastAttemptFails(t *testing.T) {
	tests := []struct {
		name    string
		retry   []string
		attempt int
	}{
		{name: "subscription schedule", retry: []string{"10s"}, attempt: 2},
		{name: "longer subscription schedule", retry: []string{"10s", "1m", "5m"}, attempt: 4},
		{name: "default schedule", attempt: len(DefaultSchedule) + 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := sub("sub_a", "")
			s.Retry = tc.retry
			r := newRig(s)
			r.sender.send = func(context.Context, webhook.Message) webhook.Result {
				return webhook.Result{Status: 500, Response: "upstream down"}
			}
			if failed := r.runBatch(t, record{"m1", retryBody(key, "sub_a", tc.attempt, now)}); len(failed) != 0 {
				t.Fatalf("batchItemFailures = %v; want none", failed)
			}
			if n := len(r.queue.to(retryURL)); n != 0 {
				t.Errorf("retry queue messages = %d; want none after the last attempt", n)
			}
			dlq := r.queue.to(dlqURL)
			if len(dlq) != 1 {
				t.Fatalf("dead-letter messages = %d; want 1", len(dlq))
			}
			var dl deadLetter
			if err := json.Unmarshal([]byte(*dlq[0].MessageBody), &dl); err != nil {
				t.Fatal(err)
			}
			wantDL := deadLetter{Key: key, SubscriptionID: "sub_a", WebhookID: webhookID(key, "sub_a"), Attempts: tc.attempt, LastStatus: 500, FailedAt: now}
			if dl != wantDL {
				t.Errorf("dead letter = %+v; want %+v", dl, wantDL)
			}
			if len(r.pub.entries) != 1 {
				t.Fatalf("published %d entries; want one Delivery Failed", len(r.pub.entries))
			}
			e := r.pub.entries[0]
			if e.Source != "eventhub.notify" || e.DetailType != "Delivery Failed" {
				t.Errorf("entry source, detail type = %q, %q; want eventhub.notify, Delivery Failed", e.Source, e.DetailType)
			}
			wantDetail := bus.DeliveryFailedDetail{
				Key: key, EventID: evID, EventSource: "acs.mse", EventType: evType,
				SubscriptionID: "sub_a", URL: s.URL, Attempts: tc.attempt, LastStatus: 500, FailedAt: now,
			}
			if d, ok := e.Detail.(bus.DeliveryFailedDetail); !ok || d != wantDetail {
				t.Errorf("Delivery Failed detail = %+v; want %+v", e.Detail, wantDetail)
			}
			want := finishCall{key, "sub_a", tc.attempt, store.Outcome{Status: store.DeliveryFailed, HTTPStatus: 500}}
			if len(r.st.finished) != 1 || r.st.finished[0] != want {
				t.Errorf("FinishAttempt calls = %+v; want [%+v]", r.st.finished, want)
			}
			if len(r.st.timeline) != 1 || r.st.timeline[0].Outcome != store.DeliveryFailed || r.st.timeline[0].Response != "upstream down" {
				t.Errorf("timeline = %+v; want one failed attempt keeping the response", r.st.timeline)
			}
		})
	}
}

func TestNotifyClaimRefused(t *testing.T) {
	lease := now.Add(40 * time.Second).Unix()
	tests := []struct {
		name     string
		attempt  int // 1: from Event Stored; -1: attempt 1 from the retry queue; more: from the retry queue
		delivery store.Delivery
		busy     bool // the step belongs to another invocation, maybe a dead one
	}{
		{name: "already delivered", attempt: 1, delivery: store.Delivery{Status: store.DeliveryDelivered, Attempt: 1}},
		{name: "already failed", attempt: 3, delivery: store.Delivery{Status: store.DeliveryFailed, Attempt: 3}},
		{name: "a later attempt exists", attempt: 1, delivery: store.Delivery{Status: store.DeliveryPending, Attempt: 2, InFlight: true}},
		{name: "this attempt finished", attempt: 2, delivery: store.Delivery{Status: store.DeliveryPending, Attempt: 2}},
		{name: "first attempt held by another invocation", attempt: 1, delivery: store.Delivery{Status: store.DeliveryPending, Attempt: 1, InFlight: true, LeaseUntil: lease}, busy: true},
		{name: "first attempt watched and still held", attempt: -1, delivery: store.Delivery{Status: store.DeliveryPending, Attempt: 1, InFlight: true, LeaseUntil: lease}, busy: true},
		{name: "retry held by another invocation", attempt: 2, delivery: store.Delivery{Status: store.DeliveryPending, Attempt: 2, InFlight: true, LeaseUntil: lease}, busy: true},
		{name: "previous attempt still running", attempt: 3, delivery: store.Delivery{Status: store.DeliveryPending, Attempt: 2, InFlight: true, LeaseUntil: lease}, busy: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(sub("sub_a", ""))
			r.st.claim = func(string, string, int) (bool, error) { return false, nil }
			d := tc.delivery
			d.Key, d.SubscriptionID = key, "sub_a"
			r.st.deliveries[key+" sub_a"] = &d
			attempt := tc.attempt
			if attempt == 1 {
				if err := r.runStored(t, event); err != nil {
					t.Errorf("handle = %v; want nil", err)
				}
			} else {
				attempt = max(attempt, 1)
				if failed := r.runBatch(t, record{"m1", retryBody(key, "sub_a", attempt, now)}); len(failed) != 0 {
					t.Errorf("batchItemFailures = %v; want none: a busy step is queued again, not received again", failed)
				}
			}
			if n := len(r.sender.messages()); n != 0 {
				t.Errorf("sent %d messages; want none without the claim", n)
			}
			if len(r.st.finished) != 0 || len(r.pub.entries) != 0 || len(r.queue.visibility) != 0 {
				t.Errorf("finished %d, published %d, visibility changed %d; want nothing", len(r.st.finished), len(r.pub.entries), len(r.queue.visibility))
			}
			queued := r.queue.to(retryURL)
			if !tc.busy {
				if len(queued) != 0 {
					t.Errorf("queued %d retries; want none for a step that is done", len(queued))
				}
				return
			}
			// Found by make chaos: the step is checked again when the holder's lease
			// has run out, so that a holder that died does not leave the delivery
			// pending for ever.
			if len(queued) != 1 {
				t.Fatalf("queued %d retries; want 1 for when the lease ends", len(queued))
			}
			var m retryMessage
			if err := json.Unmarshal([]byte(*queued[0].MessageBody), &m); err != nil {
				t.Fatal(err)
			}
			wantDue := time.Unix(lease, 0).Add(time.Second).UTC()
			if m.Key != key || m.SubscriptionID != "sub_a" || m.Attempt != attempt || !m.DueAt.Equal(wantDue) {
				t.Errorf("queued %+v; want attempt %d of %s to sub_a due at %s", m, attempt, key, wantDue)
			}
			if queued[0].DelaySeconds != 41 {
				t.Errorf("DelaySeconds = %d; want 41 (the lease and a second)", queued[0].DelaySeconds)
			}
		})
	}
}

// A first attempt whose claimant died mid-delivery is taken over once its lease has
// run out, by the watch message that Lambda's retry of the Event Stored queued.
func TestNotifyDeadClaimantTakenOver(t *testing.T) {
	r := newRig(sub("sub_a", ""))
	r.st.deliveries[key+" sub_a"] = &store.Delivery{Key: key, SubscriptionID: "sub_a", Status: store.DeliveryPending, Attempt: 1, InFlight: true, LeaseUntil: now.Add(-time.Second).Unix()}
	if failed := r.runBatch(t, record{"m1", retryBody(key, "sub_a", 1, now)}); len(failed) != 0 {
		t.Fatalf("batchItemFailures = %v; want none", failed)
	}
	if n := len(r.sender.messages()); n != 1 {
		t.Fatalf("sent %d messages; want the first attempt made again", n)
	}
	if len(r.st.claimed) != 1 || r.st.claimed[0].attempt != 1 {
		t.Errorf("claims = %+v; want attempt 1 claimed", r.st.claimed)
	}
	if len(r.st.finished) != 1 || r.st.finished[0].outcome.Status != store.DeliveryDelivered {
		t.Errorf("finished = %+v; want the delivery recorded", r.st.finished)
	}
}

func TestNotifyClaimError(t *testing.T) {
	boom := errors.New("dynamodb: throttled")
	r := newRig(sub("sub_a", ""))
	r.st.claim = func(string, string, int) (bool, error) { return false, boom }
	if err := r.runStored(t, event); !errors.Is(err, boom) {
		t.Errorf("handle = %v; want %v so that EventBridge retries", err, boom)
	}
	if n := len(r.sender.messages()); n != 0 {
		t.Errorf("sent %d messages; want none", n)
	}
}

func TestNotifyBatchItemFailures(t *testing.T) {
	boom := errors.New("dynamodb: ProvisionedThroughputExceeded")
	other := cloudevent.Key("acs.mse", "other")
	otherEvent := strings.Replace(event, evID, "other", 1)
	r := newRig(sub("sub_a", ""))
	r.st.events[other] = &store.Event{Key: other, Event: json.RawMessage(otherEvent)}
	r.st.getEventErr = boom
	failed := r.runBatch(t,
		record{"m1", retryBody(key, "sub_a", 2, now)},
		record{"m2", retryBody("evt_broken", "sub_a", 2, now)},
		record{"m3", retryBody(other, "sub_a", 2, now)},
	)
	if len(failed) != 1 || failed[0] != "m2" {
		t.Errorf("batchItemFailures = %v; want [m2]", failed)
	}
	sent := r.sender.messages()
	if len(sent) != 2 {
		t.Fatalf("sent %d messages; want 2 (the batch's other records)", len(sent))
	}
	if len(r.queue.visibility) != 0 {
		t.Errorf("ChangeMessageVisibility calls = %d; want none for a store failure", len(r.queue.visibility))
	}
}

func TestNotifyRetryNotDue(t *testing.T) {
	tests := []struct {
		name      string
		dueIn     time.Duration
		wantDelay int32
	}{
		{name: "due in two hours", dueIn: 2 * time.Hour, wantDelay: 900},
		{name: "due in exactly fifteen minutes", dueIn: 15 * time.Minute, wantDelay: 900},
		{name: "due in 100 s", dueIn: 100 * time.Second, wantDelay: 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(sub("sub_a", ""))
			body := retryBody(key, "sub_a", 3, now.Add(tc.dueIn))
			if failed := r.runBatch(t, record{"m1", body}); len(failed) != 0 {
				t.Errorf("batchItemFailures = %v; want none (the message is re-sent)", failed)
			}
			retries := r.queue.to(retryURL)
			if len(retries) != 1 {
				t.Fatalf("retry queue messages = %d; want 1", len(retries))
			}
			if retries[0].DelaySeconds != tc.wantDelay {
				t.Errorf("DelaySeconds = %d; want %d", retries[0].DelaySeconds, tc.wantDelay)
			}
			var got, want retryMessage
			_ = json.Unmarshal([]byte(body), &want)
			if err := json.Unmarshal([]byte(*retries[0].MessageBody), &got); err != nil {
				t.Fatal(err)
			}
			if got.Key != want.Key || got.SubscriptionID != want.SubscriptionID || got.Attempt != want.Attempt || !got.DueAt.Equal(want.DueAt) {
				t.Errorf("re-sent %+v; want the same message %+v", got, want)
			}
			if n := len(r.sender.messages()); n != 0 || len(r.st.claimed) != 0 || r.st.reads != 0 {
				t.Errorf("sent %d, claimed %d, store reads %d; want nothing before the due time", n, len(r.st.claimed), r.st.reads)
			}
		})
	}
	t.Run("due within a second", func(t *testing.T) {
		r := newRig(sub("sub_a", ""))
		if failed := r.runBatch(t, record{"m1", retryBody(key, "sub_a", 3, now.Add(time.Second))}); len(failed) != 0 {
			t.Errorf("batchItemFailures = %v; want none", failed)
		}
		if n := len(r.sender.messages()); n != 1 {
			t.Errorf("sent %d messages; want the attempt made now", n)
		}
	})
}

func TestNotifyMalformedRetry(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{name: "not JSON", body: "retry me"},
		{name: "empty object", body: `{}`},
		{name: "no key", body: `{"subscriptionId":"sub_a","attempt":2}`},
		{name: "no subscription", body: `{"key":"` + key + `","attempt":2}`},
		{name: "attempt zero", body: `{"key":"` + key + `","subscriptionId":"sub_a","attempt":0}`},
		{name: "base not below attempt", body: `{"key":"` + key + `","subscriptionId":"sub_a","attempt":2,"base":2}`},
		{name: "attempt is a string", body: `{"key":"` + key + `","subscriptionId":"sub_a","attempt":"2"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(sub("sub_a", ""))
			failed := r.runBatch(t, record{"bad", tc.body}, record{"good", retryBody(key, "sub_a", 2, now)})
			if len(failed) != 1 || failed[0] != "bad" {
				t.Errorf("batchItemFailures = %v; want [bad]", failed)
			}
			if n := len(r.sender.messages()); n != 1 {
				t.Errorf("sent %d messages; want 1, for the good record only", n)
			}
		})
	}
}

func TestNotifyRetryDropped(t *testing.T) {
	tests := []struct {
		name  string
		key   string
		subID string
	}{
		{name: "subscription deleted", key: key, subID: "sub_gone"},
		{name: "event expired", key: cloudevent.Key("acs.mse", "expired"), subID: "sub_a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(sub("sub_a", ""))
			if failed := r.runBatch(t, record{"m1", retryBody(tc.key, tc.subID, 2, now)}); len(failed) != 0 {
				t.Errorf("batchItemFailures = %v; want none: there is nothing left to deliver", failed)
			}
			if n := len(r.sender.messages()); n != 0 || len(r.queue.sent) != 0 {
				t.Errorf("sent %d, queued %d; want nothing", n, len(r.queue.sent))
			}
		})
	}
}

func TestNotifyMatching(t *testing.T) {
	disabled := sub("sub_off", `{"type":["`+evType+`"]}`)
	disabled.Enabled = false
	tests := []struct {
		name string
		subs []store.Subscription
		want []string // subscriptions delivered to
	}{
		{name: "matching type", subs: []store.Subscription{sub("sub_a", `{"type":["`+evType+`"]}`)}, want: []string{"sub_a"}},
		{name: "empty pattern matches everything", subs: []store.Subscription{sub("sub_a", "")}, want: []string{"sub_a"}},
		{name: "extension attribute", subs: []store.Subscription{sub("sub_a", `{"aliyunregionid":["cn-hangzhou"]}`)}, want: []string{"sub_a"}},
		{name: "data field", subs: []store.Subscription{sub("sub_a", `{"data":{"framework":["DUBBO"]}}`)}, want: []string{"sub_a"}},
		{name: "non-matching type", subs: []store.Subscription{sub("sub_a", `{"type":["mse:Agent:GracefulShutdown"]}`)}, want: nil},
		{name: "non-matching source", subs: []store.Subscription{sub("sub_a", `{"source":["acs.ecs"]}`)}, want: nil},
		{name: "disabled subscription", subs: []store.Subscription{disabled}, want: nil},
		{name: "stored pattern that no longer compiles is skipped", subs: []store.Subscription{sub("sub_a", `{"type":"not an array"}`), sub("sub_b", "")}, want: []string{"sub_b"}},
		{name: "only the matching ones", subs: []store.Subscription{
			sub("sub_a", `{"type":[{"prefix":"mse:Agent:"}]}`),
			sub("sub_b", `{"type":["other"]}`),
			disabled,
			sub("sub_c", `{"source":["acs.mse"]}`),
		}, want: []string{"sub_a", "sub_c"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(tc.subs...)
			if err := r.runStored(t, event); err != nil {
				t.Fatalf("handle = %v; want nil", err)
			}
			var got []string
			for _, m := range r.sender.messages() {
				got = append(got, strings.TrimPrefix(m.URL, "https://hooks.example.com/"))
			}
			var claimed []string
			for _, c := range r.st.claimed {
				claimed = append(claimed, c.subID)
			}
			if strings.Join(sorted(got), ",") != strings.Join(tc.want, ",") {
				t.Errorf("delivered to %v; want %v", got, tc.want)
			}
			if strings.Join(sorted(claimed), ",") != strings.Join(tc.want, ",") {
				t.Errorf("claimed for %v; want %v", claimed, tc.want)
			}
		})
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// TestNotifySubscriptionsConcurrently holds the first subscription's send until the
// second subscription's attempt has finished: attempts made one after the other could
// never get there.
func TestNotifySubscriptionsConcurrently(t *testing.T) {
	r := newRig(sub("sub_a", ""), sub("sub_b", ""))
	bFinished := make(chan struct{})
	r.st.onFinish = func(_, subID string) {
		if subID == "sub_b" {
			close(bFinished)
		}
	}
	r.sender.send = func(ctx context.Context, m webhook.Message) webhook.Result {
		if !strings.HasSuffix(m.URL, "/sub_a") {
			return webhook.Result{Status: 204}
		}
		select {
		case <-bFinished:
			return webhook.Result{Status: 200}
		case <-time.After(5 * time.Second): // a deadlock guard, not a measurement
			return webhook.Result{Err: errors.New("sub_b was not attempted while sub_a's receiver was slow")}
		}
	}
	if err := r.runStored(t, event); err != nil {
		t.Fatalf("handle = %v", err)
	}
	for _, f := range r.st.finished {
		if f.outcome.Status != store.DeliveryDelivered {
			t.Errorf("%s: outcome %+v; want delivered (attempts must not wait for each other)", f.subID, f.outcome)
		}
	}
	if len(r.st.finished) != 2 || r.st.finished[0].subID != "sub_b" || r.st.finished[1].subID != "sub_a" {
		t.Errorf("finished in order %+v; want sub_b, then the slow sub_a", r.st.finished)
	}
}

// TestNotifyBatchConcurrently does the same for the records of one retry queue batch.
func TestNotifyBatchConcurrently(t *testing.T) {
	other := cloudevent.Key("acs.mse", "other")
	r := newRig(sub("sub_a", ""))
	r.st.events[other] = &store.Event{Key: other, Event: json.RawMessage(strings.Replace(event, evID, "other", 1))}
	otherFinished := make(chan struct{})
	r.st.onFinish = func(k, _ string) {
		if k == other {
			close(otherFinished)
		}
	}
	r.sender.send = func(ctx context.Context, m webhook.Message) webhook.Result {
		if m.ID == webhookID(other, "sub_a") {
			return webhook.Result{Status: 200}
		}
		select {
		case <-otherFinished:
			return webhook.Result{Status: 200}
		case <-time.After(5 * time.Second): // a deadlock guard, not a measurement
			return webhook.Result{Err: errors.New("the other record was not attempted while this one was slow")}
		}
	}
	if failed := r.runBatch(t, record{"m1", retryBody(key, "sub_a", 2, now)}, record{"m2", retryBody(other, "sub_a", 2, now)}); len(failed) != 0 {
		t.Errorf("batchItemFailures = %v; want none", failed)
	}
	for _, f := range r.st.finished {
		if f.outcome.Status != store.DeliveryDelivered {
			t.Errorf("%s: outcome %+v; want delivered (records must not wait for each other)", f.key, f.outcome)
		}
	}
}

func TestNotifyClaimCheck(t *testing.T) {
	detail, err := json.Marshal(bus.EventDetail{Event: json.RawMessage(event), Hub: bus.Hub{Key: key}})
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(sub("sub_a", ""))
	r.claims["clm_1"] = detail
	if _, err := r.h.handle(context.Background(), storedDetail(t, []byte(`{"claim":"clm_1"}`))); err != nil {
		t.Fatalf("handle = %v; want nil", err)
	}
	if sent := r.sender.messages(); len(sent) != 1 || string(sent[0].Body) != event {
		t.Errorf("sent %d messages; want the claimed event delivered once", len(sent))
	}
}

func TestNotifyResponseShape(t *testing.T) {
	r := newRig()
	out, err := r.h.handle(context.Background(), json.RawMessage(`{"Records":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"batchItemFailures":[]}` {
		t.Errorf("response to an empty batch = %s; want {\"batchItemFailures\":[]}", b)
	}
	if _, err := r.h.handle(context.Background(), json.RawMessage(`[1]`)); err == nil {
		t.Errorf("handle([1]) = nil error; want an error for an invocation it cannot read")
	}
}

func readFixture(t *testing.T, name string) json.RawMessage {
	t.Helper()
	data, err := os.ReadFile("../../events/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(data) {
		t.Fatalf("events/%s is not JSON", name)
	}
	return data
}

func TestNotifyFixtures(t *testing.T) {
	mseKey := cloudevent.Key("acs.mse", evID)
	t.Run("notify-stored.json", func(t *testing.T) {
		r := newRig(sub("sub_example", `{"type":["mse:Agent:OutlierEjection"],"aliyunregionid":["cn-hangzhou"]}`))
		out, err := r.h.handle(context.Background(), readFixture(t, "notify-stored.json"))
		if out != nil || err != nil {
			t.Fatalf("handle(fixture) = %v, %v; want nil, nil", out, err)
		}
		sent := r.sender.messages()
		if len(sent) != 1 || sent[0].ID != webhookID(mseKey, "sub_example") {
			t.Fatalf("sent %+v; want one message for %s", sent, mseKey)
		}
		ev, err := cloudevent.Parse(sent[0].Body)
		if err != nil || ev.Key() != mseKey {
			t.Errorf("delivered body does not parse to the fixture's event: %v", err)
		}
	})
	t.Run("notify-retry-sqs.json", func(t *testing.T) {
		raw := readFixture(t, "notify-retry-sqs.json")
		var in events.SQSEvent
		if err := json.Unmarshal(raw, &in); err != nil || len(in.Records) != 1 {
			t.Fatalf("fixture = %v records, %v; want one SQS record", len(in.Records), err)
		}
		var m retryMessage
		if err := json.Unmarshal([]byte(in.Records[0].Body), &m); err != nil {
			t.Fatalf("fixture body: %v", err)
		}
		if m.Key != mseKey || m.Attempt != 2 || m.DueAt.IsZero() {
			t.Fatalf("fixture retry message = %+v; want attempt 2 of %s with a due time", m, mseKey)
		}
		r := newRig(sub("sub_example", ""))
		r.st.events[mseKey] = &store.Event{Key: mseKey, Event: json.RawMessage(event)}
		r.h.now = func() time.Time { return m.DueAt }
		out, err := r.h.handle(context.Background(), raw)
		if err != nil {
			t.Fatal(err)
		}
		if resp := out.(events.SQSEventResponse); len(resp.BatchItemFailures) != 0 {
			t.Errorf("batchItemFailures = %v; want none", resp.BatchItemFailures)
		}
		if len(r.st.claimed) != 1 || r.st.claimed[0].attempt != 2 || len(r.sender.messages()) != 1 {
			t.Errorf("claims %+v, sent %d; want attempt 2 delivered", r.st.claimed, len(r.sender.messages()))
		}
	})
}

package main

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventhub/eventhub/shared/store"
	"github.com/eventhub/eventhub/shared/webhook"
)

// hangingSender answers 200 at once, but never answers the subscriptions in hang: their
// requests wait for the message's timeout.
func hangingSender(hang ...string) func(ctx context.Context, m webhook.Message) webhook.Result {
	return func(ctx context.Context, m webhook.Message) webhook.Result {
		for _, id := range hang {
			if strings.HasSuffix(m.URL, "/"+id) {
				ctx, cancel := context.WithTimeout(ctx, m.Timeout)
				defer cancel()
				<-ctx.Done()
				return webhook.Result{Err: context.DeadlineExceeded, TimedOut: true, Latency: m.Timeout}
			}
		}
		return webhook.Result{Status: 200, Latency: time.Millisecond}
	}
}

// retried decodes the retry queue messages sent so far.
func (r *rig) retried(t *testing.T) []retryMessage {
	t.Helper()
	var out []retryMessage
	for _, in := range r.queue.to(retryURL) {
		var m retryMessage
		if err := json.Unmarshal([]byte(*in.MessageBody), &m); err != nil {
			t.Fatal(err)
		}
		if in.MessageGroupId == nil || *in.MessageGroupId != m.SubscriptionID {
			t.Errorf("retry message %s without its subscription as MessageGroupId (a fair queue): %v", *in.MessageBody, in.MessageGroupId)
		}
		out = append(out, m)
	}
	return out
}

// A hanging subscriber holds an Event Stored invocation for the first-attempt timeout
// once: its attempt is handed over to the retry queue, with its full timeout and the
// retry schedule from the start, and its next first attempts go to the queue at once,
// batched; the healthy subscriber is delivered inline every time.
func TestSlowSubscriberHandedOver(t *testing.T) {
	healthy, hanging := sub("sub_ok", `{"type":["`+evType+`"]}`), sub("sub_hang", `{"type":["`+evType+`"]}`)
	hanging.TimeoutMs = 10_000
	r := newRig(healthy, hanging)
	r.h.firstTimeout = 30 * time.Millisecond
	r.sender.send = hangingSender("sub_hang")

	start := time.Now()
	if err := r.runStored(t, event); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Event Stored took %s; want about the first-attempt timeout, not the subscription's 10 s", took)
	}
	msgs := r.sender.messages()
	for _, m := range msgs {
		if strings.HasSuffix(m.URL, "/sub_hang") && m.Timeout != 30*time.Millisecond {
			t.Errorf("inline attempt to sub_hang waited %s; want the first-attempt timeout", m.Timeout)
		}
	}
	retries := r.retried(t)
	if len(retries) != 1 || retries[0].SubscriptionID != "sub_hang" || retries[0].Attempt != 2 || retries[0].Base != 1 || !retries[0].DueAt.Equal(now) {
		t.Fatalf("retry queue = %+v; want attempt 2 of sub_hang, base 1, due now", retries)
	}
	var handed bool
	for _, e := range r.st.timeline {
		if e.SubscriptionID == "sub_hang" && e.Outcome == "handed over" && strings.Contains(e.Error, "no answer within 30ms") {
			handed = true
		}
	}
	if !handed {
		t.Errorf("timeline %+v; want sub_hang's attempt 1 handed over", r.st.timeline)
	}
	if len(r.st.health) != 0 {
		t.Errorf("health calls %v; a hand-over is not the endpoint's failure", r.st.health)
	}

	// The next event: sub_hang is known to be slow in this instance.
	second := strings.Replace(event, `"id":"`+evID+`"`, `"id":"second"`, 1)
	before := len(r.sender.messages())
	if err := r.runStored(t, second); err != nil {
		t.Fatal(err)
	}
	for _, m := range r.sender.messages()[before:] {
		if strings.HasSuffix(m.URL, "/sub_hang") {
			t.Errorf("sub_hang, known to be slow, was attempted inline")
		}
	}
	retries = r.retried(t)
	if len(retries) != 2 || retries[1].SubscriptionID != "sub_hang" || retries[1].Attempt != 1 || r.queue.batches != 1 {
		t.Errorf("retry queue = %+v after %d batches; want sub_hang's first attempt queued in one batch", retries, r.queue.batches)
	}
	if n := len(r.sender.messages()); n != before+1 {
		t.Errorf("%d requests for the second event; want sub_ok's only", n-before)
	}

	// A minute later sub_hang is tried inline again.
	later := now.Add(slowFor)
	r.h.now = func() time.Time { return later }
	third := strings.Replace(event, `"id":"`+evID+`"`, `"id":"third"`, 1)
	before = len(r.sender.messages())
	if err := r.runStored(t, third); err != nil {
		t.Fatal(err)
	}
	if n := len(r.sender.messages()) - before; n != 2 {
		t.Errorf("%d requests a minute later; want both subscriptions tried inline", n)
	}
}

// On the retry queue the attempt waits the subscription's full timeout; a quick
// acknowledgement there ends the subscription's slowness at once.
func TestRetryAttemptHasFullTimeoutAndClearsSlowness(t *testing.T) {
	s := sub("sub_a", `{"type":["`+evType+`"]}`)
	s.TimeoutMs = 4000
	r := newRig(s)
	r.h.firstTimeout = 30 * time.Millisecond
	r.h.slow.mark("sub_a", now.Add(slowFor))
	var timeouts atomic.Int64
	r.sender.send = func(_ context.Context, m webhook.Message) webhook.Result {
		timeouts.Store(int64(m.Timeout))
		return webhook.Result{Status: 200, Latency: time.Millisecond}
	}
	if failed := r.runBatch(t, record{"m1", retryBody(key, "sub_a", 1, now)}); len(failed) != 0 {
		t.Fatalf("failed %v", failed)
	}
	if got := time.Duration(timeouts.Load()); got != 4*time.Second {
		t.Errorf("retry attempt timeout = %s; want the subscription's 4s", got)
	}
	if r.h.slow.is("sub_a", now) {
		t.Error("sub_a still slow after a quick acknowledgement")
	}
	// And an answer slower than the first-attempt timeout makes it slow.
	r.sender.send = func(context.Context, webhook.Message) webhook.Result {
		return webhook.Result{Status: 200, Latency: 50 * time.Millisecond}
	}
	r.st.deliveries = map[string]*store.Delivery{}
	if failed := r.runBatch(t, record{"m2", retryBody(key, "sub_a", 1, now)}); len(failed) != 0 {
		t.Fatalf("failed %v", failed)
	}
	if !r.h.slow.is("sub_a", now) {
		t.Error("sub_a not slow after a 50 ms answer with a 30 ms first-attempt timeout")
	}
}

// Entries of a SendMessageBatch that fail are sent again one by one.
func TestScheduleAllResendsFailedEntries(t *testing.T) {
	r := newRig()
	r.queue.failEntry = func(body string) bool { return strings.Contains(body, `"sub_3"`) }
	var ms []retryMessage
	for _, id := range []string{"sub_1", "sub_2", "sub_3", "sub_4"} {
		ms = append(ms, retryMessage{Key: key, SubscriptionID: id, Attempt: 1, DueAt: now})
	}
	if err := r.h.scheduleAll(context.Background(), ms); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, m := range r.retried(t) {
		got[m.SubscriptionID]++
	}
	if len(got) != 4 || got["sub_3"] != 1 {
		t.Errorf("queued %v; want each of the four once, sub_3 sent again alone", got)
	}
}

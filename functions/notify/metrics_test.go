package main

import (
	"context"
	"encoding/json"
	"net"
	"testing"
	"time"

	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/metrics/metricstest"
	"github.com/eventhub/eventhub/shared/store"
	"github.com/eventhub/eventhub/shared/webhook"
)

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// TestNotifyMetrics checks that every attempt whose outcome is recorded is counted
// once: delivered (with the stored-to-delivered latency), or failed by status class
// and then retried or dead-lettered; with the HTTP exchange's latency when there was
// one.
func TestNotifyMetrics(t *testing.T) {
	answer := func(res webhook.Result) func(context.Context, webhook.Message) webhook.Result {
		return func(context.Context, webhook.Message) webhook.Result { return res }
	}
	disabled := sub("sub_off", "")
	disabled.Enabled = false
	tests := []struct {
		name  string
		subs  []store.Subscription
		send  func(context.Context, webhook.Message) webhook.Result
		retry int // > 0: the attempt comes from the retry queue
		done  bool
		want  map[string]float64
	}{
		{
			name: "delivered to two subscriptions",
			subs: []store.Subscription{sub("sub_a", ""), sub("sub_b", "")},
			want: map[string]float64{"Delivered": 2, "StoredToDelivered": 2, "DeliveryLatency": 2},
		},
		{
			name: "5xx, retry scheduled",
			subs: []store.Subscription{sub("sub_a", "")},
			send: answer(webhook.Result{Status: 503, Latency: 40 * time.Millisecond}),
			want: map[string]float64{"FailedAttempts": 1, "FailedAttempts StatusClass=5xx": 1, "Retries": 1, "DeliveryLatency": 1},
		},
		{
			name:  "timeout on the last attempt, dead-lettered",
			subs:  []store.Subscription{sub("sub_a", "")},
			send:  answer(webhook.Result{Err: &net.OpError{Op: "dial", Err: timeoutError{}}, Latency: 15 * time.Second}),
			retry: len(DefaultSchedule) + 1,
			want:  map[string]float64{"FailedAttempts": 1, "FailedAttempts StatusClass=timeout": 1, "DeadLettered": 1, "DeliveryLatency": 1},
		},
		{
			name:  "delivered on a retry",
			subs:  []store.Subscription{sub("sub_a", "")},
			retry: 3,
			want:  map[string]float64{"Delivered": 1, "StoredToDelivered": 1, "DeliveryLatency": 1},
		},
		{
			name:  "refused by the destination guard",
			subs:  []store.Subscription{sub("sub_a", "")},
			send:  answer(webhook.Result{Err: &net.OpError{Op: "dial", Err: net.UnknownNetworkError("destination 10.0.0.1 is not a public address")}}),
			retry: 2,
			want:  map[string]float64{"FailedAttempts": 1, "FailedAttempts StatusClass=network": 1, "Retries": 1},
		},
		{
			name:  "retry to a subscription disabled meanwhile",
			subs:  []store.Subscription{disabled},
			retry: 2,
			want:  map[string]float64{"FailedAttempts": 1, "FailedAttempts StatusClass=disabled": 1, "DeadLettered": 1},
		},
		{
			name: "already delivered by another invocation",
			subs: []store.Subscription{sub("sub_a", "")},
			done: true,
			want: map[string]float64{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rec metricstest.Recorder
			r := newRig(tc.subs...)
			r.h.metrics = rec.Emitter("notify")
			r.sender.send = tc.send
			r.st.events[key].StoredAt = now.Add(-2 * time.Second)
			if tc.done {
				r.st.claim = func(string, string, int) (bool, error) { return false, nil }
				r.st.deliveries[key+" sub_a"] = &store.Delivery{Status: store.DeliveryDelivered, Attempt: 1}
			}
			if tc.retry > 0 {
				if failed := r.runBatch(t, record{"m1", retryBody(key, tc.subs[0].ID, tc.retry, now)}); len(failed) != 0 {
					t.Fatalf("batchItemFailures = %v", failed)
				}
			} else {
				detail, _ := json.Marshal(bus.EventDetail{Event: json.RawMessage(event), Hub: bus.Hub{Key: key, ReceivedAt: now.Add(-3 * time.Second), StoredAt: now.Add(-2 * time.Second)}})
				if _, err := r.h.handle(context.Background(), storedDetail(t, detail)); err != nil {
					t.Fatal(err)
				}
			}
			rec.Check(t, tc.want)
		})
	}
}

package main

import (
	"bytes"
	"compress/flate"
	"strings"
	"testing"

	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A small world: event a (type t.one) matches subscriptions s1 and s2, event b
// (type t.two) matches s2 only.
func world() books {
	return books{
		Sent: []sentEvent{
			{Source: "/p", ID: "a", Type: "t.one", Key: "ka", Accepted: true},
			{Source: "/p", ID: "b", Type: "t.two", Key: "kb", Accepted: true},
		},
		Expected: func(typ string) []string {
			return map[string][]string{"t.one": {"s1", "s2"}, "t.two": {"s2"}}[typ]
		},
		Stored: []storedEvent{{Key: "ka", Source: "/p", ID: "a"}, {Key: "kb", Source: "/p", ID: "b"}},
		Deliveries: []deliveryRecord{
			{Key: "ka", SubscriptionID: "s1", WebhookID: "w1", Status: "delivered", Attempt: 1},
			{Key: "ka", SubscriptionID: "s2", WebhookID: "w2", Status: "failed", Attempt: 3},
			{Key: "kb", SubscriptionID: "s2", WebhookID: "w3", Status: "delivered", Attempt: 2},
		},
		Acked:       map[string]int{"w1": 1, "w3": 2},
		DeadLetters: []deadLetter{{Key: "ka", SubscriptionID: "s2", WebhookID: "w2"}},
	}
}

func TestBalance(t *testing.T) {
	tests := []struct {
		name   string
		change func(b *books)
		check  func(l Ledger) bool
		want   string
		ok     bool // balanced
	}{
		{name: "balanced", change: func(*books) {}, ok: true,
			check: func(l Ledger) bool {
				return l.Accepted == 2 && l.Stored == 2 && l.ExpectedDeliveries == 3 && l.Delivered == 2 &&
					l.DuplicatesDelivered == 1 && l.DeadLettered == 1 && l.Lost == 0
			}, want: "2 accepted and stored, 2 delivered (1 duplicate), 1 dead-lettered"},
		{name: "event not stored", change: func(b *books) { b.Stored = b.Stored[:1] },
			check: func(l Ledger) bool { return l.LostEvents == 1 && l.Lost == 1 && l.Stored == 1 }, want: "one lost event"},
		{name: "event stored twice", change: func(b *books) { b.Stored = append(b.Stored, storedEvent{Key: "ka2", Source: "/p", ID: "a"}) },
			check: func(l Ledger) bool { return l.DuplicatesStored == 1 }, want: "one duplicate stored"},
		{name: "delivery pending", change: func(b *books) { b.Deliveries[0].Status = "pending" },
			check: func(l Ledger) bool { return l.Pending == 1 && l.Lost == 0 }, want: "one pending"},
		{name: "no delivery record", change: func(b *books) { b.Deliveries = b.Deliveries[1:] },
			check: func(l Ledger) bool { return l.LostDeliveries == 1 }, want: "one lost delivery"},
		{name: "delivered but never acknowledged", change: func(b *books) { delete(b.Acked, "w1") },
			check: func(l Ledger) bool { return l.LostDeliveries == 1 && l.Delivered == 1 }, want: "one lost delivery"},
		{name: "failed without a dead letter", change: func(b *books) { b.DeadLetters = nil },
			check: func(l Ledger) bool { return l.LostDeliveries == 1 && l.DeadLettered == 0 }, want: "one lost delivery"},
		{name: "a retry message dead-lettered by SQS is reported, not counted as a dead letter", ok: true,
			change: func(b *books) {
				b.DeadLetters = append(b.DeadLetters, deadLetter{Key: "kb", SubscriptionID: "s2", Attempt: 2})
			},
			check: func(l Ledger) bool { return l.RetriesDeadLettered == 1 && l.DeadLettered == 1 }, want: "one retry message in the DLQ"},
		{name: "delivered to a subscription the event does not match", change: func(b *books) {
			b.Deliveries = append(b.Deliveries, deliveryRecord{Key: "kb", SubscriptionID: "s1", WebhookID: "w4", Status: "delivered"})
		}, check: func(l Ledger) bool { return l.Unexpected == 1 }, want: "one unexpected delivery"},
		{name: "stored after the producer stopped waiting", change: func(b *books) {
			b.Sent[1].Accepted = false
		}, check: func(l Ledger) bool {
			return l.Accepted == 1 && l.StoredNotAccepted == 1 && l.Unexpected == 0 && l.Lost == 0
		}, want: "one stored not accepted, its delivery not unexpected"},
		{name: "something in the pipeline dead-letter queue", change: func(b *books) { b.PipelineDLQ = 1 },
			check: func(l Ledger) bool { return l.PipelineDeadLettered == 1 && l.Lost == 0 }, want: "reported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := world()
			tc.change(&b)
			l := balance(b)
			if !tc.check(l) {
				t.Errorf("balance = %+v; want %s", l, tc.want)
			}
			if l.Balanced != tc.ok {
				t.Errorf("Balanced = %v; want %v (problems %v)", l.Balanced, tc.ok, l.Problems)
			}
		})
	}
}

func TestEventOf(t *testing.T) {
	body := `{"specversion":"1.0","id":"e-1","source":"/shop","type":"t","data":{"items":"` + strings.Repeat("ab", 400) + `"}}`
	var z bytes.Buffer
	w, _ := flate.NewWriter(&z, flate.DefaultCompression)
	_, _ = w.Write([]byte(body))
	_ = w.Close()
	for name, it := range map[string]map[string]dtypes.AttributeValue{
		"text":     {"pk": &dtypes.AttributeValueMemberS{Value: "EVT#evt_1"}, "body": &dtypes.AttributeValueMemberS{Value: body}},
		"deflated": {"pk": &dtypes.AttributeValueMemberS{Value: "EVT#evt_1"}, "bodyz": &dtypes.AttributeValueMemberB{Value: z.Bytes()}},
	} {
		got, err := eventOf(it)
		if err != nil || got != (storedEvent{Key: "evt_1", Source: "/shop", ID: "e-1"}) {
			t.Errorf("%s: eventOf = %+v, %v", name, got, err)
		}
	}
	if _, err := eventOf(map[string]dtypes.AttributeValue{"pk": &dtypes.AttributeValueMemberS{Value: "EVT#x"}, "bodyz": &dtypes.AttributeValueMemberB{Value: []byte("nope")}}); err == nil {
		t.Errorf("eventOf(corrupt body) = nil error")
	}
}

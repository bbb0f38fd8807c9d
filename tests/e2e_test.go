package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

type accepted struct {
	Accepted int      `json:"accepted"`
	IDs      []string `json:"ids"`
}

type storedEvent struct {
	ID         string          `json:"id"`
	Event      json.RawMessage `json:"event"`
	Duplicates int             `json:"duplicates"`
	Timeline   []struct {
		Stage   string `json:"stage"`
		Attempt int    `json:"attempt"`
		Status  int    `json:"status"`
		Outcome string `json:"outcome"`
	} `json:"timeline"`
	Deliveries []struct {
		SubscriptionID string `json:"subscriptionId"`
		Status         string `json:"status"`
		Attempts       int    `json:"attempts"`
	} `json:"deliveries"`
}

func post(t *testing.T, body string) string {
	t.Helper()
	var out accepted
	status, raw := send(t, http.MethodPost, "/events", producer, "application/cloudevents+json", []byte(body))
	if status != http.StatusAccepted {
		t.Fatalf("POST /events = %d %s; want 202", status, raw)
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.IDs) != 1 {
		t.Fatalf("POST /events answer %s: want one id", raw)
	}
	return out.IDs[0]
}

func getEvent(t *testing.T, id string) (int, storedEvent) {
	var ev storedEvent
	status := call(t, http.MethodGet, "/events/"+id, local.AdminToken, "", &ev)
	return status, ev
}

func waitStored(t *testing.T, id string) storedEvent {
	t.Helper()
	var ev storedEvent
	eventually(t, 20*time.Second, "event "+id+" stored", func() bool {
		var status int
		status, ev = getEvent(t, id)
		return status == http.StatusOK
	})
	return ev
}

// subscribe creates a subscription for the event type pointing at r.
func subscribe(t *testing.T, r *receiver, typ string, retry ...string) string {
	t.Helper()
	retries, _ := json.Marshal(retry)
	if retry == nil {
		retries = []byte("null")
	}
	body := fmt.Sprintf(`{"name":%q,"url":%q,"pattern":{"type":[%q]},"retry":%s,"timeout":2}`, typ, r.URL, typ, retries)
	var sub struct{ ID, Secret string }
	if status := call(t, http.MethodPost, "/subscriptions", local.AdminToken, body, &sub); status != http.StatusCreated {
		t.Fatalf("POST /subscriptions = %d", status)
	}
	if !strings.HasPrefix(sub.Secret, "whsec_") {
		t.Fatalf("subscription secret = %q; want whsec_...", sub.Secret)
	}
	r.setSecret(sub.Secret)
	t.Cleanup(func() { call(nil, http.MethodDelete, "/subscriptions/"+sub.ID, local.AdminToken, "", nil) })
	return sub.ID
}

func TestAuthentication(t *testing.T) {
	needStack(t)
	_, body := cloudEvent("e2e.auth")
	tests := []struct {
		name, method, path, token, body string
		want                            int
	}{
		{"ingest without token", "POST", "/events", "", body, 401},
		{"ingest with wrong token", "POST", "/events", "ehp_wrong", body, 401},
		{"ingest with the admin token", "POST", "/events", local.AdminToken, body, 401},
		{"admin route without token", "GET", "/subscriptions", "", "", 401},
		{"admin route with wrong token", "GET", "/subscriptions", "eha_wrong", "", 401},
		{"admin route with a producer token", "GET", "/subscriptions", producer, "", 401},
		{"event read with a producer token", "GET", "/events/evt_aaaaaaaaaaaaaaaaaaaaaaaaaa", producer, "", 401},
		{"sources with a producer token", "POST", "/sources", producer, `{"name":"x"}`, 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out struct {
				Error struct{ Code, Message string }
			}
			status := call(t, tc.method, tc.path, tc.token, tc.body, &out)
			if status != tc.want {
				t.Errorf("%s %s = %d; want %d", tc.method, tc.path, status, tc.want)
			}
			if out.Error.Message == "" {
				t.Errorf("%s %s: no error message in the body", tc.method, tc.path)
			}
		})
	}
}

func TestPostedEventIsStoredAndReadable(t *testing.T) {
	needStack(t)
	ceID, body := cloudEvent("e2e.store")
	id := post(t, body)
	ev := waitStored(t, id)
	var ce map[string]any
	if err := json.Unmarshal(ev.Event, &ce); err != nil {
		t.Fatal(err)
	}
	if ce["id"] != ceID || ce["type"] != "e2e.store" || ce["source"] != "/e2e/tests" || ce["time"] != "2026-11-23T10:00:00Z" {
		t.Errorf("stored event = %s; want the posted one", ev.Event)
	}
	stages := map[string]bool{}
	for _, e := range ev.Timeline {
		stages[e.Stage] = true
	}
	for _, s := range []string{"received", "normalized", "stored"} {
		if !stages[s] {
			t.Errorf("timeline lacks %q: %+v", s, ev.Timeline)
		}
	}
	if status, _ := getEvent(t, "evt_aaaaaaaaaaaaaaaaaaaaaaaaaa"); status != http.StatusNotFound {
		t.Errorf("GET unknown event = %d; want 404", status)
	}
}

func TestSubscriberReceivesSignedEvent(t *testing.T) {
	needStack(t)
	r := newReceiver(t, always(200))
	subscribe(t, r, "e2e.deliver")
	ceID, body := cloudEvent("e2e.deliver")
	id := post(t, body)
	eventually(t, 20*time.Second, "delivery", func() bool { return len(r.deliveries()) == 1 })
	d := r.deliveries()[0]
	var ce map[string]any
	if err := json.Unmarshal(d.Body, &ce); err != nil || ce["id"] != ceID {
		t.Errorf("delivered body = %s; want the event %s", d.Body, ceID)
	}
	ev := waitStored(t, id)
	eventually(t, 10*time.Second, "delivered status", func() bool {
		_, ev = getEvent(t, id)
		return len(ev.Deliveries) == 1 && ev.Deliveries[0].Status == "delivered"
	})
	if r.badSigns != 0 {
		t.Errorf("%d deliveries had bad signatures", r.badSigns)
	}
	// An event of another type does not reach this subscription.
	_, other := cloudEvent("e2e.other")
	otherID := post(t, other)
	waitStored(t, otherID)
	time.Sleep(500 * time.Millisecond)
	if n := len(r.deliveries()); n != 1 {
		t.Errorf("receiver got %d deliveries; want only the matching one", n)
	}
}

func TestRetryThenSuccessOnThirdAttempt(t *testing.T) {
	needStack(t)
	r := newReceiver(t, func(n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	subscribe(t, r, "e2e.retry", "1s", "1s", "1s")
	_, body := cloudEvent("e2e.retry")
	id := post(t, body)
	eventually(t, 30*time.Second, "third attempt", func() bool { return len(r.deliveries()) >= 3 })
	ds := r.deliveries()
	if len(ds) != 3 {
		t.Errorf("receiver got %d requests; want 3", len(ds))
	}
	for _, d := range ds[1:] {
		if d.ID != ds[0].ID {
			t.Errorf("webhook-id changed across retries: %q then %q", ds[0].ID, d.ID)
		}
	}
	var ev storedEvent
	eventually(t, 10*time.Second, "delivered after 3 attempts", func() bool {
		_, ev = getEvent(t, id)
		return len(ev.Deliveries) == 1 && ev.Deliveries[0].Status == "delivered" && ev.Deliveries[0].Attempts == 3
	})
	attempts := 0
	for _, e := range ev.Timeline {
		if e.Stage == "attempt" {
			attempts++
		}
	}
	if attempts != 3 {
		t.Errorf("timeline shows %d attempts; want 3: %+v", attempts, ev.Timeline)
	}
}

func TestAlwaysFailingReceiverEndsInDeadLetterQueue(t *testing.T) {
	needStack(t)
	r := newReceiver(t, always(http.StatusServiceUnavailable))
	sub := subscribe(t, r, "e2e.dlq", "1s")
	_, body := cloudEvent("e2e.dlq")
	id := post(t, body)
	var ev storedEvent
	eventually(t, 30*time.Second, "failed delivery record", func() bool {
		_, ev = getEvent(t, id)
		return len(ev.Deliveries) == 1 && ev.Deliveries[0].Status == "failed"
	})
	if n := len(r.deliveries()); n != 2 {
		t.Errorf("receiver got %d requests; want 2 (first attempt and one retry)", n)
	}
	dlq := local.Queues["DeliveryDeadLetterQueue"].URL
	found := false
	eventually(t, 10*time.Second, "the dead letter", func() bool {
		out, err := local.SQSClient.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: &dlq, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 30,
		})
		if err != nil {
			t.Fatalf("receive from the DLQ: %v", err)
		}
		for _, m := range out.Messages {
			var dl struct{ Key, SubscriptionID string }
			if json.Unmarshal([]byte(*m.Body), &dl) == nil && dl.Key == id && dl.SubscriptionID == sub {
				found = true
			}
		}
		return found
	})
}

func TestSameEventPostedTwiceIsStoredOnce(t *testing.T) {
	needStack(t)
	r := newReceiver(t, always(200))
	subscribe(t, r, "e2e.dup")
	_, body := cloudEvent("e2e.dup")
	first := post(t, body)
	waitStored(t, first)
	eventually(t, 20*time.Second, "first delivery", func() bool { return len(r.deliveries()) == 1 })
	second := post(t, body)
	if first != second {
		t.Fatalf("ids of the same event differ: %s and %s", first, second)
	}
	var ev storedEvent
	eventually(t, 20*time.Second, "the duplicate counted", func() bool {
		_, ev = getEvent(t, first)
		return ev.Duplicates == 1
	})
	time.Sleep(time.Second)
	if n := len(r.deliveries()); n != 1 {
		t.Errorf("receiver got %d deliveries; want 1", n)
	}
}

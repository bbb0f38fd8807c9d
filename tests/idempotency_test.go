package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/eventhub/eventhub/infra/local/lambda"
	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/cloudevent"
)

// busEvent is what an EventBridge rule hands its Lambda target.
func busEvent(t *testing.T, source, detailType string, detail any) []byte {
	t.Helper()
	d, err := json.Marshal(detail)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(events.EventBridgeEvent{
		Version: "0", ID: fmt.Sprintf("dup-%d", time.Now().UnixNano()), DetailType: detailType, Source: source,
		AccountID: "000000000000", Region: "us-east-1", Time: time.Now().UTC(), Resources: []string{}, Detail: d,
	})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// twice invokes fn with payload twice at the same time, each retried on a function
// error as Lambda retries an asynchronous invocation (two retries).
func twice(fn *lambda.Function, payload []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() {
			<-start
			for range 3 {
				if _, errs[i] = fn.Invoke(ctx, payload); errs[i] == nil {
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("invoke: %w (after Lambda's retries)", err)
		}
	}
	return nil
}

// The same Event Normalized reaching persist twice at the same time, and the same
// Event Stored reaching notify twice at the same time (on top of the Event Stored
// that persist publishes), store the event once and deliver it once to each
// subscription, with one webhook-id.
func TestSameEventTwiceAtOnce(t *testing.T) {
	needStack(t)
	typ := "e2e.twice"
	subs := map[string]*receiver{}
	for range 2 {
		r := newReceiver(t, always(200))
		subs[subscribe(t, r, typ)] = r
	}
	id := fmt.Sprintf("twice-%d", time.Now().UnixNano())
	ce := json.RawMessage(fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/e2e/tests","type":%q,"data":{"n":1}}`, id, typ))
	key := cloudevent.Key("/e2e/tests", id)
	now := time.Now().UTC()
	hub := bus.Hub{Key: key, SourceID: "src_e2e", Format: "cloudevents", ReceivedAt: now, NormalizedAt: now}

	normalized := busEvent(t, bus.SourceNormalize, bus.Normalized, bus.EventDetail{Event: ce, Hub: hub})
	stored := busEvent(t, bus.SourcePersist, bus.Stored, bus.EventDetail{Event: ce, Hub: hub})
	var wg sync.WaitGroup
	var persistErr, notifyErr error
	wg.Go(func() { persistErr = twice(local.Functions["PersistFunction"], normalized) })
	wg.Go(func() { notifyErr = twice(local.Functions["NotifyFunction"], stored) })
	wg.Wait()
	if persistErr != nil || notifyErr != nil {
		t.Fatalf("persist: %v; notify: %v", persistErr, notifyErr)
	}

	ev := waitStored(t, key)
	eventually(t, 20*time.Second, "both deliveries recorded", func() bool {
		_, ev = getEvent(t, key)
		done := 0
		for _, d := range ev.Deliveries {
			if d.Status == "delivered" {
				done++
			}
		}
		return done == len(subs)
	})
	if ev.Duplicates != 0 {
		t.Errorf("duplicates = %d; want 0: the second invocation brings the same acceptance, which the producer did not send twice", ev.Duplicates)
	}
	storedEntries := 0
	for _, e := range ev.Timeline {
		if e.Stage == "stored" {
			storedEntries++
		}
	}
	if storedEntries != 1 {
		t.Errorf("timeline has %d stored entries; want 1", storedEntries)
	}
	for _, d := range ev.Deliveries {
		if d.Attempts != 1 {
			t.Errorf("delivery to %s took %d attempts; want 1", d.SubscriptionID, d.Attempts)
		}
	}
	time.Sleep(500 * time.Millisecond) // a late second delivery would show now
	ids := map[string]string{}
	for sub, r := range subs {
		ds := r.deliveries()
		if len(ds) != 1 {
			t.Errorf("subscription %s received %d requests; want 1", sub, len(ds))
		}
		for _, d := range ds {
			if other, dup := ids[d.ID]; dup && other != sub {
				t.Errorf("webhook-id %s used for both %s and %s", d.ID, other, sub)
			}
			ids[d.ID] = sub
		}
	}
	if status, _ := getEvent(t, key); status != http.StatusOK {
		t.Errorf("GET /events/%s = %d", key, status)
	}
}

package main

import (
	"context"
	"errors"
	"testing"

	"github.com/eventhub/eventhub/shared/metrics/metricstest"
	"github.com/eventhub/eventhub/shared/store"
)

// TestPersistMetrics checks that an event is counted once when it is stored (with its
// received-to-stored latency), a producer's repeat once as a duplicate, and the
// pipeline's redelivery of the same acceptance not at all.
func TestPersistMetrics(t *testing.T) {
	stored := func(receipt string) func(store.Event) (bool, *store.Event, error) {
		return func(ev store.Event) (bool, *store.Event, error) {
			old := ev
			old.Receipt = receipt
			old.StoredAt = receivedAt
			return false, &old, nil
		}
	}
	tests := []struct {
		name     string
		putEvent func(store.Event) (bool, *store.Event, error)
		pubErr   error
		want     map[string]float64
	}{
		{name: "stored", want: map[string]float64{"Stored": 1, "Stored Format=cloudevents": 1, "ReceivedToStored": 1}},
		{name: "stored, Event Stored not published", pubErr: errors.New("throttled"), want: map[string]float64{"Stored": 1, "Stored Format=cloudevents": 1, "ReceivedToStored": 1}},
		{name: "the producer's repeat", putEvent: stored("req-0"), want: map[string]float64{"Duplicates": 1, "Duplicates Format=cloudevents": 1}},
		{name: "the pipeline's redelivery", putEvent: stored("req-1"), want: map[string]float64{}},
		{name: "the store fails", putEvent: func(store.Event) (bool, *store.Event, error) { return false, nil, errors.New("throttled") }, want: map[string]float64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rec metricstest.Recorder
			f := newFixture()
			f.st.putEvent, f.pub.err = tc.putEvent, tc.pubErr
			f.h.metrics = rec.Emitter("persist")
			_ = f.h.handle(context.Background(), normalized(t, event, hub()))
			rec.Check(t, tc.want)
		})
	}
}

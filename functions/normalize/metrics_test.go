package main

import (
	"context"
	"errors"
	"testing"

	"github.com/eventhub/eventhub/shared/metrics/metricstest"
)

// TestNormalizeMetrics checks that each Event Received is counted once, normalized or
// quarantined, by format, and not at all when the invocation fails (Lambda retries it).
func TestNormalizeMetrics(t *testing.T) {
	tests := []struct {
		name           string
		raw, format    string
		pubErr, quaErr error
		want           map[string]float64
	}{
		{name: "normalized", raw: mse, format: "cloudevents", want: map[string]float64{"Normalized": 1, "Normalized Format=cloudevents": 1}},
		{name: "quarantined", raw: `{"specversion":"1.0","id":"1","source":"/s"}`, format: "cloudevents", want: map[string]float64{"Quarantined": 1, "Quarantined Format=cloudevents": 1}},
		{name: "quarantined, unknown format", raw: mse, format: "", want: map[string]float64{"Quarantined": 1, "Quarantined Format=unknown": 1}},
		{name: "the bus fails", raw: mse, format: "cloudevents", pubErr: errors.New("throttled"), want: map[string]float64{}},
		{name: "the quarantine fails", raw: `{}`, format: "cloudevents", quaErr: errors.New("throttled"), want: map[string]float64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rec metricstest.Recorder
			f := newFixture()
			f.pub.err, f.quar.err = tc.pubErr, tc.quaErr
			f.h.metrics = rec.Emitter("normalize")
			h := hub("")
			h.Format = tc.format
			err := f.h.handle(context.Background(), received(t, tc.raw, tc.format, h))
			if (err != nil) != (tc.pubErr != nil || tc.quaErr != nil) {
				t.Fatalf("handle = %v", err)
			}
			rec.Check(t, tc.want)
		})
	}
}

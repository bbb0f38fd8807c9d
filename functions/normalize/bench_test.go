package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/pattern/patterntest"
)

// BenchmarkHandle is the function's own work for one Event Received: decode the bus
// detail, run the adapter, marshal the canonical event (publishing is a fake).
func BenchmarkHandle(b *testing.B) {
	raw := json.RawMessage(patterntest.MSEEvent)
	ev, err := cloudevent.Parse(raw)
	if err != nil {
		b.Fatal(err)
	}
	detail, err := json.Marshal(bus.ReceivedDetail{Raw: raw, Format: "cloudevents", Hub: bus.Hub{Key: ev.Key(), SourceID: "src_1", ReceivedAt: now}})
	if err != nil {
		b.Fatal(err)
	}
	in := envelope(detail)
	f := newFixture()
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		f.pub.entries = f.pub.entries[:0]
		if err := f.h.handle(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNormalize is the adapter alone, per format: producer bytes to the
// canonical event's bytes.
func BenchmarkNormalize(b *testing.B) {
	for _, c := range []struct{ format, raw string }{{"cloudevents", patterntest.MSEEvent}} {
		b.Run(c.format, func(b *testing.B) {
			rec := bus.ReceivedDetail{Raw: json.RawMessage(c.raw), Format: c.format}
			b.ReportAllocs()
			b.SetBytes(int64(len(c.raw)))
			for b.Loop() {
				ev, err := normalize(rec)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := ev.MarshalJSON(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package main

import (
	"context"
	"strings"
	"testing"

	"github.com/eventhub/eventhub/shared/adapter"
	"github.com/eventhub/eventhub/shared/pattern/patterntest"
)

// BenchmarkSplit is ingest's parsing of a request body: one event, and a batch of ten.
func BenchmarkSplit(b *testing.B) {
	one := []byte(patterntest.MSEEvent)
	batch := []byte("[" + strings.TrimSuffix(strings.Repeat(patterntest.MSEEvent+",", 10), ",") + "]")
	for _, c := range []struct {
		name, mediaType string
		body            []byte
	}{
		{"single", "application/cloudevents+json", one},
		{"batch=10", "application/cloudevents-batch+json", batch},
	} {
		b.Run(c.name, func(b *testing.B) {
			req := post(c.mediaType, string(c.body))
			b.ReportAllocs()
			b.SetBytes(int64(len(c.body)))
			for b.Loop() {
				if _, err := split(&req, adapter.CloudEvents, c.body, readBody(c.body), nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHandle is the function's own work for POST /events with one event, the
// token lookup and publishing faked.
func BenchmarkHandle(b *testing.B) {
	pub := &fakeBus{}
	h := newTestHandler(pub)
	req := post("application/cloudevents+json", patterntest.MSEEvent)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		pub.events = pub.events[:0]
		resp, err := h.handle(ctx, req)
		if err != nil || resp.StatusCode != 202 {
			b.Fatalf("handle = %d, %v; want 202", resp.StatusCode, err)
		}
	}
}

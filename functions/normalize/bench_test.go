package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventhub/eventhub/shared/adapter"
	"github.com/eventhub/eventhub/shared/adapter/format"
	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/pattern/patterntest"
	"github.com/eventhub/eventhub/shared/sourcemap"
	"github.com/eventhub/eventhub/shared/store"
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

// BenchmarkNormalize is the adapter alone, per format, on the seed example of each
// adapter's tests: producer bytes to the canonical event's bytes.
func BenchmarkNormalize(b *testing.B) {
	for _, format := range adapter.Formats {
		raw, err := os.ReadFile(filepath.Join("..", "..", seedSample(format)))
		if err != nil {
			b.Fatalf("format %s has no sample: %v", format, err)
		}
		b.Run(format, func(b *testing.B) {
			if _, err := os.Stat(filepath.Join("..", "..", strings.TrimSuffix(seedSample(format), ".input")+".headers")); err == nil {
				b.Skip("the sample needs request headers, which Event Received does not carry yet")
			}
			rec := bus.ReceivedDetail{Raw: json.RawMessage(raw), Format: format, Hub: bus.Hub{SourceID: "src_1"}}
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			h := &handler{mappings: sourcemap.New(nil)}
			for b.Loop() {
				ev, _, _, err := h.normalize(context.Background(), rec, &store.Source{ID: "src_1"})
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

// seedSample is the sample of a format that make bench also normalizes
// (infra/bench/cpu.go), relative to the repository.
func seedSample(f string) string {
	return map[string]string{
		adapter.CloudEvents:  "shared/adapter/cloudevents/testdata/mse_outlier_ejection.input",
		adapter.HuaweiConfig: "shared/adapter/huaweiconfig/testdata/seed_resource_changed.input",
		adapter.BKMonitor:    "shared/adapter/bkmonitor/testdata/seed_cpu_usage.input",
		adapter.Juno:         "shared/adapter/juno/testdata/seed_confgo_file_update.input",
		adapter.IUAP:         "shared/adapter/iuap/testdata/seed_user_add_after.input",
		adapter.Generic:      "shared/adapter/generic/testdata/alertmanager.input",
		// The presets; GitHub's, GitLab's and Standard Webhooks' need the request
		// headers beside them, which Event Received does not carry yet.
		format.Alertmanager:     "shared/mapping/testdata/presets/alertmanager/firing.input",
		format.Grafana:          "shared/mapping/testdata/presets/grafana/firing.input",
		format.GitHub:           "shared/mapping/testdata/presets/github/push.input",
		format.GitLab:           "shared/mapping/testdata/presets/gitlab/push.input",
		format.StandardWebhooks: "shared/mapping/testdata/presets/standardwebhooks/invoice_paid.input",
	}[f]
}

package metricsum

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/eventhub/eventhub/shared/metrics"
)

func TestSummary(t *testing.T) {
	var buf bytes.Buffer
	ingest := metrics.New(&buf, "IngestFunction", time.Now)
	persist := metrics.New(&buf, "PersistFunction", time.Now)
	ctx := context.Background()
	ingest.Emit(ctx, []metrics.Dimension{metrics.Dim(metrics.Format, "juno")}, metrics.CountBy(metrics.Accepted, 3, metrics.Format))
	ingest.Emit(ctx, []metrics.Dimension{metrics.Dim(metrics.Format, "iuap")}, metrics.CountBy(metrics.Accepted, 1, metrics.Format))
	ingest.Emit(ctx, []metrics.Dimension{metrics.Dim(metrics.Reason, "invalid")}, metrics.CountBy(metrics.Rejected, 2, metrics.Reason))
	for _, ms := range []int{10, 20, 30, 400} {
		persist.Emit(ctx, nil, metrics.CountOf(metrics.Stored, 1), metrics.Duration(metrics.ReceivedToStored, time.Duration(ms)*time.Millisecond))
	}
	s := New()
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		s.Observe([]byte(line))
	}
	s.Observe([]byte(`{"level":"INFO","msg":"stored"}`))                        // a log line
	s.Observe([]byte(`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]},"N":"x"`)) // broken
	at := time.Date(2026, 12, 1, 10, 42, 0, 0, time.Local)
	got := s.Flush(at)
	want := "metrics 10:42  Ingest: Accepted 4, Rejected 2 | Persist: Stored 4, ReceivedToStored p50 20ms p99 400ms | 1 invalid EMF lines, the first: emf: not a JSON object"
	if !strings.HasPrefix(got, want) {
		t.Errorf("Flush =\n%s\nwant it to start with\n%s", got, want)
	}
	if again := s.Flush(at); again != "" {
		t.Errorf("second Flush = %q; want empty", again)
	}
}

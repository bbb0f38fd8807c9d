package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/eventhub/eventhub/shared/store"
)

// TestIngestCounts: ingest's per-minute counters add up across requests and are read
// back over a window that spans two hours, oldest first, and nothing outside it.
func TestIngestCounts(t *testing.T) {
	c := &clock{}
	start := time.Date(2026, 11, 23, 9, 58, 10, 0, time.UTC)
	c.set(start)
	st := newStore(t, c)
	ctx := context.Background()
	adds := []struct {
		at                 time.Time
		accepted, rejected int
	}{
		{start.Add(-2 * time.Hour), 5, 5}, // before the window
		{start, 2, 1},
		{start.Add(20 * time.Second), 3, 0},
		{start.Add(3 * time.Minute), 0, 4}, // 10:01, the next hour
		{start.Add(4 * time.Minute), 0, 0}, // nothing to count: no write
	}
	for _, a := range adds {
		if err := st.CountIngest(ctx, a.at, a.accepted, a.rejected); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.IngestCounts(ctx, start.Add(-time.Minute), start.Add(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	want := []store.MinuteCount{{Minute: "2026-11-23T09:58", Accepted: 5, Rejected: 1}, {Minute: "2026-11-23T10:01", Accepted: 0, Rejected: 4}}
	if len(got) != len(want) {
		t.Fatalf("IngestCounts = %+v; want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("minute %d = %+v; want %+v", i, got[i], want[i])
		}
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/eventhub/eventhub/shared/replay"
	"github.com/eventhub/eventhub/shared/store"
)

// fakeStore holds one job and a list of events; its cursors are indexes.
type fakeStore struct {
	job      *store.Replay
	events   []store.Event
	queries  []store.EventQuery
	advances []string // "from→to scanned queued"
	stale    bool     // AdvanceReplay reports another worker got there first
}

func (s *fakeStore) GetReplay(_ context.Context, id string) (*store.Replay, error) {
	if s.job == nil || s.job.ID != id {
		return nil, fmt.Errorf("replay %s: %w", id, store.ErrNotFound)
	}
	r := *s.job
	return &r, nil
}

func (s *fakeStore) ListEvents(_ context.Context, q store.EventQuery) (*store.EventPage, error) {
	s.queries = append(s.queries, q)
	start, _ := strconv.Atoi(q.Cursor)
	end := min(start+q.Limit, len(s.events))
	page := &store.EventPage{Events: s.events[start:end]}
	if end < len(s.events) {
		page.Cursor = strconv.Itoa(end)
	}
	return page, nil
}

func (s *fakeStore) AdvanceReplay(_ context.Context, id, from, to string, scanned, queued int) (bool, error) {
	if s.stale {
		return false, nil
	}
	s.advances = append(s.advances, fmt.Sprintf("%q→%q %d %d", from, to, scanned, queued))
	s.job.Cursor, s.job.ScanDone = to, to == ""
	s.job.Total += queued
	return true, nil
}

// fakeQueue records what is sent where.
type fakeQueue struct {
	batches map[string][]string // queue → bodies
}

func (q *fakeQueue) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	for _, e := range in.Entries {
		q.batches[*in.QueueUrl] = append(q.batches[*in.QueueUrl], *e.MessageBody)
	}
	return &sqs.SendMessageBatchOutput{}, nil
}

func (q *fakeQueue) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	q.batches[*in.QueueUrl] = append(q.batches[*in.QueueUrl], *in.MessageBody)
	return &sqs.SendMessageOutput{}, nil
}

var (
	now   = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	since = now.Add(-time.Hour)
)

// rig returns a handler on fakes with 7 events, every other one of type "a", read 3
// to a page.
func rig(t *testing.T) (*handler, *fakeStore, *fakeQueue) {
	t.Helper()
	st := &fakeStore{job: &store.Replay{ID: "rpl_1", Kind: store.ReplayWindow, Pattern: `{"type":["a"],"data":{"n":[{"numeric":[">",0]}]}}`,
		Since: since, Until: now, SubscriptionID: "sub_1"}}
	for i := range 7 {
		typ := []string{"a", "b"}[i%2]
		body := fmt.Sprintf(`{"specversion":"1.0","id":"e%d","source":"/s","type":%q,"data":{"n":%d}}`, i, typ, i)
		st.events = append(st.events, store.Event{Key: fmt.Sprintf("evt_%d", i), Type: typ, Event: json.RawMessage(body)})
	}
	q := &fakeQueue{batches: map[string][]string{}}
	h := &handler{store: st, queue: q, retryURL: "retry", replayURL: "replays", now: func() time.Time { return now },
		log: slog.New(slog.DiscardHandler), pageSize: 3}
	return h, st, q
}

func batch(bodies ...string) events.SQSEvent {
	var in events.SQSEvent
	for i, b := range bodies {
		in.Records = append(in.Records, events.SQSMessage{MessageId: fmt.Sprintf("m%d", i+1), Body: b})
	}
	return in
}

func run(t *testing.T, h *handler, ctx context.Context, bodies ...string) []string {
	t.Helper()
	resp, err := h.handle(ctx, batch(bodies...))
	if err != nil {
		t.Fatalf("handle = %v", err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	return failed
}

func keysOf(t *testing.T, bodies []string) []string {
	t.Helper()
	var keys []string
	for _, b := range bodies {
		var d replay.Delivery
		if err := json.Unmarshal([]byte(b), &d); err != nil {
			t.Fatal(err)
		}
		if d.Replay != "rpl_1" || d.SubscriptionID != "sub_1" || !d.DueAt.Equal(now) {
			t.Errorf("delivery = %+v; want one for rpl_1 to sub_1, due now", d)
		}
		keys = append(keys, d.Key)
	}
	return keys
}

func TestScanQueuesTheMatchingEventsOfTheWindow(t *testing.T) {
	h, st, q := rig(t)
	if failed := run(t, h, context.Background(), `{"replayId":"rpl_1"}`); len(failed) != 0 {
		t.Fatalf("failed = %v", failed)
	}
	// e0 has n = 0, which the pattern's numeric condition refuses.
	if got, want := keysOf(t, q.batches["retry"]), []string{"evt_2", "evt_4", "evt_6"}; !slices.Equal(got, want) {
		t.Errorf("queued %v; want %v", got, want)
	}
	if want := []string{`""→"3" 3 1`, `"3"→"6" 3 1`, `"6"→"" 1 1`}; !slices.Equal(st.advances, want) {
		t.Errorf("advances = %v; want %v", st.advances, want)
	}
	for _, qq := range st.queries {
		if qq.Type != "a" || qq.Source != "" || !qq.Oldest || !qq.Since.Equal(since) || !qq.Until.Equal(now) {
			t.Errorf("query = %+v; want the type index, oldest first, over the window", qq)
		}
	}
	// Done: a repeated message does nothing.
	n := len(st.queries)
	run(t, h, context.Background(), `{"replayId":"rpl_1"}`)
	if len(st.queries) != n {
		t.Errorf("a finished job was scanned again")
	}
}

func TestScanContinuesInANewMessageNearTheDeadline(t *testing.T) {
	h, st, q := rig(t)
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(10*time.Second)) // under the 15 s reserve
	defer cancel()
	run(t, h, ctx, `{"replayId":"rpl_1"}`)
	if len(st.advances) != 1 || len(q.batches["replays"]) != 1 || q.batches["replays"][0] != `{"replayId":"rpl_1"}` {
		t.Fatalf("advances %v, continuation %v; want one page then a continuation message", st.advances, q.batches["replays"])
	}
	run(t, h, context.Background(), q.batches["replays"][0])
	if got := keysOf(t, q.batches["retry"]); !slices.Equal(got, []string{"evt_2", "evt_4", "evt_6"}) {
		t.Errorf("queued %v over two messages; want each match once", got)
	}
}

func TestScanStopsWhenAnotherWorkerRecordedThePage(t *testing.T) {
	h, st, _ := rig(t)
	st.stale = true
	if failed := run(t, h, context.Background(), `{"replayId":"rpl_1"}`); len(failed) != 0 {
		t.Errorf("failed = %v; want the message done", failed)
	}
	if len(st.queries) != 1 {
		t.Errorf("read %d pages; want to stop after the first", len(st.queries))
	}
}

func TestScanDropsWhatItCannotUse(t *testing.T) {
	h, st, q := rig(t)
	if failed := run(t, h, context.Background(), `not json`, `{"replayId":"rpl_gone"}`); len(failed) != 0 {
		t.Errorf("failed = %v; want malformed and unknown jobs dropped", failed)
	}
	st.job.Pattern = `{"type":"a"}` // not a pattern
	run(t, h, context.Background(), `{"replayId":"rpl_1"}`)
	if !st.job.ScanDone || len(q.batches["retry"]) != 0 {
		t.Errorf("job with a broken pattern: done %v, queued %d; want ended with nothing queued", st.job.ScanDone, len(q.batches["retry"]))
	}
}

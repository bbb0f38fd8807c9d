package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eventhub/eventhub/shared/store"
)

func TestQuarantine(t *testing.T) {
	c := newClock(t0)
	st := newStore(t, c)
	ctx := context.Background()
	// Broken JSON, as seed 004's examples are: kept as a JSON string.
	raw := json.RawMessage(`{"notification_type":"ResourceChanged","detail":{"resource_id":""regionid1"}}`)
	var ids []string
	for i := range 3 {
		q := store.Quarantined{
			ID: fmt.Sprintf("q-%d", i), At: t0.Add(time.Duration(i) * time.Minute), ReceivedAt: t0.Add(time.Duration(i)*time.Minute - time.Second),
			Key: fmt.Sprintf("evt_%026d", i), SourceID: []string{"src_a", "src_b", "src_a"}[i], Format: "huaweiconfig",
			Reason: "malformed JSON (line 1, column 70)", Raw: raw,
		}
		if err := st.Quarantine(ctx, q); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, q.ID)
	}
	// A repeated quarantine of the same delivery keeps the first record.
	again := store.Quarantined{ID: "q-0", At: t0.Add(time.Hour), Key: fmt.Sprintf("evt_%026d", 0), Reason: "other", Raw: raw}
	if err := st.Quarantine(ctx, again); err != nil {
		t.Fatal(err)
	}
	q0, err := st.GetQuarantined(ctx, "q-0")
	var rawText string
	if err == nil {
		err = json.Unmarshal(q0.Raw, &rawText)
	}
	if err != nil || q0.Reason != "malformed JSON (line 1, column 70)" || rawText != string(raw) || q0.SourceID != "src_a" {
		t.Fatalf("GetQuarantined(q-0) = %+v, %v; want the first record with its raw payload", q0, err)
	}
	page, err := st.ListQuarantine(ctx, store.QuarantineQuery{Limit: 2})
	if err != nil || len(page.Items) != 2 || page.Items[0].ID != "q-2" || page.Items[1].ID != "q-1" || page.Cursor == "" {
		t.Fatalf("ListQuarantine = %+v, %v; want q-2, q-1 and a cursor", page, err)
	}
	page, err = st.ListQuarantine(ctx, store.QuarantineQuery{Limit: 2, Cursor: page.Cursor})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != "q-0" || page.Cursor != "" {
		t.Fatalf("ListQuarantine page 2 = %+v, %v; want q-0 and no cursor", page, err)
	}
	page, err = st.ListQuarantine(ctx, store.QuarantineQuery{SourceID: "src_a"})
	if err != nil || len(page.Items) != 2 || page.Items[0].ID != "q-2" || page.Items[1].ID != "q-0" {
		t.Fatalf("ListQuarantine(src_a) = %+v, %v; want q-2, q-0", page, err)
	}
	// The event's timeline tells what happened, though no event was stored.
	h, err := st.History(ctx, q0.Key)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(stagesOf(h.Timeline), ","); got != "received,quarantined" || h.Timeline[1].Message != q0.Reason || h.Timeline[1].QuarantineID != "q-0" {
		t.Errorf("timeline = %+v; want received, then quarantined with the reason", h.Timeline)
	}
	c.add(time.Minute)
	if err := st.MarkResubmitted(ctx, "q-0", "huaweiconfig"); err != nil {
		t.Fatal(err)
	}
	q0, _ = st.GetQuarantined(ctx, "q-0")
	if q0.Resubmits != 1 || !q0.ResubmittedAt.Equal(c.now()) {
		t.Errorf("after resubmit: resubmits %d at %v; want 1 at %v", q0.Resubmits, q0.ResubmittedAt, c.now())
	}
	h, _ = st.History(ctx, q0.Key)
	if got := strings.Join(stagesOf(h.Timeline), ","); got != "received,quarantined,resubmitted" {
		t.Errorf("timeline = %s; want received, quarantined, resubmitted", got)
	}
	if err := st.MarkResubmitted(ctx, "q-9", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("MarkResubmitted(unknown) = %v; want ErrNotFound", err)
	}
	if _, err := st.GetQuarantined(ctx, "q-9"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetQuarantined(unknown) = %v; want ErrNotFound", err)
	}
}

func TestReplayJob(t *testing.T) {
	c := newClock(t0)
	st := newStore(t, c)
	ctx := context.Background()
	r := store.Replay{ID: "rpl_1", Kind: store.ReplayWindow, Pattern: `{"type":["a"]}`, Since: t0.Add(-time.Hour), Until: t0, SubscriptionID: "sub_1"}
	if err := st.CreateReplay(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateReplay(ctx, r); err == nil {
		t.Error("CreateReplay(same id) succeeded; want a conflict")
	}
	// Two pages of the scan; the first recorded twice, as a repeated message would.
	steps := []struct {
		from, to string
		scanned  int
		queued   int
		want     bool
	}{
		{"", "p1", 100, 3, true},
		{"", "p1", 100, 3, false},
		{"p1", "", 40, 2, true},
		{"p1", "", 40, 2, false},
	}
	for i, s := range steps {
		ok, err := st.AdvanceReplay(ctx, "rpl_1", s.from, s.to, s.scanned, s.queued)
		if err != nil || ok != s.want {
			t.Fatalf("step %d: AdvanceReplay(%q→%q) = %v, %v; want %v", i, s.from, s.to, ok, err, s.want)
		}
	}
	got, err := st.GetReplay(ctx, "rpl_1")
	if err != nil || got.Total != 5 || got.Scanned != 140 || !got.ScanDone || got.Status() != store.ReplayDelivering {
		t.Fatalf("replay = %+v, %v; want total 5, scanned 140, delivering", got, err)
	}
	ev := event("/a", "a-1", "a", "", t0.Add(-time.Minute))
	put(t, st, ev)
	claimed, done, err := st.ClaimReplayDelivery(ctx, "rpl_1", ev.Key, "sub_1", time.Minute)
	if err != nil || !claimed || done {
		t.Fatalf("ClaimReplayDelivery = %v, %v, %v; want claimed", claimed, done, err)
	}
	claimed, done, err = st.ClaimReplayDelivery(ctx, "rpl_1", ev.Key, "sub_1", time.Minute)
	if err != nil || claimed || done {
		t.Fatalf("ClaimReplayDelivery while held = %v, %v, %v; want busy", claimed, done, err)
	}
	c.add(2 * time.Minute) // the holder died: its lease runs out
	claimed, _, err = st.ClaimReplayDelivery(ctx, "rpl_1", ev.Key, "sub_1", time.Minute)
	if err != nil || !claimed {
		t.Fatalf("ClaimReplayDelivery after the lease = %v, %v; want claimed", claimed, err)
	}
	entry := store.TimelineEntry{Status: 200, LatencyMs: 12, Outcome: store.DeliveryDelivered}
	for range 2 {
		if err := st.FinishReplayDelivery(ctx, "rpl_1", ev.Key, "sub_1", true, entry); err != nil {
			t.Fatal(err)
		}
	}
	claimed, done, err = st.ClaimReplayDelivery(ctx, "rpl_1", ev.Key, "sub_1", time.Minute)
	if err != nil || claimed || !done {
		t.Fatalf("ClaimReplayDelivery after finishing = %v, %v, %v; want done", claimed, done, err)
	}
	got, _ = st.GetReplay(ctx, "rpl_1")
	if got.Done != 1 || got.Failed != 0 {
		t.Errorf("done, failed = %d, %d; want 1, 0", got.Done, got.Failed)
	}
	h, _ := st.History(ctx, ev.Key)
	var replays []store.TimelineEntry
	for _, e := range h.Timeline {
		if e.Stage == store.StageReplay {
			replays = append(replays, e)
		}
	}
	if len(replays) != 1 || replays[0].ReplayID != "rpl_1" || replays[0].SubscriptionID != "sub_1" || replays[0].Status != 200 {
		t.Errorf("replay entries = %+v; want one for rpl_1 to sub_1", replays)
	}
	if _, err := st.GetReplay(ctx, "rpl_9"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetReplay(unknown) = %v; want ErrNotFound", err)
	}
}

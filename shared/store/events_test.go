package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/store"
	"github.com/eventhub/eventhub/shared/trace"
)

// event returns a stored-event record for a CloudEvent with the attributes, received at.
func event(source, id, typ, subject string, at time.Time) store.Event {
	body, _ := json.Marshal(map[string]any{
		"specversion": "1.0", "id": id, "source": source, "type": typ, "subject": subject,
		"data": map[string]any{"n": id},
	})
	return store.Event{
		Key: cloudevent.Key(source, id), Source: source, ID: id, Type: typ, Subject: subject,
		SourceID: "src_test", Format: "cloudevents", ReceivedAt: at, Event: body,
	}
}

func put(t *testing.T, st *store.Store, ev store.Event) {
	t.Helper()
	ev.StoredAt = ev.ReceivedAt.Add(2 * time.Millisecond)
	created, _, err := st.PutEvent(context.Background(), ev)
	if err != nil || !created {
		t.Fatalf("PutEvent(%s) = %v, %v; want created", ev.ID, created, err)
	}
}

func TestPutEventStoresOnce(t *testing.T) {
	c := newClock(t0)
	st := newStore(t, c)
	ctx := context.Background()
	ev := event("/shop/orders", "order-1", "order.created", "", t0)
	ev.NormalizedAt, ev.StoredAt = t0.Add(time.Millisecond), t0.Add(2*time.Millisecond)
	ev.Receipt = "req-1"
	created, existing, err := st.PutEvent(ctx, ev)
	if err != nil || !created || existing != nil {
		t.Fatalf("first PutEvent = %v, %v, %v; want created", created, existing, err)
	}
	// The pipeline delivering the same acceptance again: returned, not counted.
	created, existing, err = st.PutEvent(ctx, ev)
	if err != nil || created || existing == nil || existing.Receipt != "req-1" || existing.Duplicates != 0 {
		t.Fatalf("redelivered PutEvent = %v, %+v, %v; want the stored event, no duplicate counted", created, existing, err)
	}
	// The same event again, as a repeated delivery would bring it, with later stage
	// times: counted, not stored again.
	for i := 1; i <= 2; i++ {
		again := ev
		again.ReceivedAt = t0.Add(time.Duration(i) * time.Second)
		again.NormalizedAt, again.StoredAt = again.ReceivedAt, again.ReceivedAt
		again.Receipt = fmt.Sprintf("req-%d", i+1)
		created, existing, err = st.PutEvent(ctx, again)
		if err != nil || created {
			t.Fatalf("repeat %d: PutEvent = %v, %v; want not created", i, created, err)
		}
		if existing.Duplicates != i || !existing.ReceivedAt.Equal(t0) || string(existing.Event) != string(ev.Event) {
			t.Errorf("repeat %d: existing = %+v; want the first event with %d duplicates", i, existing, i)
		}
	}
	got, err := st.GetEvent(ctx, ev.Key)
	if err != nil {
		t.Fatal(err)
	}
	if got.Duplicates != 2 || !got.ReceivedAt.Equal(t0) {
		t.Errorf("GetEvent = duplicates %d, receivedAt %v; want 2, %v", got.Duplicates, got.ReceivedAt, t0)
	}
	h, err := st.History(ctx, ev.Key)
	if err != nil {
		t.Fatal(err)
	}
	if stages := stagesOf(h.Timeline); strings.Join(stages, ",") != "received,normalized,stored" {
		t.Errorf("timeline = %v; want received, normalized, stored once", stages)
	}
	for i, want := range []time.Time{t0, t0.Add(time.Millisecond), t0.Add(2 * time.Millisecond)} {
		if i < len(h.Timeline) && !h.Timeline[i].At.Equal(want) {
			t.Errorf("timeline[%d] at %v; want %v, the first delivery's", i, h.Timeline[i].At, want)
		}
	}
	if m := h.Timeline[0].Message; m != "accepted from source src_test" {
		t.Errorf("received message = %q", m)
	}
	page, err := st.ListEvents(ctx, store.EventQuery{Source: "/shop/orders"})
	if err != nil || len(page.Events) != 1 {
		t.Errorf("ListEvents = %v, %v; want the event once", page, err)
	}
}

func stagesOf(tl []store.TimelineEntry) []string {
	var out []string
	for _, e := range tl {
		out = append(out, e.Stage)
	}
	return out
}

// TestListEvents stores 30 events over 30 minutes from two sources, of two types and
// two subjects, and reads them back page by page under each kind of query.
func TestListEvents(t *testing.T) {
	c := newClock(t0.Add(time.Hour))
	st := newStore(t, c)
	ctx := context.Background()
	sources := []string{"/juno/confgo", "/bk/monitor"}
	types := []string{"confgo_file_update", "alert"}
	var all []store.Event
	for i := range 30 {
		ev := event(sources[i%2], fmt.Sprintf("e%02d", i), types[(i/2)%2], fmt.Sprintf("app-%d", i%3), t0.Add(time.Duration(i)*time.Minute))
		put(t, st, ev)
		all = append(all, ev)
	}
	newest := slices.Clone(all)
	slices.Reverse(newest)
	sel := func(keep func(store.Event) bool, evs []store.Event) []string {
		var ids []string
		for _, e := range evs {
			if keep(e) {
				ids = append(ids, e.ID)
			}
		}
		return ids
	}
	tests := []struct {
		name string
		q    store.EventQuery
		want []string
	}{
		{"all, newest first", store.EventQuery{Limit: 7}, sel(func(store.Event) bool { return true }, newest)},
		{"all, oldest first", store.EventQuery{Limit: 4, Oldest: true}, sel(func(store.Event) bool { return true }, all)},
		{"by source", store.EventQuery{Source: "/bk/monitor", Limit: 4}, sel(func(e store.Event) bool { return e.Source == "/bk/monitor" }, newest)},
		{"by type", store.EventQuery{Type: "alert", Limit: 3}, sel(func(e store.Event) bool { return e.Type == "alert" }, newest)},
		{"by source and type", store.EventQuery{Source: "/juno/confgo", Type: "alert", Limit: 2}, sel(func(e store.Event) bool { return e.Source == "/juno/confgo" && e.Type == "alert" }, newest)},
		{"by subject", store.EventQuery{Subject: "app-1", Limit: 3}, sel(func(e store.Event) bool { return e.Subject == "app-1" }, newest)},
		{"time window", store.EventQuery{Since: t0.Add(5 * time.Minute), Until: t0.Add(17 * time.Minute), Limit: 5},
			sel(func(e store.Event) bool {
				return !e.ReceivedAt.Before(t0.Add(5*time.Minute)) && e.ReceivedAt.Before(t0.Add(17*time.Minute))
			}, newest)},
		{"type in a window", store.EventQuery{Type: "confgo_file_update", Since: t0.Add(10 * time.Minute), Limit: 2},
			sel(func(e store.Event) bool {
				return e.Type == "confgo_file_update" && !e.ReceivedAt.Before(t0.Add(10*time.Minute))
			}, newest)},
		{"window with nothing in it", store.EventQuery{Since: t0.Add(2 * time.Hour)}, nil},
		{"unknown source", store.EventQuery{Source: "/nobody"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, pages := listAll(t, st, tc.q)
			if !slices.Equal(got, tc.want) {
				t.Errorf("ids = %v; want %v", got, tc.want)
			}
			if wantPages := max(1, (len(tc.want)+tc.q.Limit-1)/max(tc.q.Limit, 1)); tc.q.Limit > 0 && pages != wantPages {
				t.Errorf("read %d pages; want %d", pages, wantPages)
			}
		})
	}

	t.Run("filters that reject most items end pages early", func(t *testing.T) {
		defer store.SetPageBudget(3)()
		for _, q := range []store.EventQuery{{Subject: "app-2", Limit: 4}, {Source: "/bk/monitor", Subject: "app-2", Limit: 2, Oldest: true}} {
			want := sel(func(e store.Event) bool { return e.Subject == "app-2" && (q.Source == "" || e.Source == q.Source) }, newest)
			if q.Oldest {
				slices.Reverse(want)
			}
			got, pages := listAll(t, st, q)
			if !slices.Equal(got, want) {
				t.Errorf("%+v: ids = %v; want %v", q, got, want)
			}
			if q.Source != "" && pages <= (len(want)+q.Limit-1)/q.Limit {
				t.Errorf("%+v: %d pages; want more than full pages would take", q, pages)
			}
		}
	})
	t.Run("page size cut by bytes", func(t *testing.T) {
		got, pages := listAll(t, st, store.EventQuery{Limit: 10, MaxBytes: 1})
		if len(got) != 30 || pages != 30 {
			t.Errorf("got %d events in %d pages; want 30 in 30 (one event per page)", len(got), pages)
		}
	})
	t.Run("bad cursor", func(t *testing.T) {
		for _, cur := range []string{"x", "eyJ2IjoyfQ", "!!"} {
			_, err := st.ListEvents(ctx, store.EventQuery{Cursor: cur})
			if !errors.Is(err, store.ErrBadCursor) || !fault.Is(err, fault.Invalid) {
				t.Errorf("ListEvents(cursor %q) error = %v; want ErrBadCursor", cur, err)
			}
		}
	})
	t.Run("expired events are not listed", func(t *testing.T) {
		later := st.WithClock(func() time.Time { return t0.Add(30*24*time.Hour + 10*time.Minute + 30*time.Second) })
		got, _ := listAll(t, later, store.EventQuery{Limit: 100})
		want := sel(func(e store.Event) bool { return e.ReceivedAt.After(t0.Add(10 * time.Minute)) }, newest)
		if !slices.Equal(got, want) {
			t.Errorf("ids = %v; want those received less than 30 days ago %v", got, want)
		}
		if _, err := later.GetEvent(ctx, all[0].Key); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetEvent(expired) error = %v; want ErrNotFound", err)
		}
	})
}

// listAll reads every page of a query and returns the event ids in order.
func listAll(t *testing.T, st *store.Store, q store.EventQuery) (ids []string, pages int) {
	t.Helper()
	for {
		page, err := st.ListEvents(context.Background(), q)
		if err != nil {
			t.Fatalf("ListEvents(%+v) page %d: %v", q, pages+1, err)
		}
		pages++
		if q.Limit > 0 && len(page.Events) > q.Limit {
			t.Fatalf("page %d holds %d events; limit %d", pages, len(page.Events), q.Limit)
		}
		for _, e := range page.Events {
			ids = append(ids, e.ID)
		}
		if page.Cursor == "" {
			return ids, pages
		}
		if pages > 100 {
			t.Fatal("more than 100 pages")
		}
		q.Cursor = page.Cursor
	}
}

// TestTimelineOfRetriedDelivery records what notify records for a delivery that
// failed twice and then succeeded, and reads the whole story back.
func TestTimelineOfRetriedDelivery(t *testing.T) {
	c := newClock(t0)
	st := newStore(t, c)
	ctx := context.Background()
	ev := event("/shop/orders", "order-7", "order.created", "", t0)
	ev.NormalizedAt, ev.StoredAt = t0.Add(100*time.Millisecond), t0.Add(200*time.Millisecond)
	if _, _, err := st.PutEvent(ctx, ev); err != nil {
		t.Fatal(err)
	}
	statuses := []int{500, 503, 200}
	for n, status := range statuses {
		attempt := n + 1
		c.add(time.Second)
		ok, err := st.ClaimAttempt(ctx, ev.Key, "sub_1", "msg_x", attempt, time.Minute)
		if err != nil || !ok {
			t.Fatalf("ClaimAttempt(%d) = %v, %v", attempt, ok, err)
		}
		outcome, final := "retry scheduled", store.DeliveryPending
		if status == 200 {
			outcome, final = store.DeliveryDelivered, store.DeliveryDelivered
		}
		entry := store.TimelineEntry{
			At: c.now(), Stage: store.StageAttempt, SubscriptionID: "sub_1", Attempt: attempt,
			Status: status, LatencyMs: int64(10 * attempt), Response: fmt.Sprintf("answer %d", attempt), Outcome: outcome,
		}
		o := store.Outcome{Status: final, HTTPStatus: status}
		if final == store.DeliveryDelivered {
			o.Entry = &entry // as notify does: the delivering attempt is kept on the delivery
		} else if err := st.AddTimeline(ctx, ev.Key, entry); err != nil {
			t.Fatal(err)
		}
		if err := st.FinishAttempt(ctx, ev.Key, "sub_1", attempt, o); err != nil {
			t.Fatal(err)
		}
	}
	h, err := st.History(ctx, ev.Key)
	if err != nil {
		t.Fatal(err)
	}
	want := "received,normalized,stored,attempt,attempt,attempt"
	if got := strings.Join(stagesOf(h.Timeline), ","); got != want {
		t.Fatalf("timeline = %s; want %s", got, want)
	}
	for i, e := range h.Timeline[3:] {
		if e.Attempt != i+1 || e.Status != statuses[i] || e.SubscriptionID != "sub_1" || e.LatencyMs != int64(10*(i+1)) || e.Response == "" {
			t.Errorf("attempt entry %d = %+v; want attempt %d, status %d, latency and response", i, e, i+1, statuses[i])
		}
	}
	if last := h.Timeline[5]; last.Outcome != store.DeliveryDelivered {
		t.Errorf("last attempt outcome = %q; want delivered", last.Outcome)
	}
	if len(h.Deliveries) != 1 || h.Deliveries[0].Status != store.DeliveryDelivered || h.Deliveries[0].Attempt != 3 {
		t.Errorf("deliveries = %+v; want sub_1 delivered after 3 attempts", h.Deliveries)
	}
}

// TestLargeEventBody stores an event whose body is deflated and reads it back, by key
// and in a listing, byte for byte.
func TestLargeEventBody(t *testing.T) {
	st := newStore(t, newClock(t0))
	ctx := context.Background()
	ev := event("/shop/orders", "big-1", "order.created", "cart", t0)
	ev.Event = json.RawMessage(`{"specversion":"1.0","id":"big-1","source":"/shop/orders","type":"order.created","subject":"cart","time":"2026-03-14T15:09:26Z","data":{"items":[` +
		strings.Repeat(`{"sku":"A-1","qty":1,"price":"9.99"},`, 80) + `{}]}}`)
	ev.Time = "2026-03-14T15:09:26Z"
	put(t, st, ev)
	got, err := st.GetEvent(ctx, ev.Key)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Event) != string(ev.Event) || got.Key != ev.Key || got.Source != ev.Source || got.ID != ev.ID || got.Time != ev.Time || got.Type != ev.Type || got.Subject != ev.Subject {
		t.Errorf("GetEvent = %+v; want the event as stored", got)
	}
	page, err := st.ListEvents(ctx, store.EventQuery{Type: "order.created"})
	if err != nil || len(page.Events) != 1 || string(page.Events[0].Event) != string(ev.Event) {
		t.Errorf("ListEvents = %v, %v; want the event", page, err)
	}
}

// TestTimelineCarriesTraceIDs checks that every timeline entry names the X-Ray trace of
// the invocation that wrote it: the pipeline stages the trace of the one that stored
// the event, a delivery attempt its own.
func TestTimelineCarriesTraceIDs(t *testing.T) {
	st := newStore(t, newClock(t0))
	const storedBy, deliveredBy = "1-67890abc-000000000000000000000001", "1-67890abc-000000000000000000000002"
	ctx := trace.With(context.Background(), "Root="+storedBy+";Parent=53995c3f42cd8ad8;Sampled=1")
	ev := event("/shop/orders", "traced-1", "order.created", "", t0)
	ev.NormalizedAt, ev.StoredAt = t0.Add(time.Millisecond), t0.Add(2*time.Millisecond)
	if _, _, err := st.PutEvent(ctx, ev); err != nil {
		t.Fatal(err)
	}
	dctx := trace.With(context.Background(), "Root="+deliveredBy+";Sampled=0")
	if err := st.AddTimeline(dctx, ev.Key, store.TimelineEntry{At: t0.Add(time.Second), Stage: store.StageAttempt, SubscriptionID: "sub_1", Attempt: 1, Status: 500}); err != nil {
		t.Fatal(err)
	}
	h, err := st.History(ctx, ev.Key)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{store.StageReceived: storedBy, store.StageNormalized: storedBy, store.StageStored: storedBy, store.StageAttempt: deliveredBy}
	if len(h.Timeline) != len(want) {
		t.Fatalf("timeline = %+v; want %d entries", h.Timeline, len(want))
	}
	for _, e := range h.Timeline {
		if e.TraceID != want[e.Stage] {
			t.Errorf("%s entry traceId = %q; want %q", e.Stage, e.TraceID, want[e.Stage])
		}
	}
	got, err := st.GetEvent(ctx, ev.Key)
	if err != nil || got.TraceID != storedBy {
		t.Errorf("GetEvent traceId = %q, %v; want %q", got.TraceID, err, storedBy)
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventhub/eventhub/shared/apigw"
	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/replay"
	"github.com/eventhub/eventhub/shared/store"
)

// memEvents is an eventStore in memory that records the queries it is given.
type memEvents struct {
	page        store.EventPage
	queries     []store.EventQuery
	quarantined map[string]*store.Quarantined
	resubmitted []string
	sources     map[string]*store.Source
	replays     map[string]store.Replay
	alertQuery  []store.AlertQuery
}

func newMemEvents() *memEvents {
	return &memEvents{quarantined: map[string]*store.Quarantined{}, sources: map[string]*store.Source{}, replays: map[string]store.Replay{}}
}

func (m *memEvents) ListEvents(_ context.Context, q store.EventQuery) (*store.EventPage, error) {
	m.queries = append(m.queries, q)
	if q.Cursor == "bad" {
		return nil, store.ErrBadCursor
	}
	p := m.page
	return &p, nil
}

func (m *memEvents) ListQuarantine(_ context.Context, q store.QuarantineQuery) (*store.QuarantinePage, error) {
	page := &store.QuarantinePage{Items: []store.Quarantined{}}
	for _, it := range m.quarantined {
		if q.SourceID == "" || it.SourceID == q.SourceID {
			page.Items = append(page.Items, *it)
		}
	}
	return page, nil
}

func (m *memEvents) GetQuarantined(_ context.Context, id string) (*store.Quarantined, error) {
	if q, ok := m.quarantined[id]; ok {
		c := *q
		return &c, nil
	}
	return nil, fmt.Errorf("quarantined %s: %w", id, store.ErrNotFound)
}

func (m *memEvents) MarkResubmitted(_ context.Context, id, format string) error {
	m.resubmitted = append(m.resubmitted, id+" "+format)
	return nil
}

func (m *memEvents) GetSource(_ context.Context, id string) (*store.Source, error) {
	if s, ok := m.sources[id]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("source %s: %w", id, store.ErrNotFound)
}

func (m *memEvents) CreateReplay(_ context.Context, r store.Replay) error {
	m.replays[r.ID] = r
	return nil
}

func (m *memEvents) GetReplay(_ context.Context, id string) (*store.Replay, error) {
	if r, ok := m.replays[id]; ok {
		return &r, nil
	}
	return nil, fmt.Errorf("replay %s: %w", id, store.ErrNotFound)
}

func (m *memEvents) ListAlerts(_ context.Context, q store.AlertQuery) (*store.AlertPage, error) {
	m.alertQuery = append(m.alertQuery, q)
	return &store.AlertPage{Alerts: []store.Alert{{ID: "alr_1", Status: q.Status, Count: 4}}}, nil
}

func (m *memEvents) GetAlert(_ context.Context, id string) (*store.Alert, error) {
	if id == "alr_1" {
		return &store.Alert{ID: "alr_1", Status: store.AlertRecovered, Count: 4}, nil
	}
	return nil, fmt.Errorf("alert %s: %w", id, store.ErrNotFound)
}

// memQueue records the messages sent to each queue.
type memQueue struct{ sent map[string][]string }

func (q *memQueue) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	for _, e := range in.Entries {
		q.sent[*in.QueueUrl] = append(q.sent[*in.QueueUrl], *e.MessageBody)
	}
	return &sqs.SendMessageBatchOutput{Successful: []types.SendMessageBatchResultEntry{}}, nil
}

func (q *memQueue) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	q.sent[*in.QueueUrl] = append(q.sent[*in.QueueUrl], *in.MessageBody)
	return &sqs.SendMessageOutput{}, nil
}

type memBus struct{ entries []bus.Entry }

func (b *memBus) Publish(_ context.Context, entries ...bus.Entry) error {
	b.entries = append(b.entries, entries...)
	return nil
}

type eventRig struct {
	st  *memStore
	ev  *memEvents
	q   *memQueue
	bus *memBus
	h   *handler
}

const storedKey = "evt_aaaaaaaaaaaaaaaaaaaaaaaaaa"

func newEventRig() *eventRig {
	r := &eventRig{st: newMemStore(), ev: newMemEvents(), q: &memQueue{sent: map[string][]string{}}, bus: &memBus{}}
	r.st.events[storedKey] = &store.Event{Key: storedKey, Source: "/shop", ID: "o-1", Type: "order.created",
		Event: json.RawMessage(`{"specversion":"1.0","id":"o-1","source":"/shop","type":"order.created"}`), ReceivedAt: now, StoredAt: now}
	for _, s := range []store.Subscription{
		{ID: "sub_orders", Pattern: `{"type":["order.created"]}`, Enabled: true},
		{ID: "sub_all", Pattern: ``, Enabled: true},
		{ID: "sub_off", Pattern: `{}`, Enabled: false},
		{ID: "sub_other", Pattern: `{"type":["x"]}`, Enabled: true},
	} {
		r.st.subs[s.ID] = s
	}
	r.h = newTestHandler(r.st)
	r.h.ev = eventDeps{store: r.ev, queue: r.q, pub: r.bus, retryURL: "retry", replayURL: "replays"}
	return r
}

func withQuery(req apigw.Request, q map[string]string) apigw.Request {
	req.QueryStringParameters = q
	return req
}

func TestListEventsQuery(t *testing.T) {
	r := newEventRig()
	r.ev.page = store.EventPage{Events: []store.Event{*r.st.events[storedKey]}, Cursor: "next"}
	req := withQuery(request("GET /events", "/events", nil, ""), map[string]string{
		"source": "/shop", "type": "order.created", "subject": "o", "since": "2h", "until": "2026-03-14T07:00:00Z",
		"limit": "10", "cursor": "c1", "order": "oldest",
	})
	resp := serve(t, r.h, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d (%s); want 200", resp.StatusCode, resp.Body)
	}
	want := store.EventQuery{Source: "/shop", Type: "order.created", Subject: "o", Since: now.Add(-2 * time.Hour).UTC(),
		Until: time.Date(2026, 3, 14, 7, 0, 0, 0, time.UTC), Limit: 10, Cursor: "c1", Oldest: true, MaxBytes: maxPageBytes}
	if len(r.ev.queries) != 1 || r.ev.queries[0] != want {
		t.Errorf("query = %+v; want %+v", r.ev.queries, want)
	}
	var body struct {
		Events []struct {
			ID    string          `json:"id"`
			Event json.RawMessage `json:"event"`
		} `json:"events"`
		Cursor string `json:"cursor"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || len(body.Events) != 1 || body.Events[0].ID != storedKey || body.Cursor != "next" || !strings.Contains(string(body.Events[0].Event), `"o-1"`) {
		t.Errorf("body = %s; want the event and the cursor", resp.Body)
	}
	t.Run("defaults", func(t *testing.T) {
		r := newEventRig()
		serve(t, r.h, request("GET /events", "/events", nil, ""))
		if q := r.ev.queries[0]; q.Limit != store.DefaultLimit || q.Oldest || !q.Since.IsZero() || !q.Until.IsZero() {
			t.Errorf("query = %+v; want newest first, default limit, no window", q)
		}
	})
}

func TestListEventsBadParameters(t *testing.T) {
	tests := []struct {
		params map[string]string
		path   string
	}{
		{map[string]string{"limit": "0"}, "limit"},
		{map[string]string{"limit": "101"}, "limit"},
		{map[string]string{"limit": "ten"}, "limit"},
		{map[string]string{"since": "yesterday"}, "since"},
		{map[string]string{"since": "-5m"}, "since"},
		{map[string]string{"until": "2026-13-01T00:00:00Z"}, "until"},
		{map[string]string{"since": "2026-03-14T08:00:00Z", "until": "2026-03-14T07:00:00Z"}, "until"},
		{map[string]string{"order": "random"}, "order"},
		{map[string]string{"souce": "/shop"}, "souce"},
		{map[string]string{"cursor": "bad"}, "cursor"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.params), func(t *testing.T) {
			r := newEventRig()
			resp := serve(t, r.h, withQuery(request("GET /events", "/events", nil, ""), tc.params))
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status = %d (%s); want 400", resp.StatusCode, resp.Body)
			}
			if e := errorOf(t, resp); e.Path != tc.path || e.Message == "" {
				t.Errorf("error = {%q %q}; want the reason about %s", e.Path, e.Message, tc.path)
			}
		})
	}
}

func TestGetEventStatus(t *testing.T) {
	r := newEventRig()
	const quarantinedKey = "evt_bbbbbbbbbbbbbbbbbbbbbbbbbb"
	r.st.histories[quarantinedKey] = &store.History{Timeline: []store.TimelineEntry{
		{Stage: store.StageReceived}, {Stage: store.StageQuarantined, Message: "unknown format \"x\"", QuarantineID: "q-1"},
	}, Deliveries: []store.Delivery{}}
	resp := serve(t, r.h, request("GET /events/{id}", "/events/"+storedKey, map[string]string{"id": storedKey}, ""))
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, `"status":"stored"`) {
		t.Errorf("stored event = %d %s; want 200, status stored", resp.StatusCode, resp.Body)
	}
	resp = serve(t, r.h, request("GET /events/{id}", "/events/"+quarantinedKey, map[string]string{"id": quarantinedKey}, ""))
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, `"status":"quarantined"`) || !strings.Contains(resp.Body, `"event":null`) || !strings.Contains(resp.Body, "unknown format") {
		t.Errorf("quarantined event = %d %s; want 200, status quarantined, the reason in the timeline", resp.StatusCode, resp.Body)
	}
	resp = serve(t, r.h, request("GET /events/{id}", "/events/evt_cccccccccccccccccccccccccc", map[string]string{"id": "evt_cccccccccccccccccccccccccc"}, ""))
	if resp.StatusCode != 404 {
		t.Errorf("unknown event = %d; want 404", resp.StatusCode)
	}
}

func deliveriesIn(t *testing.T, bodies []string) []replay.Delivery {
	t.Helper()
	var out []replay.Delivery
	for _, b := range bodies {
		var d replay.Delivery
		if err := json.Unmarshal([]byte(b), &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

func TestReplayEvent(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		status int
		subs   []string
	}{
		{"to one subscription", `{"subscription":"sub_other"}`, 202, []string{"sub_other"}},
		{"to every matching subscription", ``, 202, []string{"sub_all", "sub_orders"}},
		{"empty object", `{}`, 202, []string{"sub_all", "sub_orders"}},
		{"unknown subscription", `{"subscription":"sub_nope"}`, 400, nil},
		{"unknown field", `{"sub":"sub_all"}`, 400, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newEventRig()
			resp := serve(t, r.h, request("POST /events/{id}/replay", "/events/"+storedKey+"/replay", map[string]string{"id": storedKey}, tc.body))
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d (%s); want %d", resp.StatusCode, resp.Body, tc.status)
			}
			ds := deliveriesIn(t, r.q.sent["retry"])
			if len(ds) != len(tc.subs) {
				t.Fatalf("queued %+v; want deliveries to %v", ds, tc.subs)
			}
			var got []string
			for _, d := range ds {
				if d.Key != storedKey || d.Replay == "" || !d.DueAt.Equal(now.UTC()) {
					t.Errorf("delivery %+v; want the event, now, with the replay id", d)
				}
				got = append(got, d.SubscriptionID)
			}
			if strings.Join(got, ",") != strings.Join(tc.subs, ",") {
				t.Errorf("subscriptions = %v; want %v", got, tc.subs)
			}
			if tc.status != 202 {
				return
			}
			var v struct {
				ID     string `json:"id"`
				Status string `json:"status"`
				Total  int    `json:"total"`
			}
			_ = json.Unmarshal([]byte(resp.Body), &v)
			if v.Status != store.ReplayDelivering || v.Total != len(tc.subs) || resp.Headers["location"] != "/replays/"+v.ID {
				t.Errorf("answer = %s, location %q; want the job, delivering, total %d", resp.Body, resp.Headers["location"], len(tc.subs))
			}
			if _, ok := r.ev.replays[v.ID]; !ok || ds[0].Replay != v.ID {
				t.Errorf("job %s not stored or deliveries not marked with it", v.ID)
			}
		})
	}
	t.Run("no matching subscription", func(t *testing.T) {
		r := newEventRig()
		delete(r.st.subs, "sub_all")
		delete(r.st.subs, "sub_orders")
		resp := serve(t, r.h, request("POST /events/{id}/replay", "/x", map[string]string{"id": storedKey}, ""))
		if resp.StatusCode != http.StatusConflict {
			t.Errorf("status = %d; want 409", resp.StatusCode)
		}
	})
	t.Run("unknown event", func(t *testing.T) {
		r := newEventRig()
		resp := serve(t, r.h, request("POST /events/{id}/replay", "/x", map[string]string{"id": "evt_cccccccccccccccccccccccccc"}, ""))
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("status = %d; want 404", resp.StatusCode)
		}
	})
}

func TestCreateReplay(t *testing.T) {
	r := newEventRig()
	body := `{"pattern":{ "type": ["order.created"] },"since":"2026-03-14T06:00:00Z","until":"2026-03-14T07:00:00Z","subscription":"sub_orders"}`
	resp := serve(t, r.h, request("POST /replays", "/replays", nil, body))
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status = %d (%s); want 202", resp.StatusCode, resp.Body)
	}
	var v struct {
		ID      string          `json:"id"`
		Status  string          `json:"status"`
		Pattern json.RawMessage `json:"pattern"`
	}
	_ = json.Unmarshal([]byte(resp.Body), &v)
	job, ok := r.ev.replays[v.ID]
	if !ok || job.Kind != store.ReplayWindow || job.Pattern != `{"type":["order.created"]}` || job.SubscriptionID != "sub_orders" ||
		!job.Since.Equal(time.Date(2026, 3, 14, 6, 0, 0, 0, time.UTC)) || !job.Until.Equal(time.Date(2026, 3, 14, 7, 0, 0, 0, time.UTC)) {
		t.Errorf("job = %+v; want the window, the compact pattern and the subscription", job)
	}
	if v.Status != store.ReplayScanning || string(v.Pattern) != `{"type":["order.created"]}` {
		t.Errorf("answer = %s; want status scanning and the pattern", resp.Body)
	}
	if sent := r.q.sent["replays"]; len(sent) != 1 || sent[0] != `{"replayId":"`+v.ID+`"}` {
		t.Errorf("replay queue got %v; want the job", sent)
	}
	resp = serve(t, r.h, request("GET /replays/{id}", "/replays/"+v.ID, map[string]string{"id": v.ID}, ""))
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, `"total":0`) {
		t.Errorf("GET /replays/%s = %d %s; want its progress", v.ID, resp.StatusCode, resp.Body)
	}
	if resp := serve(t, r.h, request("GET /replays/{id}", "/replays/rpl_x", map[string]string{"id": "rpl_x"}, "")); resp.StatusCode != 404 {
		t.Errorf("unknown replay = %d; want 404", resp.StatusCode)
	}

	bad := []struct{ body, path string }{
		{`{"subscription":"sub_orders"}`, "since"},
		{`{"since":"1h"}`, "subscription"},
		{`{"since":"1h","subscription":"sub_nope"}`, "subscription"},
		{`{"since":"1h","subscription":"sub_orders","pattern":{"type":"order.created"}}`, "pattern"},
		{`{"since":"1h","until":"2h","subscription":"sub_orders"}`, "until"},
		{`{"since":"2099-01-01T00:00:00Z","subscription":"sub_orders"}`, "since"},
		{`{"since":"soon","subscription":"sub_orders"}`, "since"},
	}
	for _, tc := range bad {
		t.Run(tc.body, func(t *testing.T) {
			resp := serve(t, newEventRig().h, request("POST /replays", "/replays", nil, tc.body))
			if resp.StatusCode != 400 || errorOf(t, resp).Path != tc.path {
				t.Errorf("= %d %s; want 400 about %s", resp.StatusCode, resp.Body, tc.path)
			}
		})
	}
}

func TestQuarantineRoutes(t *testing.T) {
	r := newEventRig()
	r.ev.quarantined["q-1"] = &store.Quarantined{ID: "q-1", Key: "evt_bbbbbbbbbbbbbbbbbbbbbbbbbb", SourceID: "src_1", Format: "cloudevents",
		Reason: "unknown format", Raw: json.RawMessage(`{"a":1}`)}
	r.ev.sources["src_1"] = &store.Source{ID: "src_1", Format: "bkmonitor"}
	resp := serve(t, r.h, withQuery(request("GET /quarantine", "/quarantine", nil, ""), map[string]string{"source": "src_1"}))
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, `"raw":{"a":1}`) || !strings.Contains(resp.Body, `"reason":"unknown format"`) {
		t.Errorf("GET /quarantine = %d %s; want the item with reason and raw payload", resp.StatusCode, resp.Body)
	}
	if resp := serve(t, r.h, request("GET /quarantine/{id}", "/quarantine/q-1", map[string]string{"id": "q-1"}, "")); resp.StatusCode != 200 {
		t.Errorf("GET /quarantine/q-1 = %d", resp.StatusCode)
	}
	tests := []struct {
		name, body, format string
	}{
		{"with the source's current format", ``, "bkmonitor"},
		{"with the format given", `{"format":"cloudevents"}`, "cloudevents"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r.bus.entries, r.ev.resubmitted = nil, nil
			resp := serve(t, r.h, request("POST /quarantine/{id}/resubmit", "/quarantine/q-1/resubmit", map[string]string{"id": "q-1"}, tc.body))
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("status = %d (%s); want 202", resp.StatusCode, resp.Body)
			}
			if len(r.bus.entries) != 1 {
				t.Fatalf("published %d entries; want 1", len(r.bus.entries))
			}
			e := r.bus.entries[0]
			d, ok := e.Detail.(bus.ReceivedDetail)
			if e.Source != bus.SourceIngest || e.DetailType != bus.Received || !ok || string(d.Raw) != `{"a":1}` || d.Format != tc.format ||
				d.Hub.SourceID != "src_1" || d.Hub.Format != tc.format || d.Hub.Key != "" || !d.Hub.ReceivedAt.Equal(now.UTC()) {
				t.Errorf("published %+v; want Event Received with the raw payload, format %s, no key", e, tc.format)
			}
			if len(r.ev.resubmitted) != 1 || r.ev.resubmitted[0] != "q-1 "+tc.format {
				t.Errorf("marked %v; want q-1 resubmitted with %s", r.ev.resubmitted, tc.format)
			}
		})
	}
	if resp := serve(t, r.h, request("POST /quarantine/{id}/resubmit", "/x", map[string]string{"id": "q-9"}, "")); resp.StatusCode != 404 {
		t.Errorf("resubmit unknown = %d; want 404", resp.StatusCode)
	}
}

func TestAlertRoutes(t *testing.T) {
	r := newEventRig()
	resp := serve(t, r.h, withQuery(request("GET /alerts", "/alerts", nil, ""), map[string]string{"status": "recovered", "limit": "5"}))
	if resp.StatusCode != 200 || len(r.ev.alertQuery) != 1 || r.ev.alertQuery[0] != (store.AlertQuery{Status: store.AlertRecovered, Limit: 5}) {
		t.Errorf("GET /alerts = %d, query %+v; want RECOVERED, limit 5", resp.StatusCode, r.ev.alertQuery)
	}
	resp = serve(t, r.h, withQuery(request("GET /alerts", "/alerts", nil, ""), map[string]string{"status": "open"}))
	if resp.StatusCode != 400 || errorOf(t, resp).Code != fault.Invalid {
		t.Errorf("GET /alerts?status=open = %d; want 400", resp.StatusCode)
	}
	if resp := serve(t, r.h, request("GET /alerts/{id}", "/alerts/alr_1", map[string]string{"id": "alr_1"}, "")); resp.StatusCode != 200 || !strings.Contains(resp.Body, `"count":4`) {
		t.Errorf("GET /alerts/alr_1 = %d %s", resp.StatusCode, resp.Body)
	}
	if resp := serve(t, r.h, request("GET /alerts/{id}", "/alerts/alr_2", map[string]string{"id": "alr_2"}, "")); resp.StatusCode != 404 {
		t.Errorf("GET /alerts/alr_2 = %d; want 404", resp.StatusCode)
	}
}

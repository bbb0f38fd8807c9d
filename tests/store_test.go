package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/cloudevent"
)

// The event store's end-to-end tests (issue 6): exactly-once storage under repeated
// delivery, queries, timelines, replays, quarantine and alert folding, through the
// local stack.

// ce returns a CloudEvent with a unique id.
func ce(source, typ, data string) (id, body string) {
	id = fmt.Sprintf("%s-%d", strings.ReplaceAll(typ, ".", "-"), time.Now().UnixNano())
	if data == "" {
		data = `{"n":1}`
	}
	return id, fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":%q,"type":%q,"datacontenttype":"application/json","data":%s}`, id, source, typ, data)
}

// unique returns a name no other test run uses.
func unique(prefix string) string { return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()) }

type timelineEntry struct {
	At             time.Time `json:"at"`
	Stage          string    `json:"stage"`
	Message        string    `json:"message"`
	SubscriptionID string    `json:"subscriptionId"`
	Attempt        int       `json:"attempt"`
	Status         int       `json:"status"`
	LatencyMs      int64     `json:"latencyMs"`
	Outcome        string    `json:"outcome"`
	ReplayID       string    `json:"replayId"`
	QuarantineID   string    `json:"quarantineId"`
}

type eventDoc struct {
	ID         string          `json:"id"`
	Status     string          `json:"status"`
	Event      json.RawMessage `json:"event"`
	Duplicates int             `json:"duplicates"`
	AlertID    string          `json:"alertId"`
	Timeline   []timelineEntry `json:"timeline"`
}

func getDoc(t *testing.T, id string) (int, eventDoc) {
	var d eventDoc
	status := call(t, http.MethodGet, "/events/"+id, local.AdminToken, "", &d)
	return status, d
}

func stages(tl []timelineEntry) string {
	var s []string
	for _, e := range tl {
		s = append(s, e.Stage)
	}
	return strings.Join(s, ",")
}

// TestDuplicateDeliveryToPersistStoresOnce hands persist the same Event Normalized
// three times, as EventBridge's at-least-once delivery may: one event, one timeline,
// and no duplicate counted, since the producer sent it once (tests/e2e_test.go counts
// the producer's own repeats).
func TestDuplicateDeliveryToPersistStoresOnce(t *testing.T) {
	needStack(t)
	id, body := ce("/e2e/persist", "e2e.persist.dup", "")
	key := cloudevent.Key("/e2e/persist", id)
	detail, _ := json.Marshal(bus.EventDetail{Event: json.RawMessage(body), Hub: bus.Hub{
		Key: key, SourceID: "src_e2e", Format: "cloudevents", ReceivedAt: time.Now().UTC(), NormalizedAt: time.Now().UTC(),
	}})
	payload, _ := json.Marshal(events.EventBridgeEvent{
		Version: "0", ID: unique("eb"), DetailType: bus.Normalized, Source: bus.SourceNormalize,
		AccountID: "000000000000", Region: "us-east-1", Time: time.Now(), Resources: []string{}, Detail: detail,
	})
	persist := local.Functions["PersistFunction"]
	for i := range 3 {
		if _, err := persist.Invoke(context.Background(), payload); err != nil {
			t.Fatalf("invoke persist (%d): %v", i+1, err)
		}
	}
	status, d := getDoc(t, key)
	if status != http.StatusOK || d.Duplicates != 0 {
		t.Fatalf("GET /events/%s = %d, duplicates %d; want 200 and 0", key, status, d.Duplicates)
	}
	if got := stages(d.Timeline); got != "received,normalized,stored" {
		t.Errorf("timeline = %s; want received, normalized, stored once each", got)
	}
	var page struct{ Events []struct{ ID string } }
	call(t, http.MethodGet, "/events?source="+url.QueryEscape("/e2e/persist")+"&type=e2e.persist.dup", local.AdminToken, "", &page)
	n := 0
	for _, e := range page.Events {
		if e.ID == key {
			n++
		}
	}
	if n != 1 {
		t.Errorf("listed %d times; want once", n)
	}
}

// listIDs reads every page of GET /events?query and returns the CloudEvent ids.
func listIDs(t *testing.T, query url.Values) (ids []string, pages int) {
	t.Helper()
	for {
		var page struct {
			Events []struct {
				Event struct{ ID string } `json:"event"`
			} `json:"events"`
			Cursor string `json:"cursor"`
		}
		if status := call(t, http.MethodGet, "/events?"+query.Encode(), local.AdminToken, "", &page); status != http.StatusOK {
			t.Fatalf("GET /events?%s = %d", query.Encode(), status)
		}
		pages++
		for _, e := range page.Events {
			ids = append(ids, e.Event.ID)
		}
		if page.Cursor == "" || pages > 50 {
			return ids, pages
		}
		query.Set("cursor", page.Cursor)
	}
}

func TestQueryEvents(t *testing.T) {
	needStack(t)
	src := "/" + unique("e2e-query")
	typA, typB := unique("e2e.query.a"), unique("e2e.query.b")
	var posted []string // CloudEvent ids in the order received
	var keys []string
	var marks []time.Time // marks[i]: after the i-th event was accepted
	for i := range 7 {
		typ := typA
		if i%3 == 2 {
			typ = typB
		}
		id, body := ce(src, typ, fmt.Sprintf(`{"n":%d}`, i))
		keys = append(keys, post(t, body))
		posted = append(posted, id)
		marks = append(marks, time.Now().UTC())
		time.Sleep(5 * time.Millisecond)
	}
	for _, k := range keys {
		waitStored(t, k)
	}
	newest := slices.Clone(posted)
	slices.Reverse(newest)
	pick := func(idx ...int) []string {
		var out []string
		for _, i := range idx {
			out = append(out, posted[i])
		}
		return out
	}
	rfc := func(t time.Time) string { return t.Format(time.RFC3339Nano) }
	tests := []struct {
		name  string
		query url.Values
		want  []string
		pages int
	}{
		{"by source, 2 a page", url.Values{"source": {src}, "limit": {"2"}}, newest, 4},
		{"by type", url.Values{"type": {typA}, "limit": {"3"}}, pick(6, 4, 3, 1, 0), 2},
		{"by source and type", url.Values{"source": {src}, "type": {typB}}, pick(5, 2), 1},
		{"by source in a window", url.Values{"source": {src}, "since": {rfc(marks[1])}, "until": {rfc(marks[4])}, "limit": {"2"}}, pick(4, 3, 2), 2},
		{"by type in a window, oldest first", url.Values{"type": {typA}, "since": {rfc(marks[0])}, "until": {rfc(marks[5])}, "order": {"oldest"}, "limit": {"2"}}, pick(1, 3, 4), 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, pages := listIDs(t, tc.query)
			if !slices.Equal(got, tc.want) || pages != tc.pages {
				t.Errorf("ids = %v in %d pages; want %v in %d", got, pages, tc.want, tc.pages)
			}
		})
	}
	t.Run("bad parameters", func(t *testing.T) {
		for _, q := range []string{"limit=0", "since=yesterday", "souce=x", "cursor=zzz", "until=2020-01-01T00:00:00Z&since=2021-01-01T00:00:00Z"} {
			var out struct {
				Error struct{ Message, Path string }
			}
			if status := call(t, http.MethodGet, "/events?"+q, local.AdminToken, "", &out); status != http.StatusBadRequest || out.Error.Message == "" {
				t.Errorf("GET /events?%s = %d %+v; want 400 with the reason", q, status, out.Error)
			}
		}
	})
}

// TestTimelineOfRetriedDelivery follows one event that the receiver refuses twice and
// then takes: every step is in its timeline, in order.
func TestTimelineOfRetriedDelivery(t *testing.T) {
	needStack(t)
	r := newReceiver(t, func(n int) int {
		if n <= 2 {
			return http.StatusBadGateway
		}
		return http.StatusNoContent
	})
	typ := unique("e2e.timeline")
	sub := subscribe(t, r, typ, "1s", "1s", "1s")
	_, body := ce("/e2e/timeline", typ, "")
	key := post(t, body)
	var d eventDoc
	eventually(t, 30*time.Second, "three attempts in the timeline", func() bool {
		_, d = getDoc(t, key)
		return strings.Count(stages(d.Timeline), "attempt") == 3
	})
	if got := stages(d.Timeline); got != "received,normalized,stored,attempt,attempt,attempt" {
		t.Fatalf("timeline = %s; want received, normalized, stored, then three attempts", got)
	}
	wantStatus := []int{502, 502, 204}
	wantOutcome := []string{"retry scheduled", "retry scheduled", "delivered"}
	for i, e := range d.Timeline[3:] {
		if e.SubscriptionID != sub || e.Attempt != i+1 || e.Status != wantStatus[i] || e.Outcome != wantOutcome[i] {
			t.Errorf("attempt %d = %+v; want status %d, outcome %q", i+1, e, wantStatus[i], wantOutcome[i])
		}
	}
	for i := 1; i < len(d.Timeline); i++ {
		if d.Timeline[i].At.Before(d.Timeline[i-1].At) {
			t.Errorf("timeline out of order at %d: %v before %v", i, d.Timeline[i].At, d.Timeline[i-1].At)
		}
	}
}

type replayDoc struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Total  int    `json:"total"`
	Done   int    `json:"done"`
	Failed int    `json:"failed"`
}

func waitReplay(t *testing.T, id string) replayDoc {
	t.Helper()
	var rp replayDoc
	eventually(t, 30*time.Second, "replay "+id+" completed", func() bool {
		call(t, http.MethodGet, "/replays/"+id, local.AdminToken, "", &rp)
		return rp.Status == "completed"
	})
	return rp
}

// TestReplayByPattern replays a time window to one subscription: exactly the events
// of the window that the pattern matches arrive, once each.
func TestReplayByPattern(t *testing.T) {
	needStack(t)
	r := newReceiver(t, always(200))
	sub := subscribe(t, r, unique("e2e.never")) // matches nothing: only replays reach it
	src := "/" + unique("e2e-replay")
	typA, typB := unique("e2e.replay.a"), unique("e2e.replay.b")
	postOne := func(typ string) (string, string) {
		id, body := ce(src, typ, "")
		key := post(t, body)
		time.Sleep(5 * time.Millisecond)
		return id, key
	}
	_, before := postOne(typA)
	since := time.Now().UTC()
	a2, k2 := postOne(typA)
	_, k3 := postOne(typB)
	a4, k4 := postOne(typA)
	until := time.Now().UTC()
	_, after := postOne(typA)
	for _, k := range []string{before, k2, k3, k4, after} {
		waitStored(t, k)
	}
	body := fmt.Sprintf(`{"pattern":{"type":[%q]},"since":%q,"until":%q,"subscription":%q}`, typA, since.Format(time.RFC3339Nano), until.Format(time.RFC3339Nano), sub)
	var rp replayDoc
	if status := call(t, http.MethodPost, "/replays", local.AdminToken, body, &rp); status != http.StatusAccepted {
		t.Fatalf("POST /replays = %d", status)
	}
	rp = waitReplay(t, rp.ID)
	if rp.Total != 2 || rp.Done != 2 || rp.Failed != 0 {
		t.Errorf("replay = %+v; want total 2, done 2", rp)
	}
	eventually(t, 10*time.Second, "two deliveries", func() bool { return len(r.deliveries()) >= 2 })
	time.Sleep(500 * time.Millisecond)
	var got []string
	for _, d := range r.deliveries() {
		var ev struct{ ID string }
		_ = json.Unmarshal(d.Body, &ev)
		got = append(got, ev.ID)
	}
	slices.Sort(got)
	want := []string{a2, a4}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("receiver got %v; want exactly %v", got, want)
	}
	_, d := getDoc(t, k2)
	var replays []timelineEntry
	for _, e := range d.Timeline {
		if e.Stage == "replay" {
			replays = append(replays, e)
		}
	}
	if len(replays) != 1 || replays[0].ReplayID != rp.ID || replays[0].SubscriptionID != sub || replays[0].Outcome != "delivered" {
		t.Errorf("timeline of %s: replay entries %+v; want one for %s, delivered", k2, replays, rp.ID)
	}
}

// TestReplayEventKeepsWebhookID replays one delivered event to its subscription: the
// receiver gets it again under the same webhook-id.
func TestReplayEventKeepsWebhookID(t *testing.T) {
	needStack(t)
	r := newReceiver(t, always(200))
	typ := unique("e2e.replay.one")
	subscribe(t, r, typ)
	_, body := ce("/e2e/replay", typ, "")
	key := post(t, body)
	eventually(t, 20*time.Second, "first delivery", func() bool { return len(r.deliveries()) == 1 })
	var rp replayDoc
	if status := call(t, http.MethodPost, "/events/"+key+"/replay", local.AdminToken, "", &rp); status != http.StatusAccepted {
		t.Fatalf("POST /events/%s/replay = %d", key, status)
	}
	waitReplay(t, rp.ID)
	eventually(t, 10*time.Second, "replayed delivery", func() bool { return len(r.deliveries()) == 2 })
	ds := r.deliveries()
	if ds[0].ID != ds[1].ID || string(ds[0].Body) != string(ds[1].Body) {
		t.Errorf("replay webhook-id %q, original %q; want the same id and body", ds[1].ID, ds[0].ID)
	}
}

// TestAlertFolding sends a BlueKing alert sequence (three ABNORMAL, then RECOVERED)
// as CloudEvents carrying BlueKing's fields in data: every event is stored, and one
// alert counts four and ends RECOVERED.
func TestAlertFolding(t *testing.T) {
	needStack(t)
	target := unique("10.0.0")
	src := "/e2e/bk/" + unique("data")
	var keys []string
	for i, status := range []string{"ABNORMAL", "ABNORMAL", "ABNORMAL", "RECOVERED"} {
		data := fmt.Sprintf(`{"alert_name":"CPU使用率过高","event_id":"event-%d","description":"CPU使用率持续超过90%%","metric":"cpu_usage",`+
			`"category":"os","target_type":"host","target":%q,"severity":%d,"status":%q,"dedupe_keys":["alert_name","target"]}`, i, target, 2-i/2, status)
		_, body := ce(src, "bkmonitor.alert", data)
		key := post(t, body)
		keys = append(keys, key)
		// In order: wait until this one is folded before sending the next.
		eventually(t, 20*time.Second, "event folded", func() bool {
			_, d := getDoc(t, key)
			return d.AlertID != ""
		})
	}
	_, d := getDoc(t, keys[0])
	var alert struct {
		ID, Status string
		Count      int
		DedupeKeys map[string]string
		Severity   int
		Changes    []json.RawMessage `json:"severityChanges"`
		Events     []string
	}
	if status := call(t, http.MethodGet, "/alerts/"+d.AlertID, local.AdminToken, "", &alert); status != http.StatusOK {
		t.Fatalf("GET /alerts/%s = %d", d.AlertID, status)
	}
	if alert.Count != 4 || alert.Status != "RECOVERED" || alert.DedupeKeys["target"] != target || alert.Severity != 1 || len(alert.Changes) != 1 {
		t.Errorf("alert = %+v; want count 4, RECOVERED, severity 2 → 1", alert)
	}
	for _, k := range keys {
		if _, d := getDoc(t, k); d.AlertID != alert.ID {
			t.Errorf("event %s alertId = %q; want %s", k, d.AlertID, alert.ID)
		}
	}
	var page struct {
		Alerts []struct{ ID string } `json:"alerts"`
	}
	call(t, http.MethodGet, "/alerts?status=RECOVERED&limit=100", local.AdminToken, "", &page)
	found := false
	for _, a := range page.Alerts {
		found = found || a.ID == alert.ID
	}
	if !found {
		t.Errorf("GET /alerts?status=RECOVERED does not list %s", alert.ID)
	}
}

// TestQuarantineAndResubmit puts an Event Received with a format no adapter reads on
// the bus, finds it quarantined, and re-submits it with the right format.
func TestQuarantineAndResubmit(t *testing.T) {
	needStack(t)
	var srcDoc struct{ ID string }
	if status := call(t, http.MethodPost, "/sources", local.AdminToken, `{"name":"e2e-quarantine","format":"cloudevents","owns":{"exact":["/q-e2e"]}}`, &srcDoc); status != http.StatusCreated {
		t.Fatalf("POST /sources = %d", status)
	}
	id, body := ce("/q-e2e", "e2e.quarantine", "")
	key := cloudevent.Key("/q-e2e", id)
	detail, _ := json.Marshal(bus.ReceivedDetail{Raw: json.RawMessage(body), Format: "nonesuch", Hub: bus.Hub{
		Key: key, SourceID: srcDoc.ID, Format: "nonesuch", ReceivedAt: time.Now().UTC(),
	}})
	eb := eventbridge.New(eventbridge.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(local.EventBridge),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	out, err := eb.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		EventBusName: aws.String(local.Bus), Source: aws.String(bus.SourceIngest), DetailType: aws.String(bus.Received), Detail: aws.String(string(detail)),
	}}})
	if err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("PutEvents = %v, %+v", err, out)
	}
	var d eventDoc
	eventually(t, 20*time.Second, "quarantined", func() bool {
		status, doc := getDoc(t, key)
		d = doc
		return status == http.StatusOK && d.Status == "quarantined"
	})
	var qid string
	for _, e := range d.Timeline {
		if e.Stage == "quarantined" {
			qid = e.QuarantineID
			if !strings.Contains(e.Message, "nonesuch") {
				t.Errorf("quarantine reason = %q; want it to name the format", e.Message)
			}
		}
	}
	var list struct {
		Items []struct {
			ID, Reason string
			Raw        json.RawMessage
		} `json:"items"`
	}
	call(t, http.MethodGet, "/quarantine?source="+srcDoc.ID, local.AdminToken, "", &list)
	if len(list.Items) != 1 || list.Items[0].ID != qid || !strings.Contains(string(list.Items[0].Raw), id) {
		t.Fatalf("GET /quarantine?source=%s = %+v; want %s with its raw payload", srcDoc.ID, list.Items, qid)
	}
	// The source says cloudevents: re-submitting uses its format.
	if status := call(t, http.MethodPost, "/quarantine/"+qid+"/resubmit", local.AdminToken, "", nil); status != http.StatusAccepted {
		t.Fatalf("resubmit = %d", status)
	}
	eventually(t, 20*time.Second, "stored after re-submission", func() bool {
		_, d = getDoc(t, key)
		return d.Status == "stored"
	})
	got := stages(d.Timeline)
	q, r, s := strings.Index(got, "quarantined"), strings.Index(got, "resubmitted"), strings.Index(got, "stored")
	if !strings.HasPrefix(got, "received,quarantined") || q < 0 || r < q || s < r {
		t.Errorf("timeline = %s; want received, quarantined, resubmitted, then stored", got)
	}
}

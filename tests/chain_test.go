package tests

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventhub/eventhub/infra/local/template"
	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/pattern"
)

// TestTemplateChainsThroughTheBus keeps the card's shape in template.yaml: normalize,
// persist and notify are each triggered by a rule on the previous hop's entry, ingest
// may put events on the bus, and no pipeline function may invoke another directly.
func TestTemplateChainsThroughTheBus(t *testing.T) {
	tpl, err := template.Load("../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fns := map[string]template.Function{}
	for _, f := range tpl.Functions {
		fns[strings.TrimSuffix(strings.TrimPrefix(f.CodeURI, "functions/"), "/")] = f
	}
	hops := []struct{ fn, source, detailType string }{
		{"normalize", bus.SourceIngest, bus.Received},
		{"persist", bus.SourceNormalize, bus.Normalized},
		{"notify", bus.SourcePersist, bus.Stored},
	}
	for _, hop := range hops {
		f, ok := fns[hop.fn]
		if !ok {
			t.Errorf("no function with CodeUri functions/%s/", hop.fn)
			continue
		}
		chained := false
		for _, r := range f.Rules {
			var p struct {
				Source     []string `json:"source"`
				DetailType []string `json:"detail-type"`
			}
			if json.Unmarshal(r.Pattern, &p) == nil && slices.Equal(p.Source, []string{hop.source}) && slices.Equal(p.DetailType, []string{hop.detailType}) {
				chained = true
			}
		}
		if !chained {
			t.Errorf("%s has no rule on exactly source %s, detail-type %q: the chain ingest → normalize → persist → notify is broken", f.LogicalID, hop.source, hop.detailType)
		}
	}
	for _, name := range []string{"ingest", "normalize", "persist", "notify"} {
		f := fns[name]
		policies := f.Policies.String()
		if strings.Contains(policies, "LambdaInvokePolicy") || strings.Contains(policies, "lambda:Invoke") {
			t.Errorf("%s may invoke a function directly; the pipeline's hops go through the bus", f.LogicalID)
		}
		for k := range f.Environment {
			if strings.HasSuffix(k, "_FUNCTION") {
				t.Errorf("%s is told the name of a function (%s); the pipeline's hops go through the bus", f.LogicalID, k)
			}
		}
		if name != "notify" && !strings.Contains(policies, "events:PutEvents") {
			t.Errorf("%s cannot put its entry on the bus (no events:PutEvents; TestPolicies checks its source)", f.LogicalID)
		}
	}
}

// TestChainHops: one event from a live POST passes every hop in order, seen on the
// bus: Event Received from eventhub.ingest, Event Normalized from eventhub.normalize,
// Event Stored from eventhub.persist, then its delivery to a subscriber.
func TestChainHops(t *testing.T) {
	needStack(t)
	typ := fmt.Sprintf("e2e.chain.%d", time.Now().UnixNano())
	r := newReceiver(t, always(http.StatusOK))
	subscribe(t, r, typ)
	id := post(t, fmt.Sprintf(`{"specversion":"1.0","id":"hop-1","source":"/e2e/chain","type":%q,"data":{"n":1}}`, typ))
	eventually(t, 20*time.Second, "the delivery of "+id, func() bool { return len(r.deliveries()) == 1 })

	var last tapped
	for i, hop := range []struct{ source, detailType string }{
		{bus.SourceIngest, bus.Received},
		{bus.SourceNormalize, bus.Normalized},
		{bus.SourcePersist, bus.Stored},
	} {
		e, ok := busEntries.first(hop.source, hop.detailType, `"key":"`+id+`"`)
		if !ok {
			t.Fatalf("no %s %q entry for %s on the bus", hop.source, hop.detailType, id)
		}
		if i > 0 && e.Seq <= last.Seq {
			t.Errorf("%s %q came before %s %q", hop.source, hop.detailType, last.Source, last.DetailType)
		}
		last = e
	}
	// The producer's bytes went on the bus for normalize, not ingest's canonical event.
	received, _ := busEntries.first(bus.SourceIngest, bus.Received, `"key":"`+id+`"`)
	var d bus.ReceivedDetail
	if err := json.Unmarshal([]byte(received.Detail), &d); err != nil || d.Format != "cloudevents" || !strings.Contains(string(d.Raw), `"id":"hop-1"`) {
		t.Errorf("Event Received detail %s: want the producer's event and its format", received.Detail)
	}
	if got := r.deliveries()[0].Body; !strings.Contains(string(got), `"id":"hop-1"`) {
		t.Errorf("delivered %s; want the event", got)
	}
}

// TestQuarantineFromLivePost: a source that quarantines what it cannot read accepts an
// event its format's adapter refuses (202, with the quarantine id), normalize keeps it
// with its raw payload and the reason, and it can be re-submitted (here with the
// format that reads it) and is then stored. Public API calls only.
func TestQuarantineFromLivePost(t *testing.T) {
	needStack(t)
	var src struct{ ID, Token string }
	if status := call(t, http.MethodPost, "/sources", local.AdminToken, `{"name":"e2e-quarantine","format":"juno","onInvalid":"quarantine","owns":{}}`, &src); status != http.StatusCreated {
		t.Fatalf("POST /sources = %d", status)
	}
	marker := fmt.Sprintf("q-%d", time.Now().UnixNano())
	body := fmt.Sprintf(`{"id":11979,"app_name":"billing","create_time":1603942730,"marker":%q}`, marker) // no operation
	status, raw := send(t, http.MethodPost, "/events", src.Token, "application/json", []byte(body))
	var out struct {
		Accepted, Quarantined int
		Results               []struct {
			QuarantineID string `json:"quarantineId"`
			Error        struct{ Message string }
		}
	}
	if err := json.Unmarshal(raw, &out); err != nil || status != http.StatusAccepted || out.Quarantined != 1 || len(out.Results) != 1 || out.Results[0].QuarantineID == "" {
		t.Fatalf("POST /events = %d %s; want 202 with a quarantine id", status, raw)
	}
	qid := out.Results[0].QuarantineID
	if !strings.Contains(out.Results[0].Error.Message, "operation") {
		t.Errorf("reason %q; want it to name the missing operation", out.Results[0].Error.Message)
	}

	var q struct {
		ID, Reason, SourceID string
		Raw                  json.RawMessage
	}
	eventually(t, 20*time.Second, "quarantine item "+qid, func() bool {
		return call(t, http.MethodGet, "/quarantine/"+qid, local.AdminToken, "", &q) == http.StatusOK
	})
	if q.SourceID != src.ID || !strings.Contains(q.Reason, "operation") || !strings.Contains(string(q.Raw), marker) {
		t.Errorf("quarantined %+v; want the source, the reason and the raw payload", q)
	}
	var page struct {
		Items []struct{ ID string } `json:"items"`
	}
	if status := call(t, http.MethodGet, "/quarantine?source="+src.ID, local.AdminToken, "", &page); status != http.StatusOK || len(page.Items) != 1 || page.Items[0].ID != qid {
		t.Errorf("GET /quarantine?source= = %d %+v; want the one item %s", status, page, qid)
	}
	if _, ok := busEntries.first(bus.SourceNormalize, bus.Normalized, marker); ok {
		t.Error("an Event Normalized went out for the quarantined event")
	}

	if status := call(t, http.MethodPost, "/quarantine/"+qid+"/resubmit", local.AdminToken, `{"format":"generic"}`, nil); status != http.StatusAccepted {
		t.Fatalf("resubmit = %d; want 202", status)
	}
	var events struct {
		Events []struct {
			ID    string          `json:"id"`
			Event json.RawMessage `json:"event"`
		} `json:"events"`
	}
	eventually(t, 20*time.Second, "the re-submitted event stored", func() bool {
		call(t, http.MethodGet, "/events?source=/sources/"+src.ID, local.AdminToken, "", &events)
		return len(events.Events) == 1
	})
	if !strings.Contains(string(events.Events[0].Event), marker) {
		t.Errorf("stored %s; want the re-submitted payload", events.Events[0].Event)
	}
}

// TestLargeEventFlows: an event at ingest's limit (incompressible data the store can
// just hold) is stored, its Event Stored fits the bus with every context attribute and
// a dataref that the API serves, a user's rule on detail.event.type matches that
// entry, and the subscriber gets the whole event.
func TestLargeEventFlows(t *testing.T) {
	needStack(t)
	typ := fmt.Sprintf("e2e.large.%d", time.Now().UnixNano())
	r := newReceiver(t, always(http.StatusOK))
	subscribe(t, r, typ)
	data := incompressible(380 << 10)
	event := fmt.Sprintf(`{"specversion":"1.0","id":"large-1","source":"/e2e/large","type":%q,"subject":"big","acmeext":"kept","data":{"blob":%q}}`, typ, data)
	id := post(t, event)
	stored := waitStored(t, id)
	if len(stored.Event) < len(data) {
		t.Fatalf("stored %d bytes; want the whole event", len(stored.Event))
	}

	e, ok := busEntries.first(bus.SourcePersist, bus.Stored, `"key":"`+id+`"`)
	if !ok {
		t.Fatal("no Event Stored on the bus")
	}
	if n := 14 + len(e.Source) + len(e.DetailType) + len(e.Detail); n > bus.InlineLimit {
		t.Errorf("Event Stored is %d bytes; want at most %d", n, bus.InlineLimit)
	}
	var d bus.EventDetail
	if err := json.Unmarshal([]byte(e.Detail), &d); err != nil {
		t.Fatal(err)
	}
	ev, err := cloudevent.Parse(d.Event)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := ev.Extension("dataref")
	ext, _ := ev.Extension("acmeext")
	if ev.ID != "large-1" || ev.Source != "/e2e/large" || ev.Type != typ || ev.Subject != "big" || ext != "kept" || !strings.HasPrefix(ref, local.APIURL+"/events/"+id) {
		t.Errorf("Event Stored event %s; want its context attributes and a dataref to the API", d.Event)
	}
	var got struct {
		Blob string `json:"blob"`
	}
	status, body := send(t, http.MethodGet, strings.TrimPrefix(ref, local.APIURL), local.AdminToken, "", nil)
	if err := json.Unmarshal(body, &got); status != http.StatusOK || err != nil || got.Blob != string(data) {
		t.Errorf("GET dataref = %d (%d bytes); want 200 and the data", status, len(body))
	}

	// A user's rule, as the README shows it, matches the entry as the bus routes it.
	rule, err := pattern.Compile([]byte(fmt.Sprintf(`{"source":["eventhub.persist"],"detail-type":["Event Stored"],"detail":{"event":{"type":[%q]}}}`, typ)))
	if err != nil {
		t.Fatal(err)
	}
	envelope := fmt.Sprintf(`{"version":"0","id":"x","detail-type":%q,"source":%q,"account":"000000000000","time":"2026-12-02T00:00:00Z","region":"us-east-1","resources":[],"detail":%s}`, e.DetailType, e.Source, e.Detail)
	if ok, err := rule.Match([]byte(envelope)); err != nil || !ok {
		t.Errorf("user rule on detail.event.type: match = %v, %v; want true", ok, err)
	}

	eventually(t, 20*time.Second, "the delivery of "+id, func() bool { return len(r.deliveries()) == 1 })
	if b := r.deliveries()[0].Body; !strings.Contains(string(b), string(data[:1000])) || len(b) < len(data) {
		t.Errorf("delivered %d bytes; want the whole event with its data", len(b))
	}
}

// incompressible returns n characters that deflate shrinks to no less than three
// quarters (random, 6 bits each), for events at the store's limit.
func incompressible(n int) []byte {
	rnd := rand.New(rand.NewPCG(uint64(n), 7))
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[rnd.IntN(len(letters))]
	}
	return b
}

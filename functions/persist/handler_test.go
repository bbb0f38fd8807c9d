package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/store"
)

// fakeStore is an eventStore made of function fields; it records every call.
type fakeStore struct {
	putEvent func(ev store.Event) (bool, *store.Event, error)

	calls []string // "PutEvent key", in order with the bus's "Publish"
	put   store.Event
}

func (s *fakeStore) PutEvent(_ context.Context, ev store.Event) (bool, *store.Event, error) {
	s.calls = append(s.calls, "PutEvent "+ev.Key)
	s.put = ev
	if s.putEvent == nil {
		return true, nil, nil
	}
	return s.putEvent(ev)
}

// fakeBus records what the handler publishes; with err set it publishes nothing.
type fakeBus struct {
	store   *fakeStore // to interleave publications with store calls
	err     error
	entries []bus.Entry
}

func (b *fakeBus) Publish(_ context.Context, entries ...bus.Entry) error {
	b.store.calls = append(b.store.calls, "Publish")
	if b.err != nil {
		return b.err
	}
	b.entries = append(b.entries, entries...)
	return nil
}

// memClaims is a claim store in memory.
type memClaims map[string][]byte

func (m memClaims) PutClaim(_ context.Context, id string, d []byte) error { m[id] = d; return nil }
func (m memClaims) GetClaim(_ context.Context, id string) ([]byte, error) {
	d, ok := m[id]
	if !ok {
		return nil, fmt.Errorf("get claim %s: %w", id, store.ErrNotFound)
	}
	return d, nil
}

var (
	now          = time.Date(2026, 3, 14, 23, 9, 28, 0, time.FixedZone("CST", 8*3600)) // 15:09:28Z
	receivedAt   = time.Date(2026, 3, 14, 15, 9, 26, 535000000, time.UTC)
	normalizedAt = time.Date(2026, 3, 14, 15, 9, 26, 712000000, time.UTC)
)

const event = `{"specversion":"1.0","id":"170d56b6-9efe-420b-affb-16ab9adb****","source":"acs.mse","type":"mse:Agent:OutlierEjection",` +
	`"subject":"acs.mse:cn-hangzhou:123456789098****:215672","time":"2020-11-19T21:04:41+08:00","aliyunregionid":"cn-hangzhou","data":{"timestamp":1608518536265}}`

var key = cloudevent.Key("acs.mse", "170d56b6-9efe-420b-affb-16ab9adb****")

func hub() bus.Hub {
	return bus.Hub{Key: key, SourceID: "src_1", Format: "cloudevents", ContentType: "application/cloudevents+json",
		ReceivedAt: receivedAt, NormalizedAt: normalizedAt, RequestID: "req-1"}
}

// normalized returns an Event Normalized as EventBridge delivers it.
func normalized(t *testing.T, ev string, h bus.Hub) events.EventBridgeEvent {
	t.Helper()
	detail, err := json.Marshal(bus.EventDetail{Event: json.RawMessage(ev), Hub: h})
	if err != nil {
		t.Fatalf("marshal detail: %v", err)
	}
	return envelope(detail)
}

func envelope(detail []byte) events.EventBridgeEvent {
	return events.EventBridgeEvent{
		Version: "0", ID: "eb-2", DetailType: "Event Normalized", Source: "eventhub.normalize",
		AccountID: "123456789012", Region: "us-east-1", Detail: detail,
	}
}

type fixture struct {
	st     *fakeStore
	pub    *fakeBus
	claims memClaims
	h      *handler
}

func newFixture() *fixture {
	f := &fixture{st: &fakeStore{}, claims: memClaims{}}
	f.pub = &fakeBus{store: f.st}
	f.h = &handler{
		store:  f.st,
		claims: f.claims,
		pub:    f.pub,
		api:    "https://api.example/",
		now:    func() time.Time { return now },
		log:    slog.New(slog.DiscardHandler),
	}
	return f
}

func TestPersistNewEvent(t *testing.T) {
	f := newFixture()
	if err := f.h.handle(context.Background(), normalized(t, event, hub())); err != nil {
		t.Fatalf("handle = %v; want nil", err)
	}
	if got, want := strings.Join(f.st.calls, ", "), "PutEvent "+key+", Publish"; got != want {
		t.Errorf("calls = %s; want %s", got, want)
	}

	want := store.Event{
		Key:          key,
		Source:       "acs.mse",
		ID:           "170d56b6-9efe-420b-affb-16ab9adb****",
		Type:         "mse:Agent:OutlierEjection",
		Subject:      "acs.mse:cn-hangzhou:123456789098****:215672",
		Time:         "2020-11-19T21:04:41+08:00",
		SourceID:     "src_1",
		Format:       "cloudevents",
		ReceivedAt:   receivedAt,
		NormalizedAt: normalizedAt,
		StoredAt:     now.UTC(),
		Receipt:      "req-1",
	}
	got := f.st.put
	if string(got.Event) != event {
		t.Errorf("stored event = %s; want %s", got.Event, event)
	}
	got.Event = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PutEvent(%+v); want %+v", got, want)
	}

	if len(f.pub.entries) != 1 {
		t.Fatalf("published %d entries; want 1", len(f.pub.entries))
	}
	e := f.pub.entries[0]
	if e.Source != "eventhub.persist" || e.DetailType != "Event Stored" {
		t.Errorf("entry source, detail type = %q, %q; want %q, %q", e.Source, e.DetailType, "eventhub.persist", "Event Stored")
	}
	d, ok := e.Detail.(bus.EventDetail)
	if !ok {
		t.Fatalf("detail is %T; want bus.EventDetail", e.Detail)
	}
	wantHub := hub()
	wantHub.StoredAt = now.UTC()
	if string(d.Event) != event || !reflect.DeepEqual(d.Hub, wantHub) {
		t.Errorf("Event Stored detail = {%s %+v}; want {%s %+v}", d.Event, d.Hub, event, wantHub)
	}
}

func TestPersistWithoutPipelineTimes(t *testing.T) {
	f := newFixture()
	h := hub()
	h.ReceivedAt, h.NormalizedAt, h.RequestID = time.Time{}, time.Time{}, ""
	if err := f.h.handle(context.Background(), normalized(t, event, h)); err != nil {
		t.Fatalf("handle = %v; want nil", err)
	}
	if !f.st.put.ReceivedAt.Equal(now) {
		t.Errorf("receivedAt = %v; want now (%v) when the hub has none", f.st.put.ReceivedAt, now)
	}
	if r := f.st.put.Receipt; !strings.HasPrefix(r, "bus:") || len(r) == len("bus:") {
		t.Errorf("receipt = %q; want the bus entry's id when the hub has no request id", r)
	}
	if !f.st.put.StoredAt.Equal(now) || !f.st.put.NormalizedAt.IsZero() {
		t.Errorf("storedAt, normalizedAt = %v, %v; want now and zero", f.st.put.StoredAt, f.st.put.NormalizedAt)
	}
}

func TestPersistDuplicates(t *testing.T) {
	boom := errors.New("dynamodb: ProvisionedThroughputExceeded")
	tests := []struct {
		name      string
		putEvent  func(store.Event) (bool, *store.Event, error)
		pubErr    error
		wantCalls string // with K for the key
		wantErr   error
	}{
		{
			name: "the producer sent it again",
			putEvent: func(ev store.Event) (bool, *store.Event, error) {
				return false, &store.Event{Key: ev.Key, ReceivedAt: receivedAt.Add(-time.Hour), Receipt: "req-0", Duplicates: 1}, nil
			},
			wantCalls: "PutEvent K",
		},
		{
			name: "the same acceptance again",
			putEvent: func(ev store.Event) (bool, *store.Event, error) {
				return false, &store.Event{Key: ev.Key, ReceivedAt: receivedAt, Receipt: ev.Receipt}, nil
			},
			wantCalls: "PutEvent K, Publish",
		},
		{
			name: "store fails",
			putEvent: func(store.Event) (bool, *store.Event, error) {
				return false, nil, boom
			},
			wantCalls: "PutEvent K",
			wantErr:   boom,
		},
		{
			name:      "publisher fails",
			pubErr:    boom,
			wantCalls: "PutEvent K, Publish",
			wantErr:   boom,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture()
			f.st.putEvent = tc.putEvent
			f.pub.err = tc.pubErr
			err := f.h.handle(context.Background(), normalized(t, event, hub()))
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Errorf("handle = %v; want %v", err, tc.wantErr)
			}
			want := strings.ReplaceAll(tc.wantCalls, "K", key)
			if got := strings.Join(f.st.calls, ", "); got != want {
				t.Errorf("calls = %s; want %s", got, want)
			}
		})
	}
}

func TestPersistRejectsBadInput(t *testing.T) {
	tests := []struct {
		name   string
		detail string
	}{
		{name: "detail is not an object", detail: `[1,2]`},
		{name: "event is invalid", detail: `{"event":{"specversion":"1.0","id":"1","source":"/s"},"hub":{}}`},
		{name: "event is missing", detail: `{"hub":{"key":"evt_x"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture()
			if err := f.h.handle(context.Background(), envelope([]byte(tc.detail))); err == nil {
				t.Errorf("handle(%s) = nil; want an error", tc.detail)
			}
			if len(f.st.calls) != 0 {
				t.Errorf("calls = %v; want none", f.st.calls)
			}
		})
	}
}

func TestPersistClaimCheck(t *testing.T) {
	full, err := json.Marshal(bus.EventDetail{Event: json.RawMessage(event), Hub: hub()})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture()
	f.claims["clm_1"] = full
	if err := f.h.handle(context.Background(), envelope([]byte(`{"claim":"clm_1"}`))); err != nil {
		t.Fatalf("handle = %v; want nil", err)
	}
	if f.st.put.Key != key {
		t.Errorf("stored key = %q; want %s", f.st.put.Key, key)
	}

	f = newFixture()
	if err := f.h.handle(context.Background(), envelope([]byte(`{"claim":"clm_gone"}`))); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("handle(missing claim) = %v; want the claim store's error", err)
	}
}

func TestPersistFixture(t *testing.T) {
	data, err := os.ReadFile("../../events/persist-normalized.json")
	if err != nil {
		t.Fatal(err)
	}
	var in events.EventBridgeEvent
	if err := json.Unmarshal(data, &in); err != nil {
		t.Fatalf("events/persist-normalized.json: %v", err)
	}
	if in.Source != bus.SourceNormalize || in.DetailType != bus.Normalized {
		t.Errorf("fixture source, detail-type = %q, %q; want %q, %q", in.Source, in.DetailType, bus.SourceNormalize, bus.Normalized)
	}
	f := newFixture()
	if err := f.h.handle(context.Background(), in); err != nil {
		t.Fatalf("handle(fixture) = %v", err)
	}
	want := cloudevent.Key("acs.mse", "170d56b6-9efe-420b-affb-16ab9adb****")
	if f.st.put.Key != want || f.st.put.NormalizedAt.IsZero() || len(f.pub.entries) != 1 {
		t.Fatalf("fixture stored key %q (normalized at %v), published %d; want %s, a time, 1", f.st.put.Key, f.st.put.NormalizedAt, len(f.pub.entries), want)
	}
	// What persist publishes from the fixture is what notify's fixture carries.
	stored, err := os.ReadFile("../../events/notify-stored.json")
	if err != nil {
		t.Fatal(err)
	}
	var next struct {
		Detail bus.EventDetail `json:"detail"`
	}
	if err := json.Unmarshal(stored, &next); err != nil {
		t.Fatalf("events/notify-stored.json: %v", err)
	}
	got := f.pub.entries[0].Detail.(bus.EventDetail)
	if !jsonEqual(t, got.Event, next.Detail.Event) || !reflect.DeepEqual(got.Hub, next.Detail.Hub) {
		t.Errorf("Event Stored from the fixture = {%s %+v}; events/notify-stored.json carries {%s %+v}", got.Event, got.Hub, next.Detail.Event, next.Detail.Hub)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s is not JSON: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s is not JSON: %v", b, err)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

// TestPersistRepublishCarriesStoredReceivedAt: when a redelivery publishes an event
// stored earlier, Event Stored says when the stored event was received.
func TestPersistRepublishCarriesStoredReceivedAt(t *testing.T) {
	f := newFixture()
	first := receivedAt.Add(-time.Hour)
	f.st.putEvent = func(ev store.Event) (bool, *store.Event, error) {
		return false, &store.Event{Key: ev.Key, ReceivedAt: first, Receipt: ev.Receipt}, nil
	}
	if err := f.h.handle(context.Background(), normalized(t, event, hub())); err != nil {
		t.Fatal(err)
	}
	if len(f.pub.entries) != 1 {
		t.Fatalf("published %d entries; want 1", len(f.pub.entries))
	}
	d := f.pub.entries[0].Detail.(bus.EventDetail)
	if !d.Hub.ReceivedAt.Equal(first) {
		t.Errorf("published receivedAt = %s; want the stored %s", d.Hub.ReceivedAt, first)
	}
}

// TestPersistLargeEventByDataref: an event whose Event Stored would cost more than one
// bus chunk goes out with its context attributes and a dataref to the API; the store
// keeps it whole.
func TestPersistLargeEventByDataref(t *testing.T) {
	f := newFixture()
	big := `{"specversion":"1.0","id":"big-1","source":"/s","type":"t.big","data":"` + strings.Repeat("x", 300<<10) + `"}`
	h := hub()
	h.Key = cloudevent.Key("/s", "big-1")
	if err := f.h.handle(context.Background(), normalized(t, big, h)); err != nil {
		t.Fatal(err)
	}
	if string(f.st.put.Event) != big {
		t.Errorf("stored %d bytes; want the whole event", len(f.st.put.Event))
	}
	if len(f.pub.entries) != 1 {
		t.Fatalf("published %d entries; want 1", len(f.pub.entries))
	}
	d := f.pub.entries[0].Detail.(bus.EventDetail)
	want := "https://api.example/events/" + h.Key + "/data"
	ev, err := cloudevent.Parse(d.Event)
	if err != nil {
		t.Fatal(err)
	}
	if ref, _ := ev.Extension("dataref"); ref != want || d.Hub.DataRef != want || ev.Data != nil || ev.Type != "t.big" {
		t.Errorf("Event Stored %s (hub dataref %q); want type t.big, no data and dataref %s", d.Event, d.Hub.DataRef, want)
	}
}

// TestPersistPublishesWhatIsStored: a request that carried two events with one key
// stores the first; the second's redelivery-like repeat (same receipt) publishes the
// stored event, never its own body, so that what is delivered is what is stored.
func TestPersistPublishesWhatIsStored(t *testing.T) {
	f := newFixture()
	first := strings.Replace(event, `"timestamp":1608518536265`, `"timestamp":1`, 1)
	f.st.putEvent = func(ev store.Event) (bool, *store.Event, error) {
		return false, &store.Event{Key: ev.Key, Receipt: ev.Receipt, ReceivedAt: receivedAt, Event: json.RawMessage(first)}, nil
	}
	if err := f.h.handle(context.Background(), normalized(t, event, hub())); err != nil {
		t.Fatal(err)
	}
	if len(f.pub.entries) != 1 {
		t.Fatalf("published %d entries; want 1", len(f.pub.entries))
	}
	if d := f.pub.entries[0].Detail.(bus.EventDetail); string(d.Event) != first {
		t.Errorf("published %s; want the stored event %s", d.Event, first)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/catalog"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/ownership"
	"github.com/eventhub/eventhub/shared/sourcemap"
	"github.com/eventhub/eventhub/shared/store"
)

// fakeBus records what the handler publishes; with err set it publishes nothing.
type fakeBus struct {
	err     error
	entries []bus.Entry
}

func (b *fakeBus) Publish(_ context.Context, entries ...bus.Entry) error {
	if b.err != nil {
		return b.err
	}
	b.entries = append(b.entries, entries...)
	return nil
}

// fakeQuarantine keeps what the handler quarantines.
type fakeQuarantine struct {
	err  error
	kept []store.Quarantined
}

func (q *fakeQuarantine) Quarantine(_ context.Context, item store.Quarantined) error {
	if q.err != nil {
		return q.err
	}
	q.kept = append(q.kept, item)
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
	now        = time.Date(2026, 3, 14, 15, 9, 27, 0, time.FixedZone("CST", 8*3600))
	receivedAt = time.Date(2026, 3, 14, 15, 9, 26, 535000000, time.UTC)
)

const mse = `{"specversion":"1.0","subject":"","source":"acs.mse","data":{"framework":"DUBBO","timestamp":1608518536265},
"datacontenttype":"application/json","type":"mse:Agent:OutlierEjection","id":"170d56b6-9efe-420b-affb-16ab9adb****",
"time":"2020-11-19T21:04:41+08:00","aliyunaccountid":"123456789098****","aliyunpublishtime":"2020-11-19T21:04:42.179PRC",
"aliyuneventbusname":"default","aliyunregionid":"cn-hangzhou","aliyunpublishaddr":"172.22.XX.XX"}`

var mseKey = cloudevent.Key("acs.mse", "170d56b6-9efe-420b-affb-16ab9adb****")

func hub(key string) bus.Hub {
	return bus.Hub{Key: key, SourceID: "src_1", Format: "cloudevents", ContentType: "application/cloudevents+json", ReceivedAt: receivedAt, RequestID: "req-1"}
}

// received returns an Event Received as EventBridge delivers it.
func received(t *testing.T, raw string, format string, h bus.Hub) events.EventBridgeEvent {
	t.Helper()
	detail, err := json.Marshal(bus.ReceivedDetail{Raw: json.RawMessage(raw), Format: format, Hub: h})
	if err != nil {
		t.Fatalf("marshal detail: %v", err)
	}
	return envelope(detail)
}

func envelope(detail []byte) events.EventBridgeEvent {
	return events.EventBridgeEvent{
		Version: "0", ID: "eb-1", DetailType: "Event Received", Source: "eventhub.ingest",
		AccountID: "123456789012", Region: "us-east-1", Detail: detail,
	}
}

type fixture struct {
	claims memClaims
	quar   *fakeQuarantine
	pub    *fakeBus
	h      *handler
}

// sourceFunc is a sourceLookup made of a function.
type sourceFunc func(ctx context.Context, id string) (*store.Source, error)

func (f sourceFunc) Source(ctx context.Context, id string) (*store.Source, error) { return f(ctx, id) }

// testDataID is the BlueKing data id of the tests' producer sources.
const testDataID = 1500001

// anySource is a producer source of any id that owns the values of the tests' events.
func anySource(_ context.Context, id string) (*store.Source, error) {
	return &store.Source{
		ID: id, Enabled: true, DataID: testDataID, AppID: "ANONYMOUS_CLUSTER",
		Owns: &ownership.Set{Exact: []string{"acs.mse", "/t"}, Prefixes: []string{"juno/", "huaweicloud.config/", "/e2e/", "/sss"}},
	}, nil
}

func newFixture() *fixture {
	f := &fixture{claims: memClaims{}, quar: &fakeQuarantine{}, pub: &fakeBus{}}
	f.h = &handler{
		claims:     f.claims,
		quarantine: f.quar,
		sources:    sourceFunc(anySource),
		mappings:   sourcemap.New(savedMappings),
		pub:        f.pub,
		now:        func() time.Time { return now },
		log:        slog.New(slog.DiscardHandler),
	}
	return f
}

func TestNormalizePublishes(t *testing.T) {
	f := newFixture()
	if err := f.h.handle(context.Background(), received(t, mse, "cloudevents", hub(mseKey))); err != nil {
		t.Fatalf("handle = %v; want nil", err)
	}
	if len(f.quar.kept) != 0 {
		t.Errorf("quarantined %+v; want nothing", f.quar.kept)
	}
	if len(f.pub.entries) != 1 {
		t.Fatalf("published %d entries; want 1", len(f.pub.entries))
	}
	e := f.pub.entries[0]
	if e.Source != "eventhub.normalize" || e.DetailType != "Event Normalized" {
		t.Errorf("entry source, detail type = %q, %q; want %q, %q", e.Source, e.DetailType, "eventhub.normalize", "Event Normalized")
	}
	d, ok := e.Detail.(bus.EventDetail)
	if !ok {
		t.Fatalf("detail is %T; want bus.EventDetail", e.Detail)
	}
	// The canonical form: spec attributes first, extensions sorted, data last, empty
	// subject dropped, everything else kept.
	want := `{"specversion":"1.0","id":"170d56b6-9efe-420b-affb-16ab9adb****","source":"acs.mse","type":"mse:Agent:OutlierEjection",` +
		`"time":"2020-11-19T21:04:41+08:00","datacontenttype":"application/json",` +
		`"aliyunaccountid":"123456789098****","aliyuneventbusname":"default","aliyunpublishaddr":"172.22.XX.XX",` +
		`"aliyunpublishtime":"2020-11-19T21:04:42.179PRC","aliyunregionid":"cn-hangzhou",` +
		`"data":{"framework":"DUBBO","timestamp":1608518536265}}`
	if string(d.Event) != want {
		t.Errorf("event = %s\nwant  %s", d.Event, want)
	}
	wantHub := hub(mseKey)
	wantHub.NormalizedAt = now.UTC()
	if !reflect.DeepEqual(d.Hub, wantHub) {
		t.Errorf("hub = %+v; want %+v", d.Hub, wantHub)
	}
	if d.Hub.NormalizedAt.Location() != time.UTC {
		t.Errorf("hub.normalizedAt location = %v; want UTC", d.Hub.NormalizedAt.Location())
	}
}

func TestNormalizeWithoutIngestKey(t *testing.T) {
	f := newFixture()
	if err := f.h.handle(context.Background(), received(t, mse, "cloudevents", hub(""))); err != nil {
		t.Fatalf("handle = %v; want nil", err)
	}
	if len(f.pub.entries) != 1 {
		t.Fatalf("published %d entries; want 1", len(f.pub.entries))
	}
	if got := f.pub.entries[0].Detail.(bus.EventDetail).Hub.Key; got != mseKey {
		t.Errorf("hub.key = %q; want %s, computed from source and id", got, mseKey)
	}
}

func TestNormalizeQuarantines(t *testing.T) {
	tests := []struct {
		name   string
		raw    string
		format string
		key    string // hub.key given at ingest
		detail string // when set, the whole detail, raw and format unused
		reason string // substring of the reason
	}{
		{name: "missing type", raw: `{"specversion":"1.0","id":"1","source":"/s"}`, format: "cloudevents", key: "evt_x", reason: "type"},
		{name: "bad time", raw: `{"specversion":"1.0","id":"1","source":"/s","type":"t","time":"yesterday"}`, format: "cloudevents", key: "evt_x", reason: "time"},
		{name: "raw is not an object", raw: `"a,b,c"`, format: "cloudevents", key: "evt_x", reason: "object"},
		{name: "unknown format", raw: mse, format: "xml", key: mseKey, reason: `unknown format "xml"`},
		{name: "not of its format", raw: mse, format: "juno", key: mseKey, reason: "operation: required field is missing"},
		{name: "no format", raw: mse, format: "", key: mseKey, reason: "unknown format"},
		{name: "key differs from the one given at ingest", raw: mse, format: "cloudevents", key: cloudevent.Key("acs.mse", "other"), reason: "differs"},
		{name: "unreadable detail", detail: `["not","a","detail"]`, raw: `["not","a","detail"]`, reason: "unreadable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture()
			in := envelope([]byte(tc.detail))
			if tc.detail == "" {
				in = received(t, tc.raw, tc.format, hub(tc.key))
			}
			if err := f.h.handle(context.Background(), in); err != nil {
				t.Fatalf("handle = %v; want nil (quarantine is not a failure)", err)
			}
			if len(f.pub.entries) != 0 {
				t.Errorf("published %d entries; want none", len(f.pub.entries))
			}
			if len(f.quar.kept) != 1 {
				t.Fatalf("quarantined %d items; want 1", len(f.quar.kept))
			}
			q := f.quar.kept[0]
			if !strings.Contains(q.Reason, tc.reason) {
				t.Errorf("reason = %q; want it to contain %q", q.Reason, tc.reason)
			}
			if q.ID != in.ID {
				t.Errorf("quarantine id = %q; want the bus event id %q (idempotent on redelivery)", q.ID, in.ID)
			}
			if !q.At.Equal(now) || q.At.Location() != time.UTC {
				t.Errorf("quarantined at %v; want %v in UTC", q.At, now.UTC())
			}
			if !jsonEqual(t, q.Raw, []byte(tc.raw)) {
				t.Errorf("raw = %s; want %s (nothing a producer sent is lost)", q.Raw, tc.raw)
			}
			if tc.detail != "" {
				return
			}
			if q.Key != tc.key || q.SourceID != "src_1" || q.Format != "cloudevents" {
				t.Errorf("quarantined {key %q, sourceId %q, format %q}; want {%q, src_1, cloudevents}", q.Key, q.SourceID, q.Format, tc.key)
			}
		})
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

func TestNormalizeFailures(t *testing.T) {
	boom := errors.New("eventbridge: throttled")
	tests := []struct {
		name    string
		format  string
		pubErr  error
		quarErr error
	}{
		{name: "publisher fails", format: "cloudevents", pubErr: boom},
		{name: "quarantine fails", format: "juno", quarErr: boom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture()
			f.pub.err, f.quar.err = tc.pubErr, tc.quarErr
			if err := f.h.handle(context.Background(), received(t, mse, tc.format, hub(mseKey))); !errors.Is(err, boom) {
				t.Errorf("handle = %v; want %v, so that Lambda retries", err, boom)
			}
		})
	}
}

func TestNormalizeClaimCheck(t *testing.T) {
	full, err := json.Marshal(bus.ReceivedDetail{Raw: json.RawMessage(mse), Format: "cloudevents", Hub: hub(mseKey)})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("resolved", func(t *testing.T) {
		f := newFixture()
		f.claims["clm_1"] = full
		if err := f.h.handle(context.Background(), envelope([]byte(`{"claim":"clm_1"}`))); err != nil {
			t.Fatalf("handle = %v; want nil", err)
		}
		if len(f.pub.entries) != 1 || len(f.quar.kept) != 0 {
			t.Fatalf("published %d, quarantined %d; want 1, 0", len(f.pub.entries), len(f.quar.kept))
		}
		if got := f.pub.entries[0].Detail.(bus.EventDetail).Hub.Key; got != mseKey {
			t.Errorf("hub.key = %s; want %s", got, mseKey)
		}
	})
	t.Run("missing claim", func(t *testing.T) {
		f := newFixture()
		err := f.h.handle(context.Background(), envelope([]byte(`{"claim":"clm_gone"}`)))
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("handle = %v; want the claim store's error", err)
		}
		if len(f.pub.entries) != 0 || len(f.quar.kept) != 0 {
			t.Errorf("published %d, quarantined %d; want neither", len(f.pub.entries), len(f.quar.kept))
		}
	})
}

func TestNormalizeFixture(t *testing.T) {
	data, err := os.ReadFile("../../events/normalize-received.json")
	if err != nil {
		t.Fatal(err)
	}
	var in events.EventBridgeEvent
	if err := json.Unmarshal(data, &in); err != nil {
		t.Fatalf("events/normalize-received.json: %v", err)
	}
	if in.Source != bus.SourceIngest || in.DetailType != bus.Received {
		t.Errorf("fixture source, detail-type = %q, %q; want %q, %q", in.Source, in.DetailType, bus.SourceIngest, bus.Received)
	}
	f := newFixture()
	if err := f.h.handle(context.Background(), in); err != nil {
		t.Fatalf("handle(fixture) = %v", err)
	}
	if len(f.quar.kept) != 0 {
		t.Fatalf("fixture quarantined: %s; want it normalized (is hub.key cloudevent.Key(source, id)?)", f.quar.kept[0].Reason)
	}
	if len(f.pub.entries) != 1 {
		t.Fatalf("published %d entries; want 1", len(f.pub.entries))
	}
	// What normalize publishes from the fixture is what persist's fixture carries.
	persist, err := os.ReadFile("../../events/persist-normalized.json")
	if err != nil {
		t.Fatal(err)
	}
	var next struct {
		Detail bus.EventDetail `json:"detail"`
	}
	if err := json.Unmarshal(persist, &next); err != nil {
		t.Fatalf("events/persist-normalized.json: %v", err)
	}
	got := f.pub.entries[0].Detail.(bus.EventDetail)
	if !jsonEqual(t, got.Event, next.Detail.Event) {
		t.Errorf("normalized fixture event = %s; events/persist-normalized.json carries %s", got.Event, next.Detail.Event)
	}
	got.Hub.NormalizedAt = next.Detail.Hub.NormalizedAt
	if !reflect.DeepEqual(got.Hub, next.Detail.Hub) {
		t.Errorf("normalized fixture hub = %+v; events/persist-normalized.json carries %+v", got.Hub, next.Detail.Hub)
	}
}

// TestNormalizeSeedFormats runs each format's seed example through normalize as ingest
// publishes it, and checks the canonical event against the adapter's golden file.
func TestNormalizeSeedFormats(t *testing.T) {
	tests := []struct{ format, example string }{
		{"cloudevents", "cloudevents/testdata/mse_graceful_shutdown"},
		{"juno", "juno/testdata/seed_confgo_file_update"},
		{"bkmonitor", "bkmonitor/testdata/seed_cpu_usage"},
		{"iuap", "iuap/testdata/seed_user_add_after"},
		{"huaweiconfig", "huaweiconfig/testdata/seed_resource_changed"},
		{"generic", "generic/testdata/alertmanager"},
	}
	for _, tc := range tests {
		t.Run(tc.format, func(t *testing.T) {
			raw, err := os.ReadFile("../../shared/adapter/" + tc.example + ".input")
			if err != nil {
				t.Fatal(err)
			}
			golden, err := os.ReadFile("../../shared/adapter/" + tc.example + ".golden")
			if err != nil {
				t.Fatal(err)
			}
			want, err := cloudevent.Parse(golden)
			if err != nil {
				t.Fatal(err)
			}
			switch tc.format {
			case "generic":
				want.Source = "/sources/src_1"
			case "bkmonitor":
				want.Source = ownership.BlueKing(testDataID)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, raw); err != nil {
				t.Fatal(err)
			}
			h := hub(want.Key())
			h.Format = tc.format
			h.Signed = tc.format == "iuap"
			f := newFixture()
			if err := f.h.handle(context.Background(), received(t, compact.String(), tc.format, h)); err != nil {
				t.Fatalf("handle = %v", err)
			}
			if len(f.quar.kept) != 0 || len(f.pub.entries) != 1 {
				t.Fatalf("quarantined %+v, published %d; want one event", f.quar.kept, len(f.pub.entries))
			}
			d := f.pub.entries[0].Detail.(bus.EventDetail)
			wantJSON, _ := want.MarshalJSON()
			if string(d.Event) != string(wantJSON) {
				t.Errorf("event = %s\nwant %s", d.Event, wantJSON)
			}
		})
	}
}

// TestNormalizeFixtures runs every events/normalize-received*.json fixture: each is
// normalized under the key its hub gives, with nothing quarantined.
func TestNormalizeFixtures(t *testing.T) {
	files, err := filepath.Glob("../../events/normalize-received*.json")
	if err != nil || len(files) < 6 {
		t.Fatalf("fixtures = %v (%v); want one per format", files, err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var in events.EventBridgeEvent
			if err := json.Unmarshal(data, &in); err != nil {
				t.Fatal(err)
			}
			f := newFixture()
			if err := f.h.handle(context.Background(), in); err != nil {
				t.Fatalf("handle = %v", err)
			}
			if len(f.quar.kept) != 0 || len(f.pub.entries) != 1 {
				t.Fatalf("quarantined %+v, published %d; want one event", f.quar.kept, len(f.pub.entries))
			}
		})
	}
}

// schemaMap is a catalog.Lookup over compiled schemas; err fails every lookup.
type schemaMap struct {
	byType map[string]*catalog.Schema
	err    error
}

func (m schemaMap) Schema(_ context.Context, t string) (*catalog.Schema, error) {
	return m.byType[t], m.err
}

// TestNormalizeChecksWhatIngestChecked: what ingest let through can still fail here
// (the catalog changed in between, or the source quarantines what it cannot read):
// such an event is quarantined under the id ingest answered with, never dropped; a
// catalog that cannot be read fails the invocation, to be retried.
func TestNormalizeChecksWhatIngestChecked(t *testing.T) {
	strict, err := catalog.CompileSchema([]byte(`{"type":"object","required":["severity"]}`), "schema")
	if err != nil {
		t.Fatal(err)
	}
	long := `{"specversion":"1.0","id":"1","source":"/` + strings.Repeat("s", 3000) + `","type":"t"}`
	tests := []struct {
		name      string
		raw       string
		hub       bus.Hub
		schemas   schemaMap
		wantErr   bool
		wantQID   string // "" : published
		wantInWhy string
	}{
		{name: "schema now requires a member", raw: mse, hub: hub(mseKey),
			schemas: schemaMap{byType: map[string]*catalog.Schema{"mse:Agent:OutlierEjection": strict}},
			wantQID: "eb-1", wantInWhy: "severity"},
		{name: "schema of another type", raw: mse, hub: hub(mseKey),
			schemas: schemaMap{byType: map[string]*catalog.Schema{"other": strict}}},
		{name: "catalog unavailable", raw: mse, hub: hub(mseKey),
			schemas: schemaMap{err: errors.New("throttled")}, wantErr: true},
		{name: "source too long for the store", raw: long, hub: hub(""), wantQID: "eb-1", wantInWhy: "source is 3001 bytes"},
		{name: "ingest's quarantine id", raw: `{"specversion":"1.0","id":"1","source":"/s"}`,
			hub: func() bus.Hub {
				h := hub("")
				h.Quarantine = &bus.Quarantine{ID: "qrn_1", Reason: "type: required"}
				return h
			}(),
			wantQID: "qrn_1", wantInWhy: "type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture()
			f.h.schemas = tc.schemas
			err := f.h.handle(context.Background(), received(t, tc.raw, "cloudevents", tc.hub))
			if tc.wantErr {
				if err == nil || len(f.quar.kept)+len(f.pub.entries) != 0 {
					t.Fatalf("handle = %v (kept %d, published %d); want an error and nothing done", err, len(f.quar.kept), len(f.pub.entries))
				}
				return
			}
			if err != nil {
				t.Fatalf("handle = %v; want nil", err)
			}
			if tc.wantQID == "" {
				if len(f.pub.entries) != 1 || len(f.quar.kept) != 0 {
					t.Fatalf("published %d, kept %d; want one published", len(f.pub.entries), len(f.quar.kept))
				}
				return
			}
			if len(f.pub.entries) != 0 || len(f.quar.kept) != 1 {
				t.Fatalf("published %d, kept %d; want one kept", len(f.pub.entries), len(f.quar.kept))
			}
			q := f.quar.kept[0]
			if q.ID != tc.wantQID || !strings.Contains(q.Reason, tc.wantInWhy) || !jsonEqual(t, q.Raw, []byte(tc.raw)) {
				t.Errorf("kept %s %q with raw %.80s; want %s with a reason containing %q and the raw event", q.ID, q.Reason, q.Raw, tc.wantQID, tc.wantInWhy)
			}
		})
	}
}

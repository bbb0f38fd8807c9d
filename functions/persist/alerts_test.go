package main

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/store"
)

// fakeAlerts is an alertFolder made of function fields; it records the signals.
type fakeAlerts struct {
	foldErr    error
	sourceKeys map[string][]string
	keyReads   int
	signals    []store.Signal
}

func (f *fakeAlerts) FoldAlert(_ context.Context, sig store.Signal) (*store.Alert, error) {
	f.signals = append(f.signals, sig)
	if f.foldErr != nil {
		return nil, f.foldErr
	}
	return &store.Alert{ID: "alr_1", Count: len(f.signals), Status: sig.Status}, nil
}

func (f *fakeAlerts) SourceDedupeKeys(_ context.Context, id string) ([]string, error) {
	f.keyReads++
	return f.sourceKeys[id], nil
}

// bkEvent is a CloudEvent carrying a BlueKing event's fields in data, as the bkmonitor
// adapter makes it.
const bkEvent = `{"specversion":"1.0","id":"event-003","source":"bkmonitor/data-1001","type":"bkmonitor.alert",` +
	`"time":"2026-03-14T07:09:20Z","data":{"alert_name":"CPU使用率过高","event_id":"event-003","target":"10.0.0.1",` +
	`"severity":1,"status":"RECOVERED","dedupe_keys":["alert_name","target"],"tags":[{"key":"host","value":"web-1"}]}}`

func TestPersistFoldsAlerts(t *testing.T) {
	bkKey := cloudevent.Key("bkmonitor/data-1001", "event-003")
	tests := []struct {
		name       string
		event      string
		sourceKeys []string
		want       *store.Signal
	}{
		{
			name:  "keys carried in data.dedupe_keys",
			event: bkEvent,
			want: &store.Signal{
				EventKey: bkKey, SourceID: "src_1", Source: "bkmonitor/data-1001", Name: "CPU使用率过高", Status: "RECOVERED", Severity: 1,
				Keys: map[string]string{"alert_name": "CPU使用率过高", "target": "10.0.0.1"},
				At:   time.Date(2026, 3, 14, 7, 9, 20, 0, time.UTC),
			},
		},
		{
			name:       "keys declared by the source",
			event:      strings.Replace(bkEvent, `"dedupe_keys":["alert_name","target"],`, ``, 1),
			sourceKeys: []string{"alert_name", "tags.host", "subject"},
			want: &store.Signal{
				EventKey: bkKey, SourceID: "src_1", Source: "bkmonitor/data-1001", Name: "CPU使用率过高", Status: "RECOVERED", Severity: 1,
				Keys: map[string]string{"alert_name": "CPU使用率过高", "tags.host": "web-1", "subject": ""},
				At:   time.Date(2026, 3, 14, 7, 9, 20, 0, time.UTC),
			},
		},
		{
			name:  "key values given as an object; status defaults to ABNORMAL; time from data",
			event: `{"specversion":"1.0","id":"event-003","source":"bkmonitor/data-1001","type":"t","data":{"time":1773472160,"severity":"2","dedupe_keys":{"host":"web-1"}}}`,
			want: &store.Signal{
				EventKey: bkKey, SourceID: "src_1", Source: "bkmonitor/data-1001", Status: "ABNORMAL", Severity: 2,
				Keys: map[string]string{"host": "web-1"}, At: time.Unix(1773472160, 0).UTC(),
			},
		},
		{
			name:  "a time far ahead of receipt counts as receipt plus the skew",
			event: strings.Replace(bkEvent, `"time":"2026-03-14T07:09:20Z"`, `"time":"2099-01-01T00:00:00Z"`, 1),
			want: &store.Signal{
				EventKey: bkKey, SourceID: "src_1", Source: "bkmonitor/data-1001", Name: "CPU使用率过高", Status: "RECOVERED", Severity: 1,
				Keys: map[string]string{"alert_name": "CPU使用率过高", "target": "10.0.0.1"},
				At:   receivedAt.Add(MaxAlertSkew),
			},
		},
		{
			name:  "no dedupe keys: no alert",
			event: `{"specversion":"1.0","id":"event-003","source":"bkmonitor/data-1001","type":"t","data":{"status":"ABNORMAL"}}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture()
			al := &fakeAlerts{sourceKeys: map[string][]string{"src_1": tc.sourceKeys}}
			f.h.alerts = al
			h := hub()
			h.Key = bkKey
			if err := f.h.handle(context.Background(), normalized(t, tc.event, h)); err != nil {
				t.Fatalf("handle = %v", err)
			}
			if tc.want == nil {
				if len(al.signals) != 0 {
					t.Errorf("folded %+v; want nothing", al.signals)
				}
				return
			}
			if len(al.signals) != 1 || !reflect.DeepEqual(al.signals[0], *tc.want) {
				t.Errorf("FoldAlert(%+v); want %+v", al.signals, *tc.want)
			}
			if len(f.pub.entries) != 1 {
				t.Errorf("published %d entries; want the event published as well", len(f.pub.entries))
			}
		})
	}
}

func TestPersistFoldsRepeatsOnce(t *testing.T) {
	bkKey := cloudevent.Key("bkmonitor/data-1001", "event-003")
	tests := []struct {
		name     string
		existing store.Event
		wantFold bool
	}{
		{"repeat of an event folded before", store.Event{Key: bkKey, Receipt: "req-0", AlertID: "alr_1", ReceivedAt: receivedAt}, false},
		{"repeat of an event whose fold did not happen", store.Event{Key: bkKey, Receipt: "req-0", ReceivedAt: receivedAt}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture()
			f.st.putEvent = func(store.Event) (bool, *store.Event, error) {
				ex := tc.existing
				return false, &ex, nil
			}
			al := &fakeAlerts{}
			f.h.alerts = al
			if err := f.h.handle(context.Background(), normalized(t, bkEvent, hub())); err != nil {
				t.Fatalf("handle = %v", err)
			}
			if got := len(al.signals) == 1; got != tc.wantFold {
				t.Errorf("folded %d times; want fold %v", len(al.signals), tc.wantFold)
			}
			if len(f.pub.entries) != 0 {
				t.Errorf("published a repeat")
			}
		})
	}
	t.Run("a fold already made is success", func(t *testing.T) {
		f := newFixture()
		f.h.alerts = &fakeAlerts{foldErr: store.ErrAlreadyFolded}
		if err := f.h.handle(context.Background(), normalized(t, bkEvent, hub())); err != nil {
			t.Errorf("handle = %v; want nil", err)
		}
	})
	t.Run("a failed fold is retried, after publishing", func(t *testing.T) {
		f := newFixture()
		boom := errors.New("throttled")
		f.h.alerts = &fakeAlerts{foldErr: boom}
		if err := f.h.handle(context.Background(), normalized(t, bkEvent, hub())); !errors.Is(err, boom) {
			t.Errorf("handle = %v; want %v so that Lambda retries", err, boom)
		}
		if len(f.pub.entries) != 1 {
			t.Errorf("published %d entries; want the event published before folding", len(f.pub.entries))
		}
	})
}

func TestSourceKeysAreCached(t *testing.T) {
	al := &fakeAlerts{sourceKeys: map[string][]string{"src_1": {"alert_name"}}}
	c := newKeyCache(30 * time.Second)
	for _, at := range []time.Time{now, now.Add(10 * time.Second), now.Add(29 * time.Second), now.Add(31 * time.Second)} {
		if keys, err := c.get(context.Background(), al, "src_1", at); err != nil || len(keys) != 1 {
			t.Fatalf("get = %v, %v", keys, err)
		}
	}
	if al.keyReads != 2 {
		t.Errorf("read the source %d times; want 2 (once, then after 30 s)", al.keyReads)
	}
}

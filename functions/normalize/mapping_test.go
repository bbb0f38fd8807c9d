package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/store"
)

// savedMappings are the tests' saved mapping versions, of any source: version 2
// changes the type, so that an event is seen mapped with its own version.
func savedMappings(_ context.Context, sourceID string, v int64) (*store.MappingVersion, error) {
	docs := map[int64]string{
		1: `{"id":{"path":"$.id"},"type":{"template":"t.{$.kind}"},"source":{"template":"/sources/{sourceId}"},
			"subject":{"header":"x-repo","optional":true},"drop":[{"name":"pings","pattern":{"kind":["ping"]}}]}`,
		2: `{"id":{"path":"$.id"},"type":{"template":"v2.{$.kind}"},"source":{"template":"/sources/{sourceId}"}}`,
	}
	doc, ok := docs[v]
	if !ok {
		return nil, fmt.Errorf("mapping %s v%d: %w", sourceID, v, store.ErrNotFound)
	}
	return &store.MappingVersion{SourceID: sourceID, Version: v, Mapping: json.RawMessage(doc)}, nil
}

// TestNormalizeMapped: an event of a source with a mapping is read with the version it
// was received under, with the headers ingest carried; a drop rule's event is
// neither published nor quarantined; what the mapping cannot read is quarantined
// with the reason and the headers, to be re-submitted.
func TestNormalizeMapped(t *testing.T) {
	mapped := func(raw string, v int64, headers map[string]string) bus.Hub {
		h := hub("")
		h.Format, h.MappingVersion, h.Headers = "generic", v, headers
		return h
	}
	cases := []struct {
		name       string
		raw        string
		hub        bus.Hub
		wantType   string
		wantSubj   string
		dropped    bool
		quarantine string // in the reason
	}{
		{"version 1", `{"id":"a1","kind":"push"}`, mapped("", 1, map[string]string{"x-repo": "o/r"}), "t.push", "o/r", false, ""},
		{"version 2", `{"id":"a1","kind":"push"}`, mapped("", 2, nil), "v2.push", "", false, ""},
		{"dropped", `{"id":"a2","kind":"ping"}`, mapped("", 1, nil), "", "", true, ""},
		{"dropped by version 1 only", `{"id":"a2","kind":"ping"}`, mapped("", 2, nil), "v2.ping", "", false, ""},
		{"no id", `{"kind":"push"}`, mapped("", 1, map[string]string{"x-repo": "o/r"}), "", "", false, "$.id"},
		{"unsaved version", `{"id":"a3","kind":"push"}`, mapped("", 7, nil), "", "", false, "mapping version 7"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture()
			if tc.wantType != "" {
				tc.hub.Key = cloudevent.Key("/sources/src_1", "a1")
				if tc.dropped || strings.Contains(tc.raw, "a2") {
					tc.hub.Key = cloudevent.Key("/sources/src_1", "a2")
				}
			}
			if err := f.h.handle(context.Background(), received(t, tc.raw, "generic", tc.hub)); err != nil {
				t.Fatalf("handle = %v", err)
			}
			switch {
			case tc.dropped:
				if len(f.pub.entries)+len(f.quar.kept) != 0 {
					t.Errorf("dropped event: %d published, %d quarantined; want none", len(f.pub.entries), len(f.quar.kept))
				}
			case tc.quarantine != "":
				if len(f.quar.kept) != 1 || len(f.pub.entries) != 0 {
					t.Fatalf("%d quarantined, %d published; want 1 quarantined", len(f.quar.kept), len(f.pub.entries))
				}
				q := f.quar.kept[0]
				if !strings.Contains(q.Reason, tc.quarantine) {
					t.Errorf("reason = %q; want it to name %s", q.Reason, tc.quarantine)
				}
				if fmt.Sprint(q.Headers) != fmt.Sprint(tc.hub.Headers) {
					t.Errorf("quarantined headers = %v; want %v", q.Headers, tc.hub.Headers)
				}
			default:
				if len(f.pub.entries) != 1 {
					t.Fatalf("%d published, quarantined %+v; want 1 published", len(f.pub.entries), f.quar.kept)
				}
				d := f.pub.entries[0].Detail.(bus.EventDetail)
				var ev cloudevent.Event
				if err := json.Unmarshal(d.Event, &ev); err != nil {
					t.Fatal(err)
				}
				if ev.Type != tc.wantType || ev.Subject != tc.wantSubj || ev.Source != "/sources/src_1" {
					t.Errorf("event type %q subject %q source %q; want %q %q /sources/src_1", ev.Type, ev.Subject, ev.Source, tc.wantType, tc.wantSubj)
				}
				if d.Hub.MappingVersion != tc.hub.MappingVersion {
					t.Errorf("hub.mappingVersion = %d; want %d", d.Hub.MappingVersion, tc.hub.MappingVersion)
				}
			}
		})
	}
}

package bus

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/eventhub/eventhub/shared/cloudevent"
)

// TestStoredEntry: an event whose Event Stored fits one 64 KB chunk travels whole; a
// larger one keeps every context attribute and extension, loses its data for a
// dataref, and the entry fits InlineLimit.
func TestStoredEntry(t *testing.T) {
	const url = "https://api.example/events/evt_x/data"
	tests := []struct {
		name      string
		data      string
		wantRef   bool
		wantExact bool
	}{
		{name: "small", data: `{"n":1}`, wantExact: true},
		{name: "just under", data: `"` + strings.Repeat("x", InlineLimit-2000) + `"`, wantExact: true},
		{name: "over 64 KB", data: `"` + strings.Repeat("x", InlineLimit) + `"`, wantRef: true},
		{name: "at ingest's limit", data: `"` + strings.Repeat("x", 390<<10) + `"`, wantRef: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(`{"specversion":"1.0","id":"1","source":"/s","type":"big.one","subject":"sub","time":"2026-12-02T00:00:00Z","datacontenttype":"application/json","acme":"x","data":` + tc.data + `}`)
			ev, err := cloudevent.Parse(body)
			if err != nil {
				t.Fatal(err)
			}
			e, err := StoredEntry(ev, body, Hub{Key: "evt_x"}, url)
			if err != nil {
				t.Fatal(err)
			}
			if e.Source != SourcePersist || e.DetailType != Stored {
				t.Errorf("entry %s %q; want %s %q", e.Source, e.DetailType, SourcePersist, Stored)
			}
			d := e.Detail.(EventDetail)
			detail, _ := json.Marshal(d)
			if size := 14 + len(e.Source) + len(e.DetailType) + len(detail); size > InlineLimit {
				t.Errorf("entry is %d bytes; want at most %d", size, InlineLimit)
			}
			if tc.wantExact {
				if string(d.Event) != string(body) || d.Hub.DataRef != "" {
					t.Errorf("event changed or dataref set (%q); want it whole", d.Hub.DataRef)
				}
				return
			}
			got, err := cloudevent.Parse(d.Event)
			if err != nil {
				t.Fatal(err)
			}
			ref, _ := got.Extension("dataref")
			if ref != url || d.Hub.DataRef != url || got.Data != nil {
				t.Errorf("dataref %q, hub %q, data %d bytes; want %s and no data", ref, d.Hub.DataRef, len(got.Data), url)
			}
			acme, _ := got.Extension("acme")
			if got.ID != "1" || got.Source != "/s" || got.Type != "big.one" || got.Subject != "sub" || got.Time != ev.Time || got.DataContentType != "application/json" || acme != "x" {
				t.Errorf("context attributes = %+v; want every one kept", got)
			}
			if _, ok := ev.Extensions["dataref"]; ok {
				t.Error("StoredEntry changed the event it was given")
			}
		})
	}
}

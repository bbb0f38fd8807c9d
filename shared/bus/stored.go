package bus

import (
	"encoding/json"
	"fmt"
	"maps"

	"github.com/eventhub/eventhub/shared/cloudevent"
)

// InlineLimit is the largest Event Stored entry that carries its event's data inline.
// EventBridge bills an entry per 64 KB chunk, and every rule a user adds pays for the
// chunks again where it forwards the entry; a larger event goes on the bus with every
// context attribute and a dataref to its data in the store, so that each Event Stored
// is billed as one chunk.
const InlineLimit = 64 << 10

// hubReserve is what a Hub adds to an entry, with room to spare.
const hubReserve = 1024

// StoredEntry returns the Event Stored entry of a stored event. body is the event as
// stored (its structured JSON form) and ev the same event read. When the entry would
// exceed InlineLimit, the entry's event keeps every context attribute and extension
// but not its data, and its dataref extension points at dataURL, where the API serves
// the stored data; hub.DataRef says so to eventhub's own consumers.
func StoredEntry(ev *cloudevent.Event, body json.RawMessage, hub Hub, dataURL string) (Entry, error) {
	if 14+len(SourcePersist)+len(Stored)+len(body)+hubReserve <= InlineLimit {
		return Entry{Source: SourcePersist, DetailType: Stored, Detail: EventDetail{Event: body, Hub: hub}}, nil
	}
	ref := *ev
	ref.Data, ref.DataBase64 = nil, ""
	ref.Extensions = maps.Clone(ev.Extensions)
	if ref.Extensions == nil {
		ref.Extensions = map[string]json.RawMessage{}
	}
	u, err := json.Marshal(dataURL)
	if err != nil {
		return Entry{}, err
	}
	ref.Extensions["dataref"] = u
	slim, err := ref.MarshalJSON()
	if err != nil {
		return Entry{}, fmt.Errorf("event %s without its data: %w", hub.Key, err)
	}
	hub.DataRef = dataURL
	return Entry{Source: SourcePersist, DetailType: Stored, Detail: EventDetail{Event: slim, Hub: hub}}, nil
}

// Package generic keeps any JSON object from a producer eventhub has no adapter for,
// whole, as the data of a CloudEvent.
package generic

import (
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/jsonobject"
)

// Constants of the mapping.
const (
	Type          = "eventhub.generic"
	DefaultSource = "eventhub.generic"
)

// Parse reads one JSON object. source is the CloudEvents source to give it (the
// producer's registered source, "/sources/<id>"); "" gives DefaultSource.
func Parse(raw []byte, source string) (*cloudevent.Event, error) {
	o, err := jsonobject.Decode(raw)
	if err != nil {
		return nil, err
	}
	return FromObject(o, source)
}

// FromObject maps an object: a digest of its content → id (so the same content sent
// twice is stored once), source → source, "eventhub.generic" → type, the object → data.
func FromObject(o *jsonobject.Object, source string) (*cloudevent.Event, error) {
	if source == "" {
		source = DefaultSource
	}
	data := o.Compose()
	var id [64]byte
	ev := &cloudevent.Event{
		SpecVersion:     cloudevent.SpecVersion,
		ID:              string(o.AppendContentID(append(id[:0], "gen-"...))),
		Source:          source,
		Type:            Type,
		DataContentType: "application/json",
		Data:            data,
	}
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	return ev, nil
}

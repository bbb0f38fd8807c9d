// Package adapter turns what each kind of producer sends into eventhub's canonical
// CloudEvent: it names the formats, detects a payload's format, and runs the format's
// adapter. Ingest and normalize share it, so both read an event the same way.
package adapter

import (
	"github.com/eventhub/eventhub/shared/adapter/bkmonitor"
	"github.com/eventhub/eventhub/shared/adapter/cloudevents"
	"github.com/eventhub/eventhub/shared/adapter/format"
	"github.com/eventhub/eventhub/shared/adapter/generic"
	"github.com/eventhub/eventhub/shared/adapter/huaweiconfig"
	"github.com/eventhub/eventhub/shared/adapter/iuap"
	"github.com/eventhub/eventhub/shared/adapter/juno"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/jsonobject"
	"github.com/eventhub/eventhub/shared/mapping"
)

// Formats (named in package format, which code that needs only the names imports).
// Auto is not a format of an event but a source's choice to detect each one.
const (
	Auto         = format.Auto
	CloudEvents  = format.CloudEvents
	Juno         = format.Juno
	BKMonitor    = format.BKMonitor
	IUAP         = format.IUAP
	HuaweiConfig = format.HuaweiConfig
	Generic      = format.Generic
)

// Formats lists every format: those detection tries, in its order, then the presets.
var Formats = format.All

// Known reports whether f is a format or Auto.
func Known(f string) bool { return format.Known(f) }

// Meta is what the pipeline knows about an event besides its payload.
type Meta struct {
	SourceID string // the registered producer source that sent it
	DataID   int64  // its BlueKing data_id, if it has one
	// Headers are the request headers a preset's mapping reads (lower-case names).
	Headers map[string]string
}

// Parse reads one event of the format (Auto detects it) and returns the canonical
// CloudEvent and the format it was read as. Errors are *fault.Error values whose path
// names the member of raw that is wrong. The event may keep slices of raw, which the
// caller must not change afterwards.
func Parse(format string, raw []byte, m Meta) (*cloudevent.Event, string, error) {
	if p, ok := mapping.Preset(format); ok {
		ev, err := preset(format, p, raw, m)
		return ev, format, err
	}
	o, err := jsonobject.DecodeShared(raw)
	if err != nil {
		return nil, format, err
	}
	if format == Auto || format == "" {
		format = Detect(o)
	}
	ev, err := FromObject(format, o, m)
	return ev, format, err
}

// FromObject runs the adapter of the format on a decoded object.
func FromObject(format string, o *jsonobject.Object, m Meta) (*cloudevent.Event, error) {
	switch format {
	case CloudEvents:
		return cloudevents.FromObject(o)
	case Juno:
		return juno.FromObject(o)
	case BKMonitor:
		return bkmonitor.FromObject(o, m.DataID)
	case IUAP:
		return iuap.FromObject(o)
	case HuaweiConfig:
		return huaweiconfig.FromObject(o)
	case Generic:
		src := ""
		if m.SourceID != "" {
			src = "/sources/" + m.SourceID
		}
		return generic.FromObject(o, src)
	}
	return nil, fault.New(fault.Invalid, "unknown format %q", format)
}

// preset runs a preset's mapping. A preset has no drop rules (mapping's tests hold
// them to that), so a drop is not an outcome of Parse.
func preset(format string, p *mapping.Mapping, raw []byte, m Meta) (*cloudevent.Event, error) {
	res, err := p.Apply(mapping.Input{Body: raw, Headers: m.Headers, SourceID: m.SourceID})
	if err != nil {
		return nil, err
	}
	if res.Event == nil {
		return nil, fault.New(fault.Invalid, "format %s dropped the event by rule %q", format, res.Dropped)
	}
	return res.Event, nil
}

// Detect names the format of a decoded event by the members that only that format
// sends; anything unrecognised is Generic.
func Detect(o *jsonobject.Object) string {
	switch {
	case o.Has("specversion"):
		return CloudEvents
	case o.Has("notification_type") && o.Has("domain_id"):
		return HuaweiConfig
	case o.Has("alert_name") && o.Has("event_id"):
		return BKMonitor
	case o.Has("operation") && o.Has("create_time"):
		return Juno
	case o.Has("sourceID") && o.Has("eventType"):
		return IUAP
	}
	return Generic
}

// Package juno reads the system events of the Juno devops platform (confgo
// configuration changes, application restarts, Grafana alerts) as CloudEvents.
package juno

import (
	"github.com/eventhub/eventhub/shared/adapter/member"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/fault"
)

// Source is the CloudEvents source prefix of Juno events: "juno/<source>".
const Source = "juno"

// text fields of the message; each must be a string when present.
var text = []string{"app_name", "zone_code", "env", "host_name", "operator_type", "user_name", "source", "operation_name", "source_name"}

// Parse reads one Juno message.
func Parse(raw []byte) (*cloudevent.Event, error) {
	o, err := member.Decode(raw)
	if err != nil {
		return nil, err
	}
	return FromObject(o)
}

// FromObject maps a decoded Juno message: id → id, "juno/"+source → source,
// operation → type, app_name → subject, create_time (Unix seconds) → time, and the
// whole message → data, with metadata decoded when it is a JSON object or array.
func FromObject(o *member.Object) (*cloudevent.Event, error) {
	id, err := o.ScalarText("id", true)
	if err != nil {
		return nil, err
	}
	op, err := o.Text("operation", true)
	if err != nil {
		return nil, err
	}
	when, err := o.Time("create_time", true)
	if err != nil {
		return nil, err
	}
	var src, app []byte
	for _, name := range text {
		t, err := o.Text(name, false)
		if err != nil {
			return nil, err
		}
		switch name {
		case "source":
			src = t
		case "app_name":
			app = t
		}
	}
	// aid and uid are strings in Juno's table and numbers in its own example.
	for _, name := range []string{"aid", "uid"} {
		if _, err := o.ScalarText(name, false); err != nil {
			return nil, err
		}
	}
	var setBuf [1]member.Set
	sets := setBuf[:0]
	if raw, ok := o.Raw("metadata"); ok {
		switch raw[0] {
		case '"':
			if structured, ok := member.EmbeddedText(member.Unquote(raw)); ok {
				sets = append(sets, member.Set{Name: "metadata", Value: structured})
			}
		case '{', '[':
		default:
			return nil, fault.At("metadata", "must be a string (JSON text) or an object")
		}
	}
	ev := &cloudevent.Event{
		SpecVersion:     cloudevent.SpecVersion,
		ID:              string(id),
		Source:          Source,
		Type:            string(op),
		Subject:         string(app),
		Time:            when,
		DataContentType: "application/json",
		Data:            o.Compose(sets...),
	}
	if len(src) > 0 {
		ev.Source = Source + "/" + string(src)
	}
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	return ev, nil
}

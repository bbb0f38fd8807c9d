// Package juno reads the system events of the Juno devops platform (confgo
// configuration changes, application restarts, Grafana alerts) as CloudEvents.
package juno

import (
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/jsonobject"
)

// Source is the CloudEvents source prefix of Juno events: "juno/<source>".
const Source = "juno"

// text fields of the message; each must be a string when present.
var text = []string{"app_name", "zone_code", "env", "host_name", "operator_type", "user_name", "source", "operation_name", "source_name"}

// Parse reads one Juno message.
func Parse(raw []byte) (*cloudevent.Event, error) {
	o, err := jsonobject.Decode(raw)
	if err != nil {
		return nil, err
	}
	return FromObject(o)
}

// FromObject maps a decoded Juno message: id → id, "juno/"+source → source,
// operation → type, app_name → subject, create_time (Unix seconds) → time, and the
// whole message → data, with metadata decoded when it is a JSON object or array.
func FromObject(o *jsonobject.Object) (*cloudevent.Event, error) {
	id, err := o.ScalarText("id", true)
	if err != nil {
		return nil, err
	}
	op, err := o.Text("operation", true)
	if err != nil {
		return nil, err
	}
	var st jsonobject.Strings
	var buf [256]byte
	st.B = buf[:0]
	if st.B, err = o.AppendTime(st.B, "create_time", true); err != nil {
		return nil, err
	}
	iTime := st.End()
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
	var setBuf [1]jsonobject.Set
	sets := setBuf[:0]
	if raw, ok := o.Raw("metadata"); ok {
		switch raw[0] {
		case '"':
			if structured, ok := jsonobject.EmbeddedText(jsonobject.Unquote(raw)); ok {
				sets = append(sets, jsonobject.Set{Name: "metadata", Value: structured})
			}
		case '{', '[':
		default:
			return nil, fault.At("metadata", "must be a string (JSON text) or an object")
		}
	}
	st.B = append(st.B, id...)
	iID := st.End()
	st.B = append(st.B, op...)
	iType := st.End()
	st.B = append(st.B, app...)
	iSubject := st.End()
	st.B = append(st.B, Source...)
	if len(src) > 0 {
		st.B = append(append(st.B, '/'), src...)
	}
	iSource := st.End()
	made := st.Done()
	ev := &cloudevent.Event{
		SpecVersion:     cloudevent.SpecVersion,
		ID:              made.Get(iID),
		Source:          made.Get(iSource),
		Type:            made.Get(iType),
		Subject:         made.Get(iSubject),
		Time:            made.Get(iTime),
		DataContentType: "application/json",
		Data:            o.Compose(sets...),
	}
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	return ev, nil
}

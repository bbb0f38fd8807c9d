// Package bkmonitor reads BlueKing monitor (蓝鲸监控) events, the format of its event
// plugins' HTTP push, as CloudEvents.
package bkmonitor

import (
	"encoding/json"
	"strconv"

	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/jsonobject"
)

// Constants of the mapping.
const (
	Source        = "bkmonitor"
	Type          = "bkmonitor.event"
	DefaultStatus = "ABNORMAL"
)

// required text fields, in the order BlueKing documents them.
var required = []string{"alert_name", "event_id", "description", "metric", "category", "target_type", "target"}

// Parse reads one BlueKing event sent by no plugin instance in particular (dataID 0).
func Parse(raw []byte) (*cloudevent.Event, error) {
	o, err := jsonobject.Decode(raw)
	if err != nil {
		return nil, err
	}
	return FromObject(o, 0)
}

// FromObject validates a decoded BlueKing event and maps it: event_id → id, the
// plugin instance's data id "bkmonitor/<dataID>" → source, "bkmonitor.event" → type,
// "<target_type>/<target>" → subject, time → time, and the event's own fields → data
// with status defaulted to ABNORMAL and severity as a number. The source names the
// plugin instance that sent the event, which its token proves, so that no other
// producer can publish under it. Without a data id (dataID 0) the source is
// "bkmonitor", or "bkmonitor/<bk_biz_id>", which no producer source owns.
func FromObject(o *jsonobject.Object, dataID int64) (*cloudevent.Event, error) {
	var id, targetType, target []byte
	for _, name := range required {
		v, err := o.Text(name, name != "description")
		if err != nil {
			return nil, err
		}
		if !o.Has(name) {
			return nil, fault.At(name, "required field is missing")
		}
		switch name {
		case "event_id":
			id = v
		case "target_type":
			targetType = v
		case "target":
			target = v
		}
	}
	sev, ok, err := o.Int("severity", true)
	if err != nil {
		return nil, err
	}
	if !ok || sev < 1 || sev > 3 {
		raw, _ := o.Raw("severity")
		return nil, fault.At("severity", "must be 1 (fatal), 2 (warning) or 3 (reminder), got %s", raw)
	}
	var st jsonobject.Strings
	var buf [256]byte
	st.B = buf[:0]
	if st.B, err = o.AppendTime(st.B, "time", true); err != nil {
		return nil, err
	}
	iTime := st.End()
	if _, err := o.AppendTime(nil, "anomaly_time", false); err != nil {
		return nil, err
	}
	status, err := o.Text("status", false)
	if err != nil {
		return nil, err
	}
	if o.Has("status") {
		switch string(status) {
		case "ABNORMAL", "RECOVERED", "CLOSED":
		default:
			return nil, fault.At("status", "must be ABNORMAL, RECOVERED or CLOSED, got %q", status)
		}
	}
	// dedupe_keys names the fields an alert folds on (an array), or gives their values
	// (an object, as BlueKing's model draws it).
	if raw, ok := o.Raw("dedupe_keys"); ok && raw[0] != '{' {
		if _, err := o.Strings("dedupe_keys", false); err != nil {
			return nil, err
		}
	}
	if raw, ok := o.Raw("tags"); ok && raw[0] != '{' && raw[0] != '[' {
		return nil, fault.At("tags", "must be an object or an array of {key, value}")
	}
	if raw, ok := o.Raw("assignee"); ok {
		if raw[0] == '[' {
			if _, err := o.Strings("assignee", false); err != nil {
				return nil, err
			}
		} else if _, err := o.Text("assignee", false); err != nil {
			return nil, fault.At("assignee", "must be a string or an array of strings")
		}
	}
	biz, hasBiz, err := o.Int("bk_biz_id", false)
	if err != nil {
		return nil, err
	}
	sets := [2]jsonobject.Set{{Name: "severity", Value: severities[sev-1]}}
	n := 1
	if !o.Has("status") {
		sets[1] = jsonobject.Set{Name: "status", Value: defaultStatus}
		n++
	}
	st.B = append(st.B, id...)
	iID := st.End()
	st.B = append(append(append(st.B, targetType...), '/'), target...)
	iSubject := st.End()
	st.B = append(st.B, Source...)
	switch {
	case dataID != 0:
		st.B = strconv.AppendInt(append(st.B, '/'), dataID, 10)
	case hasBiz:
		st.B = strconv.AppendInt(append(st.B, '/'), biz, 10)
	}
	iSource := st.End()
	made := st.Done()
	ev := &cloudevent.Event{
		SpecVersion:     cloudevent.SpecVersion,
		ID:              made.Get(iID),
		Source:          made.Get(iSource),
		Type:            Type,
		Subject:         made.Get(iSubject),
		Time:            made.Get(iTime),
		DataContentType: "application/json",
		Data:            o.Compose(sets[:n]...),
	}
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	return ev, nil
}

// The values Compose writes: severity as a number, and the default status.
var (
	severities    = [3]json.RawMessage{json.RawMessage("1"), json.RawMessage("2"), json.RawMessage("3")}
	defaultStatus = jsonobject.Quote(DefaultStatus)
)

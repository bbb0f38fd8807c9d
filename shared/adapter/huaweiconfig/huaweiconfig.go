// Package huaweiconfig reads Huawei Cloud Config notifications (resource changes,
// relation changes, snapshot and notification archives) as CloudEvents.
package huaweiconfig

import (
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/jsonobject"
)

// Constants of the mapping.
const (
	Source     = "huaweicloud.config"
	TypePrefix = "huaweicloud.config."
)

// detailRule is what one notification type requires of its detail.
type detailRule struct {
	strings    []string        // required string members
	eventTypes map[string]bool // allowed detail.event_type values, if checked
	times      []string        // required ISO 8601 members
	subject    string          // detail member that becomes the subject
}

var rules = map[string]detailRule{
	"ResourceChanged": {
		strings:    []string{"resource_id", "resource_type", "event_type"},
		eventTypes: map[string]bool{"CREATE": true, "UPDATE": true, "DELETE": true},
		times:      []string{"capture_time"},
		subject:    "resource_id",
	},
	"ResourceRelationChanged": {
		strings:    []string{"resource_id", "resource_type", "event_type"},
		eventTypes: map[string]bool{"CHANGE": true},
		times:      []string{"capture_time"},
		subject:    "resource_id",
	},
	"SnapshotArchiveCompleted": {
		strings: []string{"snapshot_id", "region_id", "bucket_name"},
		subject: "snapshot_id",
	},
	"NotificationArchiveCompleted": {
		strings: []string{"region_id", "bucket_name", "object_key"},
		subject: "object_key",
	},
}

// Parse reads one notification.
func Parse(raw []byte) (*cloudevent.Event, error) {
	o, err := jsonobject.Decode(raw)
	if err != nil {
		return nil, err
	}
	return FromObject(o)
}

// FromObject validates a decoded notification and maps it: a digest of its content →
// id (notifications carry no id; a resend is stored once), "huaweicloud.config/<domain_id>"
// → source, "huaweicloud.config.<notification_type>" → type, the resource id, snapshot
// id or object key → subject, notification_creation_time → time, the notification → data.
func FromObject(o *jsonobject.Object) (*cloudevent.Event, error) {
	nt, err := o.Text("notification_type", true)
	if err != nil {
		return nil, err
	}
	rule, ok := rules[string(nt)]
	if !ok {
		return nil, fault.At("notification_type", "unknown notification type %q: want ResourceChanged, ResourceRelationChanged, SnapshotArchiveCompleted or NotificationArchiveCompleted", nt)
	}
	when, err := o.Text("notification_creation_time", true)
	if err != nil {
		return nil, err
	}
	var st jsonobject.Strings
	var buf [256]byte
	if st.B, err = jsonobject.AppendParseTime(buf[:0], when); err != nil {
		return nil, fault.At("notification_creation_time", "must be an ISO 8601 timestamp")
	}
	iTime := st.End()
	domain, err := o.Text("domain_id", true)
	if err != nil {
		return nil, err
	}
	d, err := o.Object("detail", true)
	if err != nil {
		return nil, err
	}
	var vals [3][]byte // of rule.strings
	var subject, eventType []byte
	for k, name := range rule.strings {
		if vals[k], err = d.Text(name, true); err != nil {
			return nil, err
		}
		switch name {
		case rule.subject:
			subject = vals[k]
		case "event_type":
			eventType = vals[k]
		}
	}
	if rule.eventTypes != nil && !rule.eventTypes[string(eventType)] {
		return nil, fault.At(d.Path("event_type"), "%q is not an event type of %s", eventType, nt)
	}
	for _, name := range rule.times {
		t, err := d.Text(name, true)
		if err != nil {
			return nil, err
		}
		var buf [64]byte
		if _, err := jsonobject.AppendParseTime(buf[:0], t); err != nil {
			return nil, fault.At(d.Path(name), "must be an ISO 8601 timestamp")
		}
	}
	switch string(nt) {
	case "ResourceChanged":
		if _, err := d.Object("resource", string(eventType) != "DELETE"); err != nil {
			return nil, err
		}
	case "SnapshotArchiveCompleted":
		if _, err := d.Strings("object_keys", true); err != nil {
			return nil, err
		}
	}
	st.B = o.AppendContentID(append(st.B, "hwc-"...))
	iID := st.End()
	st.B = append(append(st.B, Source+"/"...), domain...)
	iSource := st.End()
	st.B = append(append(st.B, TypePrefix...), nt...)
	iType := st.End()
	st.B = append(st.B, subject...)
	iSubject := st.End()
	made := st.Done()
	ev := &cloudevent.Event{
		SpecVersion:     cloudevent.SpecVersion,
		ID:              made.Get(iID),
		Source:          made.Get(iSource),
		Type:            made.Get(iType),
		Subject:         made.Get(iSubject),
		Time:            made.Get(iTime),
		DataContentType: "application/json",
		Data:            o.Compose(),
	}
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	return ev, nil
}

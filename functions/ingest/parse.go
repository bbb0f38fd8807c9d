package main

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/eventhub/eventhub/shared/adapter"
	"github.com/eventhub/eventhub/shared/adapter/cloudevents"
	"github.com/eventhub/eventhub/shared/adapter/member"
	"github.com/eventhub/eventhub/shared/apigw"
	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/fault"
)

// item is one event of a request: its raw JSON and format, then its key once read, or
// the reason it is rejected.
type item struct {
	prefix string // "[i]" inside a batch, "" for a single event
	raw    json.RawMessage
	format string
	event  *cloudevent.Event // already read (binary mode)
	binary bool              // a CloudEvent in binary mode: its attributes are ce-* headers
	signed bool              // came through the signed iuap route
	key    string
	err    error
	// quarantine is set, instead of err, when the source quarantines what it cannot
	// read (store.OnInvalidQuarantine).
	quarantine *bus.Quarantine
}

// jsonTypes are the content types of JSON bodies; a CloudEvents type also fixes the
// format.
var jsonTypes = map[string]string{
	"":                                   "",
	"application/json":                   "",
	"text/json":                          "",
	"application/cloudevents+json":       adapter.CloudEvents,
	"application/cloudevents-batch+json": adapter.CloudEvents,
}

// split turns a request body into its events: a CloudEvent in binary mode, one JSON
// event, a JSON array of events, or a BlueKing envelope. A body that cannot be read
// at all is an error; a batch whose members are partly wrong yields per-item errors.
func split(req *apigw.Request, format string, body []byte, env *envelope) ([]item, error) {
	mt := apigw.MediaType(req)
	// The HTTP binding: a CloudEvents media type means structured mode, whatever
	// ce-* headers came with it; otherwise ce-specversion means binary mode.
	if apigw.Header(req, "ce-specversion") != "" && !strings.HasPrefix(mt, "application/cloudevents") {
		return binary(req, body)
	}
	forced, ok := jsonTypes[mt]
	if !ok && !strings.HasSuffix(mt, "+json") {
		return nil, fault.New(fault.UnsupportedMedia, "content type %q is not supported: send application/json, application/cloudevents+json, application/cloudevents-batch+json, or a CloudEvent in binary mode (ce-* headers)", mt)
	}
	if _, explicit := req.QueryStringParameters["format"]; forced != "" && !explicit {
		format = forced
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, fault.New(fault.Invalid, "empty body: expected a JSON object or array")
	}
	if err := fault.UTF8(body); err != nil {
		return nil, err
	}
	if !json.Valid(body) {
		return nil, fault.JSON(body, json.Unmarshal(body, new(any)))
	}
	if err := checkDepth(body); err != nil {
		return nil, err
	}
	if env != nil {
		return batch(env.events, adapter.BKMonitor, "data")
	}
	if trimmed[0] == '[' {
		var raws []json.RawMessage
		_ = json.Unmarshal(body, &raws) // valid JSON
		return batch(raws, format, "")
	}
	if mt == "application/cloudevents-batch+json" {
		return nil, fault.At("$", "a CloudEvents batch must be a JSON array")
	}
	if len(body) > maxEvent {
		return nil, fault.New(fault.TooLarge, "event is %d bytes; the limit is %d", len(body), maxEvent)
	}
	return []item{{raw: compact(body), format: format}}, nil
}

func batch(raws []json.RawMessage, format, path string) ([]item, error) {
	if len(raws) == 0 {
		return nil, fault.New(fault.Invalid, "empty batch: expected at least one event")
	}
	if len(raws) > maxEvents {
		return nil, fault.New(fault.TooLarge, "batch has %d events; the limit is %d", len(raws), maxEvents)
	}
	items := make([]item, len(raws))
	for i, raw := range raws {
		items[i] = item{prefix: path + "[" + strconv.Itoa(i) + "]", raw: compact(raw), format: format}
		if len(raw) > maxEvent {
			items[i].err = fault.New(fault.TooLarge, "%s: event is %d bytes; the limit is %d", items[i].prefix, len(raw), maxEvent)
		}
	}
	return items, nil
}

// binary reads a CloudEvent in binary mode: the ce-* headers and the data as the body.
func binary(req *apigw.Request, body []byte) ([]item, error) {
	if len(body) > maxEvent {
		return nil, fault.New(fault.TooLarge, "event is %d bytes; the limit is %d", len(body), maxEvent)
	}
	ev, err := cloudevents.Binary(req.Headers, apigw.Header(req, "content-type"), body)
	if err != nil {
		return nil, err
	}
	raw, err := ev.MarshalJSON()
	if err != nil {
		return nil, err
	}
	if len(raw) > maxEvent+maxEvent/3+1024 { // base64 and the attributes
		return nil, fault.New(fault.TooLarge, "event is %d bytes in the JSON format; the limit is %d", len(raw), maxEvent)
	}
	return []item{{raw: raw, format: adapter.CloudEvents, event: ev, binary: true}}, nil
}

func compact(raw []byte) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}

// at places an adapter's error inside a batch: "[3].id", or "[3]" for the item itself.
func at(prefix string, err error) error {
	e, ok := fault.As(err)
	if !ok || prefix == "" {
		return err
	}
	c := *e
	switch {
	case c.Path == "" || c.Path == "$":
		c.Path = prefix
	case strings.HasPrefix(c.Path, "ce-"):
	default:
		c.Path = prefix + "." + c.Path
	}
	// Offsets were counted in the item, not the request body.
	c.Offset, c.Line, c.Column = 0, 0, 0
	return &c
}

// checkDepth rejects JSON nested deeper than maxDepth, locating where it goes too deep.
func checkDepth(body []byte) error {
	depth, inString := 0, false
	for i := 0; i < len(body); i++ {
		c := body[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > maxDepth {
				e := fault.New(fault.Invalid, "JSON is nested more than %d levels deep", maxDepth)
				e.Offset, e.Line, e.Column = fault.Locate(body, i)
				return e
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// envelope is the body BlueKing's HTTP report sends: the data id and token of the
// plugin instance, and its events.
//
//	{"data_id": 1500001, "access_token": "<token>", "data": [{"alert_name": ...}, ...]}
type envelope struct {
	dataID int64
	token  string
	events []json.RawMessage
}

// blueKingEnvelope returns the envelope a body is, or nil.
func blueKingEnvelope(body []byte) *envelope {
	t := bytes.TrimSpace(body)
	if len(t) == 0 || t[0] != '{' || !bytes.Contains(t, []byte(`"data"`)) {
		return nil
	}
	o, err := member.Decode(body)
	if err != nil {
		return nil
	}
	data, ok := o.Raw("data")
	if !ok || !o.Has("data_id") {
		return nil
	}
	env := &envelope{}
	if env.dataID, _, err = o.Int("data_id", true); err != nil {
		return nil
	}
	for _, name := range []string{"access_token", "token"} {
		if s, err := o.String(name, false); err == nil && s != "" {
			env.token = s
			break
		}
	}
	switch data[0] {
	case '[':
		_ = json.Unmarshal(data, &env.events)
	case '{':
		env.events = []json.RawMessage{data}
	default:
		return nil
	}
	return env
}

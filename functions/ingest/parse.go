package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/fault"
)

const formatCloudEvents = "cloudevents"

// split parses a request body into its events. A body that cannot be read at all is an
// error; a batch whose members are partly wrong yields per-item errors.
func split(mediaType string, body []byte) ([]item, error) {
	switch mediaType {
	case "application/cloudevents+json", "application/json", "":
	case "application/cloudevents-batch+json":
	default:
		return nil, fault.New(fault.UnsupportedMedia, "content type %q is not supported: send application/cloudevents+json, application/cloudevents-batch+json or application/json", mediaType)
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, fault.New(fault.Invalid, "empty body: expected a JSON object or array")
	}
	if err := fault.UTF8(body); err != nil {
		return nil, err
	}
	if trimmed[0] == '[' {
		var raws []json.RawMessage
		if err := json.Unmarshal(body, &raws); err != nil {
			return nil, fault.JSON(body, err)
		}
		if len(raws) == 0 {
			return nil, fault.New(fault.Invalid, "empty batch: expected at least one event")
		}
		if len(raws) > maxEvents {
			return nil, fault.New(fault.TooLarge, "batch has %d events; the limit is %d", len(raws), maxEvents)
		}
		items := make([]item, len(raws))
		for i, raw := range raws {
			items[i] = parseOne(raw, "["+strconv.Itoa(i)+"].")
		}
		return items, nil
	}
	if mediaType == "application/cloudevents-batch+json" {
		return nil, fault.At("$", "a CloudEvents batch must be a JSON array")
	}
	it := parseOne(body, "")
	if it.err != nil && it.err.Code == fault.TooLarge {
		return nil, it.err
	}
	return []item{it}, nil
}

func parseOne(raw json.RawMessage, prefix string) item {
	if len(raw) > maxEvent {
		return item{err: fault.New(fault.TooLarge, "%sevent is %d bytes; the limit is %d", prefix, len(raw), maxEvent)}
	}
	if depth(raw, maxDepth) > maxDepth {
		return item{err: fault.New(fault.Invalid, "%sevent nests arrays and objects more than %d levels deep", prefix, maxDepth)}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		if prefix == "" {
			return item{err: asFault(fault.JSON(raw, err))}
		}
		return item{err: fault.At(prefix[:len(prefix)-1], "must be a JSON object")}
	}
	if fields == nil {
		return item{err: fault.At(prefix+"$", "must be a JSON object, not null")}
	}
	if _, ok := fields["specversion"]; !ok {
		return item{err: fault.At(prefix+"specversion", "required attribute is missing: send a CloudEvent (structured mode)")}
	}
	ev, err := cloudevent.FromFields(fields, prefix)
	if err != nil {
		return item{err: asFault(err)}
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return item{err: asFault(fault.JSON(raw, err))}
	}
	return item{raw: compact.Bytes(), format: formatCloudEvents, key: ev.Key()}
}

func asFault(err error) *fault.Error {
	if e, ok := fault.As(err); ok {
		return e
	}
	return fault.New(fault.Invalid, "%s", fmt.Sprint(err))
}

// depth returns how deeply raw nests arrays and objects (the event object is level
// 1), counting no further than limit+1. raw need not be valid JSON.
func depth(raw []byte, limit int) int {
	level, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range raw {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			level++
			if level > deepest {
				deepest = level
				if deepest > limit {
					return deepest
				}
			}
		case c == ']' || c == '}':
			level--
		}
	}
	return deepest
}

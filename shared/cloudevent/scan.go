package cloudevent

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"github.com/eventhub/eventhub/shared/rawjson"
)

// This file is the fast path of Parse. It reads exactly what encoding/json would, and
// for everything else (a syntax error, an escaped member name, nesting deeper than
// encoding/json allows) it declines, so that the encoding/json path produces the same
// result or error.

// The attributes the spec defines, and data, by index.
const (
	attrSpecVersion = iota
	attrID
	attrSource
	attrType
	attrSubject
	attrTime
	attrDataContentType
	attrDataSchema
	attrData
	attrDataBase64
	nAttrs
)

var attrNames = [nAttrs]string{"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema", "data", "data_base64"}

func attrIndex(name string) int {
	switch name {
	case "specversion":
		return attrSpecVersion
	case "id":
		return attrID
	case "source":
		return attrSource
	case "type":
		return attrType
	case "subject":
		return attrSubject
	case "time":
		return attrTime
	case "datacontenttype":
		return attrDataContentType
	case "dataschema":
		return attrDataSchema
	case "data":
		return attrData
	case "data_base64":
		return attrDataBase64
	}
	return -1
}

// members are the top-level members of an event object: the spec's attributes by
// index (nil when absent) and the extensions. As when encoding/json decodes into a
// map, a repeated name keeps its last value.
type members struct {
	attrs [nAttrs]json.RawMessage
	ext   []member
}

type member struct {
	name string
	raw  json.RawMessage
}

func (m *members) set(name []byte, raw json.RawMessage) {
	if i := attrIndex(string(name)); i >= 0 {
		m.attrs[i] = raw
		return
	}
	for k := range m.ext {
		if m.ext[k].name == string(name) {
			m.ext[k].raw = raw
			return
		}
	}
	m.ext = append(m.ext, member{string(name), raw})
}

// scanMembers reads data as one JSON object, as json.Unmarshal into a
// map[string]json.RawMessage would. ok is false for anything it does not read
// exactly as encoding/json does; the values are slices of a copy of data.
func scanMembers(data []byte) (m members, ok bool) {
	if !utf8.Valid(data) {
		return m, false
	}
	data = bytes.Clone(data) // the event keeps slices of it
	fields, ok := rawjson.Object(data)
	if !ok {
		return m, false
	}
	for _, f := range fields {
		m.set(f.Name, f.Value)
	}
	return m, true
}

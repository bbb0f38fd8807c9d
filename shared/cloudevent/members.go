package cloudevent

import "encoding/json"

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
// index (nil when absent) and the extensions. A repeated name keeps its last value.
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

// Package cloudevents reads CloudEvents 1.0 sent over HTTP in structured mode (one JSON
// event) and binary mode (ce-* headers and the data as the body), keeping every
// extension attribute, vendor ones such as Alibaba's aliyun* included.
package cloudevents

import (
	"encoding/base64"
	"encoding/json"
	"mime"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/jsonobject"
)

// Parse reads one event in the structured JSON format.
func Parse(raw []byte) (*cloudevent.Event, error) {
	o, err := jsonobject.Decode(raw)
	if err != nil {
		return nil, err
	}
	return FromObject(o)
}

// FromObject reads a structured event from its decoded members.
func FromObject(o *jsonobject.Object) (*cloudevent.Event, error) {
	if !o.Has("specversion") {
		return nil, fault.At("specversion", "required attribute is missing: send a CloudEvent (structured mode)")
	}
	var buf [32]jsonobject.Member
	return cloudevent.FromMembers(o.AppendMembers(buf[:0]), "")
}

// Binary reads an event in binary mode: header gives the ce-* attributes (header
// names in any case), contentType is the request's Content-Type, which becomes
// datacontenttype, and body is the data. Header values are read as headerValue says.
// JSON bodies (a JSON media type, or valid JSON sent without a Content-Type, which the
// JSON format takes to mean application/json) become JSON data, other text a string,
// and anything else data_base64.
func Binary(header map[string]string, contentType string, body []byte) (*cloudevent.Event, error) {
	fields := map[string]json.RawMessage{}
	names := make([]string, 0, len(header))
	for k := range header {
		names = append(names, k)
	}
	sort.Strings(names) // deterministic choice when a header repeats in another case
	for _, k := range names {
		lk := strings.ToLower(k)
		name, ok := strings.CutPrefix(lk, "ce-")
		if !ok {
			continue
		}
		v, ok := headerValue(header[k])
		if !ok {
			return nil, fault.At("ce-"+name, "header value is not valid percent-encoded UTF-8")
		}
		switch name {
		case "data", "data_base64", "datacontenttype":
			return nil, fault.At("ce-"+name, "not a valid binary-mode header: the data is the body and its type the Content-Type")
		}
		if _, dup := fields[name]; dup {
			return nil, fault.At("ce-"+name, "header appears more than once")
		}
		fields[name] = jsonobject.Quote(v)
	}
	if _, ok := fields["specversion"]; !ok {
		return nil, fault.At("ce-specversion", "required header is missing")
	}
	ct := strings.TrimSpace(contentType)
	if ct != "" {
		fields["datacontenttype"] = jsonobject.Quote(ct)
	}
	if len(body) > 0 {
		data, isBase64, err := binaryData(ct, body)
		if err != nil {
			return nil, err
		}
		if isBase64 {
			fields["data_base64"] = data
		} else {
			fields["data"] = data
		}
	}
	ev, err := cloudevent.FromFields(fields, "")
	if err != nil {
		if e, ok := fault.As(err); ok && e.Path != "" && e.Path != "data" && e.Path != "data_base64" && e.Path != "datacontenttype" {
			c := *e
			c.Path = "ce-" + e.Path
			return nil, &c
		}
		return nil, err
	}
	return ev, nil
}

func binaryData(contentType string, body []byte) (data json.RawMessage, isBase64 bool, err error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "text/json":
		if err := fault.UTF8(body); err != nil {
			return nil, false, err
		}
		c, err := jsonobject.Compact(body) // a name repeated: refused as in structured mode
		if err != nil {
			if e, ok := fault.As(err); ok && e.Path != "" {
				d := *e
				d.Path = "data." + e.Path
				return nil, false, &d
			}
			return nil, false, err
		}
		return c, false, nil
	case mt == "" && jsontext.Value(body).IsValid():
		c, err := jsonobject.Compact(body)
		return c, false, err
	case (strings.HasPrefix(mt, "text/") || mt == "application/xml" || mt == "") && utf8.Valid(body):
		return jsonobject.Quote(string(body)), false, nil
	}
	return jsonobject.Quote(base64.StdEncoding.EncodeToString(body)), true, nil
}

// headerValue reads a ce-* header value as the HTTP binding and the reference SDKs
// write it: an RFC 7230 quoted-string is unquoted (a value that only looks quoted is
// kept), then percent-encoded octets are decoded. A '%' not followed by two hex digits
// is kept as itself, since sdk-go sends values unencoded. ok is false when the result
// is not UTF-8.
func headerValue(v string) (string, bool) {
	if u, ok := unquote(v); ok {
		v = u
	}
	if strings.IndexByte(v, '%') >= 0 {
		b := make([]byte, 0, len(v))
		for i := 0; i < len(v); i++ {
			if v[i] == '%' && i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]) {
				b = append(b, unhex(v[i+1])<<4|unhex(v[i+2]))
				i += 2
				continue
			}
			b = append(b, v[i])
		}
		v = string(b)
	}
	return v, utf8.ValidString(v)
}

// unquote reads an RFC 7230 quoted-string: DQUOTE *( qdtext / quoted-pair ) DQUOTE.
func unquote(v string) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	var b strings.Builder
	for i := 1; i < len(v)-1; i++ {
		switch c := v[i]; {
		case c == '\\':
			if i+1 >= len(v)-1 {
				return "", false
			}
			i++
			b.WriteByte(v[i])
		case c == '"':
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

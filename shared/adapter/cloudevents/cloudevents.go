// Package cloudevents reads CloudEvents 1.0 sent over HTTP in structured mode (one JSON
// event) and binary mode (ce-* headers and the data as the body), keeping every
// extension attribute, vendor ones such as Alibaba's aliyun* included.
package cloudevents

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/eventhub/eventhub/shared/adapter/member"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/rawjson"
)

// Parse reads one event in the structured JSON format.
func Parse(raw []byte) (*cloudevent.Event, error) {
	o, err := member.Decode(raw)
	if err != nil {
		return nil, err
	}
	return FromObject(o)
}

// FromObject reads a structured event from its decoded members.
func FromObject(o *member.Object) (*cloudevent.Event, error) {
	if !o.Has("specversion") {
		return nil, fault.At("specversion", "required attribute is missing: send a CloudEvent (structured mode)")
	}
	var buf [32]rawjson.Member
	return cloudevent.FromMembers(o.AppendMembers(buf[:0]), "")
}

// Binary reads an event in binary mode: header gives the ce-* attributes (header
// names in any case), contentType is the request's Content-Type, which becomes
// datacontenttype, and body is the data. Header values are percent-decoded as the
// HTTP binding requires. JSON bodies become JSON data, other text a string, and
// anything else data_base64.
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
		v, err := url.PathUnescape(header[k])
		if err != nil || !utf8.ValidString(v) {
			return nil, fault.At("ce-"+name, "header value is not valid percent-encoded UTF-8")
		}
		switch name {
		case "data", "data_base64", "datacontenttype":
			return nil, fault.At("ce-"+name, "not a valid binary-mode header: the data is the body and its type the Content-Type")
		}
		if _, dup := fields[name]; dup {
			return nil, fault.At("ce-"+name, "header appears more than once")
		}
		fields[name] = member.Quote(v)
	}
	if _, ok := fields["specversion"]; !ok {
		return nil, fault.At("ce-specversion", "required header is missing")
	}
	ct := strings.TrimSpace(contentType)
	if ct != "" {
		fields["datacontenttype"] = member.Quote(ct)
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
		if !json.Valid(body) {
			return nil, false, fault.JSON(body, json.Unmarshal(body, new(any)))
		}
		var b bytes.Buffer
		_ = json.Compact(&b, body)
		return b.Bytes(), false, nil
	case (strings.HasPrefix(mt, "text/") || mt == "application/xml" || mt == "") && utf8.Valid(body):
		return member.Quote(string(body)), false, nil
	}
	return member.Quote(base64.StdEncoding.EncodeToString(body)), true, nil
}

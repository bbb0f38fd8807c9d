package main

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
)

// The iuap delivery mode speaks the listener contract of the yonyou iuap event center
// (seed 003): a form POST of sourceID, eventType, tenantCode and userObject, which the
// listener acknowledges by answering {"success":"true"}.
//
// The fields come from the stored CloudEvent, first match wins:
//
//	sourceID    data.sourceID, subject, source
//	eventType   data.eventType, type
//	tenantCode  data.tenantCode, ""
//	userObject  data.userObject, the whole data, ""
//
// An iuap event's data is the form its node signed. Extension attributes are never
// read: a producer's extension cannot steer what a listener is told, nor override the
// subscription's headers (headers). A string value is sent as it is; any other JSON
// value as its compact JSON text.

const iuapContentType = "application/x-www-form-urlencoded; charset=UTF-8"

type iuapForm struct {
	SourceID, EventType, TenantCode, UserObject string
}

func iuapFields(event []byte) iuapForm {
	var ce map[string]json.RawMessage
	_ = json.Unmarshal(event, &ce) // stored events are valid CloudEvents
	var data map[string]json.RawMessage
	if raw, ok := ce["data"]; ok {
		_ = json.Unmarshal(raw, &data) // data need not be an object
	}
	pick := func(candidates ...json.RawMessage) string {
		for _, c := range candidates {
			if len(c) > 0 && string(c) != "null" {
				return text(c)
			}
		}
		return ""
	}
	return iuapForm{
		SourceID:   pick(data["sourceID"], ce["subject"], ce["source"]),
		EventType:  pick(data["eventType"], ce["type"]),
		TenantCode: pick(data["tenantCode"]),
		UserObject: pick(data["userObject"], ce["data"]),
	}
}

// text is a JSON value as a form value: a string's contents, or compact JSON.
func text(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

func (f iuapForm) encode() []byte {
	v := url.Values{}
	v.Set("sourceID", f.SourceID)
	v.Set("eventType", f.EventType)
	v.Set("tenantCode", f.TenantCode)
	v.Set("userObject", f.UserObject)
	return []byte(v.Encode())
}

// headers returns the subscription's headers with the form fields added as headers
// too, where they fit in one (printable ASCII): the iuap sample listener reads them
// with getHeader. The form body is the authoritative copy. A header the subscription
// sets, in any case, is the subscription's: the event's fields never replace it.
func (f iuapForm) headers(own map[string]string) map[string]string {
	out := make(map[string]string, len(own)+4)
	set := make(map[string]bool, len(own))
	for k, v := range own {
		out[k] = v
		set[strings.ToLower(k)] = true
	}
	for _, h := range []struct {
		name, value string
		max         int
	}{
		{"sourceID", f.SourceID, 256},
		{"eventType", f.EventType, 256},
		{"tenantCode", f.TenantCode, 256},
		{"userObject", f.UserObject, 4096},
	} {
		if h.value != "" && len(h.value) <= h.max && printableASCII(h.value) && !set[strings.ToLower(h.name)] {
			out[h.name] = h.value
		}
	}
	return out
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// iuapAck accepts {"success":"true"}, also nested as {"data":{"success":"true"}} (the
// seed documents both) and with a JSON true; anything else asks for the event again.
func iuapAck(body []byte) string {
	var ans struct {
		Success json.RawMessage `json:"success"`
		Data    *struct {
			Success json.RawMessage `json:"success"`
		} `json:"data"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(body), &ans); err != nil {
		return `the listener did not acknowledge: want {"success":"true"}`
	}
	success := ans.Success
	if success == nil && ans.Data != nil {
		success = ans.Data.Success
	}
	switch strings.ToLower(text(success)) {
	case "true":
		return ""
	case "":
		return `the listener did not acknowledge: want {"success":"true"}`
	}
	return `the listener answered success ` + text(success) + `: it wants the event again`
}

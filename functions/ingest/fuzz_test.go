package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/eventhub/eventhub/shared/fault"
)

// FuzzIngest sends arbitrary bodies under each content type and format to the
// handler: whatever the body, the answer is JSON and never a 5xx (the bus and the
// sources do not fail here, so a 5xx could only be a caller's input mishandled).
func FuzzIngest(f *testing.F) {
	f.Add(0, 0, []byte(ce("a")))
	f.Add(1, 1, []byte(`[`+ce("a")+`,{"operation":"x","create_time":1,"id":2}]`))
	f.Add(2, 3, []byte(`{"data_id":1500001,"access_token":"ehp_test","data":[{"alert_name":"a"}]}`))
	f.Add(3, 6, []byte(`{"notification_type":"ResourceChanged","domain_id":"d","detail":{}}`))
	f.Add(0, 5, []byte(`{"sourceID":"USER","eventType":"ADD"}`))
	cts := []string{"application/json", "application/cloudevents+json", "application/cloudevents-batch+json", "", "text/plain"}
	formats := []string{"", "auto", "cloudevents", "juno", "bkmonitor", "iuap", "huaweiconfig", "generic"}
	f.Fuzz(func(t *testing.T, ct, format int, body []byte) {
		if ct < 0 || format < 0 {
			return
		}
		req := post(cts[ct%len(cts)], string(body))
		if fm := formats[format%len(formats)]; fm != "" {
			req.QueryStringParameters = map[string]string{"format": fm}
		}
		req.IsBase64Encoded = false
		resp, err := newTestHandler(&fakeBus{}).handle(context.Background(), req)
		if err != nil {
			t.Fatalf("handle = %v", err)
		}
		if resp.StatusCode >= 500 {
			t.Fatalf("status %d for %q: %s", resp.StatusCode, body, resp.Body)
		}
		if !json.Valid([]byte(resp.Body)) {
			t.Fatalf("answer is not JSON: %s", resp.Body)
		}
	})
}

// FuzzReadBody holds ingest's one reading of a body to encoding/json: it takes what
// encoding/json takes (within the depth limit and valid UTF-8), splits an array into
// the elements encoding/json finds, and locates what it refuses within the body.
func FuzzReadBody(f *testing.F) {
	f.Add([]byte(ce("a")))
	f.Add([]byte(`[` + ce("a") + ` , {"x":[1,{"y":2}]}, 3, "s" ]`))
	f.Add([]byte(`{"data_id":"1500001","access_token":"ehp_test","data":[{"alert_name":"a"}, [1], 2]}`))
	f.Add([]byte(`{"data_id":1,"token":"t","data":{"a":{"b":[]}}}`))
	f.Add([]byte("{\"a\":\"\xff\"}"))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		d := readBody(body)
		valid := json.Valid(body) && utf8.Valid(body) && depthOf(body) <= maxDepth
		// json/v2 also refuses escapes of lone surrogates, which encoding/json takes.
		if e, ok := fault.As(d.err); ok && valid && strings.Contains(e.Message, "surrogate") {
			return
		}
		if (d.err == nil) != valid {
			t.Fatalf("readBody(%q) error = %v; encoding/json valid = %v", body, d.err, valid)
		}
		if d.err != nil {
			e, ok := fault.As(d.err)
			if !ok || e.Offset > len(body) || e.Line < 1 || e.Column < 1 {
				t.Fatalf("readBody(%q) error %#v is not located in the body", body, d.err)
			}
			return
		}
		if d.array {
			var want []json.RawMessage
			if err := json.Unmarshal(body, &want); err != nil {
				t.Fatalf("encoding/json reads no array in %q: %v", body, err)
			}
			if len(want) != len(d.elements) {
				t.Fatalf("readBody(%q) = %d elements; encoding/json %d", body, len(d.elements), len(want))
			}
			for i := range want {
				if string(compact(want[i])) != string(compact(d.elements[i])) {
					t.Fatalf("element %d = %s; encoding/json %s", i, d.elements[i], want[i])
				}
			}
		}
		if d.env != nil {
			var o map[string]json.RawMessage
			if err := json.Unmarshal(body, &o); err != nil || o["data"] == nil {
				t.Fatalf("readBody(%q) finds an envelope in what is no object with data", body)
			}
			for _, ev := range d.env.events {
				if !json.Valid(ev) {
					t.Fatalf("envelope event %q is not JSON", ev)
				}
			}
		}
	})
}

// depthOf is the deepest nesting of arrays and objects in a JSON text.
func depthOf(body []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

package main

import (
	"context"
	"encoding/json"
	"testing"
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

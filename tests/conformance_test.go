package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	cesdk "github.com/cloudevents/sdk-go/v2"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/eventhub/eventhub/shared/cloudevent"
)

// readBack waits for the event (source, id) and returns the stored CloudEvent.
func readBack(t *testing.T, source, id string) *cloudevent.Event {
	t.Helper()
	key := (&cloudevent.Event{Source: source, ID: id}).Key()
	stored := waitStored(t, key)
	ev, err := cloudevent.Parse(stored.Event)
	if err != nil {
		t.Fatalf("stored event %s: %v", stored.Event, err)
	}
	return ev
}

func extString(ev *cloudevent.Event, name string) string {
	var s string
	_ = json.Unmarshal(ev.Extensions[name], &s)
	return s
}

// TestConformanceReadBack posts the requests the CloudEvents conformance suite sends
// for 1.0 (features/http-protocol-binding.feature, yaml/v1.yaml,
// yaml/v1.0/v1_minimum.yaml), in structured and binary mode, and reads every event
// back from the store: attributes, extensions and data intact.
func TestConformanceReadBack(t *testing.T) {
	needStack(t)
	src := register(t, `{"name":"conformance","format":"cloudevents","owns":{"prefixes":["/mycontext/","//github.com/cloudevents/"]}}`)
	run := fmt.Sprint(time.Now().UnixNano())
	type conf struct {
		name, source, id string
		header           map[string]string
		body             string
		ext              map[string]string
		data             string // JSON
		contentType      string // the stored datacontenttype
	}
	bin := func(id, contentType string, ext map[string]string) map[string]string {
		h := map[string]string{"ce-specversion": "1.0", "ce-type": "com.example.someevent", "ce-time": "2018-04-05T03:56:24Z",
			"ce-id": id, "ce-source": "/mycontext/subcontext"}
		if contentType != "" {
			h["Content-Type"] = contentType
		}
		for k, v := range ext {
			h["ce-"+k] = v
		}
		return h
	}
	structured := func(id, data string, ext string) string {
		return `{"specversion":"1.0","type":"com.example.someevent","time":"2018-04-05T03:56:24Z","id":"` + id +
			`","source":"/mycontext/subcontext","datacontenttype":"application/json"` + ext + `,"data":` + data + `}`
	}
	minimum := func(id, contentType string) map[string]string {
		return map[string]string{"ce-specversion": "1.0", "ce-type": "io.cloudevents.minimum", "ce-id": id,
			"ce-source": "//github.com/cloudevents/cloudeventsconformance/yaml/v1.yaml", "Content-Type": contentType}
	}
	const msrc, csrc = "/mycontext/subcontext", "//github.com/cloudevents/cloudeventsconformance/yaml/v1.yaml"
	cases := []conf{
		{name: "binary json", source: msrc, id: "b1-" + run, header: bin("b1-"+run, "application/json", nil),
			body: "{\n    \"message\": \"Hello World!\"\n}\n", data: `{"message":"Hello World!"}`, contentType: "application/json"},
		{name: "binary json charset", source: msrc, id: "b2-" + run, header: bin("b2-"+run, "application/json; charset=utf-8", nil),
			body: "{\n    \"message\": \"Hello World!\"\n}\n", data: `{"message":"Hello World!"}`, contentType: "application/json; charset=utf-8"},
		{name: "structured", source: msrc, id: "s1-" + run, header: map[string]string{"Content-Type": "application/cloudevents+json"},
			body: structured("s1-"+run, `{"message":"Hello World!"}`, ""), data: `{"message":"Hello World!"}`, contentType: "application/json"},
		{name: "structured charset", source: msrc, id: "s2-" + run, header: map[string]string{"Content-Type": "application/cloudevents+json; charset=utf-8"},
			body: structured("s2-"+run, `{"message":"Hello World!"}`, ""), data: `{"message":"Hello World!"}`, contentType: "application/json"},
		{name: "binary extensions without content type", source: msrc, id: "b3-" + run,
			header: bin("b3-"+run, "", map[string]string{"comexampleextension1": "value", "comexampleextension2": `{"othervalue": 5}`}),
			body:   "{\"world\":\"hello\"}\n", ext: map[string]string{"comexampleextension1": "value", "comexampleextension2": `{"othervalue": 5}`},
			data: `{"world":"hello"}`},
		{name: "structured extensions", source: msrc, id: "s3-" + run, header: map[string]string{"Content-Type": "application/cloudevents+json; charset=UTF-8"},
			body: structured("s3-"+run, `{"world":"hello"}`, `,"comexampleextension1":"value","comexampleextension2":"{\"othervalue\": 5}\n"`),
			ext:  map[string]string{"comexampleextension1": "value", "comexampleextension2": "{\"othervalue\": 5}\n"}, data: `{"world":"hello"}`, contentType: "application/json"},
		{name: "minimum text us-ascii", source: csrc, id: "m1-" + run, header: minimum("m1-"+run, "text/plain; charset=us-ascii"),
			body: "Hello, World!\n", data: `"Hello, World!\n"`, contentType: "text/plain; charset=us-ascii"},
		{name: "minimum text utf-8", source: csrc, id: "m2-" + run, header: minimum("m2-"+run, "text/plain; charset=utf-8"),
			body: "Hello, 🌎!\n", data: `"Hello, 🌎!\n"`, contentType: "text/plain; charset=utf-8"},
		{name: "minimum json string", source: csrc, id: "m3-" + run, header: minimum("m3-"+run, "application/json; charset=utf-8"),
			body: "\"Hello, 🌎!\"\n", data: `"Hello, 🌎!"`, contentType: "application/json; charset=utf-8"},
		{name: "minimum json object", source: csrc, id: "m4-" + run, header: minimum("m4-"+run, "application/json; charset=utf-8"),
			body: "{\"msg\":\"Hello, 🌎!\"}\n", data: `{"msg":"Hello, 🌎!"}`, contentType: "application/json; charset=utf-8"},
		{name: "minimum json array", source: csrc, id: "m5-" + run, header: minimum("m5-"+run, "application/json; charset=utf-8"),
			body: "[\"Hello\",\"🌎!\"]\n", data: `["Hello","🌎!"]`, contentType: "application/json; charset=utf-8"},
		{name: "minimum xml", source: csrc, id: "m6-" + run, header: minimum("m6-"+run, "application/xml; charset=utf-8"),
			body: "<msg>Hello, 🌎!</msg>\n", data: `"<msg>Hello, 🌎!</msg>\n"`, contentType: "application/xml; charset=utf-8"},
		{name: "quoted and percent-encoded headers", source: msrc, id: "b4-" + run,
			header: bin("b4-"+run, "application/json", map[string]string{"subject": `"order \"42\""`, "comexampleextension1": "Hello%2C%20%F0%9F%8C%8E%21", "comexampleextension2": "100% sure"}),
			body:   `{}`, ext: map[string]string{"comexampleextension1": "Hello, 🌎!", "comexampleextension2": "100% sure"}, data: `{}`, contentType: "application/json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			header := map[string]string{"Authorization": "Bearer " + src.Token}
			for k, v := range tc.header {
				header[k] = v
			}
			if status, raw := request(t, http.MethodPost, "/events", header, []byte(tc.body)); status != http.StatusAccepted {
				t.Fatalf("POST = %d %s; want 202", status, raw)
			}
			ev := readBack(t, tc.source, tc.id)
			if ev.SpecVersion != "1.0" || ev.Source != tc.source || ev.ID != tc.id || ev.DataContentType != tc.contentType {
				t.Errorf("stored %+v; want source %s, id %s, datacontenttype %q", ev, tc.source, tc.id, tc.contentType)
			}
			if !sameJSON(ev.Data, []byte(tc.data)) {
				t.Errorf("data = %s; want %s", ev.Data, tc.data)
			}
			for k, want := range tc.ext {
				if got := extString(ev, k); got != want {
					t.Errorf("extension %s = %q; want %q", k, got, want)
				}
			}
			if strings.HasPrefix(tc.name, "quoted") && ev.Subject != `order "42"` {
				t.Errorf("subject = %q; want the quoted-string unquoted", ev.Subject)
			}
		})
	}
}

// TestSDKGoProducer sends events with the reference Go SDK (sdk-go v2) in structured,
// binary and batch mode, one with a '%' in an extension, which sdk-go sends
// unencoded, and reads each back from the store.
func TestSDKGoProducer(t *testing.T) {
	needStack(t)
	src := register(t, `{"name":"sdk-go","format":"cloudevents","owns":{"prefixes":["/sdk-go/"]}}`)
	run := fmt.Sprint(time.Now().UnixNano())
	newEvent := func(id string) cesdk.Event {
		e := cesdk.NewEvent()
		e.SetID(id)
		e.SetSource("/sdk-go/producer")
		e.SetType("com.example.sdkgo")
		e.SetTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
		e.SetExtension("discount", "50% off")
		e.SetExtension("region", "cn-hangzhou")
		if err := e.SetData(cesdk.ApplicationJSON, map[string]any{"orderId": id, "total": 3}); err != nil {
			t.Fatal(err)
		}
		return e
	}
	target := local.APIURL + "/events"
	client, err := cesdk.NewClientHTTP(cesdk.WithTarget(target), cehttp.WithHeader("Authorization", "Bearer "+src.Token))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, mode := range []string{"structured", "binary"} {
		id := mode + "-" + run
		ctx := cesdk.WithEncodingBinary(context.Background())
		if mode == "structured" {
			ctx = cesdk.WithEncodingStructured(context.Background())
		}
		if res := client.Send(ctx, newEvent(id)); !cesdk.IsACK(res) {
			t.Errorf("%s: Send = %v", mode, res)
		}
		ids[mode] = id
	}
	batch := []cesdk.Event{newEvent("batch-0-" + run), newEvent("batch-1-" + run)}
	req, err := cehttp.NewHTTPRequestFromEvents(context.Background(), target, batch)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+src.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("batch: POST = %d; want 202", resp.StatusCode)
	}
	ids["batch 0"], ids["batch 1"] = "batch-0-"+run, "batch-1-"+run
	for mode, id := range ids {
		ev := readBack(t, "/sdk-go/producer", id)
		if got := extString(ev, "discount"); got != "50% off" {
			t.Errorf("%s: discount = %q; want %q", mode, got, "50% off")
		}
		if got := extString(ev, "region"); got != "cn-hangzhou" {
			t.Errorf("%s: region = %q", mode, got)
		}
		if !sameJSON(ev.Data, []byte(fmt.Sprintf(`{"orderId":%q,"total":3}`, id))) || ev.Type != "com.example.sdkgo" {
			t.Errorf("%s: stored %+v", mode, ev)
		}
	}
}

package cloudevents_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/eventhub/eventhub/shared/adapter/cloudevents"
	"github.com/eventhub/eventhub/shared/cloudevent"
)

// Conformance holds requests covering what the CloudEvents conformance suite
// (github.com/cloudevents/conformance: features/http-protocol-binding.feature,
// yaml/v1.yaml, yaml/v1.0/v1_minimum.yaml) checks for 1.0 over HTTP, in the same
// shapes its sender writes them, plus the header encodings clients use.
type conformanceCase struct {
	name   string
	header map[string]string
	body   string
	// want, checked beside sdk-go's own reading of the request.
	wantExt  map[string]string
	wantData string // the JSON data, or the string data as a JSON string
}

var ceAttrs = map[string]string{
	"ce-specversion": "1.0",
	"ce-type":        "com.example.someevent",
	"ce-time":        "2018-04-05T03:56:24Z",
	"ce-id":          "1234-1234-1234",
	"ce-source":      "/mycontext/subcontext",
}

func binaryHeader(extra map[string]string) map[string]string {
	h := map[string]string{}
	for k, v := range ceAttrs {
		h[k] = v
	}
	for k, v := range extra {
		if v == "" {
			delete(h, k)
			continue
		}
		h[k] = v
	}
	return h
}

const structured = `{
    "specversion": "1.0",
    "type": "com.example.someevent",
    "time": "2018-04-05T03:56:24Z",
    "id": "1234-1234-1234",
    "source": "/mycontext/subcontext",
    "datacontenttype": "application/json",
    "data": {
        "message": "Hello World!"
    }
}`

var conformance = []conformanceCase{
	// features/http-protocol-binding.feature
	{name: "binary application/json", header: binaryHeader(map[string]string{"Content-Type": "application/json"}),
		body: "{\n    \"message\": \"Hello World!\"\n}\n", wantData: `{"message":"Hello World!"}`},
	{name: "binary application/json charset", header: binaryHeader(map[string]string{"Content-Type": "application/json; charset=utf-8"}),
		body: "{\n    \"message\": \"Hello World!\"\n}\n", wantData: `{"message":"Hello World!"}`},
	{name: "structured", header: map[string]string{"Content-Type": "application/cloudevents+json"},
		body: structured, wantData: `{"message":"Hello World!"}`},
	{name: "structured charset", header: map[string]string{"Content-Type": "application/cloudevents+json; charset=utf-8"},
		body: structured, wantData: `{"message":"Hello World!"}`},
	// yaml/v1.yaml: extensions, one of them JSON text sent unencoded, and a binary
	// body without a Content-Type.
	{name: "binary extensions no content type",
		header:  binaryHeader(map[string]string{"ce-id": "4321-4321-4321", "ce-comexampleextension1": "value", "ce-comexampleextension2": `{"othervalue": 5}`, "User-Agent": "foo"}),
		body:    "{\"world\":\"hello\"}\n",
		wantExt: map[string]string{"comexampleextension1": "value", "comexampleextension2": `{"othervalue": 5}`}, wantData: `{"world":"hello"}`},
	{name: "structured extensions",
		header:  map[string]string{"Content-Type": "application/cloudevents+json; charset=UTF-8", "User-Agent": "foo"},
		body:    `{"comexampleextension1":"value","comexampleextension2":"{\"othervalue\": 5}\n","data":{"world":"hello"},"id":"4321-4321-4321","source":"/mycontext/subcontext","specversion":"1.0","time":"2018-04-05T03:56:24Z","type":"com.example.someevent"}`,
		wantExt: map[string]string{"comexampleextension1": "value", "comexampleextension2": "{\"othervalue\": 5}\n"}, wantData: `{"world":"hello"}`},
	// yaml/v1.0/v1_minimum.yaml: the minimum event with each kind of data.
	{name: "minimum text us-ascii", header: minimum("conformance-0001", "text/plain; charset=us-ascii"),
		body: "Hello, World!\n", wantData: `"Hello, World!\n"`},
	{name: "minimum text utf-8", header: minimum("conformance-0002", "text/plain; charset=utf-8"),
		body: "Hello, 🌎!\n", wantData: `"Hello, 🌎!\n"`},
	{name: "minimum json string", header: minimum("conformance-0003", "application/json; charset=utf-8"),
		body: "\"Hello, 🌎!\"\n", wantData: `"Hello, 🌎!"`},
	{name: "minimum json object", header: minimum("conformance-0004", "application/json; charset=utf-8"),
		body: "{\"msg\":\"Hello, 🌎!\"}\n", wantData: `{"msg":"Hello, 🌎!"}`},
	{name: "minimum json array", header: minimum("conformance-0005", "application/json; charset=utf-8"),
		body: "[\"Hello\",\"🌎!\"]\n", wantData: `["Hello","🌎!"]`},
	{name: "minimum xml", header: minimum("conformance-0006", "application/xml; charset=utf-8"),
		body: "<msg>Hello, 🌎!</msg>\n", wantData: `"<msg>Hello, 🌎!</msg>\n"`},
	// The HTTP binding's header encoding as clients write it.
	{name: "quoted header values", header: binaryHeader(map[string]string{"Content-Type": "application/json", "ce-subject": `"order \"42\""`, "ce-comexampleextension1": `"value"`}),
		body: `{}`, wantExt: map[string]string{"comexampleextension1": "value"}, wantData: `{}`},
	{name: "percent-encoded", header: binaryHeader(map[string]string{"Content-Type": "application/json", "ce-comexampleextension1": "Hello%2C%20%F0%9F%8C%8E%21%25"}),
		body: `{}`, wantExt: map[string]string{"comexampleextension1": "Hello, 🌎!%"}, wantData: `{}`},
	{name: "unencoded percent (sdk-go)", header: binaryHeader(map[string]string{"Content-Type": "application/json", "ce-comexampleextension1": "100% sure"}),
		body: `{}`, wantExt: map[string]string{"comexampleextension1": "100% sure"}, wantData: `{}`},
	{name: "+json media type", header: binaryHeader(map[string]string{"Content-Type": "application/vnd.example+json"}),
		body: `{"a": [1, 2]}`, wantData: `{"a":[1,2]}`},
}

func minimum(id, contentType string) map[string]string {
	return map[string]string{"ce-specversion": "1.0", "ce-type": "io.cloudevents.minimum", "ce-id": id,
		"ce-source": "//github.com/cloudevents/cloudeventsconformance/yaml/v1.yaml", "Content-Type": contentType}
}

// read parses a request the way ingest does: structured mode for a CloudEvents media
// type, binary mode otherwise; API Gateway hands header names in lower case.
func read(header map[string]string, body string) (*cloudevent.Event, error) {
	lower := map[string]string{}
	for k, v := range header {
		lower[strings.ToLower(k)] = v
	}
	ct := lower["content-type"]
	if strings.HasPrefix(ct, "application/cloudevents") {
		return cloudevents.Parse([]byte(body))
	}
	return cloudevents.Binary(lower, ct, []byte(body))
}

// TestConformance reads each case and compares the result with what is expected and
// with sdk-go's reading of the same request.
func TestConformance(t *testing.T) {
	for _, tc := range conformance {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := read(tc.header, tc.body)
			if err != nil {
				t.Fatalf("read = %v", err)
			}
			if !jsonEqual(ev.Data, []byte(tc.wantData)) {
				t.Errorf("data = %s; want %s", ev.Data, tc.wantData)
			}
			if tc.name == "quoted header values" && ev.Subject != `order "42"` {
				t.Errorf("subject = %q; want the quoted-string unquoted", ev.Subject)
			}
			for k, want := range tc.wantExt {
				var got string
				if err := json.Unmarshal(ev.Extensions[k], &got); err != nil || got != want {
					t.Errorf("extension %s = %s; want %q", k, ev.Extensions[k], want)
				}
			}

			req := httptest.NewRequest(http.MethodPost, "/events", strings.NewReader(tc.body))
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			ref, err := cehttp.NewEventFromHTTPRequest(req)
			if err != nil {
				t.Fatalf("sdk-go reads the request: %v", err)
			}
			if ev.ID != ref.ID() || ev.Source != ref.Source() || ev.Type != ref.Type() || ev.SpecVersion != ref.SpecVersion() || ev.DataContentType != ref.DataContentType() {
				t.Errorf("attributes = %s %s %s %s %q; sdk-go reads %s %s %s %s %q", ev.ID, ev.Source, ev.Type, ev.SpecVersion, ev.DataContentType,
					ref.ID(), ref.Source(), ref.Type(), ref.SpecVersion(), ref.DataContentType())
			}
			if ev.Time != "" || !ref.Time().IsZero() {
				if got, err := time.Parse(time.RFC3339Nano, ev.Time); err != nil || !got.Equal(ref.Time()) {
					t.Errorf("time = %q; sdk-go reads %v", ev.Time, ref.Time())
				}
			}
			for k := range tc.wantExt {
				// sdk-go keeps header values as sent; where they are encoded or quoted,
				// only the decoded form is ours to check.
				if strings.ContainsAny(tc.header["ce-"+k], `%"`) {
					continue
				}
				var got string
				_ = json.Unmarshal(ev.Extensions[k], &got)
				if want, _ := ref.Extensions()[k].(string); got != want {
					t.Errorf("extension %s = %q; sdk-go reads %q", k, got, want)
				}
			}
			refData := ref.Data()
			if !jsonEqual(ev.Data, refData) {
				var s string
				if json.Unmarshal(ev.Data, &s) != nil || s != string(refData) {
					t.Errorf("data = %s; sdk-go reads %q", ev.Data, refData)
				}
			}
		})
	}
}

func jsonEqual(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(va, vb)
}

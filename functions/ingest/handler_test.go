package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/eventhub/eventhub/shared/apigw"
	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/ownership"
	"github.com/eventhub/eventhub/shared/sourcemap"
	"github.com/eventhub/eventhub/shared/store"
	"github.com/eventhub/eventhub/shared/trace"
)

// sourceFunc is a sourceLookup made of a function.
type sourceFunc func(ctx context.Context, token string) (*store.Source, error)

func (f sourceFunc) Source(ctx context.Context, token string) (*store.Source, error) {
	return f(ctx, token)
}

// knownSources answers like the store: a token it does not know is store.ErrNotFound,
// wrapped as the store wraps it.
func knownSources(byToken map[string]*store.Source) sourceFunc {
	return func(_ context.Context, token string) (*store.Source, error) {
		if src, ok := byToken[token]; ok {
			return src, nil
		}
		return nil, fmt.Errorf("token: %w", store.ErrNotFound)
	}
}

// fakeBus records the entries the handler publishes, and their details; with err set
// it publishes nothing.
type fakeBus struct {
	err     error
	calls   int
	entries []bus.Entry
	events  []bus.ReceivedDetail
	traces  []string // the trace header of each call's context
}

func (b *fakeBus) Publish(ctx context.Context, entries ...bus.Entry) error {
	b.calls++
	b.traces = append(b.traces, trace.Header(ctx))
	if b.err != nil {
		return b.err
	}
	for _, e := range entries {
		b.entries = append(b.entries, e)
		b.events = append(b.events, e.Detail.(bus.ReceivedDetail))
	}
	return nil
}

const token = "ehp_test"

var now = time.Date(2026, 3, 14, 15, 9, 26, 535000000, time.FixedZone("CET", 3600))

var testSources = map[string]*store.Source{
	token:          {ID: "src_1", Name: "mse", Format: "cloudevents", Enabled: true, Owns: &ownership.Set{Exact: []string{"/test", "/s", "acs.mse"}}},
	"ehp_disabled": {ID: "src_off", Name: "old", Format: "cloudevents", Enabled: false, Owns: &ownership.Set{}},
}

func newTestHandler(pub *fakeBus) *handler {
	return &handler{
		sources:  knownSources(testSources),
		mappings: sourcemap.New(nil),
		pub:      pub,
		now:      func() time.Time { return now },
		newID:    func() string { return "0001" },
		log:      slog.New(slog.DiscardHandler),
	}
}

func post(contentType, body string) apigw.Request {
	return apigw.Request{
		RouteKey: "POST /events",
		RawPath:  "/events",
		Headers: map[string]string{
			"authorization": "Bearer " + token,
			"content-type":  contentType,
		},
		Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:  "POST /events",
			RequestID: "req-1",
			HTTP:      events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: http.MethodPost, Path: "/events"},
		},
	}
}

// ce returns a minimal valid structured CloudEvent with the id.
func ce(id string) string {
	return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/test","type":"test.created"}`, id)
}

// reply is the wire form of every answer of POST /events: the batch summary or an error.
type reply struct {
	Accepted int      `json:"accepted"`
	Rejected int      `json:"rejected"`
	IDs      []string `json:"ids"`
	Results  []struct {
		ID    string       `json:"id"`
		Error *fault.Error `json:"error"`
	} `json:"results"`
	Error *fault.Error `json:"error"`
}

func decodeReply(t *testing.T, resp apigw.Response) reply {
	t.Helper()
	var r reply
	if err := json.Unmarshal([]byte(resp.Body), &r); err != nil {
		t.Fatalf("response body %q is not JSON: %v", resp.Body, err)
	}
	if got := resp.Headers["content-type"]; got != "application/json" {
		t.Errorf("content-type = %q; want application/json", got)
	}
	return r
}

func TestIngestAccepts(t *testing.T) {
	mse := `{"specversion":"1.0","id":"170d56b6-9efe-420b-affb-16ab9adb****","source":"acs.mse","type":"mse:Agent:OutlierEjection","aliyunregionid":"cn-hangzhou","data":{"timestamp":1608518536265}}`
	tests := []struct {
		name        string
		contentType string
		body        string
		base64      bool
		wantIDs     []string
	}{
		{
			name:        "cloudevents+json",
			contentType: "application/cloudevents+json",
			body:        mse,
			wantIDs:     []string{cloudevent.Key("acs.mse", "170d56b6-9efe-420b-affb-16ab9adb****")},
		},
		{
			name:        "cloudevents+json with charset",
			contentType: "application/cloudevents+json; charset=utf-8",
			body:        ce("a"),
			wantIDs:     []string{cloudevent.Key("/test", "a")},
		},
		{
			name:        "application/json",
			contentType: "application/json",
			body:        ce("a"),
			wantIDs:     []string{cloudevent.Key("/test", "a")},
		},
		{
			name:        "no content type",
			contentType: "",
			body:        ce("a"),
			wantIDs:     []string{cloudevent.Key("/test", "a")},
		},
		{
			name:        "base64 body as API Gateway sends cloudevents+json",
			contentType: "application/cloudevents+json",
			body:        mse,
			base64:      true,
			wantIDs:     []string{cloudevent.Key("acs.mse", "170d56b6-9efe-420b-affb-16ab9adb****")},
		},
		{
			name:        "pretty-printed event",
			contentType: "application/cloudevents+json",
			body:        "{\n  \"specversion\": \"1.0\",\n  \"id\": \"a\",\n  \"source\": \"/test\",\n  \"type\": \"t\"\n}\n",
			wantIDs:     []string{cloudevent.Key("/test", "a")},
		},
		{
			name:        "JSON array batch",
			contentType: "application/json",
			body:        "[" + ce("a") + "," + ce("b") + "]",
			wantIDs:     []string{cloudevent.Key("/test", "a"), cloudevent.Key("/test", "b")},
		},
		{
			name:        "cloudevents-batch+json",
			contentType: "application/cloudevents-batch+json",
			body:        "[" + ce("a") + "," + ce("b") + "," + ce("c") + "]",
			wantIDs:     []string{cloudevent.Key("/test", "a"), cloudevent.Key("/test", "b"), cloudevent.Key("/test", "c")},
		},
		{
			name:        "base64 cloudevents-batch+json",
			contentType: "application/cloudevents-batch+json",
			body:        "[" + ce("a") + "]",
			base64:      true,
			wantIDs:     []string{cloudevent.Key("/test", "a")},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pub := &fakeBus{}
			req := post(tc.contentType, tc.body)
			if tc.base64 {
				req.Body, req.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(tc.body)), true
			}
			resp, err := newTestHandler(pub).handle(context.Background(), req)
			if err != nil {
				t.Fatalf("handle = %v; want no error (errors are responses)", err)
			}
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("status = %d; want 202 (body %s)", resp.StatusCode, resp.Body)
			}
			r := decodeReply(t, resp)
			if got, want := strings.Join(r.IDs, ","), strings.Join(tc.wantIDs, ","); got != want {
				t.Errorf("ids = %s; want %s", got, want)
			}
			if r.Accepted != len(tc.wantIDs) || r.Rejected != 0 {
				t.Errorf("accepted, rejected = %d, %d; want %d, 0", r.Accepted, r.Rejected, len(tc.wantIDs))
			}
			if pub.calls != 1 {
				t.Errorf("Send calls = %d; want 1 (one handoff for the whole request)", pub.calls)
			}
			if len(pub.events) != len(tc.wantIDs) {
				t.Fatalf("handed over %d events; want %d", len(pub.events), len(tc.wantIDs))
			}
			for i, d := range pub.events {
				if d.Hub.Key != tc.wantIDs[i] {
					t.Errorf("entry %d hub.key = %s; want %s (request order)", i, d.Hub.Key, tc.wantIDs[i])
				}
			}
		})
	}
}

// TestIngestPublishedEntry pins what ingest puts on the bus: an Event Received entry
// (DESIGN.md §2) with the producer's event as sent and what ingest learnt of it.
func TestIngestPublishedEntry(t *testing.T) {
	body := "{\n \"specversion\": \"1.0\", \"id\": \"e-1\", \"source\": \"acs.mse\",\n \"type\": \"mse:Agent:GracefulShutdown\", \"aliyunregionid\": \"cn-hangzhou\", \"data\": {\"n\": 1.50}\n}"
	pub := &fakeBus{}
	req := post("application/cloudevents+json", body)
	resp, _ := newTestHandler(pub).handle(context.Background(), req)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status = %d; want 202 (body %s)", resp.StatusCode, resp.Body)
	}
	if len(pub.entries) != 1 {
		t.Fatalf("published %d entries; want 1", len(pub.entries))
	}
	if e := pub.entries[0]; e.Source != bus.SourceIngest || e.DetailType != bus.Received {
		t.Errorf("entry = %s %q; want %s %q", e.Source, e.DetailType, bus.SourceIngest, bus.Received)
	}
	d := pub.events[0]
	wantRaw := `{"specversion":"1.0","id":"e-1","source":"acs.mse","type":"mse:Agent:GracefulShutdown","aliyunregionid":"cn-hangzhou","data":{"n":1.50}}`
	if string(d.Raw) != wantRaw || d.Format != "cloudevents" {
		t.Errorf("raw = %s (%s); want the producer's event, compacted: %s", d.Raw, d.Format, wantRaw)
	}
	want := bus.Hub{
		Key:         cloudevent.Key("acs.mse", "e-1"),
		SourceID:    "src_1",
		Format:      "cloudevents",
		ContentType: "application/cloudevents+json",
		ReceivedAt:  now.UTC(),
		RequestID:   "req-1",
	}
	if !reflect.DeepEqual(d.Hub, want) {
		t.Errorf("hub = %+v; want %+v", d.Hub, want)
	}
	if d.Hub.ReceivedAt.Location() != time.UTC {
		t.Errorf("hub.receivedAt location = %v; want UTC", d.Hub.ReceivedAt.Location())
	}

	// The wire form: what the entry carries and normalize reads.
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var wire struct {
		Raw    json.RawMessage `json:"raw"`
		Format string          `json:"format"`
		Hub    map[string]any  `json:"hub"`
	}
	if err := json.Unmarshal(b, &wire); err != nil {
		t.Fatal(err)
	}
	if string(wire.Raw) != wantRaw || wire.Format != "cloudevents" {
		t.Errorf("wire detail = %s; want raw %s", b, wantRaw)
	}
	for k, v := range map[string]any{"key": want.Key, "sourceId": "src_1", "receivedAt": "2026-03-14T14:09:26.535Z", "format": "cloudevents", "requestId": "req-1"} {
		if wire.Hub[k] != v {
			t.Errorf("wire hub.%s = %v; want %v", k, wire.Hub[k], v)
		}
	}
	if _, ok := wire.Hub["normalizedAt"]; ok {
		t.Errorf("wire hub = %v; want no normalizedAt (normalize sets it)", wire.Hub)
	}
}

func TestIngestMixedBatch(t *testing.T) {
	big := `{"specversion":"1.0","id":"big","source":"/test","type":"t","data":"` + strings.Repeat("x", maxEvent) + `"}`
	body := "[" + strings.Join([]string{
		ce("a"),
		`{"specversion":"1.0","source":"/test","type":"t"}`,
		`42`,
		`{"id":"x","source":"/test","type":"t"}`,
		ce("b"),
		`{"specversion":"1.0","id":"c","source":"/test","type":"t","time":"yesterday"}`,
		big,
		`null`,
	}, ",") + "]"
	pub := &fakeBus{}
	resp, _ := newTestHandler(pub).handle(context.Background(), post("application/cloudevents-batch+json", body))
	if resp.StatusCode != http.StatusMultiStatus {
		t.Fatalf("status = %d; want 207 (body %s)", resp.StatusCode, resp.Body)
	}
	r := decodeReply(t, resp)
	wantIDs := []string{cloudevent.Key("/test", "a"), cloudevent.Key("/test", "b")}
	if r.Accepted != 2 || r.Rejected != 6 {
		t.Errorf("accepted, rejected = %d, %d; want 2, 6", r.Accepted, r.Rejected)
	}
	if got, want := strings.Join(r.IDs, ","), strings.Join(wantIDs, ","); got != want {
		t.Errorf("ids = %s; want %s", got, want)
	}
	wantResults := []struct {
		id   string
		code fault.Code
		path string // "" with a code: the message names the item instead
		msg  string
	}{
		{id: wantIDs[0]},
		{code: fault.Invalid, path: "[1].id", msg: "missing"},
		{code: fault.Invalid, path: "[2]", msg: "object"},
		{code: fault.Invalid, path: "[3].specversion", msg: "missing"},
		{id: wantIDs[1]},
		{code: fault.Invalid, path: "[5].time", msg: "RFC 3339"},
		{code: fault.TooLarge, msg: "[6]"},
		{code: fault.Invalid, path: "[7]", msg: "object"},
	}
	if len(r.Results) != len(wantResults) {
		t.Fatalf("got %d results; want %d (one per event, in order)", len(r.Results), len(wantResults))
	}
	for i, w := range wantResults {
		got := r.Results[i]
		if w.id != "" {
			if got.ID != w.id || got.Error != nil {
				t.Errorf("results[%d] = {id %q, error %v}; want {id %q}", i, got.ID, got.Error, w.id)
			}
			continue
		}
		if got.ID != "" || got.Error == nil {
			t.Errorf("results[%d] = {id %q, error %v}; want an error", i, got.ID, got.Error)
			continue
		}
		if got.Error.Code != w.code || got.Error.Path != w.path || !strings.Contains(got.Error.Message, w.msg) {
			t.Errorf("results[%d].error = {%s %q %q}; want {%s %q containing %q}", i, got.Error.Code, got.Error.Path, got.Error.Message, w.code, w.path, w.msg)
		}
	}
	if len(pub.events) != 2 {
		t.Errorf("published %d entries; want only the 2 accepted", len(pub.events))
	}
}

// sized returns a valid CloudEvent of exactly n bytes.
func sized(n int) string {
	head, tail := `{"specversion":"1.0","id":"a","source":"/test","type":"t","data":"`, `"}`
	return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
}

// incompressible returns a CloudEvent of n bytes whose data deflate shrinks to no less
// than three quarters (random characters of 6 bits each).
func incompressible(n int) string {
	head, tail := `{"specversion":"1.0","id":"a","source":"/test","type":"t","data":"`, `"}`
	r := rand.New(rand.NewPCG(1, 2))
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, n-len(head)-len(tail))
	for i := range b {
		b[i] = letters[r.IntN(len(letters))]
	}
	return head + string(b) + tail
}

func TestIngestStatus(t *testing.T) {
	oneMiB := `{"specversion":"1.0","id":"a","source":"/test","type":"t","data":"` + strings.Repeat("x", maxBody) + `"}`
	bigEvent := `{"specversion":"1.0","id":"a","source":"/test","type":"t","data":"` + strings.Repeat("x", maxEvent) + `"}`
	many := "[" + strings.TrimSuffix(strings.Repeat(ce("a")+",", maxEvents+1), ",") + "]"
	hundred := "[" + strings.TrimSuffix(strings.Repeat(ce("a")+",", maxEvents), ",") + "]"
	allBad := `[{"specversion":"1.0"},{"specversion":"1.0","id":"x"}]`

	tests := []struct {
		name        string
		auth        string // Authorization header; "-" for none
		contentType string
		body        string
		base64      bool
		status      int
		code        fault.Code
		path        string
		msg         string // substring of the message
		line, col   int    // when non-zero, the syntax error's location
	}{
		{name: "no token", auth: "-", body: ce("a"), status: 401, code: fault.Unauthorized, msg: "missing bearer token"},
		{name: "not a bearer token", auth: "Basic dXNlcjpwYXNz", body: ce("a"), status: 401, code: fault.Unauthorized, msg: "missing bearer token"},
		{name: "empty bearer token", auth: "Bearer ", body: ce("a"), status: 401, code: fault.Unauthorized},
		{name: "unknown token", auth: "Bearer ehp_nope", body: ce("a"), status: 401, code: fault.Unauthorized, msg: "unknown or revoked token"},
		{name: "disabled source", auth: "Bearer ehp_disabled", body: ce("a"), status: 403, code: fault.Forbidden, msg: "src_off"},

		{name: "malformed JSON", body: "{\n  \"specversion\": \"1.0\",\n  \"id\": ,\n}", status: 400, code: fault.Invalid, path: "id", msg: "malformed JSON", line: 3, col: 9},
		{name: "truncated JSON", body: `{"specversion":"1.0"`, status: 400, code: fault.Invalid, msg: "malformed JSON", line: 1, col: 21},
		{name: "doubled quotes as in the Huawei examples", body: `{"specversion":"1.0","id": ""regionid1"}`, status: 400, code: fault.Invalid, msg: "malformed JSON", line: 1, col: 30},
		{name: "malformed batch", contentType: "application/cloudevents-batch+json", body: "[\n" + ce("a") + ",\n{]", status: 400, code: fault.Invalid, path: "[1]", msg: "malformed JSON", line: 3, col: 2},
		{name: "missing specversion", body: `{"id":"a","source":"/test","type":"t"}`, status: 400, code: fault.Invalid, path: "specversion", msg: "missing"},
		{name: "missing id", body: `{"specversion":"1.0","source":"/test","type":"t"}`, status: 400, code: fault.Invalid, path: "id", msg: "missing"},
		{name: "missing type", body: `{"specversion":"1.0","id":"a","source":"/test"}`, status: 400, code: fault.Invalid, path: "type", msg: "missing"},
		{name: "numeric id", body: `{"specversion":"1.0","id":7,"source":"/test","type":"t"}`, status: 400, code: fault.Invalid, path: "id", msg: "string"},
		{name: "repeated id", body: `{"specversion":"1.0","id":"a","source":"/test","type":"t","id":"b"}`, status: 400, code: fault.Invalid, path: "id", msg: "more than once", line: 1, col: 64},
		{name: "name repeated in data", body: "{\"specversion\":\"1.0\",\"id\":\"a\",\"source\":\"/test\",\"type\":\"t\",\n\"data\":{\"user\":{\"role\":\"viewer\",\"role\":\"admin\"}}}", status: 400, code: fault.Invalid, path: "data.user.role", msg: "more than once", line: 2, col: 40},
		{name: "wrong specversion", body: `{"specversion":"0.3","id":"a","source":"/test","type":"t"}`, status: 400, code: fault.Invalid, path: "specversion", msg: "0.3"},
		{name: "empty body", body: "", status: 400, code: fault.Invalid, msg: "empty body"},
		{name: "blank body", body: " \n\t", status: 400, code: fault.Invalid, msg: "empty body"},
		{name: "invalid UTF-8", body: "{\"specversion\":\"1.0\",\n\"id\":\"\xff\"}", status: 400, code: fault.Invalid, path: "id", msg: "UTF-8", line: 2, col: 7},
		{name: "string", body: `"hello"`, status: 400, code: fault.Invalid, path: "$", msg: "object"},
		{name: "number", body: `42`, status: 400, code: fault.Invalid, path: "$", msg: "object"},
		{name: "null", body: `null`, status: 400, code: fault.Invalid, path: "$", msg: "object"},
		{name: "object as a CloudEvents batch", contentType: "application/cloudevents-batch+json", body: ce("a"), status: 400, code: fault.Invalid, path: "$", msg: "array"},
		{name: "empty batch", contentType: "application/json", body: `[]`, status: 400, code: fault.Invalid, msg: "empty batch"},
		{name: "batch of only bad events", contentType: "application/json", body: allBad, status: 400},
		{name: "bad base64", contentType: "application/cloudevents+json", body: "!!not base64", base64: true, status: 400, code: fault.Invalid, msg: "base64"},

		{name: "body over 1 MiB", body: oneMiB, status: 413, code: fault.TooLarge, msg: "1048576"},
		{name: "event over the limit of one event", body: bigEvent, status: 413, code: fault.TooLarge, msg: strconv.Itoa(maxEvent)},
		{name: "incompressible event the store cannot hold", body: incompressible(600 << 10), status: 413, code: fault.TooLarge, msg: "the store holds"},
		{name: "incompressible event the store can hold", body: incompressible(380 << 10), status: 202},
		{name: "batch over 100 events", contentType: "application/cloudevents-batch+json", body: many, status: 413, code: fault.TooLarge, msg: "101"},

		{name: "text/plain", contentType: "text/plain", body: ce("a"), status: 415, code: fault.UnsupportedMedia, msg: "text/plain"},
		{name: "form", contentType: "application/x-www-form-urlencoded", body: "a=1", status: 415, code: fault.UnsupportedMedia},
		{name: "xml", contentType: "application/xml", body: "<a/>", status: 415, code: fault.UnsupportedMedia},

		{name: "batch of exactly 100 events", contentType: "application/cloudevents-batch+json", body: hundred, status: 202},
		{name: "event of exactly the limit (compressible)", body: sized(maxEvent), status: 202},
		{name: "event one byte over the limit", body: sized(maxEvent + 1), status: 413, code: fault.TooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.contentType
			if ct == "" {
				ct = "application/cloudevents+json"
			}
			req := post(ct, tc.body)
			switch tc.auth {
			case "":
			case "-":
				delete(req.Headers, "authorization")
			default:
				req.Headers["authorization"] = tc.auth
			}
			req.IsBase64Encoded = tc.base64
			pub := &fakeBus{}
			resp, err := newTestHandler(pub).handle(context.Background(), req)
			if err != nil {
				t.Fatalf("handle = %v; want no error (errors are responses)", err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d; want %d (body %.300s)", resp.StatusCode, tc.status, resp.Body)
			}
			if tc.status == http.StatusAccepted {
				return
			}
			if len(pub.events) != 0 {
				t.Errorf("published %d entries for a rejected request; want none", len(pub.events))
			}
			if tc.status == http.StatusUnauthorized && resp.Headers["www-authenticate"] == "" {
				t.Errorf("401 without a www-authenticate header")
			}
			r := decodeReply(t, resp)
			if tc.code == "" {
				// A batch whose every event was rejected: the per-item results.
				if r.Accepted != 0 || r.Rejected != 2 || len(r.Results) != 2 || r.Results[1].Error == nil || r.Results[1].Error.Path != "[1].source" {
					t.Errorf("body = %s; want 0 accepted, 2 rejected, results[1] naming [1].source", resp.Body)
				}
				return
			}
			if r.Error == nil {
				t.Fatalf("body = %s; want an error", resp.Body)
			}
			e := r.Error
			if e.Code != tc.code || e.Path != tc.path || !strings.Contains(e.Message, tc.msg) {
				t.Errorf("error = {%s %q %q}; want {%s %q containing %q}", e.Code, e.Path, e.Message, tc.code, tc.path, tc.msg)
			}
			if tc.line != 0 && (e.Line != tc.line || e.Column != tc.col) {
				t.Errorf("error at line %d, column %d; want line %d, column %d", e.Line, e.Column, tc.line, tc.col)
			}
		})
	}
}

func TestIngestInfrastructureFailure(t *testing.T) {
	secret := "dynamodb: AccessDenied on arn:aws:dynamodb:eu-west-1:123456789012:table/eventhub"
	tests := []struct {
		name    string
		sources sourceLookup
		pubErr  error
		body    string
	}{
		{
			name:    "publisher fails",
			sources: knownSources(testSources),
			pubErr:  errors.New(secret),
			body:    "[" + ce("a") + "," + `{"specversion":"1.0"}` + "," + ce("b") + "]",
		},
		{
			name:    "publisher fails on one event",
			sources: knownSources(testSources),
			pubErr:  errors.New(secret),
			body:    ce("a"),
		},
		{
			name: "source lookup fails",
			sources: sourceFunc(func(context.Context, string) (*store.Source, error) {
				return nil, errors.New(secret)
			}),
			body: ce("a"),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pub := &fakeBus{err: tc.pubErr}
			h := newTestHandler(pub)
			h.sources = tc.sources
			resp, err := h.handle(context.Background(), post("application/json", tc.body))
			if err != nil {
				t.Fatalf("handle = %v; want a 500 response", err)
			}
			if resp.StatusCode != http.StatusInternalServerError {
				t.Fatalf("status = %d; want 500 (body %s)", resp.StatusCode, resp.Body)
			}
			r := decodeReply(t, resp)
			if r.Error == nil || r.Error.Message != "internal error" {
				t.Errorf("body = %s; want the generic internal error", resp.Body)
			}
			if strings.Contains(resp.Body, "AccessDenied") {
				t.Errorf("body = %s; leaks the infrastructure error", resp.Body)
			}
			var members map[string]json.RawMessage
			_ = json.Unmarshal([]byte(resp.Body), &members)
			if len(members) != 1 {
				t.Errorf("body = %s; want only the error: nothing was accepted", resp.Body)
			}
		})
	}
}

func TestIngestFixture(t *testing.T) {
	data, err := os.ReadFile("../../events/ingest-cloudevent.json")
	if err != nil {
		t.Fatal(err)
	}
	var req apigw.Request
	if err := json.Unmarshal(data, &req); err != nil {
		t.Fatalf("events/ingest-cloudevent.json: %v", err)
	}
	pub := &fakeBus{}
	h := newTestHandler(pub)
	h.sources = knownSources(map[string]*store.Source{"ehp_example": {ID: "src_example", Format: "cloudevents", Enabled: true, Owns: &ownership.Set{Exact: []string{"acs.mse"}}}})
	resp, err := h.handle(context.Background(), req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("handle(fixture) = %d %s, %v; want 202", resp.StatusCode, resp.Body, err)
	}
	want := cloudevent.Key("acs.mse", "170d56b6-9efe-420b-affb-16ab9adb****")
	if r := decodeReply(t, resp); len(r.IDs) != 1 || r.IDs[0] != want {
		t.Errorf("ids = %v; want [%s]", r.IDs, want)
	}
	if len(pub.events) != 1 {
		t.Fatalf("published %d entries; want 1", len(pub.events))
	}
	d := pub.events[0]
	ev, err := cloudevent.Parse(d.Raw)
	if err != nil {
		t.Fatalf("published raw does not parse: %v", err)
	}
	for _, ext := range []string{"aliyunaccountid", "aliyunpublishtime", "aliyuneventbusname", "aliyunregionid", "aliyunpublishaddr"} {
		if _, ok := ev.Extension(ext); !ok {
			t.Errorf("published raw lost extension %s", ext)
		}
	}
	if d.Hub.RequestID != req.RequestContext.RequestID || d.Hub.SourceID != "src_example" {
		t.Errorf("hub = %+v; want requestId %s and sourceId src_example", d.Hub, req.RequestContext.RequestID)
	}
}

// TestIngestQuarantineMode: a source that quarantines what it cannot read gets 202 for
// such an event, with the quarantine id, and the event goes on the bus with ingest's
// reason for normalize to keep; a source that rejects gets the 4xx and nothing is put.
func TestIngestQuarantineMode(t *testing.T) {
	const bad = `{"specversion":"1.0","id":"q-1","source":"/test"}` // no type
	tests := []struct {
		name       string
		onInvalid  string
		wantStatus int
		wantPut    int
	}{
		{name: "reject (default)", onInvalid: "", wantStatus: http.StatusBadRequest, wantPut: 0},
		{name: "quarantine", onInvalid: store.OnInvalidQuarantine, wantStatus: http.StatusAccepted, wantPut: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pub := &fakeBus{}
			h := newTestHandler(pub)
			src := *testSources[token]
			src.OnInvalid = tc.onInvalid
			h.sources = knownSources(map[string]*store.Source{token: &src})
			resp, _ := h.handle(context.Background(), post("application/cloudevents+json", bad))
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d; want %d (%s)", resp.StatusCode, tc.wantStatus, resp.Body)
			}
			if len(pub.events) != tc.wantPut {
				t.Fatalf("published %d entries; want %d", len(pub.events), tc.wantPut)
			}
			if tc.wantPut == 0 {
				return
			}
			var r struct {
				Accepted, Quarantined int
				Results               []struct {
					ID, QuarantineID string
					Error            *fault.Error
				}
			}
			if err := json.Unmarshal([]byte(resp.Body), &r); err != nil {
				t.Fatal(err)
			}
			q := pub.events[0].Hub.Quarantine
			if r.Accepted != 1 || r.Quarantined != 1 || len(r.Results) != 1 || r.Results[0].QuarantineID != "qrn_0001" ||
				r.Results[0].Error == nil || !strings.Contains(r.Results[0].Error.Message, "type") {
				t.Errorf("answer %s; want accepted and quarantined as qrn_0001 with the reason", resp.Body)
			}
			if q == nil || q.ID != "qrn_0001" || !strings.Contains(q.Reason, "type") {
				t.Errorf("hub.quarantine = %+v; want qrn_0001 with the reason", q)
			}
			if string(pub.events[0].Raw) != bad {
				t.Errorf("raw = %s; want the event as sent", pub.events[0].Raw)
			}
		})
	}
}

// TestIngestStartsTheTrace checks that ingest decides whether the pipeline's trace is
// recorded and hands that decision to the bus with the trace it runs in.
func TestIngestStartsTheTrace(t *testing.T) {
	const lambdaHeader = "Root=1-67890abc-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=0"
	for _, tc := range []struct {
		rate float64
		want string
	}{
		{0, lambdaHeader},
		{1, "Root=1-67890abc-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"},
	} {
		pub := &fakeBus{}
		h := newTestHandler(pub)
		h.traces = tc.rate
		ctx := trace.With(context.Background(), lambdaHeader)
		if resp, _ := h.handle(ctx, post("application/cloudevents+json", ce("a"))); resp.StatusCode != http.StatusAccepted {
			t.Fatalf("status = %d %s", resp.StatusCode, resp.Body)
		}
		if len(pub.traces) != 1 || pub.traces[0] != tc.want {
			t.Errorf("rate %v: published under trace %q; want %q", tc.rate, pub.traces, tc.want)
		}
	}
}

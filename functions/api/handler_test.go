package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/eventhub/eventhub/shared/apigw"
	"github.com/eventhub/eventhub/shared/auth"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/store"
)

// memStore is an adminStore in memory; err, when set, fails every call.
type memStore struct {
	events    map[string]*store.Event
	histories map[string]*store.History
	subs      map[string]store.Subscription
	sources   []store.Source
	types     map[string]store.EventType
	err       error
	dlv       memDeliveries // subscriptions_test.go
	// mappingLog is every mapping version a source write saved (mappings_test.go).
	mappingLog []store.MappingVersion
}

func newMemStore() *memStore {
	return &memStore{events: map[string]*store.Event{}, histories: map[string]*store.History{}, subs: map[string]store.Subscription{}}
}

func (m *memStore) GetEvent(_ context.Context, key string) (*store.Event, error) {
	if m.err != nil {
		return nil, m.err
	}
	if ev, ok := m.events[key]; ok {
		return ev, nil
	}
	return nil, fmt.Errorf("event %s: %w", key, store.ErrNotFound)
}

func (m *memStore) History(_ context.Context, key string) (*store.History, error) {
	if m.err != nil {
		return nil, m.err
	}
	if h, ok := m.histories[key]; ok {
		return h, nil
	}
	return &store.History{Timeline: []store.TimelineEntry{}, Deliveries: []store.Delivery{}}, nil
}

func (m *memStore) CreateSubscription(_ context.Context, sub store.Subscription) error {
	if m.err != nil {
		return m.err
	}
	if _, ok := m.subs[sub.ID]; ok {
		return fault.New(fault.Conflict, "subscription %s already exists", sub.ID)
	}
	m.subs[sub.ID] = sub
	return nil
}

func (m *memStore) GetSubscription(_ context.Context, id string) (*store.Subscription, error) {
	if m.err != nil {
		return nil, m.err
	}
	if s, ok := m.subs[id]; ok {
		return &s, nil
	}
	return nil, fmt.Errorf("subscription %s: %w", id, store.ErrNotFound)
}

func (m *memStore) ListSubscriptions(context.Context) ([]store.Subscription, error) {
	if m.err != nil {
		return nil, m.err
	}
	out := []store.Subscription{}
	for _, s := range m.subs {
		out = append(out, s)
	}
	return out, nil
}

func (m *memStore) DeleteSubscription(_ context.Context, id string) error {
	if m.err != nil {
		return m.err
	}
	if _, ok := m.subs[id]; !ok {
		return fmt.Errorf("subscription %s: %w", id, store.ErrNotFound)
	}
	delete(m.subs, id)
	return nil
}

func (m *memStore) CreateSource(_ context.Context, src store.Source) error {
	if m.err != nil {
		return m.err
	}
	m.sources = append(m.sources, src)
	m.logMapping(src)
	return nil
}

func (m *memStore) logMapping(src store.Source) {
	if len(src.Mapping) > 0 {
		m.mappingLog = append(m.mappingLog, store.MappingVersion{SourceID: src.ID, Version: src.MappingVersion, Mapping: src.Mapping})
	}
}

func (m *memStore) ListSources(context.Context) ([]store.Source, error) {
	if m.err != nil {
		return nil, m.err
	}
	return append([]store.Source{}, m.sources...), nil
}

const adminToken = "eha_test"

var now = time.Date(2026, 3, 14, 15, 10, 2, 114000000, time.FixedZone("CST", 8*3600))

func newTestHandler(st *memStore) *handler {
	n := 0
	return &handler{
		store:     st,
		adminHash: auth.Hash(adminToken),
		now:       func() time.Time { return now },
		log:       slog.New(slog.DiscardHandler),
		newID: func(prefix string) string {
			n++
			return fmt.Sprintf("%s%d", prefix, n)
		},
	}
}

// request returns an API Gateway HTTP API request for the route, with the admin token.
func request(routeKey, path string, params map[string]string, body string) apigw.Request {
	method, _, _ := strings.Cut(routeKey, " ")
	return apigw.Request{
		Version:        "2.0",
		RouteKey:       routeKey,
		RawPath:        path,
		Headers:        map[string]string{"authorization": "Bearer " + adminToken, "content-type": "application/json"},
		PathParameters: params,
		Body:           body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:  routeKey,
			RequestID: "req-1",
			HTTP:      events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
		},
	}
}

func serve(t *testing.T, h *handler, req apigw.Request) apigw.Response {
	t.Helper()
	resp, err := h.handle(context.Background(), req)
	if err != nil {
		t.Fatalf("handle(%s) error = %v; want errors as responses", req.RouteKey, err)
	}
	return resp
}

// errorOf decodes an error response.
func errorOf(t *testing.T, resp apigw.Response) *fault.Error {
	t.Helper()
	var body apigw.ErrorBody
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || body.Error == nil {
		t.Fatalf("body %q is not an error response (%v)", resp.Body, err)
	}
	return body.Error
}

func TestAPIAuthentication(t *testing.T) {
	tests := []struct {
		name   string
		header string // "-" for none
		status int
		msg    string
	}{
		{name: "no token", header: "-", status: 401, msg: "missing bearer token"},
		{name: "not a bearer token", header: "Basic YWRtaW46YWRtaW4=", status: 401, msg: "missing bearer token"},
		{name: "wrong token", header: "Bearer eha_wrong", status: 401, msg: "wrong admin token"},
		{name: "a producer token", header: "Bearer ehp_test", status: 401, msg: "wrong admin token"},
		{name: "the token's hash", header: "Bearer " + auth.Hash(adminToken), status: 401, msg: "wrong admin token"},
		{name: "admin token", header: "Bearer " + adminToken, status: 200},
		{name: "scheme in lower case", header: "bearer " + adminToken, status: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStore()
			req := request("GET /subscriptions", "/subscriptions", nil, "")
			if tc.header == "-" {
				delete(req.Headers, "authorization")
			} else {
				req.Headers["authorization"] = tc.header
			}
			resp := serve(t, newTestHandler(st), req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d; want %d (body %s)", resp.StatusCode, tc.status, resp.Body)
			}
			if tc.status != 401 {
				return
			}
			if e := errorOf(t, resp); e.Code != fault.Unauthorized || !strings.Contains(e.Message, tc.msg) {
				t.Errorf("error = {%s %q}; want {unauthorized containing %q}", e.Code, e.Message, tc.msg)
			}
			if resp.Headers["www-authenticate"] == "" {
				t.Errorf("401 without www-authenticate")
			}
		})
	}
	t.Run("no admin hash configured", func(t *testing.T) {
		h := newTestHandler(newMemStore())
		h.adminHash = ""
		if resp := serve(t, h, request("GET /subscriptions", "/subscriptions", nil, "")); resp.StatusCode != 401 {
			t.Errorf("status = %d; want 401: an empty hash must not admit anyone", resp.StatusCode)
		}
	})
}

func TestAPIUnknownRoute(t *testing.T) {
	resp := serve(t, newTestHandler(newMemStore()), request("PUT /subscriptions/{id}", "/subscriptions/sub_1", map[string]string{"id": "sub_1"}, "{}"))
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("status = %d; want 404", resp.StatusCode)
	}
}

func TestAPICreateSubscription(t *testing.T) {
	st := newMemStore()
	body := `{"name":" ops alerts ","url":"https://hooks.example.com/ops?x=1",
		"pattern":{ "type" : ["mse:Agent:OutlierEjection"], "data": {"framework": [{"prefix": "DUB"}]} },
		"retry":["5s","1m"],"headers":{"X-Team":"ops"},"timeout":2.5,"group":"g","order":2}`
	resp := serve(t, newTestHandler(st), request("POST /subscriptions", "/subscriptions", nil, body))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status = %d; want 201 (body %s)", resp.StatusCode, resp.Body)
	}
	if got := resp.Headers["location"]; got != "/subscriptions/sub_1" {
		t.Errorf("location = %q; want /subscriptions/sub_1", got)
	}
	var got struct {
		ID        string            `json:"id"`
		Name      string            `json:"name"`
		URL       string            `json:"url"`
		Pattern   json.RawMessage   `json:"pattern"`
		Mode      string            `json:"mode"`
		Enabled   bool              `json:"enabled"`
		Secret    string            `json:"secret"`
		Secrets   any               `json:"secrets"`
		Retry     []string          `json:"retry"`
		Headers   map[string]string `json:"headers"`
		TimeoutMs int               `json:"timeoutMs"`
		CreatedAt time.Time         `json:"createdAt"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
		t.Fatalf("body %s: %v", resp.Body, err)
	}
	wantPattern := `{"type":["mse:Agent:OutlierEjection"],"data":{"framework":[{"prefix":"DUB"}]}}`
	if string(got.Pattern) != wantPattern {
		t.Errorf("pattern = %s; want the pattern echoed as JSON %s", got.Pattern, wantPattern)
	}
	if !strings.HasPrefix(got.Secret, "whsec_") || len(got.Secret) < len("whsec_")+32 {
		t.Errorf("secret = %q; want a whsec_ signing secret", got.Secret)
	}
	if got.Secrets != nil {
		t.Errorf("body shows secrets %v; want only the one secret field", got.Secrets)
	}
	if got.ID != "sub_1" || got.Name != "ops alerts" || got.URL != "https://hooks.example.com/ops?x=1" || got.Mode != "cloudevents" || !got.Enabled ||
		got.TimeoutMs != 2500 || got.Headers["X-Team"] != maskedHeader || strings.Join(got.Retry, ",") != "5s,1m" || !got.CreatedAt.Equal(now) {
		t.Errorf("body = %s; want the subscription as created", resp.Body)
	}
	saved, ok := st.subs["sub_1"]
	if !ok {
		t.Fatalf("store holds %v; want sub_1", st.subs)
	}
	if saved.Headers["X-Team"] != "ops" {
		t.Errorf("stored headers = %v; want X-Team: ops (shown masked)", saved.Headers)
	}
	if len(saved.Secrets) != 1 || saved.Secrets[0] != got.Secret {
		t.Errorf("stored secrets = %v; want [%s]", saved.Secrets, got.Secret)
	}
	if saved.Pattern != wantPattern {
		t.Errorf("stored pattern = %s; want %s (compact)", saved.Pattern, wantPattern)
	}
	if !saved.CreatedAt.Equal(now) || !saved.UpdatedAt.Equal(now) || saved.CreatedAt.Location() != time.UTC {
		t.Errorf("stored createdAt, updatedAt = %v, %v; want %v in UTC", saved.CreatedAt, saved.UpdatedAt, now.UTC())
	}
}

func TestAPICreateSubscriptionDefaults(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		wantPattern string
		wantEnabled bool
	}{
		{name: "no pattern", body: `{"name":"all","url":"https://hooks.example.com/"}`, wantPattern: `{}`, wantEnabled: true},
		{name: "null pattern", body: `{"name":"all","url":"https://hooks.example.com/","pattern":null}`, wantPattern: `{}`, wantEnabled: true},
		{name: "created disabled", body: `{"name":"all","url":"http://hooks.example.com/","enabled":false}`, wantPattern: `{}`, wantEnabled: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStore()
			resp := serve(t, newTestHandler(st), request("POST /subscriptions", "/subscriptions", nil, tc.body))
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("status = %d; want 201 (body %s)", resp.StatusCode, resp.Body)
			}
			var got struct {
				Pattern json.RawMessage `json:"pattern"`
				Enabled bool            `json:"enabled"`
			}
			_ = json.Unmarshal([]byte(resp.Body), &got)
			if string(got.Pattern) != tc.wantPattern || got.Enabled != tc.wantEnabled {
				t.Errorf("pattern, enabled = %s, %v; want %s, %v", got.Pattern, got.Enabled, tc.wantPattern, tc.wantEnabled)
			}
		})
	}
}

func TestAPICreateSubscriptionInvalid(t *testing.T) {
	valid := `"name":"n","url":"https://hooks.example.com/x"`
	tests := []struct {
		name      string
		body      string
		path      string // the path named by the error
		msg       string // substring of the message
		line, col int
	}{
		{name: "invalid pattern", body: `{` + valid + `,"pattern":{"type":"mse:Agent:OutlierEjection"}}`, path: "pattern"},
		{name: "pattern not an object", body: `{` + valid + `,"pattern":["a"]}`, path: "pattern", msg: "object"},
		{name: "unknown pattern operator", body: `{` + valid + `,"pattern":{"type":[{"regex":".*"}]}}`, path: "pattern"},
		{name: "missing name", body: `{"url":"https://hooks.example.com/x"}`, path: "name", msg: "required"},
		{name: "blank name", body: `{"name":"  ","url":"https://hooks.example.com/x"}`, path: "name", msg: "required"},
		{name: "missing url", body: `{"name":"n"}`, path: "url"},
		{name: "relative url", body: `{"name":"n","url":"/hooks"}`, path: "url"},
		{name: "ftp url", body: `{"name":"n","url":"ftp://hooks.example.com/x"}`, path: "url"},
		{name: "unparsable url", body: `{"name":"n","url":"https://exa mple.com:port/"}`, path: "url"},
		{name: "url with credentials", body: `{"name":"n","url":"https://user:pw@hooks.example.com/x"}`, path: "url", msg: "credentials"},
		{name: "CRLF in a header value", body: `{` + valid + `,"headers":{"X-Team":"ops\r\nX-Injected: 1"}}`, path: "headers.X-Team"},
		{name: "LF in a header value", body: `{` + valid + `,"headers":{"X-Team":"ops\nX-Injected: 1"}}`, path: "headers.X-Team"},
		{name: "NUL in a header value", body: `{` + valid + `,"headers":{"X-Team":"ops\u0000"}}`, path: "headers.X-Team"},
		{name: "control character in a header value", body: `{` + valid + `,"headers":{"X-Team":"ops\u0001"}}`, path: "headers.X-Team"},
		{name: "DEL in a header value", body: `{` + valid + `,"headers":{"X-Team":"o\u007fps"}}`, path: "headers.X-Team"},
		{name: "hop-by-hop header", body: `{` + valid + `,"headers":{"Transfer-Encoding":"chunked"}}`, path: "headers.Transfer-Encoding", msg: "cannot be overridden"},
		{name: "connection header", body: `{` + valid + `,"headers":{"Connection":"Upgrade"}}`, path: "headers.Connection", msg: "cannot be overridden"},
		{name: "CRLF in a header name", body: `{` + valid + `,"headers":{"X-A\r\nX-B":"1"}}`, path: "headers.X-A\r\nX-B"},
		{name: "space in a header name", body: `{` + valid + `,"headers":{"X Team":"ops"}}`, path: "headers.X Team"},
		{name: "empty header name", body: `{` + valid + `,"headers":{"":"ops"}}`, path: "headers."},
		{name: "reserved header webhook-signature", body: `{` + valid + `,"headers":{"Webhook-Signature":"v1,forged"}}`, path: "headers.Webhook-Signature", msg: "cannot be overridden"},
		{name: "reserved header content-type", body: `{` + valid + `,"headers":{"content-type":"text/plain"}}`, path: "headers.content-type", msg: "cannot be overridden"},
		{name: "reserved header host", body: `{` + valid + `,"headers":{"HOST":"internal"}}`, path: "headers.HOST", msg: "cannot be overridden"},
		{name: "retry not a duration", body: `{` + valid + `,"retry":["5s","soon"]}`, path: "retry[1]", msg: "duration"},
		{name: "retry negative", body: `{` + valid + `,"retry":["-5s"]}`, path: "retry[0]"},
		{name: "retry over a day", body: `{` + valid + `,"retry":["25h"]}`, path: "retry[0]"},
		{name: "too many retries", body: `{` + valid + `,"retry":[` + strings.TrimSuffix(strings.Repeat(`"1s",`, maxRetries+1), ",") + `]}`, path: "retry"},
		{name: "timeout too long", body: `{` + valid + `,"timeout":31}`, path: "timeout"},
		{name: "timeout negative", body: `{` + valid + `,"timeout":-1}`, path: "timeout"},
		{name: "timeout that overflows a duration", body: `{` + valid + `,"timeout":1e19}`, path: "timeout"},
		{name: "timeout of centuries", body: `{` + valid + `,"timeout":9.3e9}`, path: "timeout"},
		{name: "content after the object", body: `{` + valid + `} {"enabled":false}`, msg: "after the JSON object", line: 1, col: 51},
		{name: "unknown mode", body: `{` + valid + `,"mode":"juno"}`, path: "mode"},
		{name: "wrong type", body: `{"name":7,"url":"https://hooks.example.com/x"}`, path: "name", msg: "string"},
		{name: "wrong type of header value", body: `{` + valid + `,"headers":{"X-Team":1}}`, path: "headers", msg: "string"},
		{name: "malformed JSON", body: "{\n  \"name\": \"n\",\n  \"url\": \"https://hooks.example.com/x\"\n  \"retry\": []\n}", msg: "malformed JSON", line: 4, col: 3},
		{name: "truncated JSON", body: `{"name":"n"`, msg: "malformed JSON"},
		{name: "empty body", body: ``, msg: "empty body"},
		{name: "invalid UTF-8", body: "{\"name\":\"\xff\"}", msg: "UTF-8", line: 1, col: 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStore()
			resp := serve(t, newTestHandler(st), request("POST /subscriptions", "/subscriptions", nil, tc.body))
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status = %d; want 400 (body %s)", resp.StatusCode, resp.Body)
			}
			e := errorOf(t, resp)
			if e.Code != fault.Invalid || e.Path != tc.path || !strings.Contains(e.Message, tc.msg) {
				t.Errorf("error = {%s %q %q}; want {invalid %q containing %q}", e.Code, e.Path, e.Message, tc.path, tc.msg)
			}
			if tc.line != 0 && (e.Line != tc.line || e.Column != tc.col) {
				t.Errorf("error at line %d, column %d; want line %d, column %d", e.Line, e.Column, tc.line, tc.col)
			}
			if len(st.subs) != 0 {
				t.Errorf("stored %v; want nothing", st.subs)
			}
		})
	}
}

// TestAPIUnknownField checks that a misspelt field is refused rather than ignored, and
// that the error names it.
func TestAPIUnknownField(t *testing.T) {
	for _, route := range []string{"POST /subscriptions", "POST /sources"} {
		t.Run(route, func(t *testing.T) {
			body := `{"name":"n","url":"https://hooks.example.com/x","nmae":"typo"}`
			if route == "POST /sources" {
				body = `{"name":"n","fromat":"cloudevents"}`
			}
			st := newMemStore()
			resp := serve(t, newTestHandler(st), request(route, "/x", nil, body))
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status = %d; want 400 (body %s)", resp.StatusCode, resp.Body)
			}
			e := errorOf(t, resp)
			field := "nmae"
			if route == "POST /sources" {
				field = "fromat"
			}
			if e.Path != field {
				t.Errorf("error = {%q %q}; want it to name the field %s", e.Path, e.Message, field)
			}
			if len(st.subs) != 0 || len(st.sources) != 0 {
				t.Errorf("stored something; want nothing")
			}
		})
	}
}

func TestAPISubscriptions(t *testing.T) {
	st := newMemStore()
	st.subs["sub_1"] = store.Subscription{
		ID: "sub_1", Name: "ops", URL: "https://hooks.example.com/ops", Pattern: `{"type":["x"]}`, Mode: "cloudevents",
		Enabled: true, Secrets: []string{"whsec_c2VjcmV0c2VjcmV0c2VjcmV0"}, CreatedAt: now, UpdatedAt: now,
	}
	h := newTestHandler(st)

	t.Run("list", func(t *testing.T) {
		resp := serve(t, h, request("GET /subscriptions", "/subscriptions", nil, ""))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status = %d; want 200", resp.StatusCode)
		}
		var body struct {
			Subscriptions []struct {
				ID      string          `json:"id"`
				Pattern json.RawMessage `json:"pattern"`
			} `json:"subscriptions"`
		}
		if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
			t.Fatal(err)
		}
		if len(body.Subscriptions) != 1 || body.Subscriptions[0].ID != "sub_1" || string(body.Subscriptions[0].Pattern) != `{"type":["x"]}` {
			t.Errorf("body = %s; want sub_1 with its pattern as JSON", resp.Body)
		}
		if strings.Contains(resp.Body, "whsec_") || strings.Contains(resp.Body, "secret") {
			t.Errorf("body = %s; want no signing secret", resp.Body)
		}
	})
	t.Run("get", func(t *testing.T) {
		resp := serve(t, h, request("GET /subscriptions/{id}", "/subscriptions/sub_1", map[string]string{"id": "sub_1"}, ""))
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, `"pattern":{"type":["x"]}`) || strings.Contains(resp.Body, "whsec_") {
			t.Errorf("GET sub_1 = %d %s; want 200 with the pattern and no secret", resp.StatusCode, resp.Body)
		}
	})
	t.Run("get unknown", func(t *testing.T) {
		resp := serve(t, h, request("GET /subscriptions/{id}", "/subscriptions/sub_9", map[string]string{"id": "sub_9"}, ""))
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("status = %d; want 404", resp.StatusCode)
		}
	})
	t.Run("delete unknown", func(t *testing.T) {
		resp := serve(t, h, request("DELETE /subscriptions/{id}", "/subscriptions/sub_9", map[string]string{"id": "sub_9"}, ""))
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("status = %d; want 404 (body %s)", resp.StatusCode, resp.Body)
		}
		if e := errorOf(t, resp); e.Code != fault.NotFound {
			t.Errorf("error code = %s; want not_found", e.Code)
		}
	})
	t.Run("delete", func(t *testing.T) {
		resp := serve(t, h, request("DELETE /subscriptions/{id}", "/subscriptions/sub_1", map[string]string{"id": "sub_1"}, ""))
		if resp.StatusCode != http.StatusNoContent || resp.Body != "" {
			t.Errorf("DELETE sub_1 = %d %q; want 204 and no body", resp.StatusCode, resp.Body)
		}
		if _, ok := st.subs["sub_1"]; ok {
			t.Errorf("sub_1 still stored")
		}
	})
}

func TestAPIGetEvent(t *testing.T) {
	key := cloudevent.Key("acs.mse", "e-1")
	body := `{"specversion":"1.0","id":"e-1","source":"acs.mse","type":"mse:Agent:OutlierEjection"}`
	receivedAt := time.Date(2026, 3, 14, 15, 9, 26, 535000000, time.UTC)
	st := newMemStore()
	st.events[key] = &store.Event{Key: key, Source: "acs.mse", ID: "e-1", Type: "mse:Agent:OutlierEjection", SourceID: "src_1", Format: "cloudevents",
		ReceivedAt: receivedAt, StoredAt: receivedAt.Add(time.Second), Duplicates: 2, Event: json.RawMessage(body)}
	st.histories[key] = &store.History{
		Timeline: []store.TimelineEntry{
			{At: receivedAt, Stage: store.StageReceived},
			{At: receivedAt.Add(200 * time.Millisecond), Stage: store.StageNormalized},
			{At: receivedAt.Add(time.Second), Stage: store.StageStored},
			{At: receivedAt.Add(2 * time.Second), Stage: store.StageAttempt, SubscriptionID: "sub_1", Attempt: 1, Status: 200, Outcome: store.DeliveryDelivered},
		},
		Deliveries: []store.Delivery{{Key: key, SubscriptionID: "sub_1", Status: store.DeliveryDelivered, Attempt: 1}},
	}
	tests := []struct {
		name   string
		id     string
		err    error // of the store
		status int
	}{
		{name: "found", id: key, status: 200},
		{name: "not an event id", id: "evt-1", status: 404},
		{name: "upper case", id: strings.ToUpper(key), status: 404},
		{name: "empty", id: "", status: 404},
		{name: "unknown", id: cloudevent.Key("acs.mse", "nope"), status: 404},
		{name: "store fails", id: key, err: errors.New("dynamodb: throttled"), status: 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st.err = tc.err
			resp := serve(t, newTestHandler(st), request("GET /events/{id}", "/events/"+tc.id, map[string]string{"id": tc.id}, ""))
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d; want %d (body %s)", resp.StatusCode, tc.status, resp.Body)
			}
			if tc.status == 500 {
				if e := errorOf(t, resp); e.Message != "internal error" {
					t.Errorf("500 message = %q; want the generic internal error", e.Message)
				}
			}
			if tc.status != 200 {
				return
			}
			var got struct {
				ID         string          `json:"id"`
				Event      json.RawMessage `json:"event"`
				SourceID   string          `json:"sourceId"`
				ReceivedAt string          `json:"receivedAt"`
				StoredAt   string          `json:"storedAt"`
				Duplicates int             `json:"duplicates"`
				Timeline   []struct {
					Stage string `json:"stage"`
				} `json:"timeline"`
				Deliveries []struct {
					SubscriptionID string `json:"subscriptionId"`
					Status         string `json:"status"`
				} `json:"deliveries"`
			}
			if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
				t.Fatalf("body %s: %v", resp.Body, err)
			}
			if got.ID != key || string(got.Event) != body || got.SourceID != "src_1" || got.Duplicates != 2 {
				t.Errorf("body = %s; want event %s with its metadata", resp.Body, key)
			}
			if got.ReceivedAt != "2026-03-14T15:09:26.535Z" || got.StoredAt != "2026-03-14T15:09:27.535Z" {
				t.Errorf("receivedAt, storedAt = %s, %s; want 2026-03-14T15:09:26.535Z, 2026-03-14T15:09:27.535Z", got.ReceivedAt, got.StoredAt)
			}
			var stages []string
			for _, e := range got.Timeline {
				stages = append(stages, e.Stage)
			}
			if strings.Join(stages, ",") != "received,normalized,stored,attempt" {
				t.Errorf("timeline stages = %v; want received, normalized, stored, attempt", stages)
			}
			if len(got.Deliveries) != 1 || got.Deliveries[0].Status != "delivered" {
				t.Errorf("deliveries = %+v; want sub_1 delivered", got.Deliveries)
			}
		})
	}
}

func TestAPISources(t *testing.T) {
	st := newMemStore()
	h := newTestHandler(st)

	resp := serve(t, h, request("POST /sources", "/sources", nil, `{"name":"mse prod","format":"cloudevents"}`))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /sources status = %d; want 201 (body %s)", resp.StatusCode, resp.Body)
	}
	var created struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		Format    string `json:"format"`
		Enabled   bool   `json:"enabled"`
		Token     string `json:"token"`
		TokenHash string `json:"tokenHash"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &created); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.Token, "ehp_") || len(created.Token) < 40 {
		t.Errorf("token = %q; want a fresh ehp_ token", created.Token)
	}
	if created.ID != "src_1" || created.Name != "mse prod" || created.Format != "cloudevents" || !created.Enabled || created.TokenHash != "" {
		t.Errorf("body = %s; want src_1, enabled, without tokenHash", resp.Body)
	}
	if resp.Headers["location"] != "/sources/src_1" {
		t.Errorf("location = %q; want /sources/src_1", resp.Headers["location"])
	}
	if len(st.sources) != 1 || st.sources[0].TokenHash != auth.Hash(created.Token) {
		t.Fatalf("stored %+v; want the source with the token's hash", st.sources)
	}

	resp = serve(t, h, request("GET /sources", "/sources", nil, ""))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /sources status = %d; want 200", resp.StatusCode)
	}
	if strings.Contains(resp.Body, "tokenHash") || strings.Contains(resp.Body, st.sources[0].TokenHash) || strings.Contains(resp.Body, created.Token) {
		t.Errorf("GET /sources = %s; want neither the token nor its hash", resp.Body)
	}
	var list struct {
		Sources []struct {
			ID string `json:"id"`
		} `json:"sources"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &list); err != nil || len(list.Sources) != 1 || list.Sources[0].ID != "src_1" {
		t.Errorf("GET /sources = %s; want [src_1]", resp.Body)
	}
}

func TestAPICreateSourceInvalid(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		status int
		path   string
	}{
		{name: "default format", body: `{"name":"juno"}`, status: 201},
		{name: "missing name", body: `{"format":"cloudevents"}`, status: 400, path: "name"},
		{name: "unknown format", body: `{"name":"x","format":"xml"}`, status: 400, path: "format"},
		{name: "wrong type", body: `{"name":["x"]}`, status: 400, path: "name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStore()
			resp := serve(t, newTestHandler(st), request("POST /sources", "/sources", nil, tc.body))
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d; want %d (body %s)", resp.StatusCode, tc.status, resp.Body)
			}
			if tc.status == 201 {
				if st.sources[0].Format != "auto" {
					t.Errorf("format = %q; want auto", st.sources[0].Format)
				}
				return
			}
			if e := errorOf(t, resp); e.Path != tc.path {
				t.Errorf("error path = %q; want %q (%s)", e.Path, tc.path, e.Message)
			}
			if len(st.sources) != 0 {
				t.Errorf("stored %+v; want nothing", st.sources)
			}
		})
	}
}

func TestAPIStoreFailure(t *testing.T) {
	routes := []apigw.Request{
		request("POST /subscriptions", "/subscriptions", nil, `{"name":"n","url":"https://hooks.example.com/"}`),
		request("GET /subscriptions", "/subscriptions", nil, ""),
		request("POST /sources", "/sources", nil, `{"name":"n"}`),
		request("GET /sources", "/sources", nil, ""),
	}
	for _, req := range routes {
		t.Run(req.RouteKey, func(t *testing.T) {
			st := newMemStore()
			st.err = errors.New("dynamodb: AccessDeniedException: arn:aws:dynamodb:us-east-1:123456789012:table/eventhub")
			resp := serve(t, newTestHandler(st), req)
			if resp.StatusCode != http.StatusInternalServerError || strings.Contains(resp.Body, "AccessDenied") {
				t.Errorf("%s = %d %s; want 500 revealing nothing", req.RouteKey, resp.StatusCode, resp.Body)
			}
		})
	}
}

func TestAPIFixture(t *testing.T) {
	data, err := os.ReadFile("../../events/api-get-subscriptions.json")
	if err != nil {
		t.Fatal(err)
	}
	var req apigw.Request
	if err := json.Unmarshal(data, &req); err != nil {
		t.Fatalf("events/api-get-subscriptions.json: %v", err)
	}
	st := newMemStore()
	st.subs["sub_example"] = store.Subscription{ID: "sub_example", Name: "mse", URL: "https://hooks.example.com/mse", Enabled: true}
	h := newTestHandler(st)
	h.adminHash = auth.Hash("eha_example")
	resp := serve(t, h, req)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, `"id":"sub_example"`) {
		t.Errorf("handle(fixture) = %d %s; want 200 listing sub_example", resp.StatusCode, resp.Body)
	}
}

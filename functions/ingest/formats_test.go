package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventhub/eventhub/shared/adapter/iuap"
	"github.com/eventhub/eventhub/shared/apigw"
	"github.com/eventhub/eventhub/shared/catalog"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/ownership"
	"github.com/eventhub/eventhub/shared/store"
)

// appFunc is a cachedLookup made of a function.
type appFunc func(ctx context.Context, appID string) (*store.Source, error)

func (f appFunc) Source(ctx context.Context, appID string) (*store.Source, error) {
	return f(ctx, appID)
}

func (f appFunc) Fresh(ctx context.Context, appID string) (*store.Source, error) {
	return f(ctx, appID)
}

// schemaMap is a schemaLookup over compiled schemas; err fails every lookup.
type schemaMap struct {
	byType map[string]*catalog.Schema
	err    error
}

func (m schemaMap) Schema(_ context.Context, t string) (*catalog.Schema, error) {
	return m.byType[t], m.err
}

const iuapKey = "ehk_secret"

var iuapSource = &store.Source{ID: "src_crm", Format: "iuap", AppID: "crm", Enabled: true, SigningKey: iuapKey}

func formatHandler(t *testing.T, pub *fakeBus, sources map[string]*store.Source) *handler {
	t.Helper()
	h := newTestHandler(pub)
	h.sources = knownSources(sources)
	h.apps = appFunc(func(_ context.Context, appID string) (*store.Source, error) {
		switch appID {
		case "crm":
			return iuapSource, nil
		case "off":
			return &store.Source{ID: "src_off", AppID: "off", SigningKey: iuapKey}, nil
		}
		return nil, fmt.Errorf("appId %s: %w", appID, store.ErrNotFound)
	})
	return h
}

func seed(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile("../../shared/adapter/" + path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestIngestFormats sends each seed format's example the ways a producer can, and
// checks the key (from the producer's id) and the format that travels on the bus.
func TestIngestFormats(t *testing.T) {
	srcs := map[string]*store.Source{
		"ehp_auto": {ID: "src_auto", Format: "auto", Enabled: true, DataID: 1500009, Owns: &ownership.Set{Exact: []string{"acs.mse"}, Prefixes: []string{"juno/", "huaweicloud.config/"}}},
		"ehp_juno": {ID: "src_juno", Format: "juno", Enabled: true, Owns: &ownership.Set{Prefixes: []string{"juno/"}}},
		"ehp_bk":   {ID: "src_bk", Format: "bkmonitor", Enabled: true, DataID: 1500001, Owns: &ownership.Set{}},
		"ehp_hwc":  {ID: "src_hwc", Format: "huaweiconfig", Enabled: true, Owns: &ownership.Set{Prefixes: []string{"huaweicloud.config/"}}},
		"ehp_ce":   {ID: "src_ce", Format: "cloudevents", Enabled: true, Owns: &ownership.Set{}},
	}
	juno := seed(t, "juno/testdata/seed_confgo_file_update.input")
	bk := seed(t, "bkmonitor/testdata/seed_cpu_usage.input")
	hwc := seed(t, "huaweiconfig/testdata/seed_resource_relation_changed.input")
	mse := seed(t, "cloudevents/testdata/mse_outlier_ejection.input")
	generic := `{"alert":"disk full","host":"db-1"}`
	tests := []struct {
		name, token, path, query, contentType, body string
		wantKeys                                    []string
		wantFormat                                  string
	}{
		{name: "juno by the source's format", token: "ehp_juno", body: juno, wantKeys: []string{cloudevent.Key("juno/confgo", "11979")}, wantFormat: "juno"},
		{name: "juno detected", token: "ehp_auto", body: juno, wantKeys: []string{cloudevent.Key("juno/confgo", "11979")}, wantFormat: "juno"},
		{name: "bkmonitor detected", token: "ehp_auto", body: bk, wantKeys: []string{cloudevent.Key("bkmonitor/1500009", "event-001")}, wantFormat: "bkmonitor"},
		{name: "bkmonitor on BlueKing's path", token: "ehp_bk", path: routeBKMonitor, body: bk, wantKeys: []string{cloudevent.Key("bkmonitor/1500001", "event-001")}, wantFormat: "bkmonitor"},
		{name: "huaweiconfig", token: "ehp_hwc", body: hwc, wantFormat: "huaweiconfig"},
		{name: "huaweiconfig detected", token: "ehp_auto", body: hwc, wantFormat: "huaweiconfig"},
		{name: "mse detected", token: "ehp_auto", body: mse, wantKeys: []string{cloudevent.Key("acs.mse", "170d56b6-9efe-420b-affb-16ab9adb****")}, wantFormat: "cloudevents"},
		{name: "generic", token: "ehp_auto", body: generic, wantFormat: "generic"},
		{name: "forced with ?format=", token: "ehp_ce", query: "generic", body: juno, wantFormat: "generic"},
		{name: "cloudevents content type wins over auto", token: "ehp_auto", contentType: "application/cloudevents+json", body: mse, wantFormat: "cloudevents"},
		{name: "mixed batch detected one by one", token: "ehp_auto", body: "[" + juno + "," + bk + "," + mse + "]", wantKeys: []string{
			cloudevent.Key("juno/confgo", "11979"), cloudevent.Key("bkmonitor/1500009", "event-001"), cloudevent.Key("acs.mse", "170d56b6-9efe-420b-affb-16ab9adb****"),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pub := &fakeBus{}
			ct := tc.contentType
			if ct == "" {
				ct = "application/json"
			}
			req := post(ct, tc.body)
			req.Headers["authorization"] = "Bearer " + tc.token
			if tc.path != "" {
				req.RouteKey = tc.path
			}
			if tc.query != "" {
				req.QueryStringParameters = map[string]string{"format": tc.query}
			}
			resp, _ := formatHandler(t, pub, srcs).handle(context.Background(), req)
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("status = %d; want 202 (%s)", resp.StatusCode, resp.Body)
			}
			r := decodeReply(t, resp)
			if tc.wantKeys != nil && strings.Join(r.IDs, ",") != strings.Join(tc.wantKeys, ",") {
				t.Errorf("ids = %v; want %v", r.IDs, tc.wantKeys)
			}
			for _, d := range pub.events {
				if tc.wantFormat != "" && d.Hub.Format != tc.wantFormat {
					t.Errorf("hub format = %q; want %q", d.Hub.Format, tc.wantFormat)
				}
				// The producer's event as sent, for normalize; its key as ingest answered.
				if !json.Valid(d.Raw) || !slices.Contains(r.IDs, d.Hub.Key) || d.Format != d.Hub.Format {
					t.Errorf("Event Received %s (key %s, format %s/%s): want the producer's JSON under one of the ids %v", d.Raw, d.Hub.Key, d.Format, d.Hub.Format, r.IDs)
				}
			}
		})
	}
}

func TestIngestBlueKingEnvelope(t *testing.T) {
	srcs := map[string]*store.Source{
		"ehp_bk":   {ID: "src_bk", Format: "bkmonitor", Enabled: true, DataID: 1500001},
		"ehp_off":  {ID: "src_bkoff", Format: "bkmonitor", Enabled: false, DataID: 1500002},
		"ehp_auto": {ID: "src_auto", Format: "auto", Enabled: true},
	}
	bk := seed(t, "bkmonitor/testdata/seed_cpu_usage.input")
	envelope := func(dataID, token string) string {
		return `{"data_id":` + dataID + `,"access_token":"` + token + `","data":[` + bk + `,{"event_id":"e2"}]}`
	}
	tests := []struct {
		name, auth, body, path string
		status                 int
		code                   fault.Code
	}{
		{name: "data id and token in the body", body: envelope("1500001", "ehp_bk"), status: 207},
		{name: "data id as a string", body: envelope(`"1500001"`, "ehp_bk"), status: 207},
		{name: "bearer token and data id", auth: "Bearer ehp_bk", body: `{"data_id":1500001,"data":[` + bk + `]}`, status: 202},
		{name: "data id of another source", body: envelope("1500999", "ehp_bk"), status: 401, code: fault.Unauthorized, path: "data_id"},
		{name: "wrong token", body: envelope("1500001", "ehp_nope"), status: 401, code: fault.Unauthorized},
		{name: "disabled", body: envelope("1500002", "ehp_off"), status: 403, code: fault.Forbidden},
		{name: "no token anywhere", body: `{"data_id":1500001,"data":[` + bk + `]}`, status: 401, code: fault.Unauthorized},
		{name: "an auto source's event that looks like an envelope", auth: "Bearer ehp_auto", body: `{"data_id":7,"data":[1,2]}`, status: 202},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pub := &fakeBus{}
			req := post("application/json", tc.body)
			if !strings.Contains(tc.auth, "auto") {
				req.RouteKey = routeBKMonitor
			}
			delete(req.Headers, "authorization")
			if tc.auth != "" {
				req.Headers["authorization"] = tc.auth
			}
			resp, _ := formatHandler(t, pub, srcs).handle(context.Background(), req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d; want %d (%s)", resp.StatusCode, tc.status, resp.Body)
			}
			r := decodeReply(t, resp)
			switch {
			case tc.status == 207:
				if r.Accepted != 1 || r.Results[1].Error == nil || r.Results[1].Error.Path != "data[1].alert_name" {
					t.Errorf("body = %s; want the second event rejected at data[1].alert_name", resp.Body)
				}
				if r.IDs[0] != cloudevent.Key("bkmonitor/1500001", "event-001") {
					t.Errorf("ids = %v", r.IDs)
				}
				if strings.Contains(string(pub.events[0].Raw), "ehp_bk") {
					t.Errorf("the token travels on the bus")
				}
			case tc.code != "":
				if r.Error == nil || r.Error.Code != tc.code || r.Error.Path != tc.path {
					t.Errorf("error = %+v; want %s at %q", r.Error, tc.code, tc.path)
				}
			}
		})
	}
}

func TestIngestBinaryMode(t *testing.T) {
	pub := &fakeBus{}
	req := post("application/json", `{"framework":"DUBBO","timestamp":1608518536265}`)
	for k, v := range map[string]string{
		"ce-specversion": "1.0", "ce-id": "170d56b6", "ce-source": "acs.mse", "ce-type": "mse:Agent:OutlierEjection",
		"ce-time": "2020-11-19T21:04:41+08:00", "ce-aliyunregionid": "cn-hangzhou",
	} {
		req.Headers[k] = v
	}
	resp, _ := formatHandler(t, pub, testSources).handle(context.Background(), req)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status = %d; want 202 (%s)", resp.StatusCode, resp.Body)
	}
	d := pub.events[0]
	want := `{"specversion":"1.0","id":"170d56b6","source":"acs.mse","type":"mse:Agent:OutlierEjection","time":"2020-11-19T21:04:41+08:00","datacontenttype":"application/json","aliyunregionid":"cn-hangzhou","data":{"framework":"DUBBO","timestamp":1608518536265}}`
	if string(d.Raw) != want || d.Hub.Format != "cloudevents" {
		t.Errorf("raw = %s (%s); want the structured event %s", d.Raw, d.Hub.Format, want)
	}

	// With a CloudEvents media type the body is a structured event, ce-* headers aside.
	structured := post("application/cloudevents+json", ce("s-1"))
	structured.Headers["ce-specversion"], structured.Headers["ce-id"] = "1.0", "ignored"
	resp, _ = formatHandler(t, &fakeBus{}, testSources).handle(context.Background(), structured)
	if r := decodeReply(t, resp); resp.StatusCode != 202 || r.IDs[0] != cloudevent.Key("/test", "s-1") {
		t.Errorf("structured with ce-* headers = %d %s; want the body's event", resp.StatusCode, resp.Body)
	}

	// A binary event missing its type names the header.
	delete(req.Headers, "ce-type")
	resp, _ = formatHandler(t, &fakeBus{}, testSources).handle(context.Background(), req)
	if r := decodeReply(t, resp); resp.StatusCode != 400 || r.Error == nil || r.Error.Path != "ce-type" {
		t.Errorf("missing ce-type = %d %s; want 400 at ce-type", resp.StatusCode, resp.Body)
	}
}

func TestIngestSchema(t *testing.T) {
	s, err := catalog.CompileSchema([]byte(`{"type":"object","required":["framework"],"properties":{"timestamp":{"type":"integer"}}}`), "schema")
	if err != nil {
		t.Fatal(err)
	}
	ev := func(id, data string) string {
		return `{"specversion":"1.0","id":"` + id + `","source":"acs.mse","type":"mse:Agent:OutlierEjection","data":` + data + `}`
	}
	body := "[" + ev("ok", `{"framework":"DUBBO","timestamp":1}`) + "," + ev("bad", `{"framework":"DUBBO","timestamp":"x"}`) + "," +
		ev("none", `null`) + "," + `{"specversion":"1.0","id":"other","source":"/s","type":"no.schema","data":1}` + "]"
	pub := &fakeBus{}
	h := formatHandler(t, pub, testSources)
	h.schemas = schemaMap{byType: map[string]*catalog.Schema{"mse:Agent:OutlierEjection": s}}
	resp, _ := h.handle(context.Background(), post("application/json", body))
	r := decodeReply(t, resp)
	if resp.StatusCode != 207 || r.Accepted != 2 {
		t.Fatalf("status = %d %s; want 207 with 2 accepted", resp.StatusCode, resp.Body)
	}
	if e := r.Results[1].Error; e == nil || e.Path != "[1].data.timestamp" || !strings.Contains(e.Message, "integer") {
		t.Errorf("results[1] = %+v; want the failing path [1].data.timestamp", e)
	}
	if e := r.Results[2].Error; e == nil || e.Path != "[2].data" {
		t.Errorf("results[2] = %+v; want [2].data (no data)", e)
	}

	// A catalog that cannot be read fails the request instead of skipping the check.
	h.schemas = schemaMap{err: errors.New("throttled")}
	resp, _ = h.handle(context.Background(), post("application/json", ev("x", "{}")))
	if resp.StatusCode != 500 {
		t.Errorf("catalog failure = %d; want 500", resp.StatusCode)
	}
}

func iuapRequest(appID, ts string, form url.Values, sign string) apigw.Request {
	req := post("application/x-www-form-urlencoded", form.Encode())
	req.RouteKey = routeIUAP
	delete(req.Headers, "authorization")
	req.QueryStringParameters = map[string]string{}
	if appID != "" {
		req.QueryStringParameters["appId"] = appID
	}
	if ts != "" {
		req.QueryStringParameters["ts"] = ts
	}
	if sign != "" {
		req.Headers["sign"] = sign
	}
	return req
}

func flat(form url.Values) map[string]string {
	m := map[string]string{}
	for k, v := range form {
		m[k] = v[0]
	}
	return m
}

func TestIngestIUAP(t *testing.T) {
	form := url.Values{"sourceID": {"USER"}, "eventType": {"ADD_AFTER"}, "tenantCode": {"t1"}, "userObject": {`{"userId":"u-1","name":"张三"}`}}
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	good := iuap.Sign(iuapKey, "crm", ts, flat(form))

	pub := &fakeBus{}
	resp, _ := formatHandler(t, pub, testSources).handle(context.Background(), iuapRequest("crm", ts, form, good))
	var ok iuapReply
	_ = json.Unmarshal([]byte(resp.Body), &ok)
	if resp.StatusCode != 200 || ok.Data.Status != 1 || !cloudevent.ValidKey(ok.Data.ID) {
		t.Fatalf("signed request = %d %s; want 200 with status 1 and an id", resp.StatusCode, resp.Body)
	}
	d := pub.events[0]
	// The form's fields as a JSON object, without the signature, for normalize.
	wantEvent := `{"appId":"crm","ts":"` + ts + `","eventType":"ADD_AFTER","sourceID":"USER","tenantCode":"t1","userObject":"{\"userId\":\"u-1\",\"name\":\"张三\"}"}`
	if string(d.Raw) != wantEvent || d.Hub.Format != "iuap" || d.Hub.SourceID != "src_crm" || d.Hub.Key != ok.Data.ID {
		t.Errorf("published %s (%s, %+v); want %s", d.Raw, d.Hub.Format, d.Hub, wantEvent)
	}

	stale := strconv.FormatInt(now.Add(-6*time.Minute).UnixMilli(), 10)
	future := strconv.FormatInt(now.Add(6*time.Minute).UnixMilli(), 10)
	tampered := url.Values{"sourceID": {"USER"}, "eventType": {"DELETE_AFTER"}, "tenantCode": {"t1"}, "userObject": form["userObject"]}
	oldKey := iuap.Sign("ehk_old", "crm", ts, flat(form))
	tests := []struct {
		name   string
		req    apigw.Request
		status int
		path   string
	}{
		{"bad signature", iuapRequest("crm", ts, form, strings.Repeat("0", 64)), 401, "sign"},
		{"signature of other fields", iuapRequest("crm", ts, tampered, good), 401, "sign"},
		{"signature with another key", iuapRequest("crm", ts, form, oldKey), 401, "sign"},
		{"no signature", iuapRequest("crm", ts, form, ""), 401, "sign"},
		{"signature not hex", iuapRequest("crm", ts, form, "zz"), 401, "sign"},
		{"stale ts", iuapRequest("crm", stale, form, iuap.Sign(iuapKey, "crm", stale, flat(form))), 401, "ts"},
		{"ts from the future", iuapRequest("crm", future, form, iuap.Sign(iuapKey, "crm", future, flat(form))), 401, "ts"},
		{"ts not a number", iuapRequest("crm", "yesterday", form, good), 401, "ts"},
		{"no ts", iuapRequest("crm", "", form, good), 401, "ts"},
		{"unknown appId", iuapRequest("nope", ts, form, good), 401, "appId"},
		{"no appId", iuapRequest("", ts, form, good), 401, "appId"},
		{"disabled source", iuapRequest("off", ts, form, good), 403, ""},
	}
	missing := url.Values{"sourceID": {"USER"}, "tenantCode": {"t1"}}
	tests = append(tests, struct {
		name   string
		req    apigw.Request
		status int
		path   string
	}{"missing eventType", iuapRequest("crm", ts, missing, iuap.Sign(iuapKey, "crm", ts, flat(missing))), 400, "eventType"})
	long := url.Values{"sourceID": {"USER"}, "eventType": {"ADD_AFTER"}, "tenantCode": {"tenant-0001"}}
	tests = append(tests, struct {
		name   string
		req    apigw.Request
		status int
		path   string
	}{"tenantCode too long", iuapRequest("crm", ts, long, iuap.Sign(iuapKey, "crm", ts, flat(long))), 400, "tenantCode"})
	jsonBody := iuapRequest("crm", ts, form, good)
	jsonBody.Headers["content-type"] = "application/json"
	tests = append(tests, struct {
		name   string
		req    apigw.Request
		status int
		path   string
	}{"not a form", jsonBody, 415, ""})
	twice := iuapRequest("crm", ts, form, good)
	twice.Body += "&sourceID=ROLE"
	tests = append(tests, struct {
		name   string
		req    apigw.Request
		status int
		path   string
	}{"field sent twice", twice, 400, "sourceID"})
	// The first scheme's string of a form re-cut so that one field swallows the next
	// (a name holding "=" and a line break) is that of the signed form: refused.
	signed := url.Values{"sourceID": {"USER"}, "eventType": {"ADD_AFTER"}, "tenantCode": {"t1"}, "userObject": {"x"}}
	recut := url.Values{"sourceID": {"USER"}, "eventType": {"ADD_AFTER"}, "tenantCode=t1\nuserObject": {"x"}}
	if iuap.StringToSign("crm", ts, flat(signed)) != iuap.StringToSign("crm", ts, flat(recut)) {
		t.Fatal("the re-cut form does not collide: the test does not test the attack")
	}
	recutV1 := iuapRequest("crm", ts, recut, iuap.Sign(iuapKey, "crm", ts, flat(signed)))
	recutV2 := iuapRequest("crm", ts, recut, iuap.SignV2(iuapKey, "crm", ts, []byte(signed.Encode())))
	noTenant := url.Values{"sourceID": {"USER"}, "eventType": {"ADD_AFTER"}}
	for _, c := range []struct {
		name   string
		req    apigw.Request
		status int
		path   string
	}{
		{"re-cut form, first scheme", recutV1, 401, "sign"},
		{"re-cut form, body signed", recutV2, 401, "sign"},
		{"value with a line break, first scheme", iuapRequest("crm", ts, url.Values{"sourceID": {"USER"}, "eventType": {"ADD"}, "tenantCode": {"t1\nx"}},
			iuap.Sign(iuapKey, "crm", ts, map[string]string{"sourceID": "USER", "eventType": "ADD", "tenantCode": "t1\nx"})), 401, "sign"},
		{"no tenantCode", iuapRequest("crm", ts, noTenant, iuap.SignV2(iuapKey, "crm", ts, []byte(noTenant.Encode()))), 400, "tenantCode"},
		{"body signed under another appId", iuapRequest("crm", ts, form, iuap.SignV2(iuapKey, "crm2", ts, []byte(form.Encode()))), 401, "sign"},
	} {
		tests = append(tests, struct {
			name   string
			req    apigw.Request
			status int
			path   string
		}{c.name, c.req, c.status, c.path})
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pub := &fakeBus{}
			resp, _ := formatHandler(t, pub, testSources).handle(context.Background(), tc.req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d; want %d (%s)", resp.StatusCode, tc.status, resp.Body)
			}
			var r iuapReply
			if err := json.Unmarshal([]byte(resp.Body), &r); err != nil || r.Data.Status != 0 || r.Data.Message == "" || r.Error == nil {
				t.Fatalf("body = %s; want status 0 with the reason", resp.Body)
			}
			if r.Error.Path != tc.path {
				t.Errorf("error path = %q; want %q (%s)", r.Error.Path, tc.path, r.Error.Message)
			}
			if strings.Contains(resp.Body, good) && tc.name != "bad signature" {
				t.Errorf("answer reveals the expected signature")
			}
			if len(pub.events) != 0 {
				t.Errorf("published %d entries; want none", len(pub.events))
			}
		})
	}
}

func TestIngestDepth(t *testing.T) {
	deep := strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1)
	deeper := strings.Repeat(`[`, maxDepth+1) + strings.Repeat("]", maxDepth+1)
	inString := `{"specversion":"1.0","id":"a","source":"/s","type":"t","data":"` + strings.Repeat("[", 1000) + `"}`
	for _, tc := range []struct {
		name, body string
		status     int
	}{
		{"at the limit", `{"specversion":"1.0","id":"a","source":"/s","type":"t","data":` + strings.Repeat(`{"a":`, maxDepth-1) + "1" + strings.Repeat("}", maxDepth-1) + `}`, 202},
		{"object too deep", deep[:len(deep)-1] + `,"specversion":"1.0"}`, 400},
		{"array too deep", deeper, 400},
		{"brackets in a string", inString, 202},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := formatHandler(t, &fakeBus{}, testSources).handle(context.Background(), post("application/json", tc.body))
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d; want %d (%.200s)", resp.StatusCode, tc.status, resp.Body)
			}
			if tc.status == 400 {
				if r := decodeReply(t, resp); r.Error == nil || !strings.Contains(r.Error.Message, "nested") || r.Error.Column == 0 {
					t.Errorf("error = %+v; want the nesting located", r.Error)
				}
			}
		})
	}
}

// TestIngestFixtures runs the events/ingest-*.json fixtures (the ones for
// `make invoke` and `sam local invoke -e`) through the handler with the sources they
// name: token ehp_example, data id 1500001, iuap appId ANONYMOUS_CLUSTER with key
// ehk_example, at the time the fixture says it was received.
func TestIngestFixtures(t *testing.T) {
	tests := map[string]struct {
		status int
		format string
	}{
		"ingest-cloudevent.json":          {202, "cloudevents"},
		"ingest-cloudevent-binary.json":   {202, "cloudevents"},
		"ingest-juno.json":                {202, "juno"},
		"ingest-bkmonitor.json":           {202, "bkmonitor"},
		"ingest-huaweiconfig.json":        {202, "huaweiconfig"},
		"ingest-huaweiconfig-broken.json": {400, ""},
		"ingest-generic.json":             {202, "generic"},
		"ingest-iuap.json":                {200, "iuap"},
	}
	for file, tc := range tests {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile("../../events/" + file)
			if err != nil {
				t.Fatal(err)
			}
			var req apigw.Request
			if err := json.Unmarshal(data, &req); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			pub := &fakeBus{}
			h := formatHandler(t, pub, map[string]*store.Source{"ehp_example": {ID: "src_example", Format: "auto", Enabled: true, DataID: 1500001, Owns: &ownership.Set{Exact: []string{"acs.mse"}, Prefixes: []string{"juno/", "huaweicloud.config/"}}}})
			h.apps = appFunc(func(context.Context, string) (*store.Source, error) {
				return &store.Source{ID: "src_example", AppID: "ANONYMOUS_CLUSTER", Enabled: true, SigningKey: "ehk_example"}, nil
			})
			h.now = func() time.Time { return time.UnixMilli(req.RequestContext.TimeEpoch) }
			resp, err := h.handle(context.Background(), req)
			if err != nil || resp.StatusCode != tc.status {
				t.Fatalf("handle = %d %s, %v; want %d", resp.StatusCode, resp.Body, err, tc.status)
			}
			if tc.format == "" {
				return
			}
			if len(pub.events) != 1 {
				t.Fatalf("published %d entries; want 1", len(pub.events))
			}
			if d := pub.events[0]; d.Hub.Format != tc.format {
				t.Errorf("format = %s; want %s", d.Hub.Format, tc.format)
			}
		})
	}
}

// staleApps serves a cached source from before a key rotation, and the rotated one
// when asked to read past the cache.
type staleApps struct{ cached, fresh *store.Source }

func (s staleApps) Source(context.Context, string) (*store.Source, error) { return s.cached, nil }
func (s staleApps) Fresh(context.Context, string) (*store.Source, error)  { return s.fresh, nil }

// TestIngestIUAPSignedBody: a request signed over its body (v2) is accepted, values
// with line breaks included, and stored with exactly the fields that were signed.
func TestIngestIUAPSignedBody(t *testing.T) {
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	form := url.Values{"sourceID": {"USER"}, "eventType": {"ADD_AFTER"}, "tenantCode": {"t1"}, "userObject": {"{\n  \"userId\": \"u-1\"\n}"}}
	pub := &fakeBus{}
	resp, _ := formatHandler(t, pub, testSources).handle(context.Background(), iuapRequest("crm", ts, form, iuap.SignV2(iuapKey, "crm", ts, []byte(form.Encode()))))
	if resp.StatusCode != 200 || len(pub.events) != 1 {
		t.Fatalf("body-signed request = %d %s; want 200", resp.StatusCode, resp.Body)
	}
	if d := pub.events[0]; !strings.Contains(string(d.Raw), `"tenantCode":"t1"`) || !d.Hub.Signed {
		t.Errorf("published %s (%+v); want the signed fields, marked signed", d.Raw, d.Hub)
	}
}

func TestIngestIUAPKeyRotatedPastTheCache(t *testing.T) {
	form := url.Values{"sourceID": {"USER"}, "eventType": {"ADD_AFTER"}, "tenantCode": {"t1"}}
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	rotated := *iuapSource
	rotated.SigningKey, rotated.PrevSigningKey, rotated.PrevSigningKeyUntil = "ehk_new", iuapKey, now.Add(time.Hour)
	h := formatHandler(t, &fakeBus{}, testSources)
	h.apps = staleApps{cached: iuapSource, fresh: &rotated}
	for _, key := range []string{"ehk_new", iuapKey} {
		resp, _ := h.handle(context.Background(), iuapRequest("crm", ts, form, iuap.Sign(key, "crm", ts, flat(form))))
		if resp.StatusCode != 200 {
			t.Errorf("signed with %s = %d %s; want 200", key, resp.StatusCode, resp.Body)
		}
	}
	resp, _ := h.handle(context.Background(), iuapRequest("crm", ts, form, iuap.Sign("ehk_other", "crm", ts, flat(form))))
	if resp.StatusCode != 401 {
		t.Errorf("signed with an unknown key = %d; want 401", resp.StatusCode)
	}
}

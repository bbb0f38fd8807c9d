package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventhub/eventhub/shared/adapter/iuap"
	"github.com/eventhub/eventhub/shared/cloudevent"
)

// registered is a source as POST /sources answers it.
type registered struct {
	ID         string `json:"id"`
	Token      string `json:"token"`
	SigningKey string `json:"signingKey"`
	AppID      string `json:"appId"`
	DataID     int64  `json:"dataId"`
	// InboundSecret is the secret of a github, gitlab or standardwebhooks source.
	InboundSecret string `json:"inboundSecret"`
}

// register creates a producer source with the body's settings.
func register(t *testing.T, body string) registered {
	t.Helper()
	var src registered
	if status := call(t, http.MethodPost, "/sources", local.AdminToken, body, &src); status != http.StatusCreated {
		t.Fatalf("POST /sources %s = %d", body, status)
	}
	return src
}

// request sends a request with the headers to the local API.
func request(t *testing.T, method, path string, header map[string]string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, local.APIURL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// example reads an adapter's testdata file.
func example(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "shared", "adapter", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantEvent is the golden CloudEvent of an adapter example, compacted.
func wantEvent(t *testing.T, name string) *cloudevent.Event {
	t.Helper()
	ev, err := cloudevent.Parse(example(t, name+".golden"))
	if err != nil {
		t.Fatalf("%s.golden: %v", name, err)
	}
	return ev
}

// blueKing is a BlueKing event as a plugin instance's source sends it: under the
// source of its data id.
func blueKing(ev *cloudevent.Event, dataID int64) *cloudevent.Event {
	ev.Source = fmt.Sprintf("bkmonitor/%d", dataID)
	return ev
}

func acceptedIDs(t *testing.T, status int, raw []byte, want int) []string {
	t.Helper()
	var out accepted
	if status != http.StatusAccepted {
		t.Fatalf("status = %d %s; want 202", status, raw)
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.IDs) != want {
		t.Fatalf("answer %s: want %d ids", raw, want)
	}
	return out.IDs
}

// storedAs waits for the event and checks that the stored CloudEvent is exactly want:
// the producer's id, time and every field, in the canonical form.
func storedAs(t *testing.T, id string, want *cloudevent.Event) {
	t.Helper()
	if id != want.Key() {
		t.Errorf("id = %s; want %s, the key of (%s, %s)", id, want.Key(), want.Source, want.ID)
	}
	ev := waitStored(t, id)
	wantJSON, _ := want.MarshalJSON()
	if !sameJSON(ev.Event, wantJSON) {
		t.Errorf("stored event:\n got %s\nwant %s", ev.Event, wantJSON)
	}
}

// sameJSON compares JSON documents by value: member order aside, and strings compared
// after unescaping (EventBridge's path escapes <, > and & as \u003c...).
func sameJSON(a, b []byte) bool {
	decode := func(b []byte) any {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil {
			return nil
		}
		return v
	}
	va, vb := decode(a), decode(b)
	return va != nil && reflect.DeepEqual(va, vb)
}

// TestProducersSeedFormats sends every seed document's examples the way its producers
// send them and reads back the stored CloudEvent.
func TestProducersSeedFormats(t *testing.T) {
	needStack(t)
	ce := register(t, `{"name":"mse","format":"cloudevents","owns":{"exact":["acs.mse","/sensors/7"]}}`)
	juno := register(t, `{"name":"juno","format":"juno","owns":{"exact":["juno/confgo","juno/devops","juno/grafana"]}}`)
	auto := register(t, `{"name":"anything","format":"auto","owns":{"exact":["juno/git"]}}`)
	bk := register(t, `{"name":"bk plugin","format":"bkmonitor","dataId":1500001,"dedupeKeys":["alert_name","target"]}`)
	hwc := register(t, `{"name":"huawei config","format":"huaweiconfig","owns":{"exact":["huaweicloud.config/059b5c937100d3e40ff0c00a7675a0a0"]}}`)
	json := map[string]string{"Content-Type": "application/json"}
	bearer := func(token string, h map[string]string) map[string]string {
		out := map[string]string{"Authorization": "Bearer " + token}
		for k, v := range h {
			out[k] = v
		}
		return out
	}

	t.Run("mse structured", func(t *testing.T) {
		for _, name := range []string{"mse_graceful_shutdown", "mse_outlier_ejection", "mse_outlier_recover"} {
			status, raw := request(t, "POST", "/events", bearer(ce.Token, map[string]string{"Content-Type": "application/cloudevents+json"}), example(t, "cloudevents/testdata/"+name+".input"))
			storedAs(t, acceptedIDs(t, status, raw, 1)[0], wantEvent(t, "cloudevents/testdata/"+name))
		}
	})
	t.Run("mse binary", func(t *testing.T) {
		h := bearer(ce.Token, map[string]string{
			"Content-Type": "application/json", "ce-specversion": "1.0", "ce-id": "bin-170d56b6", "ce-source": "acs.mse",
			"ce-type": "mse:Agent:OutlierEjection", "ce-time": "2020-11-19T21:04:41+08:00", "ce-aliyunregionid": "cn-hangzhou",
			"ce-aliyunpublishtime": "2020-11-19T21:04:42.179PRC",
		})
		status, raw := request(t, "POST", "/events", h, []byte(`{"framework":"DUBBO","timestamp":1608518536265}`))
		want, _ := cloudevent.Parse([]byte(`{"specversion":"1.0","id":"bin-170d56b6","source":"acs.mse","type":"mse:Agent:OutlierEjection","time":"2020-11-19T21:04:41+08:00","datacontenttype":"application/json","aliyunpublishtime":"2020-11-19T21:04:42.179PRC","aliyunregionid":"cn-hangzhou","data":{"framework":"DUBBO","timestamp":1608518536265}}`))
		storedAs(t, acceptedIDs(t, status, raw, 1)[0], want)
	})
	t.Run("mse batch", func(t *testing.T) {
		body := "[" + string(example(t, "cloudevents/testdata/mse_outlier_ejection.input")) + "," + string(example(t, "cloudevents/testdata/data_base64.input")) + "]"
		status, raw := request(t, "POST", "/events", bearer(ce.Token, map[string]string{"Content-Type": "application/cloudevents-batch+json"}), []byte(body))
		ids := acceptedIDs(t, status, raw, 2)
		storedAs(t, ids[0], wantEvent(t, "cloudevents/testdata/mse_outlier_ejection"))
		storedAs(t, ids[1], wantEvent(t, "cloudevents/testdata/data_base64"))
	})
	t.Run("juno", func(t *testing.T) {
		for _, name := range []string{"seed_confgo_file_update", "string_ids_app_node_restart", "grafana_alert_metadata_object"} {
			status, raw := request(t, "POST", "/events", bearer(juno.Token, json), example(t, "juno/testdata/"+name+".input"))
			storedAs(t, acceptedIDs(t, status, raw, 1)[0], wantEvent(t, "juno/testdata/"+name))
		}
	})
	t.Run("juno detected by an auto source", func(t *testing.T) {
		// Under a Juno subsystem the auto source owns.
		body := strings.Replace(string(example(t, "juno/testdata/confgo_file_publish_metadata_array.input")), `"source":"confgo"`, `"source":"git"`, 1)
		status, raw := request(t, "POST", "/events", bearer(auto.Token, json), []byte(body))
		want := wantEvent(t, "juno/testdata/confgo_file_publish_metadata_array")
		want.Source = "juno/git"
		want.Data = []byte(strings.Replace(string(want.Data), `"confgo"`, `"git"`, 1))
		storedAs(t, acceptedIDs(t, status, raw, 1)[0], want)
	})
	t.Run("bkmonitor with data_id and token in the body", func(t *testing.T) {
		body := fmt.Sprintf(`{"data_id":%d,"access_token":%q,"data":[%s,%s]}`, bk.DataID, bk.Token,
			example(t, "bkmonitor/testdata/seed_cpu_usage.input"), example(t, "bkmonitor/testdata/string_severity_ms_time.input"))
		status, raw := request(t, "POST", "/api/v1/events", json, []byte(body))
		ids := acceptedIDs(t, status, raw, 2)
		storedAs(t, ids[0], blueKing(wantEvent(t, "bkmonitor/testdata/seed_cpu_usage"), bk.DataID))
		storedAs(t, ids[1], blueKing(wantEvent(t, "bkmonitor/testdata/string_severity_ms_time"), bk.DataID))
	})
	t.Run("bkmonitor with a bearer token", func(t *testing.T) {
		status, raw := request(t, "POST", "/events", bearer(bk.Token, json), example(t, "bkmonitor/testdata/all_fields_recovered.input"))
		storedAs(t, acceptedIDs(t, status, raw, 1)[0], blueKing(wantEvent(t, "bkmonitor/testdata/all_fields_recovered"), bk.DataID))
	})
	t.Run("huaweiconfig, all four notification types", func(t *testing.T) {
		for _, name := range []string{"seed_resource_changed", "seed_resource_relation_changed", "seed_snapshot_archive_completed", "seed_notification_archive_completed", "resource_deleted"} {
			status, raw := request(t, "POST", "/events", bearer(hwc.Token, json), example(t, "huaweiconfig/testdata/"+name+".input"))
			storedAs(t, acceptedIDs(t, status, raw, 1)[0], wantEvent(t, "huaweiconfig/testdata/"+name))
		}
	})
	t.Run("huaweiconfig as published in the seed: broken JSON located", func(t *testing.T) {
		for name, at := range map[string][2]int{
			"seed_resource_changed_as_published":               {51, 35},
			"seed_snapshot_archive_completed_as_published":     {4, 20},
			"seed_notification_archive_completed_as_published": {3, 18},
		} {
			status, raw := request(t, "POST", "/events", bearer(hwc.Token, json), example(t, "huaweiconfig/testdata/"+name+".input"))
			var out struct {
				Error struct {
					Message      string
					Line, Column int
				}
			}
			_ = jsonUnmarshal(raw, &out)
			if status != 400 || out.Error.Line != at[0] || out.Error.Column != at[1] || !strings.Contains(out.Error.Message, "malformed JSON") {
				t.Errorf("%s = %d %s; want 400 at line %d column %d", name, status, raw, at[0], at[1])
			}
		}
	})
	t.Run("generic", func(t *testing.T) {
		status, raw := request(t, "POST", "/events", bearer(auto.Token, json), example(t, "generic/testdata/unicode_and_numbers.input"))
		want := wantEvent(t, "generic/testdata/unicode_and_numbers")
		want.Source = "/sources/" + auto.ID
		storedAs(t, acceptedIDs(t, status, raw, 1)[0], want)
	})
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// iuapPost sends iuap's signed form post.
func iuapPost(t *testing.T, appID, ts, sign string, form url.Values) (int, []byte) {
	t.Helper()
	q := url.Values{}
	if appID != "" {
		q.Set("appId", appID)
	}
	if ts != "" {
		q.Set("ts", ts)
	}
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	if sign != "" {
		h["sign"] = sign
	}
	return request(t, "POST", "/event/eventmanager/sendEventMsg.do?"+q.Encode(), h, []byte(form.Encode()))
}

func flatForm(form url.Values) map[string]string {
	m := map[string]string{}
	for k, v := range form {
		m[k] = v[0]
	}
	return m
}

func TestProducersIUAP(t *testing.T) {
	needStack(t)
	src := register(t, `{"name":"iuap crm","format":"iuap","appId":"ANONYMOUS_CLUSTER"}`)
	if src.SigningKey == "" || src.AppID != "ANONYMOUS_CLUSTER" {
		t.Fatalf("iuap source = %+v; want a signing key and the appId", src)
	}
	var conflict struct{ Error struct{ Path string } }
	if s := call(t, http.MethodPost, "/sources", local.AdminToken, `{"name":"iuap twin","format":"iuap","appId":"ANONYMOUS_CLUSTER"}`, &conflict); s != http.StatusConflict || conflict.Error.Path != "appId" {
		t.Errorf("a second source with the appId = %d %+v; want 409 at appId", s, conflict)
	}
	form := url.Values{"sourceID": {"USER"}, "eventType": {"ADD_AFTER"}, "tenantCode": {"t0001"}, "userObject": {`{"userId":"u-1001","name":"张三"}`}}
	at := time.Now()
	ts := strconv.FormatInt(at.UnixMilli(), 10)
	status, raw := iuapPost(t, src.AppID, ts, iuap.Sign(src.SigningKey, src.AppID, ts, flatForm(form)), form)
	var reply struct {
		Data struct {
			Message string `json:"message"`
			Status  int    `json:"status"`
			ID      string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &reply); err != nil || status != 200 || reply.Data.Status != 1 {
		t.Fatalf("sendEventMsg.do = %d %s; want 200 with status 1", status, raw)
	}
	fields := fmt.Sprintf(`{"appId":"ANONYMOUS_CLUSTER","ts":%q,"eventType":"ADD_AFTER","sourceID":"USER","tenantCode":"t0001","userObject":{"userId":"u-1001","name":"张三"}}`, ts)
	want, err := cloudevent.Parse([]byte(fmt.Sprintf(`{"specversion":"1.0","id":"x","source":"iuap/ANONYMOUS_CLUSTER","type":"USER:ADD_AFTER","subject":"t0001","time":%q,"datacontenttype":"application/json","data":%s}`,
		time.UnixMilli(at.UnixMilli()).UTC().Format(time.RFC3339Nano), fields)))
	if err != nil {
		t.Fatal(err)
	}
	ev := waitStored(t, reply.Data.ID)
	var got cloudevent.Event
	if err := json.Unmarshal(ev.Event, &got); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.ID, "iuap-") || got.Key() != reply.Data.ID {
		t.Errorf("stored id %q (key %s); want a derived iuap- id stored under %s", got.ID, got.Key(), reply.Data.ID)
	}
	want.ID = got.ID
	wantJSON, _ := want.MarshalJSON()
	gotJSON, _ := got.MarshalJSON()
	if !sameJSON(gotJSON, wantJSON) {
		t.Errorf("stored event:\n got %s\nwant %s", gotJSON, wantJSON)
	}

	// The same request again (an iuap retry) is stored once.
	status, raw = iuapPost(t, src.AppID, ts, iuap.Sign(src.SigningKey, src.AppID, ts, flatForm(form)), form)
	if status != 200 || !strings.Contains(string(raw), reply.Data.ID) {
		t.Errorf("resend = %d %s; want the same id", status, raw)
	}

	// After a key rotation with a grace period, both keys sign.
	var rotated registered
	if s := call(t, "POST", "/sources/"+src.ID+"/rotate", local.AdminToken, `{"credential":"signingKey","grace":"1h"}`, &rotated); s != 200 || rotated.SigningKey == "" {
		t.Fatalf("rotate signing key = %d", s)
	}
	for i, key := range []string{src.SigningKey, rotated.SigningKey} {
		f := url.Values{"sourceID": {"USER"}, "eventType": {"UPDATE_AFTER"}, "tenantCode": {"t0001"}, "userObject": {strconv.Itoa(i)}}
		ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
		if status, raw := iuapPost(t, src.AppID, ts, iuap.Sign(key, src.AppID, ts, flatForm(f)), f); status != 200 {
			t.Errorf("key %d after rotation = %d %s; want 200", i, status, raw)
		}
	}
}

func TestProducersTokenLifecycle(t *testing.T) {
	needStack(t)
	src := register(t, `{"name":"rotating","format":"cloudevents","owns":{"exact":["/rotate-e2e"]}}`)
	postWith := func(token string) int {
		_, body := cloudEvent("e2e.rotate")
		body = strings.Replace(body, `"source":"/e2e/tests"`, `"source":"/rotate-e2e"`, 1)
		status, _ := send(t, "POST", "/events", token, "application/cloudevents+json", []byte(body))
		return status
	}
	var rotated registered
	if s := call(t, "POST", "/sources/"+src.ID+"/rotate", local.AdminToken, `{"grace":"1h"}`, &rotated); s != 200 || rotated.Token == "" {
		t.Fatalf("rotate = %d", s)
	}
	if a, b := postWith(src.Token), postWith(rotated.Token); a != 202 || b != 202 {
		t.Errorf("during the grace period: old token %d, new token %d; want 202 for both", a, b)
	}
	// A replaced token that ingest never cached stops at once without a grace period
	// (a cached one within the cache's 30 s).
	var unused registered
	call(t, "POST", "/sources/"+src.ID+"/rotate", local.AdminToken, `{"grace":"0s"}`, &unused)
	var again registered
	if s := call(t, "POST", "/sources/"+src.ID+"/rotate", local.AdminToken, `{"grace":"0s"}`, &again); s != 200 {
		t.Fatalf("rotate = %d", s)
	}
	if got := postWith(unused.Token); got != 401 {
		t.Errorf("token replaced without grace = %d; want 401", got)
	}
	if got := postWith(again.Token); got != 202 {
		t.Errorf("newest token = %d; want 202", got)
	}
	var view struct {
		Enabled    bool     `json:"enabled"`
		DedupeKeys []string `json:"dedupeKeys"`
	}
	if s := call(t, "PATCH", "/sources/"+src.ID, local.AdminToken, `{"enabled":false,"dedupeKeys":["type"]}`, &view); s != 200 || view.Enabled || len(view.DedupeKeys) != 1 {
		t.Fatalf("PATCH = %d %+v", s, view)
	}
	// The ingest cache may hold the source for up to 30 s; a token it has not seen is
	// read fresh, so rotate once more to see the disabled state at once.
	var fresh registered
	call(t, "POST", "/sources/"+src.ID+"/rotate", local.AdminToken, `{"grace":"0s"}`, &fresh)
	if got := postWith(fresh.Token); got != 403 {
		t.Errorf("disabled source = %d; want 403", got)
	}
}

func TestProducersTypeSchema(t *testing.T) {
	needStack(t)
	typ := fmt.Sprintf("e2e.schema.%d", time.Now().UnixNano())
	body := `{"description":"orders","owner":"shop","version":"1","schema":{"type":"object","required":["orderId"],"properties":{"orderId":{"type":"string"},"total":{"type":"number","minimum":0}}}}`
	if s := call(t, "PUT", "/types/"+typ, local.AdminToken, body, nil); s != 201 {
		t.Fatalf("PUT /types = %d", s)
	}
	ev := func(id, data string) string {
		return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/shop","type":%q,"data":%s}`, id, typ, data)
	}
	// Ingest reads the catalog again within 5 s.
	n := 0
	var status int
	var raw []byte
	eventually(t, 10*time.Second, "the schema enforced", func() bool {
		n++
		status, raw = send(t, "POST", "/events", producer, "application/cloudevents-batch+json",
			[]byte("["+ev(fmt.Sprint("ok-", n), `{"orderId":"SO-1","total":3}`)+","+ev(fmt.Sprint("neg-", n), `{"orderId":"SO-2","total":-1}`)+"]"))
		return status != 202
	})
	var out struct {
		Accepted int
		Results  []struct {
			ID    string
			Error *struct{ Path, Message string }
		}
	}
	_ = json.Unmarshal(raw, &out)
	if status != 207 || out.Accepted != 1 || out.Results[1].Error == nil || out.Results[1].Error.Path != "[1].data.total" {
		t.Errorf("POST = %d %s; want 207 with [1].data.total rejected", status, raw)
	}
	if status, _ := request(t, "GET", "/types/"+typ, map[string]string{"Authorization": "Bearer " + local.AdminToken}, nil); status != 200 {
		t.Errorf("GET /types/%s = %d", typ, status)
	}
}

// A draft 2020-12 schema with definitions, references, a conditional and property
// patterns is accepted by PUT /types and enforced at ingest; one that refers outside
// itself is refused, since no function fetches schemas.
func TestProducersTypeSchemaDraft2020(t *testing.T) {
	needStack(t)
	typ := fmt.Sprintf("e2e.schema2020.%d", time.Now().UnixNano())
	if s := call(t, "PUT", "/types/"+typ, local.AdminToken, `{"schema":{"$ref":"https://example.com/order.json"}}`, nil); s != 400 {
		t.Errorf("PUT /types with a remote $ref = %d; want 400", s)
	}
	schema := `{"$schema":"https://json-schema.org/draft/2020-12/schema",
"$defs":{"sku":{"type":"string","pattern":"^[A-Z]{3}-[0-9]+$"}},
"type":"object",
"properties":{"kind":{"enum":["retail","wholesale"]},"items":{"type":"array","items":{"$ref":"#/$defs/sku"}}},
"if":{"properties":{"kind":{"const":"wholesale"}},"required":["kind"]},"then":{"required":["vat"]},
"patternProperties":{"^x-":{"type":"string"}}}`
	if s := call(t, "PUT", "/types/"+typ, local.AdminToken, `{"description":"orders","schema":`+schema+`}`, nil); s != 201 {
		t.Fatalf("PUT /types = %d", s)
	}
	ev := func(id, data string) string {
		return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/shop","type":%q,"data":%s}`, id, typ, data)
	}
	datas := []string{
		`{"kind":"wholesale","vat":"DE1","items":["ABC-1"],"x-note":"n"}`,
		`{"kind":"retail","items":["ABC-1","abc"]}`,
		`{"kind":"wholesale"}`,
		`{"x-note":1}`,
	}
	want := []string{"", "[1].data.items[1]", "[2].data.vat", "[3].data.x-note"}
	var out struct {
		Accepted int
		Results  []struct {
			ID    string
			Error *struct{ Path, Message string }
		}
	}
	n := 0
	var status int
	var raw []byte
	eventually(t, 10*time.Second, "the schema enforced", func() bool {
		n++
		var evs []string
		for i, d := range datas {
			evs = append(evs, ev(fmt.Sprint("s2020-", n, "-", i), d))
		}
		status, raw = send(t, "POST", "/events", producer, "application/cloudevents-batch+json", []byte("["+strings.Join(evs, ",")+"]"))
		return status != 202
	})
	_ = json.Unmarshal(raw, &out)
	if status != 207 || out.Accepted != 1 || len(out.Results) != len(want) {
		t.Fatalf("POST = %d %s; want 207 with one accepted", status, raw)
	}
	for i, w := range want {
		got := ""
		if e := out.Results[i].Error; e != nil {
			got = e.Path
		}
		if got != w {
			t.Errorf("result %d path = %q; want %q (%s)", i, got, w, raw)
		}
	}
}

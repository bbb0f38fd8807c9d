package tests

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventhub/eventhub/shared/adapter/iuap"
	"github.com/eventhub/eventhub/shared/inbound"
)

// hostile is one malformed or hostile request and the answer it must get.
type hostile struct {
	name   string
	method string
	path   string
	header map[string]string
	body   []byte
	status int    // the exact 4xx wanted
	where  string // the error path wanted, when the request names one
}

// TestHostileInput sends malformed and hostile requests of every kind to the running
// stack: each must get its precise 4xx with a reason (and the JSON path or position
// where the request names one), none a 5xx; a 4xx from ingest accepts nothing.
func TestHostileInput(t *testing.T) {
	needStack(t)
	ce := register(t, `{"name":"hostile ce","format":"cloudevents","owns":{"exact":["/h"],"prefixes":["/h/"]}}`)
	auto := register(t, `{"name":"hostile auto","format":"auto"}`)
	bk := register(t, `{"name":"hostile bk","format":"bkmonitor","dataId":1600001}`)
	ip := register(t, `{"name":"hostile iuap","format":"iuap","appId":"HOSTILE_NODE"}`)
	off := register(t, `{"name":"hostile disabled","format":"auto"}`)
	if s := call(t, "PATCH", "/sources/"+off.ID, local.AdminToken, `{"enabled":false}`, nil); s != 200 {
		t.Fatalf("disable = %d", s)
	}
	typ := fmt.Sprintf("hostile.schema.%d", time.Now().UnixNano())
	if s := call(t, "PUT", "/types/"+typ, local.AdminToken, `{"schema":{"type":"object","required":["n"],"properties":{"n":{"type":"integer","maximum":9}}}}`, nil); s != 201 {
		t.Fatalf("PUT /types = %d", s)
	}
	// A warm ingest rereads the catalog within 5 s: wait until the schema is enforced.
	probe := 0
	eventually(t, 15*time.Second, "the schema enforced", func() bool {
		probe++
		s, _ := send(t, "POST", "/events", ce.Token, "application/json",
			[]byte(fmt.Sprintf(`{"specversion":"1.0","id":"probe-%d","source":"/h","type":%q,"data":{"n":10}}`, probe, typ)))
		return s == 400
	})

	jsonCT := "application/json"
	binaryJSON := "application/cloudevents+json" // passed to the function base64-encoded
	events := func(token, ct string, body []byte) hostile {
		h := map[string]string{"Content-Type": ct}
		if token != "" {
			h["Authorization"] = "Bearer " + token
		}
		return hostile{method: "POST", path: "/events", header: h, body: body}
	}
	var cases []hostile
	add := func(name string, h hostile, status int, where string) {
		h.name, h.status, h.where = name, status, where
		cases = append(cases, h)
	}
	valid := string(example(t, "cloudevents/testdata/mse_outlier_ejection.input"))
	bkEvent := string(example(t, "bkmonitor/testdata/seed_cpu_usage.input"))
	juno := string(example(t, "juno/testdata/seed_confgo_file_update.input"))

	// Broken JSON: the seed's own Huawei examples, and truncations of valid events.
	for _, name := range []string{"seed_resource_changed_as_published", "seed_snapshot_archive_completed_as_published", "seed_notification_archive_completed_as_published"} {
		add("huawei as published: "+name, events(auto.Token, jsonCT, example(t, "huaweiconfig/testdata/"+name+".input")), 400, "")
	}
	for i, cut := range []int{1, 2, 15, 40, 77, 120, 200, 333, 420, len(valid) - 3, len(valid) - 2} {
		add(fmt.Sprintf("truncated MSE event %d at %d", i, cut), events(ce.Token, jsonCT, []byte(valid[:cut])), 400, "")
	}
	for i, cut := range []int{5, 60, 180, 300, len(juno) - 2} {
		add(fmt.Sprintf("truncated Juno message %d", i), events(auto.Token, jsonCT, []byte(juno[:cut])), 400, "")
	}
	for i, b := range []string{
		`{"specversion":"1.0",}`, `{"specversion" "1.0"}`, `{'id':'a'}`, `{"id":"a"}}`, `[{"id":1},]`, `{"a":01}`,
		`{"a":NaN}`, `{"a":"\x"}`, `{"a":tru}`, `{"a":"line` + "\n" + `break"}`, "\ufeff{}", `{"a":1}{"b":2}`,
	} {
		add(fmt.Sprintf("broken JSON %d: %.20s", i, b), events(auto.Token, jsonCT, []byte(b)), 400, "")
	}

	// Wrong types and missing fields: every adapter's own error examples.
	for _, dir := range []string{"cloudevents", "juno", "bkmonitor", "huaweiconfig", "generic"} {
		files, _ := filepath.Glob(filepath.Join("..", "shared", "adapter", dir, "testdata", "err_*.input"))
		for _, f := range files {
			var golden struct{ Error struct{ Path string } }
			_ = json.Unmarshal(example(t, dir+"/testdata/"+strings.TrimSuffix(filepath.Base(f), ".input")+".golden"), &golden)
			ct := jsonCT
			if strings.Contains(f, "utf8") {
				ct = binaryJSON
			}
			h := events(auto.Token, ct, example(t, dir+"/testdata/"+filepath.Base(f)))
			if dir != "generic" {
				h.path += "?format=" + dir
			}
			where := golden.Error.Path
			if where == "$" { // a top-level array is a batch at ingest
				where = ""
			}
			add(dir+" "+filepath.Base(f), h, 400, where)
		}
	}

	// Invalid UTF-8, empty bodies, not objects. API Gateway hands text bodies
	// (application/json) to the function as a JSON string, where invalid UTF-8 cannot
	// survive; other content types arrive base64-encoded, byte for byte.
	for i, b := range []string{"{\"a\":\"\xff\"}", "{\"a\":\"\xc3\x28\"}", "{\"\xed\xa0\x80\":1}", "\xfe\xff", "{\"specversion\":\"1.0\",\"id\":\"\xf0\x28\x8c\xbc\"}"} {
		add(fmt.Sprintf("invalid UTF-8 %d", i), events(auto.Token, binaryJSON, []byte(b)), 400, "")
	}
	for i, b := range []string{"", " ", "\n\t\r "} {
		add(fmt.Sprintf("empty body %d", i), events(auto.Token, jsonCT, []byte(b)), 400, "")
	}
	for _, b := range []string{`"event"`, `42`, `null`, `true`, `[]`, `[1,2]`, `[null]`} {
		add("not an object: "+b, events(auto.Token, jsonCT, []byte(b)), 400, "")
	}

	// Oversize, overlong batches and deep nesting.
	big := `{"specversion":"1.0","id":"big","source":"/h","type":"t","data":"` + strings.Repeat("x", 300<<10) + `"}`
	huge := `{"specversion":"1.0","id":"huge","source":"/h","type":"t","data":"` + string(incompressible(600<<10)) + `"}`
	add("event the store cannot hold", events(ce.Token, jsonCT, []byte(huge)), 413, "")
	add("body over 1 MiB", events(ce.Token, jsonCT, []byte("["+strings.TrimSuffix(strings.Repeat(big[:200<<10]+`"},`, 6), ",")+"]")), 413, "")
	add("101 events", events(ce.Token, "application/cloudevents-batch+json", []byte("["+strings.TrimSuffix(strings.Repeat(valid+",", 101), ",")+"]")), 413, "")
	add("deep objects", events(auto.Token, jsonCT, []byte(strings.Repeat(`{"a":`, 1000)+"1"+strings.Repeat("}", 1000))), 400, "")
	add("deep arrays", events(auto.Token, jsonCT, []byte(strings.Repeat("[", 100000)+strings.Repeat("]", 100000))), 400, "")
	add("deep inside data", events(ce.Token, jsonCT, []byte(`{"specversion":"1.0","id":"d","source":"/h","type":"t","data":`+strings.Repeat("[", 70)+strings.Repeat("]", 70)+`}`)), 400, "")

	// Content types.
	for _, ct := range []string{"text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "image/png"} {
		add("content type "+ct, events(ce.Token, ct, []byte(valid)), 415, "")
	}
	add("CloudEvents batch that is an object", events(ce.Token, "application/cloudevents-batch+json", []byte(valid)), 400, "$")

	// Tokens.
	for name, auth := range map[string]string{
		"no token": "", "wrong token": "Bearer ehp_wrong", "admin token": "Bearer " + local.AdminToken,
		"basic auth": "Basic dXNlcjpwYXNz", "empty bearer": "Bearer ", "token in a query-like header": "token=" + ce.Token,
		"bearer of a truncated token": "Bearer " + ce.Token[:20],
	} {
		h := events("", jsonCT, []byte(valid))
		if auth != "" {
			h.header["Authorization"] = auth
		}
		add(name, h, 401, "")
	}
	add("disabled source", events(off.Token, jsonCT, []byte(valid)), 403, "")
	add("unknown ?format=", hostile{method: "POST", path: "/events?format=xml", header: map[string]string{"Authorization": "Bearer " + ce.Token, "Content-Type": jsonCT}, body: []byte(valid)}, 400, "format")
	add("duplicate id member", events(ce.Token, jsonCT, []byte(`{"specversion":"1.0","id":"a","source":"/h","type":"t","id":"b"}`)), 400, "id")
	add("name repeated in data", events(ce.Token, jsonCT, []byte(`{"specversion":"1.0","id":"d","source":"/h","type":"t","data":{"user":{"role":"viewer","role":"admin"}}}`)), 400, "data.user.role")
	add("schema violated", events(ce.Token, jsonCT, []byte(`{"specversion":"1.0","id":"s","source":"/h","type":"`+typ+`","data":{"n":10}}`)), 400, "data.n")
	add("schema: data missing", events(ce.Token, jsonCT, []byte(`{"specversion":"1.0","id":"s2","source":"/h","type":"`+typ+`"}`)), 400, "data")

	// CloudEvents binary mode.
	binary := func(extra map[string]string) hostile {
		h := events(ce.Token, jsonCT, []byte(`{"a":1}`))
		for k, v := range map[string]string{"ce-specversion": "1.0", "ce-id": "b-1", "ce-source": "/h", "ce-type": "t"} {
			h.header[k] = v
		}
		for k, v := range extra {
			if v == "" {
				delete(h.header, k)
			} else {
				h.header[k] = v
			}
		}
		return h
	}
	add("binary without ce-type", binary(map[string]string{"ce-type": ""}), 400, "ce-type")
	add("binary without ce-id", binary(map[string]string{"ce-id": ""}), 400, "ce-id")
	add("binary with version 0.3", binary(map[string]string{"ce-specversion": "0.3"}), 400, "ce-specversion")
	// A % that starts no escape is kept as sent (sdk-go sends values unencoded); an
	// escape that decodes to invalid UTF-8 is refused.
	add("binary with percent-encoded invalid UTF-8", binary(map[string]string{"ce-subject": "%ff%fe"}), 400, "ce-subject")
	add("binary with ce-data header", binary(map[string]string{"ce-data": "x"}), 400, "ce-data")
	add("binary with a bad time", binary(map[string]string{"ce-time": "noon"}), 400, "ce-time")
	badBody := binary(nil)
	badBody.body = []byte(`{"a": ""regionid1"}`)
	add("binary with broken JSON data", badBody, 400, "")

	// BlueKing: credentials in the body.
	bkPost := func(body string) hostile {
		return hostile{method: "POST", path: "/api/v1/events", header: map[string]string{"Content-Type": jsonCT}, body: []byte(body)}
	}
	add("bkmonitor data_id of another source", bkPost(fmt.Sprintf(`{"data_id":1,"access_token":%q,"data":[%s]}`, bk.Token, bkEvent)), 401, "data_id")
	add("bkmonitor wrong token", bkPost(fmt.Sprintf(`{"data_id":1600001,"access_token":"nope","data":[%s]}`, bkEvent)), 401, "")
	add("bkmonitor no token", bkPost(fmt.Sprintf(`{"data_id":1600001,"data":[%s]}`, bkEvent)), 401, "")
	add("bkmonitor all events invalid", bkPost(fmt.Sprintf(`{"data_id":1600001,"access_token":%q,"data":[{"event_id":"x"},{"alert_name":"a"}]}`, bk.Token)), 400, "")
	add("bkmonitor empty data", bkPost(fmt.Sprintf(`{"data_id":1600001,"access_token":%q,"data":[]}`, bk.Token)), 400, "")

	// iuap: signatures, timestamps, nodes.
	form := url.Values{"sourceID": {"USER"}, "eventType": {"ADD_AFTER"}, "tenantCode": {"t1"}, "userObject": {"{}"}}
	flat := flatForm(form)
	nowTS := strconv.FormatInt(time.Now().UnixMilli(), 10)
	good := iuap.Sign(ip.SigningKey, ip.AppID, nowTS, flat)
	iuapReq := func(appID, ts, sign, ct, body string) hostile {
		q := url.Values{}
		if appID != "" {
			q.Set("appId", appID)
		}
		if ts != "" {
			q.Set("ts", ts)
		}
		h := map[string]string{"Content-Type": ct}
		if sign != "" {
			h["sign"] = sign
		}
		return hostile{method: "POST", path: "/event/eventmanager/sendEventMsg.do?" + q.Encode(), header: h, body: []byte(body)}
	}
	formCT := "application/x-www-form-urlencoded"
	stale := strconv.FormatInt(time.Now().Add(-10*time.Minute).UnixMilli(), 10)
	future := strconv.FormatInt(time.Now().Add(10*time.Minute).UnixMilli(), 10)
	add("iuap bad signature", iuapReq(ip.AppID, nowTS, strings.Repeat("ab", 32), formCT, form.Encode()), 401, "sign")
	add("iuap signature of the empty string", iuapReq(ip.AppID, nowTS, iuap.Sign(ip.SigningKey, "", "", nil), formCT, form.Encode()), 401, "sign")
	add("iuap signed with the token", iuapReq(ip.AppID, nowTS, iuap.Sign(ip.Token, ip.AppID, nowTS, flat), formCT, form.Encode()), 401, "sign")
	add("iuap no signature", iuapReq(ip.AppID, nowTS, "", formCT, form.Encode()), 401, "sign")
	add("iuap signature not hex", iuapReq(ip.AppID, nowTS, "not-a-signature", formCT, form.Encode()), 401, "sign")
	add("iuap stale ts", iuapReq(ip.AppID, stale, iuap.Sign(ip.SigningKey, ip.AppID, stale, flat), formCT, form.Encode()), 401, "ts")
	add("iuap future ts", iuapReq(ip.AppID, future, iuap.Sign(ip.SigningKey, ip.AppID, future, flat), formCT, form.Encode()), 401, "ts")
	add("iuap ts in seconds", iuapReq(ip.AppID, nowTS[:10], iuap.Sign(ip.SigningKey, ip.AppID, nowTS[:10], flat), formCT, form.Encode()), 401, "ts")
	add("iuap ts not a number", iuapReq(ip.AppID, "now", good, formCT, form.Encode()), 401, "ts")
	add("iuap no ts", iuapReq(ip.AppID, "", good, formCT, form.Encode()), 401, "ts")
	add("iuap unknown appId", iuapReq("NOBODY", nowTS, good, formCT, form.Encode()), 401, "appId")
	add("iuap no appId", iuapReq("", nowTS, good, formCT, form.Encode()), 401, "appId")
	add("iuap tampered field", iuapReq(ip.AppID, nowTS, good, formCT, strings.Replace(form.Encode(), "ADD_AFTER", "DELETE_AFTER", 1)), 401, "sign")
	add("iuap JSON body", iuapReq(ip.AppID, nowTS, good, jsonCT, `{"sourceID":"USER"}`), 415, "")
	add("iuap field twice", iuapReq(ip.AppID, nowTS, good, formCT, form.Encode()+"&sourceID=ROLE"), 400, "sourceID")
	add("iuap broken percent-encoding", iuapReq(ip.AppID, nowTS, good, formCT, "sourceID=%zz"), 400, "")
	add("iuap empty form", iuapReq(ip.AppID, nowTS, good, formCT, ""), 400, "")
	for name, f := range map[string]url.Values{
		"iuap missing eventType":   {"sourceID": {"USER"}, "tenantCode": {"t1"}},
		"iuap sourceID too long":   {"sourceID": {strings.Repeat("U", 21)}, "eventType": {"ADD"}},
		"iuap eventType too long":  {"sourceID": {"USER"}, "eventType": {strings.Repeat("E", 41)}},
		"iuap tenantCode too long": {"sourceID": {"USER"}, "eventType": {"ADD"}, "tenantCode": {"123456789"}},
	} {
		path := map[string]string{"iuap missing eventType": "eventType", "iuap sourceID too long": "sourceID", "iuap eventType too long": "eventType", "iuap tenantCode too long": "tenantCode"}[name]
		add(name, iuapReq(ip.AppID, nowTS, iuap.Sign(ip.SigningKey, ip.AppID, nowTS, flatForm(f)), formCT, f.Encode()), 400, path)
	}

	// Ownership (issue 13): events under sources the token does not own, iuap
	// identities off the signed route, re-cut iuap forms, what the store cannot hold,
	// ids and cursors no item can have.
	register(t, `{"name":"hostile owner","format":"cloudevents","owns":{"exact":["/hostile/bank"]}}`)
	add("event under another source's value", events(ce.Token, jsonCT, []byte(`{"specversion":"1.0","id":"p","source":"/hostile/bank","type":"t"}`)), 403, "source")
	add("batch under another source's value", events(ce.Token, "application/cloudevents-batch+json", []byte(`[{"specversion":"1.0","id":"p","source":"/hostile/bank","type":"t"}]`)), 403, "")
	add("event under another source's path", events(ce.Token, jsonCT, []byte(`{"specversion":"1.0","id":"p","source":"/sources/`+bk.ID+`","type":"t"}`)), 403, "source")
	add("binary under another source's value", binary(map[string]string{"ce-source": "/hostile/bank"}), 403, "ce-source")
	add("iuap source in a CloudEvent", events(ce.Token, jsonCT, []byte(`{"specversion":"1.0","id":"p","source":"iuap/`+ip.AppID+`","type":"t"}`)), 403, "source")
	add("iuap node's token on POST /events", events(ip.Token, "application/cloudevents+json", []byte(`{"specversion":"1.0","id":"p","source":"iuap/`+ip.AppID+`","type":"t"}`)), 403, "source")
	iuapQuery := events(auto.Token, jsonCT, []byte(`{"sourceID":"USER","eventType":"ADD","tenantCode":"t1"}`))
	iuapQuery.path += "?format=iuap"
	add("?format=iuap on POST /events", iuapQuery, 403, "")
	add("iuap event detected on POST /events", events(auto.Token, jsonCT, []byte(`{"sourceID":"USER","eventType":"ADD","tenantCode":"t1"}`)), 403, "")
	bkNoData := events(auto.Token, jsonCT, []byte(bkEvent))
	bkNoData.path += "?format=bkmonitor"
	add("BlueKing event from a source without a data id", bkNoData, 403, "source")
	recut := url.Values{"sourceID": {"USER"}, "eventType": {"ADD_AFTER"}, "tenantCode=t1\nuserObject": {"{}"}}
	add("iuap re-cut form, first scheme", iuapReq(ip.AppID, nowTS, good, formCT, recut.Encode()), 401, "sign")
	add("iuap re-cut form, body signed", iuapReq(ip.AppID, nowTS, iuap.SignV2(ip.SigningKey, ip.AppID, nowTS, []byte(form.Encode())), formCT, recut.Encode()), 401, "sign")
	noTenant := url.Values{"sourceID": {"USER"}, "eventType": {"ADD_AFTER"}}
	add("iuap without tenantCode", iuapReq(ip.AppID, nowTS, iuap.SignV2(ip.SigningKey, ip.AppID, nowTS, []byte(noTenant.Encode())), formCT, noTenant.Encode()), 400, "tenantCode")
	add("iuap appId of 3,000 characters", iuapReq(strings.Repeat("A", 3000), nowTS, good, formCT, form.Encode()), 401, "appId")
	long := strings.Repeat("s", 3000)
	add("source of 3,000 characters", events(ce.Token, jsonCT, []byte(`{"specversion":"1.0","id":"l","source":"/h/`+long+`","type":"t"}`)), 413, "source")
	add("type of 3,000 characters", events(ce.Token, jsonCT, []byte(`{"specversion":"1.0","id":"l","source":"/h","type":"`+long+`"}`)), 413, "type")
	add("245 KB incompressible subject", events(ce.Token, jsonCT, []byte(`{"specversion":"1.0","id":"l","source":"/h","type":"t","subject":"`+string(incompressible(245<<10))+`"}`)), 413, "subject")
	admin := func(method, path string) hostile {
		return hostile{method: method, path: path, header: map[string]string{"Authorization": "Bearer " + local.AdminToken, "Content-Type": jsonCT}, body: []byte("{}")}
	}
	longID := strings.Repeat("x", 1100)
	for _, r := range []struct{ method, path string }{
		{"GET", "/events/" + longID}, {"GET", "/sources/" + longID}, {"PATCH", "/sources/" + longID}, {"POST", "/sources/" + longID + "/rotate"},
		{"GET", "/subscriptions/" + longID}, {"PATCH", "/subscriptions/" + longID}, {"GET", "/replays/" + longID},
		{"GET", "/quarantine/" + longID}, {"POST", "/quarantine/" + longID + "/resubmit"}, {"GET", "/alerts/" + longID},
	} {
		add(fmt.Sprintf("%s %s... (1,100-character id)", r.method, r.path[:16]), admin(r.method, r.path), 404, "")
	}
	// Webhook producers on /hooks/{sourceId}: a credential that does not authenticate
	// is 401, whatever its shape; a signed body is held to what its source reads.
	gh := register(t, `{"name":"hostile github","format":"github"}`)
	rememberSecret(gh.Token, gh.InboundSecret)
	hookReq := func(path, ct, sig string, body []byte) hostile {
		h := map[string]string{"Content-Type": ct, "X-GitHub-Event": "issues", "X-GitHub-Delivery": "hostile-1"}
		if sig != "" {
			h["X-Hub-Signature-256"] = sig
		}
		return hostile{method: "POST", path: path, header: h, body: body}
	}
	ghSign := func(body []byte) string {
		return inbound.Sign(inbound.GitHub, gh.InboundSecret, "", time.Now(), body)[inbound.HeaderGitHubSignature]
	}
	issue := []byte(`{"action":"opened","repository":{"full_name":"o/r"}}`)
	add("/hooks with a 1,100-character source id", hookReq("/hooks/"+longID, jsonCT, ghSign(issue), issue), 401, "")
	add("/hooks with a 64 KB signature", hookReq("/hooks/"+gh.ID, jsonCT, "sha256="+strings.Repeat("ab", 32<<10), issue), 401, "")
	add("/hooks signed for another body", hookReq("/hooks/"+gh.ID, jsonCT, ghSign(issue[1:]), issue), 401, "")
	add("/hooks with GitHub's form encoding", hookReq("/hooks/"+gh.ID, "application/x-www-form-urlencoded", ghSign([]byte("payload=%7B%7D")), []byte("payload=%7B%7D")), 415, "")
	add("/hooks with signed broken JSON", hookReq("/hooks/"+gh.ID, jsonCT, ghSign(issue[:20]), issue[:20]), 400, "")
	longCursor := base64.RawURLEncoding.EncodeToString([]byte(`{"v":1,"p":"` + strings.Repeat("9", 1100) + `#k"}`))
	for _, p := range []string{"/events", "/quarantine", "/alerts"} {
		g := admin("GET", p+"?cursor="+longCursor)
		g.body = nil
		add("GET "+p+" with a 1,100-character cursor position", g, 400, "cursor")
	}

	if len(cases) < 100 {
		t.Fatalf("only %d hostile requests; want at least 100", len(cases))
	}
	t.Logf("sending %d hostile requests", len(cases))
	counts := map[int]int{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, raw := request(t, tc.method, tc.path, tc.header, tc.body)
			counts[status]++
			if status >= 500 {
				t.Fatalf("status = %d %.300s; a caller's mistake must never be a 5xx", status, raw)
			}
			if status != tc.status {
				t.Fatalf("status = %d %.300s; want %d", status, raw, tc.status)
			}
			var body struct {
				Error *struct {
					Code, Message, Path string
				} `json:"error"`
				Data *struct {
					Message string `json:"message"`
					Status  *int   `json:"status"`
				} `json:"data"`
			}
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatalf("body %.300q is not JSON: %v", raw, err)
			}
			reason, path := "", ""
			if body.Error != nil {
				reason, path = body.Error.Message, body.Error.Path
			}
			if strings.HasPrefix(tc.path, "/event/") && (body.Data == nil || body.Data.Status == nil || *body.Data.Status != 0 || body.Data.Message == "") {
				t.Errorf("iuap answer %s: want data.status 0 with a message", raw)
			}
			if reason == "" {
				// A batch whose every event was rejected names each one's reason.
				var b struct {
					Accepted int
					Results  []struct{ Error *struct{ Message string } }
				}
				if json.Unmarshal(raw, &b) == nil && b.Accepted == 0 && len(b.Results) > 0 && b.Results[0].Error != nil {
					reason = b.Results[0].Error.Message
				}
			}
			if reason == "" {
				t.Errorf("body %.300s: no reason given", raw)
			}
			if tc.where != "" && path != tc.where {
				t.Errorf("error path = %q (%s); want %q", path, reason, tc.where)
			}
		})
	}
	t.Logf("answers by status: %v", counts)
}

package tests

// Issue 13, "Producers own their events": each attack of the first list, tried
// with two ordinary producer tokens against the running stack, and shown refused or
// harmless; then the concurrency of source and subscription updates.

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventhub/eventhub/shared/adapter/iuap"
)

// errorBody is an API error answer.
type errorBody struct {
	Error struct {
		Code, Message, Path string
	} `json:"error"`
}

func postAs(t *testing.T, token, contentType, path, body string) (int, []byte) {
	t.Helper()
	return send(t, http.MethodPost, path, token, contentType, []byte(body))
}

func ceOf(id, source, typ, data string) string {
	return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":%q,"type":%q,"datacontenttype":"application/json","data":%s}`, id, source, typ, data)
}

// wantForbidden checks a 403 that names the path and the values the token owns.
func wantForbidden(t *testing.T, what string, status int, raw []byte, owned string) {
	t.Helper()
	var e errorBody
	_ = json.Unmarshal(raw, &e)
	if status != http.StatusForbidden || e.Error.Code != "forbidden" || !strings.Contains(e.Error.Message, owned) {
		t.Errorf("%s = %d %.400s; want 403 naming the owned %q", what, status, raw, owned)
	}
}

// TestOwnPreemptionRefused: A cannot send an event under B's source and id first; B's
// real event is stored and delivered under B's identity.
func TestOwnPreemptionRefused(t *testing.T) {
	needStack(t)
	aSource, bSource := unique("/own/a"), unique("/own/bank")
	a := register(t, fmt.Sprintf(`{"name":"own a","format":"cloudevents","owns":{"exact":[%q]}}`, aSource))
	b := register(t, fmt.Sprintf(`{"name":"own b","format":"cloudevents","owns":{"exact":[%q]}}`, bSource))
	typ := unique("own.pay")
	r := newReceiver(t, always(204))
	subscribe(t, r, typ)

	forged := ceOf("pay-1", bSource, typ, `{"from":"A","amount":1000000}`)
	status, raw := postAs(t, a.Token, "application/cloudevents+json", "/events", forged)
	wantForbidden(t, "A's event under B's source", status, raw, aSource)
	status, raw = postAs(t, a.Token, "application/cloudevents-batch+json", "/events", "["+forged+"]")
	wantForbidden(t, "the same in a batch", status, raw, aSource)
	h := map[string]string{"Authorization": "Bearer " + a.Token, "Content-Type": "application/json",
		"ce-specversion": "1.0", "ce-id": "pay-1", "ce-source": bSource, "ce-type": typ}
	status, raw = request(t, "POST", "/events", h, []byte(`{"from":"A"}`))
	wantForbidden(t, "the same in binary mode", status, raw, aSource)
	var conflict errorBody
	if s := call(t, http.MethodPatch, "/sources/"+a.ID, local.AdminToken, fmt.Sprintf(`{"owns":{"prefixes":[%q]}}`, bSource[:len(bSource)-3]), &conflict); s != http.StatusConflict || !strings.Contains(conflict.Error.Message, b.ID) {
		t.Errorf("granting A a prefix of B's value = %d %+v; want 409 naming %s", s, conflict, b.ID)
	}

	status, raw = postAs(t, b.Token, "application/cloudevents+json", "/events", ceOf("pay-1", bSource, typ, `{"from":"B","amount":10}`))
	key := acceptedIDs(t, status, raw, 1)[0]
	ev := waitStored(t, key)
	var d struct{ SourceID string }
	getDocInto(t, key, &d)
	if !strings.Contains(string(ev.Event), `"from":"B"`) || ev.Duplicates != 0 || d.SourceID != b.ID {
		t.Errorf("stored %s (duplicates %d, sourceId %s); want B's event from %s, no duplicate", ev.Event, ev.Duplicates, d.SourceID, b.ID)
	}
	eventually(t, 20*time.Second, "B's event delivered", func() bool { return len(r.deliveries()) == 1 })
	if got := r.deliveries()[0].Body; !strings.Contains(string(got), `"from":"B"`) {
		t.Errorf("delivered %s; want B's event", got)
	}
}

func getDocInto(t *testing.T, key string, out any) {
	t.Helper()
	if s := call(t, http.MethodGet, "/events/"+key, local.AdminToken, "", out); s != http.StatusOK {
		t.Fatalf("GET /events/%s = %d", key, s)
	}
}

// bkAlert is a BlueKing event of an alert.
func bkAlert(id, name, target, status string, at time.Time) string {
	return fmt.Sprintf(`{"alert_name":%q,"event_id":%q,"description":"d","metric":"cpu_usage","category":"os","target_type":"host",`+
		`"target":%q,"severity":1,"status":%q,"time":%q,"dedupe_keys":["alert_name","target"]}`, name, id, target, status, at.UTC().Format(time.RFC3339))
}

type alertDoc struct {
	ID, Status, SourceID string
	Count                int
	ResolvedAt           time.Time
}

func alertOf(t *testing.T, key string) alertDoc {
	t.Helper()
	var d eventDoc
	eventually(t, 20*time.Second, "event "+key+" folded", func() bool {
		_, d = getDoc(t, key)
		return d.AlertID != ""
	})
	var a alertDoc
	if s := call(t, http.MethodGet, "/alerts/"+d.AlertID, local.AdminToken, "", &a); s != http.StatusOK {
		t.Fatalf("GET /alerts/%s = %d", d.AlertID, s)
	}
	return a
}

func dataID() int64 {
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000_000))
	return 2_000_000_000 + n.Int64()
}

// TestOwnAlertSuppressionHarmless: another producer's RECOVERED with B's alert_name and
// target, dated far in the future, is refused or folds into an alert of its own; B's
// alert stays open; B's own clock cannot close it for longer than the skew.
func TestOwnAlertSuppressionHarmless(t *testing.T) {
	needStack(t)
	b := register(t, fmt.Sprintf(`{"name":"own bk b","format":"bkmonitor","dataId":%d}`, dataID()))
	a := register(t, fmt.Sprintf(`{"name":"own bk a","format":"bkmonitor","dataId":%d}`, dataID()))
	plain := register(t, `{"name":"own plain","format":"cloudevents","owns":{}}`)
	name, target := unique("CPU"), unique("10.9")
	now := time.Now()

	envelope := fmt.Sprintf(`{"data_id":%d,"access_token":%q,"data":[%s]}`, b.DataID, b.Token, bkAlert(unique("b"), name, target, "ABNORMAL", now))
	status, raw := postAs(t, "", "application/json", "/api/v1/events", envelope)
	open := alertOf(t, acceptedIDs(t, status, raw, 1)[0])
	if open.Status != "ABNORMAL" || open.SourceID != b.ID {
		t.Fatalf("B's alert = %+v; want ABNORMAL, of %s", open, b.ID)
	}

	future := now.AddDate(10, 0, 0)
	status, raw = postAs(t, plain.Token, "application/json", "/events?format=bkmonitor", bkAlert(unique("x"), name, target, "RECOVERED", future))
	wantForbidden(t, "a RECOVERED from a source with no data id", status, raw, "/sources/"+plain.ID)
	status, raw = postAs(t, a.Token, "application/json", "/events?format=bkmonitor", bkAlert(unique("a"), name, target, "RECOVERED", future))
	theirs := alertOf(t, acceptedIDs(t, status, raw, 1)[0])
	if theirs.ID == open.ID || theirs.SourceID != a.ID {
		t.Errorf("A's RECOVERED folded into %+v; want an alert of A's own", theirs)
	}
	var still alertDoc
	call(t, http.MethodGet, "/alerts/"+open.ID, local.AdminToken, "", &still)
	if still.Status != "ABNORMAL" || still.Count != 1 {
		t.Errorf("B's alert after A's RECOVERED = %+v; want still ABNORMAL, count 1", still)
	}

	// B's own RECOVERED dated ten years ahead resolves at most 5 minutes ahead, and an
	// ABNORMAL dated 6 minutes ahead (B's clock running fast) opens a new alert rather
	// than being counted late.
	status, raw = postAs(t, b.Token, "application/json", "/events", bkAlert(unique("b"), name, target, "RECOVERED", future))
	closed := alertOf(t, acceptedIDs(t, status, raw, 1)[0])
	if closed.ID != open.ID || closed.Status != "RECOVERED" || closed.ResolvedAt.After(time.Now().Add(5*time.Minute+10*time.Second)) {
		t.Errorf("B's alert after its RECOVERED = %+v; want it resolved at most 5 minutes ahead", closed)
	}
	status, raw = postAs(t, b.Token, "application/json", "/events", bkAlert(unique("b"), name, target, "ABNORMAL", time.Now().Add(6*time.Minute)))
	reopened := alertOf(t, acceptedIDs(t, status, raw, 1)[0])
	if reopened.ID == open.ID || reopened.Status != "ABNORMAL" {
		t.Errorf("B's later ABNORMAL folded into %+v; want a new open alert", reopened)
	}
}

// TestOwnIUAPOnlySigned: no token publishes an iuap identity, the iuap node's own
// included; the signed route does.
func TestOwnIUAPOnlySigned(t *testing.T) {
	needStack(t)
	node := register(t, fmt.Sprintf(`{"name":"own iuap","format":"iuap","appId":%q}`, unique("OWN")))
	a := register(t, `{"name":"own iuap a","format":"auto","owns":{}}`)
	form := `{"sourceID":"USER","eventType":"ADD_AFTER","tenantCode":"t1","userObject":"{}"}`
	status, raw := postAs(t, a.Token, "application/json", "/events?format=iuap", form)
	wantForbidden(t, "?format=iuap", status, raw, "signed route")
	status, raw = postAs(t, a.Token, "application/json", "/events", form)
	wantForbidden(t, "an iuap event detected", status, raw, "signed route")
	status, raw = postAs(t, a.Token, "application/cloudevents+json", "/events", ceOf("i-1", "iuap/"+node.AppID, "USER:ADD_AFTER", "{}"))
	wantForbidden(t, "a CloudEvent under the node's iuap source", status, raw, "signed route")
	status, raw = postAs(t, node.Token, "application/cloudevents+json", "/events", ceOf("i-2", "iuap/"+node.AppID, "USER:ADD_AFTER", "{}"))
	wantForbidden(t, "the node's own token on POST /events", status, raw, "signed route")

	f := url.Values{"sourceID": {"USER"}, "eventType": {"ADD_AFTER"}, "tenantCode": {"t1"}, "userObject": {"{}"}}
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	if s, raw := iuapPost(t, node.AppID, ts, iuap.SignV2(node.SigningKey, node.AppID, ts, []byte(f.Encode())), f); s != 200 {
		t.Errorf("the signed route = %d %s; want 200", s, raw)
	}
}

// TestOwnIUAPSigningStringRecut: a form re-cut so that one field swallows the next has
// the first scheme's string to sign of the signed form; neither scheme lets it through.
func TestOwnIUAPSigningStringRecut(t *testing.T) {
	needStack(t)
	node := register(t, fmt.Sprintf(`{"name":"own recut","format":"iuap","appId":%q}`, unique("RECUT")))
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	signed := url.Values{"sourceID": {"USER"}, "eventType": {"ADD_AFTER"}, "tenantCode": {"t1"}, "userObject": {`{"role":"user"}`}}
	recut := url.Values{"sourceID": {"USER"}, "eventType": {"ADD_AFTER"}, "tenantCode=t1\nuserObject": {`{"role":"user"}`}}
	if iuap.StringToSign(node.AppID, ts, flatForm(signed)) != iuap.StringToSign(node.AppID, ts, flatForm(recut)) {
		t.Fatal("the re-cut form does not collide")
	}
	for name, sign := range map[string]string{
		"first scheme": iuap.Sign(node.SigningKey, node.AppID, ts, flatForm(signed)),
		"body signed":  iuap.SignV2(node.SigningKey, node.AppID, ts, []byte(signed.Encode())),
	} {
		status, raw := iuapPost(t, node.AppID, ts, sign, recut)
		if status != http.StatusUnauthorized || !strings.Contains(string(raw), `"path":"sign"`) {
			t.Errorf("re-cut form with the %s signature = %d %s; want 401 at sign", name, status, raw)
		}
	}
	if status, raw := iuapPost(t, node.AppID, ts, iuap.Sign(node.SigningKey, node.AppID, ts, flatForm(signed)), signed); status != 200 {
		t.Errorf("the signed form = %d %s; want 200", status, raw)
	}
}

// TestOwnExtensionsDoNotSteerDelivery: iuap-mode delivery fields and the
// subscription's headers are not taken from a producer's extensions.
func TestOwnExtensionsDoNotSteerDelivery(t *testing.T) {
	needStack(t)
	src := unique("/own/ext")
	a := register(t, fmt.Sprintf(`{"name":"own ext","format":"cloudevents","owns":{"exact":[%q]}}`, src))
	typ := unique("own.ext")
	listener := newHook(t, func(int, hookRequest) hookAnswer { return hookAnswer{Status: 200, Body: `{"success":"true"}`} })
	sub := newSubscription(t, fmt.Sprintf(`{"url":%q,"pattern":{"type":[%q]},"mode":"iuap","headers":{"tenantCode":"t-admin","X-Team":"erp"}}`, listener.URL, typ))
	listener.verifyWith(sub.Secret)
	body := fmt.Sprintf(`{"specversion":"1.0","id":"x-1","source":%q,"type":%q,"iuapsourceid":"FORGED","iuapeventtype":"FORGED","iuaptenantcode":"evil","iuapuserobject":"forged","tenantcode":"evil2","data":{"tenantCode":"tA","userObject":{"x":1}}}`, src, typ)
	status, raw := postAs(t, a.Token, "application/cloudevents+json", "/events", body)
	key := acceptedIDs(t, status, raw, 1)[0]
	waitDelivery(t, key, sub.ID, "delivered", 20*time.Second)
	r := listener.requests()[0]
	want := url.Values{"sourceID": {src}, "eventType": {typ}, "tenantCode": {"tA"}, "userObject": {`{"x":1}`}}
	if fmt.Sprint(r.Form) != fmt.Sprint(want) || r.SigErr != "" {
		t.Errorf("iuap form = %v (signature %q); want %v", r.Form, r.SigErr, want)
	}
	if r.Header.Get("tenantCode") != "t-admin" || r.Header.Get("X-Team") != "erp" || strings.Contains(fmt.Sprint(r.Header), "FORGED") || strings.Contains(fmt.Sprint(r.Header), "evil") {
		t.Errorf("headers %v; want the subscription's tenantCode and X-Team, nothing of the extensions", r.Header)
	}
}

// TestOwnRotationWithoutGraceRevokesAll: tokens replaced with a long grace stop
// working when a rotation has none (within the ingest cache's 30 s).
func TestOwnRotationWithoutGraceRevokesAll(t *testing.T) {
	needStack(t)
	src := unique("/own/rot")
	s := register(t, fmt.Sprintf(`{"name":"own rotate","format":"cloudevents","owns":{"exact":[%q]}}`, src))
	tokens := []string{s.Token}
	for range 2 {
		var r registered
		if st := call(t, "POST", "/sources/"+s.ID+"/rotate", local.AdminToken, `{"grace":"720h"}`, &r); st != 200 {
			t.Fatalf("rotate = %d", st)
		}
		tokens = append(tokens, r.Token)
	}
	postWith := func(token string) int {
		status, _ := postAs(t, token, "application/cloudevents+json", "/events", ceOf(unique("r"), src, "own.rotate", "{}"))
		return status
	}
	for i, tok := range tokens {
		if st := postWith(tok); st != 202 {
			t.Fatalf("token %d in its grace = %d; want 202", i, st)
		}
	}
	var last registered
	if st := call(t, "POST", "/sources/"+s.ID+"/rotate", local.AdminToken, `{"grace":"0s"}`, &last); st != 200 {
		t.Fatalf("rotate without grace = %d", st)
	}
	if st := postWith(last.Token); st != 202 {
		t.Errorf("the new token = %d; want 202", st)
	}
	eventually(t, 45*time.Second, "every earlier token refused", func() bool {
		for _, tok := range tokens {
			if postWith(tok) != http.StatusUnauthorized {
				return false
			}
		}
		return true
	})
}

// TestOwnConcurrentSourceUpdates: a PATCH and a rotation of one source at once never
// lose a write: each is applied or answered 409.
func TestOwnConcurrentSourceUpdates(t *testing.T) {
	needStack(t)
	lost, conflicts := 0, 0
	for round := range 15 {
		src := unique("/own/race")
		s := register(t, fmt.Sprintf(`{"name":"own race %d","format":"cloudevents","owns":{"exact":[%q]}}`, round, src))
		var wg sync.WaitGroup
		var patchStatus, rotateStatus int
		var rotated registered
		wg.Go(func() {
			patchStatus = call(nil, http.MethodPatch, "/sources/"+s.ID, local.AdminToken, `{"enabled":false}`, nil)
		})
		wg.Go(func() {
			rotateStatus = call(nil, http.MethodPost, "/sources/"+s.ID+"/rotate", local.AdminToken, `{"grace":"0s"}`, &rotated)
		})
		wg.Wait()
		for _, st := range []int{patchStatus, rotateStatus} {
			switch st {
			case 200:
			case 409:
				conflicts++
			default:
				t.Fatalf("round %d: PATCH %d, rotate %d; want 200 or 409", round, patchStatus, rotateStatus)
			}
		}
		var got struct{ Enabled bool }
		call(t, http.MethodGet, "/sources/"+s.ID, local.AdminToken, "", &got)
		if patchStatus == 200 && got.Enabled {
			lost++
			t.Errorf("round %d: the disable was answered 200 and lost", round)
		}
		if rotateStatus == 200 {
			// Neither token was ever used, so no ingest has them cached.
			old, _ := postAs(t, s.Token, "application/cloudevents+json", "/events", ceOf("o", src, "own.race", "{}"))
			fresh, _ := postAs(t, rotated.Token, "application/cloudevents+json", "/events", ceOf("n", src, "own.race", "{}"))
			wantFresh := 202
			if !got.Enabled {
				wantFresh = 403
			}
			if old != 401 || fresh != wantFresh {
				lost++
				t.Errorf("round %d: after the rotation the old token %d, the new %d; want 401 and %d", round, old, fresh, wantFresh)
			}
		}
	}
	t.Logf("15 rounds: %d writes answered 409, %d lost", conflicts, lost)

	// A change from a stale read is refused.
	s := register(t, `{"name":"own stale","format":"cloudevents","owns":{}}`)
	var e errorBody
	if st := call(t, http.MethodPatch, "/sources/"+s.ID, local.AdminToken, `{"name":"x","version":0}`, &e); st != 409 || e.Error.Path != "version" {
		t.Errorf("PATCH with a stale version = %d %+v; want 409 at version", st, e)
	}
}

// TestOwnConcurrentSubscriptionUpdates: two PATCHes of one subscription at once, each
// changing its own field: every 200 is in the final subscription.
func TestOwnConcurrentSubscriptionUpdates(t *testing.T) {
	needStack(t)
	r := newReceiver(t, always(204))
	conflicts := 0
	for round := range 10 {
		sub := newSubscription(t, fmt.Sprintf(`{"url":%q,"pattern":{"type":["own.sub"]}}`, r.URL))
		var wg sync.WaitGroup
		var s1, s2 int
		wg.Go(func() {
			s1 = call(nil, http.MethodPatch, "/subscriptions/"+sub.ID, local.AdminToken, `{"headers":{"X-Round":"`+strconv.Itoa(round)+`"}}`, nil)
		})
		wg.Go(func() {
			s2 = call(nil, http.MethodPatch, "/subscriptions/"+sub.ID, local.AdminToken, `{"timeout":7}`, nil)
		})
		wg.Wait()
		var got struct {
			Headers   map[string]string `json:"headers"`
			TimeoutMs int               `json:"timeoutMs"`
		}
		call(t, http.MethodGet, "/subscriptions/"+sub.ID, local.AdminToken, "", &got)
		for _, st := range []int{s1, s2} {
			if st == 409 {
				conflicts++
			} else if st != 200 {
				t.Fatalf("round %d: PATCH answers %d and %d; want 200 or 409", round, s1, s2)
			}
		}
		// Header values are write-only (shown masked): the name tells that it was kept,
		// and each round's subscription is new.
		if _, kept := got.Headers["X-Round"]; s1 == 200 && !kept {
			t.Errorf("round %d: the headers PATCH was answered 200 and lost: %+v", round, got)
		}
		if s2 == 200 && got.TimeoutMs != 7000 {
			t.Errorf("round %d: the timeout PATCH was answered 200 and lost: %+v", round, got)
		}
	}
	t.Logf("10 rounds: %d PATCHes answered 409", conflicts)
}

// TestOwnAcceptedThenLostRefused: a source or type of 3,000 characters, or a 245 KB
// incompressible subject, is refused with 413 (or, from a source that quarantines, kept
// in quarantine, visibly); never answered 202 and lost.
func TestOwnAcceptedThenLostRefused(t *testing.T) {
	needStack(t)
	prefix := unique("/own/limits") + "/"
	qprefix := unique("/own/limitsq") + "/"
	rej := register(t, fmt.Sprintf(`{"name":"own limits","format":"cloudevents","owns":{"prefixes":[%q]}}`, prefix))
	quar := register(t, fmt.Sprintf(`{"name":"own limits q","format":"cloudevents","onInvalid":"quarantine","owns":{"prefixes":[%q]}}`, qprefix))
	long := strings.Repeat("s", 3000)
	cases := []struct {
		name, path string
		event      func(prefix string) string
	}{
		{"3,000-character source", "source", func(p string) string { return ceOf("l-1", p+long, "own.limits", "{}") }},
		{"3,000-character type", "type", func(p string) string { return ceOf("l-2", p+"x", strings.Repeat("t", 3000), "{}") }},
		{"245 KB incompressible subject", "subject", func(p string) string {
			return fmt.Sprintf(`{"specversion":"1.0","id":"l-3","source":%q,"type":"own.limits","subject":%q}`, p+"x", string(incompressible(245<<10)))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, raw := postAs(t, rej.Token, "application/cloudevents+json", "/events", tc.event(prefix))
			var e errorBody
			_ = json.Unmarshal(raw, &e)
			if status != http.StatusRequestEntityTooLarge || e.Error.Path != tc.path {
				t.Errorf("POST = %d %.300s; want 413 at %s", status, raw, tc.path)
			}
			status, raw = postAs(t, quar.Token, "application/cloudevents+json", "/events", tc.event(qprefix))
			var out struct {
				Results []struct {
					QuarantineID string `json:"quarantineId"`
				}
			}
			if err := json.Unmarshal(raw, &out); err != nil || status != http.StatusAccepted || len(out.Results) != 1 || out.Results[0].QuarantineID == "" {
				t.Fatalf("POST from a quarantining source = %d %.300s; want 202 with a quarantine id", status, raw)
			}
			qid := out.Results[0].QuarantineID
			eventually(t, 20*time.Second, "quarantined "+qid, func() bool {
				return call(t, http.MethodGet, "/quarantine/"+qid, local.AdminToken, "", nil) == http.StatusOK
			})
		})
	}
}

// TestOwnStoredIsDelivered: two events with one key in one batch: one is stored (the
// one persist sees first), and what is delivered, once, is what was stored.
func TestOwnStoredIsDelivered(t *testing.T) {
	needStack(t)
	typ := unique("own.same")
	r := newReceiver(t, always(204))
	subscribe(t, r, typ)
	id := unique("same")
	batch := "[" + ceOf(id, "/e2e/same", typ, `{"v":"first"}`) + "," + ceOf(id, "/e2e/same", typ, `{"v":"second"}`) + "]"
	status, raw := postAs(t, producer, "application/cloudevents-batch+json", "/events", batch)
	keys := acceptedIDs(t, status, raw, 2)
	if keys[0] != keys[1] {
		t.Fatalf("keys %v; want one key for both", keys)
	}
	ev := waitStored(t, keys[0])
	eventually(t, 20*time.Second, "a delivery", func() bool { return len(r.deliveries()) >= 1 })
	time.Sleep(2 * time.Second) // time for a second delivery, which must not come
	ds := r.deliveries()
	if len(ds) != 1 || !sameJSON(ds[0].Body, ev.Event) {
		t.Errorf("delivered %d: %s; stored %s; want one delivery of the stored event", len(ds), ds, ev.Event)
	}
}

// TestOwnLongIDsAndCursors: ids and cursors beyond their valid size are 400 or 404,
// never 5xx.
func TestOwnLongIDsAndCursors(t *testing.T) {
	needStack(t)
	sub := newSubscription(t, `{"url":"http://127.0.0.1:9/x","pattern":{"type":["own.long"]}}`)
	for _, n := range []int{257, 1100, 3000} {
		long := strings.Repeat("x", n)
		longCursor := base64.RawURLEncoding.EncodeToString([]byte(`{"v":1,"p":"` + strings.Repeat("9", n) + `#k"}`))
		dlvCursor := base64.RawURLEncoding.EncodeToString([]byte(`{"pk":"` + long + `","sk":"` + long + `","gsi1pk":"SUBDLV#` + sub.ID + `","gsisk":"` + long + `"}`))
		for _, rq := range []struct{ method, path string }{
			{"GET", "/events/" + long}, {"GET", "/events/" + long + "/data"}, {"POST", "/events/" + long + "/replay"},
			{"GET", "/sources/" + long}, {"PATCH", "/sources/" + long}, {"POST", "/sources/" + long + "/rotate"},
			{"GET", "/subscriptions/" + long}, {"PATCH", "/subscriptions/" + long}, {"DELETE", "/subscriptions/" + long},
			{"POST", "/subscriptions/" + long + "/enable"}, {"POST", "/subscriptions/" + long + "/rotate-secret"},
			{"GET", "/subscriptions/" + long + "/deliveries"}, {"POST", "/subscriptions/" + sub.ID + "/deliveries/" + long + "/retry"},
			{"GET", "/replays/" + long}, {"GET", "/quarantine/" + long}, {"POST", "/quarantine/" + long + "/resubmit"},
			{"GET", "/alerts/" + long}, {"GET", "/types/" + long},
			{"GET", "/events?cursor=" + longCursor}, {"GET", "/events?source=" + long}, {"GET", "/events?type=" + long},
			{"GET", "/events?source=" + long + "&cursor=" + longCursor}, {"GET", "/quarantine?cursor=" + longCursor},
			{"GET", "/quarantine?source=" + long}, {"GET", "/alerts?cursor=" + longCursor},
			{"GET", "/subscriptions/" + sub.ID + "/deliveries?cursor=" + dlvCursor},
			{"GET", "/subscriptions/" + sub.ID + "/deliveries?status=failed&cursor=" + dlvCursor},
		} {
			body := ""
			if rq.method != "GET" && rq.method != "DELETE" {
				body = "{}"
			}
			status, raw := send(t, rq.method, rq.path, local.AdminToken, "application/json", []byte(body))
			if status >= 500 || (status != 200 && status != 400 && status != 404) {
				t.Errorf("%s %.80s... (%d bytes) = %d %.200s; want 400, 404 (or 200 for a filter)", rq.method, rq.path, len(rq.path), status, raw)
			}
		}
		q := url.Values{"appId": {long}, "ts": {strconv.FormatInt(time.Now().UnixMilli(), 10)}}
		status, raw := request(t, "POST", "/event/eventmanager/sendEventMsg.do?"+q.Encode(), map[string]string{"Content-Type": "application/x-www-form-urlencoded", "sign": strings.Repeat("ab", 32)}, []byte("sourceID=U&eventType=E&tenantCode=t"))
		if status != http.StatusUnauthorized {
			t.Errorf("sendEventMsg.do with a %d-byte appId = %d %.200s; want 401", n, status, raw)
		}
	}
}

// TestOwnTenantPatterns: iuap's tenantCode is the stored event's subject and
// data.tenantCode: a subscription selects one tenant's events.
func TestOwnTenantPatterns(t *testing.T) {
	needStack(t)
	node := register(t, fmt.Sprintf(`{"name":"own tenants","format":"iuap","appId":%q}`, unique("TENANT")))
	typ := "ROLE:" + unique("UPD")
	r := newReceiver(t, always(204))
	var sub struct{ ID, Secret string }
	body := fmt.Sprintf(`{"name":"tenant tA","url":%q,"pattern":{"source":["iuap/%s"],"data":{"tenantCode":["tA"]}}}`, r.URL, node.AppID)
	if s := call(t, http.MethodPost, "/subscriptions", local.AdminToken, body, &sub); s != http.StatusCreated {
		t.Fatalf("POST /subscriptions = %d", s)
	}
	r.setSecret(sub.Secret)
	t.Cleanup(func() { call(nil, http.MethodDelete, "/subscriptions/"+sub.ID, local.AdminToken, "", nil) })
	et := strings.TrimPrefix(typ, "ROLE:")
	for _, tenant := range []string{"tB", "tA"} {
		f := url.Values{"sourceID": {"ROLE"}, "eventType": {et}, "tenantCode": {tenant}, "userObject": {tenant}}
		ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
		if s, raw := iuapPost(t, node.AppID, ts, iuap.SignV2(node.SigningKey, node.AppID, ts, []byte(f.Encode())), f); s != 200 {
			t.Fatalf("tenant %s = %d %s", tenant, s, raw)
		}
	}
	eventually(t, 20*time.Second, "tA's event delivered", func() bool { return len(r.deliveries()) >= 1 })
	time.Sleep(time.Second)
	if ds := r.deliveries(); len(ds) != 1 || !strings.Contains(string(ds[0].Body), `"tenantCode":"tA"`) {
		t.Errorf("delivered %d: %v; want tA's event only", len(ds), ds)
	}
	f := url.Values{"sourceID": {"ROLE"}, "eventType": {et}}
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	if s, raw := iuapPost(t, node.AppID, ts, iuap.SignV2(node.SigningKey, node.AppID, ts, []byte(f.Encode())), f); s != 400 || !strings.Contains(string(raw), "tenantCode") {
		t.Errorf("no tenantCode = %d %s; want 400 naming tenantCode", s, raw)
	}
}

// TestOwnTransitionalSourceMigrated: a source registered before ownership (no owns in
// its item) keeps publishing values nobody owns, not another's; `eventhub sources
// migrate -apply` grants it what it published and ends the transition.
func TestOwnTransitionalSourceMigrated(t *testing.T) {
	needStack(t)
	other := unique("/own/other")
	register(t, fmt.Sprintf(`{"name":"own owner","format":"cloudevents","owns":{"exact":[%q]}}`, other))
	legacy := register(t, `{"name":"own legacy","format":"cloudevents","owns":{}}`)
	// As an older eventhub wrote it: no owns, no version.
	_, err := local.DB.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{
		TableName:                aws.String(local.Table),
		Key:                      map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "SRCS"}, "sk": &types.AttributeValueMemberS{Value: legacy.ID}},
		UpdateExpression:         aws.String("REMOVE #owns, #version"),
		ExpressionAttributeNames: map[string]string{"#owns": "owns", "#version": "version"},
	})
	if err != nil {
		t.Fatal(err)
	}
	mine := unique("/own/legacy")
	status, raw := postAs(t, legacy.Token, "application/cloudevents+json", "/events", ceOf("lg-1", mine, "own.legacy", "{}"))
	waitStored(t, acceptedIDs(t, status, raw, 1)[0])
	status, raw = postAs(t, legacy.Token, "application/cloudevents+json", "/events", ceOf("lg-2", other, "own.legacy", "{}"))
	wantForbidden(t, "a transitional source under another's value", status, raw, "/sources/"+legacy.ID)

	out := eventhub(t, "sources", "migrate", "-apply")
	if !strings.Contains(out, legacy.ID) || !strings.Contains(out, strconv.Quote(mine)) {
		t.Errorf("migrate printed:\n%s\nwant %s granted %q", out, legacy.ID, mine)
	}
	var got struct {
		Transitional bool
		Owns         struct{ Exact []string }
	}
	call(t, http.MethodGet, "/sources/"+legacy.ID, local.AdminToken, "", &got)
	if got.Transitional || len(got.Owns.Exact) != 1 || got.Owns.Exact[0] != mine {
		t.Errorf("after migrate: %+v; want a grant of %q, no longer transitional", got, mine)
	}
}

// TestOwnRateLimitPerSource: a source over its rate limit gets 429 with Retry-After
// while another source's events go through; a batch larger than its burst is 413.
func TestOwnRateLimitPerSource(t *testing.T) {
	needStack(t)
	srcA, srcB := unique("/own/flood"), unique("/own/calm")
	a := register(t, fmt.Sprintf(`{"name":"own flood","format":"cloudevents","owns":{"exact":[%q]},"rateLimit":{"perSecond":0.2,"burst":3}}`, srcA))
	b := register(t, fmt.Sprintf(`{"name":"own calm","format":"cloudevents","owns":{"exact":[%q]}}`, srcB))
	for i := range 3 {
		if status, raw := postAs(t, a.Token, "application/cloudevents+json", "/events", ceOf(unique("f"), srcA, "own.flood", "{}")); status != 202 {
			t.Fatalf("event %d within the burst = %d %s", i, status, raw)
		}
	}
	req, _ := http.NewRequest("POST", local.APIURL+"/events", strings.NewReader(ceOf(unique("f"), srcA, "own.flood", "{}")))
	req.Header.Set("Authorization", "Bearer "+a.Token)
	req.Header.Set("Content-Type", "application/cloudevents+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if retry, _ := strconv.Atoi(resp.Header.Get("Retry-After")); resp.StatusCode != http.StatusTooManyRequests || retry < 1 || retry > 5 {
		t.Errorf("the fourth event = %d, Retry-After %q; want 429 within 5 s", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if status, raw := postAs(t, b.Token, "application/cloudevents+json", "/events", ceOf(unique("c"), srcB, "own.calm", "{}")); status != 202 {
		t.Errorf("another source meanwhile = %d %s; want 202", status, raw)
	}
	batch := "[" + strings.Repeat(ceOf("x", srcA, "own.flood", "{}")+",", 3) + ceOf("x", srcA, "own.flood", "{}") + "]"
	if status, raw := postAs(t, a.Token, "application/cloudevents-batch+json", "/events", batch); status != http.StatusRequestEntityTooLarge {
		t.Errorf("a batch of 4 with a burst of 3 = %d %s; want 413", status, raw)
	}
	var got struct {
		RateLimit struct {
			PerSecond float64 `json:"perSecond"`
			Burst     int     `json:"burst"`
		} `json:"rateLimit"`
	}
	if s := call(t, http.MethodPatch, "/sources/"+a.ID, local.AdminToken, `{"rateLimit":{"perSecond":50,"burst":100}}`, &got); s != 200 || got.RateLimit.PerSecond != 50 || got.RateLimit.Burst != 100 {
		t.Errorf("PATCH rateLimit = %d %+v", s, got)
	}
	var e errorBody
	if s := call(t, http.MethodPatch, "/sources/"+a.ID, local.AdminToken, `{"rateLimit":{"perSecond":0,"burst":1}}`, &e); s != 400 || e.Error.Path != "rateLimit.perSecond" {
		t.Errorf("PATCH a zero rate = %d %+v; want 400 at rateLimit.perSecond", s, e)
	}
}

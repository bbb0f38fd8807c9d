package tests

// Hostile producers, subscribers and callers:
//
//   - every route of template.yaml refuses a missing token, a wrong one, the token of
//     the other kind and the stored hash presented as a token (TestEveryRouteNeedsItsToken)
//   - a disabled source is refused at once (TestDisabledSourceIsRefused)
//   - iuap requests whose signed timestamp is more than 5 minutes off, or whose
//     signature is replayed with another timestamp or other fields, are refused; the
//     same request resent within the window is stored once (TestIUAPReplayedSignature)
//   - tokens are stored only as hashes (TestTokensStoredOnlyAsHashes); comparisons are
//     constant-time (auth.MatchHash, shared/auth) and producer tokens are looked up by
//     hash, so a lookup's timing says nothing about the token
//   - SSRF: the sender refuses loopback, private, link-local and metadata addresses,
//     IPv4-embedding IPv6 forms, names resolving inside and every range of the IANA
//     special-purpose registries, also with private destinations allowed
//     (TestSSRFRefusedBySender), and so does the real notify bootstrap as deployed,
//     with private destinations allowed, and as the local stack runs it with loopback
//     allowed (TestSSRFRefusedByNotify); webhook delivery is the functions' only
//     outbound HTTP client (TestOnlyWebhookMakesHTTPRequests)
//   - header injection through subscription headers and URLs (TestHeaderInjection)
//   - oversized and deeply nested payloads (TestOversizedAndNestedPayloads)
//   - no token, signing secret or secret-bearing URL in the logs (TestNoSecretsInLogs)

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventhub/eventhub/shared/adapter/iuap"
	"github.com/eventhub/eventhub/shared/auth"
	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/store"
	"github.com/eventhub/eventhub/shared/webhook"
	"github.com/eventhub/eventhub/shared/webhook/webhooktest"
)

// secrets are the tokens and signing secrets the security tests used; none may
// appear in the stack's logs.
var secrets struct {
	mu   sync.Mutex
	list []string
}

func rememberSecret(s ...string) {
	secrets.mu.Lock()
	defer secrets.mu.Unlock()
	secrets.list = append(secrets.list, s...)
}

func randomToken(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// newSource registers a producer and returns its id and token.
func newSource(t *testing.T, name string) (id, token string) {
	t.Helper()
	var src struct{ ID, Token string }
	if status := call(t, http.MethodPost, "/sources", local.AdminToken, fmt.Sprintf(`{"name":%q,"format":"cloudevents"}`, name), &src); status != http.StatusCreated {
		t.Fatalf("POST /sources = %d", status)
	}
	rememberSecret(src.Token)
	return src.ID, src.Token
}

func TestEveryRouteNeedsItsToken(t *testing.T) {
	needStack(t)
	rememberSecret(local.AdminToken, producer)
	wrongAdmin, wrongProducer := randomToken(auth.AdminPrefix), randomToken(auth.ProducerPrefix)
	rememberSecret(wrongAdmin, wrongProducer)
	_, body := cloudEvent("sec.auth")
	routes := 0
	for _, f := range local.Template.Functions {
		for _, r := range f.Routes {
			if strings.HasPrefix(r.Path, "/console") {
				continue // the console's page and files hold no data (TestConsoleFilesHoldNoData)
			}
			routes++
			path := r.Path
			for strings.Contains(path, "{") {
				i, j := strings.Index(path, "{"), strings.Index(path, "}")
				path = path[:i] + "evt_aaaaaaaaaaaaaaaaaaaaaaaaaa" + path[j+1:]
			}
			method := r.Method
			if method == "ANY" {
				method = http.MethodPost
			}
			// Ingest takes producer tokens; everything else is administration.
			own, other := local.AdminToken, producer
			if f.LogicalID == "IngestFunction" {
				own, other = producer, local.AdminToken
			}
			cases := []struct{ name, header string }{
				{"no token", ""},
				{"empty bearer", "Bearer "},
				{"wrong admin token", "Bearer " + wrongAdmin},
				{"wrong producer token", "Bearer " + wrongProducer},
				{"the other kind of token", "Bearer " + other},
				{"the right token in another scheme", "Basic " + own},
				{"the right token with a suffix", "Bearer " + own + "x"},
				{"a prefix of the right token", "Bearer " + own[:len(own)-1]},
				{"the hash of the right token", "Bearer " + auth.Hash(own)},
			}
			for _, tc := range cases {
				t.Run(method+" "+r.Path+"/"+tc.name, func(t *testing.T) {
					req, err := http.NewRequest(method, local.APIURL+path, strings.NewReader(body))
					if err != nil {
						t.Fatal(err)
					}
					if tc.header != "" {
						req.Header.Set("Authorization", tc.header)
					}
					req.Header.Set("Content-Type", "application/cloudevents+json")
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					var out struct {
						Error struct{ Code, Message string }
					}
					_ = json.NewDecoder(resp.Body).Decode(&out)
					if resp.StatusCode != http.StatusUnauthorized {
						t.Errorf("%s %s with %s = %d; want 401", method, path, tc.name, resp.StatusCode)
					}
					if out.Error.Message == "" || strings.Contains(out.Error.Message, own) || strings.Contains(out.Error.Message, other) {
						t.Errorf("error message %q: want one, naming no token", out.Error.Message)
					}
				})
			}
		}
	}
	if routes < 8 {
		t.Errorf("found %d routes in template.yaml; want every route of the API", routes)
	}
}

// TestConsoleFilesHoldNoData: the console's routes are the only ones without a token;
// they answer the same fixed files to anyone, under a CSP that allows no inline script
// and no other origin, and nothing but those files.
func TestConsoleFilesHoldNoData(t *testing.T) {
	needStack(t)
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/console", http.StatusOK},
		{"/console/app.js", http.StatusOK},
		{"/console/console.css", http.StatusOK},
		{"/console/index.html", http.StatusOK},
		{"/console/../events", http.StatusNotFound},
		{"/console/%2e%2e/handler.go", http.StatusNotFound},
		{"/console/events", http.StatusNotFound},
		{"/console/missing.js", http.StatusNotFound},
	} {
		for _, header := range []string{"", "Bearer " + local.AdminToken} {
			req, err := http.NewRequest(http.MethodGet, local.APIURL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if header != "" {
				req.Header.Set("Authorization", header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if tc.path == "/console/../events" && resp.StatusCode == http.StatusUnauthorized {
				continue // the client cleaned the path to /events: the API's own 401
			}
			if resp.StatusCode != tc.status {
				t.Errorf("GET %s (auth %t) = %d; want %d", tc.path, header != "", resp.StatusCode, tc.status)
			}
			csp := resp.Header.Get("Content-Security-Policy")
			if resp.StatusCode == http.StatusOK && (!strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe")) {
				t.Errorf("GET %s: Content-Security-Policy %q; want scripts from the API alone", tc.path, csp)
			}
			if strings.Contains(string(raw), "evt_") || strings.Contains(string(raw), local.AdminToken) {
				t.Errorf("GET %s answers data: %.200s", tc.path, raw)
			}
		}
	}
}

func TestDisabledSourceIsRefused(t *testing.T) {
	needStack(t)
	id, token := newSource(t, "sec-disabled")
	// Disabled before the token's first use, so that no warm ingest has it cached
	// (a cached source is refused within 30 s).
	if status := call(t, http.MethodPatch, "/sources/"+id, local.AdminToken, `{"enabled":false}`, nil); status != http.StatusOK {
		t.Fatalf("PATCH /sources/%s = %d", id, status)
	}
	_, body := cloudEvent("sec.disabled")
	if status, raw := send(t, http.MethodPost, "/events", token, "application/cloudevents+json", []byte(body)); status != http.StatusForbidden {
		t.Errorf("POST /events from a disabled source = %d %s; want 403", status, raw)
	}
}

func TestIUAPReplayedSignature(t *testing.T) {
	needStack(t)
	appID := fmt.Sprintf("sec%d", time.Now().UnixNano()%1e9)
	var src struct{ ID, Token, SigningKey string }
	body := fmt.Sprintf(`{"name":"sec-iuap","format":"iuap","appId":%q,"signing":true}`, appID)
	if status := call(t, http.MethodPost, "/sources", local.AdminToken, body, &src); status != http.StatusCreated || src.SigningKey == "" {
		t.Fatalf("POST /sources (iuap) = %d, signing key %q", status, src.SigningKey)
	}
	rememberSecret(src.Token, src.SigningKey)
	form := url.Values{"sourceID": {"USER"}, "eventType": {"ADD_AFTER"}, "tenantCode": {"t1"}, "userObject": {fmt.Sprintf(`{"userId":"u-%d"}`, time.Now().UnixNano())}}
	fields := map[string]string{}
	for k, v := range form {
		fields[k] = v[0]
	}
	ms := func(d time.Duration) string { return strconv.FormatInt(time.Now().Add(d).UnixMilli(), 10) }
	sendIUAP := func(ts, sign string, form url.Values) (int, string) {
		req, err := http.NewRequest(http.MethodPost, local.APIURL+"/event/eventmanager/sendEventMsg.do?appId="+appID+"&ts="+ts, strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("sign", sign)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct{ Data struct{ ID string } }
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out.Data.ID
	}

	ts := ms(0)
	sign := iuap.Sign(src.SigningKey, appID, ts, fields)
	status, id := sendIUAP(ts, sign, form)
	if status != http.StatusOK || id == "" {
		t.Fatalf("signed iuap request = %d; want 200 with an id", status)
	}
	// The same request again (a retry, or a replay within the window): stored once.
	if status, again := sendIUAP(ts, sign, form); status != http.StatusOK || again != id {
		t.Errorf("the same request again = %d %s; want 200 and the same id %s", status, again, id)
	}
	tampered := url.Values{"sourceID": {"USER"}, "eventType": {"DELETE_AFTER"}, "tenantCode": {"t1"}, "userObject": form["userObject"]}
	stale, future := ms(-6*time.Minute), ms(6*time.Minute)
	for name, tc := range map[string]struct {
		ts, sign string
		form     url.Values
	}{
		"signature replayed with a new timestamp": {ms(0), sign, form},
		"signature replayed for other fields":     {ts, sign, tampered},
		"signed 6 minutes ago":                    {stale, iuap.Sign(src.SigningKey, appID, stale, fields), form},
		"signed 6 minutes ahead":                  {future, iuap.Sign(src.SigningKey, appID, future, fields), form},
		"signed with another key":                 {ts, iuap.Sign("ehk_"+strings.Repeat("0", 43), appID, ts, fields), form},
	} {
		if status, _ := sendIUAP(tc.ts, tc.sign, tc.form); status != http.StatusUnauthorized {
			t.Errorf("%s: status %d; want 401", name, status)
		}
	}
	ev := waitStored(t, id)
	eventually(t, 10*time.Second, "the resent request counted", func() bool {
		_, ev = getEvent(t, id)
		return ev.Duplicates == 1
	})
}

// Producer tokens live in the table only as SHA-256 hashes: reading the whole table
// does not reveal one.
func TestTokensStoredOnlyAsHashes(t *testing.T) {
	needStack(t)
	_, token := newSource(t, "sec-hash")
	var start map[string]types.AttributeValue
	found := false
	for {
		out, err := local.DB.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(local.Table), ExclusiveStartKey: start})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			raw := fmt.Sprint(it)
			for _, s := range []string{token, producer, local.AdminToken} {
				if strings.Contains(raw, s) {
					t.Fatalf("a token is stored in the clear: %.200s", raw)
				}
			}
			if v, ok := it["pk"].(*types.AttributeValueMemberS); ok && v.Value == "TOKEN#"+auth.Hash(token) {
				found = true
			}
		}
		if out.LastEvaluatedKey == nil {
			break
		}
		start = out.LastEvaluatedKey
	}
	if !found {
		t.Errorf("no TOKEN#<sha256> item for the new source: tokens are looked up by their hash")
	}
}

// canary is a receiver on loopback that must never be reached.
func canary(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// hostileURLs are subscription URLs that point inside: at the canary's port where a
// port can be chosen, else at the standard ports the guard otherwise allows.
func hostileURLs(canaryPort string) map[string]string {
	return map[string]string{
		"loopback":                  "http://127.0.0.1:" + canaryPort + "/hook",
		"loopback on port 80":       "http://127.0.0.1/hook",
		"loopback elsewhere in 8":   "https://127.8.9.10/hook",
		"unspecified address":       "http://0.0.0.0/hook",
		"private 10/8":              "http://10.0.0.1/hook",
		"private 172.16/12":         "http://172.16.5.4/hook",
		"private 192.168/16":        "https://192.168.1.1/hook",
		"shared address space":      "http://100.64.0.1/hook",
		"link-local":                "http://169.254.1.1/hook",
		"metadata service":          "http://169.254.169.254/latest/meta-data/",
		"IPv6 loopback":             "http://[::1]/hook",
		"IPv6 unique local":         "http://[fd00::1]/hook",
		"IPv6 link-local":           "http://[fe80::1]/hook",
		"IPv4-mapped loopback":      "http://[::ffff:127.0.0.1]/hook",
		"IPv4-mapped metadata":      "http://[::ffff:169.254.169.254]/hook",
		"NAT64 of a private":        "http://[64:ff9b::a00:1]/hook",
		"IPv4-compatible loopback":  "http://[::7f00:1]:" + canaryPort + "/hook",
		"IPv4-compatible metadata":  "http://[::a9fe:a9fe]/latest/meta-data/",
		"IPv4-translated loopback":  "http://[::ffff:0:7f00:1]:" + canaryPort + "/hook",
		"IPv4-translated metadata":  "http://[::ffff:0:a9fe:a9fe]/latest/meta-data/",
		"IPv6 site-local":           "http://[fec0::1]/hook",
		"IPv6 metadata service":     "http://[fd00:ec2::254]/latest/meta-data/",
		"6to4 of the metadata":      "http://[2002:a9fe:a9fe::1]/hook",
		"name resolving to inside":  "http://localhost:" + canaryPort + "/hook",
		"name on port 80":           "http://localhost/hook",
		"fully qualified localhost": "http://localhost./hook",
		"decimal loopback":          "http://2130706433/hook",
		"octal loopback":            "http://0177.0.0.1/hook",
	}
}

// ianaURLs are URLs at two addresses of every range of the IANA special-purpose
// registries the guard refuses, and of the IPv6 space outside global unicast.
func ianaURLs() map[string]string {
	out := map[string]string{}
	for _, ip := range webhooktest.Samples() {
		out["IANA "+ip.String()] = "https://" + netip.AddrPortFrom(ip, 443).String() + "/hook"
	}
	return out
}

func TestSSRFRefusedBySender(t *testing.T) {
	srv, hits := canary(t)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	urls := hostileURLs(port)
	maps.Copy(urls, ianaURLs())
	for _, tc := range []struct {
		name  string
		guard webhook.Guard
	}{
		{"as deployed", webhook.Guard{}},
		// What a VPC deployment may set: still never metadata, link-local, loopback.
		{"private allowed", webhook.Guard{AllowPrivate: true}},
	} {
		s := webhook.NewSender(tc.guard)
		for name, url := range urls {
			if tc.guard.AllowPrivate && private(url) {
				continue
			}
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				res := s.Send(ctx, webhook.Message{URL: url, ID: "msg_ssrf", Body: []byte(`{}`), ContentType: "application/json", Secrets: []string{webhook.NewSecret()}, Timeout: 2 * time.Second})
				if res.OK() || res.Status != 0 || res.Err == nil || !refused(res.Err.Error()) {
					t.Errorf("Send(%s) = %+v; want refused by the guard before any HTTP exchange", url, res)
				}
			})
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the loopback canary got %d requests; want none", n)
	}
}

// refused reports whether an attempt's error is the guard's refusal, or the failed
// lookup of a host name only a C resolver would read as an address ("2130706433").
func refused(err string) bool {
	return strings.Contains(err, "destination refused") || strings.Contains(err, "lookup ") && strings.Contains(err, "no such host")
}

// private reports whether a hostile URL's host is in a range AllowPrivate opens.
func private(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(u.Hostname())
	if err != nil {
		return false
	}
	for _, p := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"} {
		if netip.MustParsePrefix(p).Contains(ip.Unmap()) && ip.Unmap() != netip.MustParseAddr("fd00:ec2::254") {
			return true
		}
	}
	return false
}

// loopbackURLs are the hostile URLs that reach loopback, which the local stack's own
// notify may: the other forms of loopback stay refused.
var loopbackURLs = map[string]bool{
	"loopback": true, "loopback on port 80": true, "loopback elsewhere in 8": true, "IPv6 loopback": true,
	"IPv4-mapped loopback": true, "name resolving to inside": true, "name on port 80": true,
	"fully qualified localhost": true, "decimal loopback": true, "octal loopback": true,
}

// The real notify bootstrap records every hostile subscription's first attempt as
// refused and reaches nothing: as deployed (no loopback), with private destinations
// allowed (still no metadata, link-local or loopback), and as the local stack runs it
// (loopback allowed, nothing else).
func TestSSRFRefusedByNotify(t *testing.T) {
	needStack(t)
	srv, hits := canary(t)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	for _, tc := range []struct {
		name string
		env  []string
		skip func(name, url string) bool
	}{
		{"as deployed", []string{"ALLOW_LOOPBACK_DESTINATIONS=false"}, func(string, string) bool { return false }},
		{"private allowed", []string{"ALLOW_LOOPBACK_DESTINATIONS=false", "ALLOW_PRIVATE_DESTINATIONS=true"}, func(_, url string) bool { return private(url) }},
		{"local stack", nil, func(name, _ string) bool { return loopbackURLs[name] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			urls := map[string]string{}
			for name, url := range hostileURLs(port) {
				if !tc.skip(name, url) {
					urls[name] = url
				}
			}
			ssrfThroughNotify(t, tc.env, urls)
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the loopback canary got %d requests; want none", n)
	}
}

// storedInvocation returns an Event Stored invocation of notify for a synthetic event
// of the type, which is never stored nor put on the bus (the stack's own notify never
// sees it), and the event's key.
func storedInvocation(id, typ string) (key string, payload []byte) {
	ce := fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/e2e/synthetic","type":%q}`, id, typ)
	key = cloudevent.Key("/e2e/synthetic", id)
	detail, _ := json.Marshal(bus.EventDetail{Event: json.RawMessage(ce), Hub: bus.Hub{Key: key, ReceivedAt: time.Now().UTC()}})
	payload, _ = json.Marshal(events.EventBridgeEvent{
		Version: "0", ID: "synthetic-" + id, DetailType: bus.Stored, Source: bus.SourcePersist,
		AccountID: "000000000000", Region: "us-east-1", Time: time.Now().UTC(), Detail: detail,
	})
	return key, payload
}

// ssrfThroughNotify subscribes each URL to a synthetic event, invokes a notify
// bootstrap with the extra environment on it, and checks that every first attempt
// was refused without an HTTP status.
func ssrfThroughNotify(t *testing.T, env []string, urls map[string]string) {
	notify, err := local.FunctionWith("NotifyFunction", env...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = notify.Close() })

	// Only this test's synthetic event has this type, and it never goes on the bus:
	// the stack's own notify never sees it. The retry is an hour away, past the end
	// of the test run.
	typ := fmt.Sprintf("sec.ssrf.%d", time.Now().UnixNano())
	subs := map[string]string{}
	for name, url := range urls {
		body := fmt.Sprintf(`{"name":%q,"url":%q,"pattern":{"type":[%q]},"retry":["1h"],"timeout":2}`, "ssrf "+name, url, typ)
		var sub struct{ ID string }
		if status := call(t, http.MethodPost, "/subscriptions", local.AdminToken, body, &sub); status != http.StatusCreated {
			t.Fatalf("POST /subscriptions %s = %d", url, status)
		}
		subs[sub.ID] = name
		t.Cleanup(func() { call(nil, http.MethodDelete, "/subscriptions/"+sub.ID, local.AdminToken, "", nil) })
	}

	key, payload := storedInvocation("ssrf-"+typ, typ)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := notify.Invoke(ctx, payload); err != nil {
		t.Fatalf("invoke notify: %v", err)
	}

	h, err := store.New(local.DB, local.Table, 0).History(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	attempted := map[string]store.TimelineEntry{}
	for _, e := range h.Timeline {
		if e.Stage == store.StageAttempt {
			attempted[e.SubscriptionID] = e
		}
	}
	for id, name := range subs {
		e, ok := attempted[id]
		switch {
		case !ok:
			t.Errorf("%s: no attempt recorded", name)
		case e.Status != 0 || !refused(e.Error):
			t.Errorf("%s: attempt = status %d, error %q; want refused by the guard with no HTTP status", name, e.Status, e.Error)
		}
	}
}

// TestOnlyWebhookMakesHTTPRequests keeps webhook delivery, behind the SSRF guard, the
// only outbound HTTP client of the functions: no other product package builds an
// HTTP client or transport or dials by itself. (The AWS SDK's clients talk to AWS's
// endpoints, or to the emulators the local stack names.)
func TestOnlyWebhookMakesHTTPRequests(t *testing.T) {
	outbound := regexp.MustCompile(`http\.(Client|Transport)\b|http\.Default(Client|Transport)|http\.(Get|Head|Post|PostForm)\(|net\.Dial|tls\.Dial|\bDialContext\(`)
	eachProductFile(t, func(path string, src []byte) {
		if strings.HasPrefix(path, "shared/webhook/") && !strings.Contains(strings.TrimPrefix(path, "shared/webhook/"), "/") {
			return
		}
		if m := outbound.Find(src); m != nil {
			t.Errorf("%s has %q: outbound HTTP goes through shared/webhook's guarded sender", path, m)
		}
	})
}

func TestHeaderInjection(t *testing.T) {
	needStack(t)
	r := newReceiver(t, always(200))
	var seen atomic.Pointer[http.Header]
	inner := r.Config.Handler
	r.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		h := req.Header.Clone()
		seen.Store(&h)
		inner.ServeHTTP(w, req)
	})
	bad := []struct {
		name    string
		headers string
		url     string
	}{
		{name: "CRLF in a value", headers: `{"X-A":"v\r\nX-Injected: 1"}`},
		{name: "LF in a value", headers: `{"X-A":"v\nX-Injected: 1"}`},
		{name: "CR in a value", headers: `{"X-A":"v\rX-Injected: 1"}`},
		{name: "NUL in a value", headers: `{"X-A":"v\u0000"}`},
		{name: "other control character in a value", headers: `{"X-A":"v\u0001w"}`},
		{name: "DEL in a value", headers: `{"X-A":"v\u007fw"}`},
		{name: "CRLF in a name", headers: `{"X-A\r\nX-Injected":"1"}`},
		{name: "colon in a name", headers: `{"X-A: 1\r\nX-B":"2"}`},
		{name: "space in a name", headers: `{"X A":"1"}`},
		{name: "empty name", headers: `{"":"1"}`},
		{name: "signature overridden", headers: `{"webhook-signature":"v1,forged"}`},
		{name: "id overridden", headers: `{"Webhook-Id":"msg_forged"}`},
		{name: "timestamp overridden", headers: `{"WEBHOOK-TIMESTAMP":"1"}`},
		{name: "host overridden", headers: `{"Host":"evil.example"}`},
		{name: "content type overridden", headers: `{"Content-Type":"text/html"}`},
		{name: "content length overridden", headers: `{"Content-Length":"0"}`},
		{name: "transfer encoding", headers: `{"Transfer-Encoding":"chunked"}`},
		{name: "CRLF in the URL", url: r.URL + "/\r\nX-Injected: 1"},
		{name: "space in the URL host", url: "http://127.0.0.1 X-Injected: 1/"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			url, headers := r.URL, tc.headers
			if tc.url != "" {
				url = tc.url
			}
			if headers == "" {
				headers = "{}"
			}
			uj, _ := json.Marshal(url)
			body := fmt.Sprintf(`{"name":"sec headers","url":%s,"pattern":{"type":["sec.headers"]},"headers":%s}`, uj, headers)
			var sub struct{ ID string }
			if status := call(t, http.MethodPost, "/subscriptions", local.AdminToken, body, &sub); status != http.StatusBadRequest {
				if sub.ID != "" {
					call(nil, http.MethodDelete, "/subscriptions/"+sub.ID, local.AdminToken, "", nil)
				}
				t.Errorf("POST /subscriptions with %s = %d; want 400", tc.name, status)
			}
		})
	}

	// Headers that are allowed arrive as given, and nothing else is added.
	typ := "sec.headers.ok"
	body := fmt.Sprintf(`{"name":"sec headers ok","url":%q,"pattern":{"type":[%q]},"headers":{"X-Team":"a: b; c=d","Authorization":"Bearer receiver-own"}}`, r.URL, typ)
	var sub struct{ ID, Secret string }
	if status := call(t, http.MethodPost, "/subscriptions", local.AdminToken, body, &sub); status != http.StatusCreated {
		t.Fatalf("POST /subscriptions = %d", status)
	}
	r.setSecret(sub.Secret)
	rememberSecret(sub.Secret)
	t.Cleanup(func() { call(nil, http.MethodDelete, "/subscriptions/"+sub.ID, local.AdminToken, "", nil) })
	_, ev := cloudEvent(typ)
	post(t, ev)
	eventually(t, 20*time.Second, "the delivery", func() bool { return len(r.deliveries()) == 1 })
	got := *seen.Load()
	if got.Get("X-Team") != "a: b; c=d" || got.Get("Authorization") != "Bearer receiver-own" {
		t.Errorf("delivery headers X-Team=%q Authorization=%q; want the subscription's", got.Get("X-Team"), got.Get("Authorization"))
	}
	for name := range got {
		switch http.CanonicalHeaderKey(name) {
		case "X-Team", "Authorization", "Content-Type", "Content-Length", "User-Agent", "Accept-Encoding",
			"Webhook-Id", "Webhook-Timestamp", "Webhook-Signature":
		default:
			t.Errorf("delivery carries an unexpected header %s: %q", name, got.Values(name))
		}
	}
}

func TestOversizedAndNestedPayloads(t *testing.T) {
	needStack(t)
	event := func(id, data string) string {
		return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/sec/tests","type":"sec.payload","data":%s}`, id, data)
	}
	nested := func(depth int) string { return strings.Repeat("[", depth) + strings.Repeat("]", depth) }
	nestedObj := func(depth int) string { return strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth) }
	big := `"` + string(incompressible(600<<10)) + `"` // over what the store holds, after compression
	batchOf := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = event(fmt.Sprintf("batch-%d", i), "1")
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	tests := []struct {
		name string
		body string
		want int
	}{
		{"event the store cannot hold", event("big", big), http.StatusRequestEntityTooLarge},
		{"request over 1 MiB", "[" + strings.Repeat(event("x", `"`+strings.Repeat("y", 200<<10)+`"`)+",", 6) + event("x", "1") + "]", http.StatusRequestEntityTooLarge},
		{"request over the gateway's 10 MB", `"` + strings.Repeat("z", 11<<20) + `"`, http.StatusRequestEntityTooLarge},
		{"batch of 101", batchOf(101), http.StatusRequestEntityTooLarge},
		{"arrays nested 100000 deep", event("deep-a", nested(100000)), http.StatusBadRequest},
		{"objects nested 20000 deep", event("deep-o", nestedObj(20000)), http.StatusBadRequest},
		{"arrays nested 5000 deep", event("deep-5000", nested(5000)), http.StatusBadRequest},
		{"one level deeper than allowed", event("deep-65", nested(maxEventDepth)), http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, raw := send(t, http.MethodPost, "/events", producer, "application/cloudevents+json", []byte(tc.body))
			if status != tc.want {
				t.Errorf("POST /events (%s) = %d %.200s; want %d", tc.name, status, raw, tc.want)
			}
		})
	}
	// What ingest accepts flows end to end: an event nested as deep as ingest allows
	// (its data one level less) is stored.
	id := post(t, event(fmt.Sprintf("deep-ok-%d", time.Now().UnixNano()), nestedObj(maxEventDepth-1)))
	waitStored(t, id)

	// Subscription patterns are bounded too.
	deep := fmt.Sprintf(`{"name":"deep","url":"http://127.0.0.1:1/","pattern":%s}`, strings.Repeat(`{"a":`, 5000)+`["x"]`+strings.Repeat("}", 5000))
	if status := call(t, http.MethodPost, "/subscriptions", local.AdminToken, deep, nil); status != http.StatusBadRequest {
		t.Errorf("POST /subscriptions with a pattern nested 5000 deep = %d; want 400", status)
	}
}

// maxEventDepth is the deepest nesting of arrays and objects ingest accepts in an
// event, the event object counting as one.
const maxEventDepth = 64

func TestNoSecretsInLogs(t *testing.T) {
	needStack(t)
	// Traffic through every path that handles a secret: sources, tokens that are
	// wrong, subscriptions whose deliveries succeed, fail and are retried, and a
	// subscription URL carrying its own secret in the query.
	_, token := newSource(t, "sec-logs")
	rememberSecret(token, local.AdminToken, producer)
	wrong := randomToken(auth.ProducerPrefix)
	rememberSecret(wrong)
	_, ev := cloudEvent("sec.logs")
	send(t, http.MethodPost, "/events", wrong, "application/cloudevents+json", []byte(ev))
	send(t, http.MethodGet, "/subscriptions", wrong, "", nil)

	ok := newReceiver(t, always(200))
	failing := newReceiver(t, always(500))
	urlSecret := randomToken("urlsecret_")
	rememberSecret(urlSecret)
	typ := "sec.logs"
	for _, r := range []*receiver{ok, failing} {
		body := fmt.Sprintf(`{"name":"sec logs","url":%q,"pattern":{"type":[%q]},"retry":["100ms"],"timeout":2}`, r.URL+"/hook?key="+urlSecret, typ)
		var sub struct{ ID, Secret string }
		if status := call(t, http.MethodPost, "/subscriptions", local.AdminToken, body, &sub); status != http.StatusCreated {
			t.Fatalf("POST /subscriptions = %d", status)
		}
		r.setSecret(sub.Secret)
		rememberSecret(sub.Secret, strings.TrimPrefix(sub.Secret, "whsec_"))
		t.Cleanup(func() { call(nil, http.MethodDelete, "/subscriptions/"+sub.ID, local.AdminToken, "", nil) })
	}
	// A refused connection too: its error names the address.
	body := fmt.Sprintf(`{"name":"sec logs down","url":%q,"pattern":{"type":[%q]},"retry":["100ms"],"timeout":2}`, "http://127.0.0.1:1/hook?key="+urlSecret, typ)
	var down struct{ ID, Secret string }
	if status := call(t, http.MethodPost, "/subscriptions", local.AdminToken, body, &down); status != http.StatusCreated {
		t.Fatalf("POST /subscriptions = %d", status)
	}
	rememberSecret(down.Secret)
	t.Cleanup(func() { call(nil, http.MethodDelete, "/subscriptions/"+down.ID, local.AdminToken, "", nil) })

	id := post(t, strings.Replace(ev, `"id":"`, `"id":"logs-`, 1))
	eventually(t, 20*time.Second, "deliveries done", func() bool {
		_, e := getEvent(t, id)
		done := 0
		for _, d := range e.Deliveries {
			if d.Status != store.DeliveryPending {
				done++
			}
		}
		return done == 3
	})

	// Secrets of every subscription there is now, whichever test made it.
	subs, err := store.New(local.DB, local.Table, 0).ListSubscriptions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subs {
		rememberSecret(s.Secrets...)
	}
	logs := logs.String()
	secrets.mu.Lock()
	defer secrets.mu.Unlock()
	for _, s := range secrets.list {
		if len(s) < 16 {
			continue
		}
		if i := strings.Index(logs, s); i >= 0 {
			lo, hi := max(i-200, 0), min(i+len(s)+50, len(logs))
			t.Errorf("a secret (%.10s...) appears in the logs: ...%s...", s, logs[lo:hi])
		}
	}
}

// A receiver's credentials, in its subscription's headers or in its URL's query, stay
// with the subscription: no bus entry (Delivery Failed and Subscription Disabled
// included), no log line and no listing shows them; only GET /subscriptions/{id} shows
// the URL whole, and no answer shows a header value.
func TestSecretsStayWithTheSubscription(t *testing.T) {
	needStack(t)
	gone, failing := newHook(t, status(http.StatusGone)), newHook(t, status(http.StatusInternalServerError))
	typ, body := typed(t)
	var subs []subscription
	var leaks []string
	for _, h := range []*hook{gone, failing} {
		urlSecret, headerSecret := randomToken("urlkey_"), randomToken("hdrkey_")
		leaks = append(leaks, urlSecret, headerSecret)
		sub := newSubscription(t, fmt.Sprintf(`{"url":%q,"pattern":{"type":[%q]},"retry":["100ms"],"headers":{"Authorization":"Bearer %s"}}`,
			h.URL+"/hook?key="+urlSecret, typ, headerSecret))
		h.verifyWith(sub.Secret)
		subs = append(subs, sub)
	}
	rememberSecret(leaks...) // TestNoSecretsInLogs checks them too
	key := post(t, body)
	waitDelivery(t, key, subs[0].ID, "failed", 20*time.Second)
	waitDelivery(t, key, subs[1].ID, "failed", 20*time.Second)
	eventually(t, 10*time.Second, "Subscription Disabled and Delivery Failed on the bus", func() bool {
		return len(busEntries.find(bus.SubscriptionDisabled, subs[0].ID)) == 1 && len(busEntries.find(bus.DeliveryFailed, subs[1].ID)) == 1
	})
	for _, h := range []*hook{gone, failing} {
		if got := h.requests(); len(got) == 0 || !strings.HasPrefix(got[0].Header.Get("Authorization"), "Bearer hdrkey_") {
			t.Fatalf("the receiver got %d requests, the first without the subscription's header", len(got))
		}
	}
	disabled := busEntries.find(bus.SubscriptionDisabled, subs[0].ID)[0]
	if !strings.Contains(disabled, `/hook?key=redacted"`) {
		t.Errorf("Subscription Disabled detail %s; want the URL with its query redacted", disabled)
	}

	seen := map[string]string{"logs": logs.String()}
	busEntries.mu.Lock()
	for i, e := range busEntries.entries {
		seen[fmt.Sprintf("bus entry %d (%s)", i, e.DetailType)] = e.Detail
	}
	busEntries.mu.Unlock()
	for _, path := range []string{
		"/subscriptions", "/subscriptions/" + subs[0].ID + "/deliveries", "/subscriptions/" + subs[1].ID + "/deliveries?status=failed",
		"/events/" + key, "/events?type=" + typ, "/alerts",
	} {
		status, raw := send(t, http.MethodGet, path, local.AdminToken, "", nil)
		if status != http.StatusOK {
			t.Errorf("GET %s = %d", path, status)
		}
		seen["GET "+path] = string(raw)
	}
	for _, sub := range subs {
		_, raw := send(t, http.MethodGet, "/subscriptions/"+sub.ID, local.AdminToken, "", nil)
		seen["GET /subscriptions/"+sub.ID] = strings.ReplaceAll(string(raw), "?key=urlkey_", "?key=") // its URL may show
	}
	for where, text := range seen {
		for _, s := range leaks {
			if i := strings.Index(text, s); i >= 0 {
				lo, hi := max(i-120, 0), min(i+len(s)+40, len(text))
				t.Errorf("%s shows a secret of the subscription: ...%s...", where, text[lo:hi])
			}
		}
	}
}

package tests

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// hook is a webhook receiver on 127.0.0.1 that records every request, checks its
// Standard Webhooks signature with the library against each secret it is told
// (each must verify) and answers as answer says for the n-th request (1-based).
type hook struct {
	*httptest.Server
	answer func(n int, r hookRequest) hookAnswer

	mu      sync.Mutex
	secrets []string
	reqs    []hookRequest
}

type hookRequest struct {
	At     time.Time
	Header http.Header
	Body   []byte
	Form   url.Values // iuap mode
	SigErr string     // "" when every secret verified the signature
}

type hookAnswer struct {
	Status int
	Body   string
	Header map[string]string
	Delay  time.Duration // before answering
}

func newHook(t *testing.T, answer func(n int, r hookRequest) hookAnswer) *hook {
	h := &hook{answer: answer}
	h.Server = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.Close)
	return h
}

func status(code int) func(int, hookRequest) hookAnswer {
	return func(int, hookRequest) hookAnswer { return hookAnswer{Status: code} }
}

func (h *hook) verifyWith(secrets ...string) {
	h.mu.Lock()
	h.secrets = secrets
	h.mu.Unlock()
}

func (h *hook) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r := hookRequest{At: time.Now(), Header: req.Header.Clone(), Body: body}
	if strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		r.Form, _ = url.ParseQuery(string(body))
	}
	h.mu.Lock()
	for _, s := range h.secrets {
		wh, err := standardwebhooks.NewWebhook(s)
		if err == nil {
			err = wh.Verify(body, req.Header)
		}
		if err != nil {
			r.SigErr = err.Error()
		}
	}
	if len(h.secrets) == 0 {
		r.SigErr = "no secret to verify with"
	}
	h.reqs = append(h.reqs, r)
	n := len(h.reqs)
	h.mu.Unlock()
	a := h.answer(n, r)
	if a.Delay > 0 {
		select {
		case <-time.After(a.Delay):
		case <-req.Context().Done():
			return
		}
	}
	for k, v := range a.Header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.Status)
	_, _ = io.WriteString(w, a.Body)
}

func (h *hook) requests() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.reqs...)
}

// subscription is the API's view of a subscription.
type subscription struct {
	ID               string     `json:"id"`
	Secret           string     `json:"secret"`
	Enabled          bool       `json:"enabled"`
	DisabledReason   string     `json:"disabledReason"`
	SecretGraceUntil *time.Time `json:"secretGraceUntil"`
}

// newSubscription creates a subscription from the JSON fields given (name is added)
// and deletes it when the test ends.
func newSubscription(t *testing.T, fields string) subscription {
	t.Helper()
	var sub subscription
	body := `{"name":"` + t.Name() + `",` + strings.TrimPrefix(fields, "{")
	if status := call(t, http.MethodPost, "/subscriptions", local.AdminToken, body, &sub); status != http.StatusCreated {
		t.Fatalf("POST /subscriptions %s = %d", body, status)
	}
	t.Cleanup(func() { call(nil, http.MethodDelete, "/subscriptions/"+sub.ID, local.AdminToken, "", nil) })
	return sub
}

func getSubscription(t *testing.T, id string) subscription {
	t.Helper()
	var sub subscription
	if status := call(t, http.MethodGet, "/subscriptions/"+id, local.AdminToken, "", &sub); status != http.StatusOK {
		t.Fatalf("GET /subscriptions/%s = %d", id, status)
	}
	return sub
}

// attempts returns the delivery attempts to a subscription in an event's timeline.
type attemptEntry struct {
	Attempt int    `json:"attempt"`
	Status  int    `json:"status"`
	Outcome string `json:"outcome"`
	Error   string `json:"error"`
	Sub     string `json:"subscriptionId"`
	Stage   string `json:"stage"`
}

type deliveryState struct {
	SubscriptionID string `json:"subscriptionId"`
	Status         string `json:"status"`
	Attempts       int    `json:"attempts"`
}

func history(t *testing.T, key, subID string) (attempts []attemptEntry, d deliveryState) {
	t.Helper()
	var ev struct {
		Timeline   []attemptEntry  `json:"timeline"`
		Deliveries []deliveryState `json:"deliveries"`
	}
	call(t, http.MethodGet, "/events/"+key, local.AdminToken, "", &ev)
	for _, e := range ev.Timeline {
		if e.Stage == "attempt" && e.Sub == subID {
			attempts = append(attempts, e)
		}
	}
	for _, x := range ev.Deliveries {
		if x.SubscriptionID == subID {
			d = x
		}
	}
	return attempts, d
}

// waitDelivery waits until the delivery of the event to the subscription has the status.
func waitDelivery(t *testing.T, key, subID, status string, timeout time.Duration) ([]attemptEntry, deliveryState) {
	t.Helper()
	var as []attemptEntry
	var d deliveryState
	eventually(t, timeout, "delivery of "+key+" to "+subID+" "+status, func() bool {
		as, d = history(t, key, subID)
		return d.Status == status
	})
	return as, d
}

// typed returns a unique event type for the test and a CloudEvent of it.
func typed(t *testing.T) (typ, body string) {
	typ = "e2e.dlv." + strings.ToLower(strings.NewReplacer("/", ".", "_", "").Replace(t.Name()))
	_, body = cloudEvent(typ)
	return typ, body
}

func TestDeliverySignedAndRotated(t *testing.T) {
	needStack(t)
	h := newHook(t, status(http.StatusNoContent))
	typ, body := typed(t)
	sub := newSubscription(t, fmt.Sprintf(`{"url":%q,"pattern":{"type":[%q]},"headers":{"X-Tenant":"t1"}}`, h.URL, typ))
	h.verifyWith(sub.Secret)
	key := post(t, body)
	waitDelivery(t, key, sub.ID, "delivered", 20*time.Second)
	r := h.requests()[0]
	if r.SigErr != "" || r.Header.Get("Content-Type") != "application/cloudevents+json" || r.Header.Get("X-Tenant") != "t1" {
		t.Errorf("first delivery: signature %q, content type %q, X-Tenant %q", r.SigErr, r.Header.Get("Content-Type"), r.Header.Get("X-Tenant"))
	}

	// Rotate: during the grace period both the old and the new secret verify.
	var rotated subscription
	if status := call(t, http.MethodPost, "/subscriptions/"+sub.ID+"/rotate-secret", local.AdminToken, `{"grace":"1h"}`, &rotated); status != http.StatusOK {
		t.Fatalf("rotate-secret = %d", status)
	}
	if rotated.Secret == sub.Secret || rotated.SecretGraceUntil == nil {
		t.Fatalf("rotate-secret = %+v; want a new secret and a grace period", rotated)
	}
	h.verifyWith(sub.Secret, rotated.Secret)
	_, body = cloudEvent(typ)
	key = post(t, body)
	waitDelivery(t, key, sub.ID, "delivered", 20*time.Second)
	r = h.requests()[1]
	if sigs := strings.Fields(r.Header.Get("webhook-signature")); len(sigs) != 2 || r.SigErr != "" {
		t.Errorf("after rotation: webhook-signature %q (verify: %q); want two v1 signatures, each verifying", r.Header.Get("webhook-signature"), r.SigErr)
	}
}

func TestDeliveryRetriesAfter5xxTimeoutAndRefusal(t *testing.T) {
	needStack(t)
	// 500, then an answer slower than the 1 s timeout, then 200.
	h := newHook(t, func(n int, _ hookRequest) hookAnswer {
		switch n {
		case 1:
			return hookAnswer{Status: 500, Body: "boom"}
		case 2:
			return hookAnswer{Status: 200, Delay: 3 * time.Second}
		}
		return hookAnswer{Status: 200}
	})
	// A port nobody listens on: connections are refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/hook"
	ln.Close()

	typ, body := typed(t)
	flaky := newSubscription(t, fmt.Sprintf(`{"url":%q,"pattern":{"type":[%q]},"retry":["1s","1s","1s"],"timeout":1}`, h.URL, typ))
	h.verifyWith(flaky.Secret)
	closed := newSubscription(t, fmt.Sprintf(`{"url":%q,"pattern":{"type":[%q]},"retry":["1s","1s","1s"],"timeout":1}`, refused, typ))
	key := post(t, body)

	// The refused one: once an attempt failed, point it at a live receiver.
	eventually(t, 20*time.Second, "a refused attempt", func() bool {
		as, _ := history(t, key, closed.ID)
		return len(as) > 0
	})
	live := newHook(t, status(200))
	live.verifyWith(closed.Secret)
	if status := call(t, http.MethodPatch, "/subscriptions/"+closed.ID, local.AdminToken, fmt.Sprintf(`{"url":%q}`, live.URL), nil); status != http.StatusOK {
		t.Fatalf("PATCH url = %d", status)
	}
	as, _ := waitDelivery(t, key, closed.ID, "delivered", 20*time.Second)
	if !strings.Contains(as[0].Error, "refused") {
		t.Errorf("first attempt to the closed port: %+v; want connection refused", as[0])
	}

	as, d := waitDelivery(t, key, flaky.ID, "delivered", 30*time.Second)
	if d.Attempts != 3 || len(as) != 3 {
		t.Fatalf("flaky receiver: %d attempts %+v; want 3", d.Attempts, as)
	}
	if as[0].Status != 500 || !strings.Contains(as[1].Error, "timed out") || as[2].Status != 200 {
		t.Errorf("attempts = %+v; want 500, timed out, 200", as)
	}
	reqs := h.requests()
	for _, r := range reqs {
		if r.SigErr != "" || r.Header.Get("webhook-id") != reqs[0].Header.Get("webhook-id") {
			t.Errorf("request %+v: want verified, with one webhook-id across retries", r.Header)
		}
	}
}

func TestDeliveryHonoursRetryAfter(t *testing.T) {
	needStack(t)
	h := newHook(t, func(n int, _ hookRequest) hookAnswer {
		if n == 1 {
			return hookAnswer{Status: http.StatusServiceUnavailable, Header: map[string]string{"Retry-After": "4"}}
		}
		return hookAnswer{Status: 200}
	})
	typ, body := typed(t)
	sub := newSubscription(t, fmt.Sprintf(`{"url":%q,"pattern":{"type":[%q]},"retry":["1s"]}`, h.URL, typ))
	h.verifyWith(sub.Secret)
	key := post(t, body)
	waitDelivery(t, key, sub.ID, "delivered", 30*time.Second)
	reqs := h.requests()
	if gap := reqs[1].At.Sub(reqs[0].At); gap < 3*time.Second {
		t.Errorf("second attempt %s after a 503 with Retry-After: 4; want about 4 s, not the schedule's 1 s", gap)
	}
}

func TestDelivery410DisablesSubscription(t *testing.T) {
	needStack(t)
	h := newHook(t, status(http.StatusGone))
	typ, body := typed(t)
	sub := newSubscription(t, fmt.Sprintf(`{"url":%q,"pattern":{"type":[%q]},"retry":["1s","1s"]}`, h.URL, typ))
	h.verifyWith(sub.Secret)
	key := post(t, body)
	as, d := waitDelivery(t, key, sub.ID, "failed", 20*time.Second)
	if d.Attempts != 1 || len(as) != 1 || as[0].Status != 410 {
		t.Errorf("delivery to a 410 endpoint = %+v, %+v; want failed after the one attempt", d, as)
	}
	if got := getSubscription(t, sub.ID); got.Enabled || got.DisabledReason != "gone" {
		t.Errorf("subscription after 410 = %+v; want disabled, reason gone", got)
	}
	eventually(t, 10*time.Second, "Subscription Disabled on the bus", func() bool {
		return len(busEntries.find("Subscription Disabled", `"subscriptionId":"`+sub.ID+`"`, `"reason":"gone"`)) == 1
	})
	// A disabled subscription receives nothing more.
	_, body = cloudEvent(typ)
	waitStored(t, post(t, body))
	time.Sleep(time.Second)
	if n := len(h.requests()); n != 1 {
		t.Errorf("a disabled subscription got %d requests; want 1", n)
	}
}

// redrive moves the subscription's messages from the delivery dead-letter queue back.
func redrive(t *testing.T, subID string) int {
	t.Helper()
	var out struct{ Moved int }
	if status := call(t, http.MethodPost, "/deliveries/redrive", local.AdminToken, `{"subscriptionId":"`+subID+`"}`, &out); status != http.StatusOK {
		t.Fatalf("POST /deliveries/redrive = %d", status)
	}
	return out.Moved
}

func TestDeliveryExhaustedThenRedrivenFromDLQ(t *testing.T) {
	needStack(t)
	var mu sync.Mutex
	broken := true
	h := newHook(t, func(int, hookRequest) hookAnswer {
		mu.Lock()
		defer mu.Unlock()
		if broken {
			return hookAnswer{Status: 502}
		}
		return hookAnswer{Status: 200}
	})
	typ, body := typed(t)
	sub := newSubscription(t, fmt.Sprintf(`{"url":%q,"pattern":{"type":[%q]},"retry":["1s"]}`, h.URL, typ))
	h.verifyWith(sub.Secret)
	key := post(t, body)
	_, d := waitDelivery(t, key, sub.ID, "failed", 30*time.Second)
	if d.Attempts != 2 {
		t.Errorf("failed after %d attempts; want 2 (the first and one retry)", d.Attempts)
	}
	eventually(t, 10*time.Second, "Delivery Failed on the bus", func() bool {
		return len(busEntries.find("Delivery Failed", `"key":"`+key+`"`, `"subscriptionId":"`+sub.ID+`"`, `"attempts":2`)) == 1
	})
	var page struct{ Deliveries []deliveryState }
	call(t, http.MethodGet, "/subscriptions/"+sub.ID+"/deliveries?status=failed", local.AdminToken, "", &page)
	if len(page.Deliveries) != 1 {
		t.Errorf("failed deliveries listed: %+v; want this one", page.Deliveries)
	}

	// The receiver is fixed; the dead letter goes back and the delivery comes home.
	mu.Lock()
	broken = false
	mu.Unlock()
	moved := 0
	eventually(t, 10*time.Second, "the dead letter redriven", func() bool {
		moved += redrive(t, sub.ID)
		return moved >= 1
	})
	as, d := waitDelivery(t, key, sub.ID, "delivered", 20*time.Second)
	if d.Attempts != 3 || as[len(as)-1].Status != 200 {
		t.Errorf("after redrive: %+v, %+v; want delivered on attempt 3", d, as)
	}
}

func TestDeliveryRetryAndRecoverBringFailedHome(t *testing.T) {
	needStack(t)
	var mu sync.Mutex
	code := 500
	h := newHook(t, func(int, hookRequest) hookAnswer {
		mu.Lock()
		defer mu.Unlock()
		return hookAnswer{Status: code}
	})
	typ, _ := typed(t)
	sub := newSubscription(t, fmt.Sprintf(`{"url":%q,"pattern":{"type":[%q]},"retry":["0s"]}`, h.URL, typ))
	h.verifyWith(sub.Secret)
	since := time.Now().UTC().Add(-time.Second)
	var keys []string
	for range 3 {
		_, body := cloudEvent(typ)
		keys = append(keys, post(t, body))
	}
	for _, k := range keys {
		waitDelivery(t, k, sub.ID, "failed", 30*time.Second)
	}
	// Page through the failed deliveries one at a time.
	var listed []string
	eventually(t, 10*time.Second, "three failed deliveries listed page by page", func() bool {
		listed = listed[:0]
		cursor := ""
		for range 5 {
			var page struct {
				Deliveries []struct{ Key string }
				Next       string
			}
			call(t, http.MethodGet, "/subscriptions/"+sub.ID+"/deliveries?status=failed&limit=1&cursor="+url.QueryEscape(cursor), local.AdminToken, "", &page)
			for _, d := range page.Deliveries {
				listed = append(listed, d.Key)
			}
			if cursor = page.Next; cursor == "" {
				break
			}
		}
		return len(listed) == 3
	})
	if got, want := strings.Join(slices.Sorted(slices.Values(listed)), ","), strings.Join(slices.Sorted(slices.Values(keys)), ","); got != want {
		t.Errorf("failed deliveries %s; want each of %s once", got, want)
	}
	mu.Lock()
	code = 200
	mu.Unlock()

	// Retry one.
	if status := call(t, http.MethodPost, "/subscriptions/"+sub.ID+"/deliveries/"+keys[0]+"/retry", local.AdminToken, "", nil); status != http.StatusAccepted {
		t.Fatalf("retry = %d", status)
	}
	_, d := waitDelivery(t, keys[0], sub.ID, "delivered", 20*time.Second)
	if d.Attempts != 3 {
		t.Errorf("retried delivery: %+v; want delivered on attempt 3", d)
	}
	if status := call(t, http.MethodPost, "/subscriptions/"+sub.ID+"/deliveries/"+keys[0]+"/retry", local.AdminToken, "", nil); status != http.StatusConflict {
		t.Errorf("retry of a delivered delivery = %d; want 409", status)
	}

	// Recover the rest: everything that failed since before they were sent.
	var out struct{ Requeued int }
	eventually(t, 10*time.Second, "both failed deliveries listed for recovery", func() bool {
		var page struct{ Deliveries []deliveryState }
		call(t, http.MethodGet, "/subscriptions/"+sub.ID+"/deliveries?status=failed&since="+since.Format(time.RFC3339), local.AdminToken, "", &page)
		return len(page.Deliveries) == 2
	})
	if status := call(t, http.MethodPost, "/subscriptions/"+sub.ID+"/recover", local.AdminToken, `{"since":"`+since.Format(time.RFC3339Nano)+`"}`, &out); status != http.StatusAccepted || out.Requeued != 2 {
		t.Fatalf("recover = %d, %+v; want 2 requeued", status, out)
	}
	for _, k := range keys[1:] {
		waitDelivery(t, k, sub.ID, "delivered", 20*time.Second)
	}
	for _, r := range h.requests() {
		if r.SigErr != "" {
			t.Errorf("a request failed verification: %s", r.SigErr)
		}
	}
}

func TestDeliveryTimeoutDoesNotDelayOthers(t *testing.T) {
	needStack(t)
	slow := newHook(t, func(int, hookRequest) hookAnswer { return hookAnswer{Status: 200, Delay: 5 * time.Second} })
	fast := newHook(t, status(200))
	typ, body := typed(t)
	s1 := newSubscription(t, fmt.Sprintf(`{"url":%q,"pattern":{"type":[%q]},"timeout":2,"retry":["30s"]}`, slow.URL, typ))
	s2 := newSubscription(t, fmt.Sprintf(`{"url":%q,"pattern":{"type":[%q]}}`, fast.URL, typ))
	slow.verifyWith(s1.Secret)
	fast.verifyWith(s2.Secret)
	post(t, body)
	eventually(t, 20*time.Second, "both receivers called", func() bool { return len(slow.requests()) > 0 && len(fast.requests()) > 0 })
	if gap := fast.requests()[0].At.Sub(slow.requests()[0].At); gap > time.Second {
		t.Errorf("the fast receiver was called %s after the slow one; want at once, not after its 2 s timeout", gap)
	}
}

func TestDeliveryIUAPAckAndGroupOrder(t *testing.T) {
	needStack(t)
	var mu sync.Mutex
	var order []string // listener names, in the order their acknowledged calls arrived
	listener := func(name string, nackFirst bool) *hook {
		return newHook(t, func(n int, r hookRequest) hookAnswer {
			if nackFirst && n == 1 {
				return hookAnswer{Status: 200, Body: `{"success":"false"}`}
			}
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			return hookAnswer{Status: 200, Body: `{"success":"true"}`}
		})
	}
	first, second, third := listener("first", true), listener("second", false), listener("third", false)
	typ, _ := typed(t)
	pattern := fmt.Sprintf(`"pattern":{"type":[%q]},"mode":"iuap","group":"erp","retry":["1s","1s"]`, typ)
	// Created out of order: the group's order field decides.
	s3 := newSubscription(t, fmt.Sprintf(`{"url":%q,%s,"order":30}`, third.URL, pattern))
	s1 := newSubscription(t, fmt.Sprintf(`{"url":%q,%s,"order":10}`, first.URL, pattern))
	s2 := newSubscription(t, fmt.Sprintf(`{"url":%q,%s,"order":20}`, second.URL, pattern))
	first.verifyWith(s1.Secret)
	second.verifyWith(s2.Secret)
	third.verifyWith(s3.Secret)

	id := fmt.Sprintf("iuap-%d", time.Now().UnixNano())
	key := post(t, fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/iuap/uas","type":%q,"data":{"sourceID":"USER","tenantCode":"t0001","userObject":{"name":"张三","id":7}}}`, id, typ))
	as, d := waitDelivery(t, key, s1.ID, "delivered", 20*time.Second)
	if d.Attempts != 2 || !strings.Contains(as[0].Error, "success") {
		t.Errorf("first listener: %+v %+v; want {\"success\":\"false\"} retried, delivered on attempt 2", d, as)
	}
	waitDelivery(t, key, s3.ID, "delivered", 20*time.Second)
	mu.Lock()
	got := strings.Join(order, ",")
	mu.Unlock()
	if got != "first,second,third" {
		t.Errorf("acknowledged calls in order %s; want first,second,third", got)
	}
	if f, s := first.requests()[1].At, second.requests()[0].At; s.Before(f) {
		t.Errorf("second listener called at %s, before the first acknowledged at %s", s, f)
	}
	r := second.requests()[0]
	want := url.Values{"sourceID": {"USER"}, "eventType": {typ}, "tenantCode": {"t0001"}, "userObject": {`{"name":"张三","id":7}`}}
	if fmt.Sprint(r.Form) != fmt.Sprint(want) || r.SigErr != "" {
		t.Errorf("iuap form = %v (signature: %q); want %v, signed", r.Form, r.SigErr, want)
	}
	if r.Header.Get("sourceID") != "USER" || r.Header.Get("eventType") != typ {
		t.Errorf("iuap headers sourceID %q, eventType %q; want the form values too", r.Header.Get("sourceID"), r.Header.Get("eventType"))
	}
}

// The SSRF guard is tested in shared/webhook (TestSSRFGuardRefusesInternalDestinations):
// the local stack lets deliveries reach loopback, and no test sends a packet to
// 169.254.169.254 or 10.0.0.1.

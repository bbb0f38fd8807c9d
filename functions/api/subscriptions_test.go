package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/eventhub/eventhub/shared/apigw"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/store"
	"github.com/eventhub/eventhub/shared/webhook"
)

// memDeliveries are the deliveries of a memStore, by key + " " + subscription id.
type memDeliveries map[string]*store.Delivery

func (m *memStore) UpdateSubscription(_ context.Context, sub store.Subscription, prev time.Time) error {
	if m.err != nil {
		return m.err
	}
	cur, ok := m.subs[sub.ID]
	if !ok {
		return fmt.Errorf("subscription %s: %w", sub.ID, store.ErrNotFound)
	}
	if !cur.UpdatedAt.Equal(prev) {
		return fault.New(fault.Conflict, "subscription %s changed", sub.ID)
	}
	m.subs[sub.ID] = sub
	return nil
}

func (m *memStore) GetDelivery(_ context.Context, key, subID string) (*store.Delivery, error) {
	if m.err != nil {
		return nil, m.err
	}
	if d, ok := m.dlv[key+" "+subID]; ok {
		return d, nil
	}
	return nil, fmt.Errorf("delivery of %s to %s: %w", key, subID, store.ErrNotFound)
}

func (m *memStore) ListDeliveries(_ context.Context, q store.DeliveryQuery) (*store.DeliveryPage, error) {
	if m.err != nil {
		return nil, m.err
	}
	page := &store.DeliveryPage{Deliveries: []store.Delivery{}}
	for _, d := range m.dlv {
		if d.SubscriptionID == q.SubscriptionID && (q.Status == "" || d.Status == q.Status) && !d.UpdatedAt.Before(q.Since) {
			page.Deliveries = append(page.Deliveries, *d)
		}
	}
	slices.SortFunc(page.Deliveries, func(a, b store.Delivery) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
	return page, nil
}

// fakeQueues is SQS in memory: messages by queue URL.
type fakeQueues struct {
	mu      sync.Mutex
	queues  map[string][]string
	deleted int
}

func (f *fakeQueues) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queues[*in.QueueUrl] = append(f.queues[*in.QueueUrl], *in.MessageBody)
	return &sqs.SendMessageOutput{}, nil
}

// ReceiveMessage hands out every message once per call sequence: the receipt handle
// is the index, and a received message is hidden until deleted (visibility).
func (f *fakeQueues) ReceiveMessage(_ context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &sqs.ReceiveMessageOutput{}
	for i, body := range f.queues[*in.QueueUrl] {
		if len(out.Messages) == int(in.MaxNumberOfMessages) {
			break
		}
		if strings.HasPrefix(body, "\x00") {
			continue // in flight
		}
		f.queues[*in.QueueUrl][i] = "\x00" + body
		out.Messages = append(out.Messages, types.Message{Body: ptrTo(body), ReceiptHandle: ptrTo(fmt.Sprint(i))})
	}
	return out, nil
}

func (f *fakeQueues) DeleteMessage(_ context.Context, in *sqs.DeleteMessageInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var i int
	fmt.Sscan(*in.ReceiptHandle, &i)
	f.queues[*in.QueueUrl][i] = "\x00\x00deleted"
	f.deleted++
	return &sqs.DeleteMessageOutput{}, nil
}

// visible returns a queue's messages not received.
func (f *fakeQueues) visible(url string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, b := range f.queues[url] {
		if !strings.HasPrefix(b, "\x00") {
			out = append(out, b)
		}
	}
	return out
}

const (
	testRetryURL = "https://sqs/retry"
	testDLQURL   = "https://sqs/dlq"
)

func newDeliveryHandler(st *memStore) (*handler, *fakeQueues) {
	q := &fakeQueues{queues: map[string][]string{}}
	h := newTestHandler(st)
	h.queues = deliveryQueues{sqs: q, retryURL: testRetryURL, dlqURL: testDLQURL}
	return h, q
}

func createSub(t *testing.T, h *handler, body string) subscriptionView {
	t.Helper()
	resp := serve(t, h, request("POST /subscriptions", "/subscriptions", nil, body))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /subscriptions = %d %s", resp.StatusCode, resp.Body)
	}
	var v subscriptionView
	if err := json.Unmarshal([]byte(resp.Body), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSubscriptionUpdate(t *testing.T) {
	tests := []struct {
		name    string
		patch   string
		status  int
		check   func(t *testing.T, s store.Subscription)
		errPath string
	}{
		{name: "rename keeps the rest", patch: `{"name":"renamed"}`, status: 200, check: func(t *testing.T, s store.Subscription) {
			if s.Name != "renamed" || s.URL != "https://hooks.example.com/a" || s.Pattern != `{"type":["a"]}` || s.Mode != "iuap" || s.Group != "g" || s.Order != 2 || s.TimeoutMs != 5000 || len(s.Retry) != 1 {
				t.Errorf("after rename = %+v", s)
			}
		}},
		{name: "pattern", patch: `{"pattern":{"source":[{"prefix":"acs."}]}}`, status: 200, check: func(t *testing.T, s store.Subscription) {
			if s.Pattern != `{"source":[{"prefix":"acs."}]}` {
				t.Errorf("pattern = %s", s.Pattern)
			}
		}},
		{name: "retry back to the default", patch: `{"retry":null}`, status: 200, check: func(t *testing.T, s store.Subscription) {
			if s.Retry != nil {
				t.Errorf("retry = %v; want the default", s.Retry)
			}
		}},
		{name: "disable", patch: `{"enabled":false}`, status: 200, check: func(t *testing.T, s store.Subscription) {
			if s.Enabled || s.DisabledReason != store.DisabledByOperator || s.DisabledAt == nil {
				t.Errorf("after disable = %+v", s)
			}
		}},
		{name: "invalid pattern", patch: `{"pattern":{"type":"a"}}`, status: 400, errPath: "pattern"},
		{name: "invalid url", patch: `{"url":"ftp://x"}`, status: 400, errPath: "url"},
		{name: "invalid port", patch: `{"url":"http://x:99999/"}`, status: 400, errPath: "url"},
		{name: "invalid mode", patch: `{"mode":"soap"}`, status: 400, errPath: "mode"},
		{name: "negative order", patch: `{"order":-1}`, status: 400, errPath: "order"},
		{name: "secrets cannot be patched", patch: `{"secrets":["whsec_x"]}`, status: 400, errPath: "secrets"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStore()
			h := newTestHandler(st)
			created := createSub(t, h, `{"name":"a","url":"https://hooks.example.com/a","pattern":{"type":["a"]},"mode":"iuap","group":"g","order":2,"timeout":5,"retry":["1s"]}`)
			resp := serve(t, h, request("PATCH /subscriptions/{id}", "/subscriptions/"+created.ID, map[string]string{"id": created.ID}, tc.patch))
			if resp.StatusCode != tc.status {
				t.Fatalf("PATCH %s = %d %s; want %d", tc.patch, resp.StatusCode, resp.Body, tc.status)
			}
			if tc.errPath != "" {
				if e := errorOf(t, resp); e.Path != tc.errPath {
					t.Errorf("error %+v; want path %s", e, tc.errPath)
				}
				return
			}
			s := st.subs[created.ID]
			if len(s.Secrets) != 1 || s.Secrets[0] != created.Secret || !s.CreatedAt.Equal(created.CreatedAt) {
				t.Errorf("PATCH changed the secret or creation time: %+v", s)
			}
			tc.check(t, s)
		})
	}
}

// Header values are write-only and a listing redacts URLs: the receiver's credentials
// (in headers, or in the URL's query) are shown by no response but the single GET's
// URL, and sending a masked header back keeps its value.
func TestSubscriptionSecretsStayInside(t *testing.T) {
	const headerSecret, urlSecret = "Bearer hdr-s3cr3t", "url-s3cr3t"
	st := newMemStore()
	h := newTestHandler(st)
	created := createSub(t, h, `{"name":"a","url":"https://hooks.example.com/a?key=`+urlSecret+`","headers":{"Authorization":"`+headerSecret+`","X-Team":"ops"}}`)
	params := map[string]string{"id": created.ID}
	list := serve(t, h, request("GET /subscriptions", "/subscriptions", nil, ""))
	one := serve(t, h, request("GET /subscriptions/{id}", "/subscriptions/"+created.ID, params, ""))
	for name, body := range map[string]string{"GET /subscriptions": list.Body, "GET /subscriptions/{id}": one.Body} {
		if strings.Contains(body, headerSecret) || strings.Contains(body, "ops") {
			t.Errorf("%s = %s; want header values masked", name, body)
		}
		if !strings.Contains(body, `"Authorization":"`+maskedHeader+`"`) {
			t.Errorf("%s = %s; want the header names with masked values", name, body)
		}
	}
	if strings.Contains(list.Body, urlSecret) || !strings.Contains(list.Body, `"url":"https://hooks.example.com/a?key=redacted"`) {
		t.Errorf("GET /subscriptions = %s; want the URL's query redacted", list.Body)
	}
	if !strings.Contains(one.Body, urlSecret) {
		t.Errorf("GET /subscriptions/{id} = %s; want the URL whole", one.Body)
	}

	// What a client read, sent back with one header changed: the masked one keeps its value.
	patch := `{"headers":{"Authorization":"` + maskedHeader + `","X-Team":"dev"}}`
	if resp := serve(t, h, request("PATCH /subscriptions/{id}", "/subscriptions/"+created.ID, params, patch)); resp.StatusCode != 200 || strings.Contains(resp.Body, headerSecret) {
		t.Fatalf("PATCH %s = %d %s", patch, resp.StatusCode, resp.Body)
	}
	if got := st.subs[created.ID].Headers; got["Authorization"] != headerSecret || got["X-Team"] != "dev" || len(got) != 2 {
		t.Errorf("headers after PATCH = %v; want Authorization kept, X-Team changed", got)
	}
	patch = `{"headers":{"X-Other":"` + maskedHeader + `"}}`
	resp := serve(t, h, request("PATCH /subscriptions/{id}", "/subscriptions/"+created.ID, params, patch))
	if resp.StatusCode != 400 || errorOf(t, resp).Path != "headers.X-Other" {
		t.Errorf("PATCH with the mask of a header it does not have = %d %s; want 400 at headers.X-Other", resp.StatusCode, resp.Body)
	}
}

func TestSubscriptionEnableClearsHealth(t *testing.T) {
	st := newMemStore()
	h := newTestHandler(st)
	created := createSub(t, h, `{"name":"a","url":"https://hooks.example.com/a"}`)
	s := st.subs[created.ID]
	since := now.Add(-6 * 24 * time.Hour)
	s.Enabled, s.DisabledReason, s.DisabledAt, s.FailingSince = false, store.DisabledFailing, &now, &since
	st.subs[created.ID] = s
	params := map[string]string{"id": created.ID}
	resp := serve(t, h, request("GET /subscriptions/{id}", "/subscriptions/"+created.ID, params, ""))
	if !strings.Contains(resp.Body, `"disabledReason":"failing"`) || !strings.Contains(resp.Body, `"failingSince"`) {
		t.Errorf("GET = %s; want the reason and the failing time visible", resp.Body)
	}
	resp = serve(t, h, request("POST /subscriptions/{id}/enable", "/subscriptions/"+created.ID+"/enable", params, ""))
	if resp.StatusCode != 200 {
		t.Fatalf("enable = %d %s", resp.StatusCode, resp.Body)
	}
	s = st.subs[created.ID]
	if !s.Enabled || s.DisabledReason != "" || s.DisabledAt != nil || s.FailingSince != nil {
		t.Errorf("after enable = %+v; want enabled with no trace of the failures", s)
	}
	resp = serve(t, h, request("POST /subscriptions/{id}/disable", "/subscriptions/"+created.ID+"/disable", params, ""))
	if s = st.subs[created.ID]; resp.StatusCode != 200 || s.Enabled || s.DisabledReason != store.DisabledByOperator {
		t.Errorf("disable = %d, %+v", resp.StatusCode, s)
	}
}

func TestRotateSecret(t *testing.T) {
	st := newMemStore()
	h := newTestHandler(st)
	created := createSub(t, h, `{"name":"a","url":"https://hooks.example.com/a"}`)
	params := map[string]string{"id": created.ID}
	rotate := func(body string) (int, subscriptionView) {
		resp := serve(t, h, request("POST /subscriptions/{id}/rotate-secret", "/x", params, body))
		var v subscriptionView
		_ = json.Unmarshal([]byte(resp.Body), &v)
		return resp.StatusCode, v
	}
	status, v := rotate("")
	if status != 200 || !strings.HasPrefix(v.Secret, "whsec_") || v.Secret == created.Secret || v.SecretGraceUntil == nil || !v.SecretGraceUntil.Equal(now.Add(24*time.Hour)) {
		t.Fatalf("rotate = %d %+v; want a new secret and a day of grace", status, v)
	}
	s := st.subs[created.ID]
	if len(s.Secrets) != 2 || s.Secrets[0] != v.Secret || s.Secrets[1] != created.Secret {
		t.Fatalf("secrets = %v; want [new, old]", s.Secrets)
	}
	// Both sign during the grace period, verifiably with the Standard Webhooks library.
	sig, err := webhook.Sign(s.SigningSecrets(now), "msg_1", now, []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	hdr := http.Header{"Webhook-Id": {"msg_1"}, "Webhook-Timestamp": {fmt.Sprint(now.Unix())}, "Webhook-Signature": {sig}}
	for _, secret := range []string{created.Secret, v.Secret} {
		wh, _ := standardwebhooks.NewWebhook(secret)
		if err := wh.VerifyIgnoringTimestamp([]byte("{}"), hdr); err != nil {
			t.Errorf("verify with %s: %v", secret[:10], err)
		}
	}
	if got := s.SigningSecrets(now.Add(25 * time.Hour)); len(got) != 1 || got[0] != v.Secret {
		t.Errorf("after the grace period secrets = %v; want only the new one", got)
	}
	// A chosen secret without grace replaces both at once.
	own := webhook.NewSecret()
	if status, v = rotate(`{"secret":"` + own + `","grace":"0s"}`); status != 200 || v.Secret != own || v.SecretGraceUntil != nil {
		t.Errorf("rotate to own secret = %d %+v", status, v)
	}
	if s := st.subs[created.ID]; len(s.Secrets) != 1 || s.Secrets[0] != own {
		t.Errorf("secrets = %v; want only the chosen one", s.Secrets)
	}
	for _, bad := range []string{`{"secret":"nope"}`, `{"secret":"whsec_AAAA"}`, `{"grace":"10d"}`, `{"grace":"-1h"}`} {
		if status, _ := rotate(bad); status != 400 {
			t.Errorf("rotate %s = %d; want 400", bad, status)
		}
	}
}

func TestDeliveryTools(t *testing.T) {
	st := newMemStore()
	h, q := newDeliveryHandler(st)
	created := createSub(t, h, `{"name":"a","url":"https://hooks.example.com/a","group":"g","order":3}`)
	id := created.ID
	st.dlv = memDeliveries{
		"evt_1 " + id: {Key: "evt_1", SubscriptionID: id, Status: store.DeliveryFailed, Attempt: 8, UpdatedAt: now.Add(-time.Hour)},
		"evt_2 " + id: {Key: "evt_2", SubscriptionID: id, Status: store.DeliveryFailed, Attempt: 2, UpdatedAt: now.Add(-3 * time.Hour)},
		"evt_3 " + id: {Key: "evt_3", SubscriptionID: id, Status: store.DeliveryDelivered, Attempt: 1, UpdatedAt: now},
	}
	params := map[string]string{"id": id}

	req := request("GET /subscriptions/{id}/deliveries", "/x", params, "")
	req.QueryStringParameters = map[string]string{"status": "failed"}
	resp := serve(t, h, req)
	var page store.DeliveryPage
	if err := json.Unmarshal([]byte(resp.Body), &page); err != nil || resp.StatusCode != 200 || len(page.Deliveries) != 2 || page.Deliveries[0].Key != "evt_1" {
		t.Errorf("list failed = %d %s; want evt_1 and evt_2, newest first", resp.StatusCode, resp.Body)
	}
	req.QueryStringParameters = map[string]string{"status": "lost"}
	if resp := serve(t, h, req); resp.StatusCode != 400 {
		t.Errorf("list status=lost = %d; want 400", resp.StatusCode)
	}

	retry := func(key string) apigw.Response {
		return serve(t, h, request("POST /subscriptions/{id}/deliveries/{key}/retry", "/x", map[string]string{"id": id, "key": key}, ""))
	}
	if resp := retry("evt_1"); resp.StatusCode != 202 {
		t.Fatalf("retry evt_1 = %d %s", resp.StatusCode, resp.Body)
	}
	var m retryMessage
	if msgs := q.visible(testRetryURL); len(msgs) != 1 || json.Unmarshal([]byte(msgs[0]), &m) != nil {
		t.Fatalf("retry queue = %v; want one message", msgs)
	}
	want := retryMessage{Key: "evt_1", SubscriptionID: id, Attempt: 9, Base: 8, Reopen: true, DueAt: now.UTC(), Group: "g", Order: 3}
	if m != want {
		t.Errorf("retry message = %+v; want %+v", m, want)
	}
	if resp := retry("evt_3"); resp.StatusCode != 409 {
		t.Errorf("retry of a delivered delivery = %d; want 409", resp.StatusCode)
	}
	if resp := retry("evt_9"); resp.StatusCode != 404 {
		t.Errorf("retry of an unknown delivery = %d; want 404", resp.StatusCode)
	}

	recover := func(body string) apigw.Response {
		return serve(t, h, request("POST /subscriptions/{id}/recover", "/x", params, body))
	}
	resp = recover(`{"since":"` + now.Add(-2*time.Hour).Format(time.RFC3339) + `"}`)
	if resp.StatusCode != 202 || !strings.Contains(resp.Body, `"requeued":1`) || !strings.Contains(resp.Body, `"evt_1"`) {
		t.Errorf("recover since 2h = %d %s; want evt_1 only", resp.StatusCode, resp.Body)
	}
	if resp := recover(`{}`); resp.StatusCode != 400 {
		t.Errorf("recover without since = %d; want 400", resp.StatusCode)
	}

	// A disabled subscription is neither retried nor recovered.
	serve(t, h, request("POST /subscriptions/{id}/disable", "/x", params, ""))
	if resp := retry("evt_2"); resp.StatusCode != 409 {
		t.Errorf("retry on a disabled subscription = %d; want 409", resp.StatusCode)
	}
}

func TestRedriveDeadLetters(t *testing.T) {
	st := newMemStore()
	h, q := newDeliveryHandler(st)
	on := createSub(t, h, `{"name":"on","url":"https://hooks.example.com/a"}`)
	off := createSub(t, h, `{"name":"off","url":"https://hooks.example.com/b","enabled":false}`)
	q.queues[testDLQURL] = []string{
		`{"key":"evt_1","subscriptionId":"` + on.ID + `","webhookId":"msg_1","attempts":8,"failedAt":"2026-03-14T00:00:00Z"}`,
		`{"key":"evt_2","subscriptionId":"` + on.ID + `","attempt":4,"dueAt":"2026-03-14T00:00:00Z"}`,
		`{"key":"evt_3","subscriptionId":"` + off.ID + `","attempts":8}`,
		`{"key":"evt_4","subscriptionId":"sub_gone","attempts":8}`,
		`not json`,
	}
	resp := serve(t, h, request("POST /deliveries/redrive", "/deliveries/redrive", nil, ""))
	if resp.StatusCode != 200 {
		t.Fatalf("redrive = %d %s", resp.StatusCode, resp.Body)
	}
	var out struct {
		Moved   int
		Skipped map[string]int
	}
	_ = json.Unmarshal([]byte(resp.Body), &out)
	wantSkipped := map[string]int{"subscription disabled": 1, "subscription deleted": 1, "unreadable": 1}
	if out.Moved != 2 || fmt.Sprint(out.Skipped) != fmt.Sprint(wantSkipped) {
		t.Errorf("redrive = %s; want 2 moved and %v skipped", resp.Body, wantSkipped)
	}
	msgs := q.visible(testRetryURL)
	if len(msgs) != 2 {
		t.Fatalf("retry queue = %v; want 2", msgs)
	}
	var first retryMessage
	_ = json.Unmarshal([]byte(msgs[0]), &first)
	if first.Key != "evt_1" || first.Attempt != 9 || first.Base != 8 || !first.Reopen {
		t.Errorf("redriven dead letter = %+v; want an operator retry of attempt 9", first)
	}
	if !strings.Contains(msgs[1], `"attempt":4`) {
		t.Errorf("redriven retry message = %s; want it as it was", msgs[1])
	}
	if q.deleted != 2 {
		t.Errorf("deleted %d dead letters; want the 2 moved", q.deleted)
	}
}

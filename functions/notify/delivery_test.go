package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/store"
	"github.com/eventhub/eventhub/shared/webhook"
)

func TestIUAPFields(t *testing.T) {
	tests := []struct {
		name  string
		event string
		want  iuapForm
	}{
		{
			name:  "a producer's extensions are not read",
			event: `{"specversion":"1.0","id":"1","source":"/shop","type":"ADD_AFTER","iuapsourceid":"USER","iuapeventtype":"DELETE","iuaptenantcode":"t1","iuapuserobject":"forged","data":{"userObject":"{\"id\":7}"}}`,
			want:  iuapForm{SourceID: "/shop", EventType: "ADD_AFTER", UserObject: `{"id":7}`},
		},
		{
			name:  "plain extensions are not read either",
			event: `{"specversion":"1.0","id":"1","source":"/shop","type":"x","sourceid":"ORDER","eventtype":"DELETE","tenantcode":"t2","data":{"a":1}}`,
			want:  iuapForm{SourceID: "/shop", EventType: "x", UserObject: `{"a":1}`},
		},
		{
			name:  "a signed iuap event: its form",
			event: `{"specversion":"1.0","id":"iuap-1","source":"iuap/crm","type":"USER:ADD_AFTER","subject":"t1","data":{"appId":"crm","ts":"1","sourceID":"USER","eventType":"ADD_AFTER","tenantCode":"t1","userObject":{"id":7}}}`,
			want:  iuapForm{SourceID: "USER", EventType: "ADD_AFTER", TenantCode: "t1", UserObject: `{"id":7}`},
		},
		{
			name:  "the form kept in data",
			event: `{"specversion":"1.0","id":"1","source":"/iuap","type":"x","data":{"sourceID":12,"eventType":"ADD","tenantCode":"t3","userObject":{"id":7}}}`,
			want:  iuapForm{SourceID: "12", EventType: "ADD", TenantCode: "t3", UserObject: `{"id":7}`},
		},
		{
			name:  "any CloudEvent: subject, type and the whole data",
			event: `{"specversion":"1.0","id":"1","source":"acs.mse","subject":"svc-a","type":"mse:Agent:OutlierEjection","data":{"framework": "DUBBO"}}`,
			want:  iuapForm{SourceID: "svc-a", EventType: "mse:Agent:OutlierEjection", UserObject: `{"framework":"DUBBO"}`},
		},
		{
			name:  "no subject, string data",
			event: `{"specversion":"1.0","id":"1","source":"acs.mse","type":"t","data":"hello"}`,
			want:  iuapForm{SourceID: "acs.mse", EventType: "t", UserObject: "hello"},
		},
		{
			name:  "no data",
			event: `{"specversion":"1.0","id":"1","source":"s","type":"t"}`,
			want:  iuapForm{SourceID: "s", EventType: "t"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := iuapFields([]byte(tc.event)); got != tc.want {
				t.Errorf("iuapFields = %+v; want %+v", got, tc.want)
			}
		})
	}
}

func TestIUAPAck(t *testing.T) {
	tests := []struct {
		body string
		ok   bool
	}{
		{`{"success":"true"}`, true},
		{` {"success":"TRUE"} `, true},
		{`{"success":true}`, true},
		{`{"data":{"success":"true"}}`, true},
		{`{"success":"false"}`, false},
		{`{"success":false}`, false},
		{`{"data":{"message":"ok","status":1}}`, false},
		{`OK`, false},
		{``, false},
		{`{"success":"true"`, false},
	}
	for _, tc := range tests {
		if why := iuapAck([]byte(tc.body)); (why == "") != tc.ok {
			t.Errorf("iuapAck(%s) = %q; want acknowledged %v", tc.body, why, tc.ok)
		}
	}
}

func TestNotifyIUAPMessage(t *testing.T) {
	s := sub("sub_i", "")
	s.Mode = store.ModeIUAP
	r := newRig(s)
	r.sender.send = func(_ context.Context, m webhook.Message) webhook.Result {
		return webhook.Result{Status: 200, Nack: m.Accept([]byte(`{"success":"false"}`))}
	}
	if err := r.runStored(t, event); err != nil {
		t.Fatal(err)
	}
	m := r.sender.messages()[0]
	form, err := url.ParseQuery(string(m.Body))
	if err != nil || form.Get("sourceID") != "acs.mse" || form.Get("eventType") != evType || form.Get("userObject") != `{"framework":"DUBBO"}` {
		t.Errorf("iuap body = %s; want the form fields", m.Body)
	}
	if m.ContentType != iuapContentType || m.Headers["eventType"] != evType || m.Headers["X-Team"] != "sub_i" {
		t.Errorf("content type %q, headers %v; want the form type, the fields and the subscription's headers", m.ContentType, m.Headers)
	}
	if len(r.queue.to(retryURL)) != 1 || !strings.Contains(r.st.timeline[0].Error, "success") {
		t.Errorf(`{"success":"false"} gave retries %d, timeline %+v; want a retry and the reason`, len(r.queue.to(retryURL)), r.st.timeline)
	}
}

// TestIUAPHeadersAreTheSubscriptions: the form fields are added as headers only where
// the subscription sets none of that name, in any case.
func TestIUAPHeadersAreTheSubscriptions(t *testing.T) {
	f := iuapForm{SourceID: "USER", EventType: "ADD", TenantCode: "forged", UserObject: "{}"}
	got := f.headers(map[string]string{"TenantCode": "t-admin", "X-Team": "erp"})
	if got["TenantCode"] != "t-admin" || got["tenantCode"] != "" || got["X-Team"] != "erp" || got["sourceID"] != "USER" {
		t.Errorf("headers = %v; want the subscription's TenantCode and X-Team, the form's sourceID", got)
	}
}

func TestByGroup(t *testing.T) {
	mk := func(id, group string, order int) store.Subscription {
		s := sub(id, "")
		s.Group, s.Order = group, order
		return s
	}
	alone, groups := byGroup([]store.Subscription{mk("a", "", 0), mk("z", "g", 1), mk("y", "g", 2), mk("b", "h", 5), mk("x", "g", 1), mk("c", "", 0)})
	var got []string
	for _, s := range alone {
		got = append(got, s.ID)
	}
	for _, g := range groups {
		var ids []string
		for _, s := range g {
			ids = append(ids, s.ID)
		}
		got = append(got, strings.Join(ids, ">"))
	}
	if strings.Join(got, " ") != "a c x>z>y b" {
		t.Errorf("byGroup = %v; want a c x>z>y b (order, then id)", got)
	}
}

func TestNotifyGroupChain(t *testing.T) {
	mk := func(id string, order int) store.Subscription {
		s := sub(id, "")
		s.Group, s.Order, s.Retry = "erp", order, []string{"1s"}
		return s
	}
	t.Run("in order, each after the previous is done", func(t *testing.T) {
		r := newRig(mk("sub_3", 30), mk("sub_1", 10), mk("sub_2", 20))
		var mu sync.Mutex
		var calls []string
		r.sender.send = func(_ context.Context, m webhook.Message) webhook.Result {
			mu.Lock()
			calls = append(calls, m.URL[strings.LastIndex(m.URL, "/")+1:])
			mu.Unlock()
			return webhook.Result{Status: 200}
		}
		if err := r.runStored(t, event); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(calls, ","); got != "sub_1,sub_2,sub_3" {
			t.Errorf("calls = %s; want sub_1,sub_2,sub_3", got)
		}
	})
	t.Run("a pending member holds the rest until its retry is done", func(t *testing.T) {
		r := newRig(mk("sub_1", 10), mk("sub_2", 20))
		r.sender.send = func(_ context.Context, m webhook.Message) webhook.Result {
			if strings.HasSuffix(m.URL, "sub_1") && len(r.queue.to(retryURL)) == 0 {
				return webhook.Result{Status: 503}
			}
			return webhook.Result{Status: 200}
		}
		if err := r.runStored(t, event); err != nil {
			t.Fatal(err)
		}
		if n := len(r.sender.messages()); n != 1 {
			t.Fatalf("sent %d; want only sub_1 while it is pending", n)
		}
		var m retryMessage
		_ = json.Unmarshal([]byte(*r.queue.to(retryURL)[0].MessageBody), &m)
		if m.Group != "erp" || m.Order != 10 || m.Attempt != 2 {
			t.Errorf("retry message = %+v; want sub_1's group and order", m)
		}
		m.DueAt = now
		body, _ := json.Marshal(m)
		if failed := r.runBatch(t, record{"m1", string(body)}); len(failed) != 0 {
			t.Fatalf("batchItemFailures = %v", failed)
		}
		sent := r.sender.messages()
		if len(sent) != 3 || !strings.HasSuffix(sent[2].URL, "sub_2") {
			t.Errorf("after sub_1's retry sent %d, last to %s; want sub_2's first attempt", len(sent), sent[len(sent)-1].URL)
		}
	})
	t.Run("a deleted member's retry goes on with the chain", func(t *testing.T) {
		r := newRig(mk("sub_2", 20))
		body, _ := json.Marshal(retryMessage{Key: key, SubscriptionID: "sub_1", Attempt: 2, DueAt: now, Group: "erp", Order: 10})
		if failed := r.runBatch(t, record{"m1", string(body)}); len(failed) != 0 {
			t.Fatalf("batchItemFailures = %v", failed)
		}
		if sent := r.sender.messages(); len(sent) != 1 || !strings.HasSuffix(sent[0].URL, "sub_2") {
			t.Errorf("sent %d; want sub_2's first attempt", len(sent))
		}
	})
	t.Run("a member held by another invocation is watched, with its group", func(t *testing.T) {
		r := newRig(mk("sub_1", 10), mk("sub_2", 20))
		r.st.claim = func(string, string, int) (bool, error) { return false, nil }
		r.st.deliveries[key+" sub_1"] = &store.Delivery{Key: key, SubscriptionID: "sub_1", Status: store.DeliveryPending, Attempt: 1, InFlight: true, LeaseUntil: now.Add(40 * time.Second).Unix()}
		if err := r.runStored(t, event); err != nil {
			t.Fatal(err)
		}
		q := r.queue.to(retryURL)
		if len(r.sender.messages()) != 0 || len(q) != 1 {
			t.Fatalf("sent %d, queued %d; want nothing sent and sub_1's step watched", len(r.sender.messages()), len(q))
		}
		var m retryMessage
		_ = json.Unmarshal([]byte(*q[0].MessageBody), &m)
		if m.SubscriptionID != "sub_1" || m.Attempt != 1 || m.Group != "erp" || m.Order != 10 || !m.DueAt.Equal(now.Add(41*time.Second)) {
			t.Errorf("watch message = %+v; want sub_1's attempt 1 with its group, due when the lease ends", m)
		}
	})
	t.Run("not enough time left: the next member goes through the queue", func(t *testing.T) {
		r := newRig(mk("sub_1", 10))
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, err := r.h.handle(ctx, stored(t, event)); err != nil {
			t.Fatal(err)
		}
		q := r.queue.to(retryURL)
		if len(r.sender.messages()) != 0 || len(q) != 1 || !strings.Contains(*q[0].MessageBody, `"attempt":1`) {
			t.Errorf("sent %d, queued %d; want attempt 1 handed to the queue", len(r.sender.messages()), len(q))
		}
	})
}

func TestNotifyEndpointHealth(t *testing.T) {
	tests := []struct {
		name         string
		result       webhook.Result
		failingSince time.Duration // before now; 0: not failing
		period       time.Duration
		wantHealth   string
		wantReason   string // "" when it stays enabled
	}{
		{name: "success ends a run of failures", result: webhook.Result{Status: 200}, failingSince: time.Hour, wantHealth: "success sub_a"},
		{name: "success without failures writes nothing", result: webhook.Result{Status: 200}, wantHealth: ""},
		{name: "a failure starts a run", result: webhook.Result{Status: 500}, period: 120 * time.Hour, wantHealth: "failure sub_a"},
		{name: "410 disables at once", result: webhook.Result{Status: 410}, period: 120 * time.Hour, wantHealth: "failure sub_a,disabled sub_a gone", wantReason: "gone"},
		{name: "failing for the period disables", result: webhook.Result{Err: errTest}, failingSince: 121 * time.Hour, period: 120 * time.Hour, wantHealth: "failure sub_a,disabled sub_a failing", wantReason: "failing"},
		{name: "failing for less than the period", result: webhook.Result{Status: 502}, failingSince: 119 * time.Hour, period: 120 * time.Hour, wantHealth: "failure sub_a"},
		{name: "period 0 never disables", result: webhook.Result{Status: 502}, failingSince: 1000 * time.Hour, wantHealth: "failure sub_a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := sub("sub_a", "")
			s.Retry = []string{"1s"}
			r := newRig(s)
			r.h.failingPeriod = tc.period
			if tc.failingSince > 0 {
				since := now.Add(-tc.failingSince)
				r.st.subs[0].FailingSince = &since
				r.st.failingSince = map[string]time.Time{"sub_a": since}
			}
			r.sender.send = func(context.Context, webhook.Message) webhook.Result { return tc.result }
			if err := r.runStored(t, event); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(r.st.health, ","); got != tc.wantHealth {
				t.Errorf("health calls = %s; want %s", got, tc.wantHealth)
			}
			var disabled []bus.SubscriptionDisabledDetail
			for _, e := range r.pub.entries {
				if d, ok := e.Detail.(bus.SubscriptionDisabledDetail); ok && e.DetailType == bus.SubscriptionDisabled {
					disabled = append(disabled, d)
				}
			}
			if tc.wantReason == "" {
				if len(disabled) != 0 {
					t.Errorf("published %+v; want no Subscription Disabled", disabled)
				}
				return
			}
			if len(disabled) != 1 || disabled[0].Reason != tc.wantReason || disabled[0].SubscriptionID != "sub_a" {
				t.Errorf("Subscription Disabled = %+v; want one, reason %s", disabled, tc.wantReason)
			}
			// Disabled: no retry, the delivery fails now.
			if len(r.queue.to(retryURL)) != 0 || len(r.queue.to(dlqURL)) != 1 {
				t.Errorf("retries %d, dead letters %d; want none and one", len(r.queue.to(retryURL)), len(r.queue.to(dlqURL)))
			}
		})
	}
}

var errTest = errors.New("dial tcp 203.0.113.9:443: connect: connection refused")

func TestNotifyOperatorRetry(t *testing.T) {
	s := sub("sub_a", "")
	s.Retry = []string{"1s", "1s"}
	r := newRig(s)
	reopened := false
	r.st.reopen = func(string, string, int) bool { reopened = true; return true }
	r.st.claim = func(string, string, int) (bool, error) { return !reopened, nil }
	r.sender.send = func(context.Context, webhook.Message) webhook.Result {
		return webhook.Result{Status: http.StatusBadGateway}
	}
	// The delivery failed after 3 attempts; the operator's retry is attempt 4, base 3.
	body, _ := json.Marshal(retryMessage{Key: key, SubscriptionID: "sub_a", Attempt: 4, Base: 3, Reopen: true, DueAt: now})
	if failed := r.runBatch(t, record{"m1", string(body)}); len(failed) != 0 {
		t.Fatalf("batchItemFailures = %v", failed)
	}
	if len(r.st.reopened) != 1 || r.st.reopened[0].attempt != 4 || len(r.sender.messages()) != 1 {
		t.Fatalf("reopened %+v, sent %d; want attempt 4 reopened and made", r.st.reopened, len(r.sender.messages()))
	}
	// A fresh pass of the schedule: attempt 5 is scheduled, carrying the base.
	q := r.queue.to(retryURL)
	var next retryMessage
	if len(q) != 1 || json.Unmarshal([]byte(*q[0].MessageBody), &next) != nil || next.Attempt != 5 || next.Base != 3 || next.Reopen {
		t.Errorf("next = %+v; want attempt 5, base 3, an ordinary retry", next)
	}
}

func TestNotifySigningSecretsDuringGrace(t *testing.T) {
	s := sub("sub_a", "")
	s.Secrets = []string{webhook.NewSecret(), webhook.NewSecret()}
	for _, tc := range []struct {
		grace time.Duration
		want  int
	}{{time.Hour, 2}, {-time.Second, 1}} {
		until := now.Add(tc.grace)
		s.SecretGraceUntil = &until
		r := newRig(s)
		if err := r.runStored(t, event); err != nil {
			t.Fatal(err)
		}
		if got := r.sender.messages()[0].Secrets; len(got) != tc.want || got[0] != s.Secrets[0] {
			t.Errorf("grace until now%+v: signed with %d secrets; want %d, the current first", tc.grace, len(got), tc.want)
		}
	}
}

package webhook

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func TestSignVerifiesWithStandardWebhooks(t *testing.T) {
	old, cur := NewSecret(), NewSecret()
	body := []byte(`{"specversion":"1.0","id":"1"}`)
	at := time.Now()
	sig, err := Sign([]string{old, cur}, "msg_1", at, body)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(sig)); n != 2 {
		t.Fatalf("signature header %q has %d signatures; want 2", sig, n)
	}
	h := http.Header{}
	h.Set("webhook-id", "msg_1")
	h.Set("webhook-timestamp", itoa(at.Unix()))
	h.Set("webhook-signature", sig)
	for _, s := range []string{old, cur} {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(body, h); err != nil {
			t.Errorf("Verify with one of the rotated secrets: %v", err)
		}
	}
	wh, _ := standardwebhooks.NewWebhook(NewSecret())
	if err := wh.Verify(body, h); err == nil {
		t.Error("Verify with an unrelated secret succeeded")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestSend(t *testing.T) {
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		timeout    time.Duration
		wantOK     bool
		wantStatus int
		wantRetry  time.Duration
		wantErr    string
	}{
		{name: "2xx", handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }, wantOK: true, wantStatus: 204},
		{name: "redirect not followed", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		}, wantStatus: 302},
		{name: "429 retry-after", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(429)
		}, wantStatus: 429, wantRetry: 7 * time.Second},
		{name: "timeout", handler: func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(300 * time.Millisecond):
			}
		}, timeout: 50 * time.Millisecond, wantErr: "timed out"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			res := NewSender(Guard{AllowLoopback: true}).Send(context.Background(), Message{
				URL: srv.URL, ID: "msg_1", Body: []byte(`{}`), ContentType: "application/cloudevents+json",
				Secrets: []string{NewSecret()}, Timeout: tc.timeout,
			})
			if res.OK() != tc.wantOK || res.Status != tc.wantStatus || res.RetryAfter != tc.wantRetry {
				t.Errorf("Send = %+v; want ok %v status %d retry %s", res, tc.wantOK, tc.wantStatus, tc.wantRetry)
			}
			if tc.wantErr != "" && (res.Err == nil || !strings.Contains(res.Err.Error(), tc.wantErr)) {
				t.Errorf("Send error = %v; want %q", res.Err, tc.wantErr)
			}
			if res.TimedOut != (tc.wantErr == "timed out") {
				t.Errorf("Send TimedOut = %v; want %v", res.TimedOut, tc.wantErr == "timed out")
			}
		})
	}
}

func TestSendRefusedByGuardAndHeaders(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	res := NewSender(Guard{}).Send(context.Background(), Message{URL: srv.URL, ID: "m", Body: []byte("{}"), Secrets: []string{NewSecret()}})
	if res.Err == nil || !strings.Contains(res.Err.Error(), "loopback: never reachable") {
		t.Errorf("Send to loopback without AllowLoopback = %+v; want refused", res)
	}
	res = NewSender(Guard{AllowLoopback: true}).Send(context.Background(), Message{
		URL: srv.URL, ID: "m", Body: []byte("{}"), ContentType: "application/json", Secrets: []string{NewSecret()},
		Headers: map[string]string{"X-Tenant": "a", "webhook-id": "forged", "X-Bad": "a\r\nInjected: 1"},
	})
	if !res.OK() {
		t.Fatalf("Send = %+v", res)
	}
	if got.Get("X-Tenant") != "a" || got.Get("webhook-id") != "m" || got.Get("X-Bad") != "" || got.Get("Injected") != "" {
		t.Errorf("headers = %v; want subscription headers without overrides or injection", got)
	}
}

func TestSendAccept(t *testing.T) {
	accept := func(body []byte) string {
		if strings.TrimSpace(string(body)) == `{"success":"true"}` {
			return ""
		}
		return "not acknowledged"
	}
	tests := []struct {
		status int
		body   string
		ok     bool
		nack   string
	}{
		{200, `{"success":"true"}`, true, ""},
		{200, `{"success":"false"}`, false, "not acknowledged"},
		{500, `{"success":"true"}`, false, ""}, // Accept sees only 2xx answers
	}
	for _, tc := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tc.status)
			_, _ = io.WriteString(w, tc.body)
		}))
		res := NewSender(Guard{AllowLoopback: true}).Send(context.Background(), Message{
			URL: srv.URL, ID: "m", Body: []byte("a=1"), ContentType: "application/x-www-form-urlencoded", Secrets: []string{NewSecret()}, Accept: accept,
		})
		srv.Close()
		if res.OK() != tc.ok || res.Nack != tc.nack || res.Response != tc.body {
			t.Errorf("Send answered %d %s = %+v; want ok %v, nack %q, the body as response", tc.status, tc.body, res, tc.ok, tc.nack)
		}
	}
}

// A subscription URL may carry the receiver's secret; a failed attempt's error, which
// goes to logs, timelines and dead letters, must not.
func TestSendErrorsOmitTheURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(time.Second) }))
	defer srv.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	const secret = "s3cr3t-in-the-query"
	for name, m := range map[string]Message{
		"refused":   {URL: closed.URL + "/hook/" + secret + "?key=" + secret},
		"timed out": {URL: srv.URL + "/hook?key=" + secret, Timeout: 50 * time.Millisecond},
		"guard":     {URL: "http://127.0.0.1:9/hook?key=" + secret},
	} {
		t.Run(name, func(t *testing.T) {
			m.ID, m.Body, m.Secrets = "msg_1", []byte("{}"), []string{NewSecret()}
			g := Guard{AllowLoopback: name != "guard"}
			res := NewSender(g).Send(context.Background(), m)
			if res.Err == nil {
				t.Fatalf("Send = %+v; want an error", res)
			}
			if strings.Contains(res.Err.Error(), secret) || strings.Contains(res.Describe(), secret) {
				t.Errorf("error %q carries the URL", res.Err)
			}
		})
	}
}

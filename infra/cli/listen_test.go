package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventhub/eventhub/shared/webhook"
)

func TestListenPrintsAndChecksSignatures(t *testing.T) {
	secret := webhook.NewSecret()
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	body := []byte(`{"specversion":"1.0","id":"order-1001","source":"/shop/orders","type":"order.created"}`)
	sig, err := webhook.Sign([]string{secret}, "msg_1", at, body)
	if err != nil {
		t.Fatal(err)
	}
	request := func(sig string, body []byte) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(body))
		r.Header.Set("webhook-id", "msg_1")
		r.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
		r.Header.Set("webhook-signature", sig)
		return r
	}
	tests := []struct {
		name, secret, sig string
		body              []byte
		status            int
		line              string
	}{
		{"no secret", "", "", body, 204, "POST /hook webhook-id msg_1 order.created order-1001\n"},
		{"good signature", secret, sig, body, 204, "order.created order-1001 signature ok\n"},
		{"bad signature", secret, "v1,AAAA", body, 401, "REFUSED: signature does not match\n"},
		{"an EventBridge event", "", "", []byte(`{"detail-type":"Event Stored","detail":{"event":{"type":"t","id":"i"}}}`), 204, "Event Stored t i\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			rec := httptest.NewRecorder()
			listener{out: &out, secret: tt.secret, now: func() time.Time { return at }}.ServeHTTP(rec, request(tt.sig, tt.body))
			if rec.Code != tt.status || !strings.HasSuffix(out.String(), tt.line) {
				t.Errorf("answer %d, printed %q; want %d and a line ending %q", rec.Code, out.String(), tt.status, tt.line)
			}
		})
	}
}

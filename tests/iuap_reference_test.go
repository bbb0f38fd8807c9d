package tests

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventhub/eventhub/shared/adapter/iuap"
)

// sendEventMsg is a reference implementation of an iuap producer, with the standard
// library only: it posts the fields as a form to eventhub's sendEventMsg.do, signed
// over the request's exact bytes, and returns the answer.
//
//	sign = hex(HMAC-SHA256(signingKey, "v2\n" + appId + "\n" + ts + "\n" + body))
//
// ts is the time of sending in Unix milliseconds (eventhub accepts 5 minutes either
// way); body is the URL-encoded form exactly as it is sent. The signature goes in the
// sign header.
func sendEventMsg(client *http.Client, baseURL, appID, signingKey string, fields url.Values, now time.Time) (*http.Response, error) {
	body := fields.Encode()
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(signingKey))
	mac.Write([]byte("v2\n" + appID + "\n" + ts + "\n" + body))
	sign := hex.EncodeToString(mac.Sum(nil))

	u := baseURL + "/event/eventmanager/sendEventMsg.do?" + url.Values{"appId": {appID}, "ts": {ts}}.Encode()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	req.Header.Set("sign", sign)
	return client.Do(req)
}

// TestIUAPReferenceProducer sends through the reference implementation, with a
// userObject holding line breaks (which only the body-signed scheme can carry), and
// reads the event back as it was signed.
func TestIUAPReferenceProducer(t *testing.T) {
	needStack(t)
	src := register(t, `{"name":"iuap reference","format":"iuap","appId":"REFERENCE_NODE"}`)
	fields := url.Values{
		"sourceID": {"ORDER"}, "eventType": {"ADD_AFTER"}, "tenantCode": {"tRef"},
		"userObject": {"{\n  \"orderId\": \"SO-1\",\n  \"note\": \"a=b&c\"\n}"},
	}
	now := time.Now()
	// The reference and eventhub's own signer agree.
	body := fields.Encode()
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(src.SigningKey))
	mac.Write([]byte("v2\n" + src.AppID + "\n" + ts + "\n" + body))
	if got, want := hex.EncodeToString(mac.Sum(nil)), iuap.SignV2(src.SigningKey, src.AppID, ts, []byte(body)); got != want {
		t.Fatalf("reference signature %s; iuap.SignV2 %s", got, want)
	}
	resp, err := sendEventMsg(http.DefaultClient, local.APIURL, src.AppID, src.SigningKey, fields, now)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reply struct {
		Data struct {
			Status int    `json:"status"`
			ID     string `json:"id"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil || resp.StatusCode != 200 || reply.Data.Status != 1 {
		t.Fatalf("sendEventMsg.do = %d %+v (%v); want 200 with status 1", resp.StatusCode, reply, err)
	}
	ev := waitStored(t, reply.Data.ID)
	var got struct {
		Source, Subject string
		Data            struct {
			TenantCode string          `json:"tenantCode"`
			UserObject json.RawMessage `json:"userObject"`
		}
	}
	if err := json.Unmarshal(ev.Event, &got); err != nil {
		t.Fatal(err)
	}
	if got.Source != "iuap/REFERENCE_NODE" || got.Subject != "tRef" || got.Data.TenantCode != "tRef" || !strings.Contains(string(got.Data.UserObject), "SO-1") {
		t.Errorf("stored %s; want the signed fields under iuap/REFERENCE_NODE", ev.Event)
	}
}

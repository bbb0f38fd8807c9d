package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/ownership"
	"github.com/eventhub/eventhub/shared/ratelimit"
	"github.com/eventhub/eventhub/shared/store"
)

// othersFunc is an ownership.Others made of a function.
type othersFunc func(ctx context.Context, id, v string) (bool, error)

func (f othersFunc) OwnedByOther(ctx context.Context, id, v string) (bool, error) {
	return f(ctx, id, v)
}

// TestIngestOwnership sends events under CloudEvents sources the token's source owns,
// and under others: those are refused with 403 naming the source's owned values, and
// nothing goes on the bus for them, whatever the source does with invalid events.
func TestIngestOwnership(t *testing.T) {
	srcs := map[string]*store.Source{
		"ehp_a":      {ID: "src_a", Format: "cloudevents", Enabled: true, Owns: &ownership.Set{Exact: []string{"acs.mse"}, Prefixes: []string{"/shop/"}}},
		"ehp_q":      {ID: "src_q", Format: "cloudevents", Enabled: true, OnInvalid: store.OnInvalidQuarantine, Owns: &ownership.Set{Exact: []string{"/q"}}},
		"ehp_auto":   {ID: "src_auto", Format: "auto", Enabled: true, Owns: &ownership.Set{}},
		"ehp_iuap":   {ID: "src_iuap", Format: "iuap", Enabled: true, AppID: "NODE", Owns: &ownership.Set{}},
		"ehp_legacy": {ID: "src_legacy", Format: "cloudevents", Enabled: true}, // registered before ownership
	}
	ce := func(source string) string {
		return `{"specversion":"1.0","id":"o-1","source":"` + source + `","type":"t"}`
	}
	iuapEvent := `{"sourceID":"USER","eventType":"ADD","tenantCode":"t1"}`
	bk := seed(t, "bkmonitor/testdata/seed_cpu_usage.input")
	tests := []struct {
		name, token, query, contentType, body string
		binary                                map[string]string
		status                                int
		path, msg                             string
	}{
		{name: "exact value", token: "ehp_a", body: ce("acs.mse"), status: 202},
		{name: "under a prefix", token: "ehp_a", body: ce("/shop/orders"), status: 202},
		{name: "its own /sources path", token: "ehp_a", body: ce("/sources/src_a/x"), status: 202},
		{name: "another's value", token: "ehp_a", body: ce("/bank"), status: 403, path: "source", msg: `may publish "/sources/src_a", "acs.mse", "/sources/src_a/"*, "/shop/"*`},
		{name: "the prefix without its slash", token: "ehp_a", body: ce("/shop"), status: 403, path: "source"},
		{name: "another source's path", token: "ehp_a", body: ce("/sources/src_q"), status: 403, path: "source"},
		{name: "binary mode", token: "ehp_a", binary: map[string]string{"ce-specversion": "1.0", "ce-id": "b", "ce-source": "/bank", "ce-type": "t"}, body: `{}`, status: 403, path: "ce-source"},
		{name: "batch of events not owned", token: "ehp_a", body: "[" + ce("/x") + "," + ce("/y") + "]", status: 403},
		{name: "batch partly owned", token: "ehp_a", body: "[" + ce("acs.mse") + "," + ce("/y") + "]", status: 207},
		{name: "quarantining source refuses too", token: "ehp_q", body: ce("/not-q"), status: 403, path: "source"},
		{name: "quarantining source keeps its own invalid event", token: "ehp_q", body: `{"specversion":"1.0","id":"x","source":"/q"}`, status: 202},
		{name: "iuap identity in a CloudEvent", token: "ehp_iuap", contentType: "application/cloudevents+json", body: ce("iuap/NODE"), status: 403, path: "source", msg: "signed route"},
		{name: "iuap identity of another node", token: "ehp_a", body: ce("iuap/OTHER"), status: 403, path: "source", msg: "signed route"},
		{name: "?format=iuap", token: "ehp_iuap", query: "iuap", body: iuapEvent, status: 403, msg: "signed route"},
		{name: "iuap detected", token: "ehp_auto", body: iuapEvent, status: 403, msg: "signed route"},
		{name: "BlueKing event from a source without a data id", token: "ehp_auto", query: "bkmonitor", body: bk, status: 403, path: "source", msg: `"bkmonitor"`},
		{name: "transitional source, value nobody owns", token: "ehp_legacy", body: ce("/legacy/orders"), status: 202},
		{name: "transitional source, value another owns", token: "ehp_legacy", body: ce("acs.mse"), status: 403, path: "source"},
		{name: "transitional source, reserved namespace", token: "ehp_legacy", body: ce("bkmonitor/1500001"), status: 403, path: "source"},
	}
	others := othersFunc(func(_ context.Context, id, v string) (bool, error) {
		for _, s := range srcs {
			if s.ID != id && s.Owned().Allows(v) {
				return true, nil
			}
		}
		return false, nil
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pub := &fakeBus{}
			h := formatHandler(t, pub, srcs)
			h.owners = others
			ct := tc.contentType
			if ct == "" {
				ct = "application/json"
			}
			req := post(ct, tc.body)
			req.Headers["authorization"] = "Bearer " + tc.token
			for k, v := range tc.binary {
				req.Headers[k] = v
			}
			if tc.query != "" {
				req.QueryStringParameters = map[string]string{"format": tc.query}
			}
			resp, _ := h.handle(context.Background(), req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d; want %d (%s)", resp.StatusCode, tc.status, resp.Body)
			}
			r := decodeReply(t, resp)
			if tc.status == http.StatusForbidden {
				if len(pub.events) != 0 {
					t.Errorf("%d entries published for a refused request", len(pub.events))
				}
				e := r.Error
				if e == nil && len(r.Results) > 0 {
					e = r.Results[0].Error
				}
				if e == nil || e.Code != "forbidden" || (tc.path != "" && e.Path != tc.path) || !strings.Contains(e.Message, tc.msg) {
					t.Errorf("error = %+v; want forbidden at %q containing %q", e, tc.path, tc.msg)
				}
			}
		})
	}
}

// limiterFunc is a limiter made of a function.
type limiterFunc func(ctx context.Context, id string, rl *store.RateLimit, n int) error

func (f limiterFunc) Take(ctx context.Context, id string, rl *store.RateLimit, n int) error {
	return f(ctx, id, rl, n)
}

// TestIngestRateLimit: a source over its limit gets 429 with Retry-After and nothing
// goes on the bus; a limiter that cannot read its bucket lets the request through.
func TestIngestRateLimit(t *testing.T) {
	body := `{"specversion":"1.0","id":"r-1","source":"/test","type":"t"}`
	tests := []struct {
		name   string
		err    error
		status int
		retry  string
	}{
		{"within the limit", nil, 202, ""},
		{"over the limit", &fault.Error{Code: fault.RateLimited, RetryAfter: 3, Message: "over"}, 429, "3"},
		{"bucket unavailable", fmt.Errorf("%w: throttled", ratelimit.ErrUnavailable), 202, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pub := &fakeBus{}
			h := newTestHandler(pub)
			var asked int
			h.limits = limiterFunc(func(_ context.Context, id string, _ *store.RateLimit, n int) error {
				asked = n
				return tc.err
			})
			resp, _ := h.handle(context.Background(), post("application/cloudevents+json", "["+body+","+body+"]"))
			if resp.StatusCode != tc.status || resp.Headers["retry-after"] != tc.retry || asked != 2 {
				t.Fatalf("status %d, retry-after %q, asked for %d; want %d, %q, 2 (%s)", resp.StatusCode, resp.Headers["retry-after"], asked, tc.status, tc.retry, resp.Body)
			}
			if (tc.status == 429) != (len(pub.events) == 0) {
				t.Errorf("published %d entries with status %d", len(pub.events), resp.StatusCode)
			}
		})
	}
}

package main

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/eventhub/eventhub/shared/adapter/iuap"
	"github.com/eventhub/eventhub/shared/apigw"
	"github.com/eventhub/eventhub/shared/metrics/metricstest"
	"github.com/eventhub/eventhub/shared/ownership"
	"github.com/eventhub/eventhub/shared/store"
)

// TestIngestMetrics checks that every event of a request is counted once: accepted by
// its format, rejected by its error code; a request refused as a whole counts once;
// eventhub's own failures count nothing (they are the API's 5xx).
func TestIngestMetrics(t *testing.T) {
	juno := seed(t, "juno/testdata/seed_confgo_file_update.input")
	form := url.Values{"sourceID": {"USER"}, "eventType": {"ADD_AFTER"}, "tenantCode": {"t1"}, "userObject": {`{"userId":"u-1"}`}}
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	srcs := map[string]*store.Source{
		token:      testSources[token],
		"ehp_auto": {ID: "src_auto", Format: "auto", Enabled: true, Owns: &ownership.Set{Exact: []string{"/test"}, Prefixes: []string{"juno/"}}},
	}
	autoPost := func(body string) apigw.Request {
		r := post("application/json", body)
		r.Headers["authorization"] = "Bearer ehp_auto"
		return r
	}
	tests := []struct {
		name   string
		req    apigw.Request
		pubErr error
		want   map[string]float64
	}{
		{
			name: "batch of formats, some rejected",
			req:  autoPost("[" + strings.Join([]string{ce("a"), juno, `42`, ce("b"), `{"specversion":"1.0","source":"/x","type":"t"}`}, ",") + "]"),
			want: map[string]float64{
				"Accepted": 3, "Accepted Format=cloudevents": 2, "Accepted Format=juno": 1,
				"Rejected": 2, "Rejected Reason=invalid": 2,
			},
		},
		{
			name: "one event",
			req:  post("application/cloudevents+json", ce("a")),
			want: map[string]float64{"Accepted": 1, "Accepted Format=cloudevents": 1},
		},
		{
			name: "one event rejected",
			req:  post("application/cloudevents+json", `{"specversion":"1.0"}`),
			want: map[string]float64{"Rejected": 1, "Rejected Reason=invalid": 1},
		},
		{
			name: "unknown token",
			req: func() apigw.Request {
				r := post("application/cloudevents+json", ce("a"))
				r.Headers["authorization"] = "Bearer ehp_nope"
				return r
			}(),
			want: map[string]float64{"Rejected": 1, "Rejected Reason=unauthorized": 1},
		},
		{
			name:   "the bus fails",
			req:    post("application/cloudevents+json", ce("a")),
			pubErr: errors.New("EventBridge is down"),
			want:   map[string]float64{},
		},
		{
			name: "iuap",
			req:  iuapRequest("crm", ts, form, iuap.Sign(iuapKey, "crm", ts, flat(form))),
			want: map[string]float64{"Accepted": 1, "Accepted Format=iuap": 1},
		},
		{
			name: "iuap with a bad signature",
			req:  iuapRequest("crm", ts, form, strings.Repeat("0", 64)),
			want: map[string]float64{"Rejected": 1, "Rejected Reason=unauthorized": 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rec metricstest.Recorder
			h := formatHandler(t, &fakeBus{err: tc.pubErr}, srcs)
			h.metrics = rec.Emitter("ingest")
			if _, err := h.handle(context.Background(), tc.req); err != nil {
				t.Fatal(err)
			}
			rec.Check(t, tc.want)
		})
	}
}

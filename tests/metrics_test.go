package tests

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventhub/eventhub/shared/metrics"
	"github.com/eventhub/eventhub/shared/metrics/metricstest"
)

// emfTotals reads the metric lines the functions wrote (the local stack's function
// output, "Function | line"), failing the test on any line that is not valid EMF, and
// sums those of one trace as CloudWatch would record them (metricstest.Add).
func emfTotals(t *testing.T, traceID string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, line := range strings.Split(logs.String(), "\n") {
		_, line, ok := strings.Cut(line, " | ")
		if !ok || !metrics.IsEMF([]byte(line)) {
			continue
		}
		doc, err := metrics.Parse([]byte(line))
		if err != nil {
			t.Fatalf("a function wrote an invalid metric line %s: %v", line, err)
		}
		if string(doc.Properties["traceId"]) != `"`+traceID+`"` {
			continue
		}
		metricstest.Add(out, doc)
	}
	return out
}

// TestMetricsOfOneEvent follows one event through the real functions and checks that
// each stage counted it once, in valid EMF, under the trace that ingest started.
func TestMetricsOfOneEvent(t *testing.T) {
	needStack(t)
	r := newReceiver(t, always(http.StatusOK))
	subscribe(t, r, "e2e.metrics")
	_, body := cloudEvent("e2e.metrics")
	id := post(t, body)
	var v struct {
		Timeline []struct {
			Stage   string `json:"stage"`
			TraceID string `json:"traceId"`
		} `json:"timeline"`
		Deliveries []struct{ Status string } `json:"deliveries"`
	}
	eventually(t, 30*time.Second, "event "+id+" delivered", func() bool {
		v.Deliveries = nil
		call(t, http.MethodGet, "/events/"+id, local.AdminToken, "", &v)
		return len(v.Deliveries) == 1 && v.Deliveries[0].Status == "delivered"
	})
	traceID := v.Timeline[0].TraceID
	for _, e := range v.Timeline {
		if e.TraceID == "" || e.TraceID != traceID {
			t.Fatalf("timeline %+v; want one trace id on every entry", v.Timeline)
		}
	}
	want := map[string]float64{
		"Accepted": 1, "Accepted Format=cloudevents": 1,
		"Normalized": 1, "Normalized Format=cloudevents": 1,
		"Stored": 1, "Stored Format=cloudevents": 1, "ReceivedToStored": 1,
		"Delivered": 1, "StoredToDelivered": 1, "DeliveryLatency": 1,
	}
	// Lines may trail the API's answer by a moment (notify counts after it records).
	deadline := time.Now().Add(5 * time.Second)
	got := emfTotals(t, traceID)
	for fmt.Sprint(got) != fmt.Sprint(want) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		got = emfTotals(t, traceID)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("metrics of trace %s:\n got %v\nwant %v", traceID, got, want)
	}
}

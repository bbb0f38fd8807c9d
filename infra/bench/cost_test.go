package main

import (
	"math"
	"strings"
	"testing"
)

func TestCostOf(t *testing.T) {
	pe := PerEvent{
		APIRequests:        1,
		Lambda:             map[string]LambdaUsage{"ingest": {Invocations: 1, MemoryMB: 256, BilledMs: 4}},
		EventBridgeEntries: 3,
		DynamoWRU:          10,
		DynamoRRU:          2,
		SQSRequests:        0.5,
		LogBytes:           974,
		LogLines:           1,
	}
	c := costOf(pe, nil)
	want := 1.00 + // API
		0.004*0.25*0.0000133334*1e6 + // 4 ms at 256 MB
		0.20 + // one invocation
		3.00 + // entries
		10*0.625 + 2*0.125 + // capacity
		0.5*0.40 + // SQS
		(974+26)/1e9*0.50*1e6 // one log line with CloudWatch's 26 bytes
	if math.Abs(c.USDPerMillion-want) > 0.001 {
		t.Errorf("cost = %.4f; want %.4f\n%+v", c.USDPerMillion, want, c.Lines)
	}
}

// TestCostFloor checks the floor of the three-hop chain (the issue's $6.06) and that
// the floor and the items above it add up to the bill.
func TestCostFloor(t *testing.T) {
	usage := func(ms float64) LambdaUsage {
		return LambdaUsage{Invocations: 1, MemoryMB: 256, BilledMs: ms, MedianMs: ms - 0.5}
	}
	pe := PerEvent{
		APIRequests:        1,
		Lambda:             map[string]LambdaUsage{"ingest": usage(3), "normalize": usage(2), "persist": usage(4), "notify": usage(9)},
		EventBridgeEntries: 3,
		DynamoWRU:          7,
		DynamoRRU:          1,
		DynamoUnits: map[string]float64{
			"event PutItem|table": 1, "event PutItem|gsi1": 1, "event PutItem|gsi2": 1, "event PutItem|gsi3": 1,
			"delivery UpdateItem claim|table": 1, "delivery UpdateItem finish|table": 1, "delivery UpdateItem finish|gsi1": 1,
			"read SUBS Query|table": 1,
		},
		LogBytes: 700,
		LogLines: 4,
	}
	c := costOf(pe, nil)
	floor := 1 + 3 + 4*0.20 + 4*0.001*0.25*0.0000133334*1e6 + 2*0.625
	if math.Abs(c.FloorUSD-floor) > 0.0001 || math.Abs(c.FloorUSD-6.06) > 0.01 {
		t.Errorf("floor = %.4f; want %.4f (about $6.06)", c.FloorUSD, floor)
	}
	sum := c.FloorUSD
	items := map[string]float64{}
	for _, l := range c.AboveFloor {
		sum += l.USDPerMillion
		items[l.Item] += l.USDPerMillion
	}
	if math.Abs(sum-c.USDPerMillion) > 0.00005 {
		t.Errorf("floor %.4f + above %.4f = %.4f; want the bill %.4f\n%+v", c.FloorUSD, sum-c.FloorUSD, sum, c.USDPerMillion, c.AboveFloor)
	}
	for _, want := range []string{features["event PutItem|gsi1"], features["delivery UpdateItem claim|table"], features["read SUBS Query|table"]} {
		if math.Abs(items[want]-0.625) > 0.0001 && math.Abs(items[want]-0.125) > 0.0001 {
			t.Errorf("item %q = $%.4f; want one unit", want, items[want])
		}
	}
	for item := range items {
		if strings.Contains(item, "could not attribute") || strings.Contains(item, "did not make") {
			t.Errorf("unexpected item %q", item)
		}
	}
}

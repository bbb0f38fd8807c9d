package main

import (
	"math"
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
	c := costOf(pe)
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

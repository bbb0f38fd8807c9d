package main

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// Prices are AWS list prices in us-east-1 for the first (lowest-volume) tier, in USD.
// They are in the code, with their date, so that the cost figure can be checked and
// its inputs updated when AWS changes them.
var Prices = struct {
	Date, Region             string
	HTTPAPIPerMillion        float64 // API Gateway HTTP API, per million requests (each 512 KB counts as one)
	LambdaRequestsPerMillion float64 // Lambda, per million invocations
	LambdaArmGBSecond        float64 // Lambda arm64 duration, per GB-second (billed per 1 ms)
	EventBridgePerMillion    float64 // EventBridge custom events, per million entries (each 64 KB counts as one)
	DynamoWRUPerMillion      float64 // DynamoDB on-demand, per million write request units
	DynamoRRUPerMillion      float64 // DynamoDB on-demand, per million read request units
	DynamoStorageGBMonth     float64 // DynamoDB Standard table class storage, per GB-month
	SQSPerMillion            float64 // SQS standard queue, per million requests (each 64 KB counts as one)
	LogsIngestGB             float64 // CloudWatch Logs ingestion (standard), per GB
	LogsEventOverheadBytes   int     // bytes CloudWatch Logs counts per log event on top of its message
}{
	Date:                     "2024-11-01",
	Region:                   "us-east-1",
	HTTPAPIPerMillion:        1.00,
	LambdaRequestsPerMillion: 0.20,
	LambdaArmGBSecond:        0.0000133334,
	EventBridgePerMillion:    1.00,
	DynamoWRUPerMillion:      0.625, // on-demand price from 2024-11-01 (was 1.25)
	DynamoRRUPerMillion:      0.125, // (was 0.25)
	DynamoStorageGBMonth:     0.25,
	SQSPerMillion:            0.40,
	LogsIngestGB:             0.50,
	LogsEventOverheadBytes:   26,
}

// PerEvent is what one event cost in the measured run, averaged over the events of
// the latency phase.
type PerEvent struct {
	APIRequests        float64                `json:"api_requests"`
	Lambda             map[string]LambdaUsage `json:"lambda"`
	EventBridgeEntries float64                `json:"eventbridge_entries"`
	DynamoWRU          float64                `json:"dynamodb_write_units"`
	DynamoRRU          float64                `json:"dynamodb_read_units"`
	DynamoRequests     map[string]float64     `json:"dynamodb_requests"`
	DynamoUnitsByOp    map[string]float64     `json:"dynamodb_units_by_operation"`
	// DynamoUnits are the capacity units by what took them (meter.go, requestLabel):
	// "event PutItem|gsi1" is the event's entry in gsi1.
	DynamoUnits map[string]float64 `json:"dynamodb_units_by_item"`
	SQSRequests float64            `json:"sqs_requests"`
	LogBytes    float64            `json:"log_bytes"`
	LogLines    float64            `json:"log_lines"`
	StoredBytes float64            `json:"stored_bytes,omitempty"`
}

// LambdaUsage is one function's share of an event.
type LambdaUsage struct {
	Invocations float64 `json:"invocations"`
	MemoryMB    int     `json:"memory_mb"`
	BilledMs    float64 `json:"billed_ms"` // median warm duration, rounded up to the ms as Lambda bills
	MedianMs    float64 `json:"median_ms"`
	P99Ms       float64 `json:"p99_ms"`
}

// CostLine is one item of the bill for a million events.
type CostLine struct {
	Item          string  `json:"item"`
	PerEvent      float64 `json:"quantity_per_event"`
	Unit          string  `json:"unit"`
	USDPerMillion float64 `json:"usd_per_million_events"`
}

// Cost is the bill for a million events through the deployed design: by service
// (Lines), and as the design's floor plus every cent above it by the feature it pays
// for (Floor and AboveFloor add up to the total).
type Cost struct {
	USDPerMillion float64    `json:"usd_per_million_events"`
	FloorUSD      float64    `json:"floor_usd_per_million_events"`
	Lines         []CostLine `json:"lines"`
	Floor         []CostLine `json:"floor"`
	AboveFloor    []CostLine `json:"above_floor"`
	PricesDate    string     `json:"prices_date"`
	Region        string     `json:"region"`
	PerEvent      PerEvent   `json:"measured_per_event"`
	// StorageUSDPerMillionMonth is not in the total: what keeping a million events
	// (items and index copies) costs per month of retention.
	StorageUSDPerMillionMonth float64 `json:"storage_usd_per_million_events_month,omitempty"`
}

// The floor of the three-hop chain with one subscription: one API request, the three
// bus entries of one event (Event Received, Normalized and Stored, one 64 KB chunk
// each), the four pipeline functions invoked once at Lambda's minimum billed duration,
// and two DynamoDB writes of at most 1 KB: the event, and its delivery.
const (
	floorEntries = 3
	floorMinMs   = 1.0
)

// floorWrites are the write units of the floor, by what takes them.
var floorWrites = map[string]float64{
	"event PutItem|table":              1, // the event
	"delivery UpdateItem finish|table": 1, // its delivery, as it ended
}

// features say what the units above the floor pay for, by what takes them (meter.go,
// requestLabel). Units the floor holds and that are above it are the item's size.
var features = map[string]string{
	"event PutItem|table":              "the event's item above 1 KB",
	"event PutItem|gsi1":               "listing events by source (GET /events?source=): the event's entry in gsi1",
	"event PutItem|gsi2":               "listing events by type (GET /events?type=): the event's entry in gsi2",
	"event PutItem|gsi3":               "listing all events in time order (GET /events): the event's entry in gsi3",
	"delivery UpdateItem claim|table":  "claiming a delivery before its webhook is sent (one webhook when Event Stored arrives twice, one attempt in flight)",
	"delivery UpdateItem finish|table": "the delivery's item above 1 KB",
	"delivery UpdateItem finish|gsi1":  "listing a subscription's deliveries by status (GET /subscriptions/{id}/deliveries): the delivery's entry in gsi1",
	"read SUBS Query|table":            "matching subscriptions: notify reads the subscription list",
	"read TOKEN GetItem|table":         "authenticating the producer: ingest reads its token (cached 30 s)",
	"read SRCS GetItem|table":          "the producer's source (cached)",
}

func costOf(pe PerEvent, memoryMB map[string]int) Cost {
	p := Prices
	c := Cost{PricesDate: p.Date, Region: p.Region, PerEvent: pe}
	line := func(item string, q float64, unit string, usdPerUnit float64) CostLine {
		return CostLine{Item: item, PerEvent: round(q, 4), Unit: unit, USDPerMillion: round(q*usdPerUnit*1e6, 4)}
	}
	add := func(dst *[]CostLine, item string, q float64, unit string, usdPerUnit float64) {
		*dst = append(*dst, line(item, q, unit, usdPerUnit))
	}
	gbs := func(invocations, ms float64, mb int) float64 { return invocations * ms / 1000 * float64(mb) / 1024 }
	names := make([]string, 0, len(pe.Lambda))
	for n := range pe.Lambda {
		names = append(names, n)
	}
	sort.Strings(names)
	mem := func(fn string) int {
		if l, ok := pe.Lambda[fn]; ok && l.MemoryMB > 0 {
			return l.MemoryMB
		}
		return memoryMB[fn]
	}

	// The bill.
	add(&c.Lines, "API Gateway HTTP API requests", pe.APIRequests, "requests", p.HTTPAPIPerMillion/1e6)
	var invocations float64
	for _, n := range names {
		l := pe.Lambda[n]
		invocations += l.Invocations
		add(&c.Lines, "Lambda duration "+n+" (arm64)", gbs(l.Invocations, l.BilledMs, l.MemoryMB), "GB-seconds", p.LambdaArmGBSecond)
	}
	add(&c.Lines, "Lambda requests", invocations, "invocations", p.LambdaRequestsPerMillion/1e6)
	add(&c.Lines, "EventBridge entries", pe.EventBridgeEntries, "entries", p.EventBridgePerMillion/1e6)
	add(&c.Lines, "DynamoDB writes", pe.DynamoWRU, "write request units", p.DynamoWRUPerMillion/1e6)
	add(&c.Lines, "DynamoDB reads", pe.DynamoRRU, "read request units", p.DynamoRRUPerMillion/1e6)
	add(&c.Lines, "SQS requests", pe.SQSRequests, "requests", p.SQSPerMillion/1e6)
	logBytes := pe.LogBytes + pe.LogLines*float64(p.LogsEventOverheadBytes)
	add(&c.Lines, "CloudWatch Logs ingestion", logBytes, "bytes", p.LogsIngestGB/1e9)
	for _, l := range c.Lines {
		c.USDPerMillion += l.USDPerMillion
	}
	c.USDPerMillion = round(c.USDPerMillion, 4)

	// The floor.
	add(&c.Floor, "API Gateway HTTP API request", 1, "requests", p.HTTPAPIPerMillion/1e6)
	add(&c.Floor, "EventBridge entries: Event Received, Event Normalized, Event Stored", floorEntries, "entries", p.EventBridgePerMillion/1e6)
	add(&c.Floor, "Lambda requests: "+strings.Join(pipelineFunctions, ", "), float64(len(pipelineFunctions)), "invocations", p.LambdaRequestsPerMillion/1e6)
	var floorGBs float64
	for _, fn := range pipelineFunctions {
		floorGBs += gbs(1, floorMinMs, mem(fn))
	}
	add(&c.Floor, "Lambda duration: four invocations at the 1 ms minimum (arm64)", floorGBs, "GB-seconds", p.LambdaArmGBSecond)
	add(&c.Floor, "DynamoDB writes: the event and its delivery, 1 KB each", 2, "write request units", p.DynamoWRUPerMillion/1e6)
	for _, l := range c.Floor {
		c.FloorUSD += l.USDPerMillion
	}
	c.FloorUSD = round(c.FloorUSD, 4)

	// Every cent above it.
	above := func(item string, q float64, unit string, usdPerUnit float64) {
		if math.Abs(q) > 1e-9 {
			add(&c.AboveFloor, item, q, unit, usdPerUnit)
		}
	}
	above("API requests above one per event", pe.APIRequests-1, "requests", p.HTTPAPIPerMillion/1e6)
	for _, n := range names {
		l := pe.Lambda[n]
		floorInv := 0.0
		if slices.Contains(pipelineFunctions, n) {
			floorInv = 1
		}
		above(n+": invocations above one per event", l.Invocations-floorInv, "invocations", p.LambdaRequestsPerMillion/1e6)
		above(fmt.Sprintf("%s: billed time above the 1 ms minimum (median %.2f ms, billed %g ms): %s", n, l.MedianMs, l.BilledMs, work[n]),
			gbs(l.Invocations, l.BilledMs, l.MemoryMB)-gbs(min(l.Invocations, floorInv), floorMinMs, l.MemoryMB), "GB-seconds", p.LambdaArmGBSecond)
	}
	for _, n := range pipelineFunctions {
		if _, ok := pe.Lambda[n]; !ok {
			above(n+": not invoked (in the floor)", -1, "invocations", p.LambdaRequestsPerMillion/1e6)
			above(n+": not invoked (its floor duration)", -gbs(1, floorMinMs, mem(n)), "GB-seconds", p.LambdaArmGBSecond)
		}
	}
	above("bus entries above three (64 KB chunks of larger events, Delivery Failed)", pe.EventBridgeEntries-floorEntries, "entries", p.EventBridgePerMillion/1e6)
	var labels []string
	for k := range pe.DynamoUnits {
		labels = append(labels, k)
	}
	for k := range floorWrites {
		if _, ok := pe.DynamoUnits[k]; !ok {
			labels = append(labels, k)
		}
	}
	sort.Strings(labels)
	var writes, reads float64
	for _, k := range labels {
		u := pe.DynamoUnits[k]
		what := features[k]
		if strings.HasPrefix(k, "read ") {
			reads += u
			if what == "" {
				what = "DynamoDB reads: " + k
			}
			above(what, u, "read request units", p.DynamoRRUPerMillion/1e6)
			continue
		}
		writes += u
		if what == "" {
			what = "DynamoDB writes: " + k
		}
		if f, ok := floorWrites[k]; ok && u < f {
			what = "a write of the floor the run did not make: " + k
		}
		above(what, u-floorWrites[k], "write request units", p.DynamoWRUPerMillion/1e6)
	}
	// (Each figure per event is rounded to a thousandth: less than that is rounding.)
	if d := pe.DynamoWRU - writes; math.Abs(d) >= 0.002 {
		above("DynamoDB writes the meter could not attribute", d, "write request units", p.DynamoWRUPerMillion/1e6)
	}
	if d := pe.DynamoRRU - reads; math.Abs(d) >= 0.002 {
		above("DynamoDB reads the meter could not attribute", d, "read request units", p.DynamoRRUPerMillion/1e6)
	}
	above("SQS requests (delivery retries)", pe.SQSRequests, "requests", p.SQSPerMillion/1e6)
	above(fmt.Sprintf("the functions' logs: %.2f lines, %.0f bytes per event (CloudWatch Logs)", pe.LogLines, pe.LogBytes), logBytes, "bytes", p.LogsIngestGB/1e9)
	// Rounding: the lines are rounded one by one.
	sum := c.FloorUSD
	for _, l := range c.AboveFloor {
		sum += l.USDPerMillion
	}
	if d := round(c.USDPerMillion-sum, 4); math.Abs(d) >= 0.0001 {
		c.AboveFloor = append(c.AboveFloor, CostLine{Item: "rounding", USDPerMillion: d})
	}
	slices.SortStableFunc(c.AboveFloor, func(a, b CostLine) int { return cmpFloat(b.USDPerMillion, a.USDPerMillion) })

	if pe.StoredBytes > 0 {
		c.StorageUSDPerMillionMonth = round(pe.StoredBytes*1e6/1e9*p.DynamoStorageGBMonth, 4)
	}
	return c
}

// work is what each function does for an event besides its minimum.
var work = map[string]string{
	"ingest":    "authenticating, checking the event with its format's adapter, PutEvents",
	"normalize": "the adapter, the catalog, PutEvents",
	"persist":   "the conditional write, PutEvents",
	"notify":    "the subscriptions, the claim, the signed webhook POST, the finish",
}

// costReason is the figure's reason when it is over the target: the largest items
// above the floor.
func costReason(c Cost) string {
	var parts []string
	for _, l := range c.AboveFloor[:min(4, len(c.AboveFloor))] {
		parts = append(parts, fmt.Sprintf("$%.2f %s", l.USDPerMillion, l.Item))
	}
	return fmt.Sprintf("floor $%.2f; above it: %s", c.FloorUSD, strings.Join(parts, "; "))
}

// billedMs is Lambda's billed duration: rounded up to the millisecond.
func billedMs(d float64) float64 { return math.Ceil(d) }

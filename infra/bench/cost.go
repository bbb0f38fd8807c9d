package main

import (
	"math"
	"sort"
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
	SQSRequests        float64                `json:"sqs_requests"`
	LogBytes           float64                `json:"log_bytes"`
	LogLines           float64                `json:"log_lines"`
	StoredBytes        float64                `json:"stored_bytes,omitempty"`
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

// Cost is the bill for a million events through the deployed design.
type Cost struct {
	USDPerMillion float64    `json:"usd_per_million_events"`
	Lines         []CostLine `json:"lines"`
	PricesDate    string     `json:"prices_date"`
	Region        string     `json:"region"`
	PerEvent      PerEvent   `json:"measured_per_event"`
	// StorageUSDPerMillionMonth is not in the total: what keeping a million events
	// (items and index copies) costs per month of retention.
	StorageUSDPerMillionMonth float64 `json:"storage_usd_per_million_events_month,omitempty"`
}

func costOf(pe PerEvent) Cost {
	p := Prices
	c := Cost{PricesDate: p.Date, Region: p.Region, PerEvent: pe}
	add := func(item string, q float64, unit string, usdPerUnit float64) {
		c.Lines = append(c.Lines, CostLine{Item: item, PerEvent: round(q, 4), Unit: unit, USDPerMillion: round(q*usdPerUnit*1e6, 4)})
	}
	add("API Gateway HTTP API requests", pe.APIRequests, "requests", p.HTTPAPIPerMillion/1e6)
	names := make([]string, 0, len(pe.Lambda))
	for n := range pe.Lambda {
		names = append(names, n)
	}
	sort.Strings(names)
	var invocations float64
	for _, n := range names {
		l := pe.Lambda[n]
		invocations += l.Invocations
		gbs := l.Invocations * l.BilledMs / 1000 * float64(l.MemoryMB) / 1024
		add("Lambda duration "+n+" (arm64)", gbs, "GB-seconds", p.LambdaArmGBSecond)
	}
	add("Lambda requests", invocations, "invocations", p.LambdaRequestsPerMillion/1e6)
	add("EventBridge entries", pe.EventBridgeEntries, "entries", p.EventBridgePerMillion/1e6)
	add("DynamoDB writes", pe.DynamoWRU, "write request units", p.DynamoWRUPerMillion/1e6)
	add("DynamoDB reads", pe.DynamoRRU, "read request units", p.DynamoRRUPerMillion/1e6)
	add("SQS requests", pe.SQSRequests, "requests", p.SQSPerMillion/1e6)
	logBytes := pe.LogBytes + pe.LogLines*float64(p.LogsEventOverheadBytes)
	add("CloudWatch Logs ingestion", logBytes, "bytes", p.LogsIngestGB/1e9)
	for _, l := range c.Lines {
		c.USDPerMillion += l.USDPerMillion
	}
	c.USDPerMillion = round(c.USDPerMillion, 4)
	if pe.StoredBytes > 0 {
		c.StorageUSDPerMillionMonth = round(pe.StoredBytes*1e6/1e9*p.DynamoStorageGBMonth, 4)
	}
	return c
}

// billedMs is Lambda's billed duration: rounded up to the millisecond.
func billedMs(d float64) float64 { return math.Ceil(d) }

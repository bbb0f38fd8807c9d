package main

import (
	"maps"
	"math/rand/v2"
	"sync"
	"sync/atomic"
)

// Fault kinds, as chaos.json counts them.
const (
	faultSubscriber5xx     = "subscriber_5xx"
	faultSubscriberTimeout = "subscriber_timeout"
	faultSubscriberDown    = "subscriber_down"
	faultFunctionKilled    = "function_killed"
	faultDynamoThrottled   = "dynamodb_throttled"
	faultPutEventsFailed   = "putevents_entry_failed"
	faultSQSRedelivered    = "sqs_delete_dropped"
)

var faultKinds = []string{
	faultSubscriber5xx, faultSubscriberTimeout, faultSubscriberDown, faultFunctionKilled,
	faultDynamoThrottled, faultPutEventsFailed, faultSQSRedelivered,
}

// rates are the probabilities of the faults decided per request.
type rates struct {
	Throttle   float64 // of a function's DynamoDB request being throttled
	FailEntry  float64 // of a PutEvents entry failing
	DropDelete float64 // of an event source mapping's delete being dropped
}

// injector decides and counts faults. Faults are injected only while it is on: the
// stack's setup and the final drain run clean.
type injector struct {
	rates rates
	on    atomic.Bool
	ops   atomic.Int64 // DynamoDB requests of the functions

	mu     sync.Mutex
	counts map[string]int
	detail map[string]int // finer counts: kills by function, throttles by operation
}

func newInjector(r rates) *injector {
	return &injector{rates: r, counts: map[string]int{}, detail: map[string]int{}}
}

// hit reports whether a fault of the kind happens now, at rate, and counts it.
func (in *injector) hit(kind, detail string, rate float64) bool {
	if !in.on.Load() || rate <= 0 || rand.Float64() >= rate {
		return false
	}
	in.count(kind, detail)
	return true
}

func (in *injector) count(kind, detail string) {
	in.mu.Lock()
	in.counts[kind]++
	if detail != "" {
		in.detail[kind+"/"+detail]++
	}
	in.mu.Unlock()
}

func (in *injector) snapshot() (counts, detail map[string]int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	counts = maps.Clone(in.counts)
	for _, k := range faultKinds {
		counts[k] += 0
	}
	return counts, maps.Clone(in.detail)
}

// The stack's fault hooks.

func (in *injector) throttle(op string) bool {
	in.ops.Add(1)
	return in.hit(faultDynamoThrottled, op, in.rates.Throttle)
}

func (in *injector) dropDelete(op string) bool {
	return in.hit(faultSQSRedelivered, op, in.rates.DropDelete)
}

func (in *injector) failEntry(detailType string) (code, message string) {
	if in.hit(faultPutEventsFailed, detailType, in.rates.FailEntry) {
		return "InternalFailure", "chaos: entry failed by fault injection"
	}
	return "", ""
}

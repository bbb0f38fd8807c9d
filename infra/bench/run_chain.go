package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/eventhub/eventhub/infra/local/stack"
	"github.com/eventhub/eventhub/shared/cloudevent"
)

// chain measures the whole pipeline: POST /events to delivery at the subscriber.
//
// First the latency rounds: events at a steady, moderate rate, each timed from its
// POST to its first delivery; their invocations, requests, log lines and capacity
// units are what the cost is computed from. Then the throughput rounds, each a pair
// made side by side: DynamoDB Local's raw conditional-put rate, then a burst of
// events through the chain until every one has been delivered.
func (h *harness) chain(ctx context.Context, st *stack.Stack, o options, res *Result, ddb, sqs *meter, logf func(string, ...any)) error {
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	var src struct{ Token string }
	if err := admin(ctx, st, http.MethodPost, "/sources", map[string]any{"name": "bench", "format": "cloudevents", "owns": map[string]any{"prefixes": []string{"/bench/"}},
		// The bench measures the chain, not the default rate limit.
		"rateLimit": map[string]any{"perSecond": 100000, "burst": 1000000}}, &src); err != nil {
		return err
	}
	rc, err := newReceiver()
	if err != nil {
		return err
	}
	defer rc.Close()
	var sub struct{ ID string }
	err = admin(ctx, st, http.MethodPost, "/subscriptions", map[string]any{
		"name": "bench", "url": rc.URL, "pattern": map[string]any{"source": []string{"/bench/" + run}},
	}, &sub)
	if err != nil {
		return err
	}
	p := newProducer(st, src.Token, run)

	// Warm every instance the throughput rounds will use, then the code paths.
	for _, fn := range st.Functions {
		for range fn.Config().MaxConcurrency {
			if err := fn.Warm(ctx); err != nil {
				return err
			}
		}
	}
	logf("warming the chain")
	if _, lost, err := paced(ctx, p, rc, 40, 40, 30*time.Second); err != nil || lost > 0 {
		return fmt.Errorf("warm-up: %d events lost: %v", lost, err)
	}
	if err := st.Idle(ctx); err != nil {
		return err
	}

	// Latency rounds, and the usage per event.
	latRounds := o.rounds
	h.record(true)
	ddb.Record(true)
	sqs.Record(true)
	ddb.Take()
	sqs.Take()
	h.logs.take()
	ebBefore := st.Bridge.Stats().Accepted
	var lat Latency
	lat.RatePerS = o.latencyRate
	var perRound [][]sample
	for r := range latRounds {
		ss, lost, err := paced(ctx, p, rc, o.latencyEvents, o.latencyRate, 30*time.Second)
		if err != nil {
			return err
		}
		perRound = append(perRound, ss)
		l := latencies(ss)
		lat.Events += o.latencyEvents
		lat.Lost += lost
		lat.RoundsP50 = append(lat.RoundsP50, round(percentile(l, 50), 1))
		lat.RoundsP99 = append(lat.RoundsP99, round(percentile(l, 99), 1))
		logf("latency round %d/%d at %.0f events/s: p50 %.1f ms, p99 %.1f ms, lost %d", r+1, latRounds, o.latencyRate, percentile(l, 50), percentile(l, 99), lost)
	}
	if err := st.Idle(ctx); err != nil {
		return err
	}
	durations := h.record(false)
	lat.P50Ms, lat.P99Ms = round(median(lat.RoundsP50), 1), round(median(lat.RoundsP99), 1)
	res.Latency, res.ChainP50Ms, res.ChainP99Ms = lat, lat.P50Ms, lat.P99Ms

	n := float64(lat.Events)
	dd, sq := ddb.Take(), sqs.Take()
	ddb.Record(false)
	sqs.Record(false)
	logBytes, logLines := h.logs.take()
	pe := PerEvent{
		APIRequests:        1,
		Lambda:             map[string]LambdaUsage{},
		EventBridgeEntries: round(float64(st.Bridge.Stats().Accepted-ebBefore)/n, 3),
		DynamoWRU:          round(dd.WRU/n, 3),
		DynamoRRU:          round(dd.RRU/n, 3),
		DynamoRequests:     map[string]float64{},
		SQSRequests:        round(float64(sq.Requests)/n, 3),
		LogBytes:           round(float64(logBytes)/n, 1),
		LogLines:           round(float64(logLines)/n, 3),
	}
	pe.DynamoUnitsByOp = map[string]float64{}
	for op, c := range dd.ByOp {
		pe.DynamoRequests[op] = round(float64(c)/n, 3)
	}
	for op, u := range dd.UnitsByOp {
		pe.DynamoUnitsByOp[op] = round(u/n, 3)
	}
	for fn, ds := range durations {
		if len(ds) == 0 {
			continue
		}
		billed := make([]float64, len(ds))
		for i, d := range ds {
			billed[i] = billedMs(d)
		}
		pe.Lambda[short(fn)] = LambdaUsage{
			Invocations: round(float64(len(ds))/n, 3),
			MemoryMB:    h.memory[fn],
			BilledMs:    median(billed),
			MedianMs:    round(median(ds), 2),
			P99Ms:       round(percentile(ds, 99), 2),
		}
	}
	if ss := perRound[len(perRound)-1]; len(ss) > 0 {
		if b, err := storedBytes(ctx, st.DB, st.Table, ddb.gsis[st.Table], cloudevent.Key("/bench/"+run, ss[0].id)); err == nil {
			pe.StoredBytes = float64(b)
		}
	}
	res.Cost = costOf(pe)
	res.CostPerMillionUSD = res.Cost.USDPerMillion
	// The slowest events of the round whose p99 is the median: what the p99 is made of.
	// (After the usage is taken: reading timelines is work of its own.)
	mid := 0
	for i, p99 := range lat.RoundsP99 {
		if abs(p99-lat.P99Ms) < abs(lat.RoundsP99[mid]-lat.P99Ms) {
			mid = i
		}
	}
	res.Latency.SlowestRound = mid + 1
	res.Latency.Slowest = breakdown(ctx, st, run, perRound[mid], 3)

	// Throughput rounds.
	res.Chain.Producers, res.Chain.EventsPerRound = o.producers, o.events
	var ratios, chainRates, rawRates []float64
	tpRounds := max(3, o.rounds/2)
	for r := range tpRounds {
		before := procCPU()
		raw, puts, err := rawPuts(ctx, st.DB, st.Table, run, r, o.producers, 3*time.Second)
		if err != nil {
			return err
		}
		rawCPU := cpuSince(before)
		before = procCPU()
		tr, err := burst(ctx, p, rc, o.events, o.producers, 60*time.Second)
		if err != nil {
			return err
		}
		if err := st.Idle(ctx); err != nil {
			return err
		}
		tr.ChainCPUMs, tr.RawCPUMs = perUnit(cpuSince(before), o.events), perUnit(rawCPU, puts)
		tr.RawPutsPerS = round(raw, 1)
		tr.ChainPerS = round(tr.ChainPerS, 1)
		if raw > 0 {
			tr.Ratio = round(tr.ChainPerS/raw, 4)
		}
		res.Chain.Rounds = append(res.Chain.Rounds, tr)
		res.Chain.Lost += tr.Lost
		ratios, chainRates, rawRates = append(ratios, tr.Ratio), append(chainRates, tr.ChainPerS), append(rawRates, raw)
		logf("throughput round %d/%d: chain %.1f events/s (%d lost, %d duplicate deliveries), raw conditional puts %.0f/s, ratio %.3f",
			r+1, tpRounds, tr.ChainPerS, tr.Lost, tr.DuplicateDeliv, raw, tr.Ratio)
	}
	res.Chain.EventsPerS, res.Chain.RawPutsPerS = round(median(chainRates), 1), round(median(rawRates), 1)
	res.Chain.CPUMsPerEvent, res.Chain.CPUMsPerRawPut = map[string]float64{}, map[string]float64{}
	for _, pick := range []struct {
		dst map[string]float64
		get func(ThroughputRound) map[string]float64
	}{
		{res.Chain.CPUMsPerEvent, func(t ThroughputRound) map[string]float64 { return t.ChainCPUMs }},
		{res.Chain.CPUMsPerRawPut, func(t ThroughputRound) map[string]float64 { return t.RawCPUMs }},
	} {
		byGroup := map[string][]float64{}
		for _, t := range res.Chain.Rounds {
			for g, v := range pick.get(t) {
				byGroup[g] = append(byGroup[g], v)
			}
		}
		for g, vs := range byGroup {
			pick.dst[g] = round(median(vs), 3)
		}
	}
	res.ChainRatio = round(median(ratios), 4)
	if res.Chain.Lost > 0 || lat.Lost > 0 {
		res.ChainRatio = 0 // not every event accounted for: no figure
	}
	return nil
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// short is a function's name as in functions/: IngestFunction -> ingest.
func short(logicalID string) string {
	return strings.ToLower(strings.TrimSuffix(logicalID, "Function"))
}

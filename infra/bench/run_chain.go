package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/eventhub/eventhub/infra/local/eventbridge"
	"github.com/eventhub/eventhub/infra/local/lambda"
	"github.com/eventhub/eventhub/infra/local/stack"
	"github.com/eventhub/eventhub/infra/local/template"
	"github.com/eventhub/eventhub/shared/cloudevent"
)

// subscription is the bench's producer source and its one subscription, to a local
// receiver.
type subscription struct {
	run string
	p   *producer
	rc  *receiver
}

// benchToken is the token of the bench's producer source, which owns the CloudEvents
// sources under /bench/ (issue 13: owned values never overlap, so the chain and the
// scenes share it); registered on first use.
func (h *harness) benchToken(ctx context.Context, st *stack.Stack) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.token != "" {
		return h.token, nil
	}
	var src struct{ Token string }
	if err := admin(ctx, st, http.MethodPost, "/sources", map[string]any{"name": "bench", "format": "cloudevents", "owns": map[string]any{"prefixes": []string{"/bench/"}},
		// The bench measures the chain, not the default rate limit.
		"rateLimit": map[string]any{"perSecond": 100000, "burst": 1000000}}, &src); err != nil {
		return "", err
	}
	h.token = src.Token
	return h.token, nil
}

func (h *harness) subscribe(ctx context.Context, st *stack.Stack, run string) (*subscription, error) {
	token, err := h.benchToken(ctx, st)
	if err != nil {
		return nil, err
	}
	src := struct{ Token string }{token}
	rc, err := newReceiver()
	if err != nil {
		return nil, err
	}
	var sub struct{ ID string }
	err = admin(ctx, st, http.MethodPost, "/subscriptions", map[string]any{
		"name": "bench", "url": rc.URL, "pattern": map[string]any{"source": []string{"/bench/" + run}},
	}, &sub)
	if err != nil {
		rc.Close()
		return nil, err
	}
	return &subscription{run: run, p: newProducer(st, src.Token, run), rc: rc}, nil
}

// benchQueue is the name of the queue the floors and the mix send SQS requests to.
const benchQueue = "eventhub-local-bench"

// coldSetup sends one event through the warm stack to take its bus entries as the
// templates of the functions' first invocations, and starts the cold starts' meters.
func (h *harness) coldSetup(ctx context.Context, st *stack.Stack, sub *subscription, run string, clients map[string][]string, tables []template.Table) (coldSetup, error) {
	cs := coldSetup{meters: map[string]*meter{}, clients: clients, configs: map[string]lambda.Config{}}
	for name, fn := range st.Functions {
		cs.configs[name] = fn.Config()
	}
	q, err := st.SQSClient.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(benchQueue)})
	if err != nil {
		return cs, fmt.Errorf("create the bench's queue: %w", err)
	}
	cs.queueURL = aws.ToString(q.QueueUrl)
	// A bus of the cold starts' own, without rules: what a start puts on the bus is
	// answered as on the stack's, but runs nothing downstream that would compete with
	// the next start for the machine.
	bus, err := serveBus(st.Bus)
	if err != nil {
		return cs, err
	}
	cs.closers = append(cs.closers, bus.Close)
	for svc, endpoint := range map[string]string{"dynamodb": st.DynamoDB, "sqs": st.SQS, "eventbridge": bus.URL, "lambda": st.Lambda} {
		m, err := newMeter(endpoint, svc, h.tables)
		if err != nil {
			return cs, err
		}
		cs.meters[svc] = m
		cs.closers = append(cs.closers, m.Close)
	}
	id, body := sub.p.nextWithID(run + "-cold-template")
	arrived := sub.rc.arrived(id)
	h.tap.arm(true)
	if err := sub.p.send(ctx, body); err != nil {
		return cs, err
	}
	select {
	case <-arrived:
	case <-time.After(30 * time.Second):
		return cs, fmt.Errorf("the cold starts' template event was not delivered in 30 s")
	}
	if err := st.Idle(ctx); err != nil {
		return cs, err
	}
	source := "/bench/" + run
	key := cloudevent.Key(source, id)
	cp := &coldPayloads{run: run, p: sub.p, adminToken: st.AdminToken, templateID: id, templateKey: key, source: source,
		entries: map[string]string{}, keyOf: cloudevent.Key}
	for _, e := range h.tap.arm(false) {
		if strings.Contains(e.Detail, id) || strings.Contains(e.Detail, key) {
			cp.entries[e.DetailType] = e.Detail
		}
	}
	cs.payload = cp.payload
	return cs, nil
}

// chain measures the whole pipeline: POST /events to delivery at the subscriber.
//
// First the latency rounds: events at a steady, moderate rate, each timed from its
// POST to its first delivery; their invocations, requests, log lines and capacity
// units are what the cost is computed from, and the requests the functions made for
// them are the mix (mix.go). Then the throughput rounds, each a pair made side by
// side: the mix replayed straight at the emulators, then a burst of events through
// the chain until every one has been delivered.
func (h *harness) chain(ctx context.Context, st *stack.Stack, sub *subscription, o options, res *Result, meters map[string]*meter, workDir string, logf func(string, ...any)) error {
	run, p, rc := sub.run, sub.p, sub.rc

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
	for _, m := range meters {
		m.Record(true)
		m.Take()
		m.Trace(true)
	}
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
	var trace []captured
	for _, m := range meters {
		trace = append(trace, m.Trace(false)...)
	}
	mx := newMix(lat.Events, trace)
	dd, sq := meters["dynamodb"].Take(), meters["sqs"].Take()
	meters["eventbridge"].Take()
	for _, m := range meters {
		m.Record(false)
	}
	logBytes, logLines := h.logs.take()
	pe := perEvent(n, dd, sq, float64(st.Bridge.Stats().Accepted-ebBefore), logBytes, logLines)
	pe.APIRequests = 1
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
		if b, err := storedBytes(ctx, st.DB, st.Table, meters["dynamodb"].gsis[st.Table], cloudevent.Key("/bench/"+run, ss[0].id)); err == nil {
			pe.StoredBytes = float64(b)
		}
	}
	res.Cost = costOf(pe, shortMemory(h.memory))
	res.CostPerMillionUSD, res.CostFloorUSD = res.Cost.USDPerMillion, res.Cost.FloorUSD
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

	// Throughput rounds: the mix straight at the emulators, then the chain.
	q, err := st.SQSClient.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(benchQueue)})
	if err != nil {
		return fmt.Errorf("create the bench's queue: %w", err)
	}
	ep := endpoints{
		byService: map[string]string{"dynamodb": st.DynamoDB, "sqs": st.SQS, "eventbridge": st.EventBridge},
		queueURL:  aws.ToString(q.QueueUrl),
	}
	res.Chain.Producers, res.Chain.EventsPerRound, res.Chain.MixEvents = o.producers, o.events, mx.events
	res.Chain.Mix = mx.PerEvent()
	var ratios, chainRates, mixRates []float64
	tpRounds := max(3, o.rounds/2)
	for r := range tpRounds {
		before := procCPU()
		mixRate, failed, err := mx.replay(ctx, ep, run+"m"+strconv.Itoa(r), o.producers)
		if err != nil {
			return err
		}
		mixCPU := cpuSince(before)
		before = procCPU()
		tr, err := burst(ctx, p, rc, o.events, o.producers, 60*time.Second)
		if err != nil {
			return err
		}
		if err := st.Idle(ctx); err != nil {
			return err
		}
		tr.ChainCPUMs, tr.MixCPUMs = perUnit(cpuSince(before), o.events), perUnit(mixCPU, mx.events)
		tr.MixPerS, tr.MixFailed = round(mixRate, 1), failed
		tr.ChainPerS = round(tr.ChainPerS, 1)
		if mixRate > 0 {
			tr.Ratio = round(tr.ChainPerS/mixRate, 4)
		}
		res.Chain.Rounds = append(res.Chain.Rounds, tr)
		res.Chain.Lost += tr.Lost
		ratios, chainRates, mixRates = append(ratios, tr.Ratio), append(chainRates, tr.ChainPerS), append(mixRates, mixRate)
		logf("throughput round %d/%d: chain %.1f events/s (%d lost, %d duplicate deliveries), its requests straight at the emulators %.0f events/s (%d refused), ratio %.3f",
			r+1, tpRounds, tr.ChainPerS, tr.Lost, tr.DuplicateDeliv, mixRate, failed, tr.Ratio)
	}
	res.Chain.EventsPerS, res.Chain.MixPerS = round(median(chainRates), 1), round(median(mixRates), 1)

	// One more burst, not measured, with the functions' processes profiled.
	res.Chain.Profile, res.Chain.ProfileNote, err = profileFunctions(ctx, filepath.Join(workDir, "perf"), o.events, func() error {
		tr, err := burst(ctx, p, rc, o.events, o.producers, 60*time.Second)
		if err == nil && tr.Lost > 0 {
			err = fmt.Errorf("profiled burst: %d events lost", tr.Lost)
		}
		if err != nil {
			return err
		}
		return st.Idle(ctx)
	})
	if err != nil {
		return err
	}
	res.Chain.CPUMsPerEvent, res.Chain.CPUMsPerMixEvent = map[string]float64{}, map[string]float64{}
	for _, pick := range []struct {
		dst map[string]float64
		get func(ThroughputRound) map[string]float64
	}{
		{res.Chain.CPUMsPerEvent, func(t ThroughputRound) map[string]float64 { return t.ChainCPUMs }},
		{res.Chain.CPUMsPerMixEvent, func(t ThroughputRound) map[string]float64 { return t.MixCPUMs }},
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
	// The four pipeline functions' CPU: the median over rounds of their sum.
	res.Chain.FunctionsCPUMs = map[string]float64{}
	var sums []float64
	for _, t := range res.Chain.Rounds {
		sum := 0.0
		for _, fn := range pipelineFunctions {
			sum += t.ChainCPUMs[fn]
		}
		sums = append(sums, sum)
	}
	for _, fn := range pipelineFunctions {
		res.Chain.FunctionsCPUMs[fn] = res.Chain.CPUMsPerEvent[fn]
	}
	res.FunctionsCPUMsPerEvent = round(median(sums), 3)
	res.ChainRatio = round(median(ratios), 4)
	if res.Chain.Lost > 0 || lat.Lost > 0 {
		res.ChainRatio = 0 // not every event accounted for: no figure
	}
	res.Chain.Reason = chainReason(res.Chain)
	return nil
}

// pipelineFunctions are eventhub's functions on an event's way.
var pipelineFunctions = []string{"ingest", "normalize", "persist", "notify"}

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

// chainReason is where an event's CPU goes in the chain and in the mix: on a machine
// whose cores every process shares, the rates follow the CPU each event takes.
func chainReason(c ChainFigures) string {
	total := func(m map[string]float64) float64 {
		t := 0.0
		for _, v := range m {
			t += v
		}
		return t
	}
	chain, mix := total(c.CPUMsPerEvent), total(c.CPUMsPerMixEvent)
	if chain == 0 {
		return ""
	}
	return fmt.Sprintf("CPU per event: the chain %.2f ms (%s), its requests alone %.2f ms (%s): %.1f times as much, on the same two cores",
		chain, groups(c.CPUMsPerEvent), mix, groups(c.CPUMsPerMixEvent), chain/mix)
}

// groups lists CPU by process group, largest first.
func groups(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmpFloat(m[b], m[a]) })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %.2f", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// cpuReason is where the functions' CPU per event goes.
func cpuReason(cpu map[string]float64, usage map[string]LambdaUsage) string {
	var parts []string
	for _, fn := range pipelineFunctions {
		parts = append(parts, fmt.Sprintf("%s %.2f ms (median invocation %.2f ms)", fn, cpu[fn], usage[fn].MedianMs))
	}
	return "CPU per event: " + strings.Join(parts, ", ")
}

// shortMemory is the functions' memory by short name.
func shortMemory(byID map[string]int) map[string]int {
	out := map[string]int{}
	for id, mb := range byID {
		out[short(id)] = mb
	}
	return out
}

// ruleless is an EventBridge emulator with the stack's bus and no rules.
type ruleless struct {
	URL string
	srv *http.Server
	em  *eventbridge.Emulator
}

func serveBus(name string) (*ruleless, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	em := eventbridge.New([]string{name}, nil, eventbridge.Options{Account: stack.Account, Region: stack.Region})
	b := &ruleless{URL: "http://" + ln.Addr().String(), srv: &http.Server{Handler: em}, em: em}
	go func() { _ = b.srv.Serve(ln) }()
	return b, nil
}

func (b *ruleless) Close() error { return errors.Join(b.srv.Close(), b.em.Close()) }

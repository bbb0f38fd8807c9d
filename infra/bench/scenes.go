package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventhub/eventhub/infra/local/stack"
)

// Issue 15's scenes, each on the stack the chain phase used (or a fresh one):
//
//   - fanout: every event is delivered to 1,000 subscriptions: how long until the
//     1,000th delivery of an event, and what a million such events cost.
//   - isolation: 20 subscriptions whose endpoints never answer get 1,000 events while a
//     healthy subscriber gets its own at a steady rate: the healthy subscriber's
//     latency (POST to delivery), what the flood costs, and what the isolation design
//     adds.
//
// make bench ARGS="-phases fanout,isolation" runs only these.

// Scenes are the scenes' figures in bench.json.
type Scenes struct {
	Fanout    *FanoutScene    `json:"fanout_1000,omitempty"`
	Isolation *IsolationScene `json:"isolation,omitempty"`
}

// FanoutScene is delivery to 1,000 subscriptions per event.
type FanoutScene struct {
	Subscriptions int     `json:"subscriptions"`
	Events        int     `json:"events"`
	RatePerS      float64 `json:"rate_per_s"`
	// From POST to the last of the event's 1,000 deliveries.
	P50Ms float64 `json:"all_delivered_p50_ms"`
	P99Ms float64 `json:"all_delivered_p99_ms"`
	Lost  int     `json:"deliveries_lost"`
	// Read units per event spent on the subscriptions, over the scene's few events:
	// each warm notify instance reads the set once after the 1,000 were created
	// (SetReadUnits), then only the version item, at most once a second.
	SetReadUnits      float64 `json:"subscription_set_read_units_per_event"`
	VersionReadUnits  float64 `json:"subscription_version_read_units_per_event"`
	CostPerMillionUSD float64 `json:"cost_per_million_events_usd"`
	Cost              Cost    `json:"cost"`
}

// IsolationScene is the healthy subscriber's experience beside hanging ones.
type IsolationScene struct {
	HangingSubscriptions int     `json:"hanging_subscriptions"`
	FloodEvents          int     `json:"flood_events"`
	FloodRatePerS        float64 `json:"flood_rate_per_s"`
	HealthyEvents        int     `json:"healthy_events"`
	HealthyRatePerS      float64 `json:"healthy_rate_per_s"`
	HealthyP50Ms         float64 `json:"healthy_p50_ms"`
	HealthyP99Ms         float64 `json:"healthy_p99_ms"`
	HealthyLost          int     `json:"healthy_lost"`
	// The same flood and healthy events with no subscription to the flood: what the
	// flood's own way through the pipeline costs the healthy subscriber.
	BaselineP50Ms float64 `json:"baseline_healthy_p50_ms"`
	BaselineP99Ms float64 `json:"baseline_healthy_p99_ms"`
	// Hanging attempts made, and open, when the healthy subscriber had everything.
	HangingAttempts int `json:"hanging_attempts_by_then"`
	HangingOpen     int `json:"hanging_open_by_then"`
	// The longest notify invocation on Event Stored during the flood: bounded by the
	// first-attempt timeout, not by the hanging subscriptions' own.
	NotifyStoredMaxMs float64 `json:"notify_event_stored_max_ms"`
	// Cost of a million events of the flood, each matched by the 20 hanging
	// subscriptions, up to their hand-over (the retry queue's attempts, which wait the
	// subscriptions' timeout, are RetryLane).
	CostPerMillionUSD float64   `json:"cost_per_million_events_usd"`
	Cost              Cost      `json:"cost"`
	RetryLane         RetryLane `json:"retry_lane"`
}

// RetryLane is what waiting for a hanging endpoint costs on the retry queue, which
// any design pays (before isolation, the Event Stored invocation waited instead).
type RetryLane struct {
	TimeoutS            float64 `json:"subscription_timeout_s"`
	AttemptsPerBatch    int     `json:"attempts_per_invocation"`
	GBSecondsPerAttempt float64 `json:"gb_s_per_hanging_attempt"`
	USDPerMillion       float64 `json:"usd_per_million_hanging_attempts"`
}

// scenes runs the scenes o.phases asks for and puts their figures in res.Scenes.
func (h *harness) scenes(ctx context.Context, st *stack.Stack, o options, res *Result, meters map[string]*meter, logf func(string, ...any)) error {
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	token, err := h.benchToken(ctx, st)
	if err != nil {
		return err
	}
	src := struct{ Token string }{token}
	if err := h.warm(ctx, st, src.Token, run); err != nil {
		return err
	}
	if o.phases["fanout"] {
		f, err := h.fanout(ctx, st, src.Token, run, meters, logf)
		if err != nil {
			return fmt.Errorf("fanout scene: %w", err)
		}
		res.Scenes.Fanout = f
	}
	if o.phases["isolation"] {
		is, err := h.isolation(ctx, st, src.Token, run, meters, logf)
		if err != nil {
			return fmt.Errorf("isolation scene: %w", err)
		}
		res.Scenes.Isolation = is
	}
	return nil
}

// warm starts every instance and sends events through the chain, as the chain phase
// does, in case the scenes run alone.
func (h *harness) warm(ctx context.Context, st *stack.Stack, token, run string) error {
	for _, fn := range st.Functions {
		for range fn.Config().MaxConcurrency {
			if err := fn.Warm(ctx); err != nil {
				return err
			}
		}
	}
	rc, err := newReceiver()
	if err != nil {
		return err
	}
	defer rc.Close()
	var sub struct{ ID string }
	if err := admin(ctx, st, http.MethodPost, "/subscriptions", map[string]any{
		"name": "bench warm", "url": rc.URL, "pattern": map[string]any{"source": []string{"/bench/warm-" + run}},
	}, &sub); err != nil {
		return err
	}
	defer deleteSubs(ctx, st, []string{sub.ID})
	if _, lost, err := paced(ctx, newProducer(st, token, "warm-"+run), rc, 40, 40, 30*time.Second); err != nil || lost > 0 {
		return fmt.Errorf("warm-up: %d events lost: %v", lost, err)
	}
	return st.Idle(ctx)
}

// usage is what the meters and the stack recorded between start and stop.
type usage struct {
	h        *harness
	st       *stack.Stack
	meters   map[string]*meter
	ebBefore int64
}

func (h *harness) startUsage(st *stack.Stack, meters map[string]*meter) *usage {
	h.record(true)
	for _, m := range meters {
		m.Record(true)
		m.Take()
	}
	h.logs.take()
	return &usage{h: h, st: st, meters: meters, ebBefore: int64(st.Bridge.Stats().Accepted)}
}

// stop returns the usage per event over n events, and every invocation's duration by
// function; invocations that skip says to leave out are not counted in the usage.
func (u *usage) stop(n float64, apiRequests float64, skip func(fn string, ms float64) bool) (PerEvent, map[string][]float64) {
	durations := u.h.record(false)
	dd, sq := u.meters["dynamodb"].Take(), u.meters["sqs"].Take()
	for _, m := range u.meters {
		m.Take()
		m.Record(false)
	}
	logBytes, logLines := u.h.logs.take()
	pe := perEvent(n, dd, sq, float64(int64(u.st.Bridge.Stats().Accepted)-u.ebBefore), logBytes, logLines)
	pe.APIRequests = round(apiRequests/n, 4)
	for fn, ds := range durations {
		var kept, billed []float64
		for _, d := range ds {
			if skip != nil && skip(fn, d) {
				continue
			}
			kept = append(kept, d)
			billed = append(billed, billedMs(d))
		}
		if len(kept) == 0 {
			continue
		}
		// The mean, not the median: a fan-out's invocations differ too much.
		pe.Lambda[short(fn)] = LambdaUsage{
			Invocations: round(float64(len(kept))/n, 3),
			MemoryMB:    u.h.memory[fn],
			BilledMs:    round(mean(billed), 1),
			MedianMs:    round(median(kept), 2),
			P99Ms:       round(percentile(kept, 99), 2),
		}
	}
	return pe, durations
}

// perEvent is what the meters took over n events, per event: the API requests and
// the Lambda usage are the caller's to fill in.
func perEvent(n float64, dd, sq Usage, entries float64, logBytes, logLines int) PerEvent {
	pe := PerEvent{
		Lambda:             map[string]LambdaUsage{},
		EventBridgeEntries: round(entries/n, 3),
		DynamoWRU:          round(dd.WRU/n, 3),
		DynamoRRU:          round(dd.RRU/n, 3),
		DynamoRequests:     map[string]float64{},
		DynamoUnitsByOp:    map[string]float64{},
		DynamoUnits:        map[string]float64{},
		SQSRequests:        round(float64(sq.Requests)/n, 3),
		LogBytes:           round(float64(logBytes)/n, 1),
		LogLines:           round(float64(logLines)/n, 3),
	}
	for op, c := range dd.ByOp {
		pe.DynamoRequests[op] = round(float64(c)/n, 3)
	}
	for op, v := range dd.UnitsByOp {
		pe.DynamoUnitsByOp[op] = round(v/n, 3)
	}
	for k, v := range dd.Units {
		pe.DynamoUnits[k] = round(v/n, 3)
	}
	return pe
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// countingReceiver acknowledges at once and counts deliveries by CloudEvents id,
// noting when each id reached want deliveries.
type countingReceiver struct {
	URL string
	srv *http.Server

	mu    sync.Mutex
	want  int
	count map[string]int
	done  map[string]time.Time
}

func newCountingReceiver(want int) (*countingReceiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rc := &countingReceiver{URL: "http://" + ln.Addr().String(), want: want, count: map[string]int{}, done: map[string]time.Time{}}
	rc.srv = &http.Server{Handler: rc}
	go func() { _ = rc.srv.Serve(ln) }()
	return rc, nil
}

func (rc *countingReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get("X-Event-Id") // not sent: the id is read from the body
	body, _ := io.ReadAll(r.Body)
	if i := strings.Index(string(body), `"id":"`); i >= 0 {
		rest := string(body[i+6:])
		id = rest[:strings.IndexByte(rest, '"')]
	}
	w.WriteHeader(http.StatusNoContent)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.count[id]++
	if rc.count[id] == rc.want {
		rc.done[id] = time.Now()
	}
}

func (rc *countingReceiver) doneAt(id string) (time.Time, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	t, ok := rc.done[id]
	return t, ok
}

func (rc *countingReceiver) Close() error { return rc.srv.Close() }

func deleteSubs(ctx context.Context, st *stack.Stack, ids []string) {
	for _, id := range ids {
		req, err := http.NewRequestWithContext(ctx, http.MethodDelete, st.APIURL+"/subscriptions/"+id, nil)
		if err != nil {
			continue
		}
		req.Header.Set("Authorization", "Bearer "+st.AdminToken)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
}

// createSubs creates n subscriptions with the fields (name is added), 16 at a time.
func createSubs(ctx context.Context, st *stack.Stack, n int, fields func(i int) map[string]any) ([]string, error) {
	ids := make([]string, n)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	sem := make(chan struct{}, 16)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			f := fields(i)
			f["name"] = "bench " + strconv.Itoa(i)
			var sub struct{ ID string }
			if err := admin(ctx, st, http.MethodPost, "/subscriptions", f, &sub); err != nil {
				firstErr.CompareAndSwap(nil, err)
				return
			}
			ids[i] = sub.ID
		})
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return ids, err
	}
	return ids, nil
}

// postJSON POSTs a CloudEvent or a batch of them with the producer token.
func postJSON(ctx context.Context, st *stack.Stack, token, contentType, body string) error {
	p := &producer{api: st.APIURL, token: token, client: http.DefaultClient}
	return p.sendAs(ctx, contentType, []byte(body))
}

// The fanout scene: fanoutEvents events at fanoutRate per second, each matched by
// all fanoutSubs subscriptions to one receiver.
const (
	fanoutSubs   = 1000
	fanoutEvents = 10
	fanoutRate   = 0.25 // one every 4 s: the time of one fan-out, not a queue of them
)

func (h *harness) fanout(ctx context.Context, st *stack.Stack, token, run string, meters map[string]*meter, logf func(string, ...any)) (*FanoutScene, error) {
	rc, err := newCountingReceiver(fanoutSubs)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	source := "/bench/fanout-" + run
	logf("fanout: creating %d subscriptions", fanoutSubs)
	ids, err := createSubs(ctx, st, fanoutSubs, func(i int) map[string]any {
		return map[string]any{"url": rc.URL + "/s" + strconv.Itoa(i), "pattern": map[string]any{"source": []string{source}}}
	})
	defer deleteSubs(context.WithoutCancel(ctx), st, ids)
	if err != nil {
		return nil, err
	}
	time.Sleep(1100 * time.Millisecond) // SubscriptionsMaxAgeSeconds: warm notify instances see them

	u := h.startUsage(st, meters)
	sent := make([]time.Time, fanoutEvents)
	interval := time.Duration(float64(time.Second) / fanoutRate)
	start := time.Now()
	for i := range fanoutEvents {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		sent[i] = time.Now()
		body := fmt.Sprintf(`{"specversion":"1.0","id":"f-%d","source":%q,"type":"bench.fanout","data":{"n":%d}}`, i, source, i)
		if err := postJSON(ctx, st, token, "application/cloudevents+json", body); err != nil {
			return nil, err
		}
	}
	deadline := time.Now().Add(3 * time.Minute)
	var lat []float64
	lost := 0
	for i := range fanoutEvents {
		id := "f-" + strconv.Itoa(i)
		for {
			if at, ok := rc.doneAt(id); ok {
				lat = append(lat, ms(at.Sub(sent[i])))
				break
			}
			if time.Now().After(deadline) {
				rc.mu.Lock()
				lost += fanoutSubs - rc.count[id]
				rc.mu.Unlock()
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if err := st.Idle(ctx); err != nil {
		return nil, err
	}
	pe, _ := u.stop(fanoutEvents, fanoutEvents, nil)
	f := &FanoutScene{
		Subscriptions: fanoutSubs, Events: fanoutEvents, RatePerS: fanoutRate,
		P50Ms: round(percentile(lat, 50), 1), P99Ms: round(percentile(lat, 99), 1), Lost: lost,
		SetReadUnits:     pe.DynamoUnits["read SUBS Query|table"],
		VersionReadUnits: pe.DynamoUnits["read SUBSVER GetItem|table"],
		Cost:             costOf(pe, shortMemory(h.memory)),
	}
	f.CostPerMillionUSD = f.Cost.USDPerMillion
	logf("fanout: %d events to %d subscriptions each: all delivered p50 %.0f ms, p99 %.0f ms, %d deliveries lost; $%.2f per million events",
		fanoutEvents, fanoutSubs, f.P50Ms, f.P99Ms, lost, f.CostPerMillionUSD)
	return f, nil
}

// The isolation scene.
const (
	isoHanging       = 20
	isoFlood         = 1000
	isoFloodRate     = 50.0 // in batches of 10, over 20 s
	isoHealthy       = 200  // over the same 20 s
	isoHealthyRate   = 10.0
	isoHangTimeoutS  = 10
	isoFirstTimeoutS = 2 // the template's FirstAttemptTimeoutSeconds
)

func (h *harness) isolation(ctx context.Context, st *stack.Stack, token, run string, meters map[string]*meter, logf func(string, ...any)) (*IsolationScene, error) {
	var mu sync.Mutex
	opened, open := 0, 0
	release := make(chan struct{})
	hang := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		opened++
		open++
		mu.Unlock()
		defer func() { mu.Lock(); open--; mu.Unlock() }()
		_, _ = io.Copy(io.Discard, r.Body) // then the server notices notify giving up
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() { _ = hang.Serve(ln) }()
	defer hang.Close()
	defer close(release)

	rc, err := newReceiver()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	hangType := "bench.iso.hang." + run
	ids, err := createSubs(ctx, st, isoHanging, func(i int) map[string]any {
		return map[string]any{"url": "http://" + ln.Addr().String() + "/h" + strconv.Itoa(i), "pattern": map[string]any{"type": []string{hangType}},
			"timeout": isoHangTimeoutS, "retry": []string{"1h"}}
	})
	defer deleteSubs(context.WithoutCancel(ctx), st, ids)
	if err != nil {
		return nil, err
	}
	healthyRun := "iso-" + run
	var ok struct{ ID string }
	if err := admin(ctx, st, http.MethodPost, "/subscriptions", map[string]any{
		"name": "bench healthy", "url": rc.URL, "pattern": map[string]any{"source": []map[string]string{{"prefix": "/bench/" + healthyRun + "-"}}},
	}, &ok); err != nil {
		return nil, err
	}
	defer deleteSubs(context.WithoutCancel(ctx), st, []string{ok.ID})
	time.Sleep(1100 * time.Millisecond) // SubscriptionsMaxAgeSeconds

	// The flood, at isoFloodRate in batches of 10, while the healthy events go at
	// their own rate; their latencies.
	scene := func(name, floodType string) ([]sample, int, error) {
		floodErr := make(chan error, 1)
		go func() {
			interval := time.Duration(float64(10*time.Second) / isoFloodRate)
			start := time.Now()
			for from := 0; from < isoFlood; from += 10 {
				time.Sleep(time.Until(start.Add(time.Duration(from/10) * interval)))
				parts := make([]string, 10)
				for i := range parts {
					parts[i] = fmt.Sprintf(`{"specversion":"1.0","id":"%s-%d","source":"/bench/flood-%s","type":%q}`, name, from+i, run, floodType)
				}
				if err := postJSON(ctx, st, token, "application/cloudevents-batch+json", "["+strings.Join(parts, ",")+"]"); err != nil {
					floodErr <- err
					return
				}
			}
			floodErr <- nil
		}()
		ss, lost, err := paced(ctx, newProducer(st, token, healthyRun+"-"+name), rc, isoHealthy, isoHealthyRate, 2*time.Minute)
		return ss, lost, errors.Join(err, <-floodErr)
	}
	logf("isolation: baseline, %d events at %.0f/s that nobody subscribes to, and %d for a healthy subscriber at %.0f/s", isoFlood, isoFloodRate, isoHealthy, isoHealthyRate)
	base, _, err := scene("base", "bench.iso.nobody."+run)
	if err != nil {
		return nil, err
	}
	if err := st.Idle(ctx); err != nil {
		return nil, err
	}

	logf("isolation: %d events at %.0f/s for %d hanging subscriptions, and %d for a healthy one at %.0f/s", isoFlood, isoFloodRate, isoHanging, isoHealthy, isoHealthyRate)
	u := h.startUsage(st, meters)
	ss, lost, err := scene("hang", hangType)
	if err != nil {
		return nil, err
	}
	mu.Lock()
	attempts, openNow := opened, open
	mu.Unlock()
	if err := st.Idle(ctx); err != nil { // the bus and Event Stored: the retry queue goes on
		return nil, err
	}
	// Invocations that waited on hanging endpoints from the retry queue take about
	// their timeout; they are RetryLane's, not the flood's.
	lane := func(fn string, d float64) bool { return fn == "NotifyFunction" && d >= (isoFirstTimeoutS+1)*1000 }
	pe, durations := u.stop(isoFlood+isoHealthy, isoFlood/10+isoHealthy, lane)
	var storedMax float64
	laneInvocations := 0
	for _, d := range durations["NotifyFunction"] {
		if lane("NotifyFunction", d) {
			laneInvocations++
			continue
		}
		storedMax = max(storedMax, d)
	}
	is := &IsolationScene{
		HangingSubscriptions: isoHanging, FloodEvents: isoFlood, FloodRatePerS: isoFloodRate, HealthyEvents: isoHealthy, HealthyRatePerS: isoHealthyRate,
		HealthyP50Ms: round(percentile(latencies(ss), 50), 1), HealthyP99Ms: round(percentile(latencies(ss), 99), 1), HealthyLost: lost,
		BaselineP50Ms: round(percentile(latencies(base), 50), 1), BaselineP99Ms: round(percentile(latencies(base), 99), 1),
		HangingAttempts: attempts, HangingOpen: openNow,
		NotifyStoredMaxMs: round(storedMax, 1),
		Cost:              costOf(pe, shortMemory(h.memory)),
	}
	is.CostPerMillionUSD = is.Cost.USDPerMillion
	mem := float64(h.memory["NotifyFunction"]) / 1024
	// The template's NotifyDeliveryRetry gathers up to 100 messages a batch.
	is.RetryLane = RetryLane{TimeoutS: isoHangTimeoutS, AttemptsPerBatch: 100, GBSecondsPerAttempt: round(isoHangTimeoutS*mem/100, 5)}
	is.RetryLane.USDPerMillion = round(is.RetryLane.GBSecondsPerAttempt*Prices.LambdaArmGBSecond*1e6, 2)
	logf("isolation: healthy p50 %.0f ms, p99 %.0f ms (%d lost; without the hanging subscriptions p50 %.0f ms, p99 %.0f ms); %d hanging attempts made, %d open, by then; longest notify on Event Stored %.0f ms; %d retry-queue invocations waited on hanging endpoints",
		is.HealthyP50Ms, is.HealthyP99Ms, lost, is.BaselineP50Ms, is.BaselineP99Ms, attempts, openNow, storedMax, laneInvocations)
	return is, nil
}

// printScenes adds the scenes to the summary.
func printScenes(w io.Writer, r *Result) {
	if f := r.Scenes.Fanout; f != nil {
		fmt.Fprintf(w, "\nDelivery to %d subscriptions per event (%d events, one every %.0f s)\n", f.Subscriptions, f.Events, 1/f.RatePerS)
		fmt.Fprintf(w, "  all %d delivered: p50 %.0f ms, p99 %.0f ms; %d deliveries lost; subscriptions read per event: %.3f units of the set, %.3f of its version\n",
			f.Subscriptions, f.P50Ms, f.P99Ms, f.Lost, f.SetReadUnits, f.VersionReadUnits)
		printCost(w, f.Cost)
	}
	if is := r.Scenes.Isolation; is != nil {
		fmt.Fprintf(w, "\nIsolation: %d hanging subscriptions get %d events at %.0f/s while a healthy one gets %d at %.0f/s\n",
			is.HangingSubscriptions, is.FloodEvents, is.FloodRatePerS, is.HealthyEvents, is.HealthyRatePerS)
		fmt.Fprintf(w, "  healthy subscriber: p50 %.0f ms, p99 %.0f ms, %d lost; by then %d hanging attempts made, %d open\n",
			is.HealthyP50Ms, is.HealthyP99Ms, is.HealthyLost, is.HangingAttempts, is.HangingOpen)
		fmt.Fprintf(w, "  the same with nobody subscribed to the flood: p50 %.0f ms, p99 %.0f ms\n", is.BaselineP50Ms, is.BaselineP99Ms)
		fmt.Fprintf(w, "  notify on Event Stored: longest invocation %.0f ms (first attempts wait at most %d s)\n", is.NotifyStoredMaxMs, isoFirstTimeoutS)
		fmt.Fprintf(w, "  retry queue, per hanging attempt (%.0f s timeout, up to %d per invocation): %.5f GB-s, $%.2f per million\n",
			is.RetryLane.TimeoutS, is.RetryLane.AttemptsPerBatch, is.RetryLane.GBSecondsPerAttempt, is.RetryLane.USDPerMillion)
		printCost(w, is.Cost)
	}
}

func printCost(w io.Writer, c Cost) {
	fmt.Fprintf(w, "  cost of a million events: $%.2f\n", c.USDPerMillion)
	lines := append([]CostLine(nil), c.Lines...)
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].USDPerMillion > lines[j].USDPerMillion })
	for _, l := range lines {
		if l.USDPerMillion == 0 && l.PerEvent == 0 {
			continue
		}
		fmt.Fprintf(w, "    %-40s %10.4g %-20s $%9.3f\n", l.Item, l.PerEvent, l.Unit+"/event", l.USDPerMillion)
	}
}

// sceneTargets are issue 15's goals.
func sceneTargets(r *Result) []Target {
	var out []Target
	if is := r.Scenes.Isolation; is != nil {
		out = append(out, Target{Key: "isolation_healthy_p99_ms", Value: is.HealthyP99Ms, Goal: "< 2,000", Met: is.HealthyP99Ms > 0 && is.HealthyP99Ms < 2000 && is.HealthyLost == 0,
			Why: "the first event for the hanging subscriptions holds each local notify instance (four) for the first-attempt timeout"})
	}
	if f := r.Scenes.Fanout; f != nil {
		out = append(out, Target{Key: "fanout_1000_lost", Value: float64(f.Lost), Goal: "0 deliveries lost", Met: f.Lost == 0})
	}
	return out
}

// Command chaos runs eventhub's local stack under load while it injects faults, then
// checks that the books balance: every accepted event stored exactly once, and
// delivered or dead-lettered for every subscription it matches.
//
//	go run ./infra/chaos [-events 20000] [-rate 60] [-timeout 9m30s]
//
// Faults, while the load runs: subscribers answering 5xx, answering too late, and
// going down for a window; function processes killed in the middle of an invocation
// (the local runtime then behaves as Lambda: the rule's and Lambda's retries);
// DynamoDB throttling (ProvisionedThroughputExceededException from a proxy in front
// of DynamoDB Local); PutEvents partial failures from the bus emulator; SQS
// redelivery (deletes of the event source mapping dropped). Everything listens on
// loopback, and the run stops by itself at -timeout.
//
// The ledger is read from the system itself: stored events from the table (directly,
// not through the fault proxy), deliveries from the subscribers (by webhook-id) and
// the delivery records, dead letters from the delivery dead-letter queue, and the
// pipeline dead-letter queue, which should stay empty. It is printed and written to
// .eventhub/chaos.json; the exit status is 1 when the books do not balance.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventhub/eventhub/infra/local/eventbridge"
	"github.com/eventhub/eventhub/infra/local/stack"
)

type config struct {
	events      int
	rate        float64
	batch       int
	backlog     int
	producers   int
	concurrency int
	timeout     time.Duration
	drain       time.Duration // kept for the drain and the ledger at the end
	killEvery   time.Duration
	visibility  time.Duration
	rates       rates
	out         string
	seed        uint64
	cpuProfile  string
}

func parseFlags() config {
	var c config
	flag.IntVar(&c.events, "events", 20000, "events to send")
	flag.Float64Var(&c.rate, "rate", 100, "events per second offered at most")
	flag.IntVar(&c.batch, "batch", 10, "events per POST /events")
	flag.IntVar(&c.backlog, "backlog", 400, "sending pauses while more events than this are in flight in the pipeline")
	flag.IntVar(&c.producers, "producers", 4, "concurrent producer connections")
	flag.IntVar(&c.concurrency, "concurrency", 12, "instances per function (MaxConcurrency): notify waits on DynamoDB and subscribers, more instances keep it up")
	flag.DurationVar(&c.timeout, "timeout", 9*time.Minute+30*time.Second, "the whole run stops by then")
	flag.DurationVar(&c.drain, "drain", 2*time.Minute, "time kept at the end to let retries finish and read the ledger")
	flag.DurationVar(&c.killEvery, "kill-every", 1500*time.Millisecond, "how often a busy function process is killed")
	flag.DurationVar(&c.visibility, "visibility", 35*time.Second, "visibility timeout of the delivery retry queue (the template's is 6 minutes; keep it above the 31 s lease of an attempt)")
	flag.Float64Var(&c.rates.Throttle, "throttle", 0.004, "share of the functions' DynamoDB requests throttled")
	flag.Float64Var(&c.rates.FailEntry, "fail-entry", 0.005, "share of PutEvents entries failed")
	flag.Float64Var(&c.rates.DropDelete, "drop-delete", 0.05, "share of the retry queue's messages whose delete is dropped (redelivery)")
	flag.StringVar(&c.out, "out", "", "where to write the ledger (default .eventhub/chaos.json)")
	flag.Uint64Var(&c.seed, "seed", uint64(time.Now().UnixNano()), "seed of the event mix")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the harness process (the stack's emulators included) to this file")
	flag.Parse()
	return c
}

func main() {
	cfg := parseFlags()
	root, err := stack.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
	if cfg.out == "" {
		cfg.out = filepath.Join(root, ".eventhub", "chaos.json")
	}
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "chaos:", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()

	r, err := run(ctx, root, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
	r.print(os.Stdout)
	if err := r.write(cfg.out); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
	fmt.Printf("ledger written to %s\n", cfg.out)
	pprof.StopCPUProfile()
	if !r.Balanced {
		os.Exit(1)
	}
}

// subscription is one of the run's subscriptions: its pattern, the event types it
// must receive by the harness's own reading of that pattern, and its subscriber.
type subscription struct {
	name    string
	pattern string
	types   []string
	retry   []string
	b       behaviour
	id      string
	sub     *subscriber
}

// The event mix: types and their weights.
var mix = []struct {
	typ    string
	weight int
}{{"chaos.order", 30}, {"chaos.payment", 30}, {"chaos.user", 34}, {"chaos.audit", 6}}

func subscriptions() []*subscription {
	retry := []string{"500ms", "1s", "2s", "4s"}
	return []*subscription{
		{name: "orders", pattern: `{"type":["chaos.order"]}`, types: []string{"chaos.order"}, retry: retry,
			b: behaviour{Fail5xx: 0.05, Slow: 0.01}},
		{name: "commerce", pattern: `{"type":["chaos.order","chaos.payment"]}`, types: []string{"chaos.order", "chaos.payment"}, retry: retry,
			b: behaviour{Fail5xx: 0.02, Slow: 0.01, Outage: 2 * time.Second, Every: 15 * time.Second}},
		{name: "people", pattern: `{"type":[{"prefix":"chaos.u"}]}`, types: []string{"chaos.user"}, retry: retry,
			b: behaviour{Fail5xx: 0.03, Outage: 2 * time.Second, Every: 20 * time.Second}},
		// Always failing: every audit event ends in the delivery dead-letter queue.
		{name: "broken", pattern: `{"type":["chaos.audit"]}`, types: []string{"chaos.audit"}, retry: []string{"500ms"},
			b: behaviour{Always: http.StatusInternalServerError}},
	}
}

// attemptTimeout is the subscriptions' per-attempt timeout: short, because a
// subscriber that answers late holds a notify instance that long.
const attemptTimeout = time.Second

// report is the ledger with the run's own figures.
type report struct {
	Ledger
	Seconds        float64          `json:"seconds"`
	LoadSeconds    float64          `json:"load_seconds"`
	Rate           float64          `json:"events_per_second"`
	ProducerRetry  int64            `json:"producer_retries"`
	IngestStatuses map[string]int64 `json:"ingest_statuses"`
	SubscriberReqs map[string]int   `json:"subscriber_requests"`
	BadSignatures  int              `json:"bad_signatures"`
	DynamoRequests int64            `json:"dynamodb_requests"`
	Incomplete     string           `json:"incomplete,omitempty"`
}

func run(ctx context.Context, root string, cfg config) (*report, error) {
	started := time.Now()
	deadline, _ := ctx.Deadline()
	home := filepath.Join(root, ".eventhub")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(home, "chaos.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	logs := &lockedWriter{w: logFile}
	inj := newInjector(cfg.rates)

	say("starting the local stack (functions' logs in .eventhub/chaos.log)")
	st, err := stack.Start(ctx, stack.Options{
		Root:           root,
		APIAddr:        "127.0.0.1:0",
		BinDir:         filepath.Join(home, "chaos-bin"),
		Logger:         slog.New(slog.NewTextHandler(logs, nil)),
		FunctionOutput: logs,
		FailEntry:      func(e eventbridge.Entry) (string, string) { return inj.failEntry(e.DetailType) },
		MaxConcurrency: cfg.concurrency,
		Faults: stack.Faults{
			ThrottleDynamoDB:  inj.throttle,
			DropSQSDelete:     inj.dropDelete,
			VisibilityTimeout: map[string]time.Duration{"DeliveryRetryQueue": cfg.visibility},
		},
	})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	admin := &client{api: st.APIURL, token: st.AdminToken, http: &http.Client{Timeout: 30 * time.Second}}

	var src struct{ Token string }
	if err := admin.do(ctx, http.MethodPost, "/sources", `{"name":"chaos","format":"cloudevents","owns":{"prefixes":["/chaos/"]},"rateLimit":{"perSecond":100000,"burst":1000000}}`, http.StatusCreated, &src); err != nil {
		return nil, fmt.Errorf("create the source: %w", err)
	}
	subs := subscriptions()
	byType := map[string][]string{}
	for _, s := range subs {
		if s.sub, err = startSubscriber(s.name, s.b, inj, attemptTimeout); err != nil {
			return nil, err
		}
		defer s.sub.close()
		retry, _ := json.Marshal(s.retry)
		body := fmt.Sprintf(`{"name":%q,"url":%q,"pattern":%s,"retry":%s,"timeout":%g}`,
			"chaos "+s.name, s.sub.url, s.pattern, retry, attemptTimeout.Seconds())
		var created struct{ ID, Secret string }
		if err := admin.do(ctx, http.MethodPost, "/subscriptions", body, http.StatusCreated, &created); err != nil {
			return nil, fmt.Errorf("create subscription %s: %w", s.name, err)
		}
		if err := s.sub.setSecret(created.Secret); err != nil {
			return nil, err
		}
		s.id = created.ID
		for _, t := range s.types {
			byType[t] = append(byType[t], s.id)
		}
	}

	events := makeEvents(cfg.events, cfg.seed)
	say("stack ready in %.0fs: sending %d events at %.0f/s with faults on", time.Since(started).Seconds(), len(events), cfg.rate)

	// Load, with faults.
	inj.on.Store(true)
	faultsDone := make(chan struct{})
	var bg sync.WaitGroup
	bg.Go(func() { killer(faultsDone, st, inj, cfg.killEvery) })
	loadCtx, loadCancel := context.WithDeadline(ctx, deadline.Add(-cfg.drain))
	prod := &producer{api: st.APIURL, token: src.Token, client: &http.Client{
		Timeout:   60 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: cfg.producers},
	}}
	progressDone := make(chan struct{})
	go progress(progressDone, started, len(events), prod, inj, st)
	loadStart := time.Now()
	loadErr := offer(loadCtx, prod, events, cfg, st.Pending)
	loadCancel()
	loadTime := time.Since(loadStart)
	incomplete := ""
	if loadErr != nil {
		incomplete = "load: " + loadErr.Error()
		say("load stopped early: %v", loadErr)
	}

	// A little more chaos while the pipeline catches up, then a clean drain.
	sleep(ctx, 5*time.Second)
	inj.on.Store(false)
	close(faultsDone)
	bg.Wait()
	say("load done in %.0fs; faults off, draining", loadTime.Seconds())

	ledgerBudget := 40 * time.Second
	drainCtx, drainCancel := context.WithDeadline(ctx, deadline.Add(-ledgerBudget))
	err = drain(drainCtx, st)
	drainCancel()
	if err != nil {
		say("drain: %v", err)
	}

	var l Ledger
	for {
		l, err = ledger(ctx, st, events, byType, subs)
		if err != nil {
			close(progressDone)
			return nil, err
		}
		if l.Balanced || l.Pending == 0 || time.Until(deadline) < ledgerBudget/2 {
			break
		}
		say("%d deliveries still pending; reading the ledger again in 10 s", l.Pending)
		sleep(ctx, 10*time.Second)
	}
	close(progressDone)
	l.FaultsInjected, l.FaultDetail = inj.snapshot()

	r := &report{
		Ledger: l, Seconds: time.Since(started).Seconds(), LoadSeconds: loadTime.Seconds(),
		Rate: float64(l.Accepted) / loadTime.Seconds(), ProducerRetry: prod.retries.Load(),
		IngestStatuses: prod.statusCounts(), SubscriberReqs: map[string]int{}, Incomplete: incomplete,
		DynamoRequests: inj.ops.Load(),
	}
	for _, s := range subs {
		n, bad := s.sub.stats()
		r.SubscriberReqs[s.name] = n
		r.BadSignatures += bad
	}
	if r.BadSignatures > 0 {
		r.Balanced = false
		r.problem("%d deliveries had a bad signature", r.BadSignatures)
	}
	return r, nil
}

// makeEvents returns n events of the mix, each with a unique id.
func makeEvents(n int, seed uint64) []*sentEvent {
	rng := rand.New(rand.NewPCG(seed, seed>>1|1))
	total := 0
	for _, m := range mix {
		total += m.weight
	}
	runID := strconv.FormatUint(seed%1_000_000_007, 36)
	out := make([]*sentEvent, n)
	for i := range out {
		w := rng.IntN(total)
		typ := mix[len(mix)-1].typ
		for _, m := range mix {
			if w < m.weight {
				typ = m.typ
				break
			}
			w -= m.weight
		}
		out[i] = &sentEvent{
			Source: "/chaos/producer-" + strconv.Itoa(i%3),
			ID:     fmt.Sprintf("chaos-%s-%06d", runID, i),
			Type:   typ,
		}
	}
	return out
}

// offer sends the events in batches at the configured rate over cfg.producers
// connections, each batch until it is accepted, and pauses while the pipeline has
// more than cfg.backlog events in flight: the load follows what the machine can do.
func offer(ctx context.Context, p *producer, events []*sentEvent, cfg config, inFlight func() int) error {
	batches := make(chan []*sentEvent)
	var (
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	fail := func(err error) { errOnce.Do(func() { first = err }) }
	for range cfg.producers {
		wg.Go(func() {
			for b := range batches {
				if err := p.send(ctx, b); err != nil {
					fail(err)
				}
			}
		})
	}
	interval := time.Duration(float64(cfg.batch) / cfg.rate * float64(time.Second))
	tick := time.NewTicker(interval)
	defer tick.Stop()
loop:
	for i := 0; i < len(events); i += cfg.batch {
		for inFlight() > cfg.backlog && ctx.Err() == nil {
			sleep(ctx, 50*time.Millisecond)
		}
		select {
		case <-ctx.Done():
			fail(ctx.Err())
			break loop
		case batches <- events[i:min(i+cfg.batch, len(events))]:
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	close(batches)
	wg.Wait()
	return first
}

// killer kills a busy process of a random function at every tick. An invocation
// request (an event and Lambda's retries of it, which keep its request id) is killed
// at most once: sandboxes that die now and then, not an event that crashes every
// sandbox it reaches, which Lambda's two retries send to the on-failure destination.
func killer(done <-chan struct{}, st *stack.Stack, inj *injector, every time.Duration) {
	names := []string{"IngestFunction", "NormalizeFunction", "PersistFunction", "NotifyFunction"}
	killed := map[string]bool{}
	fresh := func(id string) bool { return !killed[id] }
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		for _, i := range rand.Perm(len(names)) {
			if id, ok := st.Functions[names[i]].KillBusyFunc(fresh); ok {
				killed[id] = true
				inj.count(faultFunctionKilled, names[i])
				break
			}
		}
	}
}

// drain waits until nothing moves: no event on the bus or in the functions'
// asynchronous queues, and the delivery retry queue empty (visible, in flight and
// delayed), several times in a row.
func drain(ctx context.Context, st *stack.Stack) error {
	retryURL := st.Queues["DeliveryRetryQueue"].URL
	quiet := 0
	for quiet < 3 {
		idleCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := st.Idle(idleCtx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		n, qerr := queueDepth(ctx, st.SQSClient, retryURL)
		if qerr != nil {
			return qerr
		}
		if err == nil && n == 0 {
			quiet++
		} else {
			quiet = 0
		}
		sleep(ctx, time.Second)
	}
	return nil
}

func queueDepth(ctx context.Context, client *sqs.Client, url string) (int, error) {
	out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed,
		},
	})
	if err != nil {
		return 0, fmt.Errorf("queue attributes of %s: %w", url, err)
	}
	total := 0
	for _, v := range out.Attributes {
		n, _ := strconv.Atoi(v)
		total += n
	}
	return total, nil
}

// ledger reads the books from the system and balances them.
func ledger(ctx context.Context, st *stack.Stack, events []*sentEvent, byType map[string][]string, subs []*subscription) (Ledger, error) {
	stored, deliveries, err := readTable(ctx, st.DB, st.Table)
	if err != nil {
		return Ledger{}, err
	}
	dlq, err := peekQueue(ctx, st.SQSClient, st.Queues["DeliveryDeadLetterQueue"].URL)
	if err != nil {
		return Ledger{}, err
	}
	pipeline, err := peekQueue(ctx, st.SQSClient, st.Queues["PipelineDeadLetterQueue"].URL)
	if err != nil {
		return Ledger{}, err
	}
	acked := map[string]int{}
	for _, s := range subs {
		for id, n := range s.sub.ackedIDs() {
			acked[id] += n
		}
	}
	sent := make([]sentEvent, len(events))
	for i, e := range events {
		sent[i] = *e
	}
	l := balance(books{
		Sent: sent, Expected: func(t string) []string { return byType[t] },
		Stored: stored, Deliveries: deliveries, Acked: acked,
		DeadLetters: parseDeadLetters(dlq), PipelineDLQ: len(pipeline),
	})
	for i, b := range pipeline {
		if i == 3 {
			break
		}
		l.problem("pipeline dead letter: %.300s", b)
	}
	return l, nil
}

// peekQueue reads every message of a queue and makes them visible again, so that a
// second reading of the ledger sees them too.
func peekQueue(ctx context.Context, client *sqs.Client, url string) ([]string, error) {
	bodies, handles, err := readQueue(ctx, client, url, 20*time.Second)
	if err != nil {
		return nil, err
	}
	for start := 0; start < len(handles); start += 10 {
		var entries []sqstypes.ChangeMessageVisibilityBatchRequestEntry
		for i, h := range handles[start:min(start+10, len(handles))] {
			entries = append(entries, sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(h)})
		}
		if _, err := client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(url), Entries: entries}); err != nil {
			return nil, fmt.Errorf("release messages of %s: %w", url, err)
		}
	}
	return bodies, nil
}

func progress(done <-chan struct{}, started time.Time, events int, prod *producer, inj *injector, st *stack.Stack) {
	tick := time.NewTicker(15 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		counts, _ := inj.snapshot()
		say("%4.0fs accepted %d/%d, in flight %s, faults %s", time.Since(started).Seconds(), prod.accepted.Load(), events, formatCounts(st.Backlog()), formatCounts(counts))
	}
}

func formatCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

func (r *report) print(w io.Writer) {
	status := "BALANCED"
	if !r.Balanced {
		status = "NOT BALANCED"
	}
	fmt.Fprintf(w, `
chaos ledger: %s (%.0fs; load %.0fs at %.0f events/s)
  sent                %7d
  accepted            %7d
  stored              %7d   duplicates_stored %d, stored_not_accepted %d
  expected deliveries %7d
  delivered           %7d   duplicates_delivered %d (same webhook-id again)
  dead_lettered       %7d
  pending             %7d
  lost                %7d   (events %d, deliveries %d)
  unexpected          %7d
  pipeline DLQ        %7d
  retry messages DLQ  %7d
  producer retries    %7d   ingest answers %v
  subscriber requests %v
  DynamoDB requests   %7d
faults injected:
`, status, r.Seconds, r.LoadSeconds, r.Rate, r.Sent, r.Accepted, r.Stored, r.DuplicatesStored, r.StoredNotAccepted,
		r.ExpectedDeliveries, r.Delivered, r.DuplicatesDelivered, r.DeadLettered, r.Pending, r.Lost, r.LostEvents,
		r.LostDeliveries, r.Unexpected, r.PipelineDeadLettered, r.RetriesDeadLettered, r.ProducerRetry, r.IngestStatuses, r.SubscriberReqs,
		r.DynamoRequests)
	for _, k := range faultKinds {
		fmt.Fprintf(w, "  %-24s %7d\n", k, r.FaultsInjected[k])
	}
	if r.Incomplete != "" {
		fmt.Fprintf(w, "incomplete: %s\n", r.Incomplete)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "problem: %s\n", p)
	}
}

func (r *report) write(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// client calls the admin API.
type client struct {
	api, token string
	http       *http.Client
}

func (c *client) do(ctx context.Context, method, path, body string, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.api+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s = %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

func say(format string, args ...any) {
	fmt.Printf("chaos: "+format+"\n", args...)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

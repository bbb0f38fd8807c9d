package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Defaults of Lambda's asynchronous invocation; the retry delays are shortened from
// the service's (about 1 and 2 minutes) for a local stack.
const (
	defaultMaxRetryAttempts = 2
	maxMaxRetryAttempts     = 2
	defaultMaxEventAge      = 6 * time.Hour
	maxAsyncPayload         = 1 << 20 // bytes: Lambda's limit for an asynchronous invocation's payload
)

var defaultRetryDelays = []time.Duration{time.Second, 2 * time.Second}

// NoRetries is the MaxRetryAttempts that means MaximumRetryAttempts: 0 (the zero
// value of AsyncConfig.MaxRetryAttempts means Lambda's default, 2).
const NoRetries = -1

// AsyncConfig is a function's EventInvokeConfig.
type AsyncConfig struct {
	MaxRetryAttempts int                                            // retries of a function error: 0 = default 2, NoRetries (or any negative) = none, at most 2
	MaxEventAge      time.Duration                                  // an event older than this is not invoked again; default 6h
	RetryDelays      []time.Duration                                // delay before retry 1, 2 (the last repeats); default 1s, 2s
	OnFailure        func(ctx context.Context, record []byte) error // receives the OnFailure destination record JSON; nil = log only
	Concurrency      int                                            // workers pulling from the queue; default = the Function's MaxConcurrency
}

// Async is Lambda's asynchronous invocation of one Function (what EventBridge
// targets, S3 and SNS get): Send queues an event and returns; workers invoke the
// function, retry a function error MaxRetryAttempts times after RetryDelays, stop
// retrying once the event is older than MaxEventAge, and then hand the OnFailure
// destination record to OnFailure. All attempts of one event share a request id.
//
// Close abandons what has not completed: queued events, events waiting for a retry,
// and the attempts in flight (their invocations run on until the Function is closed,
// but their outcome is dropped). That is what a crash of the local stack does; events
// are not persisted.
type Async struct {
	fn     *Function
	cfg    AsyncConfig
	log    *slog.Logger
	now    func() time.Time
	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*asyncEvent
	timers  map[*time.Timer]*asyncEvent // events waiting for a retry
	pending int                         // queued + in flight + waiting for a retry
	closed  bool

	wg sync.WaitGroup // workers and retry timers
}

type asyncEvent struct {
	id       string
	payload  []byte
	trace    string // the caller's X-Ray trace header, "" for none
	received time.Time
	attempts int
	lastErr  *FunctionError
}

// NewAsync starts the workers of an asynchronous invoker for fn.
func NewAsync(fn *Function, cfg AsyncConfig) *Async {
	switch {
	case cfg.MaxRetryAttempts == 0:
		cfg.MaxRetryAttempts = defaultMaxRetryAttempts
	case cfg.MaxRetryAttempts < 0:
		cfg.MaxRetryAttempts = 0
	case cfg.MaxRetryAttempts > maxMaxRetryAttempts:
		fn.log.Warn("MaxRetryAttempts above Lambda's maximum; using 2", "maxRetryAttempts", cfg.MaxRetryAttempts)
		cfg.MaxRetryAttempts = maxMaxRetryAttempts
	}
	if cfg.MaxEventAge <= 0 {
		cfg.MaxEventAge = defaultMaxEventAge
	}
	if len(cfg.RetryDelays) == 0 {
		cfg.RetryDelays = defaultRetryDelays
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = fn.cfg.MaxConcurrency
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &Async{
		fn:     fn,
		cfg:    cfg,
		log:    fn.log.With("invocationType", "Event"),
		now:    time.Now,
		ctx:    ctx,
		cancel: cancel,
		timers: make(map[*time.Timer]*asyncEvent),
	}
	a.cond = sync.NewCond(&a.mu)
	a.wg.Add(cfg.Concurrency)
	for range cfg.Concurrency {
		go a.work()
	}
	return a
}

// Send queues an asynchronous invocation and returns at once. It fails only if a
// is closed or the payload is over Lambda's 1 MB limit for asynchronous invocations.
func (a *Async) Send(ctx context.Context, payload []byte) error {
	return a.SendTraced(ctx, payload, "")
}

// SendTraced is Send continuing the caller's X-Ray trace: the function's invocations
// get a trace header with the same Root and sampling decision, as Lambda gives a
// function invoked by a traced caller (EventBridge passes on its entries' TraceHeader).
func (a *Async) SendTraced(ctx context.Context, payload []byte, traceHeader string) error {
	if len(payload) > maxAsyncPayload {
		return fmt.Errorf("lambda %s: async payload of %d bytes exceeds the limit of %d bytes", a.fn.cfg.Name, len(payload), maxAsyncPayload)
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	ev := &asyncEvent{id: newRequestID(), payload: payload, received: a.now(), trace: traceHeader}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return ErrClosed
	}
	a.pending++
	a.queue = append(a.queue, ev)
	a.cond.Signal()
	a.log.DebugContext(ctx, "event queued", "requestId", ev.id)
	return nil
}

// Pending returns the number of events not yet completed: queued, in flight or
// waiting for a retry.
func (a *Async) Pending() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pending
}

// Close stops accepting events, abandons those not completed (see Async) and waits
// for the workers to stop. It does not close the Function; close the Async first.
func (a *Async) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		a.wg.Wait()
		return nil
	}
	a.closed = true
	abandoned := len(a.queue)
	a.pending -= len(a.queue)
	a.queue = nil
	for t := range a.timers {
		if t.Stop() { // otherwise its function is running and accounts for the event
			delete(a.timers, t)
			abandoned++
			a.pending--
			a.wg.Done()
		}
	}
	a.cond.Broadcast()
	a.mu.Unlock()
	a.cancel()
	a.wg.Wait()
	if abandoned > 0 {
		a.log.Warn("async invoker closed; events abandoned", "count", abandoned)
	}
	return nil
}

func (a *Async) work() {
	defer a.wg.Done()
	for {
		a.mu.Lock()
		for len(a.queue) == 0 && !a.closed {
			a.cond.Wait()
		}
		if a.closed {
			a.mu.Unlock()
			return
		}
		ev := a.queue[0]
		a.queue[0] = nil
		a.queue = a.queue[1:]
		a.mu.Unlock()

		if !a.process(ev) {
			a.mu.Lock()
			a.pending--
			a.mu.Unlock()
		}
	}
}

// process makes one attempt at ev. It reports whether ev is still pending (scheduled
// for a retry); otherwise ev is complete: succeeded, sent to OnFailure, or abandoned.
func (a *Async) process(ev *asyncEvent) bool {
	if age := a.now().Sub(ev.received); age > a.cfg.MaxEventAge {
		a.fail(ev, "EventAgeExceeded")
		return false
	}
	ev.attempts++
	_, err := a.fn.invoke(a.ctx, ev.id, ev.payload, ev.trace)
	if err == nil {
		a.log.Debug("event processed", "requestId", ev.id, "attempts", ev.attempts)
		return false
	}
	var fe *FunctionError
	if !errors.As(err, &fe) {
		// Closed, or a payload the Function refuses: nothing a retry would change.
		if a.ctx.Err() == nil {
			a.log.Error("event abandoned", "requestId", ev.id, "err", err)
		}
		return false
	}
	ev.lastErr = fe
	if ev.attempts > a.cfg.MaxRetryAttempts {
		a.fail(ev, "RetriesExhausted")
		return false
	}
	delay := a.cfg.RetryDelays[min(ev.attempts, len(a.cfg.RetryDelays))-1]
	a.log.Info("invocation failed; will retry", "requestId", ev.id, "attempt", ev.attempts, "delay", delay, "err", fe)

	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return false
	}
	a.wg.Add(1)
	var t *time.Timer
	t = time.AfterFunc(delay, func() {
		defer a.wg.Done()
		a.mu.Lock()
		defer a.mu.Unlock()
		delete(a.timers, t)
		if a.closed {
			a.pending--
			return
		}
		a.queue = append(a.queue, ev)
		a.cond.Signal()
	})
	a.timers[t] = ev
	return true
}

// fail hands the destination record of a failed event to OnFailure.
func (a *Async) fail(ev *asyncEvent, condition string) {
	a.log.Warn("event failed", "requestId", ev.id, "condition", condition, "attempts", ev.attempts, "err", ev.lastErr)
	if a.cfg.OnFailure == nil {
		return
	}
	record, err := a.record(ev, condition)
	if err != nil {
		a.log.Error("on-failure destination record", "requestId", ev.id, "err", err)
		return
	}
	if err := a.cfg.OnFailure(a.ctx, record); err != nil {
		a.log.Error("on-failure destination", "requestId", ev.id, "err", err)
	}
}

// destinationRecord is the invocation record Lambda sends to an on-failure destination.
type destinationRecord struct {
	Version        string `json:"version"`
	Timestamp      string `json:"timestamp"`
	RequestContext struct {
		RequestID              string `json:"requestId"`
		FunctionARN            string `json:"functionArn"`
		Condition              string `json:"condition"`
		ApproximateInvokeCount int    `json:"approximateInvokeCount"`
	} `json:"requestContext"`
	RequestPayload  json.RawMessage  `json:"requestPayload"`
	ResponseContext *responseContext `json:"responseContext,omitempty"`
	ResponsePayload json.RawMessage  `json:"responsePayload,omitempty"`
}

type responseContext struct {
	StatusCode      int    `json:"statusCode"`
	ExecutedVersion string `json:"executedVersion"`
	FunctionError   string `json:"functionError"`
}

func (a *Async) record(ev *asyncEvent, condition string) ([]byte, error) {
	var r destinationRecord
	r.Version = "1.0"
	r.Timestamp = a.now().UTC().Format("2006-01-02T15:04:05.000Z")
	r.RequestContext.RequestID = ev.id
	r.RequestContext.FunctionARN = a.fn.arn + ":" + version // records carry the qualified ARN
	r.RequestContext.Condition = condition
	r.RequestContext.ApproximateInvokeCount = ev.attempts
	r.RequestPayload = jsonOrString(ev.payload)
	if ev.lastErr != nil {
		r.ResponseContext = &responseContext{StatusCode: 200, ExecutedVersion: version, FunctionError: "Unhandled"}
		r.ResponsePayload = ev.lastErr.document()
	}
	return json.Marshal(r)
}

// jsonOrString returns b if it is JSON, else b as a JSON string.
func jsonOrString(b []byte) json.RawMessage {
	if json.Valid(b) {
		return b
	}
	s, _ := json.Marshal(string(b))
	return s
}

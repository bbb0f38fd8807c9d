// Package eventbridge emulates the Amazon EventBridge API a user of eventhub touches
// (PutEvents, rules and their targets, API destinations, TestEventPattern) and routes
// events to the rules' targets.
package eventbridge

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/eventhub/eventhub/shared/webhook"
)

// Matcher decides whether an event envelope matches a rule's event pattern.
// *pattern.Pattern from shared/pattern satisfies it.
type Matcher interface {
	Match(event []byte) (bool, error)
}

// Target receives the events a rule matched, for example a Lambda function's
// asynchronous invocation queue. A non-nil error makes the emulator retry.
type Target interface {
	Send(ctx context.Context, event []byte) error
}

// TracedTarget is a Target that also takes the X-Ray trace header of the PutEvents
// entry, as EventBridge passes it to a Lambda target (the trace goes on in the
// function). When an entry has a TraceHeader and the rule's Target implements it,
// SendTraced is called instead of Send.
type TracedTarget interface {
	Target
	SendTraced(ctx context.Context, event []byte, traceHeader string) error
}

// DeadLetter receives the events a rule could not deliver, for example an SQS
// SendMessage to the rule's dead-letter queue. The body is the event envelope.
type DeadLetter interface {
	Send(ctx context.Context, body []byte) error
}

// AttributedDeadLetter is a DeadLetter that also takes the message attributes
// EventBridge sets on dead-letter messages: RULE_ARN, TARGET_ARN, ERROR_CODE,
// ERROR_MESSAGE, EXHAUSTED_RETRY_CONDITION and RETRY_ATTEMPTS. When a rule's
// DeadLetter implements it, SendWithAttributes is called instead of Send.
type AttributedDeadLetter interface {
	DeadLetter
	SendWithAttributes(ctx context.Context, body []byte, attrs map[string]string) error
}

// AWS defaults of a rule target's RetryPolicy.
const (
	DefaultMaxRetries = 185
	DefaultMaxAge     = 24 * time.Hour
)

// NoRetries is the Rule.MaxRetries value for RetryPolicy.MaximumRetryAttempts: 0
// (the zero value of MaxRetries means the AWS default, 185).
const NoRetries = -1

// DefaultMaxRequestSize is the PutEvents limit on the total entry size: 1 MB since
// 2026-01-29 (256 KB before).
const DefaultMaxRequestSize = 1 << 20

// Rule is an EventBridge rule as the local stack declares it at start (from
// template.yaml); rules made through the API (PutRule) are kept beside them.
type Rule struct {
	Name string
	Bus  string // bus name; "" means "default"
	// Pattern matches events; when nil, EventPattern is compiled with shared/pattern.
	Pattern      Matcher
	EventPattern string // the pattern as JSON, as DescribeRule shows it
	State        string // ENABLED (the default) or DISABLED
	Description  string
	// Targets are the rule's targets as the API describes them, resolved through
	// Options.Resolve (API destinations are resolved by the emulator itself).
	Targets []types.Target

	// Target is a target given as a Go value (tests); it is the rule's target "1",
	// with the retry policy and dead-letter queue below, beside Targets.
	Target Target
	// TargetARN identifies Target in dead-letter attributes (TARGET_ARN); optional.
	TargetARN string
	// MaxRetries is Target's RetryPolicy.MaximumRetryAttempts: 0 means the AWS
	// default (185), NoRetries means none.
	MaxRetries int
	// MaxAge is Target's RetryPolicy.MaximumEventAgeInSeconds; 0 means the AWS default (24h).
	MaxAge     time.Duration
	DeadLetter DeadLetter // Target's dead-letter queue; may be nil: exhausted events are then dropped
}

// Resolver finds where a target ARN delivers (a Lambda function's asynchronous
// invocation, an SQS queue), for rule targets and their dead-letter queues. An
// error says why the local stack cannot deliver there; it names the ARN.
type Resolver func(arn string) (Target, error)

// Options configures an Emulator. The zero value is usable.
type Options struct {
	Account, Region string           // defaults "000000000000", "us-east-1"
	Now             func() time.Time // default time.Now
	NewID           func() string    // event ids; default random UUID v4
	Logger          *slog.Logger     // default discards
	// RetryBackoff is the delay before retry number attempt (1-based); default
	// exponential from 100ms, capped at 5s.
	RetryBackoff func(attempt int) time.Duration
	// MaxRequestSize is the limit on the total entry size of one PutEvents
	// request, computed as AWS documents it; default DefaultMaxRequestSize.
	MaxRequestSize int
	// FailEntry injects faults for the chaos harness (never used in production
	// code): called for each otherwise valid entry, a non-empty code fails that
	// entry with that ErrorCode (e.g. "InternalFailure", "ThrottlingException")
	// and the entry is not routed.
	FailEntry func(entry Entry) (code, message string)
	// Resolve finds the targets of rules by ARN; without it only API destinations
	// (and Rule.Target) deliver.
	Resolve Resolver
	// Guard checks every connection to an API destination, as webhook delivery's
	// guard does; its zero value reaches public addresses on ports 80 and 443 only.
	Guard webhook.Guard
	// StateFile, when set, keeps what the API creates (rules, their targets,
	// connections and API destinations) across restarts: Load reads it and every
	// change rewrites it. Rules given to New are not written to it.
	StateFile string
}

// Entry is one PutEvents request entry.
type Entry struct {
	Source, DetailType, Detail, EventBusName string
	Resources                                []string
	Time                                     *time.Time
	TraceHeader                              string
}

// Stats counts what the emulator did since it was created.
type Stats struct {
	Accepted      int            // entries given an EventId
	Failed        map[string]int // entries rejected, by ErrorCode
	RequestErrors map[string]int // whole requests rejected, by error type
	Matched       map[string]int // events matched, by rule name
	Delivered     map[string]int // events a target accepted, by rule name
	Retries       int            // target sends retried
	DeadLettered  int            // events sent to a dead-letter queue
	Dropped       int            // events lost: exhausted without dead-letter queue, dead-letter failure, or Close
}

// Emulator serves the EventBridge API and routes the accepted events to the rules'
// targets.
type Emulator struct {
	account, region string
	now             func() time.Time
	newID           func() string
	log             *slog.Logger
	backoff         func(int) time.Duration
	maxRequestSize  int
	failEntry       func(Entry) (string, string)
	resolve         Resolver
	http            *http.Client // API destinations
	stateFile       string

	// res guards the resources: buses, rules, connections, API destinations.
	res          sync.RWMutex
	buses        map[string]*bus
	rules        map[string]map[string]*rule // by bus, then name
	connections  map[string]*connection      // by name
	destinations map[string]*apiDestination  // by name

	ctx     context.Context // canceled by Close
	cancel  context.CancelFunc
	mu      sync.RWMutex // guards closed against wg.Add racing with wg.Wait
	closed  bool
	wg      sync.WaitGroup
	pending atomic.Int64

	statsMu sync.Mutex
	stats   Stats
}

// bus is an event bus.
type bus struct {
	name    string
	created time.Time
}

// New returns an emulator of the named buses (the "default" bus always exists)
// routing to rules. A rule on a bus not in buses registers that bus too; a rule
// whose pattern does not compile or a target that does not resolve is logged and
// never routes. New does no I/O and starts no goroutine (Load reads the state file).
func New(buses []string, rules []Rule, opts Options) *Emulator {
	e := &Emulator{
		account:        opts.Account,
		region:         opts.Region,
		now:            opts.Now,
		newID:          opts.NewID,
		log:            opts.Logger,
		backoff:        opts.RetryBackoff,
		maxRequestSize: opts.MaxRequestSize,
		failEntry:      opts.FailEntry,
		resolve:        opts.Resolve,
		http:           opts.Guard.Client(apiDestinationTimeout),
		stateFile:      opts.StateFile,
		buses:          map[string]*bus{},
		rules:          map[string]map[string]*rule{},
		connections:    map[string]*connection{},
		destinations:   map[string]*apiDestination{},
		stats: Stats{
			Failed:        map[string]int{},
			RequestErrors: map[string]int{},
			Matched:       map[string]int{},
			Delivered:     map[string]int{},
		},
	}
	if e.account == "" {
		e.account = "000000000000"
	}
	if e.region == "" {
		e.region = "us-east-1"
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.newID == nil {
		e.newID = newUUID
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.backoff == nil {
		e.backoff = defaultBackoff
	}
	if e.maxRequestSize <= 0 {
		e.maxRequestSize = DefaultMaxRequestSize
	}
	e.addBus("default")
	for _, b := range buses {
		e.addBus(b)
	}
	for _, r := range rules {
		if r.Bus == "" {
			r.Bus = "default"
		}
		if e.buses[r.Bus] == nil {
			e.log.Warn("rule on an undeclared event bus; registering the bus", "rule", r.Name, "bus", r.Bus)
			e.addBus(r.Bus)
		}
		e.declare(r)
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	return e
}

func (e *Emulator) addBus(name string) {
	if e.buses[name] == nil {
		e.buses[name] = &bus{name: name, created: e.now()}
		e.rules[name] = map[string]*rule{}
	}
}

// declare adds a rule given to New.
func (e *Emulator) declare(r Rule) {
	ru := &rule{name: r.Name, bus: r.Bus, pattern: r.EventPattern, matcher: r.Pattern, state: r.State, description: r.Description}
	if ru.state == "" {
		ru.state = stateEnabled
	}
	if ru.matcher == nil && r.EventPattern != "" {
		m, err := compilePattern(r.EventPattern)
		if err != nil {
			e.log.Warn("rule pattern does not compile; the rule never routes", "rule", r.Name, "bus", r.Bus, "err", err)
		} else {
			ru.matcher = m
		}
	}
	if ru.matcher == nil {
		e.log.Warn("rule without pattern never routes", "rule", r.Name, "bus", r.Bus)
	}
	if r.Target != nil {
		arn := r.TargetARN
		maxRetries := r.MaxRetries
		switch {
		case maxRetries == 0:
			maxRetries = DefaultMaxRetries
		case maxRetries < 0:
			maxRetries = 0
		}
		maxAge := r.MaxAge
		if maxAge <= 0 {
			maxAge = DefaultMaxAge
		}
		ru.targets = append(ru.targets, &target{
			spec:       types.Target{Id: ptr("1"), Arn: &arn},
			send:       r.Target,
			deadLetter: r.DeadLetter,
			maxRetries: maxRetries,
			maxAge:     maxAge,
		})
	}
	for _, spec := range r.Targets {
		t, err := e.newTarget(spec)
		if err != nil {
			e.log.Warn("rule target cannot be delivered to locally", "rule", r.Name, "bus", r.Bus, "targetId", deref(spec.Id), "err", err)
		}
		ru.targets = append(ru.targets, t)
	}
	e.rules[r.Bus][r.Name] = ru
}

// Pending reports the deliveries in flight or waiting for a retry; tests wait
// for it to reach zero.
func (e *Emulator) Pending() int {
	return int(e.pending.Load())
}

// Close stops routing: deliveries waiting for a retry are dropped, sends in
// flight see their context canceled, and Close returns once every delivery
// goroutine has ended. Later PutEvents calls fail with InternalException.
func (e *Emulator) Close() error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.cancel()
	e.wg.Wait()
	return nil
}

// Stats returns a snapshot of the counters.
func (e *Emulator) Stats() Stats {
	e.statsMu.Lock()
	defer e.statsMu.Unlock()
	s := e.stats
	s.Failed = maps.Clone(s.Failed)
	s.RequestErrors = maps.Clone(s.RequestErrors)
	s.Matched = maps.Clone(s.Matched)
	s.Delivered = maps.Clone(s.Delivered)
	return s
}

func (e *Emulator) count(f func(s *Stats)) {
	e.statsMu.Lock()
	f(&e.stats)
	e.statsMu.Unlock()
}

func defaultBackoff(attempt int) time.Duration {
	const base, limit = 100 * time.Millisecond, 5 * time.Second
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 7 { // 100ms << 6 already exceeds the cap
		return limit
	}
	return min(base<<(attempt-1), limit)
}

// newUUID returns a random (version 4) UUID in its canonical text form.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func ptr[T any](v T) *T { return &v }

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/eventhub/eventhub/infra/bench/floor"
	"github.com/eventhub/eventhub/infra/local/eventbridge"
	"github.com/eventhub/eventhub/infra/local/lambda"
	"github.com/eventhub/eventhub/infra/local/stack"
)

// ColdStart is one function's cold start under the local Runtime API: its init and
// its first invocation, next to its floor's and the bare hello-world's.
type ColdStart struct {
	InitMs  float64 `json:"init_ms"`             // median init: process start to the first /next
	FirstMs float64 `json:"first_invocation_ms"` // median first invocation: /next to the response
	// FirstAWSMs is the part of the first invocation spent waiting for AWS (the
	// emulators' answers, at the meter): the rest is the function's own code, the SDK's
	// client side and other I/O (notify's webhook).
	FirstAWSMs float64 `json:"first_invocation_aws_ms"`
	TotalMs    float64 `json:"total_ms"` // median of init plus first invocation
	// Ratio is the median of the per-round ratios of TotalMs to the floor's (for the
	// floors and the bare hello-world, to the bare hello-world's).
	Ratio     float64 `json:"ratio"`
	BareRatio float64 `json:"bare_ratio,omitempty"` // the same, to the bare hello-world's
	// Clients are the SDK service clients main.go builds (and the floor builds).
	Clients []string `json:"sdk_clients,omitempty"`
	// Requests are what the first invocation asked of AWS, in order (and the floor asks).
	Requests []string `json:"first_invocation_requests,omitempty"`
	// Unreplayed are requests the floor cannot make (floor.Supported): the floor is
	// lower than it should be by them.
	Unreplayed  []string      `json:"requests_the_floor_does_not_make,omitempty"`
	Floor       *ColdStart    `json:"floor,omitempty"`
	BinaryBytes int64         `json:"binary_bytes,omitempty"` // the linux/arm64 deployment build
	HostBytes   int64         `json:"host_bytes"`             // the build that was measured
	Samples     int           `json:"samples"`
	Inits       *InitTrace    `json:"package_inits,omitempty"`     // GODEBUG=inittrace=1
	ExtraInits  []PackageInit `json:"inits_above_floor,omitempty"` // packages the function initializes and its floor does not, slowest first
	Reason      string        `json:"reason,omitempty"`            // where the time above the floor goes, when over the target
	bootstrap   *bootstrap
	floorEnv    []string
	requests    []floor.Request
}

// coldSetup is what the cold starts need of the running stack.
type coldSetup struct {
	configs  map[string]lambda.Config // by logical id
	meters   map[string]*meter        // the cold starts' own, by service, in front of the emulators
	queueURL string                   // the floors' SQS queue
	payload  func(fn string, round int) ([]byte, error)
	clients  map[string][]string // by function
	closers  []func() error
}

func (cs coldSetup) Close() {
	for _, c := range cs.closers {
		_ = c()
	}
}

// measureColdStarts starts each function, each function's floor and the bare
// hello-world rounds times, in a new order each round, each with one invocation, and
// records init plus first invocation. Functions get the environment the template
// gives them (floors and hello the function's, with the floor's requests), with the
// SDK endpoints pointing at meters of their own, so that what a first invocation asks
// of AWS is seen and given to its floor, and at a bus without rules, so that what a
// start publishes runs nothing downstream during the next.
func measureColdStarts(ctx context.Context, fns, floors []*bootstrap, hello *bootstrap, cs coldSetup, rounds int, logf func(string, ...any)) (map[string]*ColdStart, error) {
	out := map[string]*ColdStart{}
	floorOf := map[string]*bootstrap{}
	for _, f := range floors {
		floorOf[strings.TrimPrefix(f.Short, "floor-")] = f
	}
	// One unmeasured start each: the binaries into the page cache, and the requests of
	// each function's first invocation for its floor.
	for _, b := range fns {
		cfg, ok := cs.configs[b.Name]
		if !ok {
			return nil, fmt.Errorf("no configuration for %s", b.Name)
		}
		payload, err := cs.payload(b.Short, -1)
		if err != nil {
			return nil, err
		}
		r, err := coldOnce(ctx, cs, b, cfg, coldEnv(cfg.Env, cs, nil), payload)
		if err != nil {
			return nil, err
		}
		c := &ColdStart{bootstrap: b, Clients: cs.clients[b.Short], BinaryBytes: fileSize(b.Arm64), HostBytes: fileSize(b.Host)}
		for _, q := range r.requests {
			fr := floor.Request{Service: q.Service, Op: q.Op, Body: q.Body}
			c.Requests = append(c.Requests, fr.String())
			if floor.Supports(fr) && slices.Contains(c.Clients, fr.Service) {
				c.requests = append(c.requests, fr)
			} else {
				c.Unreplayed = append(c.Unreplayed, fr.String())
			}
		}
		c.floorEnv = coldEnv(cfg.Env, cs, []string{floor.Env + "=" + floor.Format(c.requests), floor.QueueEnv + "=" + cs.queueURL})
		if f := floorOf[b.Short]; f != nil {
			c.Floor = &ColdStart{bootstrap: f, HostBytes: fileSize(f.Host)}
			if _, err := coldOnce(ctx, cs, f, cfg, c.floorEnv, nil); err != nil {
				return nil, fmt.Errorf("floor of %s: %w", b.Short, err)
			}
		}
		out[b.Short] = c
	}
	base := cs.configs[fns[0].Name]
	bare := &ColdStart{bootstrap: hello, HostBytes: fileSize(hello.Host)}
	if _, err := coldOnce(ctx, cs, hello, base, coldEnv(base.Env, cs, nil), nil); err != nil {
		return nil, err
	}
	out["hello"] = bare

	type sample struct{ init, first, aws, total []float64 }
	samples := map[*ColdStart]*sample{}
	ratios := map[*ColdStart][]float64{}
	bareRatios := map[*ColdStart][]float64{}
	type run struct {
		c   *ColdStart
		fn  *ColdStart // the function, for a floor
		env []string
		cfg lambda.Config
	}
	var order []run
	for _, b := range fns {
		c := out[b.Short]
		cfg := cs.configs[b.Name]
		order = append(order, run{c: c, env: coldEnv(cfg.Env, cs, nil), cfg: cfg})
		if c.Floor != nil {
			order = append(order, run{c: c.Floor, fn: c, env: c.floorEnv, cfg: cfg})
		}
	}
	order = append(order, run{c: bare, env: coldEnv(base.Env, cs, nil), cfg: base})
	for r := range rounds {
		rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		got := map[*ColdStart]float64{}
		for _, o := range order {
			var payload []byte
			if o.fn == nil && o.c != bare {
				var err error
				if payload, err = cs.payload(o.c.bootstrap.Short, r); err != nil {
					return nil, err
				}
			}
			res, err := coldOnce(ctx, cs, o.c.bootstrap, o.cfg, o.env, payload)
			if err != nil {
				return nil, err
			}
			s := samples[o.c]
			if s == nil {
				s = &sample{}
				samples[o.c] = s
			}
			s.init, s.first, s.total = append(s.init, ms(res.init)), append(s.first, ms(res.first)), append(s.total, ms(res.init+res.first))
			var aws time.Duration
			for _, q := range res.requests {
				aws += q.Took
			}
			s.aws = append(s.aws, ms(aws))
			got[o.c] = ms(res.init + res.first)
		}
		for _, o := range order {
			bareRatios[o.c] = append(bareRatios[o.c], got[o.c]/got[bare])
			if o.fn == nil && o.c.Floor != nil {
				ratios[o.c] = append(ratios[o.c], got[o.c]/got[o.c.Floor])
			}
		}
		if (r+1)%5 == 0 || r+1 == rounds {
			logf("cold starts: round %d/%d", r+1, rounds)
		}
	}
	for c, s := range samples {
		c.InitMs, c.FirstMs, c.TotalMs = round(median(s.init), 3), round(median(s.first), 3), round(median(s.total), 3)
		c.FirstAWSMs = round(median(s.aws), 3)
		c.Samples = len(s.total)
		c.BareRatio = round(median(bareRatios[c]), 3)
		if rs := ratios[c]; len(rs) > 0 {
			c.Ratio = round(median(rs), 3)
		} else {
			c.Ratio = c.BareRatio
		}
	}
	bare.BareRatio = 0
	var err error
	for _, c := range out {
		for _, x := range []*ColdStart{c, c.Floor} {
			if x == nil {
				continue
			}
			if x.Inits, err = traceInits(ctx, x.bootstrap.Host, 7); err != nil {
				return nil, err
			}
		}
		if c.Floor != nil {
			c.ExtraInits = extraInits(c.Inits, c.Floor.Inits)
		}
	}
	return out, nil
}

// coldResult is one cold start: its init, its first invocation and what that asked of
// AWS.
type coldResult struct {
	init, first time.Duration
	requests    []captured
}

// coldOnce starts b in a new instance with env and invokes it once with payload.
func coldOnce(ctx context.Context, cs coldSetup, b *bootstrap, cfg lambda.Config, env []string, payload []byte) (coldResult, error) {
	cfg.Binary = b.Host
	cfg.Env = env
	cfg.MaxConcurrency = 1
	cfg.Stdout, cfg.Stderr, cfg.Logger = nil, nil, nil
	reports := make(chan lambda.Report, 4)
	cfg.Report = func(r lambda.Report) { reports <- r }
	for _, m := range cs.meters {
		m.Trace(true)
	}
	fn, err := lambda.New(cfg)
	if err != nil {
		return coldResult{}, err
	}
	defer fn.Close()
	ictx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := fn.Invoke(ictx, payload)
	var res coldResult
	for _, m := range cs.meters {
		res.requests = append(res.requests, m.Trace(false)...)
	}
	slices.SortStableFunc(res.requests, func(a, b captured) int { return a.At.Compare(b.At) })
	if err != nil {
		return res, fmt.Errorf("cold start of %s: %w", b.Short, err)
	}
	if err := checkResponse(resp); err != nil {
		return res, fmt.Errorf("cold start of %s: %w", b.Short, err)
	}
	for got := 0; got < 2; got++ {
		select {
		case r := <-reports:
			if r.RequestID == "" {
				res.init = r.InitDuration
			} else {
				res.first = r.Duration
			}
		case <-time.After(5 * time.Second):
			return res, fmt.Errorf("cold start of %s: no report of its init and invocation", b.Short)
		}
	}
	for _, q := range res.requests {
		if q.Status == 400 && q.Service == "dynamodb" && bytes.Contains(q.Body, []byte("ConditionExpression")) {
			// A conditional write refused (a floor replaying a rate bucket's write
			// whose version has moved on): the round trip was made.
			continue
		}
		if q.Status >= 300 {
			return res, fmt.Errorf("cold start of %s: %s.%s answered HTTP %d", b.Short, q.Service, q.Op, q.Status)
		}
	}
	return res, nil
}

// checkResponse fails a first invocation that did not do its work: an HTTP answer
// other than 2xx, or batch items reported failed.
func checkResponse(resp []byte) error {
	var r struct {
		StatusCode        int             `json:"statusCode"`
		Body              string          `json:"body"`
		BatchItemFailures json.RawMessage `json:"batchItemFailures"`
	}
	if json.Unmarshal(resp, &r) != nil {
		return nil
	}
	if r.StatusCode != 0 && r.StatusCode/100 != 2 {
		return fmt.Errorf("HTTP %d: %s", r.StatusCode, r.Body)
	}
	if len(r.BatchItemFailures) > 2 { // more than []
		return fmt.Errorf("batch item failures %s", r.BatchItemFailures)
	}
	return nil
}

// coldEnv is env with the SDK endpoints of the cold starts' meters, and extra.
func coldEnv(env []string, cs coldSetup, extra []string) []string {
	out := make([]string, 0, len(env)+len(extra))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if svc, ok := strings.CutPrefix(name, "AWS_ENDPOINT_URL_"); ok {
			if m, ok := cs.meters[strings.ToLower(svc)]; ok {
				kv = name + "=" + m.URL
			}
		}
		out = append(out, kv)
	}
	return append(out, extra...)
}

// extraInits are the packages whose initialization fn's start has and floor's has not,
// slowest first.
func extraInits(fn, fl *InitTrace) []PackageInit {
	if fn == nil || fl == nil {
		return nil
	}
	var out []PackageInit
	for pkg, v := range fn.all {
		if _, ok := fl.all[pkg]; !ok && v > 0 {
			out = append(out, PackageInit{Package: pkg, Ms: round(v, 3)})
		}
	}
	slices.SortFunc(out, func(a, b PackageInit) int { return cmpFloat(b.Ms, a.Ms) })
	return out[:min(len(out), 8)]
}

// coldPayloads builds the first invocation of each function for a round: a fresh event
// in each (its own id), so that every start does the work of a new event. The
// templates are the entries one event put on the bus on its way through the warm
// stack.
type coldPayloads struct {
	run        string
	p          *producer
	adminToken string
	templateID string
	templateKey,
	source string
	entries map[string]string // Detail by DetailType
	keyOf   func(source, id string) string
}

func (cp *coldPayloads) payload(fn string, round int) ([]byte, error) {
	id := fmt.Sprintf("%s-cold-%s-%d", cp.run, fn, round+1)
	if round < 0 {
		id = fmt.Sprintf("%s-cold-%s-warm", cp.run, fn)
	}
	renamed := func(detailType string) ([]byte, error) {
		d, ok := cp.entries[detailType]
		if !ok {
			return nil, fmt.Errorf("no %s entry seen on the bus for the cold starts' template event", detailType)
		}
		d = strings.ReplaceAll(d, cp.templateKey, cp.keyOf(cp.source, id))
		d = strings.ReplaceAll(d, cp.templateID, id)
		return json.Marshal(events.EventBridgeEvent{
			Version: "0", ID: id, DetailType: detailType, Source: sourceOf[detailType],
			AccountID: stack.Account, Time: time.Now().UTC(), Region: stack.Region, Resources: []string{},
			Detail: json.RawMessage(d),
		})
	}
	switch fn {
	case "ingest":
		_, body := cp.p.nextWithID(id)
		return json.Marshal(apiRequest("POST", "/events", "Bearer "+cp.p.token, "application/cloudevents+json", string(body)))
	case "normalize":
		return renamed("Event Received")
	case "persist":
		return renamed("Event Normalized")
	case "notify":
		return renamed("Event Stored")
	case "api":
		return json.Marshal(apiRequest("GET", "/subscriptions", "Bearer "+cp.adminToken, "", ""))
	case "replay":
		return json.Marshal(events.SQSEvent{Records: []events.SQSMessage{{
			MessageId: id, Body: `{"replayId":"rpl_bench_gone"}`, EventSource: "aws:sqs", AWSRegion: stack.Region,
		}}})
	}
	return nil, errors.New("no first invocation for function " + fn + ": add one to infra/bench/coldstart.go")
}

// sourceOf is the EventBridge source of each pipeline entry.
var sourceOf = map[string]string{"Event Received": "eventhub.ingest", "Event Normalized": "eventhub.normalize", "Event Stored": "eventhub.persist"}

func apiRequest(method, path, auth, contentType, body string) events.APIGatewayV2HTTPRequest {
	h := map[string]string{"authorization": auth}
	if contentType != "" {
		h["content-type"] = contentType
	}
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: method + " " + path, RawPath: path, Headers: h, Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: method + " " + path, Stage: "$default", RequestID: randomRequestID(), TimeEpoch: time.Now().UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, Protocol: "HTTP/1.1", SourceIP: "127.0.0.1"},
		},
	}
}

func randomRequestID() string { return fmt.Sprintf("bench-%016x", rand.Uint64()) }

// busTap keeps the entries the bus accepted while it is armed.
type busTap struct {
	mu      sync.Mutex
	armed   bool
	entries []tapEntry
}

type tapEntry struct{ Source, DetailType, Detail string }

// observe is the stack's FailEntry hook: it fails nothing.
func (t *busTap) observe(e eventbridge.Entry) (code, message string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.armed {
		t.entries = append(t.entries, tapEntry{e.Source, e.DetailType, e.Detail})
	}
	return "", ""
}

func (t *busTap) arm(on bool) []tapEntry {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entries
	t.entries, t.armed = nil, on
	return e
}

// coldReason says where a function's start goes above its floor's: the packages it
// initializes that the floor does not, and its first invocation against the floor's
// (the same requests).
func coldReason(name string, c *ColdStart) string {
	if c.Floor == nil {
		return ""
	}
	var pkgs []string
	for _, p := range c.ExtraInits[:min(len(c.ExtraInits), 4)] {
		pkgs = append(pkgs, fmt.Sprintf("%s %.2f ms", strings.TrimPrefix(p.Package, "github.com/eventhub/eventhub/"), p.Ms))
	}
	s := fmt.Sprintf("%s: init %.2f ms against the floor's %.2f (package inits %.2f against %.2f; only in %s: %s); first invocation %.2f ms against %.2f: %.2f against %.2f waiting for the same %d AWS requests, %.2f against %.2f in its own code, the SDK's client side and other I/O",
		name, c.InitMs, c.Floor.InitMs, initTotal(c.Inits), initTotal(c.Floor.Inits), name, strings.Join(pkgs, ", "),
		c.FirstMs, c.Floor.FirstMs, c.FirstAWSMs, c.Floor.FirstAWSMs, len(c.requests), c.FirstMs-c.FirstAWSMs, c.Floor.FirstMs-c.Floor.FirstAWSMs)
	if len(c.Unreplayed) > 0 {
		s += fmt.Sprintf(" (the floor does not make %s)", strings.Join(c.Unreplayed, ", "))
	}
	return s
}

func initTotal(t *InitTrace) float64 {
	if t == nil {
		return 0
	}
	return t.TotalMs
}

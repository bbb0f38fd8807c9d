// Package stack assembles eventhub's local stack from template.yaml: the service
// emulators, the functions' real bootstraps under the local Lambda runtime, the
// EventBridge rules, the SQS event source mappings and the HTTP API.
package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/eventhub/eventhub/infra/local/emulators"
	"github.com/eventhub/eventhub/infra/local/eventbridge"
	"github.com/eventhub/eventhub/infra/local/faultproxy"
	"github.com/eventhub/eventhub/infra/local/httpapi"
	"github.com/eventhub/eventhub/infra/local/lambda"
	"github.com/eventhub/eventhub/infra/local/lambdaapi"
	"github.com/eventhub/eventhub/infra/local/sqsmap"
	"github.com/eventhub/eventhub/infra/local/sqsquery"
	"github.com/eventhub/eventhub/infra/local/template"
	"github.com/eventhub/eventhub/shared/auth"
)

// Local account, region and stage.
const (
	Region  = "us-east-1"
	Account = "000000000000"
	Stage   = "local"
)

// Options configures a stack. Zero values are usable except Root.
type Options struct {
	Root       string // the repository: template.yaml and functions/ are read from here
	Template   string // the template to run; default Root/template.yaml
	APIAddr    string // where the HTTP API listens; default 127.0.0.1:3000; port 0 picks one
	DataDir    string // DynamoDB Local's files; "" keeps the tables in memory
	BinDir     string // where bootstraps are built; default Root/.eventhub/bin
	AdminToken string // default: a new random token
	// Params overrides template parameters. The stack sets Stage=local and
	// AdminTokenSha256 from AdminToken unless given. Webhooks may reach loopback
	// (ALLOW_LOOPBACK_DESTINATIONS, set beside the template's variables, as the
	// emulators' endpoints are): receivers on a developer's machine listen there.
	// Private and link-local addresses and the metadata service stay unreachable.
	Params map[string]string
	Logger *slog.Logger // the stack's own progress; default discards
	// FunctionOutput receives the functions' log lines, prefixed with the function
	// name; default discards.
	FunctionOutput io.Writer
	// FunctionLines, if set, is given every line the functions write, unprefixed:
	// for a reader of their metric lines (infra/local/metricsum).
	FunctionLines func(line []byte)
	// AsyncRetryDelays are the delays of Lambda's asynchronous retries (AWS: about 1
	// and 2 minutes); default 1s, 2s.
	AsyncRetryDelays []time.Duration
	// FailEntry lets a fault-injection harness fail PutEvents entries on the local bus.
	FailEntry func(eventbridge.Entry) (code, message string)
	// MaxConcurrency caps the instances of each function; default 4.
	MaxConcurrency int
	// Report receives each function's init and invocation reports (see
	// lambda.Config.Report), for a harness that measures them.
	Report func(function string, r lambda.Report)
	// Ports are the loopback ports the emulators should listen on, each used when
	// it is free (0 or busy: any free port), so that endpoints a user noted survive
	// a restart of `make run`.
	Ports Ports
	// BusStateFile keeps the rules, targets, connections and API destinations made
	// through the EventBridge API across restarts; "" keeps them in memory.
	BusStateFile string
	// Intercept, if set, is given the endpoint of each emulator the functions use
	// ("dynamodb", "sqs", "eventbridge") and returns the endpoint to give them
	// instead, so that a harness can sit in between (to count or delay requests).
	// The stack's own clients keep the direct endpoints.
	Intercept func(service, endpoint string) string
	// Faults injects failures for a chaos harness (infra/chaos); the zero value
	// injects none.
	Faults Faults
}

// Ports are the preferred ports of the emulators.
type Ports struct {
	DynamoDB, SQS, EventBridge, Lambda int
}

// DefaultPorts are the emulators' ports make run asks for on a first start, the ones
// events/env.json names (the HTTP API's is 3000, as for sam local start-api); a busy
// one is replaced by a free port.
var DefaultPorts = Ports{DynamoDB: 8000, SQS: 9324, EventBridge: 9195, Lambda: 3001}

// freePort returns port if it is free on 127.0.0.1, else 0 (any free port).
func freePort(port int) int {
	if port == 0 {
		return 0
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return 0
	}
	ln.Close()
	return port
}

// listenPreferring listens on 127.0.0.1:port when it is free, else on any free port.
func listenPreferring(port int) (net.Listener, error) {
	if port != 0 {
		if ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
			return ln, nil
		}
	}
	return net.Listen("tcp", "127.0.0.1:0")
}

// Faults are the failures a chaos harness can inject into a running stack, besides
// Options.FailEntry (PutEvents partial failures) and lambda.Function.KillBusy
// (processes killed mid-invocation). Fault injection lives in the local stack only,
// never in the functions.
type Faults struct {
	// ThrottleDynamoDB, when set, puts a proxy between the functions and DynamoDB
	// Local that asks it about every request, by operation ("PutItem"), and answers
	// those it returns true for with ProvisionedThroughputExceededException. The
	// stack's own client (Stack.DB) goes direct.
	ThrottleDynamoDB func(op string) bool
	// DropSQSDelete, when set, is asked about every message the SQS event source
	// mappings delete ("DeleteMessageBatch"); true reports it deleted without
	// deleting it, so it is received again after the queue's visibility timeout.
	DropSQSDelete func(op string) bool
	// VisibilityTimeout overrides the template's visibility timeout of queues, by
	// logical id, so that redeliveries happen within a bounded run.
	VisibilityTimeout map[string]time.Duration
}

// Stack is a running local stack.
type Stack struct {
	APIURL      string
	AdminToken  string
	DynamoDB    string // endpoints
	SQS         string
	EventBridge string
	Lambda      string // the Invoke API
	Table       string // physical names
	Bus         string
	Queues      map[string]emulators.QueueInfo // by logical id

	Template  *template.Template
	Functions map[string]*lambda.Function // by logical id
	Bridge    *eventbridge.Emulator
	DB        *dynamodb.Client
	SQSClient *sqs.Client

	log        *slog.Logger
	queueByARN map[string]emulators.QueueInfo // the template's queues
	async      []*lambda.Async
	asyncOf    map[string]*lambda.Async // by function logical id
	fnCfg      map[string]lambda.Config // by logical id, for FunctionWith
	servers    []*http.Server
	dynamo     *emulators.DynamoDB
	sqsEmu     *emulators.SQS
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	closers    []func() error
}

// Start builds the functions and starts everything. On error, whatever was started
// is stopped again.
func Start(ctx context.Context, opts Options) (st *Stack, err error) {
	if opts.Root == "" {
		return nil, errors.New("stack: Options.Root is required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.APIAddr == "" {
		opts.APIAddr = "127.0.0.1:3000"
	}
	if opts.BinDir == "" {
		opts.BinDir = filepath.Join(opts.Root, ".eventhub", "bin")
	}
	if opts.AdminToken == "" {
		opts.AdminToken = auth.NewToken(auth.AdminPrefix)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	st = &Stack{AdminToken: opts.AdminToken, log: log, cancel: cancel, Functions: map[string]*lambda.Function{}, fnCfg: map[string]lambda.Config{}, asyncOf: map[string]*lambda.Async{}}
	defer func() {
		if err != nil {
			_ = st.Close()
			st = nil
		}
	}()

	if opts.Template == "" {
		opts.Template = filepath.Join(opts.Root, "template.yaml")
	}
	log.Info("reading template", "path", opts.Template)
	tpl, err := template.Load(opts.Template)
	if err != nil {
		return st, err
	}
	st.Template = tpl
	for _, n := range tpl.Notes {
		log.Info(n.Msg, "path", n.Path, "line", n.Line)
	}
	for _, w := range tpl.Warnings {
		log.Warn(w.Msg, "path", w.Path, "line", w.Line)
	}

	if err := emulators.EnsureInstalled(ctx, opts.Root, log); err != nil {
		return st, err
	}

	// Build and start the emulators at the same time: both take seconds.
	var binaries map[string]string
	var buildErr, dynErr, sqsErr error
	var wg sync.WaitGroup
	wg.Go(func() { binaries, buildErr = Build(ctx, opts.Root, opts.BinDir, tpl.Functions, log) })
	wg.Go(func() {
		log.Info("starting DynamoDB Local", "data", dataDesc(opts.DataDir))
		st.dynamo, dynErr = emulators.StartDynamoDB(runCtx, emulators.DynamoConfig{
			RepoRoot: opts.Root, DataDir: opts.DataDir, Logger: log, Port: freePort(opts.Ports.DynamoDB),
		})
	})
	wg.Go(func() {
		log.Info("starting the SQS emulator (fauxqs)")
		st.sqsEmu, sqsErr = emulators.StartSQS(runCtx, emulators.SQSConfig{RepoRoot: opts.Root, Logger: log})
	})
	wg.Wait()
	if err := errors.Join(buildErr, dynErr, sqsErr); err != nil {
		return st, err
	}
	st.DynamoDB = st.dynamo.Endpoint
	// fauxqs answers SQS's JSON protocol only: everyone reaches it through a front that
	// also answers the query protocol of older CLIs and SDKs, on the stable port.
	front, err := sqsquery.New(st.sqsEmu.Endpoint)
	if err != nil {
		return st, err
	}
	sqsLn, err := listenPreferring(opts.Ports.SQS)
	if err != nil {
		return st, fmt.Errorf("listen for SQS: %w", err)
	}
	st.serve(sqsLn, front)
	st.SQS = "http://" + sqsLn.Addr().String()
	st.DB = emulators.NewDynamoClient(st.DynamoDB, Region)
	st.SQSClient = emulators.NewSQSClient(st.SQS, Region)
	fnDynamo, mapSQS, err := st.faultProxies(opts.Faults)
	if err != nil {
		return st, err
	}

	// Parameters and physical names.
	params := map[string]string{"Stage": Stage}
	for k, v := range opts.Params {
		params[k] = v
	}
	if _, ok := params["AdminTokenSha256"]; !ok {
		params["AdminTokenSha256"] = auth.Hash(opts.AdminToken)
	}
	locals, err := template.NewLocals(tpl, Region, Account, "eventhub-"+Stage, params)
	if err != nil {
		return st, err
	}

	tableNames := map[string]string{}
	for _, t := range tpl.Tables {
		name := "eventhub-" + Stage + "-" + t.LogicalID
		tableNames[t.LogicalID] = name
		locals.Set(t.LogicalID, "", name)
		locals.Set(t.LogicalID, "Arn", fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", Region, Account, name))
	}
	if len(tpl.Tables) > 0 {
		st.Table = tableNames[tpl.Tables[0].LogicalID]
	}
	log.Info("creating tables", "tables", len(tableNames))
	if err := emulators.CreateTables(ctx, st.DB, tpl.Tables, tableNames); err != nil {
		return st, err
	}
	queueNames := map[string]string{}
	for _, q := range tpl.Queues {
		queueNames[q.LogicalID] = "eventhub-" + Stage + "-" + q.LogicalID
	}
	queues, err := withVisibility(tpl.Queues, opts.Faults.VisibilityTimeout)
	if err != nil {
		return st, err
	}
	log.Info("creating queues", "queues", len(queueNames))
	st.Queues, err = emulators.CreateQueues(ctx, st.SQSClient, queues, queueNames)
	if err != nil {
		return st, err
	}
	queueByARN := map[string]emulators.QueueInfo{}
	for id, q := range st.Queues {
		locals.Set(id, "", q.URL)
		locals.Set(id, "Arn", q.ARN)
		locals.Set(id, "QueueName", q.Name)
		locals.Set(id, "QueueUrl", q.URL)
		queueByARN[q.ARN] = q
	}

	var buses []string
	for _, b := range tpl.Buses {
		name, err := b.Name.Resolve(locals)
		if err != nil {
			return st, fmt.Errorf("bus %s name: %w", b.LogicalID, err)
		}
		buses = append(buses, name)
		locals.Set(b.LogicalID, "", name)
		locals.Set(b.LogicalID, "Name", name)
		locals.Set(b.LogicalID, "Arn", fmt.Sprintf("arn:aws:events:%s:%s:event-bus/%s", Region, Account, name))
		st.Bus = name
	}
	for _, f := range tpl.Functions {
		locals.Set(f.LogicalID, "", f.LogicalID)
		locals.Set(f.LogicalID, "Arn", functionARN(f.LogicalID))
	}
	locals.Set("HttpApi", "", "local")
	locals.Set("ServerlessHttpApi", "", "local")

	// The bus listener first: functions need its address.
	ebLn, err := listenPreferring(opts.Ports.EventBridge)
	if err != nil {
		return st, fmt.Errorf("listen for the EventBridge emulator: %w", err)
	}
	st.EventBridge = "http://" + ebLn.Addr().String()
	lambdaLn, err := listenPreferring(opts.Ports.Lambda)
	if err != nil {
		ebLn.Close()
		return st, fmt.Errorf("listen for the Lambda Invoke API: %w", err)
	}
	st.Lambda = "http://" + lambdaLn.Addr().String()
	// The HTTP API's too: its URL is the ApiEndpoint of the template's HTTP API, which
	// persist puts in the dataref of events it stores without their data.
	apiLn, err := net.Listen("tcp", opts.APIAddr)
	if err != nil {
		ebLn.Close()
		lambdaLn.Close()
		return st, fmt.Errorf("listen for the HTTP API on %s: %w", opts.APIAddr, err)
	}
	st.APIURL = "http://" + apiLn.Addr().String()
	locals.Set("HttpApi", "ApiEndpoint", st.APIURL)
	locals.Set("ServerlessHttpApi", "ApiEndpoint", st.APIURL)
	closeListeners := func() {
		ebLn.Close()
		lambdaLn.Close()
		apiLn.Close()
	}

	// Functions.
	out := opts.FunctionOutput
	endpoint := func(service, url string) string {
		if opts.Intercept == nil {
			return url
		}
		return opts.Intercept(service, url)
	}
	for _, f := range tpl.Functions {
		env, err := tpl.ResolveEnv(f, locals)
		if err != nil {
			closeListeners()
			return st, fmt.Errorf("environment of %s: %w", f.LogicalID, err)
		}
		// The template's variables first: the stack's endpoints below win over the
		// empty AWS_ENDPOINT_URL_* the template declares for sam local invoke.
		var vars []string
		for _, k := range slices.Sorted(maps.Keys(env)) {
			vars = append(vars, k+"="+env[k])
		}
		vars = append(vars,
			"AWS_ENDPOINT_URL_DYNAMODB="+endpoint("dynamodb", fnDynamo),
			"AWS_ENDPOINT_URL_SQS="+endpoint("sqs", st.SQS),
			"AWS_ENDPOINT_URL_EVENTBRIDGE="+endpoint("eventbridge", st.EventBridge),
			"AWS_ENDPOINT_URL_LAMBDA="+endpoint("lambda", st.Lambda),
			"AWS_ACCESS_KEY_ID=local",
			"AWS_SECRET_ACCESS_KEY=local",
			"AWS_SESSION_TOKEN=local",
			"AWS_EC2_METADATA_DISABLED=true",
			// Local receivers listen on loopback; nothing in template.yaml can set it.
			"ALLOW_LOOPBACK_DESTINATIONS=true",
		)
		if f.LoggingConfig.LogFormat != "" {
			vars = append(vars, "AWS_LAMBDA_LOG_FORMAT="+f.LoggingConfig.LogFormat)
		}
		if f.LoggingConfig.ApplicationLogLevel != "" {
			vars = append(vars, "AWS_LAMBDA_LOG_LEVEL="+f.LoggingConfig.ApplicationLogLevel)
		}
		cfg := lambda.Config{
			Name:           f.LogicalID,
			Binary:         binaries[f.LogicalID],
			Env:            vars,
			Timeout:        time.Duration(f.Timeout) * time.Second,
			MemoryMB:       f.MemorySize,
			MaxConcurrency: opts.MaxConcurrency,
			Region:         Region,
			Stdout:         observed(prefixed(out, f.LogicalID), opts.FunctionLines),
			Stderr:         prefixed(out, f.LogicalID),
			Logger:         log,
			Report:         reporter(opts.Report, f.LogicalID),
		}
		st.fnCfg[f.LogicalID] = cfg
		fn, err := lambda.New(cfg)
		if err != nil {
			closeListeners()
			return st, fmt.Errorf("function %s: %w", f.LogicalID, err)
		}
		st.Functions[f.LogicalID] = fn
		st.closers = append(st.closers, fn.Close)
	}

	// Every function's asynchronous invocation, as its EventInvokeConfig says: the
	// target of its rules and of Event invocations through the Invoke API.
	targets := map[string]lambdaapi.Target{}
	for _, f := range tpl.Functions {
		async := lambda.NewAsync(st.Functions[f.LogicalID], lambda.AsyncConfig{
			MaxRetryAttempts: asyncRetries(f.EventInvokeConfig.MaximumRetryAttempts),
			MaxEventAge:      time.Duration(f.EventInvokeConfig.MaximumEventAgeInSeconds) * time.Second,
			RetryDelays:      opts.AsyncRetryDelays,
			OnFailure:        st.onFailure(f, locals, queueByARN),
		})
		st.async = append(st.async, async)
		st.asyncOf[f.LogicalID] = async
		targets[f.LogicalID] = lambdaapi.Target{Invoke: st.Functions[f.LogicalID].Invoke, Send: async.Send, IsFunctionError: isFunctionError}
	}
	st.serve(lambdaLn, &lambdaapi.Server{Targets: targets, Region: Region, Account: Account, Logger: log.With("emulator", "lambda")})

	// Rules: the functions' EventBridgeRule events and the template's
	// AWS::Events::Rule resources; rules made through the API come from the state file.
	st.queueByARN = queueByARN
	rules, err := st.templateRules(tpl, locals)
	if err != nil {
		closeListeners()
		return st, err
	}
	guard, err := destinationGuard(locals.Params)
	if err != nil {
		closeListeners()
		return st, err
	}
	st.Bridge = eventbridge.New(buses, rules, eventbridge.Options{
		Account: Account, Region: Region, Logger: log.With("emulator", "eventbridge"), FailEntry: opts.FailEntry,
		Resolve: st.resolveTarget, Guard: guard, StateFile: opts.BusStateFile,
	})
	if err := st.Bridge.Load(); err != nil {
		closeListeners()
		return st, err
	}
	st.serve(ebLn, st.Bridge)

	// SQS event source mappings.
	for _, f := range tpl.Functions {
		for _, s := range f.SQSSources {
			arn, err := s.Queue.Resolve(locals)
			if err != nil {
				return st, fmt.Errorf("SQS source %s.%s: %w", f.LogicalID, s.Name, err)
			}
			q, ok := queueByARN[arn]
			if !ok {
				return st, fmt.Errorf("SQS source %s.%s: %s is not a queue of the template", f.LogicalID, s.Name, arn)
			}
			m := sqsmap.New(mapSQS, st.Functions[f.LogicalID], sqsmap.Config{
				QueueURL:                q.URL,
				QueueARN:                q.ARN,
				Region:                  Region,
				BatchSize:               s.BatchSize,
				MaxBatchingWindow:       time.Duration(s.MaximumBatchingWindowInSeconds) * time.Second,
				ReportBatchItemFailures: s.ReportBatchItemFailures(),
				Logger:                  log.With("mapping", f.LogicalID+"."+s.Name),
			})
			st.wg.Go(func() { _ = m.Run(runCtx) })
		}
	}

	// The HTTP API.
	var routes []httpapi.Route
	for _, f := range tpl.Functions {
		for _, r := range f.Routes {
			routes = append(routes, httpapi.Route{Method: r.Method, Path: r.Path, Function: f.LogicalID, Invoker: st.Functions[f.LogicalID]})
		}
	}
	api, err := httpapi.New(routes, httpapi.Options{
		IsFunctionError: isFunctionError,
		Logger:          log.With("emulator", "httpapi"),
	})
	if err != nil {
		apiLn.Close()
		return st, err
	}
	st.serve(apiLn, api)
	log.Info("local stack ready", "api", st.APIURL, "functions", len(st.Functions), "templateRules", len(rules))
	return st, nil
}

func reporter(report func(string, lambda.Report), name string) func(lambda.Report) {
	if report == nil {
		return nil
	}
	return func(r lambda.Report) { report(name, r) }
}

// faultProxies starts the proxies opts asks for and returns the DynamoDB endpoint the
// functions use and the SQS client of the event source mappings.
func (st *Stack) faultProxies(f Faults) (dynamoEndpoint string, mappings *sqs.Client, err error) {
	dynamoEndpoint, mappings = st.DynamoDB, st.SQSClient
	if f.ThrottleDynamoDB != nil {
		h, err := faultproxy.DynamoDB(st.DynamoDB, f.ThrottleDynamoDB)
		if err != nil {
			return "", nil, err
		}
		if dynamoEndpoint, err = st.listen("DynamoDB fault proxy", h); err != nil {
			return "", nil, err
		}
		st.log.Info("functions reach DynamoDB through a throttling proxy", "proxy", dynamoEndpoint)
	}
	if f.DropSQSDelete != nil {
		h, err := faultproxy.SQS(st.SQS, f.DropSQSDelete)
		if err != nil {
			return "", nil, err
		}
		endpoint, err := st.listen("SQS fault proxy", h)
		if err != nil {
			return "", nil, err
		}
		mappings = emulators.NewSQSClient(endpoint, Region)
		st.log.Info("event source mappings reach SQS through a proxy that drops deletes", "proxy", endpoint)
	}
	return dynamoEndpoint, mappings, nil
}

// listen serves h on a free loopback port and returns its URL.
func (st *Stack) listen(what string, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listen for the %s: %w", what, err)
	}
	st.serve(ln, h)
	return "http://" + ln.Addr().String(), nil
}

// withVisibility returns the queues with their visibility timeouts overridden.
func withVisibility(queues []template.Queue, override map[string]time.Duration) ([]template.Queue, error) {
	out := append([]template.Queue(nil), queues...)
	for id, d := range override {
		found := false
		for i := range out {
			if out[i].LogicalID == id {
				out[i].VisibilityTimeout = int(d / time.Second)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("visibility timeout override for %s: not a queue of the template", id)
		}
	}
	return out, nil
}

// FunctionWith returns a new Function running the bootstrap of the template's
// function logicalID with the environment the stack gives it, overridden by env
// (KEY=VALUE): for example notify with ALLOW_LOOPBACK_DESTINATIONS=false. It is not
// wired to any trigger; the caller invokes it and closes it.
func (st *Stack) FunctionWith(logicalID string, env ...string) (*lambda.Function, error) {
	cfg, ok := st.fnCfg[logicalID]
	if !ok {
		return nil, fmt.Errorf("no function %s in the template", logicalID)
	}
	cfg.Env = append(append([]string(nil), cfg.Env...), env...)
	return lambda.New(cfg)
}

func dataDesc(dir string) string {
	if dir == "" {
		return "in memory"
	}
	return dir
}

func functionARN(name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", Region, Account, name)
}

func isFunctionError(err error) bool {
	var fe *lambda.FunctionError
	return errors.As(err, &fe)
}

// asyncRetries maps EventInvokeConfig.MaximumRetryAttempts onto lambda.AsyncConfig,
// where zero means the default.
func asyncRetries(n int) int {
	if n == 0 {
		return lambda.NoRetries
	}
	return n
}

// onFailure sends Lambda's on-failure destination record to the function's OnFailure
// queue, as Lambda does for asynchronous invocations that used up their retries.
func (st *Stack) onFailure(f template.Function, locals *template.Locals, byARN map[string]emulators.QueueInfo) func(context.Context, []byte) error {
	dest := f.EventInvokeConfig.OnFailure
	if dest == nil {
		return nil
	}
	arn, err := dest.Destination.Resolve(locals)
	q, ok := byARN[arn]
	if err != nil || !ok || !strings.EqualFold(dest.Type, "SQS") {
		st.log.Warn("on-failure destination is not a local queue; failed invocations are only logged", "function", f.LogicalID, "destination", arn)
		return nil
	}
	s := &queueSender{client: st.SQSClient, url: q.URL}
	return s.Send
}

func (st *Stack) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	st.servers = append(st.servers, srv)
	st.wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			st.log.Error("server stopped", "addr", ln.Addr().String(), "error", err)
		}
	})
}

// Pending returns the events in flight on the bus and in the functions' asynchronous
// queues (queued, running or waiting for a retry).
func (st *Stack) Pending() int {
	busy := st.Bridge.Pending()
	for _, a := range st.async {
		busy += a.Pending()
	}
	return busy
}

// Backlog returns the events in flight on the bus ("bus") and in each function's
// asynchronous queue, by logical id.
func (st *Stack) Backlog() map[string]int {
	out := map[string]int{"bus": st.Bridge.Pending()}
	for id, a := range st.asyncOf {
		out[id] = a.Pending()
	}
	return out
}

// Idle waits until nothing is in flight on the bus or in the functions' asynchronous
// queues for a moment, or ctx ends.
func (st *Stack) Idle(ctx context.Context) error {
	quiet := 0
	for {
		if st.Pending() == 0 {
			quiet++
			if quiet >= 3 {
				return nil
			}
		} else {
			quiet = 0
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Close stops everything the stack started, the child processes included.
func (st *Stack) Close() error {
	var errs []error
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range st.servers {
		if err := s.Shutdown(shut); err != nil {
			errs = append(errs, err)
		}
	}
	if st.cancel != nil {
		st.cancel()
	}
	if st.Bridge != nil {
		errs = append(errs, st.Bridge.Close())
	}
	for _, a := range st.async {
		errs = append(errs, a.Close())
	}
	st.wg.Wait()
	for _, c := range st.closers {
		errs = append(errs, c())
	}
	if st.sqsEmu != nil {
		errs = append(errs, st.sqsEmu.Stop())
	}
	if st.dynamo != nil {
		errs = append(errs, st.dynamo.Stop())
	}
	return errors.Join(errs...)
}

// prefixed returns a writer that prefixes each line with the function's name.
// observed passes each line written to w to observe first; w may be nil (discard).
func observed(w io.Writer, observe func([]byte)) io.Writer {
	if observe == nil {
		return w
	}
	return observer{w: w, observe: observe}
}

type observer struct {
	w       io.Writer
	observe func([]byte)
}

// Write expects whole lines, as infra/local/lambda delivers them.
func (o observer) Write(b []byte) (int, error) {
	o.observe(b)
	if o.w == nil {
		return len(b), nil
	}
	return o.w.Write(b)
}

func prefixed(w io.Writer, name string) io.Writer {
	if w == nil {
		return nil
	}
	return &prefixWriter{w: w, prefix: []byte(name + " | ")}
}

type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix []byte
}

// Write expects whole lines, as infra/local/lambda delivers them.
func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := append(append([]byte{}, p.prefix...), b...)
	if _, err := p.w.Write(line); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Command bench measures eventhub's performance next to its baselines and writes
// .eventhub/bench.json (make bench):
//
//	go run ./infra/bench [-rounds 7] [-out .eventhub/bench.json]
//
// Every figure is a median over repeated runs, and every ratio is taken between two
// measurements made side by side in the same round, so that load from elsewhere on the
// machine weighs on both sides alike. See docs/performance.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/eventhub/eventhub/infra/local/lambda"
	"github.com/eventhub/eventhub/infra/local/stack"
	"github.com/eventhub/eventhub/infra/local/template"
)

// Result is .eventhub/bench.json.
type Result struct {
	GeneratedAt string  `json:"generated_at"`
	Go          string  `json:"go"`
	Host        Host    `json:"host"`
	Rounds      int     `json:"rounds"`
	Seconds     float64 `json:"seconds"`

	// ColdStartRatio is the worst function's init plus first invocation over its
	// floor's (a hello-world with the same SDK clients making the same requests).
	ColdStartRatio  float64               `json:"cold_start_ratio"`
	ColdStartWorst  string                `json:"cold_start_worst"`
	ColdStart       map[string]*ColdStart `json:"cold_start"`
	BinaryMaxBytes  int64                 `json:"binary_max_bytes"`
	BinaryMaxName   string                `json:"binary_max_function"`
	BinaryMaxReason string                `json:"binary_max_reason,omitempty"`

	NormalizeRatio       float64                 `json:"normalize_ratio"`
	Normalize            map[string]FormatFigure `json:"normalize"`
	NormalizeBase        string                  `json:"normalize_baseline"`
	Match1000Ns          float64                 `json:"match_1000_ns"`
	Match10000Ns         float64                 `json:"match_10000_ns"`
	Match10000DistinctNs float64                 `json:"match_10000_distinct_ns"`

	ChainRatio             float64      `json:"chain_ratio"`
	Chain                  ChainFigures `json:"chain"`
	ChainP50Ms             float64      `json:"chain_p50_ms"`
	ChainP99Ms             float64      `json:"chain_p99_ms"`
	Latency                Latency      `json:"latency"`
	FunctionsCPUMsPerEvent float64      `json:"functions_cpu_ms_per_event"`

	CostPerMillionUSD float64 `json:"cost_per_million_usd"`
	CostFloorUSD      float64 `json:"cost_floor_usd"`
	Cost              Cost    `json:"cost"`

	Scenes Scenes `json:"scenes"` // scenes.go

	Targets []Target `json:"targets"`
}

// Host describes the machine during the run.
type Host struct {
	CPUs      int       `json:"cpus"`
	OS        string    `json:"os"`
	Arch      string    `json:"arch"`
	LoadStart []float64 `json:"load_average_start"`
	LoadEnd   []float64 `json:"load_average_end"`
}

// ChainFigures are the throughput rounds.
type ChainFigures struct {
	EventsPerS float64 `json:"events_per_s"`
	// MixPerS is the baseline: events per second when the chain's own requests for
	// them are replayed straight at the emulators (mix.go).
	MixPerS        float64            `json:"mix_events_per_s"`
	Mix            map[string]float64 `json:"mix_requests_per_event"`
	Producers      int                `json:"producers"`
	EventsPerRound int                `json:"events_per_round"`
	MixEvents      int                `json:"mix_events_per_round"`
	Rounds         []ThroughputRound  `json:"rounds"`
	Lost           int                `json:"lost"`
	// Median CPU time by process per chain event and per replayed event.
	CPUMsPerEvent    map[string]float64 `json:"cpu_ms_per_event"`
	CPUMsPerMixEvent map[string]float64 `json:"cpu_ms_per_mix_event"`
	// FunctionsCPUMs is eventhub's four pipeline functions' share of CPUMsPerEvent.
	FunctionsCPUMs map[string]float64 `json:"functions_cpu_ms_per_event"`
	// Profile is where the functions' CPU went in one more burst (perf), by function.
	Profile     map[string]*FunctionProfile `json:"functions_profile,omitempty"`
	ProfileNote string                      `json:"functions_profile_note,omitempty"`
	Reason      string                      `json:"reason,omitempty"`
}

// Target is one goal of issue 12 and whether this run met it.
type Target struct {
	Key   string  `json:"key"`
	Value float64 `json:"value"`
	Goal  string  `json:"goal"`
	Met   bool    `json:"met"`
	// Why is the measured reason a target is not met, from the run's own profiles.
	Why string `json:"why,omitempty"`
}

type options struct {
	rounds, coldRounds, events, producers, latencyEvents int
	latencyRate                                          float64
	out                                                  string
	verbose                                              bool
	phases                                               map[string]bool
}

func main() {
	var o options
	flag.IntVar(&o.rounds, "rounds", 7, "rounds of each in-process and cold-start measurement")
	flag.IntVar(&o.coldRounds, "cold-rounds", 0, "rounds of cold starts (default max(15, 5 × rounds))")
	flag.IntVar(&o.events, "events", 400, "events per throughput round")
	flag.IntVar(&o.producers, "producers", 16, "concurrent producers in the throughput rounds")
	flag.IntVar(&o.latencyEvents, "latency-events", 100, "events per latency round")
	flag.Float64Var(&o.latencyRate, "latency-rate", 25, "events per second in the latency rounds")
	flag.StringVar(&o.out, "out", "", "where to write the results (default .eventhub/bench.json)")
	flag.BoolVar(&o.verbose, "v", false, "log the local stack's progress")
	phases := flag.String("phases", "cpu,cold,chain,fanout,isolation", "what to measure (a partial run is for development: its targets are incomplete)")
	flag.Parse()
	o.phases = map[string]bool{}
	for _, p := range strings.Split(*phases, ",") {
		o.phases[strings.TrimSpace(p)] = true
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	started := time.Now()
	root, err := stack.RepoRoot()
	if err != nil {
		return err
	}
	if o.out == "" {
		o.out = filepath.Join(root, ".eventhub", "bench.json")
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
	res := &Result{
		GeneratedAt: started.UTC().Format(time.RFC3339),
		Go:          runtime.Version(),
		Rounds:      o.rounds,
		Host:        Host{CPUs: runtime.NumCPU(), OS: runtime.GOOS, Arch: runtime.GOARCH, LoadStart: loadAverage()},
	}

	tpl, err := template.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return err
	}
	work := filepath.Join(root, ".eventhub", "bench")
	fns := functionBootstraps(tpl)
	hello := &bootstrap{Name: "hello", Short: "hello", Package: "./infra/bench/hello"}
	floors, clients, err := writeFloors(root, filepath.Join(work, "floors"), fns)
	if err != nil {
		return err
	}
	all := append(append(slices.Clone(fns), hello), floors...)
	logf("building %d bootstraps, %d cold-start floors and hello for linux/arm64 and for this machine (%s)", len(fns), len(floors), strings.Join(lambdaFlags, " "))
	if err := build(ctx, root, work, all); err != nil {
		return err
	}
	for _, b := range fns {
		if sz := fileSize(b.Arm64); sz > res.BinaryMaxBytes {
			res.BinaryMaxBytes, res.BinaryMaxName = sz, b.Short
		}
	}
	if res.BinaryMaxBytes > binaryTarget {
		for _, b := range fns {
			if b.Short == res.BinaryMaxName {
				if res.BinaryMaxReason, err = binaryProfile(ctx, root, work, b); err != nil {
					return err
				}
			}
		}
	}

	if o.phases["cpu"] {
		logf("normalizing and matching: %d interleaved rounds", o.rounds)
		cpu, err := measureCPU(root, o.rounds, logf)
		if err != nil {
			return err
		}
		res.NormalizeRatio, res.Normalize, res.NormalizeBase = round(cpu.NormalizeRatio, 3), cpu.Formats, cpu.Baseline
		res.Match1000Ns, res.Match10000Ns = round(cpu.Match1000Ns, 0), round(cpu.Match10000Ns, 0)
		res.Match10000DistinctNs = round(cpu.Match10000DistinctNs, 0)
	}

	// The local stack, with meters between the functions and DynamoDB, SQS and the bus.
	h := newHarness(tpl)
	logf("starting the local stack")
	var stackLog io.Writer = io.Discard
	if o.verbose {
		stackLog = os.Stderr
	}
	meters := map[string]*meter{}
	var meterErr error
	st, err := stack.Start(ctx, stack.Options{
		Root:           root,
		APIAddr:        "127.0.0.1:0",
		BinDir:         filepath.Join(work, "stack"),
		Logger:         slog.New(slog.NewTextHandler(stackLog, nil)),
		FunctionOutput: h.logs,
		Report:         h.report,
		FailEntry:      h.tap.observe,
		Intercept: func(service, endpoint string) string {
			// Called for each function: one meter per service serves them all.
			if service == "lambda" {
				return endpoint
			}
			m := meters[service]
			if m == nil {
				if m, meterErr = newMeter(endpoint, service, h.tables); meterErr != nil {
					return endpoint
				}
				meters[service] = m
			}
			return m.URL
		},
	})
	if err != nil {
		return fmt.Errorf("start the local stack: %w", err)
	}
	defer st.Close()
	for _, m := range meters {
		defer m.Close()
	}
	if meterErr != nil || len(meters) != 3 {
		return fmt.Errorf("meters: %v", meterErr)
	}
	h.tableName = st.Table

	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	sub, err := h.subscribe(ctx, st, run)
	if err != nil {
		return err
	}
	defer sub.rc.Close()

	if o.phases["cold"] {
		// Starts are short and the load on a shared machine comes in bursts: many rounds.
		coldRounds := max(15, o.rounds*5)
		if o.coldRounds > 0 {
			coldRounds = o.coldRounds
		}
		cs, err := h.coldSetup(ctx, st, sub, run, clients, tpl.Tables)
		if err != nil {
			return err
		}
		defer cs.Close()
		logf("cold starts: %d rounds of %d functions, their floors and hello", coldRounds, len(fns))
		res.ColdStart, err = measureColdStarts(ctx, fns, floors, hello, cs, coldRounds, logf)
		if err != nil {
			return err
		}
		for _, b := range fns {
			if c := res.ColdStart[b.Short]; c.Ratio > res.ColdStartRatio {
				res.ColdStartRatio, res.ColdStartWorst = c.Ratio, b.Short
			}
		}
		for name, c := range res.ColdStart {
			if name != "hello" && c.Ratio > coldStartTarget {
				c.Reason = coldReason(name, c)
			}
		}
	}
	if o.phases["chain"] {
		if err := h.chain(ctx, st, sub, o, res, meters, work, logf); err != nil {
			return err
		}
	}
	if o.phases["fanout"] || o.phases["isolation"] {
		if err := h.scenes(ctx, st, o, res, meters, logf); err != nil {
			return err
		}
	}

	res.Host.LoadEnd = loadAverage()
	res.Seconds = round(time.Since(started).Seconds(), 1)
	res.Targets = append(targets(res), sceneTargets(res)...)
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(o.out, append(b, '\n'), 0o644); err != nil {
		return err
	}
	printSummary(os.Stdout, res, o.out)
	printScenes(os.Stdout, res)
	return nil
}

// The targets of issue 12.
const (
	coldStartTarget = 1.15
	binaryTarget    = 10_000_000
	normalizeTarget = 1.5
	match1000Target = 10_000
	match10kTarget  = 20_000
	chainTarget     = 0.5
	p99Target       = 100
	costTarget      = 8.00
	functionsCPU    = 4.0
)

func targets(r *Result) []Target {
	var worst *ColdStart
	if c, ok := r.ColdStart[r.ColdStartWorst]; ok {
		worst = c
	}
	t := []Target{
		{Key: "cold_start_ratio", Value: r.ColdStartRatio, Goal: "<= 1.15", Met: r.ColdStartRatio > 0 && r.ColdStartRatio <= coldStartTarget},
		{Key: "binary_max_bytes", Value: float64(r.BinaryMaxBytes), Goal: "<= 10 MB (10,000,000 bytes)", Met: r.BinaryMaxBytes <= binaryTarget},
		{Key: "normalize_ratio", Value: r.NormalizeRatio, Goal: "<= 1.5", Met: r.NormalizeRatio > 0 && r.NormalizeRatio <= normalizeTarget},
		{Key: "match_1000_ns", Value: r.Match1000Ns, Goal: "<= 10,000", Met: r.Match1000Ns > 0 && r.Match1000Ns <= match1000Target},
		{Key: "match_10000_ns", Value: r.Match10000Ns, Goal: "<= 20,000", Met: r.Match10000Ns > 0 && r.Match10000Ns <= match10kTarget},
		{Key: "chain_ratio", Value: r.ChainRatio, Goal: ">= 0.5", Met: r.ChainRatio >= chainTarget, Why: r.Chain.Reason},
		{Key: "chain_p99_ms", Value: r.ChainP99Ms, Goal: "<= 100", Met: r.ChainP99Ms > 0 && r.ChainP99Ms <= p99Target},
		{Key: "functions_cpu_ms_per_event", Value: r.FunctionsCPUMsPerEvent, Goal: "<= 4.0", Met: r.FunctionsCPUMsPerEvent > 0 && r.FunctionsCPUMsPerEvent <= functionsCPU},
		{Key: "cost_per_million_usd", Value: r.CostPerMillionUSD, Goal: "<= 8.00 (floor " + fmt.Sprintf("%.2f", r.CostFloorUSD) + ")", Met: r.CostPerMillionUSD > 0 && r.CostPerMillionUSD <= costTarget},
	}
	for i := range t {
		switch t[i].Key {
		case "cold_start_ratio":
			if worst != nil {
				t[i].Why = worst.Reason
			}
		case "binary_max_bytes":
			t[i].Why = r.BinaryMaxReason
		case "functions_cpu_ms_per_event":
			t[i].Why = cpuReason(r.Chain.FunctionsCPUMs, r.Cost.PerEvent.Lambda)
			if p := profileReason(r.Chain.Profile); p != "" {
				t[i].Why += "; " + p
			}
		case "cost_per_million_usd":
			t[i].Why = costReason(r.Cost)
		}
		if t[i].Met {
			t[i].Why = ""
		}
	}
	return t
}

// harness collects what the stack reports while the chain runs.
type harness struct {
	tables    map[string]template.Table // by physical name, for the meter
	tableName string
	memory    map[string]int // MB by function
	logs      *logCounter
	tap       busTap

	mu        sync.Mutex
	recording bool
	durations map[string][]float64 // ms of each invocation, by function
	token     string               // the bench's producer source's (benchToken)
}

func newHarness(tpl *template.Template) *harness {
	h := &harness{tables: map[string]template.Table{}, memory: map[string]int{}, logs: newLogCounter(), durations: map[string][]float64{}}
	for _, t := range tpl.Tables {
		h.tables["eventhub-"+stack.Stage+"-"+t.LogicalID] = t
	}
	for _, f := range tpl.Functions {
		h.memory[f.LogicalID] = f.MemorySize
	}
	return h
}

func (h *harness) report(fn string, r lambda.Report) {
	if r.RequestID == "" {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.recording {
		h.durations[fn] = append(h.durations[fn], ms(r.Duration))
	}
}

// record starts (or stops) keeping invocation durations and returns those kept so far.
func (h *harness) record(on bool) map[string][]float64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.durations
	h.durations = map[string][]float64{}
	h.recording = on
	return d
}

// logCounter counts the functions' log lines and bytes, by function; the stack writes
// one line per Write, prefixed with "<function> | ".
type logCounter struct {
	mu    sync.Mutex
	bytes map[string]int
	lines map[string]int
}

func newLogCounter() *logCounter {
	return &logCounter{bytes: map[string]int{}, lines: map[string]int{}}
}

func (l *logCounter) Write(p []byte) (int, error) {
	name, line, ok := strings.Cut(string(p), " | ")
	if !ok {
		return len(p), nil
	}
	l.mu.Lock()
	l.bytes[name] += len(line)
	l.lines[name]++
	l.mu.Unlock()
	return len(p), nil
}

func (l *logCounter) take() (bytes, lines int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range l.bytes {
		bytes += b
	}
	for _, n := range l.lines {
		lines += n
	}
	l.bytes, l.lines = map[string]int{}, map[string]int{}
	return bytes, lines
}

// loadAverage is /proc/loadavg's 1, 5 and 15 minute figures, where there is one.
func loadAverage() []float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return nil
	}
	var l [3]float64
	if _, err := fmt.Sscan(string(b), &l[0], &l[1], &l[2]); err != nil {
		return nil
	}
	return l[:]
}

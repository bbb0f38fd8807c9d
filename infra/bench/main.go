// Command bench measures eventhub's performance next to its baselines and writes
// .eventhub/bench.json (make bench):
//
//	go run ./infra/bench [-rounds 7] [-out .eventhub/bench.json]
//
// Every figure is a median over repeated runs, and every ratio is taken between two
// measurements made side by side in the same round, so that load from elsewhere on the
// machine weighs on both sides alike. See the README's Performance section.
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

	ColdStartRatio float64               `json:"cold_start_ratio"`
	ColdStart      map[string]*ColdStart `json:"cold_start"`
	BinaryMaxBytes int64                 `json:"binary_max_bytes"`

	NormalizeRatio float64                 `json:"normalize_ratio"`
	Normalize      map[string]FormatFigure `json:"normalize"`
	NormalizeBase  string                  `json:"normalize_baseline"`
	Match1000Ns    float64                 `json:"match_1000_ns"`

	ChainRatio float64      `json:"chain_ratio"`
	Chain      ChainFigures `json:"chain"`
	ChainP50Ms float64      `json:"chain_p50_ms"`
	ChainP99Ms float64      `json:"chain_p99_ms"`
	Latency    Latency      `json:"latency"`

	CostPerMillionUSD float64 `json:"cost_per_million_usd"`
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
	EventsPerS     float64           `json:"events_per_s"`
	RawPutsPerS    float64           `json:"raw_conditional_puts_per_s"`
	Producers      int               `json:"producers"`
	EventsPerRound int               `json:"events_per_round"`
	Rounds         []ThroughputRound `json:"rounds"`
	Lost           int               `json:"lost"`
	// Median CPU time by process per chain event and per raw conditional put.
	CPUMsPerEvent  map[string]float64 `json:"cpu_ms_per_event"`
	CPUMsPerRawPut map[string]float64 `json:"cpu_ms_per_raw_put"`
}

// Target is one goal of issue 7 and whether this run met it.
type Target struct {
	Key   string  `json:"key"`
	Value float64 `json:"value"`
	Goal  string  `json:"goal"`
	Met   bool    `json:"met"`
}

type options struct {
	rounds, events, producers, latencyEvents int
	latencyRate                              float64
	out                                      string
	verbose                                  bool
	phases                                   map[string]bool
}

func main() {
	var o options
	flag.IntVar(&o.rounds, "rounds", 7, "rounds of each in-process and cold-start measurement")
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
	bs := bootstraps(tpl)
	logf("building %d bootstraps for linux/arm64 and for this machine (%s)", len(bs), strings.Join(lambdaFlags, " "))
	if err := build(ctx, root, work, bs); err != nil {
		return err
	}
	for _, b := range bs {
		if b.Short != "hello" {
			res.BinaryMaxBytes = max(res.BinaryMaxBytes, fileSize(b.Arm64))
		}
	}

	if o.phases["cpu"] {
		logf("normalizing and matching: %d interleaved rounds", o.rounds)
		cpu, err := measureCPU(root, o.rounds, logf)
		if err != nil {
			return err
		}
		res.NormalizeRatio, res.Normalize, res.NormalizeBase = round(cpu.NormalizeRatio, 3), cpu.Formats, cpu.Baseline
		res.Match1000Ns = round(cpu.Match1000Ns, 0)
	}

	// The local stack, with meters between the functions and DynamoDB and SQS.
	h := newHarness(tpl)
	logf("starting the local stack")
	var stackLog io.Writer = io.Discard
	if o.verbose {
		stackLog = os.Stderr
	}
	var ddbMeter, sqsMeter *meter
	var meterErr error
	st, err := stack.Start(ctx, stack.Options{
		Root:           root,
		APIAddr:        "127.0.0.1:0",
		BinDir:         filepath.Join(work, "stack"),
		Logger:         slog.New(slog.NewTextHandler(stackLog, nil)),
		FunctionOutput: h.logs,
		Report:         h.report,
		Intercept: func(service, endpoint string) string {
			// Called for each function: one meter per service serves them all.
			var m **meter
			switch service {
			case "dynamodb":
				m = &ddbMeter
			case "sqs":
				m = &sqsMeter
			default:
				return endpoint
			}
			if *m == nil {
				if *m, meterErr = newMeter(endpoint, service == "dynamodb", h.tables); meterErr != nil {
					return endpoint
				}
			}
			return (*m).URL
		},
	})
	if err != nil {
		return fmt.Errorf("start the local stack: %w", err)
	}
	defer st.Close()
	if meterErr != nil || ddbMeter == nil || sqsMeter == nil {
		return fmt.Errorf("meters: %v", meterErr)
	}
	defer ddbMeter.Close()
	defer sqsMeter.Close()
	h.tableName = st.Table

	configs := map[string]lambda.Config{}
	for name, fn := range st.Functions {
		configs[name] = fn.Config()
	}
	if o.phases["cold"] {
		// Starts are short and the load on a shared machine comes in bursts: many rounds.
		coldRounds := max(15, o.rounds*5)
		logf("cold starts: %d rounds of %d bootstraps", coldRounds, len(bs))
		res.ColdStart, err = measureColdStarts(ctx, bs, configs, coldRounds, logf)
		if err != nil {
			return err
		}
		for name, c := range res.ColdStart {
			if name != "hello" {
				res.ColdStartRatio = max(res.ColdStartRatio, c.Ratio)
			}
		}
	}
	if o.phases["chain"] {
		if err := h.chain(ctx, st, o, res, ddbMeter, sqsMeter, logf); err != nil {
			return err
		}
	}
	if o.phases["fanout"] || o.phases["isolation"] {
		if err := h.scenes(ctx, st, o, res, ddbMeter, sqsMeter, logf); err != nil {
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

func targets(r *Result) []Target {
	return []Target{
		{"cold_start_ratio", r.ColdStartRatio, "<= 1.25", r.ColdStartRatio <= 1.25},
		{"binary_max_bytes", float64(r.BinaryMaxBytes), "<= 10 MB (10,000,000 bytes)", r.BinaryMaxBytes <= 10_000_000},
		{"normalize_ratio", r.NormalizeRatio, "<= 1.5", r.NormalizeRatio <= 1.5},
		{"match_1000_ns", r.Match1000Ns, "<= 100,000", r.Match1000Ns <= 100_000},
		{"chain_ratio", r.ChainRatio, ">= 0.5", r.ChainRatio >= 0.5},
		{"chain_p99_ms", r.ChainP99Ms, "<= 250", r.ChainP99Ms > 0 && r.ChainP99Ms <= 250},
		{"cost_per_million_usd", r.CostPerMillionUSD, "<= 6.00", r.CostPerMillionUSD <= 6},
	}
}

// harness collects what the stack reports while the chain runs.
type harness struct {
	tables    map[string]template.Table // by physical name, for the meter
	tableName string
	memory    map[string]int // MB by function
	logs      *logCounter

	mu        sync.Mutex
	recording bool
	durations map[string][]float64 // ms of each invocation, by function
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

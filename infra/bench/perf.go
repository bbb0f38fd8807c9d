package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// perfHz is the sampling frequency of the functions' profile.
const perfHz = 997

// FunctionProfile is where one function's CPU went in a chain round, by the layer
// that spent it (perf samples with their call stacks): each sample counts for the
// innermost frame that belongs to eventhub, the AWS SDK or aws-lambda-go (the
// standard library and the runtime below them count for them); samples with no such
// frame are the Go runtime's own work (garbage collection, the scheduler).
type FunctionProfile struct {
	Samples    int                `json:"samples"`
	MsPerEvent map[string]float64 `json:"ms_per_event_by_layer"`
	// TopEventhub are the eventhub functions whose own code and callees took the most.
	TopEventhub []PackageInit `json:"top_eventhub_ms_per_event"`
}

// Layers of a profile.
const (
	layerEventhub = "eventhub"
	layerSDK      = "aws-sdk-go-v2 and smithy-go (requests: serialization, signing, HTTP, attributevalue)"
	layerLambda   = "aws-lambda-go (the runtime loop: next invocation, response, envelopes)"
	layerHTTP     = "net/http connections' own goroutines (reading and writing every request: the SDK's, the runtime API's, webhooks)"
	layerRuntime  = "Go runtime alone (garbage collection, scheduler)"
)

// profileFunctions samples the CPU of the pipeline functions' processes with perf
// while run runs, and returns each function's profile per event. It returns nil
// without perf (or without permission to use it).
func profileFunctions(ctx context.Context, dir string, events int, run func() error) (map[string]*FunctionProfile, string, error) {
	perf, err := exec.LookPath("perf")
	if err != nil {
		return nil, "no perf on this machine", run()
	}
	pids := functionPIDs()
	if len(pids) == 0 {
		return nil, "no function processes to profile", run()
	}
	var list []string
	for pid := range pids {
		list = append(list, strconv.Itoa(pid))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", err
	}
	data := filepath.Join(dir, "functions.perf")
	rec := exec.CommandContext(ctx, perf, "record", "-q", "-e", "cpu-clock", "-F", strconv.Itoa(perfHz), "-g", "-o", data, "-p", strings.Join(list, ","))
	var stderr bytes.Buffer
	rec.Stderr = &stderr
	if err := rec.Start(); err != nil {
		return nil, "perf record: " + err.Error(), run()
	}
	time.Sleep(200 * time.Millisecond) // perf attaches
	runErr := run()
	_ = rec.Process.Signal(syscall.SIGINT)
	if err := rec.Wait(); err != nil && !strings.Contains(err.Error(), "interrupt") {
		return nil, fmt.Sprintf("perf record: %v: %s", err, strings.TrimSpace(stderr.String())), runErr
	}
	if runErr != nil {
		return nil, "", runErr
	}
	out, err := exec.CommandContext(ctx, perf, "script", "-i", data, "-F", "pid,ip,sym").Output()
	if err != nil {
		return nil, "perf script: " + err.Error(), nil
	}
	return readProfile(out, pids, events), "", nil
}

// readProfile reads perf script's samples (a line with the pid, then one frame a
// line, innermost first, then a blank line).
func readProfile(out []byte, pids map[int]string, events int) map[string]*FunctionProfile {
	samples := map[string]map[string]int{}
	top := map[string]map[string]int{}
	var fn string
	var stack []string
	flush := func() {
		if fn == "" {
			return
		}
		layer, frame := attribute(stack)
		if samples[fn] == nil {
			samples[fn], top[fn] = map[string]int{}, map[string]int{}
		}
		samples[fn][layer]++
		if layer == layerEventhub {
			top[fn][frame]++
		}
		fn, stack = "", stack[:0]
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			flush()
		case line[0] != ' ' && line[0] != '\t':
			flush()
			pid, _ := strconv.Atoi(strings.TrimSpace(line))
			fn = pids[pid]
		default:
			if f := strings.Fields(line); len(f) > 0 {
				stack = append(stack, f[len(f)-1])
			}
		}
	}
	flush()
	perEvent := func(n int) float64 { return round(float64(n)/perfHz*1000/float64(max(events, 1)), 3) }
	profiles := map[string]*FunctionProfile{}
	for fn, byLayer := range samples {
		p := &FunctionProfile{MsPerEvent: map[string]float64{}}
		for layer, n := range byLayer {
			p.Samples += n
			p.MsPerEvent[layer] = perEvent(n)
		}
		frames := make([]string, 0, len(top[fn]))
		for f := range top[fn] {
			frames = append(frames, f)
		}
		slices.SortFunc(frames, func(a, b string) int { return top[fn][b] - top[fn][a] })
		for _, f := range frames[:min(5, len(frames))] {
			p.TopEventhub = append(p.TopEventhub, PackageInit{Package: strings.TrimPrefix(f, "github.com/eventhub/eventhub/"), Ms: perEvent(top[fn][f])})
		}
		profiles[fn] = p
	}
	return profiles
}

// attribute returns the layer of a sample's stack (innermost frame first) and, for
// eventhub, its innermost eventhub frame.
func attribute(stack []string) (layer, frame string) {
	for _, f := range stack {
		switch {
		case strings.HasPrefix(f, "github.com/eventhub/eventhub/") || strings.HasPrefix(f, "main."):
			return layerEventhub, f
		case strings.HasPrefix(f, "github.com/aws/aws-sdk-go-v2/") || strings.HasPrefix(f, "github.com/aws/smithy-go"):
			return layerSDK, ""
		case strings.HasPrefix(f, "github.com/aws/aws-lambda-go/"):
			return layerLambda, ""
		case strings.HasPrefix(f, "net/http.(*persistConn)") || strings.HasPrefix(f, "net/http.(*Transport)"):
			layer = layerHTTP
		}
	}
	if layer != "" {
		return layer, ""
	}
	return layerRuntime, ""
}

// functionPIDs are the processes below this one that run a pipeline function's
// bootstrap, by pid.
func functionPIDs() map[int]string {
	out := map[int]string{}
	for pid := range descendants() {
		if g := groupOf(pid); slices.Contains(pipelineFunctions, g) {
			out[pid] = g
		}
	}
	return out
}

// profileReason sums a profile up: each layer's CPU per event across the functions.
func profileReason(ps map[string]*FunctionProfile) string {
	if len(ps) == 0 {
		return ""
	}
	total := map[string]float64{}
	for _, p := range ps {
		for l, v := range p.MsPerEvent {
			total[l] += v
		}
	}
	layers := []string{layerEventhub, layerSDK, layerLambda, layerHTTP, layerRuntime}
	var parts []string
	for _, l := range layers {
		parts = append(parts, fmt.Sprintf("%s %.2f ms", l, total[l]))
	}
	return "perf, per event across the four functions: " + strings.Join(parts, "; ")
}

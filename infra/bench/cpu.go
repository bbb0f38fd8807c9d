package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/eventhub/eventhub/shared/adapter"
	"github.com/eventhub/eventhub/shared/adapter/format"
	"github.com/eventhub/eventhub/shared/pattern"
	"github.com/eventhub/eventhub/shared/pattern/patterntest"
)

// seed is one producer format that make bench normalizes: a realistic event as the
// producer sends it, and the format's adapter.
type seed struct {
	Format    string
	Sample    []byte
	Normalize func(raw []byte) ([]byte, error) // producer bytes to canonical event bytes
}

// seedSamples is each format's sample: a seed example from the adapter's own tests. A
// format of shared/adapter without a sample here stops make bench, so that a new
// adapter cannot go unmeasured.
var seedSamples = map[string]string{
	adapter.CloudEvents:  "shared/adapter/cloudevents/testdata/mse_outlier_ejection.input",
	adapter.HuaweiConfig: "shared/adapter/huaweiconfig/testdata/seed_resource_changed.input",
	adapter.BKMonitor:    "shared/adapter/bkmonitor/testdata/seed_cpu_usage.input",
	adapter.Juno:         "shared/adapter/juno/testdata/seed_confgo_file_update.input",
	adapter.IUAP:         "shared/adapter/iuap/testdata/seed_user_add_after.input",
	adapter.Generic:      "shared/adapter/generic/testdata/alertmanager.input",
	// The presets (package mapping); a sample's request headers are beside it, in
	// <name>.headers.
	format.Alertmanager:     "shared/mapping/testdata/presets/alertmanager/firing.input",
	format.Grafana:          "shared/mapping/testdata/presets/grafana/firing.input",
	format.GitHub:           "shared/mapping/testdata/presets/github/push.input",
	format.GitLab:           "shared/mapping/testdata/presets/gitlab/push.input",
	format.StandardWebhooks: "shared/mapping/testdata/presets/standardwebhooks/invoice_paid.input",
}

// seeds returns every format of the adapter registry with its sample.
func seeds(root string) ([]seed, error) {
	var out []seed
	for _, format := range adapter.Formats {
		path, ok := seedSamples[format]
		if !ok {
			return nil, fmt.Errorf("format %s has no sample in infra/bench/cpu.go seedSamples", format)
		}
		raw, err := os.ReadFile(filepath.Join(root, path))
		if err != nil {
			return nil, fmt.Errorf("sample of format %s: %w", format, err)
		}
		headers, err := sampleHeaders(filepath.Join(root, path))
		if err != nil {
			return nil, fmt.Errorf("sample of format %s: %w", format, err)
		}
		out = append(out, seed{Format: format, Sample: raw, Normalize: normalizer(format, headers)})
	}
	return out, nil
}

// sampleHeaders reads the request headers beside a sample (<name>.headers, a JSON
// object of lower-case names), if it has any.
func sampleHeaders(sample string) (map[string]string, error) {
	b, err := os.ReadFile(strings.TrimSuffix(sample, ".input") + ".headers")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var h map[string]string
	return h, jsonv2.Unmarshal(b, &h)
}

// normalizer is normalize's work for one format: the adapter (as the normalize
// function runs it) and the canonical event's bytes.
func normalizer(format string, headers map[string]string) func([]byte) ([]byte, error) {
	return func(raw []byte) ([]byte, error) {
		ev, _, err := adapter.Parse(format, raw, adapter.Meta{SourceID: "src_bench", Headers: headers})
		if err != nil {
			return nil, err
		}
		return ev.MarshalJSON()
	}
}

// baselineDecode is the reference of normalize_ratio: a bare encoding/json/v2 decode
// of the same bytes into map[string]any. Go 1.26 has encoding/json/v2 only under
// GOEXPERIMENT=jsonv2, which would also switch encoding/json (v1) to the v2
// implementation in the code being measured; github.com/go-json-experiment/json is
// the same implementation (it aliases encoding/json/v2 when the experiment is on).
func baselineDecode(raw []byte) error {
	var m map[string]any
	return jsonv2.Unmarshal(raw, &m)
}

// distinctPatterns returns the first n distinct patterns of Realistic's sequence.
func distinctPatterns(n int) []string {
	seen := map[string]bool{}
	var out []string
	for batch := n; len(out) < n; batch *= 4 {
		out, seen = out[:0], map[string]bool{}
		for _, p := range patterntest.Realistic(batch, 1) {
			if !seen[p] && len(out) < n {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// cpuCase is one measured operation.
type cpuCase struct {
	name string
	op   func() error
	n    int // operations per sample, calibrated to about sampleTime
}

const sampleTime = 40 * time.Millisecond

// calibrate sets c.n so that one sample takes about sampleTime of CPU.
func (c *cpuCase) calibrate() error {
	n := 16
	for {
		d, err := c.cpu(n)
		if err != nil {
			return err
		}
		if d >= sampleTime/4 || n >= 1<<24 {
			per := float64(d) / float64(n)
			c.n = max(1, int(float64(sampleTime)/per))
			return nil
		}
		n *= 4
	}
}

// cpu runs op n times and returns the process CPU time (user and system, all
// threads, so the garbage collector's work counts) it took.
func (c *cpuCase) cpu(n int) (time.Duration, error) {
	runtime.GC()
	start := processCPU()
	for range n {
		if err := c.op(); err != nil {
			return 0, fmt.Errorf("%s: %w", c.name, err)
		}
	}
	return processCPU() - start, nil
}

// sample returns the CPU nanoseconds per operation of one sample.
func (c *cpuCase) sample() (float64, error) {
	d, err := c.cpu(c.n)
	if err != nil {
		return 0, err
	}
	return float64(d) / float64(c.n), nil
}

// FormatFigure is the normalize figure of one seed format.
type FormatFigure struct {
	NsPerEvent  float64 `json:"ns_per_event"`
	BaselineNs  float64 `json:"baseline_ns"`
	Ratio       float64 `json:"ratio"`
	SampleBytes int     `json:"sample_bytes"`
}

// CPUResult holds the in-process figures.
type CPUResult struct {
	NormalizeRatio float64                 `json:"normalize_ratio"`
	Formats        map[string]FormatFigure `json:"formats"`
	Baseline       string                  `json:"baseline"`
	Match1000Ns    float64                 `json:"match_1000_ns"`
	Match10000Ns   float64                 `json:"match_10000_ns"`
	// Match10000DistinctNs is the same against 10,000 patterns of which no two are
	// alike (Realistic repeats the common ones, as subscriptions do): how much of
	// match_10000 the set owes to evaluating identical patterns once.
	Match10000DistinctNs float64 `json:"match_10000_distinct_ns"`
}

// measureCPU measures normalizing each seed format against the baseline decode of the
// same bytes, and matching one event against 1,000 subscription patterns, in
// interleaved rounds: every ratio is taken within a round, then the median is kept.
// Then matching against 10,000 patterns.
func measureCPU(root string, rounds int, logf func(string, ...any)) (*CPUResult, error) {
	seeds, err := seeds(root)
	if err != nil {
		return nil, err
	}
	event := []byte(patterntest.MSEEvent)
	matchCase := func(name string, patterns []string) (*cpuCase, error) {
		set := pattern.NewSet()
		for i, p := range patterns {
			if err := set.Add(fmt.Sprintf("sub-%05d", i), []byte(p)); err != nil {
				return nil, err
			}
		}
		return &cpuCase{name: name, op: func() error { _, err := set.Match(event); return err }}, nil
	}
	match, err := matchCase("match 1000", patterntest.Realistic(1000, 1))
	if err != nil {
		return nil, err
	}
	cases := []*cpuCase{match}
	type pair struct {
		seed       seed
		norm, base *cpuCase
	}
	var pairs []pair
	for _, s := range seeds {
		p := pair{
			seed: s,
			norm: &cpuCase{name: "normalize " + s.Format, op: func() error { _, err := s.Normalize(s.Sample); return err }},
			base: &cpuCase{name: "baseline " + s.Format, op: func() error { return baselineDecode(s.Sample) }},
		}
		pairs = append(pairs, p)
		cases = append(cases, p.norm, p.base)
	}
	for _, c := range cases {
		if err := c.calibrate(); err != nil {
			return nil, err
		}
	}
	var matchNs []float64
	norm := map[string][]float64{}
	base := map[string][]float64{}
	ratio := map[string][]float64{}
	for r := range rounds {
		ns, err := match.sample()
		if err != nil {
			return nil, err
		}
		matchNs = append(matchNs, ns)
		for _, p := range pairs {
			// Alternate the order so neither side always runs first.
			first, second := p.norm, p.base
			if r%2 == 1 {
				first, second = second, first
			}
			a, err := first.sample()
			if err != nil {
				return nil, err
			}
			b, err := second.sample()
			if err != nil {
				return nil, err
			}
			if r%2 == 1 {
				a, b = b, a
			}
			f := p.seed.Format
			norm[f], base[f], ratio[f] = append(norm[f], a), append(base[f], b), append(ratio[f], a/b)
		}
		logf("cpu round %d/%d: match_1000 %.0f ns", r+1, rounds, ns)
	}
	res := &CPUResult{
		Formats:     map[string]FormatFigure{},
		Baseline:    "github.com/go-json-experiment/json (encoding/json/v2) Unmarshal into map[string]any",
		Match1000Ns: median(matchNs),
	}
	// The sets of 10,000 patterns one at a time, after the rounds above: what is
	// alive in the heap weighs on every allocation's share of garbage collection, and
	// normalize_ratio is measured with the heap it always had.
	for _, m := range []struct {
		dst      *float64
		name     string
		patterns func() []string
	}{
		{&res.Match10000Ns, "match 10000", func() []string { return patterntest.Realistic(10000, 1) }},
		{&res.Match10000DistinctNs, "match 10000 distinct", func() []string { return distinctPatterns(10000) }},
	} {
		c, err := matchCase(m.name, m.patterns())
		if err != nil {
			return nil, err
		}
		if err := c.calibrate(); err != nil {
			return nil, err
		}
		var ns []float64
		for range rounds {
			v, err := c.sample()
			if err != nil {
				return nil, err
			}
			ns = append(ns, v)
		}
		*m.dst = median(ns)
		logf("cpu: %s %.0f ns", m.name, *m.dst)
	}
	for _, p := range pairs {
		f := p.seed.Format
		fig := FormatFigure{NsPerEvent: median(norm[f]), BaselineNs: median(base[f]), Ratio: median(ratio[f]), SampleBytes: len(p.seed.Sample)}
		res.Formats[f] = fig
		res.NormalizeRatio = max(res.NormalizeRatio, fig.Ratio)
	}
	return res, nil
}

package adapter_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/eventhub/eventhub/shared/adapter"
	"github.com/eventhub/eventhub/shared/adapter/format"
)

// benchSamples are the samples of make bench (infra/bench/cpu.go seedSamples).
var benchSamples = map[string]string{
	adapter.CloudEvents:  "cloudevents/testdata/mse_outlier_ejection.input",
	adapter.HuaweiConfig: "huaweiconfig/testdata/seed_resource_changed.input",
	adapter.BKMonitor:    "bkmonitor/testdata/seed_cpu_usage.input",
	adapter.Juno:         "juno/testdata/seed_confgo_file_update.input",
	adapter.IUAP:         "iuap/testdata/seed_user_add_after.input",
	adapter.Generic:      "generic/testdata/alertmanager.input",
	// The presets; a sample's request headers are beside it, in <name>.headers.
	format.Alertmanager:     "../mapping/testdata/presets/alertmanager/firing.input",
	format.Grafana:          "../mapping/testdata/presets/grafana/firing.input",
	format.GitHub:           "../mapping/testdata/presets/github/push.input",
	format.GitLab:           "../mapping/testdata/presets/gitlab/push.input",
	format.StandardWebhooks: "../mapping/testdata/presets/standardwebhooks/invoice_paid.input",
}

func sample(tb testing.TB, format string) []byte {
	tb.Helper()
	raw, err := os.ReadFile(filepath.FromSlash(benchSamples[format]))
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// headers returns the request headers of a format's bench sample, if it has any.
func headers(tb testing.TB, format string) map[string]string {
	tb.Helper()
	b, err := os.ReadFile(strings.TrimSuffix(filepath.FromSlash(benchSamples[format]), ".input") + ".headers")
	if err != nil {
		return nil
	}
	var h map[string]string
	if err := jsonv2.Unmarshal(b, &h); err != nil {
		tb.Fatal(err)
	}
	return h
}

// normalize is what make bench measures for a format: the adapter and the canonical
// event's bytes.
func normalize(format string, raw []byte, headers map[string]string) error {
	ev, _, err := adapter.Parse(format, raw, adapter.Meta{SourceID: "src_bench", Headers: headers})
	if err != nil {
		return err
	}
	_, err = ev.MarshalJSON()
	return err
}

// baseline is the reference of make bench's normalize_ratio.
func baseline(raw []byte) error {
	var m map[string]any
	return jsonv2.Unmarshal(raw, &m)
}

// BenchmarkNormalize normalizes each format's bench sample; BenchmarkBaseline decodes
// the same bytes as the reference does. Compare them side by side.
func BenchmarkNormalize(b *testing.B) {
	for _, f := range adapter.Formats {
		raw, h := sample(b, f), headers(b, f)
		b.Run(f, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if err := normalize(f, raw, h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBaseline(b *testing.B) {
	for _, f := range adapter.Formats {
		raw := sample(b, f)
		b.Run(f, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if err := baseline(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestNormalizeRatio measures normalize_ratio as make bench does (process CPU, the
// garbage collector's included, interleaved with the baseline, median of rounds). It
// runs only with EVENTHUB_RATIO=1: go test -run NormalizeRatio -v ./shared/adapter
func TestNormalizeRatio(t *testing.T) {
	if os.Getenv("EVENTHUB_RATIO") == "" {
		t.Skip("set EVENTHUB_RATIO=1 to measure")
	}
	cpu := func(op func() error, n int) float64 {
		start := processCPU()
		for range n {
			if err := op(); err != nil {
				t.Fatal(err)
			}
		}
		return float64(processCPU()-start) / float64(n)
	}
	calibrate := func(op func() error) int {
		n := 16
		for {
			if per := cpu(op, n); per*float64(n) >= float64(10*time.Millisecond) {
				return max(1, int(float64(40*time.Millisecond)/per))
			}
			n *= 4
		}
	}
	rounds := 7
	if n, err := strconv.Atoi(os.Getenv("EVENTHUB_RATIO_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	only := os.Getenv("EVENTHUB_RATIO_FORMATS") // comma-separated; all when empty
	worst := 0.0
	for _, f := range adapter.Formats {
		if only != "" && !slices.Contains(strings.Split(only, ","), f) {
			continue
		}
		raw, h := sample(t, f), headers(t, f)
		norm := func() error { return normalize(f, raw, h) }
		base := func() error { return baseline(raw) }
		nn, nb := calibrate(norm), calibrate(base)
		var a, b, r []float64
		for i := range rounds {
			var x, y float64
			if i%2 == 0 {
				x = cpu(norm, nn)
				y = cpu(base, nb)
			} else {
				y = cpu(base, nb)
				x = cpu(norm, nn)
			}
			a, b, r = append(a, x), append(b, y), append(r, x/y)
		}
		med := func(v []float64) float64 { slices.Sort(v); return v[len(v)/2] }
		ratio := med(r)
		worst = max(worst, ratio)
		// The quickest of each side is the least disturbed by other work on the machine.
		t.Logf("%-13s %7.0f ns vs %7.0f ns  x%.2f  (%d B; quickest x%.2f)", f, med(a), med(b), ratio, len(raw), slices.Min(a)/slices.Min(b))
	}
	t.Logf("normalize_ratio %.2f", worst)
}

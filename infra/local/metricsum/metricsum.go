// Package metricsum sums up the metric lines (CloudWatch embedded metric format) the
// local stack's functions write, for the summary `make run` prints every minute: what
// CloudWatch would chart in AWS.
package metricsum

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/eventhub/eventhub/shared/metrics"
)

// Summary accumulates metric lines between two Flush calls. Safe for concurrent use.
type Summary struct {
	mu       sync.Mutex
	counts   map[string]map[string]float64   // function → metric → sum
	samples  map[string]map[string][]float64 // function → metric → values (latencies)
	invalid  int
	firstBad string
}

// New returns an empty summary.
func New() *Summary {
	return &Summary{counts: map[string]map[string]float64{}, samples: map[string]map[string][]float64{}}
}

// Observe takes one line a function wrote; lines that are not metric lines are
// ignored, metric lines that break the EMF specification are counted as invalid.
func (s *Summary) Observe(line []byte) {
	if !metrics.IsEMF(line) {
		return
	}
	doc, err := metrics.Parse(line)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.invalid++
		if s.firstBad == "" {
			s.firstBad = err.Error()
		}
		return
	}
	for _, d := range doc.Data {
		if len(d.Dimensions) != 1 || d.Dimensions[0].Name != metrics.Function {
			continue // the breakdowns: the totals say enough in one line
		}
		fn := d.Dimensions[0].Value
		if d.Unit == metrics.Count {
			if s.counts[fn] == nil {
				s.counts[fn] = map[string]float64{}
			}
			for _, v := range d.Values {
				s.counts[fn][d.Name] += v
			}
			continue
		}
		if s.samples[fn] == nil {
			s.samples[fn] = map[string][]float64{}
		}
		s.samples[fn][d.Name] = append(s.samples[fn][d.Name], d.Values...)
	}
}

// Flush returns the summary of what was observed since the last Flush, as one line
// ("" when nothing was), and starts again.
func (s *Summary) Flush(now time.Time) string {
	s.mu.Lock()
	counts, samples, invalid, firstBad := s.counts, s.samples, s.invalid, s.firstBad
	s.counts, s.samples, s.invalid, s.firstBad = map[string]map[string]float64{}, map[string]map[string][]float64{}, 0, ""
	s.mu.Unlock()
	fns := map[string]bool{}
	for fn := range counts {
		fns[fn] = true
	}
	for fn := range samples {
		fns[fn] = true
	}
	if len(fns) == 0 && invalid == 0 {
		return ""
	}
	var parts []string
	for _, fn := range slices.Sorted(mapKeys(fns)) {
		var ms []string
		for _, name := range slices.Sorted(mapKeys(counts[fn])) {
			ms = append(ms, fmt.Sprintf("%s %g", name, counts[fn][name]))
		}
		for _, name := range slices.Sorted(mapKeys(samples[fn])) {
			v := slices.Sorted(slices.Values(samples[fn][name]))
			ms = append(ms, fmt.Sprintf("%s p50 %s p99 %s", name, ms1(quantile(v, 0.5)), ms1(quantile(v, 0.99))))
		}
		parts = append(parts, strings.TrimSuffix(fn, "Function")+": "+strings.Join(ms, ", "))
	}
	line := "metrics " + now.Format("15:04") + "  " + strings.Join(parts, " | ")
	if invalid > 0 {
		line += fmt.Sprintf(" | %d invalid EMF lines, the first: %s", invalid, firstBad)
	}
	return line
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// quantile of sorted values, nearest rank.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted)) + 0.5)
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

func ms1(v float64) string {
	if v >= 10 {
		return fmt.Sprintf("%.0fms", v)
	}
	return fmt.Sprintf("%.1fms", v)
}

// Package metricstest reads back, in tests, the metric lines an emitter wrote, as
// CloudWatch would extract them.
package metricstest

import (
	"bufio"
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventhub/eventhub/shared/metrics"
)

// Recorder is an io.Writer for a metrics.Emitter that keeps the lines.
type Recorder struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Emitter returns an emitter for the function writing to r.
func (r *Recorder) Emitter(function string) *metrics.Emitter {
	return metrics.New(r, function, func() time.Time { return time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC) })
}

func (r *Recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.Write(p)
}

// Reset forgets the lines written so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf.Reset()
}

// Totals parses every line, failing the test on one that is not valid EMF, and
// returns what CloudWatch would record, by metric: "Name" for the metric under its
// Function alone, "Name Dim=value" for its breakdown. A Count metric's value is the
// sum of its values; any other (a latency) is the number of values it got.
func (r *Recorder) Totals(t testing.TB) map[string]float64 {
	t.Helper()
	r.mu.Lock()
	data := bytes.Clone(r.buf.Bytes())
	r.mu.Unlock()
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		doc, err := metrics.Parse(sc.Bytes())
		if err != nil {
			t.Fatalf("invalid metric line %s: %v", sc.Bytes(), err)
		}
		for _, d := range doc.Data {
			if d.Namespace != metrics.Namespace {
				t.Errorf("metric %s in namespace %q; want %q", d.Name, d.Namespace, metrics.Namespace)
			}
		}
		Add(out, doc)
	}
	return out
}

// Add adds what CloudWatch would record from doc to totals, under the keys Totals
// uses.
func Add(totals map[string]float64, doc *metrics.Document) {
	for _, d := range doc.Data {
		var dims []string
		for _, dim := range d.Dimensions {
			if dim.Name != metrics.Function {
				dims = append(dims, dim.Name+"="+dim.Value)
			}
		}
		key := strings.TrimSpace(d.Name + " " + strings.Join(dims, ","))
		for _, v := range d.Values {
			if d.Unit == metrics.Count {
				totals[key] += v
			} else {
				totals[key]++
			}
		}
	}
}

// Check fails the test unless the totals are exactly want.
func (r *Recorder) Check(t testing.TB, want map[string]float64) {
	t.Helper()
	got := r.Totals(t)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("metric %s = %v; want %v", k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("metric %s = %v; want none", k, v)
		}
	}
}

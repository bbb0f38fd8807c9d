// Package metrics writes CloudWatch embedded metric format (EMF) lines: JSON log lines
// from which CloudWatch Logs extracts metrics, so that counting an event costs a line
// on stdout and no API call.
package metrics

import (
	"context"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/eventhub/eventhub/shared/trace"
)

// Namespace is the CloudWatch namespace of every eventhub metric.
const Namespace = "eventhub"

// Unit is a CloudWatch metric unit.
type Unit string

// The units eventhub's metrics use (Parse accepts every unit CloudWatch knows).
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
)

// Dimensions. Every metric has Function; some are also broken down by one more, whose
// values come from a small fixed set (never a per-event id).
const (
	Function    = "Function"    // the Lambda function's name
	Format      = "Format"      // the producer format (adapter) of the event
	Reason      = "Reason"      // why ingest rejected an event: its error code
	StatusClass = "StatusClass" // how a delivery attempt failed: 4xx, 5xx, timeout, network...
	Rule        = "Rule"        // the mapping rule that dropped an event, as RuleOf names it
)

// RuleOf is the Rule dimension's value of a source's drop rule: "<sourceId>/<rule>"
// (one dimension, as each metric here is broken down by one).
func RuleOf(sourceID, rule string) string { return sourceID + "/" + rule }

// Metrics, by the function that emits them (docs/operating.md has the full table).
const (
	Accepted          = "Accepted"          // ingest: events accepted (202), by Format
	Rejected          = "Rejected"          // ingest: events (or whole requests) refused, by Reason
	Normalized        = "Normalized"        // normalize: Event Normalized published, by Format
	Quarantined       = "Quarantined"       // normalize: events kept in quarantine, by Format
	Dropped           = "EventsDropped"     // ingest, normalize: events a mapping's rule dropped, by Rule
	Stored            = "Stored"            // persist: events stored for the first time, by Format
	Duplicates        = "Duplicates"        // persist: producers' repeats of stored events, by Format
	ReceivedToStored  = "ReceivedToStored"  // persist: ms from ingest's receipt to the store
	Delivered         = "Delivered"         // notify: deliveries acknowledged by the subscriber
	FailedAttempts    = "FailedAttempts"    // notify: attempts that failed, by StatusClass
	Retries           = "Retries"           // notify: retries scheduled on the retry queue
	DeadLettered      = "DeadLettered"      // notify: deliveries that used up their schedule
	DeliveryLatency   = "DeliveryLatency"   // notify: ms of one attempt's HTTP exchange
	StoredToDelivered = "StoredToDelivered" // notify: ms from the store to the acknowledgement
)

// Metric is one value of a line. By names the dimension the metric is also broken down
// by, whose value the line's dimensions give; the metric is always recorded under
// Function alone too, so that totals and alarms need no metric math.
type Metric struct {
	Name  string
	Unit  Unit
	Value float64
	By    string
}

// CountOf is n events of the named metric.
func CountOf(name string, n int) Metric { return Metric{Name: name, Unit: Count, Value: float64(n)} }

// CountBy is n events of the named metric broken down by the dimension by.
func CountBy(name string, n int, by string) Metric {
	return Metric{Name: name, Unit: Count, Value: float64(n), By: by}
}

// Duration is a latency in milliseconds; a negative one (clocks of two hosts a little
// apart) counts as 0.
func Duration(name string, d time.Duration) Metric {
	d = max(d, 0)
	return Metric{Name: name, Unit: Milliseconds, Value: float64(d) / float64(time.Millisecond)}
}

// Dimension is a dimension's value on one line.
type Dimension struct{ Name, Value string }

// Dim returns a dimension value for Emit.
func Dim(name, value string) Dimension { return Dimension{Name: name, Value: value} }

// Emitter writes the metric lines of one function. A nil *Emitter writes nothing.
// It is safe for concurrent use: each line is one Write.
type Emitter struct {
	mu       sync.Mutex
	w        io.Writer
	function string
	now      func() time.Time
	buf      []byte
}

// New returns an emitter writing to w (a function's stdout) under the function name.
func New(w io.Writer, function string, now func() time.Time) *Emitter {
	if function == "" {
		function = "unknown"
	}
	if now == nil {
		now = time.Now
	}
	return &Emitter{w: w, function: function, now: now}
}

// Emit writes one line with the metrics. dims gives the values of the dimensions the
// metrics are broken down by; a metric whose By has no value in dims is recorded
// under "unknown". Each metric name should appear once per line. The line also
// carries the invocation's request id and trace id, to find the logs and the trace
// of what it counts.
func (e *Emitter) Emit(ctx context.Context, dims []Dimension, ms ...Metric) {
	if e == nil || len(ms) == 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	b := e.buf[:0]
	b = append(b, `{"_aws":{"Timestamp":`...)
	b = strconv.AppendInt(b, e.now().UnixMilli(), 10)
	b = append(b, `,"CloudWatchMetrics":[`...)
	// One directive per breakdown dimension, in the order the metrics name them.
	var bys [4]string
	groups := bys[:0]
	for _, m := range ms {
		if !contains(groups, m.By) {
			groups = append(groups, m.By)
		}
	}
	for i, by := range groups {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Namespace":"`+Namespace+`","Dimensions":[["`+Function+`"]`...)
		if by != "" {
			b = append(b, `,["`+Function+`",`...)
			b = appendString(b, by)
			b = append(b, ']')
		}
		b = append(b, `],"Metrics":[`...)
		n := 0
		for _, m := range ms {
			if m.By != by {
				continue
			}
			if n > 0 {
				b = append(b, ',')
			}
			n++
			b = append(b, `{"Name":`...)
			b = appendString(b, m.Name)
			if m.Unit != "" {
				b = append(b, `,"Unit":`...)
				b = appendString(b, string(m.Unit))
			}
			b = append(b, '}')
		}
		b = append(b, "]}"...)
	}
	b = append(b, `]},"`+Function+`":`...)
	b = appendString(b, dimensionValue(e.function))
	for _, by := range groups {
		if by == "" {
			continue
		}
		v := "unknown"
		for _, d := range dims {
			if d.Name == by {
				v = d.Value
				break
			}
		}
		b = append(b, ',')
		b = appendString(b, by)
		b = append(b, ':')
		b = appendString(b, dimensionValue(v))
	}
	for _, m := range ms {
		b = append(b, ',')
		b = appendString(b, m.Name)
		b = append(b, ':')
		b = appendNumber(b, m.Value)
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		b = append(b, `,"requestId":`...)
		b = appendString(b, lc.AwsRequestID)
	}
	if id := trace.ID(ctx); id != "" {
		b = append(b, `,"traceId":`...)
		b = appendString(b, id)
	}
	b = append(b, "}\n"...)
	e.buf = b
	_, _ = e.w.Write(b) // stdout: nothing to do about a failed write
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// dimensionValue makes v a valid CloudWatch dimension value: 1 to 1024 printable ASCII
// characters, at least one of them not a space.
func dimensionValue(v string) string {
	if strings.TrimSpace(v) == "" {
		return "unknown"
	}
	if validDimensionValue(v) {
		return v
	}
	out := make([]byte, 0, min(len(v), maxDimensionValue))
	for i := 0; i < len(v) && len(out) < maxDimensionValue; {
		r, size := utf8.DecodeRuneInString(v[i:])
		i += size
		if r >= 0x20 && r < 0x7f {
			out = append(out, byte(r))
		} else {
			out = append(out, '?')
		}
	}
	return string(out)
}

// appendNumber writes a finite number; CloudWatch has no NaN or infinities, and JSON
// cannot say them.
func appendNumber(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
		return strconv.AppendInt(b, int64(v), 10)
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

// appendString writes s as a JSON string.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x80 {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
		i++
	}
	return append(b, '"')
}

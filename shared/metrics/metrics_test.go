package metrics

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/eventhub/eventhub/shared/trace"
)

var at = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func emitter(buf *bytes.Buffer) *Emitter {
	return New(buf, "eventhub-prod-IngestFunction-AbC", func() time.Time { return at })
}

func TestEmitWritesValidEMF(t *testing.T) {
	tests := []struct {
		name string
		dims []Dimension
		ms   []Metric
		want []string // datum keys and values: "Name Dim=v,Dim=v [values]"
	}{
		{
			name: "count by format",
			dims: []Dimension{Dim(Format, "juno")},
			ms:   []Metric{CountBy(Accepted, 3, Format)},
			want: []string{
				"Accepted Function=eventhub-prod-IngestFunction-AbC [3]",
				"Accepted Function=eventhub-prod-IngestFunction-AbC,Format=juno [3]",
			},
		},
		{
			name: "a count and two latencies in one line",
			dims: []Dimension{Dim(Format, "cloudevents")},
			ms:   []Metric{CountBy(Stored, 1, Format), Duration(ReceivedToStored, 1500*time.Microsecond)},
			want: []string{
				"Stored Function=eventhub-prod-IngestFunction-AbC [1]",
				"Stored Function=eventhub-prod-IngestFunction-AbC,Format=cloudevents [1]",
				"ReceivedToStored Function=eventhub-prod-IngestFunction-AbC [1.5]",
			},
		},
		{
			name: "two breakdowns in one line",
			dims: []Dimension{Dim(StatusClass, "5xx"), Dim(Format, "iuap")},
			ms:   []Metric{CountBy(FailedAttempts, 1, StatusClass), CountBy(Quarantined, 2, Format)},
			want: []string{
				"FailedAttempts Function=eventhub-prod-IngestFunction-AbC [1]",
				"FailedAttempts Function=eventhub-prod-IngestFunction-AbC,StatusClass=5xx [1]",
				"Quarantined Function=eventhub-prod-IngestFunction-AbC [2]",
				"Quarantined Function=eventhub-prod-IngestFunction-AbC,Format=iuap [2]",
			},
		},
		{
			name: "missing dimension value",
			ms:   []Metric{CountBy(Rejected, 1, Reason)},
			want: []string{
				"Rejected Function=eventhub-prod-IngestFunction-AbC [1]",
				"Rejected Function=eventhub-prod-IngestFunction-AbC,Reason=unknown [1]",
			},
		},
		{
			name: "dimension value a producer could choose",
			dims: []Dimension{Dim(Format, "ju\"no\n\u00e9"+strings.Repeat("x", 2000))},
			ms:   []Metric{CountBy(Accepted, 1, Format)},
			want: []string{
				"Accepted Function=eventhub-prod-IngestFunction-AbC [1]",
				"Accepted Function=eventhub-prod-IngestFunction-AbC,Format=ju\"no??" + strings.Repeat("x", 1024-7) + " [1]",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			emitter(&buf).Emit(context.Background(), tc.dims, tc.ms...)
			line := buf.Bytes()
			if bytes.Count(line, []byte("\n")) != 1 || !bytes.HasSuffix(line, []byte("\n")) {
				t.Fatalf("Emit wrote %q; want one line", line)
			}
			doc, err := Parse(line)
			if err != nil {
				t.Fatalf("Parse(%s) = %v", line, err)
			}
			if !doc.Timestamp.Equal(at) {
				t.Errorf("Timestamp = %v; want %v", doc.Timestamp, at)
			}
			var got []string
			for _, d := range doc.Data {
				if d.Namespace != Namespace {
					t.Errorf("%s: namespace %q; want %q", d.Name, d.Namespace, Namespace)
				}
				got = append(got, fmt.Sprint(d.Key(), " ", d.Values))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("data:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestEmitCarriesRequestAndTraceIDs(t *testing.T) {
	var buf bytes.Buffer
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	ctx = trace.With(ctx, "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
	emitter(&buf).Emit(ctx, nil, CountOf(Delivered, 1))
	doc, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"requestId": `"req-1"`, "traceId": `"1-5759e988-bd862e3fe1be46a994272793"`} {
		if got := string(doc.Properties[k]); got != want {
			t.Errorf("%s = %s; want %s", k, got, want)
		}
	}
}

func TestNilEmitterWritesNothing(t *testing.T) {
	var e *Emitter
	e.Emit(context.Background(), nil, CountOf(Delivered, 1)) // must not panic
}

// TestEmitConcurrently checks that lines written from several goroutines (notify's
// deliveries) never interleave.
func TestEmitConcurrently(t *testing.T) {
	var buf bytes.Buffer
	e := emitter(&buf)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			for range 50 {
				e.Emit(context.Background(), []Dimension{Dim(StatusClass, fmt.Sprintf("%dxx", 4+i%2))}, CountBy(FailedAttempts, 1, StatusClass), Duration(DeliveryLatency, time.Duration(i)*time.Millisecond))
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 1000 {
		t.Fatalf("%d lines; want 1000", len(lines))
	}
	for _, l := range lines {
		if _, err := Parse([]byte(l)); err != nil {
			t.Fatalf("Parse(%s) = %v", l, err)
		}
	}
}

func TestParseRejects(t *testing.T) {
	const ok = `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"eventhub","Dimensions":[["Function"]],"Metrics":[{"Name":"N","Unit":"Count"}]}]},"Function":"f","N":1}`
	if _, err := Parse([]byte(ok)); err != nil {
		t.Fatalf("Parse(valid) = %v", err)
	}
	many := func(n int, item string) string {
		return strings.TrimSuffix(strings.Repeat(item+",", n), ",")
	}
	dims31 := make([]string, 31)
	for i := range dims31 {
		dims31[i] = fmt.Sprintf(`"D%d"`, i)
	}
	var props31 strings.Builder
	for i := range 31 {
		fmt.Fprintf(&props31, `,"D%d":"v"`, i)
	}
	tests := []struct {
		name, line, want string
	}{
		{"not JSON", `Accepted=1`, "not a JSON object"},
		{"trailing data", ok + `x`, "not a JSON object"},
		{"duplicate member", `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]},"N":1,"N":2}`, "not a JSON object"},
		{"no _aws", `{"N":1}`, "no _aws"},
		{"no timestamp", `{"_aws":{"CloudWatchMetrics":[]}}`, "Timestamp is missing"},
		{"timestamp in seconds as a string", `{"_aws":{"Timestamp":"1700000000","CloudWatchMetrics":[]}}`, "Timestamp"},
		{"no directives", `{"_aws":{"Timestamp":1}}`, "CloudWatchMetrics is missing"},
		{"bad namespace", strings.Replace(ok, `"eventhub"`, `"event hub!"`, 1), "Namespace"},
		{"dimension without member", strings.Replace(ok, `,"Function":"f"`, ``, 1), `dimension "Function" has no member`},
		{"numeric dimension", strings.Replace(ok, `"Function":"f"`, `"Function":7`, 1), "not a string"},
		{"blank dimension value", strings.Replace(ok, `"Function":"f"`, `"Function":"  "`, 1), "not blank"},
		{"non-ASCII dimension value", strings.Replace(ok, `"Function":"f"`, `"Function":"é"`, 1), "printable ASCII"},
		{"31 dimensions", strings.Replace(strings.Replace(ok, `[["Function"]]`, `[[`+strings.Join(dims31, ",")+`]]`, 1), `"N":1`, `"N":1`+props31.String(), 1), "31 dimensions; at most 30"},
		{"unknown unit", strings.Replace(ok, `"Count"`, `"Events"`, 1), "not a CloudWatch unit"},
		{"storage resolution", strings.Replace(ok, `"Unit":"Count"`, `"Unit":"Count","StorageResolution":10`, 1), "StorageResolution"},
		{"metric without member", strings.Replace(ok, `,"N":1`, ``, 1), `metric "N": no member`},
		{"metric as a string", strings.Replace(ok, `"N":1`, `"N":"1"`, 1), "neither a number"},
		{"101 values", strings.Replace(ok, `"N":1`, `"N":[`+many(101, "1")+`]`, 1), "101 values"},
		{"101 metrics", strings.Replace(ok, `{"Name":"N","Unit":"Count"}`, many(101, `{"Name":"N"}`), 1), "101 definitions"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.line))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse = %v; want an error with %q", err, tc.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	var buf bytes.Buffer
	emitter(&buf).Emit(context.Background(), []Dimension{Dim(Format, "juno")}, CountBy(Accepted, 1, Format), Duration(ReceivedToStored, time.Second))
	f.Add(buf.Bytes())
	f.Add([]byte(`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[]}]}}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		doc, err := Parse(line)
		if err == nil && doc == nil {
			t.Fatal("Parse returned neither a document nor an error")
		}
	})
}

// FuzzEmit checks that whatever a producer puts in a dimension value, the line is
// valid EMF.
func FuzzEmit(f *testing.F) {
	f.Add("juno", 1.0)
	f.Add("", -3.5)
	f.Add("\x00\xff\"\\ ", 1e300)
	f.Fuzz(func(t *testing.T, value string, n float64) {
		var buf bytes.Buffer
		emitter(&buf).Emit(context.Background(), []Dimension{Dim(Reason, value)}, Metric{Name: Rejected, Unit: Count, Value: n, By: Reason})
		if _, err := Parse(buf.Bytes()); err != nil {
			t.Fatalf("Emit(%q, %v) wrote %s: %v", value, n, buf.Bytes(), err)
		}
	})
}

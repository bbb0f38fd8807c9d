package metrics

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Limits of the embedded metric format specification
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html)
// and of CloudWatch's PutMetricData, which the extracted metrics obey.
const (
	maxLine           = 1 << 20 // a CloudWatch Logs event
	maxNamespace      = 255
	maxDimensionSet   = 30 // dimension keys in one DimensionSet
	maxDimensionName  = 255
	maxDimensionValue = 1024
	maxMetricName     = 1024
	maxMetrics        = 100 // MetricDefinitions in one directive
	maxValues         = 100 // values of one metric member
)

var namespacePattern = regexp.MustCompile(`^[a-zA-Z0-9._#:/-]+$`)

// units are the values MetricDefinition.Unit may take (CloudWatch's StandardUnit).
var units = []Unit{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
	"Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
	"Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second",
	"Gigabits/Second", "Terabits/Second", "Count/Second", "None",
}

// Datum is one metric value a line yields under one dimension set, as CloudWatch
// extracts it.
type Datum struct {
	Namespace  string
	Name       string
	Unit       Unit
	Dimensions []Dimension // in the dimension set's order
	Values     []float64
}

// Key names the datum's metric: "Name Dim=value,Dim=value".
func (d Datum) Key() string {
	var b strings.Builder
	b.WriteString(d.Name)
	for i, dim := range d.Dimensions {
		if i == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(dim.Name + "=" + dim.Value)
	}
	return b.String()
}

// Document is an EMF line as CloudWatch reads it.
type Document struct {
	Timestamp time.Time
	Data      []Datum
	// Properties are the root's other members: dimension values, metric values and
	// anything else the line carries (requestId, traceId).
	Properties map[string]jsontext.Value
}

// IsEMF reports whether a log line claims to be an EMF document (a JSON object with an
// _aws member), which Parse then checks.
func IsEMF(line []byte) bool {
	line = []byte(strings.TrimSpace(string(line)))
	return len(line) > 0 && line[0] == '{' && strings.Contains(string(line), `"_aws"`)
}

// Parse reads one EMF line and checks it against the specification: a JSON object and
// nothing else; _aws with a Timestamp in milliseconds and CloudWatchMetrics, an array
// of directives; each directive's Namespace, its DimensionSets of at most 30
// dimension keys that each name a string member of the root (a valid CloudWatch
// dimension value), its at most 100 MetricDefinitions with a Name that names a member
// holding a number or an array of at most 100 numbers, a known Unit and a
// StorageResolution of 1 or 60. It returns every problem found.
func Parse(line []byte) (*Document, error) {
	if len(line) > maxLine {
		return nil, fmt.Errorf("emf: line of %d bytes is over CloudWatch Logs' %d", len(line), maxLine)
	}
	var root map[string]jsontext.Value
	if err := json.Unmarshal(line, &root); err != nil {
		return nil, fmt.Errorf("emf: not a JSON object: %w", err)
	}
	var p problems
	doc := &Document{Properties: map[string]jsontext.Value{}}
	for k, v := range root {
		if k != "_aws" {
			doc.Properties[k] = v
		}
	}
	rawAWS, ok := root["_aws"]
	if !ok {
		return nil, errors.New("emf: no _aws member")
	}
	var meta map[string]jsontext.Value
	if err := json.Unmarshal(rawAWS, &meta); err != nil {
		return nil, fmt.Errorf("emf: _aws is not an object: %w", err)
	}
	if ts, ok := meta["Timestamp"]; !ok {
		p.add("_aws.Timestamp is missing")
	} else {
		var ms float64
		if err := json.Unmarshal(ts, &ms); err != nil || ms != math.Trunc(ms) || ms < 0 {
			p.add("_aws.Timestamp %s is not a number of milliseconds since the epoch", ts)
		} else {
			doc.Timestamp = time.UnixMilli(int64(ms)).UTC()
		}
	}
	var directives []map[string]jsontext.Value
	if raw, ok := meta["CloudWatchMetrics"]; !ok {
		p.add("_aws.CloudWatchMetrics is missing")
	} else if err := json.Unmarshal(raw, &directives); err != nil {
		p.add("_aws.CloudWatchMetrics is not an array of objects: %v", err)
	}
	for i, d := range directives {
		doc.Data = append(doc.Data, directive(&p, fmt.Sprintf("_aws.CloudWatchMetrics[%d]", i), d, root)...)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return doc, nil
}

func directive(p *problems, path string, d map[string]jsontext.Value, root map[string]jsontext.Value) []Datum {
	var ns string
	if err := json.Unmarshal(d["Namespace"], &ns); err != nil {
		p.add("%s.Namespace is missing or not a string", path)
	} else if len(ns) == 0 || len(ns) > maxNamespace || !namespacePattern.MatchString(ns) {
		p.add("%s.Namespace %q is not 1 to %d characters of [a-zA-Z0-9._#:/-]", path, ns, maxNamespace)
	}
	var sets [][]string
	if err := json.Unmarshal(d["Dimensions"], &sets); err != nil {
		p.add("%s.Dimensions is missing or not an array of arrays of strings", path)
	}
	var dimSets [][]Dimension
	for i, set := range sets {
		spath := fmt.Sprintf("%s.Dimensions[%d]", path, i)
		if len(set) > maxDimensionSet {
			p.add("%s has %d dimensions; at most %d", spath, len(set), maxDimensionSet)
		}
		var dims []Dimension
		for _, name := range set {
			if !validDimensionName(name) {
				p.add("%s: dimension name %q is not 1 to %d ASCII characters, not blank, not starting with ':'", spath, name, maxDimensionName)
			}
			raw, ok := root[name]
			if !ok {
				p.add("%s: dimension %q has no member in the root", spath, name)
				continue
			}
			var v string
			if err := json.Unmarshal(raw, &v); err != nil {
				p.add("%s: dimension %q is %s, not a string", spath, name, raw)
				continue
			}
			if !validDimensionValue(v) {
				p.add("%s: dimension %s=%q is not 1 to %d printable ASCII characters, not blank", spath, name, v, maxDimensionValue)
			}
			dims = append(dims, Dimension{Name: name, Value: v})
		}
		dimSets = append(dimSets, dims)
	}
	var defs []map[string]jsontext.Value
	if err := json.Unmarshal(d["Metrics"], &defs); err != nil {
		p.add("%s.Metrics is missing or not an array of objects", path)
	}
	if len(defs) > maxMetrics {
		p.add("%s.Metrics has %d definitions; at most %d", path, len(defs), maxMetrics)
	}
	var out []Datum
	for i, def := range defs {
		mpath := fmt.Sprintf("%s.Metrics[%d]", path, i)
		var name string
		if err := json.Unmarshal(def["Name"], &name); err != nil || name == "" || len(name) > maxMetricName {
			p.add("%s.Name is missing or not a string of 1 to %d characters", mpath, maxMetricName)
			continue
		}
		var unit Unit
		if raw, ok := def["Unit"]; ok {
			if err := json.Unmarshal(raw, &unit); err != nil || !slices.Contains(units, unit) {
				p.add("%s.Unit %s is not a CloudWatch unit", mpath, raw)
			}
		}
		if raw, ok := def["StorageResolution"]; ok {
			var res int
			if err := json.Unmarshal(raw, &res); err != nil || (res != 1 && res != 60) {
				p.add("%s.StorageResolution %s is neither 1 nor 60", mpath, raw)
			}
		}
		values, err := metricValues(root[name])
		if err != nil {
			p.add("%s: metric %q: %v", mpath, name, err)
			continue
		}
		for _, dims := range dimSets {
			out = append(out, Datum{Namespace: ns, Name: name, Unit: unit, Dimensions: dims, Values: values})
		}
	}
	return out
}

func metricValues(raw jsontext.Value) ([]float64, error) {
	if len(raw) == 0 {
		return nil, errors.New("no member in the root")
	}
	var one float64
	if err := json.Unmarshal(raw, &one); err == nil {
		return []float64{one}, nil
	}
	var many []float64
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, fmt.Errorf("%s is neither a number nor an array of numbers", raw)
	}
	if len(many) > maxValues {
		return nil, fmt.Errorf("%d values; at most %d", len(many), maxValues)
	}
	return many, nil
}

func validDimensionName(s string) bool {
	if s == "" || len(s) > maxDimensionName || s[0] == ':' || strings.TrimSpace(s) == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

func validDimensionValue(s string) bool {
	if s == "" || len(s) > maxDimensionValue || strings.TrimSpace(s) == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

type problems struct{ list []string }

func (p *problems) add(format string, args ...any) {
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return errors.New("emf: " + strings.Join(p.list, "; "))
}

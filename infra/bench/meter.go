package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventhub/eventhub/infra/local/template"
)

// meter sits between the functions and an emulator and counts their requests by
// operation (the X-Amz-Target header) and size. For DynamoDB it also asks for and
// adds up the capacity each request consumes, which is what on-demand tables bill,
// by the item written or read and the table or index that took it. When tracing, it
// keeps every request it forwards, for a replay (mix.go) or a floor (coldstart.go).
type meter struct {
	service string             // dynamodb, sqs, eventbridge, lambda
	gsis    map[string][]index // by table name
	proxy   *httputil.ReverseProxy
	srv     *http.Server
	URL     string
	// off makes the meter a plain proxy (the throughput rounds), so that its own
	// parsing is not counted as the chain's work.
	off   atomic.Bool
	trace atomic.Bool

	mu       sync.Mutex
	counts   Usage
	requests []captured
}

// captured is one request the meter forwarded while tracing.
type captured struct {
	At          time.Time
	Service, Op string
	Header      http.Header // what the SDK sent (X-Amz-Target, Content-Type, signature)
	Body        []byte
	Status      int
	Took        time.Duration // from the request to the emulator's answer, through the meter
}

// index is a global secondary index as the meter prices a write to it: an item is in
// it when it has every key attribute, and its entry holds the keys and the projected
// attributes (all of them for ALL).
type index struct {
	name      string
	keys      []string
	all       bool
	projected map[string]bool
}

// entrySize is the size of the item's entry in the index.
func (x index) entrySize(item map[string]json.RawMessage) (int, bool) {
	for _, k := range x.keys {
		if _, ok := item[k]; !ok {
			return 0, false
		}
	}
	if x.all {
		return itemSize(item), true
	}
	entry := map[string]json.RawMessage{}
	for name, v := range item {
		if name == "pk" || name == "sk" || x.projected[name] || slices.Contains(x.keys, name) {
			entry[name] = v
		}
	}
	return itemSize(entry), true
}

// Usage is what the functions asked of one service.
type Usage struct {
	Requests  int            `json:"requests"`
	ByOp      map[string]int `json:"by_operation"`
	BytesByOp map[string]int `json:"request_bytes_by_operation"`
	WRU       float64        `json:"write_request_units,omitempty"`
	RRU       float64        `json:"read_request_units,omitempty"`
	// Capacity units (write or read) by operation.
	UnitsByOp map[string]float64 `json:"units_by_operation,omitempty"`
	// Capacity units by what took them: "<item> <operation>|<table or index>", for
	// example "event PutItem|table", "event PutItem|gsi1", "read SUBS Query|table".
	Units map[string]float64 `json:"units_by_item,omitempty"`
}

func newMeter(target, service string, tables map[string]template.Table) (*meter, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	m := &meter{service: service, gsis: map[string][]index{}, counts: newUsage()}
	for name, t := range tables {
		for _, g := range t.GlobalSecondaryIndexes {
			x := index{name: g.IndexName, all: g.Projection.ProjectionType == "ALL", projected: map[string]bool{}}
			for _, k := range g.KeySchema {
				x.keys = append(x.keys, k.AttributeName)
			}
			for _, a := range g.Projection.NonKeyAttributes {
				x.projected[a] = true
			}
			m.gsis[name] = append(m.gsis[name], x)
		}
	}
	m.proxy = httputil.NewSingleHostReverseProxy(u)
	m.proxy.Transport = &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute}
	m.proxy.ErrorLog = nil
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	m.URL = "http://" + ln.Addr().String()
	m.srv = &http.Server{Handler: m}
	go func() { _ = m.srv.Serve(ln) }()
	return m, nil
}

func (m *meter) Close() error { return m.srv.Close() }

// Take returns the usage since the last Take and starts counting afresh.
func (m *meter) Take() Usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.counts
	m.counts = newUsage()
	return u
}

// Trace turns keeping requests on or off and returns those kept so far.
func (m *meter) Trace(on bool) []captured {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.requests
	m.requests = nil
	m.trace.Store(on)
	return r
}

func newUsage() Usage {
	return Usage{ByOp: map[string]int{}, BytesByOp: map[string]int{}, UnitsByOp: map[string]float64{}, Units: map[string]float64{}}
}

// Record turns counting on or off; off, the meter only forwards.
func (m *meter) Record(on bool) { m.off.Store(!on) }

// operation is the request's operation: the X-Amz-Target's (DynamoDB, SQS and
// EventBridge speak JSON with a target), or Lambda's REST path.
func operation(r *http.Request) string {
	op := r.Header.Get("X-Amz-Target")
	if i := strings.LastIndexByte(op, '.'); i >= 0 {
		return op[i+1:]
	}
	if op != "" {
		return op
	}
	if strings.HasSuffix(r.URL.Path, "/invocations") {
		return "Invoke"
	}
	return r.Method + " " + r.URL.Path
}

func (m *meter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if m.off.Load() {
		m.proxy.ServeHTTP(w, r)
		return
	}
	op := operation(r)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	m.mu.Lock()
	m.counts.Requests++
	m.counts.ByOp[op]++
	m.counts.BytesByOp[op] += len(body)
	m.mu.Unlock()
	tracing := m.trace.Load()
	var c captured
	if tracing {
		c = captured{At: time.Now(), Service: m.service, Op: op, Header: r.Header.Clone(), Body: slices.Clone(body)}
	}
	var req map[string]json.RawMessage
	billable := m.service == "dynamodb" && billed[op] && json.Unmarshal(body, &req) == nil
	if billable {
		req["ReturnConsumedCapacity"] = json.RawMessage(`"INDEXES"`)
		if b, err := json.Marshal(req); err == nil {
			body = b
		}
		r.Header.Del("Accept-Encoding") // a plain answer, to read its ConsumedCapacity
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	rec := &recorder{ResponseWriter: w, keep: billable}
	began := time.Now()
	m.proxy.ServeHTTP(rec, r)
	if tracing {
		c.Status, c.Took = rec.status, time.Since(began)
		m.mu.Lock()
		m.requests = append(m.requests, c)
		m.mu.Unlock()
	}
	if !billable || rec.status >= 300 {
		return
	}
	units := m.capacity(op, req, rec.body.Bytes())
	m.mu.Lock()
	for k, u := range units {
		if writes[op] {
			m.counts.WRU += u
		} else {
			m.counts.RRU += u
		}
		m.counts.UnitsByOp[op] += u
		m.counts.Units[k] += u
	}
	m.mu.Unlock()
}

// billed are the DynamoDB operations that consume capacity.
var billed = map[string]bool{
	"GetItem": true, "PutItem": true, "UpdateItem": true, "DeleteItem": true, "Query": true, "Scan": true,
	"BatchGetItem": true, "BatchWriteItem": true, "TransactWriteItems": true, "TransactGetItems": true,
}

var writes = map[string]bool{"PutItem": true, "UpdateItem": true, "DeleteItem": true, "BatchWriteItem": true, "TransactWriteItems": true}

// capacity returns the capacity units of one answered request by what took them
// ("<item> <operation>|<table or index>"): what DynamoDB Local reports, except for
// transactions, which it counts at twice what DynamoDB bills (measured: 4 units per
// KB), so they are computed from the request: two write units per KB of each item
// written to the table (transactional writes), and one per KB of its entry in each
// global secondary index that holds it (index entries are propagated as standard
// writes, sized by the index's projection).
func (m *meter) capacity(op string, req map[string]json.RawMessage, resp []byte) map[string]float64 {
	if op == "TransactWriteItems" {
		if u, ok := m.transactionUnits(req); ok {
			return u
		}
	}
	label := requestLabel(op, req)
	var out struct {
		ConsumedCapacity json.RawMessage
	}
	if json.Unmarshal(resp, &out) != nil || len(out.ConsumedCapacity) == 0 {
		return nil
	}
	type units struct{ CapacityUnits float64 }
	type cc struct {
		CapacityUnits          float64
		Table                  *units
		GlobalSecondaryIndexes map[string]units
	}
	var many []cc
	if json.Unmarshal(out.ConsumedCapacity, &many) != nil {
		var one cc
		_ = json.Unmarshal(out.ConsumedCapacity, &one)
		many = []cc{one}
	}
	got := map[string]float64{}
	half := 1.0
	if op == "TransactWriteItems" {
		half = 0.5
	}
	for _, c := range many {
		if c.Table == nil && len(c.GlobalSecondaryIndexes) == 0 {
			got[label+"|total"] += c.CapacityUnits * half
			continue
		}
		rest := c.CapacityUnits
		if c.Table != nil {
			got[label+"|table"] += c.Table.CapacityUnits * half
			rest -= c.Table.CapacityUnits
		}
		for name, u := range c.GlobalSecondaryIndexes {
			got[label+"|"+name] += u.CapacityUnits * half
			rest -= u.CapacityUnits
		}
		if rest > 1e-9 {
			got[label+"|other"] += rest * half
		}
	}
	return got
}

// requestLabel names what a DynamoDB request wrote or read, for the cost's items:
// writes by the kind of item ("event PutItem", "delivery UpdateItem claim"), reads by
// the partition they read ("read SUBS Query").
func requestLabel(op string, req map[string]json.RawMessage) string {
	var key map[string]json.RawMessage
	switch op {
	case "PutItem":
		_ = json.Unmarshal(req["Item"], &key)
	case "UpdateItem", "DeleteItem", "GetItem":
		_ = json.Unmarshal(req["Key"], &key)
	case "Query":
		var vals map[string]json.RawMessage
		_ = json.Unmarshal(req["ExpressionAttributeValues"], &vals)
		key = map[string]json.RawMessage{"pk": vals[":pk"]}
		var idx string
		_ = json.Unmarshal(req["IndexName"], &idx)
		if idx != "" {
			op += " " + idx
		}
	case "BatchGetItem":
		var items map[string]struct{ Keys []map[string]json.RawMessage }
		_ = json.Unmarshal(req["RequestItems"], &items)
		for _, t := range items {
			if len(t.Keys) > 0 {
				key = t.Keys[0]
			}
		}
	}
	pk, sk := stringAttr(key["pk"]), stringAttr(key["sk"])
	if !writes[op] {
		return "read " + prefix(pk) + " " + op
	}
	label := itemKind(pk, sk) + " " + op
	if op == "UpdateItem" && itemKind(pk, sk) == "delivery" {
		var expr string
		_ = json.Unmarshal(req["UpdateExpression"], &expr)
		switch {
		case strings.Contains(expr, "inFlight = :t"):
			label += " claim"
		case strings.Contains(expr, "inFlight = :f"):
			label += " finish"
		}
	}
	return label
}

// itemKind is the kind of item a key designates (docs/dynamodb.md, Items).
func itemKind(pk, sk string) string {
	switch {
	case sk == "EVENT":
		return "event"
	case strings.HasPrefix(sk, "DLV#"):
		return "delivery"
	case strings.HasPrefix(sk, "TL#"):
		return "timeline"
	case strings.HasPrefix(pk, "EVT#") && strings.HasPrefix(sk, "RPL#"):
		return "replay-delivery"
	}
	return prefix(pk)
}

// prefix is a partition key up to its first '#': "SUBS", "TOKEN", "EVT".
func prefix(pk string) string {
	if i := strings.IndexByte(pk, '#'); i >= 0 {
		return pk[:i]
	}
	if pk == "" {
		return "?"
	}
	return pk
}

func stringAttr(raw json.RawMessage) string {
	var av struct{ S string }
	_ = json.Unmarshal(raw, &av)
	return av.S
}

func (m *meter) transactionUnits(req map[string]json.RawMessage) (map[string]float64, bool) {
	var items []struct {
		Put *struct {
			TableName string
			Item      map[string]json.RawMessage
		}
	}
	if json.Unmarshal(req["TransactItems"], &items) != nil || len(items) == 0 {
		return nil, false
	}
	units := map[string]float64{}
	for _, it := range items {
		if it.Put == nil {
			return nil, false // updates, deletes and checks: use what DynamoDB Local says
		}
		label := itemKind(stringAttr(it.Put.Item["pk"]), stringAttr(it.Put.Item["sk"])) + " TransactWriteItems"
		units[label+"|table"] += 2 * math.Ceil(float64(itemSize(it.Put.Item))/1024)
		for _, x := range m.gsis[it.Put.TableName] {
			if n, ok := x.entrySize(it.Put.Item); ok {
				units[label+"|"+x.name] += math.Ceil(float64(n) / 1024)
			}
		}
	}
	return units, true
}

// itemSize is an item's size as DynamoDB counts it: attribute names plus values.
func itemSize(item map[string]json.RawMessage) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(raw json.RawMessage) int {
	var av map[string]json.RawMessage
	if json.Unmarshal(raw, &av) != nil {
		return 0
	}
	for typ, v := range av {
		switch typ {
		case "S":
			var s string
			_ = json.Unmarshal(v, &s)
			return len(s)
		case "N":
			var s string
			_ = json.Unmarshal(v, &s)
			return numberSize(s)
		case "B":
			var s string
			_ = json.Unmarshal(v, &s)
			b, _ := base64.StdEncoding.DecodeString(s)
			return len(b)
		case "BOOL", "NULL":
			return 1
		case "SS", "NS", "BS":
			var ss []string
			_ = json.Unmarshal(v, &ss)
			n := 0
			for _, s := range ss {
				switch typ {
				case "NS":
					n += numberSize(s)
				case "BS":
					b, _ := base64.StdEncoding.DecodeString(s)
					n += len(b)
				default:
					n += len(s)
				}
			}
			return n
		case "L":
			var l []json.RawMessage
			_ = json.Unmarshal(v, &l)
			n := 3
			for _, e := range l {
				n += 1 + valueSize(e)
			}
			return n
		case "M":
			var mm map[string]json.RawMessage
			_ = json.Unmarshal(v, &mm)
			n := 3
			for k, e := range mm {
				n += 1 + len(k) + valueSize(e)
			}
			return n
		}
	}
	return 0
}

// numberSize approximates DynamoDB's number size: one byte per two significant
// digits, plus one.
func numberSize(s string) int {
	d := 0
	for _, c := range strings.TrimLeft(strings.TrimLeft(s, "-"), "0.") {
		if c >= '0' && c <= '9' {
			d++
		}
	}
	return (d+1)/2 + 1
}

// recorder notes the response status and, when keep is set, keeps a copy of the body.
type recorder struct {
	http.ResponseWriter
	keep   bool
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.keep {
		r.body.Write(b)
	}
	return r.ResponseWriter.Write(b)
}

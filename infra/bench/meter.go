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
// operation (the X-Amz-Target header). For DynamoDB it also asks for and adds up the
// capacity each request consumes, which is what on-demand tables bill.
type meter struct {
	dynamo bool
	gsis   map[string][]index // by table name
	proxy  *httputil.ReverseProxy
	srv    *http.Server
	URL    string
	// off makes the meter a plain proxy (the throughput rounds), so that its own
	// parsing is not counted as the chain's work.
	off atomic.Bool

	mu     sync.Mutex
	counts Usage
}

// index is a global secondary index as the meter prices a write to it: an item is in
// it when it has every key attribute, and its entry holds the keys and the projected
// attributes (all of them for ALL).
type index struct {
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
	Requests int            `json:"requests"`
	ByOp     map[string]int `json:"by_operation"`
	WRU      float64        `json:"write_request_units,omitempty"`
	RRU      float64        `json:"read_request_units,omitempty"`
	// Capacity units (write or read) by operation.
	UnitsByOp map[string]float64 `json:"units_by_operation,omitempty"`
}

func newMeter(target string, dynamo bool, tables map[string]template.Table) (*meter, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	m := &meter{dynamo: dynamo, gsis: map[string][]index{}, counts: newUsage()}
	for name, t := range tables {
		for _, g := range t.GlobalSecondaryIndexes {
			x := index{all: g.Projection.ProjectionType == "ALL", projected: map[string]bool{}}
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

func newUsage() Usage { return Usage{ByOp: map[string]int{}, UnitsByOp: map[string]float64{}} }

// Record turns counting on or off; off, the meter only forwards.
func (m *meter) Record(on bool) { m.off.Store(!on) }

func (m *meter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if m.off.Load() {
		m.proxy.ServeHTTP(w, r)
		return
	}
	op := r.Header.Get("X-Amz-Target")
	if i := strings.LastIndexByte(op, '.'); i >= 0 {
		op = op[i+1:]
	}
	m.mu.Lock()
	m.counts.Requests++
	m.counts.ByOp[op]++
	m.mu.Unlock()
	if !m.dynamo || !billed[op] {
		m.proxy.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	var req map[string]json.RawMessage
	if json.Unmarshal(body, &req) == nil {
		req["ReturnConsumedCapacity"] = json.RawMessage(`"INDEXES"`)
		if b, err := json.Marshal(req); err == nil {
			body = b
		}
	}
	r.Header.Del("Accept-Encoding") // a plain answer, to read its ConsumedCapacity
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	rec := &recorder{ResponseWriter: w}
	m.proxy.ServeHTTP(rec, r)
	if rec.status >= 300 {
		return
	}
	wru, rru := m.capacity(op, req, rec.body.Bytes())
	m.mu.Lock()
	m.counts.WRU += wru
	m.counts.RRU += rru
	m.counts.UnitsByOp[op] += wru + rru
	m.mu.Unlock()
}

// billed are the DynamoDB operations that consume capacity.
var billed = map[string]bool{
	"GetItem": true, "PutItem": true, "UpdateItem": true, "DeleteItem": true, "Query": true, "Scan": true,
	"BatchGetItem": true, "BatchWriteItem": true, "TransactWriteItems": true, "TransactGetItems": true,
}

var writes = map[string]bool{"PutItem": true, "UpdateItem": true, "DeleteItem": true, "BatchWriteItem": true, "TransactWriteItems": true}

// capacity returns the write and read request units of one answered request: what
// DynamoDB Local reports, except for transactions, which it counts at twice what
// DynamoDB bills (measured: 4 units per KB), so they are computed from the request:
// two write units per KB of each item written to the table (transactional writes),
// and one per KB of its entry in each global secondary index that holds it (index
// entries are propagated as standard writes, sized by the index's projection).
func (m *meter) capacity(op string, req map[string]json.RawMessage, resp []byte) (wru, rru float64) {
	if op == "TransactWriteItems" {
		if w, ok := m.transactionUnits(req); ok {
			return w, 0
		}
	}
	var out struct {
		ConsumedCapacity json.RawMessage
	}
	if json.Unmarshal(resp, &out) != nil || len(out.ConsumedCapacity) == 0 {
		return 0, 0
	}
	type cc struct{ CapacityUnits float64 }
	var units float64
	var many []cc
	if json.Unmarshal(out.ConsumedCapacity, &many) == nil {
		for _, c := range many {
			units += c.CapacityUnits
		}
	} else {
		var one cc
		_ = json.Unmarshal(out.ConsumedCapacity, &one)
		units = one.CapacityUnits
	}
	if op == "TransactWriteItems" {
		units /= 2
	}
	if writes[op] {
		return units, 0
	}
	return 0, units
}

func (m *meter) transactionUnits(req map[string]json.RawMessage) (float64, bool) {
	var items []struct {
		Put *struct {
			TableName string
			Item      map[string]json.RawMessage
		}
	}
	if json.Unmarshal(req["TransactItems"], &items) != nil || len(items) == 0 {
		return 0, false
	}
	var units float64
	for _, it := range items {
		if it.Put == nil {
			return 0, false // updates, deletes and checks: use what DynamoDB Local says
		}
		units += 2 * math.Ceil(float64(itemSize(it.Put.Item))/1024)
		for _, x := range m.gsis[it.Put.TableName] {
			if n, ok := x.entrySize(it.Put.Item); ok {
				units += math.Ceil(float64(n) / 1024)
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

// recorder keeps a copy of the response body.
type recorder struct {
	http.ResponseWriter
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
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

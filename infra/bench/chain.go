package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventhub/eventhub/infra/local/stack"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/pattern/patterntest"
)

// receiver is the subscriber's webhook endpoint: it acknowledges at once and notes
// when each event (by its CloudEvents id) first arrived, and how many times.
type receiver struct {
	URL string
	srv *http.Server

	mu    sync.Mutex
	first map[string]time.Time
	count map[string]int
	wait  map[string]chan struct{}
}

func newReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rc := &receiver{URL: "http://" + ln.Addr().String() + "/hook", first: map[string]time.Time{}, count: map[string]int{}, wait: map[string]chan struct{}{}}
	rc.srv = &http.Server{Handler: rc}
	go func() { _ = rc.srv.Serve(ln) }()
	return rc, nil
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, _ := io.ReadAll(r.Body)
	var ev struct{ ID string }
	_ = json.Unmarshal(body, &ev)
	w.WriteHeader(http.StatusNoContent)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.count[ev.ID]++
	if _, ok := rc.first[ev.ID]; !ok {
		rc.first[ev.ID] = at
		if c, ok := rc.wait[ev.ID]; ok {
			close(c)
			delete(rc.wait, ev.ID)
		}
	}
}

// arrived returns a channel closed when the event with the id has been delivered.
func (rc *receiver) arrived(id string) <-chan struct{} {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	c := make(chan struct{})
	if _, ok := rc.first[id]; ok {
		close(c)
		return c
	}
	rc.wait[id] = c
	return c
}

func (rc *receiver) delivered(id string) (time.Time, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.first[id], rc.count[id]
}

func (rc *receiver) Close() error { return rc.srv.Close() }

// producer sends events to the local API with a source token.
type producer struct {
	api    string
	token  string
	client *http.Client
	run    string // unique per bench run: event ids and the source attribute
	seq    atomic.Int64
	tmpl   []byte // the MSE event with placeholders
}

func newProducer(st *stack.Stack, token, run string) *producer {
	tmpl := strings.Replace(patterntest.MSEEvent, `"5d7c4e2a-8f3b-4a6e-9c1d-2b7e8f9a0c3d"`, `"@ID@"`, 1)
	tmpl = strings.Replace(tmpl, `"source": "acs.mse"`, `"source": "/bench/`+run+`"`, 1)
	return &producer{
		api: st.APIURL, token: token, run: run, tmpl: []byte(tmpl),
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}, Timeout: 60 * time.Second},
	}
}

// next returns a new event id and its body.
func (p *producer) next() (string, []byte) {
	return p.nextWithID(p.run + "-" + strconv.FormatInt(p.seq.Add(1), 10))
}

// nextWithID returns the body of an event with the id.
func (p *producer) nextWithID(id string) (string, []byte) {
	return id, bytes.Replace(p.tmpl, []byte("@ID@"), []byte(id), 1)
}

// send POSTs one event and returns when the API answered.
func (p *producer) send(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.api+"/events", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+p.token)
	req.Header.Set("Content-Type", "application/cloudevents+json")
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("POST /events: HTTP %d: %s", resp.StatusCode, b)
	}
	return nil
}

// admin calls the API with the admin token and decodes the answer.
func admin(ctx context.Context, st *stack.Stack, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, st.APIURL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+st.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, b)
	}
	return json.Unmarshal(b, out)
}

// sample is one event's latency: from POST to its first delivery.
type sample struct {
	id   string
	sent time.Time
	ms   float64
}

func latencies(ss []sample) []float64 {
	out := make([]float64, len(ss))
	for i, s := range ss {
		out[i] = s.ms
	}
	return out
}

// SlowEvent is where the time of one of the slowest events went, from its timeline:
// POST to received (the API and ingest), received to normalized, normalized to
// stored, stored to the end of the first delivery attempt (the receiver answers at
// once, so this is notify's start and its POST).
type SlowEvent struct {
	TotalMs float64            `json:"total_ms"`
	Stages  map[string]float64 `json:"stages_ms"`
}

// breakdown reads the timelines of the slowest events.
func breakdown(ctx context.Context, st *stack.Stack, run string, ss []sample, n int) []SlowEvent {
	slices.SortFunc(ss, func(a, b sample) int { return cmpFloat(b.ms, a.ms) })
	var out []SlowEvent
	for _, s := range ss[:min(n, len(ss))] {
		var view struct {
			Timeline []struct {
				At    time.Time
				Stage string
			}
		}
		key := cloudevent.Key("/bench/"+run, s.id)
		if err := admin(ctx, st, http.MethodGet, "/events/"+key, nil, &view); err != nil {
			continue
		}
		at := map[string]time.Time{"post": s.sent}
		for _, e := range view.Timeline {
			if _, ok := at[e.Stage]; !ok {
				at[e.Stage] = e.At
			}
		}
		se := SlowEvent{TotalMs: round(s.ms, 1), Stages: map[string]float64{}}
		prev := "post"
		for _, stage := range []string{"received", "normalized", "stored", "attempt"} {
			if t, ok := at[stage]; ok {
				se.Stages[prev+"→"+stage] = round(ms(t.Sub(at[prev])), 1)
				prev = stage
			}
		}
		out = append(out, se)
	}
	return out
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Latency is the latency phase's figures.
type Latency struct {
	RatePerS  float64   `json:"rate_per_s"`
	Events    int       `json:"events"`
	P50Ms     float64   `json:"p50_ms"` // medians over rounds
	P99Ms     float64   `json:"p99_ms"`
	RoundsP50 []float64 `json:"rounds_p50_ms"`
	RoundsP99 []float64 `json:"rounds_p99_ms"`
	Lost      int       `json:"lost"`
	// The slowest events of the round with the median p99, and where their time went.
	SlowestRound int         `json:"slowest_of_round"`
	Slowest      []SlowEvent `json:"slowest"`
}

// paced sends n events at rate per second, each from its own goroutine at its
// scheduled time (an open loop, so a slow answer does not slow the load), and returns
// each event's latency from POST to first delivery.
func paced(ctx context.Context, p *producer, rc *receiver, n int, rate float64, deadline time.Duration) (lat []sample, lost int, err error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	for i := range n {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		id, body := p.next()
		arrived := rc.arrived(id)
		wg.Go(func() {
			sent := time.Now()
			if err := p.send(ctx, body); err != nil {
				mu.Lock()
				firstErr = orErr(firstErr, err)
				lost++
				mu.Unlock()
				return
			}
			select {
			case <-arrived:
				at, _ := rc.delivered(id)
				mu.Lock()
				lat = append(lat, sample{id: id, sent: sent, ms: ms(at.Sub(sent))})
				mu.Unlock()
			case <-time.After(deadline):
				mu.Lock()
				lost++
				mu.Unlock()
			case <-ctx.Done():
			}
		})
	}
	wg.Wait()
	return lat, lost, firstErr
}

// parallel calls f with 0 to n-1 from workers goroutines, each taking the next
// number, until the numbers are done or f returns false.
func parallel(n, workers int, f func(i int) bool) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || !f(i) {
					return
				}
			}
		})
	}
	wg.Wait()
}

func orErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// ThroughputRound is one closed-loop round: the mix replayed, then the chain.
type ThroughputRound struct {
	Events         int     `json:"events"`
	ChainPerS      float64 `json:"chain_events_per_s"`
	MixPerS        float64 `json:"mix_events_per_s"`
	MixFailed      int     `json:"mix_requests_refused"`
	Ratio          float64 `json:"ratio"`
	Lost           int     `json:"lost"`
	DuplicateDeliv int     `json:"duplicate_deliveries"`
	ChainSeconds   float64 `json:"chain_seconds"`
	// CPU time by process, per chain event and per replayed event: where the work goes.
	ChainCPUMs map[string]float64 `json:"chain_cpu_ms_per_event,omitempty"`
	MixCPUMs   map[string]float64 `json:"mix_cpu_ms_per_event,omitempty"`
}

// burst sends n events through workers concurrent producers as fast as the API takes
// them and returns the events per second from the first POST to the last first
// delivery, once every event has arrived (or the deadline passed: lost).
func burst(ctx context.Context, p *producer, rc *receiver, n, workers int, deadline time.Duration) (ThroughputRound, error) {
	ids := make([]string, n)
	bodies := make([][]byte, n)
	arrived := make([]<-chan struct{}, n)
	for i := range n {
		ids[i], bodies[i] = p.next()
		arrived[i] = rc.arrived(ids[i])
	}
	var sendErr error
	var mu sync.Mutex
	start := time.Now()
	parallel(n, workers, func(i int) bool {
		if err := p.send(ctx, bodies[i]); err != nil {
			mu.Lock()
			sendErr = orErr(sendErr, err)
			mu.Unlock()
		}
		return true
	})
	var r ThroughputRound
	r.Events = n
	timeout := time.After(deadline)
	var last time.Time
	for i := range n {
		select {
		case <-arrived[i]:
		case <-timeout:
		case <-ctx.Done():
			return r, ctx.Err()
		}
		at, count := rc.delivered(ids[i])
		if count == 0 {
			r.Lost++
			continue
		}
		r.DuplicateDeliv += count - 1
		if at.After(last) {
			last = at
		}
	}
	elapsed := last.Sub(start)
	r.ChainSeconds = round(elapsed.Seconds(), 3)
	if r.Lost == 0 && elapsed > 0 {
		r.ChainPerS = float64(n) / elapsed.Seconds()
	}
	return r, sendErr
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// perUnit divides CPU times by a count, in milliseconds.
func perUnit(cpu map[string]time.Duration, n int) map[string]float64 {
	if len(cpu) == 0 || n == 0 {
		return nil
	}
	out := map[string]float64{}
	for k, v := range cpu {
		out[k] = round(ms(v)/float64(n), 3)
	}
	return out
}

// storedBytes is what DynamoDB stores for one event: every item of its partition (the
// event, its timeline, its deliveries) with DynamoDB's 100 bytes of overhead per
// item, plus the copy in each global secondary index that holds the item.
func storedBytes(ctx context.Context, db *dynamodb.Client, table string, gsis []index, key string) (int, error) {
	out, err := db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s("EVT#" + key)},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, item := range out.Items {
		// DynamoDB adds 100 bytes of overhead to every item and index entry.
		size, entries := 100, make([]int, len(gsis))
		for i := range entries {
			entries[i] = 100
		}
		for name, v := range item {
			sz := len(name) + avSize(v)
			size += sz
			for i, x := range gsis {
				if x.all || x.projected[name] || name == "pk" || name == "sk" || slices.Contains(x.keys, name) {
					entries[i] += sz
				}
			}
		}
		n += size
	next:
		for i, x := range gsis {
			for _, k := range x.keys {
				if _, ok := item[k]; !ok {
					continue next
				}
			}
			n += entries[i]
		}
	}
	return n, nil
}

// avSize approximates DynamoDB's size of an attribute value.
func avSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + avSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + avSize(e)
		}
		return n
	}
	return 0
}

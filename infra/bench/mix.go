package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventhub/eventhub/infra/bench/floor"
)

// mix is the chain's own per-event request mix, as the meters saw it in the latency
// rounds: every request the functions made to DynamoDB, the bus and SQS, with its
// body, grouped by the event it was about. The baseline of chain_ratio replays it
// straight at the emulators, with the same concurrency as the chain's producers: the
// rate at which the emulators serve the requests the chain needs, with nothing of
// eventhub's in between.
type mix struct {
	events int       // events of the latency rounds the requests were made for
	groups [][]mixed // the requests of one event, in the order they were made
	counts map[string]int
	bytes  map[string]int
}

type mixed struct {
	service, op string
	header      http.Header
	body        []byte
}

// storageKey is an event's storage key (cloudevent.Key) in a request body.
var storageKey = regexp.MustCompile(`evt_[a-z2-7]{26}`)

// newMix groups the captured requests of n events by the event they name; those that
// name none (the subscription list, a token) are groups of their own.
func newMix(n int, reqs []captured) *mix {
	slices.SortStableFunc(reqs, func(a, b captured) int { return a.At.Compare(b.At) })
	mx := &mix{events: n, counts: map[string]int{}, bytes: map[string]int{}}
	byKey := map[string]int{}
	for _, r := range reqs {
		m := mixed{service: r.Service, op: r.Op, header: r.Header.Clone(), body: r.Body}
		for _, h := range []string{"Content-Length", "Accept-Encoding", "Amz-Sdk-Invocation-Id", "Amz-Sdk-Request"} {
			m.header.Del(h)
		}
		mx.counts[r.Service+"."+r.Op]++
		mx.bytes[r.Service+"."+r.Op] += len(r.Body)
		key := storageKey.Find(r.Body)
		if key == nil {
			mx.groups = append(mx.groups, []mixed{m})
			continue
		}
		i, ok := byKey[string(key)]
		if !ok {
			i = len(mx.groups)
			byKey[string(key)] = i
			mx.groups = append(mx.groups, nil)
		}
		mx.groups[i] = append(mx.groups[i], m)
	}
	return mx
}

// PerEvent returns the requests per event by service and operation.
func (mx *mix) PerEvent() map[string]float64 {
	out := map[string]float64{}
	for k, c := range mx.counts {
		out[k] = round(float64(c)/float64(mx.events), 3)
	}
	return out
}

// endpoints are where a replay sends each service's requests.
type endpoints struct {
	byService map[string]string
	queueURL  string // the queue SQS requests are sent to instead of eventhub's
}

// replay sends every request of the mix once, each event's requests in order by one
// of workers concurrent clients, with the event keys renamed (fresh items, so that
// the conditional writes succeed as they did in the chain), the bus entries' sources
// renamed so that no rule routes them, and SQS requests sent to a queue of the
// bench's. It returns the events per second and the requests the emulators refused.
func (mx *mix) replay(ctx context.Context, ep endpoints, pass string, workers int) (perS float64, failed int, err error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * workers, IdleConnTimeout: time.Minute}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	var nfailed atomic.Int64
	var mu sync.Mutex
	var firstErr error
	start := time.Now()
	parallel(len(mx.groups), workers, func(i int) bool {
		if ctx.Err() != nil {
			return false
		}
		for _, m := range mx.groups[i] {
			body := floor.Rewrite(floor.Request{Service: m.service, Op: m.op, Body: m.body}, "-"+pass, ep.queueURL)
			status, err := send(ctx, client, ep.byService[m.service], m.header, body)
			if err != nil {
				mu.Lock()
				firstErr = orErr(firstErr, fmt.Errorf("replay %s.%s: %w", m.service, m.op, err))
				mu.Unlock()
				return false
			}
			if status >= 300 {
				nfailed.Add(1)
			}
		}
		return true
	})
	if firstErr != nil {
		return 0, 0, firstErr
	}
	return float64(mx.events) / time.Since(start).Seconds(), int(nfailed.Load()), ctx.Err()
}

func send(ctx context.Context, c *http.Client, endpoint string, h http.Header, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header = h.Clone()
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

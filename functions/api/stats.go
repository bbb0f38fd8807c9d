package main

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventhub/eventhub/shared/apigw"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/pattern"
	"github.com/eventhub/eventhub/shared/store"
)

// The console's two routes of its own (issue 17): GET /stats, the overview's figures,
// and POST /patterns/test, the pattern editor's "which of the last events match".
// Both are behind the admin token like every other route.

type statsStore interface {
	IngestCounts(ctx context.Context, since, until time.Time) ([]store.MinuteCount, error)
}

// queueDepth is the SQS call that reads a dead-letter queue's depth.
type queueDepth interface {
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// The overview reads this many subscriptions' latest deliveries, and this many of
// each: bounded reads, so that the page costs the same however busy the hub is.
const (
	statsMaxSubscriptions = 25
	statsDeliveries       = 100
	patternTestEvents     = 50
)

func (h *handler) consoleRoutes() map[string]route {
	return map[string]route{
		"GET /stats":          h.stats,
		"POST /patterns/test": h.testPattern,
	}
}

type unhealthySub struct {
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	DisabledReason string     `json:"disabledReason,omitempty"`
	FailingSince   *time.Time `json:"failingSince,omitempty"`
}

type statsOut struct {
	Since      string             `json:"since"`
	Until      string             `json:"until"`
	Accepted   int                `json:"accepted"`
	Rejected   int                `json:"rejected"`
	Events     int                `json:"events"`
	Minutes    []statsMinute      `json:"minutes"`
	Deliveries map[string]int     `json:"deliveries"`
	Latency    statsLatency       `json:"latency"`
	Queues     map[string]int     `json:"queues"`
	Subs       statsSubscriptions `json:"subscriptions"`
}

type statsMinute struct {
	Minute   string `json:"minute"`
	Events   int    `json:"events"`
	Rejected int    `json:"rejected"`
}

type statsLatency struct {
	Attempts int   `json:"attempts"`
	P50      int64 `json:"p50"`
	P99      int64 `json:"p99"`
}

type statsSubscriptions struct {
	Healthy   int            `json:"healthy"`
	Failing   int            `json:"failing"`
	Disabled  int            `json:"disabled"`
	Unhealthy []unhealthySub `json:"unhealthy"`
}

// stats answers GET /stats?since=: ingest's counters per minute in the window, the
// latest deliveries of the subscriptions by status with the latency of those that
// succeeded, the dead-letter queues' depths and the subscriptions' health.
func (h *handler) stats(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	p, err := queryParams(req, "since")
	if err != nil {
		return apigw.Response{}, err
	}
	window := p["since"]
	if window == "" {
		window = "60m"
	}
	now := h.now()
	since, until, err := windowParams(window, "", now)
	if err != nil {
		return apigw.Response{}, err
	}
	if until.IsZero() {
		until = now
	}
	if until.Sub(since) > 24*time.Hour {
		return apigw.Response{}, fault.At("since", "the overview covers at most the last 24 hours")
	}
	out := statsOut{
		Since: since.UTC().Format(time.RFC3339), Until: until.UTC().Format(time.RFC3339),
		Minutes: []statsMinute{}, Deliveries: map[string]int{}, Queues: map[string]int{},
		Subs: statsSubscriptions{Unhealthy: []unhealthySub{}},
	}
	counts, err := h.store.IngestCounts(ctx, since, until)
	if err != nil {
		return apigw.Response{}, err
	}
	for _, m := range counts {
		out.Accepted += m.Accepted
		out.Rejected += m.Rejected
		out.Minutes = append(out.Minutes, statsMinute{Minute: m.Minute, Events: m.Accepted, Rejected: m.Rejected})
	}
	out.Events = out.Accepted

	subs, err := h.store.ListSubscriptions(ctx)
	if err != nil {
		return apigw.Response{}, err
	}
	var latencies []int64
	for i, s := range subs {
		switch {
		case !s.Enabled:
			out.Subs.Disabled++
			out.Subs.Unhealthy = append(out.Subs.Unhealthy, unhealthySub{ID: s.ID, Name: s.Name, DisabledReason: s.DisabledReason})
		case s.FailingSince != nil:
			out.Subs.Failing++
			out.Subs.Unhealthy = append(out.Subs.Unhealthy, unhealthySub{ID: s.ID, Name: s.Name, FailingSince: s.FailingSince})
		default:
			out.Subs.Healthy++
		}
		if i >= statsMaxSubscriptions {
			continue
		}
		page, err := h.store.ListDeliveries(ctx, store.DeliveryQuery{SubscriptionID: s.ID, Limit: statsDeliveries})
		if err != nil {
			return apigw.Response{}, err
		}
		for _, d := range page.Deliveries {
			if d.UpdatedAt.Before(since) {
				continue
			}
			out.Deliveries[d.Status]++
			if d.Status == store.DeliveryDelivered {
				latencies = append(latencies, d.LatencyMs)
			}
		}
	}
	out.Latency = percentiles(latencies)

	if q, ok := h.queues.sqs.(queueDepth); ok {
		for name, url := range map[string]string{"deliveries": h.queues.dlqURL, "pipeline": h.pipeline.dlqURL} {
			if url == "" {
				continue
			}
			n, err := depth(ctx, q, url)
			if err != nil {
				h.log.WarnContext(ctx, "dead-letter depth not read", "queue", name, "error", err)
				continue
			}
			out.Queues[name] = n
		}
	}
	return apigw.JSON(http.StatusOK, out), nil
}

func depth(ctx context.Context, q queueDepth, url string) (int, error) {
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       &url,
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages},
	})
	if err != nil {
		return 0, err
	}
	n, _ := strconv.Atoi(attrs.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
	return n, nil
}

// percentiles are the nearest-rank p50 and p99 of the latencies.
func percentiles(ms []int64) statsLatency {
	out := statsLatency{Attempts: len(ms)}
	if len(ms) == 0 {
		return out
	}
	slices.Sort(ms)
	rank := func(p int) int64 { return ms[max(0, (p*len(ms)+99)/100-1)] }
	out.P50, out.P99 = rank(50), rank(99)
	return out
}

type patternMatch struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Source string `json:"source"`
	Match  bool   `json:"match"`
}

// testPattern answers POST /patterns/test {"pattern"}: which of the last events the
// pattern matches, with the same compiler and matcher notify uses.
func (h *handler) testPattern(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	var in struct {
		Pattern json.RawMessage `json:"pattern"`
	}
	if err := decode(req, &in); err != nil {
		return apigw.Response{}, err
	}
	raw := []byte(in.Pattern)
	if len(raw) == 0 || string(raw) == "null" {
		raw = []byte("{}")
	}
	// The editor sends the pattern as text while it is typed.
	var text string
	if json.Unmarshal(raw, &text) == nil {
		raw = []byte(text)
	}
	pat, err := pattern.Compile(raw)
	if err != nil {
		return apigw.Response{}, fault.At("pattern", "%v", err)
	}
	page, err := h.ev.store.ListEvents(ctx, store.EventQuery{Limit: patternTestEvents, MaxBytes: maxPageBytes})
	if err != nil {
		return apigw.Response{}, err
	}
	out := struct {
		Tested  int            `json:"tested"`
		Matched int            `json:"matched"`
		Events  []patternMatch `json:"events"`
	}{Events: []patternMatch{}}
	for _, ev := range page.Events {
		var head struct{ ID, Type, Source string }
		_ = json.Unmarshal(ev.Event, &head)
		ok, err := pat.Match(ev.Event)
		if err != nil {
			continue // an event the matcher cannot read matches nothing, as in notify
		}
		out.Tested++
		if ok {
			out.Matched++
		}
		out.Events = append(out.Events, patternMatch{ID: head.ID, Type: head.Type, Source: head.Source, Match: ok})
	}
	return apigw.JSON(http.StatusOK, out), nil
}

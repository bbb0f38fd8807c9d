package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// producer posts events to eventhub in batches, as a well-behaved client does: a
// request that fails (5xx, a dropped connection) is sent again, with backoff, until
// eventhub accepts it; the same events sent again are stored once.
type producer struct {
	api, token string
	client     *http.Client

	accepted atomic.Int64 // events accepted
	retries  atomic.Int64 // requests sent again
	statuses sync.Map     // status code -> *atomic.Int64
}

type ingestAnswer struct {
	Accepted int `json:"accepted"`
	Results  []struct {
		ID    string          `json:"id"`
		Error json.RawMessage `json:"error"`
	} `json:"results"`
}

// send posts batch until every event in it is accepted or ctx ends. It sets Key and
// Accepted on the events eventhub accepts.
func (p *producer) send(ctx context.Context, batch []*sentEvent) error {
	pending := batch
	backoff := 100 * time.Millisecond
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt > 0 {
			p.retries.Add(1)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 3*time.Second)
		}
		status, ans, err := p.post(ctx, pending)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue // connection trouble: send again
		}
		p.count(status)
		switch {
		case status == http.StatusAccepted || status == http.StatusMultiStatus:
		case status >= 500 || status == http.StatusTooManyRequests:
			continue
		default:
			return fmt.Errorf("POST /events answered %d: the harness sent something eventhub refuses", status)
		}
		if len(ans.Results) != len(pending) {
			return fmt.Errorf("POST /events answered %d results for %d events", len(ans.Results), len(pending))
		}
		var again []*sentEvent
		for i, r := range ans.Results {
			if r.ID == "" {
				again = append(again, pending[i])
				continue
			}
			pending[i].Key, pending[i].Accepted = r.ID, true
			p.accepted.Add(1)
		}
		pending = again
	}
	return nil
}

func (p *producer) post(ctx context.Context, events []*sentEvent) (int, ingestAnswer, error) {
	var ans ingestAnswer
	body, err := json.Marshal(cloudEvents(events))
	if err != nil {
		return 0, ans, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.api+"/events", bytes.NewReader(body))
	if err != nil {
		return 0, ans, err
	}
	req.Header.Set("Authorization", "Bearer "+p.token)
	req.Header.Set("Content-Type", "application/cloudevents-batch+json")
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, ans, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, ans, err
	}
	if resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusMultiStatus {
		if err := json.Unmarshal(raw, &ans); err != nil {
			return 0, ans, fmt.Errorf("decode answer %s: %w", raw, err)
		}
	}
	return resp.StatusCode, ans, nil
}

func (p *producer) count(status int) {
	v, _ := p.statuses.LoadOrStore(status, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

func (p *producer) statusCounts() map[string]int64 {
	out := map[string]int64{}
	p.statuses.Range(func(k, v any) bool {
		out[fmt.Sprint(k)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

type cloudEvent struct {
	SpecVersion     string         `json:"specversion"`
	ID              string         `json:"id"`
	Source          string         `json:"source"`
	Type            string         `json:"type"`
	Time            string         `json:"time"`
	DataContentType string         `json:"datacontenttype"`
	Data            map[string]any `json:"data"`
}

func cloudEvents(events []*sentEvent) []cloudEvent {
	out := make([]cloudEvent, len(events))
	for i, e := range events {
		out[i] = cloudEvent{
			SpecVersion: "1.0", ID: e.ID, Source: e.Source, Type: e.Type,
			Time: "2026-11-23T10:00:00Z", DataContentType: "application/json",
			Data: map[string]any{"seq": i, "note": "chaos"},
		}
	}
	return out
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/eventhub/eventhub/shared/apigw"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/pattern"
	"github.com/eventhub/eventhub/shared/replay"
	"github.com/eventhub/eventhub/shared/store"
)

// replayView is a replay job as the API shows it.
type replayView struct {
	store.Replay
	Status  string          `json:"status"`
	Pattern json.RawMessage `json:"pattern,omitempty"`
}

func replayOf(r store.Replay) replayView {
	v := replayView{Replay: r, Status: r.Status()}
	if r.Pattern != "" {
		v.Pattern = json.RawMessage(r.Pattern)
	}
	return v
}

func accepted(r store.Replay) apigw.Response {
	resp := apigw.JSON(http.StatusAccepted, replayOf(r))
	resp.Headers["location"] = "/replays/" + r.ID
	return resp
}

// replayEvent sends one stored event again: to the subscription named in the body, or
// to every enabled subscription whose pattern matches it. Notify delivers each once,
// with the webhook-id of the original delivery.
func (h *handler) replayEvent(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	var in struct {
		Subscription string `json:"subscription"`
	}
	if body, err := apigw.Body(req); err != nil {
		return apigw.Response{}, err
	} else if len(bytes.TrimSpace(body)) > 0 {
		if err := decode(req, &in); err != nil {
			return apigw.Response{}, err
		}
	}
	key := req.PathParameters["id"]
	if !cloudevent.ValidKey(key) {
		return apigw.Response{}, fault.New(fault.NotFound, "no event %q", key)
	}
	ev, err := h.store.GetEvent(ctx, key)
	if fault.Is(err, fault.NotFound) {
		return apigw.Response{}, fault.New(fault.NotFound, "no event %s", key)
	}
	if err != nil {
		return apigw.Response{}, err
	}
	var subs []string
	if in.Subscription != "" {
		if _, err := h.subscription(ctx, in.Subscription); err != nil {
			return apigw.Response{}, err
		}
		subs = []string{in.Subscription}
	} else {
		all, err := h.store.ListSubscriptions(ctx)
		if err != nil {
			return apigw.Response{}, err
		}
		for _, s := range all {
			if !s.Enabled {
				continue
			}
			p, err := pattern.Compile([]byte(orAll(s.Pattern)))
			if err != nil {
				continue
			}
			if ok, err := p.Match(ev.Event); err == nil && ok {
				subs = append(subs, s.ID)
			}
		}
		sort.Strings(subs)
		if len(subs) == 0 {
			return apigw.Response{}, fault.New(fault.Conflict, "no enabled subscription matches event %s; name one with {\"subscription\": \"sub_...\"}", key)
		}
	}
	r := store.Replay{ID: h.id("rpl_"), Kind: store.ReplayEvent, EventKey: key, SubscriptionID: in.Subscription, Total: len(subs), ScanDone: true}
	if err := h.ev.store.CreateReplay(ctx, r); err != nil {
		return apigw.Response{}, err
	}
	ds := make([]replay.Delivery, len(subs))
	for i, s := range subs {
		ds[i] = replay.Delivery{Key: key, SubscriptionID: s, DueAt: h.now().UTC(), Replay: r.ID}
	}
	if err := replay.Enqueue(ctx, h.ev.queue, h.ev.retryURL, ds); err != nil {
		return apigw.Response{}, err
	}
	h.log.InfoContext(ctx, "replay queued", "replayId", r.ID, "eventKey", key, "deliveries", len(ds))
	r.CreatedAt, r.UpdatedAt = h.now().UTC(), h.now().UTC()
	return accepted(r), nil
}

func orAll(p string) string {
	if p == "" {
		return "{}"
	}
	return p
}

// subscription returns the subscription a request body names, or an error about the
// body's subscription field.
func (h *handler) subscription(ctx context.Context, id string) (*store.Subscription, error) {
	sub, err := h.store.GetSubscription(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault.At("subscription", "no subscription %s", id)
	}
	return sub, err
}

// replayInput is the body of POST /replays.
type replayInput struct {
	Pattern      json.RawMessage `json:"pattern"`
	Since        string          `json:"since"`
	Until        string          `json:"until"`
	Subscription string          `json:"subscription"`
}

// createReplay starts a background job that sends the stored events of a window that a
// pattern matches to one subscription.
func (h *handler) createReplay(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	var in replayInput
	if err := decode(req, &in); err != nil {
		return apigw.Response{}, err
	}
	if in.Since == "" {
		return apigw.Response{}, fault.At("since", "required: the start of the window, an RFC 3339 time or a duration before now such as 2h")
	}
	now := h.now()
	since, until, err := windowParams(in.Since, in.Until, now)
	if err != nil {
		return apigw.Response{}, err
	}
	if until.IsZero() {
		until = now.UTC()
		if !since.Before(until) {
			return apigw.Response{}, fault.At("since", "must be in the past")
		}
	}
	p := bytes.TrimSpace(in.Pattern)
	if len(p) == 0 || string(p) == "null" {
		p = []byte("{}")
	}
	if _, err := pattern.Compile(p); err != nil {
		return apigw.Response{}, fault.At("pattern", "%v", err)
	}
	var compact bytes.Buffer
	_ = json.Compact(&compact, p)
	if in.Subscription == "" {
		return apigw.Response{}, fault.At("subscription", "required: the subscription to replay to")
	}
	if _, err := h.subscription(ctx, in.Subscription); err != nil {
		return apigw.Response{}, err
	}
	r := store.Replay{ID: h.id("rpl_"), Kind: store.ReplayWindow, Pattern: compact.String(), Since: since, Until: until, SubscriptionID: in.Subscription}
	if err := h.ev.store.CreateReplay(ctx, r); err != nil {
		return apigw.Response{}, err
	}
	body, _ := json.Marshal(replay.Job{ReplayID: r.ID})
	if _, err := h.ev.queue.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &h.ev.replayURL, MessageBody: ptr(string(body))}); err != nil {
		return apigw.Response{}, fmt.Errorf("queue replay %s: %w", r.ID, err)
	}
	h.log.InfoContext(ctx, "replay started", "replayId", r.ID, "subscriptionId", r.SubscriptionID, "since", since, "until", until)
	r.CreatedAt, r.UpdatedAt = now.UTC(), now.UTC()
	return accepted(r), nil
}

func (h *handler) getReplay(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	id := req.PathParameters["id"]
	r, err := h.ev.store.GetReplay(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return apigw.Response{}, fault.New(fault.NotFound, "no replay %s", id)
	}
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, replayOf(*r)), nil
}

func ptr[T any](v T) *T { return &v }

package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/eventhub/eventhub/shared/apigw"
	"github.com/eventhub/eventhub/shared/auth"
	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/store"
)

// Limits on what a producer may send.
const (
	maxBody   = 1 << 20   // one request
	maxEvent  = 256 << 10 // one event
	maxEvents = 100       // events in one batch
	// maxDepth bounds the nesting of one event. Every accepted event must flow end to
	// end: deeper documents make the bus's and the subscriptions' pattern matching
	// fail (shared/pattern stops at 2000 levels), and no consumer should have to
	// recurse without bound.
	maxDepth = 64
)

type sourceLookup interface {
	Source(ctx context.Context, token string) (*store.Source, error)
}

type publisher interface {
	Publish(ctx context.Context, entries ...bus.Entry) error
}

type handler struct {
	sources sourceLookup
	pub     publisher
	now     func() time.Time
	log     *slog.Logger
}

// result is the outcome for one event of a request, in request order.
type result struct {
	ID    string       `json:"id,omitempty"`
	Error *fault.Error `json:"error,omitempty"`
}

type response struct {
	Accepted int      `json:"accepted"`
	Rejected int      `json:"rejected"`
	IDs      []string `json:"ids"`
	Results  []result `json:"results"`
}

func (h *handler) handle(ctx context.Context, req apigw.Request) (apigw.Response, error) {
	resp, err := h.ingest(ctx, &req)
	if err != nil {
		return apigw.Error(ctx, h.log, err), nil
	}
	return resp, nil
}

func (h *handler) ingest(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	src, err := h.authenticate(ctx, req)
	if err != nil {
		return apigw.Response{}, err
	}
	body, err := apigw.Body(req)
	if err != nil {
		return apigw.Response{}, err
	}
	if len(body) > maxBody {
		return apigw.Response{}, fault.New(fault.TooLarge, "request body is %d bytes; the limit is %d", len(body), maxBody)
	}
	items, err := split(apigw.MediaType(req), body)
	if err != nil {
		return apigw.Response{}, err
	}
	hub := bus.Hub{
		SourceID:    src.ID,
		ContentType: apigw.Header(req, "content-type"),
		ReceivedAt:  h.now().UTC(),
		RequestID:   req.RequestContext.RequestID,
	}
	resp := response{IDs: []string{}, Results: make([]result, len(items))}
	var entries []bus.Entry
	for i, it := range items {
		if it.err != nil {
			resp.Results[i].Error = it.err
			resp.Rejected++
			continue
		}
		hh := hub
		hh.Key, hh.Format = it.key, it.format
		entries = append(entries, bus.Entry{
			Source:     bus.SourceIngest,
			DetailType: bus.Received,
			Detail:     bus.ReceivedDetail{Raw: it.raw, Format: it.format, Hub: hh},
			Resources:  nil,
		})
		resp.Results[i].ID = it.key
		resp.IDs = append(resp.IDs, it.key)
		resp.Accepted++
	}
	if len(entries) > 0 {
		if err := h.pub.Publish(ctx, entries...); err != nil {
			return apigw.Response{}, err
		}
		h.log.InfoContext(ctx, "accepted", "sourceId", src.ID, "accepted", resp.Accepted, "rejected", resp.Rejected)
	}
	status := http.StatusAccepted
	switch {
	case resp.Accepted == 0:
		status = http.StatusBadRequest
	case resp.Rejected > 0:
		status = http.StatusMultiStatus
	}
	if status == http.StatusBadRequest && len(items) == 1 {
		// A single rejected event reads better as a plain error.
		return apigw.JSON(status, apigw.ErrorBody{Error: items[0].err}), nil
	}
	return apigw.JSON(status, resp), nil
}

func (h *handler) authenticate(ctx context.Context, req *apigw.Request) (*store.Source, error) {
	token := auth.Bearer(apigw.Header(req, "authorization"))
	if token == "" {
		return nil, fault.New(fault.Unauthorized, "missing bearer token: send Authorization: Bearer <source token>")
	}
	src, err := h.sources.Source(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault.New(fault.Unauthorized, "unknown or revoked token")
	}
	if err != nil {
		return nil, err
	}
	if !src.Enabled {
		return nil, fault.New(fault.Forbidden, "source %s is disabled", src.ID)
	}
	return src, nil
}

// item is one event of a request, parsed far enough to know its key, or rejected.
type item struct {
	raw    json.RawMessage
	format string
	key    string
	err    *fault.Error
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/eventhub/eventhub/shared/adapter"
	"github.com/eventhub/eventhub/shared/apigw"
	"github.com/eventhub/eventhub/shared/auth"
	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/schema"
	"github.com/eventhub/eventhub/shared/store"
)

// Limits on what a producer may send.
const (
	maxBody   = 1 << 20   // one request
	maxEvent  = 256 << 10 // one event
	maxEvents = 100       // events in one batch
	maxDepth  = 64        // nesting of JSON arrays and objects
)

// Routes of the ingest function.
const (
	routeEvents    = "POST /events"
	routeBKMonitor = "POST /api/v1/events"                      // BlueKing's own ingest path
	routeIUAP      = "POST /event/eventmanager/sendEventMsg.do" // iuap's send API
)

type sourceLookup interface {
	Source(ctx context.Context, token string) (*store.Source, error)
}

type appLookup interface {
	Source(ctx context.Context, appID string) (*store.Source, error)
	// Fresh reads the source again, past any cache.
	Fresh(ctx context.Context, appID string) (*store.Source, error)
}

type schemaLookup interface {
	Schema(ctx context.Context, eventType string) (*schema.Schema, error)
}

// handoff hands accepted events to persist (bus.Handoff).
type handoff interface {
	Send(ctx context.Context, events []bus.EventDetail) error
}

type handler struct {
	sources sourceLookup // by token
	apps    appLookup    // by iuap appId
	schemas schemaLookup // nil: no catalog checks
	persist handoff
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
	if req.RouteKey == routeIUAP {
		return h.iuap(ctx, &req), nil
	}
	resp, err := h.ingest(ctx, &req)
	if err != nil {
		return apigw.Error(ctx, h.log, err), nil
	}
	return resp, nil
}

func (h *handler) ingest(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	token := auth.Bearer(apigw.Header(req, "authorization"))
	var src *store.Source
	var err error
	if token != "" {
		if src, err = h.authenticate(ctx, token); err != nil {
			return apigw.Response{}, err
		}
	}
	body, err := apigw.Body(req)
	if err != nil {
		return apigw.Response{}, err
	}
	if len(body) > maxBody {
		return apigw.Response{}, fault.New(fault.TooLarge, "request body is %d bytes; the limit is %d", len(body), maxBody)
	}
	env := blueKingEnvelope(body)
	if src == nil {
		// BlueKing producers put their data id and token in the body.
		if env == nil || env.token == "" {
			return apigw.Response{}, fault.New(fault.Unauthorized, "missing bearer token: send Authorization: Bearer <source token>, or a BlueKing body with data_id and access_token")
		}
		if src, err = h.authenticate(ctx, env.token); err != nil {
			return apigw.Response{}, err
		}
	}
	format, err := h.format(req, src)
	if err != nil {
		return apigw.Response{}, err
	}
	// A body with data_id and data is BlueKing's envelope when it carries the token or
	// the events are BlueKing's; for any other format it is an event like another.
	if env != nil && env.token == "" && format != adapter.BKMonitor {
		env = nil
	}
	if env != nil && env.dataID != src.DataID {
		return apigw.Response{}, &fault.Error{Code: fault.Unauthorized, Path: "data_id", Message: "data_id does not belong to this token's source"}
	}
	items, err := split(req, format, body, env)
	if err != nil {
		return apigw.Response{}, err
	}
	hub := bus.Hub{
		SourceID:    src.ID,
		ContentType: apigw.Header(req, "content-type"),
		ReceivedAt:  h.now().UTC(),
		RequestID:   req.RequestContext.RequestID,
	}
	meta := adapter.Meta{SourceID: src.ID}
	for i := range items {
		if items[i].err == nil {
			h.read(ctx, &items[i], meta)
		}
	}
	return h.publish(ctx, src, hub, items)
}

// format is the format the request's events are read as: ?format=, else the route's,
// else the source's.
func (h *handler) format(req *apigw.Request, src *store.Source) (string, error) {
	if f, ok := req.QueryStringParameters["format"]; ok {
		if !adapter.Known(f) {
			return "", fault.At("format", "unknown format %q", f)
		}
		return f, nil
	}
	if req.RouteKey == routeBKMonitor {
		return adapter.BKMonitor, nil
	}
	if src.Format == "" {
		return adapter.Auto, nil
	}
	return src.Format, nil
}

// read runs the adapter on one item and checks the event against the catalog; the
// canonical event it makes is what ingest publishes.
func (h *handler) read(ctx context.Context, it *item, meta adapter.Meta) {
	if it.event == nil {
		var err error
		it.event, it.format, err = adapter.Parse(it.format, it.raw, meta)
		if err != nil {
			it.err = at(it.prefix, err)
			return
		}
	}
	if err := h.checkSchema(ctx, it.event); err != nil {
		it.err = at(it.prefix, err)
		return
	}
	it.key = it.event.Key()
}

// normalized is what ingest hands persist for an accepted event: ingest has run the
// adapter to accept it, so it passes on the canonical event (as an Event Normalized
// detail) rather than the producer's bytes for a normalize function to read again.
func (h *handler) normalized(ev *cloudevent.Event, hub bus.Hub) (bus.EventDetail, error) {
	body, err := ev.MarshalJSON()
	if err != nil {
		return bus.EventDetail{}, err
	}
	hub.Key = ev.Key()
	hub.NormalizedAt = h.now().UTC()
	return bus.EventDetail{Event: body, Hub: hub}, nil
}

// errNoCatalog marks a catalog that could not be read: the request fails (500) rather
// than letting events bypass their type's schema.
var errNoCatalog = errors.New("event-type catalog unavailable")

func (h *handler) checkSchema(ctx context.Context, ev *cloudevent.Event) error {
	if h.schemas == nil {
		return nil
	}
	s, err := h.schemas.Schema(ctx, ev.Type)
	if err != nil {
		return errors.Join(errNoCatalog, err)
	}
	if s == nil {
		return nil
	}
	if ev.DataBase64 != "" {
		return fault.At("data_base64", "type %q has a schema: send the data as JSON", ev.Type)
	}
	data := ev.Data
	if data == nil {
		data = []byte("null")
	}
	if err := s.Validate(data, "data"); err != nil {
		if e, ok := fault.As(err); ok {
			c := *e
			c.Message = c.Message + " (schema of type " + ev.Type + ")"
			return &c
		}
		return err
	}
	return nil
}

func (h *handler) publish(ctx context.Context, src *store.Source, hub bus.Hub, items []item) (apigw.Response, error) {
	resp := response{IDs: []string{}, Results: make([]result, len(items))}
	var accepted []bus.EventDetail
	for i, it := range items {
		if it.err != nil {
			if e, ok := fault.As(it.err); ok {
				resp.Results[i].Error = e
				resp.Rejected++
				continue
			}
			return apigw.Response{}, it.err
		}
		hh := hub
		hh.Format = it.format
		e, err := h.normalized(it.event, hh)
		if err != nil {
			return apigw.Response{}, fmt.Errorf("encode event %s: %w", it.key, err)
		}
		accepted = append(accepted, e)
		resp.Results[i].ID = it.key
		resp.IDs = append(resp.IDs, it.key)
		resp.Accepted++
	}
	if len(accepted) > 0 {
		if err := h.persist.Send(ctx, accepted); err != nil {
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
		e := resp.Results[0].Error
		return apigw.JSON(apigw.Status(e), apigw.ErrorBody{Error: e}), nil
	}
	return apigw.JSON(status, resp), nil
}

func (h *handler) authenticate(ctx context.Context, token string) (*store.Source, error) {
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

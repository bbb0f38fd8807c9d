package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/eventhub/eventhub/shared/adapter"
	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/catalog"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/metrics"
	"github.com/eventhub/eventhub/shared/ownership"
	"github.com/eventhub/eventhub/shared/store"
)

type quarantiner interface {
	Quarantine(ctx context.Context, q store.Quarantined) error
}

type publisher interface {
	Publish(ctx context.Context, entries ...bus.Entry) error
}

// sourceLookup finds the producer source that sent an event (store.SourceCache).
type sourceLookup interface {
	Source(ctx context.Context, id string) (*store.Source, error)
}

type handler struct {
	claims     bus.Claims
	quarantine quarantiner
	sources    sourceLookup
	owners     ownership.Others // what other sources own, for transitional sources
	schemas    catalog.Lookup   // nil: no catalog checks
	pub        publisher
	now        func() time.Time
	log        *slog.Logger
	metrics    *metrics.Emitter // nil: no metric lines
}

// handle normalizes one Event Received: it runs the adapter of the event's format on the
// producer's bytes, checks the result against the event-type catalog and the store's
// limits, and publishes Event Normalized. An event that cannot be normalized is kept in
// quarantine and the invocation succeeds; only infrastructure failures return an error
// (and are retried by Lambda).
func (h *handler) handle(ctx context.Context, in events.EventBridgeEvent) error {
	detail, err := bus.Resolve(ctx, in.Detail, h.claims)
	if err != nil {
		return err
	}
	var rec bus.ReceivedDetail
	if err := json.Unmarshal(detail, &rec); err != nil {
		return h.quarantineRaw(ctx, in.ID, bus.Hub{}, detail, fmt.Sprintf("unreadable %s detail: %v", bus.Received, err))
	}
	qid := in.ID // the same entry keeps its id across EventBridge's redeliveries
	if rec.Hub.Quarantine != nil && rec.Hub.Quarantine.ID != "" {
		qid = rec.Hub.Quarantine.ID // the id ingest answered the producer with
	}
	src, err := h.sources.Source(ctx, rec.Hub.SourceID)
	if errors.Is(err, store.ErrNotFound) {
		return h.quarantineRaw(ctx, qid, rec.Hub, rec.Raw, fmt.Sprintf("the producer source %q that sent it is not registered", rec.Hub.SourceID))
	}
	if err != nil {
		return err
	}
	ev, format, err := normalize(rec, src)
	if err != nil {
		return h.quarantineRaw(ctx, qid, rec.Hub, rec.Raw, err.Error())
	}
	// The source as mapped is checked against the producer's owned values as they are
	// now, before anything is stored: what ingest let through may have been disowned
	// since, or re-submitted from quarantine.
	if format == adapter.IUAP && !rec.Hub.Signed {
		return h.quarantineRaw(ctx, qid, rec.Hub, rec.Raw, "an iuap event that did not come through the signed route")
	}
	if err := ownership.Authorize(ctx, src.Publisher(rec.Hub.Signed), ev.Source, h.owners); err != nil {
		if _, ok := fault.As(err); !ok {
			return err
		}
		return h.quarantineRaw(ctx, qid, rec.Hub, rec.Raw, err.Error())
	}
	if k := ev.Key(); rec.Hub.Key != "" && k != rec.Hub.Key {
		return h.quarantineRaw(ctx, qid, rec.Hub, rec.Raw, fmt.Sprintf("normalized key %s differs from the key %s given at ingest", k, rec.Hub.Key))
	}
	rec.Hub.Key = ev.Key()
	if err := catalog.Check(ctx, h.schemas, ev); err != nil {
		if errors.Is(err, catalog.ErrUnavailable) {
			return err
		}
		return h.quarantineRaw(ctx, qid, rec.Hub, rec.Raw, err.Error())
	}
	body, err := ev.MarshalJSON()
	if err != nil {
		return h.quarantineRaw(ctx, qid, rec.Hub, rec.Raw, err.Error())
	}
	if err := bus.CheckFits(body); err != nil {
		return h.quarantineRaw(ctx, qid, rec.Hub, rec.Raw, err.Error())
	}
	if err := store.CheckFits(ev.Source, ev.Type, ev.Subject, body); err != nil {
		return h.quarantineRaw(ctx, qid, rec.Hub, rec.Raw, err.Error())
	}
	hub := rec.Hub
	hub.Format = format
	hub.Quarantine = nil
	hub.NormalizedAt = h.now().UTC()
	if err := h.pub.Publish(ctx, bus.Entry{
		Source:     bus.SourceNormalize,
		DetailType: bus.Normalized,
		Detail:     bus.EventDetail{Event: body, Hub: hub},
	}); err != nil {
		return err
	}
	h.metrics.Emit(ctx, []metrics.Dimension{metrics.Dim(metrics.Format, format)}, metrics.CountBy(metrics.Normalized, 1, metrics.Format))
	return nil
}

// normalize runs the adapter of the event's format, the same code ingest ran to accept
// it and compute its key; "auto" detects the format as ingest does.
func normalize(rec bus.ReceivedDetail, src *store.Source) (*cloudevent.Event, string, error) {
	if rec.Format == "" || !adapter.Known(rec.Format) {
		return nil, rec.Format, fault.New(fault.Invalid, "unknown format %q", rec.Format)
	}
	return adapter.Parse(rec.Format, rec.Raw, adapter.Meta{SourceID: src.ID, DataID: src.DataID})
}

func (h *handler) quarantineRaw(ctx context.Context, busEventID string, hub bus.Hub, raw json.RawMessage, reason string) error {
	if !json.Valid(raw) {
		raw, _ = json.Marshal(string(raw))
	}
	q := store.Quarantined{
		ID:       busEventID,
		At:       h.now().UTC(),
		Key:      hub.Key,
		SourceID: hub.SourceID,
		Format:   hub.Format,
		Reason:   reason,
		Raw:      raw,
	}
	q.ReceivedAt = hub.ReceivedAt // the event's timeline starts when it was received
	if err := h.quarantine.Quarantine(ctx, q); err != nil {
		return err
	}
	h.log.WarnContext(ctx, "quarantined", "eventKey", hub.Key, "sourceId", hub.SourceID, "reason", reason)
	h.metrics.Emit(ctx, []metrics.Dimension{metrics.Dim(metrics.Format, hub.Format)}, metrics.CountBy(metrics.Quarantined, 1, metrics.Format))
	return nil
}

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
	"github.com/eventhub/eventhub/shared/mapping"
	"github.com/eventhub/eventhub/shared/metrics"
	"github.com/eventhub/eventhub/shared/ownership"
	"github.com/eventhub/eventhub/shared/sourcemap"
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
	mappings   *sourcemap.Cache // the sources' mappings by version, and the presets
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
	ev, format, dropped, err := h.normalize(ctx, rec, src)
	if err != nil {
		if _, ok := fault.As(err); !ok {
			return err
		}
		return h.quarantineRaw(ctx, qid, rec.Hub, rec.Raw, err.Error())
	}
	if dropped != "" {
		// What ingest let through is dropped here only when it was re-submitted from
		// quarantine under a mapping that now drops it.
		h.log.InfoContext(ctx, "dropped", "eventKey", rec.Hub.Key, "sourceId", src.ID, "rule", dropped)
		h.metrics.Emit(ctx, []metrics.Dimension{metrics.Dim(metrics.Rule, metrics.RuleOf(src.ID, dropped))}, metrics.CountBy(metrics.Dropped, 1, metrics.Rule))
		return nil
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

// normalize reads the event as ingest did to accept it and compute its key: with the
// source's mapping at the version the event was received under (cached: versions
// never change), or its format's preset, or else the adapter of the event's format
// ("auto" detects the format as ingest does). dropped names the mapping's rule that
// dropped the event. Errors that are not faults are the store's, to retry.
func (h *handler) normalize(ctx context.Context, rec bus.ReceivedDetail, src *store.Source) (ev *cloudevent.Event, format, dropped string, err error) {
	m, err := h.mappings.For(ctx, src, rec.Format, rec.Hub.MappingVersion)
	if err != nil {
		return nil, rec.Format, "", err
	}
	if m != nil {
		res, err := m.Apply(mapping.Input{Body: rec.Raw, Headers: rec.Hub.Headers, SourceID: src.ID})
		if err != nil {
			return nil, rec.Format, "", asFault(err)
		}
		return res.Event, rec.Format, res.Dropped, nil
	}
	if rec.Format == "" || !adapter.Known(rec.Format) {
		return nil, rec.Format, "", fault.New(fault.Invalid, "unknown format %q", rec.Format)
	}
	ev, format, err = adapter.Parse(rec.Format, rec.Raw, adapter.Meta{SourceID: src.ID, DataID: src.DataID})
	return ev, format, "", asFault(err)
}

// asFault makes an error of reading an event a fault: the event's, to quarantine.
func asFault(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := fault.As(err); ok {
		return err
	}
	return fault.New(fault.Invalid, "%v", err)
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
		Headers:  hub.Headers,
	}
	q.ReceivedAt = hub.ReceivedAt // the event's timeline starts when it was received
	if err := h.quarantine.Quarantine(ctx, q); err != nil {
		return err
	}
	h.log.WarnContext(ctx, "quarantined", "eventKey", hub.Key, "sourceId", hub.SourceID, "reason", reason)
	h.metrics.Emit(ctx, []metrics.Dimension{metrics.Dim(metrics.Format, hub.Format)}, metrics.CountBy(metrics.Quarantined, 1, metrics.Format))
	return nil
}

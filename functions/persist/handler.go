package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/store"
)

type eventStore interface {
	PutEvent(ctx context.Context, ev store.Event) (bool, *store.Event, error)
}

type publisher interface {
	Publish(ctx context.Context, entries ...bus.Entry) error
}

type handler struct {
	store  eventStore
	claims bus.Claims
	pub    publisher
	now    func() time.Time
	log    *slog.Logger
	// alerts folds events with dedupe keys into alerts (alerts.go); nil disables it.
	alerts     alertFolder
	sourceKeys *keyCache
}

// handle stores one Event Normalized and publishes Event Stored. The same event sent
// again by the producer is only counted. The same acceptance delivered again (EventBridge
// retries an invocation that failed, or delivers twice) is published again: the
// earlier invocation may have died between storing and publishing, so Event Stored
// goes out at least once; notify delivers each event once per subscription however
// often it sees it.
func (h *handler) handle(ctx context.Context, in events.EventBridgeEvent) error {
	detail, err := bus.Resolve(ctx, in.Detail, h.claims)
	if err != nil {
		return err
	}
	var d bus.EventDetail
	if err := json.Unmarshal(detail, &d); err != nil {
		return fmt.Errorf("decode %s detail %s: %w", bus.Normalized, in.ID, err)
	}
	ev, err := cloudevent.Parse(d.Event)
	if err != nil {
		return fmt.Errorf("%s %s carries an invalid event: %w", bus.Normalized, in.ID, err)
	}
	now := h.now().UTC()
	rec := store.Event{
		Key:          ev.Key(),
		Source:       ev.Source,
		ID:           ev.ID,
		Type:         ev.Type,
		Subject:      ev.Subject,
		Time:         ev.Time,
		SourceID:     d.Hub.SourceID,
		Format:       d.Hub.Format,
		ReceivedAt:   d.Hub.ReceivedAt,
		NormalizedAt: d.Hub.NormalizedAt,
		StoredAt:     now,
		Event:        d.Event,
		Receipt:      d.Hub.RequestID,
	}
	if rec.Receipt == "" {
		rec.Receipt = "bus:" + in.ID // the same entry keeps its id across redeliveries
	}
	if rec.ReceivedAt.IsZero() {
		rec.ReceivedAt = now
	}
	created, existing, err := h.store.PutEvent(ctx, rec)
	if err != nil {
		return err
	}
	if !created && existing.Receipt != rec.Receipt {
		h.log.InfoContext(ctx, "duplicate", "eventKey", rec.Key, "duplicates", existing.Duplicates)
		if existing.AlertID == "" {
			// An earlier invocation may have died before folding it.
			return h.fold(ctx, ev, rec.Key, existing.SourceID, existing.ReceivedAt)
		}
		return nil
	}
	if !created {
		// Publish what was stored, not what this repeat says.
		d.Hub.ReceivedAt = existing.ReceivedAt
		rec.ReceivedAt = existing.ReceivedAt
	}
	d.Hub.Key = rec.Key
	if err := h.pub.Publish(ctx, bus.Entry{
		Source:     bus.SourcePersist,
		DetailType: bus.Stored,
		Detail:     bus.EventDetail{Event: d.Event, Hub: d.Hub},
	}); err != nil {
		return err
	}
	h.log.InfoContext(ctx, "stored", "eventKey", rec.Key, "type", ev.Type, "source", ev.Source)
	// Folding comes after publishing, so that it can never hold an event back.
	return h.fold(ctx, ev, rec.Key, rec.SourceID, rec.ReceivedAt)
}

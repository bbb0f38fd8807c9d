package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/metrics"
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
	// api is the base URL of eventhub's HTTP API: an Event Stored too large to carry
	// its data points to it (bus.StoredEntry).
	api string
	now func() time.Time
	log *slog.Logger
	// metrics counts what is stored (nil: no metric lines).
	metrics *metrics.Emitter
	// alerts folds events with dedupe keys into alerts (alerts.go); nil disables it.
	alerts     alertFolder
	sourceKeys *keyCache
}

// invoke is the function's entry point: the Event Normalized rule brings it one
// EventBridge event at a time. It also reads a bus.Batch, which an ingest from before
// the three-hop chain handed it by asynchronous invocation, so that such invocations
// still queued, or redriven from the pipeline dead-letter queue, are stored after an
// upgrade (docs/upgrading.md).
func (h *handler) invoke(ctx context.Context, payload json.RawMessage) error {
	var probe struct {
		DetailType *string `json:"detail-type"`
	}
	if err := json.Unmarshal(payload, &probe); err != nil {
		return fmt.Errorf("decode invocation: %w", err)
	}
	if probe.DetailType != nil {
		var in events.EventBridgeEvent
		if err := json.Unmarshal(payload, &in); err != nil {
			return fmt.Errorf("decode EventBridge event: %w", err)
		}
		return h.handle(ctx, in)
	}
	return h.batch(ctx, payload)
}

// handle stores one Event Normalized from the bus and publishes Event Stored.
func (h *handler) handle(ctx context.Context, in events.EventBridgeEvent) error {
	detail, err := bus.Resolve(ctx, in.Detail, h.claims)
	if err != nil {
		return err
	}
	var d bus.EventDetail
	if err := json.Unmarshal(detail, &d); err != nil {
		return fmt.Errorf("decode %s detail %s: %w", bus.Normalized, in.ID, err)
	}
	s, err := h.store1(ctx, d, "bus:"+in.ID) // the same entry keeps its id across redeliveries
	if err != nil {
		return err
	}
	if s.entry != nil {
		if err := h.pub.Publish(ctx, *s.entry); err != nil {
			return err
		}
	}
	return s.fold(ctx, h)
}

// batch stores the events of one ingest request of an older eventhub (bus.Batch) and
// publishes their Event Stored in as few PutEvents calls as fit. An event that fails to store does not hold the others
// back; the invocation then fails and Lambda retries it whole, which the receipts make
// harmless: what was stored is published again (notify delivers it once), not stored
// again.
func (h *handler) batch(ctx context.Context, payload json.RawMessage) error {
	raw, err := bus.Resolve(ctx, payload, h.claims)
	if err != nil {
		return err
	}
	var b bus.Batch
	if err := json.Unmarshal(raw, &b); err != nil {
		return fmt.Errorf("decode batch: %w", err)
	}
	if len(b.Events) == 0 {
		return errors.New("decode batch: no events")
	}
	fallback := ""
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		fallback = "inv:" + lc.AwsRequestID // Lambda retries an asynchronous invocation under its first id
	}
	var errs []error
	var entries []bus.Entry
	var stored []stored
	for i, d := range b.Events {
		s, err := h.store1(ctx, d, fallback)
		if err != nil {
			errs = append(errs, fmt.Errorf("event %d of the batch: %w", i, err))
			continue
		}
		if s.entry != nil {
			entries = append(entries, *s.entry)
		}
		stored = append(stored, s)
	}
	if len(entries) > 0 {
		if err := h.pub.Publish(ctx, entries...); err != nil {
			return errors.Join(append(errs, err)...)
		}
	}
	for _, s := range stored {
		if err := s.fold(ctx, h); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// stored is what storing one event leaves to do: the Event Stored to publish (nil for
// the producer's repeat of an event stored before) and the alert fold (none when key
// is empty). Folding comes after publishing, so that it can never hold an event back.
type stored struct {
	entry      *bus.Entry
	ev         *cloudevent.Event
	key        string
	sourceID   string
	receivedAt time.Time
}

func (s stored) fold(ctx context.Context, h *handler) error {
	if s.key == "" {
		return nil
	}
	return h.fold(ctx, s.ev, s.key, s.sourceID, s.receivedAt)
}

// dataURL is where the API serves the data of the stored event (GET
// /events/{id}/data).
func (h *handler) dataURL(key string) string {
	return strings.TrimSuffix(h.api, "/") + "/events/" + key + "/data"
}

// store1 stores one normalized event. The same event sent again by the producer is
// only counted. The same acceptance delivered again (a retried or repeated invocation:
// same receipt) is published again: the earlier invocation may have died between
// storing and publishing, so Event Stored goes out at least once, and notify delivers
// each event once per subscription however often it sees it. fallbackReceipt names the
// delivery when the hub has no request id.
func (h *handler) store1(ctx context.Context, d bus.EventDetail, fallbackReceipt string) (stored, error) {
	ev, err := cloudevent.Parse(d.Event)
	if err != nil {
		return stored{}, fmt.Errorf("%s %s carries an invalid event: %w", bus.Normalized, d.Hub.Key, err)
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
		rec.Receipt = fallbackReceipt
	}
	if rec.ReceivedAt.IsZero() {
		rec.ReceivedAt = now
	}
	created, existing, err := h.store.PutEvent(ctx, rec)
	if err != nil {
		return stored{}, err
	}
	if !created && existing.Receipt != rec.Receipt {
		h.log.InfoContext(ctx, "duplicate", "eventKey", rec.Key, "duplicates", existing.Duplicates)
		h.metrics.Emit(ctx, []metrics.Dimension{metrics.Dim(metrics.Format, rec.Format)}, metrics.CountBy(metrics.Duplicates, 1, metrics.Format))
		if existing.AlertID != "" {
			return stored{ev: ev}, nil
		}
		// An earlier invocation may have died before folding it.
		return stored{ev: ev, key: rec.Key, sourceID: existing.SourceID, receivedAt: existing.ReceivedAt}, nil
	}
	body := d.Event
	storedAt := now
	if !created {
		storedAt = existing.StoredAt
		// Publish what was stored, not what this repeat says: a request may carry
		// two events with one key, and only the first is stored.
		d.Hub.ReceivedAt = existing.ReceivedAt
		rec.ReceivedAt = existing.ReceivedAt
		if len(existing.Event) > 0 && !bytes.Equal(existing.Event, body) {
			if ev, err = cloudevent.Parse(existing.Event); err != nil {
				return stored{}, fmt.Errorf("stored event %s: %w", rec.Key, err)
			}
			body = existing.Event
		}
	}
	d.Hub.Key = rec.Key
	d.Hub.StoredAt = storedAt
	entry, err := bus.StoredEntry(ev, body, d.Hub, h.dataURL(rec.Key))
	if err != nil {
		return stored{}, err
	}
	h.log.InfoContext(ctx, "stored", "eventKey", rec.Key, "type", ev.Type, "source", ev.Source)
	if created {
		// Counted once, when stored; a redelivery publishes Event Stored again only.
		h.metrics.Emit(ctx, []metrics.Dimension{metrics.Dim(metrics.Format, rec.Format)},
			metrics.CountBy(metrics.Stored, 1, metrics.Format),
			metrics.Duration(metrics.ReceivedToStored, now.Sub(rec.ReceivedAt)))
	}
	return stored{
		entry:      &entry,
		ev:         ev,
		key:        rec.Key,
		sourceID:   rec.SourceID,
		receivedAt: rec.ReceivedAt,
	}, nil
}

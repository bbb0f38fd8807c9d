package main

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/eventhub/eventhub/shared/apigw"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/store"
)

// eventView is an event as the API shows it: the CloudEvent, where it came from, and
// its history.
type eventView struct {
	ID         string                `json:"id"`
	Event      json.RawMessage       `json:"event"`
	SourceID   string                `json:"sourceId,omitempty"`
	Format     string                `json:"format,omitempty"`
	ReceivedAt string                `json:"receivedAt"`
	StoredAt   string                `json:"storedAt"`
	Duplicates int                   `json:"duplicates"`
	Timeline   []store.TimelineEntry `json:"timeline"`
	Deliveries []store.Delivery      `json:"deliveries"`
}

func (h *handler) eventRoutes() map[string]route {
	return map[string]route{
		"GET /events/{id}": h.getEvent,
	}
}

func (h *handler) getEvent(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	key := req.PathParameters["id"]
	if !cloudevent.ValidKey(key) {
		return apigw.Response{}, fault.New(fault.NotFound, "no event %q: ids look like evt_ followed by 26 characters", key)
	}
	ev, err := h.store.GetEvent(ctx, key)
	if err != nil {
		if fault.Is(err, fault.NotFound) {
			return apigw.Response{}, fault.New(fault.NotFound, "no event %s", key)
		}
		return apigw.Response{}, err
	}
	hist, err := h.store.History(ctx, key)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, eventView{
		ID:         ev.Key,
		Event:      ev.Event,
		SourceID:   ev.SourceID,
		Format:     ev.Format,
		ReceivedAt: ev.ReceivedAt.UTC().Format(timeFormat),
		StoredAt:   ev.StoredAt.UTC().Format(timeFormat),
		Duplicates: ev.Duplicates,
		Timeline:   hist.Timeline,
		Deliveries: hist.Deliveries,
	}), nil
}

const timeFormat = "2006-01-02T15:04:05.000Z07:00"

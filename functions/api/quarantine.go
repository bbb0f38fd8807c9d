package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"

	formats "github.com/eventhub/eventhub/shared/adapter/format"
	"github.com/eventhub/eventhub/shared/apigw"
	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/sourcemap"
	"github.com/eventhub/eventhub/shared/store"
)

func (h *handler) listQuarantine(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	p, err := queryParams(req, "source", "limit", "cursor")
	if err != nil {
		return apigw.Response{}, err
	}
	q := store.QuarantineQuery{SourceID: p["source"], Cursor: p["cursor"]}
	if q.Limit, err = limitParam(p["limit"]); err != nil {
		return apigw.Response{}, err
	}
	page, err := h.ev.store.ListQuarantine(ctx, q)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, page), nil
}

func (h *handler) quarantined(ctx context.Context, id string) (*store.Quarantined, error) {
	q, err := h.ev.store.GetQuarantined(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault.New(fault.NotFound, "no quarantined event %s", id)
	}
	return q, err
}

func (h *handler) getQuarantined(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	q, err := h.quarantined(ctx, req.PathParameters["id"])
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, q), nil
}

// resubmit sends a quarantined event through normalization again, as its producer
// sent it, once the source (or the adapter) is fixed: a new Event Received with the
// raw payload and the source's current format, or the format the body names.
func (h *handler) resubmit(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	var in struct {
		Format string `json:"format"`
	}
	if body, err := apigw.Body(req); err != nil {
		return apigw.Response{}, err
	} else if len(bytes.TrimSpace(body)) > 0 {
		if err := decode(req, &in); err != nil {
			return apigw.Response{}, err
		}
	}
	q, err := h.quarantined(ctx, req.PathParameters["id"])
	if err != nil {
		return apigw.Response{}, err
	}
	if q.RawTruncated {
		return apigw.Response{}, fault.New(fault.Conflict, "quarantined %s kept only the beginning of its %d-byte payload: it cannot be re-submitted", q.ID, q.RawBytes)
	}
	format := in.Format
	var src *store.Source
	if q.SourceID != "" {
		src, err = h.ev.store.GetSource(ctx, q.SourceID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return apigw.Response{}, err
		}
	}
	if format == "" {
		// "auto" is detected at ingest; the format ingest detected is the quarantine's.
		if src != nil && src.Format != "auto" {
			format = src.Format
		}
	}
	if format == "" {
		format = q.Format
	}
	if format == "" {
		return apigw.Response{}, fault.At("format", "required: the quarantined event has no source format to use")
	}
	// Only what came through the signed iuap route may be read as iuap again.
	signed := q.Format == formats.IUAP
	if format == formats.IUAP && !signed {
		return apigw.Response{}, fault.At("format", "iuap events are accepted only through the signed route; this event came as %q", q.Format)
	}
	hub := bus.Hub{SourceID: q.SourceID, Format: format, ReceivedAt: h.now().UTC(), RequestID: req.RequestContext.RequestID, Signed: signed && format == formats.IUAP}
	if src != nil && in.Format == "" {
		// The source's mapping as it is now (fixed since, perhaps) reads the event,
		// with the headers it came with.
		hub.MappingVersion = sourcemap.Version(src)
	}
	hub.Headers = q.Headers
	// Recorded first, so that the timeline shows the re-submission before what the
	// pipeline then does with it.
	if err := h.ev.store.MarkResubmitted(ctx, q.ID, format); err != nil {
		return apigw.Response{}, err
	}
	if err := h.ev.pub.Publish(ctx, bus.Entry{
		Source:     bus.SourceIngest,
		DetailType: bus.Received,
		Detail:     bus.ReceivedDetail{Raw: q.Raw, Format: format, Hub: hub},
	}); err != nil {
		return apigw.Response{}, err
	}
	h.log.InfoContext(ctx, "resubmitted", "quarantineId", q.ID, "sourceId", q.SourceID, "format", format)
	return apigw.JSON(http.StatusAccepted, map[string]any{"id": q.ID, "key": q.Key, "format": format, "resubmits": q.Resubmits + 1}), nil
}

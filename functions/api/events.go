package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/eventhub/eventhub/shared/apigw"
	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/replay"
	"github.com/eventhub/eventhub/shared/store"
)

// eventStore is the store's side of the events, quarantine, replay and alert routes.
type eventStore interface {
	ListEvents(ctx context.Context, q store.EventQuery) (*store.EventPage, error)
	ListQuarantine(ctx context.Context, q store.QuarantineQuery) (*store.QuarantinePage, error)
	GetQuarantined(ctx context.Context, id string) (*store.Quarantined, error)
	MarkResubmitted(ctx context.Context, id, format string) error
	GetSource(ctx context.Context, id string) (*store.Source, error)
	CreateReplay(ctx context.Context, r store.Replay) error
	GetReplay(ctx context.Context, id string) (*store.Replay, error)
	ListAlerts(ctx context.Context, q store.AlertQuery) (*store.AlertPage, error)
	GetAlert(ctx context.Context, id string) (*store.Alert, error)
}

// queueAPI is the part of the SQS client the replay routes use.
type queueAPI interface {
	replay.BatchAPI
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

type publisher interface {
	Publish(ctx context.Context, entries ...bus.Entry) error
}

// eventDeps are what the events, quarantine, replay and alert routes need besides the
// admin store: replays put deliveries on notify's retry queue (retryURL) and window
// jobs on the replay queue (replayURL); re-submission puts Event Received on the bus.
type eventDeps struct {
	store     eventStore
	queue     queueAPI
	pub       publisher
	retryURL  string
	replayURL string
}

// eventView is an event as the API shows it: the CloudEvent, where it came from, and
// its history. Status is "stored", or "quarantined" for an event that could not be
// normalized (Event is then null and the timeline says why).
type eventView struct {
	ID         string                `json:"id"`
	Status     string                `json:"status"`
	Event      json.RawMessage       `json:"event"`
	SourceID   string                `json:"sourceId,omitempty"`
	Format     string                `json:"format,omitempty"`
	ReceivedAt string                `json:"receivedAt,omitempty"`
	StoredAt   string                `json:"storedAt,omitempty"`
	Duplicates int                   `json:"duplicates"`
	AlertID    string                `json:"alertId,omitempty"`
	Timeline   []store.TimelineEntry `json:"timeline"`
	Deliveries []store.Delivery      `json:"deliveries"`
}

// eventSummary is an event in a listing.
type eventSummary struct {
	ID         string          `json:"id"`
	Event      json.RawMessage `json:"event"`
	SourceID   string          `json:"sourceId,omitempty"`
	Format     string          `json:"format,omitempty"`
	ReceivedAt string          `json:"receivedAt"`
	StoredAt   string          `json:"storedAt"`
	Duplicates int             `json:"duplicates"`
	AlertID    string          `json:"alertId,omitempty"`
}

func (h *handler) eventRoutes() map[string]route {
	return map[string]route{
		"GET /events":                    h.listEvents,
		"GET /events/{id}":               h.getEvent,
		"GET /events/{id}/data":          h.getEventData,
		"POST /events/{id}/replay":       h.replayEvent,
		"POST /replays":                  h.createReplay,
		"GET /replays/{id}":              h.getReplay,
		"GET /quarantine":                h.listQuarantine,
		"GET /quarantine/{id}":           h.getQuarantined,
		"POST /quarantine/{id}/resubmit": h.resubmit,
		"GET /alerts":                    h.listAlerts,
		"GET /alerts/{id}":               h.getAlert,
	}
}

func (h *handler) getEvent(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	key := req.PathParameters["id"]
	if !cloudevent.ValidKey(key) {
		return apigw.Response{}, fault.New(fault.NotFound, "no event %q: ids look like evt_ followed by 26 characters", key)
	}
	ev, err := h.store.GetEvent(ctx, key)
	if err != nil && !fault.Is(err, fault.NotFound) {
		return apigw.Response{}, err
	}
	hist, err := h.store.History(ctx, key)
	if err != nil {
		return apigw.Response{}, err
	}
	if ev == nil {
		// Not stored: answer for it if it was quarantined.
		for _, e := range hist.Timeline {
			if e.Stage == store.StageQuarantined {
				return apigw.JSON(http.StatusOK, eventView{ID: key, Status: "quarantined", Timeline: hist.Timeline, Deliveries: hist.Deliveries}), nil
			}
		}
		return apigw.Response{}, fault.New(fault.NotFound, "no event %s", key)
	}
	return apigw.JSON(http.StatusOK, eventView{
		ID:         ev.Key,
		Status:     "stored",
		Event:      ev.Event,
		SourceID:   ev.SourceID,
		Format:     ev.Format,
		ReceivedAt: ev.ReceivedAt.UTC().Format(timeFormat),
		StoredAt:   ev.StoredAt.UTC().Format(timeFormat),
		Duplicates: ev.Duplicates,
		AlertID:    ev.AlertID,
		Timeline:   hist.Timeline,
		Deliveries: hist.Deliveries,
	}), nil
}

// getEventData answers GET /events/{id}/data: the data of a stored event alone, as its
// datacontenttype says. An Event Stored too large to carry its data on the bus points
// here with the CloudEvents dataref extension.
func (h *handler) getEventData(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	key := req.PathParameters["id"]
	if !cloudevent.ValidKey(key) {
		return apigw.Response{}, fault.New(fault.NotFound, "no event %q: ids look like evt_ followed by 26 characters", key)
	}
	stored, err := h.store.GetEvent(ctx, key)
	if err != nil {
		return apigw.Response{}, err
	}
	ev, err := cloudevent.Parse(stored.Event)
	if err != nil {
		return apigw.Response{}, fmt.Errorf("stored event %s: %w", key, err)
	}
	resp := apigw.Response{StatusCode: http.StatusOK, Headers: map[string]string{}}
	switch {
	case ev.DataBase64 != "":
		resp.Body, resp.IsBase64Encoded = ev.DataBase64, true
		resp.Headers["content-type"] = cmp.Or(ev.DataContentType, "application/octet-stream")
	case ev.Data != nil:
		resp.Body = string(ev.Data)
		// JSON data is JSON whatever its content type says; a string holds the text of
		// another media type.
		resp.Headers["content-type"] = "application/json"
		var text string
		if ct := ev.DataContentType; ct != "" && !jsonMedia(ct) && json.Unmarshal(ev.Data, &text) == nil {
			resp.Body = text
			resp.Headers["content-type"] = ct
		}
	default:
		resp.StatusCode = http.StatusNoContent
	}
	return resp, nil
}

// jsonMedia reports whether a media type is JSON (application/json, text/json, or a
// +json suffix).
func jsonMedia(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")
}

const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// maxPageBytes keeps a page of events under Lambda's 6 MB response limit.
const maxPageBytes = 4 << 20

func (h *handler) listEvents(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	p, err := queryParams(req, "source", "type", "subject", "since", "until", "limit", "cursor", "order")
	if err != nil {
		return apigw.Response{}, err
	}
	q := store.EventQuery{Source: p["source"], Type: p["type"], Subject: p["subject"], Cursor: p["cursor"], MaxBytes: maxPageBytes}
	if q.Limit, err = limitParam(p["limit"]); err != nil {
		return apigw.Response{}, err
	}
	if q.Since, q.Until, err = windowParams(p["since"], p["until"], h.now()); err != nil {
		return apigw.Response{}, err
	}
	switch p["order"] {
	case "", "newest":
	case "oldest":
		q.Oldest = true
	default:
		return apigw.Response{}, fault.At("order", "must be newest or oldest")
	}
	page, err := h.ev.store.ListEvents(ctx, q)
	if err != nil {
		return apigw.Response{}, err
	}
	out := struct {
		Events []eventSummary `json:"events"`
		Cursor string         `json:"cursor,omitempty"`
	}{Events: make([]eventSummary, 0, len(page.Events)), Cursor: page.Cursor}
	for _, ev := range page.Events {
		out.Events = append(out.Events, eventSummary{
			ID: ev.Key, Event: ev.Event, SourceID: ev.SourceID, Format: ev.Format,
			ReceivedAt: ev.ReceivedAt.UTC().Format(timeFormat), StoredAt: ev.StoredAt.UTC().Format(timeFormat),
			Duplicates: ev.Duplicates, AlertID: ev.AlertID,
		})
	}
	return apigw.JSON(http.StatusOK, out), nil
}

// queryParams returns the request's query parameters, refusing any not in allowed so
// that a misspelt filter is an error rather than a silently wider listing.
func queryParams(req *apigw.Request, allowed ...string) (map[string]string, error) {
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	names := make([]string, 0, len(req.QueryStringParameters))
	for k := range req.QueryStringParameters {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !ok[k] {
			return nil, fault.At(k, "unknown query parameter; use %s", strings.Join(allowed, ", "))
		}
	}
	return req.QueryStringParameters, nil
}

func limitParam(v string) (int, error) {
	if v == "" {
		return store.DefaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > store.MaxLimit {
		return 0, fault.At("limit", "must be a whole number from 1 to %d", store.MaxLimit)
	}
	return n, nil
}

// windowParams reads since and until: RFC 3339 times, or durations before now such as
// "15m", "2h" or "7d". Since must come before until.
func windowParams(sinceText, untilText string, now time.Time) (since, until time.Time, err error) {
	if since, err = timeParam("since", sinceText, now); err != nil {
		return
	}
	if until, err = timeParam("until", untilText, now); err != nil {
		return
	}
	if !since.IsZero() && !until.IsZero() && !since.Before(until) {
		err = fault.At("until", "must be after since (%s)", since.UTC().Format(time.RFC3339))
	}
	return
}

func timeParam(name, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	d, err := time.ParseDuration(v)
	if n, ok := strings.CutSuffix(v, "d"); ok && err != nil {
		var days int
		days, err = strconv.Atoi(n)
		d = time.Duration(days) * 24 * time.Hour
	}
	if err != nil || d <= 0 {
		return time.Time{}, fault.At(name, "%q is neither an RFC 3339 time (2026-11-23T10:00:00Z) nor a duration before now (15m, 2h, 7d)", v)
	}
	return now.Add(-d).UTC(), nil
}

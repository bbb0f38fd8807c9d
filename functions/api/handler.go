package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eventhub/eventhub/shared/apigw"
	"github.com/eventhub/eventhub/shared/auth"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/store"
)

type adminStore interface {
	GetEvent(ctx context.Context, key string) (*store.Event, error)
	History(ctx context.Context, key string) (*store.History, error)
	CreateSubscription(ctx context.Context, sub store.Subscription) error
	GetSubscription(ctx context.Context, id string) (*store.Subscription, error)
	ListSubscriptions(ctx context.Context) ([]store.Subscription, error)
	DeleteSubscription(ctx context.Context, id string) error
	subscriptionStore // subscriptions.go
	sourceStore       // sources.go
	mappingStore      // mappings.go
	typeStore         // types.go
	statsStore        // stats.go
}

type handler struct {
	store     adminStore
	ev        eventDeps // events, quarantine, replays and alerts (events.go)
	adminHash string
	now       func() time.Time
	log       *slog.Logger
	newID     func(prefix string) string
	queues    deliveryQueues // deliveries.go
	pipeline  pipelineDeps   // pipeline.go
}

type route func(ctx context.Context, req *apigw.Request) (apigw.Response, error)

// routes maps API Gateway route keys to handlers; each area of the API adds its own.
func (h *handler) routes() map[string]route {
	all := map[string]route{}
	for _, group := range []map[string]route{h.eventRoutes(), h.subscriptionRoutes(), h.sourceRoutes(), h.typeRoutes(), h.pipelineRoutes(), h.consoleRoutes()} {
		for k, r := range group {
			all[k] = r
		}
	}
	return all
}

func (h *handler) handle(ctx context.Context, req apigw.Request) (apigw.Response, error) {
	resp, err := h.serve(ctx, &req)
	if err != nil {
		return apigw.Error(ctx, h.log, err), nil
	}
	return resp, nil
}

func (h *handler) serve(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	if isConsole(req.RouteKey) {
		return h.console(req), nil // the page and its files: no data, no token
	}
	token := auth.Bearer(apigw.Header(req, "authorization"))
	if token == "" {
		return apigw.Response{}, fault.New(fault.Unauthorized, "missing bearer token: send Authorization: Bearer <admin token>")
	}
	if !auth.MatchHash(token, h.adminHash) {
		return apigw.Response{}, fault.New(fault.Unauthorized, "wrong admin token")
	}
	r, ok := h.routes()[req.RouteKey]
	if !ok {
		return apigw.Response{}, fault.New(fault.NotFound, "no route %s", req.RouteKey)
	}
	for name, v := range req.PathParameters {
		if name == "type" {
			continue // a type name is checked by its routes (400 naming the limit)
		}
		if len(v) > maxPathID || !utf8.ValidString(v) {
			return apigw.Response{}, fault.New(fault.NotFound, "no such %s: it is %d bytes long, and no %s is longer than %d bytes of UTF-8", name, len(v), name, maxPathID)
		}
	}
	return r(ctx, req)
}

// maxPathID bounds the ids and names in paths: every id eventhub makes is far
// shorter, and the table's keys cannot hold much more (1,024 bytes for a sort key).
const maxPathID = 256

func (h *handler) id(prefix string) string {
	if h.newID != nil {
		return h.newID(prefix)
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// decode reads a JSON request body into v, rejecting unknown fields.
func decode(req *apigw.Request, v any) error {
	body, err := apigw.Body(req)
	if err != nil {
		return err
	}
	if err := fault.UTF8(body); err != nil {
		return err
	}
	if len(body) == 0 {
		return fault.New(fault.Invalid, "empty body: expected a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			field, _ := strconv.Unquote(name)
			return fault.At(field, "unknown field")
		}
		if e, ok := fault.As(fault.JSON(body, err)); ok {
			return e
		}
		return fault.New(fault.Invalid, "%v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		e := &fault.Error{Code: fault.Invalid, Message: "unexpected content after the JSON object"}
		e.Offset, e.Line, e.Column = fault.Locate(body, int(dec.InputOffset()))
		return e
	}
	return nil
}

func noContent() apigw.Response { return apigw.Response{StatusCode: http.StatusNoContent} }

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
	"github.com/eventhub/eventhub/shared/catalog"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/mapping"
	"github.com/eventhub/eventhub/shared/metrics"
	"github.com/eventhub/eventhub/shared/ownership"
	"github.com/eventhub/eventhub/shared/ratelimit"
	"github.com/eventhub/eventhub/shared/sourcemap"
	"github.com/eventhub/eventhub/shared/store"
	"github.com/eventhub/eventhub/shared/trace"
)

// Limits on what a producer may send. An event must also fit the store once normalized
// (store.CheckFits: DynamoDB's 400 KB item, after compression), which bounds it more
// tightly unless it compresses well; maxEvent keeps its Event Received entry within
// EventBridge's 1 MB.
const (
	maxBody   = 1 << 20      // one request
	maxEvent  = bus.MaxEvent // one event as sent
	maxEvents = 100          // events in one batch
	maxDepth  = 64           // nesting of JSON arrays and objects
	// maxQuarantined is the size up to which a quarantining source's event that fails
	// a check is kept in quarantine; a larger one is refused, as it could not be kept
	// whole.
	maxQuarantined = 256 << 10
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

// cachedLookup finds sources by a key (an iuap appId, a source id) through a cache
// (store.SourceCache).
type cachedLookup interface {
	Source(ctx context.Context, key string) (*store.Source, error)
	// Fresh reads the source again, past any cache.
	Fresh(ctx context.Context, key string) (*store.Source, error)
}

// limiter is each source's rate limit (ratelimit.Limiter).
type limiter interface {
	Take(ctx context.Context, sourceID string, rl *store.RateLimit, n int) error
}

// counter adds a request's accepted and rejected events to the minute's counters
// (store.CountIngest), which the console's overview reads.
type counter interface {
	CountIngest(ctx context.Context, at time.Time, accepted, rejected int) error
}

// publisher puts entries on the bus (bus.Publisher).
type publisher interface {
	Publish(ctx context.Context, entries ...bus.Entry) error
}

type handler struct {
	sources sourceLookup     // by token
	byID    cachedLookup     // by id (POST /hooks/{sourceId})
	rereads rereads          // of byID, after a signature failed
	apps    cachedLookup     // by iuap appId
	owners  ownership.Others // what other sources own, for transitional sources
	schemas catalog.Lookup   // nil: no catalog checks
	limits  limiter          // nil: no rate limits
	counts  counter          // nil: no console counters
	pub     publisher
	// mappings finds the mapping that reads a source's events (its own, or its
	// format's preset).
	mappings *sourcemap.Cache
	now      func() time.Time
	newID    func() string // quarantine ids
	log      *slog.Logger
	metrics  *metrics.Emitter // nil: no metric lines
	// traces is the fraction of requests whose trace X-Ray records (trace.Sample):
	// ingest starts every trace, and decides for the whole pipeline.
	traces float64
}

// result is the outcome for one event of a request, in request order: the id it is
// stored under, or the quarantine item it will be kept in (with the reason), or why it
// was rejected.
type result struct {
	ID           string       `json:"id,omitempty"`
	QuarantineID string       `json:"quarantineId,omitempty"`
	Error        *fault.Error `json:"error,omitempty"`
	// Dropped is the name of the mapping's rule that dropped the event ("keep" when
	// it matched none of the keep rules): it is not stored.
	Dropped string `json:"dropped,omitempty"`
}

type response struct {
	Accepted    int      `json:"accepted"`
	Rejected    int      `json:"rejected"`
	Quarantined int      `json:"quarantined,omitempty"`
	Dropped     int      `json:"dropped,omitempty"`
	IDs         []string `json:"ids"`
	Results     []result `json:"results"`
}

func (h *handler) handle(ctx context.Context, req apigw.Request) (apigw.Response, error) {
	ctx = trace.With(ctx, trace.Sample(trace.Header(ctx), h.traces))
	if req.RouteKey == routeIUAP {
		return h.iuap(ctx, &req), nil
	}
	resp, err := h.ingest(ctx, &req)
	if err != nil {
		h.rejected(ctx, err)
		return apigw.Error(ctx, h.log, err), nil
	}
	return resp, nil
}

// rejected counts a request refused as a whole by the caller's mistake (a 4xx); a
// failure of eventhub's own (a 5xx) is the API's 5xx metric's and the function's
// error count's.
func (h *handler) rejected(ctx context.Context, err error) {
	if e, ok := fault.As(err); ok {
		h.metrics.Emit(ctx, []metrics.Dimension{metrics.Dim(metrics.Reason, string(e.Code))}, metrics.CountBy(metrics.Rejected, 1, metrics.Reason))
	}
}

// tally counts events by a dimension's value, in the order values first appear.
type tally struct {
	values []string
	counts []int
}

func (t *tally) add(v string) {
	for i, x := range t.values {
		if x == v {
			t.counts[i]++
			return
		}
	}
	t.values = append(t.values, v)
	t.counts = append(t.counts, 1)
}

// emit writes one line per value: the metric, broken down by the dimension.
func (t *tally) emit(ctx context.Context, m *metrics.Emitter, name, dim string) {
	for i, v := range t.values {
		m.Emit(ctx, []metrics.Dimension{metrics.Dim(dim, v)}, metrics.CountBy(name, t.counts[i], dim))
	}
}

func (h *handler) ingest(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	var src *store.Source
	var err error
	hook := req.RouteKey == routeHooks
	if token := auth.Bearer(apigw.Header(req, "authorization")); token != "" && !hook {
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
	if hook {
		// The signature covers the body: it is checked on the bytes as they came.
		if src, err = h.hookSource(ctx, req, body); err != nil {
			return apigw.Response{}, err
		}
	}
	d := readBody(body)
	env := d.env
	inBody := src == nil // authenticated by the token inside the body
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
	// A source's own mapping, or its format's preset, reads the whole body as one
	// event, with the request headers it names: the body is the producer's, never a
	// BlueKing envelope, and cannot have carried the token (it goes on the bus whole).
	version := sourcemap.Version(src)
	m, err := h.mappings.For(ctx, src, format, version)
	if err != nil {
		return apigw.Response{}, err
	}
	if m != nil && inBody {
		return apigw.Response{}, fault.New(fault.Unauthorized, "source %s reads its events with a mapping: send its token as Authorization: Bearer <source token> (or post to its /hooks URL), not inside the body", src.ID)
	}
	// A body with data_id and data is BlueKing's envelope when it carries the token or
	// the events are BlueKing's; for any other format it is an event like another.
	if m != nil || env != nil && env.token == "" && format != adapter.BKMonitor {
		env = nil
	}
	if env != nil && env.dataID != src.DataID {
		return apigw.Response{}, &fault.Error{Code: fault.Unauthorized, Path: "data_id", Message: "data_id does not belong to this token's source"}
	}
	hub := bus.Hub{
		SourceID:    src.ID,
		ContentType: apigw.Header(req, "content-type"),
		ReceivedAt:  h.now().UTC(),
		RequestID:   req.RequestContext.RequestID,
	}
	var items []item
	if m != nil {
		hub.MappingVersion = version
		hub.Headers = sourcemap.Headers(m, func(name string) string { return apigw.Header(req, name) })
		items, err = whole(req, format, body, d, m)
	} else {
		items, err = split(req, format, body, d, env)
	}
	if err != nil {
		return apigw.Response{}, err
	}
	if err := h.limit(ctx, src, len(items)); err != nil {
		return apigw.Response{}, err
	}
	meta := adapter.Meta{SourceID: src.ID, DataID: src.DataID}
	for i := range items {
		if items[i].err == nil {
			h.read(ctx, &items[i], meta, src, hub.Headers)
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

// read runs the adapter on one item, as normalize will, to answer the producer with a
// precise error: it checks that the source owns the event's CloudEvents source, the
// event against the catalog and the store's limits, and gives it its key. Normalize
// makes the canonical event again from the same bytes. A source that quarantines
// what it cannot read keeps the item, with the reason, instead of rejecting it; an
// event it may not publish is refused all the same.
func (h *handler) read(ctx context.Context, it *item, meta adapter.Meta, src *store.Source, headers map[string]string) {
	err := h.check(ctx, it, meta, src, headers)
	if err == nil {
		return
	}
	e, ok := fault.As(err)
	if ok && e.Line > 0 && it.sent != nil {
		// The adapter located the error in the compacted body: locate it in the body as
		// the producer sent it (read again only on this failure).
		if _, _, serr := adapter.Parse(it.format, it.sent, meta); serr != nil {
			err = serr
			e, ok = fault.As(err)
		}
	}
	if !ok || e.Code == fault.Forbidden || src.OnInvalid != store.OnInvalidQuarantine {
		it.err = at(it.prefix, err)
		return
	}
	if len(it.raw) > maxQuarantined {
		c := *e
		c.Message += fmt.Sprintf(" (an event over %d KB is refused rather than quarantined: it could not be kept whole)", maxQuarantined>>10)
		it.err = at(it.prefix, &c)
		return
	}
	it.quarantine = &bus.Quarantine{ID: "qrn_" + h.newID(), Reason: store.TruncateReason(at(it.prefix, e).Error())}
}

// errUnsigned refuses iuap events anywhere but on the signed route.
var errUnsigned = &fault.Error{Code: fault.Forbidden, Message: "an iuap event: iuap events are accepted only on the signed route POST /event/eventmanager/sendEventMsg.do"}

func (h *handler) check(ctx context.Context, it *item, meta adapter.Meta, src *store.Source, headers map[string]string) error {
	if it.format == adapter.IUAP && !it.signed {
		return errUnsigned
	}
	if it.mapping != nil {
		res, err := it.mapping.Apply(mapping.Input{Body: it.raw, Headers: headers, SourceID: src.ID})
		if err != nil {
			return err
		}
		if res.Dropped != "" {
			it.dropped = res.Dropped
			return nil
		}
		it.event = res.Event
	}
	if it.event == nil {
		ev, format, err := adapter.Parse(it.format, it.raw, meta)
		it.format = format
		if err != nil {
			return err
		}
		it.event = ev
	}
	if it.format == adapter.IUAP && !it.signed { // detected
		return errUnsigned
	}
	if err := ownership.Authorize(ctx, src.Publisher(it.signed), it.event.Source, h.owners); err != nil {
		if e, ok := fault.As(err); ok && it.binary {
			c := *e
			c.Path = "ce-source"
			return &c
		}
		return err
	}
	it.key = it.event.Key()
	if err := catalog.Check(ctx, h.schemas, it.event); err != nil {
		return err
	}
	body, err := it.event.MarshalJSON()
	if err != nil {
		return err
	}
	if err := bus.CheckFits(body); err != nil {
		return err
	}
	return store.CheckFits(it.event.Source, it.event.Type, it.event.Subject, body)
}

// received is the Event Received entry of an accepted item: the producer's event as it
// sent it (without the credentials it sent beside it) and what ingest learnt of it.
func received(it *item, hub bus.Hub) bus.Entry {
	hub.Key = it.key
	hub.Format = it.format
	hub.Quarantine = it.quarantine
	return bus.Entry{
		Source:     bus.SourceIngest,
		DetailType: bus.Received,
		Detail:     bus.ReceivedDetail{Raw: it.raw, Format: it.format, Hub: hub},
	}
}

// publish puts an Event Received on the bus for every accepted event of the request,
// and answers 202 only once all of them are there.
func (h *handler) publish(ctx context.Context, src *store.Source, hub bus.Hub, items []item) (apigw.Response, error) {
	resp := response{IDs: []string{}, Results: make([]result, len(items))}
	var entries []bus.Entry
	var accepted, rejected tally
	for i := range items {
		it := &items[i]
		if it.dropped != "" {
			resp.Results[i].Dropped = it.dropped
			resp.Dropped++
			h.log.InfoContext(ctx, "dropped", "sourceId", src.ID, "rule", it.dropped)
			h.metrics.Emit(ctx, []metrics.Dimension{metrics.Dim(metrics.Rule, metrics.RuleOf(src.ID, it.dropped))}, metrics.CountBy(metrics.Dropped, 1, metrics.Rule))
			continue
		}
		if it.err != nil {
			if e, ok := fault.As(it.err); ok {
				resp.Results[i].Error = e
				resp.Rejected++
				rejected.add(string(e.Code))
				continue
			}
			return apigw.Response{}, it.err
		}
		entries = append(entries, received(it, hub))
		accepted.add(it.format)
		resp.Accepted++
		resp.Results[i].ID = it.key
		if q := it.quarantine; q != nil {
			resp.Results[i].QuarantineID = q.ID
			resp.Results[i].Error = &fault.Error{Code: fault.Invalid, Message: q.Reason}
			resp.Quarantined++
			continue
		}
		resp.IDs = append(resp.IDs, it.key)
	}
	if len(entries) > 0 {
		if err := h.pub.Publish(ctx, entries...); err != nil {
			return apigw.Response{}, err
		}
		h.log.InfoContext(ctx, "received", "sourceId", src.ID, "accepted", resp.Accepted, "quarantined", resp.Quarantined, "rejected", resp.Rejected)
	}
	accepted.emit(ctx, h.metrics, metrics.Accepted, metrics.Format)
	rejected.emit(ctx, h.metrics, metrics.Rejected, metrics.Reason)
	h.count(ctx, resp.Accepted, resp.Rejected)
	status := http.StatusAccepted
	switch {
	case resp.Accepted == 0 && resp.Rejected == 0: // every event dropped by a rule
	case resp.Accepted == 0:
		status = rejectedStatus(resp.Results)
	case resp.Rejected > 0:
		status = http.StatusMultiStatus
	}
	if resp.Accepted == 0 && resp.Rejected == 1 && len(items) == 1 {
		// A single rejected event reads better as a plain error.
		e := resp.Results[0].Error
		return apigw.JSON(apigw.Status(e), apigw.ErrorBody{Error: e}), nil
	}
	return apigw.JSON(status, resp), nil
}

// count adds the request's events to the console's counters. A counter that cannot
// be written is logged and the request goes on: the events are on the bus already.
func (h *handler) count(ctx context.Context, accepted, rejected int) {
	if h.counts == nil {
		return
	}
	if err := h.counts.CountIngest(ctx, h.now(), accepted, rejected); err != nil {
		h.log.WarnContext(ctx, "console counters not written", "error", err)
	}
}

// limit takes n events from the source's rate limit: a fault (429, or 413 for a
// batch larger than its burst) when it may not send them now. A bucket that cannot be
// read lets the request through, logged: the limit protects the pipeline's share, and
// a store failure must not refuse every producer.
func (h *handler) limit(ctx context.Context, src *store.Source, n int) error {
	if h.limits == nil {
		return nil
	}
	err := h.limits.Take(ctx, src.ID, src.RateLimit, n)
	if errors.Is(err, ratelimit.ErrUnavailable) {
		h.log.WarnContext(ctx, "rate limit not applied", "sourceId", src.ID, "error", err)
		return nil
	}
	return err
}

// rejectedStatus is the status of a request whose every event was rejected: theirs
// when they share it (403 for a batch of events the source may not publish), else 400.
func rejectedStatus(results []result) int {
	status := 0
	for _, r := range results {
		s := apigw.Status(r.Error)
		if status != 0 && s != status {
			return http.StatusBadRequest
		}
		status = s
	}
	if status == 0 {
		return http.StatusBadRequest
	}
	return status
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

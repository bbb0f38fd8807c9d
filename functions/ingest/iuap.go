package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/eventhub/eventhub/shared/adapter"
	"github.com/eventhub/eventhub/shared/adapter/iuap"
	"github.com/eventhub/eventhub/shared/apigw"
	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/metrics"
	"github.com/eventhub/eventhub/shared/store"
)

// iuapReply is the iuap send API's answer: status 1 and the event id, or status 0
// and the reason (with eventhub's usual error object beside it).
type iuapReply struct {
	Data  iuapStatus   `json:"data"`
	Error *fault.Error `json:"error,omitempty"`
}

type iuapStatus struct {
	Message string `json:"message"`
	Status  int    `json:"status"`
	ID      string `json:"id,omitempty"`
}

// iuap serves iuap's sendEventMsg.do: a form post from a registered node (appId),
// signed with the source's key.
func (h *handler) iuap(ctx context.Context, req *apigw.Request) apigw.Response {
	key, err := h.sendEventMsg(ctx, req)
	if err != nil {
		h.rejected(ctx, err)
		e, ok := fault.As(err)
		if !ok {
			resp := apigw.Error(ctx, h.log, err)
			resp.Body = `{"data":{"message":"internal error","status":0},"error":{"code":"internal","message":"internal error"}}`
			return resp
		}
		resp := apigw.JSON(apigw.Status(e), iuapReply{Data: iuapStatus{Message: e.Error(), Status: 0}, Error: e})
		if e.Code == fault.Unauthorized {
			resp.Headers["www-authenticate"] = `HMAC-SHA256 realm="eventhub"`
		}
		if e.RetryAfter > 0 {
			resp.Headers["retry-after"] = strconv.Itoa(e.RetryAfter)
		}
		return resp
	}
	h.metrics.Emit(ctx, []metrics.Dimension{metrics.Dim(metrics.Format, adapter.IUAP)}, metrics.CountBy(metrics.Accepted, 1, metrics.Format))
	return apigw.JSON(http.StatusOK, iuapReply{Data: iuapStatus{Message: "accepted", Status: 1, ID: key}})
}

func (h *handler) sendEventMsg(ctx context.Context, req *apigw.Request) (string, error) {
	q := req.QueryStringParameters
	appID, ts := q["appId"], q["ts"]
	if appID == "" {
		return "", &fault.Error{Code: fault.Unauthorized, Path: "appId", Message: "missing appId query parameter: the node code the source was registered with"}
	}
	src, err := h.apps.Source(ctx, appID)
	if errors.Is(err, store.ErrNotFound) {
		return "", &fault.Error{Code: fault.Unauthorized, Path: "appId", Message: "unknown appId"}
	}
	if err != nil {
		return "", err
	}
	if !src.Enabled {
		return "", fault.New(fault.Forbidden, "source %s is disabled", src.ID)
	}
	body, err := apigw.Body(req)
	if err != nil {
		return "", err
	}
	if len(body) > maxEvent {
		return "", fault.New(fault.TooLarge, "request body is %d bytes; the limit is %d", len(body), maxEvent)
	}
	if mt := apigw.MediaType(req); mt != "application/x-www-form-urlencoded" {
		return "", fault.New(fault.UnsupportedMedia, "content type %q is not supported: send the form fields as application/x-www-form-urlencoded", mt)
	}
	form, err := readForm(body)
	if err != nil {
		return "", err
	}
	sign := apigw.Header(req, "sign")
	if sign == "" {
		sign = q["sign"]
	}
	now := h.now()
	if err := iuap.Verify(src.SigningKeys(now), appID, ts, sign, form, body, now); err != nil {
		// The cached source may predate a key rotation: check once against the table.
		e, ok := fault.As(err)
		if !ok || e.Path != "sign" {
			return "", err
		}
		fresh, ferr := h.apps.Fresh(ctx, appID)
		if ferr != nil || fresh.SigningKey == src.SigningKey {
			return "", err
		}
		if err := iuap.Verify(fresh.SigningKeys(now), appID, ts, sign, form, body, now); err != nil {
			return "", err
		}
		src = fresh
		if !src.Enabled {
			return "", fault.New(fault.Forbidden, "source %s is disabled", src.ID)
		}
	}
	if err := h.limit(ctx, src, 1); err != nil {
		return "", err
	}
	fields := map[string]string{"appId": appID, "ts": ts}
	for k, v := range form {
		switch k {
		case "appId", "ts":
			return "", fault.At(k, "belongs in the query string, not the form")
		case "sign":
			continue // a credential: it never goes on the bus
		}
		fields[k] = v
	}
	it := item{raw: formJSON(fields), format: adapter.IUAP, signed: true}
	h.read(ctx, &it, adapter.Meta{SourceID: src.ID}, src, nil)
	if it.err != nil {
		return "", it.err
	}
	hub := bus.Hub{
		SourceID:    src.ID,
		ContentType: apigw.Header(req, "content-type"),
		ReceivedAt:  now.UTC(),
		RequestID:   req.RequestContext.RequestID,
		Signed:      true,
	}
	if err := h.pub.Publish(ctx, received(&it, hub)); err != nil {
		return "", err
	}
	h.log.InfoContext(ctx, "received", "sourceId", src.ID, "accepted", 1, "eventKey", it.key)
	if it.key == "" && it.quarantine != nil {
		return it.quarantine.ID, nil
	}
	return it.key, nil
}

// readForm decodes the form, refusing what it cannot keep exactly: a field sent twice,
// invalid UTF-8, broken percent-encoding.
func readForm(body []byte) (map[string]string, error) {
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fault.New(fault.Invalid, "malformed form body: %v", err)
	}
	form := make(map[string]string, len(vals))
	for k, vs := range vals {
		if len(vs) > 1 {
			return nil, fault.At(k, "form field appears %d times", len(vs))
		}
		if !utf8.ValidString(k) || !utf8.ValidString(vs[0]) {
			return nil, fault.At(k, "form field is not valid UTF-8")
		}
		form[k] = vs[0]
	}
	if len(form) == 0 {
		return nil, fault.New(fault.Invalid, "empty form: send sourceID, eventType, tenantCode and userObject")
	}
	return form, nil
}

// formJSON is the event as it travels on the bus: a JSON object of the fields, appId
// and ts first, then the form fields by name.
func formJSON(fields map[string]string) json.RawMessage {
	names := make([]string, 0, len(fields))
	for k := range fields {
		if k != "appId" && k != "ts" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	names = append([]string{"appId", "ts"}, names...)
	b := []byte{'{'}
	for i, k := range names {
		if i > 0 {
			b = append(b, ',')
		}
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(fields[k])
		b = append(append(append(b, kb...), ':'), vb...)
	}
	return append(b, '}')
}

package main

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/eventhub/eventhub/shared/apigw"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/store"
)

func (h *handler) listAlerts(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	p, err := queryParams(req, "status", "limit", "cursor")
	if err != nil {
		return apigw.Response{}, err
	}
	q := store.AlertQuery{Cursor: p["cursor"]}
	switch s := strings.ToUpper(p["status"]); s {
	case "":
	case store.AlertAbnormal, store.AlertRecovered, store.AlertClosed:
		q.Status = s
	default:
		return apigw.Response{}, fault.At("status", "must be ABNORMAL, RECOVERED or CLOSED")
	}
	if q.Limit, err = limitParam(p["limit"]); err != nil {
		return apigw.Response{}, err
	}
	page, err := h.ev.store.ListAlerts(ctx, q)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, page), nil
}

func (h *handler) getAlert(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	id := req.PathParameters["id"]
	a, err := h.ev.store.GetAlert(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return apigw.Response{}, fault.New(fault.NotFound, "no alert %s", id)
	}
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, a), nil
}

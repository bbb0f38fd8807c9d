package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/eventhub/eventhub/shared/apigw"
	"github.com/eventhub/eventhub/shared/catalog"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/store"
)

// typeStore is what the event-type catalog routes need of the store.
type typeStore interface {
	PutType(ctx context.Context, t store.EventType) (created bool, stored *store.EventType, err error)
	GetType(ctx context.Context, name string) (*store.EventType, error)
	ListTypes(ctx context.Context) ([]store.EventType, error)
	DeleteType(ctx context.Context, name string) error
}

const maxTypeName = 256

type typeInput struct {
	Description string          `json:"description"`
	Owner       string          `json:"owner"`
	Version     string          `json:"version"`
	Schema      json.RawMessage `json:"schema"`
}

// typeView is a catalog entry as the API shows it, with its schema as JSON.
type typeView struct {
	store.EventType
	Schema json.RawMessage `json:"schema,omitempty"`
}

func viewType(t store.EventType) typeView {
	v := typeView{EventType: t}
	if t.Schema != "" {
		v.Schema = json.RawMessage(t.Schema)
	}
	return v
}

func (h *handler) typeRoutes() map[string]route {
	return map[string]route{
		"PUT /types/{type}":    h.putType,
		"GET /types":           h.listTypes,
		"GET /types/{type}":    h.getType,
		"DELETE /types/{type}": h.deleteType,
	}
}

func typeName(req *apigw.Request) (string, error) {
	name := req.PathParameters["type"]
	switch {
	case name == "":
		return "", fault.At("type", "required")
	case len(name) > maxTypeName:
		return "", fault.At("type", "is %d bytes long; the limit is %d", len(name), maxTypeName)
	case !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", fault.At("type", "must be printable UTF-8")
	}
	return name, nil
}

// putType registers or replaces an event type. Events of a type with a schema are
// rejected at ingest when their data does not satisfy it.
func (h *handler) putType(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	name, err := typeName(req)
	if err != nil {
		return apigw.Response{}, err
	}
	var in typeInput
	if err := decode(req, &in); err != nil {
		return apigw.Response{}, err
	}
	t := store.EventType{Type: name, Description: in.Description, Owner: in.Owner, Version: in.Version}
	if s := bytes.TrimSpace(in.Schema); len(s) > 0 && string(s) != "null" {
		if _, err := catalog.CompileSchema(s, "schema"); err != nil {
			return apigw.Response{}, err
		}
		var c bytes.Buffer
		_ = json.Compact(&c, s) // decode accepted it, so it is valid JSON
		t.Schema = c.String()
	}
	created, stored, err := h.store.PutType(ctx, t)
	if err != nil {
		return apigw.Response{}, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return apigw.JSON(status, viewType(*stored)), nil
}

func (h *handler) listTypes(ctx context.Context, _ *apigw.Request) (apigw.Response, error) {
	ts, err := h.store.ListTypes(ctx)
	if err != nil {
		return apigw.Response{}, err
	}
	views := make([]typeView, len(ts))
	for i, t := range ts {
		views[i] = viewType(t)
	}
	return apigw.JSON(http.StatusOK, map[string]any{"types": views}), nil
}

func (h *handler) getType(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	name, err := typeName(req)
	if err != nil {
		return apigw.Response{}, err
	}
	t, err := h.store.GetType(ctx, name)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, viewType(*t)), nil
}

func (h *handler) deleteType(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	name, err := typeName(req)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := h.store.DeleteType(ctx, name); err != nil {
		return apigw.Response{}, err
	}
	return noContent(), nil
}

package main

import (
	"context"
	"net/http"
	"strings"

	"github.com/eventhub/eventhub/shared/apigw"
	"github.com/eventhub/eventhub/shared/auth"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/store"
)

// formats are the producer formats a source may declare.
var formats = map[string]bool{"auto": true, "cloudevents": true}

type sourceInput struct {
	Name   string `json:"name"`
	Format string `json:"format"`
}

// sourceView is a source as the API shows it; the token only on creation.
type sourceView struct {
	store.Source
	Token string `json:"token,omitempty"`
}

func (h *handler) sourceRoutes() map[string]route {
	return map[string]route{
		"POST /sources": h.createSource,
		"GET /sources":  h.listSources,
	}
}

func (h *handler) createSource(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	var in sourceInput
	if err := decode(req, &in); err != nil {
		return apigw.Response{}, err
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return apigw.Response{}, fault.At("name", "required")
	}
	format := in.Format
	if format == "" {
		format = "auto"
	}
	if !formats[format] {
		return apigw.Response{}, fault.At("format", "unknown format %q", in.Format)
	}
	token := auth.NewToken(auth.ProducerPrefix)
	src := store.Source{
		ID:        h.id("src_"),
		Name:      name,
		Format:    format,
		Enabled:   true,
		TokenHash: auth.Hash(token),
		CreatedAt: h.now().UTC(),
	}
	if err := h.store.CreateSource(ctx, src); err != nil {
		return apigw.Response{}, err
	}
	resp := apigw.JSON(http.StatusCreated, sourceView{Source: src, Token: token})
	resp.Headers["location"] = "/sources/" + src.ID
	return resp, nil
}

func (h *handler) listSources(ctx context.Context, _ *apigw.Request) (apigw.Response, error) {
	srcs, err := h.store.ListSources(ctx)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, map[string]any{"sources": srcs}), nil
}

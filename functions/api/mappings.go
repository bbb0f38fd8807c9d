package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/eventhub/eventhub/shared/apigw"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/mapping"
	"github.com/eventhub/eventhub/shared/store"
)

// mappingStore is what the mapping routes need of the store besides the sources.
type mappingStore interface {
	ListMappings(ctx context.Context, sourceID string) ([]store.MappingVersion, error)
}

// isPreset reports whether a shipped mapping reads the format's events.
func isPreset(f string) bool {
	_, ok := mapping.Preset(f)
	return ok
}

// compileMapping validates an admin's mapping document: nil for none (absent or
// null), else the compact document and its compiled mapping, or a 400 whose path
// names the wrong part ("mapping.time.format").
func compileMapping(doc json.RawMessage) (json.RawMessage, *mapping.Mapping, error) {
	if len(doc) == 0 || string(bytes.TrimSpace(doc)) == "null" {
		return nil, nil, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, doc); err != nil {
		return nil, nil, fault.At("mapping", "malformed JSON: %v", err)
	}
	m, err := mapping.Compile(buf.Bytes())
	if err != nil {
		if e, ok := fault.As(err); ok {
			if e.Path == "" {
				c := *e
				c.Path = "mapping"
				return nil, nil, &c
			}
			return nil, nil, e
		}
		return nil, nil, fault.At("mapping", "%v", err)
	}
	return json.RawMessage(buf.Bytes()), m, nil
}

type dryRunInput struct {
	Payload json.RawMessage   `json:"payload"`
	Headers map[string]string `json:"headers"`
	Mapping json.RawMessage   `json:"mapping"`
}

// dryRunBody is the answer of a dry run: the event, or the rule that dropped it, or
// (422) why the payload cannot be mapped and where.
type dryRunBody struct {
	Event          json.RawMessage `json:"event,omitempty"`
	Dropped        string          `json:"dropped,omitempty"`
	Error          *fault.Error    `json:"error,omitempty"`
	Path           string          `json:"path,omitempty"`
	MappingVersion int64           `json:"mappingVersion,omitempty"` // of the source's mapping used; 0 for inline or a preset
	Preset         string          `json:"preset,omitempty"`
}

// dryRun maps a sample payload with the source's mapping (or the one given inline, or
// the source's preset) and answers what it would become, storing nothing.
func (h *handler) dryRun(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	var in dryRunInput
	if err := decode(req, &in); err != nil {
		return apigw.Response{}, err
	}
	src, err := h.store.GetSource(ctx, req.PathParameters["id"])
	if err != nil {
		return apigw.Response{}, err
	}
	if len(in.Payload) == 0 {
		return apigw.Response{}, fault.At("payload", "required: the JSON payload a producer would send")
	}
	var out dryRunBody
	_, m, err := compileMapping(in.Mapping)
	if err != nil {
		return apigw.Response{}, err
	}
	switch {
	case m != nil:
	case len(src.Mapping) > 0:
		if _, m, err = compileMapping(src.Mapping); err != nil {
			return apigw.Response{}, err
		}
		out.MappingVersion = src.MappingVersion
	default:
		p, ok := mapping.Preset(src.Format)
		if !ok {
			return apigw.Response{}, fault.At("mapping", "source %s (format %s) has no mapping and no preset: give one inline", src.ID, src.Format)
		}
		m, out.Preset = p, src.Format
	}
	headers := make(map[string]string, len(in.Headers))
	for k, v := range in.Headers {
		headers[strings.ToLower(strings.TrimSpace(k))] = v
	}
	// The bytes ingest would read (a content hash gives the id the event would get).
	res, err := m.Apply(mapping.Input{Body: in.Payload, Headers: headers, SourceID: src.ID})
	if err != nil {
		e, ok := fault.As(err)
		if !ok {
			return apigw.Response{}, err
		}
		out.Error, out.Path = e, e.Path
		return apigw.JSON(http.StatusUnprocessableEntity, out), nil
	}
	if res.Dropped != "" {
		out.Dropped = res.Dropped
		return apigw.JSON(http.StatusOK, out), nil
	}
	if out.Event, err = res.Event.MarshalJSON(); err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, out), nil
}

// listMappings lists every saved version of the source's mapping, oldest first, and
// which one is current (0: none now).
func (h *handler) listMappings(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	src, err := h.store.GetSource(ctx, req.PathParameters["id"])
	if err != nil {
		return apigw.Response{}, err
	}
	list, err := h.store.ListMappings(ctx, src.ID)
	if err != nil {
		return apigw.Response{}, err
	}
	current := int64(0)
	if len(src.Mapping) > 0 {
		current = src.MappingVersion
	}
	return apigw.JSON(http.StatusOK, map[string]any{"mappings": list, "current": current}), nil
}

package bus

import (
	"context"
	"encoding/json"
	"fmt"
)

// maxAsyncPayload is Lambda's limit on an asynchronous invocation's payload.
const maxAsyncPayload = 1 << 20

// InvokeAPI queues an asynchronous invocation of a Lambda function (Invoke with
// InvocationType Event).
type InvokeAPI interface {
	InvokeAsync(ctx context.Context, function string, payload []byte) error
}

// Handoff hands normalized events to the function that stores them (persist) by
// asynchronous invocation: one invocation per request's worth of events, where a bus
// entry per event would cost an EventBridge entry each. Lambda keeps the invocation
// in its queue, retries it as the function's EventInvokeConfig says, and sends what
// it cannot process to the function's OnFailure destination.
type Handoff struct {
	api      InvokeAPI
	function string
	claims   Claims
	limit    int
}

// NewHandoff returns a handoff to the named function. claims stores an event too large
// for an invocation of its own (never, within ingest's limits); nil makes that an
// error.
func NewHandoff(api InvokeAPI, function string, claims Claims) *Handoff {
	return &Handoff{api: api, function: function, claims: claims, limit: maxAsyncPayload}
}

// Send hands the events over in as few invocations as Lambda's payload limit allows,
// in order. An error means some were not handed over; the caller must not report them
// accepted.
func (h *Handoff) Send(ctx context.Context, events []EventDetail) error {
	const overhead = len(`{"events":[]}`)
	var batch []json.RawMessage
	size := overhead
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		payload, err := json.Marshal(struct {
			Events []json.RawMessage `json:"events"`
		}{batch})
		if err != nil {
			return err
		}
		batch, size = batch[:0], overhead
		return h.invoke(ctx, payload)
	}
	for i, e := range events {
		raw, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode event %d: %w", i, err)
		}
		if overhead+len(raw) > h.limit {
			if err := flush(); err != nil {
				return err
			}
			if err := h.claim(ctx, raw, i); err != nil {
				return err
			}
			continue
		}
		if size+len(raw)+1 > h.limit {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, raw)
		size += len(raw) + 1
	}
	return flush()
}

// claim sends one oversized event as a batch stored in the claim store.
func (h *Handoff) claim(ctx context.Context, raw json.RawMessage, i int) error {
	if h.claims == nil {
		return fmt.Errorf("event %d is %d bytes, over Lambda's asynchronous payload limit, and no claim store is configured", i, len(raw))
	}
	full, err := json.Marshal(struct {
		Events []json.RawMessage `json:"events"`
	}{[]json.RawMessage{raw}})
	if err != nil {
		return err
	}
	id := "clm_" + newID()
	if err := h.claims.PutClaim(ctx, id, full); err != nil {
		return fmt.Errorf("store claim for oversized event %d: %w", i, err)
	}
	ref, err := json.Marshal(claimRef{Claim: id})
	if err != nil {
		return err
	}
	return h.invoke(ctx, ref)
}

func (h *Handoff) invoke(ctx context.Context, payload []byte) error {
	if err := h.api.InvokeAsync(ctx, h.function, payload); err != nil {
		return fmt.Errorf("hand %d bytes of events to %s: %w", len(payload), h.function, err)
	}
	return nil
}

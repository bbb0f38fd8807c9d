package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/eventhub/eventhub/shared/trace"
)

// EventBridge's limits on one PutEvents call: ten entries, and 1 MB for an entry and
// for the call's entries together (256 KB until 2026-01-29).
const (
	maxEntries   = 10
	maxEntrySize = 1 << 20
)

// PutEventsAPI is the EventBridge call the publisher makes.
type PutEventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Claims keeps details too large for an EventBridge entry (the claim-check pattern).
type Claims interface {
	PutClaim(ctx context.Context, id string, detail []byte) error
	GetClaim(ctx context.Context, id string) ([]byte, error)
}

// Entry is one event to put on the bus. Detail is marshalled to JSON.
type Entry struct {
	Source     string
	DetailType string
	Detail     any
	Resources  []string
}

// Publisher puts entries on one bus. Entries that PutEvents reports as failed are sent
// again with backoff; a detail over EventBridge's entry limit is stored through Claims
// and travels as a reference that Resolve turns back into the detail.
type Publisher struct {
	api      PutEventsAPI
	bus      string
	claims   Claims
	attempts int
	backoff  func(attempt int) time.Duration
}

// NewPublisher returns a publisher to the named bus. claims may be nil, and then an
// oversized entry is an error.
func NewPublisher(api PutEventsAPI, busName string, claims Claims) *Publisher {
	return &Publisher{api: api, bus: busName, claims: claims, attempts: 6, backoff: defaultBackoff}
}

func defaultBackoff(attempt int) time.Duration {
	d := 25 * time.Millisecond << attempt
	return min(d, time.Second)
}

// claimRef is the detail of an entry whose real detail is stored under ID.
type claimRef struct {
	Claim string `json:"claim"`
}

// Publish puts every entry on the bus or returns an error naming the ones it could not.
// Each entry carries the invocation's X-Ray trace header, so that EventBridge continues
// the trace in the functions its rules invoke.
func (p *Publisher) Publish(ctx context.Context, entries ...Entry) error {
	var traceHeader *string
	if h := trace.Propagated(ctx); h != "" {
		traceHeader = &h
	}
	reqs := make([]types.PutEventsRequestEntry, 0, len(entries))
	for i, e := range entries {
		detail, err := json.Marshal(e.Detail)
		if err != nil {
			return fmt.Errorf("marshal %s detail: %w", e.DetailType, err)
		}
		if entrySize(e, detail) > maxEntrySize {
			if detail, err = p.claim(ctx, e, detail, i); err != nil {
				return err
			}
		}
		reqs = append(reqs, types.PutEventsRequestEntry{
			EventBusName: aws.String(p.bus),
			Source:       aws.String(e.Source),
			DetailType:   aws.String(e.DetailType),
			Detail:       aws.String(string(detail)),
			Resources:    e.Resources,
			TraceHeader:  traceHeader,
		})
	}
	for len(reqs) > 0 {
		n := batchLen(reqs)
		if err := p.put(ctx, reqs[:n]); err != nil {
			return err
		}
		reqs = reqs[n:]
	}
	return nil
}

func (p *Publisher) claim(ctx context.Context, e Entry, detail []byte, i int) ([]byte, error) {
	if p.claims == nil {
		return nil, fmt.Errorf("%s entry %d is %d bytes, over EventBridge's limit, and no claim store is configured", e.DetailType, i, len(detail))
	}
	id := "clm_" + newID()
	if err := p.claims.PutClaim(ctx, id, detail); err != nil {
		return nil, fmt.Errorf("store claim for oversized %s entry: %w", e.DetailType, err)
	}
	return json.Marshal(claimRef{Claim: id})
}

// batchLen returns how many leading entries fit in one PutEvents call.
func batchLen(reqs []types.PutEventsRequestEntry) int {
	size := 0
	for i, r := range reqs {
		s := requestEntrySize(r)
		if i == maxEntries || (i > 0 && size+s > maxEntrySize) {
			return i
		}
		size += s
	}
	return len(reqs)
}

func (p *Publisher) put(ctx context.Context, reqs []types.PutEventsRequestEntry) error {
	pending := reqs
	var lastErr error
	for attempt := 0; attempt < p.attempts; attempt++ {
		if attempt > 0 {
			t := time.NewTimer(p.backoff(attempt))
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("put events: %w (last failure: %v)", ctx.Err(), lastErr)
			case <-t.C:
			}
		}
		out, err := p.api.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: pending})
		if err != nil {
			lastErr = err
			continue
		}
		if out.FailedEntryCount == 0 {
			return nil
		}
		var again []types.PutEventsRequestEntry
		for i, res := range out.Entries {
			if i < len(pending) && res.ErrorCode != nil {
				again = append(again, pending[i])
				lastErr = fmt.Errorf("entry %s: %s", aws.ToString(res.ErrorCode), aws.ToString(res.ErrorMessage))
			}
		}
		if len(again) == 0 {
			// FailedEntryCount without per-entry codes: resend all rather than lose any.
			again = pending
			lastErr = fmt.Errorf("%d entries failed without an error code", out.FailedEntryCount)
		}
		pending = again
	}
	return fmt.Errorf("put events: %d of %d entries failed after %d attempts: %w", len(pending), len(reqs), p.attempts, lastErr)
}

// entrySize follows EventBridge's "Calculating PutEvents event entry size".
func entrySize(e Entry, detail []byte) int {
	n := 14 + len(e.Source) + len(e.DetailType) + len(detail)
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

func requestEntrySize(r types.PutEventsRequestEntry) int {
	n := 14 + len(aws.ToString(r.Source)) + len(aws.ToString(r.DetailType)) + len(aws.ToString(r.Detail))
	for _, res := range r.Resources {
		n += len(res)
	}
	return n
}

// Resolve returns the detail an entry carried: detail itself, or the stored detail when
// detail is a claim reference.
func Resolve(ctx context.Context, detail []byte, claims Claims) ([]byte, error) {
	if len(detail) > 64 || !utf8.Valid(detail) {
		return detail, nil
	}
	var ref claimRef
	if err := json.Unmarshal(detail, &ref); err != nil || ref.Claim == "" {
		return detail, nil
	}
	if claims == nil {
		return nil, fmt.Errorf("detail is claim %s and no claim store is configured", ref.Claim)
	}
	full, err := claims.GetClaim(ctx, ref.Claim)
	if err != nil {
		return nil, fmt.Errorf("load claim %s: %w", ref.Claim, err)
	}
	return full, nil
}

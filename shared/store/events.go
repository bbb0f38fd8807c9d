package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventhub/eventhub/shared/trace"
)

// Event is a stored CloudEvent with the pipeline's metadata. Key, Source, ID, Type and
// Time are not attributes of the item: the key is in pk, the others in the body (and
// the type in gsi2pk), and an item's size is what DynamoDB bills. Subject is, for the
// listings' filter.
type Event struct {
	Key        string    `dynamodbav:"-" json:"key"`
	Source     string    `dynamodbav:"-" json:"source"`
	ID         string    `dynamodbav:"-" json:"id"`
	Type       string    `dynamodbav:"-" json:"type"`
	Subject    string    `dynamodbav:"subject,omitempty" json:"subject,omitempty"`
	Time       string    `dynamodbav:"-" json:"time,omitempty"`
	SourceID   string    `dynamodbav:"sourceId,omitempty" json:"sourceId,omitempty"`
	Format     string    `dynamodbav:"format,omitempty" json:"format,omitempty"`
	ReceivedAt time.Time `dynamodbav:"receivedAt" json:"receivedAt"`
	// NormalizedAt is when the adapter made the canonical event; zero when unknown.
	NormalizedAt time.Time       `dynamodbav:"normalizedAt,omitempty" json:"normalizedAt,omitzero"`
	StoredAt     time.Time       `dynamodbav:"storedAt" json:"storedAt"`
	Event        json.RawMessage `dynamodbav:"-" json:"event"`
	// Receipt names the acceptance that brought the event (the ingest request id): a
	// repeat with the same receipt is the pipeline delivering it again, not the
	// producer sending it again.
	Receipt    string `dynamodbav:"receipt,omitempty" json:"-"`
	Duplicates int    `dynamodbav:"duplicates,omitempty" json:"duplicates"`
	AlertID    string `dynamodbav:"alertId,omitempty" json:"alertId,omitempty"` // the alert it was folded into
	// TraceID is the X-Ray trace of the invocation that stored the event (PutEvent
	// takes it from the context): the trace of its whole way through the pipeline.
	TraceID   string `dynamodbav:"traceId,omitempty" json:"traceId,omitempty"`
	ExpiresAt int64  `dynamodbav:"expiresAt,omitempty" json:"-"`
}

type eventItem struct {
	keyAttrs
	Event
	Body   string `dynamodbav:"body,omitempty"`  // the CloudEvent as text, or
	BodyZ  []byte `dynamodbav:"bodyz,omitempty"` // deflated (body.go)
	GSI1PK string `dynamodbav:"gsi1pk"`
	GSI2PK string `dynamodbav:"gsi2pk"`
	GSI3PK string `dynamodbav:"gsi3pk"`
	// GSISK is the sort key of all three indexes: the event's position.
	GSISK string `dynamodbav:"gsisk"`
}

// TimelineEntry is one step in an event's life: a pipeline stage or a delivery attempt.
type TimelineEntry struct {
	At             time.Time `dynamodbav:"at" json:"at"`
	Stage          string    `dynamodbav:"stage" json:"stage"`
	Message        string    `dynamodbav:"message,omitempty" json:"message,omitempty"`
	SubscriptionID string    `dynamodbav:"subscriptionId,omitempty" json:"subscriptionId,omitempty"`
	Attempt        int       `dynamodbav:"attempt,omitempty" json:"attempt,omitempty"`
	Status         int       `dynamodbav:"status,omitempty" json:"status,omitempty"`
	LatencyMs      int64     `dynamodbav:"latencyMs,omitempty" json:"latencyMs,omitempty"`
	Response       string    `dynamodbav:"response,omitempty" json:"response,omitempty"`
	Error          string    `dynamodbav:"error,omitempty" json:"error,omitempty"`
	Outcome        string    `dynamodbav:"outcome,omitempty" json:"outcome,omitempty"`
	ReplayID       string    `dynamodbav:"replayId,omitempty" json:"replayId,omitempty"`
	QuarantineID   string    `dynamodbav:"quarantineId,omitempty" json:"quarantineId,omitempty"`
	// TraceID is the X-Ray trace id of the invocation that wrote the entry, taken from
	// its context when the entry is written: where to look for the step's trace and
	// logs.
	TraceID string `dynamodbav:"traceId,omitempty" json:"traceId,omitempty"`
}

// traced returns e with the trace id of the invocation writing it.
func traced(ctx context.Context, e TimelineEntry) TimelineEntry {
	if e.TraceID == "" {
		e.TraceID = trace.ID(ctx)
	}
	return e
}

// Timeline stages.
const (
	StageReceived    = "received"
	StageNormalized  = "normalized"
	StageStored      = "stored"
	StageAttempt     = "attempt"
	StageDelivered   = "delivered"
	StageFailed      = "failed"
	StageQuarantined = "quarantined" // could not be normalized; Message is the reason
	StageResubmitted = "resubmitted" // taken out of quarantine and sent through normalize again
	StageReplay      = "replay"      // one delivery of a replay job, outside the retry chain
)

type timelineItem struct {
	keyAttrs
	TimelineEntry
	ExpiresAt int64 `dynamodbav:"expiresAt,omitempty"`
}

// timelineSK is deterministic so that a repeated write of the same step is idempotent.
func timelineSK(e TimelineEntry) string {
	sk := skTimeline + sortable(e.At) + "#" + e.Stage
	if e.SubscriptionID != "" {
		sk += "#" + e.SubscriptionID + "#" + strconv.Itoa(e.Attempt)
	}
	if e.ReplayID != "" {
		sk += "#" + e.ReplayID
	}
	return sk
}

// PutEvent stores ev unless an event with the same key is already stored. It reports
// whether ev was stored now; when it was not, it returns the event already stored, and
// a repeat with another receipt (the producer sent the event again) is counted on it.
//
// The write is one conditional PutItem: the pipeline's first stages (received,
// normalized, stored) are attributes of the event item, which History shows as timeline
// entries, so that storing an event costs one item write and its index entries instead
// of a transaction over several items (DynamoDB bills a transaction's writes twice).
func (s *Store) PutEvent(ctx context.Context, ev Event) (created bool, existing *Event, err error) {
	now := s.now()
	if ev.StoredAt.IsZero() {
		ev.StoredAt = now
	}
	ev.ExpiresAt = s.expiry(ev.ReceivedAt)
	if ev.TraceID == "" {
		ev.TraceID = trace.ID(ctx)
	}
	pos := position(ev.ReceivedAt, ev.Key)
	text, packed := packBody(ev.Event)
	item := eventItem{
		keyAttrs: keyAttrs{PK: pkEvent + ev.Key, SK: skEvent},
		Event:    ev,
		Body:     text,
		BodyZ:    packed,
		GSI1PK:   pkBySource + ev.Source,
		GSI2PK:   pkByType + ev.Type,
		GSI3PK:   shardOf(pkAllEvents, ev.Key),
		GSISK:    pos,
	}
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return false, nil, fmt.Errorf("encode event %s: %w", ev.Key, err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           &s.table,
		Item:                                av,
		ConditionExpression:                 ptr("attribute_not_exists(pk)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return true, nil, nil
	}
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return false, nil, fmt.Errorf("store event %s: %w", ev.Key, err)
	}
	if ccf.Item != nil {
		old, err := decodeEvent(ccf.Item)
		if err != nil {
			return false, nil, err
		}
		if ev.Receipt != "" && old.Receipt == ev.Receipt {
			return false, old, nil
		}
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       key(pkEvent+ev.Key, skEvent),
		UpdateExpression:          ptr("ADD duplicates :one"),
		ConditionExpression:       ptr("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}},
		ReturnValues:              types.ReturnValueAllNew,
	})
	if err != nil {
		return false, nil, fmt.Errorf("count duplicate of %s: %w", ev.Key, err)
	}
	old, err := decodeEvent(out.Attributes)
	if err != nil {
		return false, nil, err
	}
	return false, old, nil
}

// stages are the timeline entries of the pipeline stages an event item records, for
// those not also written as timeline items (quarantine writes its own "received").
func (ev *Event) stages(have map[string]bool) []TimelineEntry {
	var out []TimelineEntry
	add := func(at time.Time, stage, msg string) {
		if !at.IsZero() && !have[stage] {
			out = append(out, TimelineEntry{At: at, Stage: stage, Message: msg, TraceID: ev.TraceID})
		}
	}
	add(ev.ReceivedAt, StageReceived, "accepted from source "+ev.SourceID)
	add(ev.NormalizedAt, StageNormalized, "format "+ev.Format)
	add(ev.StoredAt, StageStored, "")
	return out
}

func ptrString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func decodeEvent(av map[string]types.AttributeValue) (*Event, error) {
	var it eventItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return nil, fmt.Errorf("decode event: %w", err)
	}
	ev := it.Event
	body, err := unpackBody(it.Body, it.BodyZ)
	if err != nil {
		return nil, fmt.Errorf("decode event %s: %w", it.PK, err)
	}
	ev.Event = body
	ev.Key = strings.TrimPrefix(it.PK, pkEvent)
	var attrs struct {
		ID     string `json:"id"`
		Source string `json:"source"`
		Type   string `json:"type"`
		Time   string `json:"time"`
	}
	if err := json.Unmarshal(body, &attrs); err != nil {
		return nil, fmt.Errorf("decode event %s: its body: %w", it.PK, err)
	}
	ev.ID, ev.Source, ev.Type, ev.Time = attrs.ID, attrs.Source, attrs.Type, attrs.Time
	return &ev, nil
}

func keyOf(eventKey string) map[string]types.AttributeValue { return key(pkEvent+eventKey, skEvent) }

// GetEvent returns the stored event with the key.
func (s *Store) GetEvent(ctx context.Context, eventKey string) (*Event, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: keyOf(eventKey), ConsistentRead: ptr(true)})
	if err != nil {
		return nil, fmt.Errorf("get event %s: %w", eventKey, err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("event %s: %w", eventKey, ErrNotFound)
	}
	ev, err := decodeEvent(out.Item)
	if err != nil {
		return nil, err
	}
	if s.expired(ev.ExpiresAt) {
		return nil, fmt.Errorf("event %s: %w", eventKey, ErrNotFound)
	}
	return ev, nil
}

// AddTimeline appends a step to an event's timeline. Writing the same step twice
// leaves one entry.
func (s *Store) AddTimeline(ctx context.Context, eventKey string, e TimelineEntry) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	e = traced(ctx, e)
	if err := s.put(ctx, timelineItem{keyAttrs{pkEvent + eventKey, timelineSK(e)}, e, s.expiry(e.At)}, ""); err != nil {
		return fmt.Errorf("add %s to timeline of %s: %w", e.Stage, eventKey, err)
	}
	return nil
}

// History is an event's timeline and the state of its deliveries.
type History struct {
	Timeline   []TimelineEntry `json:"timeline"`
	Deliveries []Delivery      `json:"deliveries"`
}

// History returns the timeline of an event, oldest first, and its deliveries.
func (s *Store) History(ctx context.Context, eventKey string) (*History, error) {
	h := &History{Timeline: []TimelineEntry{}, Deliveries: []Delivery{}}
	var start map[string]types.AttributeValue
	var ev *Event
	for {
		out, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:              &s.table,
			KeyConditionExpression: ptr("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": &types.AttributeValueMemberS{Value: pkEvent + eventKey},
			},
			ExclusiveStartKey: start,
			ConsistentRead:    ptr(true),
		})
		if err != nil {
			return nil, fmt.Errorf("query history of %s: %w", eventKey, err)
		}
		for _, av := range out.Items {
			sk := av["sk"].(*types.AttributeValueMemberS).Value
			switch {
			case sk == skEvent:
				if ev, err = decodeEvent(av); err != nil {
					return nil, err
				}
			case strings.HasPrefix(sk, skTimeline):
				var it timelineItem
				if err := attributevalue.UnmarshalMap(av, &it); err != nil {
					return nil, fmt.Errorf("decode timeline of %s: %w", eventKey, err)
				}
				h.Timeline = append(h.Timeline, it.TimelineEntry)
			case strings.HasPrefix(sk, skDelivery):
				var d deliveryItem
				if err := attributevalue.UnmarshalMap(av, &d); err != nil {
					return nil, fmt.Errorf("decode delivery of %s: %w", eventKey, err)
				}
				h.Deliveries = append(h.Deliveries, d.Delivery)
				if d.Delivered != nil {
					h.Timeline = append(h.Timeline, *d.Delivered)
				}
			}
		}
		if out.LastEvaluatedKey == nil {
			break
		}
		start = out.LastEvaluatedKey
	}
	if ev != nil {
		have := map[string]bool{}
		for _, e := range h.Timeline {
			have[e.Stage] = true
		}
		h.Timeline = append(h.Timeline, ev.stages(have)...)
	}
	sort.SliceStable(h.Timeline, func(i, j int) bool { return h.Timeline[i].At.Before(h.Timeline[j].At) })
	return h, nil
}

// claimItem holds a bus detail too large for EventBridge.
type claimItem struct {
	keyAttrs
	Data      []byte `dynamodbav:"data"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

// claimTTL outlives the pipeline dead-letter queue's retention (14 days), so that an
// entry redriven from it still finds the detail it refers to.
const claimTTL = 15 * 24 * time.Hour

// PutClaim stores an oversized bus detail for claimTTL.
func (s *Store) PutClaim(ctx context.Context, id string, detail []byte) error {
	it := claimItem{keyAttrs{pkClaim + id, "CLAIM"}, detail, s.now().Add(claimTTL).Unix()}
	if err := s.put(ctx, it, ""); err != nil {
		return fmt.Errorf("put claim %s: %w", id, err)
	}
	return nil
}

// GetClaim returns a detail stored by PutClaim.
func (s *Store) GetClaim(ctx context.Context, id string) ([]byte, error) {
	var it claimItem
	if err := s.get(ctx, pkClaim+id, "CLAIM", &it); err != nil {
		return nil, fmt.Errorf("get claim %s: %w", id, err)
	}
	return it.Data, nil
}

package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Quarantined is an event that could not be normalized, kept with the reason and the
// payload as the producer sent it, until it is re-submitted or expires.
type Quarantined struct {
	ID         string          `dynamodbav:"qid" json:"id"` // the Event Received entry's id
	At         time.Time       `dynamodbav:"at" json:"at"`
	ReceivedAt time.Time       `dynamodbav:"receivedAt,omitempty" json:"receivedAt,omitzero"`
	Key        string          `dynamodbav:"key,omitempty" json:"key,omitempty"` // the id ingest answered with
	SourceID   string          `dynamodbav:"sourceId,omitempty" json:"sourceId,omitempty"`
	Format     string          `dynamodbav:"format,omitempty" json:"format,omitempty"`
	Reason     string          `dynamodbav:"reason" json:"reason"`
	Raw        json.RawMessage `dynamodbav:"-" json:"raw"`
	RawText    string          `dynamodbav:"raw,omitempty" json:"-"`
	RawPacked  []byte          `dynamodbav:"rawz,omitempty" json:"-"` // deflated, when that is smaller
	// RawBytes is the size of a payload too large to keep whole: Raw is then a JSON
	// string of its beginning (RawTruncated).
	RawBytes     int  `dynamodbav:"rawBytes,omitempty" json:"rawBytes,omitempty"`
	RawTruncated bool `dynamodbav:"rawTruncated,omitempty" json:"rawTruncated,omitempty"`
	// Headers are the request headers the source's mapping read (bus.Hub.Headers),
	// kept so that a re-submission maps the event as it came.
	Headers       map[string]string `dynamodbav:"headers,omitempty" json:"headers,omitempty"`
	Resubmits     int               `dynamodbav:"resubmits,omitempty" json:"resubmits,omitempty"`
	ResubmittedAt time.Time         `dynamodbav:"resubmittedAt,omitempty" json:"resubmittedAt,omitzero"`
}

type quarantineItem struct {
	keyAttrs
	Quarantined
	GSI1PK    string `dynamodbav:"gsi1pk,omitempty"`
	GSI3PK    string `dynamodbav:"gsi3pk"`
	GSISK     string `dynamodbav:"gsisk"`
	ExpiresAt int64  `dynamodbav:"expiresAt,omitempty"`
}

const skQuar = "QUAR"

// Bounds on what a quarantine item keeps, so that it always fits DynamoDB's item: the
// reason, and the payload once deflated (its beginning when even that is too large).
const (
	MaxReason  = 4 << 10
	maxQuarRaw = maxItem - 3*MaxReason - itemReserve
	keptRaw    = 64 << 10 // of a payload too large to keep whole
)

// TruncateReason cuts a reason to MaxReason bytes, at a character boundary.
func TruncateReason(s string) string {
	if len(s) <= MaxReason {
		return s
	}
	n := MaxReason - len("...")
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// packRaw sets how q's payload is stored: as text, deflated, or (too large for the
// item even deflated) its beginning as a JSON string, with its size.
func packRaw(q *Quarantined) {
	text, packed := packBody(q.Raw)
	if len(text)+len(packed) <= maxQuarRaw {
		q.RawText, q.RawPacked = text, packed
		return
	}
	cut := min(keptRaw, len(q.Raw))
	for cut > 0 && !utf8.RuneStart(q.Raw[cut]) {
		cut--
	}
	prefix, _ := json.Marshal(strings.ToValidUTF8(string(q.Raw[:cut]), "\uFFFD"))
	q.RawBytes, q.RawTruncated = len(q.Raw), true
	q.RawText, q.RawPacked = string(prefix), nil
}

// unpackRaw reads a stored payload back into q.Raw.
func unpackRaw(q *Quarantined) error {
	raw, err := unpackBody(q.RawText, q.RawPacked)
	if err != nil {
		return fmt.Errorf("quarantined %s: %w", q.ID, err)
	}
	q.Raw = raw
	return nil
}

// Quarantine keeps an event that could not be normalized and, when its key is known,
// records the reason in the event's timeline, so that GET /events/{id} answers for it.
// q.ID makes it idempotent: a repeated quarantine of the same delivery keeps the first
// record.
func (s *Store) Quarantine(ctx context.Context, q Quarantined) error {
	if q.At.IsZero() {
		q.At = s.now()
	}
	if !json.Valid(q.Raw) {
		// Kept as a JSON string, as Event Received carries a payload that is not JSON.
		b, _ := json.Marshal(string(q.Raw))
		q.Raw = b
	}
	q.Reason = TruncateReason(q.Reason)
	packRaw(&q)
	pos := position(q.At, q.ID)
	it := quarantineItem{
		keyAttrs:    keyAttrs{pkQuar + q.ID, skQuar},
		Quarantined: q,
		GSI3PK:      shardOf(pkAllQuar, q.ID),
		GSISK:       pos,
		ExpiresAt:   s.expiry(q.At),
	}
	if q.SourceID != "" {
		it.GSI1PK = pkQuarBySource + q.SourceID
	}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("encode quarantine %s: %w", q.ID, err)
	}
	items := []types.TransactWriteItem{{Put: &types.Put{
		TableName: &s.table, Item: av, ConditionExpression: ptr("attribute_not_exists(pk)"),
	}}}
	if q.Key != "" {
		var entries []TimelineEntry
		if !q.ReceivedAt.IsZero() {
			entries = append(entries, TimelineEntry{At: q.ReceivedAt, Stage: StageReceived, Message: "accepted from source " + q.SourceID})
		}
		entries = append(entries, TimelineEntry{At: q.At, Stage: StageQuarantined, Message: q.Reason, QuarantineID: q.ID})
		for _, e := range entries {
			e = traced(ctx, e)
			tav, err := attributevalue.MarshalMap(timelineItem{keyAttrs{pkEvent + q.Key, timelineSK(e)}, e, it.ExpiresAt})
			if err != nil {
				return fmt.Errorf("encode timeline of %s: %w", q.Key, err)
			}
			items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: tav}})
		}
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if firstConditionFailed(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("quarantine %s: %w", q.ID, err)
	}
	return nil
}

// firstConditionFailed reports whether err is a transaction cancelled because the
// condition of its first item failed.
func firstConditionFailed(err error) bool {
	return cancelledAt(err, 0) == "ConditionalCheckFailed"
}

// cancelledAt returns the cancellation code of item i of a cancelled transaction, or
// "" when err is not a cancelled transaction.
func cancelledAt(err error, i int) string {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) || len(tce.CancellationReasons) <= i {
		return ""
	}
	return ptrString(tce.CancellationReasons[i].Code)
}

// GetQuarantined returns one quarantined event.
func (s *Store) GetQuarantined(ctx context.Context, id string) (*Quarantined, error) {
	var it quarantineItem
	if err := s.get(ctx, pkQuar+id, skQuar, &it); err != nil {
		return nil, fmt.Errorf("quarantined %s: %w", id, err)
	}
	if s.expired(it.ExpiresAt) {
		return nil, fmt.Errorf("quarantined %s: %w", id, ErrNotFound)
	}
	q := it.Quarantined
	if err := unpackRaw(&q); err != nil {
		return nil, err
	}
	return &q, nil
}

// QuarantineQuery selects quarantined events, newest first; SourceID narrows them to
// one producer source.
type QuarantineQuery struct {
	SourceID string
	Limit    int
	Cursor   string
}

// QuarantinePage is one page of quarantined events.
type QuarantinePage struct {
	Items  []Quarantined `json:"items"`
	Cursor string        `json:"cursor,omitempty"`
}

// ListQuarantine returns quarantined events, newest first.
func (s *Store) ListQuarantine(ctx context.Context, q QuarantineQuery) (*QuarantinePage, error) {
	after, err := decodePosition(q.Cursor)
	if err != nil {
		return nil, err
	}
	rq := rangeQuery{
		lo: minPosition, hi: maxPosition, after: after, limit: clampLimit(q.Limit),
		filter: notExpired, values: s.notExpiredValues(),
		index: gsi3, pkAttr: "gsi3pk", skAttr: "gsisk", partitions: allShards(pkAllQuar),
	}
	if q.SourceID != "" {
		rq.index, rq.pkAttr, rq.skAttr, rq.partitions = gsi1, "gsi1pk", "gsisk", []string{pkQuarBySource + q.SourceID}
	}
	items, next, err := s.run(ctx, rq)
	if err != nil {
		return nil, err
	}
	page := &QuarantinePage{Items: make([]Quarantined, 0, len(items)), Cursor: encodePosition(next)}
	for _, it := range items {
		var qi quarantineItem
		if err := attributevalue.UnmarshalMap(it.av, &qi); err != nil {
			return nil, fmt.Errorf("decode quarantined: %w", err)
		}
		if err := unpackRaw(&qi.Quarantined); err != nil {
			return nil, err
		}
		page.Items = append(page.Items, qi.Quarantined)
	}
	return page, nil
}

// MarkResubmitted records that a quarantined event was sent through normalization
// again, on the quarantine record and in the event's timeline.
func (s *Store) MarkResubmitted(ctx context.Context, id, format string) error {
	now := s.now().UTC()
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       key(pkQuar+id, skQuar),
		UpdateExpression:          ptr("SET resubmittedAt = :at ADD resubmits :one"),
		ConditionExpression:       ptr("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": str(ts(now)), ":one": num(1)},
		ReturnValues:              types.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		return fmt.Errorf("quarantined %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("mark %s resubmitted: %w", id, err)
	}
	if k := attrString(out.Attributes, "key"); k != "" {
		return s.AddTimeline(ctx, k, TimelineEntry{At: now, Stage: StageResubmitted, Message: "re-submitted with format " + format, QuarantineID: id})
	}
	return nil
}

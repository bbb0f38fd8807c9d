package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventhub/eventhub/shared/fault"
)

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// Delivery is the state of one event's delivery to one subscription. Attempts are
// claimed one at a time: Attempt is the number of the latest attempt and InFlight says
// whether it is still running (until LeaseUntil) or has finished.
type Delivery struct {
	Key            string    `dynamodbav:"key" json:"key"`
	SubscriptionID string    `dynamodbav:"subscriptionId" json:"subscriptionId"`
	WebhookID      string    `dynamodbav:"webhookId" json:"webhookId"`
	Status         string    `dynamodbav:"status" json:"status"`
	Attempt        int       `dynamodbav:"attempt" json:"attempts"`
	InFlight       bool      `dynamodbav:"inFlight" json:"-"`
	LeaseUntil     int64     `dynamodbav:"leaseUntil" json:"-"`
	NextAt         string    `dynamodbav:"nextAt,omitempty" json:"nextAt,omitempty"` // RFC 3339, when a retry is due
	LastStatus     int       `dynamodbav:"lastStatus,omitempty" json:"lastStatus,omitempty"`
	LastError      string    `dynamodbav:"lastError,omitempty" json:"lastError,omitempty"`
	UpdatedAt      time.Time `dynamodbav:"updatedAt" json:"updatedAt"`
	// LatencyMs is the HTTP exchange of the attempt that delivered (listings only).
	LatencyMs int64 `dynamodbav:"-" json:"latencyMs,omitempty"`
}

type deliveryItem struct {
	keyAttrs
	Delivery
	// Delivered is the timeline entry of the attempt that delivered, kept on the
	// delivery item by FinishAttempt rather than as an item of its own.
	Delivered *TimelineEntry `dynamodbav:"delivered,omitempty"`
	GSI1PK    string         `dynamodbav:"gsi1pk"`
	GSISK     string         `dynamodbav:"gsisk"`
	ExpiresAt int64          `dynamodbav:"expiresAt,omitempty"`
}

func deliveryKey(eventKey, subID string) map[string]types.AttributeValue {
	return key(pkEvent+eventKey, skDelivery+subID)
}

// ClaimAttempt takes attempt number attempt of the delivery of event eventKey to
// subscription subID for the duration of lease. It succeeds while the delivery is
// pending and the previous attempt has finished, or when the invocation holding the
// previous or the same attempt died (its lease ran out). Attempt 1 creates the delivery. A
// false result means another invocation owns this step or it is already done: the
// caller must not deliver.
func (s *Store) ClaimAttempt(ctx context.Context, eventKey, subID, webhookID string, attempt int, lease time.Duration) (bool, error) {
	now := s.now()
	vals := map[string]types.AttributeValue{
		":k":       num(attempt),
		":prev":    num(attempt - 1),
		":t":       &types.AttributeValueMemberBOOL{Value: true},
		":f":       &types.AttributeValueMemberBOOL{Value: false},
		":now":     num64(now.Unix()),
		":lease":   num64(now.Add(lease).Unix()),
		":pending": str(DeliveryPending),
		":updated": str(ts(now)),
	}
	// A claim leaves the index alone: FinishAttempt files the delivery under its new
	// status, so that an attempt costs two item writes and one index write, not four.
	// An attempt in flight is listed under the status it had before (none for the
	// first).
	set := "SET attempt = :k, inFlight = :t, leaseUntil = :lease, updatedAt = :updated"
	// The previous attempt finished; or it died after scheduling this one (its lease ran
	// out with the retry already queued); or this attempt's own claimant died.
	cond := "#st = :pending AND ((attempt = :prev AND inFlight = :f) OR (attempt = :prev AND inFlight = :t AND leaseUntil < :now) OR (attempt = :k AND inFlight = :t AND leaseUntil < :now))"
	if attempt == 1 {
		set += ", #st = if_not_exists(#st, :pending), webhookId = if_not_exists(webhookId, :wh), #key = :key, subscriptionId = :sub, expiresAt = if_not_exists(expiresAt, :exp)"
		cond = "attribute_not_exists(pk) OR (" + cond + ")"
		vals[":wh"] = str(webhookID)
		vals[":key"] = str(eventKey)
		vals[":sub"] = str(subID)
		vals[":exp"] = num64(s.expiry(now))
	}
	names := map[string]string{"#st": "status"}
	if attempt == 1 {
		names["#key"] = "key"
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       deliveryKey(eventKey, subID),
		UpdateExpression:          &set,
		ConditionExpression:       &cond,
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: vals,
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim attempt %d of %s to %s: %w", attempt, eventKey, subID, err)
	}
	return true, nil
}

// Outcome is how a delivery attempt ended.
type Outcome struct {
	Status     string    // DeliveryDelivered, DeliveryPending (a retry is scheduled) or DeliveryFailed
	NextAt     time.Time // when the retry is due, for DeliveryPending
	HTTPStatus int
	Error      string
	// Entry is the attempt's timeline entry, for DeliveryDelivered: it is written with
	// the delivery's new state, so that a delivery that succeeds costs no timeline
	// item. Attempts that fail keep their own timeline items (AddTimeline), response
	// excerpts and all, and keep the delivery item small across retries.
	Entry *TimelineEntry
}

// FinishAttempt records the end of an attempt claimed with ClaimAttempt.
func (s *Store) FinishAttempt(ctx context.Context, eventKey, subID string, attempt int, o Outcome) error {
	now := s.now()
	vals := map[string]types.AttributeValue{
		":k":       num(attempt),
		":t":       &types.AttributeValueMemberBOOL{Value: true},
		":f":       &types.AttributeValueMemberBOOL{Value: false},
		":status":  str(o.Status),
		":updated": str(ts(now)),
		":gsi1pk":  str(pkDeliveriesOf + subID),
		":gsisk":   str(o.Status + "#" + sortable(now)),
		":ls":      num(o.HTTPStatus),
		":le":      str(o.Error),
		":next":    str(ts(o.NextAt)),
	}
	set := "SET #st = :status, inFlight = :f, updatedAt = :updated, gsi1pk = :gsi1pk, gsisk = :gsisk, lastStatus = :ls, lastError = :le, nextAt = :next"
	if o.Entry != nil {
		e := traced(ctx, *o.Entry)
		if e.At.IsZero() {
			e.At = now
		}
		av, err := attributevalue.Marshal(e)
		if err != nil {
			return fmt.Errorf("finish attempt %d of %s to %s: encode its timeline entry: %w", attempt, eventKey, subID, err)
		}
		set += ", delivered = :entry"
		vals[":entry"] = av
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       deliveryKey(eventKey, subID),
		UpdateExpression:          &set,
		ConditionExpression:       ptr("attempt = :k AND inFlight = :t"),
		ExpressionAttributeNames:  map[string]string{"#st": "status"},
		ExpressionAttributeValues: vals,
	})
	if isConditionFailed(err) {
		return fmt.Errorf("finish attempt %d of %s to %s: attempt no longer owned", attempt, eventKey, subID)
	}
	if err != nil {
		return fmt.Errorf("finish attempt %d of %s to %s: %w", attempt, eventKey, subID, err)
	}
	return nil
}

// GetDelivery returns the delivery of an event to a subscription.
func (s *Store) GetDelivery(ctx context.Context, eventKey, subID string) (*Delivery, error) {
	var it deliveryItem
	if err := s.get(ctx, pkEvent+eventKey, skDelivery+subID, &it); err != nil {
		return nil, fmt.Errorf("delivery of %s to %s: %w", eventKey, subID, err)
	}
	return &it.Delivery, nil
}

func num(n int) types.AttributeValue { return &types.AttributeValueMemberN{Value: strconv.Itoa(n)} }
func num64(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

// ReopenAttempt claims attempt number attempt of a delivery that failed after attempt
// number attempt-1, making it pending again: an operator's retry of a failed delivery.
// A false result means the delivery is not in that state (already reopened, or not
// failed), and the caller must not deliver.
func (s *Store) ReopenAttempt(ctx context.Context, eventKey, subID string, attempt int, lease time.Duration) (bool, error) {
	now := s.now()
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &s.table,
		Key:                      deliveryKey(eventKey, subID),
		UpdateExpression:         ptr("SET #st = :pending, attempt = :k, inFlight = :t, leaseUntil = :lease, updatedAt = :updated, gsisk = :gsisk"),
		ConditionExpression:      ptr("#st = :failed AND attempt = :prev AND inFlight = :f"),
		ExpressionAttributeNames: map[string]string{"#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":k":       num(attempt),
			":prev":    num(attempt - 1),
			":t":       &types.AttributeValueMemberBOOL{Value: true},
			":f":       &types.AttributeValueMemberBOOL{Value: false},
			":lease":   num64(now.Add(lease).Unix()),
			":pending": str(DeliveryPending),
			":failed":  str(DeliveryFailed),
			":updated": str(ts(now)),
			":gsisk":   str(DeliveryPending + "#" + sortable(now)),
		},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reopen attempt %d of %s to %s: %w", attempt, eventKey, subID, err)
	}
	return true, nil
}

// DeliveryQuery selects deliveries of one subscription: by status (all when empty),
// whose status last changed at or after Since, newest first.
type DeliveryQuery struct {
	SubscriptionID string
	Status         string
	Since          time.Time
	Limit          int    // at most this many (default and maximum 100)
	Cursor         string // from the previous page's DeliveryPage.Next
}

// DeliveryPage is one page of deliveries; Next is empty on the last page.
type DeliveryPage struct {
	Deliveries []Delivery `json:"deliveries"`
	Next       string     `json:"next,omitempty"`
}

// ListDeliveries returns deliveries of a subscription through the gsi1 index, where
// each delivery is filed under its subscription by status and the time it got it.
func (s *Store) ListDeliveries(ctx context.Context, q DeliveryQuery) (*DeliveryPage, error) {
	if q.Limit <= 0 || q.Limit > 100 {
		q.Limit = 100
	}
	vals := map[string]types.AttributeValue{":pk": str(pkDeliveriesOf + q.SubscriptionID)}
	cond := "gsi1pk = :pk"
	switch {
	case q.Status != "":
		// gsisk is <status>#<sortable time>; '~' sorts after every character of a time.
		cond += " AND gsisk BETWEEN :lo AND :hi"
		lo := q.Status + "#"
		if !q.Since.IsZero() {
			lo += sortable(q.Since)
		}
		vals[":lo"], vals[":hi"] = str(lo), str(q.Status+"#~")
	case !q.Since.IsZero():
		return nil, fault.At("since", "needs a status")
	}
	var start map[string]types.AttributeValue
	if q.Cursor != "" {
		var err error
		// A cursor names a place in this listing's range of the index, or none.
		lo, hi := attrString(vals, ":lo"), attrString(vals, ":hi")
		if start, err = decodeCursor(q.Cursor); err != nil || attrString(start, "gsi1pk") != pkDeliveriesOf+q.SubscriptionID ||
			(q.Status != "" && (attrString(start, "gsisk") < lo || attrString(start, "gsisk") > hi)) {
			return nil, fault.At("cursor", "not a cursor this API returned")
		}
	}
	page := &DeliveryPage{Deliveries: []Delivery{}}
	for len(page.Deliveries) < q.Limit {
		out, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 &s.table,
			IndexName:                 ptr("gsi1"),
			KeyConditionExpression:    &cond,
			ExpressionAttributeValues: vals,
			ExclusiveStartKey:         start,
			ScanIndexForward:          ptr(false),
			Limit:                     ptr(int32(q.Limit - len(page.Deliveries))),
		})
		if err != nil {
			return nil, fmt.Errorf("list deliveries of %s: %w", q.SubscriptionID, err)
		}
		items, err := s.hydrate(ctx, out.Items)
		if err != nil {
			return nil, fmt.Errorf("list deliveries of %s: %w", q.SubscriptionID, err)
		}
		for _, av := range items {
			var it deliveryItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return nil, fmt.Errorf("decode delivery of %s: %w", q.SubscriptionID, err)
			}
			// The index lags the table: an entry may name a status the delivery has left.
			if !s.expired(it.ExpiresAt) && (q.Status == "" || it.Status == q.Status) {
				if it.Delivered != nil {
					it.Delivery.LatencyMs = it.Delivered.LatencyMs
				}
				page.Deliveries = append(page.Deliveries, it.Delivery)
			}
		}
		start = out.LastEvaluatedKey
		if start == nil {
			return page, nil
		}
	}
	next, err := encodeCursor(start)
	if err != nil {
		return nil, err
	}
	page.Next = next
	return page, nil
}

// A cursor is the query's LastEvaluatedKey (string attributes only) as base64 JSON.
func encodeCursor(k map[string]types.AttributeValue) (string, error) {
	m := map[string]string{}
	for name, v := range k {
		s, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			return "", fmt.Errorf("cursor attribute %s is not a string", name)
		}
		m[name] = s.Value
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func decodeCursor(c string) (map[string]types.AttributeValue, error) {
	if len(c) > 4*maxCursor {
		return nil, errors.New("cursor too long")
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, err
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	out := map[string]types.AttributeValue{}
	for _, name := range []string{"pk", "sk", "gsi1pk", "gsisk"} {
		v, ok := m[name]
		if !ok || v == "" || len(v) > 1024 || !utf8.ValidString(v) {
			return nil, errors.New("cursor lacks " + name)
		}
		out[name] = str(v)
	}
	return out, nil
}

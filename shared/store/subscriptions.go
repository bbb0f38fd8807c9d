package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventhub/eventhub/shared/fault"
)

// Delivery modes of a subscription.
const (
	ModeCloudEvents = "cloudevents" // the CloudEvent as application/cloudevents+json; any 2xx acknowledges
	ModeIUAP        = "iuap"        // yonyou iuap listener form fields; only {"success":"true"} acknowledges
)

// Reasons a subscription was disabled.
const (
	DisabledByOperator = "operator" // through the API
	DisabledGone       = "gone"     // the endpoint answered 410 Gone
	DisabledFailing    = "failing"  // every attempt failed for the configured period
)

// Subscription is a webhook endpoint that receives the stored events its pattern
// matches. Pattern is EventBridge pattern syntax over the stored CloudEvent.
//
// Secrets[0] is the current signing secret; during a rotation the previous one is
// Secrets[1] and signs too until SecretGraceUntil. FailingSince is when the first of an
// unbroken run of failed attempts happened (nil after a success); DisabledReason and
// DisabledAt say why and when a disabled subscription was disabled.
type Subscription struct {
	ID               string            `dynamodbav:"id" json:"id"`
	Name             string            `dynamodbav:"name" json:"name"`
	URL              string            `dynamodbav:"url" json:"url"`
	Pattern          string            `dynamodbav:"pattern" json:"-"`
	Mode             string            `dynamodbav:"mode" json:"mode"`
	Enabled          bool              `dynamodbav:"enabled" json:"enabled"`
	Secrets          []string          `dynamodbav:"secrets" json:"-"`
	SecretGraceUntil *time.Time        `dynamodbav:"secretGraceUntil,omitempty" json:"secretGraceUntil,omitempty"`
	Retry            []string          `dynamodbav:"retry,omitempty" json:"retry,omitempty"`
	Headers          map[string]string `dynamodbav:"headers,omitempty" json:"headers,omitempty"`
	TimeoutMs        int               `dynamodbav:"timeoutMs,omitempty" json:"timeoutMs,omitempty"`
	Group            string            `dynamodbav:"group,omitempty" json:"group,omitempty"`
	Order            int               `dynamodbav:"order,omitempty" json:"order,omitempty"`
	FailingSince     *time.Time        `dynamodbav:"failingSince,omitempty" json:"failingSince,omitempty"`
	DisabledReason   string            `dynamodbav:"disabledReason,omitempty" json:"disabledReason,omitempty"`
	DisabledAt       *time.Time        `dynamodbav:"disabledAt,omitempty" json:"disabledAt,omitempty"`
	CreatedAt        time.Time         `dynamodbav:"createdAt" json:"createdAt"`
	UpdatedAt        time.Time         `dynamodbav:"updatedAt" json:"updatedAt"`
}

// SigningSecrets returns the secrets that sign a message sent at now: the current one,
// and the previous one while its grace period lasts.
func (s *Subscription) SigningSecrets(now time.Time) []string {
	if len(s.Secrets) > 1 && (s.SecretGraceUntil == nil || !now.Before(*s.SecretGraceUntil)) {
		return s.Secrets[:1]
	}
	return s.Secrets
}

type subscriptionItem struct {
	keyAttrs
	Subscription
}

// CreateSubscription stores a new subscription; its id must be unused.
func (s *Store) CreateSubscription(ctx context.Context, sub Subscription) error {
	err := s.put(ctx, subscriptionItem{keyAttrs{pkSubs, sub.ID}, sub}, "attribute_not_exists(pk)")
	if isConditionFailed(err) {
		return fault.New(fault.Conflict, "subscription %s already exists", sub.ID)
	}
	if err != nil {
		return fmt.Errorf("create subscription %s: %w", sub.ID, err)
	}
	return nil
}

// GetSubscription returns one subscription.
func (s *Store) GetSubscription(ctx context.Context, id string) (*Subscription, error) {
	var it subscriptionItem
	if err := s.get(ctx, pkSubs, id, &it); err != nil {
		return nil, fmt.Errorf("subscription %s: %w", id, err)
	}
	return &it.Subscription, nil
}

// ListSubscriptions returns every subscription, ordered by id.
func (s *Store) ListSubscriptions(ctx context.Context) ([]Subscription, error) {
	subs, err := listAll(ctx, s, pkSubs, func(it *subscriptionItem) Subscription { return it.Subscription })
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	return subs, nil
}

// DeleteSubscription removes a subscription.
func (s *Store) DeleteSubscription(ctx context.Context, id string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:           &s.table,
		Key:                 key(pkSubs, id),
		ConditionExpression: ptr("attribute_exists(pk)"),
	})
	if isConditionFailed(err) {
		return fmt.Errorf("subscription %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("delete subscription %s: %w", id, err)
	}
	return nil
}

// UpdateSubscription replaces a subscription, provided it has not changed since it was
// read: sub.UpdatedAt is the new version and prev the version that was read. A
// concurrent change is a Conflict.
func (s *Store) UpdateSubscription(ctx context.Context, sub Subscription, prev time.Time) error {
	av, err := attributevalue.MarshalMap(subscriptionItem{keyAttrs{pkSubs, sub.ID}, sub})
	if err != nil {
		return fmt.Errorf("encode subscription %s: %w", sub.ID, err)
	}
	prevAV, err := attributevalue.Marshal(prev)
	if err != nil {
		return fmt.Errorf("encode subscription %s version: %w", sub.ID, err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 &s.table,
		Item:                      av,
		ConditionExpression:       ptr("attribute_exists(pk) AND updatedAt = :prev"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":prev": prevAV},
	})
	if isConditionFailed(err) {
		if _, gerr := s.GetSubscription(ctx, sub.ID); gerr != nil {
			return gerr
		}
		return fault.New(fault.Conflict, "subscription %s changed while it was being updated: read it again and retry", sub.ID)
	}
	if err != nil {
		return fmt.Errorf("update subscription %s: %w", sub.ID, err)
	}
	return nil
}

// NoteFailure records a failed delivery attempt to a subscription's endpoint and
// returns since when the endpoint has been failing without a success in between.
func (s *Store) NoteFailure(ctx context.Context, id string, at time.Time) (time.Time, error) {
	atAV, err := attributevalue.Marshal(at.UTC())
	if err != nil {
		return time.Time{}, err
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       key(pkSubs, id),
		UpdateExpression:          ptr("SET failingSince = if_not_exists(failingSince, :at)"),
		ConditionExpression:       ptr("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": atAV},
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	if isConditionFailed(err) {
		return time.Time{}, fmt.Errorf("subscription %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("note failure of subscription %s: %w", id, err)
	}
	var since time.Time
	if v, ok := out.Attributes["failingSince"]; ok {
		if err := attributevalue.Unmarshal(v, &since); err != nil {
			return time.Time{}, fmt.Errorf("decode failingSince of %s: %w", id, err)
		}
	}
	return since, nil
}

// NoteSuccess ends a subscription's run of failures.
func (s *Store) NoteSuccess(ctx context.Context, id string) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           &s.table,
		Key:                 key(pkSubs, id),
		UpdateExpression:    ptr("REMOVE failingSince"),
		ConditionExpression: ptr("attribute_exists(failingSince)"),
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("note success of subscription %s: %w", id, err)
	}
	return nil
}

// DisableSubscription turns an enabled subscription off for the reason. It reports
// whether this call disabled it (false when it was already disabled or is gone).
func (s *Store) DisableSubscription(ctx context.Context, id, reason string, at time.Time) (bool, error) {
	atAV, err := attributevalue.Marshal(at.UTC())
	if err != nil {
		return false, err
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       key(pkSubs, id),
		UpdateExpression:          ptr("SET enabled = :f, disabledReason = :r, disabledAt = :at, updatedAt = :at"),
		ConditionExpression:       ptr("attribute_exists(pk) AND enabled = :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":f": &types.AttributeValueMemberBOOL{Value: false}, ":t": &types.AttributeValueMemberBOOL{Value: true}, ":r": str(reason), ":at": atAV},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("disable subscription %s: %w", id, err)
	}
	return true, nil
}

package store

import (
	"context"
	"errors"
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

// The subscriptions' version: a counter that every change of a subscription
// increments in the same transaction (its endpoint-health changes right after), so
// that a reader that keeps the subscriptions learns with one small read whether they
// changed (SubscriptionsVersion), instead of reading them all again.
const (
	pkSubsVersion = "SUBSVER"
	skSubsVersion = "VERSION"
)

// bumpVersion is the transaction item that increments the subscriptions' version.
func (s *Store) bumpVersion() types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 &s.table,
		Key:                       key(pkSubsVersion, skSubsVersion),
		UpdateExpression:          ptr("ADD version :one"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}},
	}}
}

// SubscriptionsVersion returns the subscriptions' version (0 before the first
// change): read strongly consistent, so a version read after a change has committed
// is the changed one. Read it before ListSubscriptions, then a change that commits in
// between shows as a version newer than the one kept.
func (s *Store) SubscriptionsVersion(ctx context.Context) (int64, error) {
	var it struct {
		Version int64 `dynamodbav:"version"`
	}
	err := s.get(ctx, pkSubsVersion, skSubsVersion, &it)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("subscriptions version: %w", err)
	}
	return it.Version, nil
}

// writeSubscription runs one write of a subscription item with the version's
// increment, and reports whether the write's condition failed.
func (s *Store) writeSubscription(ctx context.Context, w types.TransactWriteItem) (conditionFailed bool, err error) {
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{w, s.bumpVersion()}})
	if failed(err, 0) {
		return true, nil
	}
	return false, err
}

// CreateSubscription stores a new subscription; its id must be unused.
func (s *Store) CreateSubscription(ctx context.Context, sub Subscription) error {
	av, err := attributevalue.MarshalMap(subscriptionItem{keyAttrs{pkSubs, sub.ID}, sub})
	if err != nil {
		return fmt.Errorf("encode subscription %s: %w", sub.ID, err)
	}
	exists, err := s.writeSubscription(ctx, types.TransactWriteItem{Put: &types.Put{
		TableName: &s.table, Item: av, ConditionExpression: ptr("attribute_not_exists(pk)"),
	}})
	if exists {
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
	missing, err := s.writeSubscription(ctx, types.TransactWriteItem{Delete: &types.Delete{
		TableName:           &s.table,
		Key:                 key(pkSubs, id),
		ConditionExpression: ptr("attribute_exists(pk)"),
	}})
	if missing {
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
	changed, err := s.writeSubscription(ctx, types.TransactWriteItem{Put: &types.Put{
		TableName:                 &s.table,
		Item:                      av,
		ConditionExpression:       ptr("attribute_exists(pk) AND updatedAt = :prev"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":prev": prevAV},
	}})
	if changed {
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
// returns since when the endpoint has been failing without a success in between. The
// failure that starts a run increments the subscriptions' version.
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
	if since.Equal(at.UTC()) { // this failure started the run
		if err := s.bump(ctx); err != nil {
			return since, fmt.Errorf("note failure of subscription %s: %w", id, err)
		}
	}
	return since, nil
}

// bump increments the subscriptions' version on its own, after a change of an
// endpoint's health: its readers learn it late if this fails (the caller logs it),
// which costs at most a needless NoteSuccess or a missed one.
func (s *Store) bump(ctx context.Context) error {
	u := s.bumpVersion().Update
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression, ExpressionAttributeValues: u.ExpressionAttributeValues,
	})
	if err != nil {
		return fmt.Errorf("increment the subscriptions version: %w", err)
	}
	return nil
}

// NoteSuccess ends a subscription's run of failures, and increments the
// subscriptions' version if there was one.
func (s *Store) NoteSuccess(ctx context.Context, id string) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           &s.table,
		Key:                 key(pkSubs, id),
		UpdateExpression:    ptr("REMOVE failingSince"),
		ConditionExpression: ptr("attribute_exists(failingSince)"),
	})
	if isConditionFailed(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("note success of subscription %s: %w", id, err)
	}
	return s.bump(ctx)
}

// DisableSubscription turns an enabled subscription off for the reason. It reports
// whether this call disabled it (false when it was already disabled or is gone).
func (s *Store) DisableSubscription(ctx context.Context, id, reason string, at time.Time) (bool, error) {
	atAV, err := attributevalue.Marshal(at.UTC())
	if err != nil {
		return false, err
	}
	off, err := s.writeSubscription(ctx, types.TransactWriteItem{Update: &types.Update{
		TableName:                 &s.table,
		Key:                       key(pkSubs, id),
		UpdateExpression:          ptr("SET enabled = :f, disabledReason = :r, disabledAt = :at, updatedAt = :at"),
		ConditionExpression:       ptr("attribute_exists(pk) AND enabled = :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":f": &types.AttributeValueMemberBOOL{Value: false}, ":t": &types.AttributeValueMemberBOOL{Value: true}, ":r": str(reason), ":at": atAV},
	}})
	if off {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("disable subscription %s: %w", id, err)
	}
	return true, nil
}

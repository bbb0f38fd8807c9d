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

// Subscription is a webhook endpoint that receives the stored events its pattern
// matches. Pattern is EventBridge pattern syntax over the stored CloudEvent.
type Subscription struct {
	ID        string            `dynamodbav:"id" json:"id"`
	Name      string            `dynamodbav:"name" json:"name"`
	URL       string            `dynamodbav:"url" json:"url"`
	Pattern   string            `dynamodbav:"pattern" json:"-"`
	Mode      string            `dynamodbav:"mode" json:"mode"`
	Enabled   bool              `dynamodbav:"enabled" json:"enabled"`
	Secrets   []string          `dynamodbav:"secrets" json:"-"`
	Retry     []string          `dynamodbav:"retry,omitempty" json:"retry,omitempty"`
	Headers   map[string]string `dynamodbav:"headers,omitempty" json:"headers,omitempty"`
	TimeoutMs int               `dynamodbav:"timeoutMs,omitempty" json:"timeoutMs,omitempty"`
	Group     string            `dynamodbav:"group,omitempty" json:"group,omitempty"`
	Order     int               `dynamodbav:"order,omitempty" json:"order,omitempty"`
	CreatedAt time.Time         `dynamodbav:"createdAt" json:"createdAt"`
	UpdatedAt time.Time         `dynamodbav:"updatedAt" json:"updatedAt"`
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
	subs := []Subscription{}
	err := s.queryAll(ctx, pkSubs, func(av map[string]types.AttributeValue) error {
		var it subscriptionItem
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return err
		}
		subs = append(subs, it.Subscription)
		return nil
	})
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

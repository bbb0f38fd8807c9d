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

// Source is a registered producer. Its token is stored only as a hash.
type Source struct {
	ID        string    `dynamodbav:"id" json:"id"`
	Name      string    `dynamodbav:"name" json:"name"`
	Format    string    `dynamodbav:"format" json:"format"`
	Enabled   bool      `dynamodbav:"enabled" json:"enabled"`
	TokenHash string    `dynamodbav:"tokenHash" json:"-"`
	CreatedAt time.Time `dynamodbav:"createdAt" json:"createdAt"`
}

type sourceItem struct {
	keyAttrs
	Source
}

type tokenItem struct {
	keyAttrs
	SourceID string `dynamodbav:"sourceId"`
}

// CreateSource stores a new source and the lookup from its token hash.
func (s *Store) CreateSource(ctx context.Context, src Source) error {
	sav, err := attributevalue.MarshalMap(sourceItem{keyAttrs{pkSources, src.ID}, src})
	if err != nil {
		return fmt.Errorf("encode source %s: %w", src.ID, err)
	}
	tav, err := attributevalue.MarshalMap(tokenItem{keyAttrs{pkToken + src.TokenHash, "TOKEN"}, src.ID})
	if err != nil {
		return fmt.Errorf("encode token of %s: %w", src.ID, err)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: sav, ConditionExpression: ptr("attribute_not_exists(pk)")}},
		{Put: &types.Put{TableName: &s.table, Item: tav, ConditionExpression: ptr("attribute_not_exists(pk)")}},
	}})
	if err != nil {
		return fmt.Errorf("create source %s: %w", src.ID, err)
	}
	return nil
}

// SourceByTokenHash returns the source whose token hashes to hash.
func (s *Store) SourceByTokenHash(ctx context.Context, hash string) (*Source, error) {
	var tok tokenItem
	if err := s.get(ctx, pkToken+hash, "TOKEN", &tok); err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	return s.GetSource(ctx, tok.SourceID)
}

// GetSource returns one source.
func (s *Store) GetSource(ctx context.Context, id string) (*Source, error) {
	var it sourceItem
	if err := s.get(ctx, pkSources, id, &it); err != nil {
		return nil, fmt.Errorf("source %s: %w", id, err)
	}
	return &it.Source, nil
}

// ListSources returns every source, ordered by id.
func (s *Store) ListSources(ctx context.Context) ([]Source, error) {
	srcs := []Source{}
	err := s.queryAll(ctx, pkSources, func(av map[string]types.AttributeValue) error {
		var it sourceItem
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return err
		}
		srcs = append(srcs, it.Source)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	return srcs, nil
}

func (s *Store) queryAll(ctx context.Context, pk string, each func(map[string]types.AttributeValue) error) error {
	var start map[string]types.AttributeValue
	for {
		out, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 &s.table,
			KeyConditionExpression:    ptr("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
			ExclusiveStartKey:         start,
			ConsistentRead:            ptr(true),
		})
		if err != nil {
			return err
		}
		for _, av := range out.Items {
			if err := each(av); err != nil {
				return err
			}
		}
		if out.LastEvaluatedKey == nil {
			return nil
		}
		start = out.LastEvaluatedKey
	}
}

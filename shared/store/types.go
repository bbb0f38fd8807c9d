package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// EventType is an entry of the event-type catalog (iuap's pub_eventtype): who owns a
// type, what it means, and optionally the JSON Schema its events' data must satisfy.
type EventType struct {
	Type        string    `dynamodbav:"type" json:"type"`
	Description string    `dynamodbav:"description,omitempty" json:"description,omitempty"`
	Owner       string    `dynamodbav:"owner,omitempty" json:"owner,omitempty"`
	Version     string    `dynamodbav:"version,omitempty" json:"version,omitempty"`
	Schema      string    `dynamodbav:"schema,omitempty" json:"-"` // JSON text
	CreatedAt   time.Time `dynamodbav:"createdAt" json:"createdAt"`
	UpdatedAt   time.Time `dynamodbav:"updatedAt" json:"updatedAt"`
}

type typeItem struct {
	keyAttrs
	EventType
}

const pkTypes = "TYPES"

// PutType creates or replaces a catalog entry, keeping its creation time, and reports
// whether it is new.
func (s *Store) PutType(ctx context.Context, t EventType) (created bool, stored *EventType, err error) {
	now := s.now().UTC()
	t.UpdatedAt = now
	if t.CreatedAt.IsZero() {
		t.CreatedAt = now
	}
	old, err := s.GetType(ctx, t.Type)
	switch {
	case err == nil:
		t.CreatedAt = old.CreatedAt
	case !isNotFound(err):
		return false, nil, err
	}
	if err := s.put(ctx, typeItem{keyAttrs{pkTypes, t.Type}, t}, ""); err != nil {
		return false, nil, fmt.Errorf("put type %s: %w", t.Type, err)
	}
	return old == nil, &t, nil
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// GetType returns one catalog entry.
func (s *Store) GetType(ctx context.Context, name string) (*EventType, error) {
	var it typeItem
	if err := s.get(ctx, pkTypes, name, &it); err != nil {
		return nil, fmt.Errorf("type %s: %w", name, err)
	}
	return &it.EventType, nil
}

// ListTypes returns the whole catalog, ordered by type.
func (s *Store) ListTypes(ctx context.Context) ([]EventType, error) {
	out, err := listAll(ctx, s, pkTypes, func(it *typeItem) EventType { return it.EventType })
	if err != nil {
		return nil, fmt.Errorf("list types: %w", err)
	}
	return out, nil
}

// DeleteType removes a catalog entry; an unknown type is ErrNotFound.
func (s *Store) DeleteType(ctx context.Context, name string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:           &s.table,
		Key:                 key(pkTypes, name),
		ConditionExpression: ptr("attribute_exists(pk)"),
	})
	if isConditionFailed(err) {
		return fmt.Errorf("type %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("delete type %s: %w", name, err)
	}
	return nil
}

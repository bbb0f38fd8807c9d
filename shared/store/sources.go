package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

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

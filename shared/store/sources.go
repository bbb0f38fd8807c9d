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

// Source is a registered producer (a BlueKing plugin instance, an iuap node, ...). Its
// token is stored only as a hash; its signing key, which verifying a signature needs
// in the clear, only in this table (encrypted at rest).
type Source struct {
	ID         string   `dynamodbav:"id" json:"id"`
	Name       string   `dynamodbav:"name" json:"name"`
	Format     string   `dynamodbav:"format" json:"format"`
	Enabled    bool     `dynamodbav:"enabled" json:"enabled"`
	TokenHash  string   `dynamodbav:"tokenHash" json:"-"`
	DataID     int64    `dynamodbav:"dataId,omitempty" json:"dataId,omitempty"` // BlueKing data_id
	AppID      string   `dynamodbav:"appId,omitempty" json:"appId,omitempty"`   // iuap appId (node code)
	DedupeKeys []string `dynamodbav:"dedupeKeys,omitempty" json:"dedupeKeys,omitempty"`
	// OnInvalid is what ingest does with an event of this source that it can read as
	// JSON but not as its format, or that breaks its type's schema or the store's
	// limits: OnInvalidReject ("", the default) answers the producer 4xx;
	// OnInvalidQuarantine accepts it (202) and keeps it in quarantine with the reason,
	// for producers that cannot act on a 4xx (webhooks that drop or retry for ever).
	OnInvalid string `dynamodbav:"onInvalid,omitempty" json:"onInvalid,omitempty"`

	SigningKey          string    `dynamodbav:"signingKey,omitempty" json:"-"`
	PrevSigningKey      string    `dynamodbav:"prevSigningKey,omitempty" json:"-"`
	PrevSigningKeyUntil time.Time `dynamodbav:"prevSigningKeyUntil,omitempty" json:"-"`

	CreatedAt      time.Time `dynamodbav:"createdAt" json:"createdAt"`
	UpdatedAt      time.Time `dynamodbav:"updatedAt,omitempty" json:"updatedAt,omitzero"`
	TokenRotatedAt time.Time `dynamodbav:"tokenRotatedAt,omitempty" json:"tokenRotatedAt,omitzero"`
}

// SigningKeys returns the keys a signature may be made with at now: the current one,
// and the previous one during its grace period after a rotation.
func (s *Source) SigningKeys(now time.Time) []string {
	keys := []string{s.SigningKey}
	if s.PrevSigningKey != "" && now.Before(s.PrevSigningKeyUntil) {
		keys = append(keys, s.PrevSigningKey)
	}
	return keys
}

// What ingest does with an event it cannot read (Source.OnInvalid).
const (
	OnInvalidReject     = "reject"
	OnInvalidQuarantine = "quarantine"
)

type sourceItem struct {
	keyAttrs
	Source
}

// tokenItem maps a token hash to its source. A replaced token keeps working until
// ExpiresAt (Unix seconds; 0: no end), which is also the item's TTL.
type tokenItem struct {
	keyAttrs
	SourceID  string `dynamodbav:"sourceId"`
	ExpiresAt int64  `dynamodbav:"expiresAt,omitempty"`
}

// appItem maps an iuap appId to its source.
type appItem struct {
	keyAttrs
	SourceID string `dynamodbav:"sourceId"`
}

const pkApp = "APPID#"

// CreateSource stores a new source with the lookups from its token hash and appId.
// An appId already in use is a Conflict.
func (s *Store) CreateSource(ctx context.Context, src Source) error {
	sav, err := attributevalue.MarshalMap(sourceItem{keyAttrs{pkSources, src.ID}, src})
	if err != nil {
		return fmt.Errorf("encode source %s: %w", src.ID, err)
	}
	tav, err := attributevalue.MarshalMap(tokenItem{keyAttrs: keyAttrs{pkToken + src.TokenHash, "TOKEN"}, SourceID: src.ID})
	if err != nil {
		return fmt.Errorf("encode token of %s: %w", src.ID, err)
	}
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: sav, ConditionExpression: ptr("attribute_not_exists(pk)")}},
		{Put: &types.Put{TableName: &s.table, Item: tav, ConditionExpression: ptr("attribute_not_exists(pk)")}},
	}
	if src.AppID != "" {
		aav, err := attributevalue.MarshalMap(appItem{keyAttrs{pkApp + src.AppID, "APP"}, src.ID})
		if err != nil {
			return fmt.Errorf("encode appId of %s: %w", src.ID, err)
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: aav, ConditionExpression: ptr("attribute_not_exists(pk)")}})
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if failed(err, 2) {
		return &fault.Error{Code: fault.Conflict, Path: "appId", Message: fmt.Sprintf("appId %q is already used by another source", src.AppID)}
	}
	if err != nil {
		return fmt.Errorf("create source %s: %w", src.ID, err)
	}
	return nil
}

// failed reports whether a transaction was cancelled by the condition of item i.
func failed(err error, i int) bool {
	tce, ok := asCanceled(err)
	return ok && len(tce.CancellationReasons) > i && ptrString(tce.CancellationReasons[i].Code) == "ConditionalCheckFailed"
}

func asCanceled(err error) (*types.TransactionCanceledException, bool) {
	var tce *types.TransactionCanceledException
	ok := errors.As(err, &tce)
	return tce, ok
}

// SourceByTokenHash returns the source whose token hashes to hash; a token replaced
// by a rotation is found until its grace period ends.
func (s *Store) SourceByTokenHash(ctx context.Context, hash string) (*Source, error) {
	var tok tokenItem
	if err := s.get(ctx, pkToken+hash, "TOKEN", &tok); err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	if s.expired(tok.ExpiresAt) {
		return nil, fmt.Errorf("token: %w", ErrNotFound)
	}
	return s.GetSource(ctx, tok.SourceID)
}

// SourceByAppID returns the source registered with the iuap appId.
func (s *Store) SourceByAppID(ctx context.Context, appID string) (*Source, error) {
	var app appItem
	if err := s.get(ctx, pkApp+appID, "APP", &app); err != nil {
		return nil, fmt.Errorf("appId %s: %w", appID, err)
	}
	return s.GetSource(ctx, app.SourceID)
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
	srcs, err := listAll(ctx, s, pkSources, func(it *sourceItem) Source { return it.Source })
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	return srcs, nil
}

// UpdateSource writes a changed source (name, enabled, dedupe keys, signing keys). The
// token and appId cannot change here: RotateToken replaces the token.
func (s *Store) UpdateSource(ctx context.Context, src Source) error {
	src.UpdatedAt = s.now().UTC()
	err := s.put(ctx, sourceItem{keyAttrs{pkSources, src.ID}, src}, "attribute_exists(pk)")
	if isConditionFailed(err) {
		return fmt.Errorf("source %s: %w", src.ID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("update source %s: %w", src.ID, err)
	}
	return nil
}

// RotateToken gives the source a new token (by its hash); the old one keeps working
// until graceUntil (not at all when graceUntil is not after now). It returns the
// updated source.
func (s *Store) RotateToken(ctx context.Context, id, newHash string, graceUntil time.Time) (*Source, error) {
	src, err := s.GetSource(ctx, id)
	if err != nil {
		return nil, err
	}
	old := src.TokenHash
	now := s.now().UTC()
	src.TokenHash, src.TokenRotatedAt, src.UpdatedAt = newHash, now, now
	sav, err := attributevalue.MarshalMap(sourceItem{keyAttrs{pkSources, src.ID}, *src})
	if err != nil {
		return nil, fmt.Errorf("encode source %s: %w", id, err)
	}
	tav, err := attributevalue.MarshalMap(tokenItem{keyAttrs: keyAttrs{pkToken + newHash, "TOKEN"}, SourceID: id})
	if err != nil {
		return nil, fmt.Errorf("encode token of %s: %w", id, err)
	}
	items := []types.TransactWriteItem{
		{Put: &types.Put{
			TableName: &s.table, Item: sav,
			ConditionExpression:       ptr("tokenHash = :old"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":old": str(old)},
		}},
		{Put: &types.Put{TableName: &s.table, Item: tav, ConditionExpression: ptr("attribute_not_exists(pk)")}},
	}
	if graceUntil.After(now) {
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName:                 &s.table,
			Key:                       key(pkToken+old, "TOKEN"),
			UpdateExpression:          ptr("SET expiresAt = :exp"),
			ConditionExpression:       ptr("attribute_exists(pk)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":exp": &types.AttributeValueMemberN{Value: fmt.Sprint(graceUntil.Unix())}},
		}})
	} else {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(pkToken+old, "TOKEN")}})
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if failed(err, 0) {
		return nil, fault.New(fault.Conflict, "source %s was rotated at the same time; try again", id)
	}
	if err != nil {
		return nil, fmt.Errorf("rotate token of %s: %w", id, err)
	}
	return src, nil
}

// Package store keeps eventhub's state in one DynamoDB table: events stored once by
// CloudEvents source and id, their timelines, delivery state, subscriptions, producer
// sources, claim checks, quarantine, replay jobs and alerts. docs/dynamodb.md describes
// the keys and indexes.
package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventhub/eventhub/shared/fault"
)

// DynamoAPI is the part of the DynamoDB client the store uses.
type DynamoAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Store is eventhub's table.
type Store struct {
	db        DynamoAPI
	table     string
	retention time.Duration
	now       func() time.Time
}

// New returns a store on the named table; events expire after retention.
func New(db DynamoAPI, table string, retention time.Duration) *Store {
	return &Store{db: db, table: table, retention: retention, now: time.Now}
}

// WithClock returns a copy of the store that reads time from now (tests).
func (s *Store) WithClock(now func() time.Time) *Store {
	c := *s
	c.now = now
	return &c
}

// ErrNotFound is wrapped by lookups of items that do not exist or have expired.
var ErrNotFound = fault.New(fault.NotFound, "not found")

// Key prefixes. The table's pk/sk and two generic GSIs are shared by every item type.
const (
	pkEvent    = "EVT#"
	skEvent    = "EVENT"
	skTimeline = "TL#"
	skDelivery = "DLV#"
	pkSubs     = "SUBS"
	pkSources  = "SRCS"
	pkToken    = "TOKEN#"
	pkClaim    = "CLAIM#"
	pkQuar     = "QUAR#"
	pkReplay   = "RPL#"
	pkAlert    = "ALERT#"

	// Index partitions. gsi1 and gsi2 are shared by item types; gsi3 holds sharded
	// time-ordered listings (all events, all quarantined events). The three indexes
	// share their sort key attribute, gsisk: an item has the same position in each.
	pkBySource     = "SRC#"    // gsi1: events by CloudEvents source
	pkByType       = "TYPE#"   // gsi2: events by type
	pkAllEvents    = "ALL#"    // gsi3: every event, sharded
	pkAllQuar      = "QALL#"   // gsi3: every quarantined event, sharded
	pkQuarBySource = "QSRC#"   // gsi1: quarantined events by producer source id
	pkAlertsBy     = "ALERTS#" // gsi1: alerts by status
	pkAlerts       = "ALERTS"  // gsi2: every alert
	pkDeliveriesOf = "SUBDLV#" // gsi1: deliveries of a subscription by status
)

// Index names (template.yaml, EventsTable).
const (
	gsi1 = "gsi1"
	gsi2 = "gsi2"
	gsi3 = "gsi3"
)

// shards is the number of gsi3 partitions a time-ordered listing is spread over, so
// that no single index partition takes every write (DynamoDB allows about 1,000 writes
// a second per partition). Reads query every shard and merge. Changing it needs a
// backfill of gsi3pk.
const shards = 8

// shardOf returns the gsi3 partition of the item with the key under the prefix.
func shardOf(prefix, itemKey string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(itemKey))
	return prefix + strconv.Itoa(int(h.Sum32()%shards))
}

// position is an item's place in a time-ordered index: its time, then its key, so that
// positions are unique and their lexical order is time order.
func position(t time.Time, itemKey string) string { return sortable(t) + "#" + itemKey }

type keyAttrs struct {
	PK string `dynamodbav:"pk"`
	SK string `dynamodbav:"sk"`
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk},
		"sk": &types.AttributeValueMemberS{Value: sk},
	}
}

func (s *Store) expiry(from time.Time) int64 {
	if s.retention <= 0 {
		return 0
	}
	return from.Add(s.retention).Unix()
}

// expired reports whether an item with the TTL attribute value exp is past it: DynamoDB
// deletes expired items lazily, so reads filter them.
func (s *Store) expired(exp int64) bool {
	return exp > 0 && exp <= s.now().Unix()
}

func (s *Store) get(ctx context.Context, pk, sk string, v any) error {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.table,
		Key:            key(pk, sk),
		ConsistentRead: ptr(true),
	})
	if err != nil {
		return err
	}
	if out.Item == nil {
		return ErrNotFound
	}
	if err := attributevalue.UnmarshalMap(out.Item, v); err != nil {
		return fmt.Errorf("decode %s %s: %w", pk, sk, err)
	}
	return nil
}

func (s *Store) put(ctx context.Context, item any, condition string) error {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return fmt.Errorf("encode item: %w", err)
	}
	in := &dynamodb.PutItemInput{TableName: &s.table, Item: av}
	if condition != "" {
		in.ConditionExpression = &condition
	}
	_, err = s.db.PutItem(ctx, in)
	return err
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

func ptr[T any](v T) *T { return &v }

// maxItemKey bounds the ids that callers name items by (sources, subscriptions,
// replays, quarantined events): longer ones name nothing, and DynamoDB refuses key
// values over 1,024 bytes (sort keys) with an error that is not the caller's to see.
const maxItemKey = 256

// validItemKey reports whether id can name an item: not empty, at most maxItemKey
// bytes of valid UTF-8.
func validItemKey(id string) bool {
	return id != "" && len(id) <= maxItemKey && utf8.ValidString(id)
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// sortable formats t so that lexical order is time order.
func sortable(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

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

// listAll decodes every item of the partition pk as an I and keeps pick of it.
func listAll[I, T any](ctx context.Context, s *Store, pk string, pick func(*I) T) ([]T, error) {
	out := []T{}
	err := s.queryAll(ctx, pk, func(av map[string]types.AttributeValue) error {
		var it I
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return err
		}
		out = append(out, pick(&it))
		return nil
	})
	return out, err
}

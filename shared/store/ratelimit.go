package store

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A source's token bucket: one item, its tokens as they were at At, and a version
// that every take advances, so that concurrent takes from several functions are
// serialized by a conditional write.
type bucketItem struct {
	keyAttrs
	Tokens  float64 `dynamodbav:"tokens"`
	At      int64   `dynamodbav:"at"` // Unix milliseconds
	Version int64   `dynamodbav:"version"`
	// The bucket of a source that sends nothing goes after a day.
	ExpiresAt int64 `dynamodbav:"expiresAt"`
}

const pkRate = "RATE#"

// maxTakeTries bounds the optimistic retries of one take; each try loses only to a
// take that succeeded.
const maxTakeTries = 25

// TakeTokens takes between need and want tokens from the source's bucket, refilled at
// rl.Rate a second up to rl.Burst since it was last taken from. It returns how many it
// took, or, when fewer than need are there, none and how long until there are.
func (s *Store) TakeTokens(ctx context.Context, sourceID string, need, want int, rl RateLimit) (int, time.Duration, error) {
	for try := 0; ; try++ {
		now := s.now()
		var it bucketItem
		err := s.get(ctx, pkRate+sourceID, "BUCKET", &it)
		fresh := isNotFound(err)
		if err != nil && !fresh {
			return 0, 0, fmt.Errorf("rate bucket of %s: %w", sourceID, err)
		}
		tokens := float64(rl.Burst)
		if !fresh {
			elapsed := max(0, now.UnixMilli()-it.At)
			tokens = min(float64(rl.Burst), it.Tokens+float64(elapsed)/1000*rl.Rate)
		}
		if tokens < float64(need) {
			wait := time.Duration((float64(need) - tokens) / rl.Rate * float64(time.Second))
			return 0, max(wait, time.Millisecond), nil
		}
		take := min(want, int(math.Floor(tokens)))
		next := bucketItem{
			keyAttrs: keyAttrs{pkRate + sourceID, "BUCKET"},
			Tokens:   tokens - float64(take), At: now.UnixMilli(), Version: it.Version + 1,
			ExpiresAt: now.Add(24 * time.Hour).Unix(),
		}
		av, err := attributevalue.MarshalMap(next)
		if err != nil {
			return 0, 0, fmt.Errorf("encode rate bucket of %s: %w", sourceID, err)
		}
		cond := "attribute_not_exists(pk)"
		vals := map[string]types.AttributeValue(nil)
		if !fresh {
			cond, vals = "version = :v", map[string]types.AttributeValue{":v": num64(it.Version)}
		}
		err = s.putIf(ctx, av, cond, vals)
		if err == nil {
			return take, 0, nil
		}
		if !isConditionFailed(err) || try == maxTakeTries-1 {
			return 0, 0, fmt.Errorf("take from the rate bucket of %s: %w", sourceID, err)
		}
		// Another take won: read again after a short, jittered pause.
		if err := sleep(ctx, time.Duration(rand.IntN(5*(try+1))+1)*time.Millisecond); err != nil {
			return 0, 0, err
		}
	}
}

// putIf writes an item on a condition with values.
func (s *Store) putIf(ctx context.Context, item map[string]types.AttributeValue, cond string, vals map[string]types.AttributeValue) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table, Item: item, ConditionExpression: &cond, ExpressionAttributeValues: vals,
	})
	return err
}

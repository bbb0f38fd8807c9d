package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Ingest counters for the console's overview: one small item per minute, in one
// partition per hour, that ingest adds each request's accepted and rejected events to
// (one UpdateItem per request of a known source; requests refused before their source
// is known are counted by the metrics alone, so that strangers cannot make eventhub
// write). The items go after a day.
const pkStats = "STATS#"

// statsTTL is how long a minute's counters are kept.
const statsTTL = 24 * time.Hour

// MinuteCount is what ingest counted in one minute (UTC, "2006-01-02T15:04").
type MinuteCount struct {
	Minute   string `dynamodbav:"minute" json:"minute"`
	Accepted int    `dynamodbav:"accepted" json:"accepted"`
	Rejected int    `dynamodbav:"rejected" json:"rejected"`
}

// CountIngest adds a request's accepted and rejected events to the counters of the
// minute it was received in.
func (s *Store) CountIngest(ctx context.Context, at time.Time, accepted, rejected int) error {
	if accepted == 0 && rejected == 0 {
		return nil
	}
	at = at.UTC()
	minute := at.Format("2006-01-02T15:04")
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table,
		Key: map[string]types.AttributeValue{
			"pk": str(pkStats + at.Format("2006-01-02T15")), "sk": str(minute),
		},
		UpdateExpression:         ptr("ADD accepted :a, rejected :r SET #m = :m, expiresAt = if_not_exists(expiresAt, :exp)"),
		ExpressionAttributeNames: map[string]string{"#m": "minute"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":a": num(accepted), ":r": num(rejected), ":m": str(minute),
			":exp": &types.AttributeValueMemberN{Value: strconv.FormatInt(at.Add(statsTTL).Unix(), 10)},
		},
	})
	if err != nil {
		return fmt.Errorf("count ingest: %w", err)
	}
	return nil
}

// IngestCounts returns the minutes of [since, until) that counted anything, oldest
// first: one Query for each hour the window touches (a window is at most a day).
func (s *Store) IngestCounts(ctx context.Context, since, until time.Time) ([]MinuteCount, error) {
	since, until = since.UTC(), until.UTC()
	if until.Sub(since) > statsTTL {
		since = until.Add(-statsTTL)
	}
	lo, hi := since.Format("2006-01-02T15:04"), until.Format("2006-01-02T15:04")
	out := []MinuteCount{}
	for h := since.Truncate(time.Hour); h.Before(until); h = h.Add(time.Hour) {
		err := s.queryAll(ctx, pkStats+h.Format("2006-01-02T15"), func(av map[string]types.AttributeValue) error {
			var m MinuteCount
			if err := attributevalue.UnmarshalMap(av, &m); err != nil {
				return err
			}
			if m.Minute >= lo && m.Minute <= hi {
				out = append(out, m)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("ingest counts: %w", err)
		}
	}
	return out, nil
}

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

// Replay kinds.
const (
	ReplayEvent  = "event"  // one event, to one or every matching subscription
	ReplayWindow = "window" // every event of a time window that a pattern matches, to one subscription
)

// Replay states, derived from the counters.
const (
	ReplayScanning   = "scanning"   // the window is still being read
	ReplayDelivering = "delivering" // every delivery is queued; some have not finished
	ReplayCompleted  = "completed"
)

// Replay is a job that sends stored events to subscriptions again. Total counts the
// deliveries queued so far; Done and Failed those that finished. Each delivery is
// made once, with the webhook-id of the original deliveries, and recorded in the
// event's timeline.
type Replay struct {
	ID             string    `dynamodbav:"id" json:"id"`
	Kind           string    `dynamodbav:"kind" json:"kind"`
	EventKey       string    `dynamodbav:"eventKey,omitempty" json:"eventId,omitempty"`
	Pattern        string    `dynamodbav:"pattern,omitempty" json:"-"`
	Since          time.Time `dynamodbav:"since,omitempty" json:"since,omitzero"`
	Until          time.Time `dynamodbav:"until,omitempty" json:"until,omitzero"`
	SubscriptionID string    `dynamodbav:"subscriptionId,omitempty" json:"subscriptionId,omitempty"`
	Total          int       `dynamodbav:"total" json:"total"`
	Done           int       `dynamodbav:"done" json:"done"`
	Failed         int       `dynamodbav:"failed" json:"failed"`
	Scanned        int       `dynamodbav:"scanned" json:"scanned"`
	ScanDone       bool      `dynamodbav:"scanDone" json:"-"`
	Cursor         string    `dynamodbav:"cursor" json:"-"` // the scan's position
	CreatedAt      time.Time `dynamodbav:"createdAt" json:"createdAt"`
	UpdatedAt      time.Time `dynamodbav:"updatedAt" json:"updatedAt"`
}

// Status is the job's state.
func (r *Replay) Status() string {
	switch {
	case !r.ScanDone:
		return ReplayScanning
	case r.Done+r.Failed < r.Total:
		return ReplayDelivering
	}
	return ReplayCompleted
}

type replayItem struct {
	keyAttrs
	Replay
	ExpiresAt int64 `dynamodbav:"expiresAt,omitempty"`
}

const skReplay = "REPLAY"

// CreateReplay stores a new replay job.
func (s *Store) CreateReplay(ctx context.Context, r Replay) error {
	now := s.now().UTC()
	r.CreatedAt, r.UpdatedAt = now, now
	err := s.put(ctx, replayItem{keyAttrs{pkReplay + r.ID, skReplay}, r, s.expiry(now)}, "attribute_not_exists(pk)")
	if isConditionFailed(err) {
		return fault.New(fault.Conflict, "replay %s already exists", r.ID)
	}
	if err != nil {
		return fmt.Errorf("create replay %s: %w", r.ID, err)
	}
	return nil
}

// GetReplay returns a replay job.
func (s *Store) GetReplay(ctx context.Context, id string) (*Replay, error) {
	var it replayItem
	if err := s.get(ctx, pkReplay+id, skReplay, &it); err != nil {
		return nil, fmt.Errorf("replay %s: %w", id, err)
	}
	return &it.Replay, nil
}

// AdvanceReplay records one page of a window replay's scan: the scan moves from the
// position from to to (to "" when the window is done), scanned events were read and
// queued deliveries were queued. It reports false, changing nothing, when the scan is
// no longer at from: another worker recorded this page already.
func (s *Store) AdvanceReplay(ctx context.Context, id, from, to string, scanned, queued int) (bool, error) {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           &s.table,
		Key:                 key(pkReplay+id, skReplay),
		UpdateExpression:    ptr("SET #cursor = :to, scanDone = :last, updatedAt = :now ADD #total :queued, #scanned :scanned"),
		ConditionExpression: ptr("#cursor = :from AND scanDone = :f"),
		ExpressionAttributeNames: map[string]string{
			"#cursor": "cursor", "#total": "total", "#scanned": "scanned",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":to": str(to), ":from": str(from), ":last": &types.AttributeValueMemberBOOL{Value: to == ""},
			":f": &types.AttributeValueMemberBOOL{Value: false}, ":now": str(ts(s.now())),
			":queued": num(queued), ":scanned": num(scanned),
		},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("advance replay %s: %w", id, err)
	}
	return true, nil
}

// Replay delivery states.
const (
	replayInFlight = "inflight"
	replayFinished = "finished"
)

// replayDeliveryItem marks one delivery of a replay job, in the event's partition, so
// that a repeated queue message does not deliver twice.
type replayDeliveryItem struct {
	keyAttrs
	State      string `dynamodbav:"state"`
	LeaseUntil int64  `dynamodbav:"leaseUntil"`
	ExpiresAt  int64  `dynamodbav:"expiresAt,omitempty"`
}

func replayDeliveryKey(eventKey, replayID, subID string) map[string]types.AttributeValue {
	return key(pkEvent+eventKey, "RPL#"+replayID+"#"+subID)
}

// ClaimReplayDelivery takes the delivery of an event to a subscription for a replay job
// for the duration of lease. It fails (false) when the delivery is finished, or held
// by an invocation whose lease has not run out; done tells the two apart.
func (s *Store) ClaimReplayDelivery(ctx context.Context, replayID, eventKey, subID string, lease time.Duration) (claimed, done bool, err error) {
	now := s.now()
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           &s.table,
		Key:                 replayDeliveryKey(eventKey, replayID, subID),
		UpdateExpression:    ptr("SET #state = :inflight, leaseUntil = :lease, expiresAt = :exp"),
		ConditionExpression: ptr("attribute_not_exists(pk) OR (#state = :inflight AND leaseUntil < :now)"),
		ExpressionAttributeNames: map[string]string{
			"#state": "state",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":inflight": str(replayInFlight), ":lease": num64(now.Add(lease).Unix()), ":now": num64(now.Unix()),
			":exp": num64(s.expiry(now)),
		},
	})
	if err == nil {
		return true, false, nil
	}
	if !isConditionFailed(err) {
		return false, false, fmt.Errorf("claim replay %s of %s to %s: %w", replayID, eventKey, subID, err)
	}
	var it replayDeliveryItem
	if err := s.get(ctx, pkEvent+eventKey, "RPL#"+replayID+"#"+subID, &it); err != nil {
		return false, false, fmt.Errorf("claim replay %s of %s to %s: %w", replayID, eventKey, subID, err)
	}
	return false, it.State == replayFinished, nil
}

// FinishReplayDelivery records the end of a claimed replay delivery, all at once: the
// claim is finished, the job counts it as done (ok) or failed, and entry joins the
// event's timeline.
func (s *Store) FinishReplayDelivery(ctx context.Context, replayID, eventKey, subID string, ok bool, entry TimelineEntry) error {
	if entry.At.IsZero() {
		entry.At = s.now()
	}
	entry.ReplayID, entry.SubscriptionID = replayID, subID
	if entry.Stage == "" {
		entry.Stage = StageReplay
	}
	tav, err := attributevalue.MarshalMap(timelineItem{keyAttrs{pkEvent + eventKey, timelineSK(entry)}, entry, s.expiry(entry.At)})
	if err != nil {
		return fmt.Errorf("encode timeline of %s: %w", eventKey, err)
	}
	counter := "done"
	if !ok {
		counter = "failed"
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{
			TableName:                 &s.table,
			Key:                       replayDeliveryKey(eventKey, replayID, subID),
			UpdateExpression:          ptr("SET #state = :finished"),
			ConditionExpression:       ptr("#state = :inflight"),
			ExpressionAttributeNames:  map[string]string{"#state": "state"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":finished": str(replayFinished), ":inflight": str(replayInFlight)},
		}},
		{Update: &types.Update{
			TableName:                 &s.table,
			Key:                       key(pkReplay+replayID, skReplay),
			UpdateExpression:          ptr("SET updatedAt = :now ADD #counter :one"),
			ConditionExpression:       ptr("attribute_exists(pk)"),
			ExpressionAttributeNames:  map[string]string{"#counter": counter},
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": str(ts(s.now())), ":one": num(1)},
		}},
		{Put: &types.Put{TableName: &s.table, Item: tav}},
	}})
	if firstConditionFailed(err) {
		return nil // finished by an earlier invocation
	}
	if err != nil {
		return fmt.Errorf("finish replay %s of %s to %s: %w", replayID, eventKey, subID, err)
	}
	return nil
}

package main

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// sentEvent is an event the harness sent, and whether eventhub accepted it.
type sentEvent struct {
	Source, ID, Type string
	Key              string // the key eventhub answered with
	Accepted         bool
}

// storedEvent is an event item read from the table.
type storedEvent struct {
	Key, Source, ID string
}

// deliveryRecord is a delivery item read from the table.
type deliveryRecord struct {
	Key, SubscriptionID, WebhookID, Status string
	Attempt                                int
}

// deadLetter is a message of the delivery dead-letter queue: a delivery notify gave
// up on (its body names the event and the subscription), or a retry message SQS moved
// there after too many receives (it has an attempt number and no webhook id).
type deadLetter struct {
	Key            string `json:"key"`
	SubscriptionID string `json:"subscriptionId"`
	WebhookID      string `json:"webhookId"`
	Attempt        int    `json:"attempt"`
}

// books is everything the ledger is computed from.
type books struct {
	Sent        []sentEvent
	Expected    func(eventType string) []string // subscription ids an event type must reach
	Stored      []storedEvent
	Deliveries  []deliveryRecord
	Acked       map[string]int // webhook-id -> acknowledged requests, over all subscribers
	DeadLetters []deadLetter
	PipelineDLQ int // messages in the pipeline dead-letter queue
}

// Ledger is the outcome of a chaos run. It balances when every accepted event is
// stored exactly once and delivered or dead-lettered for every subscription it
// matches, nothing is pending and nothing is in the pipeline dead-letter queue.
type Ledger struct {
	Sent                 int            `json:"sent"`
	Accepted             int            `json:"accepted"`
	Stored               int            `json:"stored"`
	DuplicatesStored     int            `json:"duplicates_stored"`
	StoredNotAccepted    int            `json:"stored_not_accepted"`
	ExpectedDeliveries   int            `json:"expected_deliveries"`
	Delivered            int            `json:"delivered"`
	DuplicatesDelivered  int            `json:"duplicates_delivered"`
	DeadLettered         int            `json:"dead_lettered"`
	Pending              int            `json:"pending"`
	Lost                 int            `json:"lost"`
	LostEvents           int            `json:"lost_events"`
	LostDeliveries       int            `json:"lost_deliveries"`
	Unexpected           int            `json:"unexpected_deliveries"`
	PipelineDeadLettered int            `json:"pipeline_dead_lettered"`
	RetriesDeadLettered  int            `json:"retry_messages_dead_lettered"`
	FaultsInjected       map[string]int `json:"faults_injected"`
	FaultDetail          map[string]int `json:"fault_detail,omitempty"`
	Problems             []string       `json:"problems,omitempty"` // the first few unbalanced items, for diagnosis
	Balanced             bool           `json:"balanced"`
}

const maxProblems = 20

func (l *Ledger) problem(format string, args ...any) {
	if len(l.Problems) < maxProblems {
		l.Problems = append(l.Problems, fmt.Sprintf(format, args...))
	}
}

// balance computes the ledger from the books.
func balance(b books) Ledger {
	var l Ledger
	l.Sent = len(b.Sent)
	type sourceID struct{ source, id string }
	accepted := map[sourceID]sentEvent{}
	for _, e := range b.Sent {
		if e.Accepted {
			l.Accepted++
			accepted[sourceID{e.Source, e.ID}] = e
		}
	}

	sentType := map[sourceID]string{}
	for _, e := range b.Sent {
		sentType[sourceID{e.Source, e.ID}] = e.Type
	}
	stored := map[sourceID]storedEvent{}
	for _, s := range b.Stored {
		k := sourceID{s.Source, s.ID}
		if _, dup := stored[k]; dup {
			l.DuplicatesStored++
			l.problem("event %s %s stored twice", s.Source, s.ID)
			continue
		}
		stored[k] = s
		if _, ok := accepted[k]; !ok {
			l.StoredNotAccepted++
		}
	}

	deliveries := map[[2]string]deliveryRecord{}
	for _, d := range b.Deliveries {
		deliveries[[2]string{d.Key, d.SubscriptionID}] = d
	}
	dead := map[[2]string]bool{}
	for _, m := range b.DeadLetters {
		if m.WebhookID == "" && m.Attempt > 0 {
			l.RetriesDeadLettered++
			continue
		}
		dead[[2]string{m.Key, m.SubscriptionID}] = true
	}

	expected := map[[2]string]bool{}
	keys := make([]sourceID, 0, len(accepted))
	for k := range accepted {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].id < keys[j].id })
	for _, k := range keys {
		e := accepted[k]
		s, ok := stored[k]
		if !ok {
			l.LostEvents++
			l.problem("event %s %s accepted as %s but not stored", e.Source, e.ID, e.Key)
			continue
		}
		l.Stored++
		if e.Key != "" && s.Key != e.Key {
			l.problem("event %s %s accepted as %s but stored as %s", e.Source, e.ID, e.Key, s.Key)
		}
		for _, sub := range b.Expected(e.Type) {
			l.ExpectedDeliveries++
			pair := [2]string{s.Key, sub}
			expected[pair] = true
			d, ok := deliveries[pair]
			switch {
			case !ok:
				l.LostDeliveries++
				l.problem("event %s to %s: no delivery record", s.Key, sub)
			case d.Status == "delivered" && b.Acked[d.WebhookID] > 0:
				l.Delivered++
				l.DuplicatesDelivered += b.Acked[d.WebhookID] - 1
			case d.Status == "delivered":
				l.LostDeliveries++
				l.problem("event %s to %s: recorded delivered, never acknowledged by the subscriber", s.Key, sub)
			case d.Status == "failed" && dead[pair]:
				l.DeadLettered++
			case d.Status == "failed":
				l.LostDeliveries++
				l.problem("event %s to %s: failed without a dead letter", s.Key, sub)
			default:
				l.Pending++
				l.problem("event %s to %s: still %s at attempt %d", s.Key, sub, d.Status, d.Attempt)
			}
		}
	}
	// Events stored but never acknowledged to the producer (the run stopped while
	// their request was in flight) may be delivered too.
	for k, st := range stored {
		if _, ok := accepted[k]; !ok {
			for _, sub := range b.Expected(sentType[k]) {
				expected[[2]string{st.Key, sub}] = true
			}
		}
	}
	for pair, d := range deliveries {
		if !expected[pair] {
			l.Unexpected++
			l.problem("event %s delivered to %s, which it does not match (%s)", d.Key, d.SubscriptionID, d.Status)
		}
	}
	l.PipelineDeadLettered = b.PipelineDLQ
	l.Lost = l.LostEvents + l.LostDeliveries
	l.Balanced = l.Sent > 0 && l.Accepted == l.Sent && l.Lost == 0 && l.DuplicatesStored == 0 &&
		l.Pending == 0 && l.Unexpected == 0 && l.PipelineDeadLettered == 0
	return l
}

// readTable scans the table for event and delivery items, reading DynamoDB Local
// directly (not through the fault proxy).
func readTable(ctx context.Context, db *dynamodb.Client, table string) ([]storedEvent, []deliveryRecord, error) {
	const segments = 4
	var (
		mu     sync.Mutex
		events []storedEvent
		dels   []deliveryRecord
		errs   = make([]error, segments)
		wg     sync.WaitGroup
	)
	for seg := range segments {
		wg.Go(func() {
			var start map[string]dtypes.AttributeValue
			for {
				out, err := db.Scan(ctx, &dynamodb.ScanInput{
					TableName:            aws.String(table),
					Segment:              aws.Int32(int32(seg)),
					TotalSegments:        aws.Int32(segments),
					ExclusiveStartKey:    start,
					FilterExpression:     aws.String("sk = :ev OR begins_with(sk, :dlv)"),
					ProjectionExpression: aws.String("pk, sk, #key, body, bodyz, subscriptionId, webhookId, #status, attempt"),
					ExpressionAttributeNames: map[string]string{
						"#key": "key", "#status": "status",
					},
					ExpressionAttributeValues: map[string]dtypes.AttributeValue{
						":ev":  &dtypes.AttributeValueMemberS{Value: "EVENT"},
						":dlv": &dtypes.AttributeValueMemberS{Value: "DLV#"},
					},
				})
				if err != nil {
					errs[seg] = fmt.Errorf("scan segment %d: %w", seg, err)
					return
				}
				mu.Lock()
				for _, it := range out.Items {
					if str(it, "sk") == "EVENT" {
						ev, err := eventOf(it)
						if err != nil {
							errs[seg] = err
							mu.Unlock()
							return
						}
						events = append(events, ev)
						continue
					}
					dels = append(dels, deliveryRecord{
						Key: str(it, "key"), SubscriptionID: str(it, "subscriptionId"), WebhookID: str(it, "webhookId"),
						Status: str(it, "status"), Attempt: num(it, "attempt"),
					})
				}
				mu.Unlock()
				if out.LastEvaluatedKey == nil {
					return
				}
				start = out.LastEvaluatedKey
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, nil, err
		}
	}
	return events, dels, nil
}

func str(it map[string]dtypes.AttributeValue, name string) string {
	if v, ok := it[name].(*dtypes.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func num(it map[string]dtypes.AttributeValue, name string) int {
	if v, ok := it[name].(*dtypes.AttributeValueMemberN); ok {
		var n int
		_, _ = fmt.Sscan(v.Value, &n)
		return n
	}
	return 0
}

// readQueue receives every message of a queue and returns the bodies and receipt
// handles. Each receive hides its messages for hide, so that none is read twice. A
// receive whose answer is lost (the SDK then retries it) hides its messages all the
// same: when fewer messages come back than the queue held, readQueue reads again
// once they are visible again, as long as ctx allows.
func readQueue(ctx context.Context, client *sqs.Client, url string, hide time.Duration) (bodies, handles []string, err error) {
	want, err := queueDepth(ctx, client, url)
	if err != nil {
		return nil, nil, err
	}
	seen := map[string]bool{}
	for round := 0; ; round++ {
		for empty := 0; empty < 3; {
			out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
				QueueUrl: aws.String(url), MaxNumberOfMessages: 10, VisibilityTimeout: int32(hide / time.Second),
			})
			if err != nil {
				return nil, nil, fmt.Errorf("read %s: %w", url, err)
			}
			if len(out.Messages) == 0 {
				empty++
				continue
			}
			empty = 0
			for _, m := range out.Messages {
				if id := aws.ToString(m.MessageId); !seen[id] {
					seen[id] = true
					bodies = append(bodies, aws.ToString(m.Body))
					handles = append(handles, aws.ToString(m.ReceiptHandle))
				}
			}
		}
		if len(bodies) >= want || round == 2 {
			return bodies, handles, nil
		}
		deadline, ok := ctx.Deadline()
		if ok && time.Until(deadline) < hide+5*time.Second {
			return bodies, handles, nil
		}
		say("read %d of the %d messages of %s; reading again when the rest are visible", len(bodies), want, url)
		sleep(ctx, hide+time.Second)
	}
}

func parseDeadLetters(bodies []string) []deadLetter {
	out := make([]deadLetter, 0, len(bodies))
	for _, b := range bodies {
		var d deadLetter
		if err := json.Unmarshal([]byte(b), &d); err != nil {
			d = deadLetter{Key: "unreadable: " + strings.TrimSpace(b)}
		}
		out = append(out, d)
	}
	return out
}

// eventOf reads a stored event's key from pk and its CloudEvents source and id from
// the body, as text (body) or deflated (bodyz), the way shared/store writes them.
func eventOf(it map[string]dtypes.AttributeValue) (storedEvent, error) {
	key := strings.TrimPrefix(str(it, "pk"), "EVT#")
	body := []byte(str(it, "body"))
	if z, ok := it["bodyz"].(*dtypes.AttributeValueMemberB); ok {
		b, err := io.ReadAll(flate.NewReader(bytes.NewReader(z.Value)))
		if err != nil {
			return storedEvent{}, fmt.Errorf("event %s: inflate its body: %w", key, err)
		}
		body = b
	}
	var ce struct {
		ID     string `json:"id"`
		Source string `json:"source"`
	}
	if err := json.Unmarshal(body, &ce); err != nil {
		return storedEvent{}, fmt.Errorf("event %s: its body: %w", key, err)
	}
	return storedEvent{Key: key, Source: ce.Source, ID: ce.ID}, nil
}

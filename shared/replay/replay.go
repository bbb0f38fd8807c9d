// Package replay queues the deliveries of replay jobs: messages on notify's delivery
// retry queue that carry a replay marker, and the jobs of the replay worker's queue.
package replay

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Delivery asks notify to deliver one stored event to one subscription once, for a
// replay job. Its JSON is notify's retry message with the replay field set.
type Delivery struct {
	Key            string    `json:"key"`
	SubscriptionID string    `json:"subscriptionId"`
	DueAt          time.Time `json:"dueAt"`
	Replay         string    `json:"replay"`
}

// Job is the body of a replay queue message: scan the window of the job onwards from
// where it stands.
type Job struct {
	ReplayID string `json:"replayId"`
}

// BatchAPI is the part of the SQS client Enqueue uses.
type BatchAPI interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// maxTries bounds the sends of one batch entry that SQS keeps failing.
const maxTries = 3

// Enqueue sends the deliveries to the queue, ten to a request, sending again the
// entries SQS failed. Notify makes each replay delivery once, so sending one twice
// (after a failure half-way) is harmless.
func Enqueue(ctx context.Context, api BatchAPI, queueURL string, ds []Delivery) error {
	for start := 0; start < len(ds); start += 10 {
		batch := ds[start:min(start+10, len(ds))]
		entries := make([]types.SendMessageBatchRequestEntry, len(batch))
		for i, d := range batch {
			body, err := json.Marshal(d)
			if err != nil {
				return fmt.Errorf("encode replay delivery: %w", err)
			}
			entries[i] = types.SendMessageBatchRequestEntry{Id: ptr(strconv.Itoa(i)), MessageBody: ptr(string(body))}
		}
		for try := 1; len(entries) > 0; try++ {
			out, err := api.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &queueURL, Entries: entries})
			if err != nil {
				return fmt.Errorf("queue replay deliveries: %w", err)
			}
			if len(out.Failed) == 0 {
				break
			}
			if try == maxTries {
				f := out.Failed[0]
				return fmt.Errorf("queue replay deliveries: %d entries failed, first: %s %s", len(out.Failed), deref(f.Code), deref(f.Message))
			}
			failed := map[string]bool{}
			for _, f := range out.Failed {
				failed[deref(f.Id)] = true
			}
			var again []types.SendMessageBatchRequestEntry
			for _, e := range entries {
				if failed[deref(e.Id)] {
					again = append(again, e)
				}
			}
			entries = again
		}
	}
	return nil
}

// Pinned returns the CloudEvents source and type a subscription-style pattern
// requires exactly (a list of one string at the top level), so that a scan can read
// the narrower index; "" when the pattern does not pin them.
func Pinned(pattern []byte) (source, typ string) {
	var top map[string]json.RawMessage
	if json.Unmarshal(pattern, &top) != nil {
		return "", ""
	}
	one := func(raw json.RawMessage) string {
		var vs []any
		if json.Unmarshal(raw, &vs) != nil || len(vs) != 1 {
			return ""
		}
		s, _ := vs[0].(string)
		return s
	}
	return one(top["source"]), one(top["type"])
}

func ptr[T any](v T) *T { return &v }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

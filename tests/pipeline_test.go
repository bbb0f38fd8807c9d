package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/cloudevent"
)

// TestRedrivePipeline: an older ingest's handoff to persist (a bus.Batch by
// asynchronous invocation, before the three-hop chain) that ran out of retries sits in
// the pipeline dead-letter queue as Lambda's on-failure record; after an upgrade,
// POST /pipeline/redrive invokes persist with it again, and the event is stored.
func TestRedrivePipeline(t *testing.T) {
	needStack(t)
	id := fmt.Sprintf("redrive-%d", time.Now().UnixNano())
	key := cloudevent.Key("/e2e/pipeline", id)
	ev := json.RawMessage(fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/e2e/pipeline","type":"e2e.pipeline","data":{"n":1}}`, id))
	now := time.Now().UTC()
	batch, _ := json.Marshal(bus.Batch{Events: []bus.EventDetail{{Event: ev, Hub: bus.Hub{
		Key: key, SourceID: "src_e2e", Format: "cloudevents", ReceivedAt: now, NormalizedAt: now, RequestID: "req-" + id,
	}}}})
	record := fmt.Sprintf(`{"version":"1.0","timestamp":%q,"requestContext":{"requestId":"inv-%s","functionArn":"arn:aws:lambda:us-east-1:000000000000:function:PersistFunction:$LATEST","condition":"RetriesExhausted","approximateInvokeCount":3},"requestPayload":%s,"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},"responsePayload":{"errorMessage":"ProvisionedThroughputExceededException"}}`,
		now.Format(time.RFC3339Nano), id, batch)
	dlq := local.Queues["PipelineDeadLetterQueue"].URL
	if _, err := local.SQSClient.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(dlq), MessageBody: aws.String(record)}); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Moved   int            `json:"moved"`
		Skipped map[string]int `json:"skipped"`
	}
	if status := call(t, http.MethodPost, "/pipeline/redrive", local.AdminToken, `{}`, &out); status != http.StatusOK || out.Moved < 1 {
		t.Fatalf("POST /pipeline/redrive = %d %+v; want 200 and the record moved", status, out)
	}
	stored := waitStored(t, key)
	if stored.Event == nil {
		t.Errorf("event %s not stored after the redrive", key)
	}
}

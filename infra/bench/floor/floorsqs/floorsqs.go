// Package floorsqs makes a cold-start floor's SQS requests.
package floorsqs

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventhub/eventhub/infra/bench/floor"
)

// overhead is about what a request below carries besides the padding.
const overhead = 120

// Do makes one request of r's operation on the queue, about r's size.
func Do(ctx context.Context, c *sqs.Client, queueURL string, r floor.Request) error {
	var err error
	switch r.Op {
	case "SendMessage":
		_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &queueURL, MessageBody: aws.String(floor.Pad(r, overhead))})
	case "SendMessageBatch":
		_, err = c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &queueURL, Entries: []types.SendMessageBatchRequestEntry{
			{Id: aws.String("1"), MessageBody: aws.String(floor.Pad(r, overhead))},
		}})
	case "ReceiveMessage":
		_, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &queueURL, MaxNumberOfMessages: 1})
	case "GetQueueAttributes":
		_, err = c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &queueURL, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	default:
		return fmt.Errorf("floor: no SQS request for %s", r.Op)
	}
	if err != nil {
		return fmt.Errorf("floor %s: %w", r, err)
	}
	return nil
}

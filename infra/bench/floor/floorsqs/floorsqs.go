// Package floorsqs makes a cold-start floor's SQS requests.
package floorsqs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/eventhub/eventhub/infra/bench/floor"
)

// Do sends r's body (floor.Rewrite's) through c as r's operation: the client
// serializes a minimal input of the operation on the queue, then sends the body
// instead. A message's input carries its body too: the client checks the MD5 of what
// it sent against the answer.
func Do(ctx context.Context, c *sqs.Client, queueURL string, r floor.Request, body []byte) error {
	opt := func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, floor.Body(body)) }
	var err error
	switch r.Op {
	case "SendMessage":
		var in struct{ MessageBody string }
		if err := json.Unmarshal(body, &in); err != nil {
			return fmt.Errorf("floor %s: %w", r, err)
		}
		_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &queueURL, MessageBody: aws.String(in.MessageBody)}, opt)
	case "ReceiveMessage":
		_, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &queueURL}, opt)
	case "GetQueueAttributes":
		_, err = c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &queueURL}, opt)
	case "DeleteMessage":
		_, err = c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &queueURL, ReceiptHandle: aws.String("floor")}, opt)
	case "ChangeMessageVisibility":
		_, err = c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &queueURL, ReceiptHandle: aws.String("floor")}, opt)
	default:
		return fmt.Errorf("floor: no SQS request for %s", r.Op)
	}
	if err != nil {
		return fmt.Errorf("floor %s: %w", r, err)
	}
	return nil
}

// Package sqs is an SQS client for the calls eventhub makes, in the shapes of the
// SDK's service/sqs, over shared/awsapi (SQS's JSON protocol).
package sqs

import (
	"context"
	"errors"

	"github.com/eventhub/eventhub/shared/awsapi"
	"github.com/eventhub/eventhub/shared/awsapi/sqs/types"
)

// Service is SQS's JSON protocol.
var Service = awsapi.Service{SDKID: "SQS", SigningName: "sqs", TargetPrefix: "AmazonSQS", JSONVersion: "1.0"}

// Client calls SQS.
type Client struct{ c *awsapi.Client }

// New returns a client on cfg.
func New(cfg awsapi.Config) *Client { return &Client{awsapi.New(cfg, Service)} }

// Endpoint is where the client sends its requests.
func (c *Client) Endpoint() string { return c.c.Endpoint() }

func (c *Client) do(ctx context.Context, op string, in, out any) error {
	err := c.c.Do(ctx, op, in, out)
	var ae *awsapi.Error
	if errors.As(err, &ae) {
		switch ae.Code {
		case "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue":
			return &types.QueueDoesNotExist{Err: ae}
		case "ReceiptHandleIsInvalid":
			return &types.ReceiptHandleIsInvalid{Err: ae}
		case "MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight":
			return &types.MessageNotInflight{Err: ae}
		}
	}
	return err
}

// SendMessageInput is the request of SendMessage.
type SendMessageInput struct {
	QueueUrl               *string
	MessageBody            *string
	DelaySeconds           int32   `json:",omitempty"`
	MessageDeduplicationId *string `json:",omitempty"`
	MessageGroupId         *string `json:",omitempty"`
}

// SendMessageOutput is the answer of SendMessage.
type SendMessageOutput struct {
	MessageId        *string
	MD5OfMessageBody *string
	SequenceNumber   *string
}

// SendMessage sends one message.
func (c *Client) SendMessage(ctx context.Context, in *SendMessageInput) (*SendMessageOutput, error) {
	var out SendMessageOutput
	if err := c.do(ctx, "SendMessage", in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SendMessageBatchInput is the request of SendMessageBatch.
type SendMessageBatchInput struct {
	QueueUrl *string
	Entries  []types.SendMessageBatchRequestEntry
}

// SendMessageBatchOutput is the answer of SendMessageBatch: the messages sent and
// those that were not.
type SendMessageBatchOutput struct {
	Successful []types.SendMessageBatchResultEntry
	Failed     []types.BatchResultErrorEntry
}

// SendMessageBatch sends up to ten messages.
func (c *Client) SendMessageBatch(ctx context.Context, in *SendMessageBatchInput) (*SendMessageBatchOutput, error) {
	var out SendMessageBatchOutput
	if err := c.do(ctx, "SendMessageBatch", in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ReceiveMessageInput is the request of ReceiveMessage.
type ReceiveMessageInput struct {
	QueueUrl                    *string
	MaxNumberOfMessages         int32    `json:",omitempty"`
	VisibilityTimeout           int32    `json:",omitempty"`
	WaitTimeSeconds             int32    `json:",omitempty"`
	MessageSystemAttributeNames []string `json:",omitempty"`
	ReceiveRequestAttemptId     *string  `json:",omitempty"`
}

// ReceiveMessageOutput is the answer of ReceiveMessage.
type ReceiveMessageOutput struct {
	Messages []types.Message
}

// ReceiveMessage receives up to ten messages.
func (c *Client) ReceiveMessage(ctx context.Context, in *ReceiveMessageInput) (*ReceiveMessageOutput, error) {
	var out ReceiveMessageOutput
	if err := c.do(ctx, "ReceiveMessage", in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteMessageInput is the request of DeleteMessage.
type DeleteMessageInput struct {
	QueueUrl      *string
	ReceiptHandle *string
}

// DeleteMessageOutput is the answer of DeleteMessage.
type DeleteMessageOutput struct{}

// DeleteMessage deletes a received message.
func (c *Client) DeleteMessage(ctx context.Context, in *DeleteMessageInput) (*DeleteMessageOutput, error) {
	if err := c.do(ctx, "DeleteMessage", in, nil); err != nil {
		return nil, err
	}
	return &DeleteMessageOutput{}, nil
}

// ChangeMessageVisibilityInput is the request of ChangeMessageVisibility.
type ChangeMessageVisibilityInput struct {
	QueueUrl          *string
	ReceiptHandle     *string
	VisibilityTimeout int32
}

// ChangeMessageVisibilityOutput is the answer of ChangeMessageVisibility.
type ChangeMessageVisibilityOutput struct{}

// ChangeMessageVisibility sets when a received message is received again.
func (c *Client) ChangeMessageVisibility(ctx context.Context, in *ChangeMessageVisibilityInput) (*ChangeMessageVisibilityOutput, error) {
	if err := c.do(ctx, "ChangeMessageVisibility", in, nil); err != nil {
		return nil, err
	}
	return &ChangeMessageVisibilityOutput{}, nil
}

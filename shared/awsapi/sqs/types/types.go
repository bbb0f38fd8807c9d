// Package types holds the parts of SQS requests and answers eventhub uses, in the
// shapes of the SDK's service/sqs/types.
package types

import "github.com/eventhub/eventhub/shared/awsapi"

// SendMessageBatchRequestEntry is one message of a SendMessageBatch call.
type SendMessageBatchRequestEntry struct {
	Id                     *string
	MessageBody            *string
	DelaySeconds           int32   `json:",omitempty"`
	MessageDeduplicationId *string `json:",omitempty"`
	MessageGroupId         *string `json:",omitempty"`
}

// SendMessageBatchResultEntry is a message SendMessageBatch sent.
type SendMessageBatchResultEntry struct {
	Id               *string
	MessageId        *string
	MD5OfMessageBody *string
	SequenceNumber   *string
}

// BatchResultErrorEntry is a message of a batch that SQS did not take.
type BatchResultErrorEntry struct {
	Code        *string
	Id          *string
	SenderFault bool
	Message     *string
}

// Message is a received message.
type Message struct {
	MessageId     *string
	ReceiptHandle *string
	MD5OfBody     *string
	Body          *string
	Attributes    map[string]string
}

// QueueDoesNotExist is a queue URL that names no queue.
type QueueDoesNotExist struct{ Err *awsapi.Error }

func (e *QueueDoesNotExist) Error() string { return e.Err.Error() }

// Unwrap returns the service's answer.
func (e *QueueDoesNotExist) Unwrap() error { return e.Err }

// ReceiptHandleIsInvalid is a receipt handle SQS does not know.
type ReceiptHandleIsInvalid struct{ Err *awsapi.Error }

func (e *ReceiptHandleIsInvalid) Error() string { return e.Err.Error() }

// Unwrap returns the service's answer.
func (e *ReceiptHandleIsInvalid) Unwrap() error { return e.Err }

// MessageNotInflight is a visibility change of a message that is not received.
type MessageNotInflight struct{ Err *awsapi.Error }

func (e *MessageNotInflight) Error() string { return e.Err.Error() }

// Unwrap returns the service's answer.
func (e *MessageNotInflight) Unwrap() error { return e.Err }

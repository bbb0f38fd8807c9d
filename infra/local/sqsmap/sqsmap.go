// Package sqsmap polls an SQS queue and invokes a function with batches, as Lambda's event source mapping does.
//
// A batch is deleted from the queue only when the invocation succeeds. With
// ReportBatchItemFailures the function's {"batchItemFailures": [...]} answer keeps
// the listed messages on the queue; an answer Lambda would reject (an empty or unknown
// itemIdentifier, a response that is not JSON) keeps the whole batch. Messages that
// stay reappear after the queue's visibility timeout, and the queue's redrive policy
// moves them to its dead-letter queue after maxReceiveCount receives.
package sqsmap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Invoker runs one synchronous invocation of the function. Any error means the
// invocation failed and the batch stays on the queue.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// InvokerFunc adapts a function to Invoker.
type InvokerFunc func(ctx context.Context, payload []byte) ([]byte, error)

// Invoke calls f.
func (f InvokerFunc) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return f(ctx, payload)
}

// Client is the part of *sqs.Client a Mapping uses.
type Client interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
}

// Config describes one event source mapping.
type Config struct {
	QueueURL string // the queue polled
	QueueARN string // eventSourceARN of the records
	Region   string // awsRegion of the records
	// BatchSize is the most records per invocation (default 10). Above 10 it needs
	// MaxBatchingWindow, as in Lambda.
	BatchSize int
	// MaxBatchingWindow is how long to keep gathering records before invoking with
	// fewer than BatchSize (0: invoke with what the first receive returns).
	MaxBatchingWindow       time.Duration
	ReportBatchItemFailures bool
	Pollers                 int           // concurrent pollers, each invoking in turn (default 1)
	WaitTime                time.Duration // long-poll wait of each receive, whole seconds up to 20 (default 1 s)
	Logger                  *slog.Logger  // nil discards
}

// Stats counts what a Mapping did.
type Stats struct {
	Batches          int64 // invocations made
	Messages         int64 // records passed to the function
	Deleted          int64 // messages deleted after a successful invocation
	FailedItems      int64 // records left on the queue: reported failures and records of failed batches
	FunctionErrors   int64 // invocations that returned an error
	InvalidResponses int64 // batchItemFailures answers Lambda would reject, failing the whole batch
	ReceiveErrors    int64
	DeleteErrors     int64 // messages that could not be deleted (they will be delivered again)
}

// Mapping is an SQS event source mapping. Create it with New.
type Mapping struct {
	client Client
	fn     Invoker
	cfg    Config
	logger *slog.Logger

	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
	backoffMin time.Duration
	backoffMax time.Duration

	batches, messages, deleted, failedItems atomic.Int64
	functionErrors, invalidResponses        atomic.Int64
	receiveErrors, deleteErrors             atomic.Int64
}

// New returns a Mapping from the queue of cfg to fn. It does no I/O.
func New(client Client, fn Invoker, cfg Config) *Mapping {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 10
	}
	if cfg.Pollers <= 0 {
		cfg.Pollers = 1
	}
	if cfg.WaitTime <= 0 {
		cfg.WaitTime = time.Second
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Mapping{
		client:     client,
		fn:         fn,
		cfg:        cfg,
		logger:     logger.With("queueUrl", cfg.QueueURL),
		now:        time.Now,
		sleep:      sleepContext,
		backoffMin: 200 * time.Millisecond,
		backoffMax: 5 * time.Second,
	}
}

// Stats returns the counters so far.
func (m *Mapping) Stats() Stats {
	return Stats{
		Batches:          m.batches.Load(),
		Messages:         m.messages.Load(),
		Deleted:          m.deleted.Load(),
		FailedItems:      m.failedItems.Load(),
		FunctionErrors:   m.functionErrors.Load(),
		InvalidResponses: m.invalidResponses.Load(),
		ReceiveErrors:    m.receiveErrors.Load(),
		DeleteErrors:     m.deleteErrors.Load(),
	}
}

// Run polls until ctx is done, then returns nil. Receive errors (the queue missing,
// the emulator restarting) are logged and retried with backoff.
func (m *Mapping) Run(ctx context.Context) error {
	switch {
	case m.cfg.QueueURL == "":
		return errors.New("sqs event source mapping: no queue URL")
	case m.cfg.BatchSize > 10 && m.cfg.MaxBatchingWindow <= 0:
		return fmt.Errorf("sqs event source mapping %s: batch size %d needs a batching window", m.cfg.QueueURL, m.cfg.BatchSize)
	}
	m.logger.InfoContext(ctx, "polling queue", "batchSize", m.cfg.BatchSize, "pollers", m.cfg.Pollers,
		"reportBatchItemFailures", m.cfg.ReportBatchItemFailures)
	var wg sync.WaitGroup
	for range m.cfg.Pollers {
		wg.Go(func() { m.poll(ctx) })
	}
	wg.Wait()
	return nil
}

func (m *Mapping) poll(ctx context.Context) {
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		msgs, err := m.collect(ctx)
		if len(msgs) > 0 {
			m.handle(ctx, msgs)
		}
		if err == nil {
			backoff = 0
			continue
		}
		if ctx.Err() != nil {
			return
		}
		m.receiveErrors.Add(1)
		backoff = min(max(2*backoff, m.backoffMin), m.backoffMax)
		m.logger.WarnContext(ctx, "receive from queue failed; retrying", "err", err, "retryIn", backoff)
		if m.sleep(ctx, backoff) != nil {
			return
		}
	}
}

// collect receives one batch: what one receive returns or, with a batching window,
// what arrives within the window up to BatchSize. It returns the messages received
// even when a later receive fails.
func (m *Mapping) collect(ctx context.Context) ([]types.Message, error) {
	msgs, err := m.receive(ctx, m.cfg.BatchSize, m.cfg.WaitTime)
	if err != nil || m.cfg.MaxBatchingWindow <= 0 || len(msgs) == 0 {
		return msgs, err
	}
	deadline := m.now().Add(m.cfg.MaxBatchingWindow)
	for len(msgs) < m.cfg.BatchSize && ctx.Err() == nil {
		remaining := deadline.Sub(m.now())
		if remaining <= 0 {
			break
		}
		more, err := m.receive(ctx, m.cfg.BatchSize-len(msgs), remaining)
		msgs = append(msgs, more...)
		if err != nil {
			return msgs, err
		}
	}
	return msgs, nil
}

func (m *Mapping) receive(ctx context.Context, want int, wait time.Duration) ([]types.Message, error) {
	out, err := m.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(m.cfg.QueueURL),
		MaxNumberOfMessages:         int32(min(want, 10)),
		WaitTimeSeconds:             int32(min(math.Ceil(wait.Seconds()), 20)),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		return nil, err
	}
	return out.Messages, nil
}

// handle invokes the function with one batch and deletes what succeeded.
func (m *Mapping) handle(ctx context.Context, msgs []types.Message) {
	payload, err := json.Marshal(m.event(msgs))
	if err != nil { // events.SQSEvent always marshals
		m.logger.ErrorContext(ctx, "encode SQS event", "err", err)
		return
	}
	m.batches.Add(1)
	m.messages.Add(int64(len(msgs)))
	out, err := m.fn.Invoke(ctx, payload)
	if err != nil {
		if ctx.Err() != nil {
			// Shutting down: hand the batch back at once rather than after the
			// visibility timeout.
			m.release(ctx, msgs)
			return
		}
		m.functionErrors.Add(1)
		m.failedItems.Add(int64(len(msgs)))
		m.logger.WarnContext(ctx, "function failed; the batch stays on the queue", "messages", len(msgs), "err", err)
		return
	}
	keep := map[string]bool{}
	if m.cfg.ReportBatchItemFailures {
		failed, err := batchItemFailures(out, msgs)
		if err != nil {
			m.invalidResponses.Add(1)
			m.failedItems.Add(int64(len(msgs)))
			m.logger.WarnContext(ctx, "invalid batchItemFailures response; the whole batch stays on the queue",
				"messages", len(msgs), "err", err)
			return
		}
		for _, id := range failed {
			keep[id] = true
		}
	}
	var done []types.Message
	for _, msg := range msgs {
		if !keep[aws.ToString(msg.MessageId)] {
			done = append(done, msg)
		}
	}
	if n := len(msgs) - len(done); n > 0 {
		m.failedItems.Add(int64(n))
		m.logger.InfoContext(ctx, "function reported failed items; they stay on the queue", "failed", n, "messages", len(msgs))
	}
	// Finished work is acknowledged even when shutdown has begun.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	m.delete(dctx, done)
}

// event builds the Lambda event for a batch.
func (m *Mapping) event(msgs []types.Message) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(msgs))}
	for i, msg := range msgs {
		attrs := make(map[string]string, len(msg.Attributes))
		for k, v := range msg.Attributes {
			attrs[k] = v
		}
		mattrs := make(map[string]events.SQSMessageAttribute, len(msg.MessageAttributes))
		for k, v := range msg.MessageAttributes {
			a := events.SQSMessageAttribute{
				DataType:         aws.ToString(v.DataType),
				StringValue:      v.StringValue,
				BinaryValue:      v.BinaryValue,
				StringListValues: v.StringListValues,
				BinaryListValues: v.BinaryListValues,
			}
			if a.StringListValues == nil { // Lambda sends [] for both lists
				a.StringListValues = []string{}
			}
			if a.BinaryListValues == nil {
				a.BinaryListValues = [][]byte{}
			}
			mattrs[k] = a
		}
		ev.Records[i] = events.SQSMessage{
			MessageId:              aws.ToString(msg.MessageId),
			ReceiptHandle:          aws.ToString(msg.ReceiptHandle),
			Body:                   aws.ToString(msg.Body),
			Md5OfBody:              aws.ToString(msg.MD5OfBody),
			Md5OfMessageAttributes: aws.ToString(msg.MD5OfMessageAttributes),
			Attributes:             attrs,
			MessageAttributes:      mattrs,
			EventSourceARN:         m.cfg.QueueARN,
			EventSource:            "aws:sqs",
			AWSRegion:              m.cfg.Region,
		}
	}
	return ev
}

// batchItemFailures returns the message ids the function reported as failed. As in
// Lambda, an empty or null response, or one without batchItemFailures, reports none;
// a response that is not a JSON object, an item without an itemIdentifier (an empty
// or null one, or a misspelt key) or an identifier not in the batch is an error.
func batchItemFailures(out []byte, msgs []types.Message) ([]string, error) {
	out = bytes.TrimSpace(out)
	if len(out) == 0 || bytes.Equal(out, []byte("null")) {
		return nil, nil
	}
	var resp map[string]json.RawMessage
	if err := json.Unmarshal(out, &resp); err != nil {
		return nil, fmt.Errorf("response is not a JSON object: %w", err)
	}
	raw, ok := resp["batchItemFailures"]
	if !ok || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("batchItemFailures is not a list of objects: %w", err)
	}
	inBatch := make(map[string]bool, len(msgs))
	for _, msg := range msgs {
		inBatch[aws.ToString(msg.MessageId)] = true
	}
	ids := make([]string, 0, len(items))
	for i, item := range items {
		var id string
		if rawID, ok := item["itemIdentifier"]; ok {
			if err := json.Unmarshal(rawID, &id); err != nil {
				return nil, fmt.Errorf("batchItemFailures[%d].itemIdentifier: %w", i, err)
			}
		}
		switch {
		case id == "":
			return nil, fmt.Errorf("batchItemFailures[%d]: no itemIdentifier", i)
		case !inBatch[id]:
			return nil, fmt.Errorf("batchItemFailures[%d]: itemIdentifier %q is not a message of the batch", i, id)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// delete deletes messages in batches of ten, retrying failed entries once.
func (m *Mapping) delete(ctx context.Context, msgs []types.Message) {
	for start := 0; start < len(msgs); start += 10 {
		chunk := msgs[start:min(start+10, len(msgs))]
		entries := make([]types.DeleteMessageBatchRequestEntry, len(chunk))
		for i, msg := range chunk {
			entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: msg.ReceiptHandle}
		}
		var lastErr error
		for attempt := 0; attempt < 2 && len(entries) > 0; attempt++ {
			out, err := m.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(m.cfg.QueueURL), Entries: entries})
			if err != nil {
				lastErr = err
				continue // the whole request again
			}
			m.deleted.Add(int64(len(out.Successful)))
			failed := map[string]bool{}
			for _, f := range out.Failed {
				failed[aws.ToString(f.Id)] = true
				lastErr = fmt.Errorf("%s: %s", aws.ToString(f.Code), aws.ToString(f.Message))
			}
			var retry []types.DeleteMessageBatchRequestEntry
			for _, e := range entries {
				if failed[aws.ToString(e.Id)] {
					retry = append(retry, e)
				}
			}
			entries = retry
		}
		if len(entries) > 0 {
			m.deleteErrors.Add(int64(len(entries)))
			m.logger.ErrorContext(ctx, "could not delete processed messages; they will be delivered again",
				"messages", len(entries), "err", lastErr)
		}
	}
}

// release makes messages visible again at once; it works after ctx is done.
func (m *Mapping) release(ctx context.Context, msgs []types.Message) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	for start := 0; start < len(msgs); start += 10 {
		chunk := msgs[start:min(start+10, len(msgs))]
		entries := make([]types.ChangeMessageVisibilityBatchRequestEntry, len(chunk))
		for i, msg := range chunk {
			entries[i] = types.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: msg.ReceiptHandle}
		}
		if _, err := m.client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(m.cfg.QueueURL), Entries: entries}); err != nil {
			m.logger.WarnContext(ctx, "could not release messages at shutdown; they reappear after the visibility timeout",
				"messages", len(chunk), "err", err)
		}
	}
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

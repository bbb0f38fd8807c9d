package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/eventhub/eventhub/shared/apigw"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/store"
)

// Operator tools for deliveries: list a subscription's deliveries by status, retry one
// failed delivery, recover every failed delivery since a time, and redrive the
// delivery dead-letter queue. Retries go through notify's retry queue, as notify's own
// do; a retried delivery is reopened by notify's claim on it, so a retry requested
// twice still delivers once.

// deliveryQueue is the part of SQS the tools use.
type deliveryQueue interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

// deliveryQueues are notify's retry queue and delivery dead-letter queue.
type deliveryQueues struct {
	sqs      deliveryQueue
	retryURL string
	dlqURL   string
}

// retryMessage is notify's retry queue message (functions/notify retryMessage): the
// attempt to make, and for an operator's retry the attempts already made (base) and
// the permission to reopen the failed delivery.
type retryMessage struct {
	Key            string    `json:"key"`
	SubscriptionID string    `json:"subscriptionId"`
	Attempt        int       `json:"attempt"`
	DueAt          time.Time `json:"dueAt"`
	Base           int       `json:"base,omitempty"`
	Reopen         bool      `json:"reopen,omitempty"`
	Group          string    `json:"group,omitempty"`
	Order          int       `json:"order,omitempty"`
}

// deadLetter is the part of notify's dead letter the redrive reads.
type deadLetter struct {
	Key            string `json:"key"`
	SubscriptionID string `json:"subscriptionId"`
	Attempts       int    `json:"attempts"`
}

// retryOf is the message that retries a delivery that failed after attempts attempts:
// one more pass through the subscription's retry schedule.
func retryOf(key string, sub store.Subscription, attempts int, now time.Time) retryMessage {
	return retryMessage{
		Key: key, SubscriptionID: sub.ID, Attempt: attempts + 1, Base: attempts, Reopen: true,
		DueAt: now, Group: sub.Group, Order: sub.Order,
	}
}

func (q deliveryQueues) send(ctx context.Context, url string, body string) error {
	if q.sqs == nil {
		return fmt.Errorf("no delivery queues configured")
	}
	if _, err := q.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: &body}); err != nil {
		return fmt.Errorf("send to %s: %w", url, err)
	}
	return nil
}

func (q deliveryQueues) retry(ctx context.Context, m retryMessage) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return q.send(ctx, q.retryURL, string(b))
}

// listDeliveries answers GET /subscriptions/{id}/deliveries?status=&since=&limit=&cursor=.
func (h *handler) listDeliveries(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	sub, err := h.store.GetSubscription(ctx, req.PathParameters["id"])
	if err != nil {
		return apigw.Response{}, err
	}
	q := store.DeliveryQuery{SubscriptionID: sub.ID, Cursor: req.QueryStringParameters["cursor"]}
	switch st := req.QueryStringParameters["status"]; st {
	case "", store.DeliveryPending, store.DeliveryDelivered, store.DeliveryFailed:
		q.Status = st
	default:
		return apigw.Response{}, fault.At("status", "unknown status %q: use pending, delivered or failed", st)
	}
	if q.Since, err = sinceParam(req.QueryStringParameters["since"]); err != nil {
		return apigw.Response{}, err
	}
	if l := req.QueryStringParameters["limit"]; l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 100 {
			return apigw.Response{}, fault.At("limit", "must be between 1 and 100")
		}
		q.Limit = n
	}
	page, err := h.store.ListDeliveries(ctx, q)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, page), nil
}

func sinceParam(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fault.At("since", "must be an RFC 3339 time such as 2026-11-23T10:00:00Z")
	}
	return t, nil
}

// enabledSubscription returns the subscription of the request, refusing a disabled one:
// its retries would only fail again.
func (h *handler) enabledSubscription(ctx context.Context, req *apigw.Request) (*store.Subscription, error) {
	sub, err := h.store.GetSubscription(ctx, req.PathParameters["id"])
	if err != nil {
		return nil, err
	}
	if !sub.Enabled {
		return nil, fault.New(fault.Conflict, "subscription %s is disabled: enable it first", sub.ID)
	}
	return sub, nil
}

// retryDelivery answers POST /subscriptions/{id}/deliveries/{key}/retry: a failed
// delivery gets one more pass through the subscription's retry schedule.
func (h *handler) retryDelivery(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	sub, err := h.enabledSubscription(ctx, req)
	if err != nil {
		return apigw.Response{}, err
	}
	key := req.PathParameters["key"]
	d, err := h.store.GetDelivery(ctx, key, sub.ID)
	if err != nil {
		return apigw.Response{}, err
	}
	if d.Status != store.DeliveryFailed {
		return apigw.Response{}, fault.New(fault.Conflict, "the delivery of %s is %s: only failed deliveries are retried", key, d.Status)
	}
	m := retryOf(key, *sub, d.Attempt, h.now().UTC())
	if err := h.queues.retry(ctx, m); err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusAccepted, map[string]any{"key": key, "subscriptionId": sub.ID, "attempt": m.Attempt}), nil
}

// recoverInput is the body of POST /subscriptions/{id}/recover.
type recoverInput struct {
	Since  string `json:"since"`  // RFC 3339: deliveries that failed at or after it
	Cursor string `json:"cursor"` // from a previous answer's next, to go on
}

// maxRecover bounds the deliveries one recover call requeues, so that it answers well
// within API Gateway's 30 seconds; the answer's next goes on.
const maxRecover = 500

// recoverDeliveries answers POST /subscriptions/{id}/recover: every delivery to the
// subscription that failed since the time is retried.
func (h *handler) recoverDeliveries(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	var in recoverInput
	if err := decode(req, &in); err != nil {
		return apigw.Response{}, err
	}
	if in.Since == "" {
		return apigw.Response{}, fault.At("since", "required")
	}
	since, err := sinceParam(in.Since)
	if err != nil {
		return apigw.Response{}, err
	}
	sub, err := h.enabledSubscription(ctx, req)
	if err != nil {
		return apigw.Response{}, err
	}
	now := h.now().UTC()
	q := store.DeliveryQuery{SubscriptionID: sub.ID, Status: store.DeliveryFailed, Since: since, Cursor: in.Cursor}
	requeued := []string{}
	for {
		q.Limit = min(100, maxRecover-len(requeued))
		page, err := h.store.ListDeliveries(ctx, q)
		if err != nil {
			return apigw.Response{}, err
		}
		for _, d := range page.Deliveries {
			if err := h.queues.retry(ctx, retryOf(d.Key, *sub, d.Attempt, now)); err != nil {
				return apigw.Response{}, fmt.Errorf("recover %s after %d requeued: %w", d.Key, len(requeued), err)
			}
			requeued = append(requeued, d.Key)
		}
		q.Cursor = page.Next
		if q.Cursor == "" || len(requeued) >= maxRecover {
			break
		}
	}
	out := map[string]any{"subscriptionId": sub.ID, "requeued": len(requeued), "keys": requeued}
	if q.Cursor != "" {
		out["next"] = q.Cursor
	}
	return apigw.JSON(http.StatusAccepted, out), nil
}

// redriveInput is the optional body of POST /deliveries/redrive.
type redriveInput struct {
	SubscriptionID string `json:"subscriptionId"` // only this subscription's dead letters
	Max            int    `json:"max"`            // at most this many messages (default and maximum 500)
}

// redriveDeadLetters answers POST /deliveries/redrive: messages of the delivery
// dead-letter queue go back to the retry queue. An exhausted delivery's dead letter
// becomes an operator retry of it; a retry message that the queue's redrive policy
// moved there (notify failed on it five times) is sent again as it was. Messages of
// disabled subscriptions, of other subscriptions than the one asked for, and
// unreadable ones stay in the dead-letter queue.
func (h *handler) redriveDeadLetters(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	var in redriveInput
	if body, _ := apigw.Body(req); len(body) > 0 {
		if err := decode(req, &in); err != nil {
			return apigw.Response{}, err
		}
	}
	if h.queues.sqs == nil {
		return apigw.Response{}, fmt.Errorf("no delivery queues configured")
	}
	now := h.now().UTC()
	subs := map[string]*store.Subscription{}
	return redrive(ctx, h.queues.sqs, h.queues.dlqURL, "the delivery dead-letter queue", in.Max, func(body string) (string, error) {
		msg, why := h.redriven(ctx, body, in.SubscriptionID, subs, now)
		if why != "" {
			return why, nil
		}
		return "", h.queues.send(ctx, h.queues.retryURL, msg)
	})
}

// redrive receives up to max messages (0: maxRecover) of a dead-letter queue for at
// most 20 seconds and hands each to move, which sends it on or says why it stays
// (skipped). A moved message is deleted; a message left behind is not received again
// by this call. A message deleted only after being sent on may be redriven twice by
// a later call if the delete fails: what receives it is idempotent.
func redrive(ctx context.Context, q deliveryQueue, url, name string, max int, move func(body string) (why string, err error)) (apigw.Response, error) {
	if max < 0 || max > maxRecover {
		return apigw.Response{}, fault.At("max", "must be between 1 and %d", maxRecover)
	}
	if max == 0 {
		max = maxRecover
	}
	deadline := time.Now().Add(20 * time.Second)
	var moved, kept int
	skipped := map[string]int{}
	for moved+kept < max && time.Now().Before(deadline) {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:            &url,
			MaxNumberOfMessages: int32(min(10, max-moved-kept)),
			VisibilityTimeout:   60,
		})
		if err != nil {
			return apigw.Response{}, fmt.Errorf("receive from %s: %w", name, err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, msg := range out.Messages {
			why, err := move(ptrValue(msg.Body))
			if err != nil {
				return apigw.Response{}, err
			}
			if why != "" {
				kept++
				skipped[why]++
				continue
			}
			if _, err := q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: msg.ReceiptHandle}); err != nil {
				return apigw.Response{}, fmt.Errorf("delete a redriven message of %s: %w", name, err)
			}
			moved++
		}
	}
	return apigw.JSON(http.StatusOK, map[string]any{"moved": moved, "skipped": skipped}), nil
}

// redriven returns the retry queue message for a dead letter, or why it stays.
func (h *handler) redriven(ctx context.Context, body, only string, subs map[string]*store.Subscription, now time.Time) (string, string) {
	var probe struct {
		deadLetter
		Attempt *int `json:"attempt"`
	}
	if err := json.Unmarshal([]byte(body), &probe); err != nil || probe.Key == "" || probe.SubscriptionID == "" {
		return "", "unreadable"
	}
	if only != "" && probe.SubscriptionID != only {
		return "", "other subscription"
	}
	sub, ok := subs[probe.SubscriptionID]
	if !ok {
		s, err := h.store.GetSubscription(ctx, probe.SubscriptionID)
		if err != nil && !fault.Is(err, fault.NotFound) {
			return "", "subscription unreadable"
		}
		sub, subs[probe.SubscriptionID] = s, s
	}
	switch {
	case sub == nil:
		return "", "subscription deleted"
	case !sub.Enabled:
		return "", "subscription disabled"
	case probe.Attempt != nil:
		return body, "" // a retry message the queue gave up on
	case probe.Attempts < 1:
		return "", "unreadable"
	}
	b, err := json.Marshal(retryOf(probe.Key, *sub, probe.Attempts, now))
	if err != nil {
		return "", "unreadable"
	}
	return string(b), ""
}

func ptrValue(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

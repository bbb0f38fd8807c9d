package sqsmap

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// fakeClient is a Client made of function fields; a nil field fails the test.
type fakeClient struct {
	t                *testing.T
	receive          func(context.Context, *sqs.ReceiveMessageInput) (*sqs.ReceiveMessageOutput, error)
	deleteBatch      func(context.Context, *sqs.DeleteMessageBatchInput) (*sqs.DeleteMessageBatchOutput, error)
	changeVisibility func(context.Context, *sqs.ChangeMessageVisibilityBatchInput) (*sqs.ChangeMessageVisibilityBatchOutput, error)
}

func (f *fakeClient) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	if f.receive == nil {
		f.t.Errorf("unexpected ReceiveMessage")
		return nil, errors.New("unexpected")
	}
	return f.receive(ctx, in)
}

func (f *fakeClient) DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	if f.deleteBatch == nil {
		f.t.Errorf("unexpected DeleteMessageBatch of %d entries", len(in.Entries))
		return nil, errors.New("unexpected")
	}
	return f.deleteBatch(ctx, in)
}

func (f *fakeClient) ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	if f.changeVisibility == nil {
		f.t.Errorf("unexpected ChangeMessageVisibilityBatch")
		return nil, errors.New("unexpected")
	}
	return f.changeVisibility(ctx, in)
}

// deleter records the receipt handles deleted and succeeds.
type deleter struct {
	mu      sync.Mutex
	handles []string
}

func (d *deleter) deleteBatch(_ context.Context, in *sqs.DeleteMessageBatchInput) (*sqs.DeleteMessageBatchOutput, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := &sqs.DeleteMessageBatchOutput{}
	for _, e := range in.Entries {
		d.handles = append(d.handles, aws.ToString(e.ReceiptHandle))
		out.Successful = append(out.Successful, types.DeleteMessageBatchResultEntry{Id: e.Id})
	}
	return out, nil
}

func (d *deleter) deleted() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Sorted(slices.Values(d.handles))
}

// messages returns n messages with ids m0..m(n-1) and receipt handles r0..r(n-1).
func messages(n int) []types.Message {
	out := make([]types.Message, n)
	for i := range out {
		s := strconv.Itoa(i)
		out[i] = types.Message{
			MessageId:     aws.String("m" + s),
			ReceiptHandle: aws.String("r" + s),
			Body:          aws.String("body " + s),
			MD5OfBody:     aws.String("md5-" + s),
			Attributes:    map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000"},
		}
	}
	return out
}

func respond(s string) Invoker {
	return InvokerFunc(func(context.Context, []byte) ([]byte, error) { return []byte(s), nil })
}

func TestHandle(t *testing.T) {
	fnErr := InvokerFunc(func(context.Context, []byte) ([]byte, error) {
		return nil, errors.New("handler failed")
	})
	tests := []struct {
		name        string
		report      bool // ReportBatchItemFailures
		fn          Invoker
		wantDeleted []string
		wantStats   Stats
	}{
		{"success deletes all", false, respond(`null`), []string{"r0", "r1", "r2"},
			Stats{Batches: 1, Messages: 3, Deleted: 3}},
		{"function error deletes nothing", true, fnErr, nil,
			Stats{Batches: 1, Messages: 3, FailedItems: 3, FunctionErrors: 1}},
		{"failures ignored without ReportBatchItemFailures", false, respond(`{"batchItemFailures":[{"itemIdentifier":"m1"}]}`), []string{"r0", "r1", "r2"},
			Stats{Batches: 1, Messages: 3, Deleted: 3}},
		{"one reported failure stays", true, respond(`{"batchItemFailures":[{"itemIdentifier":"m1"}]}`), []string{"r0", "r2"},
			Stats{Batches: 1, Messages: 3, Deleted: 2, FailedItems: 1}},
		{"all reported", true, respond(`{"batchItemFailures":[{"itemIdentifier":"m0"},{"itemIdentifier":"m1"},{"itemIdentifier":"m2"}]}`), nil,
			Stats{Batches: 1, Messages: 3, FailedItems: 3}},
		{"empty response is success", true, respond(``), []string{"r0", "r1", "r2"},
			Stats{Batches: 1, Messages: 3, Deleted: 3}},
		{"null response is success", true, respond(`null`), []string{"r0", "r1", "r2"},
			Stats{Batches: 1, Messages: 3, Deleted: 3}},
		{"empty object is success", true, respond(`{}`), []string{"r0", "r1", "r2"},
			Stats{Batches: 1, Messages: 3, Deleted: 3}},
		{"empty list is success", true, respond(`{"batchItemFailures":[]}`), []string{"r0", "r1", "r2"},
			Stats{Batches: 1, Messages: 3, Deleted: 3}},
		{"null list is success", true, respond(`{"batchItemFailures":null}`), []string{"r0", "r1", "r2"},
			Stats{Batches: 1, Messages: 3, Deleted: 3}},
		{"unknown identifier fails the batch", true, respond(`{"batchItemFailures":[{"itemIdentifier":"m9"}]}`), nil,
			Stats{Batches: 1, Messages: 3, FailedItems: 3, InvalidResponses: 1}},
		{"empty identifier fails the batch", true, respond(`{"batchItemFailures":[{"itemIdentifier":""}]}`), nil,
			Stats{Batches: 1, Messages: 3, FailedItems: 3, InvalidResponses: 1}},
		{"null identifier fails the batch", true, respond(`{"batchItemFailures":[{"itemIdentifier":null}]}`), nil,
			Stats{Batches: 1, Messages: 3, FailedItems: 3, InvalidResponses: 1}},
		{"misspelt key fails the batch", true, respond(`{"batchItemFailures":[{"itemId":"m1"}]}`), nil,
			Stats{Batches: 1, Messages: 3, FailedItems: 3, InvalidResponses: 1}},
		{"response not JSON fails the batch", true, respond(`ok`), nil,
			Stats{Batches: 1, Messages: 3, FailedItems: 3, InvalidResponses: 1}},
		{"response a JSON string fails the batch", true, respond(`"ok"`), nil,
			Stats{Batches: 1, Messages: 3, FailedItems: 3, InvalidResponses: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &deleter{}
			c := &fakeClient{t: t, deleteBatch: d.deleteBatch}
			m := New(c, tt.fn, Config{QueueURL: "q", ReportBatchItemFailures: tt.report})
			m.handle(context.Background(), messages(3))
			if got := d.deleted(); !slices.Equal(got, tt.wantDeleted) {
				t.Errorf("deleted %v; want %v", got, tt.wantDeleted)
			}
			if got := m.Stats(); got != tt.wantStats {
				t.Errorf("Stats() = %+v; want %+v", got, tt.wantStats)
			}
		})
	}
}

func TestEvent(t *testing.T) {
	msg := types.Message{
		MessageId:              aws.String("059f36b4-87a3-44ab-83d2-661975830a7d"),
		ReceiptHandle:          aws.String("AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a"),
		Body:                   aws.String("test"),
		MD5OfBody:              aws.String("098f6bcd4621d373cade4e832627b4f6"),
		MD5OfMessageAttributes: aws.String("b25f48e8"),
		Attributes: map[string]string{
			"ApproximateReceiveCount":          "1",
			"SentTimestamp":                    "1545082649183",
			"SenderId":                         "AIDAIENQZJOLO23YVJ4VO",
			"ApproximateFirstReceiveTimestamp": "1545082649185",
		},
		MessageAttributes: map[string]types.MessageAttributeValue{
			"kind": {DataType: aws.String("String"), StringValue: aws.String("retry")},
		},
	}
	m := New(&fakeClient{t: t}, respond(""), Config{QueueURL: "q", QueueARN: "arn:aws:sqs:us-east-2:123456789012:my-queue", Region: "us-east-2"})
	got, err := json.Marshal(m.event([]types.Message{msg}))
	if err != nil {
		t.Fatal(err)
	}
	// The shape of Lambda's own SQS event (docs: "Example standard queue message event").
	want := `{"Records":[{"messageId":"059f36b4-87a3-44ab-83d2-661975830a7d","receiptHandle":"AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a","body":"test","md5OfBody":"098f6bcd4621d373cade4e832627b4f6","md5OfMessageAttributes":"b25f48e8",` +
		`"attributes":{"ApproximateFirstReceiveTimestamp":"1545082649185","ApproximateReceiveCount":"1","SenderId":"AIDAIENQZJOLO23YVJ4VO","SentTimestamp":"1545082649183"},` +
		`"messageAttributes":{"kind":{"stringValue":"retry","stringListValues":[],"binaryListValues":[],"dataType":"String"}},` +
		`"eventSourceARN":"arn:aws:sqs:us-east-2:123456789012:my-queue","eventSource":"aws:sqs","awsRegion":"us-east-2"}]}`
	if string(got) != want {
		t.Errorf("event =\n%s\nwant\n%s", got, want)
	}
	var back events.SQSEvent
	if err := json.Unmarshal(got, &back); err != nil || len(back.Records) != 1 || back.Records[0].Body != "test" {
		t.Errorf("round trip = %+v, %v", back, err)
	}
}

func TestDeleteRetriesFailedEntriesOnce(t *testing.T) {
	tests := []struct {
		name        string
		failures    int // consecutive calls in which entry "1" fails
		wantDeleted int64
		wantErrors  int64
	}{
		{"retry succeeds", 1, 12, 0},
		{"retry fails too", 2, 11, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			var sizes []int
			c := &fakeClient{t: t, deleteBatch: func(_ context.Context, in *sqs.DeleteMessageBatchInput) (*sqs.DeleteMessageBatchOutput, error) {
				calls++
				sizes = append(sizes, len(in.Entries))
				out := &sqs.DeleteMessageBatchOutput{}
				for _, e := range in.Entries {
					if aws.ToString(e.Id) == "1" && aws.ToString(e.ReceiptHandle) == "r1" && tt.failures > 0 {
						tt.failures--
						out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError"), SenderFault: false})
						continue
					}
					out.Successful = append(out.Successful, types.DeleteMessageBatchResultEntry{Id: e.Id})
				}
				return out, nil
			}}
			m := New(c, respond(""), Config{QueueURL: "q"})
			m.delete(context.Background(), messages(12)) // two requests: 10 and 2
			st := m.Stats()
			if st.Deleted != tt.wantDeleted || st.DeleteErrors != tt.wantErrors {
				t.Errorf("Deleted, DeleteErrors = %d, %d; want %d, %d", st.Deleted, st.DeleteErrors, tt.wantDeleted, tt.wantErrors)
			}
			if want := []int{10, 1, 2}; !slices.Equal(sizes, want) {
				t.Errorf("request sizes = %v; want %v (the failed entry retried alone)", sizes, want)
			}
		})
	}
}

func TestRunBacksOffOnReceiveErrors(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	d := &deleter{}
	c := &fakeClient{t: t, deleteBatch: d.deleteBatch}
	c.receive = func(ctx context.Context, in *sqs.ReceiveMessageInput) (*sqs.ReceiveMessageOutput, error) {
		calls++
		switch {
		case calls <= 5:
			return nil, errors.New("connection refused")
		case calls == 6:
			return &sqs.ReceiveMessageOutput{Messages: messages(1)}, nil
		case calls == 7:
			return nil, errors.New("connection refused again")
		}
		cancel()
		return nil, ctx.Err()
	}
	var invoked int
	m := New(c, InvokerFunc(func(context.Context, []byte) ([]byte, error) { invoked++; return nil, nil }), Config{QueueURL: "q"})
	var slept []time.Duration
	m.sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	m.backoffMax = time.Second
	if err := m.Run(ctx); err != nil {
		t.Fatalf("Run = %v; want nil after cancellation", err)
	}
	want := []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second, 200 * time.Millisecond}
	if !slices.Equal(slept, want) {
		t.Errorf("backoff = %v; want %v (doubling, capped, reset after a success)", slept, want)
	}
	if invoked != 1 || m.Stats().ReceiveErrors != 6 {
		t.Errorf("invoked %d, ReceiveErrors %d; want 1, 6", invoked, m.Stats().ReceiveErrors)
	}
}

func TestReceiveRequest(t *testing.T) {
	var got *sqs.ReceiveMessageInput
	c := &fakeClient{t: t, receive: func(_ context.Context, in *sqs.ReceiveMessageInput) (*sqs.ReceiveMessageOutput, error) {
		got = in
		return &sqs.ReceiveMessageOutput{}, nil
	}}
	m := New(c, respond(""), Config{QueueURL: "http://q", BatchSize: 7, WaitTime: 1500 * time.Millisecond})
	if _, err := m.collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.QueueUrl) != "http://q" || got.MaxNumberOfMessages != 7 || got.WaitTimeSeconds != 2 ||
		!slices.Equal(got.MessageSystemAttributeNames, []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}) ||
		!slices.Equal(got.MessageAttributeNames, []string{"All"}) {
		t.Errorf("ReceiveMessage input = %+v", got)
	}
}

func TestBatchingWindow(t *testing.T) {
	tests := []struct {
		name      string
		batchSize int
		perCall   []int // messages each receive returns
		wantMax   []int32
		wantWait  []int32
		wantBatch int
	}{
		{"fills the batch", 5, []int{2, 2, 2}, []int32{5, 3, 1}, []int32{1, 1, 1}, 5},
		// The window starts when the first receive returns (t = 0.6 s): receives at
		// 0.6 and 1.2 s still fall in it, the one ending at 1.8 s closes it.
		{"window ends first", 5, []int{1, 0, 0}, []int32{5, 4, 4}, []int32{1, 1, 1}, 1},
		{"more than ten", 25, []int{10, 10, 10}, []int32{10, 10, 5}, []int32{1, 1, 1}, 25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := time.Unix(0, 0)
			var maxes, waits []int32
			next := 0
			c := &fakeClient{t: t, receive: func(_ context.Context, in *sqs.ReceiveMessageInput) (*sqs.ReceiveMessageOutput, error) {
				maxes = append(maxes, in.MaxNumberOfMessages)
				waits = append(waits, in.WaitTimeSeconds)
				n := min(tt.perCall[len(maxes)-1], int(in.MaxNumberOfMessages))
				msgs := messages(next + n)[next:]
				next += n
				clock = clock.Add(600 * time.Millisecond) // each receive takes 0.6 s
				return &sqs.ReceiveMessageOutput{Messages: msgs}, nil
			}}
			m := New(c, respond(""), Config{QueueURL: "q", BatchSize: tt.batchSize, MaxBatchingWindow: time.Second})
			m.now = func() time.Time { return clock }
			msgs, err := m.collect(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != tt.wantBatch || !slices.Equal(maxes, tt.wantMax) || !slices.Equal(waits, tt.wantWait) {
				t.Errorf("batch of %d, MaxNumberOfMessages %v, WaitTimeSeconds %v; want %d, %v, %v",
					len(msgs), maxes, waits, tt.wantBatch, tt.wantMax, tt.wantWait)
			}
		})
	}
}

func TestRunReleasesBatchOnShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := false
	var released []string
	c := &fakeClient{t: t,
		receive: func(ctx context.Context, in *sqs.ReceiveMessageInput) (*sqs.ReceiveMessageOutput, error) {
			if served {
				<-ctx.Done()
				return nil, ctx.Err()
			}
			served = true
			return &sqs.ReceiveMessageOutput{Messages: messages(2)}, nil
		},
		changeVisibility: func(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
			if ctx.Err() != nil {
				t.Errorf("release called with a done context")
			}
			for _, e := range in.Entries {
				released = append(released, aws.ToString(e.ReceiptHandle))
			}
			return &sqs.ChangeMessageVisibilityBatchOutput{}, nil
		},
	}
	fn := InvokerFunc(func(ctx context.Context, _ []byte) ([]byte, error) {
		cancel() // shutdown while the function runs
		<-ctx.Done()
		return nil, ctx.Err()
	})
	m := New(c, fn, Config{QueueURL: "q"})
	if err := m.Run(ctx); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if !slices.Equal(released, []string{"r0", "r1"}) {
		t.Errorf("released %v; want [r0 r1]", released)
	}
	if st := m.Stats(); st.FunctionErrors != 0 || st.Deleted != 0 {
		t.Errorf("Stats = %+v; want no function error and nothing deleted", st)
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{{}, {QueueURL: "q", BatchSize: 11}} {
		if err := New(&fakeClient{t: t}, respond(""), cfg).Run(context.Background()); err == nil {
			t.Errorf("Run with %+v = nil; want an error", cfg)
		}
	}
}

package sqsmap_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventhub/eventhub/infra/local/emulators"
	"github.com/eventhub/eventhub/infra/local/sqsmap"
	"github.com/eventhub/eventhub/infra/local/template"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		if parent := filepath.Dir(dir); parent != dir {
			dir = parent
			continue
		}
		t.Fatal("go.mod not found above the test directory")
	}
}

// TestPartialBatchFailureOnFauxqs runs the mapping against a real fauxqs: of a batch
// of three, the function fails one; the other two are deleted and never seen again,
// the failed one comes back after the visibility timeout with a receive count of 2.
func TestPartialBatchFailureOnFauxqs(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed; fauxqs needs it")
	}
	root := repoRoot(t)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := emulators.EnsureInstalled(ctx, root, logger); err != nil {
		t.Fatalf("EnsureInstalled: %v", err)
	}
	emu, err := emulators.StartSQS(ctx, emulators.SQSConfig{RepoRoot: root, Logger: logger})
	if err != nil {
		t.Fatalf("StartSQS: %v", err)
	}
	defer emu.Stop()

	const region = "us-east-1"
	client := emulators.NewSQSClient(emu.Endpoint, region)
	tpl, err := template.Parse([]byte(`Resources:
  Retry:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 1
      RedrivePolicy: {deadLetterTargetArn: !GetAtt Dead.Arn, maxReceiveCount: 5}
  Dead: {Type: AWS::SQS::Queue}
`))
	if err != nil {
		t.Fatal(err)
	}
	queues, err := emulators.CreateQueues(ctx, client, tpl.Queues, map[string]string{"Retry": "retry", "Dead": "retry-dlq"})
	if err != nil {
		t.Fatalf("CreateQueues: %v", err)
	}
	q := queues["Retry"]
	_, err = client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &q.URL, Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("ok-1")},
		{Id: aws.String("b"), MessageBody: aws.String("fail")},
		{Id: aws.String("c"), MessageBody: aws.String("ok-2"), MessageAttributes: map[string]types.MessageAttributeValue{
			"attempt": {DataType: aws.String("Number"), StringValue: aws.String("1")},
		}},
	}})
	if err != nil {
		t.Fatalf("SendMessageBatch: %v", err)
	}

	var mu sync.Mutex
	var batches [][]events.SQSMessage
	redelivered := make(chan struct{})
	var once sync.Once
	fn := sqsmap.InvokerFunc(func(_ context.Context, payload []byte) ([]byte, error) {
		var ev events.SQSEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			t.Errorf("payload is not an SQS event: %v", err)
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		batches = append(batches, ev.Records)
		var resp events.SQSEventResponse
		for _, r := range ev.Records {
			if r.Body != "fail" {
				continue
			}
			if r.Attributes["ApproximateReceiveCount"] == "1" {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			} else {
				once.Do(func() { close(redelivered) })
			}
		}
		return json.Marshal(resp)
	})
	m := sqsmap.New(client, fn, sqsmap.Config{
		QueueURL: q.URL, QueueARN: q.ARN, Region: region,
		BatchSize: 10, ReportBatchItemFailures: true, Logger: logger,
	})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(runCtx) }()

	select {
	case <-redelivered:
	case <-time.After(20 * time.Second):
		t.Fatalf("the failed message was not delivered again; batches: %+v", batches)
	}
	// Give a wrongly kept message time to come back too (visibility timeout 1 s).
	time.Sleep(2500 * time.Millisecond)
	stop()
	if err := <-done; err != nil {
		t.Errorf("Run = %v; want nil", err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(batches) != 2 {
		t.Fatalf("%d invocations; want 2 (the batch of three, then the failed one): %+v", len(batches), batches)
	}
	first, second := batches[0], batches[1]
	var bodies []string
	for _, r := range first {
		bodies = append(bodies, r.Body)
		sum := md5.Sum([]byte(r.Body))
		switch {
		case r.EventSource != "aws:sqs" || r.EventSourceARN != q.ARN || r.AWSRegion != region:
			t.Errorf("record source = %q %q %q; want aws:sqs %q %q", r.EventSource, r.EventSourceARN, r.AWSRegion, q.ARN, region)
		case r.Md5OfBody != hex.EncodeToString(sum[:]):
			t.Errorf("md5OfBody = %s; want %x", r.Md5OfBody, sum)
		case r.ReceiptHandle == "" || r.MessageId == "":
			t.Errorf("record %+v lacks messageId or receiptHandle", r)
		}
		for _, a := range []string{"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} {
			if r.Attributes[a] == "" {
				t.Errorf("record %s lacks attribute %s: %v", r.Body, a, r.Attributes)
			}
		}
		if r.Body == "ok-2" {
			if a := r.MessageAttributes["attempt"]; a.DataType != "Number" || aws.ToString(a.StringValue) != "1" {
				t.Errorf("message attribute attempt = %+v; want Number 1", a)
			}
		}
	}
	if strings.Join(bodies, ",") != "ok-1,fail,ok-2" {
		t.Errorf("first batch = %v; want ok-1, fail, ok-2", bodies)
	}
	if len(second) != 1 || second[0].Body != "fail" || second[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Errorf("second batch = %+v; want only fail, received twice", second)
	}
	if st := m.Stats(); st.Batches != 2 || st.Messages != 4 || st.Deleted != 3 || st.FailedItems != 1 || st.FunctionErrors != 0 {
		t.Errorf("Stats = %+v; want 2 batches, 4 messages, 3 deleted, 1 failed item", st)
	}
	attrs, err := client.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: &q.URL, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	if attrs.Attributes["ApproximateNumberOfMessages"] != "0" || attrs.Attributes["ApproximateNumberOfMessagesNotVisible"] != "0" {
		t.Errorf("queue afterwards: %v; want it empty", attrs.Attributes)
	}
}

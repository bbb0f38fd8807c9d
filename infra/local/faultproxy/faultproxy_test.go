package faultproxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	stypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// upstream counts the requests it gets and answers each with an empty JSON object.
func upstream(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		n.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		// {} has the CRC32 2745614147, which DynamoDB would send.
		w.Header().Set("X-Amz-Crc32", "2745614147")
		_, _ = io.WriteString(w, "{}")
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func serve(t *testing.T, h http.Handler, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

var creds = credentials.NewStaticCredentialsProvider("local", "local", "")

func TestDynamoDBThrottle(t *testing.T) {
	up, forwarded := upstream(t)
	var asked []string
	throttleNext := 0
	h, err := DynamoDB(up.URL, func(op string) bool {
		asked = append(asked, op)
		if throttleNext > 0 {
			throttleNext--
			return true
		}
		return false
	})
	url := serve(t, h, err)
	client := func(attempts int) *dynamodb.Client {
		return dynamodb.New(dynamodb.Options{
			Region: "us-east-1", Credentials: creds, BaseEndpoint: aws.String(url),
			Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = attempts
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			}),
		})
	}
	in := &dynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]dtypes.AttributeValue{"pk": &dtypes.AttributeValueMemberS{Value: "a"}}}

	throttleNext = 1
	if _, err := client(1).GetItem(context.Background(), in); !errors.As(err, new(*dtypes.ProvisionedThroughputExceededException)) {
		t.Fatalf("GetItem through a throttling proxy = %v; want ProvisionedThroughputExceededException", err)
	}
	if asked[0] != "GetItem" || forwarded.Load() != 0 {
		t.Errorf("asked %v, forwarded %d; want [GetItem] and nothing forwarded", asked, forwarded.Load())
	}

	throttleNext = 2 // the SDK's standard retryer makes three attempts
	if _, err := client(3).GetItem(context.Background(), in); err != nil {
		t.Fatalf("GetItem retried by the SDK = %v; want success on the third attempt", err)
	}
	if forwarded.Load() != 1 {
		t.Errorf("forwarded %d requests; want the third attempt only", forwarded.Load())
	}
}

func TestSQSDropDelete(t *testing.T) {
	up, forwarded := upstream(t)
	drop := true
	var asked []string
	h, err := SQS(up.URL, func(op string) bool { asked = append(asked, op); return drop })
	client := sqs.New(sqs.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: aws.String(serve(t, h, err))})
	ctx := context.Background()
	q := aws.String("http://sqs.local/000000000000/q")

	out, err := client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: q, Entries: []stypes.DeleteMessageBatchRequestEntry{
		{Id: aws.String("0"), ReceiptHandle: aws.String("rh0")}, {Id: aws.String("1"), ReceiptHandle: aws.String("rh1")},
	}})
	if err != nil || len(out.Successful) != 2 || len(out.Failed) != 0 || *out.Successful[1].Id != "1" {
		t.Fatalf("DeleteMessageBatch through a dropping proxy = %+v, %v; want both entries reported deleted", out, err)
	}
	if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q, ReceiptHandle: aws.String("rh")}); err != nil {
		t.Fatalf("DeleteMessage through a dropping proxy = %v; want success", err)
	}
	if forwarded.Load() != 0 {
		t.Errorf("forwarded %d requests; want the deletes dropped", forwarded.Load())
	}

	// Other operations are never asked about, and deletes pass when drop says so.
	drop = false
	if _, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("q")}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q, ReceiptHandle: aws.String("rh")}); err != nil {
		t.Fatal(err)
	}
	if forwarded.Load() != 2 {
		t.Errorf("forwarded %d requests; want 2", forwarded.Load())
	}
	want := []string{"DeleteMessageBatch", "DeleteMessage", "DeleteMessage"}
	if len(asked) != len(want) {
		t.Fatalf("asked about %v; want %v", asked, want)
	}
	for i := range want {
		if asked[i] != want[i] {
			t.Errorf("asked about %v; want %v", asked, want)
		}
	}
}

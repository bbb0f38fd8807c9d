package faultproxy

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
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

// sqsUpstream answers DeleteMessageBatch with every entry deleted and records the
// entries it got; other operations get {}.
func sqsUpstream(t *testing.T) (*httptest.Server, *[]string) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Entries []struct{ Id string } }
		_ = json.NewDecoder(r.Body).Decode(&in)
		out := struct{ Successful, Failed []map[string]string }{Successful: []map[string]string{}, Failed: []map[string]string{}}
		mu.Lock()
		got = append(got, r.Header.Get("X-Amz-Target"))
		for _, e := range in.Entries {
			got = append(got, e.Id)
			out.Successful = append(out.Successful, map[string]string{"Id": e.Id})
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func TestSQSDropDelete(t *testing.T) {
	up, forwarded := sqsUpstream(t)
	var drops []bool // answers of drop, in turn; then false
	var asked []string
	h, err := SQS(up.URL, func(op string) bool {
		asked = append(asked, op)
		if len(drops) == 0 {
			return false
		}
		d := drops[0]
		drops = drops[1:]
		return d
	})
	client := sqs.New(sqs.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: aws.String(serve(t, h, err))})
	ctx := context.Background()
	q := aws.String("http://sqs.local/000000000000/q")
	batch := func() *sqs.DeleteMessageBatchOutput {
		t.Helper()
		out, err := client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: q, Entries: []stypes.DeleteMessageBatchRequestEntry{
			{Id: aws.String("0"), ReceiptHandle: aws.String("rh0")}, {Id: aws.String("1"), ReceiptHandle: aws.String("rh1")}, {Id: aws.String("2"), ReceiptHandle: aws.String("rh2")},
		}})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	ids := func(out *sqs.DeleteMessageBatchOutput) string {
		var s []string
		for _, e := range out.Successful {
			s = append(s, *e.Id)
		}
		sort.Strings(s)
		return strings.Join(s, ",")
	}

	// Every entry dropped: nothing reaches SQS, all are reported deleted.
	drops = []bool{true, true, true}
	if out := batch(); ids(out) != "0,1,2" || len(out.Failed) != 0 {
		t.Errorf("all dropped: Successful %s, Failed %v; want 0,1,2 and none", ids(out), out.Failed)
	}
	if len(*forwarded) != 0 {
		t.Errorf("all dropped: SQS got %v; want nothing", *forwarded)
	}
	// One dropped: SQS deletes the others, the answer reports all three.
	drops = []bool{false, true, false}
	if out := batch(); ids(out) != "0,1,2" {
		t.Errorf("one dropped: Successful %s; want 0,1,2", ids(out))
	}
	if got := strings.Join(*forwarded, " "); got != "AmazonSQS.DeleteMessageBatch 0 2" {
		t.Errorf("one dropped: SQS got %q; want entries 0 and 2", got)
	}
	// DeleteMessage dropped, then passed.
	*forwarded = nil
	drops = []bool{true}
	for range 2 {
		if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q, ReceiptHandle: aws.String("rh")}); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Join(*forwarded, " "); got != "AmazonSQS.DeleteMessage" {
		t.Errorf("SQS got %q; want the second DeleteMessage only", got)
	}
	// Other operations pass without being asked about.
	n := len(asked)
	if _, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("q")}); err != nil {
		t.Fatal(err)
	}
	if len(asked) != n {
		t.Errorf("asked about GetQueueUrl; want only deletes")
	}
}

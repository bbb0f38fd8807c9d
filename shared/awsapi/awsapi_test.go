package awsapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/eventhub/eventhub/shared/awsapi"
)

var svc = awsapi.Service{SDKID: "DynamoDB", SigningName: "dynamodb", TargetPrefix: "DynamoDB_20120810", JSONVersion: "1.0"}

func client(url string) *awsapi.Client {
	return awsapi.New(awsapi.Config{
		Region:       "eu-west-1",
		Credentials:  aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "SECRET", SessionToken: "TOKEN"},
		BaseEndpoint: url,
		Backoff:      func(int) time.Duration { return time.Millisecond },
	}, svc)
}

func TestRequestIsSignedJSON(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		for h, want := range map[string]string{
			"Content-Type":         "application/x-amz-json-1.0",
			"X-Amz-Target":         "DynamoDB_20120810.GetItem",
			"X-Amz-Security-Token": "TOKEN",
		} {
			if got := r.Header.Get(h); got != want {
				t.Errorf("%s = %q; want %q", h, got, want)
			}
		}
		auth := r.Header.Get("Authorization")
		if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKID/") || !strings.Contains(auth, "/eu-west-1/dynamodb/aws4_request") {
			t.Errorf("Authorization = %q", auth)
		}
		if r.Method != http.MethodPost || r.URL.Path != "/" || string(body) != `{"TableName":"t"}` {
			t.Errorf("%s %s %s", r.Method, r.URL.Path, body)
		}
		_, _ = io.WriteString(w, `{"Item":{"pk":{"S":"a"}}}`)
	}))
	defer srv.Close()
	var out struct{ Item map[string]map[string]string }
	if err := client(srv.URL).Do(context.Background(), "GetItem", map[string]string{"TableName": "t"}, &out); err != nil {
		t.Fatal(err)
	}
	if out.Item["pk"]["S"] != "a" {
		t.Errorf("out = %+v", out)
	}
}

func TestErrorsAndRetries(t *testing.T) {
	for _, c := range []struct {
		name     string
		status   int
		header   string
		body     string
		code     string
		attempts int32
	}{
		{"throttled", 400, "", `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}`, "ProvisionedThroughputExceededException", 3},
		{"condition", 400, "", `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}`, "ConditionalCheckFailedException", 1},
		{"server", 500, "", `{"__type":"com.amazon.coral.service#InternalFailure"}`, "InternalFailure", 3},
		{"sqs header", 400, "AWS.SimpleQueueService.NonExistentQueue;Sender", `{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"no queue"}`, "QueueDoesNotExist", 1},
		{"errortype header", 400, "", `{"Message":"m"}`, "ValidationException", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				if c.header != "" {
					w.Header().Set("X-Amzn-Query-Error", c.header)
				}
				if c.code == "ValidationException" {
					w.Header().Set("X-Amzn-Errortype", "ValidationException:http://internal.amazon.com/coral/com.amazon.coral.validate/")
				}
				w.WriteHeader(c.status)
				_, _ = io.WriteString(w, c.body)
			}))
			defer srv.Close()
			err := client(srv.URL).Do(context.Background(), "PutItem", struct{}{}, nil)
			var ae *awsapi.Error
			if !errors.As(err, &ae) || ae.Code != c.code || ae.StatusCode != c.status {
				t.Fatalf("err = %v; want code %s", err, c.code)
			}
			if got := n.Load(); got != c.attempts {
				t.Errorf("attempts = %d; want %d", got, c.attempts)
			}
		})
	}
}

func TestRetryThenSuccess(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.WriteHeader(503)
			return
		}
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()
	var out struct{ OK bool }
	if err := client(srv.URL).Do(context.Background(), "Query", struct{}{}, &out); err != nil || !out.OK {
		t.Fatalf("Do = %v, %+v", err, out)
	}
	if n.Load() != 2 {
		t.Errorf("attempts = %d; want 2", n.Load())
	}
}

func TestTransportErrorIsRetriedAndCanceledIsNot(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	url := srv.URL
	srv.Close() // connection refused
	err := client(url).Do(context.Background(), "GetItem", struct{}{}, nil)
	if err == nil || !awsapi.Retryable(errors.Unwrap(err)) {
		t.Fatalf("err = %v; want a retryable transport error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = client(url).Do(ctx, "GetItem", struct{}{}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want context.Canceled", err)
	}
}

func TestEndpoints(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-2")
	t.Setenv("AWS_ENDPOINT_URL", "http://base")
	t.Setenv("AWS_ENDPOINT_URL_SQS", "http://sqs")
	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "")
	cfg := awsapi.FromEnv()
	sqs := awsapi.Service{SDKID: "SQS", SigningName: "sqs"}
	if got := cfg.Endpoint(sqs); got != "http://sqs" {
		t.Errorf("SQS = %q", got)
	}
	if got := cfg.Endpoint(svc); got != "http://base" {
		t.Errorf("DynamoDB = %q", got)
	}
	cfg.BaseEndpoint = ""
	if got := cfg.Endpoint(svc); got != "https://dynamodb.us-east-2.amazonaws.com" {
		t.Errorf("DynamoDB default = %q", got)
	}
}

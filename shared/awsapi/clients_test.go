package awsapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/eventhub/eventhub/shared/awsapi"
	"github.com/eventhub/eventhub/shared/awsapi/dynamodb"
	"github.com/eventhub/eventhub/shared/awsapi/dynamodb/types"
	"github.com/eventhub/eventhub/shared/awsapi/eventbridge"
	ebtypes "github.com/eventhub/eventhub/shared/awsapi/eventbridge/types"
	"github.com/eventhub/eventhub/shared/awsapi/sqs"
	sqstypes "github.com/eventhub/eventhub/shared/awsapi/sqs/types"
)

// fakeService answers each X-Amz-Target with a canned body and records the requests.
type fakeService struct {
	answers map[string]string
	status  int
	got     map[string]json.RawMessage
}

func (f *fakeService) start(t *testing.T) awsapi.Config {
	f.got = map[string]json.RawMessage{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		target := r.Header.Get("X-Amz-Target")
		f.got[target] = body
		if f.status != 0 {
			w.WriteHeader(f.status)
		}
		_, _ = io.WriteString(w, f.answers[target])
	}))
	t.Cleanup(srv.Close)
	return awsapi.Config{Region: "us-east-1", Credentials: aws.Credentials{AccessKeyID: "a", SecretAccessKey: "s"}, BaseEndpoint: srv.URL, MaxAttempts: 1}
}

func TestBatchGetItemUnprocessedKeys(t *testing.T) {
	f := &fakeService{answers: map[string]string{"DynamoDB_20120810.BatchGetItem": `{
		"Responses":{"t":[{"pk":{"S":"a"},"n":{"N":"1"}}]},
		"UnprocessedKeys":{"t":{"Keys":[{"pk":{"S":"b"},"sk":{"S":"EVENT"}}],"ConsistentRead":true}}}`}}
	db := dynamodb.New(f.start(t))
	out, err := db.BatchGetItem(context.Background(), &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		"t": {Keys: []map[string]types.AttributeValue{{"pk": &types.AttributeValueMemberS{Value: "a"}}, {"pk": &types.AttributeValueMemberS{Value: "b"}}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Responses["t"]) != 1 || out.Responses["t"][0]["n"].(*types.AttributeValueMemberN).Value != "1" {
		t.Errorf("Responses = %#v", out.Responses)
	}
	if k := out.UnprocessedKeys["t"].Keys; len(k) != 1 || k[0]["pk"].(*types.AttributeValueMemberS).Value != "b" {
		t.Errorf("UnprocessedKeys = %#v", out.UnprocessedKeys)
	}
	if got := string(f.got["DynamoDB_20120810.BatchGetItem"]); got != `{"RequestItems":{"t":{"Keys":[{"pk":{"S":"a"}},{"pk":{"S":"b"}}]}}}` {
		t.Errorf("request = %s", got)
	}
}

func TestQueryAndConditionFailure(t *testing.T) {
	f := &fakeService{answers: map[string]string{"DynamoDB_20120810.Query": `{"Count":1,"Items":[{"pk":{"S":"a"}}],"LastEvaluatedKey":{"pk":{"S":"a"}},"ScannedCount":3}`}}
	db := dynamodb.New(f.start(t))
	out, err := db.Query(context.Background(), &dynamodb.QueryInput{TableName: aws.String("t"), Limit: aws.Int32(1), ScanIndexForward: aws.Bool(false)})
	if err != nil || len(out.Items) != 1 || out.LastEvaluatedKey == nil || out.ScannedCount != 3 {
		t.Fatalf("Query = %+v, %v", out, err)
	}
	if got := string(f.got["DynamoDB_20120810.Query"]); got != `{"TableName":"t","Limit":1,"ScanIndexForward":false}` {
		t.Errorf("request = %s", got)
	}

	f.status = 400
	f.answers["DynamoDB_20120810.PutItem"] = `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed","Item":{"pk":{"S":"old"}}}`
	_, err = db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("t"), ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) || ccf.Item["pk"].(*types.AttributeValueMemberS).Value != "old" {
		t.Fatalf("PutItem err = %v", err)
	}
	if got := string(f.got["DynamoDB_20120810.PutItem"]); got != `{"TableName":"t","ReturnValuesOnConditionCheckFailure":"ALL_OLD"}` {
		t.Errorf("request = %s", got)
	}
}

func TestPutEventsPartialFailure(t *testing.T) {
	f := &fakeService{answers: map[string]string{"AWSEvents.PutEvents": `{"Entries":[{"EventId":"1"},{"ErrorCode":"InternalFailure","ErrorMessage":"boom"}],"FailedEntryCount":1}`}}
	eb := eventbridge.New(f.start(t))
	out, err := eb.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{Source: aws.String("s"), DetailType: aws.String("d"), Detail: aws.String("{}"), EventBusName: aws.String("b")},
		{Source: aws.String("s"), DetailType: aws.String("d"), Detail: aws.String("{}")},
	}})
	if err != nil || out.FailedEntryCount != 1 || aws.ToString(out.Entries[1].ErrorCode) != "InternalFailure" || aws.ToString(out.Entries[0].EventId) != "1" {
		t.Fatalf("PutEvents = %+v, %v", out, err)
	}
	if got := string(f.got["AWSEvents.PutEvents"]); got != `{"Entries":[{"Detail":"{}","DetailType":"d","EventBusName":"b","Source":"s"},{"Detail":"{}","DetailType":"d","Source":"s"}]}` {
		t.Errorf("request = %s", got)
	}
}

func TestSQSCalls(t *testing.T) {
	f := &fakeService{answers: map[string]string{
		"AmazonSQS.SendMessageBatch": `{"Successful":[{"Id":"0","MessageId":"m0"}],"Failed":[{"Id":"1","Code":"InternalError","SenderFault":false,"Message":"try again"}]}`,
		"AmazonSQS.ReceiveMessage":   `{"Messages":[{"MessageId":"m","ReceiptHandle":"r","Body":"b"}]}`,
		"AmazonSQS.DeleteMessage":    ``,
	}}
	q := sqs.New(f.start(t))
	ctx := context.Background()
	out, err := q.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String("http://q"), Entries: []sqstypes.SendMessageBatchRequestEntry{
		{Id: aws.String("0"), MessageBody: aws.String("a")}, {Id: aws.String("1"), MessageBody: aws.String("b"), DelaySeconds: 5},
	}})
	if err != nil || len(out.Failed) != 1 || aws.ToString(out.Failed[0].Code) != "InternalError" || len(out.Successful) != 1 {
		t.Fatalf("SendMessageBatch = %+v, %v", out, err)
	}
	if got := string(f.got["AmazonSQS.SendMessageBatch"]); got != `{"QueueUrl":"http://q","Entries":[{"Id":"0","MessageBody":"a"},{"Id":"1","MessageBody":"b","DelaySeconds":5}]}` {
		t.Errorf("request = %s", got)
	}
	rcv, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String("http://q"), MaxNumberOfMessages: 10, VisibilityTimeout: 60})
	if err != nil || len(rcv.Messages) != 1 || aws.ToString(rcv.Messages[0].ReceiptHandle) != "r" {
		t.Fatalf("ReceiveMessage = %+v, %v", rcv, err)
	}
	if _, err := q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String("http://q"), ReceiptHandle: aws.String("r")}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String("http://q"), ReceiptHandle: aws.String("r")}); err != nil {
		t.Fatal(err)
	}
	if got := string(f.got["AmazonSQS.ChangeMessageVisibility"]); got != `{"QueueUrl":"http://q","ReceiptHandle":"r","VisibilityTimeout":0}` {
		t.Errorf("request = %s", got)
	}

	f.status = 400
	f.answers["AmazonSQS.SendMessage"] = `{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}`
	_, err = q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String("http://q"), MessageBody: aws.String("x")})
	var qdne *sqstypes.QueueDoesNotExist
	if !errors.As(err, &qdne) {
		t.Fatalf("SendMessage err = %v", err)
	}
}

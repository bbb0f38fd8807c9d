package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// fakeInvoke records asynchronous invocations, by function; a synchronous one is an
// error.
type fakeInvoke struct {
	calls map[string][]string
	err   error
}

func (f *fakeInvoke) Invoke(_ context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	if in.InvocationType != types.InvocationTypeEvent {
		return nil, fmt.Errorf("InvocationType %q; want Event", in.InvocationType)
	}
	if f.calls == nil {
		f.calls = map[string][]string{}
	}
	function := aws.ToString(in.FunctionName)
	f.calls[function] = append(f.calls[function], string(in.Payload))
	return &lambda.InvokeOutput{StatusCode: 202}, nil
}

const pipelineDLQ = "http://sqs/pipeline-dlq"

func TestRedrivePipeline(t *testing.T) {
	batch := `{"events":[{"event":{"specversion":"1.0","id":"1","source":"/s","type":"t"},"hub":{"requestId":"r1"}}]}`
	onFailure := `{"version":"1.0","timestamp":"2026-03-14T15:10:02.114Z","requestContext":{"requestId":"inv-1","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:eventhub-persist:$LATEST","condition":"RetriesExhausted","approximateInvokeCount":3},"requestPayload":` + batch + `,"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},"responsePayload":{"errorMessage":"throttled"}}`
	stored := `{"version":"0","id":"eb-1","detail-type":"Event Stored","source":"eventhub.persist","account":"123456789012","time":"2026-03-14T15:10:02Z","region":"us-east-1","resources":[],"detail":{"event":{"specversion":"1.0","id":"1","source":"/s","type":"t"},"hub":{"key":"evt_x"}}}`
	foreign := strings.Replace(onFailure, "function:eventhub-persist", "function:someone-else", 1)
	userEntry := strings.Replace(stored, `"detail-type":"Event Stored"`, `"detail-type":"Order Placed"`, 1)

	q := &fakeQueues{queues: map[string][]string{pipelineDLQ: {onFailure, stored, foreign, userEntry, "not json"}}}
	inv := &fakeInvoke{}
	h := newTestHandler(newMemStore())
	h.pipeline = pipelineDeps{queue: q, dlqURL: pipelineDLQ, invoke: inv, functions: map[string]string{
		"Event Received": "eventhub-normalize", "Event Normalized": "eventhub-persist", "Event Stored": "eventhub-notify",
	}}
	resp, err := h.handle(context.Background(), request("POST /pipeline/redrive", "/pipeline/redrive", nil, ""))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("redrive = %d %s, %v; want 200", resp.StatusCode, resp.Body, err)
	}
	var got struct {
		Moved   int            `json:"moved"`
		Skipped map[string]int `json:"skipped"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
		t.Fatal(err)
	}
	wantSkipped := map[string]int{"not a pipeline function": 1, "not a pipeline entry": 1, "unreadable": 1}
	if got.Moved != 2 || len(got.Skipped) != 3 || got.Skipped["unreadable"] != 1 || got.Skipped["not a pipeline function"] != 1 || got.Skipped["not a pipeline entry"] != 1 {
		t.Errorf("answer = %+v; want 2 moved, skipped %v", got, wantSkipped)
	}
	if p := inv.calls["eventhub-persist"]; len(p) != 1 || p[0] != batch {
		t.Errorf("persist got %v; want the on-failure record's request payload", p)
	}
	if p := inv.calls["eventhub-notify"]; len(p) != 1 || p[0] != stored {
		t.Errorf("notify got %v; want the bus entry", p)
	}
	if left := q.visible(pipelineDLQ); len(left) != 0 || q.deleted != 2 {
		t.Errorf("deleted %d messages, %d visible; want the 2 redriven deleted and the others received (hidden)", q.deleted, len(left))
	}
}

func TestRedrivePipelineFails(t *testing.T) {
	stored := `{"detail-type":"Event Stored","detail":{"event":{}}}`
	for _, tc := range []struct {
		name, body string
		invokeErr  error
		status     int
	}{
		{name: "bad max", body: `{"max":-1}`, status: 400},
		{name: "invoke fails: nothing deleted", invokeErr: errors.New("TooManyRequestsException"), status: 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := &fakeQueues{queues: map[string][]string{pipelineDLQ: {stored}}}
			h := newTestHandler(newMemStore())
			h.pipeline = pipelineDeps{queue: q, dlqURL: pipelineDLQ, invoke: &fakeInvoke{err: tc.invokeErr}, functions: map[string]string{"Event Stored": "eventhub-notify"}}
			resp, _ := h.handle(context.Background(), request("POST /pipeline/redrive", "/pipeline/redrive", nil, tc.body))
			if resp.StatusCode != tc.status {
				t.Errorf("status = %d %s; want %d", resp.StatusCode, resp.Body, tc.status)
			}
			if q.deleted != 0 {
				t.Errorf("deleted %d; want none", q.deleted)
			}
		})
	}
}

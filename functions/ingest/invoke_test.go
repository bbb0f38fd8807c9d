package main

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

type fakeLambda struct {
	invoke func(in *lambda.InvokeInput) (*lambda.InvokeOutput, error)
}

func (f fakeLambda) Invoke(_ context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	return f.invoke(in)
}

func TestAsyncInvoker(t *testing.T) {
	var got *lambda.InvokeInput
	inv := asyncInvoker{fakeLambda{func(in *lambda.InvokeInput) (*lambda.InvokeOutput, error) {
		got = in
		return &lambda.InvokeOutput{StatusCode: 202}, nil
	}}}
	if err := inv.InvokeAsync(context.Background(), "eventhub-persist", []byte(`{"events":[]}`)); err != nil {
		t.Fatalf("InvokeAsync = %v; want nil", err)
	}
	if aws.ToString(got.FunctionName) != "eventhub-persist" || got.InvocationType != types.InvocationTypeEvent || string(got.Payload) != `{"events":[]}` {
		t.Errorf("Invoke(%q, %q, %s); want eventhub-persist, Event and the payload", aws.ToString(got.FunctionName), got.InvocationType, got.Payload)
	}

	throttled := errors.New("TooManyRequestsException")
	inv = asyncInvoker{fakeLambda{func(*lambda.InvokeInput) (*lambda.InvokeOutput, error) { return nil, throttled }}}
	if err := inv.InvokeAsync(context.Background(), "eventhub-persist", []byte(`{}`)); !errors.Is(err, throttled) {
		t.Errorf("InvokeAsync = %v; want the client's error", err)
	}
}

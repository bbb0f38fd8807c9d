package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// invokeAPI is the Lambda call the handoff to persist makes.
type invokeAPI interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// asyncInvoker queues invocations through the SDK's Lambda client, as bus.Handoff
// asks (bus.InvokeAPI): Invoke with InvocationType Event, which returns once Lambda
// has accepted the payload.
type asyncInvoker struct{ api invokeAPI }

func (a asyncInvoker) InvokeAsync(ctx context.Context, function string, payload []byte) error {
	_, err := a.api.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   &function,
		InvocationType: types.InvocationTypeEvent,
		Payload:        payload,
	})
	return err
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eventhub/eventhub/shared/apigw"
)

// invokeAPI is the Lambda call the pipeline redrive makes: an asynchronous invocation
// (InvocationType Event) of the function that failed the message.
type invokeAPI interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// pipelineDeps are what POST /pipeline/redrive needs: the pipeline dead-letter queue
// and the functions whose failed invocations land there, by physical name.
type pipelineDeps struct {
	queue  deliveryQueue
	dlqURL string
	invoke invokeAPI
	// functions are the pipeline's functions by the detail type of the bus entries
	// their rules take (Event Received: normalize, Event Normalized: persist, Event
	// Stored: notify).
	functions map[string]string
}

func (h *handler) pipelineRoutes() map[string]route {
	return map[string]route{"POST /pipeline/redrive": h.redrivePipeline}
}

// redrivePipeline answers POST /pipeline/redrive: what the pipeline's retries could
// not place, sent to the function that failed it again. The pipeline dead-letter queue
// holds two kinds of messages: Lambda's on-failure records of asynchronous
// invocations (a rule's invocation whose retries ran out, or an older ingest's handoff
// to persist), re-invoked with their request payload; and bus entries a rule could not
// deliver to its function, invoked with the entry. Every function of the pipeline is
// idempotent, so a message redriven twice does no harm. Messages naming no function of
// the pipeline stay in the queue and are counted as skipped.
func (h *handler) redrivePipeline(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	var in struct {
		Max int `json:"max"`
	}
	if body, _ := apigw.Body(req); len(body) > 0 {
		if err := decode(req, &in); err != nil {
			return apigw.Response{}, err
		}
	}
	p := h.pipeline
	if p.queue == nil || p.invoke == nil {
		return apigw.Response{}, fmt.Errorf("no pipeline dead-letter queue configured")
	}
	return redrive(ctx, p.queue, p.dlqURL, "the pipeline dead-letter queue", in.Max, func(body string) (string, error) {
		function, payload, why := p.target(body)
		if why != "" {
			return why, nil
		}
		_, err := p.invoke.Invoke(ctx, &lambda.InvokeInput{
			FunctionName:   &function,
			InvocationType: types.InvocationTypeEvent,
			Payload:        payload,
		})
		if err != nil {
			return "", fmt.Errorf("redrive to %s: %w", function, err)
		}
		return "", nil
	})
}

// target returns the function a dead-lettered message goes back to and its payload,
// or why it stays.
func (p *pipelineDeps) target(body string) (function string, payload []byte, why string) {
	var msg struct {
		RequestContext *struct {
			FunctionARN string `json:"functionArn"`
		} `json:"requestContext"`
		RequestPayload json.RawMessage `json:"requestPayload"`
		DetailType     string          `json:"detail-type"`
		Detail         json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal([]byte(body), &msg); err != nil {
		return "", nil, "unreadable"
	}
	switch {
	case msg.RequestContext != nil:
		// arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
		name := msg.RequestContext.FunctionARN
		if i := strings.Index(name, ":function:"); i >= 0 {
			name = name[i+len(":function:"):]
		}
		name, _, _ = strings.Cut(name, ":")
		for _, f := range p.functions {
			if f == name && len(msg.RequestPayload) > 0 {
				return f, msg.RequestPayload, ""
			}
		}
		return "", nil, "not a pipeline function"
	case msg.DetailType != "" && len(msg.Detail) > 0:
		if f, ok := p.functions[msg.DetailType]; ok {
			return f, []byte(body), ""
		}
		return "", nil, "not a pipeline entry"
	}
	return "", nil, "unreadable"
}

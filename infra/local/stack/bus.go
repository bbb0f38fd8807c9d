package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventhub/eventhub/infra/local/eventbridge"
	"github.com/eventhub/eventhub/infra/local/template"
	"github.com/eventhub/eventhub/shared/webhook"
)

// templateRules returns the template's rules for the bus emulator: each function's
// EventBridgeRule events (a rule targeting the function) and each AWS::Events::Rule.
// What a rule asks for that the local stack cannot do is logged as a warning naming
// the resource, and left out.
func (st *Stack) templateRules(tpl *template.Template, locals *template.Locals) ([]eventbridge.Rule, error) {
	var rules []eventbridge.Rule
	for _, f := range tpl.Functions {
		for _, r := range f.Rules {
			where := f.LogicalID + "." + r.Name
			busName, err := r.EventBusName.Resolve(locals)
			if err != nil {
				return nil, fmt.Errorf("rule %s bus: %w", where, err)
			}
			name := f.LogicalID + r.Name
			if !r.RuleName.IsZero() {
				if name, err = r.RuleName.Resolve(locals); err != nil {
					return nil, fmt.Errorf("rule %s name: %w", where, err)
				}
			}
			t := types.Target{
				Id:  aws.String(f.LogicalID + r.Name + "LambdaTarget"),
				Arn: aws.String(functionARN(f.LogicalID)),
				RetryPolicy: &types.RetryPolicy{
					MaximumRetryAttempts:     aws.Int32(int32(r.RetryPolicy.MaximumRetryAttempts)),
					MaximumEventAgeInSeconds: aws.Int32(int32(r.RetryPolicy.MaximumEventAgeInSeconds)),
				},
				InputTransformer: inputTransformer(r.InputTransformer),
			}
			if r.Input != "" {
				t.Input = aws.String(r.Input)
			}
			if r.InputPath != "" {
				t.InputPath = aws.String(r.InputPath)
			}
			if r.DeadLetterConfig != nil {
				arn, err := r.DeadLetterConfig.Arn.Resolve(locals)
				if err != nil {
					return nil, fmt.Errorf("rule %s dead-letter queue: %w", where, err)
				}
				if _, ok := st.queueByARN[arn]; !ok {
					return nil, fmt.Errorf("rule %s dead-letter queue %s is not a queue of the template", where, arn)
				}
				t.DeadLetterConfig = &types.DeadLetterConfig{Arn: aws.String(arn)}
			}
			rules = append(rules, eventbridge.Rule{
				Name: name, Bus: busOfARN(busName), EventPattern: string(r.Pattern), State: r.State,
				Targets: []types.Target{t},
			})
		}
	}
	for _, r := range tpl.EventRules {
		rule, ok := st.eventRule(r, locals)
		if ok {
			rules = append(rules, rule)
		}
	}
	return rules, nil
}

// eventRule turns an AWS::Events::Rule into a rule of the bus emulator, or says why
// it cannot (a warning naming the resource) and reports false.
func (st *Stack) eventRule(r template.EventRule, locals *template.Locals) (eventbridge.Rule, bool) {
	log := st.log.With("resource", r.LogicalID)
	if r.EventPattern.IsZero() {
		return eventbridge.Rule{}, false // a schedule: the template warned about it
	}
	name := r.LogicalID
	if !r.Name.IsZero() {
		n, err := r.Name.Resolve(locals)
		if err != nil {
			log.Warn("AWS::Events::Rule left out: its Name does not resolve locally", "err", err)
			return eventbridge.Rule{}, false
		}
		name = n
	}
	busName, err := r.EventBusName.Resolve(locals)
	if err != nil {
		log.Warn("AWS::Events::Rule left out: its EventBusName does not resolve locally", "err", err)
		return eventbridge.Rule{}, false
	}
	p, err := r.EventPattern.ResolveAll(locals)
	if err != nil {
		log.Warn("AWS::Events::Rule left out: its EventPattern does not resolve locally", "err", err)
		return eventbridge.Rule{}, false
	}
	pattern, ok := p.(string) // CloudFormation takes the pattern as a JSON string too
	if !ok {
		b, err := json.Marshal(p)
		if err != nil {
			log.Warn("AWS::Events::Rule left out: its EventPattern is not JSON", "err", err)
			return eventbridge.Rule{}, false
		}
		pattern = string(b)
	}
	rule := eventbridge.Rule{Name: name, Bus: busOfARN(busName), EventPattern: pattern, State: r.State, Description: r.Description}
	for _, et := range r.Targets {
		t, err := st.eventTarget(et, locals)
		if err != nil {
			log.Warn("AWS::Events::Rule target left out: the local stack cannot deliver to it", "targetId", et.ID, "err", err)
			continue
		}
		rule.Targets = append(rule.Targets, t)
	}
	return rule, true
}

func (st *Stack) eventTarget(et template.EventTarget, locals *template.Locals) (types.Target, error) {
	arn, err := et.Arn.Resolve(locals)
	if err != nil {
		return types.Target{}, err
	}
	if !strings.Contains(arn, ":api-destination/") {
		if _, err := st.resolveTarget(arn); err != nil {
			return types.Target{}, err
		}
	}
	t := types.Target{Id: aws.String(et.ID), Arn: aws.String(arn), InputTransformer: inputTransformer(et.InputTransformer)}
	if et.Input != "" {
		t.Input = aws.String(et.Input)
	}
	if et.InputPath != "" {
		t.InputPath = aws.String(et.InputPath)
	}
	if rp := et.RetryPolicy; rp != nil {
		t.RetryPolicy = &types.RetryPolicy{
			MaximumRetryAttempts:     aws.Int32(int32(rp.MaximumRetryAttempts)),
			MaximumEventAgeInSeconds: aws.Int32(int32(rp.MaximumEventAgeInSeconds)),
		}
	}
	if !et.DeadLetterArn.IsZero() {
		dlq, err := et.DeadLetterArn.Resolve(locals)
		if err != nil {
			return types.Target{}, fmt.Errorf("dead-letter queue: %w", err)
		}
		t.DeadLetterConfig = &types.DeadLetterConfig{Arn: aws.String(dlq)}
	}
	if hp := et.HTTPParameters; hp != nil {
		t.HttpParameters = &types.HttpParameters{HeaderParameters: hp.HeaderParameters, PathParameterValues: hp.PathParameterValues, QueryStringParameters: hp.QueryStringParameters}
	}
	if et.MessageGroupID != "" {
		t.SqsParameters = &types.SqsParameters{MessageGroupId: aws.String(et.MessageGroupID)}
	}
	return t, nil
}

func inputTransformer(it *template.InputTransformer) *types.InputTransformer {
	if it == nil {
		return nil
	}
	return &types.InputTransformer{InputPathsMap: it.InputPathsMap, InputTemplate: aws.String(it.InputTemplate)}
}

// busOfARN returns the name of a bus given by name or ARN.
func busOfARN(nameOrARN string) string {
	if i := strings.LastIndex(nameOrARN, ":event-bus/"); i >= 0 && strings.HasPrefix(nameOrARN, "arn:") {
		return nameOrARN[i+len(":event-bus/"):]
	}
	return nameOrARN
}

// resolveTarget finds where a rule target's ARN delivers: a function of the
// template (its asynchronous invocation, as EventBridge invokes Lambda) or a queue
// of the local SQS emulator (the template's, or one made with the SQS API).
func (st *Stack) resolveTarget(arn string) (eventbridge.Target, error) {
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) < 6 || parts[0] != "arn" {
		return nil, fmt.Errorf("%q is not an ARN", arn)
	}
	service, region, account, resource := parts[2], parts[3], parts[4], strings.Join(parts[5:], ":")
	if region != Region || account != Account {
		return nil, fmt.Errorf("%s: the local stack has region %s and account %s only", arn, Region, Account)
	}
	switch service {
	case "lambda":
		name, ok := strings.CutPrefix(resource, "function:")
		name, _, _ = strings.Cut(name, ":") // a version or alias qualifier
		if a := st.asyncOf[name]; ok && a != nil {
			return a, nil
		}
		return nil, fmt.Errorf("%s: no function %q in the template (the local stack runs %s)", arn, name, strings.Join(slices.Sorted(maps.Keys(st.asyncOf)), ", "))
	case "sqs":
		if q, ok := st.queueByARN[arn]; ok {
			return &queueSender{client: st.SQSClient, url: q.URL}, nil
		}
		return &queueSender{client: st.SQSClient, name: resource}, nil
	}
	return nil, fmt.Errorf("%s: the local stack delivers to Lambda functions of the template, SQS queues and API destinations, not to %s", arn, service)
}

// destinationGuard is the SSRF guard of API destinations: the one webhook delivery
// uses, with the template's AllowPrivateDestinations and AllowedDestinations, and
// loopback reachable as it is for the local stack's notify (local receivers).
func destinationGuard(params map[string]string) (webhook.Guard, error) {
	allowed, err := webhook.ParseAllowList(params["AllowedDestinations"])
	if err != nil {
		return webhook.Guard{}, fmt.Errorf("parameter AllowedDestinations: %w", err)
	}
	return webhook.Guard{AllowPrivate: params["AllowPrivateDestinations"] == "true", AllowLoopback: true, Allow: allowed}, nil
}

// queueSender sends message bodies to one queue, known by URL, or by name (a queue
// made through the SQS API, looked up when first used).
type queueSender struct {
	client *sqs.Client
	name   string
	mu     sync.Mutex
	url    string
}

func (q *queueSender) queueURL(ctx context.Context) (string, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.url == "" {
		out, err := q.client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(q.name)})
		if err != nil {
			return "", fmt.Errorf("queue %s: %w", q.name, err)
		}
		q.url = aws.ToString(out.QueueUrl)
	}
	return q.url, nil
}

func (q *queueSender) Send(ctx context.Context, body []byte) error {
	return q.SendWithAttributes(ctx, body, nil)
}

// SendWithAttributes sends body with string message attributes (EventBridge's
// dead-letter attributes).
func (q *queueSender) SendWithAttributes(ctx context.Context, body []byte, attrs map[string]string) error {
	url, err := q.queueURL(ctx)
	if err != nil {
		return err
	}
	in := &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(string(body))}
	for k, v := range attrs {
		if v == "" {
			continue // SQS refuses empty attribute values
		}
		if in.MessageAttributes == nil {
			in.MessageAttributes = map[string]sqstypes.MessageAttributeValue{}
		}
		in.MessageAttributes[k] = sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	if _, err := q.client.SendMessage(ctx, in); err != nil {
		return fmt.Errorf("send to %s: %w", url, err)
	}
	return nil
}

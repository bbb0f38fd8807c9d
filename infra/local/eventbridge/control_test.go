package eventbridge_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/eventhub/eventhub/infra/local/eventbridge"
	"github.com/eventhub/eventhub/shared/webhook"
)

const (
	bus       = "eventhub-local"
	queueARN  = "arn:aws:sqs:us-east-1:000000000000:ops"
	dlqARN    = "arn:aws:sqs:us-east-1:000000000000:ops-dlq"
	storedPat = `{"source":["eventhub.persist"],"detail-type":["Event Stored"],"detail":{"event":{"type":["mse:Agent:OutlierEjection"]}}}`
)

// targets is a Resolver over a fixed set of recording targets, by ARN.
type targets map[string]*target

func (ts targets) resolve(arn string) (eventbridge.Target, error) {
	if t, ok := ts[arn]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("%s: no such target", arn)
}

func stored(typ string) types.PutEventsRequestEntry {
	return entry("eventhub.persist", "Event Stored", `{"event":{"specversion":"1.0","id":"1","source":"/s","type":"`+typ+`"},"hub":{}}`)
}

// apiCode returns the error code of an API error, or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestRuleLifecycle(t *testing.T) {
	queue := &target{}
	em, client := start(t, []string{bus}, nil, eventbridge.Options{Resolve: targets{queueARN: queue}.resolve})
	ctx := t.Context()
	out, err := client.PutRule(ctx, &sdk.PutRuleInput{Name: aws.String("outliers"), EventBusName: aws.String(bus), EventPattern: aws.String(storedPat), Description: aws.String("to ops")})
	if err != nil {
		t.Fatalf("PutRule: %v", err)
	}
	if want := "arn:aws:events:us-east-1:000000000000:rule/eventhub-local/outliers"; aws.ToString(out.RuleArn) != want {
		t.Errorf("RuleArn = %q; want %q", aws.ToString(out.RuleArn), want)
	}
	d, err := client.DescribeRule(ctx, &sdk.DescribeRuleInput{Name: aws.String("outliers"), EventBusName: aws.String(bus)})
	if err != nil {
		t.Fatalf("DescribeRule: %v", err)
	}
	if aws.ToString(d.EventPattern) != storedPat || d.State != types.RuleStateEnabled || aws.ToString(d.Description) != "to ops" || aws.ToString(d.EventBusName) != bus {
		t.Errorf("DescribeRule = %+v", d)
	}
	pt, err := client.PutTargets(ctx, &sdk.PutTargetsInput{Rule: aws.String("outliers"), EventBusName: aws.String(bus), Targets: []types.Target{
		{Id: aws.String("ops"), Arn: aws.String(queueARN)},
		{Id: aws.String("nowhere"), Arn: aws.String("arn:aws:sns:us-east-1:000000000000:topic")},
	}})
	if err != nil {
		t.Fatalf("PutTargets: %v", err)
	}
	if pt.FailedEntryCount != 1 || len(pt.FailedEntries) != 1 || aws.ToString(pt.FailedEntries[0].TargetId) != "nowhere" ||
		!strings.Contains(aws.ToString(pt.FailedEntries[0].ErrorMessage), "arn:aws:sns") {
		t.Errorf("PutTargets = %+v; want the SNS target failed, naming its ARN", pt)
	}
	put := func(types ...types.PutEventsRequestEntry) {
		t.Helper()
		if _, err := client.PutEvents(ctx, &sdk.PutEventsInput{Entries: types}); err != nil {
			t.Fatal(err)
		}
		waitIdle(t, em)
	}
	put(stored("mse:Agent:OutlierEjection"), stored("mse:Agent:OutlierRecover"))
	if got := queue.received(); len(got) != 1 || !bytes.Contains(got[0], []byte(`"type":"mse:Agent:OutlierEjection"`)) {
		t.Fatalf("queue received %q; want the one outlier ejection", got)
	}

	if _, err := client.DisableRule(ctx, &sdk.DisableRuleInput{Name: aws.String("outliers"), EventBusName: aws.String(bus)}); err != nil {
		t.Fatal(err)
	}
	put(stored("mse:Agent:OutlierEjection"))
	if got := len(queue.received()); got != 1 {
		t.Errorf("a disabled rule routed: queue has %d events; want 1", got)
	}
	if _, err := client.EnableRule(ctx, &sdk.EnableRuleInput{Name: aws.String("outliers"), EventBusName: aws.String(bus)}); err != nil {
		t.Fatal(err)
	}
	put(stored("mse:Agent:OutlierEjection"))
	if got := len(queue.received()); got != 2 {
		t.Errorf("an enabled rule did not route: queue has %d events; want 2", got)
	}

	lt, err := client.ListTargetsByRule(ctx, &sdk.ListTargetsByRuleInput{Rule: aws.String("outliers"), EventBusName: aws.String(bus)})
	if err != nil || len(lt.Targets) != 1 || aws.ToString(lt.Targets[0].Arn) != queueARN {
		t.Errorf("ListTargetsByRule = %+v, %v; want the queue", lt, err)
	}
	names, err := client.ListRuleNamesByTarget(ctx, &sdk.ListRuleNamesByTargetInput{TargetArn: aws.String(queueARN), EventBusName: aws.String(bus)})
	if err != nil || !slices.Equal(names.RuleNames, []string{"outliers"}) {
		t.Errorf("ListRuleNamesByTarget = %+v, %v", names, err)
	}
	lr, err := client.ListRules(ctx, &sdk.ListRulesInput{EventBusName: aws.String(bus), NamePrefix: aws.String("out")})
	if err != nil || len(lr.Rules) != 1 || aws.ToString(lr.Rules[0].Name) != "outliers" {
		t.Errorf("ListRules = %+v, %v", lr, err)
	}

	_, err = client.DeleteRule(ctx, &sdk.DeleteRuleInput{Name: aws.String("outliers"), EventBusName: aws.String(bus)})
	if apiCode(err) != "ValidationException" {
		t.Errorf("DeleteRule with targets: %v; want ValidationException", err)
	}
	if _, err := client.RemoveTargets(ctx, &sdk.RemoveTargetsInput{Rule: aws.String("outliers"), EventBusName: aws.String(bus), Ids: []string{"ops"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.DeleteRule(ctx, &sdk.DeleteRuleInput{Name: aws.String("outliers"), EventBusName: aws.String(bus)}); err != nil {
		t.Fatalf("DeleteRule: %v", err)
	}
	_, err = client.DescribeRule(ctx, &sdk.DescribeRuleInput{Name: aws.String("outliers"), EventBusName: aws.String(bus)})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "Rule outliers does not exist on EventBus eventhub-local") {
		t.Errorf("DescribeRule after DeleteRule: %v; want ResourceNotFoundException", err)
	}
	if _, err := client.DeleteRule(ctx, &sdk.DeleteRuleInput{Name: aws.String("outliers"), EventBusName: aws.String(bus)}); err != nil {
		t.Errorf("DeleteRule of a rule that is gone: %v; want success", err)
	}
}

func TestControlPlaneErrors(t *testing.T) {
	_, client := start(t, []string{bus}, nil, eventbridge.Options{})
	ctx := t.Context()
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"bad pattern", func() error {
			_, err := client.PutRule(ctx, &sdk.PutRuleInput{Name: aws.String("r"), EventBusName: aws.String(bus), EventPattern: aws.String(`{"source":"x"}`)})
			return err
		}, "InvalidEventPatternException"},
		{"no pattern", func() error {
			_, err := client.PutRule(ctx, &sdk.PutRuleInput{Name: aws.String("r"), EventBusName: aws.String(bus)})
			return err
		}, "ValidationException"},
		{"schedule", func() error {
			_, err := client.PutRule(ctx, &sdk.PutRuleInput{Name: aws.String("r"), ScheduleExpression: aws.String("rate(5 minutes)")})
			return err
		}, "ValidationException"},
		{"bad name", func() error {
			_, err := client.PutRule(ctx, &sdk.PutRuleInput{Name: aws.String("a b"), EventPattern: aws.String(`{}`)})
			return err
		}, "ValidationException"},
		{"unknown bus", func() error {
			_, err := client.PutRule(ctx, &sdk.PutRuleInput{Name: aws.String("r"), EventBusName: aws.String("nope"), EventPattern: aws.String(`{"a":["b"]}`)})
			return err
		}, "ResourceNotFoundException"},
		{"targets of an unknown rule", func() error {
			_, err := client.PutTargets(ctx, &sdk.PutTargetsInput{Rule: aws.String("nope"), Targets: []types.Target{{Id: aws.String("t"), Arn: aws.String(queueARN)}}})
			return err
		}, "ResourceNotFoundException"},
		{"enable an unknown rule", func() error {
			_, err := client.EnableRule(ctx, &sdk.EnableRuleInput{Name: aws.String("nope")})
			return err
		}, "ResourceNotFoundException"},
		{"two inputs", func() error {
			if _, err := client.PutRule(ctx, &sdk.PutRuleInput{Name: aws.String("two"), EventPattern: aws.String(`{"a":["b"]}`)}); err != nil {
				return err
			}
			_, err := client.PutTargets(ctx, &sdk.PutTargetsInput{Rule: aws.String("two"), Targets: []types.Target{{Id: aws.String("t"), Arn: aws.String(queueARN), Input: aws.String(`{}`), InputPath: aws.String("$.detail")}}})
			return err
		}, "ValidationException"},
		{"six targets", func() error {
			var ts []types.Target
			for i := range 6 {
				ts = append(ts, types.Target{Id: aws.String(fmt.Sprint(i)), Arn: aws.String(queueARN)})
			}
			_, err := client.PutTargets(ctx, &sdk.PutTargetsInput{Rule: aws.String("two"), Targets: ts})
			return err
		}, "LimitExceededException"},
		{"test pattern, not an event", func() error {
			_, err := client.TestEventPattern(ctx, &sdk.TestEventPatternInput{EventPattern: aws.String(`{"a":["b"]}`), Event: aws.String(`{"a":"b"}`)})
			return err
		}, "ValidationException"},
		{"unknown bus described", func() error {
			_, err := client.DescribeEventBus(ctx, &sdk.DescribeEventBusInput{Name: aws.String("nope")})
			return err
		}, "ResourceNotFoundException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); apiCode(err) != tt.want {
				t.Errorf("error = %v; want %s", err, tt.want)
			}
		})
	}
}

func TestBuses(t *testing.T) {
	_, client := start(t, []string{bus}, nil, eventbridge.Options{})
	out, err := client.ListEventBuses(t.Context(), &sdk.ListEventBusesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range out.EventBuses {
		names = append(names, aws.ToString(b.Name))
		if b.CreationTime == nil || b.CreationTime.IsZero() {
			t.Errorf("bus %s has no CreationTime", aws.ToString(b.Name))
		}
	}
	if !slices.Equal(names, []string{"default", bus}) {
		t.Errorf("ListEventBuses = %q", names)
	}
	d, err := client.DescribeEventBus(t.Context(), &sdk.DescribeEventBusInput{Name: aws.String("arn:aws:events:us-east-1:000000000000:event-bus/" + bus)})
	if err != nil || aws.ToString(d.Name) != bus || aws.ToString(d.Arn) != "arn:aws:events:us-east-1:000000000000:event-bus/"+bus {
		t.Errorf("DescribeEventBus = %+v, %v", d, err)
	}
}

func TestTestEventPattern(t *testing.T) {
	_, client := start(t, nil, nil, eventbridge.Options{})
	event := `{"version":"0","id":"1","detail-type":"Event Stored","source":"eventhub.persist","account":"000000000000","time":"2026-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail":{"event":{"type":"mse:Agent:OutlierEjection"}}}`
	for _, c := range []struct {
		pattern string
		want    bool
	}{
		{storedPat, true},
		{`{"detail":{"event":{"type":[{"prefix":"mse:Agent:"}]}}}`, true},
		{`{"detail":{"event":{"type":["other"]}}}`, false},
	} {
		out, err := client.TestEventPattern(t.Context(), &sdk.TestEventPatternInput{EventPattern: aws.String(c.pattern), Event: aws.String(event)})
		if err != nil || out.Result != c.want {
			t.Errorf("TestEventPattern(%s) = %+v, %v; want %v", c.pattern, out, err, c.want)
		}
	}
}

func TestInputTransformation(t *testing.T) {
	tg := &target{}
	em, client := start(t, []string{bus}, nil, eventbridge.Options{Resolve: targets{queueARN: tg}.resolve})
	ctx := t.Context()
	if _, err := client.PutRule(ctx, &sdk.PutRuleInput{Name: aws.String("r"), EventBusName: aws.String(bus), EventPattern: aws.String(`{"source":["ec2.test"]}`)}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		target types.Target
		want   string
	}{
		{"input", types.Target{Input: aws.String(`{"constant":true}`)}, `{"constant":true}`},
		{"input path", types.Target{InputPath: aws.String("$.detail")}, `{"instance-id":"i-0123456789","state":"RUNNING","tags":["a","b"]}`},
		{"input path index", types.Target{InputPath: aws.String("$.detail.tags[1]")}, `"b"`},
		{"simple string", types.Target{InputTransformer: &types.InputTransformer{
			InputPathsMap: map[string]string{"instance": "$.detail.instance-id", "state": "$.detail.state"},
			InputTemplate: aws.String(`"instance <instance> is in <state>"`),
		}}, `"instance i-0123456789 is in RUNNING"`},
		{"json with strings and variables", types.Target{InputTransformer: &types.InputTransformer{
			InputPathsMap: map[string]string{"instance": "$.detail.instance-id", "state": "$.detail.state"},
			InputTemplate: aws.String(`{"instance": <instance>, "state": "<state>", "status": "instance \"<instance>\" is in <state>"}`),
		}}, `{"instance": "i-0123456789", "state": "RUNNING", "status": "instance \"i-0123456789\" is in RUNNING"}`},
		{"mix and a missing path", types.Target{InputTransformer: &types.InputTransformer{
			InputPathsMap: map[string]string{"state": "$.detail.state", "gone": "$.detail.nope"},
			InputTemplate: aws.String(`{"state": [9, <state>, true], "gone": <gone>, "in": "x<gone>y", "other": "<other>"}`),
		}}, `{"state": [9, "RUNNING", true], "gone": null, "in": "xy", "other": "<other>"}`},
		{"reserved variables", types.Target{InputTransformer: &types.InputTransformer{
			InputTemplate: aws.String(`{"rule": <aws.events.rule-name>, "arn": <aws.events.rule-arn>, "event": <aws.events.event>, "text": "<aws.events.rule-name> triggered"}`),
		}}, `{"rule": "r", "arn": "arn:aws:events:us-east-1:000000000000:rule/eventhub-local/r", "event": {"version":"0","id":"00000000-0000-4000-8000-000000000007","detail-type":"EC2 Instance State-change Notification","source":"ec2.test","account":"000000000000","time":"2026-03-14T15:09:26Z","region":"us-east-1","resources":[]}, "text": "r triggered"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg.mu.Lock()
			tg.events = nil
			tg.mu.Unlock()
			spec := tt.target
			spec.Id, spec.Arn = aws.String("t"), aws.String(queueARN)
			if _, err := client.PutTargets(ctx, &sdk.PutTargetsInput{Rule: aws.String("r"), EventBusName: aws.String(bus), Targets: []types.Target{spec}}); err != nil {
				t.Fatal(err)
			}
			_, err := client.PutEvents(ctx, &sdk.PutEventsInput{Entries: []types.PutEventsRequestEntry{
				entry("ec2.test", "EC2 Instance State-change Notification", `{"instance-id":"i-0123456789","state":"RUNNING","tags":["a","b"]}`),
			}})
			if err != nil {
				t.Fatal(err)
			}
			waitIdle(t, em)
			got := tg.received()
			if len(got) != 1 || string(got[0]) != tt.want {
				t.Errorf("target received %q\nwant %q", got, tt.want)
			}
		})
	}
}

// receiver records the requests an API destination gets and answers status.
type receiver struct {
	mu     sync.Mutex
	status int
	got    []*http.Request
	bodies []string
}

func (rv *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rv.mu.Lock()
	rv.got = append(rv.got, r)
	rv.bodies = append(rv.bodies, string(b))
	status := rv.status
	rv.mu.Unlock()
	w.WriteHeader(status)
}

func (rv *receiver) requests() ([]*http.Request, []string) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return slices.Clone(rv.got), slices.Clone(rv.bodies)
}

// apiDestination creates a connection and an API destination to url and a rule on
// Event Stored targeting it, and returns the API destination's ARN.
func apiDestination(t *testing.T, client *sdk.Client, url string, auth *types.CreateConnectionAuthRequestParameters, authType types.ConnectionAuthorizationType, dlq bool) {
	t.Helper()
	ctx := t.Context()
	conn, err := client.CreateConnection(ctx, &sdk.CreateConnectionInput{Name: aws.String("hooks"), AuthorizationType: authType, AuthParameters: auth})
	if err != nil {
		t.Fatalf("CreateConnection: %v", err)
	}
	dest, err := client.CreateApiDestination(ctx, &sdk.CreateApiDestinationInput{
		Name: aws.String("ops-hook"), ConnectionArn: conn.ConnectionArn, InvocationEndpoint: aws.String(url + "/hooks/*"),
		HttpMethod: types.ApiDestinationHttpMethodPost,
	})
	if err != nil {
		t.Fatalf("CreateApiDestination: %v", err)
	}
	if _, err := client.PutRule(ctx, &sdk.PutRuleInput{Name: aws.String("to-hook"), EventBusName: aws.String(bus), EventPattern: aws.String(storedPat)}); err != nil {
		t.Fatal(err)
	}
	tg := types.Target{
		Id: aws.String("hook"), Arn: dest.ApiDestinationArn,
		HttpParameters: &types.HttpParameters{PathParameterValues: []string{"ops"}, HeaderParameters: map[string]string{"X-Team": "payments"}},
		RetryPolicy:    &types.RetryPolicy{MaximumRetryAttempts: aws.Int32(2)},
	}
	if dlq {
		tg.DeadLetterConfig = &types.DeadLetterConfig{Arn: aws.String(dlqARN)}
	}
	out, err := client.PutTargets(ctx, &sdk.PutTargetsInput{Rule: aws.String("to-hook"), EventBusName: aws.String(bus), Targets: []types.Target{tg}})
	if err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("PutTargets = %+v, %v", out, err)
	}
}

func TestAPIDestination(t *testing.T) {
	rv := &receiver{status: http.StatusOK}
	srv := httptest.NewServer(rv)
	defer srv.Close()
	em, client := start(t, []string{bus}, nil, eventbridge.Options{Guard: webhook.Guard{AllowLoopback: true}})
	apiDestination(t, client, srv.URL, &types.CreateConnectionAuthRequestParameters{
		ApiKeyAuthParameters: &types.CreateConnectionApiKeyAuthRequestParameters{ApiKeyName: aws.String("X-Api-Key"), ApiKeyValue: aws.String("s3cret-key")},
	}, types.ConnectionAuthorizationTypeApiKey, false)
	if _, err := client.PutEvents(t.Context(), &sdk.PutEventsInput{Entries: []types.PutEventsRequestEntry{stored("mse:Agent:OutlierEjection"), stored("other")}}); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, em)
	reqs, bodies := rv.requests()
	if len(reqs) != 1 {
		t.Fatalf("the endpoint got %d requests; want 1", len(reqs))
	}
	r := reqs[0]
	for k, want := range map[string]string{"X-Api-Key": "s3cret-key", "X-Team": "payments", "User-Agent": "Amazon/EventBridge/ApiDestinations", "Content-Type": "application/json; charset=utf-8"} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("header %s = %q; want %q", k, got, want)
		}
	}
	if r.Method != http.MethodPost || r.URL.Path != "/hooks/ops" || !strings.Contains(bodies[0], `"type":"mse:Agent:OutlierEjection"`) {
		t.Errorf("request = %s %s %s", r.Method, r.URL.Path, bodies[0])
	}

	// DescribeConnection never shows the key.
	d, err := client.DescribeConnection(t.Context(), &sdk.DescribeConnectionInput{Name: aws.String("hooks")})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%+v", *d.AuthParameters.ApiKeyAuthParameters) == "" || aws.ToString(d.AuthParameters.ApiKeyAuthParameters.ApiKeyName) != "X-Api-Key" {
		t.Errorf("DescribeConnection = %+v", d.AuthParameters)
	}
}

// basicAuthDestination starts an emulator with the guard, a receiver answering
// status behind an API destination with basic auth on Event Stored of outlier
// ejections (a dead-letter queue beside it), and puts one such event.
func basicAuthDestination(t *testing.T, guard webhook.Guard, status int) (*receiver, *attributedDeadLetter) {
	t.Helper()
	rv := &receiver{status: status}
	srv := httptest.NewServer(rv)
	t.Cleanup(srv.Close)
	dl := &attributedDeadLetter{}
	em, client := start(t, []string{bus}, nil, eventbridge.Options{
		Guard:   guard,
		Resolve: func(arn string) (eventbridge.Target, error) { return dl, nil },
	})
	apiDestination(t, client, srv.URL, &types.CreateConnectionAuthRequestParameters{
		BasicAuthParameters: &types.CreateConnectionBasicAuthRequestParameters{Username: aws.String("ops"), Password: aws.String("pw")},
	}, types.ConnectionAuthorizationTypeBasic, true)
	if _, err := client.PutEvents(t.Context(), &sdk.PutEventsInput{Entries: []types.PutEventsRequestEntry{stored("mse:Agent:OutlierEjection")}}); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, em)
	return rv, dl
}

func TestAPIDestinationBasicAuthAndNoRetryOn4xx(t *testing.T) {
	rv, dl := basicAuthDestination(t, webhook.Guard{AllowLoopback: true}, http.StatusBadRequest)
	reqs, _ := rv.requests()
	if len(reqs) != 1 {
		t.Fatalf("the endpoint got %d requests; want 1 (a 400 is not retried)", len(reqs))
	}
	if user, pw, ok := reqs[0].BasicAuth(); !ok || user != "ops" || pw != "pw" {
		t.Errorf("basic auth = %q %q %v", user, pw, ok)
	}
	if got := dl.got(); len(got) != 1 {
		t.Errorf("dead-letter queue got %d events; want 1", len(got))
	}
}

func TestAPIDestinationGuard(t *testing.T) {
	rv, dl := basicAuthDestination(t, webhook.Guard{}, http.StatusOK) // as deployed: loopback is refused
	if reqs, _ := rv.requests(); len(reqs) != 0 {
		t.Errorf("the guard let %d requests reach 127.0.0.1", len(reqs))
	}
	dl.mu.Lock()
	defer dl.mu.Unlock()
	if len(dl.attrs) != 1 || !strings.Contains(dl.attrs[0]["ERROR_MESSAGE"], "is not allowed") {
		t.Errorf("dead letters = %v; want one refused by the guard", dl.attrs)
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "eventbridge.json")
	queue := &target{}
	resolve := targets{queueARN: queue}.resolve
	opts := eventbridge.Options{Resolve: resolve, StateFile: file}
	template := []eventbridge.Rule{{Name: "FromTemplate", Bus: bus, EventPattern: `{"source":["x"]}`}}
	em := eventbridge.New([]string{bus}, template, opts)
	if err := em.Load(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(em)
	client := sdk.New(sdk.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{}})
	ctx := t.Context()
	if _, err := client.PutRule(ctx, &sdk.PutRuleInput{Name: aws.String("outliers"), EventBusName: aws.String(bus), EventPattern: aws.String(storedPat), State: types.RuleStateDisabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.PutTargets(ctx, &sdk.PutTargetsInput{Rule: aws.String("outliers"), EventBusName: aws.String(bus), Targets: []types.Target{{Id: aws.String("ops"), Arn: aws.String(queueARN), InputPath: aws.String("$.detail.event")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.EnableRule(ctx, &sdk.EnableRuleInput{Name: aws.String("outliers"), EventBusName: aws.String(bus)}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateConnection(ctx, &sdk.CreateConnectionInput{Name: aws.String("c"), AuthorizationType: types.ConnectionAuthorizationTypeApiKey,
		AuthParameters: &types.CreateConnectionAuthRequestParameters{ApiKeyAuthParameters: &types.CreateConnectionApiKeyAuthRequestParameters{ApiKeyName: aws.String("k"), ApiKeyValue: aws.String("v")}}}); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	em.Close()
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file: %v, %v; want mode 0600 (it holds connection secrets)", fi, err)
	}
	raw, _ := os.ReadFile(file)
	if bytes.Contains(raw, []byte("FromTemplate")) {
		t.Errorf("the state file holds the template's rule:\n%s", raw)
	}

	em, client = start(t, []string{bus}, template, opts)
	if err := em.Load(); err != nil {
		t.Fatal(err)
	}
	d, err := client.DescribeRule(ctx, &sdk.DescribeRuleInput{Name: aws.String("outliers"), EventBusName: aws.String(bus)})
	if err != nil || d.State != types.RuleStateEnabled || aws.ToString(d.EventPattern) != storedPat {
		t.Fatalf("DescribeRule after restart = %+v, %v", d, err)
	}
	if _, err := client.DescribeConnection(ctx, &sdk.DescribeConnectionInput{Name: aws.String("c")}); err != nil {
		t.Errorf("DescribeConnection after restart: %v", err)
	}
	if _, err := client.PutEvents(ctx, &sdk.PutEventsInput{Entries: []types.PutEventsRequestEntry{stored("mse:Agent:OutlierEjection")}}); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, em)
	if got := queue.received(); len(got) != 1 || !bytes.HasPrefix(got[0], []byte(`{"specversion":"1.0"`)) {
		t.Errorf("after restart the queue received %q; want the event through its InputPath", got)
	}
}

// A rule delivers to every target, each with its own retry policy.
func TestEveryTargetOfARule(t *testing.T) {
	a, b := &target{}, &target{fail: func(n int) error { return errors.New("down") }}
	em, client := start(t, []string{bus}, []eventbridge.Rule{{
		Name: "both", Bus: bus, EventPattern: storedPat,
		Targets: []types.Target{
			{Id: aws.String("a"), Arn: aws.String("arn:a")},
			{Id: aws.String("b"), Arn: aws.String("arn:b"), RetryPolicy: &types.RetryPolicy{MaximumRetryAttempts: aws.Int32(1)}},
		},
	}}, eventbridge.Options{Resolve: targets{"arn:a": a, "arn:b": b}.resolve})
	if _, err := client.PutEvents(t.Context(), &sdk.PutEventsInput{Entries: []types.PutEventsRequestEntry{stored("mse:Agent:OutlierEjection")}}); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, em)
	if len(a.received()) != 1 || b.sends.Load() != 2 {
		t.Errorf("a got %d events, b was tried %d times; want 1 and 2", len(a.received()), b.sends.Load())
	}
	if st := em.Stats(); st.Dropped != 1 {
		t.Errorf("Dropped = %d; want 1 (b has no dead-letter queue)", st.Dropped)
	}
}

package tests

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/eventhub/eventhub/infra/local/stack"
	"github.com/eventhub/eventhub/shared/pattern/patterntest"
)

// awsClients returns the SDK clients a user builds against a local stack: its
// endpoints, its region and dummy credentials (what .eventhub/local.env exports).
func awsClients(st *stack.Stack) (*eventbridge.Client, *sqs.Client) {
	creds := credentials.NewStaticCredentialsProvider("local", "local", "")
	eb := eventbridge.New(eventbridge.Options{Region: stack.Region, BaseEndpoint: aws.String(st.EventBridge), Credentials: creds})
	sq := sqs.New(sqs.Options{Region: stack.Region, BaseEndpoint: aws.String(st.SQS), Credentials: creds})
	return eb, sq
}

// userQueue creates a queue of the user's and returns its URL and ARN.
func userQueue(t *testing.T, sq *sqs.Client, name string) (url, arn string) {
	t.Helper()
	q, err := sq.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	attrs, err := sq.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	return aws.ToString(q.QueueUrl), attrs.Attributes["QueueArn"]
}

// routeToQueue puts a rule with the pattern on the stack's bus and the queue as its
// target, as `aws events put-rule` and `aws events put-targets` do.
func routeToQueue(t *testing.T, eb *eventbridge.Client, bus, rule, pattern, queueARN string) {
	t.Helper()
	if _, err := eb.PutRule(t.Context(), &eventbridge.PutRuleInput{Name: aws.String(rule), EventBusName: aws.String(bus), EventPattern: aws.String(pattern)}); err != nil {
		t.Fatalf("PutRule %s: %v", rule, err)
	}
	out, err := eb.PutTargets(t.Context(), &eventbridge.PutTargetsInput{Rule: aws.String(rule), EventBusName: aws.String(bus),
		Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(queueARN)}}})
	if err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("PutTargets %s = %+v, %v", rule, out, err)
	}
}

// busMessage is an SQS message body: the EventBridge event a rule sent.
type busMessage struct {
	Source     string `json:"source"`
	DetailType string `json:"detail-type"`
	Detail     struct {
		Event struct {
			ID, Type string
		} `json:"event"`
		Raw json.RawMessage `json:"raw"`
	} `json:"detail"`
}

// receiveAll reads what the queue holds, waiting up to wait for the first message.
func receiveAll(t *testing.T, sq *sqs.Client, url string, wait time.Duration) []busMessage {
	t.Helper()
	var out []busMessage
	deadline := time.Now().Add(wait)
	for {
		got, err := sq.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatalf("ReceiveMessage: %v", err)
		}
		for _, m := range got.Messages {
			var bm busMessage
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &bm); err != nil {
				t.Fatalf("message %s: %v", aws.ToString(m.Body), err)
			}
			out = append(out, bm)
			if _, err := sq.DeleteMessage(t.Context(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
		if (len(got.Messages) == 0 && len(out) > 0) || time.Now().After(deadline) {
			return out
		}
	}
}

// postEvent sends a CloudEvent of the type and returns the id eventhub stored it under.
func postEvent(t *testing.T, typ string) string {
	t.Helper()
	_, body := cloudEvent(typ)
	var out struct{ IDs []string }
	if status := call(t, http.MethodPost, "/events", producer, body, &out); status != http.StatusAccepted || len(out.IDs) != 1 {
		t.Fatalf("POST /events = %d %v", status, out)
	}
	return out.IDs[0]
}

// apiReceiver is an HTTP endpoint an API destination calls.
type apiReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	heads  []http.Header
	bodies []string
}

func newAPIReceiver(t *testing.T) *apiReceiver {
	r := &apiReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.heads = append(r.heads, req.Header.Clone())
		r.bodies = append(r.bodies, string(b))
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *apiReceiver) got() ([]http.Header, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]http.Header(nil), r.heads...), append([]string(nil), r.bodies...)
}

// TestRoutingWithYourOwnRules does with the AWS SDK what the README's "Routing with
// your own rules" does with the AWS CLI: a queue of the user's and a rule on Event
// Stored for one type send it the matching stored event and not the others; rules on
// Event Received and Event Normalized see the earlier hops; an API destination with
// an API key gets the stored event over HTTP.
func TestRoutingWithYourOwnRules(t *testing.T) {
	needStack(t)
	eb, sq := awsClients(local)
	ctx := t.Context()
	n := time.Now().UnixNano()
	typ := fmt.Sprintf("mse:Agent:OutlierEjection.%d", n)

	storedURL, storedARN := userQueue(t, sq, fmt.Sprintf("ops-outliers-%d", n))
	routeToQueue(t, eb, local.Bus, fmt.Sprintf("outliers-%d", n),
		`{"source":["eventhub.persist"],"detail-type":["Event Stored"],"detail":{"event":{"type":["`+typ+`"]}}}`, storedARN)
	receivedURL, receivedARN := userQueue(t, sq, fmt.Sprintf("received-%d", n))
	routeToQueue(t, eb, local.Bus, fmt.Sprintf("received-%d", n),
		`{"source":["eventhub.ingest"],"detail-type":["Event Received"],"detail":{"raw":{"type":["`+typ+`"]}}}`, receivedARN)
	normalizedURL, normalizedARN := userQueue(t, sq, fmt.Sprintf("normalized-%d", n))
	routeToQueue(t, eb, local.Bus, fmt.Sprintf("normalized-%d", n),
		`{"source":["eventhub.normalize"],"detail-type":["Event Normalized"],"detail":{"event":{"type":["`+typ+`"]}}}`, normalizedARN)

	// An API destination: a connection with an API key, the endpoint, a second target.
	hook := newAPIReceiver(t)
	conn, err := eb.CreateConnection(ctx, &eventbridge.CreateConnectionInput{
		Name: aws.String(fmt.Sprintf("ops-hooks-%d", n)), AuthorizationType: ebtypes.ConnectionAuthorizationTypeApiKey,
		AuthParameters: &ebtypes.CreateConnectionAuthRequestParameters{ApiKeyAuthParameters: &ebtypes.CreateConnectionApiKeyAuthRequestParameters{
			ApiKeyName: aws.String("X-Api-Key"), ApiKeyValue: aws.String("local-secret"),
		}},
	})
	if err != nil {
		t.Fatalf("CreateConnection: %v", err)
	}
	dest, err := eb.CreateApiDestination(ctx, &eventbridge.CreateApiDestinationInput{
		Name: aws.String(fmt.Sprintf("ops-hook-%d", n)), ConnectionArn: conn.ConnectionArn,
		InvocationEndpoint: aws.String(hook.URL + "/outliers"), HttpMethod: ebtypes.ApiDestinationHttpMethodPost,
	})
	if err != nil {
		t.Fatalf("CreateApiDestination: %v", err)
	}
	out, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(fmt.Sprintf("outliers-%d", n)), EventBusName: aws.String(local.Bus),
		Targets: []ebtypes.Target{{Id: aws.String("hook"), Arn: dest.ApiDestinationArn}}})
	if err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("PutTargets hook = %+v, %v", out, err)
	}

	id := postEvent(t, typ)
	other := postEvent(t, typ+".other")
	waitStored(t, id)
	waitStored(t, other)

	for _, q := range []struct {
		name, url, source, detailType string
	}{
		{"Event Stored", storedURL, "eventhub.persist", "Event Stored"},
		{"Event Normalized", normalizedURL, "eventhub.normalize", "Event Normalized"},
		{"Event Received", receivedURL, "eventhub.ingest", "Event Received"},
	} {
		msgs := receiveAll(t, sq, q.url, 15*time.Second)
		if len(msgs) != 1 || msgs[0].Source != q.source || msgs[0].DetailType != q.detailType {
			t.Errorf("the %s queue got %+v; want one %s entry", q.name, msgs, q.detailType)
			continue
		}
		if q.detailType != "Event Received" && msgs[0].Detail.Event.Type != typ {
			t.Errorf("the %s queue got type %q; want %q", q.name, msgs[0].Detail.Event.Type, typ)
		}
		if q.detailType == "Event Received" && !strings.Contains(string(msgs[0].Detail.Raw), typ) {
			t.Errorf("the %s queue got raw %s; want the producer's event", q.name, msgs[0].Detail.Raw)
		}
	}
	eventually(t, 15*time.Second, "the API destination called", func() bool { h, _ := hook.got(); return len(h) > 0 })
	time.Sleep(500 * time.Millisecond) // a second call would come now
	heads, bodies := hook.got()
	if len(heads) != 1 || heads[0].Get("X-Api-Key") != "local-secret" || !strings.Contains(bodies[0], `"detail-type":"Event Stored"`) || !strings.Contains(bodies[0], typ) {
		t.Errorf("the API destination got %d calls: %v %q; want one Event Stored with the key", len(heads), heads, bodies)
	}
}

// TestEventPatternCorpus asks the local bus's TestEventPattern every case of
// shared/pattern's conformance corpus. TestEventPattern takes EventBridge events
// only (id, account, source, time, region, resources and detail-type are
// mandatory), so a case's event that lacks one of them gets it with a value no
// pattern of the corpus refers to; an event that is not a JSON object is refused.
func TestEventPatternCorpus(t *testing.T) {
	needStack(t)
	corpus, err := patterntest.LoadCorpus("../shared/pattern/testdata/match.json")
	if err != nil {
		t.Fatal(err)
	}
	eb, _ := awsClients(local)
	filler := map[string]any{
		"id": "corpus", "account": stack.Account, "source": "corpus.filler", "time": "2026-01-01T00:00:00Z",
		"region": stack.Region, "resources": []string{"arn:aws:corpus:filler"}, "detail-type": "Corpus Filler",
	}
	for _, c := range corpus.Cases {
		t.Run(c.Name, func(t *testing.T) {
			event := c.Event
			var fields map[string]json.RawMessage
			isObject := json.Unmarshal([]byte(event), &fields) == nil && fields != nil
			if isObject {
				event = completeEvent(event, fields, filler)
			}
			out, err := eb.TestEventPattern(t.Context(), &eventbridge.TestEventPatternInput{EventPattern: aws.String(c.Pattern), Event: aws.String(event)})
			if !isObject {
				var ae smithy.APIError
				if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" {
					t.Errorf("TestEventPattern(%s) = %v, %v; want ValidationException: an EventBridge event is an object", event, out, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("TestEventPattern: %v", err)
			}
			if out.Result != c.Match {
				t.Errorf("TestEventPattern(%s, %s) = %v; the corpus says %v", c.Pattern, event, out.Result, c.Match)
			}
		})
	}
}

// completeEvent adds the mandatory fields the event lacks, keeping its own text.
func completeEvent(event string, fields map[string]json.RawMessage, filler map[string]any) string {
	var add []string
	for _, k := range []string{"id", "account", "source", "time", "region", "resources", "detail-type"} {
		if _, ok := fields[k]; !ok {
			v, _ := json.Marshal(filler[k])
			add = append(add, fmt.Sprintf("%q:%s", k, v))
		}
	}
	if len(add) == 0 {
		return event
	}
	body := strings.TrimSpace(event)
	inner := strings.TrimSpace(body[1 : len(body)-1])
	if inner != "" {
		inner += ","
	}
	return "{" + inner + strings.Join(add, ",") + "}"
}

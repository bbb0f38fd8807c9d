package boot

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// errHeld is what recorder answers: the request is never sent.
var errHeld = errors.New("held by the test")

// recorder is an HTTP client that notes each request and sends none of them, so that
// the tests see where the SDK's own endpoint resolution sends a call without leaving
// the machine.
type recorder struct{ reqs []*http.Request }

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	r.reqs = append(r.reqs, req)
	return nil, errHeld
}

// sent makes one call with each service client built from cfg, as the functions'
// mains build them, and returns the URL each request went to (scheme, host and path)
// and its Authorization header, by service.
func sent(t *testing.T, cfg aws.Config) (urls, auth map[string]string) {
	t.Helper()
	ctx := context.Background()
	rec := &recorder{}
	calls := []struct {
		service string
		call    func() error
	}{
		{"DynamoDB", func() error {
			_, err := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.HTTPClient, o.RetryMaxAttempts = rec, 1 }).
				GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "k"}}})
			return err
		}},
		{"EventBridge", func() error {
			_, err := eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.HTTPClient, o.RetryMaxAttempts = rec, 1 }).
				PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{Detail: aws.String("{}")}}})
			return err
		}},
		{"SQS", func() error {
			_, err := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.HTTPClient, o.RetryMaxAttempts = rec, 1 }).
				SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String("https://sqs.example/1/q"), MessageBody: aws.String("m")})
			return err
		}},
		{"Lambda", func() error {
			_, err := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.HTTPClient, o.RetryMaxAttempts = rec, 1 }).
				Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("persist")})
			return err
		}},
	}
	urls, auth = map[string]string{}, map[string]string{}
	for _, c := range calls {
		n := len(rec.reqs)
		if err := c.call(); !errors.Is(err, errHeld) {
			t.Fatalf("%s call = %v; want the recorder's error", c.service, err)
		}
		if len(rec.reqs) != n+1 {
			t.Fatalf("%s made %d requests; want 1", c.service, len(rec.reqs)-n)
		}
		req := rec.reqs[n]
		urls[c.service] = req.URL.Scheme + "://" + req.URL.Host + req.URL.Path
		auth[c.service] = req.Header.Get("Authorization")
	}
	return urls, auth
}

func TestAWSFromLambdaEnvironment(t *testing.T) {
	lambdaEnv := map[string]string{
		"AWS_REGION":                          "eu-west-1",
		"AWS_DEFAULT_REGION":                  "",
		"AWS_ACCESS_KEY_ID":                   "AKID",
		"AWS_SECRET_ACCESS_KEY":               "SECRET",
		"AWS_SESSION_TOKEN":                   "TOKEN",
		"AWS_ENDPOINT_URL":                    "",
		"AWS_ENDPOINT_URL_DYNAMODB":           "",
		"AWS_ENDPOINT_URL_EVENTBRIDGE":        "",
		"AWS_ENDPOINT_URL_SQS":                "",
		"AWS_ENDPOINT_URL_LAMBDA":             "",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "",
	}
	regional := map[string]string{
		"DynamoDB":    "https://dynamodb.eu-west-1.amazonaws.com/",
		"EventBridge": "https://events.eu-west-1.amazonaws.com/",
		"SQS":         "https://sqs.eu-west-1.amazonaws.com/",
		"Lambda":      "https://lambda.eu-west-1.amazonaws.com/2015-03-31/functions/persist/invocations",
	}
	local := map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB":    "http://127.0.0.1:8000",
		"AWS_ENDPOINT_URL_EVENTBRIDGE": "http://127.0.0.1:8001",
		"AWS_ENDPOINT_URL_LAMBDA":      "http://127.0.0.1:8002",
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want map[string]string
	}{
		{name: "regional endpoints", want: regional},
		{name: "AWS_DEFAULT_REGION when AWS_REGION is unset",
			env: map[string]string{"AWS_REGION": "", "AWS_DEFAULT_REGION": "eu-west-1"}, want: regional},
		{name: "another partition", env: map[string]string{"AWS_REGION": "cn-north-1"}, want: map[string]string{
			"DynamoDB":    "https://dynamodb.cn-north-1.amazonaws.com.cn/",
			"EventBridge": "https://events.cn-north-1.amazonaws.com.cn/",
			"SQS":         "https://sqs.cn-north-1.amazonaws.com.cn/",
			"Lambda":      "https://lambda.cn-north-1.amazonaws.com.cn/2015-03-31/functions/persist/invocations",
		}},
		{name: "AWS_ENDPOINT_URL_<SERVICE>", env: local, want: map[string]string{
			"DynamoDB":    "http://127.0.0.1:8000/",
			"EventBridge": "http://127.0.0.1:8001/",
			"SQS":         regional["SQS"],
			"Lambda":      "http://127.0.0.1:8002/2015-03-31/functions/persist/invocations",
		}},
		{name: "AWS_ENDPOINT_URL under the services' own",
			env: merge(local, map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:9000"}), want: map[string]string{
				"DynamoDB":    "http://127.0.0.1:8000/",
				"EventBridge": "http://127.0.0.1:8001/",
				"SQS":         "http://127.0.0.1:9000/",
				"Lambda":      "http://127.0.0.1:8002/2015-03-31/functions/persist/invocations",
			}},
		{name: "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
			env: merge(local, map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}), want: regional},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range merge(lambdaEnv, tc.env) {
				t.Setenv(k, v)
			}
			cfg := AWS()
			creds, err := cfg.Credentials.Retrieve(context.Background())
			if err != nil || creds.AccessKeyID != "AKID" || creds.SecretAccessKey != "SECRET" || creds.SessionToken != "TOKEN" {
				t.Errorf("Credentials = %+v, %v; want the environment's", creds, err)
			}
			urls, auth := sent(t, cfg)
			for service, want := range tc.want {
				if urls[service] != want {
					t.Errorf("%s request to %q; want %q", service, urls[service], want)
				}
				if a := auth[service]; !strings.Contains(a, "Credential=AKID/") {
					t.Errorf("%s Authorization = %q; want it signed with the environment's key", service, a)
				}
			}
		})
	}
}

// TestAWSMissingFailsInit runs AWS in a child process without the Lambda environment:
// the cold start must end with every missing variable named.
func TestAWSMissingFailsInit(t *testing.T) {
	if os.Getenv("BOOT_TEST_CHILD") == "1" {
		AWS()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestAWSMissingFailsInit$")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "BOOT_TEST_CHILD=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("AWS() without the environment: %v, %s; want exit status 1", err, out)
	}
	want := "init failed: AWS configuration: [AWS_ACCESS_KEY_ID is not set AWS_REGION is not set AWS_SECRET_ACCESS_KEY is not set]"
	if !strings.Contains(string(out), want) {
		t.Errorf("output = %q; want %q", out, want)
	}
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

package boot

import (
	"testing"

	"github.com/eventhub/eventhub/shared/awsapi/dynamodb"
	"github.com/eventhub/eventhub/shared/awsapi/eventbridge"
	"github.com/eventhub/eventhub/shared/awsapi/sqs"
)

func TestAWSFromLambdaEnvironment(t *testing.T) {
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKID")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "SECRET")
	t.Setenv("AWS_SESSION_TOKEN", "TOKEN")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000")
	t.Setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", "http://127.0.0.1:8001")
	t.Setenv("AWS_ENDPOINT_URL_SQS", "")
	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "")

	cfg := AWS()
	if cfg.Region != "eu-west-1" {
		t.Errorf("Region = %q; want eu-west-1", cfg.Region)
	}
	if creds := cfg.Credentials; creds.AccessKeyID != "AKID" || creds.SecretAccessKey != "SECRET" || creds.SessionToken != "TOKEN" {
		t.Errorf("Credentials = %+v; want the environment's", creds)
	}
	for _, c := range []struct {
		name string
		got  string
		want string
	}{
		{"DynamoDB", dynamodb.New(cfg).Endpoint(), "http://127.0.0.1:8000"},
		{"EventBridge", eventbridge.New(cfg).Endpoint(), "http://127.0.0.1:8001"},
		{"SQS", sqs.New(cfg).Endpoint(), "https://sqs.eu-west-1.amazonaws.com"},
	} {
		if c.got != c.want {
			t.Errorf("%s endpoint = %q; want %q", c.name, c.got, c.want)
		}
	}

	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
	if got := dynamodb.New(AWS()).Endpoint(); got != "https://dynamodb.eu-west-1.amazonaws.com" {
		t.Errorf("DynamoDB endpoint with AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = %q; want the regional one", got)
	}
	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
	if got := sqs.New(AWS()).Endpoint(); got != "http://127.0.0.1:9000" {
		t.Errorf("SQS endpoint with AWS_ENDPOINT_URL = %q; want it", got)
	}
	if got := dynamodb.New(AWS()).Endpoint(); got != "http://127.0.0.1:8000" {
		t.Errorf("DynamoDB endpoint with both = %q; want its own", got)
	}
}

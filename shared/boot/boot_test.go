package boot

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
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
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKID" || creds.SecretAccessKey != "SECRET" || creds.SessionToken != "TOKEN" {
		t.Errorf("Credentials = %+v, %v; want the environment's", creds, err)
	}
	for _, c := range []struct {
		name string
		got  *string
		want string
	}{
		{"DynamoDB", dynamodb.NewFromConfig(cfg).Options().BaseEndpoint, "http://127.0.0.1:8000"},
		{"EventBridge", eventbridge.NewFromConfig(cfg).Options().BaseEndpoint, "http://127.0.0.1:8001"},
		{"SQS", sqs.NewFromConfig(cfg).Options().BaseEndpoint, ""},
	} {
		if aws.ToString(c.got) != c.want {
			t.Errorf("%s BaseEndpoint = %q; want %q", c.name, aws.ToString(c.got), c.want)
		}
	}

	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
	if got := dynamodb.NewFromConfig(AWS()).Options().BaseEndpoint; got != nil {
		t.Errorf("DynamoDB BaseEndpoint with AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = %q; want none", *got)
	}
	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
	if got := aws.ToString(sqs.NewFromConfig(AWS()).Options().BaseEndpoint); got != "http://127.0.0.1:9000" {
		t.Errorf("SQS BaseEndpoint with AWS_ENDPOINT_URL = %q; want it", got)
	}
}

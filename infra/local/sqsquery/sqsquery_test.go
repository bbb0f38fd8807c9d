package sqsquery

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// backend is a fake JSON-protocol SQS: it records the last request and answers
// with status and body.
type backend struct {
	target string
	body   map[string]any
	status int
	answer string
	header map[string]string
}

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.target = r.Header.Get("X-Amz-Target")
	raw, _ := io.ReadAll(r.Body)
	b.body = nil
	_ = json.Unmarshal(raw, &b.body)
	for k, v := range b.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("X-Amzn-Requestid", "req-1")
	w.WriteHeader(b.status)
	io.WriteString(w, b.answer)
}

func query(t *testing.T, h http.Handler, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func TestTranslation(t *testing.T) {
	tests := []struct {
		name     string
		form     url.Values
		answer   string
		wantBody string // the JSON the backend got
		wantXML  string // a part of the XML answer
	}{
		{
			name:     "create queue with attributes and tags",
			form:     url.Values{"Action": {"CreateQueue"}, "QueueName": {"q"}, "Attribute.1.Name": {"VisibilityTimeout"}, "Attribute.1.Value": {"40"}, "Tag.1.Key": {"team"}, "Tag.1.Value": {"ops"}},
			answer:   `{"QueueUrl":"http://sqs.us-east-1.localhost:9324/000000000000/q"}`,
			wantBody: `{"Attributes":{"VisibilityTimeout":"40"},"QueueName":"q","tags":{"team":"ops"}}`,
			wantXML:  `<CreateQueueResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><CreateQueueResult><QueueUrl>http://sqs.us-east-1.localhost:9324/000000000000/q</QueueUrl></CreateQueueResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></CreateQueueResponse>`,
		},
		{
			name: "send a message with attributes",
			form: url.Values{"Action": {"SendMessage"}, "QueueUrl": {"http://x/000000000000/q"}, "MessageBody": {"a<b>&c"}, "DelaySeconds": {"5"},
				"MessageAttribute.1.Name": {"k"}, "MessageAttribute.1.Value.DataType": {"String"}, "MessageAttribute.1.Value.StringValue": {"v"}},
			answer:   `{"MessageId":"m-1","MD5OfMessageBody":"abc"}`,
			wantBody: `{"DelaySeconds":5,"MessageAttributes":{"k":{"DataType":"String","StringValue":"v"}},"MessageBody":"a\u003cb\u003e\u0026c","QueueUrl":"http://x/000000000000/q"}`,
			wantXML:  `<SendMessageResult><MD5OfMessageBody>abc</MD5OfMessageBody><MessageId>m-1</MessageId></SendMessageResult>`,
		},
		{
			name:     "receive messages",
			form:     url.Values{"Action": {"ReceiveMessage"}, "QueueUrl": {"u"}, "MaxNumberOfMessages": {"10"}, "WaitTimeSeconds": {"1"}, "AttributeName.1": {"All"}, "MessageAttributeName.1": {"All"}},
			answer:   `{"Messages":[{"MessageId":"m-1","ReceiptHandle":"r-1","MD5OfBody":"abc","Body":"{\"a\":\"<x>\"}","Attributes":{"SentTimestamp":"1"},"MessageAttributes":{"k":{"DataType":"String","StringValue":"v"}}}]}`,
			wantBody: `{"AttributeNames":["All"],"MaxNumberOfMessages":10,"MessageAttributeNames":["All"],"QueueUrl":"u","WaitTimeSeconds":1}`,
			wantXML:  `<Message><MessageId>m-1</MessageId><ReceiptHandle>r-1</ReceiptHandle><MD5OfBody>abc</MD5OfBody><Body>{&#34;a&#34;:&#34;&lt;x&gt;&#34;}</Body><Attribute><Name>SentTimestamp</Name><Value>1</Value></Attribute><MessageAttribute><Name>k</Name><Value><StringValue>v</StringValue><DataType>String</DataType></Value></MessageAttribute></Message>`,
		},
		{
			name:     "delete a batch, one failed",
			form:     url.Values{"Action": {"DeleteMessageBatch"}, "QueueUrl": {"u"}, "DeleteMessageBatchRequestEntry.1.Id": {"a"}, "DeleteMessageBatchRequestEntry.1.ReceiptHandle": {"r-a"}, "DeleteMessageBatchRequestEntry.2.Id": {"b"}, "DeleteMessageBatchRequestEntry.2.ReceiptHandle": {"r-b"}},
			answer:   `{"Successful":[{"Id":"a"}],"Failed":[{"Id":"b","SenderFault":true,"Code":"ReceiptHandleIsInvalid","Message":"bad"}]}`,
			wantBody: `{"Entries":[{"Id":"a","ReceiptHandle":"r-a"},{"Id":"b","ReceiptHandle":"r-b"}],"QueueUrl":"u"}`,
			wantXML:  `<DeleteMessageBatchResultEntry><Id>a</Id></DeleteMessageBatchResultEntry><BatchResultErrorEntry><Id>b</Id><SenderFault>true</SenderFault><Code>ReceiptHandleIsInvalid</Code><Message>bad</Message></BatchResultErrorEntry>`,
		},
		{
			name:     "queue attributes",
			form:     url.Values{"Action": {"GetQueueAttributes"}, "QueueUrl": {"u"}, "AttributeName.1": {"QueueArn"}},
			answer:   `{"Attributes":{"QueueArn":"arn:aws:sqs:us-east-1:000000000000:q"}}`,
			wantBody: `{"AttributeNames":["QueueArn"],"QueueUrl":"u"}`,
			wantXML:  `<Attribute><Name>QueueArn</Name><Value>arn:aws:sqs:us-east-1:000000000000:q</Value></Attribute>`,
		},
		{
			name:     "list queues",
			form:     url.Values{"Action": {"ListQueues"}, "QueueNamePrefix": {"ops"}},
			answer:   `{"QueueUrls":["u1","u2"]}`,
			wantBody: `{"QueueNamePrefix":"ops"}`,
			wantXML:  `<ListQueuesResult><QueueUrl>u1</QueueUrl><QueueUrl>u2</QueueUrl></ListQueuesResult>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &backend{status: 200, answer: tt.answer}
			srv := httptest.NewServer(b)
			defer srv.Close()
			h, err := New(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			rec := query(t, h, tt.form)
			if rec.Code != 200 || !strings.Contains(rec.Body.String(), tt.wantXML) {
				t.Errorf("answer %d %s\nwant it to hold %s", rec.Code, rec.Body, tt.wantXML)
			}
			got, _ := json.Marshal(b.body)
			if b.target != "AmazonSQS."+tt.form.Get("Action") || string(got) != tt.wantBody {
				t.Errorf("backend got %s %s; want %s", b.target, got, tt.wantBody)
			}
		})
	}
}

func TestErrorsAndPassThrough(t *testing.T) {
	b := &backend{status: 400, answer: `{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}`,
		header: map[string]string{"X-Amzn-Query-Error": "AWS.SimpleQueueService.NonExistentQueue;Sender"}}
	srv := httptest.NewServer(b)
	defer srv.Close()
	h, _ := New(srv.URL)
	rec := query(t, h, url.Values{"Action": {"GetQueueUrl"}, "QueueName": {"nope"}})
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "<Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue</Code><Message>The specified queue does not exist.</Message>") {
		t.Errorf("error answer %d %s", rec.Code, rec.Body)
	}
	rec = query(t, h, url.Values{"Action": {"AddPermission"}})
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "<Code>InvalidAction</Code>") {
		t.Errorf("unknown action answer %d %s", rec.Code, rec.Body)
	}

	// A JSON-protocol request goes through as it is.
	b.status, b.answer, b.header = 200, `{"QueueUrls":[]}`, nil
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"QueueNamePrefix":"x"}`))
	r.Header.Set("Content-Type", "application/x-amz-json-1.0")
	r.Header.Set("X-Amz-Target", "AmazonSQS.ListQueues")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 200 || rec.Body.String() != `{"QueueUrls":[]}` || b.target != "AmazonSQS.ListQueues" || b.body["QueueNamePrefix"] != "x" {
		t.Errorf("pass-through: %d %s, backend got %s %v", rec.Code, rec.Body, b.target, b.body)
	}
}

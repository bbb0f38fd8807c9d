package template

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const realTemplate = "../../../template.yaml"

// fakeResolver resolves Ref X to "ref(X)" and GetAtt X.A to "X.A".
type fakeResolver struct{}

func (fakeResolver) Ref(id string) (string, error)          { return "ref(" + id + ")", nil }
func (fakeResolver) GetAtt(id, attr string) (string, error) { return id + "." + attr, nil }

// minimal wraps resource YAML (indented by two spaces) into a template.
func minimal(resources string) string {
	return "Resources:\n" + resources
}

func mustParse(t *testing.T, src string) *Template {
	t.Helper()
	tpl, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, src)
	}
	return tpl
}

func TestValues(t *testing.T) {
	tests := []struct {
		name       string
		yaml       string // the value of Outputs.O.Value
		want       string // resolved with fakeResolver
		wantString string // debug form
	}{
		{"literal string", `hello`, "hello", `"hello"`},
		{"quoted number stays text", `"30"`, "30", `"30"`},
		{"number", `30`, "30", "30"},
		{"bool", `true`, "true", "true"},
		{"short Ref", `!Ref Stage`, "ref(Stage)", "!Ref Stage"},
		{"long Ref", `{Ref: Stage}`, "ref(Stage)", "!Ref Stage"},
		{"short GetAtt scalar", `!GetAtt Q.Arn`, "Q.Arn", "!GetAtt Q.Arn"},
		{"short GetAtt sequence", `!GetAtt [Q, Arn]`, "Q.Arn", "!GetAtt Q.Arn"},
		{"long GetAtt", `{"Fn::GetAtt": [Q, QueueName]}`, "Q.QueueName", "!GetAtt Q.QueueName"},
		{"GetAtt nested attribute", `!GetAtt DB.Endpoint.Address`, "DB.Endpoint.Address", "!GetAtt DB.Endpoint.Address"},
		{"Sub string", `!Sub "eventhub-${Stage}-${AWS::Region}-${Q.Arn}-${!Literal}"`,
			"eventhub-ref(Stage)-ref(AWS::Region)-Q.Arn-${Literal}", `!Sub "eventhub-${Stage}-${AWS::Region}-${Q.Arn}-${!Literal}"`},
		{"Sub with variables", `!Sub ["${A}/${B}", {A: x, B: !Ref Stage}]`, "x/ref(Stage)", `!Sub ["${A}/${B}", {A: "x", B: !Ref Stage}]`},
		{"long Sub", `{"Fn::Sub": "a-${Stage}"}`, "a-ref(Stage)", `!Sub "a-${Stage}"`},
		{"Join", `!Join [":", [a, !Ref Stage, 3]]`, "a:ref(Stage):3", `!Join [":", ["a", !Ref Stage, 3]]`},
		{"Select", `!Select [1, [a, !Ref Stage]]`, "ref(Stage)", `!Select [1, ["a", !Ref Stage]]`},
		{"nested", `!Sub ["${X}", {X: !Join ["-", [!GetAtt Q.Arn, b]]}]`, "Q.Arn-b", `!Sub ["${X}", {X: !Join ["-", [!GetAtt Q.Arn, "b"]]}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "Parameters:\n  Stage: {Type: String}\nResources:\n  Q: {Type: AWS::SQS::Queue}\n  DB: {Type: AWS::RDS::DBInstance}\n" +
				"Outputs:\n  O:\n    Value: " + tt.yaml + "\n"
			tpl, err := Parse([]byte(src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			v := tpl.Outputs["O"]
			got, err := v.Resolve(fakeResolver{})
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if got != tt.want {
				t.Errorf("Resolve = %q; want %q", got, tt.want)
			}
			if s := v.String(); s != tt.wantString {
				t.Errorf("String = %s; want %s", s, tt.wantString)
			}
		})
	}
}

func TestValueJSON(t *testing.T) {
	src := `Parameters:
  Stage: {Type: String}
Resources:
  Q: {Type: AWS::SQS::Queue}
  B: {Type: AWS::SNS::Topic}
Outputs:
  O:
    Value:
      b: [1, "2", !Ref Stage, !GetAtt Q.Arn, !Sub "x${Stage}"]
      a: {n: null, t: true, s: !Sub ["${A}", {A: !Ref B}]}
`
	tpl := mustParse(t, src)
	got, err := json.Marshal(tpl.Outputs["O"])
	if err != nil {
		t.Fatal(err)
	}
	want := `{"b":[1,"2",{"Ref":"Stage"},{"Fn::GetAtt":["Q","Arn"]},{"Fn::Sub":"x${Stage}"}],"a":{"n":null,"t":true,"s":{"Fn::Sub":["${A}",{"A":{"Ref":"B"}}]}}}`
	if string(got) != want {
		t.Errorf("MarshalJSON =\n%s\nwant\n%s", got, want)
	}
	all, err := tpl.Outputs["O"].ResolveAll(fakeResolver{})
	if err != nil {
		t.Fatal(err)
	}
	gotAll, _ := json.Marshal(all)
	wantAll := `{"a":{"n":null,"s":"ref(B)","t":true},"b":[1,"2","ref(Stage)","Q.Arn","xref(Stage)"]}`
	if string(gotAll) != wantAll {
		t.Errorf("ResolveAll =\n%s\nwant\n%s", gotAll, wantAll)
	}
	if refs := tpl.Outputs["O"].References(); !slices.Equal(refs, []string{"B", "Q", "Stage"}) {
		t.Errorf("References = %v; want [B Q Stage]", refs)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // substrings of the error
	}{
		{"unknown short intrinsic", minimal("  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Foo bar\n"),
			[]string{"Resources.Q.Properties.QueueName", "unknown intrinsic function Fn::Foo"}},
		{"unknown long intrinsic", minimal("  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: {\"Fn::Nope\": x}\n"),
			[]string{"Resources.Q.Properties.QueueName", "unknown intrinsic function Fn::Nope"}},
		{"unsupported intrinsic", minimal("  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !If [C, a, b]\n"),
			[]string{"Fn::If is not supported"}},
		{"GetAtt without attribute", minimal("  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !GetAtt Other\n"),
			[]string{"Resources.Q.Properties.QueueName.Fn::GetAtt", "want LogicalId.Attribute"}},
		{"Ref of a list", minimal("  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: {Ref: [a]}\n"),
			[]string{"want a logical id"}},
		{"Sub unterminated", minimal("  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Sub \"a-${Stage\"\n"),
			[]string{"unterminated ${"}},
		{"Join wrong shape", minimal("  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Join [\"-\"]\n"),
			[]string{"want [delimiter, [values]]"}},
		{"number is intrinsic", minimal("  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      VisibilityTimeout: !Ref T\n"),
			[]string{"Resources.Q.Properties.VisibilityTimeout", "want an integer, got !Ref T"}},
		{"undeclared reference", minimal("  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Ref Nope\n"),
			[]string{`reference to undeclared logical id "Nope"`}},
		{"missing type", minimal("  Q:\n    Properties: {}\n"), []string{"Resources.Q.Type", "missing"}},
		{"maxReceiveCount zero", minimal("  D: {Type: AWS::SQS::Queue}\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      RedrivePolicy: {deadLetterTargetArn: !GetAtt D.Arn, maxReceiveCount: 0}\n"),
			[]string{"RedrivePolicy.maxReceiveCount", "want 1 to 1000"}},
		{"duplicate routes", minimal(`  A:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: a/
      Events:
        E1: {Type: HttpApi, Properties: {Method: get, Path: /x}}
  B:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: b/
      Events:
        E2: {Type: HttpApi, Properties: {Method: GET, Path: /x}}
`), []string{"Resources.B.Properties.Events.E2", "duplicate route GET /x", "Resources.A.Properties.Events.E1"}},
		{"route without path", minimal(`  A:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: a/
      Events:
        E: {Type: HttpApi, Properties: {Method: GET}}
`), []string{"Resources.A.Properties.Events.E.Properties.Path", "missing"}},
		{"pattern with intrinsic", minimal(`  A:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: a/
      Events:
        E: {Type: EventBridgeRule, Properties: {Pattern: {source: [!Ref AWS::StackName]}}}
`), []string{"Resources.A.Properties.Events.E.Properties.Pattern", "intrinsic functions in event patterns"}},
		{"unsupported SQS property", minimal(`  Q: {Type: AWS::SQS::Queue}
  A:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: a/
      Events:
        E: {Type: SQS, Properties: {Queue: !GetAtt Q.Arn, FilterCriteria: {}}}
`), []string{"Resources.A.Properties.Events.E.Properties.FilterCriteria", "unsupported property"}},
		{"batch size over 10 without window", minimal(`  Q: {Type: AWS::SQS::Queue}
  A:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: a/
      Events:
        E: {Type: SQS, Properties: {Queue: !GetAtt Q.Arn, BatchSize: 100}}
`), []string{"BatchSize", "MaximumBatchingWindowInSeconds of at least 1"}},
		{"mapping of another function", minimal(`  Q: {Type: AWS::SQS::Queue}
  M:
    Type: AWS::Lambda::EventSourceMapping
    Properties: {FunctionName: nope, EventSourceArn: !GetAtt Q.Arn}
`), []string{"Resources.M.Properties.FunctionName", "want !Ref or !GetAtt of a function"}},
		{"mapping of a stream", minimal(`  A: {Type: AWS::Serverless::Function, Properties: {CodeUri: a/}}
  M:
    Type: AWS::Lambda::EventSourceMapping
    Properties: {FunctionName: !Ref A, EventSourceArn: arn:aws:kinesis:us-east-1:1:stream/s}
`), []string{"Resources.M.Properties.EventSourceArn", "SQS mappings only"}},
		{"unsupported mapping property", minimal(`  Q: {Type: AWS::SQS::Queue}
  A: {Type: AWS::Serverless::Function, Properties: {CodeUri: a/}}
  M:
    Type: AWS::Lambda::EventSourceMapping
    Properties: {FunctionName: !Ref A, EventSourceArn: !GetAtt Q.Arn, FilterCriteria: {}}
`), []string{"Resources.M.Properties.FilterCriteria", "unsupported property"}},
		{"table without key schema", minimal("  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      BillingMode: PAY_PER_REQUEST\n      AttributeDefinitions: []\n"),
			[]string{"Resources.T.Properties.KeySchema"}},
		{"two problems reported", minimal("  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      DelaySeconds: x\n      VisibilityTimeout: y\n"),
			[]string{"DelaySeconds", "VisibilityTimeout"}},
		{"not a map", "- a\n- b\n", []string{"want a map at the top level"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src))
			if err == nil {
				t.Fatalf("Parse succeeded; want an error containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse error = %v; want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestGlobals(t *testing.T) {
	src := `Globals:
  Function:
    Runtime: provided.al2023
    Timeout: 10
    Environment:
      Variables:
        A: global
        B: !Ref P
    LoggingConfig: {LogFormat: JSON, ApplicationLogLevel: INFO}
Parameters:
  P: {Type: String, Default: p}
Resources:
  F:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: f/
      Timeout: 60
      Environment:
        Variables:
          B: local
          C: 7
      LoggingConfig: {ApplicationLogLevel: DEBUG}
  G:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: g/
`
	tpl := mustParse(t, src)
	f, g := tpl.Functions[0], tpl.Functions[1]
	if f.LogicalID != "F" || g.LogicalID != "G" {
		t.Fatalf("functions = %s, %s; want F, G", f.LogicalID, g.LogicalID)
	}
	if f.Timeout != 60 || g.Timeout != 10 {
		t.Errorf("Timeout = %d, %d; want 60, 10", f.Timeout, g.Timeout)
	}
	if f.Runtime != "provided.al2023" || f.MemorySize != DefaultMemorySize {
		t.Errorf("Runtime, MemorySize = %q, %d; want provided.al2023, %d", f.Runtime, f.MemorySize, DefaultMemorySize)
	}
	if lc := f.LoggingConfig; lc.LogFormat != "JSON" || lc.ApplicationLogLevel != "DEBUG" || lc.SystemLogLevel != "" || !lc.LogGroup.IsZero() {
		t.Errorf("LoggingConfig = %+v; want JSON/DEBUG", f.LoggingConfig)
	}
	l := Locals{Params: map[string]string{"P": "p"}}
	env, err := tpl.ResolveEnv(f, &l)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"A": "global", "B": "local", "C": "7"}
	if !mapsEqual(env, want) {
		t.Errorf("F env = %v; want %v", env, want)
	}
	env, err = tpl.ResolveEnv(g, &l)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"A": "global", "B": "p"}; !mapsEqual(env, want) {
		t.Errorf("G env = %v; want %v", env, want)
	}
	if f.Timeout != 60 || len(f.Architectures) != 1 || f.Architectures[0] != "x86_64" {
		t.Errorf("Architectures = %v; want the default [x86_64]", f.Architectures)
	}
}

func TestMergeGlobalsLists(t *testing.T) {
	tpl := mustParse(t, `Globals:
  Function:
    Architectures: [arm64]
    Policies: [AWSLambdaBasicExecutionRole]
Resources:
  F:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: f/
      Policies: [{SQSPollerPolicy: {QueueName: q}}]
`)
	f := tpl.Functions[0]
	if got := f.Policies.String(); got != `["AWSLambdaBasicExecutionRole", {SQSPollerPolicy: {QueueName: "q"}}]` {
		t.Errorf("Policies = %s; want the global entry followed by the function's", got)
	}
	if !slices.Equal(f.Architectures, []string{"arm64"}) {
		t.Errorf("Architectures = %v; want [arm64]", f.Architectures)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestEvents(t *testing.T) {
	tpl := mustParse(t, `Resources:
  Bus: {Type: AWS::Events::EventBus, Properties: {Name: b}}
  Api: {Type: AWS::Serverless::HttpApi}
  Q: {Type: AWS::SQS::Queue}
  F:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: f/
      Events:
        Get: {Type: HttpApi, Properties: {ApiId: !Ref Api, Method: get, Path: "/x/{id}"}}
        Any: {Type: HttpApi}
        Rule:
          Type: EventBridgeRule
          Properties:
            EventBusName: !Ref Bus
            Pattern:
              source: [eventhub.ingest]
              detail-type: [Event Received]
              detail:
                size: [{numeric: [">", 10, "<=", 2.5e3]}]
                quoted: ["30", 30, true, "true", null]
                prefix: [{prefix: "a"}]
            DeadLetterConfig: {Type: SQS}
        Default:
          Type: EventBridgeRule
          Properties:
            Pattern: {source: [x]}
            RetryPolicy: {MaximumRetryAttempts: 3}
        Poll:
          Type: SQS
          Properties:
            Queue: !GetAtt Q.Arn
            FunctionResponseTypes: [ReportBatchItemFailures]
        Cron: {Type: Schedule, Properties: {Schedule: rate(1 minute)}}
`)
	f := tpl.Functions[0]
	wantRoutes := []Route{
		{Event: "Any", Method: "ANY", Path: "$default", ApiID: Ref("ServerlessHttpApi"), PayloadFormatVersion: "2.0"},
		{Event: "Get", Method: "GET", Path: "/x/{id}", ApiID: Ref("Api"), PayloadFormatVersion: "2.0"},
	}
	if len(f.Routes) != len(wantRoutes) {
		t.Fatalf("Routes = %+v; want %+v", f.Routes, wantRoutes)
	}
	for i, r := range f.Routes {
		w := wantRoutes[i]
		if r.Event != w.Event || r.Method != w.Method || r.Path != w.Path || r.ApiID.String() != w.ApiID.String() || r.PayloadFormatVersion != w.PayloadFormatVersion {
			t.Errorf("Routes[%d] = %+v; want %+v", i, r, w)
		}
	}

	if len(f.Rules) != 2 {
		t.Fatalf("Rules = %d; want 2", len(f.Rules))
	}
	def, rule := f.Rules[0], f.Rules[1]
	if def.EventBusName.String() != `"default"` || def.RetryPolicy != (RetryPolicy{3, DefaultRuleMaxEventAge}) || def.DeadLetterConfig != nil || def.State != "ENABLED" {
		t.Errorf("Default rule = %+v; want default bus, retry {3 86400}, no DLQ", def)
	}
	wantPattern := `{"source":["eventhub.ingest"],"detail-type":["Event Received"],"detail":{"size":[{"numeric":[">",10,"<=",2.5e3]}],"quoted":["30",30,true,"true",null],"prefix":[{"prefix":"a"}]}}`
	if string(rule.Pattern) != wantPattern {
		t.Errorf("Pattern =\n%s\nwant\n%s", rule.Pattern, wantPattern)
	}
	if !json.Valid(rule.Pattern) {
		t.Errorf("Pattern is not valid JSON: %s", rule.Pattern)
	}
	if rule.RetryPolicy != (RetryPolicy{DefaultRuleRetryAttempts, DefaultRuleMaxEventAge}) {
		t.Errorf("RetryPolicy = %+v; want EventBridge's defaults", rule.RetryPolicy)
	}
	if rule.DeadLetterConfig == nil || rule.DeadLetterConfig.Arn.String() != "!GetAtt FRuleQueue.Arn" {
		t.Errorf("DeadLetterConfig = %+v; want the queue SAM generates", rule.DeadLetterConfig)
	}
	if i := slices.IndexFunc(tpl.Queues, func(q Queue) bool { return q.LogicalID == "FRuleQueue" }); i < 0 || !tpl.Queues[i].Generated {
		t.Errorf("Queues = %+v; want the generated FRuleQueue", tpl.Queues)
	}

	if len(f.SQSSources) != 1 {
		t.Fatalf("SQSSources = %+v; want 1", f.SQSSources)
	}
	s := f.SQSSources[0]
	if s.Queue.String() != "!GetAtt Q.Arn" || s.BatchSize != 10 || !s.Enabled || !s.ReportBatchItemFailures() {
		t.Errorf("SQS source = %+v; want Q, batch 10, enabled, ReportBatchItemFailures", s)
	}
	if !slices.Equal(f.OtherEvents, []Event{{Name: "Cron", Type: "Schedule"}}) {
		t.Errorf("OtherEvents = %+v; want Cron (Schedule)", f.OtherEvents)
	}
}

// An AWS::Lambda::EventSourceMapping on a template queue is an SQS source of its
// function, like an SQS event; and a function without Role has the role SAM generates
// for it, which the template may refer to.
func TestEventSourceMapping(t *testing.T) {
	tpl := mustParse(t, `Resources:
  Q: {Type: AWS::SQS::Queue}
  F:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: f/
      Events:
        Old: {Type: SQS, Properties: {Queue: !GetAtt Q.Arn}}
  FMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref F
      EventSourceArn: !GetAtt Q.Arn
      BatchSize: 5
      FunctionResponseTypes: [ReportBatchItemFailures]
      ScalingConfig: {MaximumConcurrency: 2}
  P:
    Type: AWS::Events::EventBusPolicy
    Properties: {StatementId: s, Statement: {Principal: {AWS: !GetAtt FRole.Arn}}}
`)
	f := tpl.Functions[0]
	if len(f.SQSSources) != 2 {
		t.Fatalf("SQSSources = %+v; want the event and the mapping", f.SQSSources)
	}
	m := f.SQSSources[0]
	if m.Name != "FMapping" || !m.Mapping || m.Queue.String() != "!GetAtt Q.Arn" || m.BatchSize != 5 || !m.ReportBatchItemFailures() || m.MaximumConcurrency != 2 || !m.Enabled {
		t.Errorf("mapping = %+v; want FMapping on Q, batch 5, ReportBatchItemFailures, at most 2", m)
	}
	if f.SQSSources[1].Name != "Old" || f.SQSSources[1].Mapping {
		t.Errorf("event = %+v; want Old, not a mapping", f.SQSSources[1])
	}
}

func TestQueuesAndTables(t *testing.T) {
	tpl := mustParse(t, `Resources:
  DLQ: {Type: AWS::SQS::Queue, Properties: {MessageRetentionPeriod: 1209600}}
  Q:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 360
      DelaySeconds: 5
      RedrivePolicy: {deadLetterTargetArn: !GetAtt DLQ.Arn, maxReceiveCount: 5}
  S:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: s.fifo
      FifoQueue: true
      RedrivePolicy: '{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:x","maxReceiveCount":"3"}'
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}, {AttributeName: n, AttributeType: N}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      ProvisionedThroughput: {ReadCapacityUnits: 5, WriteCapacityUnits: 5}
      LocalSecondaryIndexes:
        - IndexName: lsi
          KeySchema: [{AttributeName: pk, KeyType: HASH}, {AttributeName: n, KeyType: RANGE}]
          Projection: {ProjectionType: INCLUDE, NonKeyAttributes: [a]}
      StreamSpecification: {StreamViewType: NEW_IMAGE}
`)
	qs := tpl.Queues
	if len(qs) != 3 || qs[0].LogicalID != "DLQ" || qs[1].LogicalID != "Q" || qs[2].LogicalID != "S" {
		t.Fatalf("Queues = %+v; want DLQ, Q, S", qs)
	}
	if qs[0].VisibilityTimeout != 30 || qs[0].MessageRetentionPeriod != 1209600 || qs[0].RedrivePolicy != nil {
		t.Errorf("DLQ = %+v; want visibility 30 (default), retention 1209600", qs[0])
	}
	if qs[1].VisibilityTimeout != 360 || qs[1].DelaySeconds != 5 || qs[1].MessageRetentionPeriod != 345600 ||
		qs[1].RedrivePolicy == nil || qs[1].RedrivePolicy.DeadLetterTargetArn.String() != "!GetAtt DLQ.Arn" || qs[1].RedrivePolicy.MaxReceiveCount != 5 {
		t.Errorf("Q = %+v", qs[1])
	}
	if !qs[2].FifoQueue || qs[2].QueueName.String() != `"s.fifo"` || qs[2].RedrivePolicy.MaxReceiveCount != 3 {
		t.Errorf("S = %+v", qs[2])
	}

	in := tpl.Tables[0].CreateTableInput("t1")
	if aws.ToString(in.TableName) != "t1" || in.BillingMode != types.BillingModeProvisioned ||
		aws.ToInt64(in.ProvisionedThroughput.ReadCapacityUnits) != 5 || len(in.LocalSecondaryIndexes) != 1 ||
		in.LocalSecondaryIndexes[0].Projection.ProjectionType != types.ProjectionTypeInclude ||
		!aws.ToBool(in.StreamSpecification.StreamEnabled) || in.StreamSpecification.StreamViewType != types.StreamViewTypeNewImage {
		t.Errorf("CreateTableInput = %+v", in)
	}
}

func TestLocals(t *testing.T) {
	tpl := mustParse(t, `Parameters:
  Stage: {Type: String, Default: prod, AllowedPattern: "[a-z0-9-]{1,20}"}
  Days: {Type: Number, Default: 30, MinValue: 1, MaxValue: 3650}
  Secret: {Type: String, NoEcho: true, AllowedPattern: "[0-9a-f]{4}"}
  Flag: {Type: String, Default: "false", AllowedValues: ["true", "false"]}
Resources:
  Bus: {Type: AWS::Events::EventBus, Properties: {Name: !Sub "eventhub-${Stage}"}}
Outputs:
  Arn:
    Value: !Sub arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${Bus}
`)
	l, err := NewLocals(tpl, "eu-west-1", "000000000000", "eventhub", map[string]string{"Secret": "beef"})
	if err != nil {
		t.Fatalf("NewLocals: %v", err)
	}
	if l.Params["Stage"] != "prod" || l.Params["Days"] != "30" || l.Params["Flag"] != "false" {
		t.Errorf("Params = %v; want the defaults", l.Params)
	}
	name, err := tpl.Buses[0].Name.Resolve(l)
	if err != nil || name != "eventhub-prod" {
		t.Errorf("bus name = %q, %v; want eventhub-prod", name, err)
	}
	l.Set("Bus", "", name)
	arn, err := tpl.Outputs["Arn"].Resolve(l)
	if want := "arn:aws:events:eu-west-1:000000000000:event-bus/eventhub-prod"; err != nil || arn != want {
		t.Errorf("Arn = %q, %v; want %q", arn, err, want)
	}
	if _, err := l.GetAtt("Bus", "Arn"); err == nil {
		t.Errorf("GetAtt Bus.Arn succeeded; want an error, nothing was Set")
	}

	tests := []struct {
		name      string
		overrides map[string]string
		want      []string
		notWant   string
	}{
		{"missing required", nil, []string{"parameter Secret: no value given and no default"}, ""},
		{"pattern must match the whole value", map[string]string{"Secret": "beef", "Stage": "Prod!"}, []string{"parameter Stage", `"Prod!" does not match`}, ""},
		{"NoEcho value is not shown", map[string]string{"Secret": "zzzz-secret"}, []string{"parameter Secret", "does not match"}, "zzzz-secret"},
		{"number range", map[string]string{"Secret": "beef", "Days": "0"}, []string{"parameter Days", "less than MinValue 1"}, ""},
		{"not a number", map[string]string{"Secret": "beef", "Days": "many"}, []string{"parameter Days", "not a number"}, ""},
		{"allowed values", map[string]string{"Secret": "beef", "Flag": "yes"}, []string{"parameter Flag", "allowed values true, false"}, ""},
		{"unknown parameter", map[string]string{"Secret": "beef", "Nope": "x"}, []string{"parameter Nope: not declared"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewLocals(tpl, "eu-west-1", "000000000000", "eventhub", tt.overrides)
			if err == nil {
				t.Fatalf("NewLocals succeeded; want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error = %v; want it to contain %q", err, w)
				}
			}
			if tt.notWant != "" && strings.Contains(err.Error(), tt.notWant) {
				t.Errorf("error = %v; must not contain %q", err, tt.notWant)
			}
		})
	}
}

func TestRealTemplate(t *testing.T) {
	tpl, err := Load(realTemplate)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if n := len(tpl.Functions); n != 6 {
		t.Errorf("%d functions; want 6", n)
	}
	var routes []string
	var rules int
	var sources []SQSSource
	for _, f := range tpl.Functions {
		if f.Runtime != "provided.al2023" || f.Handler != "bootstrap" || !slices.Equal(f.Architectures, []string{"arm64"}) {
			t.Errorf("%s: runtime %q handler %q architectures %v; want the Globals", f.LogicalID, f.Runtime, f.Handler, f.Architectures)
		}
		if f.Environment["TABLE_NAME"].String() != "!Ref EventsTable" {
			t.Errorf("%s: TABLE_NAME = %s; want !Ref EventsTable from Globals", f.LogicalID, f.Environment["TABLE_NAME"])
		}
		for _, r := range f.Routes {
			routes = append(routes, r.Method+" "+r.Path+" "+f.LogicalID)
		}
		for _, r := range f.Rules {
			rules++
			if !json.Valid(r.Pattern) || r.EventBusName.String() != "!Ref EventBus" || r.DeadLetterConfig == nil {
				t.Errorf("%s rule %s: pattern %s, bus %s, DLQ %+v", f.LogicalID, r.Name, r.Pattern, r.EventBusName, r.DeadLetterConfig)
			}
		}
		sources = append(sources, f.SQSSources...)
	}
	for _, want := range []string{"POST /events IngestFunction", "GET /events/{id} ApiFunction", "DELETE /subscriptions/{id} ApiFunction"} {
		if !slices.Contains(routes, want) {
			t.Errorf("routes %v; want %q among them", routes, want)
		}
	}
	if rules != 3 {
		t.Errorf("%d rules; want 3", rules)
	}
	if len(sources) != 2 {
		t.Errorf("SQS sources = %+v; want two (delivery retries, replay jobs)", sources)
	}
	for _, s := range sources {
		if !s.ReportBatchItemFailures() {
			t.Errorf("SQS source %s without ReportBatchItemFailures", s.Name)
		}
	}
	if len(tpl.Queues) < 2 {
		t.Errorf("%d queues; want at least 2", len(tpl.Queues))
	}
	var ttl bool
	for _, tb := range tpl.Tables {
		ttl = ttl || (tb.TimeToLive != nil && tb.TimeToLive.Enabled && tb.TimeToLive.AttributeName != "")
	}
	if !ttl {
		t.Errorf("no table with TTL among %+v", tpl.Tables)
	}

	// Everything the functions' environments refer to resolves once the local
	// stack has recorded its resources.
	l, err := NewLocals(tpl, "us-east-1", "000000000000", "eventhub", map[string]string{"AdminTokenSha256": strings.Repeat("0", 64)})
	if err != nil {
		t.Fatalf("NewLocals: %v", err)
	}
	for id := range tpl.Resources {
		l.Set(id, "", "ref-"+id)
		l.Set(id, "Arn", "arn-"+id)
		l.Set(id, "QueueName", "name-"+id)
	}
	l.Set("HttpApi", "ApiEndpoint", "http://127.0.0.1:3000")
	for _, f := range tpl.Functions {
		if _, err := tpl.ResolveEnv(f, l); err != nil {
			t.Errorf("ResolveEnv(%s): %v", f.LogicalID, err)
		}
	}
}

func TestGolden(t *testing.T) {
	tpl, err := Load(realTemplate)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	got, err := json.MarshalIndent(tpl, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "template.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("parsed model differs from %s; if the change is intended, run go test ./infra/local/template -update and review the diff", golden)
	}
}

// TestResourcesNotRun checks that the operators' resources (alarms with optional
// actions, a dashboard, log groups, a topic) are read and listed, never refused, and
// that a function may send its logs to a log group of the template.
func TestResourcesNotRun(t *testing.T) {
	src := `Parameters:
  AlarmTopicArn: {Type: String, Default: ""}
  LogRetentionDays: {Type: Number, Default: "30", AllowedValues: ["7", "30"]}
Conditions:
  HasAlarmTopic: !Not [!Equals [!Ref AlarmTopicArn, ""]]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/fn/
      Tracing: Active
      LoggingConfig: {LogFormat: JSON, LogGroup: !Ref FnLogs}
  FnLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub /eventhub/${AWS::StackName}/fn
      RetentionInDays: !Ref LogRetentionDays
  FnErrors:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmActions: !If [HasAlarmTopic, [!Ref AlarmTopicArn], !Ref AWS::NoValue]
      Dimensions: [{Name: FunctionName, Value: !Ref Fn}]
  Topic: {Type: AWS::SNS::Topic}
  Board:
    Type: AWS::CloudWatch::Dashboard
    Properties:
      DashboardBody: !Sub '{"widgets":[{"properties":{"region":"${AWS::Region}"}}]}'
`
	tpl := mustParse(t, src)
	want := []string{"Board (AWS::CloudWatch::Dashboard)", "FnErrors (AWS::CloudWatch::Alarm)", "FnLogs (AWS::Logs::LogGroup)", "Topic (AWS::SNS::Topic)"}
	if !slices.Equal(tpl.NotRun, want) {
		t.Errorf("NotRun = %v; want %v", tpl.NotRun, want)
	}
	if id, _, ok := tpl.Functions[0].LoggingConfig.LogGroup.Target(); !ok || id != "FnLogs" {
		t.Errorf("LoggingConfig.LogGroup = %s; want !Ref FnLogs", tpl.Functions[0].LoggingConfig.LogGroup)
	}
	actions := tpl.Resources["FnErrors"].Properties.Field("AlarmActions")
	if _, err := actions.Resolve(fakeResolver{}); err == nil || !strings.Contains(err.Error(), "Fn::If is not supported") {
		t.Errorf("Resolve(%s) = %v; want Fn::If not supported", actions, err)
	}
	if got, _ := json.Marshal(actions); string(got) != `{"Fn::If":["HasAlarmTopic",[{"Ref":"AlarmTopicArn"}],{"Ref":"AWS::NoValue"}]}` {
		t.Errorf("AlarmActions as JSON = %s", got)
	}

	// Where the local stack needs the value, an unevaluated function is refused.
	for _, bad := range []string{
		strings.Replace(src, "Tracing: Active", "Tracing: !If [HasAlarmTopic, Active, PassThrough]", 1),
		src + "Outputs:\n  O:\n    Value: !If [HasAlarmTopic, a, b]\n",
	} {
		if _, err := Parse([]byte(bad)); err == nil || !strings.Contains(err.Error(), "Fn::If is not supported by the local stack") {
			t.Errorf("Parse = %v; want Fn::If not supported", err)
		}
	}
}

func TestEventRules(t *testing.T) {
	tpl := mustParse(t, `Resources:
  Bus: {Type: AWS::Events::EventBus, Properties: {Name: b}}
  Ops: {Type: AWS::SQS::Queue}
  Outliers:
    Type: AWS::Events::Rule
    Properties:
      EventBusName: !Ref Bus
      Description: to ops
      EventPattern:
        source: [eventhub.persist]
        detail: {event: {type: [mse:Agent:OutlierEjection]}}
      Targets:
        - Id: ops
          Arn: !GetAtt Ops.Arn
          InputPath: $.detail.event
          RetryPolicy: {MaximumRetryAttempts: 3}
          DeadLetterConfig: {Arn: !GetAtt Ops.Arn}
        - Id: hook
          Arn: arn:aws:events:us-east-1:000000000000:api-destination/hook/x
          InputTransformer:
            InputPathsMap: {type: $.detail.event.type}
            InputTemplate: '{"type": <type>}'
          HttpParameters: {HeaderParameters: {X-Team: ops}, PathParameterValues: [a]}
        - Id: task
          Arn: arn:aws:ecs:us-east-1:000000000000:cluster/c
          EcsParameters: {TaskDefinitionArn: x}
  AsString:
    Type: AWS::Events::Rule
    Properties:
      State: DISABLED
      EventPattern: '{"source":["x"]}'
      Targets: [{Id: q, Arn: !GetAtt Ops.Arn}]
  Nightly:
    Type: AWS::Events::Rule
    Properties:
      ScheduleExpression: rate(1 day)
      Targets: [{Id: q, Arn: !GetAtt Ops.Arn}]
  Policy: {Type: AWS::SQS::QueuePolicy, Properties: {Queues: [!Ref Ops]}}
  Topic: {Type: AWS::SNS::Topic}
  F:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: f/
      Events:
        Cron: {Type: Schedule, Properties: {Schedule: rate(1 minute)}}
        Old: {Type: CloudWatchEvent, Properties: {Pattern: {source: [x]}}}
`)
	if len(tpl.EventRules) != 3 {
		t.Fatalf("EventRules = %+v; want 3", tpl.EventRules)
	}
	as, nightly, out := tpl.EventRules[0], tpl.EventRules[1], tpl.EventRules[2]
	if out.LogicalID != "Outliers" || out.EventBusName.String() != "!Ref Bus" || out.State != "ENABLED" || out.Description != "to ops" || len(out.Targets) != 3 {
		t.Errorf("Outliers = %+v", out)
	}
	ops, hook := out.Targets[0], out.Targets[1]
	if ops.ID != "ops" || ops.Arn.String() != "!GetAtt Ops.Arn" || ops.InputPath != "$.detail.event" || ops.RetryPolicy == nil ||
		*ops.RetryPolicy != (RetryPolicy{3, DefaultRuleMaxEventAge}) || ops.DeadLetterArn.String() != "!GetAtt Ops.Arn" {
		t.Errorf("ops target = %+v", ops)
	}
	if hook.InputTransformer == nil || hook.InputTransformer.InputPathsMap["type"] != "$.detail.event.type" || hook.HTTPParameters == nil || hook.HTTPParameters.HeaderParameters["X-Team"] != "ops" {
		t.Errorf("hook target = %+v", hook)
	}
	if p, _ := as.EventPattern.Literal(); as.State != "DISABLED" || p != `{"source":["x"]}` {
		t.Errorf("AsString = %+v", as)
	}
	if nightly.ScheduleExpression != "rate(1 day)" || !nightly.EventPattern.IsZero() {
		t.Errorf("Nightly = %+v", nightly)
	}
	if len(tpl.Functions[0].Rules) != 1 || tpl.Functions[0].Rules[0].Name != "Old" {
		t.Errorf("CloudWatchEvent events are rules: %+v", tpl.Functions[0].Rules)
	}
	var warnings []string
	for _, w := range tpl.Warnings {
		warnings = append(warnings, w.Path+": "+w.Msg)
	}
	for _, want := range []string{
		"Resources.Outliers.Properties.Targets[2].EcsParameters: rule Outliers target task: EcsParameters are not run by the local stack",
		"Resources.Nightly.Properties.ScheduleExpression: rule Nightly runs on a schedule (rate(1 day))",
		"Resources.Topic: Topic (AWS::SNS::Topic) is not supported by the local stack",
		"Resources.F.Properties.Events.Cron: F event Cron (Type: Schedule) is not run by the local stack",
	} {
		if !slices.ContainsFunc(warnings, func(w string) bool { return strings.HasPrefix(w, want) }) {
			t.Errorf("no warning %q in\n%s", want, strings.Join(warnings, "\n"))
		}
	}
	if len(warnings) != 4 {
		t.Errorf("warnings:\n%s\nwant 4", strings.Join(warnings, "\n"))
	}
	if len(tpl.Notes) != 1 || tpl.Notes[0].Path != "Resources.Policy" {
		t.Errorf("Notes = %v; want the queue policy", tpl.Notes)
	}
}

func TestEventRuleErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"no pattern or schedule", `Resources:
  R: {Type: AWS::Events::Rule, Properties: {Targets: []}}`, "Resources.R.Properties (line 2): want EventPattern or ScheduleExpression"},
		{"target without arn", `Resources:
  R: {Type: AWS::Events::Rule, Properties: {EventPattern: {a: [b]}, Targets: [{Id: x}]}}`, "Resources.R.Properties.Targets[0].Arn (line 2): missing"},
		{"bad state", `Resources:
  R: {Type: AWS::Events::Rule, Properties: {EventPattern: {a: [b]}, State: ON}}`, `Resources.R.Properties.State (line 2): want ENABLED or DISABLED, got "ON"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse error = %v; want %q", err, tc.want)
			}
		})
	}
}

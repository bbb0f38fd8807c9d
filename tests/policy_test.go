package tests

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/eventhub/eventhub/infra/local/template"
	"github.com/eventhub/eventhub/shared/bus"
)

// Least privilege (TestPolicies): every function's role grants exactly the AWS calls
// its code makes, on the resources it makes them on, and what Lambda needs for its
// triggers; nothing on "*" for SQS or DynamoDB; PutEvents only for the function's
// own source; and the bus refuses eventhub.* sources from anyone else.

// Symbols the policy test resolves the template's references to.
const (
	table   = "arn:EventsTable"
	indexes = "arn:EventsTable/index/*"
	evBus   = "arn:EventBus"
)

func queue(id string) string { return "arn:" + id }
func fn(id string) string    { return "arn:" + id }

// codeCalls is what each function's code calls, action by action, with the resources
// it calls them on. DynamoDB's TransactWriteItems is listed as the PutItem,
// UpdateItem, DeleteItem or ConditionCheckItem of the items it writes, which is what
// IAM checks. What a function's triggers need (an SQS mapping's receive and delete, an
// OnFailure destination's send) is derived from the template, not listed here.
//
// Where each comes from (shared/store methods, through the interfaces each handler
// declares):
//   - ingest: SourceByTokenHash, SourceByAppID, GetSource (/hooks/{sourceId})
//     (GetItem); ListTypes (Query);
//     PutClaim for an oversized Event Received (PutItem); CountIngest, the console's
//     counters (UpdateItem)
//   - normalize: GetClaim, GetSource, GetMapping (a mapping version) (GetItem),
//     PutClaim (PutItem), ListTypes (Query), Quarantine (a transaction of puts)
//   - persist: PutEvent (PutItem, UpdateItem), GetClaim, PutClaim,
//     SourceDedupeKeys (GetItem), FoldAlert (Query; a transaction of an update and a put)
//   - notify: ListSubscriptions, SubscriptionsVersion (Query, GetItem), GetEvent,
//     GetDelivery, GetSubscription (GetItem), ClaimAttempt, ReopenAttempt,
//     FinishAttempt, NoteFailure, NoteSuccess, DisableSubscription (UpdateItem),
//     AddTimeline (PutItem), ClaimReplayDelivery (GetItem, UpdateItem),
//     FinishReplayDelivery (a transaction of updates and a put); SQS SendMessage
//     (retries, dead letters) and ChangeMessageVisibility (handler.soon)
//   - api: every item type: GetItem, PutItem, UpdateItem, DeleteItem, Query on the
//     table and its indexes, BatchGetItem (listings), transactions of puts, updates
//     and deletes (CreateSource, RotateToken; a source's mapping version is put in
//     its transaction); ListMappings (Query); SQS SendMessage (retries, replay jobs),
//     ReceiveMessage and DeleteMessage (redrives), GetQueueAttributes (the console's
//     dead-letter depths); lambda Invoke (pipeline redrive)
//   - replay: GetReplay (GetItem), ListEvents (Query on the indexes, BatchGetItem),
//     AdvanceReplay (UpdateItem); SQS SendMessage
var codeCalls = map[string]map[string][]string{
	"IngestFunction": {
		"dynamodb:GetItem": {table}, "dynamodb:PutItem": {table}, "dynamodb:UpdateItem": {table}, "dynamodb:Query": {table},
		"events:PutEvents": {evBus},
	},
	"NormalizeFunction": {
		"dynamodb:GetItem": {table}, "dynamodb:PutItem": {table}, "dynamodb:Query": {table},
		"events:PutEvents": {evBus},
	},
	"PersistFunction": {
		"dynamodb:GetItem": {table}, "dynamodb:PutItem": {table}, "dynamodb:UpdateItem": {table}, "dynamodb:Query": {table},
		"events:PutEvents": {evBus},
	},
	"NotifyFunction": {
		"dynamodb:GetItem": {table}, "dynamodb:PutItem": {table}, "dynamodb:UpdateItem": {table}, "dynamodb:Query": {table},
		"events:PutEvents":            {evBus},
		"sqs:SendMessage":             {queue("DeliveryRetryQueue"), queue("DeliveryDeadLetterQueue")},
		"sqs:ChangeMessageVisibility": {queue("DeliveryRetryQueue")},
	},
	"ApiFunction": {
		"dynamodb:GetItem": {table}, "dynamodb:PutItem": {table}, "dynamodb:UpdateItem": {table}, "dynamodb:DeleteItem": {table},
		"dynamodb:Query": {table, indexes}, "dynamodb:BatchGetItem": {table},
		"events:PutEvents":       {evBus},
		"sqs:SendMessage":        {queue("DeliveryRetryQueue"), queue("ReplayQueue")},
		"sqs:ReceiveMessage":     {queue("DeliveryDeadLetterQueue"), queue("PipelineDeadLetterQueue")},
		"sqs:DeleteMessage":      {queue("DeliveryDeadLetterQueue"), queue("PipelineDeadLetterQueue")},
		"sqs:GetQueueAttributes": {queue("DeliveryDeadLetterQueue"), queue("PipelineDeadLetterQueue")},
		"lambda:InvokeFunction":  {fn("NormalizeFunction"), fn("PersistFunction"), fn("NotifyFunction")},
	},
	"ReplayFunction": {
		"dynamodb:GetItem": {table}, "dynamodb:UpdateItem": {table}, "dynamodb:Query": {table, indexes}, "dynamodb:BatchGetItem": {table},
		"sqs:SendMessage": {queue("DeliveryRetryQueue"), queue("ReplayQueue")},
	},
}

// busSources is the one source each publishing function puts on the bus.
var busSources = map[string]string{
	"IngestFunction":    bus.SourceIngest,
	"NormalizeFunction": bus.SourceNormalize,
	"PersistFunction":   bus.SourcePersist,
	"NotifyFunction":    bus.SourceNotify,
	"ApiFunction":       bus.SourceIngest, // quarantine re-submission: Event Received again
}

// checkedServices are the services whose grants must match codeCalls exactly.
var checkedServices = []string{"dynamodb", "sqs", "events", "lambda"}

// statement is one IAM policy statement, resolved.
type statement struct {
	Effect    string
	Actions   []string
	Resources []string
	Condition map[string]any
	From      string // where it comes from, for messages
}

// managedPolicies are the AWS managed policies a role may carry, as documented.
var managedPolicies = map[string][]statement{
	"AWSLambdaBasicExecutionRole": {{Effect: "Allow", Actions: []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}, Resources: []string{"*"}}},
	"AWSLambdaSQSQueueExecutionRole": {
		{Effect: "Allow", Actions: []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}, Resources: []string{"*"}},
	},
}

// samTemplates expands the SAM policy templates (serverless-application-model's
// policy_templates.json) that eventhub's template has used.
func samTemplate(name string, params map[string]any) ([]statement, bool) {
	p := func(k string) string { s, _ := params[k].(string); return s }
	switch name {
	case "DynamoDBCrudPolicy":
		return []statement{{Effect: "Allow", Actions: []string{"dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Scan", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem", "dynamodb:DescribeTable", "dynamodb:ConditionCheckItem"}, Resources: []string{p("TableName"), p("TableName") + "/index/*"}}}, true
	case "DynamoDBReadPolicy":
		return []statement{{Effect: "Allow", Actions: []string{"dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:DescribeTable"}, Resources: []string{p("TableName"), p("TableName") + "/index/*"}}}, true
	case "DynamoDBWritePolicy":
		return []statement{{Effect: "Allow", Actions: []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"}, Resources: []string{p("TableName"), p("TableName") + "/index/*"}}}, true
	case "SQSSendMessagePolicy":
		return []statement{{Effect: "Allow", Actions: []string{"sqs:SendMessage*"}, Resources: []string{p("QueueName")}}}, true
	case "SQSPollerPolicy":
		return []statement{{Effect: "Allow", Actions: []string{"sqs:ChangeMessageVisibility", "sqs:ChangeMessageVisibilityBatch", "sqs:DeleteMessage", "sqs:DeleteMessageBatch", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"}, Resources: []string{p("QueueName")}}}, true
	case "EventBridgePutEventsPolicy":
		return []statement{{Effect: "Allow", Actions: []string{"events:PutEvents"}, Resources: []string{p("EventBusName")}}}, true
	case "LambdaInvokePolicy":
		return []statement{{Effect: "Allow", Actions: []string{"lambda:InvokeFunction"}, Resources: []string{p("FunctionName") + "*"}}}, true
	}
	return nil, false
}

// symbols resolves the template's references to symbols: every resource's ARN (and
// name, and Ref) to arn:<LogicalId>, so that policies can be compared with codeCalls.
type symbols struct{}

func (symbols) Ref(id string) (string, error) {
	switch id {
	case "AWS::Partition":
		return "aws", nil
	case "AWS::Region":
		return "us-east-1", nil
	case "AWS::AccountId":
		return "000000000000", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::StackName":
		return "eventhub", nil
	}
	return "arn:" + id, nil
}

func (symbols) GetAtt(id, _ string) (string, error) { return "arn:" + id, nil }

func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, it := range x {
			out = append(out, strs(it)...)
		}
		return out
	}
	return nil
}

// document reads the statements of a resolved policy document.
func document(doc any, from string) ([]statement, error) {
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: not a policy document", from)
	}
	raw := m["Statement"]
	if one, ok := raw.(map[string]any); ok {
		raw = []any{one}
	}
	list, _ := raw.([]any)
	var out []statement
	for i, r := range list {
		st, _ := r.(map[string]any)
		for _, k := range []string{"NotAction", "NotResource", "NotPrincipal"} {
			if _, ok := st[k]; ok {
				return nil, fmt.Errorf("%s statement %d uses %s: list what is allowed", from, i, k)
			}
		}
		s := statement{Effect: fmt.Sprint(st["Effect"]), Actions: strs(st["Action"]), Resources: strs(st["Resource"]), From: fmt.Sprintf("%s statement %d", from, i)}
		s.Condition, _ = st["Condition"].(map[string]any)
		out = append(out, s)
	}
	return out, nil
}

// rolePolicy returns the statements of the execution role a function runs with, as
// CloudFormation will create it: a role of the template when Role is set, else the
// role SAM generates from Policies, with what SAM adds for the function's event
// sources and destinations.
func rolePolicy(tpl *template.Template, f template.Function) ([]statement, error) {
	r := symbols{}
	var out []statement
	managed := func(name, from string) error {
		name = name[strings.LastIndex(name, "/")+1:]
		sts, ok := managedPolicies[name]
		if !ok {
			return fmt.Errorf("%s: managed policy %s is not in the test's table: add what it grants", from, name)
		}
		for _, s := range sts {
			s.From = from + " " + name
			out = append(out, s)
		}
		return nil
	}
	if !f.Role.IsZero() {
		id, _, ok := f.Role.Target()
		res, found := tpl.Resources[id]
		if !ok || !found || res.Type != "AWS::IAM::Role" {
			return nil, fmt.Errorf("Role %s is not a role of the template", f.Role)
		}
		props, err := res.Properties.ResolveAll(r)
		if err != nil {
			return nil, err
		}
		pm := props.(map[string]any)
		for _, arn := range strs(pm["ManagedPolicyArns"]) {
			if err := managed(arn, id); err != nil {
				return nil, err
			}
		}
		list, _ := pm["Policies"].([]any)
		for _, p := range list {
			sts, err := document(p.(map[string]any)["PolicyDocument"], id)
			if err != nil {
				return nil, err
			}
			out = append(out, sts...)
		}
		return out, nil
	}

	// The role SAM generates.
	if err := managed("AWSLambdaBasicExecutionRole", "SAM's role"); err != nil {
		return nil, err
	}
	policies, err := f.Policies.ResolveAll(r)
	if err != nil {
		return nil, err
	}
	list, _ := policies.([]any)
	if s, ok := policies.(string); ok {
		list = []any{s}
	}
	for i, p := range list {
		from := fmt.Sprintf("Policies[%d]", i)
		switch x := p.(type) {
		case string:
			if err := managed(x, from); err != nil {
				return nil, err
			}
		case map[string]any:
			if _, ok := x["Statement"]; ok {
				sts, err := document(x, from)
				if err != nil {
					return nil, err
				}
				out = append(out, sts...)
				continue
			}
			for name, params := range x {
				pm, _ := params.(map[string]any)
				sts, ok := samTemplate(name, pm)
				if !ok {
					return nil, fmt.Errorf("%s: SAM policy template %s is not in the test's table", from, name)
				}
				for _, s := range sts {
					s.From = from + " " + name
					out = append(out, s)
				}
			}
		}
	}
	// What SAM adds to the role it generates, for each event source and destination.
	for _, s := range f.SQSSources {
		if !s.Mapping {
			if err := managed("AWSLambdaSQSQueueExecutionRole", "SAM, for the SQS event "+s.Name+","); err != nil {
				return nil, err
			}
		}
	}
	for _, e := range f.OtherEvents {
		return nil, fmt.Errorf("event %s of type %s: the test does not know what SAM adds for it", e.Name, e.Type)
	}
	for _, d := range []*template.Destination{f.EventInvokeConfig.OnSuccess, f.EventInvokeConfig.OnFailure} {
		if d == nil {
			continue
		}
		arn, err := d.Destination.Resolve(r)
		if err != nil {
			return nil, err
		}
		action := map[string]string{"SQS": "sqs:SendMessage", "SNS": "sns:Publish", "Lambda": "lambda:InvokeFunction", "EventBridge": "events:PutEvents"}[d.Type]
		out = append(out, statement{Effect: "Allow", Actions: []string{action}, Resources: []string{arn}, From: "SAM, for the " + d.Type + " destination"})
	}
	return out, nil
}

// triggerNeeds returns what Lambda needs to run the function's triggers, on top of
// its code's calls: an SQS source's receive, delete and attributes, and the send of an
// SQS destination.
func triggerNeeds(f template.Function) map[string][]string {
	out := map[string][]string{}
	for _, s := range f.SQSSources {
		arn, _ := s.Queue.Resolve(symbols{})
		for _, a := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"} {
			out[a] = append(out[a], arn)
		}
	}
	for _, d := range []*template.Destination{f.EventInvokeConfig.OnSuccess, f.EventInvokeConfig.OnFailure} {
		if d != nil && d.Type == "SQS" {
			arn, _ := d.Destination.Resolve(symbols{})
			out["sqs:SendMessage"] = append(out["sqs:SendMessage"], arn)
		}
	}
	return out
}

func TestPolicies(t *testing.T) {
	tpl, err := template.Load("../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tpl.Functions {
		t.Run(f.LogicalID, func(t *testing.T) {
			calls, ok := codeCalls[f.LogicalID]
			if !ok {
				t.Fatalf("%s has no entry in codeCalls: list what its code calls", f.LogicalID)
			}
			want := map[string]map[string]bool{} // action → resources
			add := func(from map[string][]string) {
				for a, rs := range from {
					if want[a] == nil {
						want[a] = map[string]bool{}
					}
					for _, r := range rs {
						want[a][r] = true
					}
				}
			}
			add(calls)
			add(triggerNeeds(f))

			sts, err := rolePolicy(tpl, f)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]map[string]bool{}
			for _, s := range sts {
				if s.Effect != "Allow" {
					continue
				}
				for _, a := range s.Actions {
					service, _, _ := strings.Cut(a, ":")
					if !slices.Contains(checkedServices, service) {
						continue
					}
					if strings.Contains(a, "*") {
						t.Errorf("%s grants %s: a wildcard action; list the actions", s.From, a)
					}
					if got[a] == nil {
						got[a] = map[string]bool{}
					}
					for _, r := range s.Resources {
						if r == "*" && (service == "sqs" || service == "dynamodb") {
							t.Errorf("%s grants %s on every resource (\"*\")", s.From, a)
						}
						got[a][r] = true
						if a == "events:PutEvents" && f.LogicalID != "" {
							checkSourceCondition(t, s, busSources[f.LogicalID])
						}
					}
				}
			}
			for _, a := range slices.Sorted(maps.Keys(got)) {
				for _, r := range slices.Sorted(maps.Keys(got[a])) {
					if !want[a][r] {
						t.Errorf("grants %s on %s, which neither its code nor its triggers need", a, r)
					}
				}
			}
			for _, a := range slices.Sorted(maps.Keys(want)) {
				for _, r := range slices.Sorted(maps.Keys(want[a])) {
					if !got[a][r] {
						t.Errorf("lacks %s on %s, which it calls", a, r)
					}
				}
			}
		})
	}
	for name := range codeCalls {
		if !slices.ContainsFunc(tpl.Functions, func(f template.Function) bool { return f.LogicalID == name }) {
			t.Errorf("codeCalls names %s, which is not a function of the template", name)
		}
	}
}

// checkSourceCondition checks that a PutEvents grant carries the condition that its
// entries have the function's own source.
func checkSourceCondition(t *testing.T, s statement, source string) {
	t.Helper()
	eq, _ := s.Condition["StringEquals"].(map[string]any)
	if got := strs(eq["events:source"]); len(got) != 1 || got[0] != source {
		t.Errorf("%s grants events:PutEvents with events:source %v; want StringEquals %s", s.From, got, source)
	}
}

// TestBusPolicy checks the bus's resource policy: PutEvents of an eventhub.* source is
// refused to every principal but the roles of the functions that publish.
func TestBusPolicy(t *testing.T) {
	tpl, err := template.Load("../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var publishers []string
	for _, f := range tpl.Functions {
		if _, ok := codeCalls[f.LogicalID]["events:PutEvents"]; !ok {
			continue
		}
		role := fn(f.LogicalID + "Role") // the role SAM generates
		if !f.Role.IsZero() {
			role, _ = f.Role.Resolve(symbols{})
		}
		publishers = append(publishers, role)
	}
	slices.Sort(publishers)
	found := false
	for id, res := range tpl.Resources {
		if res.Type != "AWS::Events::EventBusPolicy" {
			continue
		}
		props, err := res.Properties.ResolveAll(symbols{})
		if err != nil {
			t.Fatal(err)
		}
		pm := props.(map[string]any)
		if pm["EventBusName"] != "arn:EventBus" {
			continue
		}
		sts, err := document(map[string]any{"Statement": pm["Statement"]}, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sts {
			if s.Effect != "Deny" || !slices.Equal(s.Actions, []string{"events:PutEvents"}) || !slices.Equal(s.Resources, []string{evBus}) {
				continue
			}
			like, _ := s.Condition["StringLike"].(map[string]any)
			notEq, _ := s.Condition["ArnNotEquals"].(map[string]any)
			principals := strs(notEq["aws:PrincipalArn"])
			slices.Sort(principals)
			if slices.Equal(strs(like["events:source"]), []string{"eventhub.*"}) && slices.Equal(principals, publishers) {
				found = true
			} else {
				t.Errorf("%s denies PutEvents where events:source is %v unless the principal is %v; want eventhub.* unless %v",
					s.From, strs(like["events:source"]), principals, publishers)
			}
		}
	}
	if !found {
		t.Errorf("no AWS::Events::EventBusPolicy on EventBus denies PutEvents of eventhub.* sources to all but %v", publishers)
	}
}

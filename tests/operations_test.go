package tests

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/intrinsics"

	"github.com/eventhub/eventhub/shared/metrics"
)

// rawTemplate is template.yaml as JSON with its intrinsic functions as written
// ({"Ref": ...}), through goformation's own reader.
func rawTemplate(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile("../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	js, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		t.Fatalf("goformation reads template.yaml: %v", err)
	}
	var raw map[string]any
	if err := json.Unmarshal(js, &raw); err != nil {
		t.Fatal(err)
	}
	return raw
}

func field(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// refsIn returns the logical ids v refers to with Ref, Fn::GetAtt or ${...} in Fn::Sub.
func refsIn(v any) []string {
	var out []string
	var walk func(any)
	sub := regexp.MustCompile(`\$\{([A-Za-z0-9]+)`)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if r, ok := v["Ref"].(string); ok {
				out = append(out, r)
			}
			switch g := v["Fn::GetAtt"].(type) {
			case []any: // [LogicalId, Attribute]
				if len(g) > 0 {
					out = append(out, g[0].(string))
				}
			case string: // "LogicalId.Attribute", as !GetAtt writes it
				id, _, _ := strings.Cut(g, ".")
				out = append(out, id)
			}
			if s, ok := v["Fn::Sub"].(string); ok {
				for _, m := range sub.FindAllStringSubmatch(s, -1) {
					out = append(out, m[1])
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return out
}

// TestTemplateOpensWithGoformation checks the template's hygiene as CloudFormation
// tools read it: goformation opens it, resolving every parameter to its default, and
// every parameter that flows into an environment variable has a string default.
func TestTemplateOpensWithGoformation(t *testing.T) {
	tpl, err := goformation.Open("../template.yaml")
	if err != nil {
		t.Fatalf("goformation.Open(template.yaml) = %v", err)
	}
	if len(tpl.GetAllServerlessFunctionResources()) != 6 {
		t.Errorf("goformation reads %d functions; want 6", len(tpl.GetAllServerlessFunctionResources()))
	}
	raw := rawTemplate(t)
	params, _ := raw["Parameters"].(map[string]any)
	var envs []any
	envs = append(envs, field(raw, "Globals", "Function", "Environment", "Variables"))
	for _, r := range raw["Resources"].(map[string]any) {
		envs = append(envs, field(r, "Properties", "Environment", "Variables"))
	}
	for _, env := range envs {
		for _, id := range refsIn(env) {
			p, ok := params[id]
			if !ok {
				continue
			}
			if def, has := p.(map[string]any)["Default"]; has {
				if _, isString := def.(string); !isString {
					t.Errorf("parameter %s flows into an environment variable but its default %v is a %T: quote it", id, def, def)
				}
			}
		}
	}
}

// TestTemplateOperations checks what operating eventhub in AWS relies on: tracing, the
// functions' log group, an alarm with a runbook for every dead-letter queue, function,
// rule and the API, and a dashboard of eventhub's metrics.
func TestTemplateOperations(t *testing.T) {
	tpl, err := goformation.Open("../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	raw := rawTemplate(t)
	resources := raw["Resources"].(map[string]any)
	fns := tpl.GetAllServerlessFunctionResources()

	t.Run("tracing", func(t *testing.T) {
		g, err := tpl.GetServerlessGlobalFunction()
		if err != nil || g.Tracing == nil || *g.Tracing != "Active" {
			t.Fatalf("Globals.Function.Tracing = %v (%v); want Active", g, err)
		}
		for name, f := range fns {
			want := "Active"
			if name == "IngestFunction" {
				// Ingest starts every trace and samples it itself (trace.Sample).
				want = "PassThrough"
			}
			got := "Active"
			if f.Tracing != nil {
				got = *f.Tracing
			}
			if got != want {
				t.Errorf("%s tracing = %s; want %s", name, got, want)
			}
		}
		ingest := fns["IngestFunction"]
		if ingest.Environment == nil || ingest.Environment.Variables["TRACE_SAMPLE_RATE"] == "" {
			t.Error("ingest has no TRACE_SAMPLE_RATE")
		}
		rate := field(raw, "Parameters", "TraceSampleRate", "MaxValue")
		if f, ok := rate.(float64); !ok || f*5 >= 0.25 {
			t.Errorf("TraceSampleRate MaxValue = %v; want it to keep X-Ray ($5 per million traces) under $0.25 per million events", rate)
		}
	})

	t.Run("log group", func(t *testing.T) {
		groups := tpl.GetAllLogsLogGroupResources()
		lg := field(raw, "Globals", "Function", "LoggingConfig", "LogGroup")
		ref, _ := field(lg, "Ref").(string)
		g, ok := groups[ref]
		if !ok {
			t.Fatalf("Globals.Function.LoggingConfig.LogGroup = %v; want a Ref of a log group of the template", lg)
		}
		if g.RetentionInDays == nil {
			t.Error("the functions' log group has no retention")
		}
		if got := refsIn(field(resources[ref], "Properties", "RetentionInDays")); !slices.Equal(got, []string{"LogRetentionDays"}) {
			t.Errorf("RetentionInDays refers to %v; want the LogRetentionDays parameter", got)
		}
		name := field(resources[ref], "Properties", "LogGroupName", "Fn::Sub")
		if s, _ := name.(string); s == "" || strings.HasPrefix(s, "/aws/lambda/") || strings.HasPrefix(s, "aws/") {
			t.Errorf("LogGroupName = %v; want a new name (not a function's default group, which an existing stack already has)", name)
		}
		for fn, r := range resources {
			if field(r, "Type") == "AWS::Serverless::Function" && field(r, "Properties", "LoggingConfig") != nil {
				t.Errorf("%s has a LoggingConfig of its own: goformation's Function refuses it; keep it in Globals", fn)
			}
		}
		allowed := field(raw, "Parameters", "LogRetentionDays", "AllowedValues")
		want := []any{"1", "3", "5", "7", "14", "30", "60", "90", "120", "150", "180", "365", "400", "545", "731", "1096", "1827", "2192", "2557", "2922", "3288", "3653"}
		if !slices.Equal(allowed.([]any), want) {
			t.Errorf("LogRetentionDays AllowedValues = %v; want CloudWatch's values %v", allowed, want)
		}
	})

	alarms := tpl.GetAllCloudWatchAlarmResources()
	runbooks, err := os.ReadFile("../docs/runbooks.md")
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, line := range strings.Split(string(runbooks), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			anchors[strings.ReplaceAll(strings.ToLower(strings.TrimSpace(h)), " ", "-")] = true
		}
	}
	// covered returns the alarms whose metrics (or metric queries) refer to id.
	covered := func(metric, id string) []string {
		var out []string
		for name := range alarms {
			props := field(resources[name], "Properties")
			if !strings.Contains(mustJSON(t, props), `"`+metric+`"`) {
				continue
			}
			if slices.Contains(refsIn(props), id) {
				out = append(out, name)
			}
		}
		return out
	}

	t.Run("alarms", func(t *testing.T) {
		for name, a := range alarms {
			d := ""
			if a.AlarmDescription != nil {
				d = *a.AlarmDescription
			}
			_, anchor, ok := strings.Cut(d, "docs/runbooks.md#")
			anchor = strings.TrimSpace(anchor)
			if !ok || !anchors[anchor] {
				t.Errorf("%s: description %q has no runbook link to a section of docs/runbooks.md", name, d)
			}
			if len(d) < 120 {
				t.Errorf("%s: description %q is too short to say what to do", name, d)
			}
			props := field(resources[name], "Properties")
			for _, actions := range []string{"AlarmActions", "OKActions"} {
				cond, _ := field(props, actions, "Fn::If").([]any)
				if len(cond) != 3 || cond[0] != "HasAlarmTopic" || !slices.Contains(refsIn(cond[1]), "AlarmTopicArn") {
					t.Errorf("%s.%s = %v; want !If [HasAlarmTopic, [!Ref AlarmTopicArn], !Ref AWS::NoValue]", name, actions, field(props, actions))
				}
			}
			if a.TreatMissingData == nil || *a.TreatMissingData != "notBreaching" {
				t.Errorf("%s: TreatMissingData = %v; want notBreaching (no data is no trouble)", name, a.TreatMissingData)
			}
		}
		if c := field(raw, "Conditions", "HasAlarmTopic"); c == nil {
			t.Error("no HasAlarmTopic condition")
		}
		// Every queue something dead-letters into has an alarm on its depth.
		dlqs := map[string]bool{}
		for _, r := range resources {
			for _, id := range refsIn(field(r, "Properties", "RedrivePolicy", "deadLetterTargetArn")) {
				dlqs[id] = true
			}
		}
		for _, f := range resources {
			for _, id := range refsIn(field(f, "Properties", "EventInvokeConfig", "DestinationConfig", "OnFailure")) {
				dlqs[id] = true
			}
			events, _ := field(f, "Properties", "Events").(map[string]any)
			for _, ev := range events {
				for _, id := range refsIn(field(ev, "Properties", "DeadLetterConfig")) {
					dlqs[id] = true
				}
			}
		}
		if len(dlqs) < 3 {
			t.Errorf("dead-letter queues found: %v; want the pipeline, delivery and replay ones", dlqs)
		}
		for q := range dlqs {
			if len(covered("ApproximateNumberOfMessagesVisible", q)) == 0 {
				t.Errorf("dead-letter queue %s has no alarm on its messages", q)
			}
		}
		for name := range fns {
			if len(covered("Errors", name)) == 0 {
				t.Errorf("function %s has no errors alarm", name)
			}
			if len(covered("Throttles", name)) == 0 {
				t.Errorf("function %s has no throttles alarm", name)
			}
		}
		if len(covered("ApproximateAgeOfOldestMessage", "DeliveryRetryQueue")) == 0 {
			t.Error("no alarm on the age of the oldest retry message")
		}
		for fn, f := range fns {
			for ev, e := range f.Events {
				if e.Type != "EventBridgeRule" {
					continue
				}
				rule := fn + ev // the AWS::Events::Rule SAM generates
				for _, m := range []string{"FailedInvocations", "InvocationsSentToDlq"} {
					if len(covered(m, rule)) == 0 {
						t.Errorf("rule %s has no %s alarm", rule, m)
					}
				}
			}
		}
		if len(covered("5xx", "HttpApi")) == 0 {
			t.Error("no alarm on the API's 5xx")
		}
		rate := covered(metrics.FailedAttempts, "NotifyFunction")
		if len(rate) == 0 || !strings.Contains(mustJSON(t, field(resources[rate[0]], "Properties")), `"`+metrics.Delivered+`"`) {
			t.Errorf("no delivery failure rate alarm on %s and %s of notify", metrics.FailedAttempts, metrics.Delivered)
		}
	})

	t.Run("dashboard", func(t *testing.T) {
		var body string
		for name, r := range resources {
			if field(r, "Type") != "AWS::CloudWatch::Dashboard" {
				continue
			}
			sub, _ := field(r, "Properties", "DashboardBody", "Fn::Sub").([]any)
			if len(sub) != 2 {
				t.Fatalf("%s: DashboardBody is not a !Sub [body, variables]", name)
			}
			body, _ = sub[0].(string)
		}
		if body == "" {
			t.Fatal("no dashboard")
		}
		// The body is JSON once CloudFormation substitutes ${...}.
		plain := regexp.MustCompile(`\$\{[^}]+\}`).ReplaceAllString(body, "x")
		var doc struct {
			Widgets []struct {
				Type       string          `json:"type"`
				Properties json.RawMessage `json:"properties"`
			} `json:"widgets"`
		}
		if err := json.Unmarshal([]byte(plain), &doc); err != nil || len(doc.Widgets) == 0 {
			t.Fatalf("dashboard body is not a JSON dashboard: %v", err)
		}
		for _, m := range []string{
			metrics.Accepted, metrics.Rejected, metrics.Normalized, metrics.Quarantined, metrics.Stored,
			metrics.Duplicates, metrics.ReceivedToStored, metrics.Delivered, metrics.FailedAttempts,
			metrics.Retries, metrics.DeadLettered, metrics.DeliveryLatency, metrics.StoredToDelivered,
		} {
			if !strings.Contains(body, `"`+m+`"`) && !strings.Contains(body, `\"`+m+`\"`) {
				t.Errorf("the dashboard does not show %s", m)
			}
		}
		for name := range alarms {
			if !strings.Contains(body, "${"+name+".Arn}") {
				t.Errorf("the dashboard's alarm widget does not show %s", name)
			}
		}
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

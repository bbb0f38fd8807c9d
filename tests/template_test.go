package tests

import (
	"testing"

	"github.com/eventhub/eventhub/infra/local/template"
)

// TestTemplateInvariants checks the promises template.yaml makes for every function,
// rule and queue (DESIGN.md §1, STYLE.md §7).
func TestTemplateInvariants(t *testing.T) {
	tpl, err := template.Load("../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	queues := map[string]template.Queue{}
	for _, q := range tpl.Queues {
		queues[q.LogicalID] = q
	}
	if len(tpl.Functions) != 6 {
		t.Errorf("functions = %d; want 6", len(tpl.Functions))
	}
	for _, f := range tpl.Functions {
		t.Run(f.LogicalID, func(t *testing.T) {
			if f.Runtime != "provided.al2023" {
				t.Errorf("Runtime = %q; want provided.al2023", f.Runtime)
			}
			if len(f.Architectures) != 1 || f.Architectures[0] != "arm64" {
				t.Errorf("Architectures = %v; want [arm64]", f.Architectures)
			}
			if f.Handler != "bootstrap" {
				t.Errorf("Handler = %q; want bootstrap", f.Handler)
			}
			if f.LoggingConfig.LogFormat != "JSON" {
				t.Errorf("LoggingConfig.LogFormat = %q; want JSON", f.LoggingConfig.LogFormat)
			}
			if f.BuildMethod != "makefile" {
				t.Errorf("Metadata.BuildMethod = %q; want makefile", f.BuildMethod)
			}
			if f.Policies.IsZero() {
				t.Error("no Policies: each function gets its own least-privilege policies")
			}
			raw := tpl.Resources[f.LogicalID].Properties.Field("Events")
			for _, r := range f.Rules {
				props := raw.Field(r.Name).Field("Properties")
				if _, ok := props.Get("RetryPolicy"); !ok {
					t.Errorf("rule %s has no explicit RetryPolicy", r.Name)
				}
				if r.DeadLetterConfig == nil || r.DeadLetterConfig.Arn.IsZero() {
					t.Errorf("rule %s has no dead-letter queue", r.Name)
				}
				if len(r.Pattern) == 0 {
					t.Errorf("rule %s has no pattern", r.Name)
				}
			}
			if len(f.Rules) > 0 && f.EventInvokeConfig.OnFailure == nil {
				t.Error("a function invoked asynchronously by rules needs an OnFailure destination")
			}
			for _, s := range f.SQSSources {
				if !s.ReportBatchItemFailures() {
					t.Errorf("SQS source %s does not use ReportBatchItemFailures", s.Name)
				}
				id, _, ok := s.Queue.Target()
				q, found := queues[id]
				if !ok || !found {
					t.Errorf("SQS source %s: queue %s is not a queue of the template", s.Name, s.Queue)
					continue
				}
				if q.VisibilityTimeout < 6*f.Timeout {
					t.Errorf("queue %s VisibilityTimeout = %d; want at least 6 x %d (the function's timeout)", id, q.VisibilityTimeout, f.Timeout)
				}
				if q.RedrivePolicy == nil {
					t.Errorf("queue %s consumed by %s has no redrive policy", id, f.LogicalID)
				}
			}
		})
	}
	for _, q := range tpl.Queues {
		if q.RedrivePolicy != nil && q.RedrivePolicy.MaxReceiveCount < 5 {
			t.Errorf("queue %s maxReceiveCount = %d; want at least 5", q.LogicalID, q.RedrivePolicy.MaxReceiveCount)
		}
	}
	for _, tb := range tpl.Tables {
		if tb.TimeToLive == nil {
			t.Errorf("table %s has no TTL", tb.LogicalID)
		}
	}
}

package eventbridge_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/eventhub/eventhub/infra/local/eventbridge"
)

// tracedTarget records the trace headers it is given.
type tracedTarget struct {
	target
	mu     sync.Mutex
	traces []string
}

func (t *tracedTarget) SendTraced(ctx context.Context, event []byte, traceHeader string) error {
	t.mu.Lock()
	t.traces = append(t.traces, traceHeader)
	t.mu.Unlock()
	return t.Send(ctx, event)
}

// TestTraceHeaderReachesTheTarget checks that an entry's TraceHeader is handed to a
// target that continues traces, as EventBridge hands it to Lambda, and that entries
// without one reach it through Send.
func TestTraceHeaderReachesTheTarget(t *testing.T) {
	const h = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	tt := &tracedTarget{}
	rule := eventbridge.Rule{Name: "r", Bus: "eventhub-local", Pattern: sourceMatcher{"eventhub.ingest"}, Target: tt}
	em, client := start(t, []string{"eventhub-local"}, []eventbridge.Rule{rule}, eventbridge.Options{})
	traced := entry("eventhub.ingest", "Event Received", `{"a":1}`)
	traced.TraceHeader = aws.String(h)
	if _, err := client.PutEvents(t.Context(), &sdk.PutEventsInput{Entries: []types.PutEventsRequestEntry{traced, entry("eventhub.ingest", "Event Received", `{"a":2}`)}}); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, em)
	if got := tt.received(); len(got) != 2 {
		t.Fatalf("target received %d events; want 2", len(got))
	}
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if !slices.Equal(tt.traces, []string{h}) {
		t.Errorf("trace headers = %q; want only %q", tt.traces, h)
	}
}

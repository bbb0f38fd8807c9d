package bus

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/eventhub/eventhub/shared/trace"
)

// fakeBus is a PutEventsAPI made of a function field.
type fakeBus struct {
	put   func(in *eventbridge.PutEventsInput) (*eventbridge.PutEventsOutput, error)
	calls [][]types.PutEventsRequestEntry
}

func (f *fakeBus) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	f.calls = append(f.calls, in.Entries)
	return f.put(in)
}

func ok(in *eventbridge.PutEventsInput) (*eventbridge.PutEventsOutput, error) {
	out := &eventbridge.PutEventsOutput{}
	for range in.Entries {
		out.Entries = append(out.Entries, types.PutEventsResultEntry{EventId: aws.String("x")})
	}
	return out, nil
}

type memClaims map[string][]byte

func (m memClaims) PutClaim(_ context.Context, id string, d []byte) error { m[id] = d; return nil }
func (m memClaims) GetClaim(_ context.Context, id string) ([]byte, error) {
	d, ok := m[id]
	if !ok {
		return nil, errors.New("no claim")
	}
	return d, nil
}

func entries(n int) []Entry {
	var es []Entry
	for i := 0; i < n; i++ {
		es = append(es, Entry{Source: SourceIngest, DetailType: Received, Detail: map[string]int{"i": i}})
	}
	return es
}

func TestPublishRetriesFailedEntries(t *testing.T) {
	tests := []struct {
		name      string
		failures  int // calls whose first entry fails
		callError bool
		wantCalls int
		wantErr   bool
	}{
		{name: "all accepted", wantCalls: 1},
		{name: "partial failure then success", failures: 2, wantCalls: 3},
		{name: "call errors then success", failures: 1, callError: true, wantCalls: 2},
		{name: "never accepted", failures: 100, wantCalls: 6, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			f := &fakeBus{put: func(in *eventbridge.PutEventsInput) (*eventbridge.PutEventsOutput, error) {
				n++
				if n > tc.failures {
					return ok(in)
				}
				if tc.callError {
					return nil, errors.New("throttled")
				}
				out, _ := ok(in)
				out.FailedEntryCount = 1
				out.Entries[0] = types.PutEventsResultEntry{ErrorCode: aws.String("InternalFailure"), ErrorMessage: aws.String("boom")}
				return out, nil
			}}
			p := NewPublisher(f, "eventhub", nil)
			p.backoff = func(int) time.Duration { return 0 }
			err := p.Publish(context.Background(), entries(3)...)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Publish = %v; want error %v", err, tc.wantErr)
			}
			if len(f.calls) != tc.wantCalls {
				t.Errorf("PutEvents calls = %d; want %d", len(f.calls), tc.wantCalls)
			}
			if tc.failures > 0 && !tc.callError && len(f.calls) > 1 && len(f.calls[1]) != 1 {
				t.Errorf("retry sent %d entries; want only the failed one", len(f.calls[1]))
			}
		})
	}
}

func TestPublishBatchesByTen(t *testing.T) {
	f := &fakeBus{put: ok}
	if err := NewPublisher(f, "b", nil).Publish(context.Background(), entries(23)...); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, c := range f.calls {
		sizes = append(sizes, len(c))
	}
	if len(sizes) != 3 || sizes[0] != 10 || sizes[1] != 10 || sizes[2] != 3 {
		t.Errorf("batch sizes = %v; want [10 10 3]", sizes)
	}
}

func TestOversizedDetailTravelsByClaim(t *testing.T) {
	f := &fakeBus{put: ok}
	claims := memClaims{}
	big := strings.Repeat("x", 1100*1024) // over EventBridge's 1 MB
	err := NewPublisher(f, "b", claims).Publish(context.Background(), Entry{Source: SourceIngest, DetailType: Received, Detail: map[string]string{"raw": big}})
	if err != nil {
		t.Fatal(err)
	}
	sent := aws.ToString(f.calls[0][0].Detail)
	if len(sent) > 100 {
		t.Fatalf("sent detail is %d bytes; want a claim reference", len(sent))
	}
	got, err := Resolve(context.Background(), []byte(sent), claims)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 1100*1024 {
		t.Errorf("Resolve returned %d bytes; want the full detail", len(got))
	}
	if err := NewPublisher(f, "b", nil).Publish(context.Background(), Entry{Source: "s", DetailType: "d", Detail: big}); err == nil {
		t.Error("oversized entry without a claim store: want an error")
	}
	plain := []byte(`{"raw":{"a":1}}`)
	if got, _ := Resolve(context.Background(), plain, nil); string(got) != string(plain) {
		t.Errorf("Resolve changed a plain detail: %s", got)
	}
}

func TestPublishCarriesTheTraceHeader(t *testing.T) {
	const h = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	tests := []struct {
		name string
		ctx  context.Context
		want string
	}{
		{"in an invocation", trace.With(context.Background(), h), h},
		{"outside one", context.Background(), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeBus{put: ok}
			if err := NewPublisher(f, "b", nil).Publish(tc.ctx, entries(12)...); err != nil {
				t.Fatal(err)
			}
			for _, call := range f.calls {
				for _, e := range call {
					if got := aws.ToString(e.TraceHeader); got != tc.want {
						t.Fatalf("TraceHeader = %q; want %q", got, tc.want)
					}
				}
			}
		})
	}
}

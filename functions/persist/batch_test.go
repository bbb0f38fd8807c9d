package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/store"
)

// ce returns a CloudEvent with the id, and its storage key.
func ce(id string) (string, string) {
	return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/shop","type":"order.created","data":{"n":1}}`, id), cloudevent.Key("/shop", id)
}

func batchPayload(t *testing.T, requestID string, ids ...string) json.RawMessage {
	t.Helper()
	var b bus.Batch
	for _, id := range ids {
		ev, k := ce(id)
		h := hub()
		h.Key, h.RequestID = k, requestID
		b.Events = append(b.Events, bus.EventDetail{Event: json.RawMessage(ev), Hub: h})
	}
	raw, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestPersistBatch: the events of one ingest request, handed over by asynchronous
// invocation, are stored one by one and published together.
func TestPersistBatch(t *testing.T) {
	_, kNew := ce("new")
	_, kDup := ce("dup")
	_, kAgain := ce("again")
	_, kBad := ce("bad")
	boom := errors.New("dynamodb: throttled")
	tests := []struct {
		name        string
		ids         []string
		pubErr      error
		wantKeys    []string // published, in order
		wantCalls   string
		wantErr     error
		wantErrText string
	}{
		{
			name:      "new, the producer's repeat and the same acceptance again",
			ids:       []string{"new", "dup", "again"},
			wantKeys:  []string{kNew, kAgain},
			wantCalls: "PutEvent " + kNew + ", PutEvent " + kDup + ", PutEvent " + kAgain + ", Publish",
		},
		{
			name:        "one event fails to store: the others are published, the invocation fails",
			ids:         []string{"new", "bad", "again"},
			wantKeys:    []string{kNew, kAgain},
			wantCalls:   "PutEvent " + kNew + ", PutEvent " + kBad + ", PutEvent " + kAgain + ", Publish",
			wantErr:     boom,
			wantErrText: "event 1 of the batch",
		},
		{
			name:      "publishing fails",
			ids:       []string{"new"},
			pubErr:    boom,
			wantCalls: "PutEvent " + kNew + ", Publish",
			wantErr:   boom,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture()
			f.pub.err = tc.pubErr
			f.st.putEvent = func(ev store.Event) (bool, *store.Event, error) {
				switch ev.Key {
				case kDup:
					return false, &store.Event{Key: ev.Key, Receipt: "req-0", ReceivedAt: receivedAt}, nil
				case kAgain:
					return false, &store.Event{Key: ev.Key, Receipt: ev.Receipt, ReceivedAt: receivedAt}, nil
				case kBad:
					return false, nil, boom
				}
				return true, nil, nil
			}
			err := f.h.invoke(context.Background(), batchPayload(t, "req-1", tc.ids...))
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErrText)) {
				t.Errorf("invoke = %v; want %v (%q)", err, tc.wantErr, tc.wantErrText)
			}
			if got := strings.Join(f.st.calls, ", "); got != tc.wantCalls {
				t.Errorf("calls = %s; want %s", got, tc.wantCalls)
			}
			var keys []string
			for _, e := range f.pub.entries {
				if e.Source != bus.SourcePersist || e.DetailType != bus.Stored {
					t.Errorf("published %s / %s; want Event Stored", e.Source, e.DetailType)
				}
				keys = append(keys, e.Detail.(bus.EventDetail).Hub.Key)
			}
			if strings.Join(keys, ",") != strings.Join(tc.wantKeys, ",") {
				t.Errorf("published %v; want %v", keys, tc.wantKeys)
			}
		})
	}
}

func TestPersistBatchReceiptAndClaim(t *testing.T) {
	f := newFixture()
	full := batchPayload(t, "", "a", "b")
	f.claims["clm_9"] = full
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "inv-7"})
	if err := f.h.invoke(ctx, json.RawMessage(`{"claim":"clm_9"}`)); err != nil {
		t.Fatalf("invoke(claim) = %v", err)
	}
	if len(f.pub.entries) != 2 || f.st.put.Receipt != "inv:inv-7" {
		t.Errorf("published %d, receipt %q; want 2 and the invocation's id when the hub has no request id", len(f.pub.entries), f.st.put.Receipt)
	}
}

func TestPersistInvokeRejects(t *testing.T) {
	for _, payload := range []string{`[]`, `{}`, `{"events":[]}`, `{"events":[{"event":{"specversion":"1.0"},"hub":{}}]}`, `{"claim":"clm_gone"}`} {
		f := newFixture()
		if err := f.h.invoke(context.Background(), json.RawMessage(payload)); err == nil {
			t.Errorf("invoke(%s) = nil; want an error", payload)
		}
		if len(f.pub.entries) != 0 {
			t.Errorf("invoke(%s) published %d entries", payload, len(f.pub.entries))
		}
	}
}

// TestPersistInvokeEventBridge: an EventBridge event (re-submissions, through the rule)
// goes the one-event way, its receipt the entry's id when the hub has none.
func TestPersistInvokeEventBridge(t *testing.T) {
	f := newFixture()
	h := hub()
	h.RequestID = ""
	raw, err := json.Marshal(normalized(t, event, h))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.h.invoke(context.Background(), raw); err != nil {
		t.Fatalf("invoke = %v", err)
	}
	if len(f.pub.entries) != 1 || f.st.put.Receipt != "bus:eb-2" {
		t.Errorf("published %d, receipt %q; want 1 and bus:eb-2", len(f.pub.entries), f.st.put.Receipt)
	}
}

// FuzzPersistInvoke: whatever an invocation carries, persist answers with an error or
// stores and publishes, and never panics.
func FuzzPersistInvoke(f *testing.F) {
	ev, _ := ce("f-1")
	f.Add(`{"events":[{"event":` + ev + `,"hub":{"requestId":"r"}}]}`)
	f.Add(`{"claim":"clm_1"}`)
	f.Add(`{"detail-type":"Event Normalized","id":"x","detail":{"event":` + ev + `}}`)
	f.Add(`{"events":null}`)
	f.Fuzz(func(t *testing.T, payload string) {
		fx := newFixture()
		err := fx.h.invoke(context.Background(), json.RawMessage(payload))
		if err == nil && len(fx.st.calls) == 0 {
			t.Errorf("invoke(%s) = nil without storing anything", payload)
		}
	})
}

// TestPersistBatchFixture runs events/persist-batch.json, the payload an older ingest
// sent by asynchronous invocation, which persist still takes after an upgrade
// (make invoke FN=persist EVENT=events/persist-batch.json).
func TestPersistBatchFixture(t *testing.T) {
	data, err := os.ReadFile("../../events/persist-batch.json")
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture()
	if err := f.h.invoke(context.Background(), data); err != nil {
		t.Fatalf("invoke(fixture) = %v", err)
	}
	if len(f.pub.entries) != 2 || f.st.put.Receipt == "" {
		t.Errorf("published %d, last receipt %q; want both events published, with the request id as receipt", len(f.pub.entries), f.st.put.Receipt)
	}
}

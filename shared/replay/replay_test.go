package replay

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// fakeBatch fails the entries fail says, and records the bodies it accepted.
type fakeBatch struct {
	fail     func(call int, id string) bool
	calls    int
	accepted []string
}

func (f *fakeBatch) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	f.calls++
	if len(in.Entries) > 10 {
		return nil, fmt.Errorf("%d entries in one batch", len(in.Entries))
	}
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		if f.fail != nil && f.fail(f.calls, *e.Id) {
			out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: e.Id, Code: ptr("InternalError"), Message: ptr("try again")})
			continue
		}
		f.accepted = append(f.accepted, *e.MessageBody)
	}
	return out, nil
}

func deliveries(n int) []Delivery {
	ds := make([]Delivery, n)
	for i := range ds {
		ds[i] = Delivery{Key: fmt.Sprintf("evt_%d", i), SubscriptionID: "sub_1", DueAt: time.Unix(0, 0).UTC(), Replay: "rpl_1"}
	}
	return ds
}

func TestEnqueue(t *testing.T) {
	t.Run("batches of ten", func(t *testing.T) {
		f := &fakeBatch{}
		if err := Enqueue(context.Background(), f, "q", deliveries(23)); err != nil {
			t.Fatal(err)
		}
		if f.calls != 3 || len(f.accepted) != 23 {
			t.Errorf("calls, accepted = %d, %d; want 3, 23", f.calls, len(f.accepted))
		}
		// notify reads these as its retry message: key, subscriptionId, dueAt and replay.
		var m map[string]any
		if err := json.Unmarshal([]byte(f.accepted[0]), &m); err != nil || m["key"] != "evt_0" || m["subscriptionId"] != "sub_1" || m["replay"] != "rpl_1" || m["dueAt"] == nil {
			t.Errorf("body = %s; want notify's retry message with a replay marker", f.accepted[0])
		}
	})
	t.Run("failed entries are sent again", func(t *testing.T) {
		f := &fakeBatch{fail: func(call int, id string) bool { return call == 1 && (id == "3" || id == "7") }}
		if err := Enqueue(context.Background(), f, "q", deliveries(10)); err != nil {
			t.Fatal(err)
		}
		if f.calls != 2 || len(f.accepted) != 10 {
			t.Errorf("calls, accepted = %d, %d; want 2, 10", f.calls, len(f.accepted))
		}
	})
	t.Run("an entry that keeps failing is an error", func(t *testing.T) {
		f := &fakeBatch{fail: func(_ int, id string) bool { return id == "0" }}
		err := Enqueue(context.Background(), f, "q", deliveries(2))
		if err == nil || !strings.Contains(err.Error(), "InternalError") || f.calls != maxTries {
			t.Errorf("Enqueue = %v after %d calls; want an error after %d", err, f.calls, maxTries)
		}
	})
}

func TestPinned(t *testing.T) {
	tests := []struct {
		pattern, source, typ string
	}{
		{`{"source":["/shop"],"type":["order.created"]}`, "/shop", "order.created"},
		{`{"type":["a"],"data":{"x":[1]}}`, "", "a"},
		{`{"type":["a","b"]}`, "", ""},
		{`{"type":[{"prefix":"a"}]}`, "", ""},
		{`{"source":[7]}`, "", ""},
		{`{}`, "", ""},
		{`not json`, "", ""},
	}
	for _, tc := range tests {
		if s, ty := Pinned([]byte(tc.pattern)); s != tc.source || ty != tc.typ {
			t.Errorf("Pinned(%s) = %q, %q; want %q, %q", tc.pattern, s, ty, tc.source, tc.typ)
		}
	}
}

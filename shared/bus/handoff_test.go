package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

type fakeInvoke struct {
	payloads [][]byte
	err      error
}

func (f *fakeInvoke) InvokeAsync(_ context.Context, function string, payload []byte) error {
	if function != "Persist" {
		return fmt.Errorf("unknown function %s", function)
	}
	if f.err != nil {
		return f.err
	}
	f.payloads = append(f.payloads, append([]byte(nil), payload...))
	return nil
}

type mapClaims map[string][]byte

func (m mapClaims) PutClaim(_ context.Context, id string, d []byte) error { m[id] = d; return nil }
func (m mapClaims) GetClaim(_ context.Context, id string) ([]byte, error) {
	d, ok := m[id]
	if !ok {
		return nil, errors.New("no claim " + id)
	}
	return d, nil
}

func detail(id string, dataBytes int) EventDetail {
	ev := fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/s","type":"t","data":%q}`, id, strings.Repeat("x", dataBytes))
	return EventDetail{Event: json.RawMessage(ev), Hub: Hub{Key: "evt_" + id, RequestID: "req-1"}}
}

// resolved returns the ids of the events each invocation carried, claims resolved.
func resolved(t *testing.T, payloads [][]byte, claims Claims) [][]string {
	t.Helper()
	var out [][]string
	for _, p := range payloads {
		full, err := Resolve(context.Background(), p, claims)
		if err != nil {
			t.Fatal(err)
		}
		var b Batch
		if err := json.Unmarshal(full, &b); err != nil {
			t.Fatalf("payload %.80s: %v", full, err)
		}
		var ids []string
		for _, e := range b.Events {
			ids = append(ids, strings.TrimPrefix(e.Hub.Key, "evt_"))
		}
		out = append(out, ids)
	}
	return out
}

func TestHandoff(t *testing.T) {
	tests := []struct {
		name   string
		limit  int
		events []EventDetail
		want   string // invocations separated by |, events by ,
	}{
		{name: "one event", limit: maxAsyncPayload, events: []EventDetail{detail("a", 10)}, want: "a"},
		{name: "a request in one invocation", limit: maxAsyncPayload, events: []EventDetail{detail("a", 10), detail("b", 10), detail("c", 10)}, want: "a,b,c"},
		{name: "split at the limit, in order", limit: 400, events: []EventDetail{detail("a", 100), detail("b", 100), detail("c", 100)}, want: "a|b|c"},
		{name: "an event over the limit travels as a claim", limit: 400, events: []EventDetail{detail("a", 10), detail("big", 500), detail("c", 10)}, want: "a|big|c"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api, claims := &fakeInvoke{}, mapClaims{}
			h := NewHandoff(api, "Persist", claims)
			h.limit = tc.limit
			if err := h.Send(context.Background(), tc.events); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, ids := range resolved(t, api.payloads, claims) {
				got = append(got, strings.Join(ids, ","))
			}
			if strings.Join(got, "|") != tc.want {
				t.Errorf("invocations = %v; want %s", got, tc.want)
			}
			for _, p := range api.payloads {
				if len(p) > tc.limit {
					t.Errorf("a payload of %d bytes; limit %d", len(p), tc.limit)
				}
			}
		})
	}
}

func TestHandoffFails(t *testing.T) {
	boom := errors.New("TooManyRequestsException")
	h := NewHandoff(&fakeInvoke{err: boom}, "Persist", nil)
	if err := h.Send(context.Background(), []EventDetail{detail("a", 1)}); !errors.Is(err, boom) || !strings.Contains(err.Error(), "Persist") {
		t.Errorf("Send = %v; want the invocation's error, naming the function", err)
	}
	h = NewHandoff(&fakeInvoke{}, "Persist", nil)
	h.limit = 100
	if err := h.Send(context.Background(), []EventDetail{detail("big", 200)}); err == nil || !strings.Contains(err.Error(), "no claim store") {
		t.Errorf("Send(oversized, no claims) = %v; want an error", err)
	}
}

package main

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

// fakeCounter records what ingest adds to the console's counters.
type fakeCounter struct {
	calls              int
	accepted, rejected int
	at                 time.Time
	err                error
}

func (c *fakeCounter) CountIngest(_ context.Context, at time.Time, accepted, rejected int) error {
	c.calls++
	c.at, c.accepted, c.rejected = at, c.accepted+accepted, c.rejected+rejected
	return c.err
}

func TestConsoleCounters(t *testing.T) {
	tests := []struct {
		name               string
		token, body        string
		err                error
		status             int
		calls              int
		accepted, rejected int
	}{
		{"one accepted", token, ce("a1"), nil, http.StatusAccepted, 1, 1, 0},
		{"a batch, some refused", token, "[" + ce("b1") + `,{"specversion":"1.0","id":"b2","source":"/test"},` + ce("b3") + "]", nil, http.StatusMultiStatus, 1, 2, 1},
		{"one refused", token, `{"specversion":"1.0","id":"c1","source":"/test"}`, nil, http.StatusBadRequest, 1, 0, 1},
		{"a stranger writes nothing", "ehp_unknown", ce("d1"), nil, http.StatusUnauthorized, 0, 0, 0},
		{"a counter that fails does not fail the request", token, ce("e1"), errors.New("throttled"), http.StatusAccepted, 1, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &fakeCounter{err: tt.err}
			h := newTestHandler(&fakeBus{})
			h.counts = c
			req := post("application/cloudevents-batch+json", tt.body)
			if tt.body[0] != '[' {
				req = post("application/cloudevents+json", tt.body)
			}
			req.Headers["authorization"] = "Bearer " + tt.token
			resp, err := h.handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d %s; want %d", resp.StatusCode, resp.Body, tt.status)
			}
			if c.calls != tt.calls || c.accepted != tt.accepted || c.rejected != tt.rejected {
				t.Errorf("counters: %d calls, %d accepted, %d rejected; want %d, %d, %d", c.calls, c.accepted, c.rejected, tt.calls, tt.accepted, tt.rejected)
			}
			if c.calls > 0 && !c.at.Equal(now) {
				t.Errorf("counted at %v; want the request's time %v", c.at, now)
			}
		})
	}
}

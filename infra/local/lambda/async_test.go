package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// destinations collects the records an Async hands to OnFailure.
type destinations struct {
	mu      sync.Mutex
	records [][]byte
}

func (d *destinations) onFailure(_ context.Context, record []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.records = append(d.records, record)
	return nil
}

func (d *destinations) all() [][]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([][]byte(nil), d.records...)
}

// attempts returns the request ids the count op recorded, one per invocation.
func attempts(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

func waitIdle(t *testing.T, a *Async) {
	t.Helper()
	waitFor(t, "the async queue to drain", func() bool { return a.Pending() == 0 })
}

type record struct {
	Version        string `json:"version"`
	Timestamp      string `json:"timestamp"`
	RequestContext struct {
		RequestID              string `json:"requestId"`
		FunctionArn            string `json:"functionArn"`
		Condition              string `json:"condition"`
		ApproximateInvokeCount int    `json:"approximateInvokeCount"`
	} `json:"requestContext"`
	RequestPayload  json.RawMessage `json:"requestPayload"`
	ResponseContext *struct {
		StatusCode      int    `json:"statusCode"`
		ExecutedVersion string `json:"executedVersion"`
		FunctionError   string `json:"functionError"`
	} `json:"responseContext"`
	ResponsePayload *struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	} `json:"responsePayload"`
}

func TestAsyncRetries(t *testing.T) {
	fast := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}
	tests := []struct {
		name         string
		cfg          AsyncConfig
		fails        int
		wantAttempts int
		wantRecord   bool
	}{
		{name: "succeeds first time", fails: 0, wantAttempts: 1},
		{name: "fails twice then succeeds", fails: 2, wantAttempts: 3},
		{name: "retries exhausted", fails: 10, wantAttempts: 3, wantRecord: true},
		{name: "one retry", cfg: AsyncConfig{MaxRetryAttempts: 1}, fails: 10, wantAttempts: 2, wantRecord: true},
		{name: "no retries", cfg: AsyncConfig{MaxRetryAttempts: NoRetries}, fails: 10, wantAttempts: 1, wantRecord: true},
	}
	f := newFunction(t, Config{Name: "AsyncFunction", MaxConcurrency: 2})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dest destinations
			cfg := tt.cfg
			cfg.RetryDelays = fast
			cfg.OnFailure = dest.onFailure
			a := NewAsync(f, cfg)
			defer a.Close()

			file := filepath.Join(t.TempDir(), "count")
			event := payload(t, request{Op: "count", File: file, Fails: tt.fails})
			if err := a.Send(context.Background(), event); err != nil {
				t.Fatalf("Send error = %v", err)
			}
			waitIdle(t, a)

			ids := attempts(t, file)
			if len(ids) != tt.wantAttempts {
				t.Fatalf("function invoked %d times; want %d", len(ids), tt.wantAttempts)
			}
			for _, id := range ids[1:] {
				if id != ids[0] {
					t.Errorf("retry request id = %s; want the first attempt's %s", id, ids[0])
				}
			}
			records := dest.all()
			if !tt.wantRecord {
				if len(records) != 0 {
					t.Errorf("OnFailure got %d records; want none", len(records))
				}
				return
			}
			if len(records) != 1 {
				t.Fatalf("OnFailure got %d records; want 1", len(records))
			}
			var r record
			if err := json.Unmarshal(records[0], &r); err != nil {
				t.Fatalf("record %s: %v", records[0], err)
			}
			if r.Version != "1.0" || r.RequestContext.Condition != "RetriesExhausted" ||
				r.RequestContext.ApproximateInvokeCount != tt.wantAttempts ||
				r.RequestContext.RequestID != ids[0] ||
				r.RequestContext.FunctionArn != "arn:aws:lambda:us-east-1:000000000000:function:AsyncFunction:$LATEST" {
				t.Errorf("record = %s; want version 1.0, RetriesExhausted after %d, request id %s, the qualified function ARN", records[0], tt.wantAttempts, ids[0])
			}
			if _, err := time.Parse("2006-01-02T15:04:05.000Z", r.Timestamp); err != nil {
				t.Errorf("record timestamp %q: %v", r.Timestamp, err)
			}
			if !bytes.Equal(r.RequestPayload, event) {
				t.Errorf("record requestPayload = %s; want %s", r.RequestPayload, event)
			}
			if rc := r.ResponseContext; rc == nil || rc.StatusCode != 200 || rc.ExecutedVersion != "$LATEST" || rc.FunctionError != "Unhandled" {
				t.Errorf("record responseContext = %+v; want {200 $LATEST Unhandled}", rc)
			}
			if rp := r.ResponsePayload; rp == nil || rp.ErrorType != "errorString" || !strings.HasPrefix(rp.ErrorMessage, "attempt ") {
				t.Errorf("record responsePayload = %+v; want the last error", rp)
			}
		})
	}
}

func TestAsyncEventAge(t *testing.T) {
	f := newFunction(t, Config{})
	var dest destinations
	a := NewAsync(f, AsyncConfig{
		MaxEventAge: 50 * time.Millisecond,
		RetryDelays: []time.Duration{100 * time.Millisecond},
		OnFailure:   dest.onFailure,
	})
	defer a.Close()

	file := filepath.Join(t.TempDir(), "count")
	if err := a.Send(context.Background(), payload(t, request{Op: "count", File: file, Fails: 10})); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, a)
	if n := len(attempts(t, file)); n != 1 {
		t.Errorf("function invoked %d times; want 1 (the retry came after the maximum age)", n)
	}
	records := dest.all()
	if len(records) != 1 {
		t.Fatalf("OnFailure got %d records; want 1", len(records))
	}
	var r record
	if err := json.Unmarshal(records[0], &r); err != nil {
		t.Fatal(err)
	}
	if r.RequestContext.Condition != "EventAgeExceeded" || r.RequestContext.ApproximateInvokeCount != 1 {
		t.Errorf("record = %s; want EventAgeExceeded after 1 invocation", records[0])
	}
}

func TestAsyncCrashIsRetried(t *testing.T) {
	f := newFunction(t, Config{})
	var dest destinations
	a := NewAsync(f, AsyncConfig{RetryDelays: []time.Duration{time.Millisecond}, OnFailure: dest.onFailure})
	defer a.Close()
	if err := a.Send(context.Background(), []byte(`{"op":"exit","code":1}`)); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, a)
	records := dest.all()
	if len(records) != 1 {
		t.Fatalf("OnFailure got %d records; want 1", len(records))
	}
	var r record
	if err := json.Unmarshal(records[0], &r); err != nil {
		t.Fatal(err)
	}
	if r.RequestContext.ApproximateInvokeCount != 3 || r.ResponsePayload == nil || r.ResponsePayload.ErrorType != "Runtime.ExitError" {
		t.Errorf("record = %s; want 3 invocations ending in Runtime.ExitError", records[0])
	}
}

func TestAsyncClose(t *testing.T) {
	f := newFunction(t, Config{MaxConcurrency: 1})
	var dest destinations
	a := NewAsync(f, AsyncConfig{OnFailure: dest.onFailure})
	for range 3 {
		if err := a.Send(context.Background(), payload(t, request{Op: "sleep", Ms: 2000})); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "an invocation in flight", func() bool { return running(f) == 1 })
	start := time.Now()
	if err := a.Close(); err != nil {
		t.Fatalf("Close error = %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v; want it to abandon in-flight work", d)
	}
	if n := a.Pending(); n != 0 {
		t.Errorf("Pending() after Close = %d; want 0", n)
	}
	if err := a.Send(context.Background(), []byte(`{}`)); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close error = %v; want ErrClosed", err)
	}
	if n := len(dest.all()); n != 0 {
		t.Errorf("OnFailure got %d records for abandoned events; want 0", n)
	}
}

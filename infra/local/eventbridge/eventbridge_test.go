package eventbridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdk "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/eventhub/eventhub/infra/local/eventbridge"
	"github.com/eventhub/eventhub/shared/pattern"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// sourceMatcher matches events whose source is one of its values.
type sourceMatcher []string

func (m sourceMatcher) Match(event []byte) (bool, error) {
	var ev struct {
		Source string `json:"source"`
	}
	if err := json.Unmarshal(event, &ev); err != nil {
		return false, err
	}
	return slices.Contains(m, ev.Source), nil
}

// target records what it receives; fail, if set, decides the result of each
// send (n counts sends from 1).
type target struct {
	mu     sync.Mutex
	events [][]byte
	sends  atomic.Int32
	fail   func(n int) error
}

func (t *target) Send(ctx context.Context, event []byte) error {
	n := int(t.sends.Add(1))
	if t.fail != nil {
		if err := t.fail(n); err != nil {
			return err
		}
	}
	t.mu.Lock()
	t.events = append(t.events, bytes.Clone(event))
	t.mu.Unlock()
	return nil
}

func (t *target) received() [][]byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.events)
}

// deadLetter records dead-lettered bodies and, through SendWithAttributes,
// their attributes.
type deadLetter struct {
	mu     sync.Mutex
	bodies [][]byte
	attrs  []map[string]string
}

func (d *deadLetter) Send(ctx context.Context, body []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.bodies = append(d.bodies, bytes.Clone(body))
	return nil
}

func (d *deadLetter) got() [][]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.bodies)
}

type attributedDeadLetter struct{ deadLetter }

func (d *attributedDeadLetter) SendWithAttributes(ctx context.Context, body []byte, attrs map[string]string) error {
	d.mu.Lock()
	d.attrs = append(d.attrs, attrs)
	d.mu.Unlock()
	return d.Send(ctx, body)
}

// seqIDs returns a NewID giving deterministic UUID-shaped ids.
func seqIDs() func() string {
	var n atomic.Int32
	return func() string {
		return fmt.Sprintf("00000000-0000-4000-8000-%012d", n.Add(1))
	}
}

var fixedNow = time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.UTC)

// start serves an emulator over HTTP and returns it with an SDK client.
func start(t *testing.T, buses []string, rules []eventbridge.Rule, opts eventbridge.Options) (*eventbridge.Emulator, *sdk.Client) {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return fixedNow }
	}
	if opts.NewID == nil {
		opts.NewID = seqIDs()
	}
	if opts.RetryBackoff == nil {
		opts.RetryBackoff = func(int) time.Duration { return time.Millisecond }
	}
	em := eventbridge.New(buses, rules, opts)
	srv := httptest.NewServer(em)
	t.Cleanup(func() {
		srv.Close()
		if err := em.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	client := sdk.New(sdk.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDLOCAL", "local", ""),
		RetryMaxAttempts: 1,
	})
	return em, client
}

// waitIdle waits until no delivery is pending.
func waitIdle(t *testing.T, em *eventbridge.Emulator) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for em.Pending() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("Pending() = %d after 5s; want 0", em.Pending())
		}
		time.Sleep(time.Millisecond)
	}
}

func entry(source, detailType, detail string) types.PutEventsRequestEntry {
	return types.PutEventsRequestEntry{Source: aws.String(source), DetailType: aws.String(detailType), Detail: aws.String(detail), EventBusName: aws.String("eventhub-local")}
}

func TestPutEventsSuccess(t *testing.T) {
	_, client := start(t, []string{"eventhub-local"}, nil, eventbridge.Options{})
	out, err := client.PutEvents(t.Context(), &sdk.PutEventsInput{Entries: []types.PutEventsRequestEntry{
		entry("eventhub.ingest", "Event Received", `{"a":1}`),
		entry("eventhub.ingest", "Event Received", `{"a":2}`),
	}})
	if err != nil {
		t.Fatalf("PutEvents() error = %v", err)
	}
	if out.FailedEntryCount != 0 {
		t.Errorf("FailedEntryCount = %d; want 0", out.FailedEntryCount)
	}
	var ids []string
	for _, e := range out.Entries {
		ids = append(ids, aws.ToString(e.EventId))
	}
	want := []string{"00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"}
	if !slices.Equal(ids, want) {
		t.Errorf("EventIds = %q; want %q", ids, want)
	}
}

func TestDefaultEventIDIsUUIDv4(t *testing.T) {
	em := eventbridge.New(nil, nil, eventbridge.Options{})
	defer em.Close()
	rec := httptest.NewRecorder()
	em.ServeHTTP(rec, putRequest(`{"Entries":[{"Source":"s","DetailType":"d","Detail":"{}"}]}`))
	var out struct{ Entries []struct{ EventId string } }
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(out.Entries) != 1 {
		t.Fatalf("response %s: %v", rec.Body, err)
	}
	id := out.Entries[0].EventId
	if len(id) != 36 || id[14] != '4' || !strings.ContainsRune("89ab", rune(id[19])) || strings.Count(id, "-") != 4 {
		t.Errorf("EventId = %q; want a version 4 UUID", id)
	}
}

func TestPutEventsEntryErrors(t *testing.T) {
	failing := func(ent eventbridge.Entry) (string, string) {
		if strings.Contains(ent.Detail, "throttle") {
			return "ThrottlingException", "Rate exceeded."
		}
		if strings.Contains(ent.Detail, "internal") {
			return "InternalFailure", "Internal failure."
		}
		return "", ""
	}
	tests := []struct {
		name     string
		entry    types.PutEventsRequestEntry
		code     string
		message  string
		accepted bool
	}{
		{name: "valid", entry: entry("s", "d", `{}`), accepted: true},
		{name: "missing source", entry: types.PutEventsRequestEntry{DetailType: aws.String("d"), Detail: aws.String("{}")},
			code: "InvalidArgument", message: "Parameter Source is not valid. Reason: Source is a required argument."},
		{name: "empty detail type", entry: entry("s", "", `{}`),
			code: "InvalidArgument", message: "Parameter DetailType is not valid. Reason: DetailType is a required argument."},
		{name: "missing detail", entry: types.PutEventsRequestEntry{Source: aws.String("s"), DetailType: aws.String("d")},
			code: "InvalidArgument", message: "Parameter Detail is not valid. Reason: Detail is a required argument."},
		{name: "detail not JSON", entry: entry("s", "d", `{"a":`), code: "MalformedDetail", message: "Detail is malformed."},
		{name: "detail an array", entry: entry("s", "d", `[1]`), code: "MalformedDetail", message: "Detail is malformed."},
		{name: "detail a string", entry: entry("s", "d", `"x"`), code: "MalformedDetail", message: "Detail is malformed."},
		{name: "aws source", entry: entry("aws.s3", "d", `{}`), code: "NotAuthorizedForSourceException", message: "Not authorized for the source."},
		{name: "unknown bus", entry: types.PutEventsRequestEntry{Source: aws.String("s"), DetailType: aws.String("d"), Detail: aws.String("{}"), EventBusName: aws.String("nope")},
			code: "ResourceNotFoundException", message: "Event bus nope does not exist."},
		{name: "unknown bus ARN", entry: types.PutEventsRequestEntry{Source: aws.String("s"), DetailType: aws.String("d"), Detail: aws.String("{}"), EventBusName: aws.String("arn:aws:events:us-east-1:000000000000:event-bus/nope")},
			code: "ResourceNotFoundException", message: "Event bus arn:aws:events:us-east-1:000000000000:event-bus/nope does not exist."},
		{name: "bus ARN of another account", entry: types.PutEventsRequestEntry{Source: aws.String("s"), DetailType: aws.String("d"), Detail: aws.String("{}"), EventBusName: aws.String("arn:aws:events:us-east-1:111111111111:event-bus/eventhub-local")},
			code: "ResourceNotFoundException", message: "Event bus arn:aws:events:us-east-1:111111111111:event-bus/eventhub-local does not exist."},
		{name: "bus ARN", entry: types.PutEventsRequestEntry{Source: aws.String("s"), DetailType: aws.String("d"), Detail: aws.String("{}"), EventBusName: aws.String("arn:aws:events:us-east-1:000000000000:event-bus/eventhub-local")}, accepted: true},
		{name: "default bus", entry: types.PutEventsRequestEntry{Source: aws.String("s"), DetailType: aws.String("d"), Detail: aws.String("{}")}, accepted: true},
		{name: "injected throttling", entry: entry("s", "d", `{"throttle":true}`), code: "ThrottlingException", message: "Rate exceeded."},
		{name: "injected internal failure", entry: entry("s", "d", `{"internal":true}`), code: "InternalFailure", message: "Internal failure."},
	}
	tgt := &target{}
	rule := eventbridge.Rule{Name: "all", Bus: "eventhub-local", Pattern: sourceMatcher{"s", "aws.s3"}, Target: tgt}
	em, client := start(t, []string{"eventhub-local"}, []eventbridge.Rule{rule}, eventbridge.Options{FailEntry: failing})

	// One request of several entries: failures are reported per entry, in order.
	for chunk := range slices.Chunk(tests, 10) {
		var in []types.PutEventsRequestEntry
		wantFailed := int32(0)
		for _, tt := range chunk {
			in = append(in, tt.entry)
			if !tt.accepted {
				wantFailed++
			}
		}
		out, err := client.PutEvents(t.Context(), &sdk.PutEventsInput{Entries: in})
		if err != nil {
			t.Fatalf("PutEvents() error = %v", err)
		}
		if out.FailedEntryCount != wantFailed {
			t.Errorf("FailedEntryCount = %d; want %d", out.FailedEntryCount, wantFailed)
		}
		if len(out.Entries) != len(chunk) {
			t.Fatalf("len(Entries) = %d; want %d", len(out.Entries), len(chunk))
		}
		for i, tt := range chunk {
			t.Run(tt.name, func(t *testing.T) {
				got := out.Entries[i]
				if tt.accepted {
					if got.EventId == nil || got.ErrorCode != nil {
						t.Errorf("entry = {EventId:%v ErrorCode:%v}; want an EventId and no error", aws.ToString(got.EventId), aws.ToString(got.ErrorCode))
					}
					return
				}
				if got.EventId != nil {
					t.Errorf("EventId = %q; want none", *got.EventId)
				}
				if c, m := aws.ToString(got.ErrorCode), aws.ToString(got.ErrorMessage); c != tt.code || m != tt.message {
					t.Errorf("error = %q %q; want %q %q", c, m, tt.code, tt.message)
				}
			})
		}
	}
	waitIdle(t, em)
	// Only the entries accepted on the rule's bus reach its target.
	if n := len(tgt.received()); n != 2 {
		t.Errorf("target received %d events; want 2 (valid, bus ARN)", n)
	}
	st := em.Stats()
	if st.Accepted != 3 || st.Failed["InvalidArgument"] != 3 || st.Failed["MalformedDetail"] != 3 || st.Failed["ThrottlingException"] != 1 || st.Failed["ResourceNotFoundException"] != 3 {
		t.Errorf("Stats() = %+v", st)
	}
}

func TestPutEventsRequestErrors(t *testing.T) {
	tests := []struct {
		name    string
		entries []types.PutEventsRequestEntry
		code    string
		message string
	}{
		{name: "no entries", entries: []types.PutEventsRequestEntry{}, code: "ValidationException",
			message: "1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{name: "eleven entries", entries: slices.Repeat([]types.PutEventsRequestEntry{entry("s", "d", "{}")}, 11), code: "ValidationException",
			message: "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10"},
		{name: "over 1 MB", entries: []types.PutEventsRequestEntry{
			entry("s", "d", `{"x":"`+strings.Repeat("é", 256*1024)+`"}`), // 512 KiB of UTF-8
			entry("s", "d", `{"x":"`+strings.Repeat("x", 512*1024)+`"}`),
		}, code: "ValidationException", message: "Total size of the entries in the request is over the limit."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			em, client := start(t, []string{"eventhub-local"}, nil, eventbridge.Options{})
			_, err := client.PutEvents(t.Context(), &sdk.PutEventsInput{Entries: tt.entries})
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("PutEvents() error = %v; want an API error", err)
			}
			if apiErr.ErrorCode() != tt.code || apiErr.ErrorMessage() != tt.message {
				t.Errorf("PutEvents() error = %q %q; want %q %q", apiErr.ErrorCode(), apiErr.ErrorMessage(), tt.code, tt.message)
			}
			if st := em.Stats(); st.Accepted != 0 || st.RequestErrors[tt.code] != 1 {
				t.Errorf("Stats() = %+v; want no entry accepted, one %s", st, tt.code)
			}
		})
	}
}

func TestPutEventsSizeLimitIsInclusive(t *testing.T) {
	// Source "s" + DetailType "d" + Time (14) + Detail = exactly 1 MiB.
	detail := `{"x":"` + strings.Repeat("x", 1024*1024-16-8) + `"}`
	e := entry("s", "d", detail)
	e.Time = aws.Time(fixedNow)
	_, client := start(t, []string{"eventhub-local"}, nil, eventbridge.Options{})
	out, err := client.PutEvents(t.Context(), &sdk.PutEventsInput{Entries: []types.PutEventsRequestEntry{e}})
	if err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("PutEvents(1 MiB) = %v, %v; want success", out, err)
	}
	e.Resources = []string{"r"}
	if _, err := client.PutEvents(t.Context(), &sdk.PutEventsInput{Entries: []types.PutEventsRequestEntry{e}}); err == nil {
		t.Errorf("PutEvents(1 MiB + 1) succeeded; want ValidationException")
	}
}

func putRequest(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("X-Amz-Target", "AWSEvents.PutEvents")
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	return r
}

func TestProtocolErrors(t *testing.T) {
	tests := []struct {
		name   string
		req    func() *http.Request
		status int
		typ    string
	}{
		{name: "other operation", req: func() *http.Request {
			r := putRequest(`{}`)
			r.Header.Set("X-Amz-Target", "AWSEvents.CreateArchive")
			return r
		}, status: 400, typ: "UnknownOperationException"},
		{name: "no target", req: func() *http.Request { return httptest.NewRequest(http.MethodGet, "/", nil) }, status: 400, typ: "UnknownOperationException"},
		{name: "bad JSON", req: func() *http.Request { return putRequest(`{"Entries":`) }, status: 400, typ: "SerializationException"},
		{name: "bad Time", req: func() *http.Request {
			return putRequest(`{"Entries":[{"Source":"s","DetailType":"d","Detail":"{}","Time":true}]}`)
		}, status: 400, typ: "SerializationException"},
		{name: "missing Entries", req: func() *http.Request { return putRequest(`{}`) }, status: 400, typ: "ValidationException"},
	}
	em := eventbridge.New(nil, nil, eventbridge.Options{})
	defer em.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			em.ServeHTTP(rec, tt.req())
			var body struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if rec.Code != tt.status || body.Type != tt.typ || rec.Header().Get("X-Amzn-ErrorType") != tt.typ || body.Message == "" {
				t.Errorf("response = %d %s (X-Amzn-ErrorType %q); want %d with __type %q and a message",
					rec.Code, rec.Body, rec.Header().Get("X-Amzn-ErrorType"), tt.status, tt.typ)
			}
		})
	}
}

func TestUnknownOperationThroughSDK(t *testing.T) {
	_, client := start(t, nil, nil, eventbridge.Options{})
	_, err := client.ListArchives(t.Context(), &sdk.ListArchivesInput{})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "UnknownOperationException" {
		t.Errorf("ListArchives() error = %v; want UnknownOperationException", err)
	}
}

func TestRouting(t *testing.T) {
	received, normalized, other, onDefault := &target{}, &target{}, &target{}, &target{}
	rules := []eventbridge.Rule{
		{Name: "EventReceived", Bus: "eventhub-local", Pattern: sourceMatcher{"eventhub.ingest"}, Target: received},
		{Name: "EventNormalized", Bus: "eventhub-local", Pattern: sourceMatcher{"eventhub.normalize"}, Target: normalized},
		{Name: "Both", Bus: "eventhub-local", Pattern: sourceMatcher{"eventhub.ingest", "eventhub.normalize"}, Target: other},
		{Name: "OnDefault", Pattern: sourceMatcher{"eventhub.ingest"}, Target: onDefault},
	}
	em, client := start(t, []string{"eventhub-local"}, rules, eventbridge.Options{})
	_, err := client.PutEvents(t.Context(), &sdk.PutEventsInput{Entries: []types.PutEventsRequestEntry{
		entry("eventhub.ingest", "Event Received", `{"n":1}`),
		entry("eventhub.normalize", "Event Normalized", `{"n":2}`),
		entry("eventhub.ingest", "Event Received", `{"n":3}`),
		entry("someone.else", "Other", `{"n":4}`),
	}})
	if err != nil {
		t.Fatalf("PutEvents() error = %v", err)
	}
	waitIdle(t, em)
	details := func(tg *target) []string {
		var out []string
		for _, ev := range tg.received() {
			var e struct{ Detail json.RawMessage }
			if err := json.Unmarshal(ev, &e); err != nil {
				t.Fatal(err)
			}
			out = append(out, string(e.Detail))
		}
		slices.Sort(out) // deliveries are concurrent: order is best-effort
		return out
	}
	for _, c := range []struct {
		name string
		tg   *target
		want []string
	}{
		{"EventReceived", received, []string{`{"n":1}`, `{"n":3}`}},
		{"EventNormalized", normalized, []string{`{"n":2}`}},
		{"Both", other, []string{`{"n":1}`, `{"n":2}`, `{"n":3}`}},
		{"OnDefault", onDefault, nil},
	} {
		if got := details(c.tg); !slices.Equal(got, c.want) {
			t.Errorf("rule %s received %q; want %q", c.name, got, c.want)
		}
	}
	st := em.Stats()
	if st.Matched["EventReceived"] != 2 || st.Matched["Both"] != 3 || st.Delivered["Both"] != 3 || st.Matched["OnDefault"] != 0 {
		t.Errorf("Stats() = %+v", st)
	}
}

func TestRetriesThenDeadLetter(t *testing.T) {
	boom := errors.New("function queue full")
	tests := []struct {
		name        string
		maxRetries  int
		maxAge      time.Duration
		failUntil   int // sends 1..failUntil fail
		wantSends   int
		wantDLQ     bool
		wantRetries int
		exhausted   string
	}{
		{name: "recovers", maxRetries: 3, failUntil: 2, wantSends: 3, wantRetries: 2},
		{name: "exhausts retries", maxRetries: 2, failUntil: 100, wantSends: 3, wantDLQ: true, wantRetries: 2, exhausted: "MaximumRetryAttempts"},
		{name: "no retries", maxRetries: eventbridge.NoRetries, failUntil: 100, wantSends: 1, wantDLQ: true, exhausted: "MaximumRetryAttempts"},
		{name: "exhausts age", maxRetries: 100, maxAge: 3 * time.Second, failUntil: 100, wantSends: 3, wantDLQ: true, wantRetries: 2, exhausted: "MaximumEventAgeInSeconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := &target{fail: func(n int) error {
				if n <= tt.failUntil {
					return boom
				}
				return nil
			}}
			dlq := &attributedDeadLetter{}
			// The clock advances one second per reading after the first one, so
			// that a 3 s MaximumEventAge allows two retries.
			var ticks atomic.Int64
			now := func() time.Time { return fixedNow.Add(time.Duration(max(ticks.Add(1)-1, 0)) * time.Second) }
			rule := eventbridge.Rule{Name: "EventStored", Bus: "eventhub-local", Pattern: sourceMatcher{"eventhub.persist"},
				Target: tg, TargetARN: "arn:aws:lambda:us-east-1:000000000000:function:notify", MaxRetries: tt.maxRetries, MaxAge: tt.maxAge, DeadLetter: dlq}
			em, client := start(t, []string{"eventhub-local"}, []eventbridge.Rule{rule}, eventbridge.Options{Now: now})
			if _, err := client.PutEvents(t.Context(), &sdk.PutEventsInput{Entries: []types.PutEventsRequestEntry{entry("eventhub.persist", "Event Stored", `{"k":"v"}`)}}); err != nil {
				t.Fatalf("PutEvents() error = %v", err)
			}
			waitIdle(t, em)
			if n := int(tg.sends.Load()); n != tt.wantSends {
				t.Errorf("target sends = %d; want %d", n, tt.wantSends)
			}
			st := em.Stats()
			if st.Retries != tt.wantRetries {
				t.Errorf("Stats().Retries = %d; want %d", st.Retries, tt.wantRetries)
			}
			got := dlq.got()
			if !tt.wantDLQ {
				if len(got) != 0 || st.Delivered["EventStored"] != 1 {
					t.Errorf("dead letters = %d, delivered = %d; want 0, 1", len(got), st.Delivered["EventStored"])
				}
				return
			}
			if len(got) != 1 || st.DeadLettered != 1 {
				t.Fatalf("dead letters = %d (Stats %d); want 1", len(got), st.DeadLettered)
			}
			var ev struct {
				ID     string          `json:"id"`
				Detail json.RawMessage `json:"detail"`
			}
			if err := json.Unmarshal(got[0], &ev); err != nil || ev.ID == "" || string(ev.Detail) != `{"k":"v"}` {
				t.Errorf("dead-letter body = %s; want the event envelope", got[0])
			}
			wantAttrs := map[string]string{
				"RULE_ARN":                  "arn:aws:events:us-east-1:000000000000:rule/eventhub-local/EventStored",
				"TARGET_ARN":                "arn:aws:lambda:us-east-1:000000000000:function:notify",
				"ERROR_CODE":                "SDK_CLIENT_ERROR",
				"ERROR_MESSAGE":             "function queue full",
				"EXHAUSTED_RETRY_CONDITION": tt.exhausted,
				"RETRY_ATTEMPTS":            fmt.Sprint(tt.wantRetries),
			}
			if a := dlq.attrs[0]; fmt.Sprint(a) != fmt.Sprint(wantAttrs) {
				t.Errorf("dead-letter attributes = %v; want %v", a, wantAttrs)
			}
		})
	}
}

func TestExhaustedWithoutDeadLetterIsDropped(t *testing.T) {
	tg := &target{fail: func(int) error { return errors.New("down") }}
	rule := eventbridge.Rule{Name: "r", Pattern: sourceMatcher{"s"}, Target: tg, MaxRetries: 1}
	em, client := start(t, nil, []eventbridge.Rule{rule}, eventbridge.Options{})
	if _, err := client.PutEvents(t.Context(), &sdk.PutEventsInput{Entries: []types.PutEventsRequestEntry{{Source: aws.String("s"), DetailType: aws.String("d"), Detail: aws.String("{}")}}}); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, em)
	if st := em.Stats(); st.Dropped != 1 || tg.sends.Load() != 2 {
		t.Errorf("Stats().Dropped = %d, sends = %d; want 1, 2", st.Dropped, tg.sends.Load())
	}
}

func TestPlainDeadLetter(t *testing.T) {
	tg := &target{fail: func(int) error { return errors.New("down") }}
	dlq := &deadLetter{}
	rule := eventbridge.Rule{Name: "r", Pattern: sourceMatcher{"s"}, Target: tg, MaxRetries: eventbridge.NoRetries, DeadLetter: dlq}
	em, client := start(t, nil, []eventbridge.Rule{rule}, eventbridge.Options{})
	if _, err := client.PutEvents(t.Context(), &sdk.PutEventsInput{Entries: []types.PutEventsRequestEntry{{Source: aws.String("s"), DetailType: aws.String("d"), Detail: aws.String("{}")}}}); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, em)
	if n := len(dlq.got()); n != 1 {
		t.Errorf("dead letters = %d; want 1", n)
	}
}

func TestCloseStopsRetries(t *testing.T) {
	tg := &target{fail: func(int) error { return errors.New("down") }}
	rule := eventbridge.Rule{Name: "r", Pattern: sourceMatcher{"s"}, Target: tg, DeadLetter: &deadLetter{}}
	em := eventbridge.New(nil, []eventbridge.Rule{rule}, eventbridge.Options{RetryBackoff: func(int) time.Duration { return time.Hour }})
	for range 5 {
		rec := httptest.NewRecorder()
		em.ServeHTTP(rec, putRequest(`{"Entries":[{"Source":"s","DetailType":"d","Detail":"{}"}]}`))
		if rec.Code != 200 {
			t.Fatalf("PutEvents = %d %s", rec.Code, rec.Body)
		}
	}
	if em.Pending() != 5 {
		t.Errorf("Pending() = %d; want 5", em.Pending())
	}
	done := make(chan struct{})
	go func() { em.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close() did not return")
	}
	if em.Pending() != 0 || em.Stats().Dropped != 5 {
		t.Errorf("after Close: Pending() = %d, Dropped = %d; want 0, 5", em.Pending(), em.Stats().Dropped)
	}
	rec := httptest.NewRecorder()
	em.ServeHTTP(rec, putRequest(`{"Entries":[{"Source":"s","DetailType":"d","Detail":"{}"}]}`))
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("PutEvents after Close = %d; want 500", rec.Code)
	}
}

func TestConcurrentPutEvents(t *testing.T) {
	tg := &target{}
	rule := eventbridge.Rule{Name: "r", Bus: "eventhub-local", Pattern: sourceMatcher{"s"}, Target: tg}
	em, client := start(t, []string{"eventhub-local"}, []eventbridge.Rule{rule}, eventbridge.Options{})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			in := slices.Repeat([]types.PutEventsRequestEntry{entry("s", "d", fmt.Sprintf(`{"i":%d}`, i))}, 5)
			if _, err := client.PutEvents(context.Background(), &sdk.PutEventsInput{Entries: in}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	waitIdle(t, em)
	if n := len(tg.received()); n != 100 {
		t.Errorf("target received %d events; want 100", n)
	}
}

// TestEnvelopeGolden pins the event envelope targets receive.
func TestEnvelopeGolden(t *testing.T) {
	tg := &target{}
	rule := eventbridge.Rule{Name: "r", Bus: "eventhub-local", Pattern: sourceMatcher{"eventhub.persist"}, Target: tg}
	em, client := start(t, []string{"eventhub-local"}, []eventbridge.Rule{rule}, eventbridge.Options{})
	explicit := entry("eventhub.persist", "Event Stored", `{"event": {"specversion": "1.0", "id": "a<b>&c", "n": 1.50}, "hub": {}}`)
	explicit.Time = aws.Time(time.Date(2025, 12, 31, 23, 59, 58, 900_000_000, time.FixedZone("CET", 3600)))
	explicit.Resources = []string{"arn:aws:dynamodb:us-east-1:000000000000:table/events"}
	for _, e := range []types.PutEventsRequestEntry{entry("eventhub.persist", "Event Stored", `{"event":{"type":"x"}}`), explicit} {
		// One request each, so that the delivery order is known.
		if _, err := client.PutEvents(t.Context(), &sdk.PutEventsInput{Entries: []types.PutEventsRequestEntry{e}}); err != nil {
			t.Fatal(err)
		}
		waitIdle(t, em)
	}
	got := bytes.Join(tg.received(), []byte("\n"))
	got = append(got, '\n')
	golden := filepath.Join("testdata", "envelope.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("envelopes =\n%s\nwant (%s)\n%s", got, golden, want)
	}
}

// The production matcher satisfies Matcher.
var _ eventbridge.Matcher = (*pattern.Pattern)(nil)

// TestRoutingWithTemplatePattern routes with shared/pattern and the pattern of
// template.yaml's EventReceived rule.
func TestRoutingWithTemplatePattern(t *testing.T) {
	p, err := pattern.Compile([]byte(`{"source":["eventhub.ingest"],"detail-type":["Event Received"]}`))
	if err != nil {
		t.Fatal(err)
	}
	tg := &target{}
	rule := eventbridge.Rule{Name: "NormalizeFunctionEventReceived", Bus: "eventhub-local", Pattern: p, Target: tg}
	em, client := start(t, []string{"eventhub-local"}, []eventbridge.Rule{rule}, eventbridge.Options{})
	_, err = client.PutEvents(t.Context(), &sdk.PutEventsInput{Entries: []types.PutEventsRequestEntry{
		entry("eventhub.ingest", "Event Received", `{"raw":"x","format":"cloudevents","hub":{}}`),
		entry("eventhub.ingest", "Event Normalized", `{}`),
		entry("eventhub.normalize", "Event Received", `{}`),
	}})
	if err != nil {
		t.Fatal(err)
	}
	waitIdle(t, em)
	if got := tg.received(); len(got) != 1 || !bytes.Contains(got[0], []byte(`"detail":{"raw":"x"`)) {
		t.Errorf("target received %q; want the one Event Received from eventhub.ingest", got)
	}
}

package eventbridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

const (
	maxEntries = 10
	// A request body is read up to maxBodyFactor times MaxRequestSize: far
	// above any valid request, as JSON escaping at most sextuples a byte.
	maxBodyFactor = 8
)

// Per-entry error codes, as PutEventsResultEntry.ErrorCode.
const (
	codeInvalidArgument     = "InvalidArgument"
	codeMalformedDetail     = "MalformedDetail"
	codeNotAuthorizedSource = "NotAuthorizedForSourceException"
	codeResourceNotFound    = "ResourceNotFoundException"
)

// putEventsRequest is the wire form of PutEventsInput.
type putEventsRequest struct {
	Entries    []requestEntry `json:"Entries"`
	EndpointID *string        `json:"EndpointId"`
}

// requestEntry is the wire form of types.PutEventsRequestEntry. Pointers tell
// a missing member from an empty one; Time is epoch seconds (a JSON number).
type requestEntry struct {
	Source       *string         `json:"Source"`
	DetailType   *string         `json:"DetailType"`
	Detail       *string         `json:"Detail"`
	EventBusName *string         `json:"EventBusName"`
	Resources    []string        `json:"Resources"`
	Time         json.RawMessage `json:"Time"`
	TraceHeader  *string         `json:"TraceHeader"`
}

// resultEntry is the wire form of types.PutEventsResultEntry.
type resultEntry struct {
	EventID      string `json:"EventId,omitempty"`
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

type putEventsResponse struct {
	Entries          []resultEntry `json:"Entries"`
	FailedEntryCount int           `json:"FailedEntryCount"`
}

// putEvents serves PutEvents.
func (e *Emulator) putEvents(w http.ResponseWriter, r *http.Request) {
	limit := int64(e.maxRequestSize)*maxBodyFactor + 64*1024
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		e.fail(w, &apiError{http.StatusBadRequest, errSerialization, "Could not read the request body."})
		return
	}
	if int64(len(body)) > limit {
		e.fail(w, &apiError{http.StatusBadRequest, errValidation, "Total size of the entries in the request is over the limit."})
		return
	}
	var req putEventsRequest
	if err := json.Unmarshal(body, &req); err != nil {
		e.fail(w, &apiError{http.StatusBadRequest, errSerialization, "Could not parse the request body: " + err.Error()})
		return
	}
	if msg := validateRequest(req.Entries, e.maxRequestSize); msg != "" {
		e.fail(w, &apiError{http.StatusBadRequest, errValidation, msg})
		return
	}
	entries := make([]Entry, len(req.Entries))
	for i, re := range req.Entries {
		ent, err := re.entry()
		if err != nil {
			e.fail(w, &apiError{http.StatusBadRequest, errSerialization, fmt.Sprintf("Entries[%d].Time: %v", i, err)})
			return
		}
		entries[i] = ent
	}

	// Hold the read lock while deliveries start so that Close cannot begin
	// waiting in between (WaitGroup.Add must not race with Wait).
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		e.fail(w, &apiError{http.StatusInternalServerError, errInternal, "The EventBridge emulator is closed."})
		return
	}
	resp := putEventsResponse{Entries: make([]resultEntry, len(entries))}
	for i, ent := range entries {
		res := e.put(r.Context(), ent, req.Entries[i])
		if res.ErrorCode != "" {
			resp.FailedEntryCount++
		}
		resp.Entries[i] = res
	}
	writeJSON(w, http.StatusOK, resp)
}

// put validates, accepts and routes one entry.
func (e *Emulator) put(ctx context.Context, ent Entry, wire requestEntry) resultEntry {
	code, msg := e.check(ent, wire)
	if code != "" {
		e.count(func(s *Stats) { s.Failed[code]++ })
		e.log.InfoContext(ctx, "putEvents entry rejected", "errorCode", code, "errorMessage", msg, "source", ent.Source, "detailType", ent.DetailType)
		return resultEntry{ErrorCode: code, ErrorMessage: msg}
	}
	onBus, _ := e.busName(ent.EventBusName) // check accepted the name
	received := e.now()
	evTime := received
	if ent.Time != nil {
		evTime = *ent.Time
	}
	var detail bytes.Buffer
	_ = json.Compact(&detail, []byte(ent.Detail)) // check validated the JSON
	resources := ent.Resources
	if resources == nil {
		resources = []string{}
	}
	ev := events.EventBridgeEvent{
		Version:    "0",
		ID:         e.newID(),
		DetailType: ent.DetailType,
		Source:     ent.Source,
		AccountID:  e.account,
		Time:       evTime.UTC().Truncate(time.Second),
		Region:     e.region,
		Resources:  resources,
		Detail:     detail.Bytes(),
	}
	envelope, err := marshal(ev)
	if err != nil { // unreachable: every field is plain data
		e.count(func(s *Stats) { s.Failed["InternalFailure"]++ })
		return resultEntry{ErrorCode: "InternalFailure", ErrorMessage: err.Error()}
	}
	e.count(func(s *Stats) { s.Accepted++ })
	e.log.DebugContext(ctx, "putEvents entry accepted", "eventId", ev.ID, "bus", onBus, "source", ev.Source, "detailType", ev.DetailType)
	e.route(ctx, onBus, ev.ID, envelope, received, ent.TraceHeader)
	return resultEntry{EventID: ev.ID}
}

// check returns the ErrorCode and ErrorMessage that reject an entry, or "".
func (e *Emulator) check(ent Entry, wire requestEntry) (code, msg string) {
	for _, p := range []struct {
		name string
		v    *string
	}{{"Source", wire.Source}, {"DetailType", wire.DetailType}, {"Detail", wire.Detail}} {
		if p.v == nil || *p.v == "" {
			return codeInvalidArgument, fmt.Sprintf("Parameter %s is not valid. Reason: %s is a required argument.", p.name, p.name)
		}
	}
	if strings.HasPrefix(ent.Source, "aws.") {
		return codeNotAuthorizedSource, "Not authorized for the source."
	}
	if !isJSONObject(ent.Detail) {
		return codeMalformedDetail, "Detail is malformed."
	}
	if _, ok := e.busName(ent.EventBusName); !ok {
		return codeResourceNotFound, fmt.Sprintf("Event bus %s does not exist.", ent.EventBusName)
	}
	if e.failEntry != nil {
		if code, msg := e.failEntry(ent); code != "" {
			return code, msg
		}
	}
	return "", ""
}

// busName resolves an EventBusName (empty, a name or an event-bus ARN of this
// account and region) to a known bus.
func (e *Emulator) busName(nameOrARN string) (string, bool) {
	name := nameOrARN
	if name == "" {
		name = "default"
	}
	if strings.HasPrefix(name, "arn:") {
		// arn:PARTITION:events:REGION:ACCOUNT:event-bus/NAME
		parts := strings.SplitN(name, ":", 6)
		if len(parts) != 6 || parts[2] != "events" || parts[3] != e.region || parts[4] != e.account {
			return "", false
		}
		var ok bool
		if name, ok = strings.CutPrefix(parts[5], "event-bus/"); !ok {
			return "", false
		}
	}
	return name, e.buses[name] != nil
}

// validateRequest applies the checks that fail a whole request and returns
// their message, or "".
func validateRequest(entries []requestEntry, maxSize int) string {
	switch {
	case entries == nil:
		return "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null"
	case len(entries) < 1:
		return "1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1"
	case len(entries) > maxEntries:
		return fmt.Sprintf("1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to %d", maxEntries)
	}
	total := 0
	for _, re := range entries {
		total += re.size()
	}
	if total > maxSize {
		return "Total size of the entries in the request is over the limit."
	}
	return ""
}

// size is the entry size as AWS documents it ("Calculating PutEvents event
// entry size"): Time counts 14 bytes, then the UTF-8 bytes of Source,
// DetailType, Detail and each of Resources.
func (re requestEntry) size() int {
	n := 0
	if len(re.Time) > 0 && string(re.Time) != "null" {
		n += 14
	}
	for _, s := range []*string{re.Source, re.DetailType, re.Detail} {
		if s != nil {
			n += len(*s) // Go strings hold UTF-8
		}
	}
	for _, r := range re.Resources {
		n += len(r)
	}
	return n
}

func (re requestEntry) entry() (Entry, error) {
	ent := Entry{
		Source:       deref(re.Source),
		DetailType:   deref(re.DetailType),
		Detail:       deref(re.Detail),
		EventBusName: deref(re.EventBusName),
		Resources:    re.Resources,
		TraceHeader:  deref(re.TraceHeader),
	}
	if len(re.Time) == 0 || string(re.Time) == "null" {
		return ent, nil
	}
	t, err := parseTime(re.Time)
	if err != nil {
		return Entry{}, err
	}
	ent.Time = &t
	return ent, nil
}

// parseTime reads a timestamp as the JSON protocols send it: epoch seconds,
// possibly fractional; an RFC 3339 string is accepted too.
func parseTime(raw json.RawMessage) (time.Time, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return time.Parse(time.RFC3339Nano, s)
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return time.Time{}, errors.New("not a timestamp")
	}
	f, err := n.Float64()
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return time.Time{}, fmt.Errorf("bad epoch seconds %s", n)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC(), nil
}

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

func isJSONObject(s string) bool {
	if !utf8.ValidString(s) || !json.Valid([]byte(s)) {
		return false
	}
	return strings.HasPrefix(strings.TrimLeft(s, " \t\r\n"), "{")
}

// marshal encodes v as JSON without HTML escaping (EventBridge keeps <, > and &).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

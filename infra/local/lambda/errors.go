package lambda

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrClosed is returned by Invoke, Warm and Async.Send once Close has been called,
// and by an invocation that was still pending or running when its Function closed.
var ErrClosed = errors.New("lambda: closed")

// Error types that the Lambda service itself reports (as opposed to those the
// runtime reports for the handler).
const (
	errTypeExit         = "Runtime.ExitError"
	errTypeTimeout      = "Sandbox.Timedout"
	errTypeInit         = "Runtime.InitError"
	errTypeEntrypoint   = "Runtime.InvalidEntrypoint"
	errTypeResponseSize = "Function.ResponseSizeTooLarge"
	errTypeNoResponse   = "Runtime.NoResponse"
)

// FunctionError is a failed invocation: the handler returned an error or panicked,
// the runtime failed to initialise, the process exited, or the invocation timed out.
// It carries what Lambda returns to a synchronous caller with X-Amz-Function-Error
// set ("Unhandled"): the errorType, errorMessage and stackTrace of the error document.
type FunctionError struct {
	Type    string   // errorType, e.g. "errorString", "Runtime.ExitError", "Sandbox.Timedout"
	Message string   // errorMessage
	Trace   []string // stackTrace, one frame a line, if the runtime sent one

	doc []byte // the error document as posted by the runtime, if it was valid JSON
}

func (e *FunctionError) Error() string {
	if e.Type == "" {
		return e.Message
	}
	return e.Type + ": " + e.Message
}

// document returns the JSON error document Lambda hands to the invoker (and puts in
// the responsePayload of a destination record).
func (e *FunctionError) document() json.RawMessage {
	if e.doc != nil {
		return e.doc
	}
	doc := struct {
		Message string   `json:"errorMessage"`
		Type    string   `json:"errorType,omitempty"`
		Trace   []string `json:"stackTrace,omitempty"`
	}{e.Message, e.Type, e.Trace}
	b, _ := json.Marshal(doc) // strings only: cannot fail
	return b
}

// parseErrorDocument reads the body a runtime posts to /invocation/{id}/error or
// /init/error: {"errorMessage","errorType","stackTrace"}. stackTrace is a list of
// strings in most runtimes and a list of {path,line,label} frames in aws-lambda-go.
// headerType (Lambda-Runtime-Function-Error-Type) is used when the body has none.
func parseErrorDocument(body []byte, headerType, fallbackType string) *FunctionError {
	var doc struct {
		Message    string          `json:"errorMessage"`
		Type       string          `json:"errorType"`
		StackTrace json.RawMessage `json:"stackTrace"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t := headerType
		if t == "" {
			t = fallbackType
		}
		return &FunctionError{Type: t, Message: strings.TrimSpace(string(body))}
	}
	fe := &FunctionError{Type: doc.Type, Message: doc.Message, Trace: parseStackTrace(doc.StackTrace), doc: body}
	if fe.Type == "" {
		fe.Type = headerType
	}
	if fe.Type == "" {
		fe.Type = fallbackType
	}
	return fe
}

func parseStackTrace(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var lines []string
	if json.Unmarshal(raw, &lines) == nil {
		return lines
	}
	var frames []struct {
		Path  string `json:"path"`
		Line  int    `json:"line"`
		Label string `json:"label"`
	}
	if json.Unmarshal(raw, &frames) == nil {
		for _, f := range frames {
			lines = append(lines, fmt.Sprintf("%s (%s:%d)", f.Label, f.Path, f.Line))
		}
		return lines
	}
	return []string{string(raw)}
}

// requestPrefix is how Lambda prefixes the messages of errors it reports itself.
func requestPrefix(requestID string) string {
	if requestID == "" {
		return "Error: "
	}
	return "RequestId: " + requestID + " Error: "
}

// exitError is what Lambda reports when the runtime process exits while it owes an
// invocation a result: "RequestId: X Error: Runtime exited with error: signal: killed".
func exitError(requestID string, waitErr error) *FunctionError {
	reason := "Runtime exited without providing a reason"
	if waitErr != nil {
		reason = "Runtime exited with error: " + waitErr.Error()
	}
	return &FunctionError{Type: errTypeExit, Message: requestPrefix(requestID) + reason}
}

// timeoutError is what Lambda reports when an invocation exceeds the function timeout.
func timeoutError(requestID string, timeout time.Duration) *FunctionError {
	return &FunctionError{
		Type:    errTypeTimeout,
		Message: fmt.Sprintf("%sTask timed out after %.2f seconds", requestPrefix(requestID), timeout.Seconds()),
	}
}

// Package lambdaapi serves the Lambda Invoke API (POST
// /2015-03-31/functions/{FunctionName}/invocations) for the local stack, so that a
// function can invoke another through the AWS_ENDPOINT_URL_LAMBDA endpoint as it does
// in AWS: synchronously (RequestResponse), asynchronously (Event: queued, retried and
// sent to the OnFailure destination as the function's EventInvokeConfig says) or as a
// permission check (DryRun).
package lambdaapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// Payload limits of the Invoke API.
const (
	maxSync  = 6 << 20
	maxAsync = 1 << 20
)

// Target is a function the API can invoke.
type Target struct {
	Invoke func(ctx context.Context, payload []byte) ([]byte, error) // synchronous
	Send   func(ctx context.Context, payload []byte) error           // queued asynchronous invocation
	// IsFunctionError says whether an Invoke error is the function's own (an
	// unhandled error or a crash), which Lambda reports in a 200 answer.
	IsFunctionError func(error) bool
}

// Server answers Invoke requests for the targets, by function name.
type Server struct {
	Targets map[string]Target
	Region  string
	Account string
	Logger  *slog.Logger
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := functionName(r.URL.Path)
	if r.Method != http.MethodPost || !ok {
		s.fail(w, http.StatusNotFound, "UnknownOperationException", fmt.Sprintf("%s %s is not an operation of this Lambda emulator", r.Method, r.URL.Path))
		return
	}
	t, ok := s.Targets[name]
	if !ok {
		s.fail(w, http.StatusNotFound, "ResourceNotFoundException", fmt.Sprintf("Function not found: arn:aws:lambda:%s:%s:function:%s", s.Region, s.Account, name))
		return
	}
	kind := r.Header.Get("X-Amz-Invocation-Type")
	limit := maxSync
	switch kind {
	case "", "RequestResponse":
	case "Event":
		limit = maxAsync
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		s.fail(w, http.StatusBadRequest, "InvalidParameterValueException", fmt.Sprintf("X-Amz-Invocation-Type %q is not RequestResponse, Event or DryRun", kind))
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		s.fail(w, http.StatusBadRequest, "InvalidRequestContentException", "could not read the request body: "+err.Error())
		return
	}
	if len(payload) > limit {
		s.fail(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", fmt.Sprintf("Request must be smaller than %d bytes for the Invoke operation", limit))
		return
	}
	if len(payload) > 0 && !json.Valid(payload) {
		s.fail(w, http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json")
		return
	}
	if kind == "Event" {
		if err := t.Send(r.Context(), payload); err != nil {
			s.fail(w, http.StatusInternalServerError, "ServiceException", err.Error())
			return
		}
		w.WriteHeader(http.StatusAccepted)
		return
	}
	out, err := t.Invoke(r.Context(), payload)
	switch {
	case err == nil:
	case t.IsFunctionError != nil && t.IsFunctionError(err):
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		out, _ = json.Marshal(map[string]string{"errorMessage": err.Error(), "errorType": "Unhandled"})
	case errors.Is(err, context.Canceled):
		return
	default:
		s.fail(w, http.StatusInternalServerError, "ServiceException", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// functionName returns the function of an Invoke path. FunctionName may be a name,
// a full ARN or a partial ARN (account:function:name), with or without a qualifier.
func functionName(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/2015-03-31/functions/")
	if !ok {
		return "", false
	}
	name, ok := strings.CutSuffix(rest, "/invocations")
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", false
	}
	if i := strings.Index(name, "function:"); i >= 0 {
		name = name[i+len("function:"):]
	}
	name, _, _ = strings.Cut(name, ":") // the qualifier: $LATEST, a version or an alias
	return name, name != ""
}

// fail answers with a Lambda error: its type in x-amzn-ErrorType and a JSON body.
func (s *Server) fail(w http.ResponseWriter, status int, typ, msg string) {
	if s.Logger != nil && status >= 500 {
		s.Logger.Warn("invoke failed", "type", typ, "message", msg)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(status)
	kind := "User"
	if status >= 500 {
		kind = "Service"
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": kind, "Message": msg})
}

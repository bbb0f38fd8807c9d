package eventbridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// The AWS JSON 1.1 protocol: every operation is a POST to "/" named by X-Amz-Target.
const (
	targetPrefix = "AWSEvents."
	contentType  = "application/x-amz-json-1.1"
	// maxControlBody bounds the request body of operations other than PutEvents:
	// the largest, PutTargets, holds ten targets of a few KB each.
	maxControlBody = 1 << 20
)

// Error types of whole-request failures, as the SDK's deserializer reads them
// from the X-Amzn-ErrorType header and the "__type" member.
const (
	errUnknownOperation    = "UnknownOperationException"
	errSerialization       = "SerializationException"
	errValidation          = "ValidationException"
	errInternal            = "InternalException"
	errNotFound            = "ResourceNotFoundException"
	errAlreadyExists       = "ResourceAlreadyExistsException"
	errInvalidEventPattern = "InvalidEventPatternException"
	errLimitExceeded       = "LimitExceededException"
)

// apiError is a whole-request failure in the shape AWS answers it.
type apiError struct {
	status int
	typ    string
	msg    string
}

func (e *apiError) Error() string { return e.typ + ": " + e.msg }

func validationf(format string, args ...any) error {
	return &apiError{http.StatusBadRequest, errValidation, fmt.Sprintf(format, args...)}
}

func notFoundf(format string, args ...any) error {
	return &apiError{http.StatusBadRequest, errNotFound, fmt.Sprintf(format, args...)}
}

// operation handles one API operation: it decodes the request body and returns the
// response to encode, or an error (an *apiError, or anything else for a 500).
type operation func(e *Emulator, ctx context.Context, body []byte) (any, error)

// operations are the EventBridge operations the emulator answers, by name.
var operations = map[string]operation{
	"PutRule":                handle((*Emulator).putRule),
	"DescribeRule":           handle((*Emulator).describeRule),
	"ListRules":              handle((*Emulator).listRules),
	"DeleteRule":             handle((*Emulator).deleteRule),
	"EnableRule":             handle((*Emulator).enableRule),
	"DisableRule":            handle((*Emulator).disableRule),
	"PutTargets":             handle((*Emulator).putTargets),
	"RemoveTargets":          handle((*Emulator).removeTargets),
	"ListTargetsByRule":      handle((*Emulator).listTargetsByRule),
	"ListRuleNamesByTarget":  handle((*Emulator).listRuleNamesByTarget),
	"TestEventPattern":       handle((*Emulator).testEventPattern),
	"ListEventBuses":         handle((*Emulator).listEventBuses),
	"DescribeEventBus":       handle((*Emulator).describeEventBus),
	"CreateConnection":       handle((*Emulator).createConnection),
	"DescribeConnection":     handle((*Emulator).describeConnection),
	"ListConnections":        handle((*Emulator).listConnections),
	"DeleteConnection":       handle((*Emulator).deleteConnection),
	"CreateApiDestination":   handle((*Emulator).createAPIDestination),
	"DescribeApiDestination": handle((*Emulator).describeAPIDestination),
	"ListApiDestinations":    handle((*Emulator).listAPIDestinations),
	"DeleteApiDestination":   handle((*Emulator).deleteAPIDestination),
}

// handle adapts a method taking the SDK's input type to an operation.
func handle[In, Out any](m func(*Emulator, *In) (*Out, error)) operation {
	return func(e *Emulator, _ context.Context, body []byte) (any, error) {
		in := new(In)
		if err := jsonv2.Unmarshal(body, in, wire); err != nil {
			return nil, &apiError{http.StatusBadRequest, errSerialization, "Could not parse the request body: " + err.Error()}
		}
		return m(e, in)
	}
}

// ServeHTTP serves the AWS JSON 1.1 endpoint.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Amzn-RequestId", newUUID())
	target := r.Header.Get("X-Amz-Target")
	name, _ := strings.CutPrefix(target, targetPrefix)
	op := operations[name]
	if r.Method != http.MethodPost || (op == nil && name != "PutEvents") {
		what := target
		if what == "" {
			what = r.Method + " " + r.URL.Path
		}
		e.fail(w, &apiError{http.StatusBadRequest, errUnknownOperation, "Operation " + what + " is not supported by this EventBridge emulator."})
		return
	}
	if name == "PutEvents" {
		e.putEvents(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxControlBody+1))
	switch {
	case err != nil:
		e.fail(w, &apiError{http.StatusBadRequest, errSerialization, "Could not read the request body."})
		return
	case len(body) > maxControlBody:
		e.fail(w, &apiError{http.StatusRequestEntityTooLarge, errValidation, "The request body is over the limit."})
		return
	}
	out, err := op(e, r.Context(), body)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			e.log.ErrorContext(r.Context(), "eventbridge operation failed", "operation", name, "err", err)
			ae = &apiError{http.StatusInternalServerError, errInternal, "Internal error."}
		}
		e.fail(w, ae)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (e *Emulator) fail(w http.ResponseWriter, ae *apiError) {
	e.count(func(s *Stats) { s.RequestErrors[ae.typ]++ })
	w.Header().Set("X-Amzn-ErrorType", ae.typ)
	writeJSON(w, ae.status, struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{ae.typ, ae.msg})
}

// wire are the options the emulator encodes responses and its state file with: the
// SDK's own output types, without their zero members, timestamps as epoch seconds
// (the JSON protocols' form).
var wire = jsonv2.JoinOptions(
	jsonv2.OmitZeroStructFields(true),
	jsonv2.WithMarshalers(jsonv2.MarshalToFunc(func(enc *jsontext.Encoder, t time.Time) error {
		return enc.WriteToken(jsontext.Float(float64(t.UnixMilli()) / 1000))
	})),
	jsonv2.WithUnmarshalers(jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, t *time.Time) error {
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		if tok.Kind() != '0' {
			return fmt.Errorf("timestamp: want epoch seconds, got %s", tok.Kind())
		}
		f, err := tok.Float()
		if err != nil {
			return err
		}
		sec, frac := math.Modf(f)
		*t = time.Unix(int64(sec), int64(math.Round(frac*1000))*int64(time.Millisecond)).UTC()
		return nil
	})),
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := jsonv2.Marshal(v, wire)
	if err != nil { // unreachable: the response types are plain data
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(b) // the client went away; nothing to do
}

// namePattern is what EventBridge accepts as a rule, target, connection or API
// destination name.
var namePattern = regexp.MustCompile(`^[\.\-_A-Za-z0-9]+$`)

// checkName validates a required name member as AWS does.
func checkName(member string, v *string, max int) error {
	switch s := deref(v); {
	case v == nil:
		return validationf("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
	case len(s) < 1 || len(s) > max:
		return validationf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d and greater than or equal to 1", s, member, max)
	case !namePattern.MatchString(s):
		return validationf(`1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\.\-_A-Za-z0-9]+`, s, member)
	}
	return nil
}

// listing returns one page of the sorted names that start with prefix, and the
// token of the next page.
func listing(names []string, prefix *string, limit *int32, token *string) ([]string, *string, error) {
	var out []string
	for _, name := range names {
		if strings.HasPrefix(name, deref(prefix)) {
			out = append(out, name)
		}
	}
	return page(out, limit, token)
}

// page returns the names of one page of a sorted listing after token (the last
// name of the previous page) and the token of the next page.
func page(names []string, limit *int32, token *string) ([]string, *string, error) {
	n := 100
	if limit != nil {
		if *limit < 1 || *limit > 100 {
			return nil, nil, validationf("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100", *limit)
		}
		n = int(*limit)
	}
	start := 0
	if token != nil {
		start = len(names)
		for i, name := range names {
			if name > *token {
				start = i
				break
			}
		}
	}
	names = names[start:]
	if len(names) <= n {
		return names, nil, nil
	}
	next := names[n-1]
	return names[:n], &next, nil
}

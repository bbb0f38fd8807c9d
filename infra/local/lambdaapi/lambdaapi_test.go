package lambdaapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type fnError struct{ msg string }

func (e *fnError) Error() string { return e.msg }

func TestInvoke(t *testing.T) {
	var sent []string
	targets := map[string]Target{
		"Persist": {
			Invoke: func(_ context.Context, p []byte) ([]byte, error) {
				if string(p) == `{"fail":true}` {
					return nil, &fnError{"boom"}
				}
				if string(p) == `{"down":true}` {
					return nil, errors.New("instance crashed at start")
				}
				return []byte(`{"echo":` + string(p) + `}`), nil
			},
			Send: func(_ context.Context, p []byte) error {
				sent = append(sent, string(p))
				return nil
			},
			IsFunctionError: func(err error) bool { var fe *fnError; return errors.As(err, &fe) },
		},
	}
	srv := httptest.NewServer(&Server{Targets: targets, Region: "us-east-1", Account: "000000000000"})
	defer srv.Close()

	tests := []struct {
		name, method, path, kind, body string
		status                         int
		errType, fnError, want         string
	}{
		{name: "sync", path: "/2015-03-31/functions/Persist/invocations", body: `{"a":1}`, status: 200, want: `{"echo":{"a":1}}`},
		{name: "sync by ARN with qualifier", path: "/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:Persist:$LATEST/invocations", kind: "RequestResponse", body: `{}`, status: 200, want: `{"echo":{}}`},
		{name: "partial ARN", path: "/2015-03-31/functions/000000000000:function:Persist/invocations", body: `1`, status: 200, want: `{"echo":1}`},
		{name: "async", path: "/2015-03-31/functions/Persist/invocations", kind: "Event", body: `{"q":1}`, status: 202},
		{name: "dry run", path: "/2015-03-31/functions/Persist/invocations", kind: "DryRun", status: 204},
		{name: "function error", path: "/2015-03-31/functions/Persist/invocations", body: `{"fail":true}`, status: 200, fnError: "Unhandled", want: `"errorMessage":"boom"`},
		{name: "service error", path: "/2015-03-31/functions/Persist/invocations", body: `{"down":true}`, status: 500, errType: "ServiceException"},
		{name: "unknown function", path: "/2015-03-31/functions/Nope/invocations", body: `{}`, status: 404, errType: "ResourceNotFoundException", want: "function:Nope"},
		{name: "not JSON", path: "/2015-03-31/functions/Persist/invocations", body: `{nope`, status: 400, errType: "InvalidRequestContentException"},
		{name: "bad invocation type", path: "/2015-03-31/functions/Persist/invocations", kind: "Later", body: `{}`, status: 400, errType: "InvalidParameterValueException"},
		{name: "async over 1 MB", path: "/2015-03-31/functions/Persist/invocations", kind: "Event", body: `"` + strings.Repeat("x", maxAsync) + `"`, status: 413, errType: "RequestTooLargeException"},
		{name: "other operation", method: http.MethodGet, path: "/2015-03-31/functions/Persist", status: 404, errType: "UnknownOperationException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			req, _ := http.NewRequest(method, srv.URL+tc.path, strings.NewReader(tc.body))
			if tc.kind != "" {
				req.Header.Set("X-Amz-Invocation-Type", tc.kind)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d (%s); want %d", resp.StatusCode, body, tc.status)
			}
			if got := resp.Header.Get("X-Amzn-ErrorType"); got != tc.errType {
				t.Errorf("error type = %q; want %q", got, tc.errType)
			}
			if got := resp.Header.Get("X-Amz-Function-Error"); got != tc.fnError {
				t.Errorf("function error = %q; want %q", got, tc.fnError)
			}
			if !strings.Contains(string(body), tc.want) {
				t.Errorf("body = %s; want it to contain %s", body, tc.want)
			}
		})
	}
	if len(sent) != 1 || sent[0] != `{"q":1}` {
		t.Errorf("queued = %v; want the one Event invocation", sent)
	}
}

package lambda

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/eventhub/eventhub/shared/awsapi"
)

func TestInvokeAsync(t *testing.T) {
	tests := []struct {
		name     string
		answers  []int // status of each attempt
		wantErr  string
		wantReqs int
	}{
		{name: "accepted", answers: []int{202}, wantReqs: 1},
		{name: "throttled, then accepted", answers: []int{429, 202}, wantReqs: 2},
		{name: "unknown function", answers: []int{404}, wantErr: "ResourceNotFoundException", wantReqs: 1},
		{name: "service down", answers: []int{503, 503, 503}, wantErr: "ServiceException", wantReqs: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reqs := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if r.Method != http.MethodPost || r.URL.Path != "/2015-03-31/functions/eventhub-persist/invocations" ||
					r.Header.Get("X-Amz-Invocation-Type") != "Event" || string(body) != `{"events":[]}` ||
					!strings.Contains(r.Header.Get("Authorization"), "/us-east-1/lambda/aws4_request") {
					t.Errorf("request %s %s %v %s", r.Method, r.URL.Path, r.Header, body)
				}
				status := tc.answers[min(reqs, len(tc.answers)-1)]
				reqs++
				switch status {
				case 404:
					w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
				case 429:
					w.Header().Set("X-Amzn-ErrorType", "TooManyRequestsException")
				case 503:
					w.Header().Set("X-Amzn-ErrorType", "ServiceException")
				}
				w.WriteHeader(status)
				if status >= 400 {
					_, _ = io.WriteString(w, `{"Type":"User","Message":"no"}`)
				}
			}))
			defer srv.Close()
			c := New(awsapi.Config{
				Region: "us-east-1", Credentials: aws.Credentials{AccessKeyID: "a", SecretAccessKey: "s"},
				ServiceEndpoints: map[string]string{"LAMBDA": srv.URL},
				Backoff:          func(int) time.Duration { return time.Millisecond },
			})
			err := c.InvokeAsync(context.Background(), "eventhub-persist", []byte(`{"events":[]}`))
			var ae *awsapi.Error
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("InvokeAsync = %v; want nil", err)
			case tc.wantErr != "" && (!errors.As(err, &ae) || ae.Code != tc.wantErr):
				t.Errorf("InvokeAsync = %v; want a %s", err, tc.wantErr)
			}
			if reqs != tc.wantReqs {
				t.Errorf("%d requests; want %d", reqs, tc.wantReqs)
			}
		})
	}
}

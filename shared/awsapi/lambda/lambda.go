// Package lambda is a Lambda client for Invoke with InvocationType Event (an
// asynchronous invocation), over shared/awsapi.
package lambda

import (
	"context"
	"net/http"
	"net/url"

	"github.com/eventhub/eventhub/shared/awsapi"
)

// Service is Lambda's REST-JSON protocol; the target prefix and JSON version are
// unused (its operations are paths).
var Service = awsapi.Service{SDKID: "Lambda", SigningName: "lambda"}

// Client calls Lambda.
type Client struct{ c *awsapi.Client }

// New returns a client on cfg.
func New(cfg awsapi.Config) *Client { return &Client{awsapi.New(cfg, Service)} }

// Endpoint is where the client sends its requests.
func (c *Client) Endpoint() string { return c.c.Endpoint() }

// InvokeAsync queues an invocation of the function (its name or ARN) with the payload
// (JSON, up to 1 MB) and returns once Lambda has accepted it (202). Lambda then runs it,
// retries it and sends what fails to the function's OnFailure destination, as its
// EventInvokeConfig says.
func (c *Client) InvokeAsync(ctx context.Context, function string, payload []byte) error {
	header := http.Header{
		"Content-Type":          {"application/json"},
		"X-Amz-Invocation-Type": {"Event"},
	}
	return c.c.Post(ctx, "Invoke", "/2015-03-31/functions/"+url.PathEscape(function)+"/invocations", header, payload, nil)
}

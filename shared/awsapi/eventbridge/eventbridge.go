// Package eventbridge is an EventBridge client for PutEvents, in the shapes of the
// SDK's service/eventbridge, over shared/awsapi.
package eventbridge

import (
	"context"

	"github.com/eventhub/eventhub/shared/awsapi"
	"github.com/eventhub/eventhub/shared/awsapi/eventbridge/types"
)

// Service is EventBridge's JSON protocol.
var Service = awsapi.Service{SDKID: "EventBridge", SigningName: "events", TargetPrefix: "AWSEvents", JSONVersion: "1.1"}

// Client calls EventBridge.
type Client struct{ c *awsapi.Client }

// New returns a client on cfg.
func New(cfg awsapi.Config) *Client { return &Client{awsapi.New(cfg, Service)} }

// Endpoint is where the client sends its requests.
func (c *Client) Endpoint() string { return c.c.Endpoint() }

// PutEventsInput is the request of PutEvents.
type PutEventsInput struct {
	Entries    []types.PutEventsRequestEntry
	EndpointId *string `json:",omitempty"`
}

// PutEventsOutput is the answer of PutEvents: one result per entry, in order, and how
// many failed.
type PutEventsOutput struct {
	Entries          []types.PutEventsResultEntry
	FailedEntryCount int32
}

// PutEvents puts up to ten entries on buses.
func (c *Client) PutEvents(ctx context.Context, in *PutEventsInput) (*PutEventsOutput, error) {
	var out PutEventsOutput
	if err := c.c.Do(ctx, "PutEvents", in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

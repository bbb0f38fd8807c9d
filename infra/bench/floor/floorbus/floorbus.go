// Package floorbus makes a cold-start floor's EventBridge requests.
package floorbus

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/eventhub/eventhub/infra/bench/floor"
)

// overhead is about what a request below carries besides the padding.
const overhead = 110

// Do makes one request of r's operation on the bus, about r's size: an entry that no
// rule of eventhub's matches.
func Do(ctx context.Context, c *eventbridge.Client, bus string, r floor.Request) error {
	if r.Op != "PutEvents" {
		return fmt.Errorf("floor: no EventBridge request for %s", r.Op)
	}
	out, err := c.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{
		EventBusName: aws.String(bus),
		Source:       aws.String("bench.floor"),
		DetailType:   aws.String("Floor"),
		Detail:       aws.String(`{"pad":"` + floor.Pad(r, overhead) + `"}`),
	}}})
	if err != nil {
		return fmt.Errorf("floor %s: %w", r, err)
	}
	if out.FailedEntryCount > 0 {
		return fmt.Errorf("floor %s: %d entries failed", r, out.FailedEntryCount)
	}
	return nil
}

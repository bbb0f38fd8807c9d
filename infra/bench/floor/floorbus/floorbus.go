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

// Do sends r's body (floor.Rewrite's) through c as r's operation: the client
// serializes a minimal input of the operation on bus, then sends the body instead.
func Do(ctx context.Context, c *eventbridge.Client, bus string, r floor.Request, body []byte) error {
	if r.Op != "PutEvents" {
		return fmt.Errorf("floor: no EventBridge request for %s", r.Op)
	}
	out, err := c.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{
		EventBusName: aws.String(bus), Source: aws.String("benchfloor"), DetailType: aws.String("Floor"), Detail: aws.String("{}"),
	}}}, func(o *eventbridge.Options) { o.APIOptions = append(o.APIOptions, floor.Body(body)) })
	if err != nil {
		return fmt.Errorf("floor %s: %w", r, err)
	}
	if out.FailedEntryCount > 0 {
		return fmt.Errorf("floor %s: %d entries failed", r, out.FailedEntryCount)
	}
	return nil
}

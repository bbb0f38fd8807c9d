// Command persist is the eventhub function on the Event Normalized rule: it stores each
// event exactly once and puts Event Stored, the public event, on the bus.
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/eventhub/eventhub/shared/boot"
	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/store"
)

func main() {
	var env boot.Env
	table := env.String("TABLE_NAME")
	busName := env.String("EVENT_BUS_NAME")
	api := env.String("EVENTHUB_API_URL")
	retention := env.Days("RETENTION_DAYS", 30)
	env.Check()

	cfg := boot.AWS()
	st := store.New(dynamodb.NewFromConfig(cfg), table, retention)
	h := &handler{
		store:   st,
		claims:  st,
		pub:     bus.NewPublisher(eventbridge.NewFromConfig(cfg), busName, st),
		api:     api,
		now:     time.Now,
		log:     boot.Logger(),
		metrics: boot.Metrics(),

		alerts:     st,
		sourceKeys: newKeyCache(30 * time.Second),
	}
	lambda.Start(h.invoke)
}

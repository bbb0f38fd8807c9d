// Command normalize is the eventhub function on the Event Received rule: it turns what a
// producer sent into the canonical CloudEvent with the format's adapter, checks it
// against the event-type catalog, and puts Event Normalized on the bus for persist, or
// quarantines what cannot be normalized (visible and re-submittable through the API).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/eventhub/eventhub/shared/boot"
	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/catalog"
	"github.com/eventhub/eventhub/shared/ownership"
	"github.com/eventhub/eventhub/shared/sourcemap"
	"github.com/eventhub/eventhub/shared/store"
)

func main() {
	var env boot.Env
	table := env.String("TABLE_NAME")
	busName := env.String("EVENT_BUS_NAME")
	retention := env.Days("RETENTION_DAYS", 30)
	env.Check()

	cfg := boot.AWS()
	st := store.New(dynamodb.NewFromConfig(cfg), table, retention)
	h := &handler{
		claims:     st,
		quarantine: st,
		sources:    store.NewSourceCache(st.GetSource, 30*time.Second, time.Now),
		owners:     ownership.NewIndex(st.Owners, 30*time.Second, time.Now),
		schemas:    catalog.New(st, 5*time.Second, time.Now),
		pub:        bus.NewPublisher(eventbridge.NewFromConfig(cfg), busName, st),
		mappings:   sourcemap.New(st.GetMapping),
		now:        time.Now,
		log:        boot.Logger(),
		metrics:    boot.Metrics(),
	}
	lambda.Start(h.handle)
}

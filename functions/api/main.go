// Command api is eventhub's read and administration API: events with their timelines,
// quarantine, replays, alerts, subscriptions and producer sources, behind the admin
// token.
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/eventhub/eventhub/shared/boot"
	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/store"
)

func main() {
	var env boot.Env
	table := env.String("TABLE_NAME")
	adminHash := env.String("ADMIN_TOKEN_SHA256")
	busName := env.String("EVENT_BUS_NAME")
	retryURL := env.String("RETRY_QUEUE_URL")
	replayURL := env.String("REPLAY_QUEUE_URL")
	retention := env.Days("RETENTION_DAYS", 30)
	env.Check()

	cfg := boot.AWS()
	st := store.New(dynamodb.NewFromConfig(cfg), table, retention)
	h := &handler{
		store: st,
		ev: eventDeps{
			store:     st,
			queue:     sqs.NewFromConfig(cfg),
			pub:       bus.NewPublisher(eventbridge.NewFromConfig(cfg), busName, st),
			retryURL:  retryURL,
			replayURL: replayURL,
		},
		adminHash: adminHash,
		now:       time.Now,
		log:       boot.Logger(),
	}
	lambda.Start(h.handle)
}

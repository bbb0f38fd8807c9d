// Command api is eventhub's read and administration API: events with their timelines,
// quarantine, replays, alerts, subscriptions and producer sources, behind the admin
// token.
package main

import (
	"time"

	lambdago "github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
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
	retention := env.Days("RETENTION_DAYS", 30)
	retryURL := env.String("RETRY_QUEUE_URL")
	dlqURL := env.String("DEAD_LETTER_QUEUE_URL")
	replayURL := env.String("REPLAY_QUEUE_URL")
	pipelineDLQ := env.String("PIPELINE_DEAD_LETTER_QUEUE_URL")
	functions := map[string]string{
		bus.Received:   env.String("NORMALIZE_FUNCTION"),
		bus.Normalized: env.String("PERSIST_FUNCTION"),
		bus.Stored:     env.String("NOTIFY_FUNCTION"),
	}
	env.Check()

	cfg := boot.AWS()
	st := store.New(dynamodb.NewFromConfig(cfg), table, retention)
	queue := sqs.NewFromConfig(cfg)
	h := &handler{
		store:     st,
		adminHash: adminHash,
		now:       time.Now,
		log:       boot.Logger(),
		queues:    deliveryQueues{sqs: queue, retryURL: retryURL, dlqURL: dlqURL},
		pipeline:  pipelineDeps{queue: queue, dlqURL: pipelineDLQ, invoke: lambda.NewFromConfig(cfg), functions: functions},
		ev: eventDeps{
			store:     st,
			queue:     queue,
			pub:       bus.NewPublisher(eventbridge.NewFromConfig(cfg), busName, st),
			retryURL:  retryURL,
			replayURL: replayURL,
		},
	}
	lambdago.Start(h.handle)
}

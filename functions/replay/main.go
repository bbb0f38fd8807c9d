// Command replay is the eventhub function that runs window replays: from the replay
// queue it reads a job's time window page by page, and queues a delivery on notify's
// retry queue for every stored event the job's pattern matches.
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/eventhub/eventhub/shared/boot"
	"github.com/eventhub/eventhub/shared/store"
)

func main() {
	var env boot.Env
	table := env.String("TABLE_NAME")
	retryURL := env.String("RETRY_QUEUE_URL")
	replayURL := env.String("REPLAY_QUEUE_URL")
	retention := env.Days("RETENTION_DAYS", 30)
	env.Check()

	cfg := boot.AWS()
	h := &handler{
		store:     store.New(dynamodb.NewFromConfig(cfg), table, retention),
		queue:     sqs.NewFromConfig(cfg),
		retryURL:  retryURL,
		replayURL: replayURL,
		now:       time.Now,
		log:       boot.Logger(),
	}
	lambda.Start(h.handle)
}

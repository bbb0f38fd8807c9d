// Command api is eventhub's read and administration API: events with their timelines,
// subscriptions and producer sources, behind the admin token.
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
	adminHash := env.String("ADMIN_TOKEN_SHA256")
	retention := env.Days("RETENTION_DAYS", 30)
	retryURL := env.String("RETRY_QUEUE_URL")
	dlqURL := env.String("DEAD_LETTER_QUEUE_URL")
	env.Check()

	cfg := boot.AWS()
	h := &handler{
		store:     store.New(dynamodb.NewFromConfig(cfg), table, retention),
		adminHash: adminHash,
		now:       time.Now,
		log:       boot.Logger(),
		queues:    deliveryQueues{sqs: sqs.NewFromConfig(cfg), retryURL: retryURL, dlqURL: dlqURL},
	}
	lambda.Start(h.handle)
}

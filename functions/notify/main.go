// Command notify is the eventhub function that delivers stored events to subscriptions:
// it runs on the Event Stored rule for first attempts and on the delivery retry queue
// for the rest (and for the operators' retries and a group's hand-overs), keeps the
// endpoints' health, and dead-letters what the retry schedule cannot deliver.
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
	"github.com/eventhub/eventhub/shared/webhook"
)

func main() {
	var env boot.Env
	table := env.String("TABLE_NAME")
	busName := env.String("EVENT_BUS_NAME")
	retryURL := env.String("RETRY_QUEUE_URL")
	dlqURL := env.String("DEAD_LETTER_QUEUE_URL")
	retention := env.Days("RETENTION_DAYS", 30)
	timeout := time.Duration(env.Int("DELIVERY_TIMEOUT_SECONDS", 15)) * time.Second
	allowPrivate := env.Bool("ALLOW_PRIVATE_DESTINATIONS", false)
	allowed, err := webhook.ParseAllowList(env.Optional("ALLOWED_DESTINATIONS", ""))
	if err != nil {
		boot.Fail(err)
	}
	failingPeriod := env.Days("DISABLE_FAILING_AFTER_DAYS", 5)
	env.Check()

	cfg := boot.AWS()
	st := store.New(dynamodb.NewFromConfig(cfg), table, retention)
	h := newHandler(handlerConfig{
		store:         st,
		claims:        st,
		sender:        webhook.NewSender(webhook.Guard{AllowPrivate: allowPrivate, Allow: allowed}),
		queue:         sqs.NewFromConfig(cfg),
		retryURL:      retryURL,
		dlqURL:        dlqURL,
		pub:           bus.NewPublisher(eventbridge.NewFromConfig(cfg), busName, st),
		timeout:       timeout,
		failingPeriod: failingPeriod,
		log:           boot.Logger(),
		metrics:       boot.Metrics(),
		replays:       st,
	})
	lambda.Start(h.handle)
}

// Command ingest is the eventhub function behind POST /events and the producers'
// compatibility routes (BlueKing's /api/v1/events, iuap's sendEventMsg.do): it
// authenticates the producer, reads what it sent with the format's adapter, rejects
// what is wrong with a precise 4xx and hands each request's accepted events to persist
// in one asynchronous invocation.
package main

import (
	"time"

	lambdago "github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/eventhub/eventhub/shared/boot"
	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/store"
)

func main() {
	var env boot.Env
	table := env.String("TABLE_NAME")
	persist := env.String("PERSIST_FUNCTION")
	retention := env.Days("RETENTION_DAYS", 30)
	env.Check()

	cfg := boot.AWS()
	st := store.New(dynamodb.NewFromConfig(cfg), table, retention)
	h := &handler{
		sources: newTokenCache(st, 30*time.Second, time.Now),
		apps:    newAppCache(st, 30*time.Second, time.Now),
		schemas: newCatalog(st, 5*time.Second, time.Now),
		persist: bus.NewHandoff(asyncInvoker{lambda.NewFromConfig(cfg)}, persist, st),
		now:     time.Now,
		log:     boot.Logger(),
	}
	lambdago.Start(h.handle)
}

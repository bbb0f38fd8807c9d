// Command ingest is the eventhub function behind POST /events, POST /hooks/{sourceId}
// (webhook producers authenticated by their signatures) and the producers'
// compatibility routes (BlueKing's /api/v1/events, iuap's sendEventMsg.do): it
// authenticates the producer, checks what it sent with the format's adapter, rejects
// what is wrong with a precise 4xx and puts an Event Received on the bus for each
// accepted event, for normalize.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/eventhub/eventhub/shared/boot"
	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/catalog"
	"github.com/eventhub/eventhub/shared/ownership"
	"github.com/eventhub/eventhub/shared/ratelimit"
	"github.com/eventhub/eventhub/shared/sourcemap"
	"github.com/eventhub/eventhub/shared/store"
)

func main() {
	var env boot.Env
	table := env.String("TABLE_NAME")
	busName := env.String("EVENT_BUS_NAME")
	retention := env.Days("RETENTION_DAYS", 30)
	sampleRate := env.Fraction("TRACE_SAMPLE_RATE", 0)
	env.Check()

	cfg := boot.AWS()
	st := store.New(dynamodb.NewFromConfig(cfg), table, retention)
	h := &handler{
		sources:  newTokenCache(st, 30*time.Second, time.Now),
		byID:     store.NewSourceCache(st.GetSource, 30*time.Second, time.Now),
		apps:     newAppCache(st, 30*time.Second, time.Now),
		owners:   ownership.NewIndex(st.Owners, 30*time.Second, time.Now),
		limits:   ratelimit.New(st, time.Now),
		counts:   st,
		schemas:  catalog.New(st, 5*time.Second, time.Now),
		pub:      bus.NewPublisher(eventbridge.NewFromConfig(cfg), busName, st),
		now:      time.Now,
		mappings: sourcemap.New(nil), // a source's current mapping, on the source
		newID:    randomID,
		log:      boot.Logger(),
		metrics:  boot.Metrics(),
		traces:   sampleRate,
	}
	lambda.Start(h.handle)
}

func randomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

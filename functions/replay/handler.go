package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/eventhub/eventhub/shared/pattern"
	"github.com/eventhub/eventhub/shared/replay"
	"github.com/eventhub/eventhub/shared/store"
)

type replayStore interface {
	GetReplay(ctx context.Context, id string) (*store.Replay, error)
	ListEvents(ctx context.Context, q store.EventQuery) (*store.EventPage, error)
	AdvanceReplay(ctx context.Context, id, from, to string, scanned, queued int) (bool, error)
}

type queueAPI interface {
	replay.BatchAPI
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

type handler struct {
	store     replayStore
	queue     queueAPI
	retryURL  string // notify's delivery retry queue: where deliveries go
	replayURL string // the replay queue: where a scan continues
	now       func() time.Time
	log       *slog.Logger
	pageSize  int           // events read per page; 0 means store.MaxLimit
	reserve   time.Duration // time left when a scan stops and continues in a new message; 0 means 15 s
}

// handle scans the jobs of a batch from the replay queue and reports the messages to
// receive again.
func (h *handler) handle(ctx context.Context, in events.SQSEvent) (events.SQSEventResponse, error) {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	failed := make([]bool, len(in.Records))
	var wg sync.WaitGroup
	for i, rec := range in.Records {
		wg.Go(func() {
			if err := h.scan(ctx, rec); err != nil {
				failed[i] = true
				h.log.ErrorContext(ctx, "replay scan not done, will be received again", "messageId", rec.MessageId, "error", err)
			}
		})
	}
	wg.Wait()
	for i, f := range failed {
		if f {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: in.Records[i].MessageId})
		}
	}
	return resp, nil
}

// scan reads the job's window from where the job stands, page by page, oldest first,
// queues a delivery for every event that matches, and records each page in the job.
// Near the end of the invocation it queues a message to continue. A page recorded by
// another worker (a repeated message) ends this scan: that worker carries on.
func (h *handler) scan(ctx context.Context, rec events.SQSMessage) error {
	var job replay.Job
	if err := json.Unmarshal([]byte(rec.Body), &job); err != nil || job.ReplayID == "" {
		h.log.ErrorContext(ctx, "malformed replay job dropped", "messageId", rec.MessageId, "body", rec.Body)
		return nil
	}
	log := h.log.With("replayId", job.ReplayID)
	r, err := h.store.GetReplay(ctx, job.ReplayID)
	if errors.Is(err, store.ErrNotFound) {
		log.WarnContext(ctx, "replay job gone, message dropped")
		return nil
	}
	if err != nil {
		return err
	}
	if r.ScanDone {
		return nil
	}
	p, err := pattern.Compile([]byte(r.Pattern))
	if err != nil {
		// The API compiled it when it took the job; end the scan rather than loop.
		log.ErrorContext(ctx, "replay pattern does not compile, scan ended", "error", err)
		_, err := h.store.AdvanceReplay(ctx, r.ID, r.Cursor, "", 0, 0)
		return err
	}
	source, typ := replay.Pinned([]byte(r.Pattern))
	reserve := h.reserve
	if reserve == 0 {
		reserve = 15 * time.Second
	}
	for {
		page, err := h.store.ListEvents(ctx, store.EventQuery{
			Source: source, Type: typ, Since: r.Since, Until: r.Until,
			Limit: h.pageSize, Cursor: r.Cursor, Oldest: true,
		})
		if err != nil {
			return err
		}
		var ds []replay.Delivery
		for _, ev := range page.Events {
			ok, err := p.Match(ev.Event)
			if err != nil {
				log.WarnContext(ctx, "stored event does not parse, skipped", "eventKey", ev.Key, "error", err)
				continue
			}
			if ok {
				ds = append(ds, replay.Delivery{Key: ev.Key, SubscriptionID: r.SubscriptionID, DueAt: h.now().UTC(), Replay: r.ID})
			}
		}
		if err := replay.Enqueue(ctx, h.queue, h.retryURL, ds); err != nil {
			return err
		}
		advanced, err := h.store.AdvanceReplay(ctx, r.ID, r.Cursor, page.Cursor, len(page.Events), len(ds))
		if err != nil {
			return err
		}
		if !advanced {
			log.InfoContext(ctx, "page recorded by another worker; it continues the scan")
			return nil
		}
		log.InfoContext(ctx, "replay page queued", "scanned", len(page.Events), "queued", len(ds))
		if page.Cursor == "" {
			return nil
		}
		r.Cursor = page.Cursor
		if dl, ok := ctx.Deadline(); ok && dl.Sub(h.now()) < reserve {
			return h.continueLater(ctx, r.ID)
		}
	}
}

func (h *handler) continueLater(ctx context.Context, id string) error {
	body, err := json.Marshal(replay.Job{ReplayID: id})
	if err != nil {
		return fmt.Errorf("encode replay job: %w", err)
	}
	if _, err := h.queue.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &h.replayURL, MessageBody: ptr(string(body))}); err != nil {
		return fmt.Errorf("continue replay %s: %w", id, err)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

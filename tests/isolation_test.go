package tests

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// happenings is the order in which the isolation test's receivers saw things: a
// hanging request opened or closed (by notify giving up), a healthy delivery.
type happenings struct {
	mu     sync.Mutex
	seq    int
	opened map[int]int // hanging request → seq of its opening
	closed map[int]int // hanging request → seq of its closing
	ok     []int       // seq of each healthy delivery
	next   int         // hanging request ids
}

func (h *happenings) open() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	h.next++
	h.opened[h.next] = h.seq
	return h.next
}

func (h *happenings) close(id int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	h.closed[id] = h.seq
}

func (h *happenings) delivered() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	h.ok = append(h.ok, h.seq)
	return len(h.ok)
}

// TestHangingSubscribersDelayOnlyThemselves: twenty subscriptions whose endpoints
// never answer, and 1,000 events for them, do not delay a healthy subscriber. Shown
// by order, not by timing: every delivery to the healthy subscriber, whose events
// are posted after the 1,000, arrives while hanging attempts are still open (some
// hanging request opened before the last healthy delivery has not been closed by
// then), and long before notify has even tried each hanging subscription once per
// event. Before isolation, each of the 1,000 events held a notify instance for the
// hanging subscriptions' whole timeout, and the healthy events waited behind them.
func TestHangingSubscribersDelayOnlyThemselves(t *testing.T) {
	needStack(t)
	const (
		hangingSubs = 20
		floodEvents = 1000
		healthy     = 20
	)
	seen := &happenings{opened: map[int]int{}, closed: map[int]int{}}
	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := seen.open()
		defer seen.close(id)
		// Read the request whole: only then does the server notice notify closing
		// the connection (r.Context() is cancelled).
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done(): // notify gave up
		case <-release:
		}
	}))
	t.Cleanup(hanging.Close)
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen.delivered() }))
	t.Cleanup(ok.Close)

	// Cleanups run last first: release the hanging requests, delete the
	// subscriptions, then purge what they left on the retry queue (20,000
	// deliveries), so that later tests' retries are not queued behind it.
	t.Cleanup(func() { purgeRetryQueue(t) })
	run := time.Now().UnixNano()
	hangType, okType := fmt.Sprintf("e2e.iso.hang.%d", run), fmt.Sprintf("e2e.iso.ok.%d", run)
	var subs []string
	for i := range hangingSubs {
		// A 10 s timeout: past the first-attempt timeout (2 s), so that the first
		// attempts are handed over; one retry, an hour later.
		s := newSubscription(t, fmt.Sprintf(`{"url":%q,"pattern":{"type":[%q]},"timeout":10,"retry":["1h"]}`, hanging.URL+"/h"+strconv.Itoa(i), hangType))
		subs = append(subs, s.ID)
	}
	newSubscription(t, fmt.Sprintf(`{"url":%q,"pattern":{"type":[%q]}}`, ok.URL, okType))
	t.Cleanup(func() { close(release) })

	batch := func(typ string, from, n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(`{"specversion":"1.0","id":"%s-%d","source":"/e2e/isolation","type":%q}`, typ, from+i, typ)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	for from := 0; from < floodEvents; from += 100 {
		if status, raw := send(t, http.MethodPost, "/events", producer, "application/cloudevents-batch+json", []byte(batch(hangType, from, 100))); status != http.StatusAccepted {
			t.Fatalf("POST /events (flood) = %d %s", status, raw)
		}
	}
	if status, raw := send(t, http.MethodPost, "/events", producer, "application/cloudevents-batch+json", []byte(batch(okType, 0, healthy))); status != http.StatusAccepted {
		t.Fatalf("POST /events (healthy) = %d %s", status, raw)
	}
	eventually(t, 3*time.Minute, "the healthy subscriber's deliveries", func() bool {
		seen.mu.Lock()
		defer seen.mu.Unlock()
		return len(seen.ok) >= healthy
	})

	seen.mu.Lock()
	defer seen.mu.Unlock()
	last := seen.ok[healthy-1]
	open := 0
	for id, at := range seen.opened {
		if c, done := seen.closed[id]; at < last && (!done || c > last) {
			open++
		}
	}
	if open == 0 {
		t.Errorf("no hanging attempt was open when the last healthy delivery arrived (%d opened, %d closed before it)", len(seen.opened), len(seen.closed))
	}
	attempted := 0
	for _, at := range seen.opened {
		if at < last {
			attempted++
		}
	}
	if attempted >= hangingSubs*floodEvents {
		t.Errorf("the healthy deliveries came after %d hanging attempts: after every hanging delivery had been tried", attempted)
	}
	t.Logf("when the last healthy delivery arrived: %d hanging attempts made, %d of them open", attempted, open)
}

// purgeRetryQueue empties the delivery retry queue and waits, at most a minute, for
// the messages in flight to be done. The package's tests run one after another, so
// the queue holds only this test's messages and retries of deleted subscriptions.
func purgeRetryQueue(t *testing.T) {
	url := local.Queues["DeliveryRetryQueue"].URL
	ctx := context.Background()
	if _, err := local.SQSClient.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: &url}); err != nil {
		t.Errorf("purge the retry queue: %v", err)
		return
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		out, err := local.SQSClient.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
		})
		if err != nil {
			t.Errorf("retry queue attributes: %v", err)
			return
		}
		if out.Attributes["ApproximateNumberOfMessages"] == "0" && out.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0" {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Errorf("the retry queue still holds messages a minute after it was purged")
}

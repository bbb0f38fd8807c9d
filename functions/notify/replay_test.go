package main

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/eventhub/eventhub/shared/store"
	"github.com/eventhub/eventhub/shared/webhook"
)

// fakeReplays is a replayStore in memory: a delivery is claimed once, and finished
// ones are recorded.
type fakeReplays struct {
	mu       sync.Mutex
	state    map[string]string // replay + key + sub → "inflight" or "finished"
	finished []replayFinish
}

type replayFinish struct {
	replayID, key, subID string
	ok                   bool
	entry                store.TimelineEntry
}

func (f *fakeReplays) ClaimReplayDelivery(_ context.Context, replayID, key, subID string, _ time.Duration) (bool, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := replayID + " " + key + " " + subID
	switch f.state[id] {
	case "inflight":
		return false, false, nil
	case "finished":
		return false, true, nil
	}
	f.state[id] = "inflight"
	return true, false, nil
}

func (f *fakeReplays) FinishReplayDelivery(_ context.Context, replayID, key, subID string, ok bool, e store.TimelineEntry) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state[replayID+" "+key+" "+subID] = "finished"
	f.finished = append(f.finished, replayFinish{replayID, key, subID, ok, e})
	return nil
}

func replayBody(replayID, k, subID string) string {
	b, _ := json.Marshal(retryMessage{Key: k, SubscriptionID: subID, DueAt: now, Replay: replayID})
	return string(b)
}

func TestReplayDeliversOnceWithTheOriginalWebhookID(t *testing.T) {
	disabled := sub("sub_off", `{}`)
	disabled.Enabled = false
	r := newRig(sub("sub_a", `{"type":["other"]}`), disabled)
	rp := &fakeReplays{state: map[string]string{}}
	r.h.replays = rp
	r.sender.send = func(context.Context, webhook.Message) webhook.Result {
		return webhook.Result{Status: 200, Latency: 7 * time.Millisecond, Response: `{"ok":true}`}
	}
	failed := r.runBatch(t,
		record{"m1", replayBody("rpl_1", key, "sub_a")},
		record{"m2", replayBody("rpl_1", key, "sub_off")},
		record{"m3", replayBody("rpl_1", key, "sub_gone")},
		record{"m4", replayBody("rpl_1", "evt_aaaaaaaaaaaaaaaaaaaaaaaaaa", "sub_a")},
	)
	if len(failed) != 0 {
		t.Fatalf("failed messages = %v; want none", failed)
	}
	// Replays go to the named subscription whatever its pattern says.
	sent := r.sender.messages()
	if len(sent) != 1 || sent[0].URL != "https://hooks.example.com/sub_a" || sent[0].ID != webhookID(key, "sub_a") || string(sent[0].Body) != event {
		t.Fatalf("sent %+v; want the event once to sub_a with webhook-id %s", sent, webhookID(key, "sub_a"))
	}
	outcomes := map[string]replayFinish{}
	for _, f := range rp.finished {
		outcomes[f.subID+" "+f.key] = f
	}
	for name, want := range map[string]struct {
		ok    bool
		error string
	}{
		"sub_a " + key:                         {true, ""},
		"sub_off " + key:                       {false, "subscription is disabled"},
		"sub_gone " + key:                      {false, "subscription deleted"},
		"sub_a evt_aaaaaaaaaaaaaaaaaaaaaaaaaa": {false, "event expired"},
	} {
		f, ok := outcomes[name]
		if !ok || f.ok != want.ok || f.entry.Error != want.error || f.entry.Stage != store.StageReplay || f.replayID != "rpl_1" {
			t.Errorf("%s finished as %+v; want ok %v, error %q, a replay entry", name, f, want.ok, want.error)
		}
	}
	if e := outcomes["sub_a "+key].entry; e.Status != 200 || e.LatencyMs != 7 || e.Response != `{"ok":true}` || e.Outcome != store.DeliveryDelivered {
		t.Errorf("timeline entry = %+v; want status, latency, response and outcome", e)
	}
	if len(r.st.claimed) != 0 || len(r.st.finished) != 0 || len(r.queue.sent) != 0 {
		t.Errorf("replay touched the retry chain: claims %v, finishes %v, queued %d", r.st.claimed, r.st.finished, len(r.queue.sent))
	}

	// The same message again (SQS delivers at least once) sends nothing.
	if failed := r.runBatch(t, record{"m1", replayBody("rpl_1", key, "sub_a")}); len(failed) != 0 {
		t.Fatalf("failed = %v", failed)
	}
	if n := len(r.sender.messages()); n != 1 {
		t.Errorf("sent %d messages after a repeated replay message; want 1", n)
	}
}

func TestReplayHeldElsewhereIsReceivedAgain(t *testing.T) {
	r := newRig(sub("sub_a", `{}`))
	rp := &fakeReplays{state: map[string]string{"rpl_1 " + key + " sub_a": "inflight"}}
	r.h.replays = rp
	failed := r.runBatch(t, record{"m1", replayBody("rpl_1", key, "sub_a")})
	if !slices.Equal(failed, []string{"m1"}) || len(r.sender.messages()) != 0 {
		t.Errorf("failed = %v, sent %d; want m1 received again and nothing sent", failed, len(r.sender.messages()))
	}
}

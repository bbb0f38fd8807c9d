package tests

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventhub/eventhub/infra/smoke"
)

// TestSmoke runs make smoke's checks against the local stack, with a receiver on
// 127.0.0.1, so that the checks a user runs against a deployed stack stay true.
func TestSmoke(t *testing.T) {
	needStack(t)
	var mu sync.Mutex
	var got []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, string(body))
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	var log strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	checks, err := smoke.Run(ctx, smoke.Config{API: local.APIURL, AdminToken: local.AdminToken, Receiver: recv.URL + "/hook", Wait: time.Minute, Log: &log})
	if err != nil {
		t.Fatalf("smoke: %v\n%s", err, log.String())
	}
	// Every format sent and read back, the delivery, the trace, the cleanup.
	if len(checks) != 22 {
		t.Errorf("%d checks ran; want 22:\n%s", len(checks), log.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || !strings.Contains(got[0], `"type":"eventhub.smoke.delivery"`) {
		t.Errorf("the receiver got %q; want the smoke event once", got)
	}
	t.Logf("smoke checks:\n%s", log.String())
}

package tests

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestSubscriptionsMaxAge checks the bound on staleness of the subscriptions a warm
// notify matches events against, with the template's default of 1 s: a subscription
// created, or disabled, is seen by events matched 1 s after the change.
func TestSubscriptionsMaxAge(t *testing.T) {
	needStack(t)
	const maxAge = time.Second
	notify, err := local.FunctionWith("NotifyFunction", fmt.Sprintf("SUBSCRIPTIONS_MAX_AGE_SECONDS=%d", maxAge/time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = notify.Close() })
	typ := fmt.Sprintf("e2e.maxage.%d", time.Now().UnixNano())
	n := 0
	deliver := func() {
		t.Helper()
		n++
		_, payload := storedInvocation(fmt.Sprintf("%s-%d", typ, n), typ)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := notify.Invoke(ctx, payload); err != nil {
			t.Fatalf("invoke notify: %v", err)
		}
	}
	a, b := newHook(t, status(200)), newHook(t, status(200))
	subA := newSubscription(t, fmt.Sprintf(`{"url":%q,"pattern":{"type":[%q]}}`, a.URL, typ))
	a.verifyWith(subA.Secret)
	deliver() // the warm instance reads the subscriptions
	subB := newSubscription(t, fmt.Sprintf(`{"url":%q,"pattern":{"type":[%q]}}`, b.URL, typ))
	b.verifyWith(subB.Secret)
	time.Sleep(maxAge + 100*time.Millisecond) // the bound: what this test checks
	deliver()
	if len(a.requests()) != 2 || len(b.requests()) != 1 {
		t.Fatalf("%s after a new subscription: A got %d, B %d requests; want 2 and 1", maxAge, len(a.requests()), len(b.requests()))
	}
	if status := call(t, http.MethodPost, "/subscriptions/"+subA.ID+"/disable", local.AdminToken, "", nil); status != http.StatusOK {
		t.Fatalf("disable = %d", status)
	}
	time.Sleep(maxAge + 100*time.Millisecond)
	deliver()
	if len(a.requests()) != 2 || len(b.requests()) != 2 {
		t.Errorf("%s after disabling A: A got %d, B %d requests; want 2 and 2", maxAge, len(a.requests()), len(b.requests()))
	}
}

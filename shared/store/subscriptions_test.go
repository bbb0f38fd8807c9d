package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/store"
)

// Every change of a subscription increments the subscriptions' version, and so does
// a change of an endpoint's health; reads and repeated health notes do not.
func TestSubscriptionsVersion(t *testing.T) {
	c := newClock(t0)
	st := newStore(t, c)
	ctx := context.Background()
	version := func() int64 {
		t.Helper()
		v, err := st.SubscriptionsVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := version(); v != 0 {
		t.Fatalf("version of no subscriptions = %d; want 0", v)
	}
	sub := store.Subscription{ID: "sub_1", Name: "a", URL: "https://hooks.example.com/", Mode: store.ModeCloudEvents, Enabled: true, Secrets: []string{"whsec_x"}, CreatedAt: t0, UpdatedAt: t0}
	steps := []struct {
		name   string
		do     func() error
		bumped bool
	}{
		{"create", func() error { return st.CreateSubscription(ctx, sub) }, true},
		{"create again", func() error {
			if err := st.CreateSubscription(ctx, sub); !fault.Is(err, fault.Conflict) {
				return errors.Join(errors.New("want a conflict"), err)
			}
			return nil
		}, false},
		{"read", func() error { _, err := st.ListSubscriptions(ctx); return err }, false},
		{"update", func() error {
			next := sub
			next.Name, next.UpdatedAt = "b", t0.Add(time.Second)
			return st.UpdateSubscription(ctx, next, t0)
		}, true},
		{"stale update", func() error {
			if err := st.UpdateSubscription(ctx, sub, t0); !fault.Is(err, fault.Conflict) {
				return errors.Join(errors.New("want a conflict"), err)
			}
			return nil
		}, false},
		{"first failure", func() error { _, err := st.NoteFailure(ctx, sub.ID, t0.Add(time.Minute)); return err }, true},
		{"second failure", func() error { _, err := st.NoteFailure(ctx, sub.ID, t0.Add(2*time.Minute)); return err }, false},
		{"success", func() error { return st.NoteSuccess(ctx, sub.ID) }, true},
		{"another success", func() error { return st.NoteSuccess(ctx, sub.ID) }, false},
		{"disable", func() error { _, err := st.DisableSubscription(ctx, sub.ID, store.DisabledGone, t0); return err }, true},
		{"disable again", func() error { _, err := st.DisableSubscription(ctx, sub.ID, store.DisabledGone, t0); return err }, false},
		{"delete", func() error { return st.DeleteSubscription(ctx, sub.ID) }, true},
		{"delete again", func() error {
			if err := st.DeleteSubscription(ctx, sub.ID); !errors.Is(err, store.ErrNotFound) {
				return errors.Join(errors.New("want not found"), err)
			}
			return nil
		}, false},
	}
	for _, s := range steps {
		before := version()
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if after := version(); (after > before) != s.bumped || after > before+1 {
			t.Errorf("%s: version %d → %d; want it incremented: %v", s.name, before, after, s.bumped)
		}
	}
}

package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/eventhub/eventhub/shared/store"
)

// bkSignal is what persist reads from a BlueKing event for host 10.0.0.1's CPU alert.
func bkSignal(eventKey, status string, severity int, at time.Time) store.Signal {
	return store.Signal{
		EventKey: eventKey, Source: "bkmonitor/data-1001",
		Keys: map[string]string{"alert_name": "CPU使用率过高", "target": "10.0.0.1"},
		Name: "CPU使用率过高", Status: status, Severity: severity, At: at,
	}
}

// foldAll stores and folds each signal in turn.
func foldAll(t *testing.T, st *store.Store, sigs ...store.Signal) *store.Alert {
	t.Helper()
	var a *store.Alert
	for _, sig := range sigs {
		ev := event("bkmonitor/data-1001", sig.EventKey, "bkmonitor.alert", "", sig.At)
		sig.EventKey = ev.Key
		put(t, st, ev)
		var err error
		if a, err = st.FoldAlert(context.Background(), sig); err != nil {
			t.Fatalf("FoldAlert(%s %s) = %v", ev.ID, sig.Status, err)
		}
	}
	return a
}

func TestFoldBlueKingSequence(t *testing.T) {
	c := newClock(t0.Add(time.Hour))
	st := newStore(t, c)
	ctx := context.Background()
	a := foldAll(t, st,
		bkSignal("event-001", "ABNORMAL", 2, t0),
		bkSignal("event-002", "", 2, t0.Add(time.Minute)), // status defaults to ABNORMAL
		bkSignal("event-003", "ABNORMAL", 1, t0.Add(2*time.Minute)),
		bkSignal("event-004", "RECOVERED", 1, t0.Add(3*time.Minute)),
	)
	if a.Count != 4 || a.Status != store.AlertRecovered {
		t.Fatalf("alert = count %d, status %s; want 4, RECOVERED", a.Count, a.Status)
	}
	if !a.FirstSeen.Equal(t0) || !a.LastSeen.Equal(t0.Add(3*time.Minute)) || !a.ResolvedAt.Equal(t0.Add(3*time.Minute)) {
		t.Errorf("first, last seen, resolved = %v, %v, %v; want %v, %v, %v", a.FirstSeen, a.LastSeen, a.ResolvedAt, t0, t0.Add(3*time.Minute), t0.Add(3*time.Minute))
	}
	if a.Severity != 1 || len(a.SeverityChanges) != 1 || a.SeverityChanges[0].From != 2 || a.SeverityChanges[0].To != 1 {
		t.Errorf("severity = %d, changes %+v; want 1 after one change from 2 to 1", a.Severity, a.SeverityChanges)
	}
	if a.DedupeKeys["target"] != "10.0.0.1" || a.Name != "CPU使用率过高" || len(a.Events) != 4 {
		t.Errorf("alert = %+v; want its keys, name and four events", a)
	}
	// One alert in all; each raw event is stored and points at it.
	page, err := st.ListAlerts(ctx, store.AlertQuery{})
	if err != nil || len(page.Alerts) != 1 || page.Alerts[0].ID != a.ID {
		t.Fatalf("ListAlerts = %+v, %v; want the one alert", page, err)
	}
	for _, key := range a.Events {
		ev, err := st.GetEvent(ctx, key)
		if err != nil || ev.AlertID != a.ID {
			t.Errorf("event %s = %+v, %v; want it stored with alertId %s", key, ev, err, a.ID)
		}
	}
	got, err := st.GetAlert(ctx, a.ID)
	if err != nil || got.Count != 4 || got.Status != store.AlertRecovered {
		t.Errorf("GetAlert = %+v, %v; want count 4, RECOVERED", got, err)
	}
	for status, want := range map[string]int{store.AlertAbnormal: 0, store.AlertRecovered: 1, store.AlertClosed: 0} {
		page, err := st.ListAlerts(ctx, store.AlertQuery{Status: status})
		if err != nil || len(page.Alerts) != want {
			t.Errorf("ListAlerts(%s) = %d alerts, %v; want %d", status, len(page.Alerts), err, want)
		}
	}

	t.Run("a repeated fold counts once", func(t *testing.T) {
		_, err := st.FoldAlert(ctx, bkSignal(a.Events[1], "ABNORMAL", 2, t0.Add(time.Minute)))
		if !errors.Is(err, store.ErrAlreadyFolded) {
			t.Errorf("FoldAlert(again) error = %v; want ErrAlreadyFolded", err)
		}
		if got, _ := st.GetAlert(ctx, a.ID); got.Count != 4 {
			t.Errorf("count = %d after a repeated fold; want 4", got.Count)
		}
	})
	t.Run("a late ABNORMAL joins the resolved alert", func(t *testing.T) {
		late := foldAll(t, st, bkSignal("event-005", "ABNORMAL", 1, t0.Add(150*time.Second)))
		if late.ID != a.ID || late.Count != 5 || late.Status != store.AlertRecovered {
			t.Errorf("alert = %s count %d %s; want %s count 5 still RECOVERED", late.ID, late.Count, late.Status, a.ID)
		}
	})
	t.Run("CLOSED after RECOVERED moves the state on", func(t *testing.T) {
		closed := foldAll(t, st, bkSignal("event-006", "CLOSED", 0, t0.Add(4*time.Minute)))
		if closed.ID != a.ID || closed.Status != store.AlertClosed || closed.Count != 6 {
			t.Errorf("alert = %s count %d %s; want %s count 6 CLOSED", closed.ID, closed.Count, closed.Status, a.ID)
		}
	})
	t.Run("a new ABNORMAL opens a new alert", func(t *testing.T) {
		next := foldAll(t, st, bkSignal("event-007", "ABNORMAL", 3, t0.Add(10*time.Minute)))
		if next.ID == a.ID || next.Count != 1 || next.Status != store.AlertAbnormal {
			t.Errorf("alert = %s count %d %s; want a new open alert", next.ID, next.Count, next.Status)
		}
		open, _ := st.ListAlerts(ctx, store.AlertQuery{Status: store.AlertAbnormal})
		if len(open.Alerts) != 1 || open.Alerts[0].ID != next.ID {
			t.Errorf("open alerts = %+v; want %s", open.Alerts, next.ID)
		}
	})
	t.Run("other key values fold apart", func(t *testing.T) {
		sig := bkSignal("event-008", "ABNORMAL", 2, t0.Add(11*time.Minute))
		sig.Keys = map[string]string{"alert_name": "CPU使用率过高", "target": "10.0.0.2"}
		other := foldAll(t, st, sig)
		if other.Fingerprint == a.Fingerprint || other.Count != 1 {
			t.Errorf("alert for another target = %+v; want its own", other)
		}
	})
	t.Run("unknown alert id", func(t *testing.T) {
		for _, id := range []string{"alr_x", "alr_" + a.Fingerprint + "_99", "evt_1"} {
			if _, err := st.GetAlert(ctx, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("GetAlert(%s) error = %v; want ErrNotFound", id, err)
			}
		}
	})
}

// TestFoldConcurrently folds 20 events of one alert from 20 goroutines, as concurrent
// persist invocations would: every event is counted once.
func TestFoldConcurrently(t *testing.T) {
	c := newClock(t0.Add(time.Hour))
	st := newStore(t, c)
	ctx := context.Background()
	var sigs []store.Signal
	for i := range 20 {
		sig := bkSignal(fmt.Sprintf("c-%02d", i), "ABNORMAL", 2, t0.Add(time.Duration(i)*time.Second))
		ev := event("bkmonitor/data-1001", sig.EventKey, "bkmonitor.alert", "", sig.At)
		put(t, st, ev)
		sig.EventKey = ev.Key
		sigs = append(sigs, sig)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(sigs))
	for i, sig := range sigs {
		wg.Go(func() {
			_, errs[i] = st.FoldAlert(ctx, sig)
			if errors.Is(errs[i], store.ErrAlreadyFolded) {
				errs[i] = nil
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	page, err := st.ListAlerts(ctx, store.AlertQuery{})
	if err != nil || len(page.Alerts) != 1 || page.Alerts[0].Count != 20 {
		t.Fatalf("alerts = %+v, %v; want one with count 20", page, err)
	}
}

// TestAlertOfOldEventsIsKept folds an event whose producer time is a year old: the
// alert lives as long as the events stored now.
func TestAlertOfOldEventsIsKept(t *testing.T) {
	st := newStore(t, newClock(t0))
	a := foldAll(t, st, bkSignal("old-1", "ABNORMAL", 2, t0.AddDate(-1, 0, 0)))
	page, err := st.ListAlerts(context.Background(), store.AlertQuery{Status: store.AlertAbnormal})
	if err != nil || len(page.Alerts) != 1 || page.Alerts[0].ID != a.ID {
		t.Errorf("ListAlerts = %+v, %v; want the alert", page, err)
	}
}

func TestSourceDedupeKeys(t *testing.T) {
	st := newStore(t, newClock(t0))
	ctx := context.Background()
	keys, err := st.SourceDedupeKeys(ctx, "src_unknown")
	if err != nil || len(keys) != 0 {
		t.Errorf("SourceDedupeKeys(unknown) = %v, %v; want none", keys, err)
	}
	if err := st.CreateSource(ctx, store.Source{ID: "src_1", Name: "bk", Format: "bkmonitor", Enabled: true, TokenHash: "h1"}); err != nil {
		t.Fatal(err)
	}
	keys, err = st.SourceDedupeKeys(ctx, "src_1")
	if err != nil || len(keys) != 0 {
		t.Errorf("SourceDedupeKeys(src_1) = %v, %v; want none declared", keys, err)
	}
	// A source that declares keys (the registry stores them as dedupeKeys).
	item, _ := attributevalue.MarshalMap(map[string]any{"pk": "SRCS", "sk": "src_2", "id": "src_2", "dedupeKeys": []string{"alert_name", "tags.host"}})
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.Table()), Item: item}); err != nil {
		t.Fatal(err)
	}
	keys, err = st.SourceDedupeKeys(ctx, "src_2")
	if err != nil || strings.Join(keys, ",") != "alert_name,tags.host" {
		t.Errorf("SourceDedupeKeys(src_2) = %v, %v; want [alert_name tags.host]", keys, err)
	}
}

// TestFingerprintPerProducer: the same keys under the same CloudEvents source fold
// apart when two producer sources send them.
func TestFingerprintPerProducer(t *testing.T) {
	keys := map[string]string{"alert_name": "CPU", "target": "10.0.0.1"}
	a := store.Signal{SourceID: "src_a", Source: "bkmonitor", Keys: keys}
	b := store.Signal{SourceID: "src_b", Source: "bkmonitor", Keys: keys}
	if a.Fingerprint() == b.Fingerprint() {
		t.Fatal("two producers' alerts share a fingerprint")
	}
	if a.Fingerprint() != (store.Signal{SourceID: "src_a", Source: "bkmonitor", Keys: keys, Status: "RECOVERED"}).Fingerprint() {
		t.Fatal("the fingerprint depends on more than producer, source and keys")
	}
}

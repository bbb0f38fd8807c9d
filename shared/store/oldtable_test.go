package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventhub/eventhub/infra/local/emulators"
	"github.com/eventhub/eventhub/infra/local/template"
	"github.com/eventhub/eventhub/shared/store"
)

// TestOldTableIndexesReplaced: a local table made from an older template (indexes
// sorted by gsi1sk/gsi2sk/gsi3sk, projecting ALL) gets the template's indexes when the
// local stack starts again, and what is stored then is listed. It has a DynamoDB Local
// of its own: index changes wait on the emulator's index builds, which take seconds
// each in one that holds the other tests' tables.
func TestOldTableIndexesReplaced(t *testing.T) {
	if admin == nil {
		t.Skip("integration: needs DynamoDB Local (not started with -short)")
	}
	root, _ := filepath.Abs("../..")
	dyn, err := emulators.StartDynamoDB(context.Background(), emulators.DynamoConfig{RepoRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	defer dyn.Stop()
	admin := emulators.NewDynamoClient(dyn.Endpoint, "us-east-1")
	db := functionDB(dyn.Endpoint)
	var old []template.Table
	for _, tb := range tables {
		o := tb
		o.AttributeDefinitions = nil
		for _, a := range tb.AttributeDefinitions {
			if a.AttributeName != "gsisk" {
				o.AttributeDefinitions = append(o.AttributeDefinitions, a)
			}
		}
		o.GlobalSecondaryIndexes = nil
		for i, g := range tb.GlobalSecondaryIndexes {
			sk := fmt.Sprintf("gsi%dsk", i+1)
			o.AttributeDefinitions = append(o.AttributeDefinitions, template.AttributeDefinition{AttributeName: sk, AttributeType: "S"})
			g.KeySchema = []template.KeyElement{g.KeySchema[0], {AttributeName: sk, KeyType: "RANGE"}}
			g.Projection = template.Projection{ProjectionType: "ALL"}
			o.GlobalSecondaryIndexes = append(o.GlobalSecondaryIndexes, g)
		}
		old = append(old, o)
	}
	names := map[string]string{}
	for _, tb := range tables {
		names[tb.LogicalID] = fmt.Sprintf("store-test-%d-old-%s", nextID.Add(1), tb.LogicalID)
	}
	ctx := context.Background()
	if err := emulators.CreateTables(ctx, admin, old, names); err != nil {
		t.Fatalf("create the old table: %v", err)
	}
	start := time.Now()
	if err := emulators.CreateTables(ctx, admin, tables, names); err != nil {
		t.Fatalf("CreateTables over the old table: %v", err)
	}
	t.Logf("indexes replaced in %v", time.Since(start))
	c := newClock(t0.Add(time.Hour))
	st := store.New(db, names["EventsTable"], 30*24*time.Hour).WithClock(c.now)
	ev := event("/shop/orders", "after-upgrade", "order.created", "", t0)
	put(t, st, ev)
	for _, q := range []store.EventQuery{{}, {Source: "/shop/orders"}, {Type: "order.created"}} {
		page, err := st.ListEvents(ctx, q)
		if err != nil || len(page.Events) != 1 || page.Events[0].Key != ev.Key {
			t.Errorf("ListEvents(%+v) = %+v, %v; want the event", q, page, err)
		}
	}
}

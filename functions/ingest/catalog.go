package main

import (
	"context"
	"sync"
	"time"

	"github.com/eventhub/eventhub/shared/schema"
	"github.com/eventhub/eventhub/shared/store"
)

type typeStore interface {
	ListTypes(ctx context.Context) ([]store.EventType, error)
}

// catalog keeps the event-type catalog's compiled schemas, read whole at most once per
// ttl: one query per warm function and ttl, however many types a request names. A
// schema change reaches ingest within ttl.
type catalog struct {
	st  typeStore
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	schemas map[string]*schema.Schema
	exp     time.Time
}

func newCatalog(st typeStore, ttl time.Duration, now func() time.Time) *catalog {
	return &catalog{st: st, ttl: ttl, now: now}
}

// Schema returns the schema of the type, or nil when it has none or is not in the
// catalog.
func (c *catalog) Schema(ctx context.Context, eventType string) (*schema.Schema, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.schemas == nil || !now.Before(c.exp) {
		types, err := c.st.ListTypes(ctx)
		if err != nil {
			return nil, err
		}
		schemas := map[string]*schema.Schema{}
		for _, t := range types {
			if t.Schema == "" {
				continue
			}
			// The api compiled it before storing it; a schema that no longer compiles
			// (an older eventhub's) is not enforced rather than blocking its type.
			if s, err := schema.Compile([]byte(t.Schema), "schema"); err == nil {
				schemas[t.Type] = s
			}
		}
		c.schemas, c.exp = schemas, now.Add(c.ttl)
	}
	return c.schemas[eventType], nil
}

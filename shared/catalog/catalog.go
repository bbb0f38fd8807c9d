// Package catalog checks events against the event-type catalog: it keeps each warm
// function's copy of the catalog's compiled schemas and validates an event's data
// against its type's schema, for ingest (a precise 4xx) and normalize (quarantine).
package catalog

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/store"
)

// TypeStore lists the catalog's types.
type TypeStore interface {
	ListTypes(ctx context.Context) ([]store.EventType, error)
}

// Cache keeps the event-type catalog's compiled schemas, read whole at most once per
// ttl: one query per warm function and ttl, however many types a request names. A
// schema change reaches a function within ttl.
type Cache struct {
	st  TypeStore
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	schemas map[string]*Schema
	exp     time.Time
}

// New returns a cache over st.
func New(st TypeStore, ttl time.Duration, now func() time.Time) *Cache {
	return &Cache{st: st, ttl: ttl, now: now}
}

// Schema returns the schema of the type, or nil when it has none or is not in the
// catalog.
func (c *Cache) Schema(ctx context.Context, eventType string) (*Schema, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.schemas == nil || !now.Before(c.exp) {
		types, err := c.st.ListTypes(ctx)
		if err != nil {
			return nil, err
		}
		schemas := map[string]*Schema{}
		for _, t := range types {
			if t.Schema == "" {
				continue
			}
			// The api compiled it before storing it; a schema that no longer compiles
			// (an older eventhub's) is not enforced rather than blocking its type.
			if s, err := CompileSchema([]byte(t.Schema), "schema"); err == nil {
				schemas[t.Type] = s
			}
		}
		c.schemas, c.exp = schemas, now.Add(c.ttl)
	}
	return c.schemas[eventType], nil
}

// Lookup returns the schema of a type, or nil.
type Lookup interface {
	Schema(ctx context.Context, eventType string) (*Schema, error)
}

// ErrUnavailable marks a catalog that could not be read: the caller fails (and is
// retried) rather than letting events bypass their type's schema.
var ErrUnavailable = errors.New("event-type catalog unavailable")

// Check validates the event's data against its type's schema. A violation is a
// *fault.Error naming the failing path; an unreadable catalog wraps ErrUnavailable.
// A nil lookup checks nothing.
func Check(ctx context.Context, l Lookup, ev *cloudevent.Event) error {
	if l == nil {
		return nil
	}
	s, err := l.Schema(ctx, ev.Type)
	if err != nil {
		return errors.Join(ErrUnavailable, err)
	}
	if s == nil {
		return nil
	}
	if ev.DataBase64 != "" {
		return fault.At("data_base64", "type %q has a schema: send the data as JSON", ev.Type)
	}
	data := ev.Data
	if data == nil {
		data = []byte("null")
	}
	if err := s.Validate(data, "data"); err != nil {
		if e, ok := fault.As(err); ok {
			c := *e
			c.Message = c.Message + " (schema of type " + ev.Type + ")"
			return &c
		}
		return err
	}
	return nil
}

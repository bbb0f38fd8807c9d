// Package sourcemap finds the mapping (shared/mapping) that reads a source's events:
// the source's own mapping document at the version an event was received under,
// compiled once per version (a version never changes), or the preset its format
// names.
package sourcemap

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/mapping"
	"github.com/eventhub/eventhub/shared/store"
)

// Loader reads a saved version of a source's mapping (store.Store.GetMapping).
type Loader func(ctx context.Context, sourceID string, version int64) (*store.MappingVersion, error)

// Cache keeps compiled mappings by source and version. The zero value, with no
// loader, serves the sources' current versions and the presets.
type Cache struct {
	load Loader

	mu       sync.Mutex
	compiled map[key]*mapping.Mapping
}

type key struct {
	sourceID string
	version  int64
}

// maxCached bounds the compiled mappings kept; past it the cache starts again.
const maxCached = 1024

// New returns a cache that reads versions other than a source's current one with load.
func New(load Loader) *Cache { return &Cache{load: load} }

// Version is the mapping version an event of the source is received under now: its
// current one, or 0 when it has no mapping of its own.
func Version(src *store.Source) int64 {
	if len(src.Mapping) == 0 {
		return 0
	}
	return src.MappingVersion
}

// For returns the mapping that reads an event of src of the format received under the
// source's mapping version v: version v of the source's own mapping when v > 0, else
// the preset the format names, else nil (the format's adapter reads it). A saved
// version that cannot be read or no longer compiles is a fault.Invalid saying so.
func (c *Cache) For(ctx context.Context, src *store.Source, format string, v int64) (*mapping.Mapping, error) {
	if v <= 0 {
		if m, ok := mapping.Preset(format); ok {
			return m, nil
		}
		return nil, nil
	}
	k := key{src.ID, v}
	c.mu.Lock()
	m, ok := c.compiled[k]
	c.mu.Unlock()
	if ok {
		return m, nil
	}
	var doc json.RawMessage
	switch {
	case v == src.MappingVersion && len(src.Mapping) > 0:
		doc = src.Mapping
	case c.load != nil:
		mv, err := c.load(ctx, src.ID, v)
		if err != nil {
			if e, ok := fault.As(err); ok && e.Code == fault.NotFound {
				return nil, fault.New(fault.Invalid, "mapping version %d of source %s is not saved", v, src.ID)
			}
			return nil, err
		}
		doc = mv.Mapping
	default:
		return nil, fault.New(fault.Invalid, "mapping version %d of source %s is not its current one (%d)", v, src.ID, src.MappingVersion)
	}
	m, err := mapping.Compile(doc)
	if err != nil {
		return nil, fault.New(fault.Invalid, "mapping version %d of source %s does not compile: %v", v, src.ID, err)
	}
	c.mu.Lock()
	if c.compiled == nil || len(c.compiled) >= maxCached {
		c.compiled = map[key]*mapping.Mapping{}
	}
	c.compiled[k] = m
	c.mu.Unlock()
	return m, nil
}

// Headers returns the values of the request headers the mapping reads, by lower-case
// name: what ingest carries to normalize (bus.Hub.Headers), nothing else.
func Headers(m *mapping.Mapping, header func(name string) string) map[string]string {
	var out map[string]string
	for _, name := range m.Headers() {
		if v := header(name); v != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[name] = v
		}
	}
	return out
}

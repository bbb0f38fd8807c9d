package sourcemap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/store"
)

// TestFor: a source's current version is compiled from the source, others are loaded
// once each (versions never change); without a version the format's preset, or no
// mapping; a version that is not saved, or no longer compiles, is a fault.
func TestFor(t *testing.T) {
	doc := func(typ string) json.RawMessage {
		return json.RawMessage(`{"id":{"path":"$.id"},"type":{"const":"` + typ + `"},"source":{"template":"/sources/{sourceId}"}}`)
	}
	loads := 0
	c := New(func(_ context.Context, id string, v int64) (*store.MappingVersion, error) {
		loads++
		switch v {
		case 1:
			return &store.MappingVersion{SourceID: id, Version: 1, Mapping: doc("one")}, nil
		case 4:
			return &store.MappingVersion{SourceID: id, Version: 4, Mapping: json.RawMessage(`{"id":{}}`)}, nil
		case 5:
			return nil, errors.New("table unavailable")
		}
		return nil, fmt.Errorf("mapping: %w", store.ErrNotFound)
	})
	src := &store.Source{ID: "src_1", Format: "github", Mapping: doc("two"), MappingVersion: 2}
	ctx := context.Background()
	if got := Version(src); got != 2 {
		t.Errorf("Version = %d; want 2", got)
	}
	if got := Version(&store.Source{MappingVersion: 2}); got != 0 {
		t.Errorf("Version of a removed mapping = %d; want 0", got)
	}
	for range 2 {
		for _, v := range []int64{1, 2} {
			m, err := c.For(ctx, src, src.Format, v)
			if err != nil || m == nil {
				t.Fatalf("For(v%d) = %v, %v", v, m, err)
			}
		}
	}
	if loads != 1 {
		t.Errorf("loads = %d; want 1 (version 1, once)", loads)
	}
	if m, err := c.For(ctx, src, "github", 0); m == nil || err != nil {
		t.Errorf("For(github, 0) = %v, %v; want the preset", m, err)
	}
	if m, err := c.For(ctx, src, "cloudevents", 0); m != nil || err != nil {
		t.Errorf("For(cloudevents, 0) = %v, %v; want none", m, err)
	}
	for _, v := range []int64{3, 4} {
		if _, err := c.For(ctx, src, "generic", v); !fault.Is(err, fault.Invalid) {
			t.Errorf("For(v%d) = %v; want an Invalid fault", v, err)
		}
	}
	if _, err := c.For(ctx, src, "generic", 5); err == nil || fault.Is(err, fault.Invalid) {
		t.Errorf("For(v5) = %v; want the store's error, not a fault", err)
	}
	if _, err := New(nil).For(ctx, src, "generic", 1); !fault.Is(err, fault.Invalid) {
		t.Errorf("For(v1) without a loader = %v; want an Invalid fault", err)
	}
}

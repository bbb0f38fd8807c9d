package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/eventhub/eventhub/shared/ownership"
	"github.com/eventhub/eventhub/shared/store"
)

// TestMappingVersions: a source's mapping is saved as version 1 with the source, each
// change as the next version; every version stays readable as it was saved, a
// removed mapping keeps the count, and a version is never written with another
// document.
func TestMappingVersions(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, newClock(t0))
	v1 := json.RawMessage(`{"id":{"path":"$.a"}}`)
	v2 := json.RawMessage(`{"id":{"path":"$.b"}}`)
	src := store.Source{ID: "src_m", Name: "m", Format: "generic", Enabled: true, TokenHash: "hm", Owns: &ownership.Set{}, Mapping: v1, InboundSecret: "s3cret-s3cret-s3cret"}
	if err := st.CreateSource(ctx, src); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetSource(ctx, "src_m")
	if err != nil {
		t.Fatal(err)
	}
	if got.MappingVersion != 1 || string(got.Mapping) != string(v1) || got.InboundSecret != src.InboundSecret {
		t.Fatalf("GetSource = version %d, mapping %s, secret set %v; want 1, %s, true", got.MappingVersion, got.Mapping, got.InboundSecret != "", v1)
	}
	// An update that keeps the mapping writes its version again, unchanged.
	got.Name = "renamed"
	if err := st.UpdateSource(ctx, got); err != nil {
		t.Fatal(err)
	}
	got.Mapping, got.MappingVersion = v2, 2
	if err := st.UpdateSource(ctx, got); err != nil {
		t.Fatal(err)
	}
	got.Mapping = nil
	if err := st.UpdateSource(ctx, got); err != nil {
		t.Fatal(err)
	}
	for v, want := range map[int64]string{1: string(v1), 2: string(v2)} {
		m, err := st.GetMapping(ctx, "src_m", v)
		if err != nil {
			t.Fatalf("GetMapping(%d) = %v", v, err)
		}
		if string(m.Mapping) != want || m.Version != v || m.SourceID != "src_m" {
			t.Errorf("GetMapping(%d) = %+v; want %s", v, m, want)
		}
	}
	if _, err := st.GetMapping(ctx, "src_m", 3); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetMapping(3) = %v; want ErrNotFound", err)
	}
	list, err := st.ListMappings(ctx, "src_m")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Version != 1 || list[1].Version != 2 {
		t.Errorf("ListMappings = %+v; want versions 1 and 2", list)
	}
	// Version 2 with another document is refused: versions are immutable.
	cur, _ := st.GetSource(ctx, "src_m")
	cur.Mapping, cur.MappingVersion = json.RawMessage(`{"id":{"path":"$.c"}}`), 2
	if err := st.UpdateSource(ctx, cur); !conflict(err) {
		t.Errorf("UpdateSource rewriting version 2 = %v; want a Conflict", err)
	}
	if m, _ := st.GetMapping(ctx, "src_m", 2); m == nil || string(m.Mapping) != string(v2) {
		t.Errorf("version 2 after the refused rewrite = %+v; want %s", m, v2)
	}
	if list, err := st.ListMappings(ctx, "src_none"); err != nil || len(list) != 0 {
		t.Errorf("ListMappings(unknown) = %v, %v; want none", list, err)
	}
}

package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/ownership"
	"github.com/eventhub/eventhub/shared/store"
)

func source(id, hash string, owns ...string) store.Source {
	return store.Source{ID: id, Name: id, Format: "cloudevents", Enabled: true, TokenHash: hash, Owns: &ownership.Set{Exact: owns}}
}

func conflict(err error) bool {
	e, ok := fault.As(err)
	return ok && e.Code == fault.Conflict
}

// TestSourceOwnershipNeverOverlaps registers sources whose owned values clash with
// another's, by creation and by update: each is a Conflict naming the owner.
func TestSourceOwnershipNeverOverlaps(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, newClock(t0))
	a := source("src_a", "ha", "acs.mse")
	a.Owns.Prefixes = []string{"/shop/"}
	if err := st.CreateSource(ctx, a); err != nil {
		t.Fatal(err)
	}
	bk := store.Source{ID: "src_bk", Name: "bk", Format: "bkmonitor", Enabled: true, TokenHash: "hbk", DataID: 1500001, Owns: &ownership.Set{}}
	if err := st.CreateSource(ctx, bk); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		src  store.Source
	}{
		{"same exact value", source("src_b", "hb1", "acs.mse")},
		{"exact value under a prefix", source("src_b", "hb2", "/shop/orders")},
		{"prefix over an exact value", store.Source{ID: "src_b", TokenHash: "hb3", Owns: &ownership.Set{Prefixes: []string{"acs."}}}},
		{"prefix under a prefix", store.Source{ID: "src_b", TokenHash: "hb4", Owns: &ownership.Set{Prefixes: []string{"/shop/eu/"}}}},
		{"prefix over a prefix", store.Source{ID: "src_b", TokenHash: "hb5", Owns: &ownership.Set{Prefixes: []string{"/sh"}}}},
		{"another source's data id", store.Source{ID: "src_b", TokenHash: "hb6", DataID: 1500001, Owns: &ownership.Set{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := st.CreateSource(ctx, tc.src)
			if !conflict(err) {
				t.Fatalf("CreateSource = %v; want a Conflict", err)
			}
			want := "owns"
			if tc.src.DataID != 0 {
				want = "dataId"
			}
			if e, _ := fault.As(err); e.Path != want {
				t.Errorf("path = %q; want %s", e.Path, want)
			}
		})
	}
	b := source("src_b", "hb", "acs.other")
	if err := st.CreateSource(ctx, b); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetSource(ctx, "src_b")
	if err != nil {
		t.Fatal(err)
	}
	got.Owns = &ownership.Set{Exact: []string{"acs.mse"}}
	if err := st.UpdateSource(ctx, got); !conflict(err) {
		t.Fatalf("UpdateSource onto a's value = %v; want a Conflict", err)
	}
	got, _ = st.GetSource(ctx, "src_b")
	got.Owns = &ownership.Set{Exact: []string{"acs.other", "acs.third"}}
	if err := st.UpdateSource(ctx, got); err != nil {
		t.Fatalf("UpdateSource with values of its own = %v", err)
	}
	if !got.Owned().Allows("acs.third") || got.Owned().Allows("acs.mse") {
		t.Errorf("owned = %s", got.Owned())
	}
}

// TestSourceOwnershipConcurrentGrants grants one value to several sources at once:
// exactly one gets it.
func TestSourceOwnershipConcurrentGrants(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, newClock(t0))
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := "src_" + string(rune('a'+i))
			errs[i] = st.CreateSource(ctx, source(id, "h"+id, "contended"))
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !conflict(err):
			t.Errorf("CreateSource = %v; want nil or a Conflict", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d sources own the value; want 1 (errors %v)", ok, errs)
	}
}

// TestSourceVersions: an update made from a stale read is a Conflict and changes
// nothing; a rotation and a patch from the same read cannot both win.
func TestSourceVersions(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, newClock(t0))
	if err := st.CreateSource(ctx, source("src_v", "h0")); err != nil {
		t.Fatal(err)
	}
	first, _ := st.GetSource(ctx, "src_v")
	second, _ := st.GetSource(ctx, "src_v")
	if first.Version != 1 {
		t.Fatalf("version of a new source = %d; want 1", first.Version)
	}
	first.Enabled = false
	if err := st.UpdateSource(ctx, first); err != nil {
		t.Fatal(err)
	}
	second.Name = "renamed"
	if err := st.UpdateSource(ctx, second); !conflict(err) {
		t.Fatalf("update from a stale read = %v; want a Conflict", err)
	}
	got, _ := st.GetSource(ctx, "src_v")
	if got.Enabled || got.Name != "src_v" || got.Version != 2 {
		t.Fatalf("after the lost race: enabled %v name %q version %d; want disabled, src_v, 2", got.Enabled, got.Name, got.Version)
	}
	// A rotation in between makes the patch's read stale.
	stale, _ := st.GetSource(ctx, "src_v")
	if _, err := st.RotateToken(ctx, "src_v", "h1", t0); err != nil {
		t.Fatal(err)
	}
	stale.Enabled = true
	if err := st.UpdateSource(ctx, stale); !conflict(err) {
		t.Fatalf("update read before a rotation = %v; want a Conflict", err)
	}
	got, _ = st.GetSource(ctx, "src_v")
	if got.TokenHash != "h1" || got.Enabled {
		t.Fatalf("token %s enabled %v; want h1 and still disabled", got.TokenHash, got.Enabled)
	}
}

// TestRotateTokenRevokesAll rotates with long graces, then with none: every token
// before the last stops working at once.
func TestRotateTokenRevokesAll(t *testing.T) {
	ctx := context.Background()
	c := newClock(t0)
	st := newStore(t, c)
	if err := st.CreateSource(ctx, source("src_r", "t0")); err != nil {
		t.Fatal(err)
	}
	for i, h := range []string{"t1", "t2", "t3"} {
		if _, err := st.RotateToken(ctx, "src_r", h, c.now().Add(30*24*time.Hour)); err != nil {
			t.Fatalf("rotation %d: %v", i, err)
		}
	}
	for _, h := range []string{"t0", "t1", "t2", "t3"} {
		if _, err := st.SourceByTokenHash(ctx, h); err != nil {
			t.Fatalf("token %s in its grace: %v", h, err)
		}
	}
	if _, err := st.RotateToken(ctx, "src_r", "t4", c.now()); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"t0", "t1", "t2", "t3"} {
		if _, err := st.SourceByTokenHash(ctx, h); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("token %s after a rotation with no grace: %v; want ErrNotFound", h, err)
		}
	}
	if _, err := st.SourceByTokenHash(ctx, "t4"); err != nil {
		t.Fatalf("the new token: %v", err)
	}
	// A grace ends on the clock too.
	if _, err := st.RotateToken(ctx, "src_r", "t5", c.now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	c.add(2 * time.Hour)
	if _, err := st.SourceByTokenHash(ctx, "t4"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("token after its grace: %v; want ErrNotFound", err)
	}
}

// TestSourceIDTooLong: ids no item can have are not found, not an error of DynamoDB.
func TestSourceIDTooLong(t *testing.T) {
	st := newStore(t, newClock(t0))
	long := make([]byte, 3000)
	for i := range long {
		long[i] = 'a'
	}
	if _, err := st.GetSource(context.Background(), string(long)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetSource(3000 bytes) = %v; want ErrNotFound", err)
	}
}

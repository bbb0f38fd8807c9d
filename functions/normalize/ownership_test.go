package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/eventhub/eventhub/shared/store"
)

// TestNormalizeOwnership: an event whose CloudEvents source its producer does not own
// (any more), an iuap event that did not come signed, or one from a source that is
// gone, is quarantined with the reason and not published; a source that cannot be read
// fails the invocation, to be retried.
func TestNormalizeOwnership(t *testing.T) {
	ce := func(source string) string {
		return `{"specversion":"1.0","id":"o-1","source":"` + source + `","type":"t"}`
	}
	iuapRaw := `{"appId":"ANONYMOUS_CLUSTER","ts":"1773500966535","sourceID":"USER","eventType":"ADD","tenantCode":"t1"}`
	tests := []struct {
		name, raw, format, sourceID string
		signed                      bool
		lookupErr                   error
		reason                      string // "" : published
		fails                       bool
	}{
		{name: "owned", raw: ce("acs.mse"), format: "cloudevents", sourceID: "src_1"},
		{name: "not owned", raw: ce("/bank"), format: "cloudevents", sourceID: "src_1", reason: `source "/bank" is not owned`},
		{name: "iuap, signed", raw: iuapRaw, format: "iuap", sourceID: "src_1", signed: true},
		{name: "iuap, not signed", raw: iuapRaw, format: "iuap", sourceID: "src_1", reason: "signed route"},
		{name: "iuap identity in a CloudEvent", raw: ce("iuap/ANONYMOUS_CLUSTER"), format: "cloudevents", sourceID: "src_1", reason: "signed route"},
		{name: "source gone", raw: ce("acs.mse"), format: "cloudevents", sourceID: "src_gone", lookupErr: fmt.Errorf("source src_gone: %w", store.ErrNotFound), reason: "not registered"},
		{name: "source unreadable", raw: ce("acs.mse"), format: "cloudevents", sourceID: "src_1", lookupErr: errors.New("throttled"), fails: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture()
			if tc.lookupErr != nil {
				f.h.sources = sourceFunc(func(context.Context, string) (*store.Source, error) { return nil, tc.lookupErr })
			}
			h := hub("")
			h.SourceID, h.Format, h.Signed = tc.sourceID, tc.format, tc.signed
			err := f.h.handle(context.Background(), received(t, tc.raw, tc.format, h))
			if tc.fails {
				if err == nil {
					t.Fatal("handle = nil; want the lookup's error")
				}
				return
			}
			if err != nil {
				t.Fatalf("handle = %v", err)
			}
			if tc.reason == "" {
				if len(f.pub.entries) != 1 || len(f.quar.kept) != 0 {
					t.Fatalf("published %d, quarantined %+v; want published", len(f.pub.entries), f.quar.kept)
				}
				return
			}
			if len(f.pub.entries) != 0 || len(f.quar.kept) != 1 || !strings.Contains(f.quar.kept[0].Reason, tc.reason) {
				t.Fatalf("published %d, quarantined %+v; want quarantined for %q", len(f.pub.entries), f.quar.kept, tc.reason)
			}
		})
	}
}

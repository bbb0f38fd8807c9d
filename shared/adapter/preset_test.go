package adapter_test

import (
	"testing"

	"github.com/eventhub/eventhub/shared/adapter"
	"github.com/eventhub/eventhub/shared/fault"
)

// TestParsePreset: a preset format is read by its mapping, with the request headers
// Meta carries.
func TestParsePreset(t *testing.T) {
	body := []byte(`{"action":"opened","repository":{"full_name":"acme/checkout"}}`)
	tests := []struct {
		name, format string
		headers      map[string]string
		wantType     string
		wantSource   string
		errPath      string
	}{
		{name: "github", format: "github", headers: map[string]string{"x-github-event": "issues", "x-github-delivery": "d-1"},
			wantType: "com.github.issues.opened", wantSource: "/sources/src_1/acme/checkout"},
		{name: "github without headers", format: "github", errPath: "header:x-github-delivery"},
		{name: "standard webhooks", format: "standardwebhooks", headers: map[string]string{"webhook-id": "msg_1"}, errPath: "$.type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, f, err := adapter.Parse(tc.format, body, adapter.Meta{SourceID: "src_1", Headers: tc.headers})
			if f != tc.format {
				t.Errorf("format = %q; want %q", f, tc.format)
			}
			if tc.errPath != "" {
				if e, ok := fault.As(err); !ok || e.Path != tc.errPath {
					t.Fatalf("Parse = %v, %v; want an error at %s", ev, err, tc.errPath)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ev.Type != tc.wantType || ev.Source != tc.wantSource || ev.ID != "d-1" {
				t.Errorf("event = %s %s %s; want d-1 %s %s", ev.ID, ev.Type, ev.Source, tc.wantType, tc.wantSource)
			}
		})
	}
}

// TestAutoNeverDetectsPresets: a payload shaped like a preset's is Generic to Auto
// (the presets that need request headers cannot be told by the body alone).
func TestAutoNeverDetectsPresets(t *testing.T) {
	for _, body := range []string{
		`{"zen":"Design for failure.","hook_id":1}`,
		`{"object_kind":"push","project":{"path_with_namespace":"a/b"}}`,
		`{"type":"user.created","timestamp":"2026-11-23T10:04:05Z","data":{}}`,
	} {
		_, f, err := adapter.Parse(adapter.Auto, []byte(body), adapter.Meta{SourceID: "src_1"})
		if err != nil || f != adapter.Generic {
			t.Errorf("Parse(auto, %s) = %s, %v; want generic", body, f, err)
		}
	}
}

package store_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/eventhub/eventhub/shared/store"
)

// TestQuarantineLargePayloads: whatever its size, a quarantined payload is kept (whole
// when it fits deflated, else its beginning with its size) and its reason bounded, so
// that quarantining never fails for ever.
func TestQuarantineLargePayloads(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, newClock(t0))
	noise := make([]byte, 600<<10)
	_, _ = rand.Read(noise)
	compressible := `{"data":"` + strings.Repeat("abc", 300<<10) + `"}`
	incompressible := `{"data":"` + base64.StdEncoding.EncodeToString(noise) + `"}`
	for _, tc := range []struct {
		name, raw string
		whole     bool
	}{
		{"900 KB that deflates", compressible, true},
		{"800 KB of noise", incompressible, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "q-" + strings.ReplaceAll(tc.name, " ", "-")
			reason := strings.Repeat("why ", 100<<10)
			if err := st.Quarantine(ctx, store.Quarantined{ID: id, Key: "evt_x", Reason: reason, Raw: json.RawMessage(tc.raw)}); err != nil {
				t.Fatalf("Quarantine = %v", err)
			}
			q, err := st.GetQuarantined(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if len(q.Reason) > store.MaxReason {
				t.Errorf("reason kept is %d bytes; want at most %d", len(q.Reason), store.MaxReason)
			}
			if tc.whole {
				if string(q.Raw) != tc.raw || q.RawTruncated {
					t.Errorf("raw kept is %d bytes (truncated %v); want the %d bytes whole", len(q.Raw), q.RawTruncated, len(tc.raw))
				}
				return
			}
			var prefix string
			if !q.RawTruncated || q.RawBytes != len(tc.raw) || json.Unmarshal(q.Raw, &prefix) != nil || !strings.HasPrefix(tc.raw, prefix) || prefix == "" {
				t.Errorf("raw kept: truncated %v, size %d, %d bytes; want the beginning as a JSON string and the size %d", q.RawTruncated, q.RawBytes, len(q.Raw), len(tc.raw))
			}
		})
	}
}

package huaweiconfig_test

import (
	"testing"

	"github.com/eventhub/eventhub/shared/adapter/golden"
	"github.com/eventhub/eventhub/shared/adapter/huaweiconfig"
	"github.com/eventhub/eventhub/shared/cloudevent"
)

func parse(raw []byte) (*cloudevent.Event, error) { return huaweiconfig.Parse(raw) }

// TestGolden runs the adapter on the seed document's examples and variants in
// testdata; go test -update rewrites the golden files.
func TestGolden(t *testing.T) { golden.Run(t, "testdata", parse) }

func FuzzHuaweiConfig(f *testing.F) {
	golden.Seeds(f, "testdata")
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := parse(raw)
		golden.Check(t, parse, raw, ev, err)
		golden.Oracle(t, raw, err)
		if err == nil && ev.ID != "hwc-"+golden.ContentID(raw) {
			t.Fatalf("id of %q = %s; encoding/json's content id hwc-%s", raw, ev.ID, golden.ContentID(raw))
		}
	})
}

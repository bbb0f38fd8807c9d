package mapping

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventhub/eventhub/shared/adapter/golden"
	"github.com/eventhub/eventhub/shared/cloudevent"
)

// TestAdaptersAsMappings applies the Juno and BlueKing adapters re-expressed as
// mappings (testdata/adapters) to the adapters' own golden inputs (with no BlueKing
// data id, which a mapping cannot read: it is the source's, not the payload's). Every
// event the adapter makes, the mapping makes byte for byte; every input the adapter
// refuses, the mapping refuses at the same member (its paths start with "$.") or
// the same line and column.
func TestAdaptersAsMappings(t *testing.T) {
	for _, name := range []string{"juno", "bkmonitor"} {
		doc, err := os.ReadFile(filepath.Join("testdata", "adapters", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		m, err := Compile(doc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		parse := func(raw []byte) (*cloudevent.Event, error) {
			res, err := m.Apply(Input{Body: raw})
			return res.Event, err
		}
		dir := filepath.Join("..", "adapter", name, "testdata")
		inputs, _ := filepath.Glob(filepath.Join(dir, "*.input"))
		if len(inputs) == 0 {
			t.Fatalf("no inputs in %s", dir)
		}
		for _, in := range inputs {
			base := strings.TrimSuffix(filepath.Base(in), ".input")
			t.Run(name+"/"+base, func(t *testing.T) {
				raw, _ := os.ReadFile(in)
				want, err := os.ReadFile(strings.TrimSuffix(in, ".input") + ".golden")
				if err != nil {
					t.Fatal(err)
				}
				got := golden.Render(t, parse, raw)
				wantErr, gotErr := errorOf(want), errorOf(got)
				switch {
				case wantErr == nil:
					if !bytes.Equal(got, want) {
						t.Errorf("mapping gives\n%s\nadapter gives\n%s", got, want)
					}
				case gotErr == nil:
					t.Errorf("mapping gives\n%s\nadapter refuses with\n%s", got, want)
				case strings.TrimPrefix(gotErr.Path, "$.") != wantErr.Path || gotErr.Line != wantErr.Line || gotErr.Column != wantErr.Column:
					t.Errorf("mapping refuses at %+v, adapter at %+v", gotErr, wantErr)
				}
			})
		}
	}
}

type goldenError struct {
	Message      string
	Path         string
	Line, Column int
}

// errorOf returns the error a golden rendering holds, or nil for an event.
func errorOf(rendered []byte) *goldenError {
	var v struct{ Error *goldenError }
	if json.Unmarshal(rendered, &v) != nil {
		return nil
	}
	return v.Error
}

package mapping

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventhub/eventhub/shared/adapter/format"
	"github.com/eventhub/eventhub/shared/adapter/golden"
	"github.com/eventhub/eventhub/shared/cloudevent"
)

// TestPresetGolden applies each preset to the payloads in testdata/presets/<preset>,
// written in the shape each project documents, with the request headers beside them
// (<name>.headers; ingest carries only those the mapping reads, and so does the test);
// go test -update rewrites the golden files.
func TestPresetGolden(t *testing.T) {
	for _, name := range Presets() {
		m, _ := Preset(name)
		inputs, _ := filepath.Glob(filepath.Join("testdata", "presets", name, "*.input"))
		if len(inputs) < 3 {
			t.Errorf("preset %s has %d golden inputs; want at least 3", name, len(inputs))
		}
		for _, in := range inputs {
			base := strings.TrimSuffix(in, ".input")
			t.Run(name+"/"+filepath.Base(base), func(t *testing.T) {
				raw, headers := presetSample(t, in)
				got := golden.Render(t, presetParser(m, headers), raw)
				if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
					if err := os.WriteFile(base+".golden", got, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(base + ".golden")
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("got\n%s\nwant\n%s", got, want)
				}
			})
		}
	}
}

// presetSample reads a golden input and the headers beside it, keeping those the
// mapping reads as ingest does.
func presetSample(tb testing.TB, input string) ([]byte, map[string]string) {
	tb.Helper()
	raw, err := os.ReadFile(input)
	if err != nil {
		tb.Fatal(err)
	}
	var headers map[string]string
	if h, err := os.ReadFile(strings.TrimSuffix(input, ".input") + ".headers"); err == nil {
		if err := json.Unmarshal(h, &headers); err != nil {
			tb.Fatal(err)
		}
	}
	return raw, headers
}

func presetParser(m *Mapping, headers map[string]string) golden.Parser {
	carried := map[string]string{}
	for _, h := range m.Headers() {
		if v, ok := headers[h]; ok {
			carried[h] = v
		}
	}
	return func(raw []byte) (*cloudevent.Event, error) {
		res, err := m.Apply(Input{Body: raw, Headers: carried, SourceID: "src_1"})
		return res.Event, err
	}
}

// TestPresetsOwnTheirSource: every preset's events lie in the source's own namespace,
// so ownership holds without a grant.
func TestPresetsOwnTheirSource(t *testing.T) {
	for _, name := range Presets() {
		m, _ := Preset(name)
		inputs, _ := filepath.Glob(filepath.Join("testdata", "presets", name, "*.input"))
		for _, in := range inputs {
			raw, headers := presetSample(t, in)
			ev, err := presetParser(m, headers)(raw)
			if err != nil {
				continue
			}
			if ev.Source != "/sources/src_1" && !strings.HasPrefix(ev.Source, "/sources/src_1/") {
				t.Errorf("%s: source %q is outside /sources/src_1", in, ev.Source)
			}
		}
	}
}

// TestPresetsAreFormats: the presets are the formats package format names.
func TestPresetsAreFormats(t *testing.T) {
	if got, want := strings.Join(Presets(), ","), strings.Join(format.Presets, ","); got != want {
		t.Errorf("Presets() = %s; format.Presets = %s", got, want)
	}
	for _, p := range format.Presets {
		if !format.Known(p) {
			t.Errorf("format.Known(%q) = false", p)
		}
	}
}

// BenchmarkPreset applies each preset to its first golden input.
func BenchmarkPreset(b *testing.B) {
	for _, name := range Presets() {
		m, _ := Preset(name)
		inputs, _ := filepath.Glob(filepath.Join("testdata", "presets", name, "[^e]*.input")) // not err_*
		raw, headers := presetSample(b, inputs[0])
		parse := presetParser(m, headers)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				ev, err := parse(raw)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := ev.MarshalJSON(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

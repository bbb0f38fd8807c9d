package mapping

import (
	"embed"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// presetFiles are the shipped mappings, one JSON document per producer, named by the
// format a source chooses ("github" is presets/github.json).
//
//go:embed presets/*.json
var presetFiles embed.FS

var presets = sync.OnceValue(func() map[string]func() (*Mapping, error) {
	out := map[string]func() (*Mapping, error){}
	entries, _ := presetFiles.ReadDir("presets")
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".json")
		file := filepath.ToSlash("presets/" + e.Name())
		out[name] = sync.OnceValues(func() (*Mapping, error) {
			doc, err := presetFiles.ReadFile(file)
			if err != nil {
				return nil, err
			}
			return Compile(doc)
		})
	}
	return out
})

// Preset returns the shipped mapping of a producer, compiled on first use.
func Preset(name string) (*Mapping, bool) {
	compile, ok := presets()[name]
	if !ok {
		return nil, false
	}
	m, err := compile()
	if err != nil {
		return nil, false // not reached: TestPresetsCompile compiles every preset
	}
	return m, true
}

// Presets lists the names of the shipped mappings, sorted.
func Presets() []string {
	return slices.Sorted(maps.Keys(presets()))
}

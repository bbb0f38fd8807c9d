package jsonobject

import (
	"os"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

// reordered is the form ContentID hashes as jsontext alone writes it; it differs from
// appendCanonical's only in the order of names that mix characters from U+E000 to
// U+FFFF with ones above U+FFFF.
func reordered(dst, raw []byte) ([]byte, error) {
	return jsontext.AppendFormat(dst, raw, jsontext.EscapeForHTML(true), jsontext.EscapeForJS(true), jsontext.ReorderRawObjects(true))
}

func TestCanonicalIsJSONTextsBut(t *testing.T) {
	for _, in := range objects {
		got, ok := appendCanonical(nil, []byte(in))
		want, err := reordered(nil, []byte(in))
		if ok != (err == nil) {
			t.Errorf("appendCanonical(%s) = %s, %v; jsontext %s, %v", in, got, ok, want, err)
		}
	}
}

// BenchmarkContentID compares appendCanonical with jsontext's own reordering on the
// bench samples that ContentID digests (go test -bench ContentID ./shared/jsonobject).
func BenchmarkContentID(b *testing.B) {
	for _, name := range []string{"huaweiconfig/testdata/seed_resource_changed.input", "generic/testdata/alertmanager.input"} {
		raw, err := os.ReadFile("../adapter/" + name)
		if err != nil {
			b.Fatal(err)
		}
		var buf []byte
		b.Run("appendCanonical/"+name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				buf, _ = appendCanonical(buf[:0], raw)
			}
		})
		b.Run("jsontext.ReorderRawObjects/"+name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				buf, _ = reordered(buf[:0], raw)
			}
		})
	}
}

package member

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/eventhub/eventhub/shared/fault"
)

// FuzzDecode holds Decode (jsontext) to encoding/json: it takes exactly the objects
// encoding/json takes in valid UTF-8 that name no member twice, with the same members,
// and locates what it refuses within the input.
func FuzzDecode(f *testing.F) {
	for _, in := range objects {
		f.Add([]byte(in))
	}
	f.Add([]byte(`{"a":1} {}`))
	f.Add([]byte("{\"a\":\"\xff\"}"))
	f.Add([]byte(`[1,2]`))
	f.Fuzz(func(t *testing.T, in []byte) {
		o, err := Decode(in)
		var want map[string]json.RawMessage
		uerr := json.Unmarshal(in, &want)
		ok := uerr == nil && want != nil && utf8.Valid(in) && len(bytes.TrimSpace(in)) > 0 && bytes.TrimSpace(in)[0] == '{'
		if err != nil {
			e, isFault := fault.As(err)
			if !isFault || e.Offset > len(in) || (e.Offset > 0 && (e.Line < 1 || e.Column < 1)) {
				t.Fatalf("Decode(%q) error %#v is not located in the input", in, err)
			}
			// json/v2 also refuses escapes of lone surrogates, which encoding/json
			// replaces with U+FFFD.
			if ok && e.Message != "member appears more than once" && !strings.Contains(e.Message, "surrogate") {
				t.Fatalf("Decode(%q) = %v; encoding/json reads %v", in, err, want)
			}
			return
		}
		if !ok {
			t.Fatalf("Decode(%q) succeeds; encoding/json: %v", in, uerr)
		}
		got := o.Fields()
		if len(got) != len(want) {
			t.Fatalf("Decode(%q) = %d members; encoding/json %d", in, len(got), len(want))
		}
		for name, v := range want {
			var a, b bytes.Buffer
			_ = json.Compact(&a, v)
			_ = json.Compact(&b, got[name])
			if a.String() != b.String() {
				t.Fatalf("Decode(%q) member %q = %s; encoding/json %s", in, name, got[name], v)
			}
		}
	})
}

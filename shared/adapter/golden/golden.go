// Package golden is the test helper of the adapters: it runs an adapter on every input
// in a testdata directory and compares the CloudEvent (or the error) with the golden
// file beside it, which `go test -update` rewrites; and it checks the invariants every
// adapter keeps, for the fuzz targets.
package golden

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/fault"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Parser is an adapter under test.
type Parser func(raw []byte) (*cloudevent.Event, error)

// Run parses every testdata/*.input file with parse and compares the result with
// testdata/<name>.golden: the CloudEvent in the structured JSON format, indented, or
// {"error": ...} for a rejected input.
func Run(t *testing.T, dir string, parse Parser) {
	t.Helper()
	inputs, err := filepath.Glob(filepath.Join(dir, "*.input"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no inputs in %s (%v)", dir, err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".input")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got := Render(t, parse, raw)
			file := strings.TrimSuffix(in, ".input") + ".golden"
			if *update {
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s:\n got %s\nwant %s", name, got, want)
			}
		})
	}
}

// Render parses raw and returns the indented CloudEvent or error, as golden files
// hold them. It fails the test on a broken invariant.
func Render(t *testing.T, parse Parser, raw []byte) []byte {
	t.Helper()
	ev, err := parse(raw)
	Check(t, parse, raw, ev, err)
	var b []byte
	if err != nil {
		e, _ := fault.As(err)
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(map[string]any{"error": e}); err != nil {
			t.Fatal(err)
		}
		b = buf.Bytes()
	} else {
		b, _ = ev.MarshalJSON()
	}
	var out bytes.Buffer
	if err := json.Indent(&out, bytes.TrimSpace(b), "", "  "); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// Check fails the test unless the adapter kept its promises about raw: an error is a
// *fault.Error (a caller's mistake, never an internal error) with a message; an event
// is valid CloudEvents, survives its JSON form unchanged (normalize re-reads what
// ingest accepted), and parsing the same input again gives the same storage key.
func Check(t *testing.T, parse Parser, raw []byte, ev *cloudevent.Event, err error) {
	t.Helper()
	if err != nil {
		e, ok := fault.As(err)
		if !ok {
			t.Fatalf("error %v (%T) is not a *fault.Error", err, err)
		}
		if e.Message == "" || (e.Code != fault.Invalid && e.Code != fault.Unauthorized) {
			t.Fatalf("error %+v: want code invalid with a message", e)
		}
		return
	}
	if ev == nil {
		t.Fatal("no event and no error")
	}
	if verr := ev.Validate(); verr != nil {
		t.Fatalf("event fails validation: %v", verr)
	}
	b, merr := ev.MarshalJSON()
	if merr != nil {
		t.Fatalf("marshal: %v", merr)
	}
	back, perr := cloudevent.Parse(b)
	if perr != nil {
		t.Fatalf("marshalled event %s does not parse: %v", b, perr)
	}
	b2, _ := back.MarshalJSON()
	if !bytes.Equal(b, b2) {
		t.Fatalf("event changes through JSON:\n%s\n%s", b, b2)
	}
	again, err2 := parse(raw)
	if err2 != nil || again.Key() != ev.Key() {
		t.Fatalf("second parse = %v, %v; want the same key %s", again, err2, ev.Key())
	}
}

// Oracle holds an adapter's reading of the JSON raw to encoding/json and json/v2: it
// takes only a JSON object that encoding/json reads and RFC 7493 allows (jsontext:
// valid UTF-8, no name repeated at any depth); and what it refuses as malformed
// (an error without a path) one of them refuses too.
func Oracle(t *testing.T, raw []byte, err error) {
	t.Helper()
	var m map[string]json.RawMessage
	uerr := json.Unmarshal(raw, &m)
	strict := jsontext.Value(raw).IsValid()
	if err == nil {
		if uerr != nil || m == nil || !strict {
			t.Fatalf("adapter accepts %q; encoding/json: %v (object: %v); RFC 7493 valid: %v", raw, uerr, m != nil, strict)
		}
		return
	}
	if e, ok := fault.As(err); ok && e.Path == "" && uerr == nil && m != nil && strict {
		t.Fatalf("adapter refuses %q as malformed (%v); encoding/json and jsontext read it", raw, err)
	}
}

// ContentID is the content id of the JSON value raw as encoding/json computes it: the
// oracle of the ids that adapters derive from content.
func ContentID(raw []byte) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	canon := raw
	if dec.Decode(&v) == nil {
		canon, _ = json.Marshal(v)
	}
	sum := sha256.Sum256(append(bytes.Clone(canon), 0))
	return hex.EncodeToString(sum[:16])
}

// Seeds adds every testdata/*.input of dir to the fuzz corpus.
func Seeds(f *testing.F, dir string) {
	inputs, _ := filepath.Glob(filepath.Join(dir, "*.input"))
	for _, in := range inputs {
		raw, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
}

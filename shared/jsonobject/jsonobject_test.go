package jsonobject

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/eventhub/eventhub/shared/fault"
)

var objects = []string{
	`{}`, ` {} `, `{"a":1}`, `{"a": 1}`, `{"a":[1, 2]}`, `{"a":"x y","b":{"c":null}}`, `{"<":1}`, `{"é":1}`,
	`{"appId":"ANONYMOUS_CLUSTER","ts":"1603942730123","sourceID":"USER","eventType":"ADD_AFTER","userObject":"1603942730000"}`,
	"{\"a\":1,\n\"b\":2}", `{"a\u0062":1}`, `{"a":"\u003c"}`, "{\"\x7f\":true}", `{"a":1,"a":2}`,
	`{"a":{"b":1,"b":2}}`, `{"a":[{"b":1},{"b":2,"c":{"d":1,"d":2}}]}`, `{"a\u0062":1,"ab":2}`,
	`{"b":"\u00e9\/x","a":{"d":1.50,"c":[1e3,"<"]},"\uff01":1,"😀":2,"\u2028":"\u2029"}`,
	`{"a":-0,"b":1E+2,"c":12345678901234567890123}`, `{"a":"\ud800"}`, `{"a":1} x`, `[1]`, `{"a":}`,
	"{\"", "{\"\x88\":{}}", `"" `, // what once broke shared/rawjson
}

// FuzzDecode holds Decode to encoding/json: it takes exactly the objects encoding/json
// takes in valid UTF-8 that RFC 7493 also takes (no name repeated at any depth, no
// escaped lone surrogate), with the same members, and locates what it refuses.
func FuzzDecode(f *testing.F) {
	for _, in := range objects {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		o, err := Decode(in)
		var want map[string]json.RawMessage
		uerr := json.Unmarshal(in, &want)
		trimmed := bytes.TrimSpace(in)
		ok := uerr == nil && want != nil && utf8.Valid(in) && len(trimmed) > 0 && trimmed[0] == '{'
		strict := jsontext.Value(in).IsValid()
		if err != nil {
			e, isFault := fault.As(err)
			if !isFault || e.Message == "" || e.Offset > len(in) || (e.Offset > 0 && (e.Line < 1 || e.Column < 1)) {
				t.Fatalf("Decode(%q) error %#v is not located in the input", in, err)
			}
			if e.Message == "member appears more than once" && (e.Path == "" || e.Offset == 0) {
				t.Fatalf("Decode(%q) = %#v: a repeated name without its path and place", in, e)
			}
			if ok && strict {
				t.Fatalf("Decode(%q) = %v; encoding/json reads %v", in, err, want)
			}
			return
		}
		if !ok || !strict {
			t.Fatalf("Decode(%q) succeeds; encoding/json: %v; RFC 7493 valid: %v", in, uerr, strict)
		}
		got := o.Members()
		if len(got) != len(want) {
			t.Fatalf("Decode(%q) = %d members; encoding/json %d", in, len(got), len(want))
		}
		for _, m := range got {
			var a, b bytes.Buffer
			_ = json.Compact(&a, want[string(m.Name)])
			_ = json.Compact(&b, m.Value)
			if a.String() != b.String() {
				t.Fatalf("Decode(%q) member %q = %s; encoding/json %s", in, m.Name, m.Value, want[string(m.Name)])
			}
		}
		checkCompose(t, o)
		checkContentID(t, in)
	})
}

func TestDecode(t *testing.T) {
	tests := []struct {
		in, path, message string
		offset            int
	}{
		{in: `{"a":1,"a" : 2}`, path: "a", message: "member appears more than once", offset: 13},
		{in: `{"data":{"labels":{"sev":1,"sev":2}}}`, path: "data.labels.sev", message: "member appears more than once", offset: 33},
		{in: `{"data":[{"x":1},{"x":1,"x":2}]}`, path: "data[1].x", message: "member appears more than once", offset: 28},
		{in: `{"a\u0062":1,"ab":2}`, path: "ab", message: "member appears more than once", offset: 18},
		{in: `{"":1,"":2}`, path: `""`, message: "member appears more than once", offset: 9},
		{in: `{"a":[{"":1,"":2}]}`, path: `a[0].""`, message: "member appears more than once", offset: 15},
		{in: `[1]`, path: "$", message: "must be a JSON object, not an array"},
		{in: ` `, message: "empty body"},
		{in: `{"a":1} x`, message: "malformed JSON", offset: 8},
		{in: "{\"a\":\"\xff\"}", path: "a", message: "UTF-8", offset: 6},
	}
	for _, tc := range tests {
		_, err := Decode([]byte(tc.in))
		e, ok := fault.As(err)
		if !ok || e.Path != tc.path || !strings.Contains(e.Message, tc.message) || e.Offset != tc.offset {
			t.Errorf("Decode(%s) = %#v; want path %q, %q at %d", tc.in, err, tc.path, tc.message, tc.offset)
		}
	}
}

// TestComposeShortcut checks that Compose without sets gives what writing the members
// gives, when it returns the object's own text as well.
func TestComposeShortcut(t *testing.T) {
	for _, in := range objects {
		if o, err := Decode([]byte(in)); err == nil {
			checkCompose(t, o)
		}
	}
}

// checkCompose holds Compose to encoding/json: each name as json.Marshal writes it,
// each value as sent, compacted.
func checkCompose(t *testing.T, o *Object) {
	t.Helper()
	got := o.Compose()
	var want bytes.Buffer
	want.WriteByte('{')
	for i, m := range o.Members() {
		if i > 0 {
			want.WriteByte(',')
		}
		var name bytes.Buffer
		enc := json.NewEncoder(&name)
		_ = enc.Encode(string(m.Name))
		want.Write(bytes.TrimSpace(name.Bytes()))
		want.WriteByte(':')
		_ = json.Compact(&want, m.Value)
	}
	want.WriteByte('}')
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("Compose = %s; encoding/json %s", got, want.Bytes())
	}
}

// contentIDOracle is ContentID as encoding/json computes it.
func contentIDOracle(raw []byte) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return string(AppendDigestOf(nil, raw))
	}
	canon, _ := json.Marshal(v)
	return string(AppendDigestOf(nil, canon))
}

func checkContentID(t *testing.T, raw []byte) {
	t.Helper()
	if got, want := ContentID(raw), contentIDOracle(raw); got != want {
		t.Fatalf("ContentID(%q) = %s; encoding/json %s", raw, got, want)
	}
}

func TestContentID(t *testing.T) {
	for _, in := range objects {
		checkContentID(t, []byte(in))
	}
	// The ids of today's events: these must never change.
	for in, want := range map[string]string{
		`{"b":1,"a":"x"}`:           ContentID([]byte(`{"a":"x","b":1}`)),
		`{"a":"<\u00e9>"}`:          "",
		`{"\uff01":1,"😀":2}`:        "",
		`{"n":1.50, "m":[1e3]}`:     "",
		`{"a":{"d":1,"c":2},"b":3}`: "",
	} {
		if want != "" && ContentID([]byte(in)) != want {
			t.Errorf("ContentID(%s) = %s; want %s", in, ContentID([]byte(in)), want)
		}
		checkContentID(t, []byte(in))
	}
}

// FuzzContentID holds ContentID to encoding/json on any input.
func FuzzContentID(f *testing.F) {
	for _, in := range objects {
		f.Add([]byte(in))
	}
	f.Fuzz(checkContentID)
}

func TestAppendParseTime(t *testing.T) {
	for in, want := range map[string]string{
		"1603942730":                "2020-10-29T03:38:50Z",
		"1603942730123":             "2020-10-29T03:38:50.123Z",
		"1603942730.5":              "2020-10-29T03:38:50.5Z",
		"2020-11-19T21:04:41+08:00": "2020-11-19T21:04:41+08:00",
	} {
		if got, err := AppendParseTime(nil, []byte(in)); err != nil || string(got) != want {
			t.Errorf("AppendParseTime(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"yesterday", "-1", "1e300", "NaN"} {
		if _, err := AppendParseTime(nil, []byte(in)); err == nil {
			t.Errorf("AppendParseTime(%s): no error", in)
		}
	}
}

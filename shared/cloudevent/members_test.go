package cloudevent

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/eventhub/eventhub/shared/fault"
)

// slowParse is Parse with encoding/json as the reader: the oracle of FuzzParse.
func slowParse(data []byte) (*Event, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, err
	}
	if fields == nil || !utf8.Valid(data) {
		return nil, errors.New("not a JSON object in UTF-8")
	}
	return FromFields(fields, "")
}

// slowMarshal is MarshalJSON as encoding/json writes it.
func slowMarshal(e *Event) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	member := func(name string, raw []byte) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		k, _ := json.Marshal(name)
		b.Write(k)
		b.WriteByte(':')
		b.Write(raw)
	}
	str := func(name, v string) {
		if v != "" {
			raw, _ := json.Marshal(v)
			member(name, raw)
		}
	}
	str("specversion", e.SpecVersion)
	str("id", e.ID)
	str("source", e.Source)
	str("type", e.Type)
	str("subject", e.Subject)
	str("time", e.Time)
	str("datacontenttype", e.DataContentType)
	str("dataschema", e.DataSchema)
	var names []string
	for n := range e.Extensions {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		var c bytes.Buffer
		if err := json.Compact(&c, e.Extensions[n]); err != nil {
			return nil, err
		}
		member(n, c.Bytes())
	}
	if e.Data != nil {
		var c bytes.Buffer
		if err := json.Compact(&c, e.Data); err != nil {
			return nil, err
		}
		member("data", c.Bytes())
	}
	str("data_base64", e.DataBase64)
	b.WriteByte('}')
	return b.Bytes(), nil
}

var differential = []string{
	string(benchEvent),
	mse,
	`{"specversion":"1.0","id":"1","source":"/s","type":"t"}`,
	` { "specversion" : "1.0" , "id" : "1" , "source" : "/s" , "type" : "t" , "data" : { "a" : [ 1 , -2.5e+3 , true , false , null , "x y" ] } } `,
	`{"specversion":"1.0","id":"1","source":"/s","type":"t","id":"2"}`,
	`{"specversion":"1.0","id":"1","source":"/s","type":"t","x":"1","x":2}`,
	`{"specversion":"1.0","id":"a\"b\\c\u00e9\ud83d\ude00\u2028<>&","source":"/s","type":"t"}`,
	`{"specversion":"1.0","id":"1","source":"/s","type":"t","data":null}`,
	`{"specversion":"1.0","id":"1","source":"/s","type":"t","subject":null}`,
	`{"specversion":"1.0","id":"é<>&` + "\u2028\u2029" + `","source":"/s","type":"t","data":"é<>&` + "\u2028" + `"}`,
	`{"specversion":"1.0","id":"1","source":"/s","type":"t","data":"a\tb"}`,
	`{"specversion":"1.0","id":"1","source":"/s","type":"t","data":[1,2,]}`,
	`{"specversion":"1.0","id":"1","source":"/s","type":"t","data":01}`,
	`{"specversion":"1.0","id":"1","source":"/s","type":"t","data":1.}`,
	`{"specversion":"1.0","id":"1","source":"/s","type":"t","data":-}`,
	`{"specversion":"1.0","id":"1","source":"/s","type":"t","data":tru}`,
	`{"specversion":"1.0","id":"1","source":"/s","type":"t","data":"\x"}`,
	`{"specversion":"1.0","id":"1","source":"/s","type":"t","data":"\u12"}`,
	`{"specversion":"1.0","id":"1","source":"/s","type":"t"} x`,
	`{"specversion":"1.0","id":"1","source":"/s","type":"t",}`,
	`{"specversion":"1.0","id":1,"source":"/s","type":"t"}`,
	`{"specversion":"1.0","id":"","source":"/s","type":"t"}`,
	`{"spec\u0076ersion":"1.0","id":"1","source":"/s","type":"t"}`,
	`{"specversion":"1.0","id":"1","source":"/s","type":"t","Ext":"x"}`,
	`{"specversion":"1.0","id":"1","source":"/s","type":"t","ext":{"a":1}}`,
	`{"specversion":"1.0","id":"1","source":"/s","type":"t","ext":-0.5E-7}`,
	`{}`, `[]`, `null`, `"x"`, `{`, `{"a"}`, `{"a":}`, ` `, "{\"id\":\"\xff\"}",
	`{"specversion":"1.0","id":"1","source":"/s","type":"t","data":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`,
}

func TestParseMatchesEncodingJSON(t *testing.T) {
	for _, in := range differential {
		checkDifferential(t, []byte(in))
	}
}

func FuzzParse(f *testing.F) {
	for _, in := range differential {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) { checkDifferential(t, in) })
}

// checkDifferential holds Parse and MarshalJSON to encoding/json: Parse takes what
// encoding/json takes, but for what RFC 7493 refuses and json/v2 with it (names
// repeated at any depth, escapes of lone surrogates), with the same event; it locates
// what it refuses; MarshalJSON writes what encoding/json writes.
func checkDifferential(t *testing.T, in []byte) {
	t.Helper()
	name := string(in)
	if len(name) > 60 {
		name = name[:60] + "..."
	}
	got, gotErr := Parse(in)
	want, wantErr := slowParse(in)
	strict := jsontext.Value(in).IsValid()
	if gotErr != nil {
		e, ok := fault.As(gotErr)
		if !ok || e.Message == "" || e.Offset > len(in) || (e.Offset > 0 && (e.Line < 1 || e.Column < 1)) {
			t.Fatalf("Parse(%q) error %#v is not a located *fault.Error", name, gotErr)
		}
		if wantErr == nil && strict {
			t.Fatalf("Parse(%q) = %v; encoding/json reads %+v", name, gotErr, want)
		}
		return
	}
	if wantErr != nil || !strict {
		t.Fatalf("Parse(%q) succeeds; encoding/json: %v; RFC 7493 valid: %v", name, wantErr, strict)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse(%q) = %+v; encoding/json path: %+v", name, got, want)
	}
	gotJSON, gotErr := got.MarshalJSON()
	wantJSON, wantErr := slowMarshal(want)
	if (gotErr == nil) != (wantErr == nil) || !bytes.Equal(gotJSON, wantJSON) {
		t.Fatalf("MarshalJSON(%q) = %s, %v; encoding/json: %s, %v", name, gotJSON, gotErr, wantJSON, wantErr)
	}
}

func TestMarshalHandBuiltEvent(t *testing.T) {
	e := &Event{SpecVersion: "1.0", ID: "1", Source: "/s", Type: "t",
		Extensions: map[string]json.RawMessage{"b": json.RawMessage(` 2 `), "a": json.RawMessage(`"x"`)},
		Data:       json.RawMessage(`{ "k" : [1, 2] }`)}
	got, err := e.MarshalJSON()
	want, _ := slowMarshal(e)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("MarshalJSON = %s, %v; want %s", got, err, want)
	}
	e.Data = json.RawMessage(`{"k": `) // invalid JSON that MarshalJSON rewrites
	if _, err := e.MarshalJSON(); err == nil {
		t.Error("MarshalJSON with invalid data: error = nil; want one")
	}
}

func TestKeyIsLowerCaseStdBase32(t *testing.T) {
	for _, c := range []struct{ source, id string }{{"acs.mse", "1"}, {"", ""}, {"/shop/orders", "order-1001"}} {
		h := sha256.Sum256([]byte(c.source + "\x00" + c.id))
		want := "evt_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:16]))
		if got := Key(c.source, c.id); got != want || !ValidKey(got) {
			t.Errorf("Key(%q, %q) = %s; want %s", c.source, c.id, got, want)
		}
	}
}

package rawjson

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

var corpus = []string{
	`{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `1.5e+10`, `-12.0E-3`, `"x"`, ` {"a" : 1 } `,
	`{"b":1,"a":[1,2,{"d":null,"c":"\u00e9\u2028<&>"}],"a":"last"}`,
	`{"specversion":"1.0","id":"a\"b\\c\/\b\f\n\r\t","data":{"k":[true,false,null,-1.0e-2]}}`,
	`{"s":"\ud800","t":"\udc00\ud83d\ude00","u":"é😀"}`,
	`{"a":1,}`, `[1,2,]`, `01`, `1.`, `-`, `.5`, `1e`, `tru`, `nul`, `"\x"`, `"\u12"`, `{"a"}`, `{"a":}`,
	`{"a":1} x`, `[1] [2]`, "\"a\tb\"", `{"a":"b"`, `{"\u0061":1}`, `{"a":{"b":{"c":{}}}}`, ``, ` `,
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat("[", 9999) + strings.Repeat("]", 9999),
	`{"n":12345678901234567890123,"f":1E400}`,
	`{"a":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`,
	`{"a":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
	"{\n" + strings.Repeat(" ", 9) + `"a": {` + "\n" + strings.Repeat(" ", 17) + `"b" :  [ 1 ,` + strings.Repeat(" ", 16) + `"x\"\\yyyyyyyyyyyy"` + "\t\r\n ]  }\n}",
	`"a\u00e9\ud83d\ude00\ud800\u0041\udc00x\ud800\ud800\ude00\/\b\f\n\r\t\"\\é"`, "\"\xff\xfe\xed\xa0\x80 x\"",
	`"\uD83D\uDE00\uDBFF\uDFFF\uDC00\uD800"`,
	"[1,\n" + strings.Repeat(" ", 8) + "2,\t" + strings.Repeat(" ", 16) + `"x",` + strings.Repeat(" ", 9) + "3]",
	"[" + strings.Repeat(" ", 8) + "1" + strings.Repeat(" ", 7) + "," + strings.Repeat(" ", 24) + `"abcdefgh"` + strings.Repeat(" ", 8) + "]",
}

func FuzzRawJSON(f *testing.F) {
	for _, c := range corpus {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) { check(t, data) })
}

func TestMatchesEncodingJSON(t *testing.T) {
	for _, c := range corpus {
		check(t, []byte(c))
	}
}

func check(t *testing.T, data []byte) {
	t.Helper()
	name := string(data)
	if len(name) > 40 {
		name = name[:40] + "..."
	}
	valid := json.Valid(data)
	if Valid(data) != valid && len(data) < 10000 {
		t.Fatalf("Valid(%q) = %v; json.Valid = %v", name, !valid, valid)
	}
	if Valid(data) && !valid {
		t.Fatalf("Valid(%q) = true; json.Valid = false", name)
	}

	var c bytes.Buffer
	wantErr := json.Compact(&c, data)
	if got, ok := AppendCompact(nil, data); ok && (wantErr != nil || !bytes.Equal(got, c.Bytes())) {
		t.Fatalf("AppendCompact(%q) = %s; json.Compact = %s, %v", name, got, c.Bytes(), wantErr)
	}
	if wantErr == nil {
		if got := AppendCompactValid(nil, bytes.TrimSpace(data)); !bytes.Equal(got, c.Bytes()) {
			t.Fatalf("AppendCompactValid(%q) = %s; json.Compact = %s", name, got, c.Bytes())
		}
	}

	if ms, ok := Object(data); ok {
		canon, _ := AppendCanonical(nil, data)
		if got, ok := AppendCanonicalObject(nil, ms); !ok || !bytes.Equal(got, canon) {
			t.Fatalf("AppendCanonicalObject(%q) = %s, %v; AppendCanonical %s", name, got, ok, canon)
		}
		spans, ok := AppendObjectSpans(nil, data)
		if !ok || len(spans) != len(ms) {
			t.Fatalf("AppendObjectSpans(%q) = %d spans, %v; Object %d members", name, len(spans), ok, len(ms))
		}
		for k, sp := range spans {
			if m := sp.Member(data); !bytes.Equal(m.Name, ms[k].Name) || !bytes.Equal(m.Value, ms[k].Value) || m.Spaced != ms[k].Spaced {
				t.Fatalf("AppendObjectSpans(%q)[%d] = %+v; Object %+v", name, k, m, ms[k])
			}
		}
		again, ok := AppendMembers(nil, data)
		if !ok || len(again) != len(ms) {
			t.Fatalf("AppendMembers(%q) = %d members, %v; Object %d", name, len(again), ok, len(ms))
		}
		for k, m := range ms {
			compact := AppendCompactValid(nil, m.Value)
			if m.Spaced == bytes.Equal(compact, m.Value) {
				t.Fatalf("Object(%q) member %s: Spaced = %v for %s", name, m.Name, m.Spaced, m.Value)
			}
			if a := again[k]; !bytes.Equal(a.Name, m.Name) || !bytes.Equal(a.Value, m.Value) || a.Spaced != m.Spaced {
				t.Fatalf("AppendMembers(%q)[%d] = %+v; Object %+v", name, k, a, m)
			}
		}
		var want map[string]json.RawMessage
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("Object(%q) ok; json.Unmarshal: %v", name, err)
		}
		got := map[string]json.RawMessage{}
		for _, m := range ms {
			got[string(m.Name)] = m.Value
		}
		if len(got) != len(want) {
			t.Fatalf("Object(%q) has %d names; encoding/json %d", name, len(got), len(want))
		}
		for k, v := range want {
			if !bytes.Equal(got[k], v) {
				t.Fatalf("Object(%q)[%s] = %s; encoding/json %s", name, k, got[k], v)
			}
		}
	}

	if valid && bytes.HasPrefix(bytes.TrimSpace(data), []byte("[")) {
		var want []json.RawMessage
		if err := json.Unmarshal(data, &want); err == nil {
			got := AppendElements(nil, data)
			if len(got) != len(want) {
				t.Fatalf("AppendElements(%q) = %d elements; encoding/json %d", name, len(got), len(want))
			}
			for k := range got {
				if !bytes.Equal(got[k], want[k]) {
					t.Fatalf("AppendElements(%q)[%d] = %s; encoding/json %s", name, k, got[k], want[k])
				}
			}
		}
	}

	if got, ok := AppendCanonical(nil, data); ok {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("AppendCanonical(%q) ok; decode: %v", name, err)
		}
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("AppendCanonical(%q) ok; marshal: %v", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("AppendCanonical(%q) = %s; encoding/json %s", name, got, want)
		}
	} else if valid && len(data) < 10000 {
		t.Fatalf("AppendCanonical(%q) declined valid JSON", name)
	}

	if got, ok := AppendUnquote(nil, data); ok {
		var want string
		if err := json.Unmarshal(data, &want); err != nil || string(got) != want {
			t.Fatalf("AppendUnquote(%q) = %q; encoding/json %q, %v", name, got, want, err)
		}
	} else if bytes.HasPrefix(data, []byte(`"`)) && valid && len(bytes.TrimSpace(data)) == len(data) {
		t.Fatalf("AppendUnquote(%q) declined a valid string", name)
	}

	if s, ok := PlainString(data); ok {
		var want string
		if err := json.Unmarshal(data, &want); err != nil || s != want {
			t.Fatalf("PlainString(%q) = %q; encoding/json %q, %v", name, s, want, err)
		}
	}
}

func TestAppendString(t *testing.T) {
	var all []string
	for b := 0; b < 256; b++ {
		all = append(all, string([]byte{'a', byte(b), 'z'}))
	}
	all = append(all, "\u2028\u2029", "é", "😀", "\xed\xa0\x80", "", strings.Repeat("<&>", 10))
	for _, s := range all {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("AppendString(%q) = %s; want %s", s, got, want)
		}
	}
}

package pattern

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"unicode/utf8"
)

// fuzzEvents are matched against every pattern that FuzzCompile accepts.
var fuzzEvents = []string{ec2Event, rulerEvent, autoscalingEvent, macieEvent, existsEvent2, s3Event, mseEvent,
	`{}`, `[]`, `null`, `{"a":[{"b":[1,"x",null,true]}],"x":{"y":"10.0.0.1"}}`}

func FuzzCompile(f *testing.F) {
	for _, c := range matchCases {
		f.Add([]byte(c.pattern))
	}
	for _, c := range compileErrCases {
		f.Add([]byte(c.pattern))
	}
	f.Add([]byte(benchPattern))
	f.Fuzz(func(t *testing.T, p []byte) {
		pat, err := Compile(p)
		if err != nil {
			if pat != nil {
				t.Fatal("non-nil pattern with error")
			}
			if msg := err.Error(); len(msg) < len("pattern: x") || msg[:9] != "pattern: " {
				t.Fatalf("malformed error message %q", msg)
			}
			return
		}
		// Anything accepted must be a JSON object.
		if !json.Valid(p) || bytes.TrimSpace(p)[0] != '{' {
			t.Fatalf("accepted non-object or invalid JSON %q", p)
		}
		s := NewSet()
		if err := s.Add("p", p); err != nil {
			t.Fatalf("Set.Add rejected a pattern Compile accepted: %v", err)
		}
		for _, ev := range fuzzEvents {
			ok, err := pat.Match([]byte(ev))
			if err != nil {
				t.Fatalf("Match(%s): %v", ev, err)
			}
			names, err := s.Match([]byte(ev))
			if err != nil {
				t.Fatal(err)
			}
			if ok != (len(names) == 1) {
				t.Fatalf("pattern %s event %s: Pattern.Match=%v Set.Match=%v", p, ev, ok, names)
			}
		}
	})
}

func FuzzMatch(f *testing.F) {
	for _, c := range matchCases {
		f.Add([]byte(c.pattern), []byte(c.event))
	}
	f.Add([]byte(benchPattern), []byte(mseEvent))
	f.Add([]byte(`{"a":["\ud83d"]}`), []byte(`{"a":"\ud83d\u0041"}`))
	f.Add([]byte(`{"a":[{"numeric":[">",0]}]}`), []byte(`{"a":1e-999999999999999999999}`))
	f.Fuzz(func(t *testing.T, p, event []byte) {
		checkParser(t, event)
		pat, err := Compile(p)
		if err != nil {
			return
		}
		ok, err := pat.Match(event)
		if err != nil {
			return
		}
		// The indexed Set must agree with the single pattern, also when the
		// pattern shares the set with others (shared path/leaf caches) and
		// with itself under another name (identical patterns evaluated once).
		s := NewSet()
		_ = s.Add("p", p)
		_ = s.Add("p2", p)
		_ = s.Add("q", []byte(`{"source":["aws.ec2"],"detail":{"state":["running"]}}`))
		_ = s.Add("r", []byte(`{"a":[{"prefix":"x"}],"b":{"c":[{"exists":false}]}}`))
		names, err := s.Match(event)
		if err != nil {
			t.Fatalf("Set.Match error %v but Pattern.Match succeeded", err)
		}
		if ok != slices.Contains(names, "p") || ok != slices.Contains(names, "p2") {
			t.Fatalf("pattern %s event %s: Pattern.Match=%v Set.Match=%v", p, event, ok, names)
		}
		if !slices.IsSorted(names) {
			t.Fatalf("unsorted names %v", names)
		}
	})
}

// checkParser compares the event parser with encoding/json: both must agree
// on validity (except for invalid UTF-8 and excessive nesting, which this
// parser rejects), and on every decoded value.
func checkParser(t *testing.T, event []byte) {
	var d doc
	root, err := d.parse(event)
	valid := json.Valid(event)
	if err == nil && !valid {
		t.Fatalf("parser accepted invalid JSON %q", event)
	}
	if err != nil {
		if valid && utf8.Valid(event) && err != errTooDeep {
			t.Fatalf("parser rejected valid JSON %q: %v", event, err)
		}
		return
	}
	dec := json.NewDecoder(bytes.NewReader(event))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	if msg := sameValue(&d, root, v); msg != "" {
		t.Fatalf("event %q: %s", event, msg)
	}
}

func sameValue(d *doc, i int32, v any) string {
	nd := &d.nodes[i]
	switch x := v.(type) {
	case nil:
		if nd.kind != kNull {
			return "want null"
		}
	case bool:
		if (x && nd.kind != kTrue) || (!x && nd.kind != kFalse) {
			return fmt.Sprintf("want %v", x)
		}
	case json.Number:
		if nd.kind != kNum || string(nd.val) != string(x) {
			return fmt.Sprintf("want number %s, got %q", x, nd.val)
		}
	case string:
		if nd.kind != kStr || string(nd.val) != x {
			return fmt.Sprintf("want string %q, got %q", x, nd.val)
		}
	case []any:
		kids := d.children(i)
		if nd.kind != kArr || len(kids) != len(x) {
			return "array mismatch"
		}
		for j, k := range kids {
			if msg := sameValue(d, k, x[j]); msg != "" {
				return msg
			}
		}
	case map[string]any:
		if nd.kind != kObj {
			return "want object"
		}
		keys := map[string]bool{}
		for _, k := range d.children(i) {
			keys[string(d.nodes[k].key)] = true
		}
		if len(keys) != len(x) {
			return fmt.Sprintf("object has %d distinct keys, want %d", len(keys), len(x))
		}
		for key, val := range x {
			c := d.find(i, key)
			if c < 0 {
				return fmt.Sprintf("missing key %q", key)
			}
			if msg := sameValue(d, c, val); msg != "" {
				return msg
			}
		}
	}
	return ""
}

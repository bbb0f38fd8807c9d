package mapping

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventhub/eventhub/shared/adapter/golden"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/fault"
)

// rich uses every kind of value, checks, data.parse and data.set, and drop and keep
// rules: FuzzApply runs payloads through it and the presets.
const rich = `{
  "id": {"path": "$.id", "or": {"header": "x-id"}},
  "idFallback": "hash",
  "type": {"template": "t.{$.kind}{.$.sub[0]}{-header:x-event}", "map": {"t.a": "alpha"}, "default": "other"},
  "source": {"template": "/sources/{sourceId}{/$[\"repo name\"]}"},
  "subject": {"path": "$.a.b.c", "optional": true},
  "time": {"path": "$.at", "optional": true},
  "extensions": {"sev": {"path": "$.sev", "map": {"1": "fatal", "2": "warning"}, "default": "info"}, "h": {"hash": true}},
  "checks": [{"path": "$.tags", "is": ["array", "object"], "items": ["string"]}, {"path": "$.st", "oneOf": ["A", "B"]}],
  "data": {"path": "$", "parse": ["$.meta", "$.list[1]"], "set": {"n": {"path": "$.n", "as": "number", "optional": true}, "st": {"path": "$.st", "or": {"const": "A"}}}},
  "drop": [{"name": "pings", "pattern": {"zen": [{"exists": true}]}}],
  "keep": [{"name": "all", "pattern": {"id": [{"exists": false}]}}, {"name": "ids", "pattern": {"id": [{"anything-but": ""}]}}]
}`

// corpus returns the mapping documents of the package: the presets, the adapters
// re-expressed, and rich.
func corpus(tb testing.TB) [][]byte {
	docs := [][]byte{[]byte(rich)}
	for _, dir := range []string{"presets", filepath.Join("testdata", "adapters")} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				tb.Fatal(err)
			}
			docs = append(docs, b)
		}
	}
	return docs
}

func FuzzCompile(f *testing.F) {
	for _, d := range corpus(f) {
		f.Add(d)
	}
	f.Add([]byte(`{"id":{"template":"{{x}}{$[0][\"a\\\"b\"]}"},"type":{"const":"t"},"source":{"const":"s"},"time":{"path":"$.t","format":"2006-01-02 15:04"}}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		m, err := Compile(doc)
		if err != nil {
			e, ok := fault.As(err)
			if !ok || e.Code != fault.Invalid || e.Message == "" || !strings.HasPrefix(e.Path, "mapping") {
				t.Fatalf("Compile error %v (%T): want an invalid *fault.Error at mapping...", err, err)
			}
			return
		}
		for _, h := range m.Headers() {
			if h != strings.ToLower(h) || strings.HasPrefix(h, "x-hub-signature") || h == "authorization" || h == "x-gitlab-token" || h == "webhook-signature" {
				t.Fatalf("Headers() = %v: reads %q", m.Headers(), h)
			}
		}
		// Whatever compiles applies without a panic and keeps Apply's promises.
		for _, body := range []string{`{"id":"1","kind":"a","at":1700000000}`, `[1,{"a":{}}]`, `"x"`, `{}`} {
			applyChecked(t, m, []byte(body), map[string]string{"x-id": "h", "x-event": "e"})
		}
	})
}

func FuzzApply(f *testing.F) {
	for _, dir := range []string{"testdata/presets/*", "../adapter/juno/testdata", "../adapter/bkmonitor/testdata"} {
		inputs, _ := filepath.Glob(filepath.Join(dir, "*.input"))
		for _, in := range inputs {
			raw, err := os.ReadFile(in)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(raw, uint8(len(in)))
		}
	}
	f.Add([]byte(`{"id":"x","kind":"a","sub":["b"],"repo name":"o/r","a":{"b":{"c":3}},"at":"2026-11-23T10:04:05Z","sev":1,"tags":["a"],"st":"B","meta":"{\"k\": [1]}","list":[0,"[2, 3]"],"n":"7"}`), uint8(0))
	var ms []*Mapping
	for _, d := range corpus(f) {
		m, err := Compile(d)
		if err != nil {
			f.Fatal(err)
		}
		ms = append(ms, m)
	}
	headers := map[string]string{"x-id": "h", "x-event": "e", "x-github-event": "push", "x-github-delivery": "d",
		"x-gitlab-event-uuid": "u", "webhook-id": "msg_1"}
	f.Fuzz(func(t *testing.T, body []byte, which uint8) {
		applyChecked(t, ms[int(which)%len(ms)], body, headers)
	})
}

// applyChecked applies m and checks Apply's promises: an error is an invalid
// *fault.Error naming a payload member, a header, or a place in the body; an event is
// valid and survives JSON as golden.Check holds adapters to; applying again gives the
// same bytes.
func applyChecked(t *testing.T, m *Mapping, body []byte, headers map[string]string) {
	t.Helper()
	in := Input{Body: body, Headers: headers, SourceID: "src_1"}
	res, err := m.Apply(in)
	if err != nil {
		e, ok := fault.As(err)
		if !ok || e.Code != fault.Invalid || e.Message == "" {
			t.Fatalf("Apply error %v (%T): want an invalid *fault.Error", err, err)
		}
		if e.Path != "" && !strings.HasPrefix(e.Path, "$") && !strings.HasPrefix(e.Path, "header:") && !strings.HasPrefix(e.Path, "mapping.") {
			t.Fatalf("Apply error path %q names neither a member nor a header", e.Path)
		}
		return
	}
	if res.Event == nil {
		if res.Dropped == "" {
			t.Fatal("Apply gave no event, no rule and no error")
		}
		return
	}
	parse := func(raw []byte) (*cloudevent.Event, error) {
		r, err := m.Apply(Input{Body: raw, Headers: headers, SourceID: "src_1"})
		return r.Event, err
	}
	golden.Check(t, parse, body, res.Event, nil)
	a, _ := res.Event.MarshalJSON()
	again, _ := m.Apply(in)
	b, _ := again.Event.MarshalJSON()
	if !bytes.Equal(a, b) {
		t.Fatalf("Apply twice:\n%s\n%s", a, b)
	}
}

package mapping

import (
	"slices"
	"strings"
	"testing"

	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/jsonobject"
)

// base is the smallest valid document; tests add members to it.
const base = `"id":{"path":"$.id"},"type":{"const":"t"},"source":{"template":"/sources/{sourceId}"}`

func TestCompileRefuses(t *testing.T) {
	tests := []struct {
		name, doc, path string
	}{
		{"unknown member", `{` + base + `,"bogus":1}`, "mapping.bogus"},
		{"unknown value member", `{"id":{"path":"$.a","extra":1},"type":{"const":"t"},"source":{"const":"s"}}`, "mapping.id.extra"},
		{"path not a string", `{"id":{"path":3},"type":{"const":"t"},"source":{"const":"s"}}`, "mapping.id.path"},
		{"missing type", `{"id":{"path":"$.a"},"source":{"const":"s"}}`, "mapping.type"},
		{"two sources", `{"id":{"path":"$.a","const":"x"},"type":{"const":"t"},"source":{"const":"s"}}`, "mapping.id"},
		{"no source", `{"id":{"optional":true},"type":{"const":"t"},"source":{"const":"s"}}`, "mapping.id"},
		{"bad path", `{` + base + `,"subject":{"path":"a.b"}}`, "mapping.subject.path"},
		{"bad index", `{` + base + `,"subject":{"path":"$.a[x]"}}`, "mapping.subject.path"},
		{"deep path", `{` + base + `,"subject":{"path":"$` + strings.Repeat(".a", 33) + `"}}`, "mapping.subject.path"},
		{"bad time format", `{` + base + `,"time":{"path":"$.t","format":"yesterday"}}`, "mapping.time.format"},
		{"format off time", `{` + base + `,"subject":{"path":"$.t","format":"unix"}}`, "mapping.subject.format"},
		{"credential header", `{` + base + `,"subject":{"header":"Authorization"}}`, "mapping.subject.header"},
		{"signature header in template", `{` + base + `,"subject":{"template":"{header:x-hub-signature-256}"}}`, "mapping.subject.template"},
		{"gitlab token", `{` + base + `,"extensions":{"tok":{"header":"x-gitlab-token"}}}`, "mapping.extensions.tok.header"},
		{"unclosed brace", `{` + base + `,"subject":{"template":"a{$.b"}}`, "mapping.subject.template"},
		{"unknown reference", `{` + base + `,"subject":{"template":"a{b}"}}`, "mapping.subject.template"},
		{"bad extension name", `{` + base + `,"extensions":{"Sev":{"const":"x"}}}`, "mapping.extensions.Sev"},
		{"reserved extension", `{` + base + `,"extensions":{"dataref":{"const":"x"}}}`, "mapping.extensions.dataref"},
		{"empty const id", `{"id":{"const":""},"type":{"const":"t"},"source":{"const":"s"}}`, "mapping.id.const"},
		{"bad pattern", `{` + base + `,"drop":[{"name":"a","pattern":{}},{"name":"b","pattern":{"detail":{"x":[{"numeric":["<"]}]}}}]}`, "mapping.drop[1].pattern.detail.x"},
		{"rule without name", `{` + base + `,"drop":[{"pattern":{"a":[1]}}]}`, "mapping.drop[0].name"},
		{"duplicate rule", `{` + base + `,"drop":[{"name":"a","pattern":{"a":[1]}},{"name":"a","pattern":{"a":[2]}}]}`, "mapping.drop[1].name"},
		{"empty keep", `{` + base + `,"keep":[]}`, "mapping.keep"},
		{"bad fallback", `{` + base + `,"idFallback":"uuid"}`, "mapping.idFallback"},
		{"parse outside data", `{` + base + `,"data":{"path":"$.a","parse":["$.b"]}}`, "mapping.data.parse[0]"},
		{"malformed", `{` + base, "mapping"},
		{"or after default", `{` + base + `,"subject":{"path":"$.a","default":"x","or":{"path":"$.b"}}}`, "mapping.subject.or"},
		{"as off data.set", `{` + base + `,"subject":{"path":"$.a","as":"number"}}`, "mapping.subject.as"},
		{"bad as", `{` + base + `,"data":{"path":"$","set":{"n":{"path":"$.a","as":"date"}}}}`, "mapping.data.set.n.as"},
		{"set overlaps parse", `{` + base + `,"data":{"path":"$","parse":["$.m.x"],"set":{"m":{"const":"x"}}}}`, "mapping.data.set.m"},
		{"empty check", `{` + base + `,"checks":[{"path":"$.a"}]}`, "mapping.checks[0]"},
		{"bad kind", `{` + base + `,"checks":[{"path":"$.a","is":["text"]}]}`, "mapping.checks[0].is[0]"},
		{"too large", `{` + base + `,"subject":{"const":"` + strings.Repeat("x", maxDoc) + `"}}`, "mapping"},
		{"long template", `{` + base + `,"subject":{"template":"` + strings.Repeat("x", maxTemplate+1) + `"}}`, "mapping.subject.template"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Compile([]byte(tc.doc))
			e, ok := fault.As(err)
			if !ok || m != nil {
				t.Fatalf("Compile = %v, %v; want a *fault.Error", m, err)
			}
			if e.Code != fault.Invalid || e.Path != tc.path || e.Message == "" {
				t.Errorf("Compile error = %+v; want invalid at %s", e, tc.path)
			}
		})
	}
}

func TestApply(t *testing.T) {
	tests := []struct {
		name, doc, body string
		headers         map[string]string
		want            string // the event's JSON, or "dropped:<rule>"
		errPath         string
	}{
		{
			name: "paths headers templates",
			doc: `{"id":{"header":"x-delivery"},"type":{"template":"com.x.{header:X-Event}{.$.action}"},
				"source":{"template":"/sources/{sourceId}{/$.repo[\"full name\"]}"},"subject":{"path":"$.items[1].n"},
				"time":{"path":"$.at","format":"unix"},"extensions":{"sev":{"path":"$.sev","map":{"1":"fatal","2":"warning"}},"ok":{"path":"$.ok"}},
				"data":{"path":"$.payload"}}`,
			body:    `{"action":"opened","repo":{"full name":"o/r"},"items":[{"n":1},{"n":"two\u00e9"}],"at":1700000000.5,"sev":2,"ok":true,"payload":{"a":[1, 2]}}`,
			headers: map[string]string{"x-delivery": "d-1", "x-event": "issue"},
			want:    `{"specversion":"1.0","id":"d-1","source":"/sources/src_1/o/r","type":"com.x.issue.opened","subject":"twoé","time":"2023-11-14T22:13:20.5Z","datacontenttype":"application/json","ok":"true","sev":"warning","data":{"a":[1,2]}}`,
		},
		{
			name: "optional prefix omitted and defaults",
			doc:  `{` + base + `,"subject":{"path":"$.s","optional":true},"extensions":{"sev":{"path":"$.sev","map":{"1":"fatal"},"default":"info"}},"time":{"path":"$.t"}}`,
			body: `{"id":7,"sev":9,"t":"2026-11-23T10:00:00+08:00"}`,
			want: `{"specversion":"1.0","id":"7","source":"/sources/src_1","type":"t","time":"2026-11-23T10:00:00+08:00","datacontenttype":"application/json","sev":"info","data":{"id":7,"sev":9,"t":"2026-11-23T10:00:00+08:00"}}`,
		},
		{
			name: "hash fallback",
			doc:  `{` + base + `,"idFallback":"hash"}`,
			body: "{\"x\": \"a b\"}",
			want: `{"specversion":"1.0","id":"` + hashOf(`{"x":"a b"}`) + `","source":"/sources/src_1","type":"t","datacontenttype":"application/json","data":{"x":"a b"}}`,
		},
		{
			name: "parse embedded JSON",
			doc:  `{` + base + `,"data":{"path":"$","parse":["$.meta","$.note"]}}`,
			body: `{"id":1,"meta":"{\"a\": [1,2]}","note":"plain"}`,
			want: `{"specversion":"1.0","id":"1","source":"/sources/src_1","type":"t","datacontenttype":"application/json","data":{"id":1,"meta":{"a":[1,2]},"note":"plain"}}`,
		},
		{
			name: "embedded JSON that repeats a name stays a string",
			doc:  `{` + base + `,"data":{"path":"$","parse":["$.meta"]}}`,
			body: `{"id":1,"meta":"[{\"k\":1,\"k\":2}]"}`,
			want: `{"specversion":"1.0","id":"1","source":"/sources/src_1","type":"t","datacontenttype":"application/json","data":{"id":1,"meta":"[{\"k\":1,\"k\":2}]"}}`,
		},
		{
			name: "drop", doc: `{` + base + `,"drop":[{"name":"ignore-pings","pattern":{"zen":[{"exists":true}]}}]}`,
			body: `{"zen":"hi"}`, want: "dropped:ignore-pings",
		},
		{
			name: "keep", doc: `{` + base + `,"keep":[{"name":"prod","pattern":{"env":["prod"]}}]}`,
			body: `{"id":1,"env":"dev"}`, want: "dropped:keep",
		},
		{
			name: "kept", doc: `{` + base + `,"keep":[{"name":"prod","pattern":{"env":["prod"]}}]}`,
			body: `{"id":1,"env":"prod"}`,
			want: `{"specversion":"1.0","id":"1","source":"/sources/src_1","type":"t","datacontenttype":"application/json","data":{"id":1,"env":"prod"}}`,
		},
		{
			name: "or, set and an empty optional piece",
			doc: `{` + base + `,"subject":{"path":"$.a","or":{"path":"$.b"}},"extensions":{"grp":{"template":"g{/$.g}"}},
				"data":{"path":"$","set":{"sev":{"path":"$.sev","as":"number"},"status":{"path":"$.status","or":{"const":"OPEN"}}}}}`,
			body: `{"id":1,"b":"from-b","g":"","sev":"3"}`,
			want: `{"specversion":"1.0","id":"1","source":"/sources/src_1","type":"t","subject":"from-b","datacontenttype":"application/json","grp":"g","data":{"id":1,"b":"from-b","g":"","sev":3,"status":"OPEN"}}`,
		},
		{
			name: "set into an empty object",
			doc:  `{` + base + `,"idFallback":"hash","data":{"path":"$.d","set":{"x":{"const":"y"}}}}`,
			body: `{"d":{ }}`,
			want: `{"specversion":"1.0","id":"` + hashOf(`{"d":{}}`) + `","source":"/sources/src_1","type":"t","datacontenttype":"application/json","data":{"x":"y"}}`,
		},
		{name: "set a number that is not", doc: `{` + base + `,"data":{"path":"$","set":{"n":{"path":"$.n","as":"number"}}}}`, body: `{"id":1,"n":"x"}`, errPath: "$.n"},
		{name: "set into an array", doc: `{` + base + `,"data":{"path":"$.a","set":{"n":{"const":"x"}}}}`, body: `{"id":1,"a":[]}`, errPath: "$.a"},
		{name: "check required", doc: `{` + base + `,"checks":[{"path":"$.x","required":true}]}`, body: `{"id":1}`, errPath: "$.x"},
		{name: "check kind", doc: `{` + base + `,"checks":[{"path":"$.x","is":["integer","string"]}]}`, body: `{"id":1,"x":1.5}`, errPath: "$.x"},
		{name: "check oneOf", doc: `{` + base + `,"checks":[{"path":"$.x","oneOf":["a","b"]}]}`, body: `{"id":1,"x":"c"}`, errPath: "$.x"},
		{name: "check items", doc: `{` + base + `,"checks":[{"path":"$.x","items":["string"]}]}`, body: `{"id":1,"x":["a",2]}`, errPath: "$.x[1]"},
		{name: "source not a URI reference", doc: `{"id":{"const":"1"},"type":{"const":"t"},"source":{"template":"/s/{$.repo}"}}`, body: `{"repo":"a b%zz"}`, errPath: "$.repo"},
		{name: "or of an optional subject may be empty", doc: `{` + base + `,"subject":{"path":"$.a","or":{"path":"$.b","optional":true}}}`, body: `{"id":1,"b":""}`,
			want: `{"specversion":"1.0","id":"1","source":"/sources/src_1","type":"t","datacontenttype":"application/json","data":{"id":1,"b":""}}`},
		{name: "header not UTF-8", doc: `{"id":{"header":"x-id"},"type":{"const":"t"},"source":{"const":"s"}}`, body: `{}`, headers: map[string]string{"x-id": "\xff"}, errPath: "header:x-id"},
		{name: "missing id", doc: `{` + base + `}`, body: `{"x":1}`, errPath: "$.id"},
		{name: "null id", doc: `{` + base + `}`, body: `{"id":null}`, errPath: "$.id"},
		{name: "object id", doc: `{` + base + `}`, body: `{"id":{"a":1}}`, errPath: "$.id"},
		{name: "empty id", doc: `{` + base + `}`, body: `{"id":""}`, errPath: "$.id"},
		{name: "missing header", doc: `{"id":{"header":"x-id"},"type":{"const":"t"},"source":{"const":"s"}}`, body: `{}`, errPath: "header:x-id"},
		{name: "bad time", doc: `{` + base + `,"time":{"path":"$.alerts[0].startsAt","format":"rfc3339"}}`, body: `{"id":1,"alerts":[{"startsAt":"soon"}]}`, errPath: "$.alerts[0].startsAt"},
		{name: "unmapped value", doc: `{` + base + `,"extensions":{"sev":{"path":"$.sev","map":{"1":"fatal"}}}}`, body: `{"id":1,"sev":4}`, errPath: "$.sev"},
		{name: "malformed", doc: `{` + base + `}`, body: `{"id":1,`},
		{name: "duplicate names", doc: `{` + base + `}`, body: `{"id":1,"id":2}`, errPath: "$.id"},
		{name: "trailing data", doc: `{` + base + `}`, body: `{"id":1} {}`},
		{name: "empty", doc: `{` + base + `}`, body: ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Compile([]byte(tc.doc))
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			res, err := m.Apply(Input{Body: []byte(tc.body), Headers: tc.headers, SourceID: "src_1"})
			if tc.want == "" {
				e, ok := fault.As(err)
				if !ok || e.Code != fault.Invalid || e.Path != tc.errPath || e.Message == "" {
					t.Fatalf("Apply = %+v, %v; want an invalid error at %q", res, err, tc.errPath)
				}
				return
			}
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if d, ok := strings.CutPrefix(tc.want, "dropped:"); ok {
				if res.Dropped != d || res.Event != nil {
					t.Fatalf("Apply = %+v; want dropped by %s", res, d)
				}
				return
			}
			got, _ := res.Event.MarshalJSON()
			if string(got) != tc.want {
				t.Errorf("Apply =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func hashOf(compact string) string {
	r := &run{in: Input{Body: []byte(compact)}}
	return r.contentHash()
}

func TestContentHash(t *testing.T) {
	hash := func(body string) string { return (&run{in: Input{Body: []byte(body)}}).contentHash() }
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"white space between tokens", "{\n  \"a\": \"x y\",\t\"b\": [1, 2]\n}", `{"a":"x y","b":[1,2]}`, true},
		{"member order", `{"a":1,"b":2}`, `{"b":2,"a":1}`, true},
		{"escapes an encoder chose", `{"t":"CPU > 90% & <2"}`, `{"t":"CPU \u003e 90% \u0026 \u003c2"}`, true},
		{"white space inside a string", `{"a":"x y"}`, `{"a":"xy"}`, false},
		{"after an escaped quote", `{"a":"x\" y\\", "b":1}`, `{"a":"x\"y\\","b":1}`, false},
		{"array order", `{"b":[1,2]}`, `{"b":[2,1]}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := hash(tc.a), hash(tc.b)
			if len(a) != 32 || (a == b) != tc.same {
				t.Errorf("hash(%s) = %s, hash(%s) = %s; want equal: %v", tc.a, a, tc.b, b, tc.same)
			}
			if a != jsonobject.ContentID([]byte(tc.a)) {
				t.Errorf("hash(%s) = %s; want the generic adapter's content id", tc.a, a)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	m, err := Compile([]byte(`{"id":{"header":"X-Delivery"},"type":{"template":"{header:x-event}.{header:x-delivery}"},"source":{"const":"s"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Headers(); !slices.Equal(got, []string{"x-delivery", "x-event"}) {
		t.Errorf("Headers() = %v; want [x-delivery x-event]", got)
	}
}

func TestPresetsCompile(t *testing.T) {
	want := []string{"alertmanager", "github", "gitlab", "grafana", "standardwebhooks"}
	if got := Presets(); !slices.Equal(got, want) {
		t.Fatalf("Presets() = %v; want %v", got, want)
	}
	for _, name := range want {
		m, ok := Preset(name)
		if !ok || m == nil {
			doc, _ := presetFiles.ReadFile("presets/" + name + ".json")
			_, err := Compile(doc)
			t.Errorf("Preset(%s) does not compile: %v", name, err)
		}
		if len(m.drop) > 0 || len(m.keep) > 0 {
			t.Errorf("Preset(%s) has drop or keep rules: adapter.Parse cannot report a drop", name)
		}
	}
	if _, ok := Preset("nope"); ok {
		t.Error(`Preset("nope") found`)
	}
}

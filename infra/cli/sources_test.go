package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestSourcesMigrate: every transitional source is granted what only it published;
// values several published, values another source owns and reserved values are
// reported and granted to none; a source with a grant is left alone.
func TestSourcesMigrate(t *testing.T) {
	sources := `{"sources":[
		{"id":"src_a","name":"a","version":3,"transitional":true,"owned":{"exact":["/sources/src_a"],"prefixes":["/sources/src_a/"]}},
		{"id":"src_b","name":"b","version":1,"transitional":true,"owned":{"exact":["/sources/src_b"],"prefixes":["/sources/src_b/"]}},
		{"id":"src_c","name":"c","version":2,"owned":{"exact":["/sources/src_c"],"prefixes":["/sources/src_c/","/c/"]}}]}`
	page1 := `{"events":[
		{"sourceId":"src_a","event":{"source":"acs.mse"}},
		{"sourceId":"src_a","event":{"source":"/shared"}},
		{"sourceId":"src_a","event":{"source":"/sources/src_a"}},
		{"sourceId":"src_b","event":{"source":"/shared"}}],"cursor":"next"}`
	page2 := `{"events":[
		{"sourceId":"src_b","event":{"source":"/b-only"}},
		{"sourceId":"src_b","event":{"source":"bkmonitor"}},
		{"sourceId":"src_b","event":{"source":"/c/x"}},
		{"sourceId":"src_c","event":{"source":"/c/y"}}]}`
	a := newAPI(t, func(r *http.Request) (int, string) {
		switch {
		case r.Method == "GET" && r.URL.Path == "/sources":
			return 200, sources
		case r.Method == "GET" && r.URL.Path == "/events" && r.URL.Query().Get("cursor") == "":
			return 200, page1
		case r.Method == "GET" && r.URL.Path == "/events":
			return 200, page2
		case r.Method == "PATCH":
			return 200, `{}`
		}
		return 404, `{"error":{"code":"not_found"}}`
	})

	code, out, errOut := runCLI(t, a.env, "sources", "migrate")
	if code != 0 {
		t.Fatalf("migrate = %d %q", code, errOut)
	}
	for _, want := range []string{`grant   "acs.mse"`, `shared  "/shared" with [src_b]`, `grant   "/b-only"`, `refused "bkmonitor"`, `shared  "/c/x" with [src_c]`, "dry run"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	for _, r := range a.reqs {
		if r.Method == "PATCH" {
			t.Fatalf("a dry run patched %s", r.URL.Path)
		}
	}

	a.reqs, a.bodies = nil, nil
	if code, _, errOut := runCLI(t, a.env, "sources", "migrate", "-apply"); code != 0 {
		t.Fatalf("migrate -apply = %d %q", code, errOut)
	}
	patched := map[string]string{}
	for i, r := range a.reqs {
		if r.Method == "PATCH" {
			patched[r.URL.Path] = a.bodies[i]
		}
	}
	want := map[string]map[string]any{
		"/sources/src_a": {"owns": map[string]any{"exact": []any{"acs.mse"}, "prefixes": nil}, "version": 3.0},
		"/sources/src_b": {"owns": map[string]any{"exact": []any{"/b-only"}, "prefixes": nil}, "version": 1.0},
	}
	if len(patched) != len(want) {
		t.Fatalf("patched %v; want src_a and src_b only", patched)
	}
	for path, w := range want {
		var got map[string]any
		if err := json.Unmarshal([]byte(patched[path]), &got); err != nil {
			t.Fatalf("PATCH %s body %q: %v", path, patched[path], err)
		}
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(w)
		if string(gb) != string(wb) {
			t.Errorf("PATCH %s = %s; want %s", path, gb, wb)
		}
	}
}

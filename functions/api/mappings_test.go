package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/eventhub/eventhub/shared/store"
)

// ListMappings of the memStore: the versions its sources' writes saved.
func (m *memStore) ListMappings(_ context.Context, sourceID string) ([]store.MappingVersion, error) {
	out := []store.MappingVersion{}
	seen := map[int64]bool{}
	for _, v := range m.mappingLog {
		if v.SourceID == sourceID && !seen[v.Version] {
			seen[v.Version] = true
			out = append(out, v)
		}
	}
	return out, nil
}

const shopMapping = `{"id":{"path":"$.order_id"},"type":{"template":"shop.order.{$.status}"},"source":{"template":"/sources/{sourceId}"},
	"subject":{"header":"x-shop","optional":true},"drop":[{"name":"tests","pattern":{"test":[true]}}]}`

// TestAPISourceMapping: a mapping is validated when saved (400 with the path of the
// wrong part), makes the source generic and quarantining unless told otherwise, is
// shown, and each change is a new version.
func TestAPISourceMapping(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		path       string
	}{
		{"bad time format", `{"name":"m","mapping":{"id":{"path":"$.a"},"type":{"const":"t"},"source":{"const":"/s"},"time":{"path":"$.t","format":"yesterday"}}}`, 400, "mapping.time.format"},
		{"unknown member", `{"name":"m","mapping":{"id":{"path":"$.a"},"type":{"const":"t"},"source":{"const":"/s"},"bogus":1}}`, 400, "mapping.bogus"},
		{"credential header", `{"name":"m","mapping":{"id":{"header":"x-gitlab-token"},"type":{"const":"t"},"source":{"const":"/s"}}}`, 400, "mapping.id.header"},
		{"not an object", `{"name":"m","mapping":"yes"}`, 400, "mapping"},
		{"unknown format", `{"name":"m","format":"svix"}`, 400, "format"},
		{"secret for a token source", `{"name":"m","format":"generic","inboundSecret":"0123456789abcdef0123"}`, 400, "inboundSecret"},
		{"short secret", `{"name":"m","format":"github","inboundSecret":"short"}`, 400, "inboundSecret"},
		{"bad whsec", `{"name":"m","format":"standardwebhooks","inboundSecret":"whsec_AAAA"}`, 400, "inboundSecret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStore()
			resp := serve(t, newTestHandler(st), request("POST /sources", "/sources", nil, tc.body))
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d %s; want %d", resp.StatusCode, resp.Body, tc.status)
			}
			if e := errorOf(t, resp); e.Path != tc.path {
				t.Errorf("path = %q (%s); want %q", e.Path, e.Message, tc.path)
			}
			if len(st.sources) != 0 {
				t.Error("a source was created")
			}
		})
	}

	st := newMemStore()
	h := newTestHandler(st)
	resp := serve(t, h, request("POST /sources", "/sources", nil, `{"name":"shop","mapping":`+shopMapping+`}`))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create = %d %s", resp.StatusCode, resp.Body)
	}
	var v struct {
		ID, Format, OnInvalid, HookPath string
		Mapping                         json.RawMessage
		MappingVersion                  int64
	}
	if err := json.Unmarshal([]byte(resp.Body), &v); err != nil {
		t.Fatal(err)
	}
	if v.Format != "generic" || v.OnInvalid != store.OnInvalidQuarantine || v.MappingVersion != 1 || !strings.Contains(string(v.Mapping), "shop.order") || v.HookPath != "/hooks/"+v.ID {
		t.Errorf("created %+v; want generic, quarantine, mapping version 1, hook path", v)
	}
	id := map[string]string{"id": v.ID}
	patch := func(body string) int {
		return serve(t, h, request("PATCH /sources/{id}", "/sources/"+v.ID, id, body)).StatusCode
	}
	if s := patch(`{"mapping":{"id":{"path":"$.order_id"},"type":{"const":"t"},"source":{"const":"/s"},"time":{"path":"$.t","format":"unix","bogus":1}}}`); s != 400 {
		t.Errorf("patch with a broken mapping = %d; want 400", s)
	}
	if s := patch(`{"mapping":` + shopMapping + `}`); s != 200 || st.sources[0].MappingVersion != 1 {
		t.Errorf("patch with the same mapping = %d, version %d; want 200, still 1", s, st.sources[0].MappingVersion)
	}
	if s := patch(`{"mapping":{"id":{"path":"$.id"},"type":{"const":"t2"},"source":{"template":"/sources/{sourceId}"}}}`); s != 200 || st.sources[0].MappingVersion != 2 {
		t.Errorf("patch with a new mapping = %d, version %d; want 200, 2", s, st.sources[0].MappingVersion)
	}
	if s := patch(`{"mapping":null}`); s != 200 || st.sources[0].Mapping != nil || st.sources[0].MappingVersion != 2 {
		t.Errorf("patch removing the mapping = %d, %s v%d; want 200, none, still 2", s, st.sources[0].Mapping, st.sources[0].MappingVersion)
	}
	resp = serve(t, h, request("GET /sources/{id}/mappings", "/sources/"+v.ID+"/mappings", id, ""))
	var list struct {
		Mappings []store.MappingVersion
		Current  int64
	}
	if err := json.Unmarshal([]byte(resp.Body), &list); err != nil || resp.StatusCode != 200 {
		t.Fatalf("mappings = %d %s", resp.StatusCode, resp.Body)
	}
	if len(list.Mappings) != 2 || list.Current != 0 {
		t.Errorf("mappings = %+v; want versions 1 and 2, none current", list)
	}
}

// TestAPIDryRun: a dry run answers the event, the rule that drops the payload, or
// (422) what fails and where, with the source's mapping, one given inline or the
// source's preset, and stores nothing.
func TestAPIDryRun(t *testing.T) {
	st := newMemStore()
	st.sources = []store.Source{
		{ID: "src_shop", Format: "generic", Mapping: json.RawMessage(shopMapping), MappingVersion: 4},
		{ID: "src_ce", Format: "cloudevents"},
		{ID: "src_gh", Format: "github", InboundSecret: "ehs_secret-secret-secret"},
	}
	h := newTestHandler(st)
	for _, tc := range []struct {
		name, source, body string
		status             int
		want               string // in the answer
	}{
		{"event", "src_shop", `{"payload":{"order_id":"o-1","status":"paid"},"headers":{"X-Shop":"eu"}}`, 200, `"type":"shop.order.paid"`},
		{"subject from the header", "src_shop", `{"payload":{"order_id":"o-1","status":"paid"},"headers":{"X-Shop":"eu"}}`, 200, `"subject":"eu"`},
		{"dropped", "src_shop", `{"payload":{"order_id":"o-1","status":"paid","test":true}}`, 200, `"dropped":"tests"`},
		{"fails", "src_shop", `{"payload":{"status":"paid"}}`, 422, `"path":"$.order_id"`},
		{"object where text", "src_shop", `{"payload":{"order_id":{"a":1},"status":"paid"}}`, 422, `"path":"$.order_id"`},
		{"inline", "src_ce", `{"payload":{"id":"x"},"mapping":{"id":{"path":"$.id"},"type":{"const":"t"},"source":{"template":"/sources/{sourceId}"}}}`, 200, `"source":"/sources/src_ce"`},
		{"inline broken", "src_shop", `{"payload":{},"mapping":{"id":{"path":"x"}}}`, 400, `"path":"mapping.id.path"`},
		{"preset", "src_gh", `{"payload":{"action":"opened","repository":{"full_name":"o/r"}},"headers":{"x-github-event":"issues","x-github-delivery":"d-1"}}`, 200, `"type":"com.github.issues.opened"`},
		{"no mapping", "src_ce", `{"payload":{}}`, 400, `"path":"mapping"`},
		{"no payload", "src_shop", `{"headers":{}}`, 400, `"path":"payload"`},
		{"unknown source", "src_none", `{"payload":{}}`, 404, ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := serve(t, h, request("POST /sources/{id}/dry-run", "/sources/"+tc.source+"/dry-run", map[string]string{"id": tc.source}, tc.body))
			if resp.StatusCode != tc.status || !strings.Contains(resp.Body, tc.want) {
				t.Errorf("dry run = %d %s; want %d with %s", resp.StatusCode, resp.Body, tc.status, tc.want)
			}
			if strings.Contains(resp.Body, "ehs_secret") {
				t.Errorf("the answer shows the inbound secret: %s", resp.Body)
			}
		})
	}
}

// TestAPIInboundSecret: a github source is made with a secret, shown once; the list
// and the source never show it; a rotation makes a new one, shown once.
func TestAPIInboundSecret(t *testing.T) {
	st := newMemStore()
	h := newTestHandler(st)
	resp := serve(t, h, request("POST /sources", "/sources", nil, `{"name":"gh","format":"github"}`))
	var v struct {
		ID, InboundSecret, OnInvalid string
		HasInboundSecret             bool
	}
	if err := json.Unmarshal([]byte(resp.Body), &v); err != nil || resp.StatusCode != 201 {
		t.Fatalf("create = %d %s", resp.StatusCode, resp.Body)
	}
	if v.InboundSecret == "" || v.InboundSecret != st.sources[0].InboundSecret || !v.HasInboundSecret || v.OnInvalid != store.OnInvalidQuarantine {
		t.Fatalf("created %+v; want the secret shown once, quarantine", v)
	}
	id := map[string]string{"id": v.ID}
	for _, r := range []sourceReq{
		{"GET /sources", "/sources", nil},
		{"GET /sources/{id}", "/sources/" + v.ID, id},
	} {
		body := serve(t, h, request(r.route, r.path, r.params, "")).Body
		if strings.Contains(body, v.InboundSecret) || !strings.Contains(body, `"hasInboundSecret":true`) {
			t.Errorf("%s shows the secret or not that it has one: %s", r.route, body)
		}
	}
	resp = serve(t, h, request("POST /sources/{id}/rotate", "/sources/"+v.ID+"/rotate", id, `{"credential":"inboundSecret","grace":"1h"}`))
	var r struct{ InboundSecret string }
	_ = json.Unmarshal([]byte(resp.Body), &r)
	if resp.StatusCode != 200 || r.InboundSecret == "" || r.InboundSecret == v.InboundSecret || st.sources[0].PrevInboundSecret != v.InboundSecret {
		t.Errorf("rotate = %d %s; want a new secret, the old one in its grace", resp.StatusCode, resp.Body)
	}
	resp = serve(t, h, request("POST /sources", "/sources", nil, `{"name":"ce","format":"cloudevents"}`))
	var ce struct{ ID string }
	_ = json.Unmarshal([]byte(resp.Body), &ce)
	resp = serve(t, h, request("POST /sources/{id}/rotate", "/sources/"+ce.ID+"/rotate", map[string]string{"id": ce.ID}, `{"credential":"inboundSecret"}`))
	if resp.StatusCode != 400 {
		t.Errorf("rotate the inbound secret of a cloudevents source = %d; want 400", resp.StatusCode)
	}
}

type sourceReq struct {
	route, path string
	params      map[string]string
}

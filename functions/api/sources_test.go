package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/eventhub/eventhub/shared/auth"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/store"
)

// The memStore's sources and types, beside the routes they serve.

func (m *memStore) GetSource(_ context.Context, id string) (*store.Source, error) {
	if m.err != nil {
		return nil, m.err
	}
	for _, s := range m.sources {
		if s.ID == id {
			return &s, nil
		}
	}
	return nil, fmt.Errorf("source %s: %w", id, store.ErrNotFound)
}

func (m *memStore) UpdateSource(_ context.Context, src *store.Source) error {
	if m.err != nil {
		return m.err
	}
	for i, s := range m.sources {
		if s.ID == src.ID {
			if s.Version != src.Version {
				return fault.New(fault.Conflict, "source %s changed", src.ID)
			}
			src.Version++
			m.sources[i] = *src
			m.logMapping(*src)
			return nil
		}
	}
	return fmt.Errorf("source %s: %w", src.ID, store.ErrNotFound)
}

func (m *memStore) RotateToken(ctx context.Context, id, newHash string, _ time.Time) (*store.Source, error) {
	src, err := m.GetSource(ctx, id)
	if err != nil {
		return nil, err
	}
	src.TokenHash = newHash
	return src, m.UpdateSource(ctx, src)
}

func (m *memStore) PutType(_ context.Context, t store.EventType) (bool, *store.EventType, error) {
	if m.err != nil {
		return false, nil, m.err
	}
	if m.types == nil {
		m.types = map[string]store.EventType{}
	}
	_, existed := m.types[t.Type]
	m.types[t.Type] = t
	return !existed, &t, nil
}

func (m *memStore) GetType(_ context.Context, name string) (*store.EventType, error) {
	if t, ok := m.types[name]; ok {
		return &t, nil
	}
	return nil, fmt.Errorf("type %s: %w", name, store.ErrNotFound)
}

func (m *memStore) ListTypes(context.Context) ([]store.EventType, error) {
	out := []store.EventType{}
	for _, t := range m.types {
		out = append(out, t)
	}
	return out, nil
}

func (m *memStore) DeleteType(_ context.Context, name string) error {
	if _, ok := m.types[name]; !ok {
		return fmt.Errorf("type %s: %w", name, store.ErrNotFound)
	}
	delete(m.types, name)
	return nil
}

func TestAPISourceFormats(t *testing.T) {
	tests := []struct {
		name, body                string
		status                    int
		path                      string // of the error
		wantDataID, wantSigning   bool
		wantAppID, wantDedupeKeys string
	}{
		{name: "bkmonitor gets a data id", body: `{"name":"bk","format":"bkmonitor"}`, status: 201, wantDataID: true},
		{name: "bkmonitor keeps its data id", body: `{"name":"bk","format":"bkmonitor","dataId":1500001,"dedupeKeys":["alert_name","target"]}`, status: 201, wantDataID: true, wantDedupeKeys: "alert_name,target"},
		{name: "iuap gets a key and its id as appId", body: `{"name":"crm","format":"iuap"}`, status: 201, wantSigning: true, wantAppID: "src_1"},
		{name: "iuap with its node code", body: `{"name":"crm","format":"iuap","appId":"ANONYMOUS_CLUSTER"}`, status: 201, wantSigning: true, wantAppID: "ANONYMOUS_CLUSTER"},
		{name: "signing on request", body: `{"name":"juno","format":"juno","signing":true}`, status: 201, wantSigning: true},
		{name: "every format", body: `{"name":"x","format":"huaweiconfig"}`, status: 201},
		{name: "generic", body: `{"name":"x","format":"generic"}`, status: 201},
		{name: "bad appId", body: `{"name":"crm","format":"iuap","appId":"a b"}`, status: 400, path: "appId"},
		{name: "negative data id", body: `{"name":"bk","format":"bkmonitor","dataId":-1}`, status: 400, path: "dataId"},
		{name: "empty dedupe key", body: `{"name":"bk","dedupeKeys":["a",""]}`, status: 400, path: "dedupeKeys[1]"},
		{name: "unknown field", body: `{"name":"bk","token":"mine"}`, status: 400, path: "token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStore()
			resp := serve(t, newTestHandler(st), request("POST /sources", "/sources", nil, tc.body))
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d; want %d (%s)", resp.StatusCode, tc.status, resp.Body)
			}
			if tc.status != 201 {
				if e := errorOf(t, resp); e.Path != tc.path {
					t.Errorf("error path = %q; want %q", e.Path, tc.path)
				}
				return
			}
			var got sourceView
			if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
				t.Fatal(err)
			}
			src := st.sources[0]
			if (src.DataID > 0) != tc.wantDataID || got.DataID != src.DataID {
				t.Errorf("dataId = %d (shown %d); want one: %v", src.DataID, got.DataID, tc.wantDataID)
			}
			if (src.SigningKey != "") != tc.wantSigning || got.SigningKey != src.SigningKey || got.Signing != tc.wantSigning {
				t.Errorf("signing key stored %q, shown %q; want one: %v", src.SigningKey, got.SigningKey, tc.wantSigning)
			}
			if src.AppID != tc.wantAppID {
				t.Errorf("appId = %q; want %q", src.AppID, tc.wantAppID)
			}
			if k := strings.Join(src.DedupeKeys, ","); k != tc.wantDedupeKeys {
				t.Errorf("dedupeKeys = %q; want %q", k, tc.wantDedupeKeys)
			}
			// Read back: neither the token nor the key again.
			resp = serve(t, newTestHandler(st), request("GET /sources/{id}", "/sources/"+src.ID, map[string]string{"id": src.ID}, ""))
			if resp.StatusCode != 200 || strings.Contains(resp.Body, "ehk_") || strings.Contains(resp.Body, "ehp_") {
				t.Errorf("GET /sources/%s = %d %s; want 200 without secrets", src.ID, resp.StatusCode, resp.Body)
			}
		})
	}
}

func TestAPISourceLifecycle(t *testing.T) {
	st := newMemStore()
	h := newTestHandler(st)
	resp := serve(t, h, request("POST /sources", "/sources", nil, `{"name":"crm","format":"iuap"}`))
	var created sourceView
	_ = json.Unmarshal([]byte(resp.Body), &created)
	id := map[string]string{"id": created.ID}

	resp = serve(t, h, request("PATCH /sources/{id}", "/sources/"+created.ID, id, `{"enabled":false,"dedupeKeys":["eventType"],"name":"crm prod"}`))
	if resp.StatusCode != 200 || st.sources[0].Enabled || st.sources[0].Name != "crm prod" || len(st.sources[0].DedupeKeys) != 1 {
		t.Fatalf("PATCH = %d %s; stored %+v", resp.StatusCode, resp.Body, st.sources[0])
	}

	resp = serve(t, h, request("POST /sources/{id}/rotate", "/sources/"+created.ID+"/rotate", id, ""))
	var rotated sourceView
	_ = json.Unmarshal([]byte(resp.Body), &rotated)
	if resp.StatusCode != 200 || rotated.Token == "" || rotated.Token == created.Token || st.sources[0].TokenHash != auth.Hash(rotated.Token) {
		t.Fatalf("rotate token = %d %s", resp.StatusCode, resp.Body)
	}

	resp = serve(t, h, request("POST /sources/{id}/rotate", "/sources/"+created.ID+"/rotate", id, `{"credential":"signingKey","grace":"1h"}`))
	_ = json.Unmarshal([]byte(resp.Body), &rotated)
	src := st.sources[0]
	if resp.StatusCode != 200 || rotated.SigningKey == "" || rotated.SigningKey == created.SigningKey || src.PrevSigningKey != created.SigningKey {
		t.Fatalf("rotate key = %d %s; stored %+v", resp.StatusCode, resp.Body, src)
	}
	if keys := src.SigningKeys(now.Add(59 * time.Minute)); len(keys) != 2 {
		t.Errorf("keys within the grace period = %d; want 2", len(keys))
	}
	if keys := src.SigningKeys(now.Add(61 * time.Minute)); len(keys) != 1 {
		t.Errorf("keys after the grace period = %d; want 1", len(keys))
	}

	for _, tc := range []struct{ body, path string }{
		{`{"grace":"forever"}`, "grace"},
		{`{"grace":"1000h"}`, "grace"},
		{`{"credential":"password"}`, "credential"},
	} {
		resp = serve(t, h, request("POST /sources/{id}/rotate", "/sources/"+created.ID+"/rotate", id, tc.body))
		if resp.StatusCode != 400 || errorOf(t, resp).Path != tc.path {
			t.Errorf("rotate %s = %d %s; want 400 at %s", tc.body, resp.StatusCode, resp.Body, tc.path)
		}
	}
	missing := map[string]string{"id": "src_nope"}
	for _, req := range []struct{ route, body string }{
		{"GET /sources/{id}", ""}, {"PATCH /sources/{id}", `{"enabled":true}`}, {"POST /sources/{id}/rotate", ""},
	} {
		resp = serve(t, h, request(req.route, "/sources/src_nope", missing, req.body))
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s unknown = %d; want 404", req.route, resp.StatusCode)
		}
	}
}

func TestAPITypes(t *testing.T) {
	st := newMemStore()
	h := newTestHandler(st)
	name := map[string]string{"type": "ORDER:UPDATE"}
	body := `{"description":"订单修改","owner":"crm","version":"1","schema":{"type":"object","required":["orderId"]}}`
	resp := serve(t, h, request("PUT /types/{type}", "/types/ORDER:UPDATE", name, body))
	if resp.StatusCode != http.StatusCreated || !strings.Contains(resp.Body, `"schema":{"type":"object","required":["orderId"]}`) {
		t.Fatalf("PUT = %d %s; want 201 with the schema", resp.StatusCode, resp.Body)
	}
	resp = serve(t, h, request("PUT /types/{type}", "/types/ORDER:UPDATE", name, `{"owner":"crm","version":"2"}`))
	if resp.StatusCode != http.StatusOK || st.types["ORDER:UPDATE"].Schema != "" {
		t.Fatalf("PUT again = %d %s; want 200 and the schema gone", resp.StatusCode, resp.Body)
	}
	if resp = serve(t, h, request("GET /types/{type}", "/types/ORDER:UPDATE", name, "")); resp.StatusCode != 200 || !strings.Contains(resp.Body, `"version":"2"`) {
		t.Errorf("GET = %d %s", resp.StatusCode, resp.Body)
	}
	if resp = serve(t, h, request("GET /types", "/types", nil, "")); resp.StatusCode != 200 || !strings.Contains(resp.Body, `"type":"ORDER:UPDATE"`) {
		t.Errorf("GET /types = %d %s", resp.StatusCode, resp.Body)
	}
	for _, tc := range []struct{ body, path string }{
		{`{"schema":{"$ref":"#/x"}}`, "schema.$ref"},
		{`{"schema":{"properties":{"n":{"minimum":"0"}}}}`, "schema.properties.n.minimum"},
		{`{"schema":3}`, "schema"},
		{`{"owner":1}`, "owner"},
	} {
		resp = serve(t, h, request("PUT /types/{type}", "/types/x", map[string]string{"type": "x"}, tc.body))
		if resp.StatusCode != 400 || errorOf(t, resp).Path != tc.path {
			t.Errorf("PUT %s = %d %s; want 400 at %s", tc.body, resp.StatusCode, resp.Body, tc.path)
		}
	}
	if resp = serve(t, h, request("DELETE /types/{type}", "/types/ORDER:UPDATE", name, "")); resp.StatusCode != http.StatusNoContent {
		t.Errorf("DELETE = %d", resp.StatusCode)
	}
	if resp = serve(t, h, request("DELETE /types/{type}", "/types/ORDER:UPDATE", name, "")); resp.StatusCode != http.StatusNotFound {
		t.Errorf("DELETE again = %d; want 404", resp.StatusCode)
	}
	long := strings.Repeat("t", 257)
	if resp = serve(t, h, request("GET /types/{type}", "/types/"+long, map[string]string{"type": long}, "")); resp.StatusCode != 400 {
		t.Errorf("GET long name = %d; want 400", resp.StatusCode)
	}
}

// TestValidAppID checks validAppID against the pattern it replaces.
func TestValidAppID(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9_.\-]{1,64}$`)
	for _, id := range []string{"", "a", "ANONYMOUS_CLUSTER", "crm.prod-1", "a b", "a/b", "é", strings.Repeat("x", 64), strings.Repeat("x", 65), "x\n", "-._"} {
		if got, want := validAppID(id), re.MatchString(id); got != want {
			t.Errorf("validAppID(%q) = %v; want %v", id, got, want)
		}
	}
}

func FuzzValidAppID(f *testing.F) {
	re := regexp.MustCompile(`^[A-Za-z0-9_.\-]{1,64}$`)
	f.Add("crm.prod-1")
	f.Fuzz(func(t *testing.T, id string) {
		if got, want := validAppID(id), re.MatchString(id); got != want {
			t.Errorf("validAppID(%q) = %v; want %v", id, got, want)
		}
	})
}

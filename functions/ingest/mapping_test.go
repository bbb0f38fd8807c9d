package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/inbound"
	"github.com/eventhub/eventhub/shared/ownership"
	"github.com/eventhub/eventhub/shared/store"
)

const mapDoc = `{"id":{"path":"$.id"},"type":{"template":"shop.{$.kind}"},"source":{"template":"/sources/{sourceId}"},
	"subject":{"header":"x-shop","optional":true},"drop":[{"name":"pings","pattern":{"kind":["ping"]}}]}`

// mappedReply is the answer of ingest with the mapping's fields.
type mappedReply struct {
	Accepted, Rejected, Quarantined, Dropped int
	IDs                                      []string
	Results                                  []struct {
		ID, QuarantineID, Dropped string
		Error                     *struct{ Code, Path, Message string }
	}
	Error *struct{ Code, Path, Message string }
}

func mappedHandler(pub *fakeBus, onInvalid string) *handler {
	h := newHookHandler(pub)
	src := &store.Source{ID: "src_map", Format: "generic", Enabled: true, Owns: &ownership.Set{}, Mapping: json.RawMessage(mapDoc), MappingVersion: 3, OnInvalid: onInvalid}
	sources := map[string]*store.Source{"ehp_map": src}
	for k, v := range testSources {
		sources[k] = v
	}
	h.sources = knownSources(sources)
	return h
}

// TestIngestMapped: a source's mapping reads the whole body as one event with the
// headers it names, and only those go on the bus, with the mapping's version; a drop
// rule answers 202 naming the rule and publishes nothing; what the mapping cannot
// read is rejected with the payload's path, or quarantined.
func TestIngestMapped(t *testing.T) {
	cases := []struct {
		name      string
		onInvalid string
		bodyToken bool // the token in a BlueKing-like body, not the header
		body      string
		status    int
		published int
		check     func(t *testing.T, r mappedReply, pub *fakeBus)
	}{
		{"mapped", "", false, `{"id":"o-1","kind":"order"}`, 202, 1, func(t *testing.T, r mappedReply, pub *fakeBus) {
			want := cloudevent.Key("/sources/src_map", "o-1")
			if len(r.IDs) != 1 || r.IDs[0] != want {
				t.Errorf("ids = %v; want [%s]", r.IDs, want)
			}
			h := pub.events[0].Hub
			if h.MappingVersion != 3 || len(h.Headers) != 1 || h.Headers["x-shop"] != "eu" || h.Key != want {
				t.Errorf("hub = %+v; want mapping version 3, headers only x-shop, key %s", h, want)
			}
		}},
		{"an array is one event", "", false, `[{"id":"o-1"}]`, 400, 0, func(t *testing.T, r mappedReply, _ *fakeBus) {
			if r.Error == nil || r.Error.Path != "$.id" {
				t.Errorf("error = %+v; want the path $.id", r.Error)
			}
		}},
		{"envelope-like body is one event", "", false, `{"id":"o-2","kind":"order","data_id":1,"data":[{"a":1}]}`, 202, 1, func(t *testing.T, r mappedReply, pub *fakeBus) {
			if !strings.Contains(string(pub.events[0].Raw), `"data_id":1`) {
				t.Errorf("raw = %s; want the whole body", pub.events[0].Raw)
			}
		}},
		{"token in the body", "", true, `{"id":"o-3","kind":"order","data_id":0,"access_token":"ehp_map","data":[{"a":1}]}`, 401, 0, func(t *testing.T, r mappedReply, _ *fakeBus) {
			if r.Error == nil || !strings.Contains(r.Error.Message, "Bearer") {
				t.Errorf("error = %+v; want to be told to send the token in the header", r.Error)
			}
		}},
		{"dropped", "", false, `{"id":"p-1","kind":"ping"}`, 202, 0, func(t *testing.T, r mappedReply, _ *fakeBus) {
			if r.Dropped != 1 || len(r.Results) != 1 || r.Results[0].Dropped != "pings" || r.Accepted != 0 || len(r.IDs) != 0 {
				t.Errorf("reply = %+v; want one event dropped by pings", r)
			}
		}},
		{"rejected", "", false, `{"kind":"order"}`, 400, 0, func(t *testing.T, r mappedReply, _ *fakeBus) {
			if r.Error == nil || r.Error.Path != "$.id" || !strings.Contains(r.Error.Message, "id") {
				t.Errorf("error = %+v; want the path $.id", r.Error)
			}
		}},
		{"quarantined", store.OnInvalidQuarantine, false, `{"kind":"order"}`, 202, 1, func(t *testing.T, r mappedReply, pub *fakeBus) {
			if r.Quarantined != 1 || r.Results[0].QuarantineID == "" {
				t.Errorf("reply = %+v; want one quarantined", r)
			}
			if q := pub.events[0].Hub.Quarantine; q == nil || !strings.Contains(q.Reason, "$.id") {
				t.Errorf("hub.quarantine = %+v; want the reason naming $.id", q)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pub := &fakeBus{}
			req := post("application/json", tc.body)
			req.Headers["authorization"] = "Bearer ehp_map"
			if tc.bodyToken {
				delete(req.Headers, "authorization")
			}
			req.Headers["x-shop"] = "eu"
			req.Headers["x-other"] = "not read"
			resp, err := mappedHandler(pub, tc.onInvalid).handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			var r mappedReply
			if err := json.Unmarshal([]byte(resp.Body), &r); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status || len(pub.events) != tc.published {
				t.Fatalf("status %d, %d published (%s); want %d, %d", resp.StatusCode, len(pub.events), resp.Body, tc.status, tc.published)
			}
			tc.check(t, r, pub)
		})
	}
}

// TestHookGitHub: a GitHub delivery on its source's /hooks URL, signed with its
// secret, becomes one event under the preset: the delivery id is its id, and only the
// headers the preset reads go on the bus (never the signature).
func TestHookGitHub(t *testing.T) {
	body := `{"action":"opened","repository":{"full_name":"octo/hello"},"issue":{"number":1}}`
	headers := inbound.Sign(inbound.GitHub, ghSecret, "", now, []byte(body))
	headers["x-github-delivery"] = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
	headers["x-github-event"] = "issues"
	headers["user-agent"] = "GitHub-Hookshot/044aadd"
	pub := &fakeBus{}
	resp, err := newHookHandler(pub).handle(context.Background(), hook("src_gh", headers, body))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusAccepted || len(pub.events) != 1 {
		t.Fatalf("status %d %s, %d published; want 202 and one", resp.StatusCode, resp.Body, len(pub.events))
	}
	h := pub.events[0].Hub
	if h.MappingVersion != 0 || h.Format != inbound.GitHub || h.Headers["x-github-event"] != "issues" || h.Headers["x-github-delivery"] == "" {
		t.Errorf("hub = %+v; want the github preset with its headers", h)
	}
	for name := range h.Headers {
		if strings.HasPrefix(name, "x-hub-signature") || name == "user-agent" {
			t.Errorf("hub.headers carries %s", name)
		}
	}
	if h.Key == "" || !strings.Contains(resp.Body, h.Key) {
		t.Errorf("reply %s does not name the key %s", resp.Body, h.Key)
	}
	raw, _ := json.Marshal(pub.entries[0].Detail)
	if strings.Contains(string(raw), ghSecret) || strings.Contains(string(raw), headers[inbound.HeaderGitHubSignature][7:]) {
		t.Errorf("the Event Received carries the secret or the signature: %s", raw)
	}
}

package tests

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/eventhub/eventhub/shared/bus"
	"github.com/eventhub/eventhub/shared/cloudevent"
	"github.com/eventhub/eventhub/shared/inbound"
	"github.com/eventhub/eventhub/shared/mapping"
)

// The mapping end to end (issue 18): an admin creates a source with a mapping,
// dry-runs a payload, sends it and reads the stored CloudEvent; a drop rule drops; a
// broken mapping is refused with its path; a payload the mapping cannot read is
// quarantined and re-submitted once the mapping is fixed; a mapping change keeps the
// keys of events already stored.

const shopMapping = `{
	"id": {"path": "$.order_id"},
	"type": {"template": "shop.order.{$.status}"},
	"source": {"template": "/sources/{sourceId}/{$.shop}"},
	"subject": {"header": "x-shop-region", "optional": true},
	"time": {"path": "$.paid_at", "format": "unix", "optional": true},
	"extensions": {"severity": {"path": "$.level", "map": {"1": "fatal", "2": "warning"}, "default": "info"}},
	"data": {"path": "$"},
	"drop": [{"name": "test-orders", "pattern": {"test": [true]}}]
}`

type mappedAnswer struct {
	Accepted, Rejected, Quarantined, Dropped int
	IDs                                      []string
	Results                                  []struct {
		ID, QuarantineID, Dropped string
		Error                     *struct{ Code, Path, Message string }
	}
	Error *struct{ Code, Path, Message string }
}

func sendMapped(t *testing.T, path, token string, headers map[string]string, body string) (int, mappedAnswer, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, local.APIURL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	_ = json.NewDecoder(resp.Body).Decode(&raw)
	var out mappedAnswer
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out, raw
}

func TestMappedSourceEndToEnd(t *testing.T) {
	needStack(t)
	shop := fmt.Sprintf("shop-%d", time.Now().UnixNano())

	// A broken mapping is refused with the path of its wrong part.
	var refused struct {
		Error struct{ Path, Message string }
	}
	broken := strings.Replace(shopMapping, `"format": "unix"`, `"format": "yesterday"`, 1)
	if status := call(t, http.MethodPost, "/sources", local.AdminToken, `{"name":"e2e-mapping-broken","mapping":`+broken+`}`, &refused); status != http.StatusBadRequest || refused.Error.Path != "mapping.time.format" {
		t.Fatalf("POST /sources with a broken mapping = %d %+v; want 400 at mapping.time.format", status, refused)
	}

	var src struct {
		ID, Token, Format, OnInvalid string
		MappingVersion               int64
	}
	if status := call(t, http.MethodPost, "/sources", local.AdminToken, `{"name":"e2e-mapping","mapping":`+shopMapping+`}`, &src); status != http.StatusCreated {
		t.Fatalf("POST /sources with a mapping = %d", status)
	}
	rememberSecret(src.Token)
	if src.Format != "generic" || src.OnInvalid != "quarantine" || src.MappingVersion != 1 {
		t.Errorf("source %+v; want generic, quarantine, mapping version 1", src)
	}
	if status := call(t, http.MethodPatch, "/sources/"+src.ID, local.AdminToken, `{"mapping":`+broken+`}`, &refused); status != http.StatusBadRequest || refused.Error.Path != "mapping.time.format" {
		t.Errorf("PATCH with a broken mapping = %d %+v; want 400 at mapping.time.format", status, refused)
	}

	order := fmt.Sprintf(`{"order_id":"o-%s","status":"paid","shop":%q,"paid_at":1764633600,"level":2,"items":[{"sku":"a","qty":1}]}`, shop, shop)
	headers := map[string]string{"X-Shop-Region": "eu-west"}

	// Dry run: the event the payload would become, nothing stored.
	var dry struct {
		Event   map[string]any
		Dropped string
		Path    string
	}
	if status := call(t, http.MethodPost, "/sources/"+src.ID+"/dry-run", local.AdminToken, `{"payload":`+order+`,"headers":{"X-Shop-Region":"eu-west"}}`, &dry); status != http.StatusOK {
		t.Fatalf("dry run = %d %+v; want 200", status, dry)
	}
	wantSource := "/sources/" + src.ID + "/" + shop
	if dry.Event["type"] != "shop.order.paid" || dry.Event["source"] != wantSource || dry.Event["subject"] != "eu-west" ||
		dry.Event["severity"] != "warning" || dry.Event["time"] != "2025-12-02T00:00:00Z" || dry.Event["id"] != "o-"+shop {
		t.Errorf("dry run event %v; want the mapped attributes", dry.Event)
	}
	key := cloudevent.Key(wantSource, "o-"+shop)
	if status, _ := getEvent(t, key); status != http.StatusNotFound {
		t.Errorf("GET the dry-run event = %d; want 404 (a dry run stores nothing)", status)
	}
	dry.Event = nil
	if status := call(t, http.MethodPost, "/sources/"+src.ID+"/dry-run", local.AdminToken, `{"payload":{"status":"paid","shop":"x"}}`, &dry); status != http.StatusUnprocessableEntity || dry.Path != "$.order_id" {
		t.Errorf("dry run of a payload without an id = %d %+v; want 422 at $.order_id", status, dry)
	}

	// Sent: stored as the dry run showed.
	status, out, raw := sendMapped(t, "/events", src.Token, headers, order)
	if status != http.StatusAccepted || len(out.IDs) != 1 || out.IDs[0] != key {
		t.Fatalf("POST /events = %d %s; want 202 with the key %s", status, raw, key)
	}
	stored := waitStored(t, key)
	var ev map[string]any
	if err := json.Unmarshal(stored.Event, &ev); err != nil {
		t.Fatal(err)
	}
	if ev["type"] != "shop.order.paid" || ev["subject"] != "eu-west" || ev["severity"] != "warning" {
		t.Errorf("stored %s; want the mapped event", stored.Event)
	}
	if d, ok := busEntries.first(bus.SourceIngest, bus.Received, shop); !ok || !strings.Contains(d.Detail, `"x-shop-region":"eu-west"`) || strings.Contains(d.Detail, src.Token) || !strings.Contains(d.Detail, `"mappingVersion":1`) {
		t.Errorf("Event Received %q: want the header the mapping reads, the mapping version, no token", d.Detail)
	}

	// A drop rule drops: 202 naming the rule, nothing on the bus.
	test := fmt.Sprintf(`{"order_id":"t-%s","status":"paid","shop":%q,"test":true}`, shop, shop)
	status, out, raw = sendMapped(t, "/events", src.Token, nil, test)
	if status != http.StatusAccepted || out.Dropped != 1 || len(out.Results) != 1 || out.Results[0].Dropped != "test-orders" || len(out.IDs) != 0 {
		t.Errorf("POST a test order = %d %s; want 202 dropped by test-orders", status, raw)
	}
	if _, ok := busEntries.first(bus.SourceIngest, bus.Received, "t-"+shop); ok {
		t.Error("a dropped event went on the bus")
	}

	// A payload the mapping cannot read is quarantined (the default of a mapped source).
	noID := fmt.Sprintf(`{"number":"n-%s","status":"paid","shop":%q}`, shop, shop)
	status, out, raw = sendMapped(t, "/events", src.Token, headers, noID)
	if status != http.StatusAccepted || out.Quarantined != 1 || out.Results[0].QuarantineID == "" || !strings.Contains(out.Results[0].Error.Message, "$.order_id") {
		t.Fatalf("POST an order without an id = %d %s; want 202 quarantined naming $.order_id", status, raw)
	}
	qid := out.Results[0].QuarantineID
	var q struct {
		Reason  string
		Headers map[string]string
	}
	eventually(t, 20*time.Second, "quarantine item "+qid, func() bool {
		return call(t, http.MethodGet, "/quarantine/"+qid, local.AdminToken, "", &q) == http.StatusOK
	})
	if !strings.Contains(q.Reason, "$.order_id") || q.Headers["x-shop-region"] != "eu-west" {
		t.Errorf("quarantined %+v; want the reason naming $.order_id and the header kept", q)
	}

	// The mapping is fixed (version 2: the id falls back to "number"); the quarantined
	// event re-submitted is stored under it, and the event stored under version 1 keeps
	// its key and its attributes.
	fixed := strings.Replace(shopMapping, `"id": {"path": "$.order_id"}`, `"id": {"template": "{$.number}"}`, 1)
	fixed = strings.Replace(fixed, `"type": {"template": "shop.order.{$.status}"}`, `"type": {"template": "shop.order.v2.{$.status}"}`, 1)
	var patched struct{ MappingVersion int64 }
	if status := call(t, http.MethodPatch, "/sources/"+src.ID, local.AdminToken, `{"mapping":`+fixed+`}`, &patched); status != http.StatusOK || patched.MappingVersion != 2 {
		t.Fatalf("PATCH the mapping = %d, version %d; want 200, 2", status, patched.MappingVersion)
	}
	if status := call(t, http.MethodPost, "/quarantine/"+qid+"/resubmit", local.AdminToken, "", nil); status != http.StatusAccepted {
		t.Fatalf("resubmit = %d; want 202", status)
	}
	resubmitted := waitStored(t, cloudevent.Key(wantSource, "n-"+shop))
	if !strings.Contains(string(resubmitted.Event), `"type":"shop.order.v2.paid"`) || !strings.Contains(string(resubmitted.Event), `"subject":"eu-west"`) {
		t.Errorf("re-submitted event %s; want it mapped by version 2 with its header", resubmitted.Event)
	}
	if status, again := getEvent(t, key); status != http.StatusOK || !strings.Contains(string(again.Event), `"type":"shop.order.paid"`) {
		t.Errorf("the version 1 event after the change = %d %s; want it as stored", status, again.Event)
	}
	var versions struct {
		Mappings []struct{ Version int64 }
		Current  int64
	}
	if status := call(t, http.MethodGet, "/sources/"+src.ID+"/mappings", local.AdminToken, "", &versions); status != http.StatusOK || len(versions.Mappings) != 2 || versions.Current != 2 {
		t.Errorf("GET mappings = %d %+v; want versions 1 and 2, 2 current", status, versions)
	}
}

// TestGitHubHook: a GitHub preset source is created with its webhook secret (shown
// once); a delivery signed with it on /hooks/{id} is stored under the delivery id; a
// wrong or missing signature is 401, as is any request for a source that does not
// exist, with the same answer.
func TestGitHubHook(t *testing.T) {
	needStack(t)
	var src struct{ ID, Token, InboundSecret, HookPath string }
	if status := call(t, http.MethodPost, "/sources", local.AdminToken, `{"name":"e2e-github","format":"github"}`, &src); status != http.StatusCreated || src.InboundSecret == "" {
		t.Fatalf("POST /sources github = %d %+v; want 201 with the inbound secret", status, src)
	}
	rememberSecret(src.Token, src.InboundSecret)
	var got struct{ InboundSecret string }
	if call(t, http.MethodGet, "/sources/"+src.ID, local.AdminToken, "", &got); got.InboundSecret != "" {
		t.Error("GET /sources/{id} shows the inbound secret")
	}
	delivery := fmt.Sprintf("d-%d", time.Now().UnixNano())
	body := `{"action":"opened","issue":{"number":7,"title":"hooks"},"repository":{"full_name":"octo/hello"},"sender":{"login":"octocat"}}`
	signed := inbound.Sign(inbound.GitHub, src.InboundSecret, "", time.Now(), []byte(body))
	headers := map[string]string{"X-GitHub-Event": "issues", "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": signed[inbound.HeaderGitHubSignature], "User-Agent": "GitHub-Hookshot/e2e"}

	var refusals []string
	for _, tc := range []struct {
		name, path string
		headers    map[string]string
	}{
		{"no signature", src.HookPath, map[string]string{"X-GitHub-Event": "issues", "X-GitHub-Delivery": delivery}},
		{"wrong signature", src.HookPath, map[string]string{"X-GitHub-Event": "issues", "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": inbound.Sign(inbound.GitHub, "ehs_not-the-secret-000", "", time.Now(), []byte(body))[inbound.HeaderGitHubSignature]}},
		{"malformed signature", src.HookPath, map[string]string{"X-Hub-Signature-256": "sha256=zz"}},
		{"the source's token", src.HookPath, map[string]string{"Authorization": "Bearer " + src.Token}},
		{"unknown source", "/hooks/src_doesnotexist", headers},
	} {
		status, _, raw := sendMapped(t, tc.path, "", tc.headers, body)
		if status != http.StatusUnauthorized {
			t.Errorf("%s: %d %s; want 401", tc.name, status, raw)
		}
		refusals = append(refusals, string(raw))
	}
	for _, r := range refusals[1:] {
		if r != refusals[0] {
			t.Errorf("401 answers differ: %s and %s", refusals[0], r)
		}
	}
	if _, ok := busEntries.first(bus.SourceIngest, bus.Received, delivery); ok {
		t.Error("a refused delivery went on the bus")
	}

	status, out, raw := sendMapped(t, src.HookPath, "", headers, body)
	key := cloudevent.Key("/sources/"+src.ID+"/octo/hello", delivery)
	if status != http.StatusAccepted || len(out.IDs) != 1 || out.IDs[0] != key {
		t.Fatalf("signed delivery = %d %s; want 202 with the key %s", status, raw, key)
	}
	stored := waitStored(t, key)
	if !strings.Contains(string(stored.Event), `"type":"com.github.issues.opened"`) || !strings.Contains(string(stored.Event), `"title":"hooks"`) {
		t.Errorf("stored %s; want the issues.opened event with its payload", stored.Event)
	}
	if d, ok := busEntries.first(bus.SourceIngest, bus.Received, delivery); !ok || strings.Contains(strings.ToLower(d.Detail), "x-hub-signature") || strings.Contains(d.Detail, "Hookshot") {
		t.Errorf("Event Received %q: want it without the signature or other headers", d.Detail)
	}
}

// TestDocumentedMappingsCompile: the mapping examples of the README and of
// docs/mapping.md compile, so the documents show what the language takes.
func TestDocumentedMappingsCompile(t *testing.T) {
	for _, tc := range []struct{ file, after string }{
		{"../docs/mapping.md", "## The document\n\n```json\n"},
		{"../README.md", "### Any producer without code: mappings, presets, `/hooks`"},
	} {
		b, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		_, rest, ok := strings.Cut(string(b), tc.after)
		_, rest, ok2 := strings.Cut(rest, "```json\n")
		if tc.file == "../docs/mapping.md" {
			_, rest, ok2 = strings.Cut(string(b), tc.after)
		}
		doc, _, ok3 := strings.Cut(rest, "```")
		if !ok || !ok2 || !ok3 {
			t.Fatalf("%s has no mapping example after %q", tc.file, tc.after)
		}
		if tc.file == "../README.md" {
			var src struct{ Mapping json.RawMessage }
			if err := json.Unmarshal([]byte(doc), &src); err != nil {
				t.Fatalf("the README's source is not JSON: %v", err)
			}
			doc = string(src.Mapping)
		}
		if _, err := mapping.Compile([]byte(doc)); err != nil {
			t.Errorf("%s: the documented mapping does not compile: %v", tc.file, err)
		}
	}
}

// TestAlertmanagerPresetHashID: an Alertmanager notification (the preset's id is the
// content hash) whose text holds <, > and & is stored under the id ingest answered:
// ingest, the bus and normalize hash the same bytes.
func TestAlertmanagerPresetHashID(t *testing.T) {
	needStack(t)
	var src struct{ ID, Token string }
	if status := call(t, http.MethodPost, "/sources", local.AdminToken, `{"name":"e2e-alertmanager","format":"alertmanager"}`, &src); status != http.StatusCreated {
		t.Fatalf("POST /sources alertmanager = %d", status)
	}
	rememberSecret(src.Token)
	marker := fmt.Sprintf("m-%d", time.Now().UnixNano())
	body := `{"version":"4","groupKey":"{}:{alertname=\"HighCPU\"}","status":"firing","receiver":"eventhub",
		"groupLabels":{"alertname":"HighCPU"},"commonLabels":{"alertname":"HighCPU","severity":"page"},
		"commonAnnotations":{"summary":"CPU > 90% & load < 2 on ` + marker + `"},"externalURL":"http://alertmanager:9093",
		"alerts":[{"status":"firing","labels":{"alertname":"HighCPU","instance":"db-1"},"annotations":{"summary":"CPU > 90%"},
		"startsAt":"2026-12-02T06:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"c0ffee"}]}`
	status, out, raw := sendMapped(t, "/events", src.Token, nil, body)
	if status != http.StatusAccepted || len(out.IDs) != 1 {
		t.Fatalf("POST /events = %d %s; want 202 with one id", status, raw)
	}
	stored := waitStored(t, out.IDs[0])
	if !strings.Contains(string(stored.Event), `"type":"io.prometheus.alertmanager.firing"`) || !strings.Contains(string(stored.Event), `"subject":"HighCPU"`) {
		t.Errorf("stored %s; want the firing notification", stored.Event)
	}
}
